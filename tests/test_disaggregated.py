"""atlas_xl.disaggregated: the equations, the limits, the refusals and the back-test's table."""
from pathlib import Path

import numpy as np
import pytest

import atlas_xl
from atlas_xl import disaggregated as d
from atlas_xl.errors import InputError, UnknownNameError

R1 = dict(precision="fp8", input_tokens=1024, output_tokens=1024, ttft_ms=5000, tpot_ms=30)


# -- equations ------------------------------------------------------------------------------------
def test_prompt_kv_gb():
    # DeepSeek-R1 MLA, fp8: 61 layers × 576 × 1 B = 35 136 B per token; 1024 tokens → 0.036 GB (hand-computed)
    assert d.prompt_kv_gb(35136.0, 1024.0) == pytest.approx(0.035979, rel=1e-4)
    assert np.allclose(d.prompt_kv_gb(np.array([1.0, 2.0]) * 1e9, 1.0), [1.0, 2.0])


def test_kv_transfer_ms():
    # 1 GB over 8 NICs of 50 GB/s: 2.5 ms + 1 ms latency (hand-computed)
    assert d.kv_transfer_ms(1.0, 8, 50.0) == pytest.approx(3.5)
    assert d.kv_transfer_ms(0.0, 1, 50.0) == pytest.approx(d.KV_TRANSFER_LATENCY_MS)  # edge: nothing to move


def test_rates_and_unit_balance():
    # 64 sequences at 20 ms per token, 1000 tokens each: 3.2 requests/s (Little's law, hand-computed)
    assert d.replica_request_rate_per_s(64.0, 0.020, 1000.0) == pytest.approx(3.2)
    assert d.prefill_request_rate_per_s(0.1) == pytest.approx(10.0)
    # 1 prefill replica (10/s) feeds 3 decode replicas of 3.2/s: 9.6 requests/s × 1000 tokens over 8 + 24 GPUs
    assert d.unit_output_tokens_per_s_per_gpu(1, 10.0, 8, 3, 3.2, 8, 1000.0) == pytest.approx(9600.0 / 32)
    # 4 decode replicas (12.8/s) are prefill-bound at 10/s
    assert d.unit_output_tokens_per_s_per_gpu(1, 10.0, 8, 4, 3.2, 8, 1000.0) == pytest.approx(10000.0 / 40)
    assert d.balanced_prefill_replicas(3.0, 3.2, 10.0) == pytest.approx(0.96)


# -- the estimate -----------------------------------------------------------------------------------
def test_record_is_consistent_with_its_equations():
    e = atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **R1)
    assert e.meets_limits and e.output_tokens_per_s_per_gpu > 0
    assert e.prefill_gpus == e.prefill_replicas * e.prefill_tp and e.decode_gpus == e.decode_replicas * e.decode_tp
    assert e.prefill_decode_ratio == pytest.approx(e.prefill_gpus / e.decode_gpus)
    assert e.tpot_ms <= 30 * (1 + 1e-9) and e.ttft_ms <= 5000
    assert e.ttft_ms > e.prefill_ms + e.kv_transfer_ms  # TTFT = (prefill + transfer + first step) × tail
    # output per decode GPU (InferenceX's convention) = per GPU × all GPUs / decode GPUs
    assert e.output_tokens_per_s_per_decode_gpu == pytest.approx(
        e.output_tokens_per_s_per_gpu * (e.prefill_gpus + e.decode_gpus) / e.decode_gpus)
    # the unit's rate is what its slower role delivers (recomputed from the record)
    decode_rate = e.decode_concurrency / (e.output_tokens * e.decode_step_ms / 1000.0)  # no speculation
    prefill_rate = 1000.0 / e.prefill_ms
    unit = min(e.prefill_replicas * prefill_rate, e.decode_replicas * decode_rate) * e.output_tokens
    assert e.output_tokens_per_s_per_gpu == pytest.approx(unit / (e.prefill_gpus + e.decode_gpus), rel=1e-6)
    # a prefill replica holds the 671 GB of fp8 weights: not one 180 GB B200
    assert e.prefill_tp >= 8 and set(d.FIELDS) <= set(e)


def test_decode_gpu_defaults_to_the_prefill_gpu_and_may_differ():
    same = atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **R1)
    assert same.decode_gpu == "b200"
    mixed = atlas_xl.estimate_disaggregated("deepseek_r1", "h200", "b200", **R1)
    assert mixed.prefill_gpu == "h200" and mixed.decode_gpu == "b200" and mixed.meets_limits


