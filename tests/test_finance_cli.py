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
                         "--months", "3", "--growth", "5%", "--start", "2027-01", "--max-price-age-days", "36500")
    assert code == 0 and err == ""  # a century: no stale-price line, whatever the date
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
    assert "147 M tokens/day" in out  # 2 × 2.69 × 720 / (30 × 0.88e-6) = 146,727,273, see test_finance
    assert "e+0" not in out and "e-" not in out  # numbers for people, never 1.812e+09 or 6.6e-10 %
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


# -- issue 20: options named exactly, one-sided overrides, prices with their age ----------------------
def test_breakeven_price_for_both_sides_is_refused(capsys):
    # the bug of issue 20: --billing per_token --price-per-m-tokens X made both options one offering and printed
    # "cost the same at every volume" with exit 0
    code, out, err = run(capsys, "breakeven", "steady", "llama_70b", "together", "runpod/h100_sxm",
                         "--billing", "per_token", "--price-per-m-tokens", "0.5")
    assert code == 1 and "--a-" in err and "cost the same" in err and out == ""


def test_breakeven_one_sided_override_matches_option_price(capsys):
    code, out, _ = run(capsys, "breakeven", "steady", "llama_70b", "together:per_token", "runpod/h100_sxm",
                       "--b-hourly-usd", "2.0", "--json")
    flagged = json.loads(out)
    code2, out2, _ = run(capsys, "breakeven", "steady", "llama_70b", "together:per_token", "runpod/h100_sxm:2.0",
                         "--json")
    suffixed = json.loads(out2)
    # one 2-GPU replica (least cost) at 2.00 USD/h: 2 × 2.00 × 720 = 2,880 USD/month; Together 0.88 USD/Mtok
    # × 30 days → 2,880 / 2.64e-5 = 109.09 M tokens/day (hand-computed)
    assert code == code2 == 0
    assert flagged["tokens_per_day"] == pytest.approx(2 * 2.0 * 720 / (30 * 0.88e-6), rel=1e-6)
    assert suffixed["tokens_per_day"] == pytest.approx(flagged["tokens_per_day"], rel=1e-9)
    assert flagged["price_as_of_b"] == "given" and flagged["price_as_of_a"] == "2026-05-08"


def test_breakeven_bare_platform_says_what_it_took(capsys):
    code, out, _ = run(capsys, "breakeven", "steady", "llama_70b", "together", "runpod/h100_sxm",
                       "--max-price-age-days", "36500")
    assert code == 0 and "took the per-token API" in out and "together/h100_sxm" in out


def test_stale_prices_warn_on_stderr(capsys):
    code, out, err = run(capsys, "forecast", "1B", "steady", "llama_70b", "together", "--months", "2",
                         "--max-price-age-days", "0")
    assert code == 0 and "warning: the price of together is from 2026-05-08" in err and err.count("\n") == 1
    code, out, err = run(capsys, "forecast", "1B", "steady", "llama_70b", "together", "--months", "2",
                         "--max-price-age-days", "36500")
    assert code == 0 and err == "" and "price as of 2026-05-08" in out


def test_rank_flags_stale_prices(capsys):
    code, out, err = run(capsys, "rank", "2B", "steady", "llama_70b", "--max-price-age-days", "36500", "--csv")
    rows = pd.read_csv(__import__("io").StringIO(out))
    assert code == 0 and {"price_as_of", "price_age_days", "price_stale"} <= set(rows.columns)
    assert rows.loc[rows.price_as_of == "undated", "price_stale"].all()  # undated: always stale
    assert not rows.loc[rows.price_as_of != "undated", "price_stale"].any()
    code, out, err = run(capsys, "rank", "2B", "steady", "llama_70b", "--max-price-age-days", "0")
    assert code == 0 and " !" in out and "older than 0 days" in err


def test_cost_range_command_periods_and_point_reason(capsys):
    code, out, err = run(capsys, "cost-range", "200M", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                         "--months", "3", "--draws", "500", "--max-price-age-days", "36500")
    assert code == 0 and "Quarters:" in out and "Fiscal years:" in out and "year 1 (part: 3 of 12 months)" in out
    assert "every draw needs the same GPUs (2 in month 1)" in out  # one point, and why
    code, out, _ = run(capsys, "cost-range", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                       "--months", "6", "--start", "2027-01", "--fiscal-year-start", "4", "--draws", "500", "--json")
    periods = {p["period"] for p in json.loads(out)["periods"]}
    assert {"2027-01", "FY2027 Q4", "FY2028 Q1", "FY2027", "FY2028"} <= periods  # April start: Jan-Mar is FY2027 Q4


