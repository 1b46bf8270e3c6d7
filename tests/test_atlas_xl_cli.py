"""Tests for the atlas-xl command (atlas_xl/cli.py)."""
import csv
import io
import json
import shutil
import subprocess
import sys

import pytest

import atlas_xl
import atlas_xl_cli as cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rank_table_default(capsys):
    code, out, err = run(capsys, "rank", "2B", "steady", "llama_70b", "--top", "3")
    assert code == 0 and all("prices in this ranking are older" in line for line in err.splitlines())  # issue 20
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["#", "platform", "gpu", "billing"]
    assert len(lines) == 4
    best = atlas_xl.rank(2e9, "steady", "llama_70b").iloc[0]
    assert best.platform in lines[1]


def test_rank_json_matches_library(capsys):
    code, out, _ = run(capsys, "rank", "500M", "bursty", "llama_8b", "--latency-ms", "200", "--json")
    records = json.loads(out)
    frame = atlas_xl.rank(5e8, "bursty", "llama_8b", latency_ms=200)
    assert [r["platform"] for r in records] == list(frame.platform)
    assert records[0]["monthly_cost_usd"] == pytest.approx(frame.monthly_cost_usd.iloc[0])
    assert records[0]["penalty_usd"] == frame.penalty_usd.iloc[0] and "score_usd" not in records[0]
    per_token = [r for r in records if r["billing"] == "per_token"][0]
    assert per_token["gpu_count"] is None  # NaN → null, valid JSON


def test_plan_csv_and_json(capsys):
    code, out, _ = run(capsys, "plan", "2e9", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--csv")
    rows = {r["field"]: r for r in csv.DictReader(io.StringIO(out))}
    expected = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm")
    assert rows["gpu_count"]["value"] == f"{expected.gpu_count:g}" and rows["monthly_cost_usd"]["units"] == "USD/month"
    code, out, _ = run(capsys, "plan", "2e9", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--json")
    assert json.loads(out)["monthly_cost_usd"] == pytest.approx(expected.monthly_cost_usd)


def test_plan_overrides_without_catalog_row(capsys):
    code, out, _ = run(capsys, "plan", "2e9", "steady", "any", "mycloud", "--billing", "dedicated",
                       "--gpu-tokens-per-s", "15000", "--hourly-usd", "4", "--json")
    assert code == 0
    assert json.loads(out)["gpu_count"] == 2  # spec numbers, see test_planner


@pytest.mark.parametrize("argv, message", [
    (["plan", "2B", "steady", "llama70", "runpod"], "unknown model 'llama70' — did you mean llama_70b"),
    (["rank", "2B", "stedy", "llama_70b"], "unknown pattern 'stedy'"),
    (["rank", "2B", "steady", "llama_70b", "--catalog", "/no/such"], "catalog folder '/no/such' does not exist"),
    (["catalog", "list", "prices"], "unknown catalog table 'prices'"),
])
def test_errors_one_line_nonzero(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["plan", "-5", "steady", "llama_70b", "runpod"], "tokens_per_day must be greater than 0"),
    (["optimize", "--sla-p99-ms", "-3"], "--sla-p99-ms must be greater than 0"),
])
def test_bad_numbers_are_one_line_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and err.count("\n") == 1


def test_bad_volume_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["rank", "lots", "steady", "llama_70b"])
    assert info.value.code == 2
    assert "'lots' is not a token volume" in capsys.readouterr().err


@pytest.mark.parametrize("text, value", [("2e9", 2e9), ("2,000,000", 2e6), ("2B", 2e9), ("500m", 5e8), ("1.5k", 1500)])
def test_parse_volume(text, value):
    assert cli.parse_volume(text) == value


def test_catalog_commands(capsys, tmp_path):
    code, out, _ = run(capsys, "catalog", "validate")
    assert code == 0 and out.startswith("catalog OK:")
    code, out, _ = run(capsys, "catalog", "list")
    assert "patterns: steady, business_hours, bursty" in out
    code, out, _ = run(capsys, "catalog", "list", "patterns", "--csv")
    assert out.splitlines()[0].startswith("pattern,active_ratio")
    target = tmp_path / "export"
    code, out, _ = run(capsys, "catalog", "export", str(target))
    assert code == 0 and (target / "offerings.csv").exists()
    code, out, err = run(capsys, "catalog", "export", str(target))
    assert code == 1 and "pass --force" in err  # never overwrite silently
    code, out, _ = run(capsys, "catalog", "validate", "--catalog", str(target))
    assert code == 0


def test_malformed_catalog_one_line(capsys, tmp_path):
    (tmp_path / "patterns.csv").write_text("pattern,active_ratio\nsteady,x\n")
    code, out, err = run(capsys, "rank", "2B", "steady", "llama_70b", "--catalog", str(tmp_path))
    assert code == 1 and "patterns.csv: missing column" in err


