"""Calibration and back-test (atlas_xl/calibration.py): the user's question, on unseen GPUs and unseen models."""
import re
from pathlib import Path

import numpy as np
import pytest

import atlas_xl
from atlas_xl import calibration

CAT = atlas_xl.load_catalog()
POINTS = CAT.tables["serving_benchmarks"]
DOCS = Path(__file__).parents[1] / "docs" / "serving.md"


@pytest.fixture(scope="module")
def backtest():
    return calibration.backtest()


def _mape(frame):
    return float(frame.error.abs().mean())


def test_every_point_is_predicted_without_its_gpu_and_without_its_model(backtest):
    for split in ("gpu", "model"):
        frame = backtest[backtest.split == split]
        assert len(frame) == len(POINTS)
        # the held-out value is never in the training set: its points are exactly those of the held-out key
        assert (frame[split] == frame.held_out).all()


def test_points_ask_for_the_limit_not_the_concurrency():
    # the user's question: no point hands the model a measured concurrency, except one user alone (single stream)
    single = POINTS.benchmark == "independent_single_stream"
    assert POINTS[~single].concurrency.isna().all() and (POINTS[single].concurrency == 1).all()
    mlperf = POINTS[POINTS.benchmark.isin(["mlperf_server", "mlperf_interactive"])]
    assert mlperf.tpot_ms.notna().all() and mlperf.ttft_ms.notna().all()
    assert POINTS[POINTS.benchmark == "mlperf_offline"].tpot_ms.isna().all()
    x = POINTS[POINTS.benchmark == "inferencex"]
    assert len(x) > 100 and x.tp.isna().all() and x.tpot_ms.notna().all()
    # InferenceX points are kept where their limit binds: none is beaten by a faster point within its own limits
    for _, group in x.groupby(["gpu", "precision", "input_tokens", "output_tokens"]):
        t, lat, ttft = group.tokens_per_s.values, group.tpot_ms.values, group.ttft_ms.values
        for i in range(len(group)):
            assert not ((lat <= lat[i]) & (ttft <= ttft[i]) & (t > t[i])).any()
    assert x.notes.str.startswith("SemiAnalysis InferenceX").all() and x.source.str.contains("github.com").all()


def test_mlperf_v6_points_are_in_the_fit():
    v6 = POINTS[POINTS.notes.str.contains("MLPerf Inference v6.0")]
    # mlperf_v6_0.csv: B200, GB200, H200, MI300X, MI355X; gpt-oss-120b and DeepSeek-R1 among the models
    assert set(v6.gpu) == {"b200", "gb200", "h200", "mi300x", "mi355x"}
    assert {"gpt_oss_120b", "deepseek_r1", "mixtral_8x7b"} <= set(v6.model)
    assert v6.notes.str.contains("verified by MLCommons Association").all()


def test_back_test_errors_stay_within_what_was_reached(backtest):
    # Regression bounds at the values this model reached (docs/serving.md states them beside the targets:
    # Server ≤ 15 %, Interactive ≤ 20 %, MoE ≤ 25 %, leave-one-model-out ≤ 25 %, ratio ≤ 15 %).
    logo = backtest[backtest.split == "gpu"]
    mlperf = logo[logo.benchmark.str.startswith("mlperf")]
    assert _mape(logo[logo.benchmark == "mlperf_server"]) <= 0.24  # reached 21.4 % (before issue 17's work: 23.7 %)
    # reached 49.0 % (47.3 %): gpt-oss-120b on B200 at 15 ms (one submission, one-GPU replicas at 10 queries/s) is
    # +300 % alone; its measured output length (1 309 tokens, was fitted at 709) took the slack
    assert _mape(logo[logo.benchmark == "mlperf_interactive"]) <= 0.52
    assert _mape(mlperf[mlperf.architecture == "MoE"]) <= 0.37  # reached 34.1 % (40.9 %)
    assert _mape(logo[logo.benchmark == "inferencex_mtp"]) <= 0.42  # reached 38.5 % (48.4 %)
    assert _mape(logo[logo.benchmark == "independent_single_stream"]) <= 0.32  # reached 28.8 % (33.6 %)
    assert _mape(logo) <= 0.34  # reached 30.8 % (39.0 %)
    # leave-one-model-out: reached 38.2 % (136 %); no request shape is fitted any more, so a held-out model keeps
    # its dataset's measured lengths (gpt-oss-120b alone was 584 % when its input length was fitted)
    assert _mape(backtest[backtest.split == "model"]) <= 0.42
    model = backtest[(backtest.split == "model") & (backtest.architecture == "dense")]
    assert _mape(model) <= 0.25  # dense models the fit never saw: reached 22.2 % (37.0 %)
    assert calibration.interactive_server_ratio(backtest).error.abs().mean() <= 0.41  # reached 37.8 % (38.8 %)
    # "impossible" (0) where the measurement met its limit: InferenceX DeepSeek-R1 points at their tightest
    # p99 TTFT/TPOT (docs/serving.md, what it does not know)
    assert (logo.predicted <= 0).sum() <= 3  # reached 2 (6)


