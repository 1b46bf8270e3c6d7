"""Tests for atlas_xl.simulator: each equation hand-computed from the published NVIDIA coefficients,
determinism, saturation, every knob effective, input errors."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atlas_xl
from atlas_xl import simulator as sim
from atlas_xl.errors import AtlasError, InputError

NOISELESS = {"noise": {"amplitude": 0.0}}


# -- equations, hand-computed -------------------------------------------------------------------
def test_utilization_with_knobs():
    # nvidia.yaml: 0.58 + 0.12 + 0.05 + 0.10 = 0.85 (below the 0.92 cap)
    assert sim.utilization_with_knobs(0.58, 0.12, 0.05, 0.10, 0.92, True, True, True) == pytest.approx(0.85)
    assert sim.utilization_with_knobs(0.80, 0.12, 0.05, 0.10, 0.92, True, True, True) == 0.92  # capped


def test_communication_intensity_spec_examples():
    # spec 3.1 "Real-World Communication Examples" as written: 0.15 + 8×0.20 + 8×0.25 = 3.55
    # (the text counts 8 stages; the formula uses tp − 1: 0.15 + 7×0.20 + 7×0.25 = 3.30)
    assert sim.communication_intensity(0.15, 0.20, 0.25, 8, 8, 0.6, False) == pytest.approx(3.30)
    assert sim.communication_intensity(0.10, 0.15, 0.20, 2, 2, 0.6, False) == pytest.approx(0.45)  # 7B example
    assert sim.communication_intensity(0.10, 0.15, 0.20, 2, 2, 0.6, True) == pytest.approx(0.27)


def test_communication_overhead():
    # 0.078 × RoCE 1.1 × (1 + 0.05 SR-IOV) × 1 = 0.09009; with GPUDirect ×0.45; floor 0.02
    assert sim.communication_overhead(0.078, 1.1, 0.05, True, 0.45, False, 0.02) == pytest.approx(0.09009)
    assert sim.communication_overhead(0.078, 1.1, 0.05, True, 0.45, True, 0.02) == pytest.approx(0.0405405)
    assert sim.communication_overhead(0.01, 1.0, 0.05, False, 0.45, True, 0.02) == 0.02


def test_throughput_chain():
    rate = sim.base_rate(8, 1100.0, 1.05)
    assert rate == pytest.approx(9240.0)
    tps = sim.token_throughput(rate, 0.68, 7.5, 0.09009)
    assert tps == pytest.approx(9240 * 0.68 / (1 + 7.5 * 0.09009))
    assert sim.decode_scaling(tps, 256, 1280) == pytest.approx(tps / 5)
    assert sim.decode_scaling(tps, 0, 1280) == tps
    assert sim.step_time_ms(16384, 2000.0) == pytest.approx(8192.0)


def test_flop_hbm_power_cost():
    assert sim.flop_utilization(0.68, 0.4, 0.09009) == pytest.approx(0.68 * (1 - 0.4 * 0.09009))
    assert sim.hbm_utilization(1280, 0.4, 0.45, 8192, 0.82) == pytest.approx(0.4703125)
    assert sim.hbm_utilization(32768, 0.4, 0.45, 8192, 0.82) == 0.82  # capped
    assert sim.node_power_w(10200, 0.4, 0.6, 0.68) == pytest.approx(8241.6)
    assert sim.energy_cost_per_hour_usd(8241.6, 1.2, 0.12) == pytest.approx(1.1867904)
    assert sim.dollar_per_1k_tokens(98.32, 1.1867904, 1000.0) == pytest.approx((98.32 + 1.1867904) / 3600)


def test_latency_equations():
    assert sim.p50_service_ms(4.0, 900.0, 9240.0, 8) == 4.0  # 900 / 1155 = 0.78 < floor 4 ms
    assert sim.p50_service_ms(4.0, 900.0, 800.0, 8) == pytest.approx(9.0)  # 900 / max(1, 100)
    tail = sim.tail_multiplier(0.75, 0.09009, 0.18, True)
    assert tail == pytest.approx(1 + 0.75 * 0.09009 + 0.18)
    assert sim.tail_service_ms(4.0, 2.1, tail) == pytest.approx(4 * 2.1 * tail)
    assert sim.ttft_service_ms(4.0, 0.7) == pytest.approx(2.8)


def test_noise_seeded_and_bounded():
    assert sim.noise_epsilon(7, 0.025) == sim.noise_epsilon(7, 0.025)
    assert sim.noise_epsilon(7, 0.025) != sim.noise_epsilon(8, 0.025)
    assert sim.noise_epsilon(7, 0.0) == 0.0
    assert all(abs(sim.noise_epsilon(s, 0.1)) <= 0.05 for s in range(200))


# -- simulate(): whole records ----------------------------------------------------------------------
def test_simulate_seed_equations_exact_with_an_explicit_base_rate():
    # the seed's published base rate (nvidia.yaml: 1100 tokens/s per accelerator) given explicitly:
    # the seed's equations reproduce its numbers exactly
    seed = {"compute": {"base_tokens_per_accel": 1100.0}, **NOISELESS}
    r = atlas_xl.simulate("nvidia_h100_8x_nvlink", "llama_70b_chat", hardware=seed)
    assert r.base_rate_basis == "hardware model"
    # rho 0.68; chi (0.11 + 0.02) × 0.6 = 0.078; omega_comm 0.09009; base 9240 tokens/s
    tps = 9240 * 0.68 / (1 + 7.5 * 0.09009) * 256 / 1280
    assert r.utilization == pytest.approx(0.68)
    assert r.comm_overhead == pytest.approx(0.09009)
    assert r.tokens_per_sec == pytest.approx(tps, rel=1e-12)
    assert r.step_time_ms == pytest.approx(4 * 1 * 1280 / tps * 1000)
    assert r.flop_utilization == pytest.approx(0.68 * (1 - 0.4 * 0.09009))
    assert r.hbm_bw_util == pytest.approx(0.4703125)
    assert r.comm_compute_ratio == pytest.approx(7.5 * 0.09009)
    tail = 1 + 0.75 * 0.09009 + 0.18
    assert (r.p50_service_ms, r.p95_service_ms, r.p99_service_ms, r.ttft_service_ms) == pytest.approx(
        (4.0, 4 * 1.45 * tail, 4 * 2.1 * tail, 2.8))
    assert r.node_power_w == pytest.approx(8241.6)
    assert r.energy_cost_per_hour_usd == pytest.approx(1.1867904)
    assert r.dollar_per_1k_tokens == pytest.approx((98.32 + 1.1867904) / (tps * 3.6))


def test_simulate_queue_is_per_replica_erlang_c():
    r = atlas_xl.simulate(None, "llama_70b_chat", hardware=NOISELESS)
    # 4 replicas; one request = 256 tokens at tokens_per_sec / 4; steady profile loads 70 %
    service_s = 256 / (r.tokens_per_sec / 4)
    assert r.queue_servers == 4
    assert r.queue_service_time_ms == pytest.approx(service_s * 1000)
    assert r.queue_utilization == pytest.approx(0.70)
    assert r.queue_wait_probability == pytest.approx(0.4286, abs=1e-4)  # Erlang C(4, 2.8)
    assert r.queue_wait_ms == pytest.approx(r.queue_wait_probability * service_s / (4 - 2.8) * 1000)
    assert r.p50_ms == pytest.approx(r.p50_service_ms + min(r.queue_wait_ms, 0.5 * r.p50_service_ms))
    assert r.queue_delay_capped is True  # the spec's bound hides the 0.5 s mean wait; the flag says so
    assert r.saturated is False


def test_simulate_saturated_says_so():
    r = atlas_xl.simulate(None, {"name": "llama_70b_chat", "arrival": {"requests_per_sec": 50.0}})
    assert r.saturated is True
    assert r.queue_utilization > 1
    assert math.isinf(r.p99_ms) and math.isinf(r.queue_wait_ms) and math.isinf(r.ttft_ms)


def test_training_record():
    r = atlas_xl.simulate("nvidia_h100_8x_nvlink", "llama_70b_finetune", hardware=NOISELESS)
    # rho 0.58; chi 0.11 + 3×0.02 + 1×0.015 = 0.185; omega 0.185 × 1.1 = 0.2035; base 8800
    tps = 8800 * 0.58 / (1 + 7.5 * 0.2035)
    assert r.mode == "training"
    assert r.tokens_per_sec == pytest.approx(tps)
    assert r.step_time_ms == pytest.approx(1 * 4 * 4096 / tps * 1000)
    assert math.isnan(r.queue_wait_ms) and r.p99_ms == r.p99_service_ms


def test_determinism_and_noiseless():
    a = atlas_xl.simulate(seed=11)
    b = atlas_xl.simulate(seed=11)
    assert a == b
    assert atlas_xl.simulate(seed=12).tokens_per_sec != a.tokens_per_sec
    quiet = atlas_xl.simulate(seed=11, hardware=NOISELESS)
    assert quiet.tokens_per_sec == pytest.approx(a.tokens_per_sec / (1 + a.noise_epsilon), rel=1e-14)
    assert quiet.noise_epsilon == 0.0


def test_dict_inputs_in_the_seed_schema():
    target = {"name": "my_node", "vendor": "NVIDIA", "accelerators_per_node": 8, "num_nodes": 2,
              "interconnect": {"type": "IB", "bw_GBps": 400},
              "cost": {"hourly_usd": 50.0, "energy_watts_node": 10200, "pue": 1.3}}
    workload = {"name": "w", "parallelism": {"tp": 2, "pp": 1, "dp": 8}, "sequence": {"prompt": 512, "generate": 128},
                "runtime_tuning": {"microbatch": 1, "cuda_graphs": True, "gpudirect_rdma": True, "virt": "bare",
                                   "fabric": "IB"}}
    r = atlas_xl.simulate(target, workload)
    assert r.accelerators == 16 and r.mode == "inference" and r.pue == 1.3
    assert r.hourly_cost_usd == 100.0


def test_hardware_dict_overrides_coefficients():
    base = atlas_xl.simulate(hardware={"compute": {"base_tokens_per_accel": 1100.0}, **NOISELESS})
    faster = atlas_xl.simulate(hardware={"compute": {"base_tokens_per_accel": 2200.0}, **NOISELESS})
    assert faster.tokens_per_sec == pytest.approx(2 * base.tokens_per_sec)
    groq = atlas_xl.simulate("nvidia_h100_8x_nvlink", "llama_8b_api", hardware="groq", knobs={"fabric": "fabric"})
    assert groq.hardware_model == "groq"


@pytest.mark.parametrize("knob, value, field", [
    ("cuda_graphs", True, "tokens_per_sec"),
    ("gpudirect_rdma", True, "tokens_per_sec"),
    ("fabric", "ib", "comm_overhead"),
    ("virt", "bare", "p99_service_ms"),
    ("microbatch", 2, "step_time_ms"),
])
def test_every_knob_changes_an_output(knob, value, field):
    # DESIGN.md: a knob that changes nothing is a bug. Baseline: llama_70b_chat has every knob off
    base = atlas_xl.simulate(None, "llama_70b_chat")
    assert base[f"knob_{knob}"] != value
    changed = atlas_xl.simulate(None, "llama_70b_chat", {knob: value})
    assert changed[field] != base[field]


def test_knobs_cover_the_optimizer_search_space():
    assert set(sim.KNOBS) == {"cuda_graphs", "gpudirect_rdma", "fabric", "virt", "microbatch"}


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 16), st.integers(1, 16))
def test_more_accelerators_never_less_throughput(n1, n2):
    lo, hi = sorted((n1, n2))
    node = {"name": "n", "vendor": "NVIDIA", "accelerators_per_node": 8,
            "cost": {"hourly_usd": 98.32, "energy_watts_node": 10200, "pue": 1.2}}
    a = atlas_xl.simulate({**node, "num_nodes": lo}, "llama_70b_chat")
    b = atlas_xl.simulate({**node, "num_nodes": hi}, "llama_70b_chat")
    assert b.tokens_per_sec >= a.tokens_per_sec


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, message", [
    (("nvidia_h100_8x", None), {}, "unknown target 'nvidia_h100_8x' — did you mean nvidia_h100_8x_nvlink"),
    ((None, "llama_70b_chatt"), {}, "unknown workload 'llama_70b_chatt' — did you mean llama_70b_chat"),
    ((None, "gpt5_1t_train"), {}, "parallelism tp·pp·dp = 8·8·16 = 1024 needs 1024 accelerators but target "
                                  "'nvidia_h100_8x_nvlink' has 8"),
    ((None, {"name": "llama_70b_chat", "parallelism": {"tp": 0}}), {}, "column parallelism.tp: 0 must be greater than 0"),
    ((None, {"name": "llama_70b_chat", "sequence": {"prompt": -5}}), {}, "column sequence.prompt: -5 is negative"),
    ((None, {"name": "llama_70b_chat", "parallelism": {"tpp": 2}}), {}, "unknown key 'parallelism.tpp' in workload 'llama_70b_chat'"),
    ((None, None, {"turbo": True}), {}, "unknown knob 'turbo'"),
    ((None, None, {"virt": "vm"}), {}, "knob virt 'vm' is unknown"),
    ((None, None, {"microbatch": 0}), {}, "knob microbatch must be a whole number >= 1"),
    ((None, None), {"usd_per_kwh": -1}, "usd_per_kwh must be 0 USD/kWh or more — got -1"),  # LIMITS
    ((None, None), {"pue": 0.5}, "pue must be 1 or more — got 0.5"),  # LIMITS (docs/limits.md)
])
def test_errors_are_one_line(args, kwargs, message):
    with pytest.raises(AtlasError) as info:
        atlas_xl.simulate(*args, **kwargs)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_input_is_input_error():
    with pytest.raises(InputError):
        atlas_xl.simulate(None, None, {"cuda_graphs": "maybe"})


# -- the serving model under the simulator (issue 9) -------------------------------------------------
TUNED = {"cuda_graphs": True, "gpudirect_rdma": True, "virt": "bare", "fabric": "nvlink"}


def _mlperf_shape():
    # MLPerf Llama-2-70B: mean output 291 tokens (result logs); mean input 222.3 tokens over the OpenOrca dataset
    # (scripts/derive_serving.py, MLPERF_INPUT_TOKENS)
    prompt = 222
    return {"name": "llama_70b_chat", "sequence": {"prompt": prompt, "generate": 291}}


def test_llama_70b_on_h100_node_matches_mlperf():
    untuned = atlas_xl.simulate("nvidia_h100_8x_nvlink", _mlperf_shape(), hardware=NOISELESS)
    assert untuned.base_rate_basis == "serving model (measured)"
    # MLPerf Inference v4.1 closed Server, 8×H100-SXM: 2 698.5 output tokens/s per GPU (lower median,
    # shared/data/llm_inference_benchmarks.csv) → 21 588 for the node; the issue's bar: within 25 %
    assert untuned.tokens_per_sec == pytest.approx(8 * 2698.5, rel=0.25)
    # tuned like an MLPerf submission, the node reproduces its v5.1 (2025) anchor (3 818.8 per GPU) carried to
    # NVIDIA's newest software period (÷ the fitted 2025 factor, serving_calibration.csv) within 5 %
    tuned = atlas_xl.simulate("nvidia_h100_8x_nvlink", _mlperf_shape(), TUNED, hardware=NOISELESS)
    newer = 1.0 / atlas_xl.load_catalog().serving_calibration["software_nvidia_2025"]
    assert tuned.tokens_per_sec == pytest.approx(8 * 3818.8 * newer, rel=0.05)


def test_smaller_model_is_several_times_faster():
    big = atlas_xl.simulate("nvidia_h100_8x_nvlink", "llama_70b_chat", TUNED, hardware=NOISELESS)
    small = atlas_xl.simulate("nvidia_h100_8x_nvlink", {"name": "llama_70b_chat", "model": "llama_8b"}, TUNED,
                              hardware=NOISELESS)
    assert small.tokens_per_sec > 3 * big.tokens_per_sec


def test_model_from_dimensions_changes_the_rate():
    # a workload without a model key is built from its params.* (8B-like dimensions vs 70B-like)
    dims = {"name": "custom", "mode": "inference", "sequence": {"prompt": 512, "generate": 256},
            "parallelism": {"tp": 1, "pp": 1, "dp": 8}, "precision": {"weights": "fp8"}}
    small = atlas_xl.simulate(None, {**dims, "params": {"hidden_size": 4096, "n_layers": 32, "n_heads": 32,
                                                          "vocab_size": 128256}}, hardware=NOISELESS)
    big = atlas_xl.simulate(None, {**dims, "parallelism": {"tp": 2, "pp": 1, "dp": 4},
                                   "params": {"hidden_size": 8192, "n_layers": 80, "n_heads": 64,
                                              "vocab_size": 128256}}, hardware=NOISELESS)
    assert small.base_rate_basis.startswith("serving model") and small.tokens_per_sec > 3 * big.tokens_per_sec


def test_model_that_does_not_fit_its_tp_is_refused():
    with pytest.raises(InputError, match="does not fit on tp·pp = 1 h100_sxm GPUs"):
        atlas_xl.simulate(None, {"name": "llama_70b_chat", "model": "llama_405b", "parallelism": {"tp": 1}})


# -- simulate() and estimate() agree on GPU targets (issue 17 item 5) --------------------------------
def _workload(model, tp, dp, precision, prompt, generate):
    return {"name": "llama_70b_chat", "model": model, "parallelism": {"tp": tp, "pp": 1, "dp": dp},
            "sequence": {"prompt": prompt, "generate": generate}, "precision": {"weights": precision}}


@pytest.mark.parametrize("target, gpu, model, tp, dp, precision", [
    ("nvidia_h100_8x_nvlink", "h100_sxm", "llama_70b", 2, 4, "fp8"),
    ("nvidia_h100_8x_nvlink", "h100_sxm", "llama_70b", 8, 1, "fp8"),
    ("nvidia_h100_8x_nvlink", "h100_sxm", "llama_8b", 1, 8, "fp8"),
    ("nvidia_h200_8x", "h200", "deepseek_r1", 8, 1, "fp8"),
    ("nvidia_b200_8x", "b200", "gpt_oss_120b", 1, 8, "fp4"),
    ("nvidia_b200_8x", "b200", "mixtral_8x7b", 2, 4, "bf16"),
    ("nvidia_h100_cluster_32n", "h100_sxm", "llama_405b", 8, 32, "fp8"),
])
@pytest.mark.parametrize("prompt, generate", [(1024, 290), (128, 2048)])
def test_tuned_simulation_reports_the_serving_models_output_rate(target, gpu, model, tp, dp, precision, prompt,
                                                                 generate):
    est = atlas_xl.estimate(model, gpu, precision=precision, input_tokens=prompt, output_tokens=generate, tp=tp)
    accelerators = atlas_xl.load_catalog().record("targets", target)
    expected = accelerators["accelerators_per_node"] * accelerators["num_nodes"] * est.output_tokens_per_s_per_gpu
    workload = _workload(model, tp, dp, precision, prompt, generate)
    noisy = atlas_xl.simulate(target, workload, TUNED)  # the seed's noise (±1.25 % on NVIDIA) around it
    assert noisy.tokens_per_sec == pytest.approx(expected, rel=0.05)
    exact = atlas_xl.simulate(target, workload, TUNED, hardware=NOISELESS)
    assert exact.tokens_per_sec == pytest.approx(expected, rel=1e-9)
    untuned = atlas_xl.simulate(target, workload, hardware=NOISELESS)  # the workload's SR-IOV, RoCE, no graphs
    assert untuned.tokens_per_sec < 0.9 * exact.tokens_per_sec  # the seed's knob degradations apply around it


def test_issue_example_8_h100_llama_70b_matches_estimate():
    # issue 17: 8×H100, Llama-70B, 1 024 in / 290 out, tuned: simulate 4 045 tokens/s against estimate ≈ 10 700
    est = atlas_xl.estimate("llama_70b", "h100_sxm", input_tokens=1024, output_tokens=290)
    workload = _workload("llama_70b", int(est.tp), 8 // int(est.tp), "fp8", 1024, 290)
    r = atlas_xl.simulate("nvidia_h100_8x_nvlink", workload, TUNED)
    assert r.tokens_per_sec == pytest.approx(8 * est.output_tokens_per_s_per_gpu, rel=0.05)


def test_long_prompt_beyond_the_default_limits_still_simulates():
    # 20 000-token prompts on tp 2 (8 000 met it once the fit found FP8 prefill faster): the serving model's 2 s TTFT limit is missed (was a ZeroDivisionError);
    # the simulator runs at the rate memory allows and says so
    workload = _workload("llama_70b", 2, 4, "fp8", 20000, 1000)
    assert not atlas_xl.estimate("llama_70b", "h100_sxm", input_tokens=20000, output_tokens=1000, tp=2).meets_limits
    r = atlas_xl.simulate("nvidia_h100_8x_nvlink", workload, TUNED, hardware=NOISELESS)
    unlimited = atlas_xl.estimate("llama_70b", "h100_sxm", input_tokens=20000, output_tokens=1000, tp=2,
                                  ttft_ms=3.6e6, tpot_ms=3.6e6)
    assert r.tokens_per_sec == pytest.approx(8 * unlimited.output_tokens_per_s_per_gpu, rel=1e-9)
    assert r.base_rate_basis.endswith("beyond the default latency limits)")


def test_explicit_base_rate_ignores_the_serving_model():
    # a hardware description with base_tokens_per_accel keeps the seed's numbers whatever the model
    seed = {"compute": {"base_tokens_per_accel": 1100.0}, **NOISELESS}
    big = atlas_xl.simulate("nvidia_h100_8x_nvlink", "llama_70b_chat", TUNED, hardware=seed)
    small = atlas_xl.simulate("nvidia_h100_8x_nvlink", {"name": "llama_70b_chat", "model": "llama_8b"}, TUNED,
                              hardware=seed)
    assert big.tokens_per_sec == small.tokens_per_sec and big.base_rate_basis == "hardware model"
    assert big.base_rate_tokens_per_sec == pytest.approx(8 * 1100.0 * 1.05)  # N × B_base × f_vendor (nvidia.yaml: 1.05)


def test_node_split_gives_equal_nodes_of_at_most_eight():
    # hand-computed: ceil(n / 8) nodes, one more until they divide n evenly
    assert sim.node_split(6) == (1, 6)
    assert sim.node_split(12) == (2, 6)
    assert sim.node_split(11) == (11, 1)  # a prime above 8: one GPU a node
    assert sim.node_split(24) == (3, 8)
