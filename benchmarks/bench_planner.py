"""Planner speed: prints numbers and ratios against the targets (run on demand, not a test).

    python benchmarks/bench_planner.py

The machine is shared and noisy, so every figure is timed beside a reference computed in the same run —
the same planner equations written as one plain-Python function (`bare_python`) or one numpy expression
(`bare_numpy`) — and printed with its ratio to that reference. Targets (issue 21): a scalar plan() ≤ 10 µs,
rank() ≤ 1 ms, plan() over 1,000,000 workloads ≤ 2× the bare numpy expression. A slow absolute figure whose
ratio to the reference is as usual says the machine was busy, not that the code got slower.
"""
import math
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


def beside(fn, reference, repeat, number):
    """Median seconds of ``fn`` and of ``reference`` timed alternately (so that both see the same load)."""
    mine, theirs = [], []
    for _ in range(repeat):
        mine.append(median_seconds(fn, 1, number))
        theirs.append(median_seconds(reference, 1, number))
    return statistics.median(mine), statistics.median(theirs)


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


def bare_python(tpd, tps, hourly):
    """`bare_numpy` for one workload in plain Python floats: the reference of the scalar figures."""
    peak = tpd / 86_400.0 / 0.4 * 3.0
    ratio = peak / (tps * 0.7 * 1.35)
    count = max(math.ceil(round(ratio / 0.75, 9)), 1)
    after = ratio / count
    cost = 720.0 * hourly * count
    waste = (720.0 - 288.0) * hourly * count
    penalty = ((after - 0.9) / 0.1 * 20_000.0 if after > 0.9 else 0.0) + (30_000.0 if after > 0.75 else 0.0)
    return cost, penalty, waste / cost, cost / (tpd * 30.0) * 1e6


def row(name, seconds, target, unit="s", scale=1.0, reference=None):
    """One figure: its value, the target, and, with ``reference`` (seconds of the reference timed in the same
    run), how many references it costs."""
    verdict = "OK" if seconds <= target else "SLOW"
    beside = f"  = {seconds / reference:6.1f}x reference" if reference else ""
    print(f"{name:<52} {seconds * scale:>9.3f} {unit:<3} target {target * scale:>8.3f} {unit:<3} "
          f"ratio {seconds / target:5.2f}  {verdict}{beside}")


def main():
    atlas_xl.load_catalog()  # load once, as any long-running process would
    plan_target = 10e-6
    one = lambda: bare_python(2e9, 3818.8, 2.69)  # noqa: E731
    scalars = (
        ("plan() one scalar workload (steady, least-cost tp)",
         lambda: atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm")),
        ("plan() bursty, latency_ms=250",
         lambda: atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250)),
        ("plan() one scalar workload, tp given",
         lambda: atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250, tp=4)),
        ("plan() precision='best' (tp x precision)",
         lambda: atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "b200", latency_ms=250, precision="best")),
        ("plan() with a fixed gpu_count",
         lambda: atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250, gpu_count=6)))
    for name, fn in scalars:
        seconds, reference = beside(fn, one, repeat=7, number=2000)
        row(name, seconds, plan_target, "µs", 1e6, reference)
    print(f"{'':<52} (reference: bare_python, one workload, timed alternately: {reference * 1e6:.2f} µs)")
    rows = len(atlas_xl.rank(2e9, "steady", "llama_70b"))
    ranking, reference = beside(lambda: atlas_xl.rank(2e9, "steady", "llama_70b"),
                                lambda: [bare_python(2e9, 3818.8, 2.69) for _ in range(rows)], repeat=7, number=50)
    row(f"rank() over the whole catalog ({rows} offerings)", ranking, 1e-3, "ms", 1e3, reference)
    print(f"{'':<52} (reference: bare_python once per offering)")

    rng = np.random.default_rng(0)
    tpd = rng.uniform(1e6, 1e11, 1_000_000)
    tps = np.full_like(tpd, 3818.8)
    vector, bare = beside(lambda: atlas_xl.plan(tpd, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250,
                                                 gpu_tokens_per_s=3818.8), lambda: bare_numpy(tpd, tps, 2.69), 7, 1)
    print(f"{'reference: bare_numpy, 1,000,000 workloads':<52} {bare:>9.3f} s")
    row("plan() over 1,000,000 workloads (arrays)", vector, 2 * bare, "s", 1.0, bare)
    sized = median_seconds(lambda: atlas_xl.plan(tpd, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250),
                           repeat=5, number=1)
    row("plan() over 1,000,000 workloads, least-cost tp each", sized, 0.3, "s", 1.0, bare)
    check = atlas_xl.plan(tpd[:1000], "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250,
                          gpu_tokens_per_s=3818.8)
    cost, penalty, _, _ = bare_numpy(tpd[:1000], tps[:1000], 2.69)
    np.testing.assert_allclose(check.monthly_cost_usd, cost)
    np.testing.assert_allclose(check.penalty_usd, penalty)
    single = atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250, gpu_tokens_per_s=3818.8)
    np.testing.assert_allclose([single.monthly_cost_usd, single.penalty_usd], bare_python(2e9, 3818.8, 2.69)[:2])


if __name__ == "__main__":
    main()
