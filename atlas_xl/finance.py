"""Finance-grade planning on top of the planner: monthly forecasts, commitments, break-even,
traffic patterns from usage logs, cost ranges, sensitivity (tornado) tables and scenario sweeps.

Every function calls `planner.plan` (through its array path where there are many cases) and
forwards any other keyword argument of ``plan`` unchanged (``**plan_kwargs``), so what plan()
learns (precision, latency limits, ...) reaches every function here. See ``docs/finance.md``.
"""
from __future__ import annotations

import calendar
import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import BILLING, load_catalog, normalize_key
from .errors import InputError
from .values import check_arguments
from . import arguments, planner, prices, serving
from .planner import DEFAULT_ASSUMPTIONS, FIELDS, plan

HOURS_PER_DAY = 24.0
BREAKEVEN_LOW, BREAKEVEN_HIGH = 1e6, 1e13  # tokens/day searched by breakeven() (issue 14)
BREAKEVEN_GRID_PER_DECADE = 64  # scan density before bisection; two crossings closer than one cell are seen as none
MAX_MONTHS = arguments.get("months").maximum  # 100 years: a forecast longer than that is a typo


# -- argument checks -----------------------------------------------------------------------------
def _months(months):
    if isinstance(months, bool) or not isinstance(months, (int, float, np.integer, np.floating)):
        raise InputError(f"months must be a whole number of months, not {months!r}")
    if not math.isfinite(months) or months != int(months) or not 1 <= months <= MAX_MONTHS:
        raise InputError(f"months = {months!r} — give a whole number from 1 to {MAX_MONTHS}")
    return int(months)


def _float(name, value, example):
    """A number argument as a float; bool, text and None are refused in one line."""
    if isinstance(value, (bool, str)) or value is None:
        raise InputError(f"{name} must be a number{example}, not {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number{example}, not {value!r}") from None


def _rate(name, value, lowest=-1.0):
    """A growth or price-change rate as a fraction (0.05 = +5 %); above −100 %."""
    value = _float(name, value, " such as 0.05 for +5 %")
    if not math.isfinite(value) or value <= lowest:
        raise InputError(f"{name} = {value:g} is {'not finite' if not math.isfinite(value) else 'at or below −100 %'}"
                         f" — give a fraction above {lowest:g} (0.05 = +5 %, −0.1 = −10 %)")
    return value


def _spread(name, value):
    if value is None:
        return 0.0
    value = _float(name, value, " (a fraction such as 0.1 for ±10 %)")
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{name} = {value!r} — give a fraction >= 0 (0.1 = ±10 %)")
    return value


def parse_start(start):
    """'2027-01' (or a date, a datetime, a pandas Period/Timestamp) → (year, month)."""
    if start is None:
        return None
    if isinstance(start, (pd.Timestamp, pd.Period)) or hasattr(start, "year") and hasattr(start, "month"):
        return int(start.year), int(start.month)
    text = str(start).strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InputError(f"start '{start}' is not a month — write YYYY-MM, e.g. 2027-01")
    return int(match.group(1)), int(match.group(2))


def calendar_months(start, months):
    """Labels ('2027-01') and day counts of ``months`` calendar months from ``start`` (year, month)."""
    year, month = start
    labels, days = [], []
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        days.append(calendar.monthrange(year, month)[1])
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels, np.array(days, dtype=float)


# -- month-by-month volumes and prices ----------------------------------------------------------
def monthly_volumes(tokens_per_day, months, monthly_growth=0.0):
    """Daily volume of month k = tokens_per_day × (1 + monthly_growth)^(k−1). [tokens day⁻¹]

    Parameters
    ----------
    tokens_per_day : numeric
        Daily volume in month 1. [tokens day⁻¹]
    months : int
        Number of months.
    monthly_growth : numeric
        Growth per month as a fraction (0.05 = +5 % a month). [month⁻¹]
    """
    return tokens_per_day * (1.0 + monthly_growth) ** np.arange(months, dtype=float)


def price_factors(months, price_change_per_year=0.0):
    """Price of month k relative to month 1 = (1 + price_change_per_year)^((k−1)/12). [unitless]

    A constant yearly rate compounded monthly: −0.2 means prices fall 20 % a year.
    """
    return (1.0 + price_change_per_year) ** (np.arange(months, dtype=float) / 12.0)


def _volumes(tokens_per_day, months, monthly_growth):
    """(volumes array, months) from a scalar + growth, or a list/array/Series of monthly volumes."""
    if isinstance(tokens_per_day, (list, tuple, np.ndarray, pd.Series)):
        values = np.asarray(tokens_per_day, dtype=object).ravel()
        try:
            volumes = np.asarray([float(v) for v in values], dtype=float)
        except (TypeError, ValueError):
            raise InputError("tokens_per_day: every monthly volume must be a number") from None
        if volumes.size == 0:
            raise InputError("tokens_per_day is an empty list — give one volume per month")
        if months is not None and _months(months) != volumes.size:
            raise InputError(f"{volumes.size} monthly volumes but months = {months} — give one volume per month "
                             "or leave months out")
        if monthly_growth:
            raise InputError("give either a list of monthly volumes or monthly_growth, not both")
        if not np.isfinite(volumes).all() or (volumes <= 0).any():
            raise InputError("tokens_per_day: every monthly volume must be a finite number > 0")
        return volumes, _months(volumes.size)
    months = _months(12 if months is None else months)
    growth = _rate("monthly_growth", monthly_growth)
    base = _float("tokens_per_day", tokens_per_day, "")
    if not math.isfinite(base) or base <= 0:
        raise InputError(f"tokens_per_day = {tokens_per_day!r} — give a daily volume > 0")
    volumes = monthly_volumes(base, months, growth)
    if not np.isfinite(volumes).all():
        raise InputError(f"monthly_growth {growth:g} over {months} months overflows — shorten the forecast")
    return volumes, months


# -- commitments ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Commitment:
    """A reserved price: ``hourly_usd`` per GPU-hour, owed for ``min_term_months`` months."""

    term: str
    platform: str  # "" when the row is a market reference price for any platform
    gpu: str
    hourly_usd: float
    min_term_months: int
    source: str
    as_of: str


def find_commitment(catalog, platform, gpu, term):
    """The commitment row for (platform, gpu, term); a platform's own row before a market one."""
    term_key = str(term).strip().lower()
    if term_key not in ("1y", "3y"):
        raise InputError(f"commitment '{term}' is unknown — use 1y or 3y")
    table = load_catalog(catalog).tables["commitments"]
    for wanted in (normalize_key(platform), ""):
        rows = table[(table.platform == wanted) & (table.gpu == normalize_key(gpu)) & (table.term == term_key)]
        if len(rows):
            r = rows.iloc[0]
            return Commitment(term_key, r.platform, r.gpu, float(r.hourly_usd), int(r.min_term_months),
                              r.source, r.as_of)
    known = sorted({f"{p or 'any'}/{g}/{t}" for p, g, t in zip(table.platform, table.gpu, table.term)})
    raise InputError(f"no {term_key} commitment price for gpu '{gpu}' on platform '{platform}' — the catalog "
                     f"has {', '.join(known) or 'none'}; add a row to commitments.csv with its source")


# -- forecast ------------------------------------------------------------------------------------
def _plan_months(volumes, days, pattern, model, platform, gpu, factors, base, assumptions, catalog, plan_kwargs):
    """plan() over all months at once: one array call per distinct month length (≤ 4)."""
    a = assumptions or DEFAULT_ASSUMPTIONS
    kwargs = dict(plan_kwargs)
    if factors is not None:
        price_key = "price_per_m_tokens" if base.billing == "per_token" else "hourly_usd"
        base_price = getattr(base, price_key)
    columns = {"hours_in_month": np.empty(volumes.size)}
    lengths = [None] if days is None else sorted(set(days.tolist()))
    for length in lengths:
        mask = slice(None) if length is None else days == length
        month_a = a if length is None else dataclasses.replace(a, hours_per_month=length * HOURS_PER_DAY,
                                                                days_per_month=length)
        if factors is not None:
            kwargs[price_key] = base_price * factors[mask]
        result = plan(volumes[mask], pattern, model, platform, gpu, catalog=catalog, assumptions=month_a, **kwargs)
        for field in FIELDS:
            value = getattr(result, field)
            if field not in columns:
                text = isinstance(value, str) or getattr(value, "dtype", np.dtype(float)).kind in "OUS"
                columns[field] = np.empty(volumes.size, dtype=object if text else float)
            columns[field][mask] = value  # scalars (names, per-token NaNs) broadcast
        columns["hours_in_month"][mask] = month_a.hours_per_month
    return columns


