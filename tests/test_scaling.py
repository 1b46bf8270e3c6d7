"""Cold starts, warm pools and late minutes of autoscaling plans (atlas_xl.autoscale.scaling, issue 19 item 3)."""
import math

import pytest

import atlas_xl
from atlas_xl import autoscale as sc
from atlas_xl import serving
from atlas_xl.errors import InputError

OFFICE = atlas_xl.plan(2e9, "business_hours", "llama_70b", "runpod", "h100_sxm", billing="autoscaling")


def test_cold_start_is_weights_over_bandwidth_plus_engine_start():
    assert sc.LOAD_GB_S == pytest.approx(16.06 / 18) and sc.ENGINE_START_S == 64.0  # Tensorfuse, cited
    r = atlas_xl.scaling(OFFICE)
    weights = serving.estimate("llama_70b", "h100_sxm", tp=int(OFFICE.replica_gpus)).weights_gb
    assert r.cold_start_s == pytest.approx(weights / sc.LOAD_GB_S + 64.0)
    assert atlas_xl.scaling(OFFICE, load_gb_s=10, engine_start_s=0).cold_start_s == pytest.approx(weights / 10)


def test_each_ramp_beyond_the_warm_pool_waits_one_cold_start():
    r = atlas_xl.scaling(OFFICE)  # business hours: five ramps a week, nothing warm
    assert r.ramps_per_week == 5 and r.warm_pool_usd == 0 and r.monthly_cost_usd == OFFICE.monthly_cost_usd
    assert r.late_minutes_per_month == pytest.approx(5 * 720 / 168 * r.cold_start_s / 60)
    assert r.late_capacity_share == 1.0
    one = atlas_xl.scaling(OFFICE, min_replicas=1)
    idle_hours = 720 - OFFICE.active_hours_per_month
    assert one.warm_pool_usd == pytest.approx(OFFICE.replica_gpus * OFFICE.hourly_usd * idle_hours)
    assert one.late_capacity_share == pytest.approx(1 - 1 / r.replicas)


def test_a_warm_pool_of_every_replica_costs_what_dedicated_does_and_never_waits():
    every = atlas_xl.scaling(OFFICE, min_replicas=OFFICE.gpu_count / OFFICE.replica_gpus)
    dedicated = atlas_xl.plan(2e9, "business_hours", "llama_70b", "runpod", "h100_sxm", billing="dedicated")
    assert every.late_minutes_per_month == 0
    assert every.monthly_cost_usd == pytest.approx(OFFICE.gpu_count * OFFICE.hourly_usd * 720)
    assert dedicated.gpu_count == OFFICE.gpu_count and every.monthly_cost_usd == pytest.approx(dedicated.monthly_cost_usd)


def test_unknown_ramps_are_said_not_guessed():
    bursty = atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", billing="autoscaling")
    r = atlas_xl.scaling(bursty)
    assert math.isnan(r.late_minutes_per_month) and "give ramps_per_week" in r.note
    assert atlas_xl.scaling(bursty, ramps_per_week=14).late_minutes_per_month > 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_replicas=99), rf"^min_replicas 99 is more than the plan's {OFFICE.gpu_count / OFFICE.replica_gpus:g} "
                            rf"replicas — give at most {OFFICE.gpu_count / OFFICE.replica_gpus:g}$"),
    (dict(min_replicas=-1), r"^min_replicas must be 0 or more"),
    (dict(load_gb_s=0), r"^load_gb_s must be greater than 0"),
    (dict(min_replicas=1.5), r"^min_replicas must be a whole number"),
])
def test_bad_input_is_one_line(kwargs, message):
    with pytest.raises(InputError, match=message):
        atlas_xl.scaling(OFFICE, **kwargs)


def test_per_token_plans_have_nothing_to_start():
    api = atlas_xl.plan(2e9, "steady", "llama_70b", "together", billing="per_token")
    with pytest.raises(InputError, match="bills per token: there are no replicas of yours to start"):
        atlas_xl.scaling(api)


def test_a_usage_log_measures_its_ramps():
    import pandas as pd
    hours = pd.date_range("2027-01-04", periods=24 * 14, freq="h")  # two weeks from a Monday
    tokens = [5000 if 9 <= h.hour < 17 and h.day_of_week < 5 else 0 for h in hours]
    found = atlas_xl.pattern_from_usage(pd.DataFrame({"timestamp": hours, "tokens": tokens}))
    assert found.ramps_per_week == pytest.approx(5)  # one rise a working day
    assert found.pattern_row()["ramps_per_week"] == pytest.approx(5)
