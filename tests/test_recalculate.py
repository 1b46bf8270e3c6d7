"""Tests for headless recalculation (workbook/recalc.py): the template's formulas are wired right,
what-if overrides, what the output keeps, never overwriting, crash safety."""
import csv
import hashlib
import shutil
import subprocess
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

import atlas_xl
import atlas_xl_cli
from atlas_xl.errors import InputError
from workbook import recalculate as recalc_module
from workbook import template
from workbook.recalculate import recalc


@pytest.fixture(scope="module")
def template_path(tmp_path_factory):
    return template.build_template(tmp_path_factory.mktemp("t") / template.TEMPLATE_NAME)


def named(book, name):
    (title, ref), = book.defined_names[name].destinations
    return f"{title}!{ref.replace('$', '')}"


def results(result, book):
    """The Results sheet by row key (column B) → value (column C)."""
    sheet = book["Results"]
    return {sheet[f"B{r}"].value: result.values.get(f"Results!C{r}") for r in range(1, sheet.max_row + 1)
            if sheet[f"B{r}"].value and f"Results!C{r}" in result.values}


def test_template_results_equal_the_library(template_path):
    book = load_workbook(template_path)
    overrides = {"TokensPerDay": 5e9, "Pattern": "bursty", "Platform": "lambda", "Gpu": "b200", "LatencyMs": 200,
                 "Target": "nvidia_h200_8x", "Seed": 7, "UsdPerKwh": 0.08}
    result = recalc(template_path, overrides)
    assert result.problems == {}
    got = results(result, book)
    plan = atlas_xl.plan(5e9, "bursty", "llama_70b", "lambda", "b200", latency_ms=200)
    assert got["gpu_count"] == plan.gpu_count and got["monthly_cost"] == plan.monthly_cost_usd
    assert got["utilization"] == plan.utilization_after and got["latency_risk"] == plan.latency_risk
    assert got["penalty"] == plan.penalty_usd and got["annual_cost"] == pytest.approx(12 * plan.monthly_cost_usd)
    sim = atlas_xl.simulate("nvidia_h200_8x", "llama_70b_chat", seed=7, usd_per_kwh=0.08)
    assert got["throughput"] == sim.tokens_per_sec and got["latency_p99_ms"] == sim.p99_ms
    assert got["energy_cost"] == sim.energy_cost_per_hour_usd and got["cost_per_1k"] == sim.dollar_per_1k_tokens
    ranking = atlas_xl.rank(5e9, "bursty", "llama_70b", latency_ms=200)
    (title, ref), = book.defined_names["Ranking"].destinations
    first_row = int(ref.split(":")[0].replace("$A$", ""))
    platforms = [result.values[f"{title}!B{first_row + i}"] for i in range(1, 6)]
    assert platforms == list(ranking.platform[:5])


def test_template_whatif_grid_and_simulator_sheet(template_path):
    book = load_workbook(template_path)
    result = recalc(template_path)
    (title, ref), = book.defined_names["WhatIfByOffering"].destinations
    sheet = book[title]
    first = ref.replace("$", "").split(":")[0]
    row = int(first[1:])
    volume, platform, gpu = sheet[f"A{row}"].value, sheet["B5"].value, sheet["B6"].value
    assert result.values[f"{title}!B{row}"] == atlas_xl.plan(volume, "steady", "llama_70b", platform, gpu,
                                                             latency_ms=250).monthly_cost_usd
    record = atlas_xl.simulate()
    (title, ref), = book.defined_names["SimulationRecord"].destinations
    key, value = ref.replace("$", "").split(":")[0][0], ref.replace("$", "").split(":")[1][0]
    sim = {result.values.get(f"{title}!{key}{r}"): result.values.get(f"{title}!{value}{r}") for r in range(5, 70)}
    assert sim["tokens_per_sec"] == record.tokens_per_sec and sim["saturated"] is False


def test_override_changes_exactly_the_dependents(template_path):
    base = recalc(template_path)
    changed = recalc(template_path, {"UsdPerKwh": 0.30})
    differing = {a for a in base.values if base.values[a] != changed.values[a]}
    assert differing  # energy cost and $ per 1k tokens move...
    assert all(not a.startswith(("Results!C7", "Results!C11", "WhatIf!", "Checks!")) for a in differing)
    book = load_workbook(template_path)
    rows = {r for r in range(1, 40) if book["Results"][f"B{r}"].value in ("energy_cost", "cost_per_1k")}
    assert {f"Results!C{r}" for r in rows} <= differing
    assert not any(a.startswith("Results!C") and int(a[9:]) not in rows for a in differing)


def test_output_keeps_everything_and_caches_values(template_path, tmp_path):
    before = hashlib.sha256(template_path.read_bytes()).hexdigest()
    out = tmp_path / "whatif.xlsm"
    result = recalc(template_path, ["TokensPerDay=5e9"], out)
    assert hashlib.sha256(template_path.read_bytes()).hexdigest() == before  # input untouched
    source, target = zipfile.ZipFile(template_path), zipfile.ZipFile(out)
    assert source.namelist() == target.namelist()
    for name in source.namelist():  # only worksheets change; VBA, tables, styles are byte-identical
        if not name.startswith("xl/worksheets/sheet"):
            assert source.read(name) == target.read(name), name
    formulas, values = load_workbook(out, keep_vba=True), load_workbook(out, data_only=True)
    assert formulas.defined_names.keys() == load_workbook(template_path).defined_names.keys()
    cell = named(formulas, "MonthlyCost").split("!")
    assert formulas[cell[0]][cell[1]].value.startswith("=ATLAS_COST(")
    assert values[cell[0]][cell[1]].value == result.values[named(formulas, "MonthlyCost")]
    tokens = named(formulas, "TokensPerDay").split("!")
    assert values[tokens[0]][tokens[1]].value == 5e9
    assert formulas["Offerings"].tables and formulas["Inputs"].data_validations.dataValidation


