"""Multi-phase schedules: one simulation per phase, aggregated by duration (spec section 7)."""
from __future__ import annotations

import math

from .catalog import load_catalog, normalize_key
from .errors import InputError
from .values import check_arguments
from .simulator import DEFAULT_USD_PER_KWH, DEFAULT_WORKLOAD, Record, flatten, parse_overrides, simulate

WEIGHTED = ("tokens_per_sec", "flop_utilization", "hbm_bw_util", "comm_compute_ratio", "step_time_ms",
            "p50_ms", "p95_ms", "p99_ms", "ttft_ms", "node_power_w", "cluster_power_w",
            "energy_cost_per_hour_usd", "hourly_cost_usd")
"""Metrics aggregated as duration-weighted means (spec 7 and 4.3)."""
LATENCIES = ("p50", "p95", "p99", "ttft")


def duration_weighted_mean(values, weights):
    """Σ wᵢ·xᵢ / Σ wᵢ (spec 7); inf when any phase is inf (a saturated phase is never averaged away)."""
    total = sum(weights)
    if total <= 0:
        raise InputError("phase durations must add up to more than 0 minutes")
    if any(math.isinf(v) for v in values):
        return math.inf
    return sum(w * v for w, v in zip(weights, values)) / total


def schedule_phases(workload, cat):
    """The phases of a workload: catalog rows, or ``schedule.phases`` of a dict workload."""
    if isinstance(workload, dict):
        phases = (workload.get("schedule") or {}).get("phases")
        if phases is not None:
            return [{"phase": normalize_key(p.get("name", f"phase_{i + 1}")),
                     "duration_minutes": p.get("duration_minutes"), "tokens_scale": p.get("tokens_scale", 1.0),
                     "autoscale_factor": p.get("autoscale_factor", 1.0),
                     "request_profile": normalize_key(p.get("request_profile", "")),
                     "overrides": flatten(p.get("overrides") or {})} for i, p in enumerate(phases)]
        name = normalize_key(workload.get("name", workload.get("workload", "")))
    else:
        name = normalize_key(workload)
    rows = cat.phases.get(name, [])
    return [dict(row, overrides=parse_overrides(row.get("overrides"))) for row in rows]


def run_schedule(target=None, workload=None, knobs=None, *, seed=0, catalog=None, hardware=None,
                 usd_per_kwh=DEFAULT_USD_PER_KWH, pue=None):
    """Simulate every phase of a workload's schedule and aggregate by duration.

    A workload without phases runs as one phase of 60 minutes. Phase i uses seed + i.

    Returns
    -------
    Record
        The aggregated metrics (duration-weighted means; ``dollar_per_1k_tokens`` is total cost
        over total tokens), ``service_latency_ms`` / ``queue_latency_ms`` / ``queue_wait_ms``
        dicts per percentile, ``queue_utilization``, ``saturated`` (any phase), and ``phases``:
        the per-phase records with their ``phase`` name and ``duration_minutes``.
    """
    check_arguments(seed=seed, usd_per_kwh=usd_per_kwh, pue=pue)  # docs/limits.md
    cat = load_catalog(catalog)
    workload = workload or DEFAULT_WORKLOAD
    phases = schedule_phases(workload, cat) or [
        {"phase": "single", "duration_minutes": 60.0, "tokens_scale": 1.0, "autoscale_factor": 1.0,
         "request_profile": "", "overrides": {}}]
    records = []
    for i, phase in enumerate(phases):
        for field in ("duration_minutes", "tokens_scale", "autoscale_factor"):
            value = phase.get(field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise InputError(f"phase '{phase['phase']}': {field} must be a number greater than 0, not {value!r}")
        record = simulate(target, workload if not isinstance(workload, dict) else
                          {k: v for k, v in workload.items() if k != "schedule"}, knobs, seed=seed + i,
                          hardware=hardware, catalog=cat, usd_per_kwh=usd_per_kwh, pue=pue, _phase=phase)
        record.update(phase=phase["phase"], duration_minutes=float(phase["duration_minutes"]),
                      tokens_scale=float(phase["tokens_scale"]), autoscale_factor=float(phase["autoscale_factor"]))
        records.append(record)
    weights = [r.duration_minutes for r in records]

    def mean(key):
        return duration_weighted_mean([r[key] for r in records], weights)

    aggregated = Record({key: mean(key) for key in WEIGHTED})
    hours = [w / 60.0 for w in weights]
    cost = sum(h * (r.hourly_cost_usd + r.energy_cost_per_hour_usd) for h, r in zip(hours, records))
    tokens = sum(h * 3600.0 * r.tokens_per_sec for h, r in zip(hours, records))
    first = records[0]
    aggregated.update(
        target=first.target, workload=first.workload, mode=first.mode, seed=seed, phase_count=len(records),
        duration_minutes=sum(weights), total_tokens=tokens, total_cost_usd=cost,
        dollar_per_1k_tokens=cost / tokens * 1000.0,
        service_latency_ms={p: mean(f"{p}_service_ms") for p in LATENCIES},
        queue_latency_ms={p: mean(f"{p}_ms") for p in LATENCIES},
        queue_wait_ms={"mean": _mean_nan(records, "queue_wait_ms", weights),
                       **{p: _mean_nan(records, f"queue_wait_{p}_ms", weights) for p in ("p50", "p95", "p99")}},
        queue_utilization=_mean_nan(records, "queue_utilization", weights),
        saturated=any(r.saturated for r in records),
        phases=records,
    )
    return aggregated


def _mean_nan(records, key, weights):
    values = [r[key] for r in records]
    return math.nan if any(isinstance(v, float) and math.isnan(v) for v in values) else duration_weighted_mean(values, weights)
