"""The serving model: what one replica of a model on some GPUs delivers, from physics and calibration.

One replica is ``tp`` GPUs holding one copy of the weights (tensor parallel) and serving a batch of
``concurrency`` sequences with continuous batching. Every quantity is one function below (units in
brackets, scalars or numpy arrays); `estimate` chains them and picks the largest concurrency that
meets the time-to-first-token and time-per-output-token limits and fits in memory (exactly: the
TPOT is piecewise linear in the concurrency, `concurrency_within`).

The physics is a roofline: a decode step reads the weights once and every sequence's KV cache
(memory-bound) or multiplies every sequence's activations (compute-bound), whichever is slower,
plus tensor-parallel all-reduces over the scale-up interconnect and a fixed per-step overhead.
Prefill is compute-bound and interleaved with decode (chunked prefill), so it stretches the time
per output token. Three efficiency factors and the step overhead are fitted on measurements
(``catalogs/serving_calibration.csv``, `atlas_xl.calibration`); where a measured throughput of the
same GPU, model and precision exists (``catalogs/throughput.csv``) it anchors the estimate.

References: the roofline model (Williams, Waterman & Patterson, CACM 52(4), 2009); KV-cache size
and decode arithmetic as in Pope et al., "Efficiently Scaling Transformer Inference" (MLSys 2023);
chunked prefill as in Agrawal et al., "Sarathi-Serve" (OSDI 2024).
"""
from __future__ import annotations

import math

import numpy as np

from . import arguments
from .arith import floor, is_array, maximum, minimum, where
from .catalog import load_catalog, normalize_key
from .errors import InputError, unknown_name
from .record import Record
from .values import check_arguments

PRECISIONS = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 0.5625}
"""Bytes per weight. fp4 is NVFP4/MXFP4: 4-bit values plus one 8-bit scale per 16 values (4.5 bits)."""

TFLOPS_COLUMN = {"bf16": "bf16_dense_tflops", "fp16": "bf16_dense_tflops", "fp8": "fp8_dense_tflops",
                 "fp4": "fp4_dense_tflops"}
FALLBACK = {"fp4": ("fp4", "fp8", "bf16"), "fp8": ("fp8", "bf16"), "bf16": ("bf16",), "fp16": ("bf16",)}
"""Tensor-core precision used when a GPU lacks the weights' precision: weight-only quantization
(fp8 or fp4 weights, multiplied at the next wider precision the GPU has), as vLLM's Marlin kernels do."""

DEFAULT_PRECISION = arguments.get("precision").default
DEFAULT_INPUT_TOKENS = arguments.get("input_tokens").default
DEFAULT_OUTPUT_TOKENS = arguments.get("output_tokens").default
"""The stated default request shape: SemiAnalysis InferenceX's 1k/1k chat shape (shared/data/inferencex_dsr1.csv)."""
DEFAULT_TTFT_MS = arguments.get("ttft_ms").default
DEFAULT_TPOT_MS = arguments.get("tpot_ms").default
"""The stated default latency limits: MLPerf Inference v5.1 Llama-2-70B Server (p99 TTFT ≤ 2 s, p99 TPOT ≤ 200 ms)."""
TP_CHOICES = (1, 2, 4, 8, 16, 32, 64)
SPECULATIVE = {"mtp": 1.0, "eagle": 3.0}
"""Speculative decoding methods and the draft tokens each step proposes per sequence: DeepSeek's multi-token
prediction module predicts one more token (DeepSeek-V3 technical report, arXiv 2412.19437, §2.2: MTP depth 1);
an EAGLE head drafts a chain, 3 tokens here (stated: vLLM's and SGLang's usual num_speculative_tokens)."""
MTP_ACCEPTANCE_START = 1.85
"""Accepted tokens per step with DeepSeek's MTP: 1 + the second token's acceptance rate, 85-90 % (DeepSeek-V3
technical report, §5.4.3); the fit starts here and calibrates it on InferenceX's spec_method = mtp rows."""
SCALE_OUT_GB_S = 50.0  # one 400 Gb/s NIC per GPU [GB/s] (shared/data/gpu_specs.csv, InfiniBand NDR)


# -- memory ---------------------------------------------------------------------------------------
def weights_gb(params_b, bytes_per_param):
    """Memory of the weights. [GB]

    Notes
    -----
    weights = params × bytes_per_param  (params in billions gives GB)
    """
    return params_b * bytes_per_param


def kv_bytes_per_token(layers, kv_heads, head_dim, kv_bytes, kv_latent_dim=0.0):
    """KV-cache bytes one token occupies across all layers. [B token⁻¹]

    Notes
    -----
    GQA: 2 (K and V) × layers × kv_heads × head_dim × kv_bytes (Pope et al. 2023, §2).
    MLA (DeepSeek-V2/V3/R1): layers × (kv_lora_rank + qk_rope_head_dim) × kv_bytes, given as
    ``kv_latent_dim`` (DeepSeek-V2 report, §2.1).
    """
    gqa = 2.0 * layers * kv_heads * head_dim * kv_bytes
    latent = layers * kv_latent_dim * kv_bytes
    return where(kv_latent_dim > 0, latent, gqa)


def kv_gb_per_sequence(kv_bytes_per_token, input_tokens, output_tokens):
    """KV cache one sequence holds at its full length. [GB]

    Notes
    -----
    KV per token (every layer) × (input + output), sliding-window layers included: engines size their block pools
    for every layer's whole context. TensorRT-LLM writes a sliding-window layer's blocks linearly up to the
    sequence length (NVIDIA/TensorRT-LLM PR #6768, "Support SWA KV cache"); vLLM's hybrid allocator reports a KV
    capacity of every layer's bytes per token (983 040 B for Gemma-4-31B, whose 60 layers are five-sixths sliding;
    alvarobartt/hf-mem PR #61). MLPerf v6.0 agrees: gpt-oss-120b (5 011 input, ~1 340 output tokens) ran ~440
    sequences per B200 and ~475 per GB200 on one-GPU replicas (output tokens/s × mean TPOT), what 98 % of the
    memory beside the 66 GB of weights holds at 36 864 B per token on all 36 layers (FP8), half of what a
    window-only cache would hold.
    """
    return kv_bytes_per_token * (input_tokens + output_tokens) / 1e9


def usable_memory_gb(memory_gb, tp, memory_fraction):
    """Memory of a replica available to weights and KV cache. [GB]

    Notes
    -----
    usable = tp × memory_gb × memory_fraction (vLLM's ``gpu_memory_utilization``, default 0.9;
    the rest holds activations, CUDA graphs and the runtime)
    """
    return tp * memory_gb * memory_fraction


def max_concurrency(usable_gb, weights_gb, kv_gb_per_sequence):
    """Sequences whose KV cache fits beside the weights. [sequences]

    Notes
    -----
    floor((usable − weights) / kv_per_sequence), 0 when the weights do not fit.
    """
    return floor(maximum(usable_gb - weights_gb, 0.0) / kv_gb_per_sequence)


def attended_tokens(context_tokens, layers, sliding_window, sliding_window_layers):
    """Tokens one layer attends to, averaged over the layers. [tokens]

    Notes
    -----
    Full-attention layers attend the whole context, sliding-window layers min(context, window):
    ((layers − n_swa) × context + n_swa × min(context, window)) / layers. gpt-oss alternates 128-token
    sliding-window and full layers (its config.json ``sliding_window``, ``layer_types``). This is what a layer
    *reads*; the memory an engine holds for it is the whole context's (`kv_gb_per_sequence`).
    """
    swa = minimum(sliding_window_layers, layers)
    windowed = where(sliding_window > 0, minimum(context_tokens, sliding_window), context_tokens)
    return ((layers - swa) * context_tokens + swa * windowed) / layers


def prefill_flops(active_params_b, layers, attention_heads, attn_dim, input_tokens, attended_input_tokens=None):
    """FLOPs to process one prompt, as (matrix multiplies, attention). [FLOP]

    Notes
    -----
    2 × active_params × input  (matrix multiplies)  and  2 × layers × heads × attn_dim × input × attended
    (causal QKᵀ and AV, half of the square each; attended = input without sliding windows, `attended_tokens`)
    """
    attended = input_tokens if attended_input_tokens is None else attended_input_tokens
    return 2e9 * active_params_b * input_tokens, 2.0 * layers * attention_heads * attn_dim * input_tokens * attended


