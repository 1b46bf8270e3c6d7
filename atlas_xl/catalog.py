"""Catalogs: the sourced data every model reads (the only module that reads ``catalogs/``).

A catalog is a set of tables — GPUs, models, traffic patterns, offerings, throughput — each a
CSV file in ``catalogs/``, a pandas DataFrame, or a 2-D list with a header row (what an Excel
range delivers). `load_catalog` accepts any of them, validates every cell against `SCHEMAS`,
and returns a `Catalog`; tables that are not given come from the built-in catalog.
"""
from __future__ import annotations

import codecs
import copy
import csv
import hashlib
import io
import math
import pickle
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from . import arguments, values
from .errors import CatalogError, InputError, unknown_name
from .files import atomic_output

BILLING = arguments.BILLING
MODES = ("training", "inference")
VIRT = ("bare", "sriov")
FABRICS = ("ib", "roce", "vendor", "nvlink", "fabric")
TRUE, FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "key", "text", "number", "int", "bool", "choice"
    doc: str
    required: bool = True
    minimum: float | None = None  # values must be >= minimum
    positive: bool = False  # values must be > 0
    maximum: float | None = None
    choices: tuple = ()  # allowed values of a "choice" column


def _provenance():
    return (
        Column("source", "text", "where the row's figures come from: URL, file and commit, or 'planner spec'"),
        Column("as_of", "text", "date of the source (YYYY-MM-DD) or 'undated'"),
        Column("notes", "text", "caveats, conversions, proxies", required=False),
    )


PRECISIONS = arguments.PRECISIONS


def _conditions():
    """Columns that say under which conditions a throughput was measured."""
    return (
        Column("tp", "int", "GPUs per replica (tensor parallel); blank = not published", required=False, positive=True),
        Column("dataset", "text", "benchmark dataset whose mean input length is fitted (MLPerf); blank = input_tokens",
               required=False),
        Column("input_tokens", "number", "input tokens per request (mean) [tokens]", required=False, positive=True),
        Column("output_tokens", "number", "output tokens per request (mean); blank = the dataset's fitted mean [tokens]",
               required=False, positive=True),
        Column("ttft_ms", "number", "p99 time-to-first-token limit; blank = none [ms]", required=False, positive=True),
        Column("tpot_ms", "number", "p99 time-per-output-token limit; blank = none [ms]", required=False, positive=True),
    )


SCHEMAS = {
    "gpus": (
        (
            Column("gpu", "key", "GPU key used everywhere else (h100_sxm)"),
            Column("name", "text", "display name"),
            Column("vendor", "text", "NVIDIA, AMD, ..."),
            Column("bf16_dense_tflops", "number", "dense BF16 peak [TFLOPS]", False, 0),
            Column("fp8_dense_tflops", "number", "dense FP8 peak [TFLOPS]", False, 0),
            Column("fp4_dense_tflops", "number", "dense FP4 peak [TFLOPS]; blank = no FP4 tensor cores", False, 0),
            Column("memory_gb", "number", "accelerator memory [GB]", True, positive=True),
            Column("memory_bandwidth_tb_s", "number", "memory bandwidth [TB/s]", True, positive=True),
            Column("tdp_w", "number", "board power [W]", False, 0),
            Column("interconnect_gb_s", "number", "scale-up interconnect per GPU, one direction [GB/s]; "
                   "blank = PCIe Gen4 x16 (32 GB/s)", False, positive=True),
            Column("scale_up_gpus", "int", "GPUs in one scale-up (NVLink / Infinity Fabric) domain: 8 for an HGX "
                   "board, 72 for an NVL72 rack; blank = 8 (one server)", False, positive=True),
            Column("scale_out_gb_s", "number", "scale-out network (NIC) per GPU, one direction [GB/s]; blank = one "
                   "400 Gb/s NIC (50 GB/s)", False, positive=True),
            *_provenance(),
        ),
        ("gpu",),
    ),
    "models": (
        (
            Column("model", "key", "model key (llama_70b)"),
            Column("name", "text", "display name"),
            Column("params_b", "number", "total parameters [billions]", positive=True),
            Column("active_params_b", "number", "parameters used per token [billions]", positive=True),
            Column("layers", "int", "transformer layers", positive=True),
            Column("hidden_size", "int", "model width", positive=True),
            Column("attention_heads", "int", "query heads", positive=True),
            Column("kv_heads", "int", "key/value heads (GQA)", positive=True),
            Column("head_dim", "int", "dimension per head", positive=True),
            Column("context_length", "int", "maximum context [tokens]", positive=True),
            Column("experts", "int", "routed experts (mixture of experts); blank = dense", required=False, positive=True),
            Column("experts_per_token", "int", "routed experts each token uses; blank = dense", required=False,
                   positive=True),
            Column("kv_latent_dim", "int", "MLA latent KV width per layer (kv_lora_rank + qk_rope_head_dim); "
                   "blank = grouped-query attention", required=False, positive=True),
            Column("sliding_window", "int", "tokens a sliding-window attention layer attends to (config.json "
                   "sliding_window); blank = none", required=False, positive=True),
            Column("sliding_window_layers", "int", "layers with sliding-window attention (config.json layer_types); "
                   "blank = none", required=False, positive=True),
            *_provenance(),
        ),
        ("model",),
    ),
    "patterns": (
        (
            Column("pattern", "key", "traffic pattern key (steady)"),
            Column("active_ratio", "number", "share of the week with traffic [0-1]", positive=True, maximum=1.0),
            Column("efficiency", "number", "batching/scheduling efficiency [unitless]", positive=True),
            Column("burst_factor", "number", "peak over average while active [unitless]", positive=True),
            Column("batch_multiplier", "number", "throughput gain from batching [unitless]", positive=True),
            Column("ramps_per_week", "number", "times a week the load rises from quiet to active (autoscaling "
                   "scale-ups) [1/week]; blank = unknown", required=False, minimum=0),
            Column("description", "text", "what the pattern means", required=False),
            *_provenance(),
        ),
        ("pattern",),
    ),
    "offerings": (
        (
            Column("platform", "key", "platform key (runpod)"),
            Column("gpu", "key", "GPU key; blank for per-token offerings", required=False),
            Column("model", "key", "model key for per-token offerings; blank for GPU offerings", required=False),
            Column("billing", "choice", "autoscaling | dedicated | per_token", choices=BILLING),
            Column("hourly_usd", "number", "price per GPU-hour [USD/h]; blank for per_token", False, 0),
            Column("price_per_m_tokens", "number", "price per million tokens, input and output 1:1 [USD/Mtok]; "
                   "per_token only", False, 0),
            Column("price_in_per_m_tokens", "number", "price per million input tokens [USD/Mtok]; blank = the "
                   "blended price", False, 0),
            Column("price_out_per_m_tokens", "number", "price per million output tokens [USD/Mtok]; blank = the "
                   "blended price", False, 0),
            *_provenance(),
            # last, after notes: rows written positionally before issue 20 stay valid
            Column("price_cached_in_per_m_tokens", "number", "price per million cached (prompt-cache hit) input "
                   "tokens [USD/Mtok]; blank = not listed (billed as fresh input)", False, 0),
        ),
        ("platform", "gpu", "model"),
    ),
    "throughput": (
        (
            Column("gpu", "key", "GPU key"),
            Column("model", "key", "model key"),
            Column("precision", "choice", "weight precision of the measurement: bf16 | fp16 | fp8 | fp4",
                   choices=PRECISIONS),
            Column("tokens_per_s", "number", "measured output tokens per second per GPU [tokens/s]", positive=True),
            *_conditions(),
            *_provenance(),
        ),
        ("gpu", "model", "precision"),
    ),
    "serving_benchmarks": (
        (
            Column("benchmark", "key", "mlperf_server | mlperf_interactive | mlperf_offline | trtllm_max_load | inferencex "
                                      "| inferencex_mtp | independent"),
            Column("gpu", "key", "GPU key"),
            Column("model", "key", "model key"),
            Column("precision", "choice", "weight precision: bf16 | fp16 | fp8 | fp4", choices=PRECISIONS),
            Column("tokens_per_s", "number", "measured output tokens per second per GPU [tokens/s]", positive=True),
            *_conditions(),
            Column("concurrency", "int", "concurrent requests per replica (closed loop); blank = open arrivals",
                   required=False, positive=True),
            *_provenance(),
        ),
        ("benchmark", "gpu", "model", "precision", "tp", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms",
         "concurrency", "source"),
    ),
    "gpu_tco": (
        (
            Column("gpu", "key", "GPU key"),
            Column("tier", "choice", "hyperscaler_owned | neocloud_owned | rental_3yr",
                   choices=("hyperscaler_owned", "neocloud_owned", "rental_3yr")),
            Column("usd_per_gpu_hour", "number", "total cost of ownership per GPU-hour [USD/h]", positive=True),
            *_provenance(),
        ),
        ("gpu", "tier"),
    ),
    "serving_calibration": (
        (
            Column("parameter", "key", "factor of the serving model (atlas_xl.serving)"),
            Column("value", "number", "fitted or stated value [see units]", minimum=0),
            Column("units", "text", "units of the value", required=False),
            *_provenance(),
        ),
        ("parameter",),
    ),
}
"""Every catalog table: its columns (name, kind, documentation with units) and key columns."""

