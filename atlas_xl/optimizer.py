"""Cumulative hill climbing over the optimization parameters (spec section 9).

Unlike the seed implementation, an accepted change becomes the new base and the search goes on
from it until a full pass over the candidates improves nothing (DESIGN.md, "Corrections").
"""
from __future__ import annotations

import math

from . import arguments
from .catalog import load_catalog
from .errors import InputError
from .values import check_arguments
from .simulator import DEFAULT_USD_PER_KWH, Record, resolve, resolve_knobs, simulate_resolved

MIN_GAIN = 0.03  # accept a change only for more than 3 % throughput (spec 9)


def candidates(start_knobs):
    """The search space of spec 9, as absolute settings: CUDA graphs, GPUDirect RDMA, InfiniBand,
    bare metal, microbatch ×2 and ×4 (of the starting microbatch)."""
    microbatch = start_knobs["microbatch"]
    return [("enable CUDA graphs", {"cuda_graphs": True}),
            ("enable GPUDirect RDMA", {"gpudirect_rdma": True}),
            ("switch to InfiniBand", {"fabric": "ib"}),
            ("switch to bare metal", {"virt": "bare"}),
            (f"microbatch x2 ({microbatch * 2})", {"microbatch": microbatch * 2}),
            (f"microbatch x4 ({microbatch * 4})", {"microbatch": microbatch * 4})]


def is_better(trial, best, sla_p99_ms):
    """Training: > 3 % more throughput. Inference: > 3 % more throughput and P99 under the SLA."""
    gain = trial.tokens_per_sec > best.tokens_per_sec * (1.0 + MIN_GAIN)
    if trial.mode == "training":
        return gain
    return gain and trial.p99_ms < sla_p99_ms


def optimize(target=None, workload=None, knobs=None, *, seed=0, sla_p99_ms=arguments.get("sla_p99_ms").default, catalog=None, hardware=None,
             usd_per_kwh=DEFAULT_USD_PER_KWH, pue=None):
    """Find better optimization parameters by cumulative hill climbing.

    Every trial uses the same seed as the baseline, so a change is judged on its effect, not on
    different noise.

    Returns
    -------
    Record
        ``start_knobs`` and ``best_knobs`` (dicts), ``best`` (the record of the best configuration), ``baseline``
        (the starting record), ``trail`` (accepted steps in order: step, change, knobs,
        tokens_per_sec, p99_ms, gain), ``evaluated`` (number of simulations), ``sla_p99_ms``.
    """
    check_arguments(seed=seed, sla_p99_ms=sla_p99_ms, usd_per_kwh=usd_per_kwh, pue=pue)  # docs/limits.md
    if isinstance(sla_p99_ms, bool) or not isinstance(sla_p99_ms, (int, float)) or not sla_p99_ms > 0:
        raise InputError(f"sla_p99_ms must be a number of milliseconds greater than 0, not {sla_p99_ms!r}")
    cat = load_catalog(catalog)
    t, h, w = resolve(target, workload, hardware, cat)
    start = resolve_knobs(w, knobs, h)
    fabrics = {k.rsplit(".", 1)[1] for k in h if k.startswith("communication.fabric_factors.")}

    def run(k):
        return simulate_resolved(t, h, w, k, seed, cat, usd_per_kwh, pue, {})

    best_knobs, best = dict(start), run(start)
    baseline, trail, evaluated = best, [], 1
    improved = True
    while improved:
        improved = False
        for label, change in candidates(start):
            if all(best_knobs[k] == v for k, v in change.items()):
                continue
            if change.get("fabric") and change["fabric"] not in fabrics:
                continue  # this hardware has no InfiniBand factor
            trial_knobs = {**best_knobs, **change}
            trial = run(trial_knobs)
            evaluated += 1
            if is_better(trial, best, sla_p99_ms):
                trail.append({"step": len(trail) + 1, "change": label, "knobs": dict(trial_knobs),
                              "tokens_per_sec": trial.tokens_per_sec, "p99_ms": trial.p99_ms,
                              "gain": trial.tokens_per_sec / best.tokens_per_sec - 1.0})
                best_knobs, best, improved = trial_knobs, trial, True
    return Record(start_knobs=start, best_knobs=best_knobs, best=best, baseline=baseline, trail=trail, evaluated=evaluated,
                  sla_p99_ms=float(sla_p99_ms),
                  gain=best.tokens_per_sec / baseline.tokens_per_sec - 1.0 if baseline.tokens_per_sec else math.nan)
