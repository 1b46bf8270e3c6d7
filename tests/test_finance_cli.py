"""The finance commands of atlas-xl: forecast, breakeven, pattern, sweep — as a newcomer runs them."""
import json

import pandas as pd
import pytest

import atlas_xl
import atlas_xl_cli as cli
from atlas_xl import finance
from test_finance import synthetic_log


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_forecast_table_and_json_match_library(capsys):
    code, out, err = run(capsys, "forecast", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                         "--months", "3", "--growth", "5%", "--start", "2027-01")
    assert code == 0 and err == ""
    assert "2027-02" in out and "3 months:" in out
    code, out, _ = run(capsys, "forecast", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                       "--months", "3", "--growth", "0.05", "--json")
    doc = json.loads(out)
    expected = finance.forecast(2e9, "steady", "llama_70b", "runpod", "h100_sxm", months=3, monthly_growth=0.05)
    assert [m["monthly_cost_usd"] for m in doc["months"]] == pytest.approx(list(expected["monthly_cost_usd"]))
    assert doc["months"][0]["price_per_m_tokens"] is None  # NaN → null


def test_forecast_commitment_summary(capsys):
    code, out, _ = run(capsys, "forecast", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                       "--commitment", "3y")
    assert code == 0
    assert "pays off: month 1" in out and "market reference price" in out and "InferenceX" in out


def test_forecast_csv_has_every_column(capsys):
    code, out, _ = run(capsys, "forecast", "1B", "bursty", "llama_70b", "together", "--price-change=-20%", "--csv")
    header = out.splitlines()[0].split(",")
    assert {"month", "monthly_cost_usd", "cumulative_cost_usd", "gpu_count"} <= set(header)


@pytest.mark.parametrize("argv, words", [
    (["forecast", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--growth=-150%"], "−100 %"),
    (["forecast", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--commitment", "1y"], "no 1y commitment"),
    (["forecast", "2B", "steady", "llama_70b", "runpd"], "unknown platform"),
    (["breakeven", "steady", "llama_70b", "together", "nowhere"], "unknown platform"),
])
def test_finance_errors_are_one_line(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 1 and words in err and err.count("\n") == 1 and "Traceback" not in err


def test_breakeven_prints_volume_and_month(capsys):
    code, out, _ = run(capsys, "breakeven", "steady", "llama_70b", "together", "runpod/h100_sxm",
                       "--tokens-per-day", "100M", "--growth", "20%")
    assert code == 0
    assert "146,727,273 tokens/day" in out  # 2 × 2.69 × 720 / (30 × 0.88e-6), see test_finance
    assert "month 4" in out  # 100M × 1.2³ = 172.8M is the first month above it (1.2² → 144M)
    code, out, _ = run(capsys, "breakeven", "bursty", "llama_8b", "groq", "runpod/h100_sxm", "--json")
    assert json.loads(out)["tokens_per_day"] is None


def test_pattern_command_and_add_to_catalog(capsys, tmp_path):
    log, p = synthetic_log("bursty")
    path = tmp_path / "usage.csv"
    log.to_csv(path, index=False)
    code, out, err = run(capsys, "pattern", str(path), "--json")
    assert code == 0 and json.loads(out)["nearest_pattern"] == "bursty"
    folder = tmp_path / "cat"
    code, out, err = run(capsys, "pattern", str(path), "--name", "ours", "--add-to", str(folder))
    assert code == 0 and "added pattern 'ours'" in err
    code, out, err = run(capsys, "plan", "1B", "ours", "llama_70b", "runpod", "--gpu", "h100_sxm",
                         "--catalog", str(folder), "--json")
    assert code == 0 and json.loads(out)["pattern"] == "ours"
    code, out, err = run(capsys, "pattern", str(path), "--add-to", str(folder))
    assert code == 1 and "--force" in err  # never overwrites unasked


def test_pattern_of_a_log_without_timestamps(capsys, tmp_path):
    path = tmp_path / "usage.csv"
    pd.DataFrame({"tokens": [1, 2, 3]}).to_csv(path, index=False)
    code, _, err = run(capsys, "pattern", str(path))
    assert code == 1 and "no timestamp column" in err


def test_sweep_writes_parquet_with_progress_and_refuses_to_overwrite(capsys, tmp_path):
    scenarios = tmp_path / "scenarios.csv"
    pd.DataFrame([{"tokens_per_day": 2e9, "pattern": "steady", "model": "llama_70b", "platform": "runpod",
                   "gpu": "h100_sxm", "months": 12, "monthly_growth": 0.05},
                  {"tokens_per_day": 1e9, "pattern": "bursty", "model": "llama_70b", "platform": "together"}]
                 ).to_csv(scenarios, index=False)
    out_path = tmp_path / "results.parquet"
    code, out, err = run(capsys, "sweep", str(scenarios), "-o", str(out_path), "--workers", "1")
    assert code == 0 and "2 scenarios, 13 scenario-months, 0 failed" in out
    assert "2/2 scenarios" in err  # the progress bar
    result = pd.read_parquet(out_path)
    assert len(result) == 13
    assert result["monthly_cost_usd"].iloc[0] == atlas_xl.plan(2e9, "steady", "llama_70b", "runpod",
                                                               "h100_sxm").monthly_cost_usd
    code, _, err = run(capsys, "sweep", str(scenarios), "-o", str(out_path))
    assert code == 1 and "--force" in err


def test_sweep_with_a_failing_scenario_is_not_success(capsys, tmp_path):
    scenarios = tmp_path / "scenarios.csv"
    pd.DataFrame([{"tokens_per_day": 2e9, "pattern": "steady", "model": "llama_70b", "platform": "runpd"}]
                 ).to_csv(scenarios, index=False)
    code, out, err = run(capsys, "sweep", str(scenarios), "-o", str(tmp_path / "r.csv"), "--quiet")
    assert code == 1 and "1 scenario(s) failed" in err and "unknown platform 'runpd'" in err
    assert pd.read_csv(tmp_path / "r.csv")["error"].str.contains("runpd").all()


def test_serving_model_options_reach_plan(capsys):
    code, out, _ = run(capsys, "forecast", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--months", "2",
                       "--precision", "bf16", "--tpot-ms", "50", "--json")
    assert code == 0
    expected = finance.forecast(2e9, "steady", "llama_70b", "runpod", "h100_sxm", months=2, precision="bf16",
                                tpot_ms=50)
    month = json.loads(out)["months"][0]
    assert month["precision"] == "bf16" and month["monthly_cost_usd"] == expected["monthly_cost_usd"].iloc[0]


def test_forecast_of_monthly_volumes(capsys):
    code, out, _ = run(capsys, "forecast", "1B,1.5B,3B", "steady", "llama_70b", "together", "--json")
    months = json.loads(out)["months"]
    assert code == 0 and [m["tokens_per_day"] for m in months] == [1e9, 1.5e9, 3e9]
    code, _, err = run(capsys, "forecast", "1B,2B", "steady", "llama_70b", "together", "--months", "5")
    assert code == 1 and "2 monthly volumes but months = 5" in err