def _numbers(prefix, names, doc, **kw):
    return tuple(Column(f"{prefix}{n}", "number", doc.format(n=n), **kw) for n in names)


SCHEMAS.update({
    "hardware_models": (
        (
            Column("hardware_model", "key", "hardware model key (nvidia, groq, sambanova)"),
            Column("vendor", "text", "vendor"),
            Column("description", "text", "what the coefficient set describes", required=False),
            Column("compute.base_tokens_per_accel", "number", "B_base: base token rate per accelerator [tokens/s]", positive=True),
            Column("compute.factors.training", "number", "f_vendor(training) [unitless]", positive=True),
            Column("compute.factors.inference", "number", "f_vendor(inference) [unitless]", positive=True),
            Column("compute.comm_penalty_coeff", "number", "kappa_comm: FLOP penalty per unit of comm overhead [unitless]", minimum=0),
            Column("utilization.base", "number", "rho_base [0-1]", positive=True, maximum=1.0),
            Column("utilization.knob_increments.cuda_graphs", "number", "delta_rho with CUDA graphs [unitless]", minimum=0),
            Column("utilization.knob_increments.gpudirect_rdma", "number", "delta_rho with GPUDirect RDMA [unitless]", minimum=0),
            Column("utilization.knob_increments.inference_bonus", "number", "delta_rho in inference mode [unitless]", minimum=0),
            Column("utilization.max", "number", "rho_max [0-1]", positive=True, maximum=1.0),
            Column("communication.intensity.base", "number", "chi_base [unitless]", minimum=0),
            Column("communication.intensity.per_tp", "number", "chi_tp per extra TP stage [unitless]", minimum=0),
            Column("communication.intensity.per_pp", "number", "chi_pp per extra PP stage [unitless]", minimum=0),
            Column("communication.intensity.inference_scale", "number", "chi_infer_scale [unitless]", minimum=0),
            *_numbers("communication.fabric_factors.", FABRICS, "gamma_fabric on fabric {n} [unitless]; blank = not available",
                      required=False, positive=True),
            Column("communication.jitter_per_sriov", "number", "SR-IOV jitter: gamma_jitter = 1 + this [unitless]", minimum=0),
            Column("communication.gpudirect_multiplier", "number", "gamma_gpudirect when GPUDirect RDMA is on [unitless]", positive=True),
            Column("communication.min_overhead", "number", "omega_min: floor of the comm overhead [unitless]", minimum=0),
            Column("throughput.overhead_weight", "number", "omega: weight of comm overhead on throughput [unitless]", minimum=0),
            Column("latency.min_p50_ms", "number", "lat_min: p50 floor [ms]", minimum=0),
            Column("latency.base_p50_coeff", "number", "lat_base_coeff: p50 = coeff / per-accelerator rate [ms x tokens/s]", minimum=0),
            Column("latency.ttft_ratio", "number", "r_ttft: TTFT / p50 [unitless]", minimum=0),
            Column("latency.tail.p95_multiplier", "number", "m95 [unitless]", positive=True),
            Column("latency.tail.p99_multiplier", "number", "m99 [unitless]", positive=True),
            Column("latency.tail.sriov_tail", "number", "tail_sriov [unitless]", minimum=0),
            Column("latency.tail.comm_tail", "number", "tail_comm [unitless]", minimum=0),
            Column("hbm.base", "number", "HBM utilization floor [0-1]", minimum=0, maximum=1.0),
            Column("hbm.seq_scale", "number", "HBM utilization per seq_norm tokens [unitless]", minimum=0),
            Column("hbm.seq_norm", "number", "sequence-length normaliser [tokens]", positive=True),
            Column("hbm.max", "number", "HBM utilization cap [0-1]", minimum=0, maximum=1.0),
            Column("noise.amplitude", "number", "sigma_noise: epsilon ~ U[-a/2, a/2] [unitless]", minimum=0),
            Column("noise.tail_scale", "number", "sigma_tail: tail noise = epsilon x this [unitless]", minimum=0),
            Column("power.idle_fraction", "number", "phi_idle: share of node power when idle [0-1]", minimum=0, maximum=1.0),
            Column("power.util_fraction", "number", "phi_util: extra share at full utilization [0-1]", minimum=0, maximum=1.0),
            *_provenance(),
        ),
        ("hardware_model",),
    ),
    "targets": (
        (
            Column("target", "key", "target key (nvidia_h100_8x_nvlink)"),
            Column("vendor", "text", "vendor"),
            Column("hardware_model", "key", "hardware model whose coefficients apply"),
            Column("gpu", "key", "GPU of gpus.csv the serving model uses for the base rate; blank = the "
                   "hardware model's base_tokens_per_accel", required=False),
            Column("instance_type", "text", "instance or system name", required=False),
            Column("accelerators_per_node", "int", "accelerators per node", positive=True),
            Column("num_nodes", "int", "nodes", positive=True),
            Column("memory_gb_per_accel", "number", "memory per accelerator [GB]", False, 0),
            Column("interconnect.type", "text", "NVLink, IB, RoCE, Fabric...", required=False),
            Column("interconnect.bw_gbps", "number", "interconnect bandwidth [GB/s]", False, 0),
            Column("cost.hourly_usd", "number", "price of one node [USD/h]", minimum=0),
            Column("cost.energy_watts_node", "number", "p_node_nominal: node power [W]", minimum=0),
            Column("cost.pue", "number", "power usage effectiveness [unitless, >= 1]", minimum=1.0),
            *_provenance(),
        ),
        ("target",),
    ),
    "workloads": (
        (
            Column("workload", "key", "workload key (llama_70b_chat)"),
            Column("mode", "choice", "training | inference", choices=MODES),
            Column("model_family", "text", "model family", required=False),
            Column("model", "key", "model of models.csv served (inference); blank = built from params.*",
                   required=False),
            *(Column(f"params.{n}", "int", f"model {n.replace('_', ' ')} (descriptive)", required=False, positive=True)
              for n in ("hidden_size", "n_layers", "vocab_size", "n_heads")),
            Column("parallelism.tp", "int", "tensor-parallel degree", positive=True),
            Column("parallelism.pp", "int", "pipeline-parallel degree", positive=True),
            Column("parallelism.dp", "int", "data-parallel replicas (queue servers)", positive=True),
            Column("sequence.prompt", "int", "prompt tokens per request or sample [tokens]", minimum=0),
            Column("sequence.generate", "int", "generated tokens per request [tokens]", minimum=0),
            Column("precision.weights", "text", "weight precision (descriptive)", required=False),
            Column("precision.activations", "text", "activation precision (descriptive)", required=False),
            Column("runtime_tuning.microbatch", "int", "microbatch per replica [samples]", positive=True),
            Column("runtime_tuning.cuda_graphs", "bool", "CUDA graphs on (TRUE/FALSE)"),
            Column("runtime_tuning.gpudirect_rdma", "bool", "GPUDirect RDMA on (TRUE/FALSE)"),
            Column("runtime_tuning.virt", "choice", "bare | sriov", choices=VIRT),
            Column("runtime_tuning.fabric", "key", "fabric: ib, roce, vendor, nvlink, fabric"),
            Column("arrival.profile", "key", "request profile (steady, peak, spike, low); blank = steady", required=False),
            Column("arrival.requests_per_sec", "number", "explicit arrival rate; blank = profile x capacity [requests/s]",
                   required=False, positive=True),
            Column("arrival.cs2", "number", "squared CV of service time; blank = 1 [unitless]", required=False, minimum=0),
            Column("arrival.servers", "int", "queue servers; blank = parallelism.dp", required=False, positive=True),
            *_provenance(),
        ),
        ("workload",),
    ),
    "phases": (
        (
            Column("workload", "key", "workload the phase belongs to"),
            Column("phase", "key", "phase name"),
            Column("duration_minutes", "number", "w_i: phase duration [min]", positive=True),
            Column("tokens_scale", "number", "throughput scale of the phase [unitless]", positive=True),
            Column("autoscale_factor", "number", "capacity (and power) scale of the phase [unitless]", positive=True),
            Column("request_profile", "key", "request profile during the phase; blank = the workload's", required=False),
            Column("overrides", "text", "workload overrides: 'parallelism.dp=12; sequence.prompt=2048'", required=False),
            *_provenance(),
        ),
        ("workload", "phase"),
    ),
    "request_profiles": (
        (
            Column("profile", "key", "request profile key"),
            Column("load_factor", "number", "arrival rate / nominal capacity [unitless]", positive=True),
            Column("arrival_cv", "number", "coefficient of variation of inter-arrival times [unitless]", minimum=0),
            *_provenance(),
        ),
        ("profile",),
    ),
})

