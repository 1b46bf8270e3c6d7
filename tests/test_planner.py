"""Tests for atlas_xl.planner — every worked example of the planner spec, hand-computed cases per
billing type and penalty, arrays, and the invariants as property tests."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atlas_xl
from atlas_xl import planner, serving, values
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
    for costs in ([cost, cost], [cost, 0.0], [cost, np.nan], []):  # every cost above 0, or not: 0 where 0 or NaN
        wastes = np.full(len(costs), waste)
        np.testing.assert_array_equal(planner.idle_waste_pct(wastes, np.array(costs)),
                                      [planner.idle_waste_pct(waste, c) for c in costs])  # its scalars


def test_per_token_cost_and_cost_per_m():
    # 1e9 tokens/day × 30 = 3e10 tokens; /1e6 × $0.88 = $26 400; = $0.88 per Mtok
    tokens = planner.monthly_tokens(1e9)
    cost = planner.per_token_monthly_cost_usd(tokens, 0.88)
    assert tokens == 3e10
    assert cost == pytest.approx(26_400.0)
    assert planner.cost_per_m_tokens_usd(cost, tokens) == pytest.approx(0.88)


# -- penalties: hand-computed --------------------------------------------------------------------
@pytest.mark.parametrize("low, medium", [(0.50, 0.75), (0.75, 0.50), (0.6, 0.6)])  # ordered, reversed, equal
def test_risk_band_indexes_the_latency_risk_text(low, medium):
    u = np.array([0.0, 0.5, 0.55, 0.6, 0.7, 0.75, 0.8, 2.0, np.nan])
    bands = np.array(["low", "medium", "high", "n/a"])[planner.risk_band(u, low, medium)]
    # the text latency_risk writes for each value, element by element (its scalar branch)
    np.testing.assert_array_equal(bands, [planner.latency_risk(float(x), low, medium) for x in u])
    assert planner.risk_band(np.array([0.9]))[0] == planner.HIGH_RISK  # above 0.75: high (DESIGN.md)


def test_overload_penalty_ramp():
    assert planner.overload_penalty_usd(0.90) == 0.0
    assert planner.overload_penalty_usd(0.95) == pytest.approx(10_000.0)  # half the ramp
    assert planner.overload_penalty_usd(1.00) == pytest.approx(20_000.0)  # spec: $20k at 100 %
    assert planner.overload_penalty_usd(1.10) == pytest.approx(40_000.0)  # ramp kept above 100 %
    for u in ([0.2, 0.75, np.nan], [0.2, 0.95, np.nan, 1.10]):  # none above the threshold, some above it
        # each element as its scalar gives it
        np.testing.assert_array_equal(planner.overload_penalty_usd(np.array(u)),
                                      [planner.overload_penalty_usd(x) for x in u])


def test_scaling_penalty_counts_a_replica_beyond_its_scale_up_domain():
    # DESIGN.md "Penalties": per GPU of one replica beyond its NVLink domain (8 HGX, 72 NVL72)
    assert planner.scaling_penalty_usd(8, 8) == 0.0
    assert planner.scaling_penalty_usd(11, 8) == 150_000.0  # 50k × 3
    assert planner.scaling_penalty_usd(16, 72) == 0.0  # a 16-GPU replica inside an NVL72 rack
    np.testing.assert_array_equal(planner.scaling_penalty_usd(np.array([4.0, 16.0]), 8), [0.0, 400_000.0])


def test_mean_utilization_and_unused_capacity():
    # hand-computed: 60 % at peak, bursty 3x, active 288 of 720 h, dedicated → 0.6 / 3 × 0.4 = 0.08
    assert planner.mean_utilization(0.6, 3.0, 288.0, 720.0) == pytest.approx(0.08)
    assert planner.mean_utilization(0.6, 3.0, 288.0, 288.0) == pytest.approx(0.2)  # autoscaling pays active hours
    assert planner.mean_utilization(2.4, 1.0, 720.0, 720.0) == 1.0  # overloaded: no more than all of it is used
    assert planner.unused_capacity_usd(10_000.0, 0.08) == pytest.approx(9_200.0)
    np.testing.assert_allclose(planner.mean_utilization(np.array([0.3, 0.75]), 1.0, 720.0, 720.0), [0.3, 0.75])


def test_latency_penalty():
    assert planner.latency_penalty_usd("high", 200) == 30_000.0
    assert planner.latency_penalty_usd("high", 300) == 0.0  # strictly below 300 ms
    assert planner.latency_penalty_usd("medium", 100) == 0.0
    assert planner.latency_penalty_usd("high", None) == 0.0
    np.testing.assert_array_equal(planner.latency_penalty_usd(np.array(["high", "low"]), 100), [30_000, 0])
    # the band indices give what the text gives: 30k where high and strict, per element
    u = np.array([0.2, 0.6, 0.9, np.nan])
    for latency in (100.0, 300.0, np.array([100.0, 100.0, 400.0, 100.0])):
        by_text = planner.latency_penalty_usd(planner.latency_risk(u), latency)
        by_band = planner.latency_penalty_usd(planner.latency_risk(u), latency, band=planner.risk_band(u))
        assert by_band.dtype == by_text.dtype == np.float64
        np.testing.assert_array_equal(by_band, by_text)
    np.testing.assert_array_equal(planner.latency_penalty_usd(np.array(["high"] * 3), np.array([100.0, 300.0, 200.0])),
                                  [30_000.0, 0.0, 30_000.0])  # strictly below 300 ms, element by element


def test_penalty_is_the_sum_in_the_spec_order():
    overload = np.array([0.0, 12_345.678901, 1e-3])
    for scaling in (0.0, 150_000.0, np.array([0.0, 50_000.0, 0.0])):
        for latency in (np.zeros(3), np.array([30_000.0, 0.0, 30_000.0])):
            # overload + scaling + latency, added left to right as the planner spec lists them
            expected = [(o + s) + l for o, s, l in zip(overload, np.broadcast_to(scaling, 3), latency)]
            np.testing.assert_array_equal(planner.penalty_usd(overload, scaling, latency), expected)
    assert planner.penalty_usd(10.0, 150_000.0, 30_000.0) == 180_010.0  # hand-computed


def test_plan_arrays_share_what_is_the_same_for_every_workload():
    volumes = np.array([1e7, 1e9, 5e9, 2e10])
    for platform, gpu in (("runpod", "h100_sxm"), ("runpod_serverless", "b200")):  # dedicated, autoscaling
        r = atlas_xl.plan(volumes, "bursty", "llama_70b", platform, gpu, latency_ms=250, gpu_tokens_per_s=3818.8)
        for field in ("scaling_penalty_usd", "cold_start_s", "warm_replicas"):
            column = getattr(r, field)
            assert column.shape == volumes.shape and column.dtype == np.float64
            assert not column.flags.writeable  # a read-only view, not a copy to write into
            for j, volume in enumerate(volumes):  # the same number as each workload's own plan
                s = atlas_xl.plan(volume, "bursty", "llama_70b", platform, gpu, latency_ms=250,
                                  gpu_tokens_per_s=3818.8)
                assert column[j] == getattr(s, field)
        assert r.gpu_count.flags.writeable and r.energy_kwh_per_month.flags.writeable  # per workload: arrays


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
    assert r.penalty_usd == 0.0
    # unused paid capacity: steady, so the mean utilization is the peak one: 5 760 × (1 − 0.72621)
    assert r.mean_utilization == pytest.approx(r.utilization_after)
    assert r.unused_capacity_usd == pytest.approx(5760 * (1 - 0.72621), rel=1e-4)


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
    assert r.scaling_penalty_usd == 0.0  # replicas of one GPU (given throughput) never leave their domain
    assert r.latency_penalty_usd == 30_000
    assert r.monthly_cost_usd == pytest.approx(720 * 2.69 * 100)
    assert r.idle_waste_usd == pytest.approx((720 - 288) * 2.69 * 100)
    assert r.idle_waste_pct == pytest.approx(60.0)
    assert r.penalty_usd == pytest.approx(r.overload_penalty_usd + r.latency_penalty_usd)


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
    assert r.replica_choice == "" and math.isnan(r.scale_up_gpus)  # no replicas
    assert math.isnan(r.replica_gpus)  # no GPUs, so no GPUs per replica: blank like gpu_count, not 1
    ranked = atlas_xl.rank(1e9, "steady", "llama_70b", platforms=["together", "groq"])
    per_token = ranked[ranked.billing == "per_token"]
    assert len(per_token) and per_token.replica_gpus.isna().all() and per_token.gpu_count.isna().all()
    assert r.monthly_cost_usd == pytest.approx(26_400.0)  # 3e10 / 1e6 × 0.88


def test_plan_min_gpus_from_catalog():
    # llama_405b at fp8 on H200 needs 4 GPUs of memory even at tiny volume: 405.9 GB of weights (models.csv) on
    # 4 × 141 GB × 0.9 usable = 508 GB (3 GPUs: 381 GB do not hold them)
    r = atlas_xl.plan(1e3, "steady", "llama_405b", "runpod", "h200")
    assert r.gpu_count == 4


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
            assert np.broadcast_to(r.penalty_usd, r.monthly_cost_usd.shape)[i, j] == s.penalty_usd
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
    _assert_ranked(frame)
    served = {(o.platform, o.gpu) for o in atlas_xl.load_catalog().serving("llama_70b")}
    assert set(zip(frame.platform, frame.gpu)) == served
    assert {"per_token", "dedicated", "autoscaling"} <= set(frame.billing)
    best = frame.iloc[0]
    again = atlas_xl.plan(2e9, "steady", "llama_70b", best.platform, best.gpu or None, latency_ms=250)
    assert again.monthly_cost_usd == best.monthly_cost_usd and again.penalty_usd == best.penalty_usd
    for row in frame.itertuples():  # every row of the ranking is what plan() says of that offering
        one = atlas_xl.plan(2e9, "steady", "llama_70b", row.platform, row.gpu or None, latency_ms=250)
        assert (one.monthly_cost_usd, one.precision) == (row.monthly_cost_usd, row.precision)
        assert one.replica_gpus == pytest.approx(row.replica_gpus, nan_ok=True)  # per-token: NaN in both


def _assert_ranked(frame):
    """Penalty score first (0 first), then monthly cost: penalties rank, they are never added to a cost."""
    keys = list(zip(frame.penalty_usd, frame.monthly_cost_usd))
    assert keys == sorted(keys)


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
    assert b.unused_capacity_usd >= a.unused_capacity_usd


@settings(max_examples=30, deadline=None)
@given(volumes, patterns, st.sampled_from(["llama_8b", "llama_70b", "llama_405b", "mixtral_8x7b"]),
       st.one_of(st.none(), st.floats(min_value=10, max_value=2000)))
def test_ranking_sorted(volume, pattern, model, latency):
    frame = atlas_xl.rank(volume, pattern, model, latency_ms=latency)
    assert len(frame) > 0
    _assert_ranked(frame)


# -- least-cost replica size (issue 17 item 3) ------------------------------------------------------
def _every_size(volume, pattern, model, gpu, **kwargs):
    """plan() at every replica size the serving model can run: the candidates least cost chooses from."""
    plans = []
    for tp in atlas_xl.serving.TP_CHOICES:
        try:
            plans.append(atlas_xl.plan(volume, pattern, model, "runpod", gpu, tp=tp, **kwargs))
        except InputError:
            pass  # does not fit or misses the limits at this tp
    return plans


@pytest.mark.parametrize("volume, model, gpu", [(3e9, "gpt_oss_120b", "b200"), (3e9, "gpt_oss_120b", "h100_sxm"),
                                                (2e9, "llama_70b", "h200"), (5e10, "llama_70b", "h100_sxm"),
                                                (1e8, "llama_405b", "h200")])
def test_replica_size_is_the_least_monthly_cost(volume, model, gpu):
    chosen = atlas_xl.plan(volume, "steady", model, "runpod", gpu)
    every = _every_size(volume, "steady", model, gpu)
    assert chosen.monthly_cost_usd == min(p.monthly_cost_usd for p in every)
    same = [p for p in every if p.replica_gpus == chosen.replica_gpus][0]  # the chosen size, as if given
    assert (same.gpu_count, same.utilization_after) == (chosen.gpu_count, chosen.utilization_after)
    assert chosen.replica_choice.startswith("least monthly cost of tp")


def test_gpt_oss_at_3b_tokens_a_day_on_b200_issue_example():
    # issue 17: planned on 4 B200s at 9 % for the most tokens/s per GPU; at fp4 ("best") one B200 holds it
    r = atlas_xl.plan(3e9, "steady", "gpt_oss_120b", "runpod", "b200", precision="best")
    assert (r.gpu_count, r.replica_gpus, r.precision) == (1, 1.0, "fp4")
    assert r.monthly_cost_usd == pytest.approx(720 * 5.98)  # runpod's B200 price (catalogs/offerings.csv)
    fp8 = atlas_xl.plan(3e9, "steady", "gpt_oss_120b", "runpod", "b200")
    assert fp8.gpu_count == min(p.gpu_count for p in _every_size(3e9, "steady", "gpt_oss_120b", "b200"))


def test_best_precision_is_the_cheapest_native_one():
    best = atlas_xl.plan(5e10, "bursty", "llama_70b", "runpod", "b200", precision="best")
    each = [atlas_xl.plan(5e10, "bursty", "llama_70b", "runpod", "b200", precision=p) for p in ("fp4", "fp8", "bf16")]
    assert best.monthly_cost_usd == min(p.monthly_cost_usd for p in each)
    assert "fp4 tp" in best.replica_choice and "fp8 tp" in best.replica_choice


def test_given_tp_is_used_and_said():
    r = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", tp=8)
    assert r.replica_gpus == 8 and r.gpu_count % 8 == 0 and r.replica_choice == "given: tp 8"
    assert atlas_xl.rank(2e9, "steady", "llama_70b", tp=8, platforms=["runpod"]).query("gpu != ''").replica_gpus.eq(8).all()
    with pytest.raises(InputError, match=r"does not fit on tp 1 h100_sxm GPUs — give tp ≥ 2"):
        atlas_xl.plan(2e9, "steady", "gpt_oss_120b", "runpod", "h100_sxm", tp=1)
    with pytest.raises(InputError, match="tp must be a whole number"):
        atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", tp=1.5)


def test_fixed_gpu_count_below_the_chosen_size_takes_a_smaller_replica():
    # issue 17: gpu_count=2 on B200 was refused with "one replica needs 4 GPUs", which was false
    free = atlas_xl.plan(3e9, "steady", "gpt_oss_120b", "runpod", "b200")
    for count in (1, 2):
        r = atlas_xl.plan(3e9, "steady", "gpt_oss_120b", "runpod", "b200", gpu_count=count)
        assert r.gpu_count == count and r.replica_gpus <= count
        assert r.replica_choice.startswith("most tokens/s from the fixed gpu_count")
    assert free.replica_gpus >= 1
    # one H100 cannot hold gpt-oss-120b at fp8 (117 GB): refused, naming the smallest replica that would
    with pytest.raises(InputError, match=r"gpu_count 1 cannot hold gpt_oss_120b at fp8 on h100_sxm: the smallest "
                                         r"replica that fits and meets the limits needs 2 GPUs"):
        atlas_xl.plan(3e9, "steady", "gpt_oss_120b", "runpod", "h100_sxm", gpu_count=1)


def test_fixed_gpu_count_serves_with_whole_replicas():
    # 6 GPUs at tp 4: one replica serves, two GPUs are paid and idle (hand-computed from the tp-4 plan)
    four = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", tp=4, gpu_count=4)
    six = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", tp=4, gpu_count=6)
    assert six.utilization_after == pytest.approx(four.utilization_after)
    assert six.mean_utilization == pytest.approx(four.mean_utilization * 4 / 6)
    assert six.monthly_cost_usd == pytest.approx(four.monthly_cost_usd * 6 / 4)


def test_array_volumes_choose_a_size_each_as_scalars_do():
    volumes = np.array([1e6, 3e9, 3e10, 3e11])
    r = atlas_xl.plan(volumes, "bursty", "gpt_oss_120b", "runpod", "h100_sxm")
    for i, volume in enumerate(volumes):
        s = atlas_xl.plan(volume, "bursty", "gpt_oss_120b", "runpod", "h100_sxm")
        assert (r.gpu_count[i], r.replica_gpus[i], r.monthly_cost_usd[i]) == (s.gpu_count, s.replica_gpus,
                                                                             s.monthly_cost_usd)
    fixed = atlas_xl.plan(3e9, "steady", "gpt_oss_120b", "runpod", "b200", gpu_count=np.array([1.0, 2.0, 8.0]))
    assert fixed.gpu_count.tolist() == [1.0, 2.0, 8.0] and (fixed.replica_gpus <= fixed.gpu_count).all()


@settings(max_examples=40, deadline=None)
@given(volumes, patterns)
def test_least_cost_size_never_costs_more_than_the_most_tokens_per_gpu(volume, pattern):
    # the old rule (the serving model's default tp, most tokens/s per GPU) is one of the candidates
    default_tp = atlas_xl.estimate("gpt_oss_120b", "h100_sxm").tp
    chosen = atlas_xl.plan(volume, pattern, "gpt_oss_120b", "runpod", "h100_sxm")
    old = atlas_xl.plan(volume, pattern, "gpt_oss_120b", "runpod", "h100_sxm", tp=default_tp)
    assert chosen.monthly_cost_usd <= old.monthly_cost_usd


# -- penalties are a ranking score, never a cost (issue 20 item 4) ----------------------------------
def test_bursty_52_gpu_plan_has_no_scaling_penalty_issue_example():
    # issue 20: 13 replicas of 4 H100s showed a $2.2M scaling penalty; each replica is inside its 8-GPU domain
    r = atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=250)
    assert r.gpu_count > 8 and r.replica_gpus <= r.scale_up_gpus == 8
    assert r.scaling_penalty_usd == 0.0
    assert r.monthly_cost_usd == pytest.approx(720 * 2.69 * r.gpu_count)  # GPUs × price × hours, nothing else
    assert r.cost_per_m_tokens_usd == pytest.approx(r.monthly_cost_usd / r.monthly_tokens * 1e6)


def test_replica_beyond_its_domain_is_penalised_but_costs_stay_costs():
    # llama-405B at bf16 (812 GB) needs 16 H100s per replica: 8 beyond an HGX domain → 8 × $50k in the score
    r = atlas_xl.plan(1e8, "steady", "llama_405b", "runpod", "h100_sxm", precision="bf16")
    assert r.replica_gpus == 16 and r.scaling_penalty_usd == 400_000.0
    assert r.monthly_cost_usd == pytest.approx(720 * 2.69 * r.gpu_count)
    assert r.penalty_usd == 400_000.0


def test_ranking_never_adds_penalties_to_costs():
    frame = atlas_xl.rank(1e8, "steady", "llama_405b", precision="bf16")
    _assert_ranked(frame)
    penalised = frame[frame.penalty_usd > 0]
    assert len(penalised) and (penalised["rank"] > frame[frame.penalty_usd == 0]["rank"].max()).all()
    gpu = frame[frame.billing == "dedicated"]
    np.testing.assert_allclose(gpu.monthly_cost_usd, 720 * gpu.hourly_usd * gpu.gpu_count)
    assert "score_usd" not in frame.columns


def test_runpod_h100_ranks_above_together_issue_example():
    # issue 20: Together's API ($52.8k/month) ranked above RunPod H100 ($31.0k) because of a $400k penalty
    frame = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250)
    runpod = frame[(frame.platform == "runpod") & (frame.gpu == "h100_sxm")].iloc[0]
    together = frame[(frame.platform == "together") & (frame.billing == "per_token")].iloc[0]
    assert runpod.penalty_usd == 0.0 and runpod["rank"] < together["rank"]
    assert together.monthly_cost_usd == pytest.approx(52_800.0)  # 6e10 tokens × $0.88/Mtok


def test_unused_capacity_is_reported_at_low_utilization_issue_example():
    # issue 20: idle waste read $0 at 11 % utilization; the unused paid capacity says what it costs
    r = atlas_xl.plan(1e8, "steady", "llama_70b", "runpod", "h100_sxm")
    assert r.idle_waste_usd == 0.0 and r.utilization_after < 0.25
    assert r.unused_capacity_usd == pytest.approx(r.monthly_cost_usd * (1 - r.utilization_after))
    burst = atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm")
    # bursty (active 40 %, 3x peaks, dedicated): mean = peak utilization / 3 × 0.4; includes the idle hours
    assert burst.mean_utilization == pytest.approx(burst.utilization_after / 3 * 0.4)
    assert burst.unused_capacity_usd > burst.idle_waste_usd > 0
    auto = atlas_xl.plan(1e9, "business_hours", "llama_8b", "fireworks", "h100_sxm")
    assert auto.idle_waste_usd == 0.0 and auto.unused_capacity_usd > 0  # autoscaling: no idle hours, still unused
    api = atlas_xl.plan(1e9, "steady", "llama_70b", "together")
    assert api.unused_capacity_usd == 0.0 and math.isnan(api.mean_utilization)


def test_size_search_skips_replica_sizes_the_model_cannot_shard():
    # llama_8b has 32 attention heads: tp 64 cannot split them, so the least-cost search passes over it, while a
    # tp the user gives that does not divide the heads is refused with the sizes that do
    assert serving.tp_choices(32) == (1, 2, 4, 8, 16, 32)
    p = atlas_xl.plan(2e9, "steady", "llama_8b", "runpod", "h100_sxm")
    assert p.gpu_count > 0 and 32 % p.replica_gpus == 0
    with pytest.raises(InputError, match=r"^tp 64 does not divide llama_8b's 32 attention heads — use one of 1, 2, 4, "
                                         r"8, 16, 32$"):
        atlas_xl.plan(2e9, "steady", "llama_8b", "runpod", "h100_sxm", tp=64)


# -- prefix caching (issue 19 item 2) ------------------------------------------------------------------
RAG = dict(input_tokens=8000, output_tokens=300)  # a RAG request: 8 000 tokens of prompt and documents, 300 out


def test_prefix_hit_rate_zero_plans_as_before():
    for platform, gpu in (("runpod", "h100_sxm"), ("fireworks", None), ("together", None)):
        without = atlas_xl.plan(2e9, "steady", "llama_70b", platform, gpu, **RAG)
        zero = atlas_xl.plan(2e9, "steady", "llama_70b", platform, gpu, prefix_hit_rate=0.0, **RAG)
        assert zero.as_dict() == without.as_dict(), platform
    frame = atlas_xl.rank(2e9, "steady", "llama_70b", **RAG)
    assert atlas_xl.rank(2e9, "steady", "llama_70b", prefix_hit_rate=0.0, **RAG).equals(frame)
    assert (frame.prefix_hit_rate == 0.0).all()


def test_rag_workload_at_80_percent_hits_needs_fewer_gpus_and_costs_less():
    without = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", **RAG)
    cached = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", prefix_hit_rate=0.8, **RAG)
    assert cached.gpu_tokens_per_s >= without.gpu_tokens_per_s
    assert cached.gpu_count <= without.gpu_count
    assert cached.monthly_cost_usd < without.monthly_cost_usd
    assert cached.ttft_ms < without.ttft_ms
    assert cached.prefix_hit_rate == 0.8
    # the plan's serving record is the one at its hit rate (footprint, scaling)
    assert planner.serving_estimate(cached).prefix_hit_rate == 0.8
    best, best_cached = (atlas_xl.rank(2e9, "steady", "llama_70b", prefix_hit_rate=h, **RAG).iloc[0] for h in (0, 0.8))
    assert best_cached.monthly_cost_usd < best.monthly_cost_usd


def test_per_token_price_blends_fresh_cached_and_output_prices():
    cat = atlas_xl.load_catalog()
    fireworks = cat.offering("fireworks", "llama_70b", None)  # 0.9 in, 0.45 cached in, 0.9 out [USD/Mtok]
    # hand-computed: (8000 × (0.2 × 0.9 + 0.8 × 0.45) + 300 × 0.9) / 8300 = (4320 + 270) / 8300
    assert planner.per_token_price(fireworks, 8000, 300, 0.8) == pytest.approx(4590 / 8300)
    plan = atlas_xl.plan(2e9, "steady", "llama_70b", "fireworks", prefix_hit_rate=0.8, **RAG)
    assert plan.price_per_m_tokens == pytest.approx(4590 / 8300)
    # monthly: 2e9 × 30 days / 1e6 × price [USD/month]
    assert plan.monthly_cost_usd == pytest.approx(6e4 * 4590 / 8300)
    # array of hit rates broadcasts: h = 0, 0.5, 0.8 → (8000 × 0.9, 8000 × 0.675, 8000 × 0.54) + 270, ÷ 8300
    np.testing.assert_allclose(planner.per_token_price(fireworks, 8000, 300, np.array([0.0, 0.5, 0.8])),
                               np.array([7470, 5670, 4590]) / 8300)
    # no cached price listed (Groq's Llama): cached input billed as fresh, (8000 × 0.59 + 300 × 0.79) / 8300
    groq = cat.offering("groq", "llama_70b", None)
    assert math.isnan(groq.price_cached_in_per_m_tokens)
    assert planner.per_token_price(groq, 8000, 300, 0.8) == pytest.approx((8000 * 0.59 + 300 * 0.79) / 8300)
    # only the hit rate given: the default 1024 / 1024 shape, (1024 × 0.54 + 1024 × 0.9) / 2048 = 0.72
    assert atlas_xl.plan(2e9, "steady", "llama_70b", "fireworks", prefix_hit_rate=0.8).price_per_m_tokens == \
        pytest.approx(0.72)


def test_plan_refuses_a_hit_rate_outside_zero_to_one_in_one_line():
    for call in (atlas_xl.plan, lambda *a, **k: atlas_xl.rank(*a[:3], **k)):
        with pytest.raises(InputError) as error:
            call(2e9, "steady", "llama_70b", "runpod", "h100_sxm", prefix_hit_rate=1.2)
        assert str(error.value).startswith("prefix_hit_rate 1.2 is above") and "\n" not in str(error.value)
    with pytest.raises(InputError, match="prefix_hit_rate must be one number from 0 to 1, .* sweep or a worksheet"):
        atlas_xl.plan(2e9, "steady", "llama_70b", "fireworks", prefix_hit_rate=np.array([0.2, 0.8]))


def test_per_token_billing_without_a_token_price_is_refused():
    """billing='per_token' on a platform whose rows have no per-token price for the model (together lists
    llama_70b per token, not gpt_oss_20b: catalogs/offerings.csv) gave a plan of NaN costs, reported as a plan."""
    with pytest.raises(InputError, match="^platform 'together' lists no per-token price for gpt_oss_20b — pass "
                                         "price_per_m_tokens") as error:
        atlas_xl.plan(1e9, "steady", "gpt_oss_20b", "together", billing="per_token")
    assert "\n" not in str(error.value)
    # a given price plans it: 1e9 tokens/day × 30 days × 0.2 USD per 1e6 tokens = 6000 USD/month
    given = atlas_xl.plan(1e9, "steady", "gpt_oss_20b", "together", billing="per_token", price_per_m_tokens=0.2)
    assert given.monthly_cost_usd == pytest.approx(6000.0)


# -- cold start, warm pool, energy and carbon of every plan (issue 19 items 3-4) ---------------------------------
# An own GPU at a given throughput and an unknown model: the serving model has no power for it, so a GPU at full
# load draws its TDP (as atlas_xl.footprint assumes), and every number below follows by hand.
OWN = dict(gpu_tokens_per_s=1000.0, hourly_usd=2.0, gpu_count=4)


def test_a_dedicated_plan_uses_energy_by_hand():
    # steady: effective = 1000 × 0.85 × 1.25 = 1062.5 tokens/s; 183.6 M tokens/day → peak 2125 tokens/s → load 2
    # GPU-equivalents on 4 GPUs → utilization 0.5, mean utilization 0.5 (burst 1, every hour active and paid)
    p = atlas_xl.plan(183.6e6, "steady", "my_model", "my_cloud", "h100_sxm", billing="dedicated", **OWN)
    assert p.mean_utilization == pytest.approx(0.5, rel=1e-12)
    # GPU: idle 0.235 × 700 W (serving.POWER_IDLE_FRACTION × gpus.csv TDP) = 164.5 W, full load 700 W →
    # 164.5 + 535.5 × 0.5 = 432.25 W; facility (432.25 + 575 W host) × 4 GPUs × PUE 1.58 / 1000 = 6.36582 kW;
    # × 720 h = 4 583.3904 kWh; × 481 gCO2e/kWh (world, grid_intensity.csv) / 1000 = 2 204.6107824 kg
    assert p.energy_kwh_per_month == pytest.approx(4583.3904, rel=1e-12)
    assert p.co2e_kg_per_month == pytest.approx(2204.6107824, rel=1e-12)
    assert p.cold_start_s == 0.0 and p.warm_replicas == 4.0  # dedicated: every replica stays up all month
    france = atlas_xl.plan(183.6e6, "steady", "my_model", "my_cloud", "h100_sxm", billing="dedicated", region="France",
                           **OWN)
    assert france.energy_kwh_per_month == p.energy_kwh_per_month
    assert france.co2e_kg_per_month == pytest.approx(4583.3904 * 56 / 1000, rel=1e-12)  # France 56 g/kWh


def test_the_facility_pue_scales_energy_and_carbon_exactly():
    # energy ∝ PUE: facility power = (GPU + host W) × GPUs × PUE / 1000 (atlas_xl/running.py), so the same plan at
    # PUE 1.2 is 1.2 / 1.58 of the default's — by hand: 4 583.3904 kWh × 1.2 / 1.58 = 3 481.04334177... kWh
    p = atlas_xl.plan(183.6e6, "steady", "my_model", "my_cloud", "h100_sxm", billing="dedicated", pue=1.2, **OWN)
    assert p.energy_kwh_per_month == pytest.approx(4583.3904 * 1.2 / 1.58, rel=1e-12)
    assert p.co2e_kg_per_month == pytest.approx(4583.3904 * 1.2 / 1.58 * 481 / 1000, rel=1e-12)  # world 481 g/kWh
    default = atlas_xl.plan(183.6e6, "steady", "my_model", "my_cloud", "h100_sxm", billing="dedicated", **OWN)
    assert p.monthly_cost_usd == default.monthly_cost_usd and p.gpu_count == default.gpu_count  # energy only
    # the default is the registry's one PUE (atlas_xl.arguments.PUE: Uptime's 2023 average, 1.58)
    assert atlas_xl.plan(183.6e6, "steady", "my_model", "my_cloud", "h100_sxm", billing="dedicated", pue=1.58,
                         **OWN) == default
    ranked = atlas_xl.rank(2e9, "steady", "llama_70b", platforms=["runpod"], pue=1.2)
    ranked_default = atlas_xl.rank(2e9, "steady", "llama_70b", platforms=["runpod"])
    assert (ranked.energy_kwh_per_month / ranked_default.energy_kwh_per_month).tolist() == pytest.approx(
        [1.2 / 1.58] * len(ranked), rel=1e-12)  # the same ratio on every row


@pytest.mark.parametrize("kwargs, message", [
    (dict(pue=0.9), r"^pue must be 1 or more — got 0.9$"),  # the registry's bound, PUE >= 1 by definition
    (dict(pue=np.array([1.1, 1.2])), r"^pue takes one value per call, not an array — call plan once per pue"),
    (dict(min_replicas=np.array([0, 1])), r"^min_replicas takes one value per call, not an array — call plan once"),
])
def test_pue_and_min_replicas_refused_in_one_line(kwargs, message):
    with pytest.raises(InputError, match=message) as error:
        atlas_xl.plan(2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm", **kwargs)
    assert "\n" not in str(error.value)
    if "pue" in kwargs:
        with pytest.raises(InputError, match=message.replace("call plan", "call plan")):
            atlas_xl.rank(2e9, "business_hours", "llama_70b", **kwargs)


def test_an_autoscaling_plan_counts_active_hours_and_its_warm_pool():
    # business hours: effective 1000 × 0.80 × 1.10 = 880 tokens/s; active 0.238 × 720 = 171.36 h; a volume whose
    # peak is 2 × 880 = 1760 tokens/s (1760 × 0.238 × 86 400 tokens/day) on 4 GPUs → utilization 0.5, mean 0.5
    p = atlas_xl.plan(1760 * 0.238 * 86_400, "business_hours", "my_model", "my_cloud", "h100_sxm",
                      billing="autoscaling", min_replicas=3, **OWN)
    assert p.mean_utilization == pytest.approx(0.5, rel=1e-12)
    # 6.36582 kW as above, over the 171.36 paid hours = 1 090.8469152 kWh
    assert p.energy_kwh_per_month == pytest.approx(6.36582 * 171.36, rel=1e-12)
    assert p.warm_replicas == 3.0  # min_replicas
    assert math.isnan(p.cold_start_s)  # no serving model for my_model: its weights are unknown


def test_the_cold_start_is_the_replicas_weights_over_the_load_bandwidth():
    p = atlas_xl.plan(2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm")
    # llama_70b at fp8: 70.6 B parameters × 1 byte = 70.6 GB (models.csv); 16.06 GB in 18 s and a 64 s engine start
    # (Tensorfuse, atlas_xl/running.py) → 70.6 × 18 / 16.06 + 64 = 143.128 s
    assert p.billing == "autoscaling" and p.cold_start_s == pytest.approx(70.6 * 18 / 16.06 + 64, rel=1e-12)
    assert p.warm_replicas == 0.0  # default: scale to zero


def test_per_token_plans_have_no_replicas_or_energy_of_ours():
    p = atlas_xl.plan(2e9, "steady", "llama_70b", "together", billing="per_token", region="france")
    assert all(math.isnan(getattr(p, f)) for f in ("cold_start_s", "warm_replicas", "energy_kwh_per_month",
                                                   "co2e_kg_per_month"))


@pytest.mark.parametrize("kwargs", [
    dict(platform="runpod_serverless", pattern="business_hours", min_replicas=1),
    dict(platform="runpod_serverless", pattern="bursty", precision="best", region="india"),
    dict(platform="runpod", pattern="steady", region="germany"),
    dict(platform="runpod", pattern="bursty", gpu_count=6),
    dict(platform="runpod", pattern="steady", gpu_tokens_per_s=3000.0),
    dict(platform="runpod_serverless", pattern="business_hours", input_tokens=8000, output_tokens=300,
         prefix_hit_rate=0.8),
])
def test_the_plans_fields_are_what_scaling_and_footprint_report(kwargs):
    kwargs = dict(kwargs)
    platform, pattern, min_replicas, region = (kwargs.pop(k, None) for k in ("platform", "pattern", "min_replicas",
                                                                            "region"))
    p = atlas_xl.plan(2e9, pattern, "llama_70b", platform, "h100_sxm", region=region, min_replicas=min_replicas,
                      **kwargs)
    fp = atlas_xl.footprint(p, region=region)
    sc = atlas_xl.scaling(p, min_replicas=min_replicas or 0)
    assert p.energy_kwh_per_month == fp.energy_kwh_per_month and p.co2e_kg_per_month == fp.co2e_kg_per_month
    assert p.warm_replicas == sc.warm_replicas
    # autoscaling: the wait of a starting replica; dedicated: 0, where scaling still reports a replica's start time
    assert p.cold_start_s == (sc.cold_start_s if p.billing == "autoscaling" else 0.0)


def test_the_new_fields_broadcast_over_volumes():
    volumes = np.array([1e6, 2e9, 5e10])
    arrays = atlas_xl.plan(volumes, "bursty", "llama_70b", "runpod_serverless", "h100_sxm", region="france")
    for i, volume in enumerate(volumes):
        one = atlas_xl.plan(float(volume), "bursty", "llama_70b", "runpod_serverless", "h100_sxm", region="france")
        for f in ("cold_start_s", "warm_replicas", "energy_kwh_per_month", "co2e_kg_per_month"):
            assert getattr(arrays, f).shape == (3,) and getattr(arrays, f)[i] == pytest.approx(getattr(one, f),
                                                                                               rel=1e-12), f


def test_rank_has_the_columns_and_its_rows_are_the_plans():
    ranked = atlas_xl.rank(2e9, "steady", "llama_70b", region="france", platforms=["runpod", "together"])
    for row in ranked.to_dict("records"):
        p = atlas_xl.plan(2e9, "steady", "llama_70b", row["platform"], row["gpu"] or None, region="france")
        for f in ("cold_start_s", "warm_replicas", "energy_kwh_per_month", "co2e_kg_per_month"):
            assert row[f] == pytest.approx(getattr(p, f), rel=1e-12, nan_ok=True), (row["platform"], row["gpu"], f)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(region="mars"), UnknownNameError, r"^unknown region 'mars' — known: .*france.*world"),
    (dict(min_replicas=99), InputError, r"^min_replicas 99 is more than the plan's \d+ replicas — give at most \d+$"),
    (dict(min_replicas=-1), InputError, r"^min_replicas must be 0 or more"),
])
def test_bad_region_or_warm_pool_is_one_line(kwargs, error, message):
    with pytest.raises(error, match=message):
        atlas_xl.plan(2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm", **kwargs)


# -- disaggregated prefill/decode serving (issue 19 item 1) ---------------------------------------------------
def test_disaggregated_plan_is_whole_units_of_estimate_disaggregated():
    p = atlas_xl.plan(5e10, "steady", "deepseek_r1", "nebius", "b200", disaggregated=True)
    unit = atlas_xl.estimate_disaggregated("deepseek_r1", "b200")  # the plan's defaults: fp8, 1024/1024, 2000/200 ms
    pat = atlas_xl.load_catalog().pattern("steady")
    # by hand from the record: the unit stands where the replica stands in plan_equations —
    # peak = tokens/day ÷ 86 400 ÷ active × burst; effective = unit's total tokens/s/GPU × efficiency × batch_mult;
    # GPUs = ceil(peak ÷ effective ÷ 0.75) (9 decimals first, as gpu_count), rounded up to whole units
    unit_gpus = unit.prefill_gpus + unit.decode_gpus
    peak = 5e10 / 86_400 / pat.active_ratio * pat.burst_factor
    effective = unit.total_tokens_per_s_per_gpu * pat.efficiency * pat.batch_multiplier
    gpus = max(math.ceil(round(peak / effective / 0.75, 9)), 1)
    units = math.ceil(round(gpus / unit_gpus, 9))
    assert p.gpu_count == units * unit_gpus and p.replica_gpus == unit_gpus
    assert p.gpu_tokens_per_s == unit.total_tokens_per_s_per_gpu  # input + output, as the plan's volume counts
    assert p.monthly_cost_usd == pytest.approx(720 * p.hourly_usd * units * unit_gpus)  # dedicated: every hour
    assert (p.ttft_ms, p.tpot_ms, p.precision) == (unit.ttft_ms, unit.tpot_ms, unit.precision)
    assert p.serving_mode == "disaggregated"
    assert p.replica_choice.startswith(f"disaggregated: {unit.prefill_gpus:g} prefill + {unit.decode_gpus:g} decode "
                                       "GPUs per unit")
    assert p.warm_replicas == units  # dedicated: every unit stays up
    assert p.scaling_penalty_usd == 0.0  # replicas of max(prefill_tp, decode_tp) GPUs within the B200's 8, not the unit


def test_disaggregated_false_is_the_aggregated_plan():
    args = (2e9, "steady", "llama_70b", "runpod", "h100_sxm")
    off, default = atlas_xl.plan(*args, disaggregated=False), atlas_xl.plan(*args)
    assert off.as_dict() == default.as_dict() and default.serving_mode == "aggregated"
    assert atlas_xl.plan(2e9, "steady", "llama_70b", "together").serving_mode == ""  # per token: the provider's
    assert "serving_mode" not in atlas_xl.rank(2e9, "steady", "llama_70b").columns  # a default ranking's columns


def test_disaggregated_refused_where_it_cannot_apply():
    with pytest.raises(InputError, match="per token: how it serves is the provider's"):
        atlas_xl.plan(2e9, "steady", "llama_70b", "together", disaggregated=True)
    with pytest.raises(InputError, match="gpu_tokens_per_s gives the throughput"):
        atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", gpu_tokens_per_s=1000, disaggregated=True)
    with pytest.raises(InputError, match="tp with disaggregated=True"):
        atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", tp=2, disaggregated=True)
    with pytest.raises(InputError, match="disaggregated must be True or False"):
        atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", disaggregated="yes")
    # limits no unit meets: the same one-line refusal (InputError) an aggregated plan gives, naming the fix
    with pytest.raises(InputError, match="relax ttft_ms/tpot_ms"):
        atlas_xl.plan(2e9, "steady", "deepseek_r1", "nebius", "b200", tpot_ms=1, disaggregated=True)
    with pytest.raises(InputError, match="relax ttft_ms/tpot_ms"):
        atlas_xl.plan(2e9, "steady", "deepseek_r1", "nebius", "b200", tpot_ms=1)


def test_disaggregated_rank_keeps_the_cheaper_mode_and_says_which():
    modes = set()
    for tpot_ms in (None, 30):  # a tight TPOT favours decode replicas that never prefill (DistServe)
        frame = atlas_xl.rank(5e10, "steady", "deepseek_r1", tpot_ms=tpot_ms, disaggregated=True)
        both = frame.attrs["serving_modes"]
        for row in frame[frame.billing != "per_token"].itertuples():
            ways = {m: w for m, w in both[f"{row.platform}/{row.gpu}"].items() if isinstance(w, dict)}
            # the ranking's own order: penalty score (a replica beyond its scale-up domain), then cost; aggregated on a tie
            better = min(ways, key=lambda m: (ways[m]["penalty_usd"], ways[m]["monthly_cost_usd"], m != "aggregated"))
            assert row.serving_mode == better and row.monthly_cost_usd == ways[better]["monthly_cost_usd"]
            modes.add(row.serving_mode)
        assert (frame.serving_mode[frame.billing == "per_token"] == "").all()
        assert list(frame["rank"]) == list(range(1, len(frame) + 1))
        assert frame.monthly_cost_usd[frame.penalty_usd == 0].is_monotonic_increasing
    assert modes == {"aggregated", "disaggregated"}  # each mode wins somewhere: the comparison can fail