COMMANDS = sorted(next(a for a in cli.build_parser()._actions if a.dest == "command").choices)


def test_the_commands():
    assert COMMANDS == sorted(["plan", "rank", "estimate", "backtest", "catalog", "simulate", "schedule", "optimize",
                               "optimize-workbook", "report", "recalc", "doctor", "forecast", "breakeven",
                               "pattern", "sweep", "cost-range", "sensitivity", "commit", "prices", "footprint",
                               "scaling", "hybrid"])


def test_estimate_command(capsys):
    code, out, _ = run(capsys, "estimate", "llama_70b", "h200", "--tpot-ms", "40", "--ttft-ms", "450", "--json")
    record = json.loads(out)
    expected = atlas_xl.estimate("llama_70b", "h200", tpot_ms=40, ttft_ms=450)
    assert code == 0 and record["output_tokens_per_s_per_gpu"] == pytest.approx(expected.output_tokens_per_s_per_gpu)
    assert record["basis"] == "measured" and record["tpot_ms"] <= 40
    code, out, _ = run(capsys, "estimate", "llama_70b", "a100_80gb")
    assert code == 0 and "estimated" in out and "tokens/s/GPU" in out
    code, _, err = run(capsys, "estimate", "llama_70b", "h100_sxm", "--precision", "int4")
    assert code == 1 and err.count("\n") == 1 and "unknown precision 'int4'" in err


def test_plan_and_rank_take_the_request_shape(capsys):
    code, out, _ = run(capsys, "plan", "2B", "steady", "llama_70b", "runpod", "--gpu", "h200", "--tpot-ms", "40",
                       "--input-tokens", "8000", "--output-tokens", "1000", "--json")
    record = json.loads(out)
    assert code == 0 and record["input_tokens"] == 8000 and record["throughput_basis"] == "measured"
    code, out, _ = run(capsys, "rank", "2B", "steady", "llama_70b", "--precision", "best", "--csv")
    frame = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {r["precision"] for r in frame if r["gpu"] == "b200"} == {"fp4"}


def test_backtest_command(capsys):
    code, out, _ = run(capsys, "backtest")
    assert code == 0 and "Leave-one-GPU-out" in out and "Leave-one-model-out" in out and "Server" in out \
        and "SemiAnalysis InferenceX" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_example(capsys, command):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert "example" in out and f"atlas-xl {command}" in out


