"""Serving-model speed: prints numbers against the targets (run on demand, not a test).

    python benchmarks/bench_serving.py

Target (issues 9, 17 and 21): one scalar estimate() ≤ 100 µs, for mixture-of-experts models too, on the first
call for a new shape (uncached). estimate() caches its results by argument content (catalog fingerprint
included), so a workbook or a planner that asks again pays a lookup; the first call for a new combination
solves the model over every tensor-parallel size and a concurrency grid.

The machine is shared and noisy: each figure is also given as a multiple of a plain-Python reference timed in
the same run (bench_planner.bare_python, the planner's equations for one workload), so a slow figure with the
usual multiple means a busy machine, not slower code.
"""
import time

from bench_planner import bare_python, median_seconds

import atlas_xl
from atlas_xl import calibration, disaggregated, serving


def row(name, seconds, target, unit="µs", scale=1e6, reference=None):
    verdict = "OK" if seconds <= target else "SLOW"
    beside = f"  = {seconds / reference:6.1f}x reference" if reference else ""
    print(f"{name:<56} {seconds * scale:>10.1f} {unit:<3} target {target * scale:>8.1f} {unit:<3} "
          f"ratio {seconds / target:5.2f}  {verdict}{beside}")


def uncached(model, gpu, **kwargs):
    serving._CACHE.clear()
    return atlas_xl.estimate(model, gpu, **kwargs)


def main():
    cat = atlas_xl.load_catalog()
    atlas_xl.estimate("llama_70b", "h100_sxm")  # anchors computed once per catalog
    reference = median_seconds(lambda: bare_python(2e9, 3818.8, 2.69), repeat=7, number=20000)
    print(f"{'reference: bench_planner.bare_python, one workload':<56} {reference * 1e6:>10.3f} µs")
    for model, gpu in (("llama_70b", "h100_sxm"), ("llama_8b", "a100_80gb"), ("deepseek_r1", "b200"),
                       ("gpt_oss_120b", "b200"), ("qwen3_235b_a22b", "h200"), ("mixtral_8x7b", "h100_sxm")):
        moe = " (MoE)" if cat.model_specs[model]["experts"] > 0 else ""
        row(f"estimate() {model}{moe} on {gpu}, first call", median_seconds(lambda: uncached(model, gpu), 7, 200),
            100e-6, reference=reference)
    row("estimate() repeated call (cached)", median_seconds(lambda: atlas_xl.estimate("llama_70b", "h100_sxm"), 7, 5000),
        100e-6, reference=reference)
    def disaggregated_uncached():
        disaggregated._CACHE.clear()
        return atlas_xl.estimate_disaggregated("deepseek_r1", "b200", tpot_ms=30, ttft_ms=5000)
    row("estimate_disaggregated() deepseek_r1 on b200, first call", median_seconds(disaggregated_uncached, 7, 20),
        200e-6)
    row("estimate_disaggregated() repeated call (cached)",
        median_seconds(lambda: atlas_xl.estimate_disaggregated("deepseek_r1", "b200", tpot_ms=30, ttft_ms=5000),
                       7, 5000), 200e-6)
    row("plan() with the serving model (cached estimate)",
        median_seconds(lambda: atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm"), 7, 2000), 10e-6,
        reference=reference)
    row("rank() over the whole catalog (cached estimates)",
        median_seconds(lambda: atlas_xl.rank(2e9, "steady", "llama_70b"), 7, 50), 1e-3, "ms", 1e3,
        reference=reference)
    points = cat.tables["serving_benchmarks"]
    prepared = calibration._prepare(cat, points)
    seconds = median_seconds(lambda: calibration.predict(cat, prepared, {}), 5, 5)
    print(f"{'model over all ' + str(len(points)) + ' benchmark points (one pass)':<52} {seconds * 1e3:>10.1f} ms")
    start = time.perf_counter()
    calibration.fit(points, cat)
    print(f"{'one fit (least squares)':<52} {time.perf_counter() - start:>10.2f} s")


if __name__ == "__main__":
    main()