def uncached_input_tokens(input_tokens, prefix_hit_rate):
    """Input tokens a prefill computes: those the prefix cache does not serve. [tokens]

    Parameters
    ----------
    input_tokens : numeric
        Input tokens per request, N. [tokens]
    prefix_hit_rate : numeric
        Share of them served from the prefix cache, h. [0-1]

    Notes
    -----
    n_new = max(N − h × N, 1): at least the last prompt token is computed, for its logits (vLLM recomputes it on
    a full hit). The engine finds the request's longest cached prefix (vLLM automatic prefix caching hashes
    each KV block with its prefix; SGLang RadixAttention keeps a radix tree of cached prefixes) and runs the
    forward pass on the remaining n_new tokens only: the weight GEMMs of `prefill_flops` scale with n_new.

    References
    ----------
    vLLM, "Automatic Prefix Caching", https://docs.vllm.ai/en/latest/design/prefix_caching/ ;
    Zheng et al., "SGLang: Efficient Execution of Structured Language Model Programs" (NeurIPS 2024), §3.
    """
    return maximum(input_tokens - input_tokens * prefix_hit_rate, 1.0)


def prefix_attention_tokens(input_tokens, prefix_hit_rate):
    """The ``attended`` of `prefill_flops` for a prompt whose first h × N tokens are cached (parameters as
    `uncached_input_tokens`). [tokens]

    Notes
    -----
    A new token at position i attends the i tokens up to it, the cached prefix's KV included (the cache saves
    computing the prefix's K and V, not reading them). Over the new positions n_c < i ≤ N, with n_c = h × N
    and n_new = N − n_c: Σ i ≈ n_new × (n_c + N) / 2, so the causal QKᵀ and AV take
    4 × layers × heads × attn_dim × n_new × (n_c + N) / 2 = 2 × layers × heads × attn_dim × n_new × (N + n_c) FLOP:
    `prefill_flops` with input = n_new and attended = N + n_c = N + h × N. h = 0 gives attended = N (half the
    square, as without a cache); h → 1 gives 2N, a full row of the context per new token.
    """
    return input_tokens + input_tokens * prefix_hit_rate


def routed_active_params_b(params_b, active_params_b, experts, experts_per_token):
    """Parameters of the routed experts one token uses (mixture of experts; 0 for dense models). [B]

    Notes
    -----
    total = shared + E × e and active = shared + k × e give one expert e = (total − active) / (E − k) and the
    routed share of the active parameters k × e.
    """
    per_expert = (params_b - active_params_b) / maximum(experts - experts_per_token, 1.0)
    return where(experts > experts_per_token, experts_per_token * per_expert, 0.0)


def expert_compute_params_b(active_params_b, routed_params_b, tp, expert_imbalance, expert_compute_efficiency):
    """Active parameters one token costs in FLOPs on the busiest GPU, at the dense GEMMs' efficiency. [B]

    Parameters
    ----------
    routed_params_b : numeric
        The routed experts' share of the active parameters (`routed_active_params_b`; 0 for dense models). [B]
    expert_imbalance : numeric
        Busiest GPU's routed load / mean load in an expert-parallel replica (fitted; applies where tp > 1). [unitless]
    expert_compute_efficiency : numeric
        FLOP rate the routed experts' grouped GEMMs reach relative to one dense GEMM (fitted). [unitless]

    Notes
    -----
    shared + routed × imbalance / η_expert,compute, with shared = active − routed. The routed experts run as one
    grouped GEMM of many small matrices, a few to a few hundred tokens each, padded to the kernel's tile and unevenly
    loaded — the waste block-sparse MoE kernels set out to remove (Gale et al., "MegaBlocks", arXiv 2211.15841, §3);
    η_expert,compute is fitted, not derived. The busiest GPU of an expert-parallel replica computes
    ``expert_imbalance`` × the mean routed load.
    """
    imbalance = where(tp > 1, expert_imbalance, 1.0)
    return active_params_b - routed_params_b + routed_params_b * imbalance / expert_compute_efficiency


def alltoall_time_s(layers, hidden_size, experts_per_token, concurrency, tp, interconnect_gb_s, latency_us):
    """Expert-parallel dispatch and combine of one decode step (mixture of experts over ``tp`` GPUs). [s]

    Notes
    -----
    Each MoE layer sends every token to its k experts (dispatch, 1 byte per value: FP8) and back (combine,
    2 bytes: BF16). A GPU holds concurrency / tp of the tokens and 1/tp of the experts, so it sends
    concurrency / tp × k × hidden × 3 B × (tp − 1)/tp over its link:
    time = layers × (2 × latency + that / interconnect). 0 for tp = 1 (DeepSeek-V3 report §3.2.2; DeepEP).
    """
    message = concurrency / tp * experts_per_token * hidden_size * 3.0 * (tp - 1) / tp
    return where(tp > 1, layers * (2.0 * latency_us * 1e-6 + message / (interconnect_gb_s * 1e9)), 0.0)


def prefill_time_s(prefill_flops, tp, peak_tflops, compute_efficiency, attention_peak_tflops=None):
    """Time of one prefill on the replica (compute-bound). [s]

    Notes
    -----
    (GEMM FLOPs / peak + attention FLOPs / attention peak) / (tp × η_compute), with ``prefill_flops`` the pair of
    `prefill_flops`; the attention runs at the KV cache's precision (`attention_peak_tflops`, `_replica`).
    """
    gemm, attention = prefill_flops
    attention_peak = peak_tflops if attention_peak_tflops is None else attention_peak_tflops
    return (gemm / peak_tflops + attention / attention_peak) / (tp * 1e12 * compute_efficiency)


def weights_read_gb(params_b, active_params_b, experts, experts_per_token, concurrency, bytes_per_param,
                    expert_read_efficiency=1.0):
    """Weights one decode step reads, counted at the dense kernels' bandwidth. [GB]

    Parameters
    ----------
    expert_read_efficiency : numeric
        Bandwidth the routed experts' kernels reach relative to the dense GEMMs' (fitted,
        ``expert_read_efficiency``; 1 reads them as fast). [unitless]

    Notes
    -----
    Dense: all of them. Mixture of experts: the shared part (active − k × e, `routed_active_params_b`) and
    every expert some sequence of the batch routes to; with uniform routing an expert is untouched with
    probability (1 − k/E)^concurrency, so the routed read is E × e × (1 − (1 − k/E)^concurrency): k × e for
    one sequence, all E × e for a large batch. The routed experts are many small GEMMs, a few tokens each,
    which reach less of the bandwidth than one dense GEMM (Gale et al., "MegaBlocks: Efficient Sparse
    Training with Mixture-of-Experts", arXiv 2211.15841, §3): their bytes count 1 / ``expert_read_efficiency``
    times.
    """
    routed = routed_active_params_b(params_b, active_params_b, experts, experts_per_token)  # k × e
    k = maximum(experts_per_token, 1.0)
    share = 1.0 - (1.0 - experts_per_token / maximum(experts, 1.0)) ** concurrency
    return (active_params_b - routed + routed * experts / k * share / expert_read_efficiency) * bytes_per_param


def decode_step_time_s(weights_read_gb, kv_bytes_per_token, context_tokens, concurrency, active_params_b,
                       layers, attention_heads, attn_dim, tp, peak_tflops, bandwidth_tb_s, compute_efficiency,
                       memory_efficiency, attention_peak_tflops=None, overlap_loss=0.0):
    """Roofline time of one decode step for the whole batch, before communication and overhead. [s]

    Notes
    -----
    The roofline holds per kernel, not for the step: the weight GEMMs and the attention are separate kernels
    that run one after the other, each bound by its own memory traffic or FLOPs (the per-operator roofline of
    Yuan et al., "LLM Inference Unveiled: Survey and Roofline Model Insights", arXiv 2402.16363, §3):

    read      = weights_read / (tp × bandwidth × η_mem);  multiply = concurrency × 2 × active_params / (tp × peak × η_compute)
    GEMMs     = max(read, multiply) + λ × min(read, multiply)
    attention = concurrency × max(kv_per_token × context / (tp × bandwidth × η_mem),
                                  4 × layers × heads × attn_dim × context / (tp × attention peak × η_compute))
    step      = GEMMs + attention

    The GEMMs multiply at the weights' tensor-core peak, the attention at the KV cache's (``attention_peak_tflops``:
    FP8 attention kernels for an FP8 cache, BF16 for a BF16 one — TensorRT-LLM's FP8 FMHA, FlashMLA, FlashInfer; no
    engine multiplies QKᵀ in FP4), default the weights' peak. λ (``overlap_loss``, fitted ``gemm_overlap_loss``) is
    the share of the shorter of a GEMM's weight streaming and its tensor-core work that the kernel does not hide under
    the longer: 0 is the roofline's perfect overlap, an upper bound on speed (Williams, Waterman and Patterson,
    "Roofline", CACM 52(4), 2009), 1 none; near the ridge point, where the two take as long, real kernels fall below
    the roofline by up to that much.
    """
    bandwidth = tp * bandwidth_tb_s * 1e12 * memory_efficiency
    flops = tp * peak_tflops * 1e12 * compute_efficiency
    attention_flops = flops if attention_peak_tflops is None else tp * attention_peak_tflops * 1e12 * compute_efficiency
    read, multiply = weights_read_gb * 1e9 / bandwidth, concurrency * 2e9 * active_params_b / flops
    gemms = maximum(read, multiply) + overlap_loss * minimum(read, multiply)
    attention = concurrency * maximum(kv_bytes_per_token * context_tokens / bandwidth,
                                      4.0 * layers * attention_heads * attn_dim * context_tokens / attention_flops)
    return gemms + attention


