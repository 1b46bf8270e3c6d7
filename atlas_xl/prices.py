"""Prices as a finance analyst needs them: how old each one is, in which currency, and price lists
brought in from a provider's or a negotiated quote.

* Age: every catalog price row carries ``as_of``; a price older than ``max_age_days`` (default
  `MAX_PRICE_AGE_DAYS`) — or undated — is *stale* and every output that uses it says so.
* Currency: ``catalogs/fx_rates.csv`` holds dated ECB euro reference rates; `convert` turns USD into
  EUR, GBP, ... at the latest rate on or before a date and names that rate's date and source.
* Import: `read_price_list` reads a CSV/JSON price list with a ``currency`` column into offerings
  rows in USD; `import_price_list` writes them into a catalog folder (atomic, never overwriting
  without ``overwrite``). See ``docs/finance.md``.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import FILES, SCHEMAS, load_catalog, normalize_key, validate_table
from .errors import InputError
from .files import atomic_output
from .values import write_csv

MAX_PRICE_AGE_DAYS = 90
"""A price older than this (days between its ``as_of`` and today) is flagged stale: a convention
for a budget (one quarter), not a measurement; every function takes ``max_age_days``."""

_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")


def parse_as_of(as_of):
    """'2026-09-25' (or '2026-09', a date) → datetime.date; 'undated', blank or text → None."""
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    match = _DATE.match(str(as_of or "").strip())
    if not match:
        return None
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


TODAY_VARIABLE = "ATLAS_XL_TODAY"
"""Environment variable that fixes the date prices are aged against (YYYY-MM-DD): for output that must not
change with the calendar, such as the README's examples; unset = the system date."""


def _today(today):
    if today is None:
        today = os.environ.get(TODAY_VARIABLE) or None
        if today is None:
            return dt.date.today()
    date = parse_as_of(today)
    if date is None:
        raise InputError(f"today '{today}' is not a date — write YYYY-MM-DD")
    return date


def max_age(max_age_days):
    """``max_age_days`` checked: a whole number of days >= 0 (None = the default)."""
    if max_age_days is None:
        return MAX_PRICE_AGE_DAYS
    if isinstance(max_age_days, bool) or not isinstance(max_age_days, (int, float, np.integer, np.floating)) \
            or not math.isfinite(max_age_days) or max_age_days < 0:
        raise InputError(f"max price age {max_age_days!r} — give a number of days >= 0, e.g. 90")
    return float(max_age_days)


def price_age_days(as_of, today=None):
    """Days from ``as_of`` to ``today`` (default: the system date); NaN when undated. [days]"""
    date = parse_as_of(as_of)
    return math.nan if date is None else float((_today(today) - date).days)


@dataclass(frozen=True)
class PriceAge:
    """How old one price is: ``stale`` when older than ``max_age_days`` or undated."""

    as_of: str
    age_days: float
    max_age_days: float
    stale: bool
    source: str = ""

    def line(self, what):
        """One warning line for a person, or '' when the price is fresh."""
        if not self.stale:
            return ""
        if math.isnan(self.age_days):
            return (f"the price of {what} is undated ({self.source or 'no source date'}) — check it and set "
                    "as_of in the catalog")
        return (f"the price of {what} is from {self.as_of}, {self.age_days:.0f} days old (older than "
                f"{self.max_age_days:g} days) — check the provider's current price")


def price_age(as_of, *, max_age_days=None, today=None, source=""):
    """The `PriceAge` of one ``as_of``: stale when undated or older than ``max_age_days``."""
    limit = max_age(max_age_days)
    age = price_age_days(as_of, today)
    return PriceAge(str(as_of), age, limit, bool(math.isnan(age) or age > limit), str(source))


_ROWS = {}  # catalog fingerprint → {(platform, gpu, model): offerings row}; content-keyed, a few catalogs


def _offering_rows(cat):
    rows = _ROWS.get(cat.fingerprint)
    if rows is None:
        if len(_ROWS) > 16:
            _ROWS.clear()
        rows = _ROWS[cat.fingerprint] = {(r["platform"], r["gpu"], r["model"]): r
                                         for r in cat.tables["offerings"].to_dict("records")}
    return rows