# -- commitments (finance, issue 14): reserved / committed prices with their minimum term ------
TERMS = arguments.TERMS
SCHEMAS["commitments"] = (
    (
        Column("platform", "key", "platform key; blank = a market reference price for any platform", required=False),
        Column("gpu", "key", "GPU key"),
        Column("term", "choice", "commitment term: 1y | 3y", choices=TERMS),
        Column("hourly_usd", "number", "committed price per GPU-hour [USD/h]", positive=True),
        Column("min_term_months", "int", "months the commitment must be paid for [months]", positive=True),
        *_provenance(),
    ),
    ("platform", "gpu", "term"),
)

# -- FX rates (finance, issue 20): dated reference rates for budgets in EUR, GBP, ... ----------------
SCHEMAS["fx_rates"] = (
    (
        Column("currency", "key", "ISO 4217 code (EUR, GBP, USD, ...)"),
        Column("date", "text", "the rate's date (YYYY-MM-DD)"),
        Column("units_per_eur", "number", "units of the currency that one euro buys (ECB quote; EUR = 1) [unit/EUR]",
               positive=True),
        *_provenance(),
    ),
    ("currency", "date"),
)

# -- grid carbon intensity (footprint, issue 19): grams CO2e per kWh by region ------------------------
SCHEMAS["grid_intensity"] = (
    (
        Column("region", "key", "grid region key (a country, or world)"),
        Column("name", "text", "region name"),
        Column("g_co2e_per_kwh", "number", "emissions per kWh of electricity generated [gCO2e/kWh]", minimum=0,
               maximum=1500),
        Column("basis", "text", "what is counted: lifecycle, or direct combustion only"),
        Column("year", "int", "the year the intensity is for", positive=True),
        *_provenance(),
    ),
    ("region",),
)

