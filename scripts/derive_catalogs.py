"""Derive catalogs/gpus.csv, gpu_tco.csv and offerings.csv from the sourced reference data.

Also writes the simulator's catalogs (hardware_models, targets, workloads, phases,
request_profiles) from shared/reference/atlas_fabric. Run from the checkout with the shared
reference data beside it:

    python scripts/derive_catalogs.py ../shared/data

The rules (documented in catalogs/README.md):

* gpus.csv — one row per GPU, pivoted from gpu_specs.csv (long format); every source URL that
  contributed a value is kept in ``source``.
* gpu_tco.csv — InferenceX's total cost of ownership per GPU-hour (three tiers), a price reference; the
  3-year-rental tier as repriced upstream on 2026-09-08 (RENTAL_REPRICED).
* commitments.csv — a 3-year market commitment per GPU at that rental tier.
* offerings.csv — cloud_and_api_prices.csv rows (OFFERINGS) plus cited per-token rows (EXTRA_PER_TOKEN).
* throughput.csv and the serving model's tables come from scripts/derive_serving.py.
"""
import math
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from atlas_xl.catalog import SCHEMAS  # noqa: E402  (column order and known workload keys)
from atlas_xl.simulator import flatten  # noqa: E402  (YAML key paths → catalog columns)

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
    "nvlink_bw_unidirectional": "interconnect_gb_s",
}
INFERENCEX_SPECS = {  # inferencex_gpu_specs_tco.csv gpu -> catalog key (SemiAnalysis InferenceX GPU table)
    "h100": "h100_sxm", "h200": "h200", "b200": "b200", "b300": "b300", "gb200": "gb200", "gb300": "gb300",
    "mi300x": "mi300x", "mi325x": "mi325x", "mi355x": "mi355x",
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
RUNPOD_TIER_NOTE = ("tier label (Community/Secure Cloud) as the secondary transcription gives it; runpod.io/pricing "
                    "itself was not retrieved, and a third-party page (spheron.network/blog/runpod-h100-pricing-2026, "
                    "2026-05-22) calls ~2.69 USD/h the Secure Cloud H100 SXM5 price: the tier is unverified")
RUNPOD_TIER_ROWS = {0, 1}  # the H100 SXM rows whose tier the sources contradict (issue 20)
OFFERING_NOTES = {
    "fireworks": "Fireworks on-demand deployments bill per GPU-second and scale to zero: autoscaling (as the planner spec)",
    "modal": "Modal bills per second of container time and scales to zero: autoscaling (the planner spec's example calls Modal dedicated)",
    "runpod_serverless": "RunPod Serverless Flex workers (scale to zero), per-second price x 3600",
}


def as_of_date(text):
    """A catalog row's as_of from a source date: its YYYY-MM-DD, or "undated"."""
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
        row["as_of"] = max(as_of_date(d) for d in group.source_date.fillna("undated"))
        row["notes"] = f"pivoted from shared/data/gpu_specs.csv ({len(group)} values)"
        rows.append(row)
    columns = [c.name for c in SCHEMAS["gpus"][0]]
    gpus = pd.DataFrame(rows).reindex(columns=columns).set_index("gpu").astype(
        {c.name: float for c in SCHEMAS["gpus"][0] if c.kind == "number"})
    gpus = _add_inferencex_specs(gpus, pd.read_csv(data / "inferencex_gpu_specs_tco.csv"))
    for key, row in CITED_ACCELERATORS.items():
        gpus.loc[key] = row
    unsized = gpus[gpus.memory_bandwidth_tb_s.isna()].index.tolist()
    if unsized:
        print(f"left out (no sourced memory bandwidth): {', '.join(unsized)}")
    return gpus.drop(index=unsized).reset_index().reindex(columns=columns)


def _number(text):
    match = pd.Series([str(text)]).str.extract(r"([\d.]+)")[0][0]
    return float(match) if match else None


def _add_inferencex_specs(gpus, specs):
    """Fill FP4 and interconnect figures the long-format specs lack, and add the GPUs only InferenceX lists."""
    for r in specs.itertuples():
        key = INFERENCEX_SPECS[r.gpu]
        cite = f"SemiAnalysis InferenceX GPU table: {r.source}"
        values = {"fp4_dense_tflops": r.fp4_dense_tflops, "fp8_dense_tflops": r.fp8_dense_tflops,
                  "bf16_dense_tflops": r.bf16_dense_tflops, "memory_gb": _number(r.memory_usable),
                  "memory_bandwidth_tb_s": _number(r.memory_bandwidth_per_gpu), "tdp_w": r.tdp_w,
                  "interconnect_gb_s": _number(r.scale_up_bw_per_gpu_unidirectional),
                  "scale_up_gpus": _number(r.scale_up_world_size),
                  "scale_out_gb_s": None if pd.isna(r.scale_out_bw_per_nic) else _number(r.scale_out_bw_per_nic) / 8.0}
        if key in gpus.index:
            filled = [c for c, v in values.items() if pd.isna(gpus.at[key, c]) and pd.notna(v)]
            for column in filled:
                gpus.at[key, column] = values[column]
            if filled:
                gpus.at[key, "source"] = f"{gpus.at[key, 'source']} ; {cite}"
                gpus.at[key, "notes"] = f"{gpus.at[key, 'notes']}; {', '.join(filled)} from InferenceX"
        else:
            gpus.loc[key] = {**values, "name": f"{r.vendor} {r.name}", "vendor": r.vendor, "source": cite,
                             "as_of": "2026-07-31", "notes": "from shared/data/inferencex_gpu_specs_tco.csv"}
    return gpus


TPU7X_DOC = "https://docs.cloud.google.com/tpu/docs/tpu7x (System architecture table; page undated, read 2026-12-04)"
TPU7X_PR_1070 = ("SemiAnalysis InferenceX: github.com/SemiAnalysisAI/InferenceX-app/pull/1070 (merged 2026-09-08; "
                 "tpuv7 in packages/constants/src/gpu-keys.ts: tdp 980, power 1.207, costh 1.21)")
TPU7X_PR_1083 = ("SemiAnalysis InferenceX: github.com/SemiAnalysisAI/InferenceX-app/pull/1083 (merged 2026-09-08; "
                 "tpuv7.costr 1.21 -> 2, 'Rent - 3 Year Commit' per the SemiAnalysis AI Cloud TCO Model)")
CITED_ACCELERATORS = {  # accelerators neither shared/data file lists, each value from a cited page
    "tpu_v7": {
        "name": "Google TPU7x (Ironwood)", "vendor": "Google", "bf16_dense_tflops": 2307.0,
        "fp8_dense_tflops": 4614.0, "fp4_dense_tflops": None, "memory_gb": 192.0, "memory_bandwidth_tb_s": 7.38,
        "tdp_w": 980.0, "interconnect_gb_s": 600.0, "scale_up_gpus": 9216, "scale_out_gb_s": 12.5,
        "source": f"{TPU7X_DOC} ; TDP: {TPU7X_PR_1070}", "as_of": "2026-09-08",
        "notes": ("Google's table, per chip: 2307 BF16 / 4614 FP8 TFLOPs peak, HBM 192 GiB (Google's launch blog "
                  "says 192 GB; kept as 192), HBM 7380 GB/s, bidirectional ICI 1200 GB/s (600 one direction), "
                  "DCN 100 Gb/s (12.5 GB/s), 9216 chips per pod (the ICI domain); no FP4 listed; Google publishes "
                  "no TDP: 980 W is InferenceX's (all-in 1.207 kW per chip)"),
    },
}
"""Rows of gpus.csv that come from a vendor's page rather than shared/data (issue 20: TPUv7, priced by PR #1083)."""

CITED_TCO = [  # (gpu, tier, usd_per_gpu_hour, source, as_of, notes): tiers InferenceX prices outside shared/data
    ("tpu_v7", "hyperscaler_owned", 1.21, TPU7X_PR_1070, "2026-09-08",
     "external TCO basis (PR #1083 keeps costh 1.21 external, 1.03 internal); all-in 1.207 kW per chip; "
     "InferenceX lists no neocloud tier for TPUs"),
    ("tpu_v7", "rental_3yr", 2.0, TPU7X_PR_1083, "2026-09-08",
     "what a customer pays GCP under a 3-year commit (PR #1083), repriced from 1.21 (PR #1070, which mirrored the "
     "owning TCO); all-in 1.207 kW per chip"),
]

RENTAL_REPRICED = {  # InferenceX gpu key -> 3-year-rental $/GPU-h after upstream PR #1071 (merged 2026-09-08)
    "h100": 2.00, "h200": 2.90, "b200": 3.70, "gb200": 4.00, "b300": 4.25, "gb300": 5.00, "mi355x": 2.90,
}
RENTAL_REPRICED_SOURCE = ("SemiAnalysis InferenceX: github.com/SemiAnalysisAI/InferenceX-app/pull/1071 (merged 2026-09-08; "
                          "costr in packages/constants/src/gpu-keys.ts, 'Rent - 3 Year Commit' tier repriced to the "
                          "July 2026 TCO model)")
RENTAL_REPRICED_AS_OF = "2026-09-08"


def derive_gpu_tco(data):
    """Total cost of ownership per GPU-hour, three tiers (InferenceX): a price reference, not an offering.

    The 3-year-rental tier of the GPUs in RENTAL_REPRICED takes InferenceX's 2026-09-08 values (PR #1071);
    shared/data still holds the July values, which stay in the notes. `CITED_TCO` adds the TPUv7 tiers."""
    specs = pd.read_csv(data / "inferencex_gpu_specs_tco.csv")
    rows = []
    for r in specs.itertuples():
        for tier, column in (("hyperscaler_owned", "tco_hyperscaler_usd_per_gpu_hr"),
                             ("neocloud_owned", "tco_neocloud_usd_per_gpu_hr"), ("rental_3yr", "tco_3yr_rental_usd_per_gpu_hr")):
            row = {"gpu": INFERENCEX_SPECS[r.gpu], "tier": tier, "usd_per_gpu_hour": getattr(r, column),
                   "source": f"SemiAnalysis InferenceX GPU table: {r.source}", "as_of": "2026-07-31",
                   "notes": f"{r.tco_as_of}; all-in {r.all_in_power_kw_per_gpu} kW per GPU"}
            if tier == "rental_3yr" and r.gpu in RENTAL_REPRICED:
                row.update(usd_per_gpu_hour=RENTAL_REPRICED[r.gpu], source=RENTAL_REPRICED_SOURCE,
                           as_of=RENTAL_REPRICED_AS_OF,
                           notes=f"repriced from {getattr(r, column):g} (July 2026, {r.source}); all-in "
                                 f"{r.all_in_power_kw_per_gpu} kW per GPU")
            rows.append(row)
    rows += [dict(zip(("gpu", "tier", "usd_per_gpu_hour", "source", "as_of", "notes"), r)) for r in CITED_TCO]
    return pd.DataFrame(rows)


def derive_commitments(gpu_tco):
    """3-year commitments at InferenceX's 3-year-rental tier: market reference prices for any platform."""
    rental = gpu_tco[gpu_tco.tier == "rental_3yr"]
    return pd.DataFrame([{
        "platform": "", "gpu": r.gpu, "term": "3y", "hourly_usd": r.usd_per_gpu_hour, "min_term_months": 36,
        "source": f"{r.source} (tier rental_3yr of catalogs/gpu_tco.csv)", "as_of": r.as_of,
        "notes": "market 3-year rental price per GPU-hour (InferenceX TCO tier); not a quote of any one platform; "
                 "attribution to InferenceX required"} for r in rental.itertuples()])


# Per-token prices not in shared/data, each from a dated or first-party page found for issue 20:
# (platform, model, input, cached input or None, output, source, as_of, notes). A price with no source is not added.
EXTRA_PER_TOKEN = [
    ("fireworks", "gpt_oss_120b", 0.15, None, 0.60, "https://fireworks.ai/models/fireworks/gpt-oss-120b", "undated",
     "Fireworks serverless gpt-oss-120b: 0.15 / 0.60 USD per 1M tokens input / output; first-party model page "
     "(crawl, undated); no cached-input price listed there"),
    ("fireworks", "gpt_oss_20b", 0.07, 0.04, 0.30, "https://fireworks.ai/models/fireworks/gpt-oss-20b", "undated",
     "Fireworks serverless gpt-oss-20b: 0.07 / 0.04 / 0.30 USD per 1M tokens input / cached input / output; "
     "first-party model page (crawl, undated)"),
    ("groq", "gpt_oss_20b", 0.10, None, 0.50, "https://requesty.ai/models/groq/openai-gpt-oss-20b", "undated",
     "Groq openai/gpt-oss-20b: 0.10 / 0.50 USD per 1M tokens input / output as a router that passes provider "
     "prices through lists them; third-party, LOW CONFIDENCE; groq.com/pricing not retrieved"),
    ("deepinfra", "deepseek_r1", 1.00, None, 3.00, "https://lava-a04d7b3f.mintlify.dev/docs/gateway/providers/deepinfra.md",
     "undated", "DeepInfra deepseek-ai/DeepSeek-R1-0528-Turbo: 1.00 / 3.00 USD per 1M tokens input / output; "
     "third-party gateway doc listing DeepInfra prices (as the llama_405b row); the Turbo endpoint is DeepInfra's "
     "quantized variant"),
]


def extra_per_token_rows():
    rows = []
    for platform, model, price_in, cached, price_out, source, as_of, notes in EXTRA_PER_TOKEN:
        rows.append({"platform": platform, "gpu": "", "model": model, "billing": "per_token", "hourly_usd": None,
                     "price_per_m_tokens": round((price_in + price_out) / 2, 6), "price_in_per_m_tokens": price_in,
                     "price_out_per_m_tokens": price_out, "price_cached_in_per_m_tokens": cached,
                     "source": source, "as_of": as_of, "notes": notes + "; blended price: input and output 1:1"})
    return rows


FIREWORKS_CACHED = "https://docs.fireworks.ai/serverless/overview"
GROQ_CACHED = "https://console.groq.com/docs/prompt-caching"
CACHED_INPUT = {
    # (platform, model): (cached-input price or the share of the input price, source, note) — issue 19 item 2.
    # Fireworks serverless bills cached input at 50 % of input unless a model page lists its own rate (gpt-oss-20b
    # does: EXTRA_PER_TOKEN); Groq discounts cached tokens 50 % on the models its page lists (gpt-oss-20b/120b,
    # Kimi K2), none of its Llama models. Both pages undated, read 2026-12-04. Other rows: no cached price found.
    ("fireworks", "llama_8b"): (0.5, FIREWORKS_CACHED, "Fireworks serverless default: cached input 50 % of input"),
    ("fireworks", "mistral_7b"): (0.5, FIREWORKS_CACHED, "Fireworks serverless default: cached input 50 % of input"),
    ("fireworks", "llama_70b"): (0.5, FIREWORKS_CACHED, "Fireworks serverless default: cached input 50 % of input"),
    ("fireworks", "mixtral_8x7b"): (0.5, FIREWORKS_CACHED, "Fireworks serverless default: cached input 50 % of input"),
    ("fireworks", "gpt_oss_120b"): (0.5, FIREWORKS_CACHED, "Fireworks serverless default: cached input 50 % of input"),
    ("groq", "gpt_oss_20b"): (0.5, GROQ_CACHED, "Groq prompt caching: cached input 50 % of input"),
}


def add_cached_prices(frame):
    """The CACHED_INPUT prices in the offerings frame: the price, its source appended to the row's, a note."""
    for (platform, model), (share, source, note) in CACHED_INPUT.items():
        row = (frame.platform == platform) & (frame.model == model)
        for i in frame.index[row]:
            price = round(share * frame.at[i, "price_in_per_m_tokens"], 6)
            frame.at[i, "price_cached_in_per_m_tokens"] = price
            frame.at[i, "source"] = f"{frame.at[i, 'source']}; cached input: {source}"
            frame.at[i, "notes"] = f"{frame.at[i, 'notes']}; cached input {price:g} USD/Mtok: {note} ({source}, " \
                                   "undated, read 2026-12-04)"
    return frame


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


def row_source(prices, index):
    """The source of a cloud_and_api_prices.csv row; its 'same as above' is the row above's (Groq's Llama 70B
    row says so of its Llama 8B row), never printed as a source."""
    while str(prices.source.iloc[index]).strip().lower() == "same as above" and index > 0:
        index -= 1
    return prices.source.iloc[index]


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
        if index in RUNPOD_TIER_ROWS:
            notes = [n.replace("Community Cloud; ", "").replace("Secure Cloud; ", "") for n in notes]
            notes.append(RUNPOD_TIER_NOTE)
        split = [float(x) for x in str(src.price).split("/")] if how == "blend" else [price, price]
        rows.append({
            "platform": platform, "gpu": gpu, "model": model, "billing": billing,
            "hourly_usd": None if per_token else price,
            "price_per_m_tokens": price if per_token else None,
            "price_in_per_m_tokens": split[0] if per_token else None,
            "price_out_per_m_tokens": split[-1] if per_token else None,
            "source": row_source(prices, index), "as_of": as_of_date(src.date),
            "notes": "; ".join(n for n in notes if n and n != "nan"),
        })
    rows += extra_per_token_rows()
    return add_cached_prices(pd.DataFrame(rows).reindex(columns=[c.name for c in SCHEMAS["offerings"][0]]))


def main(data_dir):
    data = Path(data_dir)
    gpus = derive_gpus(data)
    gpus["scale_up_gpus"] = gpus.scale_up_gpus.astype("Int64")
    gpus.to_csv(ROOT / "catalogs" / "gpus.csv", index=False)
    gpu_tco = derive_gpu_tco(data)
    gpu_tco.to_csv(ROOT / "catalogs" / "gpu_tco.csv", index=False)
    derive_commitments(gpu_tco).to_csv(ROOT / "catalogs" / "commitments.csv", index=False)
    offerings = derive_offerings(data)
    offerings.to_csv(ROOT / "catalogs" / "offerings.csv", index=False)
    print(f"wrote {len(offerings)} offerings and {len(gpus)} GPUs (scripts/derive_serving.py writes throughput)")




# -- simulator catalogs (from shared/reference/atlas_fabric) ------------------------------------
FABRIC_REPO = "https://github.com/gramm-ai/atlas-fabric/blob/3a6815a"
DROPPED = ("description", "match", "best_for", "notes", "memory", "retries")  # not in the equations


def derive_simulator(reference, throughput):
    import yaml

    models = []
    for vendor_file, key in (("nvidia.yaml", "nvidia"), ("groq.yaml", "groq"), ("sambanova.yaml", "sambanova")):
        doc = yaml.safe_load((reference / vendor_file).read_text())
        row = {"hardware_model": key, "vendor": doc["match"]["vendor"], "description": doc["description"]}
        row.update(flatten({k: v for k, v in doc.items() if k not in DROPPED}))
        row.update(source=f"{FABRIC_REPO}/accelerators/{vendor_file} (shared/reference/atlas_fabric/{vendor_file})",
                   as_of="2025-10-07", notes=doc.get("notes", ""))
        models.append(row)
    tps = {(r.gpu, r.model): r.tokens_per_s for r in throughput.itertuples()}
    for gpu, key, name, vendor in (("h200", "nvidia_h200", "H200", "NVIDIA"), ("b200", "nvidia_b200", "B200", "NVIDIA"),
                                   ("mi300x", "amd_mi300x", "MI300X", "AMD")):
        ratio = tps[(gpu, "llama_70b")] / tps[("h100_sxm", "llama_70b")]
        row = dict(models[0], hardware_model=key, vendor=vendor,
                   description=f"{vendor} {name}: the NVIDIA (H100) coefficient set with base_tokens_per_accel "
                               "scaled by measured throughput")
        row["compute.base_tokens_per_accel"] = round(models[0]["compute.base_tokens_per_accel"] * ratio, 1)
        row.update(source=f"{models[0]['source']} ; ratio from catalogs/throughput.csv (MLPerf v5.1 Llama-2-70B Server per GPU)",
                   as_of="2025-09-04",
                   notes=f"DERIVED: base_tokens_per_accel = 1100 x {tps[(gpu, 'llama_70b')]:.1f} / {tps[('h100_sxm', 'llama_70b')]:.1f} "
                         f"= x{ratio:.3f} (measured {name} vs H100 per-GPU throughput; includes precision differences)"
                         + ("; PROXY: the other coefficients are NVIDIA's (no AMD set is published); no sourced "
                            "MI300X node price, so no MI300X target — pass a target dict or add a row"
                            if vendor == "AMD" else ""))
        models.append(row)
    hardware = pd.DataFrame(models)

    targets = []
    for doc in yaml.safe_load((reference / "targets.yaml").read_text()):
        key = doc["name"].lower()
        row = {"target": key, "vendor": doc["vendor"], "hardware_model": doc["vendor"].lower()}
        row.update(flatten({k: doc[k] for k in ("instance_type", "accelerators_per_node", "num_nodes",
                                               "memory_gb_per_accel", "interconnect", "cost")}))
        row.update(source=f"{FABRIC_REPO}/workload/targets.yaml (shared/reference/atlas_fabric/targets.yaml)",
                   as_of="2025-10-07", notes=doc.get("notes", ""))
        targets.append(row)
    h100 = targets[0]
    for nodes in (32, 128):
        targets.append(dict(h100, target=f"nvidia_h100_cluster_{nodes}n", num_nodes=nodes, **{"interconnect.type": "IB"},
                            notes=f"DERIVED: {nodes} x the NVIDIA_H100_8x_NVLink node (same price and power per node), "
                                  "scale-out over InfiniBand NDR 8 x 400 Gb/s per node (shared/data/gpu_specs.csv)"))
    for key, model, mem, nvlink, price_gpu, price_src, power in (
            ("nvidia_h200_8x", "nvidia_h200", 141, 900, 4.50, "Nebius H200 $4.50/GPU-h (catalogs/offerings.csv)", 10200),
            ("nvidia_b200_8x", "nvidia_b200", 180, 1800, 7.15, "Nebius B200 $7.15/GPU-h (catalogs/offerings.csv)",
             8 * 1000 + (10200 - 8 * 700))):
        targets.append({
            "target": key, "vendor": "NVIDIA", "hardware_model": model, "instance_type": f"HGX {model[-4:].upper()} 8-GPU",
            "accelerators_per_node": 8, "num_nodes": 1, "memory_gb_per_accel": mem,
            "interconnect.type": "NVLink", "interconnect.bw_gbps": nvlink,
            "cost.hourly_usd": round(8 * price_gpu, 2), "cost.energy_watts_node": power, "cost.pue": 1.2,
            "source": "shared/data/gpu_specs.csv (memory, NVLink, TDP) ; shared/data/cloud_and_api_prices.csv (price) ; "
                      "shared/data/electricity_datacenter.csv (DGX H100 10.2 kW)",
            "as_of": "2026-09-25",
            "notes": f"DERIVED: hourly = 8 x {price_src}; node power = "
                     + ("DGX H100 10.2 kW (same 700 W GPU TDP)" if power == 10200 else
                        "8 x 1000 W B200 TDP + 4.6 kW host share of DGX H100 (10.2 kW - 8 x 700 W)")
                     + "; PUE 1.2 as the seed targets",
        })
    return hardware, pd.DataFrame(targets)


def derive_workloads(reference):
    import yaml

    rows, phases = [], []
    for doc in yaml.safe_load((reference / "workloads.yaml").read_text()):
        key = doc["name"].lower()
        row = {"workload": key, "mode": "inference" if doc["sequence"]["generate"] > 0 else "training",
               "model_family": doc.get("model_family", "")}
        row.update(flatten({k: doc[k] for k in ("params", "parallelism", "sequence", "precision", "runtime_tuning")}))
        row.update(source=f"{FABRIC_REPO}/workload/workloads.yaml (shared/reference/atlas_fabric/workloads.yaml)",
                   as_of="2025-10-07", notes=doc.get("notes", ""))
        rows.append(row)
        for phase in doc.get("schedule", {}).get("phases", []):
            known = {c.name for c in SCHEMAS["workloads"][0]}
            flat = flatten(phase.get("overrides", {}))
            dropped = [k for k in flat if k not in known]
            overrides = "; ".join(f"{k}={v}" for k, v in flat.items() if k in known)
            phases.append({"workload": key, "phase": phase["name"], "duration_minutes": phase["duration_minutes"],
                           "tokens_scale": phase.get("tokens_scale", 1.0),
                           "autoscale_factor": phase.get("autoscale_factor", 1.0),
                           "request_profile": phase.get("request_profile", ""), "overrides": overrides,
                           "source": row["source"], "as_of": "2025-10-07",
                           "notes": f"dropped override {', '.join(dropped)} (not in the equations)" if dropped else ""})
    return rows, phases


TARGET_GPUS = {"nvidia_h100_8x_nvlink": "h100_sxm", "nvidia_h100_cluster_32n": "h100_sxm",
               "nvidia_h100_cluster_128n": "h100_sxm", "nvidia_h200_8x": "h200", "nvidia_b200_8x": "b200"}
"""Targets whose accelerators are rows of gpus.csv: the serving model gives their base rate (Groq and
SambaNova keep their hardware models' published base_tokens_per_accel)."""
WORKLOAD_MODELS = {"llama_70b_chat": "llama_70b", "llama_8b_api": "llama_8b", "llama_70b_finetune": "llama_70b"}
EXAMPLE_SOURCE = "atlas_xl example workload; model dimensions from catalogs/models.csv (the model's config.json)"
EXAMPLE_WORKLOADS = [  # workloads that fit one 8-accelerator node
    {"workload": "llama_70b_chat", "mode": "inference", "model_family": "llama", "params.hidden_size": 8192,
     "params.n_layers": 80, "params.vocab_size": 128256, "params.n_heads": 64, "parallelism.tp": 2,
     "parallelism.pp": 1, "parallelism.dp": 4, "sequence.prompt": 1024, "sequence.generate": 256,
     "precision.weights": "fp8", "precision.activations": "bf16", "runtime_tuning.microbatch": 1,
     "runtime_tuning.cuda_graphs": False, "runtime_tuning.gpudirect_rdma": False, "runtime_tuning.virt": "sriov",
     "runtime_tuning.fabric": "RoCE", "arrival.profile": "steady",
     "notes": "chat serving on a cloud VM (SR-IOV, RoCE) before tuning: the optimizer's natural starting point"},
    {"workload": "llama_8b_api", "mode": "inference", "model_family": "llama", "params.hidden_size": 4096,
     "params.n_layers": 32, "params.vocab_size": 128256, "params.n_heads": 32, "parallelism.tp": 1,
     "parallelism.pp": 1, "parallelism.dp": 8, "sequence.prompt": 512, "sequence.generate": 256,
     "precision.weights": "bf16", "precision.activations": "bf16", "runtime_tuning.microbatch": 1,
     "runtime_tuning.cuda_graphs": True, "runtime_tuning.gpudirect_rdma": False, "runtime_tuning.virt": "bare",
     "runtime_tuning.fabric": "NVLink", "arrival.profile": "peak", "notes": "eight single-GPU replicas"},
    {"workload": "llama_70b_finetune", "mode": "training", "model_family": "llama", "params.hidden_size": 8192,
     "params.n_layers": 80, "params.vocab_size": 128256, "params.n_heads": 64, "parallelism.tp": 4,
     "parallelism.pp": 2, "parallelism.dp": 1, "sequence.prompt": 4096, "sequence.generate": 0,
     "precision.weights": "bf16", "precision.activations": "bf16", "runtime_tuning.microbatch": 4,
     "runtime_tuning.cuda_graphs": False, "runtime_tuning.gpudirect_rdma": False, "runtime_tuning.virt": "bare",
     "runtime_tuning.fabric": "RoCE", "notes": "full fine-tune on one node"},
]
EXAMPLE_PHASES = [
    ("llama_70b_chat", "business_peak", 600, 1.0, 1.0, "peak", ""),
    ("llama_70b_chat", "launch_spike", 120, 1.0, 1.4, "spike", ""),
    ("llama_70b_chat", "night", 720, 1.0, 0.5, "low", ""),
]
REQUEST_PROFILES = [  # profile, load factor, arrival CV
    ("steady", 0.70, 1.0), ("peak", 0.85, 1.1), ("spike", 1.15, 1.3), ("low", 0.40, 0.8),
]


def write_simulator_catalogs(reference):
    throughput = pd.read_csv(ROOT / "catalogs" / "throughput.csv")
    hardware, targets = derive_simulator(reference, throughput)
    for row in range(1, 3):
        targets.loc[row, "notes"] += (" [atlas_xl: the published file keeps hourly_usd at this value despite the "
                                      "note; kept as published — set it to 0 if you own the hardware]")
    workloads, phases = derive_workloads(reference)
    for w in EXAMPLE_WORKLOADS:
        workloads.append(dict(w, source=EXAMPLE_SOURCE, as_of="2026-11-23"))
    for workload, name, minutes, scale, autoscale, profile, overrides in EXAMPLE_PHASES:
        phases.append({"workload": workload, "phase": name, "duration_minutes": minutes, "tokens_scale": scale,
                       "autoscale_factor": autoscale, "request_profile": profile, "overrides": overrides,
                       "source": EXAMPLE_SOURCE, "as_of": "2026-11-23", "notes": ""})
    profiles = pd.DataFrame([{
        "profile": p, "load_factor": load, "arrival_cv": cv,
        "source": f"{FABRIC_REPO}/atlas_fabric/adapter.py request profiles, as reported in shared/research/peers_and_physics.md section 1.4",
        "as_of": "2025-10-07",
        "notes": "load_factor = arrival rate / nominal capacity; arrival_cv = coefficient of variation of inter-arrival times"}
        for p, load, cv in REQUEST_PROFILES])
    out = ROOT / "catalogs"

    targets["gpu"] = targets.target.map(TARGET_GPUS).fillna("")
    workloads = pd.DataFrame(workloads)
    workloads["model"] = workloads.workload.map(WORKLOAD_MODELS).fillna("")

    def ordered(name, frame):
        return frame.reindex(columns=[c.name for c in SCHEMAS[name][0]])

    hardware, targets = ordered("hardware_models", hardware), ordered("targets", targets)
    workloads = ordered("workloads", workloads)
    phases = ordered("phases", pd.DataFrame(phases))
    hardware.to_csv(out / "hardware_models.csv", index=False)
    targets.to_csv(out / "targets.csv", index=False)
    workloads.to_csv(out / "workloads.csv", index=False)
    phases.to_csv(out / "phases.csv", index=False)
    profiles.to_csv(out / "request_profiles.csv", index=False)
    print(f"wrote {len(hardware)} hardware models, {len(targets)} targets, {len(workloads)} workloads, "
          f"{len(phases)} phases, {len(profiles)} request profiles")


if __name__ == "__main__":
    data_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
    main(data_dir)
    write_simulator_catalogs(data_dir.parent / "reference" / "atlas_fabric")
