"""Own GPUs for the base load, a per-token API for the peaks (issue 19 item 3).

`hybrid` sizes a number of own GPUs (whole replicas, paid every hour like a dedicated offering) that serve the
load up to their capacity at the planner's target utilization; every token above it goes to a per-token API.
It tries every count from none to all the peak needs and keeps the cheapest, so it is never dearer than
either side alone (both are among the candidates).

What the load looks like decides the split. A usage log (``usage=``, the format `pattern_from_usage` reads)
gives it hour by hour. A named pattern gives only its mean and peak; the load then taken is the spikiest one
with that mean and peak — the peak for 1/burst_factor of the active hours and nothing the rest. Under it the
cost is linear in the own capacity, so a split beats the cheaper side only through whole-replica steps (a
steady load that needs 1.6 replicas: one own replica, the rest to the API); the answer says to give a log.
"""

from __future__ import annotations

import math

import numpy as np

from .catalog import load_catalog, normalize_key
from .errors import InputError
from .finance import hourly_usage
from .planner import DEFAULT_ASSUMPTIONS, SECONDS_PER_DAY, plan, rank
from .record import Record

def served_share(levels, shares, capacity):
    """Share of the tokens a capacity serves under a load-duration curve. [unitless]

    Parameters
    ----------
    levels : array
        Load levels. [tokens s⁻¹]
    shares : array
        Share of the time at each level (sums to 1). [unitless]
    capacity : array
        Capacities to evaluate. [tokens s⁻¹]

    Notes
    -----
    served = Σ shareᵢ × min(levelᵢ, C) / Σ shareᵢ × levelᵢ — the tokens above C go elsewhere.
    """
    levels, shares = np.asarray(levels, float), np.asarray(shares, float)
    capacity = np.asarray(capacity, float)[:, None]
    return (shares * np.minimum(levels, capacity)).sum(axis=1) / (shares * levels).sum()


def hybrid(tokens_per_day, pattern, model, platform, gpu=None, burst_platform=None, *, usage=None, period=None,
           input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, precision=None, tp=None,
           catalog=None, assumptions=None):
    """The cheapest split of a workload between own GPUs and a per-token API.

    Parameters
    ----------
    tokens_per_day : float or None
        Daily volume [tokens day⁻¹]; None takes the usage log's.
    pattern : str
        Traffic pattern (its efficiency and batch multiplier size the own GPUs; its mean and peak shape the
        load when no usage log is given).
    model, platform, gpu :
        The model, and the GPU offering of the own GPUs (billed every hour of the month).
    burst_platform : str, optional
        The per-token offering for the tokens above the own GPUs; default: the cheapest that serves the model.
    usage : DataFrame, CSV path or rows, optional
        A usage log (`atlas_xl.pattern_from_usage`): its hourly tokens, scaled to ``tokens_per_day``, are the load.
    input_tokens, output_tokens, ttft_ms, tpot_ms, precision, tp :
        As `atlas_xl.plan` (the own GPUs' serving conditions; the API price follows the request shape).

    Returns
    -------
    Record
        ``monthly_cost_usd``, ``own_gpu_count``, ``own_share`` and ``api_share`` of the tokens,
        ``own_monthly_usd``, ``api_monthly_usd``, the one-sided costs ``own_only_usd`` and ``api_only_usd`` under
        the same load, ``saving_usd`` against the cheaper of them, the offerings and prices used, ``load``
        (where the load shape came from) and ``note``.
    """
    cat = load_catalog(catalog)
    a = assumptions or DEFAULT_ASSUMPTIONS
    if usage is not None:
        hourly, _ = hourly_usage(usage, period=period)
        if tokens_per_day is None:
            tokens_per_day = float(hourly.sum() / hourly.size * 24.0)
    elif tokens_per_day is None:
        raise InputError("tokens_per_day is missing — give a daily volume or a usage log")
    serving = dict(input_tokens=input_tokens, output_tokens=output_tokens, ttft_ms=ttft_ms, tpot_ms=tpot_ms,
                   precision=precision, tp=tp)
    own = plan(tokens_per_day, pattern, model, platform, gpu, billing="dedicated", catalog=cat, assumptions=a,
               **serving)
    api = _api(tokens_per_day, pattern, model, burst_platform, input_tokens, output_tokens, cat, a)
    mean = tokens_per_day / SECONDS_PER_DAY
    if usage is not None:
        levels = hourly / hourly.mean() * mean
        shares = np.full(levels.size, 1.0 / levels.size)
        load = f"usage log: {hourly.size} hours scaled to {tokens_per_day:,.0f} tokens/day"
    else:
        p = cat.pattern(pattern)
        peak = mean / p.active_ratio * p.burst_factor
        spike = p.active_ratio / p.burst_factor
        levels, shares = np.array([peak, 0.0]), np.array([spike, 1.0 - spike])
        load = (f"pattern {normalize_key(pattern)}: the peak {peak:,.0f} tokens/s for {spike:.1%} of hours, "
                f"nothing otherwise (the spikiest load with its mean and peak)")
    per_gpu = own.effective_gpu_tokens_per_s * a.target_utilization  # what one GPU serves at the target
    replica = own.replica_gpus
    full = math.ceil(levels.max() / per_gpu / replica) * replica  # own GPUs for the whole peak
    counts = np.arange(0.0, full + replica / 2, replica)
    share = served_share(levels, shares, counts * per_gpu)
    monthly_tokens = tokens_per_day * a.days_per_month
    own_usd = counts * own.hourly_usd * a.hours_per_month
    api_usd = (1.0 - share) * monthly_tokens / 1e6 * api.price_per_m_tokens
    total = own_usd + api_usd
    best = int(np.argmin(total))
    one_sided = min(total[0], total[-1])
    note = "" if usage is not None else ("a pattern fixes only the mean and the peak: give a usage log (usage=, "
                                          "--usage) for the split your load allows")
    return Record(
        monthly_cost_usd=float(total[best]), own_gpu_count=float(counts[best]), own_share=float(share[best]),
        api_share=float(1.0 - share[best]), own_monthly_usd=float(own_usd[best]), api_monthly_usd=float(api_usd[best]),
        own_only_usd=float(total[-1]), api_only_usd=float(total[0]), saving_usd=float(one_sided - total[best]),
        platform=own.platform, gpu=own.gpu, hourly_usd=own.hourly_usd, replica_gpus=replica,
        own_tokens_per_s_per_gpu=per_gpu, burst_platform=api.platform, price_per_m_tokens=api.price_per_m_tokens,
        tokens_per_day=float(tokens_per_day), load=load, note=note)


def _api(tokens_per_day, pattern, model, burst_platform, input_tokens, output_tokens, cat, a):
    """The per-token plan of the tokens above the own GPUs: the named offering, or the cheapest."""
    shape = dict(input_tokens=input_tokens, output_tokens=output_tokens)
    if burst_platform is not None:
        return plan(tokens_per_day, pattern, model, burst_platform, billing="per_token", catalog=cat, assumptions=a,
                    **shape)
    ranked = rank(tokens_per_day, pattern, model, catalog=cat, assumptions=a, **shape)
    apis = ranked[ranked.billing == "per_token"]
    if apis.empty:
        raise InputError(f"no per-token offering serves {model} — give burst_platform, or add a per-token row "
                         "to offerings.csv")
    return plan(tokens_per_day, pattern, model, apis.iloc[0].platform, billing="per_token", catalog=cat,
                assumptions=a, **shape)
