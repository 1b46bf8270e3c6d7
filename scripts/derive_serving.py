"""Derive the serving model's measurement tables from shared/data, then fit it.

    python scripts/derive_serving.py ../shared/data

Writes
* catalogs/serving_benchmarks.csv — the calibration and back-test points: MLPerf Inference
  Server/Interactive/Offline (lower median of the newest round's submissions per GPU, model,
  precision and scenario), TensorRT-LLM ``trtllm-bench`` max-load tables (fixed input/output
  lengths) and SemiAnalysis InferenceX DeepSeek-R1 sweeps (single node, no speculative decoding,
  no disaggregation, no attention data parallelism). Output tokens/s per GPU, with the latency
  limits the benchmark imposed (p99), the request shape, and the row's source.
* catalogs/throughput.csv — the measured anchors: the MLPerf Server point of each GPU/model.
* catalogs/serving_calibration.csv — the fitted factors (`atlas_xl.calibration.fit` on every point).
"""
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts.derive_catalogs import BENCH_GPUS, BENCH_MODELS, as_of_date  # noqa: E402

GPUS = dict(BENCH_GPUS, **{
    "NVIDIA GB200": "gb200", "NVIDIA H200-SXM-141GB-CTS": "h200", "Virtualized NVIDIA H200-SXM-141GB": "h200",
    "AMD MI300X-NPS1-SPX-192GB-750W": "mi300x",
    "H200 SXM 141GB (DGX H200)": "h200", "H100 SXM 80GB (DGX H100)": "h100_sxm", "B200 180GB (DGX B200)": "b200",
    "GB200 192GB (GB200 NVL72)": "gb200",
})
MODELS = dict(BENCH_MODELS, **{
    "Llama-2-70B-chat [llama2-70b-99.9]": "llama_70b",
    "Llama-3.1-8B-Instruct-FP8": "llama_8b",
    "Llama-3.3-70B-Instruct (FP4 on B200/GB200, FP8 on H200/H100)": "llama_70b",
    "Llama-3.1-405B-Instruct (FP4 on B200/GB200, FP8 on H200/H100)": "llama_405b",
})
DATASETS = {"llama_70b": "mlperf_openorca", "llama_8b": "mlperf_cnn_dailymail", "llama_405b": "mlperf_405b_mix"}
"""MLPerf's datasets by model: their mean input length is not in the result logs, so it is fitted."""
INFERENCEX_GPUS = {"h100": "h100_sxm", "h200": "h200", "b200": "b200", "gb200": "gb200", "mi300x": "mi300x",
                   "mi355x": "mi355x", "mi325x": "mi325x"}


def _precision(text, gpu):
    text = str(text).lower()
    for p in ("fp4", "fp8", "fp16", "bf16"):
        if p in text:
            return ("bf16" if p == "fp16" else p), ""
    if gpu == "mi300x":
        return "fp8", "precision not stated in the result; ASSUMED fp8 (AMD's MLPerf Llama-2-70B submissions quantize to FP8)"
    return None, "precision not stated in the result: left out"