def forecast(tokens_per_day, pattern, model, platform, gpu=None, *, months=None, monthly_growth=0.0,
             start=None, price_change_per_year=0.0, commitment=None, committed_gpus=None, catalog=None,
             assumptions=None, **plan_kwargs):
    """Month-by-month cost of one workload on one offering as usage grows.

    Parameters
    ----------
    tokens_per_day : numeric, or list/array/Series of numbers
        Daily volume of month 1 (grown by ``monthly_growth``), or one daily volume per month.
        [tokens day⁻¹]
    pattern, model, platform, gpu :
        As `plan`.
    months : int, optional
        Forecast length (default 12, or the length of the volume list). [months]
    monthly_growth : numeric
        Volume growth per month as a fraction, > −1 (0.05 = +5 % a month). [month⁻¹]
    start : 'YYYY-MM', optional
        First calendar month: each month then has its real length (28–31 days × 24 h). Without
        it every month is the planner's month (720 h, 30 days by default).
    price_change_per_year : numeric
        Change of the offering's price per year, compounded monthly (−0.2 = −20 % a year).
        Committed prices do not change during their term. [year⁻¹]
    commitment : '1y' | '3y', optional
        Commit ``committed_gpus`` GPUs at the catalog's reserved price (table ``commitments``) for
        the row's minimum term; GPUs needed beyond them are paid at the on-demand price.
    committed_gpus : numeric, optional
        GPUs committed (default: month 1's GPU count). [GPUs]
    **plan_kwargs :
        Any other keyword argument of `plan` (latency_ms, gpu_count, hourly_usd, ...), unchanged.

    Returns
    -------
    pandas.DataFrame
        One row per month: ``month`` (1, 2, ...), ``period`` ('2027-01' or ''), ``days``,
        ``hours_in_month``, every `plan` field (``tokens_per_day``, ``gpu_count``,
        ``monthly_cost_usd``, ``cost_per_m_tokens_usd``, ...), ``cumulative_cost_usd`` and
        ``price_as_of`` (the date of the on-demand price: its offerings row, or 'given'). With a
        commitment also ``on_demand_cost_usd``, ``committed_gpus``, ``commitment_cost_usd``,
        ``savings_usd`` and ``cumulative_savings_usd``, and ``frame.attrs`` holds the commitment,
        its payoff month and what is still owed after the last month.

    Notes
    -----
    tokens_per_day(k) = tokens_per_day × (1 + monthly_growth)^(k−1); price(k) = price ×
    (1 + price_change_per_year)^((k−1)/12); monthly_cost(k) = plan(tokens_per_day(k), price(k))
    with the month's hours. Month 1 equals plan() (with the month's hours when ``start`` is
    given). cumulative_cost(k) = Σ_{j≤k} monthly_cost(j).
    """
    check_arguments(tokens_per_day=tokens_per_day, months=months, committed_gpus=committed_gpus,
                    **plan_kwargs)  # docs/limits.md
    volumes, n = _volumes(tokens_per_day, months, monthly_growth)
    change = _rate("price_change_per_year", price_change_per_year)
    first = parse_start(start)
    cat = load_catalog(catalog)
    a = assumptions or DEFAULT_ASSUMPTIONS
    labels, days = calendar_months(first, n) if first else ([""] * n, None)
    # month 1's plan gives the price to change and the billing; without either, no extra call
    base = (plan(float(volumes[0]), pattern, model, platform, gpu, catalog=cat, assumptions=a, **plan_kwargs)
            if change or commitment is not None else None)
    factors = price_factors(n, change) if change else None
    term = None
    if commitment is not None:
        if base.billing == "per_token":
            raise InputError(f"'{base.platform}' bills per token — commitments apply to GPU offerings only")
        term = find_commitment(cat, base.platform, base.gpu, commitment)
        n_total = max(n, term.min_term_months)  # evaluate the whole term, show the months asked for
        if n_total > n:
            if isinstance(tokens_per_day, (list, tuple, np.ndarray, pd.Series)):
                volumes = np.concatenate([volumes, np.full(n_total - n, volumes[-1])])  # last volume held
            else:
                volumes = monthly_volumes(volumes[0], n_total, float(monthly_growth))
            labels, days = calendar_months(first, n_total) if first else ([""] * n_total, None)
            factors = price_factors(n_total, change) if change else None
    columns = _plan_months(volumes, days, pattern, model, platform, gpu, factors, base, a, cat, plan_kwargs)
    total = volumes.size
    data = {"month": np.arange(1, total + 1), "period": np.asarray(labels, dtype=object),
            "days": days if days is not None else np.full(total, float(a.days_per_month)),
            "hours_in_month": columns.pop("hours_in_month")}
    data.update((field, columns[field]) for field in FIELDS)
    attrs = {}
    if term is not None:
        attrs = _apply_commitment(data, term, committed_gpus, n)
    data["cumulative_cost_usd"] = np.cumsum(data["monthly_cost_usd"])
    data["price_as_of"] = np.full(total, _forecast_price_as_of(data, cat, plan_kwargs), dtype=object)
    frame = pd.DataFrame({k: v[:n] for k, v in data.items()})  # one construction: column inserts cost ~1 ms
    frame.attrs = attrs
    return frame


def _forecast_price_as_of(data, cat, plan_kwargs):
    """The as_of of the on-demand price a forecast uses: its offerings row, or 'given'."""
    if plan_kwargs.get("hourly_usd") is not None or plan_kwargs.get("price_per_m_tokens") is not None:
        return "given"
    row = prices.offering_row(cat, data["platform"][0], data["gpu"][0], data["model"][0], data["billing"][0])
    return "given" if row is None else str(row["as_of"])


def _apply_commitment(data, term, committed_gpus, shown):
    """Replace on-demand GPU-hours by committed ones for the term; the rest stays on demand.

    committed_cost(k) = committed × hourly_committed × hours(k) for k ≤ term (owed whether used
    or not); overflow(k) = max(0, gpu_count(k) − committed) × on-demand cost per GPU in month k.
    Updates the column arrays in ``data``; returns the frame's attrs.
    """
    on_demand = np.asarray(data["monthly_cost_usd"], dtype=float)
    count = np.asarray(data["gpu_count"], dtype=float)
    if committed_gpus is None:
        committed = float(count[0])
    else:
        committed = float(committed_gpus) if not isinstance(committed_gpus, (bool, str)) else -1.0
        if not math.isfinite(committed) or committed <= 0:
            raise InputError(f"committed_gpus = {committed_gpus!r} — give a GPU count > 0")
        committed = float(math.ceil(committed))
    in_term = data["month"] <= term.min_term_months
    per_gpu = on_demand / count
    committed_cost = np.where(in_term, committed * term.hourly_usd * data["hours_in_month"], 0.0)
    overflow = np.where(in_term, np.maximum(count - committed, 0.0), count) * per_gpu
    total = committed_cost + overflow
    savings = on_demand - total
    data.update(on_demand_cost_usd=on_demand, committed_gpus=np.where(in_term, committed, 0.0),
                commitment_cost_usd=committed_cost, monthly_cost_usd=total, savings_usd=savings,
                cumulative_savings_usd=np.cumsum(savings),
                cost_per_m_tokens_usd=total / np.asarray(data["monthly_tokens"], dtype=float) * 1e6)
    cumulative = data["cumulative_savings_usd"][:term.min_term_months]
    negative = np.nonzero(cumulative < 0)[0]
    if cumulative[-1] < 0:
        payoff = None  # over its whole term the commitment costs more than on demand
    else:
        payoff = int(negative[-1]) + 2 if negative.size else 1
    platform = str(data["platform"][0])
    return dict(commitment=term.term, commitment_hourly_usd=term.hourly_usd,
                commitment_min_term_months=term.min_term_months,
                commitment_basis=(f"market reference price, not a quote of {platform}" if not term.platform
                                  else f"{term.platform} price"),
                commitment_source=term.source, commitment_as_of=term.as_of, committed_gpus=committed,
                commitment_payoff_month=payoff, commitment_term_savings_usd=float(cumulative[-1]),
                commitment_owed_after_forecast_usd=float(committed_cost[shown:].sum()))


# -- numbers for people ---------------------------------------------------------------------------
_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def people_number(value, digits=3):
    """1.812e9 → '1.81 B', 2.9345e8 → '293 M', 950 → '950': what a sentence shows (3 significant digits)."""
    value = float(value)
    if not math.isfinite(value):
        return "n/a"
    for scale, suffix in _SCALES:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {suffix}"
    return f"{value:.{digits}g}"


def tokens_per_day_text(value):
    """'1.81 B tokens/day'."""
    return f"{people_number(value)} tokens/day"


def pct_text(value):
    """A difference in per cent for a sentence: '6.6 %', '0.4 %', 'less than 0.1 %' (never 6.6e-10 %)."""
    value = abs(float(value))
    if value < 0.1:
        return "less than 0.1 %"
    return f"{value:.2g} %" if value < 10 else f"{value:.0f} %"


# -- options: what a break-even compares ---------------------------------------------------------
BILLINGS = BILLING  # atlas_xl/arguments.py
OFFERING_OVERRIDES = ("hourly_usd", "price_per_m_tokens", "billing", "gpu_tokens_per_s")
"""plan() arguments that describe one offering: given to a break-even they must name their side."""
SIDE_OVERRIDES = ("hourly_usd", "price_per_m_tokens", "gpu_tokens_per_s", "gpu_count")
"""What ``overrides_a`` / ``overrides_b`` (CLI ``--a-*`` / ``--b-*``) may set on one side."""


@dataclass(frozen=True)
class Option:
    """One side of a comparison: its label, the plan() arguments, and what was chosen for it."""

    label: str
    args: dict
    note: str = ""
    price_as_of: str = ""