def allreduce_time_s(layers, hidden_size, concurrency, tp, interconnect_gb_s, latency_us, per_layer=2.0):
    """Tensor-parallel all-reduces of one decode step. [s]

    Notes
    -----
    ``per_layer`` all-reduces per layer (2 for a dense layer: attention and MLP; 1 for a mixture-of-experts
    layer, whose experts exchange tokens by all-to-all instead, `alltoall_time_s`) of concurrency × hidden × 2
    bytes (bf16 activations); a ring moves 2 (tp − 1)/tp of the message over each GPU's link:
    time = per_layer × layers × (latency + bytes × 2 (tp − 1)/tp / interconnect). 0 for tp = 1.
    """
    message = concurrency * hidden_size * 2.0
    per_reduce = latency_us * 1e-6 + message * 2.0 * (tp - 1) / tp / (interconnect_gb_s * 1e9)
    return where(tp > 1, per_layer * layers * per_reduce, 0.0)


def speculative_step_factor(layers, draft_tokens):
    """Time of a speculative step over a plain one (the draft head's own step: about one more layer). [unitless]

    Notes
    -----
    1 + 1 / layers where a draft head (an MTP module or an EAGLE layer, one decoder layer each) runs, else 1.
    The verification of 1 + draft tokens per sequence is counted in the compute roofline (`_at`).
    """
    return where(draft_tokens > 0, 1.0 + 1.0 / layers, 1.0)


def tpot_s(step_time_s, concurrency, prefill_time_s, output_tokens, acceptance_length=1.0):
    """Mean time per output token with chunked prefill interleaved. [s]

    Notes
    -----
    Each sequence's prefill takes prefill_time of the replica; a batch of B sequences finishing
    every output_tokens × TPOT needs B × prefill_time of prefill in that span, so
    TPOT = step / acceptance_length + B × prefill_time / output_tokens (speculative decoding accepts
    ``acceptance_length`` tokens per sequence and step, the verified one included; 1 without it).
    """
    return step_time_s / acceptance_length + concurrency * prefill_time_s / output_tokens


def concurrency_within(budget_s, step_intercept_memory_s, step_slope_memory_s, step_slope_compute_s,
                       fixed_s, slope_s, overlap_loss=0.0):
    """The largest concurrency whose mean TPOT stays within a budget. [sequences]

    Parameters
    ----------
    budget_s : numeric
        Time per output token allowed. [s]
    step_intercept_memory_s, step_slope_memory_s : numeric
        The memory-bound decode step a + b·B: weights read, and KV cache read per sequence. [s], [s sequence⁻¹]
    step_slope_compute_s : numeric
        The compute-bound decode step c·B. [s sequence⁻¹]
    fixed_s, slope_s : numeric
        What every step adds besides the roofline: all-reduce latency and overhead, and per sequence the
        all-reduce volume and its share of prefill (prefill / output_tokens). [s], [s sequence⁻¹]
    overlap_loss : numeric
        λ of `decode_step_time_s`: the GEMMs take max(a, g·B) + λ min(a, g·B), with g = c − b. [unitless]

    Notes
    -----
    TPOT(B) = max(a, g·B) + λ min(a, g·B) + b·B + fixed + slope·B (the functions above) equals, for 0 ≤ λ ≤ 1,
    max(a + (b + λg)·B, λa + c·B) + fixed + slope·B: increasing and piecewise linear, so TPOT(B) ≤ budget ⇔
    B ≤ min((budget − fixed − a) / (b + λg + slope), (budget − fixed − λa) / (c + slope)). Throughput per replica
    B / TPOT(B) grows with B, so this is the best concurrency the limit allows.
    """
    gemm = step_slope_compute_s - step_slope_memory_s
    memory = (budget_s - fixed_s - step_intercept_memory_s) / (step_slope_memory_s + overlap_loss * gemm + slope_s)
    compute = (budget_s - fixed_s - overlap_loss * step_intercept_memory_s) / (step_slope_compute_s + slope_s)
    return minimum(memory, compute)


def ttft_s(prefill_time_s, tpot_s):
    """Mean time to first token of an admitted request: its prefill plus the step it joins. [s]"""
    return prefill_time_s + tpot_s


def output_tokens_per_s_per_gpu(concurrency, tpot_s, tp):
    """Output tokens per second per GPU. [tokens s⁻¹ GPU⁻¹]

    Notes
    -----
    concurrency / TPOT / tp  (Little's law over the replica's batch)
    """
    return concurrency / tpot_s / tp


POWER_IDLE_FRACTION = 0.235
POWER_UTIL_FRACTION = 0.411
"""Board power over TDP: P/TDP = idle + util × busy, fitted (least squares) on the 15 InferenceX DeepSeek-R1
MI355X points that report a measured average power (aggregated, no speculation; shared/data/inferencex_dsr1.csv,
``avg_power_w``) with busy = roofline time ÷ step time from this model: 9.2 % mean absolute error on those
points (in-sample: no other GPU reports power). The seed's NVIDIA coefficient set (idle 0.4, util 0.6) put
them 70 % high — measured GPUs draw 36–70 % of TDP while serving. `scripts/derive_power.py` refits."""


def power_w(tdp_w, busy_fraction, idle_fraction=POWER_IDLE_FRACTION, util_fraction=POWER_UTIL_FRACTION):
    """Board power, capped by the TDP. [W]

    Notes
    -----
    P = TDP × min(1, idle + util × busy), busy = roofline time ÷ step time; fractions `POWER_IDLE_FRACTION`
    and `POWER_UTIL_FRACTION` (fitted on measured power, see there).
    """
    return tdp_w * minimum(1.0, idle_fraction + util_fraction * busy_fraction)


# -- solving ---------------------------------------------------------------------------------------
def _replica(m, g, precision_bytes, kv_bytes, peak_tflops, tp, input_tokens, output_tokens, p):
    """What a replica of ``tp`` GPUs is before any concurrency is chosen: memory, prefill, links, step costs."""
    draft = speculative_step_factor(m["layers"], p.get("spec_draft_tokens", 0.0))  # + one layer's weights and KV
    weights = weights_gb(m["params_b"], precision_bytes) * draft
    kv_token = kv_bytes_per_token(m["layers"], m["kv_heads"], m["head_dim"], kv_bytes, m["kv_latent_dim"]) * draft
    window = (m["layers"], m["sliding_window"], m["sliding_window_layers"])
    # memory: every layer's KV for the whole context (`kv_gb_per_sequence`); the decode reads a window (`context`)
    kv_seq = kv_gb_per_sequence(kv_token, input_tokens, output_tokens)
    usable = usable_memory_gb(g["memory_gb"], tp, p["memory_fraction"])
    attn_dim = where(m["kv_latent_dim"] > 0, m["kv_latent_dim"], m["head_dim"])
    moe = m["experts"] > 0
    routed = routed_active_params_b(m["params_b"], m["active_params_b"], m["experts"], m["experts_per_token"])
    compute_params = expert_compute_params_b(m["active_params_b"], routed, tp, p.get("expert_imbalance", 1.0),
                                             p.get("expert_compute_efficiency", 1.0))
    link = where(tp > g["scale_up_gpus"], SCALE_OUT_GB_S, g["interconnect_gb_s"])
    attention_peak = minimum(peak_tflops, attention_peak_tflops(g, kv_bytes))
    # prefix caching: the prefill computes the uncached tokens only; the KV of the whole context stays resident
    # (kv_seq above, unchanged), as the decode reads it (`context` below, unchanged)
    hit = p.get("prefix_hit_rate", 0.0)
    return dict(tp=tp, weights_gb=weights, kv_token=kv_token, kv_gb_per_sequence=kv_seq, usable_gb=usable,
                max_concurrency=max_concurrency(usable, weights, kv_seq), attn_dim=attn_dim,
                prefill_s=prefill_time_s(prefill_flops(compute_params, m["layers"], m["attention_heads"], attn_dim,
                                                       uncached_input_tokens(input_tokens, hit),
                                                       attended_tokens(prefix_attention_tokens(input_tokens, hit),
                                                                       *window)),
                                         tp, peak_tflops, p["compute_efficiency"], attention_peak),
                context=attended_tokens(input_tokens + output_tokens / 2.0, *window), compute_params=compute_params,
                link=link, attention_peak=attention_peak, moe=moe, allreduces=where(moe, 1.0, 2.0), draft=draft,
                verified=1.0 + p.get("spec_draft_tokens", 0.0), acceptance=p.get("spec_acceptance", 1.0),
                overhead_s=p.get("step_overhead_us", 0.0) * 1e-6
                + p["step_overhead_us_per_layer"] * 1e-6 * m["layers"])


