"""Tests for atlas_xl.optimizer: cumulative hill climbing, acceptance rules, local optimum."""
import pytest

import atlas_xl
from atlas_xl import optimizer
from atlas_xl.errors import AtlasError

ALL_OFF = {"cuda_graphs": False, "gpudirect_rdma": False, "fabric": "roce", "virt": "sriov"}


def test_hill_climbing_is_cumulative():
    # the seed's optimizer judged every change against the start and kept only one; here both
    # CUDA graphs and GPUDirect RDMA (each > 3 % on the NVIDIA model) end up on
    result = atlas_xl.optimize(None, "llama_70b_chat", ALL_OFF)
    assert result.best_knobs["cuda_graphs"] and result.best_knobs["gpudirect_rdma"]
    assert len(result.trail) >= 2
    previous = result.baseline.tokens_per_sec
    for step in result.trail:  # every accepted step builds on the one before
        assert step["tokens_per_sec"] > previous * 1.03
        previous = step["tokens_per_sec"]
    assert result.best.tokens_per_sec == result.trail[-1]["tokens_per_sec"]
    assert result.best == atlas_xl.simulate(None, "llama_70b_chat", result.best_knobs)


def test_result_is_a_local_optimum():
    result = atlas_xl.optimize(None, "llama_70b_chat", ALL_OFF)
    for _, change in optimizer.candidates(result.start_knobs):
        trial = atlas_xl.simulate(None, "llama_70b_chat", {**result.best_knobs, **change})
        assert not optimizer.is_better(trial, result.best, 120.0)


def test_training_accepts_on_throughput_alone():
    result = atlas_xl.optimize("nvidia_h100_8x_nvlink", "llama_70b_finetune", sla_p99_ms=0.001)
    assert result.trail  # the SLA does not apply to training
    assert result.best.mode == "training"


def test_inference_needs_the_sla():
    strict = atlas_xl.optimize(None, "llama_70b_chat", ALL_OFF, sla_p99_ms=1.0)  # unreachable
    assert strict.trail == [] and strict.best == strict.baseline
    assert strict.best_knobs["cuda_graphs"] is False


def test_microbatch_candidates_are_absolute_and_evaluated():
    labels = [label for label, _ in optimizer.candidates({"microbatch": 2})]
    assert labels[-2:] == ["microbatch x2 (4)", "microbatch x4 (8)"]
    result = atlas_xl.optimize(None, "llama_70b_chat", ALL_OFF)
    assert result.evaluated > len(result.trail) + 1


def test_deterministic():
    a = atlas_xl.optimize(None, "llama_70b_chat", ALL_OFF, seed=3)
    b = atlas_xl.optimize(None, "llama_70b_chat", ALL_OFF, seed=3)
    assert a.best_knobs == b.best_knobs and a.best == b.best


def test_bad_sla():
    with pytest.raises(AtlasError, match="sla_p99_ms must be greater than 0 — got 0"):
        atlas_xl.optimize(sla_p99_ms=0)