FILES = {name: f"{name}.csv" for name in SCHEMAS}

# -- reading limits and plausibility (docs/limits.md) -------------------------------------------
MAX_FILE_BYTES = 20 * 1024 * 1024  # a catalog CSV; the built-in ones are < 20 kB
MAX_ROWS = 100_000
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
MAX_ERRORS_SHOWN = 20
ANY_NUMBER = (1e-12, 1e15)
"""Every numeric cell: zero, or a magnitude in this range. 1e15 keeps products of four catalog
figures below 1e60, far from float overflow (1.8e308); below 1e-12 a figure is a typing error
or a subnormal float that arithmetic loses."""

PLAUSIBLE = {
    # (table, column): (lowest, highest, why) — inclusive; a value outside is refused naming the cell
    ("gpus", "bf16_dense_tflops"): (0, 1e5, "20x the densest GPU in data/gpu_specs.csv (B200: 2250 BF16, 4500 FP8)"),
    ("gpus", "fp8_dense_tflops"): (0, 1e5, "as bf16_dense_tflops"),
    ("gpus", "memory_gb"): (1, 4096, "14x the largest HBM per GPU shipping (288 GB, B300)"),
    ("gpus", "memory_bandwidth_tb_s"): (0, 100, "12x B200's 8 TB/s"),
    ("gpus", "tdp_w"): (0, 10_000, "10x B200's 1000 W"),
    ("models", "params_b"): (1e-3, 1e5, "100 trillion parameters; the largest published models are ~2 trillion"),
    ("models", "active_params_b"): (1e-3, 1e5, "as params_b"),
    ("models", "context_length"): (1, 1e9, "1000x the longest published context windows (1-10 M tokens)"),
    ("models", "experts"): (1, 100_000, "~400x the most routed experts published (256, DeepSeek-R1)"),
    ("models", "experts_per_token"): (1, 100_000, "as experts, and never more than experts (checked per row)"),
    ("models", "sliding_window"): (1, 1e9, "as models.context_length"),
    ("models", "sliding_window_layers"): (1, 10_000, "as models.layers"),
    ("patterns", "efficiency"): (1e-3, 10, "a batching efficiency; the built-in patterns use 0.5-1.2"),
    ("patterns", "burst_factor"): (1e-3, 1000, "peak over average; the built-in patterns use 1-3"),
    ("patterns", "batch_multiplier"): (1e-3, 1000, "throughput gain from batching; built-in 0.8-2"),
    ("offerings", "hourly_usd"): (0, 1000, "~100x the dearest on-demand GPU-hour in data/cloud_and_api_prices.csv"),
    ("offerings", "price_per_m_tokens"): (0, 10_000, "~16x the dearest published API price (600 USD/Mtok)"),
    ("throughput", "tokens_per_s"): (1e-3, 1e8, "compute bound of a 0.1B model on 9 PFLOPS (2x B200 FP8) = 4.5e7 tokens/s"),
    ("throughput", "tp"): (1, 100_000, "GPUs per replica; the largest announced clusters hold ~1e5 GPUs"),
    ("throughput", "input_tokens"): (0, 1e9, "as models.context_length"),
    ("throughput", "output_tokens"): (0, 1e9, "as models.context_length"),
    ("gpus", "fp4_dense_tflops"): (0, 1e5, "as bf16_dense_tflops"),
    ("gpus", "interconnect_gb_s"): (0, 1e5, "55x NVLink 5 (1800 GB/s per GPU)"),
    ("gpus", "scale_up_gpus"): (1, 100_000, "the largest announced NVLink domain holds 576 GPUs (NVL576)"),
    ("offerings", "price_in_per_m_tokens"): (0, 10_000, "as price_per_m_tokens"),
    ("offerings", "price_out_per_m_tokens"): (0, 10_000, "as price_per_m_tokens"),
    ("offerings", "price_cached_in_per_m_tokens"): (0, 10_000, "as price_per_m_tokens"),
    ("targets", "accelerators_per_node"): (1, 10_000, "a rack-scale node holds 72 (GB200 NVL72)"),
    ("targets", "num_nodes"): (1, 1_000_000, "more nodes than any cluster"),
    ("targets", "cost.hourly_usd"): (0, 100_000, "1000 USD/GPU-h x 72 GPUs, rounded up"),
    ("targets", "cost.energy_watts_node"): (0, 1e7, "75x a GB200 NVL72 rack (~132 kW)"),
    ("targets", "cost.pue"): (1, 5, "PUE >= 1 by definition; 5 is ~3x the 2023 industry average 1.58"),
    ("workloads", "parallelism.tp"): (1, 1_000_000, "a degree of parallelism above 1e6 exceeds any cluster"),
    ("workloads", "parallelism.pp"): (1, 1_000_000, "as parallelism.tp"),
    ("workloads", "parallelism.dp"): (1, 1_000_000, "as parallelism.tp"),
    ("workloads", "sequence.prompt"): (0, 1e9, "as models.context_length"),
    ("workloads", "sequence.generate"): (0, 1e9, "as models.context_length"),
    ("workloads", "runtime_tuning.microbatch"): (1, 1_000_000, "samples per replica"),
    ("phases", "duration_minutes"): (0, 527_040, "one leap year"),
}
"""Plausibility ranges per catalog column, beyond the schema's own sign rules (docs/limits.md)."""


def normalize_key(value):
    """The canonical spelling of a name: trimmed, lower case, spaces and hyphens as '_'."""
    if type(value) is str:  # the common case, looked up: a plan() normalises its names ~9 times
        key = _KEYS.get(value)
        if key is None:
            key = "_".join(value.strip().lower().replace("-", " ").split())
            if len(_KEYS) > 4096:
                _KEYS.clear()
            _KEYS[value] = key
        return key
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return "_".join(str(value).strip().lower().replace("-", " ").split())


_KEYS = {}
"""normalize_key's text → key, by content (text is immutable)."""


