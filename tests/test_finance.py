"""Tests for atlas_xl.finance — forecast, commitments, break-even, usage patterns, cost ranges,
sensitivity. Expected values are hand-computed from the catalog rows they name."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import atlas_xl
from atlas_xl import finance
from atlas_xl.errors import InputError
from atlas_xl.planner import Assumptions, FIELDS

# runpod h100_sxm: 2.69 USD/GPU-h (offerings.csv); llama_70b on h100_sxm: the serving model's replica of 4 GPUs
# (FP8, the default precision), so a deployment is a whole number of 4-GPU replicas
WORKLOAD = ("steady", "llama_70b", "runpod", "h100_sxm")
GPUS_2B = 6  # 2e9 tokens/day of WORKLOAD: three least-cost 2-GPU replicas (test_the_hand_computed_cases_plan_six_gpus)
RUNPOD_H100_USD_H = 2.69
H100_3Y_USD_H = 2.00  # commitments.csv, InferenceX 3-year rental tier repriced 2026-09-08 (PR #1071)


# -- forecast --------------------------------------------------------------------------------------
def test_month_one_equals_plan_in_the_720_hour_convention():
    frame = finance.forecast(2e9, *WORKLOAD, months=3)
    expected = atlas_xl.plan(2e9, *WORKLOAD).as_dict()
    for field in FIELDS:
        value = frame[field].iloc[0]
        if isinstance(expected[field], str):
            assert value == expected[field], field
        else:
            assert value == pytest.approx(expected[field], nan_ok=True), field
    assert list(frame["month"]) == [1, 2, 3]
    assert list(frame["hours_in_month"]) == [720.0] * 3


def test_growth_compounds_monthly():
    frame = finance.forecast(1e9, *WORKLOAD, months=3, monthly_growth=0.10)
    # hand-computed: 1e9 × 1.1^0, 1.1^1, 1.1^2
    np.testing.assert_allclose(frame["tokens_per_day"], [1e9, 1.1e9, 1.21e9])
    np.testing.assert_allclose(frame["cumulative_cost_usd"], np.cumsum(frame["monthly_cost_usd"]))


def test_the_hand_computed_cases_plan_six_gpus():
    plan = atlas_xl.plan(2e9, *WORKLOAD)
    assert (plan.gpu_count, plan.replica_gpus) == (GPUS_2B, 2)


def test_calendar_months_use_their_real_hours():
    frame = finance.forecast(2e9, *WORKLOAD, months=3, start="2028-01")
    assert list(frame["period"]) == ["2028-01", "2028-02", "2028-03"]
    assert list(frame["days"]) == [31, 29, 31]  # 2028 is a leap year
    # 2e9 tokens/day steady needs GPUS_2B GPUs (plan); February 2028: GPUS_2B × 2.69 × 29 × 24
    assert frame["gpu_count"].iloc[1] == GPUS_2B
    assert frame["monthly_cost_usd"].iloc[1] == pytest.approx(GPUS_2B * RUNPOD_H100_USD_H * 29 * 24)
    # month 1 equals plan() with January's hours
    january = atlas_xl.plan(2e9, *WORKLOAD, assumptions=Assumptions(hours_per_month=744, days_per_month=31))
    assert frame["monthly_cost_usd"].iloc[0] == pytest.approx(january.monthly_cost_usd)
    assert frame["monthly_tokens"].iloc[0] == pytest.approx(2e9 * 31)


def test_per_token_calendar_month_bills_its_days():
    frame = finance.forecast(1e9, "steady", "llama_70b", "together", months=2, start="2027-02")
    # together llama_70b 0.88 USD/Mtok; 28 days × 1e9 / 1e6 × 0.88 = 24,640
    assert frame["monthly_cost_usd"].iloc[0] == pytest.approx(28 * 1e3 * 0.88)
    assert math.isnan(frame["gpu_count"].iloc[0])


def test_monthly_volumes_as_a_list():
    volumes = [1e9, 2e9, 4e9]
    frame = finance.forecast(volumes, *WORKLOAD)
    assert len(frame) == 3
    np.testing.assert_allclose(frame["tokens_per_day"], volumes)
    assert frame["monthly_cost_usd"].iloc[2] == pytest.approx(atlas_xl.plan(4e9, *WORKLOAD).monthly_cost_usd)
    frame = finance.forecast(pd.Series(volumes), *WORKLOAD, months=3)
    assert len(frame) == 3


def test_price_change_per_year_compounds_monthly():
    frame = finance.forecast(2e9, *WORKLOAD, months=13, price_change_per_year=-0.2)
    # month 13 is 12 months later: 2.69 × 0.8 = 2.152 per GPU-hour
    assert frame["hourly_usd"].iloc[12] == pytest.approx(RUNPOD_H100_USD_H * 0.8)
    assert frame["hourly_usd"].iloc[6] == pytest.approx(RUNPOD_H100_USD_H * 0.8 ** 0.5)
    assert frame["monthly_cost_usd"].iloc[12] == pytest.approx(GPUS_2B * RUNPOD_H100_USD_H * 0.8 * 720)


def test_price_change_applies_to_per_token_price():
    frame = finance.forecast(1e9, "steady", "llama_70b", "together", months=13, price_change_per_year=0.1)
    assert frame["price_per_m_tokens"].iloc[12] == pytest.approx(0.88 * 1.1)


def test_plan_keyword_arguments_are_forwarded():
    frame = finance.forecast(2e9, *WORKLOAD, months=2, gpu_count=4, latency_ms=250)
    assert list(frame["gpu_count"]) == [4, 4]
    assert frame["monthly_cost_usd"].iloc[0] == pytest.approx(4 * RUNPOD_H100_USD_H * 720)
    frame = finance.forecast(2e9, "steady", "my_model", "my_cloud", months=2, billing="dedicated",
                             gpu_tokens_per_s=3000, hourly_usd=2.5)
    assert frame["hourly_usd"].iloc[0] == 2.5


@pytest.mark.parametrize("kwargs, words", [
    ({"months": 0}, "months must be 1 or more — got 0"),  # LIMITS (docs/limits.md)
    ({"months": 2.5}, "whole number"),
    ({"monthly_growth": -1.0}, "−100 %"),
    ({"monthly_growth": -1.5}, "−100 %"),
    ({"monthly_growth": "5%"}, "monthly_growth must be a number"),
    ({"start": "Jan 2027"}, "YYYY-MM"),
    ({"start": "2027-13"}, "YYYY-MM"),
    ({"price_change_per_year": -2}, "price_change_per_year"),
    ({"commitment": "2y"}, "use 1y or 3y"),
])
def test_forecast_bad_input_is_one_line(kwargs, words):
    with pytest.raises(InputError) as error:
        finance.forecast(2e9, *WORKLOAD, **kwargs)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_list_and_months_must_agree():
    with pytest.raises(InputError, match="3 monthly volumes but months = 5"):
        finance.forecast([1e9, 2e9, 3e9], *WORKLOAD, months=5)
    with pytest.raises(InputError, match="tokens_per_day must be greater than 0 — got -2,000,000,000"):  # LIMITS
        finance.forecast([1e9, -2e9], *WORKLOAD)


@settings(max_examples=40, deadline=None)
@given(st.floats(1e6, 1e11), st.floats(0.0, 0.3), st.integers(1, 24))
def test_growing_volume_never_lowers_cost(tokens, growth, months):
    frame = finance.forecast(tokens, *WORKLOAD, months=months, monthly_growth=growth)
    cost = frame["monthly_cost_usd"].to_numpy()
    assert (np.diff(cost) >= -1e-9).all()
    assert (np.diff(frame["cumulative_cost_usd"].to_numpy()) > 0).all()


# -- commitments ------------------------------------------------------------------------------------
def test_three_year_commitment_hand_computed():
    frame = finance.forecast(2e9, *WORKLOAD, months=12, commitment="3y")
    # month 1: GPUS_2B GPUs committed at 2.00 × 720 h; on demand GPUS_2B × 2.69 × 720
    assert frame["commitment_cost_usd"].iloc[0] == pytest.approx(GPUS_2B * H100_3Y_USD_H * 720)
    assert frame["on_demand_cost_usd"].iloc[0] == pytest.approx(GPUS_2B * RUNPOD_H100_USD_H * 720)
    assert frame["savings_usd"].iloc[0] == pytest.approx(GPUS_2B * (RUNPOD_H100_USD_H - H100_3Y_USD_H) * 720)
    assert frame.attrs["commitment_payoff_month"] == 1
    # months 13–36 are still owed: 24 × GPUS_2B × 2.00 × 720
    assert frame.attrs["commitment_owed_after_forecast_usd"] == pytest.approx(24 * GPUS_2B * H100_3Y_USD_H * 720)
    assert "market reference" in frame.attrs["commitment_basis"]
    assert "InferenceX" in frame.attrs["commitment_source"]


def test_gpus_beyond_the_commitment_pay_on_demand():
    frame = finance.forecast(2e9, *WORKLOAD, months=6, monthly_growth=0.1, commitment="3y")
    month = frame[frame["gpu_count"] > GPUS_2B].iloc[0]
    extra = month["gpu_count"] - GPUS_2B
    assert month["monthly_cost_usd"] == pytest.approx(GPUS_2B * H100_3Y_USD_H * 720 + extra * RUNPOD_H100_USD_H * 720)


def test_oversized_commitment_never_pays_off():
    frame = finance.forecast(2e8, *WORKLOAD, months=12, commitment="3y", committed_gpus=20)
    # 20 × 2.00 = 40.0 USD/h committed against 4 GPUs × 2.69 = 10.76 on demand: always worse
    assert frame.attrs["commitment_payoff_month"] is None
    assert frame.attrs["commitment_term_savings_usd"] < 0
    assert (frame["savings_usd"] < 0).all()


def test_commitment_that_pays_off_later():
    # 8 GPUs committed while one 4-GPU replica (tp 4 given) is needed, volume growing 15 %/month: early months
    # overpay (8 × 2.00 = 16.00 USD/h against 4 × 2.69 = 10.76), later months save 8 × (2.69 − 2.00) USD/h
    frame = finance.forecast(2e8, *WORKLOAD, months=36, monthly_growth=0.15, commitment="3y", committed_gpus=8, tp=4)
    assert frame["gpu_count"].iloc[0] == 4 and (frame["replica_gpus"] == 4).all()
    payoff = frame.attrs["commitment_payoff_month"]
    assert payoff is not None and payoff > 1
    cumulative = frame["cumulative_savings_usd"].to_numpy()
    assert cumulative[payoff - 2] < 0 <= cumulative[payoff - 1]
    assert (cumulative[payoff - 1:] >= 0).all()


def test_commitment_gaps_and_per_token_are_one_line():
    with pytest.raises(InputError, match="no 1y commitment price .* add a row to commitments.csv"):
        finance.forecast(2e9, *WORKLOAD, commitment="1y")
    with pytest.raises(InputError, match="bills per token"):
        finance.forecast(1e9, "steady", "llama_70b", "together", commitment="3y")


def test_platform_commitment_row_wins_over_market_reference():
    tables = atlas_xl.load_catalog().to_frames()
    extra = pd.DataFrame([{"platform": "runpod", "gpu": "h100_sxm", "term": "1y", "hourly_usd": 2.0,
                           "min_term_months": 12, "source": "test contract", "as_of": "2027-01-01", "notes": ""}])
    catalog = atlas_xl.load_catalog({"commitments": pd.concat([tables["commitments"], extra])})
    frame = finance.forecast(2e9, *WORKLOAD, months=3, commitment="1y", catalog=catalog)
    assert frame["commitment_cost_usd"].iloc[0] == pytest.approx(GPUS_2B * 2.0 * 720)
    assert frame.attrs["commitment_basis"] == "runpod price"


# -- break-even ------------------------------------------------------------------------------------
def test_breakeven_per_token_against_gpus_hand_computed():
    result = finance.breakeven("steady", "llama_70b", "together", "runpod/h100_sxm")
    # at low volume runpod runs one 2-GPU replica (the least-cost size): 2 × 2.69 × 720 = 3,873.60 USD/month;
    # together costs V × 30 / 1e6 × 0.88 → equal at V = 3,873.6 / 2.64e-5 = 146,727,272.7 tokens/day
    assert result.tokens_per_day == pytest.approx(2 * 2.69 * 720 / (30 * 0.88 / 1e6), rel=1e-6)
    assert result.exact and result.gap_pct < 1.0
    assert (result.cheaper_below, result.cheaper_above) == ("together", "runpod/h100_sxm")
    a = atlas_xl.plan(result.tokens_per_day, "steady", "llama_70b", "together").monthly_cost_usd
    b = atlas_xl.plan(result.tokens_per_day, *WORKLOAD).monthly_cost_usd
    assert abs(a - b) / max(a, b) < 0.01


def test_breakeven_never_crossing_returns_none_with_a_reason():
    result = finance.breakeven("bursty", "llama_8b", "groq", "runpod/h100_sxm")
    assert result.tokens_per_day is None
    assert "never cross" in result.reason and "groq is cheaper throughout" in result.reason


def test_breakeven_options_as_dicts():
    # a dedicated 1-GPU deployment at 1 USD/h: 720 USD/month flat below its capacity
    own = {"platform": "own", "billing": "dedicated", "hourly_usd": 1.0, "gpu_tokens_per_s": 3000,
           "gpu_count": 1, "label": "own GPU"}
    result = finance.breakeven("steady", "llama_70b", "together", own)
    assert result.tokens_per_day == pytest.approx(720 / (30 * 0.88 / 1e6), rel=1e-6)  # 27.27 M tokens/day
    assert result.cheaper_above == "own GPU"


@settings(max_examples=25, deadline=None)
@given(st.floats(0.2, 20.0), st.floats(0.05, 5.0))
def test_exact_breakeven_costs_agree_within_one_percent(hourly, price):
    own = {"platform": "own", "billing": "dedicated", "hourly_usd": hourly, "gpu_tokens_per_s": 3000}
    api = {"platform": "api", "billing": "per_token", "price_per_m_tokens": price}
    result = finance.breakeven("steady", "any", own, api)
    if result.tokens_per_day is not None and result.exact:
        a = atlas_xl.plan(result.tokens_per_day, "steady", "any", "own", **{k: v for k, v in own.items()
                                                                            if k != "platform"}).monthly_cost_usd
        b = atlas_xl.plan(result.tokens_per_day, "steady", "any", "api", billing="per_token",
                          price_per_m_tokens=price).monthly_cost_usd
        assert abs(a - b) <= 0.01 * max(a, b)
    else:
        assert result.reason


def test_breakeven_bad_options():
    with pytest.raises(InputError, match="option_a must be"):
        finance.breakeven("steady", "llama_70b", "", "together")
    with pytest.raises(InputError, match="needs a platform"):
        finance.breakeven("steady", "llama_70b", {"gpu": "h100_sxm"}, "together")
    with pytest.raises(InputError, match="0 < low < high"):
        finance.breakeven("steady", "llama_70b", "together", "runpod/h100_sxm", low=1e9, high=1e8)


def test_breakeven_month_in_a_forecast():
    # 1e8 tokens/day growing 20 %/month passes the 1.467e8 break-even in month 4 (1e8 × 1.2³ = 1.728e8;
    # 1.2² → 1.44e8 is still below)
    found = finance.breakeven_month(1e8, "steady", "llama_70b", "together", "runpod/h100_sxm", months=6,
                                    monthly_growth=0.2, start="2027-03")
    assert found["month"] == 4 and found["period"] == "2027-06"
    assert (found["cheaper_before"], found["cheaper_after"]) == ("together", "runpod/h100_sxm")
    assert finance.breakeven_month(1e8, "steady", "llama_70b", "together", "runpod/h100_sxm", months=3,
                                   monthly_growth=0.2) is None


# -- traffic pattern from a usage log ---------------------------------------------------------------
def synthetic_log(pattern, weeks=4, tokens_per_day=1e9, rows_per_hour=4, seed=1):
    """A usage log made from a named pattern: ``rows_per_hour`` rows per active hour.

    Active hours: round(active_ratio × 168) hours of each week, as one block per weekday when
    the pattern is business-like, spread evenly otherwise. Within active hours 10 % of the hours
    run at burst_factor × the active mean and the rest at the level that keeps the mean (so the
    peak over the active mean is burst_factor). ±1 % noise on every hour.
    """
    p = atlas_xl.load_catalog().patterns[pattern]
    rng = np.random.default_rng(seed)
    active_per_week = round(p.active_ratio * 168)
    week = np.zeros(168, bool)
    if pattern == "business_hours":
        for day in range(5):
            week[day * 24 + 9: day * 24 + 17] = True  # Mon–Fri 09–17: 40 h
    else:
        week[np.round(np.linspace(0, 167, active_per_week)).astype(int)] = True
    active = np.tile(week, weeks)
    mean_active = tokens_per_day * 7 / active_per_week  # tokens per active hour
    level = np.zeros(active.size)
    idx = np.nonzero(active)[0]
    burst = rng.permutation(idx)[: int(round(0.1 * idx.size))] if p.burst_factor > 1 else np.array([], int)
    base = mean_active * (1 - 0.1 * p.burst_factor) / 0.9 if p.burst_factor > 1 else mean_active
    level[idx] = base
    level[burst] = mean_active * p.burst_factor
    level *= 1 + rng.uniform(-0.01, 0.01, level.size)
    start = pd.Timestamp("2027-01-04T00:00:00Z")  # a Monday
    rows = []
    for hour in range(level.size):  # an idle hour is one bucket of 0 tokens, as in hourly usage exports
        for part in range(rows_per_hour if level[hour] else 1):
            t = start + pd.Timedelta(hours=int(hour), minutes=int(part * 60 / rows_per_hour))
            rows.append((t.isoformat(), level[hour] / rows_per_hour * 0.3, level[hour] / rows_per_hour * 0.7))
    return pd.DataFrame(rows, columns=["timestamp", "input_tokens", "output_tokens"]), p


@pytest.mark.parametrize("pattern", ["steady", "business_hours", "bursty"])
def test_pattern_from_usage_recovers_a_named_pattern_within_5_percent(pattern):
    log, p = synthetic_log(pattern)
    found = finance.pattern_from_usage(log)
    for field in ("active_ratio", "burst_factor", "efficiency", "batch_multiplier"):
        assert getattr(found, field) == pytest.approx(getattr(p, field), rel=0.05), field
    assert found.nearest_pattern == pattern
    assert found.hours == 4 * 168
    assert found.tokens_per_day == pytest.approx(1e9, rel=0.01)  # the generator's volume, ±1 % noise


def test_pattern_from_a_log_without_idle_rows_needs_its_period():
    log, p = synthetic_log("business_hours")
    busy = log[log["input_tokens"] > 0]  # the log ends on a Friday afternoon: the last weekend is not in it
    assert finance.pattern_from_usage(busy).active_ratio > 0.25
    found = finance.pattern_from_usage(busy, period=("2027-01-04T00:00Z", "2027-01-31T23:00Z"))
    assert found.active_ratio == pytest.approx(p.active_ratio, rel=0.05)
    with pytest.raises(InputError, match="widen it"):
        finance.pattern_from_usage(busy, period=("2027-01-10", "2027-01-31"))


def test_pattern_from_csv_with_unix_seconds_and_total_tokens(tmp_path):
    hours = pd.date_range("2027-01-01", periods=24 * 7, freq="h", tz="UTC")
    seconds = (hours - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta("1s")  # Unix seconds
    log = pd.DataFrame({"start_time": seconds, "total_tokens": 1000.0})
    path = tmp_path / "usage.csv"
    log.to_csv(path, index=False)
    found = finance.pattern_from_usage(path)
    assert found.active_ratio == 1.0 and found.burst_factor == pytest.approx(1.0)
    assert found.tokens_per_day == pytest.approx(24_000)  # hand-computed: 1000 tokens × 24 h
    assert found.note == ""


def test_usage_export_columns_are_added_without_double_counting():
    hours = pd.date_range("2027-01-01", periods=48, freq="h", tz="UTC").astype(str)
    # OpenAI usage buckets: input_tokens already include input_cached_tokens → 300 + 100 per hour
    openai = pd.DataFrame({"start_time": hours, "input_tokens": 300.0, "input_cached_tokens": 200.0,
                           "output_tokens": 100.0})
    assert finance.pattern_from_usage(openai).tokens_per_day == pytest.approx(400 * 24)
    # Anthropic usage: cache reads and writes are outside input_tokens → 300 + 50 + 20 + 100 per hour
    anthropic = pd.DataFrame({"timestamp": hours, "input_tokens": 300.0, "cache_read_input_tokens": 50.0,
                              "cache_creation_input_tokens": 20.0, "output_tokens": 100.0})
    assert finance.pattern_from_usage(anthropic).tokens_per_day == pytest.approx(470 * 24)


def test_plan_from_an_observed_pattern():
    log, _ = synthetic_log("bursty")
    found = finance.pattern_from_usage(log)
    catalog = finance.with_pattern(found, "ours")
    ours = atlas_xl.plan(found.tokens_per_day, "ours", "llama_70b", "runpod", "h100_sxm", catalog=catalog)
    named = atlas_xl.plan(found.tokens_per_day, "bursty", "llama_70b", "runpod", "h100_sxm")
    assert ours.peak_tokens_per_s == pytest.approx(named.peak_tokens_per_s, rel=0.1)


@pytest.mark.parametrize("log, words", [
    (pd.DataFrame({"tokens": [1, 2]}), "no timestamp column"),
    (pd.DataFrame({"timestamp": ["2027-01-01"], "foo": [1]}), "no token column"),
    (pd.DataFrame({"timestamp": ["yesterday", "2027-01-01"], "tokens": [1, 2]}), "not timestamps"),
    (pd.DataFrame({"timestamp": ["2027-01-01T00:00", "2027-01-01T03:00"], "tokens": [1, 2]}), "at least one day"),
    (pd.DataFrame({"timestamp": ["2027-01-01T00:00", "2027-01-03T00:00"], "tokens": [1, -2]}), "negative"),
    (pd.DataFrame({"timestamp": ["2027-01-01T00:00", "2027-01-03T00:00"], "tokens": [0, 0]}), "no tokens"),
    ("missing.csv", "does not exist"),
])
def test_pattern_from_usage_bad_logs(log, words):
    with pytest.raises(InputError) as error:
        finance.pattern_from_usage(log)
    assert words in str(error.value) and "\n" not in str(error.value)


# -- cost range ------------------------------------------------------------------------------------
def test_cost_range_is_seeded():
    kw = dict(throughput_error=0.15, price_spread=0.1, volume_spread=0.2)
    one = finance.cost_range(2e9, *WORKLOAD, **kw)
    two = finance.cost_range(2e9, *WORKLOAD, **kw)
    assert one.percentiles == two.percentiles  # same inputs and seed → same numbers, bit for bit
    other = finance.cost_range(2e9, *WORKLOAD, seed=1, **kw)
    assert other.percentiles != one.percentiles
    assert one.p10 <= one.p50 <= one.p90


def test_cost_range_without_spread_is_the_point_estimate():
    result = finance.cost_range(2e9, *WORKLOAD, throughput_error=0.0, draws=100)
    assert result.p10 == result.p50 == result.p90 == pytest.approx(GPUS_2B * RUNPOD_H100_USD_H * 720)


def test_cost_range_per_token_price_spread_matches_lognormal_quantiles():
    # per-token cost is linear in price: P90 = point × exp(z90 × ln 1.1), z90 = 1.28155
    result = finance.cost_range(1e9, "steady", "llama_70b", "together", price_spread=0.1, draws=20_000)
    point = 1e9 * 30 / 1e6 * 0.88
    assert result.point_usd == pytest.approx(point)
    assert result.p90 == pytest.approx(point * math.exp(1.28155 * math.log(1.1)), rel=0.01)
    assert result.p50 == pytest.approx(point, rel=0.01)


def test_cost_range_growth_uncertainty_widens_later_months():
    kw = dict(throughput_error=0.0, monthly_growth=0.05, growth_spread=0.02)
    first = finance.cost_range(2e9, *WORKLOAD, month=1, **kw)
    later = finance.cost_range(2e9, *WORKLOAD, month=12, **kw)
    assert first.p90 - first.p10 == 0
    assert later.p90 - later.p10 > 0
    assert later.point_usd == pytest.approx(finance.forecast(2e9, *WORKLOAD, months=12, monthly_growth=0.05)
                                            ["monthly_cost_usd"].iloc[11])


def test_cost_range_point_is_the_forecast_month_with_calendar_and_price_change():
    kw = dict(monthly_growth=0.05, start="2027-01", price_change_per_year=-0.2)
    frame = finance.forecast(2e9, *WORKLOAD, months=14, **kw)
    for month in (2, 14):  # February 2027 (28 days), February 2028 (29 days)
        result = finance.cost_range(2e9, *WORKLOAD, throughput_error=0.0, month=month, draws=50, **kw)
        assert result.point_usd == pytest.approx(frame["monthly_cost_usd"].iloc[month - 1])
        assert result.p50 == pytest.approx(result.point_usd)


def test_cost_range_default_throughput_error_is_the_serving_models():
    base = atlas_xl.plan(2e10, *WORKLOAD)  # ~80 GPUs: the 4-GPU steps are finer than the spread
    result = finance.cost_range(2e10, *WORKLOAD)
    # the back-test's mean absolute error e is σ·√(2/π) for a normal error, so σ = e·√(π/2)
    assert result.throughput_error == pytest.approx(base.throughput_expected_error * math.sqrt(math.pi / 2))
    assert result.p10 < result.p50 < result.p90
    with pytest.raises(InputError, match="pass throughput_error"):  # a throughput of one's own has no model error
        finance.cost_range(2e9, *WORKLOAD, gpu_tokens_per_s=3000)


def test_cost_range_keeps_the_serving_models_replica_size():
    # one 2-GPU replica (the least-cost size) at low volume: a faster draw cannot plan fewer than 2 GPUs
    result = finance.cost_range(1e8, *WORKLOAD, throughput_error=0.5, percentiles=[0, 100], draws=2000)
    assert result.percentiles[0.0] == pytest.approx(2 * 2.69 * 720)


def test_cost_range_any_percentile_and_bad_input():
    result = finance.cost_range(2e9, *WORKLOAD, throughput_error=0.2, percentiles=[5, 95])
    assert set(result.percentiles) == {5.0, 95.0} and math.isnan(result.p50)
    for kwargs, words in (({"draws": 0}, "draws"), ({"percentiles": [150]}, "0 to 100"),
                          ({"price_spread": -0.1}, "price_spread"), ({"seed": 1.5}, "seed")):
        with pytest.raises(InputError, match=words):
            finance.cost_range(2e9, *WORKLOAD, throughput_error=0.1, **kwargs)


@settings(max_examples=20, deadline=None)
@given(st.floats(0.0, 0.5), st.floats(0.0, 0.5))
def test_wider_throughput_error_never_narrows_the_range(small, extra):
    narrow = finance.cost_range(5e9, *WORKLOAD, throughput_error=small, draws=2000)
    wide = finance.cost_range(5e9, *WORKLOAD, throughput_error=small + extra, draws=2000)
    # the same seed draws the same normals; a larger sigma scales each one further from the median
    assert wide.p90 >= narrow.p90 - 1e-9 and wide.p10 <= narrow.p10 + 1e-9



def test_cost_range_months_is_cost_range_of_each_month():
    # issue 21: one Monte-Carlo for a column of months gives, bit for bit, what one call per month gives
    # (month 1 has its own seeded stream when a growth spread is drawn; February is shorter)
    kw = dict(throughput_error=0.15, price_spread=0.1, volume_spread=0.2, monthly_growth=0.05, growth_spread=0.02,
              start="2027-01", price_change_per_year=-0.2, draws=2000, seed=3, percentiles=(10, 50, 90))
    months = (3, 1, 2, 14, 2)
    together = finance.cost_range_months(2e9, *WORKLOAD, months=months, **kw)
    assert [r.month for r in together] == list(months)
    for month, result in zip(months, together):
        assert result == finance.cost_range(2e9, *WORKLOAD, month=month, **kw)  # every field, bit for bit
    per_token = finance.cost_range_months(1e9, "steady", "llama_70b", "together", months=(1, 6), price_spread=0.1)
    assert per_token == [finance.cost_range(1e9, "steady", "llama_70b", "together", month=m, price_spread=0.1)
                         for m in (1, 6)]
    with pytest.raises(InputError, match="months is empty"):
        finance.cost_range_months(2e9, *WORKLOAD, months=())
    with pytest.raises(InputError, match="months = 0"):
        finance.cost_range_months(2e9, *WORKLOAD, months=(1, 0))

# -- sensitivity -----------------------------------------------------------------------------------
def test_sensitivity_per_token_hand_computed():
    frame = finance.sensitivity(1e9, "steady", "llama_70b", "together")
    rows = frame.set_index("input")
    # cost = V × 30 / 1e6 × 0.88 = 26,400: ±10 % volume or price moves it ±2,640
    assert rows.loc["price_per_m_tokens", "cost_at_low_usd"] == pytest.approx(26_400 * 0.9)
    assert rows.loc["tokens_per_day", "cost_at_high_usd"] == pytest.approx(26_400 * 1.1)
    assert rows.loc["burst_factor", "swing_usd"] == 0  # per-token billing ignores the pattern
    assert list(frame["swing_usd"]) == sorted(frame["swing_usd"], reverse=True)


def test_sensitivity_gpu_offering_and_explicit_ranges():
    frame = finance.sensitivity(2e9, *WORKLOAD, ranges={"hourly_usd": (2.0, 4.0), "active_ratio": 0.5})
    rows = frame.set_index("input")
    assert rows.loc["hourly_usd", "cost_at_high_usd"] == pytest.approx(GPUS_2B * 4.0 * 720)
    assert rows.loc["active_ratio", "high"] == 1.0  # capped: steady is already 100 % active
    assert {"gpu_tokens_per_s", "efficiency", "batch_multiplier", "target_utilization"} <= set(frame["input"])


def test_sensitivity_pattern_inputs_are_plans_on_a_changed_catalog():
    # the changed pattern is derived from the catalog (issue 21), not loaded again: the same numbers as a
    # catalog loaded with that patterns table
    frame = finance.sensitivity(2e9, "bursty", "llama_70b", "runpod", "h100_sxm").set_index("input")
    cat = atlas_xl.load_catalog()
    for name in finance.PATTERN_INPUTS:
        for end in ("low", "high"):
            patterns = cat.tables["patterns"].copy()
            patterns.loc[patterns.pattern == "bursty", name] = frame.loc[name, end]
            loaded = atlas_xl.load_catalog({**cat.tables, "patterns": patterns})
            expected = atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", catalog=loaded)
            assert frame.loc[name, f"cost_at_{end}_usd"] == expected.monthly_cost_usd


def test_sensitivity_bad_input():
    with pytest.raises(InputError, match="no sensitivity input 'colour'"):
        finance.sensitivity(2e9, *WORKLOAD, ranges={"colour": 0.1})
    with pytest.raises(InputError, match="not a plan field"):
        finance.sensitivity(2e9, *WORKLOAD, output="profit")
    with pytest.raises(InputError, match="keep it above 0"):
        finance.sensitivity(2e9, *WORKLOAD, spread=1.5)


# -- issue 20: options, numbers for people, ranges that explain themselves, periods, commitments ------------
def test_option_syntax():
    assert finance.parse_option("together:per_token") == {"platform": "together", "gpu": None, "billing": "per_token"}
    assert finance.parse_option("runpod/h100_sxm:2.10") == {"platform": "runpod", "gpu": "h100_sxm", "price": 2.10}
    with pytest.raises(InputError, match="neither a billing"):
        finance.parse_option("runpod/h100_sxm:cheap")
    with pytest.raises(InputError, match="no per-token price for llama_70b .* runpod/h100_sxm"):
        finance.resolve_option("runpod:per_token", "option_a", "llama_70b")
    with pytest.raises(InputError, match="name one: runpod/a100_80gb"):
        finance.resolve_option("runpod:dedicated", "option_a", "llama_70b")


def test_bare_platform_says_which_offering_it_took():
    api = finance.resolve_option("together", "option_a", "llama_70b")
    assert "took the per-token API" in api.note and "together/h100_sxm" in api.note
    gpus = finance.resolve_option("together", "option_a", "gpt_oss_120b")  # no Together API row for gpt-oss
    assert "took its dedicated h100_sxm GPUs" in gpus.note
    assert finance.resolve_option("together:per_token", "option_a", "llama_70b").note == ""


def test_breakeven_named_exactly_and_one_sided():
    # Together's API against Together's own dedicated H100 at 3.99 USD/h: one 2-GPU replica (least cost)
    # 2 × 3.99 × 720 = 5,745.60 USD/month = V × 30 × 0.88e-6 → V = 217.64 M tokens/day (hand-computed)
    result = finance.breakeven("steady", "llama_70b", "together:per_token", "together/h100_sxm")
    assert result.tokens_per_day == pytest.approx(2 * 3.99 * 720 / (30 * 0.88e-6), rel=1e-6)
    assert "218 M tokens/day" in result.reason
    one_side = finance.breakeven("steady", "llama_70b", "together", "runpod/h100_sxm", overrides_b={"hourly_usd": 2.0})
    suffix = finance.breakeven("steady", "llama_70b", "together", "runpod/h100_sxm:2.0")
    assert one_side.tokens_per_day == suffix.tokens_per_day == pytest.approx(2 * 2.0 * 720 / (30 * 0.88e-6), rel=1e-6)
    assert one_side.price_as_of_b == "given" and one_side.price_as_of_a == "2026-05-08"


def test_a_price_for_both_sides_is_refused():
    # issue 20: the override reached both options, which then "cost the same at every volume"
    with pytest.raises(InputError, match="apply to both options.*--a-price-per-m-tokens"):
        finance.breakeven("steady", "llama_70b", "together", "runpod/h100_sxm", billing="per_token",
                          price_per_m_tokens=0.5)
    with pytest.raises(InputError, match="same offering"):
        finance.breakeven("steady", "llama_70b", "together", "together:per_token")


@pytest.mark.parametrize("value, text", [(1.812e9, "1.81 B"), (293_454_545.5, "293 M"), (950, "950"),
                                         (2.5e12, "2.5 T"), (12_300, "12.3 k")])
def test_numbers_for_people(value, text):
    assert finance.people_number(value) == text


def test_percentages_for_people():
    assert finance.pct_text(6.6e-10) == "less than 0.1 %"
    assert finance.pct_text(6.6) == "6.6 %" and finance.pct_text(42.4) == "42 %"


def test_cost_range_says_why_it_is_a_point():
    r = finance.cost_range(2e8, *WORKLOAD)  # one 2-GPU replica at 18–37 % utilisation over the error's P10–P90
    assert r.p10 == r.p90 and r.throughput_error > 0.1  # the serving model's error is in the default
    assert "every draw needs the same 2 GPUs (1 replica of 2)" in r.point_reason
    assert r.gpu_count_p10 == r.gpu_count_p90 == 2
    wide = finance.cost_range(1e10, *WORKLOAD)
    assert wide.p10 < wide.p90 and wide.point_reason == ""
    api = finance.cost_range(1e9, "steady", "llama_70b", "together")
    assert "per-token cost is volume × price" in api.point_reason
    fixed = finance.cost_range(2e9, *WORKLOAD, gpu_count=8)
    assert "fixed at 8" in fixed.point_reason


def test_fiscal_periods():
    # fiscal year from April, named by its end year: March 2027 is FY2027 Q4, April 2027 FY2028 Q1
    assert finance.fiscal_period(2027, 3, 4) == (2027, 4)
    assert finance.fiscal_period(2027, 4, 4) == (2028, 1)
    assert finance.fiscal_period(2027, 12, 1) == (2027, 4)
    with pytest.raises(InputError, match="month number 1–12"):
        finance.cost_range_periods(2e9, *WORKLOAD, start="2027-01", fiscal_year_start_month=13)
    with pytest.raises(InputError, match="needs start"):
        finance.cost_range_periods(2e9, *WORKLOAD, fiscal_year_start_month=4)


def test_period_totals_add_up_and_bracket_the_forecast():
    frame = finance.cost_range_periods(2e9, *WORKLOAD, months=15, monthly_growth=0.05, start="2027-01",
                                       fiscal_year_start_month=4, draws=2000, volume_spread=0.2)
    months = frame[frame.period_type == "month"]
    quarters = frame[frame.period_type == "quarter"]
    years = frame[frame.period_type == "fiscal_year"]
    assert list(quarters.period) == ["FY2027 Q4", "FY2028 Q1", "FY2028 Q2", "FY2028 Q3", "FY2028 Q4"]
    assert list(years.period) == ["FY2027", "FY2028"] and list(years.complete) == [False, True]
    # means add up exactly (the same draws in every period); percentiles of totals do not add up
    assert quarters.mean_usd.sum() == pytest.approx(months.mean_usd.sum())
    assert months.point_usd.sum() == pytest.approx(finance.forecast(2e9, *WORKLOAD, months=15, monthly_growth=0.05,
                                                                    start="2027-01")["monthly_cost_usd"].sum())
    assert (frame.p10_usd <= frame.p50_usd).all() and (frame.p50_usd <= frame.p90_usd).all()
    year = years.iloc[1]
    assert year.p90_usd <= months.iloc[3:15].p90_usd.sum() + 1e-6  # P90 of a total ≤ the sum of P90s


def test_commit_advice_without_uncertainty_hand_computed():
    advice = finance.commit_advice(2e9, *WORKLOAD, months=36, throughput_error=0, draws=50)
    # GPUS_2B GPUs every month: 3 years at 2.00 instead of 2.69 USD/h saves 36 × GPUS_2B × 0.69 × 720
    assert (advice.term, advice.committed_gpus, advice.start_month) == ("3y", GPUS_2B, 1)
    assert advice.expected_savings_usd == pytest.approx(36 * GPUS_2B * (2.69 - 2.00) * 720)
    assert advice.p10_overcommitment_usd == 0 and advice.owed_after_usd == 0


def test_commit_advice_counts_what_is_owed_after_the_horizon_and_the_p10_risk():
    # 12 months of a 36-month term: 24 months of 8 × 2.00 × 720 = 11,520 USD are owed after the horizon,
    # and the 12 months save only 12 × 8 × 0.69 × 720 = 47,692.80: committing loses → do not commit
    advice = finance.commit_advice(2e9, *WORKLOAD, months=12, throughput_error=0, draws=50)
    assert advice.committed_gpus == 0 and advice.reason.startswith("do not commit")
    three = next(a for a in advice.alternatives if a["term"] == "3y")
    assert three["expected_savings_usd"] < 0
    risky = finance.commit_advice(5e8, "bursty", "llama_70b", "runpod", "h100_sxm", months=36, monthly_growth=0.08,
                                  volume_spread=0.3, draws=500)
    assert risky.committed_gpus > 0 and risky.p10_overcommitment_usd >= 0
    assert risky.p10_overcommitment_usd == pytest.approx(risky.p10_idle_gpu_hours * risky.hourly_usd)
    with pytest.raises(InputError, match="bills per token"):
        finance.commit_advice(1e9, "steady", "llama_70b", "together")



# -- disaggregated serving and warm pools reach every finance function (issue 19) -------------------------------
SPLIT = (3e10, "steady", "deepseek_r1", "nebius", "b200")  # 80 GPUs aggregated, 96 (one unit) disaggregated
SERVERLESS = (2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm")  # autoscaling, 7 replicas of 4


def test_a_disaggregated_forecast_is_plan_of_each_months_volume():
    frame = finance.forecast(*SPLIT, months=3, monthly_growth=0.5, disaggregated=True)
    for volume, cost, gpus, mode in zip(frame.tokens_per_day, frame.monthly_cost_usd, frame.gpu_count,
                                        frame.serving_mode):
        expected = atlas_xl.plan(volume, *SPLIT[1:], disaggregated=True)
        assert (cost, gpus, mode) == (expected.monthly_cost_usd, expected.gpu_count, "disaggregated")
    assert frame.monthly_cost_usd.iloc[0] != atlas_xl.plan(*SPLIT).monthly_cost_usd  # 80 GPUs, not 48


def test_a_forecasts_warm_pool_region_and_pue_are_plans():
    frame = finance.forecast(*SERVERLESS, months=3, monthly_growth=0.2, min_replicas=2, region="france", pue=1.2)
    for month in range(3):
        expected = atlas_xl.plan(frame.tokens_per_day.iloc[month], *SERVERLESS[1:], min_replicas=2, region="france",
                                 pue=1.2)
        for field in ("monthly_cost_usd", "warm_replicas", "co2e_kg_per_month", "energy_kwh_per_month"):
            assert frame[field].iloc[month] == getattr(expected, field), field
    # plan prices autoscaling by its active hours, with or without a warm pool (atlas_xl.scaling prices the pool)
    assert list(frame.warm_replicas) == [2.0] * 3
    first = atlas_xl.plan(frame.tokens_per_day.iloc[0], *SERVERLESS[1:])  # the smallest month's plan
    replicas = round(first.gpu_count / first.replica_gpus)
    with pytest.raises(InputError, match=f"min_replicas {replicas + 1} is more than the plan's {replicas} replicas"):
        finance.forecast(*SERVERLESS, months=3, monthly_growth=0.2, min_replicas=replicas + 1)  # as plan() refuses


def test_breakeven_plans_gpu_options_disaggregated_and_per_token_ones_as_they_are():
    found = finance.breakeven("steady", "deepseek_r1", "deepinfra", "nebius/b200", disaggregated=True)
    unit = atlas_xl.plan(*SPLIT, disaggregated=True).replica_gpus  # prefill + decode GPUs of one unit
    price = atlas_xl.plan(1e9, "steady", "deepseek_r1", "deepinfra").price_per_m_tokens  # offerings.csv
    # hand-computed: one unit on nebius (7.15 USD/GPU-h, offerings.csv) all month = 30 days of tokens at the API
    assert found.tokens_per_day == pytest.approx(unit * 7.15 * 720 / (30 * price / 1e6), rel=1e-8)
    assert found.cost_b_usd == atlas_xl.plan(found.tokens_per_day, "steady", "deepseek_r1", "nebius", "b200",
                                             disaggregated=True).monthly_cost_usd
    assert found.tokens_per_day > finance.breakeven("steady", "deepseek_r1", "deepinfra",
                                                    "nebius/b200").tokens_per_day  # whole units, not 8-GPU replicas
    month = finance.breakeven_month(1e9, "steady", "deepseek_r1", "deepinfra", "nebius/b200", months=24,
                                    monthly_growth=0.3, disaggregated=True)
    assert month["cost_b_usd"] == pytest.approx(unit * 7.15 * 720, rel=1e-12)  # the first month past it: one unit
    with pytest.raises(InputError, match="both bill per token — name a GPU option"):
        finance.breakeven("steady", "llama_70b", "together", "deepinfra", disaggregated=True)
    with pytest.raises(InputError, match="min_replicas changes no monthly cost .* leave min_replicas out"):
        finance.breakeven("business_hours", "llama_70b", "together", "runpod_serverless/h100_sxm", min_replicas=2)


def test_cost_range_and_commitments_keep_the_disaggregated_unit():
    unit = atlas_xl.plan(*SPLIT, disaggregated=True)
    point = finance.cost_range(*SPLIT, throughput_error=0, draws=100, disaggregated=True)
    assert point.p10 == point.p90 == unit.monthly_cost_usd  # every draw is the plan: whole units
    spread = finance.cost_range(*SPLIT, throughput_error=0.3, draws=400, disaggregated=True)
    assert {spread.gpu_count_p10 % unit.replica_gpus, spread.gpu_count_p90 % unit.replica_gpus} == {0.0}
    advice = finance.commit_advice(*SPLIT, months=36, throughput_error=0, draws=50, disaggregated=True)
    assert advice.committed_gpus == unit.gpu_count  # the same units every month, committed
    # the serving model's back-tested error is aggregated serving's: a disaggregated range needs its own
    for call in (lambda: finance.cost_range(*SPLIT, disaggregated=True),
                 lambda: finance.cost_range_periods(*SPLIT, months=3, disaggregated=True),
                 lambda: finance.commit_advice(*SPLIT, disaggregated=True)):
        with pytest.raises(InputError, match="disaggregated serving has no error .* pass throughput_error"):
            call()


def test_sensitivity_varies_around_a_disaggregated_or_regional_plan():
    frame = finance.sensitivity(*SPLIT, disaggregated=True).set_index("input")
    low = frame.loc["hourly_usd", "low"]
    assert frame.loc["hourly_usd", "cost_at_low_usd"] == atlas_xl.plan(*SPLIT, hourly_usd=low,
                                                                        disaggregated=True).monthly_cost_usd
    assert frame.base_cost_usd.iloc[0] == atlas_xl.plan(*SPLIT, disaggregated=True).monthly_cost_usd
    carbon = finance.sensitivity(*SERVERLESS, output="co2e_kg_per_month", region="france", pue=1.2).set_index("input")
    high = carbon.loc["tokens_per_day", "high"]
    assert carbon.loc["tokens_per_day", "cost_at_high_usd"] == atlas_xl.plan(
        high, *SERVERLESS[1:], region="france", pue=1.2).co2e_kg_per_month

def test_docs_examples_are_current():
    # docs/finance.md shows computed numbers: they come from these calls
    text = (Path(__file__).parents[1] / "docs" / "finance.md").read_text()
    r = atlas_xl.cost_range(2e10, "steady", "llama_70b", "runpod", "h100_sxm", price_spread=0.1)
    assert f"{r.p10:,.0f}  {r.p50:,.0f}  {r.p90:,.0f} USD/month (point estimate {r.point_usd:,.0f})" in text
    error = atlas_xl.plan(2e9, *WORKLOAD).throughput_expected_error
    assert f"({atlas_xl.plan(2e9, *WORKLOAD).throughput_basis} basis, {error:.4f}) that is " \
           f"{finance.default_throughput_error('llama_70b', 'h100_sxm', None, error):.3f}" in text
    assert f"36 × {GPUS_2B} × 0.69 × 720\n= {36 * GPUS_2B * (2.69 - 2.00) * 720:,.0f} USD" in text


def test_docs_say_which_running_arguments_each_finance_function_takes():
    # docs/finance.md's issue-19 table names, per entrance, the running arguments its worksheet function takes
    from atlas_xl import arguments
    from udfs import signatures
    text = (Path(__file__).parents[1] / "docs" / "finance.md").read_text()
    rows = [line.split("|") for line in text.splitlines() if line.startswith("| `") and "ATLAS_" in line]
    for w in signatures.FUNCTIONS:
        taken = [n for n in w.parameters if n in arguments.PLAN_RUNNING]
        if w.section != "finance" or not taken:
            continue
        cells = next(row for row in rows if f"`{w.name}`" in row[1])[2]
        assert [n for n in arguments.PLAN_RUNNING if f"`{n}`" in cells] == taken, w.name
    planner = (Path(__file__).parents[1] / "docs" / "planner.md").read_text()
    assert "`ATLAS_FORECAST`/`ATLAS_SENSITIVITY`" in planner and "`breakeven`, `cost_range`, `commit_advice`" in planner


@pytest.mark.parametrize("output", ["energy_kwh_per_month", "co2e_kg_per_month"])
def test_sensitivity_of_a_field_the_equations_do_not_give_moves_with_the_throughput(output):
    # the throughput row used to read the base plan's value for fields outside plan_equations (a swing of 0 for
    # energy and emissions); it is the plan at that throughput, in replicas of the base plan's size
    base = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm")
    frame = finance.sensitivity(2e9, "steady", "llama_70b", "runpod", "h100_sxm", output=output)
    row = frame[frame.input == "gpu_tokens_per_s"].iloc[0]
    for value, got in ((row.low, row.cost_at_low_usd), (row.high, row.cost_at_high_usd)):
        expected = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", gpu_tokens_per_s=value,
                                 tp=base.replica_gpus)
        assert got == getattr(expected, output)
    assert row.swing_usd > 0 and row.base_cost_usd == getattr(base, output)