def test_values_only(template_path, tmp_path):
    out = tmp_path / "values.xlsm"
    recalc(template_path, None, out, values_only=True)
    book = load_workbook(out)
    assert not any(isinstance(c.value, (str, ArrayFormula)) and str(getattr(c.value, "text", c.value)).startswith("=")
                   for s in book.worksheets for row in s.iter_rows() for c in row)


def test_libreoffice_shows_numbers(template_path, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is required for this test: apt-get install libreoffice-calc-nogui"
    out = tmp_path / "cached.xlsm"
    result = recalc(template_path, None, out)
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                           "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,false,false,false,-1",
                           "--outdir", str(tmp_path), str(out)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(open(tmp_path / "cached-Results.csv", encoding="utf-8")))
    monthly = next(r for r in rows if len(r) > 2 and r[1] == "monthly_cost")
    assert "#NAME" not in monthly[2] and float(monthly[2].replace("$", "").replace(",", "")) == pytest.approx(
        result.values[named(load_workbook(template_path), "MonthlyCost")], abs=1)


def test_never_overwrites_and_crash_leaves_nothing(template_path, tmp_path, monkeypatch):
    out = tmp_path / "out.xlsm"
    out.write_bytes(b"precious")
    with pytest.raises(InputError, match="already exists"):
        recalc(template_path, None, out)
    assert out.read_bytes() == b"precious"
    fresh = tmp_path / "fresh.xlsm"

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(recalc_module.etree, "tostring", crash)
    with pytest.raises(RuntimeError):
        recalc(template_path, None, fresh)
    assert not fresh.exists() and not list(tmp_path.glob(".fresh-*"))  # no half-written workbook


def test_in_place(tmp_path, template_path):
    copy = tmp_path / template.TEMPLATE_NAME
    copy.write_bytes(template_path.read_bytes())
    recalc(copy, {"TokensPerDay": 3e9}, in_place=True)
    book = load_workbook(copy, data_only=True)
    sheet, ref = named(book, "TokensPerDay").split("!")
    assert book[sheet][ref].value == 3e9


@pytest.mark.parametrize("override, message", [
    ("TokensPerDay", "needs the form Sheet!A1=value"),
    ("Nope=1", "no cell or defined name 'Nope'"),
    ("Missing!A1=1", "no sheet 'Missing'"),
    ("Inputs!A1:B2=1", "give one cell, not a range"),
    ("Assumptions=1", "name 'Assumptions' is not a single cell"),
])
def test_bad_overrides(template_path, override, message):
    with pytest.raises(InputError, match=message):
        recalc(template_path, [override])


def test_problems_name_the_cell(tmp_path):
    book = Workbook()
    book.active.title = "S"
    book.active["A1"] = "=XLOOKUP(1,B1:B2,C1:C2)"
    book.active["A2"] = 5
    book.active["A3"] = "=A2*2"
    path = tmp_path / "w.xlsx"
    book.save(path)
    result = recalc(path)
    assert result.problems == {"S!A1": "function XLOOKUP is not supported by the headless engine"}
    assert result["S!A3"] == 10.0


def test_cli_recalc(template_path, tmp_path, capsys):
    out = tmp_path / "cli.xlsm"
    code = atlas_xl_cli.main(["recalc", str(template_path), "--set", "TokensPerDay=4e9", "-o", str(out)])
    printed = capsys.readouterr()
    assert code == 0 and out.exists() and "0 not computed" in printed.out
    code = atlas_xl_cli.main(["recalc", str(template_path), "--set", "Results!C7=1", "-o", str(tmp_path / "x.xlsm")])
    assert code == 1 and "holds a formula" in capsys.readouterr().err


def test_shared_formulas_as_excel_writes_them(tmp_path):
    # Excel stores a filled-down formula once (t="shared") and refers to it from the other cells
    book = Workbook()
    book.active.title = "S"
    for i in range(1, 5):
        book.active[f"A{i}"], book.active[f"B{i}"] = i, f"=A{i}*2"
    path = tmp_path / "shared.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode().replace("<f>A1*2</f>", '<f t="shared" ref="B1:B4" si="0">A1*2</f>')
    for i in range(2, 5):
        sheet = sheet.replace(f"<f>A{i}*2</f>", '<f t="shared" si="0"/>')
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    result = recalc(path, ["S!A3=10"], tmp_path / "out.xlsx")
    assert result.values == {"S!B1": 2.0, "S!B2": 4.0, "S!B3": 20.0, "S!B4": 8.0}
    assert load_workbook(tmp_path / "out.xlsx", data_only=True)["S"]["B3"].value == 20.0


def test_platform_dropdown_list_is_computed(template_path):
    result = recalc(template_path)
    listed = [result.values.get(f"Lists!A{r}") for r in range(2, 20)]
    assert [p for p in listed if p] == atlas_xl.load_catalog().keys("platforms")