def test_looser_tpot_never_gives_fewer_tokens_per_gpu():
    rates = [atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **dict(R1, tpot_ms=t)).output_tokens_per_s_per_gpu
             for t in (15, 20, 30, 50, 100)]
    assert all(b >= a * (1 - 1e-9) for a, b in zip(rates, rates[1:]))


def test_no_prefill_interference_beats_aggregated_at_a_tight_tpot():
    # decode replicas run no chunked prefill, so at a tight TPOT they hold more sequences than an aggregated one
    disagg = atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **dict(R1, tpot_ms=20))
    aggregated = atlas_xl.estimate("deepseek_r1", "b200", tp=disagg.decode_tp, **dict(R1, tpot_ms=20))
    assert disagg.decode_concurrency >= aggregated.concurrency


def test_speculative_decoding_passes_through():
    e = atlas_xl.estimate_disaggregated("deepseek_r1", "b200", speculative="mtp", **R1)
    assert e.speculative == "mtp" and e.acceptance_length > 1 and e.meets_limits


def test_kv_transfer_uses_the_catalog_scale_out():
    cat = atlas_xl.load_catalog()
    assert cat.gpu_specs["b300"]["scale_out_gb_s"] == 100.0  # InferenceX: 800 Gbit/s per NIC
    assert cat.gpu_specs["b200"]["scale_out_gb_s"] == 50.0  # InferenceX: 400 Gbit/s per NIC
    assert cat.gpu_specs["gb200"]["scale_out_gb_s"] == 50.0  # blank in InferenceX: the stated default
    e = atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **dict(R1, input_tokens=8192))
    kv_gb = 61 * 576 * 1.0 * 8192 / 1e9  # MLA latent, fp8 KV, no MTP layer (hand-computed: 0.288 GB)
    expected = d.kv_transfer_ms(kv_gb, min(e.prefill_tp, e.decode_tp), 50.0)
    assert e.kv_transfer_ms == pytest.approx(expected, rel=1e-6)


def test_replicas_stay_within_the_calibrated_width_unless_the_model_needs_more():
    e = atlas_xl.estimate_disaggregated("deepseek_r1", "gb200", **R1)
    assert e.prefill_tp <= d.CALIBRATED_REPLICA_GPUS and e.decode_tp <= d.CALIBRATED_REPLICA_GPUS
    wide = atlas_xl.estimate_disaggregated("deepseek_r1", "gb200", max_tp=72, **R1)
    assert wide.output_tokens_per_s_per_gpu >= e.output_tokens_per_s_per_gpu  # more choices never give less
    # DeepSeek-R1 at fp8 (671 GB) does not fit on 8 H100s (8 × 80 GB × 0.9 = 576 GB): 16, beyond the node
    h100 = atlas_xl.estimate_disaggregated("deepseek_r1", "h100_sxm", **R1)
    assert h100.prefill_tp == 16 and h100.decode_tp == 16


def test_replica_sizes():
    b200 = atlas_xl.serving.replica_phases("deepseek_r1", "b200", 1.0, precision="fp8")
    assert list(d.replica_sizes(b200)) == [8.0]  # 4 × 180 × 0.9 = 648 GB < 671 GB of weights (hand-computed)
    assert list(d.replica_sizes(b200, 64)) == [8.0]  # the HGX board's scale-up domain is 8
    gb200 = atlas_xl.serving.replica_phases("deepseek_r1", "gb200", 1.0, precision="fp4")
    assert list(d.replica_sizes(gb200, 72)) == [4.0, 8.0, 16.0, 32.0, 64.0]


# -- refusals and limits -------------------------------------------------------------------------------
def test_unknown_decode_gpu_is_one_line_naming_the_known_ones():
    with pytest.raises(UnknownNameError) as error:
        atlas_xl.estimate_disaggregated("deepseek_r1", "b200", "b2000", **R1)
    text = str(error.value)
    assert text.startswith("decode_gpu: unknown gpu 'b2000'") and "known:" in text and "\n" not in text


