"""What the commands print: tables, field | value records, JSON (inf and NaN as null) and CSV, and the
one-line warnings on stderr."""
from __future__ import annotations

import json
import math
import sys

import numpy as np
import pandas as pd

from atlas_xl import prices, values


def jsonable(value):
    """A numpy scalar as the Python value JSON can hold (NaN and inf → None)."""
    if isinstance(value, (np.floating, float)):
        return values.finite_or_none(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def emit_frame(frame, args, view=None):
    """A table as JSON records, CSV, or text; ``view`` maps column → (heading, format) for the text."""
    if args.json:
        records = [{k: jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]
        print(json.dumps(records, indent=2, allow_nan=False))
    elif args.csv:
        values.write_csv(frame, sys.stdout)
    else:
        if view:
            shown = pd.DataFrame({heading: [_fmt(v, fmt) for v in frame[col]] for col, (heading, fmt) in view.items()})
        else:
            shown = frame.astype(object).where(frame.notna(), "")  # blanks, not NaN (fillna("") warns on floats)
        print(shown.to_string(index=False))


def _fmt(value, fmt):
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return fmt.format(value)


def short(text, width=72):
    """Long text (a source URL) shortened for the table view; --json and --csv print it whole."""
    return text if len(text) <= width else f"{text[:width - 30]}…{text[-29:]}"


def print_fields(record, units, args):
    """A record as field | value | units (text), JSON or CSV; a cost above any budget warns."""
    record = {k: jsonable(v) for k, v in record.items()}
    warn_implausible([record])
    if args.json:
        print(json.dumps(record, indent=2, allow_nan=False))
        return
    frame = pd.DataFrame({"field": list(record), "value": list(record.values()),
                          "units": [units.get(k, "") for k in record]})
    if args.csv:
        values.write_csv(frame, sys.stdout)
        return
    frame["value"] = [("-" if v is None else f"{v:,.4g}" if isinstance(v, float) and abs(v) < 1e4 else
                       f"{v:,.0f}" if isinstance(v, float) else short(str(v))) for v in frame["value"]]
    print(frame.to_string(index=False))


def warn_implausible(records):
    """A cost or penalty above any plausible budget is not an answer: say so (stderr, one line)."""
    for record in records:
        for field, units in (("penalty_usd", "(a ranking score)"), ("monthly_cost_usd", "USD/month")):
            amount = record.get(field)
            if isinstance(amount, (int, float)) and amount is not None and amount > values.PLAUSIBLE_BUDGET_USD:
                print(f"atlas-xl: warning: {field} {amount:.3g} {units} is above any plausible budget "
                      f"(> {values.PLAUSIBLE_BUDGET_USD:.0e} USD/month) — this workload cannot be served this way; "
                      "check tokens_per_day and gpu_count", file=sys.stderr)
                return


def print_record(record, view):
    """The ``view`` fields of a simulator record, (field, units) each, as a field | value | units table."""
    rows = []
    for field, units in view:
        value = record.get(field)
        if isinstance(value, dict):  # schedule aggregates: one row per percentile
            rows.extend((f"{field}.{k}", show(v), units) for k, v in value.items())
        elif field in record:
            rows.append((field, show(value), units))
    print(pd.DataFrame(rows, columns=["field", "value", "units"]).to_string(index=False))


def show(value):
    """A value as the text tables show it: 4 significant digits, inf as saturated, NaN as -."""
    if isinstance(value, float):
        if math.isinf(value):
            return "inf (saturated)"
        if math.isnan(value):
            return "-"
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _json_default(value):
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump(obj):
    """Print JSON with inf/NaN as null (strict JSON has neither)."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            value = value.item()
        return values.finite_or_none(value)
    print(json.dumps(clean(obj), indent=2, default=_json_default, allow_nan=False))


def price_warnings(lines):
    """Stale-price warnings: one line each on stderr (the result itself stays on stdout)."""
    for line in dict.fromkeys(l for l in lines if l):
        print(f"atlas-xl: warning: {line}", file=sys.stderr)


def price_age_line(as_of, what, args, source=""):
    """The warning line for a price dated ``as_of`` ('' when it is current at --max-price-age-days, or given by the
    user); ``what`` names the price in the line."""
    if as_of in ("", "given"):
        return ""
    return prices.price_age(as_of, max_age_days=args.max_price_age_days, source=source).line(what)


def plan_price_age(result, args):
    """(PriceAge, warning line) of the price a plan used: the offering row's as_of, 'given' when the user set
    --hourly-usd or --price-per-m-tokens."""
    given = any(getattr(args, name, None) is not None for name in ("hourly_usd", "price_per_m_tokens"))
    age = prices.plan_price_age(result, args.catalog, max_age_days=args.max_price_age_days, price_given=given)
    return age, age.line(f"{result.platform}{'/' + result.gpu if result.gpu else ''}")
