"""Calibration and back-test (atlas_xl/calibration.py): the thresholds the issue sets, on unseen GPUs."""
from pathlib import Path

import pytest

import atlas_xl
from atlas_xl import calibration

CAT = atlas_xl.load_catalog()


@pytest.fixture(scope="module")
def backtest():
    return calibration.backtest()


def test_leave_one_gpu_out_server_error_within_20_percent(backtest):
    # the bar: MAPE ≤ 20 % on output tokens/s per GPU for MLPerf Server rows the fit never saw
    server = backtest[backtest.benchmark == "mlperf_server"]
    assert len(server) >= 10 and server.gpu.nunique() >= 6
    assert server.error.abs().mean() <= 0.20


def test_interactive_server_ratio_within_25_percent(backtest):
    ratios = calibration.interactive_server_ratio(backtest)
    assert len(ratios) >= 5
    assert ratios.error.abs().mean() <= 0.25


def test_every_point_is_predicted_without_its_gpu(backtest):
    points = CAT.tables["serving_benchmarks"]
    assert len(backtest) == len(points)
    # a point predicted 0 is one whose weights do not fit the memory rule (usable = 90 % of memory):
    # InferenceX ran DeepSeek-R1 FP8 (671 GB) on 4 × B200 (720 GB); they count as -100 % errors
    zero = backtest[backtest.predicted <= 0]
    assert set(zero.gpu) <= {"b200"} and (zero.model == "deepseek_r1").all() and len(zero) <= 4
    table = calibration.summary(backtest)
    assert "all" in table.index and "mlperf_server" in table.columns


def test_stored_factors_are_the_fit_of_the_stored_points():
    # catalogs/serving_calibration.csv is what scripts/derive_serving.py fitted, not hand-edited
    fitted = calibration.fit(CAT.tables["serving_benchmarks"])
    for name, value in fitted.items():
        assert CAT.serving_calibration[name] == pytest.approx(value, rel=2e-3, abs=1e-3), name


def test_expected_errors_are_the_back_test(backtest):
    assert CAT.serving_calibration["expected_error_estimated"] == pytest.approx(
        backtest.error.abs().mean(), abs=5e-4)
    anchored = calibration.anchored_errors(CAT.tables["serving_benchmarks"])
    assert CAT.serving_calibration["expected_error_measured"] == pytest.approx(abs(anchored).mean(), abs=5e-4)


def test_published_table_is_the_back_test(backtest):
    # docs/serving.md publishes the back-test; it must be the one the code produces
    text = (Path(__file__).parents[1] / "docs" / "serving.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| **all** |"))
    published = [float(c.strip(" *")) for c in row.split("|")[2:-1]]
    table = calibration.summary(backtest)
    assert published == pytest.approx(list(table.loc["all"]), abs=0.05)