def _comm_s(r, m, concurrency, p, latency=True):
    """All-reduces, and for mixture of experts the all-to-alls, of one step at ``concurrency``. [s]"""
    latency_us = p["allreduce_latency_us"] if latency else 0.0
    reduce = allreduce_time_s(m["layers"], m["hidden_size"], concurrency, r["tp"], r["link"], latency_us,
                              r["allreduces"])
    exchange = alltoall_time_s(m["layers"], m["hidden_size"], m["experts_per_token"], concurrency, r["tp"],
                               r["link"], latency_us)
    return reduce + where(r["moe"], exchange, 0.0)


def _at(r, m, g, precision_bytes, peak_tflops, output_tokens, concurrency, p):
    """Every time of the replica ``r`` (`_replica`) at ``concurrency``; returns the record's quantities."""
    tp = r["tp"]
    read = weights_read_gb(m["params_b"], m["active_params_b"], m["experts"], m["experts_per_token"],
                           concurrency, precision_bytes, p.get("expert_read_efficiency", 1.0))
    # a speculative step verifies 1 + draft tokens per sequence: that many times the compute, the same reads
    roofline = decode_step_time_s(read * r["draft"], r["kv_token"], r["context"], concurrency, r["compute_params"],
                                  m["layers"], m["attention_heads"], r["attn_dim"], tp, peak_tflops / r["verified"],
                                  g["memory_bandwidth_tb_s"], p["compute_efficiency"], p["memory_efficiency"],
                                  r["attention_peak"] / r["verified"], p.get("gemm_overlap_loss", 0.0))
    comm = _comm_s(r, m, concurrency, p)
    step = (roofline + comm + r["overhead_s"]) * where(r["verified"] > 1, r["draft"], 1.0)
    tpot = tpot_s(step, concurrency, r["prefill_s"], output_tokens, r["acceptance"])
    return dict(weights_gb=r["weights_gb"], kv_gb_per_sequence=r["kv_gb_per_sequence"], usable_gb=r["usable_gb"],
                max_concurrency=r["max_concurrency"], prefill_s=r["prefill_s"], step_s=step, comm_s=comm,
                roofline_s=roofline, tpot_s=tpot, ttft_s=ttft_s(r["prefill_s"], tpot))


def batch_ceiling(max_sequences, max_tokens_per_step, input_tokens, output_tokens):
    """The largest batch the engine schedules. [sequences]

    Notes
    -----
    min(max_sequences, max_tokens_per_step / (1 + input / output)): with chunked prefill every step carries
    the batch's decode tokens and, in steady state, input / output prefill tokens per sequence, within the
    engine's token budget (TensorRT-LLM ``max_num_tokens``, vLLM ``max_num_batched_tokens``). With a prefix
    cache ``input_tokens`` is the uncached part (`uncached_input_tokens`): cached tokens take no step budget.
    """
    return minimum(max_sequences, maximum(floor(max_tokens_per_step / (1.0 + input_tokens / output_tokens)), 1.0))


def _operating_point(m, g, precision_bytes, kv_bytes, peak_tflops, tp, input_tokens, output_tokens, ttft_limit_ms,
                     tpot_limit_ms, concurrency, p):
    """Every quantity at the largest concurrency one tp allows (scalars, or arrays of points).

    The concurrency is the given one, or the largest within the memory, the engine's batch ceiling and the
    limits (`concurrency_within`, exact for dense models; for mixture of experts the weights read grow with the
    batch, so it iterates from the memory limit: the odd iterates stay below the fixed point, so the
    limits hold). ``rate`` is the output tokens/s per GPU, −1 where nothing meets the limits.
    """
    r = _replica(m, g, precision_bytes, kv_bytes, peak_tflops, tp, input_tokens, output_tokens, p)
    cap = minimum(r["max_concurrency"], batch_ceiling(p["max_concurrency"], p.get("max_tokens_per_step", math.inf),
                                                      uncached_input_tokens(input_tokens,
                                                                            p.get("prefix_hit_rate", 0.0)),
                                                      output_tokens))
    bandwidth = tp * g["memory_bandwidth_tb_s"] * 1e12 * p["memory_efficiency"]
    # TPOT(B) = max(a, g·B) + λ min(a, g·B) + b·B + fixed + slope·B: the coefficients of `_at`'s equations (a: the
    # weights read, g: the GEMMs' FLOPs, b: the attention, per sequence; λ: `decode_step_time_s`)
    # speculative decoding: TPOT = K × (step) + prefill share with K = draft factor / acceptance, so the step
    # may take budget / K and the prefill share counts 1 / K as much against it
    k = where(r["verified"] > 1, r["draft"], 1.0) / r["acceptance"]
    fixed = _comm_s(r, m, 0.0, p) + r["overhead_s"]
    slope = _comm_s(r, m, 1.0, p, latency=False) + r["prefill_s"] / output_tokens / k
    # per sequence: the attention (its KV read or its FLOPs, `decode_step_time_s`) and the GEMMs' FLOPs
    flops = tp * peak_tflops / r["verified"] * 1e12 * p["compute_efficiency"]
    attention_flops = tp * r["attention_peak"] / r["verified"] * 1e12 * p["compute_efficiency"]
    attention_slope = maximum(r["kv_token"] * r["context"] / bandwidth,
                              4.0 * m["layers"] * m["attention_heads"] * r["attn_dim"] * r["context"] / attention_flops)
    gemm_slope = 2e9 * r["compute_params"] / flops
    expert_read = p.get("expert_read_efficiency", 1.0)
    loss = p.get("gemm_overlap_loss", 0.0)
    budget = minimum(tpot_limit_ms / (1000.0 * p["tpot_tail"]),
                     ttft_limit_ms / (1000.0 * p["ttft_tail"]) - r["prefill_s"]) / k
    def within(b):  # the largest concurrency within the limits if the weights read were those of b sequences
        read = weights_read_gb(m["params_b"], m["active_params_b"], m["experts"], m["experts_per_token"], b,
                               precision_bytes, expert_read) * r["draft"]
        return minimum(cap, concurrency_within(budget, read * 1e9 / bandwidth, attention_slope,
                                               gemm_slope + attention_slope, fixed, slope, loss))

    if not is_array(cap, budget, bandwidth, attention_slope, gemm_slope, fixed, slope) and m["experts"] > 0:
        # one point: the same equations in plain floats (`weights_read_gb`, `concurrency_within`), the compute
        # bound and every constant hoisted out of the search (`_largest_within` calls this 3-12 times per tp)
        unread = 1.0 - m["experts_per_token"] / m["experts"]
        expert = routed_active_params_b(m["params_b"], m["active_params_b"], m["experts"], m["experts_per_token"])
        always = (m["active_params_b"] - expert) * precision_bytes * r["draft"] * 1e9 / bandwidth
        routed = expert * m["experts"] / m["experts_per_token"] * precision_bytes * r["draft"] * 1e9 / bandwidth \
            / expert_read
        per_sequence = attention_slope + loss * gemm_slope + slope
        per_sequence_compute = gemm_slope + attention_slope + slope
        room = budget - fixed

        def within(b):  # noqa: F811  (the scalar form of the function above)
            read = always + routed * (1.0 - unread ** b)
            return min(cap, (room - read) / per_sequence, (room - loss * read) / per_sequence_compute)

    moe = m["experts"] > 0
    if moe.any() if isinstance(moe, np.ndarray) else moe:
        # the weights read grow with the batch, so TPOT(B) is increasing but not linear: bisect (in log B)
        # for the largest B whose own weights read still leave B within the limits
        batch = where(moe, _largest_within(within, cap), within(1.0))
    else:
        batch = within(1.0)
    # whole sequences, except in the fit (``continuous_concurrency``), whose least squares needs residuals that
    # change smoothly with the factors
    batch = batch if p.get("continuous_concurrency") else floor(batch * (1.0 + 1e-9))
    batch = where(concurrency == concurrency, concurrency, batch)  # a given concurrency (not NaN) wins
    fits = r["max_concurrency"] >= 1
    ok = fits & (batch >= 1) & (batch <= cap)
    point = _at(r, m, g, precision_bytes, peak_tflops, output_tokens, maximum(batch, 1.0), p)
    point.update(tp=tp + 0.0 * cap, concurrency=maximum(batch, 1.0), fits=fits, meets=ok,
                 rate=where(ok, output_tokens_per_s_per_gpu(batch, point["tpot_s"], tp), -1.0))
    return point