def parse_option(text, name="option"):
    """'platform[/gpu][:billing][:price]' → plan arguments (docs/finance.md, "Naming an option").

    ``together:per_token`` names Together's per-token API, ``together/h100_sxm`` its dedicated H100s,
    ``runpod/h100_sxm:2.10`` RunPod's H100 at 2.10 USD/GPU-h, ``together:per_token:0.6`` the API at
    0.60 USD/Mtok. A price after the colon is per GPU-hour for a GPU offering, per million tokens for
    a per-token one.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{name} must be a platform, platform/gpu (runpod/h100_sxm), platform:per_token "
                         "(together:per_token) or a dict of plan arguments")
    head, *parts = [p.strip() for p in text.strip().split(":")]
    platform, _, gpu = head.partition("/")
    if not platform:
        raise InputError(f"{name} '{text}' has no platform — write e.g. together:per_token or runpod/h100_sxm")
    args = {"platform": platform, "gpu": gpu or None}
    for part in parts:
        key = normalize_key(part)
        if key in BILLINGS:
            args["billing"] = key
            continue
        try:
            price = float(part)
        except ValueError:
            raise InputError(f"{name} '{text}': '{part}' is neither a billing ({', '.join(BILLINGS)}) nor a price "
                             "— write e.g. together:per_token or runpod/h100_sxm:2.10") from None
        if not math.isfinite(price) or price < 0:
            raise InputError(f"{name} '{text}': price {part} must be a number >= 0")
        args["price"] = price
    return args


def resolve_option(option, name, model, catalog=None, overrides=None):
    """An option (text or dict) → `Option` with complete plan arguments and a note saying which
    offering a bare platform name took and which others it has.

    Parameters
    ----------
    option : str or dict
        See `parse_option`; a dict holds plan arguments (platform, gpu, billing, prices, label).
    name : str
        'option_a' or 'option_b' (for messages).
    model : str
        The model compared (a platform's per-token offering is per model).
    overrides : dict, optional
        plan() arguments for this side only (`SIDE_OVERRIDES`).
    """
    cat = load_catalog(catalog)
    label = None
    if isinstance(option, dict):
        args = dict(option)
        if "platform" not in args:
            raise InputError(f"{name} needs a platform: {{'platform': 'runpod', 'gpu': 'h100_sxm', ...}}")
        label = args.pop("label", None) or "/".join(str(args[k]) for k in ("platform", "gpu") if args.get(k))
    else:
        args = parse_option(option, name)
        label = option.strip()
    extra = dict(overrides or {})
    unknown = set(extra) - set(SIDE_OVERRIDES)
    if unknown:
        raise InputError(f"{name}: '{sorted(unknown)[0]}' cannot be set on one side — use {', '.join(SIDE_OVERRIDES)}")
    price = args.pop("price", None)
    note = ""
    platform, gpu, billing = normalize_key(args["platform"]), normalize_key(args.get("gpu")), args.get("billing")
    complete = (billing == "per_token" and (price is not None or args.get("price_per_m_tokens") is not None)) or (
        billing in ("autoscaling", "dedicated") and (price is not None or args.get("hourly_usd") is not None))
    if not complete and platform in cat.platforms:
        model_key = normalize_key(model)
        per_token = cat.offerings.get((platform, "", model_key))
        gpus = sorted(o.gpu for k, o in cat.offerings.items() if k[0] == platform and k[1]
                      and (billing is None or billing == "per_token" or o.billing == billing))
        if billing == "per_token" and per_token is None:
            raise InputError(f"{name} '{label}': {platform} has no per-token price for {model_key} in the catalog"
                             + (f" — its GPU offerings: {', '.join(f'{platform}/{g}' for g in gpus)}" if gpus else ""))
        if billing in ("autoscaling", "dedicated") and not gpu:
            if len(gpus) != 1:
                raise InputError(f"{name} '{label}': {platform} has {len(gpus) or 'no'} {billing} GPU offerings"
                                 + (f" — name one: {', '.join(f'{platform}/{g}' for g in gpus)}" if gpus else ""))
            args["gpu"] = gpu = gpus[0]
        if billing is None and not gpu:
            if per_token is not None:  # what plan() takes for a bare platform, made explicit
                args["billing"] = billing = "per_token"
            elif len(gpus) == 1:
                args["gpu"] = gpu = gpus[0]
            if per_token is not None and gpus:
                note = (f"{label}: took the per-token API ({platform}:per_token); {platform} also has GPU "
                        f"offerings — name one to compare it: {', '.join(f'{platform}/{g}' for g in gpus)}")
            elif per_token is None and len(gpus) == 1:
                note = (f"{label}: took its {cat.offerings[(platform, gpus[0], '')].billing} {gpus[0]} GPUs "
                        f"({platform}/{gpus[0]}); {platform} has no per-token price for {model_key} in the catalog")
    if price is not None:
        resolved = billing or (cat.offering(platform, model, gpu or None).billing if platform in cat.platforms
                               else None)
        if resolved is None:
            raise InputError(f"{name} '{label}': give the billing with the price, e.g. {platform}:dedicated:{price:g}")
        args["price_per_m_tokens" if resolved == "per_token" else "hourly_usd"] = price
    args.update(extra)
    return Option(label, args, note)


def _side_args(plan_kwargs, option_args):
    """The plan() arguments of one side of a comparison: the shared ones, then the side's own. ``disaggregated``
    plans how a GPU option serves; how a per-token option serves is its provider's, so that side is planned as it
    is (as `planner.rank` keeps its per-token rows)."""
    args = {**plan_kwargs, **option_args}
    if args.get("billing") == "per_token":
        args.pop("disaggregated", None)
    return args


def _check_comparable(plan_kwargs, opt_a, opt_b):
    """One line for the shared plan() arguments a comparison of two options cannot use (docs/finance.md)."""
    if plan_kwargs.get("disaggregated") and all(o.args.get("billing") == "per_token" for o in (opt_a, opt_b)):
        raise InputError(f"disaggregated plans GPU options, and '{opt_a.label}' and '{opt_b.label}' both bill per "
                         "token — name a GPU option (platform/gpu), or leave disaggregated off")


def _option_costs(volumes, pattern, model, args, catalog, assumptions, plan_kwargs):
    args = _side_args(plan_kwargs, args)
    platform, gpu = args.pop("platform"), args.pop("gpu", None)
    return np.asarray(plan(volumes, pattern, model, platform, gpu, catalog=catalog, assumptions=assumptions,
                           **args).monthly_cost_usd, dtype=float)


def _check_side_agnostic(plan_kwargs):
    given = [k for k in OFFERING_OVERRIDES if plan_kwargs.get(k) is not None]
    if given:
        flag = given[0].replace("_", "-")
        raise InputError(f"{given[0]} would apply to both options, and two options with one price cost the same — "
                         f"give it to one side (overrides_a / overrides_b; CLI --a-{flag} or --b-{flag}, or "
                         "option:PRICE such as runpod/h100_sxm:2.10)")


def _price_as_of(option, volume, pattern, model, cat, a, plan_kwargs):
    """The as_of of the catalog price an option uses ('given' when its price was set)."""
    args = _side_args(plan_kwargs, option.args)
    given = args.get("hourly_usd") is not None or args.get("price_per_m_tokens") is not None
    if given:
        return "given"
    platform, gpu = args.pop("platform"), args.pop("gpu", None)
    result = plan(volume, pattern, model, platform, gpu, catalog=cat, assumptions=a, **args)
    return prices.plan_price_age(result, cat).as_of


@dataclass(frozen=True)
class BreakEven:
    """Where two options cost the same per month.

    ``tokens_per_day`` is None when the costs never cross in the searched range; ``reason`` then
    says which option is cheaper throughout. ``exact`` is False when the cheaper option changes at
    a GPU-count step (the costs jump past each other rather than meet); ``gap_pct`` is the
    remaining difference there. ``note_a`` / ``note_b`` say which offering a bare platform name
    took; ``price_as_of_a`` / ``_b`` the date of each price.
    """

    tokens_per_day: float | None
    cost_a_usd: float
    cost_b_usd: float
    gap_pct: float
    exact: bool
    cheaper_below: str
    cheaper_above: str
    crossings: int
    reason: str
    label_a: str = ""
    label_b: str = ""
    note_a: str = ""
    note_b: str = ""
    price_as_of_a: str = ""
    price_as_of_b: str = ""

    def as_dict(self):
        return dataclasses.asdict(self)


def breakeven(pattern, model, option_a, option_b, *, low=BREAKEVEN_LOW, high=BREAKEVEN_HIGH, overrides_a=None,
              overrides_b=None, catalog=None, assumptions=None, **plan_kwargs):
    """The daily volume at which two options have the same monthly cost.

    Parameters
    ----------
    pattern, model : str
        As `plan`.
    option_a, option_b : str or dict
        'platform', 'platform/gpu', 'platform:per_token', 'platform/gpu:PRICE' (`parse_option`), or a
        dict of `plan` arguments ({'platform': 'runpod', 'gpu': 'h100_sxm', 'hourly_usd': 2.0}).
    low, high : numeric
        Volumes searched. [tokens day⁻¹]
    overrides_a, overrides_b : dict, optional
        plan() arguments for one side only (`SIDE_OVERRIDES`: hourly_usd, price_per_m_tokens,
        gpu_tokens_per_s, gpu_count).
    **plan_kwargs :
        Other `plan` arguments applied to both options — the serving limits (latency_ms, ttft_ms,
        tpot_ms, precision, input/output tokens) and ``disaggregated`` (GPU options are planned
        disaggregated; a per-token option as it is, its serving being the provider's). A price,
        billing or throughput here would make both options one offering and is refused
        (`OFFERING_OVERRIDES`); so is ``min_replicas``, which changes no monthly cost.

    Returns
    -------
    BreakEven

    Notes
    -----
    Scans cost_a − cost_b on a log grid (64 points per decade) through plan's array path, then
    bisects in log volume inside the first cell where the sign changes, to a relative width of
    1e-10. Monthly cost is compared (one-off penalties are not). GPU costs are steps; where a step
    carries one option past the other, the result is marked ``exact=False``.
    """
    check_arguments(**plan_kwargs)  # docs/limits.md
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise InputError(f"breakeven range {low:g}–{high:g} tokens/day — give 0 < low < high")
    _check_side_agnostic(plan_kwargs)
    if plan_kwargs.get("min_replicas") is not None:  # passed on, plan would refuse a pool above the scan's 1 replica
        raise InputError("min_replicas changes no monthly cost (plan prices autoscaling by its active hours; "
                         "atlas_xl.scaling prices a warm pool), and breakeven compares monthly costs — leave "
                         "min_replicas out")
    cat = load_catalog(catalog)
    a = assumptions or DEFAULT_ASSUMPTIONS
    opt_a = resolve_option(option_a, "option_a", model, cat, overrides_a)
    opt_b = resolve_option(option_b, "option_b", model, cat, overrides_b)
    _check_comparable(plan_kwargs, opt_a, opt_b)
    if opt_a.args == opt_b.args:
        raise InputError(f"option_a '{opt_a.label}' and option_b '{opt_b.label}' are the same offering with the same "
                         "prices — name two different ones (e.g. together:per_token and together/h100_sxm)")
    label_a, args_a, label_b, args_b = opt_a.label, opt_a.args, opt_b.label, opt_b.args
    if label_a == label_b:
        label_a, label_b = f"{label_a} (A)", f"{label_b} (B)"
    points = int(math.ceil(math.log10(high / low) * BREAKEVEN_GRID_PER_DECADE)) + 1
    grid = np.logspace(math.log10(low), math.log10(high), points)
    cost_a = _option_costs(grid, pattern, model, args_a, cat, a, plan_kwargs)
    cost_b = _option_costs(grid, pattern, model, args_b, cat, a, plan_kwargs)
    dates = dict(label_a=label_a, label_b=label_b, note_a=opt_a.note, note_b=opt_b.note,
                 price_as_of_a=_price_as_of(opt_a, low, pattern, model, cat, a, plan_kwargs),
                 price_as_of_b=_price_as_of(opt_b, low, pattern, model, cat, a, plan_kwargs))
    diff = cost_a - cost_b
    sign = np.sign(diff)
    nonzero = np.nonzero(sign)[0]
    changes = np.nonzero(sign[nonzero][1:] != sign[nonzero][:-1])[0]
    span = f"{tokens_per_day_text(low)} and {tokens_per_day_text(high)}"
    if changes.size == 0:
        if not nonzero.size:
            reason = f"{label_a} and {label_b} cost the same at every volume between {span}"
        else:
            cheaper = label_a if diff[nonzero[0]] < 0 else label_b
            reason = f"never cross between {span}: {cheaper} is cheaper throughout"
        return BreakEven(None, math.nan, math.nan, math.nan, False,
                         label_a if nonzero.size and diff[nonzero[0]] < 0 else label_b,
                         label_a if nonzero.size and diff[nonzero[-1]] < 0 else label_b, 0, reason, **dates)
    i, j = nonzero[changes[0]], nonzero[changes[0] + 1]
    lo, hi = math.log(grid[i]), math.log(grid[j])
    sign_lo = sign[i]
    for _ in range(200):  # bisection in log volume; 1e-10 relative width is far below any price's precision
        if hi - lo <= 1e-10:
            break
        mid = 0.5 * (lo + hi)
        d = float(_option_costs(math.exp(mid), pattern, model, args_a, cat, a, plan_kwargs)
                  - _option_costs(math.exp(mid), pattern, model, args_b, cat, a, plan_kwargs))
        if d == 0:
            lo = hi = mid
            break
        if np.sign(d) == sign_lo:
            lo = mid
        else:
            hi = mid
    volume = math.exp(0.5 * (lo + hi))
    ca = float(_option_costs(volume, pattern, model, args_a, cat, a, plan_kwargs))
    cb = float(_option_costs(volume, pattern, model, args_b, cat, a, plan_kwargs))
    gap = abs(ca - cb) / max(ca, cb) * 100.0 if max(ca, cb) > 0 else 0.0
    exact = gap <= 1.0
    below = label_a if sign_lo < 0 else label_b
    above = label_b if sign_lo < 0 else label_a
    reason = (f"{below} is cheaper below {tokens_per_day_text(volume)}, {above} above"
              + ("" if exact else f" (the costs jump past each other at a GPU-count step; {pct_text(gap)} apart "
                                  "there)"))
    return BreakEven(volume, ca, cb, gap, exact, below, above, int(changes.size), reason, **dates)


def breakeven_month(tokens_per_day, pattern, model, option_a, option_b, *, months=None, monthly_growth=0.0,
                    start=None, price_change_per_year=0.0, overrides_a=None, overrides_b=None, catalog=None,
                    assumptions=None, **plan_kwargs):
    """The first forecast month in which the cheaper of two options is not month 1's.

    Options and overrides as `breakeven`. Returns a dict {month, period, cheaper_before,
    cheaper_after, cost_a_usd, cost_b_usd}, or None when the same option is cheaper (or they are
    equal) in every month.
    """
    check_arguments(tokens_per_day=tokens_per_day, months=months, **plan_kwargs)  # docs/limits.md
    _check_side_agnostic(plan_kwargs)
    cat = load_catalog(catalog)
    opt_a = resolve_option(option_a, "option_a", model, cat, overrides_a)
    opt_b = resolve_option(option_b, "option_b", model, cat, overrides_b)
    _check_comparable(plan_kwargs, opt_a, opt_b)
    label_a, label_b = opt_a.label, opt_b.label
    if label_a == label_b:
        label_a, label_b = f"{label_a} (A)", f"{label_b} (B)"
    common = dict(months=months, monthly_growth=monthly_growth, start=start,
                  price_change_per_year=price_change_per_year, catalog=cat, assumptions=assumptions)
    frames = []
    for args in (opt_a.args, opt_b.args):
        args = _side_args(plan_kwargs, args)
        frames.append(forecast(tokens_per_day, pattern, model, args.pop("platform"), args.pop("gpu", None),
                               **common, **args))
    cost_a, cost_b = (f["monthly_cost_usd"].to_numpy() for f in frames)
    cheaper = np.where(cost_a < cost_b, 1, np.where(cost_b < cost_a, -1, 0))
    first = cheaper[0]
    flips = np.nonzero((cheaper != first) & (cheaper != 0))[0] if first else np.nonzero(cheaper != 0)[0]
    if not flips.size:
        return None
    k = int(flips[0])
    name = {1: label_a, -1: label_b, 0: "neither"}
    return {"month": k + 1, "period": frames[0]["period"].iloc[k], "cheaper_before": name[int(first)],
            "cheaper_after": name[int(cheaper[k])], "cost_a_usd": float(cost_a[k]), "cost_b_usd": float(cost_b[k])}


# -- traffic pattern from a usage log -----------------------------------------------------------
TIME_COLUMNS = ("timestamp", "time", "datetime", "date", "start_time", "bucket_start", "start", "hour",
                "created_at", "created", "period_start")
TOKEN_COLUMNS = ("tokens", "total_tokens", "token_count", "n_tokens")
# Columns that add up to the tokens served, as API usage exports name them. OpenAI's input_tokens
# already include input_cached_tokens and audio tokens (its Usage API reference), so those are
# not added; Anthropic's input_tokens exclude the cache_* columns, which are added.
PART_COLUMNS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
                "prompt_tokens", "completion_tokens", "n_context_tokens_total", "n_generated_tokens_total",
                "context_tokens_total", "generated_tokens_total")
ACTIVE_THRESHOLD = 0.05  # an hour with < 5 % of the median active hour's tokens counts as idle
PEAK_QUANTILE = 0.99  # the peak hour is the 99th percentile of active hours (one outlier does not set it)


@dataclass(frozen=True)
class UsagePattern:
    """Planner pattern factors observed in a usage log (see `pattern_from_usage`)."""

    active_ratio: float
    burst_factor: float
    efficiency: float
    batch_multiplier: float
    tokens_per_day: float
    nearest_pattern: str
    hours: int
    first: str
    last: str
    note: str
    ramps_per_week: float = math.nan

    def as_dict(self):
        return dataclasses.asdict(self)

    def pattern_row(self, name="observed", source="usage log"):
        """A row for the catalog's patterns table (``load_catalog({'patterns': ...})``)."""
        return {"pattern": name, "active_ratio": self.active_ratio, "efficiency": self.efficiency,
                "burst_factor": self.burst_factor, "batch_multiplier": self.batch_multiplier,
                "ramps_per_week": self.ramps_per_week,
                "description": f"observed in {source}, {self.first} to {self.last}",
                "source": f"{source} via atlas_xl.pattern_from_usage", "as_of": self.last[:10],
                "notes": f"efficiency and batch_multiplier of the nearest catalog pattern ({self.nearest_pattern})"}


def with_pattern(usage, name="observed", catalog=None, source="usage log"):
    """A catalog whose patterns table also holds ``usage`` as pattern ``name``."""
    cat = load_catalog(catalog)
    patterns = cat.tables["patterns"]
    row = pd.DataFrame([usage.pattern_row(name, source)])
    table = pd.concat([patterns[patterns.pattern != normalize_key(name)], row], ignore_index=True)
    return load_catalog({**cat.tables, "patterns": table})


def _usage_frame(frame_or_csv):
    if isinstance(frame_or_csv, pd.DataFrame):
        return frame_or_csv.copy(), "usage log"
    if isinstance(frame_or_csv, (str, Path)):
        path = Path(frame_or_csv)
        if not path.is_file():
            raise InputError(f"usage log '{path}' does not exist — give a CSV with a timestamp and a tokens column")
        try:
            return pd.read_csv(path), path.name
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise InputError(f"usage log '{path}' is not a readable CSV ({str(error).splitlines()[0]}) — "
                             "export it as CSV with a header row") from None
    if isinstance(frame_or_csv, (list, tuple)) and frame_or_csv and isinstance(frame_or_csv[0], (list, tuple)):
        header = [str(h) for h in frame_or_csv[0]]
        return pd.DataFrame([list(r) for r in frame_or_csv[1:]], columns=header), "usage log"
    raise InputError("usage log must be a DataFrame, a CSV path or rows with a header "
                     "(timestamp, tokens)")


def _timestamps(series, column):
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = pd.to_numeric(series, errors="coerce")
        largest = values.abs().max()
        if largest < 1e6:  # spreadsheet date serials: days since 1899-12-30 (Excel and LibreOffice)
            stamps = pd.to_datetime(values, unit="D", origin="1899-12-30", errors="coerce", utc=True)
            stamps = stamps.dt.round("s")  # 46391 + 9/24 is 08:59:59.99… in binary floating point
        else:  # Unix seconds or milliseconds
            stamps = pd.to_datetime(values, unit="ms" if largest > 1e11 else "s", errors="coerce", utc=True)
    else:
        stamps = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    bad = int(stamps.isna().sum())
    if bad:
        first = series[stamps.isna()].iloc[0]
        raise InputError(f"usage log column '{column}': {bad} value(s) are not timestamps (first: {first!r}) — "
                         "write ISO times such as 2027-01-05T14:00:00Z or Unix seconds")
    return stamps


def hourly_usage(frame_or_csv, *, period=None):
    """(tokens per clock hour, the hours) of a usage log — the log `pattern_from_usage` reads (see there);
    hours missing from the log are idle. At least one day; refused with one line otherwise."""
    frame, source = _usage_frame(frame_or_csv)
    columns = {normalize_key(c): c for c in frame.columns}
    time_col = next((columns[c] for c in TIME_COLUMNS if c in columns), None)
    if time_col is None:
        raise InputError(f"usage log has no timestamp column (found: {', '.join(map(str, frame.columns)) or 'none'})"
                         f" — add one named timestamp, time or date")
    token_cols = [columns[c] for c in TOKEN_COLUMNS if c in columns][:1] or [columns[c] for c in PART_COLUMNS
                                                                            if c in columns]
    if not token_cols:
        raise InputError(f"usage log has no token column (found: {', '.join(map(str, frame.columns))}) — add "
                         "tokens, total_tokens or input_tokens and output_tokens")
    if frame.empty:
        raise InputError("usage log has no rows — export at least one day of usage")
    stamps = _timestamps(frame[time_col], time_col)
    tokens = pd.Series(0.0, index=frame.index)
    for col in token_cols:
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.isna().any() or not np.isfinite(values).all():
            raise InputError(f"usage log column '{col}' has a value that is not a number — fill it with 0 or fix it")
        if (values < 0).any():
            raise InputError(f"usage log column '{col}' has a negative token count — token counts are >= 0")
        tokens = tokens + values.astype(float)
    hourly = tokens.groupby(stamps.dt.floor("h").to_numpy()).sum()
    first, last = hourly.index.min(), hourly.index.max()
    if period is not None:
        try:
            lo, hi = (_timestamps(pd.Series([v]), "period").iloc[0].floor("h") for v in period)
        except (TypeError, ValueError):
            raise InputError("period must be (start, end), e.g. ('2027-01-01', '2027-01-31T23:00')") from None
        if lo > first or hi < last:
            raise InputError(f"period {period[0]} – {period[1]} does not hold the log ({first} – {last}) — widen it")
        first, last = lo, hi
    span = pd.date_range(first, last, freq="h")
    hourly = hourly.reindex(span, fill_value=0.0).to_numpy(dtype=float)
    if hourly.sum() <= 0:
        raise InputError("usage log has no tokens — every token count is 0")
    if hourly.size < 24:
        raise InputError(f"usage log covers {hourly.size} hour(s) — give at least one day (a week or more is better)")
    return hourly, span


def pattern_from_usage(frame_or_csv, *, period=None, catalog=None, active_threshold=ACTIVE_THRESHOLD,
                       peak_quantile=PEAK_QUANTILE):
    """Traffic-pattern factors of the planner, measured on a usage log.

    Parameters
    ----------
    frame_or_csv : DataFrame, CSV path, or rows with a header
        One row per request or per time bucket (hourly or finer): a timestamp column
        (timestamp, time, date, start_time, ...; ISO text, Unix seconds or spreadsheet date
        serials) and either a tokens
        column (tokens, total_tokens) or parts that are added (input_tokens + output_tokens, ...).
    period : (start, end), optional
        The time the log covers (its export period), when it omits idle hours at its ends;
        default: its first to its last hour.
    catalog :
        Where the named patterns come from (for the suggested efficiency and batch multiplier).
    active_threshold : numeric
        An hour counts as active when it carries at least this share of the median active hour.
    peak_quantile : numeric
        Quantile of active hours that defines the peak. [0–1]

    Returns
    -------
    UsagePattern

    Notes
    -----
    Tokens are summed per clock hour over the whole span (hours missing from the log are idle):
    tokens_per_day = Σ tokens / hours × 24;  active_ratio = active hours / hours;
    burst_factor = quantile_q(active hourly tokens) / mean(active hourly tokens), so that the
    planner's peak avg / active_ratio × burst_factor is the observed peak hour (spec "Peak Load
    Calculation"); ramps_per_week = (quiet hours followed by an active one) / hours × 168, the scale-ups an
    autoscaling offering makes (`atlas_xl.scaling`). No measured relation ties efficiency or batch multiplier to traffic, so those
    are the nearest catalog pattern's (nearest in log active ratio and log burst factor).
    """
    hourly, span = hourly_usage(frame_or_csv, period=period)
    hours = hourly.size
    positive = hourly[hourly > 0]
    threshold = float(active_threshold) * float(np.median(positive))
    is_active = hourly >= threshold
    active = hourly[is_active]
    active_ratio = active.size / hours
    ramps = int(np.count_nonzero(is_active[1:] & ~is_active[:-1]))  # a quiet hour followed by an active one
    burst = float(np.quantile(active, float(peak_quantile)) / active.mean())
    tokens_per_day = float(hourly.sum() / hours * HOURS_PER_DAY)
    cat = load_catalog(catalog)
    best, best_d = None, math.inf
    for name, p in cat.patterns.items():
        d = math.hypot(math.log(active_ratio / p.active_ratio), math.log(burst / p.burst_factor))
        if d < best_d:
            best, best_d = name, d
    p = cat.patterns[best]
    note = "" if hours >= 7 * 24 else "covers less than a week: the active ratio may not be the week's"
    return UsagePattern(active_ratio=active_ratio, burst_factor=max(burst, 1.0), efficiency=p.efficiency,
                        batch_multiplier=p.batch_multiplier, tokens_per_day=tokens_per_day, nearest_pattern=best,
                        hours=hours, first=str(span[0].isoformat()), last=str(span[-1].isoformat()), note=note,
                        ramps_per_week=ramps / hours * 168.0)


# -- uncertainty ---------------------------------------------------------------------------------
def default_throughput_error(model, gpu, catalog, expected_error=math.nan):
    """The serving model's throughput error for ``model`` on ``gpu`` as a relative 1-sigma.

    ``expected_error`` is the serving model's ``estimate(model, gpu).expected_error`` (the mean
    absolute relative error of its basis in the leave-one-GPU-out back-test), which `plan()`
    reports as ``throughput_expected_error``; without it, ``estimate`` is asked. A mean absolute
    error e of a normal error is σ·√(2/π), so σ = e·√(π/2).
    """
    if not math.isfinite(expected_error):
        try:
            expected_error = float(serving.estimate(model, gpu, catalog=catalog).expected_error)
        except InputError:
            expected_error = math.nan
    if not math.isfinite(expected_error):
        raise InputError(f"no throughput error is known for {model} on {gpu} — pass throughput_error "
                         "(relative 1-sigma, e.g. 0.15 for ±15 %)")
    return expected_error * math.sqrt(math.pi / 2.0)


def _draws_throughput_error(base, throughput_error, cat):
    """The relative 1-sigma throughput error the draws around the plan ``base`` use: the one given, else the
    serving model's (`default_throughput_error`); a per-token offering has none unless given. Refused in one
    line where the serving model's back-test does not apply: a throughput the caller gave, and disaggregated
    serving (its plan's ``throughput_expected_error`` is blank; its estimates are checked in
    docs/disaggregated.md instead)."""
    if base.billing == "per_token":
        return 0.0 if throughput_error is None else _spread("throughput_error", throughput_error)
    if throughput_error is not None:
        return _spread("throughput_error", throughput_error)
    if getattr(base, "throughput_basis", "") == "given":  # the caller's own throughput: no model error applies
        raise InputError("the throughput per GPU was given, so the serving model's error does not apply — "
                         "pass throughput_error (relative 1-sigma, e.g. 0.15 for ±15 %)")
    if getattr(base, "serving_mode", "") == "disaggregated":  # default_throughput_error would take aggregated's
        raise InputError("disaggregated serving has no error from the serving model's back-test (its own is in "
                         "docs/disaggregated.md) — pass throughput_error (--throughput-error; relative 1-sigma, e.g. "
                         "0.15 for ±15 %)")
    return default_throughput_error(base.model, base.gpu, cat,
                                    float(getattr(base, "throughput_expected_error", math.nan)))


def _replan(base, tokens_per_day, cat, pattern, a, plan_kwargs, **changes):
    """plan()'s equations (its array path) around one base plan, with some of its inputs changed.

    plan() with a given ``gpu_tokens_per_s`` plans replicas of one GPU; varying the serving
    model's throughput must keep the base plan's replica size (whole replicas of
    ``replica_gpus``), so the draws go through the planner's equations with the base plan's
    billing, replica size, fixed GPU count and latency requirement. ``changes``: gpu_tokens_per_s,
    hourly_usd, price_per_m_tokens (arrays or numbers).
    """
    fixed = plan_kwargs.get("gpu_count")
    fixed = None if fixed is None else float(math.ceil(float(fixed)))
    latency = plan_kwargs.get("latency_ms")
    return planner.plan_equations(tokens_per_day, cat.pattern(pattern),
                            changes.get("gpu_tokens_per_s", base.gpu_tokens_per_s),
                            getattr(base, "replica_gpus", 1.0), base.billing,
                            changes.get("hourly_usd", base.hourly_usd),
                            changes.get("price_per_m_tokens", base.price_per_m_tokens), fixed,
                            None if latency is None else float(latency), a)


@dataclass(frozen=True)
class CostRange:
    """Percentiles of the monthly cost over seeded draws (see `cost_range`)."""

    percentiles: dict
    mean_usd: float
    point_usd: float
    draws: int
    seed: int
    throughput_error: float
    price_spread: float
    volume_spread: float
    growth_spread: float
    month: int
    point_reason: str = ""  # why P10 = P90 when they are equal; '' when the draws spread
    gpu_count_p10: float = math.nan
    gpu_count_p90: float = math.nan

    @property
    def p10(self):
        return self.percentiles.get(10.0, math.nan)

    @property
    def p50(self):
        return self.percentiles.get(50.0, math.nan)

    @property
    def p90(self):
        return self.percentiles.get(90.0, math.nan)

    def as_dict(self):
        out = dataclasses.asdict(self)
        out.pop("percentiles")
        out.update({f"p{q:g}_usd": v for q, v in self.percentiles.items()})
        return out


def _lognormal(rng, spread, n):
    """Multipliers exp(N(0, ln(1 + spread))): median 1, 1-sigma factor (1 + spread), never ≤ 0."""
    return np.exp(rng.standard_normal(n) * math.log1p(spread)) if spread else np.ones(n)


def cost_range(tokens_per_day, pattern, model, platform, gpu=None, *, draws=10_000, seed=0, throughput_error=None,
               price_spread=0.0, volume_spread=0.0, month=1, monthly_growth=0.0, growth_spread=0.0,
               start=None, price_change_per_year=0.0, percentiles=(10, 50, 90), catalog=None, assumptions=None,
               **plan_kwargs):
    """P10/P50/P90 (or any percentiles) of the monthly cost under stated uncertainties. Seeded.

    Parameters
    ----------
    tokens_per_day : numeric
        Daily volume of month 1. [tokens day⁻¹]
    draws : int
        Monte-Carlo draws (10 000 default).
    seed : int
        Random seed: the same inputs and seed give the same numbers.
    throughput_error : numeric, optional
        Relative 1-sigma error of the throughput per GPU, drawn lognormal: throughput × exp(N(0,
        ln(1 + e))). Default: from the serving model's ``expected_error`` for the plan's
        throughput (see `default_throughput_error`); to be given for a throughput you set and for
        ``disaggregated=True`` (no back-tested error of that mode applies). Unused for per-token
        offerings.
    price_spread : numeric
        Relative 1-sigma spread of the price (hourly or per token), lognormal as above. Default 0
        (price as in the catalog): no source gives a price distribution, so state yours.
    volume_spread : numeric
        Relative 1-sigma error of the daily volume itself, lognormal. Default 0 (state yours).
    month, monthly_growth, growth_spread :
        The cost of month ``month`` with volume × (1 + g)^(month−1), g ~ Normal(monthly_growth,
        growth_spread) clipped above −100 %. growth_spread default 0.
    start, price_change_per_year :
        As `forecast`: month ``month`` then has its calendar length and its changed price, so the
        range brackets the forecast's month (P50 ≈ forecast when the spreads are 0).
    percentiles : sequence of numbers in [0, 100]
    **plan_kwargs : other `plan` arguments, unchanged.

    Returns
    -------
    CostRange
    """
    return cost_range_months(tokens_per_day, pattern, model, platform, gpu, draws=draws, seed=seed,
                             throughput_error=throughput_error, price_spread=price_spread,
                             volume_spread=volume_spread, months=(month,), monthly_growth=monthly_growth,
                             growth_spread=growth_spread, start=start, price_change_per_year=price_change_per_year,
                             percentiles=percentiles, catalog=catalog, assumptions=assumptions, **plan_kwargs)[0]


def cost_range_months(tokens_per_day, pattern, model, platform, gpu=None, *, months, draws=10_000, seed=0,
                      throughput_error=None, price_spread=0.0, volume_spread=0.0, monthly_growth=0.0,
                      growth_spread=0.0, start=None, price_change_per_year=0.0, percentiles=(10, 50, 90),
                      catalog=None, assumptions=None, **plan_kwargs):
    """`cost_range` of several months in one Monte-Carlo: ``[cost_range(..., month=m) for m in months]``,
    bit for bit, with the checks, the base plans and the draws done once (issue 21: a worksheet's column of
    months is one call).

    Parameters
    ----------
    months : sequence of int
        The months, each as `cost_range`'s ``month`` (repeats allowed). [months]
    Other parameters :
        As `cost_range`.

    Returns
    -------
    list of CostRange
        One per entry of ``months``, in their order.

    Notes
    -----
    Each month's draws are `cost_range`'s: one seeded stream per call, in its order (volume, then the growth
    rate when month > 1 and growth_spread > 0, then price, then throughput). So months > 1 share one set of
    draws, and month 1 has its own only when a growth spread shifts the stream. The base plan is made once per
    month length (≤ 4 with ``start``), and each month's equations run on (draws,) arrays, as one call runs them:
    one (months × draws) block was measured slower (its temporaries leave the cache; 72 vs 16 ms for 24 months).
    """
    check_arguments(tokens_per_day=tokens_per_day, draws=draws, seed=seed, **plan_kwargs)  # docs/limits.md
    if (isinstance(draws, bool) or not isinstance(draws, (int, float, np.integer)) or not math.isfinite(draws)
            or draws != int(draws) or not 1 <= draws <= 10_000_000):
        raise InputError(f"draws = {draws!r} — give a whole number from 1 to 10,000,000, e.g. 10000")
    draws = int(draws)
    wanted = [_months(m) for m in months]
    if not wanted:
        raise InputError("months is empty — give at least one month, e.g. 1")
    growth = _rate("monthly_growth", monthly_growth)
    spreads = {n: _spread(n, v) for n, v in (("price_spread", price_spread), ("volume_spread", volume_spread),
                                             ("growth_spread", growth_spread))}
    qs = np.atleast_1d(np.asarray(percentiles, dtype=float))
    if qs.size == 0 or not np.isfinite(qs).all() or (qs < 0).any() or (qs > 100).any():
        raise InputError(f"percentiles {percentiles!r} — give numbers from 0 to 100, e.g. 10, 50, 90")
    cat = load_catalog(catalog)
    a0 = assumptions or DEFAULT_ASSUMPTIONS
    change = _rate("price_change_per_year", price_change_per_year)
    first = parse_start(start)
    distinct = sorted(set(wanted))
    lengths = calendar_months(first, distinct[-1])[1] if first else None
    groups = {}  # a month's calendar length (None without a start) → (its assumptions, its months): one base plan
    for m in distinct:
        days = float(lengths[m - 1]) if first else None
        if days not in groups:
            groups[days] = (dataclasses.replace(a0, hours_per_month=days * HOURS_PER_DAY, days_per_month=days)
                            if first else a0, [])
        groups[days][1].append(m)
    found, streams = {}, {}
    for a, group in groups.values():
        found.update(_cost_range_group(tokens_per_day, pattern, model, platform, gpu, group, a, cat, draws, seed,
                                       throughput_error, spreads, growth, change, qs, plan_kwargs, streams))
    return [found[m] for m in wanted]


def _cost_range_group(tokens_per_day, pattern, model, platform, gpu, months, a, cat, draws, seed, throughput_error,
                      spreads, growth, change, qs, plan_kwargs, streams):
    """{month: CostRange} for months that share one set of assumptions (one month length); ``streams`` holds
    the seeded draws across the groups."""
    base = plan(tokens_per_day, pattern, model, platform, gpu, catalog=cat, assumptions=a, **plan_kwargs)
    if isinstance(base.monthly_cost_usd, np.ndarray):
        raise InputError("cost_range takes one tokens_per_day — call it once per volume")
    per_token = base.billing == "per_token"
    error = _draws_throughput_error(base, throughput_error, cat)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise InputError(f"seed must be a whole number, not {seed!r}")
    price_key = "price_per_m_tokens" if per_token else "hourly_usd"

    def stream(later):
        """cost_range's draws, in its order; month > 1 with a growth spread draws growth rates before the
        price, so it is another stream. Multipliers are shared by the month lengths (``streams``)."""
        key = (later, per_token, error)
        if key not in streams:
            rng = np.random.default_rng(seed)
            volume = _lognormal(rng, spreads["volume_spread"], draws)
            g = growth + spreads["growth_spread"] * rng.standard_normal(draws) if later else growth
            price_draw = _lognormal(rng, spreads["price_spread"], draws)
            streams[key] = (volume, g, price_draw, None if per_token else _lognormal(rng, error, draws))
        volume, g, price_draw, tps = streams[key]
        return (base.tokens_per_day * volume, g, price_draw,
                None if tps is None else base.gpu_tokens_per_s * tps)

    out = {}
    for month in months:  # one month at a time: (draws,) arrays stay in cache, a (months × draws) block does not
        v, g, price_draw, t = stream(month > 1 and bool(spreads["growth_spread"]))
        volume = v * np.maximum(1.0 + g, 1e-9) ** (month - 1) if month > 1 else v
        price = getattr(base, price_key) * float(price_factors(month, change)[-1])  # as one month's call
        draws_of = {price_key: price * price_draw}
        if t is not None:
            draws_of["gpu_tokens_per_s"] = t
        replanned = _replan(base, volume, cat, pattern, a, plan_kwargs, **draws_of)
        cost = np.asarray(replanned["monthly_cost_usd"], dtype=float)
        *values, p10, p90 = np.percentile(cost, np.concatenate([qs, (10.0, 90.0)]))  # one partition; each q's value
        point = plan(float(monthly_volumes(base.tokens_per_day, month, growth)[-1]), pattern, model, platform, gpu,
                     catalog=cat, assumptions=a, **{**plan_kwargs, price_key: price}).monthly_cost_usd
        counts = np.broadcast_to(np.asarray(replanned["gpu_count"], dtype=float), cost.shape)
        low_count, high_count = (np.percentile(counts, (10, 90)) if not per_token else (math.nan, math.nan))
        reason = _point_reason(cost, counts, replanned, base, per_token, error, spreads, month, plan_kwargs,
                               p10_p90=(p10, p90))
        out[month] = CostRange(percentiles={float(q): float(v) for q, v in zip(qs, values)},
                               mean_usd=float(cost.mean()), point_usd=float(point), draws=draws, seed=int(seed),
                               throughput_error=error, price_spread=spreads["price_spread"],
                               volume_spread=spreads["volume_spread"], growth_spread=spreads["growth_spread"],
                               month=month, point_reason=reason, gpu_count_p10=float(low_count),
                               gpu_count_p90=float(high_count))
    return out


def _point_reason(cost, counts, replanned, base, per_token, error, spreads, month, plan_kwargs, p10_p90=None):
    """Why every draw costs the same ('' when the draws spread): the reader of P10 = P90 needs it.
    ``p10_p90``: the cost's P10 and P90 when already computed."""
    low, high = np.percentile(cost, (10, 90)) if p10_p90 is None else p10_p90
    if high - low > 1e-9 * max(abs(high), 1.0):
        return ""
    varied = [n.replace("_spread", "") for n, v in spreads.items() if v and (n != "growth_spread" or month > 1)]
    if per_token:
        return ("the range is one point: a per-token cost is volume × price, and no volume or price spread was "
                "given — state one (volume_spread / --volume-spread, price_spread / --price-spread, e.g. 0.2)")
    if plan_kwargs.get("gpu_count") is not None:
        return (f"the range is one point: the GPU count is fixed at {counts[0]:g}, so no throughput "
                f"({error:.0%}) or volume draw changes what is paid" + ("" if spreads["price_spread"] else
                                                                      " and the price has no spread"))
    used = np.asarray(replanned["utilization_after"], dtype=float)
    u10, u90 = np.percentile(np.broadcast_to(used, cost.shape), (10, 90))
    replica = float(getattr(base, "replica_gpus", 1.0))
    return (f"the range is one point: every draw needs the same {counts[0]:g} GPUs "
            f"({counts[0] / replica:g} replica{'s' if counts[0] != replica else ''} of {replica:g}) — the "
            f"throughput error (±{error:.0%}{', ' + ', '.join(varied) if varied else ''}) moves utilisation "
            f"between {u10:.0%} and {u90:.0%} (P10–P90) but never past a {replica:g}-GPU step, and GPUs are "
            "paid whole")


# -- period totals: months, quarters, fiscal years ----------------------------------------------
PERIOD_COLUMNS = ("period_type", "period", "months", "complete", "point_usd", "mean_usd", "p10_usd", "p50_usd",
                  "p90_usd")


def fiscal_period(year, month, fiscal_year_start_month=1):
    """(fiscal year, fiscal quarter) of a calendar month; a fiscal year is named by the calendar year
    it ends in (FY2028 = April 2027 – March 2028 when it starts in April).

    Notes
    -----
    FY = year + 1 if month >= start and start > 1, else year; quarter = ((month − start) mod 12) // 3 + 1.
    """
    start = int(fiscal_year_start_month)
    fy = year + 1 if start > 1 and month >= start else year
    return fy, ((month - start) % 12) // 3 + 1


def _fiscal_start(value):
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer)) or value != int(value) \
            or not 1 <= value <= 12:
        raise InputError(f"fiscal_year_start_month = {value!r} — give a month number 1–12 (4 = April)")
    return int(value)