def test_sensitivity_and_commit_commands(capsys):
    code, out, _ = run(capsys, "sensitivity", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                       "--max-price-age-days", "36500")
    # largest swing first, the volume shown for people (2 B, not 2e+09)
    assert code == 0 and "Tokens per day" in out and "2 B" in out
    # labels and whole dollars as the report's Sensitivity sheet shows them (before: 'monthly_cost_usd at low',
    # '11,620.80'); 2 × 2.69 × 720 = 3,873.60 USD, one 2-GPU replica more (docs/finance.md, hand-computed)
    # the price's swing: 6 GPUs × (2.959 − 2.421) USD/h × 720 h = 2,324.16, shown as whole dollars
    assert "Monthly cost at low" in out and "monthly_cost_usd" not in out and "$2,324" in out and ".16" not in out
    assert "Monthly cost [USD/month] at the base: $11,621;" in out  # 6 GPUs × 2.69 × 720 = 11,620.80
    rows = [line.split() for line in out.splitlines()[1:]]
    swings = [float(r[-1].strip("$").replace(",", "")) for r in rows
              if r and r[-1].strip("$").replace(",", "").replace(".", "").isdigit()]
    assert len(swings) == 8 and swings == sorted(swings, reverse=True) and swings[0] > 0
    code, out, _ = run(capsys, "commit", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--months",
                       "36", "--draws", "300", "--throughput-error", "0", "--json")
    advice = json.loads(out)
    gpus = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm").gpu_count  # needed every month
    assert code == 0 and advice["term"] == "3y" and advice["committed_gpus"] == gpus
    assert advice["expected_savings_usd"] == pytest.approx(36 * gpus * (2.69 - 2.00) * 720)


def test_prices_import_and_currency(capsys, tmp_path):
    quote = tmp_path / "quote.csv"
    quote.write_text("platform,gpu,model,billing,currency,hourly,source,as_of,notes\n"
                     "acme,h100_sxm,,dedicated,EUR,1.75,contract ACME-1,2026-11-15,negotiated\n")
    folder = tmp_path / "cat"
    code, out, err = run(capsys, "prices", "import", str(quote), "--to", str(folder))
    assert code == 0 and "1 imported price" in out
    # the EUR rate used (ECB 2026-04-13) is 216 days older than the quote of 2026-11-15 (hand-counted)
    assert "warning: row 2: the EUR rate used is of 2026-04-13, 216 days before" in err and err.count("\n") == 1
    written = pd.read_csv(folder / "offerings.csv")
    row = written[written.platform == "acme"].iloc[0]
    # 1.75 EUR / (0.8559 EUR per USD: ECB 2026-04-13, the newest day on or before the quote's 2026-11-15,
    # 1 / 1.1684) = 2.0447 USD (hand-computed)
    assert row.hourly_usd == pytest.approx(1.75 * 1.1684, abs=1e-6) and "converted from EUR" in row.notes
    code, out, err = run(capsys, "prices", "import", str(quote), "--to", str(folder))
    assert code == 1 and "--force" in err  # never overwrites unasked
    code, out, err = run(capsys, "forecast", "1B", "steady", "llama_70b", "acme", "--catalog", str(folder),
                         "--months", "1", "--currency", "EUR", "--json")
    month = json.loads(out)["months"][0]
    assert code == 0 and month["monthly_cost_eur"] == pytest.approx(month["monthly_cost_usd"] / 1.1684)
    assert "FX rate EUR is from 2026-04-13" in err  # the newest ECB day shipped, older than 90 days


def test_plan_states_its_price_date_and_warns_when_stale(capsys):
    # the runpod/h100_sxm offerings row is dated 2026-09-25 (catalogs/offerings.csv)
    code, out, err = run(capsys, "plan", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--json",
                         "--max-price-age-days", "36500")
    assert code == 0 and err == "" and json.loads(out)["price_as_of"] == "2026-09-25"
    code, out, err = run(capsys, "plan", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                         "--max-price-age-days", "0")
    assert code == 0 and "warning: the price of runpod/h100_sxm is from 2026-09-25" in err and err.count("\n") == 1
    code, out, err = run(capsys, "plan", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                         "--hourly-usd", "2", "--max-price-age-days", "0", "--json")
    assert code == 0 and err == "" and json.loads(out)["price_as_of"] == "given"  # the user's price has no age


