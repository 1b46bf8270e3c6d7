"""Derive catalogs/gpus.csv and catalogs/throughput.csv from the sourced reference data.

Run from the checkout with the shared reference data beside it:

    python scripts/derive_catalogs.py ../shared/data

The rules (documented in catalogs/README.md):

* gpus.csv — one row per GPU, pivoted from gpu_specs.csv (long format); every source URL that
  contributed a value is kept in ``source``.
* throughput.csv — sustained output tokens/s per GPU for each (GPU, model) pair:
  MLPerf Inference *Server* scenario (Poisson arrivals under TTFT/TPOT limits) of the newest
  round that has the pair; of that round's submissions, the lower median, cited by its own
  result file. ``min_gpus`` is the smallest power of two whose memory holds the weights in 70 %
  of HBM (the rest for KV cache), at the benchmark's weight precision.
"""
import math
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

GPU_KEYS = {  # gpu_specs.csv name -> (key, display name, vendor)
    "H100 SXM 80GB": ("h100_sxm", "NVIDIA H100 SXM 80GB", "NVIDIA"),
    "H100 PCIe 80GB": ("h100_pcie", "NVIDIA H100 PCIe 80GB", "NVIDIA"),
    "H200 SXM 141GB": ("h200", "NVIDIA H200 SXM 141GB", "NVIDIA"),
    "B200 (HGX/DGX)": ("b200", "NVIDIA B200 180GB", "NVIDIA"),
    "A100 SXM 80GB": ("a100_80gb", "NVIDIA A100 SXM 80GB", "NVIDIA"),
    "A100 SXM 40GB": ("a100_40gb", "NVIDIA A100 SXM 40GB", "NVIDIA"),
    "L40S": ("l40s", "NVIDIA L40S 48GB", "NVIDIA"),
    "L4": ("l4", "NVIDIA L4 24GB", "NVIDIA"),
    "A10G (AWS)": ("a10g", "NVIDIA A10G 24GB (AWS)", "NVIDIA"),
    "MI300X": ("mi300x", "AMD Instinct MI300X 192GB", "AMD"),
}
METRICS = {  # gpu_specs.csv metric -> gpus.csv column
    "bf16_dense_tflops": "bf16_dense_tflops",
    "fp8_dense_tflops": "fp8_dense_tflops",
    "hbm_capacity": "memory_gb",
    "memory_capacity": "memory_gb",
    "hbm_bandwidth": "memory_bandwidth_tb_s",
    "memory_bandwidth": "memory_bandwidth_tb_s",
    "tdp": "tdp_w",
}
BENCH_GPUS = {
    "NVIDIA H100-SXM-80GB": "h100_sxm",
    "NVIDIA H100-PCIe-80GB": "h100_pcie",
    "NVIDIA H200-SXM-141GB": "h200",
    "NVIDIA B200-SXM-180GB": "b200",
    "AMD Instinct MI300X 192GB HBM3": "mi300x",
    "AMD Instinct MI300X-NPS1-SPX-192GB-750W": "mi300x",
    "NVIDIA L40S": "l40s",
}
BENCH_MODELS = {
    "Llama-2-70B-chat [llama2-70b-99]": "llama_70b",
    "Llama-3.1-8B-Instruct [llama3.1-8b]": "llama_8b",
    "Llama-3.1-405B-Instruct [llama3.1-405b]": "llama_405b",
}
# cloud_and_api_prices.csv row -> (platform, gpu, model, billing, how the price converts)
# "hour": USD per GPU-hour as is; "second": USD per GPU-second x 3600; "node8": USD per
# 8-GPU instance-hour / 8; "blend": "in / out" per-token prices averaged (1:1 token mix); "from":
# the lower end of a range.
OFFERINGS = [
    (0, "runpod", "h100_sxm", "", "dedicated", "hour"),
    (2, "runpod", "h100_pcie", "", "dedicated", "hour"),
    (6, "runpod", "h200", "", "dedicated", "hour"),
    (8, "runpod", "b200", "", "dedicated", "hour"),
    (10, "runpod", "a100_80gb", "", "dedicated", "hour"),
    (14, "runpod", "l40s", "", "dedicated", "hour"),
    (1, "runpod_secure", "h100_sxm", "", "dedicated", "hour"),
    (3, "runpod_secure", "h100_pcie", "", "dedicated", "hour"),
    (7, "runpod_secure", "h200", "", "dedicated", "hour"),
    (9, "runpod_secure", "b200", "", "dedicated", "hour"),
    (11, "runpod_secure", "a100_80gb", "", "dedicated", "hour"),
    (15, "runpod_secure", "l40s", "", "dedicated", "hour"),
    (43, "runpod_serverless", "h100_sxm", "", "autoscaling", "second"),
    (47, "runpod_serverless", "h200", "", "autoscaling", "second"),
    (49, "runpod_serverless", "b200", "", "autoscaling", "second"),
    (45, "runpod_serverless", "a100_80gb", "", "autoscaling", "second"),
    (51, "runpod_serverless", "l40s", "", "autoscaling", "second"),
    (34, "modal", "h100_sxm", "", "autoscaling", "second"),
    (35, "modal", "a100_80gb", "", "autoscaling", "hour"),
    (36, "modal", "l40s", "", "autoscaling", "hour"),
    (37, "modal", "l4", "", "autoscaling", "hour"),
    (16, "lambda", "h100_sxm", "", "dedicated", "hour"),
    (18, "lambda", "h100_pcie", "", "dedicated", "hour"),
    (19, "lambda", "b200", "", "dedicated", "hour"),
    (21, "lambda", "a100_80gb", "", "dedicated", "hour"),
    (22, "lambda", "a100_40gb", "", "dedicated", "hour"),
    (24, "nebius", "h100_sxm", "", "dedicated", "hour"),
    (25, "nebius", "h200", "", "dedicated", "hour"),
    (26, "nebius", "b200", "", "dedicated", "hour"),
    (27, "nebius", "l40s", "", "dedicated", "hour"),
    (57, "coreweave", "h100_sxm", "", "dedicated", "hour"),
    (58, "coreweave", "h200", "", "dedicated", "hour"),
    (28, "gcp", "h100_sxm", "", "dedicated", "hour"),
    (61, "aws", "h100_sxm", "", "dedicated", "node8"),
    (59, "together", "h100_sxm", "", "dedicated", "from"),
    (69, "fireworks", "h100_sxm", "", "autoscaling", "slash0"),
    (69, "fireworks", "h200", "", "autoscaling", "slash1"),
    (69, "fireworks", "b200", "", "autoscaling", "slash2"),
    (68, "fireworks", "a100_80gb", "", "autoscaling", "hour"),
    (70, "fireworks", "", "llama_8b", "per_token", "hour"),
    (70, "fireworks", "", "mistral_7b", "per_token", "hour"),
    (67, "fireworks", "", "llama_70b", "per_token", "hour"),
    (67, "fireworks", "", "mixtral_8x7b", "per_token", "hour"),
    (77, "together", "", "llama_70b", "per_token", "blend"),
    (71, "deepinfra", "", "llama_70b", "per_token", "blend"),
    (73, "deepinfra", "", "llama_405b", "per_token", "blend"),
    (78, "groq", "", "llama_8b", "per_token", "blend"),
    (79, "groq", "", "llama_70b", "per_token", "blend"),
]
OFFERING_NOTES = {
    "fireworks": "Fireworks on-demand deployments bill per GPU-second and scale to zero: autoscaling (as the planner spec)",
    "modal": "Modal bills per second of container time and scales to zero: autoscaling (the planner spec's example calls Modal dedicated)",
    "runpod_serverless": "RunPod Serverless Flex workers (scale to zero), per-second price x 3600",
}
KV_SHARE = 0.30  # share of HBM kept free for KV cache and activations when sizing min_gpus