def offering_row(catalog, platform, gpu="", model="", billing=""):
    """The offerings row (a dict) that a plan's price came from, or None (a price given by the caller).

    A per-token plan's row is keyed (platform, '', model); a GPU plan's (platform, gpu, '').
    """
    rows = _offering_rows(load_catalog(catalog))
    platform, gpu, model = normalize_key(platform), normalize_key(gpu), normalize_key(model)
    key = (platform, "", model) if billing == "per_token" or not gpu else (platform, gpu, "")
    return rows.get(key)


def plan_price_age(result, catalog=None, *, max_age_days=None, today=None, price_given=False):
    """The `PriceAge` of the price a `planner.plan` result used ('given' when the caller set it)."""
    if price_given:
        return PriceAge("given", 0.0, max_age(max_age_days), False, "given by the caller")
    row = offering_row(catalog, result.platform, result.gpu, result.model, result.billing)
    if row is None:
        return PriceAge("given", 0.0, max_age(max_age_days), False, "no catalog row")
    return price_age(row["as_of"], max_age_days=max_age_days, today=today, source=row["source"])


def with_price_age(frame, catalog=None, *, model=None, max_age_days=None, today=None):
    """A ranking (`planner.rank`) with ``price_as_of``, ``price_age_days`` and ``price_stale`` columns.

    ``model``: the ranked model (a ranking has no model column; per-token rows are priced per model).
    """
    table = load_catalog(catalog).tables["offerings"]
    as_of = {(r.platform, r.gpu, r.model): r.as_of for r in table.itertuples(index=False)}
    out = frame.copy()
    models = out["model"] if "model" in out else [normalize_key(model)] * len(out)
    keys = [(p, g, "") if b != "per_token" else (p, "", m)
            for p, g, m, b in zip(out["platform"], out["gpu"], models, out["billing"])]
    ages = [price_age(as_of.get(k, "undated"), max_age_days=max_age_days, today=today) for k in keys]
    out["price_as_of"] = [a.as_of for a in ages]
    out["price_age_days"] = [a.age_days for a in ages]
    out["price_stale"] = [a.stale for a in ages]
    return out


def stale_prices(catalog=None, *, max_age_days=None, today=None, tables=("offerings", "commitments")):
    """Every price row older than ``max_age_days`` (or undated): table, key, as_of, age_days, source."""
    cat = load_catalog(catalog)
    rows = []
    for name in tables:
        frame = cat.tables[name]
        _, keys = SCHEMAS[name]
        for record in frame.to_dict("records"):
            age = price_age(record["as_of"], max_age_days=max_age_days, today=today, source=record["source"])
            if age.stale:
                key = "/".join(str(record[k]) for k in keys if record[k] not in ("", None))
                rows.append({"table": name, "key": key, "as_of": record["as_of"], "age_days": age.age_days,
                             "source": record["source"]})
    return pd.DataFrame(rows, columns=["table", "key", "as_of", "age_days", "source"])


# -- currencies --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FxRate:
    """How many units of ``currency`` one US dollar buys, from the ECB quotes of one date."""

    currency: str
    units_per_usd: float
    date: str
    source: str

    def line(self):
        return f"1 USD = {self.units_per_usd:.4f} {self.currency} (ECB reference rates of {self.date}; {self.source})"


