"""Own GPUs for the base, a per-token API for the rest (atlas_xl.hybrid, issue 19 item 3)."""
import numpy as np
import pandas as pd
import pytest

import atlas_xl
from atlas_xl.errors import InputError
from atlas_xl.hybrid import served_share

OWN = ("llama_70b", "runpod", "h100_sxm")


def sine_log(days=14, swing=0.8, tokens_per_hour=1e8):
    hours = pd.date_range("2027-01-04", periods=24 * days, freq="h")
    load = 1 + swing * np.sin(2 * np.pi * (hours.hour - 6) / 24)
    return pd.DataFrame({"timestamp": hours, "tokens": load * tokens_per_hour})


def spike_log(days=14, base=1e8, spike=8.0):
    """A base load of ``base`` tokens an hour and one busy hour a day (18:00) at ``spike`` × base."""
    hours = pd.date_range("2027-01-04", periods=24 * days, freq="h")
    return pd.DataFrame({"timestamp": hours, "tokens": np.where(hours.hour == 18, spike * base, base)})


def test_served_share_is_the_load_below_the_capacity():
    assert served_share([10.0, 0.0], [0.5, 0.5], [0.0, 5.0, 10.0, 20.0]) == pytest.approx([0, 0.5, 1, 1])
    assert served_share([4.0, 2.0], [0.5, 0.5], [3.0]) == pytest.approx([(3 + 2) / 6])


@pytest.mark.parametrize("pattern", ["steady", "business_hours", "bursty"])
def test_never_dearer_than_either_side_alone(pattern):
    r = atlas_xl.hybrid(2e9, pattern, *OWN, burst_platform="together")
    assert r.monthly_cost_usd <= min(r.own_only_usd, r.api_only_usd) + 1e-9
    assert r.own_share + r.api_share == pytest.approx(1)
    assert r.monthly_cost_usd == pytest.approx(r.own_monthly_usd + r.api_monthly_usd)
    assert r.own_gpu_count % r.replica_gpus == 0
    assert "give a usage log" in r.note  # a pattern only bounds the split


def test_one_sided_costs_are_the_planner_and_the_api_price():
    r = atlas_xl.hybrid(2e9, "steady", *OWN, burst_platform="together")
    own = atlas_xl.plan(2e9, "steady", *OWN, billing="dedicated")
    api = atlas_xl.plan(2e9, "steady", "llama_70b", "together", billing="per_token")
    assert r.own_only_usd == pytest.approx(own.monthly_cost_usd)  # the whole peak on own GPUs
    assert r.api_only_usd == pytest.approx(api.monthly_cost_usd)
    assert r.price_per_m_tokens == api.price_per_m_tokens and r.burst_platform == "together"


def test_a_usage_log_with_a_base_load_splits_and_saves():
    # GPUs sized for the one busy hour would sit 23 hours a day at an eighth of their load: the API takes the spike
    # (a smooth day, sine_log's ±80 %, is cheapest on own GPUs alone at today's throughput per GPU)
    log = spike_log()
    r = atlas_xl.hybrid(None, "steady", *OWN, usage=log, burst_platform="together")
    assert r.tokens_per_day == pytest.approx(3.1e9)  # 23 hours of 1e8 tokens and one of 8e8
    all_own_gpus = r.own_only_usd / (r.hourly_usd * 720)
    assert 0 < r.own_gpu_count < all_own_gpus
    assert 0 < r.own_share < 1 and r.saving_usd > 0
    # the own GPUs serve the hours below their capacity in full, the hours above up to it
    hourly = log.tokens.to_numpy() / 3600  # tokens/s
    cap = r.own_gpu_count * r.own_tokens_per_s_per_gpu
    assert r.own_share == pytest.approx(np.minimum(hourly, cap).sum() / hourly.sum())


def test_cheapest_api_by_default_and_one_line_refusals():
    r = atlas_xl.hybrid(2e9, "steady", *OWN)
    ranked = atlas_xl.rank(2e9, "steady", "llama_70b")
    assert r.burst_platform == ranked[ranked.billing == "per_token"].iloc[0].platform
    with pytest.raises(InputError, match="^tokens_per_day is missing — give a daily volume or a usage log$"):
        atlas_xl.hybrid(None, "steady", *OWN)
    with pytest.raises(InputError, match="usage log covers 3 hour"):
        atlas_xl.hybrid(None, "steady", *OWN, usage=sine_log().head(3))


def test_a_month_of_the_assumptions_prices_both_sides():
    # a 31-day month: the own GPUs' hours and the API's tokens follow the planner's assumptions, as plan() does
    a = atlas_xl.Assumptions(hours_per_month=744, days_per_month=31)
    r = atlas_xl.hybrid(2e9, "steady", *OWN, burst_platform="together", assumptions=a)
    own = atlas_xl.plan(2e9, "steady", *OWN, billing="dedicated", assumptions=a)
    api = atlas_xl.plan(2e9, "steady", "llama_70b", "together", billing="per_token", assumptions=a)
    assert r.own_only_usd == pytest.approx(own.monthly_cost_usd)
    assert r.api_only_usd == pytest.approx(api.monthly_cost_usd)
