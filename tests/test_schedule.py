"""Tests for atlas_xl.schedule: per-phase scaling and overrides, duration weights, saturation."""
import math

import pytest

import atlas_xl
from atlas_xl.errors import AtlasError
from atlas_xl.schedule import duration_weighted_mean

NOISELESS = {"noise": {"amplitude": 0.0}}


def test_duration_weighted_mean():
    assert duration_weighted_mean([10.0, 40.0], [60.0, 20.0]) == pytest.approx(17.5)  # (600 + 800) / 80
    assert duration_weighted_mean([1.0, math.inf], [1.0, 1.0]) == math.inf


def test_schedule_weights_and_per_phase_records():
    r = atlas_xl.run_schedule(None, "llama_70b_chat", hardware=NOISELESS)
    assert [p.phase for p in r.phases] == ["business_peak", "launch_spike", "night"]
    weights = [600.0, 120.0, 720.0]
    assert [p.duration_minutes for p in r.phases] == weights
    for key in ("tokens_per_sec", "p50_ms", "p99_ms", "node_power_w", "flop_utilization", "step_time_ms"):
        expected = sum(w * p[key] for w, p in zip(weights, r.phases)) / sum(weights)
        assert r[key] == pytest.approx(expected), key
    assert r.duration_minutes == 1440.0
    assert r.queue_latency_ms["p99"] == r.p99_ms
    assert r.service_latency_ms["p50"] == pytest.approx(4.0)


def test_phase_scaling_follows_spec():
    base = atlas_xl.simulate(None, "llama_70b_chat", hardware=NOISELESS)
    r = atlas_xl.run_schedule(None, "llama_70b_chat", hardware=NOISELESS)
    spike, night = r.phases[1], r.phases[2]
    # spec 7: tokens × tokens_scale × autoscale_factor; power × autoscale_factor
    assert spike.tokens_per_sec == pytest.approx(base.tokens_per_sec * 1.4)
    assert spike.node_power_w == pytest.approx(base.node_power_w * 1.4)
    assert spike.step_time_ms == pytest.approx(base.step_time_ms / 1.4)
    assert night.tokens_per_sec == pytest.approx(base.tokens_per_sec * 0.5)
    # demand is the profile's share of the nominal deployment; autoscaling adds capacity
    assert spike.queue_utilization == pytest.approx(1.15 / 1.4)
    assert night.queue_utilization == pytest.approx(0.40 / 0.5)
    assert r.phases[0].queue_profile == "peak" and spike.queue_ca2 == pytest.approx(1.3 ** 2)


def test_phase_overrides_and_seeds():
    r = atlas_xl.run_schedule("nvidia_h100_cluster_32n", "gpt5_1t_inference")
    surge = r.phases[1]
    assert surge.dp == 12 and surge.queue_servers == 12  # overrides: parallelism.dp=12
    assert [p.seed for p in r.phases] == [0, 1, 2]
    again = atlas_xl.run_schedule("nvidia_h100_cluster_32n", "gpt5_1t_inference")
    assert again.tokens_per_sec == r.tokens_per_sec  # deterministic


def test_training_schedule_cost_per_token():
    r = atlas_xl.run_schedule("nvidia_h100_cluster_128n", "gpt5_1t_train")
    assert r.mode == "training" and len(r.phases) == 3
    assert r.phases[2].prompt_tokens == 16384  # finetune override
    hours = [p.duration_minutes / 60 for p in r.phases]
    cost = sum(h * (p.hourly_cost_usd + p.energy_cost_per_hour_usd) for h, p in zip(hours, r.phases))
    tokens = sum(h * 3600 * p.tokens_per_sec for h, p in zip(hours, r.phases))
    assert r.dollar_per_1k_tokens == pytest.approx(cost / tokens * 1000)
    assert math.isnan(r.queue_utilization)


def test_workload_without_phases_is_one_phase():
    r = atlas_xl.run_schedule(None, "llama_8b_api")
    # the schedule's figure is the phases' duration-weighted mean: one phase's t × 60 / 60, equal to the last bit
    # or one unit in the last place from it
    assert len(r.phases) == 1 and r.tokens_per_sec == pytest.approx(r.phases[0].tokens_per_sec, rel=1e-14)


def test_dict_schedule_and_saturated_phase():
    workload = {"name": "llama_70b_chat", "schedule": {"phases": [
        {"name": "calm", "duration_minutes": 30},
        {"name": "overload", "duration_minutes": 30, "request_profile": "spike", "autoscale_factor": 0.5}]}}
    r = atlas_xl.run_schedule(None, workload)
    assert r.phases[1].saturated and r.saturated
    assert math.isinf(r.p99_ms)  # a saturated phase is never averaged away


def test_bad_phase():
    with pytest.raises(AtlasError, match="phase 'bad': duration_minutes must be a number greater than 0"):
        atlas_xl.run_schedule(None, {"name": "llama_70b_chat", "schedule": {"phases": [
            {"name": "bad", "duration_minutes": 0}]}})
    with pytest.raises(AtlasError, match="needs key=value"):
        from atlas_xl.simulator import parse_overrides
        parse_overrides("parallelism.dp")
