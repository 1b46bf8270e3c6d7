"""How the finance worksheet functions (ATLAS_FORECAST, ATLAS_BREAKEVEN, ATLAS_PATTERN,
ATLAS_COST_RANGE, ATLAS_SENSITIVITY, ATLAS_COMMIT) become `atlas_xl.finance` calls.

Each takes one workload (a range where the function says so) and returns a number, a text
reason, or a table with a header row that spills. Arguments are normalised with `udfs.excel`.
"""
from __future__ import annotations

import math

import pandas as pd

from atlas_xl import arguments, finance
from atlas_xl import fields as field_table  # "fields" is ATLAS_FORECAST's argument (the columns asked for)
from atlas_xl.catalog import normalize_key
from atlas_xl.errors import InputError

from . import calls, excel

FINANCE_TABLES = arguments.FINANCE_TABLES
FORECAST_VIEW = ("month", "period", "tokens_per_day", "gpu_count", "monthly_cost_usd", "cost_per_m_tokens_usd",
                 "cumulative_cost_usd")
COMMITMENT_VIEW = ("on_demand_cost_usd", "commitment_cost_usd", "savings_usd", "cumulative_savings_usd")


def _catalog(tables):
    return excel.catalog(**{t: tables.get(t) for t in FINANCE_TABLES})


PLAN_KWARGS = ("latency_ms",) + arguments.SERVING + arguments.PLAN_RUNNING
"""The plan() arguments a finance function forwards where its signature has them: latency requirement, serving
settings, and region, min_replicas, disaggregated, pue (`atlas_xl.arguments.PLAN_RUNNING`, `COST_RUNNING`)."""


def _plan_kwargs(raw):
    """The given ones of `PLAN_KWARGS`, as plan() takes them (blank = default): numbers held to the registry's
    bounds, a switch read by `excel.flag`, names as text."""
    out = {}
    for name in PLAN_KWARGS:
        value = raw.get(name)
        if excel.is_blank(value):
            continue
        kind = arguments.get(name).kind
        out[name] = (calls.argument_number(name, value) if kind == "number" else
                     excel.flag(name, value) if kind == "bool" else excel.text(name, value))
    return out


def _rate(name, value):
    return excel.number(name, value, default=0.0)


def _names(pattern, model, platform, gpu):
    out = [excel.text(n, v) for n, v in (("pattern", pattern), ("model", model), ("platform", platform))]
    for name, value in zip(("pattern", "model", "platform"), out):
        if value is None:
            raise InputError(f"{name} is empty — enter a name")
    return (*out, excel.text("gpu", gpu))


def _volumes(tokens_per_day):
    """One daily volume, or a row/column range of monthly volumes."""
    if excel.is_range(tokens_per_day):
        cells = [c for row in excel.as_2d(tokens_per_day) for c in row if not excel.is_blank(c)]
        return [calls.argument_number("tokens_per_day", c) for c in cells]
    return calls.argument_number("tokens_per_day", tokens_per_day)


def _start(value):
    if excel.is_blank(value):
        return None
    return value if hasattr(value, "year") else excel.text("start", value)


@excel.one_line_errors
def forecast_table(args, tables, assumption_range, options=None):
    args = calls.named(args, options)
    tokens_per_day, pattern, model, platform, gpu = (args[n] for n in ("tokens_per_day", "pattern", "model",
                                                                       "platform", "gpu"))
    months, monthly_growth, start = args["months"], args["monthly_growth"], args["start"]
    price_change_per_year, commitment, committed_gpus = (args["price_change_per_year"], args["commitment"],
                                                         args["committed_gpus"])
    fields, plan_args = args["forecast_fields"], args
    volumes = _volumes(tokens_per_day)
    term = excel.text("commitment", commitment)
    names, cat, a = _names(pattern, model, platform, gpu), _catalog(tables), calls.assumptions(assumption_range)
    kwargs = dict(
        months=None if excel.is_blank(months) else calls.argument_number("months", months),
        monthly_growth=_rate("monthly_growth", monthly_growth), start=_start(start),
        price_change_per_year=_rate("price_change_per_year", price_change_per_year),
        commitment=term.lower() if term else None,
        committed_gpus=None if excel.is_blank(committed_gpus) else calls.argument_number("committed_gpus",
                                                                                         committed_gpus),
        **_plan_kwargs(plan_args))
    key = ("forecast", cat.fingerprint, a, excel.freeze(volumes), names, excel.freeze(fields),
           tuple(sorted(kwargs.items())))
    rows = calls.RESULTS.get(key, lambda: _forecast_rows(volumes, names, cat, a, kwargs, fields, term, start))
    return excel.table([list(row) for row in rows])  # the caller's copy: the cached rows stay as computed


