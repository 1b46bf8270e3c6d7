"""The template's .xlsm package against what Excel itself writes and accepts without a repair:
content types, relationships, legacy VML buttons and their shape ids, tables, defined names
(ECMA-376 Part 1 §18.2.5), data validations and formulas stored without a leading "="."""
import importlib.util
import posixpath
import re
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest
import xlwings
from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils import FORMULAE
from openpyxl.utils.cell import column_index_from_string, range_boundaries

from udfs import functions
from workbook import template

NS = {"ct": "http://schemas.openxmlformats.org/package/2006/content-types",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
      "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
VBA_PROJECT = "application/vnd.ms-office.vbaProject"
MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
RELATED_TYPES = {"worksheet": "spreadsheetml.worksheet+xml", "styles": "spreadsheetml.styles+xml",
                 "theme": "theme+xml", "table": "spreadsheetml.table+xml", "drawing": "drawing+xml",
                 "chart": "drawingml.chart+xml", "vmlDrawing": "vmlDrawing", "vbaProject": "vbaProject",
                 "ctrlProp": "controlproperties+xml"}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    path = template.build_template(tmp_path_factory.mktemp("package") / template.TEMPLATE_NAME)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def xml(package, part):
    return etree.fromstring(package[part])


def content_types(package):
    root = xml(package, "[Content_Types].xml")
    defaults = {d.get("Extension").lower(): d.get("ContentType") for d in root.findall("ct:Default", NS)}
    overrides = {o.get("PartName"): o.get("ContentType") for o in root.findall("ct:Override", NS)}
    return defaults, overrides


def content_type(package, part):
    defaults, overrides = content_types(package)
    return overrides.get("/" + part) or defaults.get(part.rsplit(".", 1)[-1].lower())


def relationships(package):
    """{rels part: [(id, type, resolved target part)]} for every .rels part."""
    out = {}
    for name in (n for n in package if n.endswith(".rels")):
        source_dir = posixpath.dirname(posixpath.dirname(name))  # xl/worksheets/_rels/x.rels → xl/worksheets
        rows = []
        for rel in xml(package, name).findall("rel:Relationship", NS):
            target = rel.get("Target")
            if rel.get("TargetMode") == "External":
                continue
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(source_dir, target))
            rows.append((rel.get("Id"), rel.get("Type").rsplit("/", 1)[-1], resolved))
        out[name] = rows
    return out


def sheet_parts(package):
    """{sheet name: worksheet part} from workbook.xml and its relationships."""
    ids = {rid: target for rid, _, target in relationships(package)["xl/_rels/workbook.xml.rels"]}
    return {s.get("name"): ids[s.get(f"{{{NS['r']}}}id")]
            for s in xml(package, "xl/workbook.xml").find("m:sheets", NS)}


# -- content types and relationships -------------------------------------------------------------------------
def test_every_part_has_the_content_type_excel_expects(package):
    for part in package:
        if part == "[Content_Types].xml":
            continue
        assert content_type(package, part), f"{part} has no content type"
    assert content_type(package, "xl/workbook.xml") == MACRO_WORKBOOK  # .xlsm: otherwise Excel refuses the file
    assert content_type(package, "xl/vbaProject.bin") == VBA_PROJECT
    for rels, rows in relationships(package).items():
        for _, kind, target in rows:
            expected = RELATED_TYPES.get(kind)
            if expected:
                assert expected in content_type(package, target), f"{rels}: {target} is {content_type(package, target)}"
    _, overrides = content_types(package)
    for part in overrides:
        assert part.lstrip("/") in package, f"[Content_Types].xml names a missing part {part}"


def test_every_relationship_resolves_and_every_part_is_reachable(package):
    rels = relationships(package)
    reachable = set()
    for name, rows in rels.items():
        ids = [rid for rid, _, _ in rows]
        assert len(ids) == len(set(ids)), f"duplicate relationship ids in {name}"
        for rid, kind, target in rows:
            assert target in package, f"{name}: {rid} ({kind}) points at missing {target}"
            reachable.add(target)
    for part in package:
        if part == "[Content_Types].xml" or part.endswith(".rels"):
            continue
        assert part in reachable, f"{part} is in the package but nothing refers to it"
        rels_part = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
        if rels_part in package:
            assert rels_part in rels


def test_vba_project_is_related_from_the_workbook(package):
    kinds = [kind for _, kind, _ in relationships(package)["xl/_rels/workbook.xml.rels"]]
    assert kinds.count("vbaProject") == 1