def mlperf_points(data):
    bench = pd.read_csv(data / "llm_inference_benchmarks.csv")
    bench = bench[bench.scenario.str.contains("MLPerf", na=False) & bench.gpu.isin(GPUS) & bench.model.isin(MODELS)]
    bench = bench.drop_duplicates(subset=["source"]).copy()
    bench["gpu_key"], bench["model_key"] = bench.gpu.map(GPUS), bench.model.map(MODELS)
    bench["round"] = bench.scenario.str.extract(r"(v\d+\.\d+)")[0]
    bench["kind"] = bench.scenario.str.extract(r"closed (\w+)")[0].str.lower()
    prec = [_precision(p, g) for p, g in zip(bench.precision, bench.gpu_key)]
    # v4.x result JSONs state weight_data_types=fp16 for the vendors' own submissions that quantized (NVIDIA's
    # v4.1 Llama-2-70B on H100/H200 ran TensorRT-LLM FP8, the B200 preview FP4, AMD's MI300X vLLM FP8): relabel
    # those, say so in the notes; partners' PCIe submissions (H100 PCIe, L40S) keep their stated fp16
    relabel = bench["round"].str.startswith("v4") & bench.precision.str.contains("fp16", na=False) \
        & bench.gpu_key.isin(["h100_sxm", "h200", "b200", "mi300x"])
    prec = [(("fp4" if g == "b200" else "fp8"), "round v4.x states fp16 weights; RELABELLED: the submitter "
             "quantized (see derive_serving.py)") if r else pn for pn, g, r in zip(prec, bench.gpu_key, relabel)]
    bench["prec"], bench["prec_note"] = [p for p, _ in prec], [n for _, n in prec]
    bench = bench[bench.prec.notna()]
    limits = bench.notes.str.extract(r"TTFT<=([\d.]+) ms, TPOT<=([\d.]+) ms").astype(float)
    bench["ttft_limit"], bench["tpot_limit"] = limits[0], limits[1]
    bench["out_len"] = bench.output_len.str.extract(r"mean ([\d.]+)")[0].astype(float)
    rows = []
    for (gpu, model, kind, prec), group in bench.groupby(["gpu_key", "model_key", "kind", "prec"]):
        newest = max(group["round"], key=lambda r: tuple(int(x) for x in r[1:].split(".")))
        group = group[group["round"] == newest].sort_values("tokens_per_s_per_gpu")
        pick = group.iloc[(len(group) - 1) // 2]
        rows.append({
            "benchmark": f"mlperf_{kind}", "gpu": gpu, "model": model, "precision": prec, "tp": None,
            "dataset": DATASETS[model], "input_tokens": None, "output_tokens": round(pick.out_len, 1),
            "ttft_ms": pick.ttft_limit if kind != "offline" else None,
            "tpot_ms": pick.tpot_limit if kind != "offline" else None,
            "concurrency": None, "tokens_per_s": round(float(pick.tokens_per_s_per_gpu), 1),
            "source": pick.source, "as_of": as_of_date(pick.date),
            "notes": "; ".join(n for n in (
                f"MLPerf Inference {newest} closed {kind.title()}, lower median of {len(group)} submissions "
                f"(range {group.tokens_per_s_per_gpu.min():.0f}-{group.tokens_per_s_per_gpu.max():.0f})",
                "output tokens/s per accelerator; limits are p99", pick.prec_note) if n),
        })
    return pd.DataFrame(rows)


def trtllm_points(data):
    bench = pd.read_csv(data / "llm_inference_benchmarks.csv")
    bench = bench[bench.scenario.str.contains("trtllm-bench", na=False) & bench.gpu.isin(GPUS) & bench.model.isin(MODELS)]
    rows = []
    for r in bench.itertuples():
        rows.append({
            "benchmark": "trtllm_max_load", "gpu": GPUS[r.gpu], "model": MODELS[r.model],
            "precision": _precision(r.precision, "")[0], "tp": int(r.tp), "dataset": "",
            "input_tokens": int(r.input_len), "output_tokens": int(r.output_len), "ttft_ms": None, "tpot_ms": None,
            "concurrency": None, "tokens_per_s": float(r.tokens_per_s_per_gpu), "source": r.source,
            "as_of": as_of_date(r.date),
            "notes": "TensorRT-LLM trtllm-bench at maximum load (no latency limit); fixed input/output lengths; "
                     "output tokens/s per GPU (total / TP)",
        })
    return pd.DataFrame(rows)


def inferencex_points(data):
    x = pd.read_csv(data / "inferencex_dsr1.csv")
    flag = lambda c: x[c].astype(str).str.lower().eq("true")  # noqa: E731  (booleans with blanks)
    x = x[~flag("disagg") & ~flag("is_multinode") & (x.spec_method == "none") & ~flag("dp_attention")
          & x.gpu.isin(INFERENCEX_GPUS) & ((x.ep == 1) | (x.ep == x.tp))]
    # the best framework at each configuration and concurrency (the thinned sweeps' frontier)
    x = x.sort_values("output_tput_per_gpu_tok_s").drop_duplicates(
        subset=["gpu", "precision", "isl", "osl", "tp", "concurrency"], keep="last")
    rows = []
    for r in x.itertuples():
        rows.append({
            "benchmark": "inferencex", "gpu": INFERENCEX_GPUS[r.gpu], "model": "deepseek_r1",
            "precision": r.precision, "tp": int(r.tp), "dataset": "", "input_tokens": int(r.isl),
            "output_tokens": int(r.osl), "ttft_ms": None, "tpot_ms": None, "concurrency": int(r.concurrency),
            "tokens_per_s": round(float(r.output_tput_per_gpu_tok_s), 2), "source": r.run_url,
            "as_of": as_of_date(r.date),
            "notes": f"SemiAnalysis InferenceX (Apache-2.0, attribution required): DeepSeek-R1-0528 {r.framework} "
                     f"tp={int(r.tp)} ep={int(r.ep)} at {int(r.concurrency)} concurrent clients; median TPOT "
                     f"{r.tpot_median_ms:.1f} ms; {r.source_repo}@{r.source_commit[:8]}",
        })
    return pd.DataFrame(rows)


def main(data_dir):
    from atlas_xl import calibration
    from atlas_xl.catalog import SCHEMAS

    data = Path(data_dir)
    points = pd.concat([mlperf_points(data), trtllm_points(data), inferencex_points(data)], ignore_index=True)
    points = points[points.tokens_per_s > 0]
    points = points.reindex(columns=[c.name for c in SCHEMAS["serving_benchmarks"][0]])
    points.to_csv(ROOT / "catalogs" / "serving_benchmarks.csv", index=False)
    server = points[points.benchmark == "mlperf_server"]
    anchors = server.rename(columns={"tokens_per_s": "tokens_per_s"}).copy()
    anchors = anchors.reindex(columns=[c.name for c in SCHEMAS["throughput"][0]])
    extra = pd.read_csv(ROOT / "scripts" / "throughput_extra.csv")
    throughput = pd.concat([anchors, extra], ignore_index=True).reindex(columns=anchors.columns)
    throughput.to_csv(ROOT / "catalogs" / "throughput.csv", index=False)
    table = calibration.fit_table(points)
    table.to_csv(ROOT / "catalogs" / "serving_calibration.csv", index=False)
    print(f"wrote {len(points)} serving benchmark points, {len(throughput)} anchors, {len(table)} fitted factors")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"))