def _forecast_rows(volumes, names, cat, a, kwargs, fields, term, start):
    frame = finance.forecast(volumes, *names, catalog=cat, assumptions=a, **kwargs)
    wanted = calls.field_list(fields) or list(FORECAST_VIEW + (COMMITMENT_VIEW if term else ()))
    for column in COMMITMENT_VIEW + ("committed_gpus",):  # asked for without a commitment: blank columns
        if column in wanted and column not in frame.columns:
            frame[column] = None
    unknown = [w for w in wanted if w not in frame.columns]
    if unknown:
        from atlas_xl.errors import unknown_name
        raise unknown_name("forecast field", unknown[0], frame.columns)
    if start is None or excel.is_blank(start):
        wanted = [w for w in wanted if w != "period"] if not fields else wanted
    rows = [wanted] + frame[wanted].astype(object).values.tolist()
    # every output that uses a price states its date (issue 20): the offering row's as_of, 'given' for a set price
    rows += [[], [field_table.label("price_as_of"), frame["price_as_of"].iloc[0]]]
    if frame.attrs:
        a = frame.attrs
        rows += [[], ["commitment pays off in month", a["commitment_payoff_month"] or "never within its term"],
                 ["commitment saves over its term [USD]", a["commitment_term_savings_usd"]],
                 ["still owed after the last month [USD]", a["commitment_owed_after_forecast_usd"]],
                 ["committed price [USD/GPU-h]", a["commitment_hourly_usd"]],
                 ["basis", a["commitment_basis"]], ["source", f"{a['commitment_source']} ({a['commitment_as_of']})"]]
    return rows


def _option(value, gpu, name):
    """'platform' or 'platform/gpu', or a platform with its GPU in a cell of its own."""
    option = excel.text(name, value)
    if option is None:
        raise InputError(f"{name} is empty — enter a platform or platform/gpu, e.g. runpod/h100_sxm")
    gpu = excel.text(f"gpu_{name[-1]}", gpu)
    if gpu:
        if "/" in option:
            raise InputError(f"{name} '{option}' already names a GPU — leave gpu_{name[-1]} blank")
        return {"platform": option, "gpu": gpu, "label": f"{option}/{gpu}"}
    return option


@excel.one_line_errors
def breakeven_value(args, tables, assumption_range, options=None):
    args = calls.named(args, options)
    pattern, model, option_a, option_b, gpu_a, gpu_b = (args[n] for n in ("pattern", "model", "option_a", "option_b",
                                                                          "gpu_a", "gpu_b"))
    plan_args = args
    pattern_, model_ = excel.text("pattern", pattern), excel.text("model", model)
    if pattern_ is None or model_ is None:
        raise InputError("pattern and model are needed — enter both")
    result = finance.breakeven(pattern_, model_, _option(option_a, gpu_a, "option_a"),
                               _option(option_b, gpu_b, "option_b"),
                               catalog=_catalog(tables), assumptions=calls.assumptions(assumption_range),
                               **_plan_kwargs(plan_args))
    if result.tokens_per_day is None:
        return result.reason
    return result.tokens_per_day


PATTERN_FIELDS = ("active_ratio", "burst_factor", "efficiency", "batch_multiplier", "tokens_per_day",
                  "nearest_pattern", "hours", "first", "last", "note")