def _simulated_months(tokens_per_day, pattern, model, platform, gpu, *, months, draws, seed, throughput_error,
                      price_spread, volume_spread, monthly_growth, growth_spread, start, price_change_per_year,
                      catalog, assumptions, plan_kwargs):
    """(cost [draws × months], GPUs needed [draws × months], on-demand cost of one GPU [draws × months],
    hours [months], labels, base plan, throughput error) under draws that hold for the whole forecast:
    one throughput, price and volume factor and one growth rate per draw (systematic, not monthly noise)."""
    months = _months(12 if months is None else months)
    if (isinstance(draws, bool) or not isinstance(draws, (int, float, np.integer)) or not math.isfinite(draws)
            or draws != int(draws) or not 1 <= draws <= 1_000_000):
        raise InputError(f"draws = {draws!r} — give a whole number from 1 to 1,000,000, e.g. 2000")
    draws = int(draws)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise InputError(f"seed must be a whole number, not {seed!r}")
    growth = _rate("monthly_growth", monthly_growth)
    change = _rate("price_change_per_year", price_change_per_year)
    spreads = {n: _spread(n, v) for n, v in (("price_spread", price_spread), ("volume_spread", volume_spread),
                                             ("growth_spread", growth_spread))}
    cat = load_catalog(catalog)
    a = assumptions or DEFAULT_ASSUMPTIONS
    first = parse_start(start)
    labels, days = calendar_months(first, months) if first else ([f"month {k}" for k in range(1, months + 1)], None)
    base = plan(_float("tokens_per_day", tokens_per_day, ""), pattern, model, platform, gpu, catalog=cat,
                assumptions=a, **plan_kwargs)
    per_token = base.billing == "per_token"
    error = _draws_throughput_error(base, throughput_error, cat)
    rng = np.random.default_rng(seed)
    volume0 = base.tokens_per_day * _lognormal(rng, spreads["volume_spread"], draws)
    rate = growth + spreads["growth_spread"] * rng.standard_normal(draws) if spreads["growth_spread"] else \
        np.full(draws, growth)
    price_key = "price_per_m_tokens" if per_token else "hourly_usd"
    price_draw = getattr(base, price_key) * _lognormal(rng, spreads["price_spread"], draws)
    tps = None if per_token else base.gpu_tokens_per_s * _lognormal(rng, error, draws)
    factors = price_factors(months, change)
    cost, count, per_gpu = (np.empty((draws, months)) for _ in range(3))
    hours = np.empty(months)
    for k in range(months):
        month_a = a if days is None else dataclasses.replace(a, hours_per_month=days[k] * HOURS_PER_DAY,
                                                             days_per_month=days[k])
        volume = volume0 * np.maximum(1.0 + rate, 1e-9) ** k
        changes = {price_key: price_draw * factors[k]}
        if tps is not None:
            changes["gpu_tokens_per_s"] = tps
        out = _replan(base, volume, cat, pattern, month_a, plan_kwargs, **changes)
        cost[:, k] = np.asarray(out["monthly_cost_usd"], dtype=float)
        count[:, k] = np.asarray(out["gpu_count"], dtype=float)
        hours[k] = month_a.hours_per_month
        if not per_token:
            billed = (out["active_hours_per_month"] if base.billing == "autoscaling" else month_a.hours_per_month)
            per_gpu[:, k] = np.asarray(billed, dtype=float) * changes[price_key]
    return cost, count, per_gpu, hours, labels, first, base, error


