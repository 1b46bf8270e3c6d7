"""Derive the serving model's measurement tables from shared/data, then fit it.

    python scripts/derive_serving.py ../shared/data

Writes
* catalogs/serving_benchmarks.csv — the calibration and back-test points: MLPerf Inference
  Server/Interactive/Offline (lower median of the newest round's submissions per GPU, model,
  precision and scenario), TensorRT-LLM ``trtllm-bench`` max-load tables (fixed input/output
  lengths) and SemiAnalysis InferenceX DeepSeek-R1 sweeps (single node, no speculative decoding,
  no disaggregation, no attention data parallelism), and the independent runs of
  independent_serving_benchmarks.csv (GPUStack max load, AccelMark single stream; `independent_points`).
  Output tokens/s per GPU, with the latency
  limits the benchmark imposed (p99), the request shape, and the row's source.
* catalogs/throughput.csv — the measured anchors: the MLPerf Server point of each GPU/model.
* catalogs/serving_calibration.csv — the fitted factors (`atlas_xl.calibration.fit` on every point).
"""
import math
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
DATASETS = {"llama_70b": "mlperf_openorca", "llama_8b": "mlperf_cnn_dailymail", "llama_405b": "mlperf_405b_mix",
            "deepseek_r1": "mlperf_deepseek_r1", "gpt_oss_120b": "mlperf_gpt_oss", "mixtral_8x7b": "mlperf_mixtral"}
"""MLPerf's datasets by model. Their mean input length is not in the result logs: it is `MLPERF_INPUT_TOKENS`, from
the datasets' own token counts; the mean output length is measured per submission (`V6_OUTPUT`)."""
PSAP = "https://github.com/openshift-psap/performance-dashboard/blob/{commit}/mlperf-data/summaries/{file}.csv"
GPT_OSS_ISL = ("https://github.com/mlcommons/inference/blob/38420392fc040bbb7de376af587375042d333ea5/language/"
               "gpt-oss-120b/dataset_isl_distribution.png")
MLPERF_INPUT_TOKENS = {  # dataset: (mean input tokens, source)
    "mlperf_openorca": (222.3, PSAP.format(commit="7cd1065d1e2c53ee745cbda08e2a8f13a42c93bb", file="llama2-70b-99")),
    "mlperf_cnn_dailymail": (870.7, PSAP.format(commit="7cd1065d1e2c53ee745cbda08e2a8f13a42c93bb",
                                                file="llama3-1-8b-datacenter")),
    "mlperf_405b_mix": (9428.6, PSAP.format(commit="67033baeaac181a3a35641dd2b86a7cb22d856dd", file="llama3-1-405b")),
    "mlperf_deepseek_r1": (803.8, PSAP.format(commit="7cd1065d1e2c53ee745cbda08e2a8f13a42c93bb", file="deepseek-r1")),
    "mlperf_mixtral": (427.4, PSAP.format(commit="67033baeaac181a3a35641dd2b86a7cb22d856dd", file="mixtral-8x7b")),
    "mlperf_gpt_oss": (5011.0, GPT_OSS_ISL),
}
"""Mean prompt tokens over every sample of the MLCommons dataset files (24 576 OpenOrca, 13 368 CNN/DailyMail, 8 313
Llama-3.1-405B, 4 388 DeepSeek-R1, 15 000 Mixtral samples; each model's tokenizer; to 0.1 token, as the output
lengths), computed here from the per-sample
``input_length`` column of openshift-psap/performance-dashboard's summaries (`PSAP`), which extract the official
files' token counts: their ``output_length`` reproduces MLCommons' published reference means exactly (Llama-3.1-405B
684.68, Mixtral 144.84, DeepSeek-R1 4 043.45 before the 20k cap; mlcommons/inference language/*/README.md), so the
extraction is the datasets'. gpt-oss-120b: the mean of MLCommons' own input-length histogram of its performance
dataset ("GPT-OSS-120B v4 Dataset", 6 396 samples: mean 5 011, median 4 593, 600-15 330 tokens; `GPT_OSS_ISL`), the
dataset v6.0 submissions ran (``build/data/gpt-oss/v4/perf`` and 6 396 queries in their configs, e.g.
closed/Nebius/configs/nebius_b200_n1/Server/gpt-oss-120b.py of mlcommons/inference_results_v6.0)."""
V6_GPUS = (("GB200", "gb200"), ("B200", "b200"), ("H200", "h200"), ("MI300X", "mi300x"), ("MI355X", "mi355x"))
V6_MODELS = {"llama2-70b-99": "llama_70b", "llama2-70b-99.9": "llama_70b", "llama3.1-8b": "llama_8b",
             "llama3.1-405b": "llama_405b", "deepseek-r1": "deepseek_r1", "gpt-oss-120b": "gpt_oss_120b",
             "mixtral-8x7b": "mixtral_8x7b"}