@excel.one_line_errors
def pattern_table(args, tables):
    timestamps, tokens, field = args["timestamps"], args["tokens"], args["pattern_field"]
    if excel.is_blank(timestamps) or not excel.is_range(timestamps):
        raise InputError("timestamps must be a range of dates/times (one per usage row)")
    if excel.is_blank(tokens) or not excel.is_range(tokens):
        raise InputError("tokens must be a range of token counts beside the timestamps")
    times = [c for row in excel.as_2d(timestamps) for c in row]
    counts = [c for row in excel.as_2d(tokens) for c in row]
    if len(times) != len(counts):
        raise InputError(f"{len(times)} timestamps but {len(counts)} token counts — give ranges of the same size")
    keep = [i for i, (t, c) in enumerate(zip(times, counts)) if not (excel.is_blank(t) and excel.is_blank(c))]
    values = []
    for i in keep:
        values.append(0.0 if excel.is_blank(counts[i]) else excel.number("tokens", counts[i], minimum=0.0))
    stamps = [times[i] for i in keep]
    if any(excel.is_blank(t) for t in stamps):
        raise InputError("a token count has no timestamp — fill in every timestamp")
    if all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in stamps):
        column = pd.Series(stamps, dtype=float)  # date serials (a host that sends dates as numbers)
    else:
        column = pd.Series([t.isoformat() if hasattr(t, "isoformat") else str(t) for t in stamps], dtype=object)
    found = finance.pattern_from_usage(pd.DataFrame({"timestamp": column, "tokens": values}),
                                       catalog=_catalog(tables))
    record = found.as_dict()
    name = excel.text("field", field)
    if name:
        key = normalize_key(name)
        if key not in record:
            from atlas_xl.errors import unknown_name
            raise unknown_name("pattern field", name, PATTERN_FIELDS)
        return excel.cell_value(record[key])
    return excel.table([["field", "value"]] + [[k, record[k]] for k in PATTERN_FIELDS])


def _percentiles(value):
    """Percentiles as 10, 50, 90 or as fractions (10 %, 50 %, 90 % cells arrive as 0.1, 0.5, 0.9)."""
    def one(cell):
        q = excel.number("percentile", cell, minimum=0.0)
        q = q * 100.0 if q < 1 else q
        if q > 100:
            raise InputError(f"percentile {q:g} — give 0 to 100 (or 0 % to 100 %)")
        return q
    if excel.is_range(value):
        grid = excel.as_2d(value)
        return [[one(c) for c in row] for row in grid]
    return one(50.0 if excel.is_blank(value) else value)


def _months(value):
    """Cells of a range of months in reading order (blank → None: a blank row of the result)."""
    return [None if excel.is_blank(c) else calls.argument_number("month", c)
            for row in excel.as_2d(value) for c in row]


@excel.one_line_errors
def cost_range_value(args, tables, assumption_range, options=None):
    """One percentile [USD/month]; a range of percentiles: the same shape; a range of months (a
    column): one row per month, one column per percentile — the Forecast sheet's P10/P90 band in
    one call, a blank month a blank row. A column is one seeded `finance.cost_range_months` (the
    draws made once, each month's numbers those of `finance.cost_range`), kept in `calls.RESULTS`
    by content, so a table costs one Monte-Carlo and a recalculation with nothing changed none."""
    args = calls.named(args, options)
    tokens_per_day, pattern, model, platform, gpu = (args[n] for n in ("tokens_per_day", "pattern", "model",
                                                                       "platform", "gpu"))
    percentile, throughput_error, price_spread, volume_spread = (args["percentile"], args["throughput_error"],
                                                                 args["price_spread"], args["volume_spread"])
    draws, seed, month, monthly_growth = args["draws"], args["seed"], args["month"], args["monthly_growth"]
    growth_spread, start, price_change_per_year = args["growth_spread"], args["start"], args["price_change_per_year"]
    plan_args = args
    qs = _percentiles(percentile)
    flat = sorted({q for row in qs for q in row}) if isinstance(qs, list) else [qs]
    cat, a = _catalog(tables), calls.assumptions(assumption_range)
    kwargs = dict(
        draws=calls.argument_number("draws", draws, default=float(arguments.get("draws").default)),
        seed=int(calls.argument_number("seed", seed, default=0.0)),
        throughput_error=None if excel.is_blank(throughput_error) else calls.argument_number("throughput_error",
                                                                                             throughput_error),
        price_spread=calls.argument_number("price_spread", price_spread, default=0.0),
        volume_spread=calls.argument_number("volume_spread", volume_spread, default=0.0),
        monthly_growth=_rate("monthly_growth", monthly_growth),
        growth_spread=calls.argument_number("growth_spread", growth_spread, default=0.0),
        start=_start(start), price_change_per_year=_rate("price_change_per_year", price_change_per_year),
        **_plan_kwargs(plan_args))
    volume, names = calls.argument_number("tokens_per_day", tokens_per_day), _names(pattern, model, platform, gpu)
    key = ("cost range", cat.fingerprint, a, volume, names, tuple(flat), tuple(sorted(kwargs.items())))

    def percentiles_of(one_month):
        return calls.RESULTS.get(key + (one_month,), lambda: finance.cost_range(
            volume, *names, month=one_month, percentiles=flat, catalog=cat, assumptions=a, **kwargs).percentiles)

    if excel.is_range(month):
        columns = [q for row in qs for q in row] if isinstance(qs, list) else [qs]
        wanted = _months(month)
        given = tuple(dict.fromkeys(m for m in wanted if m is not None))  # each month once, in reading order

        def table():
            if not given:
                return {}
            ranges = finance.cost_range_months(volume, *names, months=given, percentiles=flat, catalog=cat,
                                               assumptions=a, **kwargs)
            return {m: r.percentiles for m, r in zip(given, ranges)}
        found = calls.RESULTS.get(key + ("months", given), table, cells=max(len(given), 1) * len(flat))
        return [["" if m is None else found[m][q] for q in columns] for m in wanted]
    found = percentiles_of(calls.argument_number("month", month, default=1.0))
    if isinstance(qs, list):
        return [[found[q] for q in row] for row in qs]
    return found[qs]