def cost_range_periods(tokens_per_day, pattern, model, platform, gpu=None, *, months=12, draws=10_000, seed=0,
                       throughput_error=None, price_spread=0.0, volume_spread=0.0, monthly_growth=0.0,
                       growth_spread=0.0, start=None, price_change_per_year=0.0, fiscal_year_start_month=None,
                       percentiles=(10, 50, 90), catalog=None, assumptions=None, **plan_kwargs):
    """P10/P50/P90 of the cost of every month, quarter and fiscal year of a forecast. Seeded.

    Parameters
    ----------
    tokens_per_day, pattern, model, platform, gpu :
        As `forecast`. [tokens day⁻¹]
    months : int
        Forecast length. [months]
    draws, seed, throughput_error, price_spread, volume_spread, monthly_growth, growth_spread :
        As `cost_range`; each draw keeps its throughput, price, volume and growth for the whole
        forecast (an estimate that is off is off every month), so a period's percentile is of the
        period's total, not a sum of monthly percentiles.
    start : 'YYYY-MM', optional
        First calendar month: months get their real length and periods their calendar names.
    fiscal_year_start_month : int, optional
        Month the fiscal year starts (1 = January, 4 = April); needs ``start``. Default 1.
    **plan_kwargs : other `plan` arguments (latency and serving limits), unchanged.

    Returns
    -------
    pandas.DataFrame
        Columns `PERIOD_COLUMNS`: period_type month | quarter | fiscal_year, period ('2027-01',
        'FY2027 Q1', 'FY2027'; without ``start`` 'month 1', 'year 1 Q1', 'year 1'), the number of
        forecast months in it, ``complete`` (False for a period the forecast covers in part),
        the point forecast (`forecast`), the mean and the percentiles of the period's total [USD].
        ``frame.attrs``: throughput_error, draws, seed, point_reason, price_as_of.

    Notes
    -----
    total_period(d) = Σ_{k in period} cost(d, k); percentile over draws d.
    """
    fiscal = _fiscal_start(fiscal_year_start_month)
    if fiscal_year_start_month is not None and fiscal != 1 and start is None:
        raise InputError("fiscal_year_start_month needs start (the first calendar month, YYYY-MM)")
    qs = np.atleast_1d(np.asarray(percentiles, dtype=float))
    if qs.size == 0 or not np.isfinite(qs).all() or (qs < 0).any() or (qs > 100).any():
        raise InputError(f"percentiles {percentiles!r} — give numbers from 0 to 100, e.g. 10, 50, 90")
    cost, count, _, _, labels, first, base, error = _simulated_months(
        tokens_per_day, pattern, model, platform, gpu, months=months, draws=draws, seed=seed,
        throughput_error=throughput_error, price_spread=price_spread, volume_spread=volume_spread,
        monthly_growth=monthly_growth, growth_spread=growth_spread, start=start,
        price_change_per_year=price_change_per_year, catalog=catalog, assumptions=assumptions,
        plan_kwargs=plan_kwargs)
    n = cost.shape[1]
    point = forecast(tokens_per_day, pattern, model, platform, gpu, months=n, monthly_growth=monthly_growth,
                     start=start, price_change_per_year=price_change_per_year, catalog=catalog,
                     assumptions=assumptions, **plan_kwargs)
    point_cost = point["monthly_cost_usd"].to_numpy(dtype=float)
    if first:
        year, month = first
        keys = []
        for _ in range(n):
            fy, quarter = fiscal_period(year, month, fiscal)
            keys.append((f"FY{fy} Q{quarter}", f"FY{fy}"))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        keys = [(f"year {k // 12 + 1} Q{(k % 12) // 3 + 1}", f"year {k // 12 + 1}") for k in range(n)]
    rows = []
    for kind, names, size in (("month", labels, 1), ("quarter", [k[0] for k in keys], 3),
                              ("fiscal_year", [k[1] for k in keys], 12)):
        for name in dict.fromkeys(names):
            idx = [i for i, v in enumerate(names) if v == name]
            total = cost[:, idx].sum(axis=1)
            values = np.percentile(total, qs)
            rows.append({"period_type": kind, "period": name, "months": len(idx), "complete": len(idx) == size,
                         "point_usd": float(point_cost[idx].sum()), "mean_usd": float(total.mean()),
                         **{f"p{q:g}_usd": float(v) for q, v in zip(qs, values)}})
    frame = pd.DataFrame(rows)
    per_token = base.billing == "per_token"
    month_one = cost[:, 0]
    replanned = {"utilization_after": np.full(month_one.shape, math.nan)} if per_token else None
    if per_token:
        reason = _point_reason(month_one, count[:, 0], replanned, base, True, error,
                               {"price_spread": price_spread or 0.0, "volume_spread": volume_spread or 0.0,
                                "growth_spread": growth_spread or 0.0}, n, plan_kwargs)
    else:
        low, high = np.percentile(cost.sum(axis=1), (10, 90))
        reason = "" if high - low > 1e-9 * max(abs(high), 1.0) else (
            f"the range is one point: in every month every draw needs the same GPUs ({count[0, 0]:g} in month 1) — "
            f"the throughput error (±{error:.0%}) never crosses a {getattr(base, 'replica_gpus', 1.0):g}-GPU step")
    frame.attrs = {"throughput_error": error, "draws": int(draws), "seed": int(seed), "point_reason": reason,
                   "price_as_of": str(point["price_as_of"].iloc[0]), "fiscal_year_start_month": fiscal}
    return frame