def parse_bool(value, at="value", error=CatalogError):
    """TRUE/FALSE from Excel, true/yes/1/on or false/no/0/off as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise error(f"{at}: {value!r} is not TRUE or FALSE")


def _is_blank(value):
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _cell(value, column, where, table=None):
    """Validate and convert one cell; ``where`` names the file/table and row for messages."""
    at = f"{where}, column {column.name}"
    if _is_blank(value):
        if column.required:
            raise CatalogError(f"{at}: empty — fill it in ({column.doc})")
        return math.nan if column.kind in ("number", "int") else ""
    if column.kind in ("number", "int"):
        if isinstance(value, bool):
            raise CatalogError(f"{at}: {value!r} is not a number — enter {column.doc}")
        try:
            number = _number(value)
        except InputError as error:  # decimal comma, other digits, nan/inf, 1e400: the parser's own fix
            raise CatalogError(f"{at}: {str(error).removeprefix('value ')}") from None
        except (TypeError, ValueError, OverflowError):
            raise CatalogError(f"{at}: {value!r} is not a number — enter {column.doc}") from None
        if math.isnan(number) or math.isinf(number):
            raise CatalogError(f"{at}: {value!r} is not a finite number — enter {column.doc}")
        if column.minimum is not None and number < column.minimum:
            raise CatalogError(f"{at}: {number:g} is negative — enter a value >= {column.minimum:g}")
        if column.positive and number <= 0:
            raise CatalogError(f"{at}: {number:g} must be greater than 0")
        if column.maximum is not None and number > column.maximum:
            raise CatalogError(f"{at}: {number:g} is above {column.maximum:g} — enter {column.doc}")
        _plausible(table, column, number, at)
        if column.kind == "int":
            if number != int(number):
                raise CatalogError(f"{at}: {number:g} is not a whole number")
            return int(number)
        return number
    value = values.from_spreadsheet_text(value)  # a catalog exported by atlas-xl (values.write_csv)
    if column.kind == "key":
        key = normalize_key(value)
        if not key and column.required:
            raise CatalogError(f"{at}: {values.shown(value)} is not a usable name — use letters or digits")
        return key
    if column.kind == "choice":
        choice = normalize_key(value)
        if choice not in column.choices:
            raise CatalogError(f"{at}: {column.name} {value!r} is unknown — use one of {', '.join(column.choices)}")
        return choice
    if column.kind == "bool":
        return parse_bool(value, at)
    text = str(value).strip()
    if len(text) > MAX_CELL_CHARS:
        raise CatalogError(f"{at}: {len(text):,} characters — keep a cell under {MAX_CELL_CHARS:,}")
    return text


def _number(value):
    """A cell as a float with the project's one value parser (text) or as given (numbers)."""
    if isinstance(value, str):
        number = values.parse_value(value)
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ValueError(value)
        return float(number)
    return float(value)


def _plausible(table, column, number, at):
    lowest, highest, why = PLAUSIBLE.get((table, column.name), (None, None, ""))
    if lowest is not None and not lowest <= number <= highest:
        raise CatalogError(f"{at}: {number:g} is outside the plausible range {lowest:g} to {highest:g} "
                           f"({why}) — check the value, or the unit: {column.doc}")
    if number != 0 and not ANY_NUMBER[0] <= abs(number) <= ANY_NUMBER[1]:
        raise CatalogError(f"{at}: {number:g} is not a plausible catalog figure (give 0 or a magnitude "
                           f"between {ANY_NUMBER[0]:g} and {ANY_NUMBER[1]:g}) — check the value: {column.doc}")


def _rows_of(table):
    """(header, rows) from a DataFrame or a 2-D list whose first row is the header."""
    if isinstance(table, pd.DataFrame):
        return [str(c) for c in table.columns], table.astype(object).values.tolist()
    rows = [list(r) for r in table]
    if not rows:
        raise CatalogError("empty table — give a header row and at least one data row")
    header = [normalize_key(h) for h in rows[0]]
    body = [r for r in rows[1:] if not all(_is_blank(v) for v in r)]  # Excel ranges carry blank tails
    return header, body


def validate_table(name, table, where=None, row_numbers=True):
    """Check one table against its schema; returns a clean DataFrame in schema column order.

    Errors name the file (or table), the row as a spreadsheet shows it (header = row 1) and the
    column.
    """
    if name not in SCHEMAS:
        raise CatalogError(f"unknown catalog table '{name}' — known: {', '.join(SCHEMAS)}")
    where = where or f"table {name}"
    columns, keys = SCHEMAS[name]
    header, body = _rows_of(table)
    header = [normalize_key(h) for h in header]
    index = {h: i for i, h in enumerate(header) if h}
    missing = [c.name for c in columns if c.name not in index and (c.required or c.kind == "key")]
    if missing:
        raise CatalogError(f"{where}: missing column {', '.join(missing)} — the header needs "
                           f"{', '.join(c.name for c in columns)}")
    if not body:
        raise CatalogError(f"{where}: no data rows — a {name} table needs at least one row under its header")
    out = {c.name: [] for c in columns}
    seen = {}
    for number, raw in enumerate(body, start=2):
        at = f"{where} row {number}" if row_numbers else where
        for column in columns:
            i = index.get(column.name)
            value = raw[i] if i is not None and i < len(raw) else None
            out[column.name].append(_cell(value, column, at, name))
        key = tuple(out[k][-1] for k in keys)
        if key in seen:
            raise CatalogError(f"{at}, column {keys[0]}: duplicate key {'/'.join(str(k) if k not in (None, '') else '-' for k in key)} "
                               f"(also row {seen[key]}) — keep one row per key")
        seen[key] = number
        if name == "offerings":
            _check_offering(out, at)
        if name == "models":
            _check_experts(out, at)
    frame = pd.DataFrame(out, columns=[c.name for c in columns])
    for column in columns:
        if column.kind == "int" and not frame[column.name].isna().any():
            frame[column.name] = frame[column.name].astype("int64")
        elif column.kind in ("number", "int"):
            frame[column.name] = frame[column.name].astype("float64")
    return frame


def validate_record(name, record, where):
    """Check one record (a dict) against a table's schema without pandas; returns a clean dict
    without blank cells. Same rules and messages as `validate_table`."""
    columns, _ = SCHEMAS[name]
    clean = {}
    for column in columns:
        value = _cell(record.get(column.name), column, where, name)
        if not (value == "" or (isinstance(value, float) and math.isnan(value))):
            clean[column.name] = value
    return clean