def test_hybrid_states_both_price_dates_and_warns_when_stale(capsys):
    # before the fix: hybrid printed neither price's date and no warning, although together's API price is
    # from 2026-05-08 (catalogs/offerings.csv), older than the 90-day limit on any day after 2026-08-06
    code, out, err = run(capsys, "hybrid", "2B", "bursty", "llama_70b", "runpod", "--gpu", "h100_sxm",
                         "--burst-platform", "together", "--json", "--max-price-age-days", "36500")
    record = json.loads(out)
    # the runpod/h100_sxm and together/llama_70b rows' as_of (catalogs/offerings.csv)
    assert code == 0 and "warning" not in err  # (a named pattern's note is on stderr too)
    assert (record["price_as_of"], record["api_price_as_of"]) == ("2026-09-25", "2026-05-08")
    code, out, err = run(capsys, "hybrid", "2B", "bursty", "llama_70b", "runpod", "--gpu", "h100_sxm",
                         "--burst-platform", "together", "--max-price-age-days", "0")
    assert code == 0 and "warning: the price of together/llama_70b is from 2026-05-08" in err
    assert "warning: the price of runpod/h100_sxm is from 2026-09-25" in err and err.count("warning:") == 2


SPLIT = ("30B", "steady", "deepseek_r1", "nebius", "--gpu", "b200")  # 48 GPUs aggregated, 80 disaggregated
SPLIT_ARGS = (3e10, "steady", "deepseek_r1", "nebius", "b200")
SERVERLESS = ("2B", "business_hours", "llama_70b", "runpod_serverless", "--gpu", "h100_sxm")
SERVERLESS_ARGS = (2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm")
CARBON = ("--region", "france", "--min-replicas", "1", "--pue", "1.2")


def test_finance_commands_take_disaggregated_region_and_a_warm_pool(capsys):
    # issue 19: --disaggregated on forecast, breakeven, cost-range, sensitivity and commit; --region and
    # --min-replicas (and --pue) on forecast and sensitivity, whose output may be any plan field
    code, out, _ = run(capsys, "forecast", *SPLIT, "--months", "2", "--growth", "50%", "--disaggregated", "--json")
    expected = finance.forecast(*SPLIT_ARGS, months=2, monthly_growth=0.5, disaggregated=True)
    months = json.loads(out)["months"]
    assert code == 0 and [m["monthly_cost_usd"] for m in months] == list(expected.monthly_cost_usd)
    assert [m["serving_mode"] for m in months] == ["disaggregated"] * 2
    code, out, _ = run(capsys, "forecast", *SERVERLESS, "--months", "2", *CARBON, "--json")
    expected = finance.forecast(*SERVERLESS_ARGS, months=2, region="france", min_replicas=1, pue=1.2)
    for month, (_, row) in zip(json.loads(out)["months"], expected.iterrows()):
        for field in ("warm_replicas", "energy_kwh_per_month", "co2e_kg_per_month"):
            assert month[field] == pytest.approx(row[field], rel=1e-12), field
    code, out, _ = run(capsys, "breakeven", "steady", "deepseek_r1", "deepinfra", "nebius/b200", "--disaggregated",
                       "--json")
    assert code == 0 and json.loads(out)["tokens_per_day"] == pytest.approx(
        finance.breakeven("steady", "deepseek_r1", "deepinfra", "nebius/b200", disaggregated=True).tokens_per_day,
        rel=1e-12)
    code, out, _ = run(capsys, "cost-range", *SPLIT, "--months", "2", "--draws", "300", "--throughput-error", "30%",
                       "--disaggregated", "--json")
    expected = finance.cost_range_periods(*SPLIT_ARGS, months=2, draws=300, throughput_error=0.3, disaggregated=True)
    assert code == 0 and [p["p90_usd"] for p in json.loads(out)["periods"]] == pytest.approx(list(expected.p90_usd),
                                                                                              rel=1e-12)
    code, _, err = run(capsys, "cost-range", *SPLIT, "--disaggregated")
    assert code == 1 and "pass throughput_error (--throughput-error" in err and err.count("\n") == 1
    code, out, _ = run(capsys, "sensitivity", *SPLIT, "--disaggregated", "--json")
    expected = finance.sensitivity(*SPLIT_ARGS, disaggregated=True)
    assert code == 0 and [r["cost_at_low_usd"] for r in json.loads(out)] == pytest.approx(
        list(expected.cost_at_low_usd), rel=1e-12)
    code, out, _ = run(capsys, "sensitivity", *SERVERLESS, "--output", "co2e_kg_per_month", *CARBON, "--json")
    expected = finance.sensitivity(*SERVERLESS_ARGS, output="co2e_kg_per_month", region="france", min_replicas=1,
                                   pue=1.2)
    assert code == 0 and [r["cost_at_high_usd"] for r in json.loads(out)] == pytest.approx(
        list(expected.cost_at_high_usd), rel=1e-12)
    code, out, _ = run(capsys, "commit", *SPLIT, "--months", "36", "--draws", "50", "--throughput-error", "0",
                       "--disaggregated", "--json")
    gpus = atlas_xl.plan(*SPLIT_ARGS, disaggregated=True).gpu_count  # whole disaggregated units every month
    assert code == 0 and json.loads(out)["committed_gpus"] == gpus != atlas_xl.plan(*SPLIT_ARGS).gpu_count