def _date(text):
    text = str(text)
    return text[:10] if text[:4].isdigit() else "undated"


def derive_gpus(data):
    specs = pd.read_csv(data / "gpu_specs.csv")
    specs = specs[specs.gpu.isin(GPU_KEYS) & specs.metric.isin(METRICS)].dropna(subset=["value"])
    rows = []
    for name, group in specs.groupby("gpu", sort=False):
        key, display, vendor = GPU_KEYS[name]
        row = {"gpu": key, "name": display, "vendor": vendor}
        for column in dict.fromkeys(METRICS.values()):
            row[column] = None
        for metric, value in zip(group.metric, group.value):
            row[METRICS[metric]] = value
        row["source"] = " ; ".join(dict.fromkeys(group.source))
        row["as_of"] = max(_date(d) for d in group.source_date.fillna("undated"))
        row["notes"] = f"pivoted from shared/data/gpu_specs.csv ({len(group)} values)"
        rows.append(row)
    return pd.DataFrame(rows)


def _round(scenario):
    return scenario.split("closed")[0].replace("MLPerf Inference", "").strip()


def derive_throughput(data, gpus, models):
    bench = pd.read_csv(data / "llm_inference_benchmarks.csv")
    bench = bench[bench.gpu.isin(BENCH_GPUS) & bench.model.isin(BENCH_MODELS)
                  & bench.scenario.str.contains("closed Server", na=False)].copy()
    bench["gpu_key"] = bench.gpu.map(BENCH_GPUS)
    bench["model_key"] = bench.model.map(BENCH_MODELS)
    bench["round"] = bench.scenario.map(_round)
    memory = dict(zip(gpus.gpu, gpus.memory_gb))
    params = dict(zip(models.model, models.params_b))
    rows = []
    for (gpu, model), group in bench.groupby(["gpu_key", "model_key"]):
        newest = max(group["round"], key=lambda r: tuple(int(p) for p in r.lstrip("v").split(".")))
        group = group[group["round"] == newest].sort_values("tokens_per_s_per_gpu")
        pick = group.iloc[(len(group) - 1) // 2]
        bytes_per_param = 0.5 if "fp4" in str(pick.precision) else 1.0
        need = params[model] * bytes_per_param / (memory[gpu] * (1 - KV_SHARE))
        min_gpus = 2 ** max(0, math.ceil(math.log2(max(need, 1.0))))
        rows.append({
            "gpu": gpu, "model": model,
            "tokens_per_s": round(float(pick.tokens_per_s_per_gpu), 1),
            "min_gpus": min_gpus,
            "source": pick.source,
            "as_of": _date(pick.date),
            "notes": (f"MLPerf Inference {newest} closed Server, lower median of {len(group)} "
                      f"submissions (range {group.tokens_per_s_per_gpu.min():.0f}-"
                      f"{group.tokens_per_s_per_gpu.max():.0f}); {pick.precision}; "
                      f"output tokens/s per accelerator; min_gpus derived from memory"),
        })
    return pd.DataFrame(rows)


def _price(text, how):
    text = str(text)
    if how.startswith("slash"):
        return float(text.split("/")[int(how[-1])])
    if how == "from":
        return float(text.split("-")[0])
    if how == "blend":
        parts = [float(p) for p in text.split("/")]
        return round(sum(parts) / len(parts), 6)
    value = float(text)
    return round({"second": value * 3600, "node8": value / 8}.get(how, value), 6)


def derive_offerings(data):
    prices = pd.read_csv(data / "cloud_and_api_prices.csv")
    rows = []
    for index, platform, gpu, model, billing, how in OFFERINGS:
        src = prices.iloc[index]
        price = _price(src.price, how)
        per_token = billing == "per_token"
        what = src.model if per_token else src.gpu
        notes = [f"{src.provider} {what}: {src.price} {src.unit}", str(src.notes)]
        if how != "hour":
            notes.append(f"converted ({how})")
        if platform in OFFERING_NOTES:
            notes.append(OFFERING_NOTES[platform])
        rows.append({
            "platform": platform, "gpu": gpu, "model": model, "billing": billing,
            "hourly_usd": None if per_token else price,
            "price_per_m_tokens": price if per_token else None,
            "source": src.source, "as_of": _date(src.date),
            "notes": "; ".join(n for n in notes if n and n != "nan"),
        })
    return pd.DataFrame(rows)


def main(data_dir):
    data = Path(data_dir)
    gpus = derive_gpus(data)
    gpus.to_csv(ROOT / "catalogs" / "gpus.csv", index=False)
    models = pd.read_csv(ROOT / "catalogs" / "models.csv")
    measured = derive_throughput(data, gpus, models)
    manual = pd.read_csv(ROOT / "scripts" / "throughput_extra.csv")
    throughput = pd.concat([measured, manual], ignore_index=True)
    throughput.to_csv(ROOT / "catalogs" / "throughput.csv", index=False)
    offerings = derive_offerings(data)
    offerings.to_csv(ROOT / "catalogs" / "offerings.csv", index=False)
    print(f"wrote {len(offerings)} offerings, {len(gpus)} GPUs and {len(throughput)} throughput rows")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