def _check_experts(out, at):
    experts, used = out["experts"][-1], out["experts_per_token"][-1]
    if not (math.isnan(used) or math.isnan(experts)) and used > experts:
        raise CatalogError(f"{at}, column experts_per_token: {used:g} is more than the model's {experts:g} experts "
                           "— a token uses some of the experts")
    if math.isnan(used) != math.isnan(experts):
        raise CatalogError(f"{at}, column experts_per_token: give both experts and experts_per_token (mixture of "
                           "experts) or neither (dense)")


def _check_offering(out, at):
    billing, gpu, model = out["billing"][-1], out["gpu"][-1], out["model"][-1]
    hourly, price = out["hourly_usd"][-1], out["price_per_m_tokens"][-1]
    if billing == "per_token":
        if not model or math.isnan(price):
            raise CatalogError(f"{at}, column price_per_m_tokens: a per_token offering needs a model "
                               "and price_per_m_tokens")
    elif not gpu or math.isnan(hourly):
        raise CatalogError(f"{at}, column hourly_usd: a {billing} offering needs a gpu and hourly_usd")


def _builtin_dir():
    return resources.files("atlas_xl.catalogs")


def _read_csv(source, label=None):
    """A catalog CSV file (path or binary/text handle) as a DataFrame of text cells.

    Encodings: UTF-8, with or without a byte-order mark; anything else is refused naming the
    encoding it looks like. Structure: every malformed row (wrong cell count, an unbalanced quote,
    semicolons as separators) is reported, one line each, with file, row and column.
    """
    label = label or Path(getattr(source, "name", str(source))).name
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise CatalogError(f"{label}: {size / 2**20:,.0f} MB — a catalog file may hold at most "
                                   f"{MAX_FILE_BYTES / 2**20:,.0f} MB")
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise CatalogError(f"cannot read catalog file '{path}': {error.strerror or error}") from None
    else:
        data = source.read(MAX_FILE_BYTES + 1)
    text = _decode(data if isinstance(data, bytes) else data.encode("utf-8"), label)
    return _parse_csv(text, label)


def _decode(data, label):
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CatalogError(f"{label}: the file is UTF-16 — save it as 'CSV UTF-8' (Excel: File > Save As > CSV UTF-8)")
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        raise CatalogError(f"{label}: the file is UTF-32 — save it as 'CSV UTF-8'")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        guess = "UTF-16 without a byte-order mark" if data[1:2] == b"\x00" or data[:1] == b"\x00" else \
            "Latin-1 / Windows-1252"
        raise CatalogError(f"{label} row {line}: byte 0x{data[error.start]:02X} is not UTF-8 (the file looks "
                           f"{guess}) — save it as 'CSV UTF-8'") from None


def _table_text(table):
    """A table's CSV text, for the catalog's fingerprint (compared, never written: files go through
    values.write_csv)."""
    return table.to_csv(index=False)  # fingerprint text


def _parse_csv(text, label):
    if not text.strip():
        raise CatalogError(f"{label}: the file is empty — give a header row and at least one data row")
    if "\x00" in text:
        raise CatalogError(f"{label}: the file holds NUL bytes — it is not a text CSV; save it as 'CSV UTF-8'")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, problems = [], []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                raise CatalogError(f"{label}: more than {MAX_ROWS:,} rows — a catalog table may hold at most "
                                   f"{MAX_ROWS:,}")
    except csv.Error as error:
        problems.append(f"{label} row {reader.line_num}: {_csv_problem(error)}")
    if not rows:
        raise CatalogError(f"{label}: the file is empty — give a header row and at least one data row")
    header = rows[0]
    if not any(cell.strip() for cell in header):
        raise CatalogError(f"{label} row 1: the header row is empty — the first line must name the columns")
    if len(header) == 1 and ";" in header[0]:
        raise CatalogError(f"{label} row 1: the columns are separated by ';' — save the file with commas "
                           "(Excel: CSV UTF-8, comma delimited)")
    width = len(header)
    body = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines
        if len(row) != width:
            column = header[len(row)] if len(row) < width else f"beyond {header[-1]!r}"
            hint = " (';' separators?)" if any(";" in cell for cell in row) else \
                " (a comma inside a value needs quotes: \"1,000\")" if len(row) > width else ""
            problems.append(f"{label} row {number}, column {column}: {len(row)} cells but the header has "
                            f"{width}{hint} — make every row as wide as the header")
            continue
        body.append(row)
    if problems:
        raise CatalogError(_lines(problems))
    return pd.DataFrame(body, columns=header, dtype=object) if body else pd.DataFrame(columns=header, dtype=object)


def _csv_problem(error):
    text = str(error)
    if "unexpected end of data" in text or "EOF" in text:
        return "a quoted value is never closed — balance the quotes (\"...\")"
    if "field larger than field limit" in text:
        return "a cell is longer than 131,072 characters — shorten it"
    return f"{text} — check the quotes and separators of this row"


def _lines(problems):
    shown = problems[:MAX_ERRORS_SHOWN]
    more = len(problems) - len(shown)
    return "\n".join(shown + ([f"... and {more} more malformed rows"] if more else []))


@dataclass(frozen=True, eq=False)
class Pattern:
    active_ratio: float
    efficiency: float
    burst_factor: float
    batch_multiplier: float


@dataclass(frozen=True, eq=False)
class Offering:
    platform: str
    gpu: str
    model: str
    billing: str
    hourly_usd: float
    price_per_m_tokens: float
    price_in_per_m_tokens: float = math.nan
    price_out_per_m_tokens: float = math.nan
    price_cached_in_per_m_tokens: float = math.nan  # blank: cached input billed as fresh input