def fx_rate(currency, catalog=None, on=None):
    """The rate of ``currency`` per USD at the latest date on or before ``on`` (default: the latest).

    Notes
    -----
    units_per_usd = units_per_eur(currency) / units_per_eur(USD), both of the same date (ECB quotes
    every currency against the euro).
    """
    code = normalize_key(currency)
    if not code:
        raise InputError("currency is empty — give an ISO code such as EUR, GBP or USD")
    table = load_catalog(catalog).tables["fx_rates"]
    if code == "usd":
        return FxRate("USD", 1.0, "", "US dollar: the catalog's currency")
    known = sorted(set(table.currency) | {"usd"})
    if code not in known:
        raise InputError(f"no FX rate for currency '{currency}' — known: {', '.join(c.upper() for c in known)}; "
                         "add a dated row to fx_rates.csv")
    wanted = _today(on) if on is not None else None
    dates = sorted({d for d in table.date[table.currency == code] if parse_as_of(d)}, reverse=True)
    usd_dates = set(table.date[table.currency == "usd"])
    for date in dates:
        if date in usd_dates and (wanted is None or parse_as_of(date) <= wanted):
            rate = float(table[(table.currency == code) & (table.date == date)].units_per_eur.iloc[0])
            usd = float(table[(table.currency == "usd") & (table.date == date)].units_per_eur.iloc[0])
            source = table[(table.currency == ("usd" if code == "eur" else code)) & (table.date == date)].source.iloc[0]
            return FxRate(code.upper(), rate / usd, date, source)
    raise InputError(f"no FX rate for {code.upper()} (with USD on the same date){' on or before ' + str(wanted) if wanted else ''}"
                     " — add a dated row to fx_rates.csv")


def convert_usd(amount_usd, currency, catalog=None, on=None):
    """(amount in ``currency``, the `FxRate` used). Scalars or arrays. [currency units]"""
    rate = fx_rate(currency, catalog, on)
    return np.asarray(amount_usd, dtype=float) * rate.units_per_usd if np.ndim(amount_usd) else \
        float(amount_usd) * rate.units_per_usd, rate


# -- price lists -------------------------------------------------------------------------------
PRICE_COLUMNS = {  # price list column → offerings column (in USD after conversion)
    "hourly": "hourly_usd", "price_per_m_tokens": "price_per_m_tokens",
    "price_in_per_m_tokens": "price_in_per_m_tokens", "price_out_per_m_tokens": "price_out_per_m_tokens",
    "price_cached_in_per_m_tokens": "price_cached_in_per_m_tokens",
}
"""A price list has the offerings columns (platform, gpu, model, billing, source, as_of, notes) plus
``currency`` and its prices in that currency under these names (``hourly`` per GPU-hour)."""