# -- commitment advisor ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CommitAdvice:
    """The commitment (term, GPUs, first month) with the least expected cost over a forecast.

    ``committed_gpus`` = 0 means: commit nothing, on demand is cheapest. Costs are totals over the
    forecast's months plus, for a term that runs past them, what is still owed (``owed_after_usd``).
    """

    term: str
    committed_gpus: float
    start_month: int
    start_period: str
    expected_cost_usd: float
    on_demand_expected_cost_usd: float
    expected_savings_usd: float
    p10_cost_usd: float
    p10_on_demand_cost_usd: float
    p10_overcommitment_usd: float
    p10_idle_gpu_hours: float
    owed_after_usd: float
    hourly_usd: float
    min_term_months: int
    basis: str
    source: str
    as_of: str
    months: int
    draws: int
    reason: str
    alternatives: tuple = ()

    def as_dict(self):
        out = dataclasses.asdict(self)
        out["alternatives"] = [dict(a) for a in self.alternatives]
        return out


def _terms(cat, platform, gpu, terms):
    table = cat.tables["commitments"]
    wanted = [t.strip().lower() for t in (terms or sorted(set(table.term)))]
    found = []
    for term in wanted:
        try:
            found.append(find_commitment(cat, platform, gpu, term))
        except InputError:
            if terms:
                raise
    if not found:
        raise InputError(f"no commitment price for gpu '{gpu}' on platform '{platform}' — add a row to "
                         "commitments.csv with its source")
    return found


