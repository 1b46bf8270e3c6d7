"""Finance speed: prints numbers and ratios against the targets of issues 14, 20 and 21 (run on demand, not a test).

    python benchmarks/bench_finance.py
"""
import time

import numpy as np
import pandas as pd

import atlas_xl
from atlas_xl import finance, sweeps
from bench_planner import beside, median_seconds  # benchmarks/ is on sys.path when this script runs

WORKLOAD = ("bursty", "llama_70b", "runpod", "h100_sxm")
TEMPLATE = (2e9, "steady", "llama_70b", "runpod", "h100_sxm")  # the template's Inputs (workbook/sheets.py INPUTS)
TEMPLATE_BAND = dict(latency_ms=250, monthly_growth=0.05, start="2027-01", percentiles=(10, 90))  # its Forecast band


def row(name, seconds, target, unit="ms", scale=1e3):
    verdict = "OK" if seconds <= target else "SLOW"
    print(f"{name:<52} {seconds * scale:>10.3f} {unit:<3} target {target * scale:>8.3f} {unit:<3} "
          f"ratio {seconds / target:5.2f}  {verdict}")


def main():
    atlas_xl.load_catalog()  # load once, as any long-running process would
    row("forecast() 36 months, 720-h months",
        median_seconds(lambda: finance.forecast(2e9, *WORKLOAD, months=36, monthly_growth=0.05), 7, 50), 1e-3)
    row("forecast() 36 calendar months",
        median_seconds(lambda: finance.forecast(2e9, *WORKLOAD, months=36, monthly_growth=0.05, start="2027-01"),
                       7, 50), 1e-3)
    row("cost_range() 10,000 draws",
        median_seconds(lambda: finance.cost_range(2e9, *WORKLOAD, throughput_error=0.15, price_spread=0.1,
                                                  volume_spread=0.2), 7, 10), 50e-3)
    row("breakeven() together vs runpod/h100_sxm",
        median_seconds(lambda: finance.breakeven("steady", "llama_70b", "together", "runpod/h100_sxm"), 7, 10), 5e-3)

    # issue 20: period totals and the commitment advisor (targets: interactive in a worksheet cell, < 1 s)
    row("cost_range_periods() 36 months, 10,000 draws",
        median_seconds(lambda: finance.cost_range_periods(2e9, *WORKLOAD, months=36, monthly_growth=0.03,
                                                          start="2027-01", fiscal_year_start_month=4,
                                                          volume_spread=0.2), 3, 1), 1.0)
    row("commit_advice() 36 months, 2,000 draws, 1 term",
        median_seconds(lambda: finance.commit_advice(2e9, *WORKLOAD, months=36, monthly_growth=0.03,
                                                     volume_spread=0.2), 3, 1), 1.0)
    row("breakeven() together:per_token vs runpod/h100_sxm:2.10",
        median_seconds(lambda: finance.breakeven("steady", "llama_70b", "together:per_token",
                                                 "runpod/h100_sxm:2.10"), 7, 10), 5e-3)

    # issue 21: the template's ATLAS_SENSITIVITY (8 changed patterns, 16 plans) and its 24-month P10/P90 band
    start = time.perf_counter()
    finance.sensitivity(*TEMPLATE, latency_ms=250)  # first call: every changed pattern is new to the caches
    row("sensitivity() template, first call (was 440-900 ms)", time.perf_counter() - start, 50e-3)
    mine, plans = beside(lambda: finance.sensitivity(*TEMPLATE, latency_ms=250),
                         lambda: [atlas_xl.plan(*TEMPLATE, latency_ms=250) for _ in range(17)], 7, 5)
    row("sensitivity() template, again", mine, 50e-3)
    row("  reference: the 17 scalar plan() calls it makes", plans, 50e-3)
    months = range(1, 25)
    one, each = beside(lambda: finance.cost_range_months(*TEMPLATE, months=months, **TEMPLATE_BAND),
                       lambda: [finance.cost_range(*TEMPLATE, month=m, **TEMPLATE_BAND) for m in months], 7, 1)
    row("cost_range_months() 24 months, 10,000 draws", one, each)
    row("  reference: cost_range() once per month (24 calls)", each, each)

    rng = np.random.default_rng(0)
    n = 20_000
    table = pd.DataFrame({"tokens_per_day": rng.uniform(1e7, 1e10, n),
                          "pattern": rng.choice(["steady", "bursty", "business_hours"], n), "model": "llama_70b",
                          "platform": rng.choice(["runpod", "lambda", "together"], n), "gpu": "", "months": 12,
                          "monthly_growth": rng.uniform(0, 0.1, n)})
    table.loc[table.platform != "together", "gpu"] = "h100_sxm"
    months = int(table["months"].sum())
    seconds = median_seconds(lambda: sweeps.sweep(table, workers=1, chunk_size=n), 3, 1)
    rate = months / seconds
    print(f"{'sweep() one core, scenario-months per second':<52} {rate:>10,.0f}     target  100,000     "
          f"ratio {100_000 / rate:5.2f}  {'OK' if rate >= 100_000 else 'SLOW'}")


if __name__ == "__main__":
    main()