# -- buttons: legacy VML as Excel (and XlsxWriter) store form controls -------------------------------------------
def test_buttons_are_legacy_drawings_with_unique_shape_ids(package):
    rels = relationships(package)
    shape_ids, idmaps = [], []
    for sheet, part in sheet_parts(package).items():
        root = xml(package, part)
        legacy = root.find("m:legacyDrawing", NS)
        if legacy is None:
            continue
        rels_part = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
        targets = {rid: (kind, target) for rid, kind, target in rels[rels_part]}
        kind, vml_part = targets[legacy.get(f"{{{NS['r']}}}id")]
        assert kind == "vmlDrawing", sheet
        vml = package[vml_part].decode()
        (idmap,) = re.findall(r'<o:idmap v:ext="edit" data="(\d+)"/>', vml)
        idmaps.append(int(idmap))
        for shape in re.findall(r'<v:shape id="_x0000_s(\d+)"', vml):
            shape_ids.append(int(shape))
            block = int(shape) // 1024  # Excel numbers the shapes of drawing n from n × 1024 + 1
            assert block == int(idmap), f"{vml_part}: shape {shape} outside idmap {idmap}"
        assert re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml), vml_part
        assert root.find("m:controls", NS) is None or any(k == "ctrlProp" for _, k, _ in rels[rels_part]), \
            f"{sheet}: <controls> without ctrlProp parts"
    assert len(idmaps) == 2 and len(set(idmaps)) == len(idmaps)
    assert len(set(shape_ids)) == len(shape_ids)
    # the legacy drawing is the sheet's last child before extLst (CT_Worksheet order)
    for part in sheet_parts(package).values():
        root = xml(package, part)
        children = [etree.QName(c).localname for c in root]
        if "legacyDrawing" in children:
            after = children[children.index("legacyDrawing") + 1:]
            assert set(after) <= {"legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                                  "webPublishItems", "tableParts", "extLst"}, (part, after)


# -- names, tables, sheets ---------------------------------------------------------------------------------------------
def reads_as_a1(name):
    match = re.fullmatch(r"([A-Za-z]{1,3})(\d+)", name)
    return bool(match) and column_index_from_string(match.group(1).upper()) <= 16384 and \
        1 <= int(match.group(2)) <= 1048576


def reads_as_r1c1(name):
    return bool(re.fullmatch(r"(?i)r(\d*)(c(\d*))?|c(\d*)", name))


def defined_names(package):
    return [(d.get("name"), d.text) for d in xml(package, "xl/workbook.xml").iter(f"{{{NS['m']}}}definedName")]


def test_every_defined_name_is_valid(package):
    names = defined_names(package)
    assert len(names) > 50
    excel_functions = set(FORMULAE) | {n for n in vars(functions) if n.startswith("ATLAS_")}
    for name, text in names:
        assert re.fullmatch(r"[A-Za-z_\\][A-Za-z0-9_.\\]{0,254}", name), name  # ECMA-376 §18.2.5 characters
        assert not reads_as_a1(name), f"{name} is a cell address"
        assert not reads_as_r1c1(name), f"{name} is an R1C1 address"
        assert name.upper() not in excel_functions, f"{name} is a function name"
        assert text and not text.startswith("="), f"{name} = {text}"
    scoped = [(d.get("name").lower(), d.get("localSheetId")) for d in
              xml(package, "xl/workbook.xml").iter(f"{{{NS['m']}}}definedName")]  # print areas are per sheet
    assert len(scoped) == len(set(scoped)), "names differ only in case"


def test_the_builder_refuses_names_excel_would_repair():
    for bad in ("P50", "p99", "XFD1048576", "R", "c", "R1C1", "RC", "R10C", "Power", "SUM", "ATLAS_COST",
                "1st", "two words", "cost$"):
        assert template.name_problem(bad), bad
    for good in ("LatencyP99Ms", "TokensPerDay", "NodePowerW", "_private", "Tbl.x", "XFE", "P50Ms"):
        assert template.name_problem(good) is None, good


def test_tables_do_not_clash(package):
    names = {n.lower() for n, _ in defined_names(package)}
    parts = sheet_parts(package)
    rels = relationships(package)
    seen_ids, seen_names = set(), set()
    for sheet, part in parts.items():
        rels_part = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
        areas = []
        for _, kind, target in rels.get(rels_part, []):
            if kind != "table":
                continue
            table = xml(package, target)
            display = table.get("displayName")
            assert table.get("id") not in seen_ids and display.lower() not in seen_names
            seen_ids.add(table.get("id"))
            seen_names.add(display.lower())
            assert display.lower() not in names, f"table {display} has the name of a defined name"
            assert display == table.get("name") and not template.name_problem(display)
            columns = [c.get("name") for c in table.find("m:tableColumns", NS)]
            assert len(columns) == len({c.lower() for c in columns}), display
            low_col, low_row, high_col, _ = range_boundaries(table.get("ref"))
            assert len(columns) == high_col - low_col + 1
            header = header_cells(package, part, low_row, low_col, high_col)
            assert header == columns, f"{display}: header cells differ from the table's columns (Excel repairs)"
            areas.append(range_boundaries(table.get("ref")))
        for i, a in enumerate(areas):
            for b in areas[i + 1:]:
                assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], f"{sheet}: tables overlap"


