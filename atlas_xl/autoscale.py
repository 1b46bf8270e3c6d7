"""Autoscaling dynamics of a plan: cold starts, a warm pool, and the minutes above the latency limit while
replicas start (issue 19 item 3).

The planner prices autoscaling as active hours × rate, as if capacity appeared the moment traffic did. A new
replica first loads its weights and starts its engine; until then the traffic above the warm capacity waits.

* cold start = weights ÷ load bandwidth + engine start, per replica;
* a warm pool of ``min_replicas`` replicas stays up through the hours without traffic (paid) and serves the
  first load of each ramp without waiting;
* each ramp (the pattern's ``ramps_per_week``, or yours) that needs more than the warm pool spends one cold
  start above the limit.

The cold start itself (`cold_start_s`, `LOAD_GB_S`, `ENGINE_START_S`) lives in `atlas_xl.running`, below the
planner, which fills ``cold_start_s`` and ``warm_replicas`` into every plan.

Defaults, measured (Tensorfuse, "Reducing GPU cold start", vLLM serving Llama-3.1-8B-Instruct on L40S, with the
model and compile caches on a shared volume: https://tensorfuse.io/docs/blogs/reducing_gpu_cold_start):
weight loading 18 s for the model's 16.1 GB of BF16 weights → `LOAD_GB_S`; Dynamo bytecode transform 10 s +
graph compilation 13 s + graph capture 7 s + engine init and imports 34 s → `ENGINE_START_S`. Without caches
the same start took 294 s (a 61 s download, 200 s of engine start): give ``engine_start_s`` for yours.
"""

from __future__ import annotations

import math

from .arith import is_array
from .catalog import load_catalog
from .errors import InputError
from .planner import DEFAULT_ASSUMPTIONS, serving_estimate
from .record import Record
from .running import ENGINE_START_S, LOAD_GB_S, cold_start_s  # noqa: F401  (atlas_xl.autoscale.LOAD_GB_S as before)
from .values import check_arguments

HOURS_PER_MONTH = DEFAULT_ASSUMPTIONS.hours_per_month
WEEKS_PER_MONTH = HOURS_PER_MONTH / 168.0


def warm_pool_usd(min_replicas, replica_gpus, hourly_usd, idle_hours_per_month):
    """What a warm pool costs through the hours without traffic. [USD month⁻¹]

    Notes
    -----
    cost = min_replicas × replica GPUs × hourly rate × (720 − active hours); in active hours the pool is part of
    the plan's GPUs and already paid.
    """
    return min_replicas * replica_gpus * hourly_usd * idle_hours_per_month


def late_minutes_per_month(ramps_per_week, cold_start_seconds):
    """Minutes a month in which part of the load waits for starting replicas. [min month⁻¹]

    Notes
    -----
    late = ramps per week × 720/168 × cold start / 60, for ramps that need more than the warm pool.
    """
    return ramps_per_week * WEEKS_PER_MONTH * cold_start_seconds / 60.0


def scaling(plan_result, *, min_replicas=0, ramps_per_week=None, load_gb_s=None, engine_start_s=None, catalog=None):
    """Cold start, warm pool and late minutes of a plan on an autoscaling offering.

    Parameters
    ----------
    plan_result : atlas_xl.PlanResult
        A scalar plan (`atlas_xl.plan`) on GPUs.
    min_replicas : int
        Replicas kept warm through the hours without traffic (at most the plan's replicas).
    ramps_per_week : float, optional
        Times a week the load rises from quiet to active [1/week]; default the pattern's ``ramps_per_week``.
    load_gb_s, engine_start_s : float, optional
        The platform's weight load bandwidth [GB/s] and engine start [s] (defaults `LOAD_GB_S`, `ENGINE_START_S`).

    Returns
    -------
    Record
        ``cold_start_s``, ``warm_replicas``, ``replicas``, ``warm_pool_usd`` (per month), ``monthly_cost_usd`` (the
        plan's plus the warm pool), ``late_minutes_per_month``, ``late_capacity_share`` (the share of the peak's
        replicas that start cold during a ramp: 1 − warm ÷ replicas), ``ramps_per_week`` and ``note``. A dedicated plan
        is warm all month (no cold start after the first); a per-token plan has no replicas of yours.
    """
    check_arguments(load_gb_s=load_gb_s, engine_start_s=engine_start_s, min_replicas=min_replicas,
                    ramps_per_week=ramps_per_week)  # docs/limits.md
    p = plan_result
    cat = load_catalog(catalog)
    if p.billing == "per_token" or not p.gpu:
        raise InputError(f"{p.platform} bills per token: there are no replicas of yours to start — pick a GPU offering")
    if is_array(p.gpu_count):
        raise InputError("scaling takes one plan — call plan with one tokens_per_day")
    replicas = p.gpu_count / p.replica_gpus
    warm = float(min_replicas)
    if warm > replicas:
        raise InputError(f"min_replicas {warm:g} is more than the plan's {replicas:g} replicas — give at most "
                         f"{replicas:g}")
    est = serving_estimate(p, cat)
    start = cold_start_s(est.weights_gb, LOAD_GB_S if load_gb_s is None else float(load_gb_s),
                         ENGINE_START_S if engine_start_s is None else float(engine_start_s))
    if p.billing == "dedicated":
        return Record(cold_start_s=start, warm_replicas=replicas, replicas=replicas, warm_pool_usd=0.0,
                      monthly_cost_usd=p.monthly_cost_usd, late_minutes_per_month=0.0, late_capacity_share=0.0,
                      ramps_per_week=0.0,
                      note="dedicated: every replica stays up all month, so no ramp waits for a start")
    ramps = ramps_per_week if ramps_per_week is not None else _pattern_ramps(cat, p.pattern)
    note = ""
    if ramps is None:
        ramps, note = math.nan, (f"pattern {p.pattern} gives no ramps_per_week — give ramps_per_week for the late "
                                 "minutes")
    pool = warm_pool_usd(warm, p.replica_gpus, p.hourly_usd, HOURS_PER_MONTH - p.active_hours_per_month)
    late = 0.0 if warm >= replicas else late_minutes_per_month(float(ramps), start)
    return Record(cold_start_s=start, warm_replicas=warm, replicas=replicas, warm_pool_usd=pool,
                  monthly_cost_usd=p.monthly_cost_usd + pool, late_minutes_per_month=late,
                  late_capacity_share=1.0 - warm / replicas, ramps_per_week=float(ramps), note=note)


def _pattern_ramps(cat, pattern):
    table = cat.tables["patterns"]
    if "ramps_per_week" not in table.columns:
        return None
    value = table.loc[table.pattern == pattern, "ramps_per_week"]
    return None if value.empty or value.isna().iloc[0] else float(value.iloc[0])
