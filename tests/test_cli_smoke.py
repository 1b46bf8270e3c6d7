"""Every atlas-xl command runs once through ``atlas_xl_cli.main`` on real files (issue 22, item 9):
exit 0 and a sane output, or the documented one-line error. A meta-test keeps the table complete
when a command is added."""
import json
import re

import pandas as pd
import pytest

import atlas_xl
import atlas_xl_cli as cli
from workbook import template


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Real inputs: the template workbook build.py writes, a usage log, a scenario table and file."""
    folder = tmp_path_factory.mktemp("smoke")
    hours = pd.date_range("2026-01-05", periods=24 * 14, freq="h")
    pd.DataFrame({"timestamp": hours.astype(str),
                  "tokens": [5000 if 9 <= h.hour < 17 and h.day_of_week < 5 else 200 for h in hours]}
                 ).to_csv(folder / "usage.csv", index=False)
    pd.DataFrame([{"tokens_per_day": 2e9, "pattern": "steady", "model": "llama_70b", "platform": "runpod",
                   "gpu": "h100_sxm", "months": 3}]).to_csv(folder / "scenarios.csv", index=False)
    (folder / "scenario.yaml").write_text("title: Smoke\nworkload: {tokens_per_day: 2e9, pattern: steady, "
                                          "model: llama_70b}\nofferings: [runpod, together]\nschedule: false\n")
    return {"tmp": folder, "template": template.build_template(folder / template.TEMPLATE_NAME),
            "usage": folder / "usage.csv", "scenarios": folder / "scenarios.csv",
            "scenario": folder / "scenario.yaml"}


SMOKE = [  # (command line with {placeholders}, exit status, a line the output must match)
    ("--version", 0, r"^atlas-xl \d+\.\d+"),
    ("plan 2B steady llama_70b runpod --gpu h100_sxm", 0, r"monthly_cost_usd\s+[\d,.]+\s+USD/month"),
    ("plan 2B steady llama_70b runpd --gpu h100_sxm", 1, r"^atlas-xl: error: unknown platform 'runpd' — did you mean runpod\? — known: "),
    ("estimate llama_70b h100_sxm --json", 0, r'"output_tokens_per_s_per_gpu": [\d.]+'),
    ("backtest", 0, r"^Back-test at the user's question"),
    ("rank 2B steady llama_70b --top 3", 0, r"^\s*1 +\w+"),
    ("simulate nvidia_h100_8x_nvlink llama_70b_chat", 0, r"tokens_per_sec\s+[\d,.]+\s+tokens/s"),
    ("schedule nvidia_h100_cluster_32n gpt5_1t_inference", 0, r"^\s*phase\s+duration_minutes"),
    ("optimize nvidia_h100_8x_nvlink llama_70b_chat --sla-p99-ms 50", 0, r"^best: +\{"),
    ("optimize-workbook {template} -o {tmp}/optimized.xlsm", 0, r"^wrote .*optimized\.xlsm: best knobs"),
    ("report -o {tmp}/plan.xlsx --scenario {scenario}", 0, r"^wrote .*plan\.xlsx$"),
    ("report -o {tmp}/plan.csv", 1, r"^atlas-xl: error: output '.*plan\.csv' must end in \.xlsx"),
    ("recalc {template} --set TokensPerDay=5e9 -o {tmp}/whatif.xlsm", 0,
     r"^wrote .*whatif\.xlsm: \d+ formula cells, 1 overrides, 0 errors"),
    ("doctor", 0, r"Python side ready\."),
    ("catalog list", 0, r"^models: .*llama_70b"),
    ("catalog list offerings --csv", 0, r"^platform,gpu,model,billing,"),
    ("catalog validate", 0, r"^catalog OK: "),
    ("catalog export {tmp}/catalogs", 0, r"^wrote \d+ tables to "),
    ("forecast 2B steady llama_70b runpod --gpu h100_sxm --months 3 --growth 5%", 0, r"^3 months: [\d,]+ USD"),
    ("breakeven steady llama_70b together runpod/h100_sxm", 0, r"^break-even: [\d.]+ [kMBT] tokens/day"),
    ("cost-range 2B steady llama_70b runpod --gpu h100_sxm --months 3 --draws 200", 0, r"^Fiscal years:"),
    ("sensitivity 2B steady llama_70b runpod --gpu h100_sxm", 0, r"^\s*Price per GPU-hour\s+2\.69"),
    ("commit 2B steady llama_70b runpod --gpu h100_sxm --draws 200", 0, r"^Commit \d+ GPUs for 3y"),
    ("prices stale", 0, r"prices older than 90 days or undated"),
    ("pattern {usage}", 0, r"^\s*nearest_pattern\s+[a-z_]+"),
    ("footprint 2B steady llama_70b runpod --gpu h100_sxm --region germany", 0,
     r"^\s*co2e_kg_per_month\s+[\d,]+ kgCO2e/month"),
    ("footprint 2B steady llama_70b runpod --gpu h100_sxm --region mars", 1, r"^atlas-xl: error: unknown region 'mars'"),
    ("hybrid x steady llama_70b runpod", 2, r"^atlas-xl hybrid: error: argument tokens_per_day: 'x' is not a token volume — write e.g. 2e9"),
    ("scaling 2B business_hours llama_70b runpod --gpu h100_sxm --billing autoscaling", 0,
     r"^\s*late_minutes_per_month\s+[\d.,]+\s+min/month"),
    ("scaling 2B steady llama_70b together", 1, r"^atlas-xl: error: together bills per token"),
    ("hybrid - steady llama_70b runpod --gpu h100_sxm --usage {usage} --burst-platform together", 0,
     r"^\s*own_gpu_count\s+\d+\s+GPUs"),
    ("sweep {scenarios} -o {tmp}/results.csv --workers 1 --quiet", 0, r"^wrote .*results\.csv: 1 scenarios, 3 scenario-months, 0 failed"),
    # the documented one-line errors, one per command (the message names the fix)
    ("estimate llama_70b h100", 1, r"^atlas-xl: error: unknown gpu 'h100' — did you mean h100_pcie, h100_sxm"),
    ("backtest --catalog {tmp}/none", 1, r"^atlas-xl: error: catalog folder '.*none' does not exist — give a folder"),
    ("rank 2B steady llama70", 1, r"^atlas-xl: error: unknown model 'llama70' — did you mean llama_70b"),
    ("simulate nvidia_h100 llama_70b_chat", 1, r"^atlas-xl: error: unknown target 'nvidia_h100' — did you mean"),
    ("schedule nvidia_h100_cluster_32n nope", 1, r"^atlas-xl: error: unknown workload 'nope' — known: "),
    ("optimize nvidia_h100_8x_nvlink llama_70b_chat --knob warp=9", 1, r"^atlas-xl: error: unknown knob 'warp' — known: "),
    ("optimize-workbook {tmp}/none.xlsm -o {tmp}/x.xlsm", 1, r"^atlas-xl: error: workbook '.*none\.xlsm' does not exist"),
    ("recalc {tmp}/none.xlsx", 1, r"^atlas-xl: error: workbook '.*none\.xlsx' does not exist"),
    ("catalog list nothing", 1, r"^atlas-xl: error: unknown catalog table 'nothing' — known: gpus, "),
    ("catalog export", 1, r"^atlas-xl: error: catalog export needs a folder — atlas-xl catalog export DIR"),
    ("catalog validate --catalog {tmp}/none", 1, r"^atlas-xl: error: catalog folder '.*none' does not exist"),
    ("forecast 2B steady llama_70b runpod --gpu h100_sxm --months 0", 2,
     r"^atlas-xl forecast: error: --months must be 1 or more — got 0 \(see atlas-xl forecast --help\)"),
    ("breakeven steady llama_70b together nowhere", 1, r"^atlas-xl: error: unknown platform 'nowhere' — known: "),
    ("pattern {tmp}/none.csv", 1, r"^atlas-xl: error: usage log '.*none\.csv' does not exist — give a CSV"),
    ("sweep {scenarios} -o {tmp}/r.txt", 1, r"^atlas-xl: error: '.*r\.txt': write \.parquet or \.csv"),
    ("cost-range 2B steady llama_70b runpod --gpu h100_sxm --fiscal-year-start 4", 1,
     r"^atlas-xl: error: fiscal_year_start_month needs start"),
    ("sensitivity 2B steady llama_70b together --output profit", 1, r"^atlas-xl: error: output 'profit' is not a plan"),
    ("commit 1B steady llama_70b together", 1, r"^atlas-xl: error: 'together' bills per token — commitments apply"),
    ("prices import {tmp}/none.csv --to {tmp}/cat", 1, r"^atlas-xl: error: price list '.*none\.csv' does not exist"),
]


def run(capsys, argv):
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse: --version, --help, usage errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("line, status, expected", SMOKE, ids=[re.sub(r"\{\w+\}/?", "", row[0]) for row in SMOKE])
def test_command(capsys, files, line, status, expected):
    argv = [part.format(**files) for part in line.split()]
    code, out, err = run(capsys, argv)
    assert code == status, err
    shown = out if status == 0 else err
    assert re.search(expected, shown, re.M), shown[-2000:]
    if status:
        assert len(err.strip().splitlines()) == 1  # one line, never a traceback
    assert "Traceback" not in err


def test_outputs_are_what_they_say(capsys, files):
    """The files the table wrote are real: the report and recalc outputs open, the sweep matches plan."""
    from openpyxl import load_workbook
    for name in ("plan.xlsx", "whatif.xlsm", "optimized.xlsm"):
        path = files["tmp"] / name
        if path.exists():  # written by the table (run in any order with pytest -k)
            assert load_workbook(path, read_only=True).sheetnames
    results = files["tmp"] / "results.csv"
    if results.exists():
        first = pd.read_csv(results).iloc[0]
        assert first["monthly_cost_usd"] == atlas_xl.plan(2e9, "steady", "llama_70b", "runpod",
                                                          "h100_sxm").monthly_cost_usd
    code, out, _ = run(capsys, ["estimate", "llama_70b", "h100_sxm", "--json"])
    assert json.loads(out) == json.loads(json.dumps(
        {k: cli.jsonable(v) for k, v in atlas_xl.estimate("llama_70b", "h100_sxm").items()}))


def test_every_command_is_in_the_table():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    tested = {row[0].split()[0] for row in SMOKE}
    assert set(commands) <= tested, set(commands) - tested
    actions = {row[0].split()[1] for row in SMOKE if row[0].startswith("catalog ")}
    catalog_actions = next(a for a in commands["catalog"]._actions if a.dest == "action").choices
    assert set(catalog_actions) <= actions