def header_cells(package, part, row, low_col, high_col):
    """The text of the header row's cells (inline or shared strings)."""
    shared = []
    if "xl/sharedStrings.xml" in package:
        shared = ["".join(si.itertext()) for si in xml(package, "xl/sharedStrings.xml")]
    values = {}
    for c in xml(package, part).iter(f"{{{NS['m']}}}c"):
        col = re.match(r"[A-Z]+", c.get("r")).group(0)
        if int(c.get("r")[len(col):]) != row:
            continue
        if c.get("t") == "s":
            values[column_index_from_string(col)] = shared[int(c.find("m:v", NS).text)]
        elif c.get("t") == "inlineStr":
            values[column_index_from_string(col)] = "".join(c.find("m:is", NS).itertext())
        else:
            v = c.find("m:v", NS)
            values[column_index_from_string(col)] = None if v is None else v.text
    return [values.get(i) for i in range(low_col, high_col + 1)]


def test_sheet_names_are_valid(package):
    for name in sheet_parts(package):
        assert 1 <= len(name) <= 31 and not set(name) & set("[]:*?/\\") and name.lower() != "history", name


# -- formulas, validations ---------------------------------------------------------------------------------------------
def test_formulas_and_validations_are_stored_as_excel_stores_them(package):
    validations = 0
    for sheet, part in sheet_parts(package).items():
        root = xml(package, part)
        for f in root.iter(f"{{{NS['m']}}}f"):
            assert f.text is None or not f.text.startswith("="), f"{sheet}: formula {f.text[:40]} stored with '='"
        for dv in root.iter(f"{{{NS['m']}}}dataValidation"):
            formula = dv.find("m:formula1", NS).text
            assert not formula.startswith("="), f"{sheet}: drop-down list stored as {formula}"
            validations += 1
    assert validations >= 6


# -- the pinned add-in ---------------------------------------------------------------------------------------------------
def test_the_vba_loads_the_pinned_xlwings_dll(tmp_path):
    olevba = shutil.which("olevba")
    assert olevba, "olevba (pip install oletools) is required for this test"
    path = template.build_template(tmp_path / template.TEMPLATE_NAME)
    code = subprocess.run([olevba, "--code", str(path)], capture_output=True, text=True).stdout
    dlls = set(re.findall(r'Lib "xlwings(?:32|64)-([0-9.]+)\.dll"', code))
    assert dlls == {template.XLWINGS_VERSION}, dlls
    assert f'XLWINGS_VERSION As String = "{template.XLWINGS_VERSION}"' in code
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("xlwings")]
    assert pins == [f"xlwings=={template.XLWINGS_VERSION}"]


def test_build_refuses_another_xlwings(monkeypatch, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("build_script", Path(__file__).resolve().parents[1] / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    monkeypatch.setattr(xlwings, "__version__", "0.38.0")
    assert build.main(["--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "xlwings 0.38.0 is installed" in err and "pip install xlwings==0.37.8" in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_start_sheet_says_how_to_get_past_blocked_macros_and_name_errors(tmp_path):
    start = load_workbook(template.build_template(tmp_path / template.TEMPLATE_NAME))["Start"]
    text = " ".join(str(c.value) for row in start.iter_rows() for c in row if c.value)
    for needed in ("Unblock", "Trusted Location", "Import functions", "SAVE this file", "#NAME?", "atlas-xl doctor",
                   f"xlwings {template.XLWINGS_VERSION}", "Interpreter_Win"):
        assert needed in text, needed
