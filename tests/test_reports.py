"""Tests for report workbooks (workbook/reports.py) and `atlas-xl report`."""
import json
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

import atlas_xl
from atlas_xl import simulator
import atlas_xl_cli
import workbook
from atlas_xl.errors import InputError
from workbook.reports import Scenario, scenario_from


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    return workbook.report(tmp_path_factory.mktemp("r") / "report.xlsx", {"detail": True})


@pytest.fixture(scope="module")
def short_report(tmp_path_factory):
    return workbook.report(tmp_path_factory.mktemp("s") / "short.xlsx")


def heads(row):
    """A header row's labels without their units line."""
    return [h.split("\n")[0] if isinstance(h, str) else h for h in row]


def test_sheets_and_recommendation(default_report):
    book = load_workbook(default_report)
    assert book.sheetnames == ["Summary", "Overview", "Ranking", "Breakdown", "Costs", "Serving", "CostVsVolume",
                               "Simulator", "Schedule", "Forecast", "Sensitivity", "Assumptions", "Sources"]
    summary = {row[0]: row[1] for row in book["Overview"].iter_rows(values_only=True) if row[0]}
    best = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250).iloc[0]
    assert summary["Platform"] == best.platform
    assert summary["Monthly cost"] == pytest.approx(best.monthly_cost_usd, rel=1e-14)  # openpyxl: 16 digits
    why = next(r[0] for r in book["Overview"].iter_rows(values_only=True) if r[0] and str(r[0]).startswith(best.platform))
    assert "ranks first (lowest penalty score, then lowest monthly cost)" in why and "runner-up" in why
    # the Simulator section simulates the planned deployment of the best GPU offering: same model, GPU, count
    ranking = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250)
    gpu_best = ranking[ranking.billing != "per_token"].iloc[0]
    planned = atlas_xl.plan(2e9, "steady", "llama_70b", gpu_best.platform, gpu_best.gpu, latency_ms=250)
    record = atlas_xl.simulate(*simulator.deployment(planned))
    assert record.accelerators == planned.gpu_count and record.tp == planned.replica_gpus
    assert summary["Throughput"] == pytest.approx(record.tokens_per_sec, rel=1e-14)
    assert f"Simulator: llama_70b_planned on {gpu_best.platform}_{gpu_best.gpu}_x{planned.gpu_count:.0f}" in summary


def test_no_formulas_and_numbers_have_formats(default_report):
    book = load_workbook(default_report)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {sheet.title}!{cell.coordinate}"
    ranking = book["Ranking"]
    header = [c.value for c in ranking[4]]
    cost = ranking.cell(row=5, column=header.index("Monthly cost\n[USD/month]") + 1)
    assert isinstance(cost.value, (int, float)) and cost.number_format == '"$"#,##0'
    gpu_row = next(r for r in range(5, ranking.max_row + 1)
                   if ranking.cell(row=r, column=header.index("Billing") + 1).value != "per_token")
    util = ranking.cell(row=gpu_row, column=header.index("Utilization per GPU\n[%]") + 1)
    assert util.number_format == "0.0%"


def test_charts_present(default_report):
    book = load_workbook(default_report)
    assert book["Ranking"]._charts and book["CostVsVolume"]._charts and book["Simulator"]._charts