class Catalog:
    """Validated catalog tables plus the lookups the models need (built once, O(1) each)."""

    def __init__(self, tables):
        self.tables = {name: tables[name] for name in SCHEMAS}
        self._check_references()
        self.patterns = _patterns(self.tables["patterns"])
        o = self.tables["offerings"]
        self.offerings = {(r.platform, r.gpu, r.model): Offering(
            r.platform, r.gpu, r.model, r.billing, r.hourly_usd, r.price_per_m_tokens, r.price_in_per_m_tokens,
            r.price_out_per_m_tokens, r.price_cached_in_per_m_tokens)
            for r in o.itertuples(index=False)}
        self.anchors = {(r["gpu"], r["model"], r["precision"]): r for r in _records(self.tables["throughput"], None)}
        self.model_specs = {r["model"]: _spec(r, MODEL_SPEC) for r in self.tables["models"].to_dict("records")}
        self.gpu_specs = {r["gpu"]: _spec(r, GPU_SPEC) for r in self.tables["gpus"].to_dict("records")}
        self.gpu_vendors = dict(zip(self.tables["gpus"].gpu, self.tables["gpus"].vendor))
        self.serving_calibration = dict(zip(self.tables["serving_calibration"].parameter,
                                            self.tables["serving_calibration"].value))
        self.models = set(self.tables["models"].model)
        self.gpus = set(self.tables["gpus"].gpu)
        self.platforms = sorted({k[0] for k in self.offerings})
        self._platform_set = frozenset(self.platforms)
        self.hardware_models = _records(self.tables["hardware_models"], "hardware_model")
        self.targets = _records(self.tables["targets"], "target")
        self.workloads = _records(self.tables["workloads"], "workload")
        self.request_profiles = _records(self.tables["request_profiles"], "profile")
        self.phases = {}
        for phase in _records(self.tables["phases"], None):
            self.phases.setdefault(phase["workload"], []).append(phase)
        self._csv = {n: _table_text(self.tables[n]) for n in SCHEMAS}  # kept: with_patterns reuses them
        self.fingerprint = _fingerprint(self._csv)

    def with_patterns(self, patterns):
        """This catalog with its patterns table replaced; only that table is validated and re-read.

        No other table refers to a pattern (`_check_references`), so the result is the catalog
        ``load_catalog({**self.tables, "patterns": patterns})`` builds, fingerprint included, at the
        cost of one small table (~1 ms, not ~130 ms): what a sensitivity's changed pattern needs (issue 21).
        """
        table = validate_table("patterns", patterns)
        derived = copy.copy(self)
        derived.tables = {**self.tables, "patterns": table}
        derived.patterns = _patterns(table)
        derived._csv = {**self._csv, "patterns": _table_text(table)}
        derived.fingerprint = _fingerprint(derived._csv)
        return derived

    def _check_references(self):
        t = self.tables
        known = {"gpu": set(t["gpus"].gpu), "model": set(t["models"].model),
                 "hardware_model": set(t["hardware_models"].hardware_model),
                 "workload": set(t["workloads"].workload), "profile": set(t["request_profiles"].profile)}
        checks = (("offerings", "gpu", "gpu"), ("offerings", "model", "model"), ("throughput", "gpu", "gpu"),
                  ("throughput", "model", "model"), ("serving_benchmarks", "gpu", "gpu"),
                  ("serving_benchmarks", "model", "model"), ("gpu_tco", "gpu", "gpu"),
                  ("targets", "hardware_model", "hardware_model"), ("targets", "gpu", "gpu"),
                  ("workloads", "model", "model"),
                  ("phases", "workload", "workload"), ("phases", "request_profile", "profile"),
                  ("workloads", "arrival.profile", "profile"))
        for name, field, kind in checks:
            for row, value in enumerate(t[name][field], start=2):
                if value and value not in known[kind]:
                    raise CatalogError(f"table {name} row {row}, column {field}: {unknown_name(kind, value, known[kind])}")

    # lookups ---------------------------------------------------------------------------------
    def pattern(self, name):
        key = normalize_key(name)
        try:
            return self.patterns[key]
        except KeyError:
            raise unknown_name("pattern", name, self.patterns) from None

    def check_model(self, name):
        key = normalize_key(name)
        if key not in self.models:
            raise unknown_name("model", name, self.models)
        return key

    def offering(self, platform, model, gpu=None):
        """The offering of ``platform`` that serves ``model`` (on ``gpu`` when given)."""
        platform, model, gpu = normalize_key(platform), normalize_key(model), normalize_key(gpu)
        if platform not in self._platform_set:
            raise unknown_name("platform", platform, self.platforms)
        if gpu:
            found = self.offerings.get((platform, gpu, ""))
            if found is None:
                gpus = sorted(k[1] for k in self.offerings if k[0] == platform and k[1])
                raise unknown_name("gpu", gpu, gpus, f" on platform '{platform}'")
            return found
        per_token = self.offerings.get((platform, "", model))
        if per_token is not None:
            return per_token
        serving = [o for k, o in self.offerings.items() if k[0] == platform and k[1]]
        if len(serving) == 1:
            return serving[0]
        if not serving:
            raise InputError(f"platform '{platform}' has no offering for model '{model}' — "
                               f"run `atlas-xl rank` to see which platforms serve it, or add a row")
        raise InputError(f"platform '{platform}' offers {model} on several GPUs — choose gpu: "
                           f"{', '.join(sorted(o.gpu for o in serving))}")

    def record(self, kind, name):
        """One row of a simulator table (targets, workloads, hardware_models, request_profiles) as a dict."""
        table = getattr(self, kind)
        key = normalize_key(name)
        if key not in table:
            raise unknown_name(kind.rstrip("s").replace("_", " "), name, table)
        return dict(table[key])

    def check_gpu(self, name):
        key = normalize_key(name)
        if key not in self.gpus:
            raise unknown_name("gpu", name, self.gpus)
        return key

    def serving(self, model):
        """Every offering that may serve ``model``: every GPU offering (the serving model estimates its
        throughput) and the per-token offerings of the model."""
        model = normalize_key(model)
        return [o for k, o in self.offerings.items() if k[1] or k[2] == model]

    def keys(self, table):
        """The key values of one table (for drop-downs and `catalog list`)."""
        if table == "platforms":
            return list(self.platforms)
        _, keys = SCHEMAS[table]
        frame = self.tables[table]
        return ["/".join(_key_text(v) for v in row if not _is_blank(v)) for row in frame[list(keys)].itertuples(index=False)]

    # conversions -----------------------------------------------------------------------------
    def to_frames(self):
        return {n: f.copy() for n, f in self.tables.items()}

    def to_lists(self):
        """Each table as a 2-D list with a header row; blanks are None (what Excel sends)."""
        return {n: [list(f.columns)] + [[None if _is_blank(v) else v for v in row]
                                        for row in f.astype(object).values.tolist()]
                for n, f in self.tables.items()}

    def to_csv(self, directory):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            with atomic_output(directory / FILES[name], overwrite=True) as temp:  # never half a file
                values.write_csv(frame, temp)  # text that looks like a formula stays text
        return directory


def _patterns(table):
    return {k: Pattern(*v) for k, *v in zip(
        table.pattern, table.active_ratio, table.efficiency, table.burst_factor, table.batch_multiplier)}