def commit_advice(tokens_per_day, pattern, model, platform, gpu=None, *, months=36, monthly_growth=0.0,
                  start=None, terms=None, draws=2000, seed=0, throughput_error=None, price_spread=0.0,
                  volume_spread=0.0, growth_spread=0.0, price_change_per_year=0.0, catalog=None, assumptions=None,
                  **plan_kwargs):
    """Which commitment term, how many GPUs and from which month minimise the expected cost of a forecast.

    Parameters
    ----------
    tokens_per_day, pattern, model, platform, gpu, monthly_growth, start, price_change_per_year :
        As `forecast` (a GPU offering; per-token offerings have nothing to commit).
    months : int
        Forecast horizon (default 36, one 3-year term). [months]
    terms : sequence of '1y' | '3y', optional
        Terms to consider; default every term the commitments table prices for this GPU.
    draws, seed, throughput_error, price_spread, volume_spread, growth_spread :
        The uncertainty, as `cost_range_periods` (default: the serving model's throughput error).
    **plan_kwargs : other `plan` arguments (latency and serving limits), unchanged.

    Returns
    -------
    CommitAdvice

    Notes
    -----
    For n committed GPUs over months s … s+T−1 (T the term's minimum months), the cost of draw d is
    Σ_k [in(k) · n · h_c · hours(k) + max(0, need(d,k) − in(k) · n) · c(d,k)], with need the GPUs the
    planner sizes, c the on-demand cost of one GPU-month and h_c the committed price; months of the
    term after the horizon are owed at n · h_c · 720 h each (nothing they would save is counted: the
    forecast does not reach them). Expected cost = mean over draws; n runs over whole replicas up to
    the P90 need, s over the forecast's months. The P10 scenario is the draw whose total on-demand
    cost is the 10th percentile: ``p10_overcommitment_usd`` = committed GPU-hours it leaves unused ×
    h_c — the risk of committing to volume that does not come.
    """
    cat = load_catalog(catalog)
    cost, need, per_gpu, hours, labels, first, base, error = _simulated_months(
        tokens_per_day, pattern, model, platform, gpu, months=months, draws=draws, seed=seed,
        throughput_error=throughput_error, price_spread=price_spread, volume_spread=volume_spread,
        monthly_growth=monthly_growth, growth_spread=growth_spread, start=start,
        price_change_per_year=price_change_per_year, catalog=cat, assumptions=assumptions,
        plan_kwargs=plan_kwargs)
    if base.billing == "per_token":
        raise InputError(f"'{base.platform}' bills per token — commitments apply to GPU offerings only")
    n_months = cost.shape[1]
    replica = float(getattr(base, "replica_gpus", 1.0))
    top = float(np.ceil(np.percentile(need.max(axis=1), 90) / replica) * replica)
    grid = np.arange(0.0, top + replica, replica)
    on_demand = cost.sum(axis=1)  # per draw
    base_month = cost.mean(axis=0)  # E[on-demand cost of month k]
    # E[max(0, need − n) · c] per candidate n and month k
    overflow = np.stack([(np.maximum(need - n, 0.0) * per_gpu).mean(axis=0) for n in grid])
    p10_draw = int(np.argsort(on_demand)[int(0.1 * (len(on_demand) - 1))])
    options = []
    for term in _terms(cat, base.platform, base.gpu, terms):
        best = None  # the best (expected cost, term, n, first month, owed) of this term
        span = term.min_term_months
        for i, n in enumerate(grid[1:], start=1):
            committed = n * term.hourly_usd * hours  # per month inside the term
            delta = committed + overflow[i] - base_month
            window = np.concatenate([[0.0], np.cumsum(delta)])
            for s0 in range(n_months):  # s0: first month of the term (0-based)
                end = min(s0 + span, n_months)
                beyond = s0 + span - end
                owed = float(n * term.hourly_usd * 720.0 * beyond)
                expected = float(base_month.sum() + window[end] - window[s0] + owed)
                if best is None or expected < best[0] - 1e-9:
                    best = (expected, term, n, s0, owed)
        options.append(best)
    expected_on_demand = float(base_month.sum())
    winner = min((o for o in options if o is not None), key=lambda o: o[0])
    expected, term, n, s0, owed = winner
    if expected >= expected_on_demand:
        term, n, s0, owed, expected = _terms(cat, base.platform, base.gpu, terms)[0], 0.0, 0, 0.0, expected_on_demand
    inside = np.zeros(n_months, dtype=bool)
    inside[s0:min(s0 + term.min_term_months, n_months)] = bool(n)
    d = p10_draw
    used = np.minimum(need[d], n) * inside
    p10_cost = float((inside * n * term.hourly_usd * hours + np.maximum(need[d] - inside * n, 0.0) * per_gpu[d]).sum()
                     + owed)
    idle = float(((n - used) * inside * hours).sum())
    alternatives = []
    for option in options:
        if option is None:
            continue
        e, t, k, start0, o = option
        alternatives.append({"term": t.term, "committed_gpus": float(k), "start_month": start0 + 1,
                             "expected_cost_usd": e, "expected_savings_usd": expected_on_demand - e})
    period = labels[s0] if first else f"month {s0 + 1}"
    if n:
        reason = (f"commit {n:g} GPUs for {term.term} from {period}: expected {people_number(expected_on_demand - expected)}"
                  f" USD less than on demand over {n_months} months; at the P10 volume {people_number(idle)} "
                  f"committed GPU-hours go unused ({people_number(idle * term.hourly_usd)} USD)")
    else:
        reason = (f"do not commit: no term, GPU count or first month costs less in expectation than on demand "
                  f"({people_number(expected_on_demand)} USD over {n_months} months)")
    return CommitAdvice(term=term.term, committed_gpus=float(n), start_month=s0 + 1, start_period=period,
                        expected_cost_usd=expected, on_demand_expected_cost_usd=expected_on_demand,
                        expected_savings_usd=expected_on_demand - expected, p10_cost_usd=p10_cost,
                        p10_on_demand_cost_usd=float(on_demand[d]),
                        p10_overcommitment_usd=idle * term.hourly_usd, p10_idle_gpu_hours=idle, owed_after_usd=owed,
                        hourly_usd=term.hourly_usd, min_term_months=term.min_term_months,
                        basis=(f"market reference price, not a quote of {base.platform}" if not term.platform
                               else f"{term.platform} price"), source=term.source, as_of=term.as_of,
                        months=n_months, draws=int(draws), reason=reason, alternatives=tuple(alternatives))