def test_breakdown_schedule_sources(default_report):
    book = load_workbook(default_report)
    ranking = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250)
    shown = set()
    for title in ("Breakdown", "Costs", "Serving"):
        rows = list(book[title].iter_rows(min_row=4, values_only=True))
        shown |= {h.split("\n")[0] for h in rows[0] if h}
        assert len(rows) - 1 == len(ranking)
    assert shown == {atlas_xl.fields.field(c, plan=True).label for c in ranking.columns}  # every field, by name
    serving = list(book["Serving"].iter_rows(min_row=4, values_only=True))
    column = {h: i for i, h in enumerate(heads(serving[0]))}
    rows = [r for r in serving[1:] if r[column["Billing"]]]
    per_token = [r[column["GPUs per replica"]] for r in rows if r[column["Billing"]] == "per_token"]
    assert per_token and all(v is None for v in per_token)  # a per-token API has no GPUs: blank, not 1
    assert all(r[column["GPUs per replica"]] >= 1 for r in rows if r[column["Billing"]] != "per_token")
    phases = [r[0] for r in book["Schedule"].iter_rows(values_only=True)]
    assert "active" in phases  # steady traffic: one phase, all week (the pattern's schedule)
    sources = [r for r in book["Sources"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert {"offerings", "throughput", "patterns", "gpus", "hardware_models", "serving_calibration"} <= {
        r[0] for r in sources}
    assert all(r[2] and r[3] for r in sources)  # every row used has a source and a date


def test_text_from_catalogs_stays_text(tmp_path):
    lists = atlas_xl.load_catalog().to_lists()
    offerings = lists["offerings"]
    hostile = "=HYPERLINK(\"http://evil\",\"x\")"
    offerings.append([hostile, "h100_sxm", None, "dedicated", 0.5, None, None, None, "test", "2026-01-01", "=1+1"])
    catalog = atlas_xl.load_catalog({"offerings": offerings})
    path = workbook.report(tmp_path / "r.xlsx", {"model": "llama_70b", "detail": True}, catalog=catalog)
    book = load_workbook(path)
    cells = [c for row in book["Ranking"].iter_rows() for c in row if c.value == hostile.lower()]
    assert cells and all(c.data_type == "s" for c in cells)


def test_libreoffice_opens_without_errors(default_report, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is required for this test: apt-get install libreoffice-calc-nogui"
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(default_report)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and (tmp_path / "report.pdf").stat().st_size > 10_000, done.stderr


def test_scenario_forms():
    nested = scenario_from({"title": "T", "workload": {"tokens_per_day": "5e9", "pattern": "bursty"},
                            "offerings": ["runpod", "groq"],
                            "simulator": {"target": "nvidia_h200_8x", "workload": "llama_8b_api", "seed": "3"},
                            "schedule": False})
    assert nested == Scenario(title="T", tokens_per_day=5e9, pattern="bursty", platforms=("runpod", "groq"),
                              target="nvidia_h200_8x", workload="llama_8b_api", seed=3, schedule=False)
    assert scenario_from({"platforms": "runpod, groq"}).platforms == ("runpod", "groq")
    with pytest.raises(InputError, match="unknown scenario key 'budget'"):
        scenario_from({"budget": 1})
    with pytest.raises(InputError, match="scenario tokens_per_day must be a number"):
        scenario_from({"tokens_per_day": "lots"})


def test_report_errors_and_overwrite(tmp_path, default_report):
    with pytest.raises(InputError, match="already exists"):
        workbook.report(default_report)
    with pytest.raises(InputError, match="unknown model"):
        workbook.report(tmp_path / "x.xlsx", {"model": "gpt9"})
    with pytest.raises(InputError, match="unknown platform"):
        workbook.report(tmp_path / "x.xlsx", {"platforms": ["nope"]})


def test_cli_report(tmp_path, capsys):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"workload": {"tokens_per_day": 1e9, "model": "llama_8b"},
                                    "offerings": ["groq", "runpod"], "schedule": False}))
    out = tmp_path / "cli.xlsx"
    assert atlas_xl_cli.main(["report", "-o", str(out), "--scenario", str(scenario), "--pattern", "bursty",
                              "--detail"]) == 0
    book = load_workbook(out)
    assert "Schedule" not in book.sheetnames
    platforms = {r[1] for r in book["Ranking"].iter_rows(min_row=5, values_only=True) if r[1]}
    assert platforms <= {"groq", "runpod"}
    assert atlas_xl_cli.main(["report", "-o", str(out), "--model", "x"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_report_simulates_the_planned_model_not_a_default(tmp_path):
    path = workbook.report(tmp_path / "r.xlsx", {"model": "llama_8b", "pattern": "bursty", "tokens_per_day": 5e9,
                                                  "offerings": ["runpod", "groq"], "detail": True})
    title = load_workbook(path)["Simulator"]["A1"].value
    assert "llama_8b_planned on runpod_" in title
    phases = [r[0] for r in load_workbook(path)["Schedule"].iter_rows(values_only=True)]
    assert {"active", "quiet"} <= set(phases)  # bursty: 40 % of the week active


def test_report_with_per_token_offerings_only_has_no_simulator(tmp_path):
    path = workbook.report(tmp_path / "r.xlsx", {"model": "llama_8b", "offerings": ["groq"], "detail": True})
    book = load_workbook(path)
    assert "Simulator" not in book.sheetnames and "Schedule" not in book.sheetnames


def test_runner_up_percentage_is_of_the_recommendation():
    from types import SimpleNamespace as Offer
    from workbook.reports import runner_up_text
    best = Offer(platform="a", gpu="h100_sxm", monthly_cost_usd=9_750.0, penalty_usd=0.0)
    second = Offer(platform="b", gpu="", monthly_cost_usd=30_000.0, penalty_usd=0.0)
    # issue 12: $30,000 against $9,750 is 208 % more (20,250 / 9,750), not 68 % (20,250 / 30,000)
    assert runner_up_text(best, second) == "The runner-up, b, costs $20,250 more a month (208% more)"
    penalised = Offer(platform="c", gpu="l40s", monthly_cost_usd=8_000.0, penalty_usd=4e5)
    # issue 20: a penalty is a ranking score, never added to the $/month figure
    assert runner_up_text(best, penalised) == ("The runner-up, c on l40s, costs $1,750 less a month but ranks lower: "
                                               "a penalty score of 400,000")


def test_breakdown_formats_follow_the_field_table(default_report):
    book = load_workbook(default_report)
    sheet = book["Breakdown"]
    header = [c.value.split("\n")[0] if c.value else None for c in sheet[4]]
    gpu_row = next(c.row for c in sheet["D"][4:] if c.value != "per_token")
    load = sheet.cell(row=gpu_row, column=header.index("Load at peak") + 1)
    assert load.number_format == "#,##0.00" and 1 < load.value < 10  # GPU-equivalents, not 175.8 %
    costs = book["Costs"]
    header = [c.value.split("\n")[0] if c.value else None for c in costs[4]]
    tokens = costs.cell(row=5, column=header.index("Tokens per month") + 1)
    width = costs.column_dimensions[tokens.column_letter].width
    assert width >= len(f"{tokens.value:,.0f}") + 1  # wide enough: no ###
    simulator = {r[0]: r for r in book["Simulator"].iter_rows(min_row=5, values_only=True) if r[0]}
    cuda = book["Simulator"].cell(row=[r[0] for r in book["Simulator"].iter_rows(values_only=True)].index("CUDA graphs") + 1,
                                  column=2)
    assert isinstance(cuda.value, bool) and cuda.number_format == atlas_xl.fields.YES_NO
    assert simulator["P99 latency"][2] == "ms" and simulator["Noise seed"][1] == 0


def test_every_sheet_prints_one_page_wide_with_its_header_repeated(default_report):
    book = load_workbook(default_report)
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation in ("landscape", "portrait"), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1, sheet.title
        assert "&A" in sheet.oddFooter.center.text, sheet.title  # sheet name and page number on every page
    for title in ("Ranking", "Breakdown", "Costs", "Serving", "Simulator", "Schedule", "Assumptions", "Sources"):
        assert book[title].print_title_rows == "$4:$4", title
    assert book["Overview"].page_setup.orientation == "portrait"
    assert book["Summary"].page_setup.orientation == "landscape" and book["Summary"].page_setup.fitToHeight == 1


# -- Forecast and Sensitivity sections (issue 14) ------------------------------------------------------------
def test_forecast_section_equals_the_library(default_report):
    book = load_workbook(default_report)
    sheet = book["Forecast"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    header = heads(rows[0])
    best = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250).iloc[0]
    frame = atlas_xl.forecast(2e9, "steady", "llama_70b", best.platform, best.gpu or None, latency_ms=250)
    costs = [r[header.index("Monthly cost")] for r in rows[1:13]]
    assert costs == pytest.approx(list(frame["monthly_cost_usd"]))
    text = " ".join(str(c) for r in sheet.iter_rows(values_only=True) for c in r if isinstance(c, str))
    assert "No P10–P90 band" in text or "P10–P90" in text  # the band, or why there is none
    assert "Break-even against" in text
    assert sheet._charts


def test_forecast_settings_from_a_scenario(tmp_path):
    path = workbook.report(tmp_path / "r.xlsx", {"workload": {"tokens_per_day": 2e9, "pattern": "steady",
                                                              "model": "llama_70b"},
                                                 "offerings": ["runpod"], "schedule": False, "detail": True,
                                                 "forecast": {"months": 36, "monthly_growth": 0.03,
                                                              "start": "2027-01", "commitment": "3y",
                                                              "throughput_error": 0.15, "price_spread": 0.1}})
    sheet = load_workbook(path)["Forecast"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    header = heads(rows[0])
    assert {"Period", "Saved by commitment", "P10 on-demand cost", "P90 on-demand cost"} <= set(header)
    assert rows[1][header.index("Period")] == "2027-01"
    low, high = (rows[12][header.index(h)] for h in ("P10 on-demand cost", "P90 on-demand cost"))
    assert low <= high
    text = " ".join(str(c) for r in sheet.iter_rows(values_only=True) for c in r if isinstance(c, str))
    assert "Commitment 3y" in text and "InferenceX" in text


def test_unknown_forecast_key_is_one_line(tmp_path):
    with pytest.raises(InputError, match="unknown forecast key 'growth'"):
        workbook.report(tmp_path / "r.xlsx", {"forecast": {"growth": 0.1}})
    assert not (tmp_path / "r.xlsx").exists()


def test_sensitivity_section_is_a_tornado(default_report):
    sheet = load_workbook(default_report)["Sensitivity"]
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    swings = [r[6] for r in rows if isinstance(r[6], (int, float))]
    assert swings == sorted(swings, reverse=True) and len(swings) >= 2
    assert sheet._charts


def test_sensitivity_values_read_in_their_inputs_units(default_report):
    """Base, low and high value are in the units of the row's input: $2.69 an hour, 85.0 % efficiency, 5,592
    tokens/s, not one format for all (5,180.5032)."""
    sheet = load_workbook(default_report)["Sensitivity"]
    header = heads([c.value for c in sheet[4]])
    key = {atlas_xl.fields.label(name): name for name in atlas_xl.fields.FIELDS}
    rows = [r for r in sheet.iter_rows(min_row=5) if r[0].value in key]
    assert {key[r[0].value] for r in rows} >= {"tokens_per_day", "hourly_usd", "efficiency", "gpu_tokens_per_s"}
    for row in rows:
        for column in ("Base value", "Low value", "High value"):
            cell = row[header.index(column)]
            assert cell.number_format == atlas_xl.fields.number_format(key[row[0].value]), (row[0].value, column)


def test_forecast_section_uses_the_scenarios_serving_settings(tmp_path):
    path = workbook.report(tmp_path / "r.xlsx", {"tokens_per_day": 5e9, "offerings": ["runpod"], "precision": "bf16",
                                                 "tpot_ms": 50, "schedule": False, "detail": True})
    rows = list(load_workbook(path)["Forecast"].iter_rows(min_row=4, values_only=True))
    best = atlas_xl.rank(5e9, "steady", "llama_70b", latency_ms=250, platforms=["runpod"], precision="bf16",
                         tpot_ms=50).iloc[0]
    expected = atlas_xl.forecast(5e9, "steady", "llama_70b", best.platform, best.gpu, latency_ms=250,
                                 precision="bf16", tpot_ms=50)
    assert rows[1][heads(rows[0]).index("Monthly cost")] == pytest.approx(expected["monthly_cost_usd"].iloc[0])


# -- the one-page summary and --options (issue 20) ----------------------------------------------------------
def summary_table(book):
    """{option: {label: value}} of the Summary's table (its header is the row that starts with "Option")."""
    rows = list(book["Summary"].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "Option")
    header = heads(rows[top])
    return {r[0]: dict(zip(header, r)) for r in rows[top + 1:] if r[0] and r[1]}


def test_default_report_is_the_summary_and_its_sources(short_report):
    book = load_workbook(short_report)
    assert book.sheetnames == ["Summary", "Sources"]
    table = summary_table(book)
    ranking = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250)
    best3 = ranking.head(3)  # default: the best three of the ranking, in its order
    names = [f"{r.platform}/{r.gpu}" if r.gpu else f"{r.platform} (per-token)" for r in best3.itertuples()]
    assert list(table) == names
    for name, offer in zip(names, best3.itertuples()):
        assert table[name]["Monthly cost"] == pytest.approx(offer.monthly_cost_usd, rel=1e-12)
        assert table[name]["Annual cost"] == pytest.approx(12 * offer.monthly_cost_usd, rel=1e-12)  # 12 × monthly
        assert table[name]["Cost per million tokens"] == pytest.approx(offer.cost_per_m_tokens_usd, rel=1e-12)
    text = [c for r in book["Summary"].iter_rows(values_only=True) for c in r if isinstance(c, str)]
    line = next(t for t in text if t.startswith("Assumptions:"))
    # the scenario set none of these: each says it is a default
    assert "latency requirement 250 ms (default)" in line and "fp8 weights (default)" in line
    assert "TTFT 2,000 ms (default)" in line and "prices as of" in line
    assert book["Summary"]._charts
    offerings = {r[1] for r in book["Sources"].iter_rows(min_row=5, values_only=True) if r[0] == "offerings"}
    assert offerings == {f"{r.platform}/{r.gpu or 'llama_70b'}" for r in best3.itertuples()}  # the compared only


def test_a_latency_the_user_set_is_not_called_a_default(tmp_path):
    path = workbook.report(tmp_path / "r.xlsx", {"latency_ms": 400, "precision": "bf16"})
    text = " ".join(c for r in load_workbook(path)["Summary"].iter_rows(values_only=True) for c in r
                    if isinstance(c, str))
    assert "latency requirement 400 ms;" in text and "bf16 weights;" in text


def test_options_compare_exactly_the_named_offerings(tmp_path):
    path = workbook.report(tmp_path / "r.xlsx", {"options": ["runpod/h100_sxm", "together:per_token", "lambda"]})
    table = summary_table(load_workbook(path))
    ranking = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250, platforms=["runpod", "together", "lambda"])
    lambda_best = ranking[ranking.platform == "lambda"].iloc[0]  # a bare platform: its best offering
    together = ranking[(ranking.platform == "together") & (ranking.billing == "per_token")].iloc[0]
    runpod = ranking[(ranking.platform == "runpod") & (ranking.gpu == "h100_sxm")].iloc[0]
    assert set(table) == {"runpod/h100_sxm", "together (per-token)", f"lambda/{lambda_best.gpu}"}
    assert table["together (per-token)"]["Monthly cost"] == pytest.approx(together.monthly_cost_usd, rel=1e-12)
    assert table["runpod/h100_sxm"]["Monthly cost"] == pytest.approx(runpod.monthly_cost_usd, rel=1e-12)
    assert table[f"lambda/{lambda_best.gpu}"]["GPUs"] == lambda_best.gpu_count


@pytest.mark.parametrize("options, message", [
    (["runpod/zz"], "option 'runpod/zz' matches no offering that serves llama_70b — runpod offers runpod/"),
    (["runpod:monthly"], "billing 'monthly' is not one of autoscaling, dedicated, per_token"),
    (["runpod", "runpod/h100_sxm"], "name the same offering"),  # runpod's first offering: H100 SXM (8 GPUs, least cost)
    (["nope"], "unknown platform"),
])
def test_options_errors_are_one_line(tmp_path, options, message):
    with pytest.raises(InputError, match=message):
        workbook.report(tmp_path / "r.xlsx", {"options": options})
    assert not (tmp_path / "r.xlsx").exists()


def test_cli_report_options(tmp_path, capsys):
    out = tmp_path / "o.xlsx"
    assert atlas_xl_cli.main(["report", "-o", str(out), "--options", "runpod/h100_sxm", "together:per_token"]) == 0
    assert set(summary_table(load_workbook(out))) == {"runpod/h100_sxm", "together (per-token)"}
    # the per-token price compared is dated 2026-05-08 (catalogs/offerings.csv): one warning line on stderr
    assert "the price of together is from 2026-05-08" in capsys.readouterr().err
    assert atlas_xl_cli.main(["report", "-o", str(tmp_path / "x.xlsx"), "--options", "runpod:weekly"]) == 1
    err = capsys.readouterr().err
    assert "billing 'weekly'" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
