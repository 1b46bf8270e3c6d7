"""Planner speed: prints numbers and ratios against the targets (run on demand, not a test).

    python benchmarks/bench_planner.py
"""
import statistics
import time

import numpy as np

import atlas_xl


def median_seconds(fn, repeat, number):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def bare_numpy(tpd, tps, hourly):
    """The same equations as plan() for a dedicated offering with a given throughput per GPU (replicas of
    one GPU), written as one numpy expression."""
    peak = tpd / 86_400.0 / 0.4 * 3.0
    ratio = peak / (tps * 0.7 * 1.35)
    count = np.maximum(np.ceil(np.round(ratio / 0.75, 9)), 1)
    after = ratio / count
    cost = 720.0 * hourly * count
    waste = (720.0 - 288.0) * hourly * count
    penalty = (np.where(after > 0.9, (after - 0.9) / 0.1 * 20_000.0, 0.0)  # replicas of one GPU: no scaling penalty
               + np.where(after > 0.75, 30_000.0, 0.0))
    return cost, penalty, waste / cost, cost / (tpd * 30.0) * 1e6


def row(name, seconds, target, unit="s", scale=1.0):
    value = seconds * scale
    verdict = "OK" if seconds <= target else "SLOW"
    print(f"{name:<44} {value:>12.3f} {unit:<3} target {target * scale:>8.3f} {unit:<3} "
          f"ratio {seconds / target:5.2f}  {verdict}")


def main():
    atlas_xl.load_catalog()  # load once, as any long-running process would
    scalar = median_seconds(lambda: atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm",
                                                  latency_ms=250), repeat=7, number=2000)
    row("plan() one scalar workload (least-cost tp)", scalar, 20e-6, "µs", 1e6)
    given = median_seconds(lambda: atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm",
                                                 latency_ms=250, tp=4), repeat=7, number=2000)
    row("plan() one scalar workload, tp given", given, 20e-6, "µs", 1e6)
    best = median_seconds(lambda: atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "b200", latency_ms=250,
                                                precision="best"), repeat=7, number=2000)
    row("plan() precision='best' (tp x precision)", best, 20e-6, "µs", 1e6)
    fixed = median_seconds(lambda: atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm",
                                                 latency_ms=250, gpu_count=6), repeat=7, number=2000)
    row("plan() with a fixed gpu_count", fixed, 20e-6, "µs", 1e6)
    ranking = median_seconds(lambda: atlas_xl.rank(2e9, "bursty", "llama_70b", latency_ms=250), repeat=7, number=50)
    row("rank() over the whole catalog", ranking, 2e-3, "ms", 1e3)

    rng = np.random.default_rng(0)
    tpd = rng.uniform(1e6, 1e11, 1_000_000)
    tps = np.full_like(tpd, 3818.8)
    vector = median_seconds(lambda: atlas_xl.plan(tpd, "bursty", "llama_70b", "runpod", "h100_sxm",
                                                  latency_ms=250, gpu_tokens_per_s=3818.8), repeat=5, number=1)
    bare = median_seconds(lambda: bare_numpy(tpd, tps, 2.69), repeat=5, number=1)
    row("plan() over 1,000,000 workloads (arrays)", vector, 0.3, "s")
    sized = median_seconds(lambda: atlas_xl.plan(tpd, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250),
                           repeat=5, number=1)
    row("plan() over 1,000,000 workloads, least-cost tp each", sized, 0.3, "s")
    print(f"{'bare numpy expression, same equations':<44} {bare:>12.3f} s   "
          f"plan()/bare = {vector / bare:.2f}x (target <= 3x)  {'OK' if vector <= 3 * bare else 'SLOW'}")
    check = atlas_xl.plan(tpd[:1000], "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250,
                          gpu_tokens_per_s=3818.8)
    cost, penalty, _, _ = bare_numpy(tpd[:1000], tps[:1000], 2.69)
    np.testing.assert_allclose(check.monthly_cost_usd, cost)
    np.testing.assert_allclose(check.penalty_usd, penalty)


if __name__ == "__main__":
    main()