def _largest_within(within, cap, iterations=14):
    """The largest B in [1, cap] with within(B) ≥ B, for ``within`` decreasing in B (0 where B = 1 is not). [sequences]

    Notes
    -----
    For a decreasing f = within with largest fixed point B*: x ≤ B* gives f(x) ≥ f(B*) = B* (an upper bound) and
    x ≥ B* gives f(x) ≤ B* (a lower bound that is itself feasible). So B* lies in [f(cap), f(f(cap))], and every
    evaluation at the bracket's midpoint both halves the bracket and moves its other end to f(mid) (a bisection
    safeguarded fixed-point iteration); stopped at 0.05 % of B. Arrays of points (the fit) bisect in ln B, 14 steps
    (0.05 % of ln 4096).
    """
    if isinstance(cap, np.ndarray):
        low, high = np.ones_like(cap), np.maximum(cap, 1.0)
        feasible = within(low) >= low
        for _ in range(iterations):
            middle = np.sqrt(low * high)
            ok = within(middle) >= middle
            low, high = np.where(ok, middle, low), np.where(ok, high, middle)
        return np.where(feasible, low, 0.0)
    cap = max(float(cap), 1.0)
    top = within(cap)
    if top >= cap:
        return cap
    low = max(top, 1.0)
    value = within(low)
    if value < low:
        return 0.0  # not even one sequence (low = 1 here: top < 1)
    high = min(value, cap)
    f_low, f_high = value - low, within(high) - high  # φ(B) = within(B) − B: ≥ 0 at low, < 0 above B*
    if f_high >= 0.0:
        return high
    side = 0
    for _ in range(2 * iterations):
        if high - low <= 5e-4 * low:
            break
        # Illinois regula falsi on φ (Dowell & Jarratt, BIT 11, 1971), kept inside the bracket
        middle = (low * f_high - high * f_low) / (f_high - f_low)
        middle = min(max(middle, low + 1e-4 * low), high - 1e-4 * low)
        value = within(middle)
        if value >= middle:
            low, f_low = middle, value - middle
            if value < high:  # middle ≤ B*, so within(middle) ≥ B*: the other end moves down too
                high, f_high = value, within(value) - value
                side = 0
                if f_high >= 0.0:
                    return high
                continue
            if side == 1:
                f_high *= 0.5
            side = 1
        else:
            high, f_high = middle, value - middle
            if side == -1:
                f_low *= 0.5
            side = -1
    return low


def _closest(best, meets, m, g, precision_bytes, kv_bytes, peak_tflops, tps, input_tokens, output_tokens, p):
    """Where no tp meets the limits: the quantities at one sequence on the tp with the lowest TPOT among
    those that fit (what the message reports: the best the GPU can do)."""
    one = None
    for tp in tps:
        replica = _replica(m, g, precision_bytes, kv_bytes, peak_tflops, tp, input_tokens, output_tokens, p)
        point = _at(replica, m, g, precision_bytes, peak_tflops, output_tokens, 1.0, p)
        point.update(tp=tp + 0.0 * point["tpot_s"], concurrency=1.0 + 0.0 * point["tpot_s"])
        score = where(point["max_concurrency"] >= 1, point["tpot_s"], math.inf)
        if one is None:
            one, lowest = point, score
            continue
        lower = score < lowest
        one = {key: where(lower, point[key], value) for key, value in one.items()}
        lowest = minimum(score, lowest)
    return {key: where(meets, value, one.get(key, value)) for key, value in best.items()}


def _solve(m, g, precision_bytes, kv_bytes, peak_tflops, tps, input_tokens, output_tokens, ttft_limit_ms,
           tpot_limit_ms, concurrency, p):
    """The operating point with the most output tokens/s per GPU over the tp candidates ``tps``.

    Inputs are scalars or (n,) arrays of points. Returns a dict of the same: the chosen tp and
    concurrency and every quantity at that point; ``meets`` is False where no tp meets the limits, and
    then the quantities are those at one sequence on the tp with the lowest TPOT (`_closest`, for the
    message); ``fits`` is False where no tp holds the weights and one sequence.
    """
    best = None
    # a replica stays within its scale-up (NVLink / Infinity Fabric) domain unless no such replica holds the model
    fits_within = False
    for tp in tps:
        fits_within = fits_within | ((tp <= g["scale_up_gpus"]) & (max_concurrency(
            usable_memory_gb(g["memory_gb"], tp, p["memory_fraction"]), weights_gb(m["params_b"], precision_bytes),
            1e-12) >= 1))
    if len(tps) > 1 and isinstance(fits_within, (bool, np.bool_)) and fits_within:
        # one point: skip the replicas it may not use, and those whose memory cannot hold the weights
        weights = weights_gb(m["params_b"], precision_bytes)
        tps = [tp for tp in tps if tp <= g["scale_up_gpus"]
               and usable_memory_gb(g["memory_gb"], tp, p["memory_fraction"]) > weights]
    for tp in tps:
        point = _operating_point(m, g, precision_bytes, kv_bytes, peak_tflops, tp, input_tokens, output_tokens,
                                 ttft_limit_ms, tpot_limit_ms, concurrency, p)
        if len(tps) > 1:
            eligible = np.logical_or(tp <= g["scale_up_gpus"], np.logical_not(fits_within))
            point["rate"] = where(eligible, point["rate"], -2.0)
        if best is None:
            best, fits = point, point["fits"]
            continue
        better = point["rate"] > best["rate"]
        if isinstance(better, np.ndarray):
            best = {key: np.where(better, point[key], value) for key, value in best.items()}
        elif better:
            best = point
        fits = fits | point["fits"]
    meets = best["meets"]
    if not (meets.all() if isinstance(meets, np.ndarray) else meets):
        best = _closest(best, meets, m, g, precision_bytes, kv_bytes, peak_tflops, tps, input_tokens, output_tokens, p)
    best["fits"] = fits
    best["output_tokens_per_s_per_gpu"] = where(
        meets, output_tokens_per_s_per_gpu(best["concurrency"], best["tpot_s"], best["tp"]), 0.0)
    return best


# -- building the inputs ----------------------------------------------------------------------------
def normalize_precision(value, what="precision"):
    """'bf16' | 'fp16' | 'fp8' | 'fp4' (or None); anything else is refused with the list."""
    if value is None:
        return None
    key = normalize_key(value)
    if key not in PRECISIONS and key != "best":
        raise InputError(f"unknown {what} '{value}' — use bf16, fp16, fp8, fp4 or best")
    return key


def best_precision(gpu_spec):
    """The narrowest precision the GPU's tensor cores run natively (fp4, else fp8, else bf16)."""
    for precision in ("fp4", "fp8"):
        if gpu_spec[TFLOPS_COLUMN[precision]] == gpu_spec[TFLOPS_COLUMN[precision]]:
            return precision
    return "bf16"


def peak_tflops(gpu_spec, precision, gpu="gpu"):
    """Dense peak of the tensor cores that multiply ``precision`` weights (see `FALLBACK`). [TFLOPS]"""
    for p in FALLBACK[precision]:
        value = gpu_spec[TFLOPS_COLUMN[p]]
        if value == value and value > 0:
            return value
    raise InputError(f"gpu '{gpu}' has no dense TFLOPS figure — add bf16_dense_tflops (and fp8/fp4 where the GPU "
                     f"has them) to its row in gpus.csv")


def attention_peak_tflops(gpu_spec, kv_bytes):
    """Dense peak of the tensor cores the attention runs on: the KV cache's precision (FP8 for a 1-byte cache where
    the GPU has FP8, else BF16). [TFLOPS]"""
    fp8, bf16 = gpu_spec["fp8_dense_tflops"], gpu_spec["bf16_dense_tflops"]
    return where((kv_bytes <= 1.0) & (fp8 == fp8), fp8, bf16)


def _column(values):
    return np.asarray(values, dtype=float)


