"""Tests for the template workbook (workbook/template.py): rebuilt into a temporary folder and
checked the way a user and Excel would meet it — sheets, tables, names, validations, styles,
formula references, the VBA project and its buttons, LibreOffice."""
import importlib
import re
import shutil
import subprocess
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.formula import Tokenizer
from openpyxl.utils import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

import atlas_xl
from atlas_xl.catalog import SCHEMAS
from udfs import functions
from workbook import finance_sheets, sheets, template
from workbook.optimizer_button import optimize_workbook


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = template.build_template(tmp_path_factory.mktemp("template") / template.TEMPLATE_NAME)
    return path, load_workbook(path, keep_vba=True)


def formulas(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                text = value.text if isinstance(value, ArrayFormula) else value
                if isinstance(text, str) and text.startswith("="):
                    yield sheet, cell, text


def test_sheets_in_order(built):
    _, book = built
    expected = list(template.SHEET_ORDER) + [t for t, _, _ in sheets.CATALOG_SHEETS.values()] + ["Fields", "Lists",
                                                                                                   "xlwings.conf"]
    assert book.sheetnames == expected


def test_catalog_sheets_are_tables_with_the_csv_columns(built):
    _, book = built
    catalog = atlas_xl.load_catalog()
    for table, (title, range_name, _) in sheets.CATALOG_SHEETS.items():
        sheet = book[title]
        (excel_table,) = sheet.tables.values()
        header = [c.value for c in sheet[1]]
        assert header == [c.name for c in SCHEMAS[table][0]]
        assert excel_table.ref.endswith(str(len(catalog.tables[table]) + 1))
        assert range_name in book.defined_names


def test_catalog_sheets_load_back_as_the_same_catalog(built):
    _, book = built
    tables = {}
    for table, (title, _, _) in sheets.CATALOG_SHEETS.items():
        tables[table] = [list(r) for r in book[title].iter_rows(values_only=True)]
    assert atlas_xl.load_catalog(tables).fingerprint == atlas_xl.load_catalog().fingerprint


def test_inputs_names_come_from_the_row_specification(built):
    _, book = built
    inputs = book["Inputs"]
    for block in sheets.INPUTS:
        for spec in block.rows:
            row = next(r for r in range(1, inputs.max_row + 1) if inputs[f"B{r}"].value == spec.key
                       and inputs[f"C{r}"].value == spec.value)  # the workload block repeats the key model
            assert inputs[f"A{row}"].value == spec.label
            formula = isinstance(spec.value, str) and spec.value.startswith("=")
            assert inputs[f"C{row}"].style == ("atlas_calc" if formula else "atlas_input")  # rows that follow the plan
            assert inputs[f"D{row}"].value in (spec.units, None)
            if block.named:
                (title, ref), = book.defined_names[sheets.name_of(spec.key)].destinations
                assert (title, ref) == ("Inputs", f"$C${row}")
        if block.kv_name:
            (title, ref), = book.defined_names[block.kv_name].destinations
            low_col, low_row, high_col, high_row = range_boundaries(ref)
            assert (low_col, high_col) == (2, 3) and high_row - low_row + 1 == len(block.rows)


def test_dropdowns_fed_by_catalog_sheets(built):
    _, book = built
    validations = {tuple(str(r) for r in v.sqref.ranges): v.formula1 for v in book["Inputs"].data_validations.dataValidation}
    lists = set(validations.values())
    assert {"PatternList", "ModelList", "PlatformList", "GpuList", "TargetList", "WorkloadList"} <= lists
    for sheet in book.worksheets:  # every list a validation names exists, stored as Excel stores it (no "=")
        for rule in sheet.data_validations.dataValidation:
            assert rule.formula1 in book.defined_names, f"{sheet.title}: {rule.formula1}"
    assert book.defined_names["PatternList"].attr_text == \
        "OFFSET('Patterns'!$A$2,0,0,MAX(1,COUNTA('Patterns'!$A:$A)-1),1)"


def test_named_styles(built):
    _, book = built
    assert {"atlas_input", "atlas_calc", "atlas_output"} <= set(book.named_styles)
    assert book["Results"]["C7"].style == "atlas_output"


def test_no_functions_the_engines_cannot_evaluate(built):
    _, book = built
    for sheet, cell, text in formulas(book):
        assert "[" not in text, f"structured reference in {sheet.title}!{cell.coordinate}"
        assert not re.search(r"\b(XLOOKUP|LET|LAMBDA)\(", text.upper()), f"{sheet.title}!{cell.coordinate}"
        for name in re.findall(r"\b(ATLAS_[A-Z0-9_]+)\(", text):
            assert hasattr(functions, name), f"{sheet.title}!{cell.coordinate} calls unknown {name}"


def _cells_of(ref):
    c1, r1, c2, r2 = range_boundaries(ref)
    return [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def test_every_reference_points_at_something(built):
    _, book = built
    optional = {sheets.name_of(s.key) for b in sheets.INPUTS if b.named for s in b.rows if s.optional}
    optional_keys = {s.key for b in sheets.INPUTS for s in b.rows if s.optional}  # blank is meaningful
    optional |= set(finance_sheets.OPTIONAL_NAMES)  # Forecast inputs whose blank means "default"
    catalog_titles = {title for title, _, _ in sheets.CATALOG_SHEETS.values()}
    spilled = {(s.title, r, c) for s in book.worksheets for row in s.iter_rows() for cell in row
               if isinstance(cell.value, ArrayFormula)
               for r, c in _cells_of(cell.value.ref)}  # cells an array formula fills count as filled
    checked = 0
    for sheet, cell, text in formulas(book):
        for token in Tokenizer(text).items:
            if token.type != "OPERAND" or token.subtype != "RANGE":
                continue
            checked += 1
            ref = token.value
            if "!" not in ref and not re.fullmatch(r"\$?[A-Z]{1,3}\$?\d+(:\$?[A-Z]{1,3}\$?\d+)?", ref):
                assert ref in book.defined_names, f"{sheet.title}!{cell.coordinate}: unknown name {ref}"
                if ref in optional:
                    continue
                (title, target), = book.defined_names[ref].destinations
            else:
                title, target = (ref.split("!")[0].strip("'"), ref.split("!")[1]) if "!" in ref else (sheet.title, ref)
            assert title in book.sheetnames, f"{sheet.title}!{cell.coordinate}: no sheet {title}"
            target = target.replace("$", "")
            if re.fullmatch(r"[A-Z]+(:[A-Z]+)?", target):  # whole column
                continue
            if title == "Inputs" and re.fullmatch(r"C\d+", target) and \
                    book["Inputs"][f"B{target[1:]}"].value in optional_keys:
                continue
            if title in catalog_titles:  # a column of a catalog table may be empty; its header may not
                target = re.sub(r"\d+", "1", target.split(":")[0])
            cells = book[title][target]
            cells = [c for row in cells for c in row] if isinstance(cells, tuple) else [cells]
            values = [c.value for c in cells] + [1 for c in cells if (title, c.row, c.column) in spilled]
            assert any(v not in (None, "") for v in values), \
                f"{sheet.title}!{cell.coordinate} refers to empty {title}!{target}"
    assert checked > 100


def test_vba_project_and_buttons(built):
    path, _ = built
    olevba = shutil.which("olevba")
    assert olevba, "olevba (pip install oletools) is required for this test"
    listing = subprocess.run([olevba, "--code", str(path)], capture_output=True, text=True).stdout
    assert "Sub SampleCall()" in listing and "Sub ImportPythonUDFs()" in listing
    sample = listing[listing.index("Sub SampleCall()"):]
    sample = sample[:sample.index("End Sub")]
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in sample
    assert "Left(ThisWorkbook.Name" in sample  # the module is the workbook's file name
    module = importlib.import_module(path.stem)  # ... which exists in the package
    assert callable(module.main)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        vml = {n: archive.read(n).decode() for n in names if n.endswith(".vml")}
        rels = {n: archive.read(n).decode() for n in names if n.startswith("xl/worksheets/_rels/")}
    assert "xl/vbaProject.bin" in names
    macros = sorted(re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", v).group(1) for v in vml.values())
    assert macros == sorted([template.OPTIMIZE_MACRO, template.IMPORT_MACRO])
    assert all('ObjectType="Button"' in v for v in vml.values())
    optimizer_sheet = template.SHEET_ORDER.index("Optimizer") + 1
    assert "vmlDrawing2.vml" in rels[f"xl/worksheets/_rels/sheet{optimizer_sheet}.xml.rels"]
    assert "[0]!SampleCall" in vml["xl/drawings/vmlDrawing2.vml"]


def test_simulator_inputs_follow_the_plan(built):
    """Issue 20: the simulator's GPU, GPU count, model and request shape are formulas over the plan's cells."""
    _, book = built
    inputs = book["Inputs"]

    def block(name):
        (title, ref), = book.defined_names[name].destinations
        return {k.value: v.value for k, v in inputs[ref.replace("$", "")]}

    target, workload = block("Target"), block("Workload")
    assert "MATCH(Gpu,TargetGpus,0)" in target["target"] and "GpuCount" in target["gpu_count"]
    assert workload["model"] == "=Model" and "MATCH(Model,WorkloadModels,0)" in workload["workload"]
    assert "InputTokens" in workload["sequence.prompt"] and "OutputTokens" in workload["sequence.generate"]
    assert "Precision" in workload["precision.weights"]
    for function in ("ATLAS_THROUGHPUT", "ATLAS_SIMULATE", "ATLAS_SCHEDULE"):  # every simulator formula reads them
        assert sheets.sim_formula(function).startswith(f"={function}(Target,Workload,Knobs,")


def _significant_digits(text):
    """Digits a reader gets of a small amount as printed: '$0.000171' has 3, '$0.0002' 1."""
    return len(text.lstrip("$0.,").replace(",", "").replace(".", ""))


def test_simulator_cost_per_1k_tokens_shows_its_digits(built):
    """A cost per 1k tokens is a thousandth of a cost per Mtok ($0.19/Mtok is $0.00019/1k): the Results row and
    the field table's format (the Simulator sheet's row) show at least three significant digits of it, from the
    cheapest simulation of the catalog to the dearest, where four decimals showed the cheapest as $0.0002."""
    _, book = built
    results = next(r[2] for r in book["Results"].iter_rows() if r[1].value == "cost_per_1k")
    cat = atlas_xl.load_catalog()
    costs = []
    for target in cat.targets:
        for workload in cat.workloads:
            try:
                costs.append(atlas_xl.simulate(target, workload).dollar_per_1k_tokens)
            except atlas_xl.errors.AtlasError:  # a workload the target cannot run
                continue
    fmt = results.number_format
    assert fmt == atlas_xl.fields.number_format("dollar_per_1k_tokens")  # Results reads as the Simulator sheet
    for cost in (min(costs), max(costs)):
        shown = atlas_xl.fields.display(cost, fmt)
        assert _significant_digits(shown) >= 3, f"{cost!r} shows as {shown}"


def test_sensitivity_values_take_their_inputs_formats(built):
    """The Sensitivity table's rows change order with the inputs (largest swing first), so base, low and high
    value take the number format of the row's input by conditional formats over the Fields sheet: one rule per
    format of the field table, each giving the format it tests for."""
    _, book = built
    sheet = book["Sensitivity"]
    values = f"C8:E{7 + finance_sheets.SENSITIVITY_ROWS}"  # base, low and high value under the key row
    rules = [(rule.formula[0], rule.dxf.numFmt.formatCode) for cf in sheet.conditional_formatting
             if str(cf.sqref) == values for rule in cf.rules if rule.dxf is not None and rule.dxf.numFmt is not None]
    tested = {}
    for formula, code in rules:
        assert formula.startswith("IFERROR(VLOOKUP($B8,FieldsTable,5,FALSE),\"\")=")  # the row's key, its format
        tested[formula.split(")=", 1)[1][1:-1].replace('""', '"')] = code
    assert all(literal == code for literal, code in tested.items())
    inputs = atlas_xl.sensitivity(2e9, "steady", "llama_70b", "runpod", "h100_sxm")["input"]
    for name in list(inputs) + ["price_per_m_tokens"]:  # a per-token offering varies its token price
        assert atlas_xl.fields.number_format(name) in tested, name
    assert [c.value for c in book["Fields"][4]][4] == "Number format"  # column 5 of FieldsTable


def test_xlwings_conf(built):
    _, book = built
    conf = book["xlwings.conf"]
    rows = [(conf[f"A{r}"].value, conf[f"B{r}"].value) for r in range(1, len(sheets.XLWINGS_CONF) + 2)]
    assert rows[:-1] == list(sheets.XLWINGS_CONF) and rows[-1][0] is None  # contiguous from A1
    assert importlib.import_module(dict(sheets.XLWINGS_CONF)["UDF Modules"]).ATLAS_COST


def test_optimize_workbook_fills_the_cells_like_optimize(built, tmp_path, resized_target):
    path, _ = built
    output, result = optimize_workbook(path, tmp_path / "opt.xlsm")  # a fresh template: recalculated to read inputs
    # the Inputs simulator target and workload follow the plan (llama_70b on runpod h100_sxm, the Inputs defaults)
    count = int(atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", latency_ms=250).gpu_count)
    expected = atlas_xl.optimize(resized_target("nvidia_h100_8x_nvlink", count),
                                 {"name": "llama_70b_chat", "model": "llama_70b", "parallelism": {"dp": count // 2},
                                  "sequence": {"prompt": 1024, "generate": 1024}}, sla_p99_ms=120.0)
    assert result.baseline["target"] == f"nvidia_h100_8x_nvlink_as_{count}_gpus"
    assert result.best_knobs == expected.best_knobs
    book = load_workbook(output, keep_vba=True)
    (title, ref), = book.defined_names["OptResults"].destinations
    cells = book[title][ref.replace("$", "")]
    knobs = {row[0].value: row[2].value for row in cells[1:6]}
    assert knobs == expected.best_knobs
    metrics = {row[0].value: row[2].value for row in cells if row[0].value == "tokens_per_sec"}
    assert metrics["tokens_per_sec"] == pytest.approx(expected.best.tokens_per_sec, rel=1e-14)  # openpyxl: 16 digits
    assert "vbaProject.bin" in " ".join(zipfile.ZipFile(output).namelist())  # macros kept
    (title, ref), = load_workbook(path).defined_names["OptLastRun"].destinations
    assert load_workbook(path)[title][ref.replace("$", "")].value == "not run yet"  # the input is untouched
    (title, ref), = book.defined_names["OptLastRun"].destinations
    assert book[title][ref.replace("$", "")].value.startswith("20")


def test_optimize_workbook_reads_edited_inputs(built, tmp_path):
    path, _ = built
    book = load_workbook(path, keep_vba=True)
    (title, ref), = book.defined_names["OptKnobs"].destinations
    book[title]["C11"] = 2  # microbatch
    book[title]["C10"] = "bare"  # virt
    (title, ref), = book.defined_names["OptSlaP99Ms"].destinations
    book[title][ref.replace("$", "")] = 10.0  # an unreachable SLA: nothing accepted
    edited = tmp_path / "edited.xlsm"
    book.save(edited)
    _, result = optimize_workbook(edited, tmp_path / "out.xlsm")
    assert result.start_knobs["microbatch"] == 2 and result.start_knobs["virt"] == "bare"
    assert result.trail == []


def test_libreoffice_opens_and_converts(built, tmp_path):
    path, _ = built
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is required for this test: apt-get install libreoffice-calc-nogui"
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                          capture_output=True, text=True, timeout=240)
    pdf = tmp_path / (path.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists() and pdf.stat().st_size > 10_000, done.stderr


def test_every_sheet_prints_one_page_wide(built):
    _, book = built
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation in ("landscape", "portrait"), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1, sheet.title
    assert book["Ranking"].print_title_rows == "$4:$5" and book["Checks"].print_title_rows == "$6:$6"
    assert book["Offerings"].print_title_rows == "$1:$1"