# -- sensitivity (tornado) -----------------------------------------------------------------------
SENSITIVITY_SPREAD = 0.10  # ±10 % one at a time unless a range is given: a convention, not a measurement
PATTERN_INPUTS = ("active_ratio", "burst_factor", "efficiency", "batch_multiplier")
SENSITIVITY_COLUMNS = ("input", "base", "low", "high", "cost_at_low_usd", "cost_at_high_usd", "swing_usd",
                       "base_cost_usd")


def sensitivity(tokens_per_day, pattern, model, platform, gpu=None, *, spread=SENSITIVITY_SPREAD, ranges=None,
                output="monthly_cost_usd", catalog=None, assumptions=None, **plan_kwargs):
    """One row per input: the output at the low and at the high end of that input's range (a tornado).

    Parameters
    ----------
    spread : numeric
        Default range of every input: base × (1 − spread) to base × (1 + spread). Default ±10 %.
    ranges : dict, optional
        Per input, a (low, high) pair of absolute values or one number (a relative spread):
        {'tokens_per_day': (1e9, 4e9), 'hourly_usd': 0.3}. Inputs: tokens_per_day,
        gpu_tokens_per_s, hourly_usd (GPU offerings) or price_per_m_tokens (per-token),
        active_ratio, burst_factor, efficiency, batch_multiplier, target_utilization.
    output : str
        The `plan` field to report (monthly_cost_usd, cost_per_m_tokens_usd, unused_capacity_usd, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``SENSITIVITY_COLUMNS``, largest swing first. active_ratio and target_utilization
        are capped at 1.
    """
    check_arguments(tokens_per_day=tokens_per_day, **plan_kwargs)  # docs/limits.md
    spread = _spread("spread", spread)
    if output not in FIELDS:
        raise InputError(f"output '{output}' is not a plan field — use one of monthly_cost_usd, "
                         "cost_per_m_tokens_usd, unused_capacity_usd, gpu_count")
    cat = load_catalog(catalog)
    a = assumptions or DEFAULT_ASSUMPTIONS
    base = plan(tokens_per_day, pattern, model, platform, gpu, catalog=cat, assumptions=a, **plan_kwargs)
    if isinstance(base.monthly_cost_usd, np.ndarray):
        raise InputError("sensitivity takes one tokens_per_day — call it once per volume")
    per_token = base.billing == "per_token"
    pat = cat.pattern(pattern)
    inputs = {"tokens_per_day": base.tokens_per_day}
    inputs["price_per_m_tokens" if per_token else "hourly_usd"] = (base.price_per_m_tokens if per_token
                                                                   else base.hourly_usd)
    if not per_token:
        inputs["gpu_tokens_per_s"] = base.gpu_tokens_per_s
    inputs.update({k: getattr(pat, k) for k in PATTERN_INPUTS})
    if not per_token:
        inputs["target_utilization"] = a.target_utilization
    ranges = dict(ranges or {})
    unknown = set(ranges) - set(inputs)
    if unknown:
        raise InputError(f"no sensitivity input '{sorted(unknown)[0]}' for this offering — known: "
                         f"{', '.join(inputs)}")
    base_value = getattr(base, output)
    rows = []
    for name, value in inputs.items():
        given = ranges.get(name)
        if given is None or isinstance(given, (int, float)) and not isinstance(given, bool):
            s = spread if given is None else _spread(f"ranges['{name}']", given)
            low, high = value * (1 - s), value * (1 + s)
        else:
            try:
                low, high = (float(v) for v in given)
            except (TypeError, ValueError):
                raise InputError(f"ranges['{name}'] must be (low, high) or one relative spread like 0.2") from None
        if name in ("active_ratio", "target_utilization"):
            high = min(high, 1.0)
        results = [_vary(name, v, tokens_per_day, pattern, model, platform, gpu, cat, a, output, plan_kwargs)
                   for v in (low, high)]
        rows.append((name, value, low, high, results[0], results[1], abs(results[1] - results[0]), base_value))
    frame = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    return frame.sort_values("swing_usd", ascending=False, kind="stable").reset_index(drop=True)


def _vary(name, value, tokens_per_day, pattern, model, platform, gpu, cat, a, output, plan_kwargs):
    kwargs = dict(plan_kwargs)
    if value <= 0:
        raise InputError(f"sensitivity range of {name} reaches {value:g} — keep it above 0")
    if name == "tokens_per_day":
        tokens_per_day = value
    elif name == "gpu_tokens_per_s":  # keep the serving model's replica size (see _replan)
        base = plan(tokens_per_day, pattern, model, platform, gpu, catalog=cat, assumptions=a, **kwargs)
        values = _replan(base, base.tokens_per_day, cat, pattern, a, kwargs, gpu_tokens_per_s=value)
        if output in values or output == "gpu_tokens_per_s":
            return float(values.get(output, value))
        # a field the planner's equations do not give (energy, emissions, warm pool): the plan at that throughput
        # in replicas of the base plan's size (at the base throughput it is the base plan, field for field)
        kwargs.update(gpu_tokens_per_s=value, tp=base.replica_gpus)
        return float(getattr(plan(tokens_per_day, pattern, model, platform, gpu, catalog=cat, assumptions=a,
                                  **kwargs), output))
    elif name in ("hourly_usd", "price_per_m_tokens"):
        kwargs[name] = value
    elif name == "target_utilization":
        a = dataclasses.replace(a, **{name: value})
    else:
        patterns = cat.tables["patterns"].copy()
        patterns.loc[patterns.pattern == normalize_key(pattern), name] = value
        cat = cat.with_patterns(patterns)  # the other tables as they were, not validated again
    return float(getattr(plan(tokens_per_day, pattern, model, platform, gpu, catalog=cat, assumptions=a,
                              **kwargs), output))