def _arrays(specs):
    """A list of dicts of floats → a dict of (n,) arrays."""
    return {k: _column([s[k] for s in specs]) for k in specs[0]}


SOFTWARE_PERIODS = (2024, 2025, 2026)
"""Software periods a vendor's efficiency is fitted for (the measurement's year: MLPerf v4.1 = 2024, v5.1 = 2025,
v6.0 = 2026). Estimates use the newest; NVIDIA's newest period is the reference (1)."""


def software_period(as_of):
    """The period of a measurement dated ``as_of`` ('2025-09-04'; undated or older → the first period)."""
    text = str(as_of)
    year = int(text[:4]) if text[:4].isdigit() else SOFTWARE_PERIODS[0]
    return min(max(year, SOFTWARE_PERIODS[0]), SOFTWARE_PERIODS[-1])


REFERENCE_VENDOR = "nvidia"
"""The vendor whose newest software period is the efficiency reference (factor 1, no parameter of its own)."""


def calibrated(calibration, vendor):
    """True when the fit has a software efficiency for ``vendor`` (a ``software_<vendor>_<year>`` factor, or the
    reference vendor); False for a vendor no measurement calibrates (Google's TPUs)."""
    key = normalize_key(vendor)
    return key == REFERENCE_VENDOR or any(name.startswith(f"software_{key}_") for name in calibration)


def efficiency_factor(calibration, vendor, precision, period=None):
    """The fitted software factors of a vendor in a period (default the newest; NVIDIA's newest = 1), as
    (compute, memory): FP4 kernels' own factor (``fp4_efficiency``) scales the tensor-core side only — an FP4
    weight is read at the same bandwidth as any other byte; the FP4 GEMM kernels are what is younger. A vendor
    without a fitted factor (`calibrated` False) takes the stated default 1, the reference's, and its estimates say
    ``basis = uncalibrated`` (docs/serving.md, "Accelerators no measurement calibrates"). [unitless]"""
    period = SOFTWARE_PERIODS[-1] if period is None else period
    software = calibration.get(f"software_{normalize_key(vendor)}_{period}", 1.0)
    return software * (calibration.get("fp4_efficiency", 1.0) if precision == "fp4" else 1.0), software


def scaled(calibration, factor):
    """The calibration with the compute and memory efficiencies multiplied by ``factor``: a (compute, memory)
    pair from `efficiency_factor` (numbers or arrays of points), or one number for both."""
    compute, memory = factor if isinstance(factor, tuple) else (factor, factor)
    return dict(calibration, compute_efficiency=minimum(calibration["compute_efficiency"] * compute, 1.0),
                memory_efficiency=minimum(calibration["memory_efficiency"] * memory, 1.0))


# -- the estimate -----------------------------------------------------------------------------------
FIELDS = ("model", "gpu", "precision", "kv_precision", "input_tokens", "output_tokens", "ttft_limit_ms",
          "tpot_limit_ms", "output_tokens_per_s_per_gpu", "total_tokens_per_s_per_gpu", "concurrency", "tp",
          "ttft_ms", "tpot_ms", "fits", "meets_limits", "weights_gb", "kv_gb_per_sequence", "max_concurrency",
          "usable_memory_gb", "prefill_ms", "decode_step_ms", "allreduce_ms", "power_w_per_gpu", "basis",
          "anchor_factor", "anchor_source", "expected_error", "speculative", "acceptance_length",
          "prefix_hit_rate")


def estimate(model, gpu, *, precision=None, kv_precision=None, input_tokens=None, output_tokens=None, ttft_ms=None,
             tpot_ms=None, tp=None, concurrency=None, speculative=None, acceptance_length=None, catalog=None,
             prefix_hit_rate=None):
    """The largest throughput one replica of ``model`` on ``gpu`` sustains within the latency limits.

    Parameters
    ----------
    model : str or dict
        A key of ``models.csv``, or the architecture as a dict with that table's columns
        (params_b, active_params_b, layers, hidden_size, attention_heads, kv_heads, head_dim; experts,
        experts_per_token, kv_latent_dim for mixture-of-experts and MLA models).
    gpu : str
        A key of ``gpus.csv``: any GPU row works, measured or not.
    precision : str, optional
        Weight precision: bf16, fp16, fp8 (default), fp4, or ``best`` (the GPU's narrowest native one).
    kv_precision : str, optional
        KV-cache precision; default fp8 for fp8/fp4 weights, else the weights' precision.
    input_tokens, output_tokens : numeric, optional
        Request shape (means). Default 1024 / 1024. [tokens]
    ttft_ms, tpot_ms : numeric, optional
        p99 limits on time to first token and time per output token. Default 2000 / 200. [ms]
    tp : int, optional
        GPUs per replica (tensor parallel); default: the one with the most tokens/s per GPU.
    concurrency : int, optional
        Fix the concurrent sequences per replica (closed loop) instead of the largest that meets the limits.
    speculative : str, optional
        Speculative decoding: None (default), ``mtp`` (multi-token prediction, DeepSeek-V3/R1) or ``eagle``
        (an EAGLE draft head, 3 draft tokens per step).
    acceptance_length : numeric, optional
        Accepted tokens per sequence and step, the verified one included (≥ 1, at most 1 + draft tokens).
        Default for ``mtp`` on a model with MTP modules: the value fitted on SemiAnalysis InferenceX's MTP rows
        (``acceptance_length_mtp``, from the DeepSeek-V3 report's 1.85); otherwise it must be given. [tokens]
    prefix_hit_rate : numeric, optional
        Share of the input tokens served from the prefix cache (0 to 1, default 0): the prefill computes the
        uncached ones only (`uncached_input_tokens`; attention over the whole context, `prefix_attention_tokens`),
        so TTFT falls and the prefill share of the TPOT with it; the KV cache of the whole context is still held
        (memory fit unchanged) and the decode unchanged. docs/serving.md, "Prefix caching". [0-1]

    Returns
    -------
    Record
        ``output_tokens_per_s_per_gpu`` and ``total_tokens_per_s_per_gpu`` [tokens s⁻¹ GPU⁻¹],
        ``concurrency``, ``tp``, ``ttft_ms``/``tpot_ms`` (p99, as the limits), ``fits``,
        ``meets_limits``, ``weights_gb``, ``kv_gb_per_sequence``, ``basis`` (measured where a
        measured throughput of this GPU, model and precision anchors the estimate, else estimated)
        and ``expected_error`` (mean |relative error| in the leave-one-GPU-out back-test of this basis, vendor
        and dense/MoE, `expected_error`).
    """
    check_arguments(input_tokens=input_tokens, output_tokens=output_tokens, ttft_ms=ttft_ms, tpot_ms=tpot_ms,
                    tp=tp, concurrency=concurrency, prefix_hit_rate=prefix_hit_rate)  # docs/limits.md
    if prefix_hit_rate is not None:  # one float (a list or text is refused here, before the cache's key)
        prefix_hit_rate = prefix_hit_share(prefix_hit_rate)
    cat = load_catalog(catalog)
    model_id = tuple(sorted(model.items())) if isinstance(model, dict) else normalize_key(model)
    key = (cat.fingerprint, model_id, normalize_key(gpu), precision, kv_precision, input_tokens,
           output_tokens, ttft_ms, tpot_ms, tp, concurrency, speculative, acceptance_length, prefix_hit_rate)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _estimate(cat, model, gpu, precision, kv_precision, input_tokens, output_tokens, ttft_ms, tpot_ms,
                           tp, concurrency, speculative, acceptance_length, prefix_hit_rate)
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = cached
    return Record(cached)


_CACHE = {}
_ANCHOR_FACTORS = {}


def tp_choices(attention_heads):
    """The replica sizes of `TP_CHOICES` that split ``attention_heads`` evenly (tensor parallelism shards heads)."""
    return tuple(t for t in TP_CHOICES if attention_heads % t == 0)


def _positive(name, value, default):
    if value is None:
        return default
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
        raise InputError(f"{name} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{name} must be a finite number greater than 0 — got {value!r}")
    return number


def prefix_hit_share(value, name="prefix_hit_rate"):
    """A prefix-cache hit rate as one float from 0 to 1 (None → 0); anything else (text, an array, a value
    outside 0-1) is refused with one line that names the fix. `atlas_xl.planner` checks with it too."""
    if value is None:
        return 0.0
    if isinstance(value, (bool, np.bool_, str, list, tuple)) or is_array(value):
        raise InputError(f"{name} must be one number from 0 to 1, not {value!r} — give e.g. 0.8 for 80 % "
                         f"(a sweep or a worksheet range takes several)")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number from 0 to 1, not {value!r} — give e.g. 0.8 for 80 %") from None
    if not 0.0 <= number <= 1.0:
        raise InputError(f"{name} {value!r} is outside 0 to 1 — give the share of input tokens served from the "
                         f"prefix cache, e.g. 0.8 for 80 %")
    return number