def _read_list(path):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"price list '{path}' does not exist — give a CSV or JSON file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                data = data.get("prices", data.get("offerings"))
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise InputError(f"price list '{path.name}' must be a JSON list of objects (or {{\"prices\": [...]}})")
            return pd.DataFrame(data), path.name
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False), path.name
    except (json.JSONDecodeError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(f"price list '{path.name}' cannot be read ({str(error).splitlines()[0]}) — "
                         "save it as UTF-8 CSV or JSON") from None
    raise InputError(f"price list '{path.name}': give a .csv or .json file")


def read_price_list(path, catalog=None):
    """A provider's or negotiated price list → offerings rows in USD (a validated DataFrame).

    Parameters
    ----------
    path : str or Path
        CSV or JSON (a list of objects): columns platform, gpu, model, billing, currency, source,
        as_of, notes and the prices of `PRICE_COLUMNS` in that currency.
    catalog :
        Where the FX rates come from (``fx_rates``).

    Notes
    -----
    price_usd = price / units_per_usd(currency), at the latest rate on or before the row's as_of
    (`fx_rate`); the rate and its date are added to the row's notes.
    """
    frame, name = _read_list(path)
    rates = []
    frame.columns = [normalize_key(c) for c in frame.columns]
    if "hourly_usd" in frame.columns and "hourly" not in frame.columns:
        frame = frame.rename(columns={"hourly_usd": "hourly"})
    missing = [c for c in ("platform", "billing", "currency", "source", "as_of") if c not in frame.columns]
    if missing:
        raise InputError(f"price list '{name}' has no column {', '.join(missing)} — every row needs platform, "
                         "billing, currency, source and as_of (and gpu or model)")
    if frame.empty:
        raise InputError(f"price list '{name}' has no rows")
    cat = load_catalog(catalog)
    rows = []
    for number, record in enumerate(frame.to_dict("records"), start=2):
        at = f"price list '{name}' row {number}"
        currency = str(record.get("currency") or "").strip()
        if not currency:
            raise InputError(f"{at}: currency is empty — write USD, EUR, GBP, ...")
        if parse_as_of(record.get("as_of")) is None:
            raise InputError(f"{at}: as_of '{record.get('as_of')}' is not a date — write the quote's date, YYYY-MM-DD")
        try:
            rate = fx_rate(currency, cat, on=record["as_of"])
        except InputError as error:
            raise InputError(f"{at}: {error}") from None
        out = {c: record.get(c, "") for c in ("platform", "gpu", "model", "billing", "source", "as_of", "notes")}
        for column, target in PRICE_COLUMNS.items():
            raw = record.get(column, "")
            if raw is None or (isinstance(raw, float) and math.isnan(raw)) or str(raw).strip() == "":
                out[target] = None
                continue
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise InputError(f"{at}, column {column}: '{raw}' is not a number") from None
            out[target] = round(value / rate.units_per_usd, 6)
        if out["billing"] == "per_token" and out["price_per_m_tokens"] is None \
                and out["price_in_per_m_tokens"] is not None and out["price_out_per_m_tokens"] is not None:
            out["price_per_m_tokens"] = round((out["price_in_per_m_tokens"] + out["price_out_per_m_tokens"]) / 2, 6)
        if rate.currency != "USD":
            rates.append((number, rate, str(record["as_of"])))
        converted = "" if rate.currency == "USD" else (f"converted from {currency.upper()} at {rate.line()}")
        out["notes"] = "; ".join(n for n in (str(out["notes"] or ""), f"imported from {name}", converted) if n)
        rows.append(out)
    result = validate_table("offerings", pd.DataFrame(rows), where=f"price list '{name}'")
    result.attrs["fx_rates"] = rates  # (row, FxRate, the quote's as_of) of every converted row
    return result


def fx_age_lines(imported, *, max_age_days=None):
    """Warning lines for the rows of a `read_price_list` result converted at an FX rate more than
    ``max_age_days`` (default 90) older than the quote: its USD price moves with the rate since then.

    Notes
    -----
    gap = as_of(quote) − date(FX rate)  [days]; the rate used is the newest on or before as_of (`fx_rate`).
    """
    limit = max_age(max_age_days)
    lines = []
    for number, rate, as_of in imported.attrs.get("fx_rates", []):
        gap = price_age_days(rate.date, today=as_of)
        if gap > limit:
            lines.append(f"row {number}: the {rate.currency} rate used is of {rate.date}, {gap:.0f} days before the "
                         f"quote's {as_of} (more than {limit:g}) — add a current ECB rate to fx_rates.csv and import "
                         "again")
    return lines


def import_price_list(path, directory, catalog=None, *, overwrite=False, max_age_days=None):
    """Write ``directory``/offerings.csv: the folder's (or the built-in) offerings with the list's rows
    added, a listed key replacing the row it names. Atomic; an existing file only with ``overwrite``.

    Returns (target path, number of imported rows, number of rows they replaced, `fx_age_lines` of the list).
    """
    imported = read_price_list(path, catalog)
    directory = Path(directory)
    target = directory / FILES["offerings"]
    if target.exists() and not overwrite:
        raise InputError(f"'{target}' exists — pass --force to replace it (its rows are kept unless the price "
                         "list names the same offering), or choose another folder")
    base = load_catalog(directory if target.exists() else catalog).tables["offerings"]
    keys = list(SCHEMAS["offerings"][1])
    listed = set(map(tuple, imported[keys].to_numpy().tolist()))
    keep = [tuple(k) not in listed for k in base[keys].to_numpy().tolist()]
    merged = pd.concat([base[keep], imported], ignore_index=True)
    merged = validate_table("offerings", merged, where=str(target))
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_output(target, overwrite=overwrite) as temp:
        write_csv(merged, temp)
    return target, len(imported), len(base) - sum(keep), fx_age_lines(imported, max_age_days=max_age_days)