V6_OUTPUT = "mean_output_tokens_per_sample, else tokens_per_s_total / samples_per_s"
"""Where a v6.0 row leaves the mean output length blank (gpt-oss-120b, Llama-3.1-8B), its own log gives it: completed
tokens/s ÷ completed samples/s is the mean output tokens per sample (`mlperf_v6_points`). Where both are logged they
agree within 0.5 % (Llama-2-70B 282.9 / 282.9, DeepSeek-R1 3 739 / 3 743, Llama-3.1-405B 647.1 / 642.8 median);
gpt-oss-120b: 1 307-1 379 tokens (median 1 367 Server, 1 372 Offline, 1 309 Interactive), Llama-3.1-8B 128-129."""
BENCHMARKS = ("mlperf_server", "mlperf_interactive", "mlperf_offline", "trtllm_max_load", "inferencex",
              "inferencex_mtp", "independent_single_stream")
"""The families fitted and back-tested (inferencex_mtp: InferenceX rows with multi-token-prediction speculative
decoding, predicted with speculative='mtp'; independent_single_stream: AccelMark runs of one sequence alone,
`independent_points`). GPUStack's max-load runs (`independent`) are derived but left out: each is one burst of
100-1 000 prompts on an engine whose batch ceiling (vLLM ``max_num_seqs``, ``max_num_batched_tokens``) the rows do
not log, and a document's variants of one configuration spread 3.4× (gpt-oss-120b on one H100: 866-2 942 tokens/s
per GPU); fitted and back-tested with the rest they had a leave-one-GPU-out MAPE of 121 % (the model at the
engines' 4 096-sequence ceiling, 3-15× above the default-configured runs), so they ask a question the rows do
not state."""
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


def mlperf_rows(data):
    """The MLPerf rows of llm_inference_benchmarks.csv (v4.x-v5.1), one per submission."""
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
    bench = bench.rename(columns={"tokens_per_s_per_gpu": "per_gpu"})[
        ["gpu_key", "model_key", "kind", "prec", "prec_note", "round", "per_gpu", "out_len", "ttft_limit", "tpot_limit",
         "source", "date"]]
    return bench


def mlperf_v6_points(data):
    """MLPerf Inference v6.0 rows in the shape of `mlperf_rows` (power-capped systems left out)."""
    v6 = pd.read_csv(data / "mlperf_v6_0.csv")
    gpu = [next((k for name, k in V6_GPUS if name in str(a)), None) for a in v6.accelerator]
    v6 = v6.assign(gpu_key=gpu, model_key=v6.benchmark.map(V6_MODELS))
    v6 = v6[v6.gpu_key.notna() & v6.model_key.notna() & ~v6.accelerator.str.contains("Power Cap")
            & v6.result_validity.eq("VALID")]
    prec = v6.weight_data_types.str.lower().str.extract(r"(fp4|fp8|bf16|fp16)")[0]
    out = v6.mean_output_tokens_per_sample.fillna(v6.tokens_per_s_total / v6.samples_per_s)  # `V6_OUTPUT`
    offline = v6.scenario.eq("Offline")
    return pd.DataFrame({
        "gpu_key": v6.gpu_key, "model_key": v6.model_key, "kind": v6.scenario.str.lower(), "prec": prec,
        "prec_note": "", "round": "v6.0", "per_gpu": v6.tokens_per_s_per_accel, "out_len": out,
        "ttft_limit": v6.ttft_limit_ms.where(~offline), "tpot_limit": v6.tpot_limit_ms.where(~offline),
        "source": [_v6_url(s) for s in v6.source],
        "date": v6.results_published})