def test_unmeetable_limits_say_so_and_servable_names_the_fix():
    e = atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **dict(R1, tpot_ms=0.5))
    assert not e.meets_limits and e.output_tokens_per_s_per_gpu == 0
    with pytest.raises(InputError, match="relax ttft_ms/tpot_ms or choose a faster GPU") as error:
        d.servable(e)
    assert "\n" not in str(error.value)
    ok = atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **R1)
    assert d.servable(ok) is ok


def test_a_model_that_fits_nowhere_says_so():
    # 100 000 B parameters at fp8 = 100 TB: more than 64 B200s hold (64 × 180 GB × 0.9 = 10.4 TB)
    huge = dict(model="huge", params_b=100000, layers=100, hidden_size=16384, attention_heads=128)
    e = atlas_xl.estimate_disaggregated(huge, "b200", **R1)
    assert not e.fits and not e.meets_limits and e.weights_gb == pytest.approx(100000.0)
    with pytest.raises(InputError, match=r"does not fit on b200/b200 replicas — use a lower precision or a larger GPU"):
        d.servable(e)
    assert atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **R1).fits


def test_a_ttft_below_the_prefill_is_not_met():
    e = atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **dict(R1, input_tokens=8192, ttft_ms=5))
    assert not e.meets_limits


@pytest.mark.parametrize("bad", [0, -5, float("nan"), "abc", True])
def test_bad_limits_are_refused(bad):
    with pytest.raises(InputError):
        atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **dict(R1, tpot_ms=bad))
    with pytest.raises(InputError):
        atlas_xl.estimate_disaggregated("deepseek_r1", "b200", max_tp=bad, **R1)


# -- the back-test ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def frame():
    return d.backtest()


def test_backtest_points_are_inferencex_disaggregated_and_attributed():
    points = d.disaggregated_benchmarks()
    assert len(points) > 200 and set(d.POINT_COLUMNS) <= set(points.columns)
    assert points.source.str.startswith("SemiAnalysis InferenceX: https://github.com/SemiAnalysisAI/").all()
    assert set(points.gpu) <= set(atlas_xl.load_catalog().gpus)


def test_backtest_table(frame):
    table = d.summary(frame)
    assert list(table.columns) == ["gpu", "precision", "points", "mape_pct", "median_error_pct", "within_30_pct"]
    overall = table[table.gpu == "all"].iloc[0]
    assert overall.points == len(frame)
    assert overall.mape_pct == pytest.approx(frame.error.abs().mean() * 100, abs=0.06)
    assert {"b200", "gb200", "h200", "mi355x"} <= set(table.gpu)
    system = d.summary(frame, system_bound_only=True)
    assert system[system.gpu == "all"].iloc[0].points == (~frame.client_bound).sum()
    # the model never gets the measured layout: the chosen ones differ from the measured ones on most points
    assert (frame.chosen_layout != frame.measured_layout).mean() > 0.5


def test_doc_is_current(frame):
    doc = Path(__file__).parents[1] / "docs" / "disaggregated.md"
    assert doc.read_text() == d.doc_text(frame), "run python scripts/gen_disaggregated_doc.py"
    assert "SemiAnalysis InferenceX" in doc.read_text()


@pytest.mark.parametrize("gpu", ["b200", "gb200", "h200", "mi355x", "h100_sxm"])
@pytest.mark.parametrize("limits", [(300, 10), (2000, 20), (30000, 60)])
def test_a_unit_that_meets_the_limits_is_within_them(gpu, limits):
    ttft, tpot = limits
    e = atlas_xl.estimate_disaggregated("deepseek_r1", gpu, precision="fp8", input_tokens=8192, output_tokens=1024,
                                        ttft_ms=ttft, tpot_ms=tpot)
    if e.meets_limits:
        assert e.ttft_ms <= ttft * (1 + 1e-9) and e.tpot_ms <= tpot * (1 + 1e-9)
        assert e.decode_concurrency >= 1 and e.output_tokens_per_s_per_gpu > 0
    else:
        assert e.output_tokens_per_s_per_gpu == 0


def test_looser_ttft_never_gives_fewer_tokens_per_gpu():
    rates = [atlas_xl.estimate_disaggregated("deepseek_r1", "b200", **dict(R1, input_tokens=8192, ttft_ms=t))
             .output_tokens_per_s_per_gpu for t in (400, 800, 1600, 5000)]
    assert all(b >= a * (1 - 1e-9) for a, b in zip(rates, rates[1:])) and rates[-1] > 0