@excel.one_line_errors
def sensitivity_table(args, tables, assumption_range, options=None):
    args = calls.named(args, options)
    tokens_per_day, pattern, model, platform, gpu = (args[n] for n in ("tokens_per_day", "pattern", "model",
                                                                       "platform", "gpu"))
    spread, output, plan_args = args["spread"], args["output"], args
    volume, names = calls.argument_number("tokens_per_day", tokens_per_day), _names(pattern, model, platform, gpu)
    cat, a = _catalog(tables), calls.assumptions(assumption_range)
    kwargs = dict(spread=calls.argument_number("spread", spread, default=finance.SENSITIVITY_SPREAD),
                  output=normalize_key(excel.text("output", output, default="monthly_cost_usd")),
                  **_plan_kwargs(plan_args))

    def rows():
        frame = finance.sensitivity(volume, *names, catalog=cat, assumptions=a, **kwargs)
        return [list(frame.columns)] + frame.astype(object).values.tolist()
    table = calls.RESULTS.get(("sensitivity", cat.fingerprint, a, volume, names, tuple(sorted(kwargs.items()))), rows)
    return excel.table([list(row) for row in table])  # the caller's copy: the cached rows stay as computed


COMMIT_FIELDS = ("term", "committed_gpus", "start_month", "start_period", "expected_cost_usd",
                 "on_demand_expected_cost_usd", "expected_savings_usd", "p10_cost_usd", "p10_on_demand_cost_usd",
                 "p10_overcommitment_usd", "p10_idle_gpu_hours", "owed_after_usd", "hourly_usd", "min_term_months",
                 "basis", "source", "as_of", "months", "draws", "reason")


@excel.one_line_errors
def commit_table(args, tables, assumption_range, options=None):
    args = calls.named(args, options)
    tokens_per_day, pattern, model, platform, gpu = (args[n] for n in ("tokens_per_day", "pattern", "model",
                                                                       "platform", "gpu"))
    months, monthly_growth, start, term = args["horizon_months"], args["monthly_growth"], args["start"], args["term"]
    volume_spread, throughput_error, draws, seed = (args["volume_spread"], args["throughput_error"],
                                                    args["commit_draws"], args["seed"])
    plan_args = args
    terms = excel.text("term", term)
    advice = finance.commit_advice(
        calls.argument_number("tokens_per_day", tokens_per_day), *_names(pattern, model, platform, gpu),
        months=calls.argument_number("horizon_months", months, default=36.0),
        monthly_growth=_rate("monthly_growth", monthly_growth), start=_start(start),
        terms=[t.strip().lower() for t in terms.split(",")] if terms else None,
        volume_spread=calls.argument_number("volume_spread", volume_spread, default=0.0),
        throughput_error=None if excel.is_blank(throughput_error) else calls.argument_number("throughput_error",
                                                                                             throughput_error),
        draws=calls.argument_number("commit_draws", draws, default=float(arguments.get("commit_draws").default)),
        seed=int(calls.argument_number("seed", seed, default=0.0)),
        catalog=_catalog(tables), assumptions=calls.assumptions(assumption_range), **_plan_kwargs(plan_args))
    record = advice.as_dict()
    return excel.table([["field", "value"]] + [[k, record[k]] for k in COMMIT_FIELDS])