def _v6_url(source):
    """'owner/repo@commit:summary_results.json (+ path); …; MLCommons Details URL: …' → the MLCommons results
    folder of the system, then the GitHub URL of the row's mlperf_log_summary.txt in the fork at its commit."""
    found = re.match(r"([\w.-]+/[\w.-]+)@([0-9a-f]{40}):\S+ \(\+ ([^)]+)\)", source)
    details = re.search(r"MLCommons Details URL: (\S+)", source)
    log = f"https://github.com/{found.group(1)}/blob/{found.group(2)}/{found.group(3)}" if found else source
    return f"{details.group(1)} (log: {log})" if details else log


def mlperf_points(data):
    """One point per MLPerf round, GPU, model, precision and scenario: the lower median of its submissions."""
    bench = pd.concat([mlperf_rows(data), mlperf_v6_points(data)], ignore_index=True)
    rows = []
    for (gpu, model, kind, prec, rnd), group in bench.groupby(["gpu_key", "model_key", "kind", "prec", "round"]):
        group = group.sort_values("per_gpu")
        pick = group.iloc[(len(group) - 1) // 2]
        newest = rnd
        if kind == "offline":
            pick = pick.copy()
            pick["ttft_limit"] = pick["tpot_limit"] = math.nan
        rows.append({
            "benchmark": f"mlperf_{kind}", "gpu": gpu, "model": model, "precision": prec, "tp": None,
            "dataset": DATASETS[model], "input_tokens": MLPERF_INPUT_TOKENS[DATASETS[model]][0],
            "output_tokens": round(pick.out_len, 1) if pick.out_len == pick.out_len else None,
            "ttft_ms": pick.ttft_limit if kind != "offline" else None,
            "tpot_ms": pick.tpot_limit if kind != "offline" else None,
            "concurrency": None, "tokens_per_s": round(float(pick.per_gpu), 1),
            "source": pick.source, "as_of": as_of_date(pick.date),
            "notes": "; ".join(n for n in (
                f"MLPerf Inference {newest} closed {kind.title()}, lower median of {len(group)} submissions "
                f"(range {group.per_gpu.min():.0f}-{group.per_gpu.max():.0f})",
                "output tokens/s per accelerator; limits are p99", pick.prec_note, _input_note(DATASETS[model]),
                ("result verified by MLCommons Association; per-accelerator figure derived" if rnd == "v6.0" else "")) if n),
        })
    return pd.DataFrame(rows)


def _input_note(dataset):
    tokens, source = MLPERF_INPUT_TOKENS[dataset]
    return f"mean input {tokens} tokens over the dataset ({source})"


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


INFERENCEX_CONFIGURATION = ["gpu", "precision", "framework", "spec_method", "isl", "osl", "tp", "ep", "dp_attention",
                            "concurrency", "image"]
"""What makes two InferenceX rows runs of one configuration: the same engine image, parallelism, client concurrency
and request shape (measured on different days)."""


def run_to_run_spread(rows):
    """How far two runs of one configuration land apart: over the configurations run more than once
    (`INFERENCEX_CONFIGURATION`), the median standard deviation of ln p99 TPOT and of ln p99 TTFT. [unitless]"""
    groups = rows.groupby(INFERENCEX_CONFIGURATION, dropna=False)
    spread = lambda c: groups[c].apply(lambda v: np.log(v.dropna()).std(ddof=1)).dropna().median()  # noqa: E731
    return spread("tpot_p99_ms"), spread("ttft_p99_ms")


def inferencex_points(data):
    """DeepSeek-R1 points that ask the user's question: the most output tokens/s per GPU measured within a p99 TPOT
    and TTFT. Per GPU, precision and request shape, a measured point is kept where its limits bind — no other point
    of the same sweeps (any framework, tp, ep) is faster per GPU within the same p99 TPOT and TTFT — and its own
    p99 TPOT and TTFT become the point's limits; the measured concurrency and tp are not given to the model.
    "Within the same limits" allows the runs' own spread (`run_to_run_spread`): a faster point whose p99 TPOT or TTFT
    is above this point's by less than two runs of one configuration differ is not a different question, and keeping
    the slower answer would fit the model to a run that the sweep itself beats.
    Single node, no disaggregation; speculative (MTP) rows apart (`benchmark = inferencex_mtp`)."""
    x = pd.read_csv(data / "inferencex_dsr1.csv")
    flag = lambda c: x[c].astype(str).str.lower().eq("true")  # noqa: E731  (booleans with blanks)
    x = x[~flag("disagg") & ~flag("is_multinode") & x.gpu.isin(INFERENCEX_GPUS) & x.tpot_p99_ms.notna()
          & x.ttft_p99_ms.notna() & (x.output_tput_per_gpu_tok_s > 0)].copy()
    tpot_spread, ttft_spread = run_to_run_spread(x)
    # the limits and throughput as stored (rounded), so that the frontier holds for the stored numbers
    x["tpot_p99_ms"], x["ttft_p99_ms"] = x.tpot_p99_ms.round(2), x.ttft_p99_ms.round(1)
    x["output_tput_per_gpu_tok_s"] = x.output_tput_per_gpu_tok_s.round(2)
    rows = []
    for (gpu, precision, isl, osl, spec), group in x.groupby(["gpu", "precision", "isl", "osl", "spec_method"]):
        tput, tpot, ttft = (group[c].to_numpy() for c in ("output_tput_per_gpu_tok_s", "tpot_p99_ms", "ttft_p99_ms"))
        for i, r in enumerate(group.itertuples()):
            within = (tpot <= tpot[i] * math.exp(tpot_spread)) & (ttft <= ttft[i] * math.exp(ttft_spread))
            if (tput[within] > tput[i]).any() or (within & (tput == tput[i]) & (np.arange(len(tput)) < i)).any():
                continue  # a faster (or an identical earlier) point within the same limits: this one does not bind
            rows.append({
                "benchmark": "inferencex" if spec == "none" else f"inferencex_{spec}", "gpu": INFERENCEX_GPUS[gpu],
                "model": "deepseek_r1", "precision": precision, "tp": None, "dataset": "", "input_tokens": int(isl),
                "output_tokens": int(osl), "ttft_ms": float(r.ttft_p99_ms), "tpot_ms": float(r.tpot_p99_ms),
                "concurrency": None, "tokens_per_s": float(r.output_tput_per_gpu_tok_s), "source": r.run_url,
                "as_of": as_of_date(r.date),
                "notes": f"SemiAnalysis InferenceX (Apache-2.0, attribution required): DeepSeek-R1-0528 {r.framework} "
                         f"tp={int(r.tp)} ep={int(r.ep)} dp_attention={r.dp_attention} spec={spec} at "
                         f"{int(r.concurrency)} concurrent clients; limits = this point's p99 TPOT/TTFT (median TPOT "
                         f"{r.tpot_median_ms:.1f} ms); {r.source_repo}@{r.source_commit[:8]}",
            })
    return pd.DataFrame(rows)


INDEPENDENT_GPUS = {"a100_sxm_80gb": "a100_80gb", "nvidia_a100_sxm4_80gb": "a100_80gb", "nvidia_a100_sxm4_40gb": "a100_40gb",
                    "h100_sxm": "h100_sxm", "nvidia_h100_80gb_hbm3": "h100_sxm", "nvidia_h200": "h200", "h200_sxm": "h200",
                    "nvidia_l4": "l4"}
"""independent_serving_benchmarks.csv GPUs that are rows of gpus.csv (the RTX, V100, T4, H20, A800, Ascend, TPU and
MTT rows need GPU rows with cited specifications first)."""
INDEPENDENT_MODELS = {
    "meta-llama/Meta-Llama-3-8B-Instruct": "llama_8b", "meta-llama/Llama-3.1-8B-Instruct": "llama_8b",
    "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8": "llama_8b", "meta-llama/Meta-Llama-3-70B-Instruct": "llama_70b",
    "mistralai/Mixtral-8x7B-Instruct-v0.1": "mixtral_8x7b", "openai/gpt-oss-120b": "gpt_oss_120b",
    "openai/gpt-oss-20b": "gpt_oss_20b", "Qwen/Qwen3-32B": "qwen3_32b", "Qwen/Qwen3-32B-FP8": "qwen3_32b",
    "Qwen/Qwen3-235B-A22B-Instruct-2507": "qwen3_235b_a22b", "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8": "qwen3_235b_a22b",
    "Qwen/Qwen2.5-0.5B-Instruct": "qwen2_5_0_5b", "Qwen/Qwen3-14B": "qwen3_14b", "Qwen/Qwen3-14B-FP8": "qwen3_14b"}
INDEPENDENT_PRECISIONS = {"bf16": "bf16", "bf16 (checkpoint default)": "bf16", "fp16": "bf16",
                          "fp8 (compressed-tensors)": "fp8", "fp8": "fp8", "mxfp4 (native)": "fp4"}
"""Weight precisions the model has kernels for; integer formats (W4A16, W8A16, W8A8, AWQ, int8) are left out."""
SINGLE_STREAM_OUTPUT = 256.0
"""AccelMark single-stream runs let the model generate up to 256 or 512 tokens and do not log the mean; stated: 256
(at one sequence the output length only sets the prefill's share of TPOT, < 1 % here)."""


def independent_points(data):
    """Independent serving runs (shared/data/independent_serving_benchmarks.csv, Apache-2.0 sources), on GPUs and
    models of the catalogs, unflagged rows only (community-unverified AccelMark runs, invalid accuracy checks and
    rows whose model or device count contradicts their document are left out):

    * GPUStack performance lab ``vllm bench serve`` at unbounded request rate (all prompts at once): the engine's
      most tokens/s, no latency limit — like an MLPerf Offline or TensorRT-LLM max-load point, at the run's tp and
      request shape (``benchmark = independent``);
    * AccelMark single-stream runs: one sequence alone, output tokens/s = 1000 / median TPOT / GPUs
      (``benchmark = independent_single_stream``, ``concurrency = 1``: the user's question "one user, how fast?").

    AccelMark's offline and fixed-QPS runs do not log their mean output length, so they are not used."""
    x = pd.read_csv(data / "independent_serving_benchmarks.csv")
    x = x[x.gpu.isin(INDEPENDENT_GPUS) & x.model.isin(INDEPENDENT_MODELS) & x["flags"].isna()
          & x.precision.str.lower().isin(INDEPENDENT_PRECISIONS)].copy()
    rows = []
    for r in x.itertuples():
        common = {"gpu": INDEPENDENT_GPUS[r.gpu], "model": INDEPENDENT_MODELS[r.model],
                  "precision": INDEPENDENT_PRECISIONS[r.precision.lower()], "tp": int(r.tp), "dataset": "",
                  "ttft_ms": None, "tpot_ms": None, "source": r.source, "as_of": as_of_date(r.date)}
        if r.source_family == "gpustack_performance_lab" and str(r.concurrency).startswith("unbounded"):
            if not (r.output_tok_s_per_gpu > 0) or int(r.pp) != 1:
                continue
            rows.append(dict(common, benchmark="independent", input_tokens=round(float(r.isl), 1),
                             output_tokens=round(float(r.osl), 1), concurrency=None,
                             tokens_per_s=round(float(r.output_tok_s_per_gpu), 2),
                             notes=f"GPUStack performance lab (Apache-2.0): {r.model} {r.framework} tp={int(r.tp)} "
                                   f"dp={int(r.dp)} on {int(r.num_gpus)} GPUs, vllm bench serve at unbounded request "
                                   f"rate ({r.concurrency}); output tokens/s per GPU, no latency limit; {r.workload}"))
        elif r.source_family == "accelmark" and r.scenario.startswith("interactive") and r.tpot_median_ms > 0:
            rows.append(dict(common, benchmark="independent_single_stream", input_tokens=round(float(r.isl), 1),
                             output_tokens=SINGLE_STREAM_OUTPUT, concurrency=1,
                             tokens_per_s=round(1000.0 / float(r.tpot_median_ms) / int(r.num_gpus), 2),
                             notes=f"AccelMark (Apache-2.0): {r.model} {r.framework} tp={int(r.tp)}, one sequence "
                                   f"alone: median TPOT {r.tpot_median_ms:.2f} ms; output tokens/s per GPU = 1000 / "
                                   f"TPOT / {int(r.num_gpus)} GPUs; output length not logged (stated "
                                   f"{SINGLE_STREAM_OUTPUT:g})"))
    # one point per run configuration and document: a document's tuning variants of the same configuration (engine
    # flags, parallelism within the same tp) are the same question; the best of them is what a tuned deployment does
    frame = pd.DataFrame(rows)
    key = ["benchmark", "gpu", "model", "precision", "tp", "input_tokens", "output_tokens", "source"]
    counts = frame.groupby(key).tokens_per_s.transform("size")
    frame = frame.assign(notes=[n if c == 1 else f"{n}; the best of {c} runs of this configuration in the document"
                                for n, c in zip(frame.notes, counts)])
    return frame.sort_values("tokens_per_s").drop_duplicates(subset=key, keep="last").sort_index()


def main(data_dir):
    from atlas_xl import calibration
    from atlas_xl.catalog import SCHEMAS, load_catalog

    data = Path(data_dir)
    points = pd.concat([mlperf_points(data), trtllm_points(data), inferencex_points(data), independent_points(data)],
                       ignore_index=True)
    points = points[(points.tokens_per_s > 0) & points.benchmark.isin(BENCHMARKS)]
    points = points.reindex(columns=[c.name for c in SCHEMAS["serving_benchmarks"][0]])
    points.to_csv(ROOT / "catalogs" / "serving_benchmarks.csv", index=False)
    write_tails(data)
    server = points[points.benchmark == "mlperf_server"].sort_values("as_of")
    anchors = server.drop_duplicates(subset=["gpu", "model", "precision"], keep="last")  # the newest round
    anchors = anchors.reindex(columns=[c.name for c in SCHEMAS["throughput"][0]])
    extra = pd.read_csv(ROOT / "scripts" / "throughput_extra.csv")
    throughput = pd.concat([anchors, extra], ignore_index=True).reindex(columns=anchors.columns)
    throughput.to_csv(ROOT / "catalogs" / "throughput.csv", index=False)
    catalog = load_catalog(ROOT / "catalogs")  # with the tails just written
    table = calibration.fit_table(points, catalog)
    table.to_csv(ROOT / "catalogs" / "serving_calibration.csv", index=False)
    write_docs(calibration.markdown(calibration.backtest(points, load_catalog(ROOT / "catalogs"))))
    print(f"wrote {len(points)} serving benchmark points, {len(throughput)} anchors, {len(table)} fitted factors")


def write_tails(data):
    """The p99 / mean factors of TPOT and TTFT, measured: medians over MLPerf v6.0 Server/Interactive rows (TTFT:
    open Poisson arrivals, what a service sees) and, for TPOT, InferenceX rows too; stated in
    serving_calibration.csv (the fit does not move them)."""
    v6 = pd.read_csv(data / "mlperf_v6_0.csv")
    v6 = v6[v6.scenario != "Offline"]
    x = pd.read_csv(data / "inferencex_dsr1.csv")
    tpot = pd.concat([v6.tpot_p99_ms / v6.tpot_mean_ms, x.tpot_p99_ms / x.tpot_mean_ms]).dropna()
    ttft = (v6.ttft_p99_ms / v6.ttft_mean_ms).dropna()
    path = ROOT / "catalogs" / "serving_calibration.csv"
    table = pd.read_csv(path)
    table = table[~table.parameter.isin(["tpot_tail", "ttft_tail"])]
    rows = pd.DataFrame([
        {"parameter": "tpot_tail", "value": round(float(tpot.median()), 4), "units": "p99 / mean TPOT",
         "source": "shared/data/mlperf_v6_0.csv (tpot_p99_ms / tpot_mean_ms) and SemiAnalysis InferenceX "
                   "inferencex_dsr1.csv (tpot_p99_ms / tpot_mean_ms)", "as_of": "2026-06-11",
         "notes": f"median of {len(tpot)} rows (interquartile {tpot.quantile(0.25):.2f}-{tpot.quantile(0.75):.2f})"},
        {"parameter": "ttft_tail", "value": round(float(ttft.median()), 4), "units": "p99 / mean TTFT",
         "source": "shared/data/mlperf_v6_0.csv (ttft_p99_ms / ttft_mean_ms, Server and Interactive: Poisson "
                   "arrivals)", "as_of": "2026-04-01",
         "notes": f"median of {len(ttft)} rows (interquartile {ttft.quantile(0.25):.2f}-{ttft.quantile(0.75):.2f})"}])
    pd.concat([table, rows], ignore_index=True).to_csv(path, index=False)


def write_docs(tables):
    """docs/serving.md's back-test tables, between its markers, from `atlas_xl.calibration.markdown`."""
    path = ROOT / "docs" / "serving.md"
    text = path.read_text()
    start, end = "<!-- backtest:start -->\n", "<!-- backtest:end -->"
    head, rest = text.split(start)
    path.write_text(head + start + tables + end + rest.split(end, 1)[1])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"))