def _fingerprint(csv_texts):
    """Content digest of a catalog: its tables as CSV, in `SCHEMAS` order."""
    return hashlib.sha256("\n".join(csv_texts[n] for n in SCHEMAS).encode()).hexdigest()[:16]


MODEL_SPEC = {"params_b": None, "active_params_b": None, "layers": None, "hidden_size": None, "attention_heads": None,
              "kv_heads": None, "head_dim": None, "context_length": None, "experts": 0.0, "experts_per_token": 0.0,
              "kv_latent_dim": 0.0, "sliding_window": 0.0, "sliding_window_layers": 0.0}
GPU_SPEC = {"bf16_dense_tflops": math.nan, "fp8_dense_tflops": math.nan, "fp4_dense_tflops": math.nan,
            "memory_gb": None, "memory_bandwidth_tb_s": None, "tdp_w": math.nan, "interconnect_gb_s": 32.0,
            "scale_up_gpus": 8.0, "scale_out_gb_s": 50.0}
"""The numbers the serving model reads from a row, with the value a blank cell means (None: required).
A blank interconnect means PCIe Gen4 x16: 32 GB/s per direction; a blank scale-up domain one 8-GPU server; a blank
scale-out network one 400 Gb/s NIC per GPU (shared/data/gpu_specs.csv, InfiniBand NDR; serving.SCALE_OUT_GB_S)."""


def _key_text(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _spec(row, columns):
    return {c: float(default if _is_blank(row.get(c)) else row[c]) for c, default in columns.items()}


def _records(frame, key):
    """Rows as dicts without blank cells (so that a blank means "not given"), keyed by ``key``."""
    rows = [{k: v for k, v in row.items() if not _is_blank(v)} for row in frame.to_dict("records")]
    return rows if key is None else {row[key]: row for row in rows}


_BUILTIN = None


DISAGGREGATED_BENCHMARKS = "disaggregated_benchmarks.csv"
"""Measured disaggregated prefill/decode points (SemiAnalysis InferenceX DeepSeek-R1, ``disagg = True``, the
points whose limits bind), derived by scripts/derive_disaggregated.py: the back-test of `atlas_xl.disaggregated`.
Evidence, not a catalog table: a user's catalog does not replace it."""


def disaggregated_benchmarks():
    """The shipped disaggregated back-test points as a DataFrame (`DISAGGREGATED_BENCHMARKS`)."""
    with (_builtin_dir() / DISAGGREGATED_BENCHMARKS).open("rb") as handle:
        return _read_csv(handle, DISAGGREGATED_BENCHMARKS)


def builtin_catalog():
    """The catalog shipped with the package (loaded once)."""
    global _BUILTIN
    if _BUILTIN is None:
        root = _builtin_dir()
        tables = {}
        for name, file in FILES.items():
            with (root / file).open("rb") as handle:
                tables[name] = validate_table(name, _read_csv(handle, file), where=file)
        _BUILTIN = Catalog(tables)
    return _BUILTIN


def load_catalog(path_or_tables=None):
    """Load and validate a catalog.

    Parameters
    ----------
    path_or_tables : None, str, Path, dict or Catalog
        None → the built-in catalog. A directory → the ``*.csv`` files found there. A dict →
        table name to DataFrame, 2-D list (header row first) or CSV path. Tables that are not
        given come from the built-in catalog.
    """
    if path_or_tables is None:
        return builtin_catalog()
    if isinstance(path_or_tables, Catalog):
        return path_or_tables
    key = _content_key(path_or_tables)
    loaded = _LOADED.get(key) if key is not None else None
    if loaded is None:
        loaded = _load_catalog(path_or_tables)
        if key is not None:
            if len(_LOADED) >= 8:
                _LOADED.pop(next(iter(_LOADED)))  # the oldest
            _LOADED[key] = loaded
    return loaded


_LOADED = {}
"""Catalogs loaded from a folder or a dict, by `_content_key`: the same tables are validated once (issue 21)."""


def _content_key(path_or_tables):
    """A digest of everything `load_catalog` reads from a folder or a dict of tables: the files' bytes, and the
    tables given as objects pickled (same bytes, same content), in the order given; None when it cannot be
    had (the loader then says what is wrong). Never an object's identity, which a user's edit leaves as it was."""
    digest = hashlib.sha256()
    try:
        if isinstance(path_or_tables, (str, Path)):
            directory = Path(path_or_tables)
            for name, file in FILES.items():
                if (directory / file).is_file():
                    digest.update(b"%s\0%s\0" % (name.encode(), hashlib.sha256((directory / file).read_bytes()).digest()))
        elif isinstance(path_or_tables, dict):
            for name, table in path_or_tables.items():
                digest.update(pickle.dumps(name))
                if isinstance(table, (str, Path)):
                    digest.update(b"file\0" + hashlib.sha256(Path(table).read_bytes()).digest())
                else:
                    digest.update(b"table\0" + hashlib.sha256(pickle.dumps(table, protocol=5)).digest())
        else:
            return None
    except Exception:  # unreadable, unpicklable: load it uncached, and let the loader name the problem
        return None
    return digest.digest()


def _load_catalog(path_or_tables):
    base = builtin_catalog()
    tables = dict(base.tables)
    if isinstance(path_or_tables, (str, Path)):
        directory = Path(path_or_tables)
        if not directory.is_dir():
            raise CatalogError(f"catalog folder '{directory}' does not exist — give a folder of "
                               f"{', '.join(FILES.values())}")
        given = {n: directory / f for n, f in FILES.items() if (directory / f).exists()}
        if not given:
            raise CatalogError(f"no catalog files in '{directory}' — expected any of {', '.join(FILES.values())}")
        path_or_tables = given
    if not isinstance(path_or_tables, dict):
        raise CatalogError("catalog must be a folder, a dict of tables or None for the built-in one")
    for name, table in path_or_tables.items():
        name = normalize_key(name)
        if name not in SCHEMAS:
            raise CatalogError(f"unknown catalog table '{name}' — known: {', '.join(SCHEMAS)}")
        if table is None:
            continue
        if isinstance(table, (str, Path)):
            path = Path(table)
            if not path.exists():
                raise CatalogError(f"catalog file '{path}' does not exist")
            tables[name] = validate_table(name, _read_csv(path), where=path.name)
        else:
            tables[name] = validate_table(name, table)
    return Catalog(tables)