def test_independent_benchmarks_are_in_the_fit_cited_and_unflagged():
    # issue 17 item 4: independent_serving_benchmarks.csv joins the calibration, each point cited, flagged rows out
    independent = POINTS[POINTS.benchmark.str.startswith("independent")]
    assert set(independent.benchmark) == {"independent_single_stream"}  # GPUStack's bursts: derive_serving.py
    assert {"a100_80gb", "h100_sxm", "l4"} <= set(independent.gpu)
    assert independent.source.str.contains("github|gpustack|accelmark", case=False).all()
    assert independent.notes.str.contains("GPUStack|AccelMark").all()
    assert not independent.notes.str.contains("community|unverified", case=False).any()


def test_splits_table_has_every_split(backtest):
    table = calibration.splits_table(backtest)
    groups = set(table.group)
    assert {"all points", "scenario: Server", "scenario: Interactive", "vendor: amd", "vendor: nvidia", "MoE",
            "dense", "precision: fp4", "MLPerf Interactive/Server ratio"} <= groups
    assert set(table.split) == {"leave-one-GPU-out", "leave-one-model-out"}


TOLERANCE = calibration.FIT_TOLERANCE


def _in_sample_mape(params):
    prepared = calibration._prepare(CAT, POINTS)
    predicted = calibration.predict(CAT, prepared, params, calibration.stated(CAT))
    return float(np.abs(predicted / prepared["measured"] - 1.0).mean())


def test_stored_factors_are_the_fit_of_the_stored_points():
    # catalogs/serving_calibration.csv is what scripts/derive_serving.py fitted, not hand-edited; a refit on
    # another machine or library version lands within the stated tolerance
    fitted = calibration.fit(POINTS)
    for name, value in fitted.items():
        assert CAT.serving_calibration[name] == pytest.approx(value, rel=TOLERANCE["factor_rel"]), name


@pytest.mark.parametrize("start_scale", [1.0001, 0.97])
def test_the_fit_does_not_depend_on_where_it_starts(start_scale):
    # a new BLAS kernel or library version perturbs the fit's path: starting 1e-4 or 3 % away must reach the
    # same factors and move the errors by less than FIT_TOLERANCE's percentage points (unregularised, the
    # overhead split moved between 0.7 ms + 38 µs and 1.5 ms + 26 µs per layer here)
    fitted = calibration.fit(POINTS, start_scale=start_scale)
    stored = {name: CAT.serving_calibration[name] for name in fitted}
    for name, value in fitted.items():
        assert stored[name] == pytest.approx(value, rel=TOLERANCE["factor_rel"]), name
    moved = abs(_in_sample_mape(fitted) - _in_sample_mape(stored)) * 100.0
    assert moved < TOLERANCE["backtest_pp"]


def test_expected_errors_are_the_back_test(backtest):
    logo = backtest[backtest.split == "gpu"]
    assert CAT.serving_calibration["expected_error_estimated"] == pytest.approx(logo.error.abs().mean(), abs=5e-4)
    anchored = calibration.anchored_errors(POINTS)
    assert CAT.serving_calibration["expected_error_measured"] == pytest.approx(np.abs(anchored).mean(), abs=5e-4)
    # per case (issue 17 item 6): the back-test's mean over the points of that vendor and architecture
    for (vendor, architecture), group in logo.groupby(["vendor", "architecture"]):
        stored = CAT.serving_calibration[f"expected_error_estimated_{vendor}_{architecture.lower()}"]
        assert stored == pytest.approx(group.error.abs().mean(), abs=5e-4), (vendor, architecture)


def test_uncalibrated_error_is_the_leave_one_vendor_out_test():
    # the AMD points predicted by a fit on the NVIDIA points at the default software efficiency (1)
    errors, moe = calibration.unseen_vendor_errors(POINTS)
    for suffix, mask in (("", np.ones_like(moe)), ("_moe", moe), ("_dense", ~moe)):
        stored = CAT.serving_calibration[f"expected_error_uncalibrated{suffix}"]
        assert stored == pytest.approx(np.abs(errors[mask]).mean(), abs=5e-4), suffix
    # the default borrows NVIDIA's newest software, which AMD's fitted 2026 factor (< 1) says is faster: optimistic
    assert CAT.serving_calibration["software_amd_2026"] < 1 and np.median(errors) > 0


def _numbers(text):
    return [float(n) for n in re.findall(r"[-+]?\d+\.?\d*", text)]


def test_published_tables_are_the_back_test(backtest):
    # docs/serving.md publishes the back-test between markers; it must be what the code produces: the same tables,
    # every number within FIT_TOLERANCE's percentage points (a refit on another machine or library version)
    text = DOCS.read_text()
    published = re.search(r"<!-- backtest:start -->\n(.*?)<!-- backtest:end -->", text, re.S).group(1)
    generated = calibration.markdown(backtest)
    shape = lambda t: re.sub(r"[-+]?\d+\.?\d*", "#", t)  # noqa: E731
    assert shape(published) == shape(generated)
    for ours, theirs in zip(_numbers(published), _numbers(generated)):
        assert ours == pytest.approx(theirs, abs=TOLERANCE["backtest_pp"])