MTP_MODELS = ("deepseek_r1",)
"""Models whose checkpoint carries multi-token-prediction modules (config.json num_nextn_predict_layers = 1)."""


def speculation(model_key, speculative, acceptance_length, calibration):
    """(draft tokens per step, acceptance length) of a speculative-decoding choice; one line names a bad one."""
    if speculative is None or (isinstance(speculative, str) and normalize_key(speculative) in ("", "none")):
        if acceptance_length is not None:
            raise InputError("acceptance_length needs speculative='mtp' or 'eagle' — give one, or drop acceptance_length")
        return 0.0, 1.0
    method = normalize_key(speculative) if isinstance(speculative, str) else speculative
    if method not in SPECULATIVE:
        raise InputError(f"unknown speculative {speculative!r} — use mtp, eagle or none")
    draft = SPECULATIVE[method]
    if acceptance_length is None:
        if method == "mtp" and model_key in MTP_MODELS:
            return draft, calibration.get("acceptance_length_mtp", MTP_ACCEPTANCE_START)
        raise InputError(f"no cited acceptance length for {model_key} with {method} — give acceptance_length "
                         f"(accepted tokens per step, 1 to {1 + draft:g})")
    length = _positive("acceptance_length", acceptance_length, None)
    if length < 1:
        raise InputError(f"acceptance_length {acceptance_length!r} is below 1 — it counts the verified token too: "
                         f"give 1 (nothing accepted) to {1 + draft:g}")
    if length > 1 + draft:
        raise InputError(f"acceptance_length {acceptance_length!r} exceeds 1 + {draft:g} draft tokens of {method} — "
                         f"give at most {1 + draft:g}")
    return draft, length


def _setup(cat, model, gpu, precision, kv_precision, input_tokens, output_tokens, speculative, acceptance_length,
           prefix_hit_rate=0.0):
    """What `estimate` and `replica_phases` both resolve first: the GPU and model rows, the precisions, the
    request shape, the vendor's peak and fitted parameters with the speculation method's (and the prefix-cache
    hit rate, ``p["prefix_hit_rate"]``, where one is given)."""
    gpu_key = cat.check_gpu(gpu)
    if isinstance(model, dict):
        model_key, m = str(model.get("model", "custom")), architecture(model)
    else:
        model_key = cat.check_model(model)
        m = cat.model_specs[model_key]
    g = cat.gpu_specs[gpu_key]
    precision = normalize_precision(precision) or DEFAULT_PRECISION
    if precision == "best":
        precision = best_precision(g)
    kv_precision = normalize_precision(kv_precision, "kv_precision") or ("fp8" if precision in ("fp8", "fp4") else precision)
    if kv_precision == "best":
        raise InputError("kv_precision cannot be 'best' — use bf16, fp16, fp8 or fp4")
    shape = (_positive("input_tokens", input_tokens, DEFAULT_INPUT_TOKENS),
             _positive("output_tokens", output_tokens, DEFAULT_OUTPUT_TOKENS))
    vendor = cat.gpu_vendors[gpu_key]
    peak = peak_tflops(g, precision, gpu_key)
    p = scaled(cat.serving_calibration, efficiency_factor(cat.serving_calibration, vendor, precision))
    draft, acceptance = speculation(model_key, speculative, acceptance_length, cat.serving_calibration)
    p.update(spec_draft_tokens=draft, spec_acceptance=acceptance)
    if prefix_hit_rate:  # 0: the parameters stay as they were (`_replica` reads a missing rate as 0)
        p["prefix_hit_rate"] = prefix_hit_rate
    return gpu_key, model_key, m, g, precision, kv_precision, shape, vendor, peak, p, draft, acceptance


def _estimate(cat, model, gpu, precision, kv_precision, input_tokens, output_tokens, ttft_ms, tpot_ms, tp, concurrency,
              speculative=None, acceptance_length=None, prefix_hit_rate=None):
    hit = prefix_hit_share(prefix_hit_rate)
    gpu_key, model_key, m, g, precision, kv_precision, shape, vendor, peak, p, draft, acceptance = _setup(
        cat, model, gpu, precision, kv_precision, input_tokens, output_tokens, speculative, acceptance_length, hit)
    limits = (_positive("ttft_ms", ttft_ms, DEFAULT_TTFT_MS), _positive("tpot_ms", tpot_ms, DEFAULT_TPOT_MS))
    if tp is not None:
        tp = _positive("tp", tp, None)
        if tp != int(tp):
            raise InputError(f"tp must be a whole number of GPUs, not {tp!r}")
    if tp is not None and m["attention_heads"] % tp:
        divisors = ", ".join(f"{t:g}" for t in tp_choices(m["attention_heads"]))
        raise InputError(f"tp {tp:g} does not divide {model_key}'s {m['attention_heads']:g} attention heads — "
                         f"use one of {divisors}")
    fixed = math.nan if concurrency is None else _positive("concurrency", concurrency, None)
    q = _solve(m, g, PRECISIONS[precision], PRECISIONS[kv_precision], peak, tp_choices(m["attention_heads"]) if tp is None else (tp,),
               float(shape[0]), float(shape[1]), limits[0], limits[1], fixed, p)
    out_rate = q["output_tokens_per_s_per_gpu"]
    basis, factor, anchor_source = "estimated", 1.0, ""
    anchor = cat.anchors.get((gpu_key, model_key, precision))
    if anchor is not None and q["meets"] and draft == 0:  # anchors are measured without speculative decoding
        factor_key = (cat.fingerprint, gpu_key, model_key, precision, kv_precision)
        if factor_key not in _ANCHOR_FACTORS:
            _ANCHOR_FACTORS[factor_key] = anchor_factor(cat, anchor, m, g, vendor, kv_precision)
        factor = _ANCHOR_FACTORS[factor_key]
        basis, anchor_source = "measured", anchor["source"]
        out_rate *= factor
    elif not calibrated(cat.serving_calibration, vendor):
        basis = "uncalibrated"
    errors = cat.serving_calibration
    return dict(
        model=model_key, gpu=gpu_key, precision=precision, kv_precision=kv_precision,
        input_tokens=shape[0], output_tokens=shape[1], ttft_limit_ms=limits[0], tpot_limit_ms=limits[1],
        output_tokens_per_s_per_gpu=out_rate,
        total_tokens_per_s_per_gpu=out_rate * (shape[0] + shape[1]) / shape[1],
        concurrency=q["concurrency"], tp=q["tp"],
        ttft_ms=q["ttft_s"] * 1000.0 * errors["ttft_tail"], tpot_ms=q["tpot_s"] * 1000.0 * errors["tpot_tail"],
        fits=bool(q["fits"]), meets_limits=bool(q["meets"]), weights_gb=q["weights_gb"],
        kv_gb_per_sequence=q["kv_gb_per_sequence"], max_concurrency=q["max_concurrency"],
        usable_memory_gb=q["usable_gb"], prefill_ms=q["prefill_s"] * 1000.0, decode_step_ms=q["step_s"] * 1000.0,
        allreduce_ms=q["comm_s"] * 1000.0,
        power_w_per_gpu=float(power_w(g["tdp_w"], min(1.0, q["roofline_s"] / q["step_s"]))),
        basis=basis, anchor_factor=factor, anchor_source=anchor_source,
        expected_error=expected_error(errors, basis, vendor, m["experts"] > 0),
        speculative=normalize_key(speculative) if draft else "none", acceptance_length=acceptance,
        prefix_hit_rate=hit)


def expected_error(calibration, basis, vendor, moe):
    """Mean |relative error| of the back-test for this case: basis (measured | estimated), the GPU's vendor and
    dense or mixture-of-experts (``expected_error_estimated_nvidia_moe``), else the basis' overall figure; for
    ``uncalibrated``, the leave-one-vendor-out test's of dense or MoE (``expected_error_uncalibrated_moe``,
    `calibration.unseen_vendor_errors`)."""
    overall = calibration.get(f"expected_error_{basis}", math.nan)
    group = "" if basis == "uncalibrated" else f"_{normalize_key(vendor)}"
    return calibration.get(f"expected_error_{basis}{group}_{'moe' if moe else 'dense'}", overall)


