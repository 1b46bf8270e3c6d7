"""Worksheet-function speed: prints numbers and ratios against the targets (on demand, not a test).

    python benchmarks/bench_udfs.py
"""
import time

import numpy as np

import atlas_xl
from bench_planner import median_seconds, row
from udfs import functions as f

PLAN = (2e9, "bursty", "llama_70b", "runpod", "h100_sxm", 250)


def main():
    atlas_xl.load_catalog()
    udf = median_seconds(lambda: f.ATLAS_COST(*PLAN), repeat=7, number=2000)
    direct = median_seconds(lambda: atlas_xl.plan(*PLAN[:5], latency_ms=250), repeat=7, number=2000)
    row("ATLAS_COST scalar call, overhead over plan()", udf - direct, 30e-6, "µs", 1e6)
    print(f"{'  ATLAS_COST / plan() time':<44} {udf / direct:>12.2f} x   (ATLAS_COST {udf * 1e6:.1f} µs, "
          f"plan() {direct * 1e6:.1f} µs)")

    volumes = [[v] for v in np.logspace(6, 11, 1000)]
    prices = [list(np.linspace(0.5, 12.0, 1000))]
    start = time.perf_counter()
    grid = f.ATLAS_COST(volumes, *PLAN[1:], None, None, prices)
    seconds = time.perf_counter() - start
    assert len(grid) == 1000 and len(grid[0]) == 1000 and isinstance(grid[500][500], float)
    row("ATLAS_COST over a 1,000 x 1,000 grid", seconds, 1.0, "s")

    small_v, small_p = volumes[::10], [prices[0][::10]]
    one_call = median_seconds(lambda: f.ATLAS_COST(small_v, *PLAN[1:], None, None, small_p), repeat=5, number=1)
    start = time.perf_counter()
    for v in small_v:
        for p in small_p[0]:
            f.ATLAS_COST(v[0], *PLAN[1:], None, None, p)
    scalar_calls = time.perf_counter() - start
    print(f"{'100 x 100 grid: one call vs 10,000 calls':<44} {one_call * 1e3:>9.2f} ms vs {scalar_calls * 1e3:.0f} ms"
          f" = {scalar_calls / one_call:.0f}x faster")


if __name__ == "__main__":
    main()
