"""Tests for atlas_xl.planner — every worked example of the planner spec, hand-computed cases per
billing type and penalty, arrays, and the invariants as property tests."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atlas_xl
from atlas_xl import planner, values
from atlas_xl.errors import AtlasError, InputError, UnknownNameError


# -- spec worked examples -------------------------------------------------------------------------
def test_peak_business_hours_spec_example():
    # spec "Peak Load Calculation": (100 / 0.238) × 1.0 = 420 tokens/s
    assert planner.peak_tokens_per_s(100.0, 0.238, 1.0) == pytest.approx(420.168, abs=1e-3)
    assert round(planner.peak_tokens_per_s(100.0, 0.238, 1.0)) == 420


def test_avg_tokens_per_s():
    assert planner.avg_tokens_per_s(8_640_000) == 100.0  # hand-computed: 8.64e6 / 86 400


def test_effective_throughput_spec_example():
    # spec "Effective Throughput": 15 000 × 0.85 × 1.25 = 15 937(.5)
    assert planner.effective_gpu_tokens_per_s(15_000, 0.85, 1.25) == pytest.approx(15_937.5)


def test_scaling_spec_example():
    # spec "Post-Scaling Utilization": ratio 1.8 → ceil(2.4) = 3 GPUs at 0.60
    assert planner.gpu_count(1.8) == 3
    assert planner.utilization_after(1.8, 3) == pytest.approx(0.60)


def test_gpu_count_below_target_is_one_and_counts_whole_replicas():
    assert planner.gpu_count(0.2) == 1  # spec: scale only above 0.75
    assert planner.gpu_count(0.75) == 1  # exactly at the target: no scaling
    assert planner.gpu_count(0.2, replica_gpus=4) == 4  # one replica of the model needs 4 GPUs
    assert planner.gpu_count(3.5, replica_gpus=4) == 8  # ceil(3.5 / 0.75) = 5 GPUs → two replicas of 4
    assert planner.gpu_count(np.array([0.2, 3.5]), replica_gpus=np.array([2.0, 4.0])).tolist() == [2.0, 8.0]


def test_gpu_count_exact_multiple_not_rounded_up_by_float_error():
    # 2.25 / 0.75 is 3.0000000000000004 in binary floating point; the rule means 3
    assert planner.gpu_count(2.25) == 3


def test_gpu_count_array():
    counts = planner.gpu_count(np.array([0.1, 0.76, 1.8, 2.25]))
    np.testing.assert_array_equal(counts, [1, 2, 3, 3])


@pytest.mark.parametrize("util, band", [(0.0, "low"), (0.50, "low"), (0.51, "medium"),
                                        (0.75, "medium"), (0.7501, "high"), (1.3, "high")])
def test_latency_risk_bands(util, band):
    assert planner.latency_risk(util) == band  # DESIGN.md boundaries


def test_latency_risk_array_and_nan():
    np.testing.assert_array_equal(planner.latency_risk(np.array([0.2, 0.6, 0.9, np.nan])),
                                  ["low", "medium", "high", "n/a"])
    assert planner.latency_risk(math.nan) == "n/a"


# -- costs: hand-computed per billing type ---------------------------------------------------------
def test_autoscaling_cost():
    # 720 × 0.238 = 171.36 active hours × $4 × 3 GPUs = $2 056.32
    assert planner.autoscaling_monthly_cost_usd(planner.active_hours_per_month(0.238), 4.0, 3) == pytest.approx(2056.32)


def test_dedicated_cost_and_idle_waste():
    # 720 × $2 × 2 = $2 880; idle (720 − 171.36) × 2 × 2 = $2 194.56 = 76.2 %
    cost = planner.dedicated_monthly_cost_usd(720, 2.0, 2)
    waste = planner.idle_waste_usd(720, 171.36, 2.0, 2)
    assert cost == 2880.0
    assert waste == pytest.approx(2194.56)
    assert planner.idle_waste_pct(waste, cost) == pytest.approx(76.2)


def test_per_token_cost_and_cost_per_m():
    # 1e9 tokens/day × 30 = 3e10 tokens; /1e6 × $0.88 = $26 400; = $0.88 per Mtok
    tokens = planner.monthly_tokens(1e9)
    cost = planner.per_token_monthly_cost_usd(tokens, 0.88)
    assert tokens == 3e10
    assert cost == pytest.approx(26_400.0)
    assert planner.cost_per_m_tokens_usd(cost, tokens) == pytest.approx(0.88)


# -- penalties: hand-computed --------------------------------------------------------------------
def test_overload_penalty_ramp():
    assert planner.overload_penalty_usd(0.90) == 0.0
    assert planner.overload_penalty_usd(0.95) == pytest.approx(10_000.0)  # half the ramp
    assert planner.overload_penalty_usd(1.00) == pytest.approx(20_000.0)  # spec: $20k at 100 %
    assert planner.overload_penalty_usd(1.10) == pytest.approx(40_000.0)  # ramp kept above 100 %


def test_scaling_penalty():
    assert planner.scaling_penalty_usd(8) == 0.0
    assert planner.scaling_penalty_usd(11) == 150_000.0  # 50k × 3


def test_latency_penalty():
    assert planner.latency_penalty_usd("high", 200) == 30_000.0
    assert planner.latency_penalty_usd("high", 300) == 0.0  # strictly below 300 ms
    assert planner.latency_penalty_usd("medium", 100) == 0.0
    assert planner.latency_penalty_usd("high", None) == 0.0
    np.testing.assert_array_equal(planner.latency_penalty_usd(np.array(["high", "low"]), 100), [30_000, 0])


# -- plan(): whole records ------------------------------------------------------------------------
def test_plan_without_catalog_row_spec_numbers():
    # spec H100 example figures as overrides: steady, 15 000 tok/s → 15 937.5 effective.
    # 2e9 tokens/day → 23 148.1 tok/s peak → ratio 1.4524 → ceil(1.9366) = 2 GPUs at 0.7262
    r = atlas_xl.plan(2e9, "steady", "my_model", "my_cloud", billing="dedicated",
                      gpu_tokens_per_s=15_000, hourly_usd=4.0)
    assert r.effective_gpu_tokens_per_s == pytest.approx(15_937.5)
    assert r.utilization_ratio == pytest.approx(23_148.148 / 15_937.5, rel=1e-6)
    assert r.gpu_count == 2
    assert r.utilization_after == pytest.approx(0.72621, rel=1e-4)
    assert r.latency_risk == "medium"
    assert r.monthly_cost_usd == pytest.approx(720 * 4.0 * 2)
    assert r.idle_waste_usd == 0.0  # steady: active all month
    assert r.cost_per_m_tokens_usd == pytest.approx(5760 / 6e10 * 1e6)
    assert r.score_usd == r.monthly_cost_usd


def test_plan_catalog_dedicated_bursty_with_all_penalties():
    # hand-computed from the catalog row runpod/h100_sxm ($2.69) with a given 3 818.8 tok/s per GPU:
    # bursty: peak = 1e10/86400/0.4×3 = 868 055.6 tok/s; effective = 3818.8×0.7×1.35 = 3 608.766
    # ratio = 240.541; fixed 100 GPUs → util 2.40541 (high)
    r = atlas_xl.plan(1e10, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=200, gpu_count=100,
                      gpu_tokens_per_s=3818.8)
    assert r.throughput_basis == "given"
    assert r.effective_gpu_tokens_per_s == pytest.approx(3818.8 * 0.7 * 1.35)
    assert r.utilization_after == pytest.approx(868_055.555 / 3608.766 / 100, rel=1e-6)
    assert r.latency_risk == "high"
    assert r.overload_penalty_usd == pytest.approx(20_000 * (r.utilization_after - 0.9) / 0.1)
    assert r.scaling_penalty_usd == 50_000 * 92
    assert r.latency_penalty_usd == 30_000
    assert r.monthly_cost_usd == pytest.approx(720 * 2.69 * 100)
    assert r.idle_waste_usd == pytest.approx((720 - 288) * 2.69 * 100)
    assert r.idle_waste_pct == pytest.approx(60.0)
    assert r.score_usd == pytest.approx(r.monthly_cost_usd + r.penalty_usd)


def test_plan_autoscaling_catalog():
    r = atlas_xl.plan(1e9, "business_hours", "llama_8b", "fireworks", "h100_sxm")
    assert r.billing == "autoscaling"
    assert r.active_hours_per_month == pytest.approx(720 * 0.238)
    assert r.monthly_cost_usd == pytest.approx(720 * 0.238 * 8.0 * r.gpu_count)
    assert r.idle_waste_usd == 0.0


def test_plan_per_token_has_no_gpu_fields():
    r = atlas_xl.plan(1e9, "steady", "llama_70b", "together", latency_ms=100)
    assert r.billing == "per_token"
    assert math.isnan(r.gpu_count) and math.isnan(r.utilization_after)
    assert r.latency_risk == "n/a"
    assert r.penalty_usd == 0.0 and r.idle_waste_usd == 0.0
    assert r.monthly_cost_usd == pytest.approx(26_400.0)  # 3e10 / 1e6 × 0.88


def test_plan_min_gpus_from_catalog():
    # llama_405b on H200 needs 8 GPUs of memory even at tiny volume
    r = atlas_xl.plan(1e3, "steady", "llama_405b", "runpod", "h200")
    assert r.gpu_count == 8


def test_plan_scalars_in_scalars_out():
    r = atlas_xl.plan(1e9, "steady", "llama_70b", "runpod", "h100_sxm")
    assert type(r.monthly_cost_usd) is float
    assert type(r.gpu_count) is int
    assert type(r.latency_risk) is str


def test_plan_arrays_broadcast_and_match_scalars():
    volumes = np.array([1e7, 1e9, 5e9, 2e10])
    prices = np.array([[2.0], [3.0]])
    r = atlas_xl.plan(volumes, "bursty", "llama_70b", "runpod", "h100_sxm", hourly_usd=prices, latency_ms=250)
    assert r.monthly_cost_usd.shape == (2, 4)
    for i, price in enumerate(prices[:, 0]):
        for j, volume in enumerate(volumes):
            s = atlas_xl.plan(volume, "bursty", "llama_70b", "runpod", "h100_sxm", hourly_usd=price, latency_ms=250)
            assert r.monthly_cost_usd[i, j] == s.monthly_cost_usd
            assert r.score_usd[i, j] == s.score_usd
            assert r.latency_risk[j] == s.latency_risk


def test_plan_per_token_arrays():
    r = atlas_xl.plan([1e9, 2e9], "steady", "llama_70b", "together")
    np.testing.assert_allclose(r.monthly_cost_usd, [26_400, 52_800])
    assert np.isnan(r.gpu_count).all()


def test_assumptions_change_results():
    a = atlas_xl.Assumptions(hours_per_month=730, target_utilization=0.5)
    r = atlas_xl.plan(2e9, "steady", "x", "y", billing="dedicated", gpu_tokens_per_s=15_000,
                      hourly_usd=4.0, assumptions=a)
    assert r.gpu_count == 3  # ceil(1.4524 / 0.5)
    assert r.monthly_cost_usd == pytest.approx(730 * 4 * 3)


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(tokens_per_day=-1), "tokens_per_day must be greater than 0"),
    (dict(tokens_per_day=0), "tokens_per_day must be greater than 0"),
    (dict(tokens_per_day="lots"), "tokens_per_day must be a number"),
    (dict(tokens_per_day=True), "tokens_per_day must be a number"),
    (dict(model="llama70"), "unknown model 'llama70' — did you mean llama_70b"),
    (dict(pattern="stedy"), "unknown pattern 'stedy' — did you mean steady"),
    (dict(platform="runpd"), "unknown platform 'runpd' — did you mean runpod"),
    (dict(gpu="h100"), "unknown gpu 'h100' on platform 'runpod'"),
    (dict(gpu_count=-2), "gpu_count must be greater than 0"),
])
def test_plan_errors_are_one_line(kwargs, message):
    args = dict(tokens_per_day=1e9, pattern="steady", model="llama_70b", platform="runpod", gpu="h100_sxm")
    args.update(kwargs)
    with pytest.raises(AtlasError) as info:
        atlas_xl.plan(**args)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_platform_with_several_gpus_needs_gpu():
    with pytest.raises(AtlasError, match="several GPUs — choose gpu: a100_80gb, b200, h100_pcie, h100_sxm, h200, l40s"):
        atlas_xl.plan(1e9, "steady", "llama_70b", "runpod_secure")


def test_unknown_name_is_a_keyerror_too():
    with pytest.raises(KeyError):
        atlas_xl.plan(1e9, "nope", "llama_70b", "runpod", "h100_sxm")
    assert issubclass(UnknownNameError, InputError)


# -- rank ----------------------------------------------------------------------------------------
def test_rank_sorted_and_complete():
    frame = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250)
    assert list(frame["rank"]) == list(range(1, len(frame) + 1))
    assert (frame.score_usd.diff().dropna() >= 0).all()
    served = {(o.platform, o.gpu) for o in atlas_xl.load_catalog().serving("llama_70b")}
    assert set(zip(frame.platform, frame.gpu)) == served
    assert {"per_token", "dedicated", "autoscaling"} <= set(frame.billing)
    best = frame.iloc[0]
    again = atlas_xl.plan(2e9, "steady", "llama_70b", best.platform, best.gpu or None, latency_ms=250)
    assert again.score_usd == best.score_usd


def test_rank_platform_filter_and_errors():
    frame = atlas_xl.rank(1e9, "steady", "llama_8b", platforms=["groq", "fireworks"])
    assert set(frame.platform) == {"groq", "fireworks"}
    with pytest.raises(AtlasError, match="unknown model"):
        atlas_xl.rank(1e9, "steady", "gpt9")
    with pytest.raises(AtlasError, match="unknown platform"):
        atlas_xl.rank(1e9, "steady", "llama_8b", platforms=["nope"])


# -- properties ----------------------------------------------------------------------------------
volumes = st.floats(min_value=1e3, max_value=1e12, allow_nan=False)
patterns = st.sampled_from(["steady", "business_hours", "bursty"])


@settings(max_examples=200, deadline=None)
@given(volumes, volumes, patterns)
def test_more_tokens_never_fewer_gpus(v1, v2, pattern):
    lo, hi = sorted((v1, v2))
    a = atlas_xl.plan(lo, pattern, "llama_70b", "runpod", "h100_sxm")
    b = atlas_xl.plan(hi, pattern, "llama_70b", "runpod", "h100_sxm")
    assert b.gpu_count >= a.gpu_count
    assert b.monthly_cost_usd >= a.monthly_cost_usd


@settings(max_examples=200, deadline=None)
@given(volumes, patterns, st.floats(min_value=100, max_value=50_000))
def test_utilization_after_never_above_target_when_rule_decides(volume, pattern, tps):
    r = atlas_xl.plan(volume, pattern, "m", "p", billing="dedicated", gpu_tokens_per_s=tps, hourly_usd=1.0)
    assert r.utilization_after <= 0.75 + 1e-9


@settings(max_examples=200, deadline=None)
@given(volumes, *[st.floats(min_value=0, max_value=100).filter(lambda x: x == 0 or x >= values.TINY)] * 2,
       st.sampled_from(["autoscaling", "dedicated", "per_token"]))  # prices below TINY are refused (docs/limits.md)
def test_cost_never_falls_as_price_rises(volume, p1, p2, billing):
    lo, hi = sorted((p1, p2))
    kw = dict(billing=billing, gpu_tokens_per_s=3000.0)
    a = atlas_xl.plan(volume, "bursty", "m", "p", hourly_usd=lo, price_per_m_tokens=lo, **kw)
    b = atlas_xl.plan(volume, "bursty", "m", "p", hourly_usd=hi, price_per_m_tokens=hi, **kw)
    assert b.monthly_cost_usd >= a.monthly_cost_usd
    assert b.score_usd >= a.score_usd


@settings(max_examples=30, deadline=None)
@given(volumes, patterns, st.sampled_from(["llama_8b", "llama_70b", "llama_405b", "mixtral_8x7b"]),
       st.one_of(st.none(), st.floats(min_value=10, max_value=2000)))
def test_ranking_sorted(volume, pattern, model, latency):
    frame = atlas_xl.rank(volume, pattern, model, latency_ms=latency)
    assert len(frame) > 0
    scores = frame.score_usd.to_numpy()
    assert (np.diff(scores) >= 0).all()