def servable(est):
    """``est`` itself when the model fits and meets the limits; else one line that names the fix."""
    if not est.fits:
        raise InputError(f"{est.model} at {est.precision} ({est.weights_gb:,.0f} GB of weights) does not fit on {est.gpu} "
                         f"even with {TP_CHOICES[-1]} GPUs per replica — use a lower precision or a larger GPU")
    if not est.meets_limits:
        raise InputError(f"{est.model} on {est.gpu} at {est.precision} cannot meet TTFT ≤ {est.ttft_limit_ms:g} ms and "
                         f"TPOT ≤ {est.tpot_limit_ms:g} ms (one sequence on {est.tp:g} GPUs: TTFT {est.ttft_ms:,.0f} ms, "
                         f"TPOT {est.tpot_ms:,.0f} ms) — relax ttft_ms/tpot_ms or choose a faster GPU")
    return est


def architecture(spec):
    """A model architecture dict → the floats the equations read (blank MoE/MLA fields mean dense/GQA)."""
    missing = [k for k in ("params_b", "layers", "hidden_size", "attention_heads") if spec.get(k) in (None, "")]
    if missing:
        raise InputError(f"model architecture needs {', '.join(missing)} — give them (see catalogs/models.csv)")
    heads = float(spec["attention_heads"])
    out = {k: float(spec[k]) for k in ("params_b", "layers", "hidden_size", "attention_heads")}
    out["active_params_b"] = float(spec.get("active_params_b") or spec["params_b"])
    out["kv_heads"] = float(spec.get("kv_heads") or heads)
    out["head_dim"] = float(spec.get("head_dim") or out["hidden_size"] / heads)
    out["context_length"] = float(spec.get("context_length") or 131072)
    for k in ("experts", "experts_per_token", "kv_latent_dim", "sliding_window", "sliding_window_layers"):
        out[k] = float(spec.get(k) or 0.0)
    for k, v in out.items():
        if not math.isfinite(v) or v < 0:
            raise InputError(f"model architecture: {k} = {v!r} — give a finite number >= 0")
    return out


def solve_points(cat, models, gpus, vendors, precisions, kv_precisions, peaks, tps, input_tokens, output_tokens,
                 ttft_ms, tpot_ms, concurrency, params=None):
    """`_solve` for n points given as lists (the calibration's path); ``params`` overrides the catalog's
    calibration (the fit), already scaled per point."""
    factors = [efficiency_factor(cat.serving_calibration, v, x) for v, x in zip(vendors, precisions)]
    p = params if params is not None else scaled(cat.serving_calibration, (_column([c for c, _ in factors]),
                                                                          _column([m for _, m in factors])))
    tp = np.asarray([math.nan if t is None else t for t in tps], dtype=float)
    free = np.isnan(tp)
    if free.any() and not free.all():  # solve the points with a given tp apart: they need no tp search
        args = (models, gpus, vendors, precisions, kv_precisions, peaks, tps, input_tokens, output_tokens, ttft_ms,
                tpot_ms, concurrency)
        parts = []
        for mask in (free, ~free):
            index = np.flatnonzero(mask)
            sub = {k: (v[index] if isinstance(v, np.ndarray) and v.shape == tp.shape else v) for k, v in p.items()}
            parts.append((index, solve_points(cat, *([a[i] for i in index] for a in args), params=sub)))
        out = {}
        for key in parts[0][1]:
            merged = np.empty(len(tp), dtype=np.asarray(parts[0][1][key]).dtype)
            for index, part in parts:
                merged[index] = part[key]
            out[key] = merged
        return out
    candidates = TP_CHOICES if free.all() else (tp,)
    return _solve(_arrays(models), _arrays(gpus), _column([PRECISIONS[x] for x in precisions]),
                  _column([PRECISIONS[x] for x in kv_precisions]), _column(peaks), candidates, _column(input_tokens),
                  _column(output_tokens), _column(ttft_ms), _column(tpot_ms), _column(concurrency), p)


def anchor_factor(cat, anchor, m, g, vendor, kv_precision):
    """measured ÷ modelled throughput at the anchor's own conditions (its shape, limits and tp)."""
    p = cat.serving_calibration
    input_tokens = anchor.get("input_tokens") or p.get(f"input_tokens_{anchor.get('dataset', '')}", DEFAULT_INPUT_TOKENS)
    output_tokens = anchor.get("output_tokens") or p.get(f"output_tokens_{anchor.get('dataset', '')}",
                                                         DEFAULT_OUTPUT_TOKENS)
    tp = anchor.get("tp")
    point = _solve(m, g, PRECISIONS[anchor["precision"]], PRECISIONS[kv_precision],
                   peak_tflops(g, anchor["precision"], anchor["gpu"]),
                   tp_choices(m["attention_heads"]) if tp is None else (float(tp),),
                   float(input_tokens), float(output_tokens), anchor.get("ttft_ms", math.inf),
                   anchor.get("tpot_ms", math.inf), math.nan,
                   scaled(p, efficiency_factor(p, vendor, anchor["precision"], software_period(anchor.get("as_of")))))
    modelled = point["output_tokens_per_s_per_gpu"]
    return anchor["tokens_per_s"] / modelled if modelled > 0 else 1.0


# -- building blocks for other serving layouts (atlas_xl.disaggregated) ------------------------------
def replica_phases(model, gpu, tps, *, precision=None, kv_precision=None, input_tokens=None, output_tokens=None,
                   speculative=None, acceptance_length=None, catalog=None):
    """Prefill and decode of replicas of ``tps`` GPUs apart, with no latency limit applied and no prefill
    interleaved into decode: the building blocks of disaggregated prefill/decode serving.

    Parameters
    ----------
    model, gpu, precision, kv_precision, input_tokens, output_tokens, speculative, acceptance_length, catalog
        As `estimate` (the same defaults and checks).
    tps : numeric or array
        GPUs per replica; an array evaluates every replica size at once (broadcasting). [GPUs]

    Returns
    -------
    dict
        ``model``, ``gpu``, ``precision``, ``kv_precision``, ``speculative``, ``acceptance_length`` (resolved),
        ``input_tokens``, ``output_tokens`` [tokens], ``prefill_s`` (one prompt on the replica, compute-bound,
        `prefill_time_s`) [s], ``max_concurrency`` (sequences whose KV cache fits beside the weights),
        ``engine_max_concurrency`` (the engine's batch ceiling, decode tokens only: min(max sequences,
        max tokens per step / (1 + draft tokens))), ``weights_gb``, ``kv_gb_per_sequence`` [GB],
        ``kv_bytes_per_token`` [B token⁻¹], ``prompt_kv_tokens`` (prompt tokens whose KV the cache keeps:
        sliding-window layers keep their window, `attended_tokens`) [tokens], ``tpot_tail`` and ``ttft_tail``
        (p99 / mean), ``vendor``, and ``decode_step_s``: a function of the concurrency (broadcasting with
        ``tps``) giving one decode step's time, communication and overhead included [s].
    """
    cat = load_catalog(catalog)
    gpu_key, model_key, m, g, precision, kv_precision, shape, vendor, peak, p, draft, acceptance = _setup(
        cat, model, gpu, precision, kv_precision, input_tokens, output_tokens, speculative, acceptance_length)
    tp = np.asarray(tps, dtype=float)
    r = _replica(m, g, PRECISIONS[precision], PRECISIONS[kv_precision], peak, tp, shape[0], shape[1], p)

    def decode_step_s(concurrency):
        return _at(r, m, g, PRECISIONS[precision], peak, shape[1], concurrency, p)["step_s"]

    window = (m["layers"], m["sliding_window"], m["sliding_window_layers"])
    return dict(model=model_key, gpu=gpu_key, precision=precision, kv_precision=kv_precision,
                speculative=normalize_key(speculative) if draft else "none", acceptance_length=acceptance,
                input_tokens=shape[0], output_tokens=shape[1], prefill_s=r["prefill_s"] + 0.0 * tp,
                max_concurrency=r["max_concurrency"] + 0.0 * tp,
                engine_max_concurrency=minimum(p["max_concurrency"],
                                               floor(p.get("max_tokens_per_step", math.inf) / (1.0 + draft))),
                weights_gb=r["weights_gb"], kv_gb_per_sequence=r["kv_gb_per_sequence"],
                kv_bytes_per_token=r["kv_token"], prompt_kv_tokens=attended_tokens(shape[0], *window),
                tpot_tail=p["tpot_tail"], ttft_tail=p["ttft_tail"], vendor=vendor, attention_heads=m["attention_heads"],
                scale_up_gpus=g["scale_up_gpus"], usable_gb_per_gpu=usable_memory_gb(g["memory_gb"], 1.0, p["memory_fraction"]),
                decode_step_s=decode_step_s)