def test_installed_entry_point():
    exe = shutil.which("atlas-xl")
    assert exe, "atlas-xl is not on PATH — install the package with pip install -e ."
    done = subprocess.run([exe, "rank", "1B", "steady", "llama_8b", "--top", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-m", "atlas_xl_cli", "plan", "1B", "nope", "llama_8b", "groq"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "unknown pattern" in done.stderr and "Traceback" not in done.stderr


# -- simulator commands ------------------------------------------------------------------------------
def test_simulate_json_matches_library(capsys):
    code, out, _ = run(capsys, "simulate", "nvidia_h100_8x_nvlink", "llama_70b_chat", "--knob", "cuda_graphs=true",
                       "--seed", "4", "--json")
    record = json.loads(out)
    expected = atlas_xl.simulate("nvidia_h100_8x_nvlink", "llama_70b_chat", {"cuda_graphs": True}, seed=4)
    assert code == 0 and record["tokens_per_sec"] == expected.tokens_per_sec
    assert record["knob_cuda_graphs"] is True


def test_simulate_set_overrides_and_table(capsys):
    code, out, _ = run(capsys, "simulate", "--set", "parallelism.dp=2", "--set", "sequence.generate=128")
    assert code == 0 and "tokens_per_sec" in out
    expected = atlas_xl.simulate(None, {"name": "llama_70b_chat", "parallelism": {"dp": 2}, "sequence": {"generate": 128}})
    assert f"{expected.tokens_per_sec:,.4g}" in out


def test_schedule_and_optimize_commands(capsys):
    code, out, _ = run(capsys, "schedule", "nvidia_h100_cluster_32n", "gpt5_1t_inference")
    assert code == 0 and "surge" in out and "queue_wait_ms.p99" in out
    code, out, _ = run(capsys, "schedule", "--json")
    assert json.loads(out)["phases"][0]["phase"] == "business_peak"
    code, out, _ = run(capsys, "optimize", "--knob", "cuda_graphs=false", "--json")
    result = json.loads(out)
    assert result["best_knobs"] == atlas_xl.optimize(knobs={"cuda_graphs": False}).best_knobs
    code, out, _ = run(capsys, "optimize", "--sla-p99-ms", "1")
    assert "no change improved throughput" in out


def test_saturated_json_is_valid(capsys):
    code, out, _ = run(capsys, "simulate", "--set", "arrival.requests_per_sec=100", "--json")
    record = json.loads(out)  # inf is not JSON: written as null
    assert record["saturated"] is True and record["p99_ms"] is None


@pytest.mark.parametrize("argv, message", [
    (["simulate", "nvidia_h100_8x"], "unknown target 'nvidia_h100_8x'"),
    (["simulate", "nvidia_h100_8x_nvlink", "nope"], "unknown workload 'nope'"),
    (["simulate", "--set", "parallelism.tp=0"], "parallelism.tp: 0 must be greater than 0"),
    (["simulate", "--set", "sequence.prompt=-1"], "sequence.prompt: -1 is negative"),
    (["simulate", "nvidia_h100_8x_nvlink", "gpt5_1t_train"], "needs 1024 accelerators but target"),
    (["schedule", "--knob", "virt"], "needs key=value"),
])
def test_simulation_errors_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 1 and message in err and err.count("\n") == 1


def test_workload_files(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: w\nparallelism: {tp: 2\n")
    code, _, err = run(capsys, "simulate", "nvidia_h100_8x_nvlink", str(bad))
    assert code == 1 and "is not valid YAML/JSON at line" in err
    good = tmp_path / "w.json"
    good.write_text(json.dumps({"name": "mine", "parallelism": {"tp": 1, "pp": 1, "dp": 8},
                                "sequence": {"prompt": 256, "generate": 64}}))
    code, out, _ = run(capsys, "simulate", "nvidia_h100_8x_nvlink", str(good), "--json")
    assert code == 0 and json.loads(out)["workload"] == "mine"
    code, _, err = run(capsys, "simulate", "nvidia_h100_8x_nvlink", str(tmp_path / "missing.yaml"))
    assert code == 1 and "cannot read workload file" in err


@pytest.mark.parametrize("argv, code, message", [  # issues 12 and 13: one clear line each
    (["plan", "2", "billion", "steady", "llama_70b", "runpod"], 2, "'2 billion' must be one word — write 2B"),
    (["plan", "-2B", "steady", "llama_70b", "runpod"], 2, "'-2B': a negative value is not allowed"),
    (["rank", "2B", "steady", "llama_70b", "--top", "-1"], 2, "--top must be 1 or more — got -1"),
    (["rank", "2B", "steady", "llama_70b", "--top", "0"], 2, "--top must be 1 or more — got 0"),
    (["simulate", "--set", "foo=1"], 1, "--set foo: unknown workload key — known: mode"),
    (["report", "-o", "r.csv"], 1, "output 'r.csv' must end in .xlsx"),
    (["plan", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--gpu-count", "2.5"], 2,
     "--gpu-count must be a whole number — got 2.5"),
    (["plan", "1e30", "steady", "llama_70b", "runpod"], 2, "above the plausible limit of 1e+15 tokens/day"),
    (["rank", "1e308", "steady", "llama_70b", "--json"], 2, "above the plausible limit"),
    (["plan", "2B", "steady", "llama_70b", "runpod", "--gpu-tokens-per-s", "5e-324"], 2, "too close to zero"),
    (["simulate", "--knob", "microbatch=1e400"], 1, "--knob microbatch '1e400' is beyond the range of numbers"),
    (["simulate", "--knob", "microbatch=nan"], 1, "--knob microbatch 'nan' is not a finite number"),
    (["report", "-o", "r.xlsx", "--title", "a\x07b"], 2, "--title contains the control character U+0007"),
    (["simulate", "--set", "model_family=a\x01b"], 1, "control character U+0001"),
    (["rank", "\u0662B", "steady", "llama_70b"], 2, "digits of another script"),
    (["rank", "1,5B", "steady", "llama_70b"], 2, "decimal comma — write 1.5B"),
    (["simulate", "--seed", "1e30"], 2, "--seed"),
])
def test_cli_edge_cases_one_line(capsys, tmp_path, monkeypatch, argv, code, message):
    monkeypatch.chdir(tmp_path)
    try:
        got = cli.main(argv)
    except SystemExit as exit_:
        got = exit_.code
    err = capsys.readouterr().err
    assert got == code and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "r.csv").exists()


def test_implausible_penalty_is_said(capsys):
    code, out, err = run(capsys, "plan", "1e15", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                         "--gpu-count", "4")
    assert code == 0 and "above any plausible budget" in err


def test_json_never_holds_infinity_or_nan(capsys):
    code, out, _ = run(capsys, "plan", "1e15", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm",
                       "--gpu-count", "4", "--json")
    json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    code, out, _ = run(capsys, "rank", "1e15", "steady", "llama_70b", "--json")
    json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))


def test_set_values_use_the_one_parser(capsys):
    code, out, _ = run(capsys, "simulate", "--set", "sequence.prompt=2k", "--json")
    same = json.loads(out)
    code, out, _ = run(capsys, "simulate", "--set", "sequence.prompt=2000", "--json")
    assert code == 0 and json.loads(out) == same


def test_tp_option_reaches_plan_rank_and_forecast(capsys):
    # issue 17: the replica size can be given; without it the planner's least-cost size is used
    code, out, _ = run(capsys, "plan", "3B", "steady", "gpt_oss_120b", "runpod", "--gpu", "b200", "--tp", "4", "--json")
    record = json.loads(out)
    assert code == 0 and record["replica_gpus"] == 4 and record["replica_choice"] == "given: tp 4"
    code, out, _ = run(capsys, "rank", "3B", "steady", "gpt_oss_120b", "--platform", "runpod", "--tp", "4", "--json")
    assert {r["replica_gpus"] for r in json.loads(out) if r["billing"] != "per_token"} == {4}
    code, out, _ = run(capsys, "forecast", "3B", "steady", "gpt_oss_120b", "runpod", "--gpu", "b200", "--tp", "4",
                       "--months", "2", "--json")
    assert code == 0 and all(m["replica_gpus"] == 4 for m in json.loads(out)["months"])
    code, _, err = run(capsys, "plan", "3B", "steady", "gpt_oss_120b", "runpod", "--gpu", "h100_sxm", "--tp", "1")
    assert code != 0 and "give tp ≥ 2" in err and err.count("\n") == 1


def test_ctrl_c_in_any_command_is_one_line_not_a_traceback(capsys, monkeypatch):
    # issue 22: Ctrl-C printed a Python traceback; every command now ends with one line and status 130
    from atlas_xl_cli import planning

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(planning, "rank", interrupted)
    assert cli.main(["rank", "2B", "steady", "llama_70b"]) == 130
    assert capsys.readouterr().err == "atlas-xl: interrupted\n"


def test_plan_and_rank_disaggregated(capsys):
    code, out, _ = run(capsys, "plan", "50B", "steady", "deepseek_r1", "nebius", "--gpu", "b200", "--disaggregated",
                       "--json")
    expected = atlas_xl.plan(5e10, "steady", "deepseek_r1", "nebius", "b200", disaggregated=True)
    assert code == 0 and json.loads(out)["serving_mode"] == "disaggregated"
    assert json.loads(out)["gpu_count"] == expected.gpu_count
    code, out, _ = run(capsys, "rank", "50B", "steady", "deepseek_r1", "--disaggregated", "--tpot-ms", "30", "--json")
    rows = json.loads(out)
    ranked = atlas_xl.rank(5e10, "steady", "deepseek_r1", tpot_ms=30, disaggregated=True)
    assert code == 0 and [r["serving_mode"] for r in rows] == list(ranked.serving_mode)
    code, _, err = run(capsys, "plan", "2B", "steady", "llama_70b", "together", "--disaggregated")
    assert code != 0 and "provider's" in err and len(err.strip().splitlines()) == 1  # one line, no traceback


def test_plan_rank_and_forecast_take_the_facility_pue(capsys):
    # --pue is the registry's pue (atlas_xl.arguments): the same value reaches plan(), rank() and forecast()
    code, out, _ = run(capsys, "plan", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--pue", "1.2",
                       "--json")
    expected = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", pue=1.2)
    default = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm")
    assert code == 0 and json.loads(out)["energy_kwh_per_month"] == pytest.approx(expected.energy_kwh_per_month)
    assert expected.energy_kwh_per_month == pytest.approx(default.energy_kwh_per_month * 1.2 / 1.58)  # ∝ PUE
    code, out, _ = run(capsys, "rank", "2B", "steady", "llama_70b", "--platform", "runpod", "--pue", "1.2", "--json")
    ranked = atlas_xl.rank(2e9, "steady", "llama_70b", platforms=["runpod"], pue=1.2)
    assert code == 0 and [r["energy_kwh_per_month"] for r in json.loads(out)] == pytest.approx(
        ranked.energy_kwh_per_month.tolist())
    code, out, _ = run(capsys, "forecast", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--months", "1",
                       "--pue", "1.2", "--json")
    assert code == 0 and json.loads(out)["months"][0]["energy_kwh_per_month"] == pytest.approx(expected.energy_kwh_per_month)
    with pytest.raises(SystemExit) as info:  # the registry's bound, as a one-line usage error
        cli.main(["plan", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm", "--pue", "0.9"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "--pue must be 1 or more — got 0.9" in err and err.count("\n") == 1
