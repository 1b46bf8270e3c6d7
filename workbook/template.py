"""The macro-enabled template workbook, built with openpyxl from the catalogs and `workbook.sheets`.

Layout follows the FAST standard / ICAEW code: inputs, calculations and outputs on separate
sheets; a units and a comments column; input cells styled as inputs; defined names generated from
the row specifications; drop-downs fed by the catalog sheets; every catalog an editable Excel
Table whose range is passed to the ATLAS_* functions.

The VBA project is the one Excel produced for xlwings' standalone quickstart (shipped in the
xlwings wheel): ``RunPython``, ``ImportPythonUDFs`` and ``Module1.SampleCall``, which runs
``import <workbook file name>; <name>.main()``. openpyxl carries it into the file (its
``vba_archive`` mechanism, the same one ``keep_vba=True`` uses) together with two form-control
buttons drawn as legacy VML: *Optimize* → ``SampleCall`` and *Import functions* →
``ImportPythonUDFs``.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import xlwings
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import FORMULAE, get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableStyleInfo

import atlas_xl
from atlas_xl.errors import AtlasError
from udfs import calls
from workbook import finance_sheets, sheets
from workbook.reports import save_atomic

TEMPLATE_NAME = "atlas_xl_template.xlsm"
"""The file name is part of the button: SampleCall imports the module named like the workbook."""
BUTTON_MODULE = Path(TEMPLATE_NAME).stem
OPTIMIZE_MACRO = "SampleCall"
IMPORT_MACRO = "ImportPythonUDFs"
XLWINGS_PROJECT = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
XLWINGS_VERSION = "0.37.8"
"""The xlwings release whose VBA the template embeds: its macros load ``xlwings64-<version>.dll``
from the Python installation, which only that release installs. pyproject.toml pins the same."""

NAVY, PALE_YELLOW, PALE_GREEN, GREY = "1F3864", "FFF2CC", "E2EFDA", "808080"
THIN = Side(style="thin", color="BFBFBF")
SIMULATOR_ROWS, SCHEDULE_ROWS, RANK_ROWS, OPTIMIZER_ROWS, LIST_ROWS = 70, 80, 100, 40, 100  # room to grow
SHEET_ORDER = ("Start", "Inputs", "Results", "WhatIf", "Forecast", "Sensitivity", "Simulator", "Schedule", "Optimizer",
               "Checks")


# -- styles (registered once) -------------------------------------------------------------------------
def _register_styles(book):
    border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
    styles = {
        "atlas_title": dict(font=Font(bold=True, size=16, color=NAVY)),
        "atlas_heading": dict(font=Font(bold=True, size=12, color=NAVY), border=Border(bottom=Side("medium", color=NAVY))),
        "atlas_header": dict(font=Font(bold=True, color="FFFFFF"), fill=PatternFill("solid", fgColor=NAVY),
                             alignment=Alignment(vertical="center", wrap_text=True)),
        "atlas_label": dict(font=Font(color="000000")),
        "atlas_key": dict(font=Font(color=GREY, size=9)),
        "atlas_units": dict(font=Font(color=GREY, italic=True)),
        "atlas_comment": dict(font=Font(color=GREY, size=9), alignment=Alignment(wrap_text=False)),
        "atlas_input": dict(font=Font(color="0000FF"), fill=PatternFill("solid", fgColor=PALE_YELLOW), border=border),
        "atlas_calc": dict(font=Font(color="000000"), border=border),
        "atlas_output": dict(font=Font(bold=True, color="000000"), fill=PatternFill("solid", fgColor=PALE_GREEN),
                             border=border),
        "atlas_note": dict(font=Font(color="000000"), alignment=Alignment(wrap_text=True, vertical="top")),
    }
    for name, attrs in styles.items():
        book.add_named_style(NamedStyle(name=name, **attrs))


def _put(sheet, ref, value, style=None, fmt=None):
    cell = sheet[ref]
    cell.value = value
    if isinstance(value, str) and not value.startswith("="):
        cell.data_type = "s"
    if style:
        cell.style = style
    if fmt:
        cell.number_format = fmt
    return cell


def name_problem(name):
    """Why ``name`` cannot be a defined name, or None (ECMA-376 Part 1 §18.2.5 and Excel's rules).

    A name starts with a letter, "_" or "\\", continues with letters, digits, "_", "." or "\\", has
    at most 255 characters, and must not read as a cell reference in A1 form (``P99``, ``AB12``)
    or R1C1 form (``R``, ``C``, ``R2C3``, ``R10``), nor as a worksheet function (``POWER``), which
    Excel repairs by deleting the name or reads as the function.
    """
    if not name or len(name) > 255:
        return f"defined name {name!r} must have 1 to 255 characters"
    if not re.fullmatch(r"[A-Za-z_\\][A-Za-z0-9_.\\]*", name):
        return f"defined name {name!r} has a character Excel does not allow (letters, digits, _ . \\ only)"
    if re.fullmatch(r"[A-Za-z]{1,3}[0-9]+", name):
        return f"defined name {name!r} reads as a cell address (A1 form)"
    if re.fullmatch(r"[RrCc][0-9]*|[Rr][0-9]*[Cc][0-9]*", name):
        return f"defined name {name!r} reads as a cell address (R1C1 form)"
    if name.upper() in FORMULAE or name.upper().startswith("ATLAS_"):
        return f"defined name {name!r} is the name of a worksheet function"
    return None


def _define(book, name, attr_text):
    """Every defined name of the template goes through here: a name Excel would repair stops the build."""
    problem = name_problem(name)
    if problem:
        raise ValueError(problem + " — rename it in workbook/sheets.py")
    book.defined_names[name] = DefinedName(name, attr_text=attr_text)


def _name(book, name, sheet, ref):
    _define(book, name, f"{quote_sheetname(sheet.title)}!{_absolute(ref)}")


def _absolute(ref):
    def one(cell):
        letters = "".join(c for c in cell if c.isalpha())
        return f"${letters}${cell[len(letters):]}"
    return ":".join(one(part) for part in ref.split(":"))


def _widths(sheet, widths):
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _title(sheet, title, subtitle):
    _put(sheet, "A1", title, "atlas_title")
    _put(sheet, "A2", subtitle, "atlas_comment")
    sheet.sheet_view.showGridLines = False


# -- row-spec sheets (Inputs, Results) ---------------------------------------------------------------
def _render_blocks(book, sheet, blocks, style, start_row=4):
    """Render blocks of rows in columns Label | Key | Value | Units | Comment; returns the next row."""
    row = start_row
    for column, heading in enumerate(("Item", "Key", "Value", "Units", "Comment"), start=1):
        _put(sheet, f"{get_column_letter(column)}{row}", heading, "atlas_header")
    row += 2
    for block in blocks:
        _put(sheet, f"A{row}", block.title, "atlas_heading")
        for column in "BCDE":
            sheet[f"{column}{row}"].style = "atlas_heading"
        row += 1
        first = row
        for spec in block.rows:
            _put(sheet, f"A{row}", spec.label, "atlas_label")
            _put(sheet, f"B{row}", spec.key, "atlas_key")
            cell = _put(sheet, f"C{row}", spec.value, style, spec.fmt)
            if isinstance(spec.value, str) and not spec.value.startswith("="):
                cell.alignment = Alignment(horizontal="left", shrink_to_fit=True)
            _put(sheet, f"D{row}", spec.units, "atlas_units")
            _put(sheet, f"E{row}", spec.comment, "atlas_comment")
            if block.named:
                _name(book, sheets.name_of(spec.key), sheet, f"C{row}")
            if spec.choices:
                _validate(sheet, f"C{row}", spec.choices)
            row += 1
        if block.kv_name:
            _name(book, block.kv_name, sheet, f"B{first}:C{row - 1}")
        row += 1
    return row


def _validate(sheet, ref, list_name):
    rule = DataValidation(type="list", formula1=list_name, allow_blank=True, showErrorMessage=True,  # as Excel stores it
                          errorStyle="warning", errorTitle="Not in the catalog",
                          error="This name is not in the catalog sheet. Keep it only if you add it there.")
    sheet.add_data_validation(rule)
    rule.add(ref)


# -- catalog sheets ---------------------------------------------------------------------------------
def _catalog_sheets(book, catalog):
    for table, (title, range_name, list_name) in sheets.CATALOG_SHEETS.items():
        sheet = book.create_sheet(title)
        frame = catalog.tables[table]
        columns = list(frame.columns)
        for column, heading in enumerate(columns, start=1):
            sheet.cell(row=1, column=column, value=heading)
        for r, values in enumerate(frame.astype(object).values.tolist(), start=2):
            for c, value in enumerate(values, start=1):
                if value == "" or (isinstance(value, float) and value != value):
                    continue
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # a name beginning with "=" stays text
        last_col = get_column_letter(len(columns))
        last_row = len(frame) + 1
        name = "tbl" + title
        excel_table = Table(displayName=name, ref=f"A1:{last_col}{last_row}")
        excel_table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        sheet.add_table(excel_table)
        _name(book, range_name, sheet, f"A1:{last_col}{last_row + sheets.SPARE_ROWS}")
        if list_name:
            _define(book, list_name, f"OFFSET({quote_sheetname(title)}!$A$2,0,0,"
                                     f"MAX(1,COUNTA({quote_sheetname(title)}!$A:$A)-1),1)")
        for column, heading in enumerate(columns, start=1):
            width = 48 if heading in ("source", "notes", "description") else max(12, min(30, len(heading) + 3))
            sheet.column_dimensions[get_column_letter(column)].width = width
        sheet.freeze_panes = "B2"
        sheet.sheet_properties.tabColor = "A6A6A6"


# -- the sheets --------------------------------------------------------------------------------------
def _start(sheet, book):
    _title(sheet, "atlas_xl — LLM serving cost and performance planner",
           f"Built by atlas_xl {atlas_xl.__version__}. Inputs are blue on yellow; everything else is calculated.")
    text = [
        ("What it does", "Turns a workload (tokens per day, traffic pattern, model, latency need) into GPU counts, "
                         "monthly cost per platform, cost per million tokens and a ranking; simulates the chosen "
                         "hardware (throughput, P50/P95/P99/TTFT with queueing, power, energy cost) and tunes it."),
        ("What it needs", "Windows desktop Excel; Python 3.11+ with atlas_xl installed (pip install atlas-xl, "
                          "which brings xlwings); macros enabled for this file."),
        ("Set-up, once", "1. In a terminal: pip install atlas-xl (or pip install -e . in the atlas_xl folder); it brings "
                         f"xlwings {XLWINGS_VERSION}, the version these macros need. Then run: atlas-xl doctor"),
        ("", "2. A copy that came by e-mail or download has its macros blocked (Mark of the Web): close it, "
             "right-click the file > Properties > tick Unblock > OK. Or keep it in a Trusted Location."),
        ("", "3. Excel: File > Options > Trust Center > Macro Settings: tick 'Trust access to the VBA project "
             "object model' (needed by step 5 only)."),
        ("", "4. If python.exe is not on PATH: on the xlwings.conf sheet add a row Interpreter_Win | "
             "C:\\path\\to\\python.exe directly below the existing rows."),
        ("", "5. Click 'Import functions' (right) once, then SAVE this file (Ctrl+S): the ATLAS_* functions are "
             "written into the workbook and stay only if it is saved. Then Ctrl+Alt+F9 recalculates."),
        ("", "6. Keep the file name atlas_xl_template.xlsm: the Optimize button runs the Python module of the "
             "same name. To keep several copies, put them in different folders."),
        ("#NAME? in cells", "This file has no ATLAS_* functions yet: do step 5 (Import functions, then save). "
                            "Text in a cell (unknown platform ...) is a message from a function: fix the input it names."),
        ("Without Excel", "On a server: atlas-xl recalc FILE -o OUT recalculates every formula; atlas-xl "
                          "optimize-workbook FILE -o OUT does what the Optimize button does."),
        ("Catalog check", "=CatalogCheck"),
    ]
    row = 4
    for label, value in text:
        _put(sheet, f"A{row}", label, "atlas_label").font = Font(bold=True)
        cell = _put(sheet, f"B{row}", value, "atlas_note" if label != "Catalog check" else "atlas_output")
        if label != "Catalog check":
            sheet.merge_cells(f"B{row}:H{row}")
            sheet.row_dimensions[row].height = 15 * -(-len(value) // 95) + 1  # one line per ~95 characters
        row += 1
    row += 1
    _put(sheet, f"A{row}", "Contents", "atlas_heading")
    row += 1
    contents = [(t, d) for t, d in (
        ("Inputs", "the workload, overrides, assumptions and the simulator's target, workload and knobs"),
        ("Results", "planner and simulator outputs, the ranking of every offering and a cost chart"),
        ("WhatIf", "monthly cost over tokens per day × offering and × traffic pattern"),
        ("Forecast", "month-by-month cost as usage grows, P10–P90 band, commitments, break-even month"),
        ("Sensitivity", "tornado: which input moves the monthly cost most"),
        ("Simulator", "the whole simulation record"),
        ("Schedule", "the multi-phase schedule, aggregated and per phase"),
        ("Optimizer", "the SLA, starting knobs, the Optimize button and its results"),
        ("Checks", "catalog integrity: blanks, duplicates, negative prices"),
    )] + [(title, "catalog (editable Excel Table)") for title, _, _ in sheets.CATALOG_SHEETS.values()] + [
        ("xlwings.conf", "settings read by xlwings: the UDF module and options")]
    for title, description in contents:
        cell = _put(sheet, f"A{row}", title, "atlas_label")
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheetname(title)}!A1", display=title)
        cell.font = Font(color="0563C1", underline="single")
        _put(sheet, f"B{row}", description, "atlas_comment")
        row += 1
    _widths(sheet, [18, 14, 14, 14, 14, 14, 14, 14, 4, 18])


def _results(book, sheet):
    _title(sheet, "Results", "Every value is an ATLAS_* formula over the Inputs sheet and the catalog sheets.")
    row = _render_blocks(book, sheet, sheets.RESULTS, "atlas_output")
    _put(sheet, f"A{row}", "Ranking — every offering that serves the model, best first (cost + penalties)",
         "atlas_heading")
    top = row + 1
    fields = [f.strip() for f in sheets.input_row("rank_fields").value.split(",")]
    width = len(fields)
    ref = f"A{top}:{get_column_letter(width)}{top + RANK_ROWS}"
    sheet[f"A{top}"] = ArrayFormula(ref, "=ATLAS_RANK(TokensPerDay,Pattern,Model,LatencyMs,,RankFields,Assumptions,"
                                         "GpusTable,ModelsTable,PatternsTable,OfferingsTable,ThroughputTable,"
                                         "Precision,InputTokens,OutputTokens,TtftLimitMs,TpotLimitMs)")
    _name(book, "Ranking", sheet, ref)
    formats = {"gpu_count": "0", "utilization_after": sheets.PCT, "monthly_cost_usd": sheets.USD,
               "idle_waste_usd": sheets.USD, "cost_per_m_tokens_usd": sheets.USD_MILLI, "penalty_usd": sheets.USD,
               "score_usd": sheets.USD, "rank": "0"}
    for column, field in enumerate(fields, start=1):
        letter = get_column_letter(column)
        sheet[f"{letter}{top}"].style = "atlas_header"
        for row in range(top + 1, top + RANK_ROWS + 1):
            sheet[f"{letter}{row}"].number_format = formats.get(field, "General")
    chart = BarChart()
    chart.type, chart.style = "bar", 10
    chart.title = "Monthly cost by offering (best 15)"
    chart.y_axis.title = "USD per month"
    cost_column = fields.index("monthly_cost_usd") + 1
    chart.add_data(Reference(sheet, min_col=cost_column, min_row=top, max_row=top + 15), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=2, max_col=3, min_row=top + 1, max_row=top + 15))
    chart.x_axis.scaling.orientation = "maxMin"
    chart.legend = None
    chart.height, chart.width = 9, 16
    sheet.add_chart(chart, "G4")
    _widths(sheet, [26, 14, 16, 12, 40, 10, 10, 12, 12, 10, 10, 12])


def _whatif(book, sheet):
    _title(sheet, "What-if", "Monthly cost [USD/month] for the model and inputs of the Inputs sheet. Edit the "
                             "blue axes; each grid is one array formula.")
    offers = sheets.WHATIF_OFFERINGS
    platforms, gpus = [p for p, _ in offers], [g for _, g in offers]
    top = _whatif_grid(book, sheet, 4, "By offering", [("Platform", platforms), ("GPU (blank = per-token)", gpus)],
                       lambda axes: {"Platform": axes[0], "Gpu": axes[1]}, "WhatIfByOffering")
    _whatif_grid(book, sheet, top + 2, "By traffic pattern (the Inputs platform and GPU)",
                 [("Pattern", list(sheets.WHATIF_PATTERNS))], lambda axes: {"Pattern": axes[0]}, "WhatIfByPattern")
    _widths(sheet, [24] + [15] * len(offers))


def _whatif_grid(book, sheet, top, heading, axes, replaces, name):
    """A grid of monthly cost: tokens per day down column A × the ``axes`` rows across, filled by
    one ATLAS_COST array formula. Returns the last row used."""
    volumes = sheets.WHATIF_VOLUMES
    width = len(axes[0][1])
    last_col = get_column_letter(1 + width)
    _put(sheet, f"A{top}", heading, "atlas_heading")
    refs = []
    for i, (label, values) in enumerate(axes, start=top + 1):
        _put(sheet, f"A{i}", label, "atlas_label")
        for j, value in enumerate(values):
            _put(sheet, f"{get_column_letter(2 + j)}{i}", value, "atlas_input")
        refs.append(f"B{i}:{last_col}{i}")
    header = top + 1 + len(axes)
    _put(sheet, f"A{header}", "Tokens per day", "atlas_header")
    for j in range(width):
        sheet[f"{get_column_letter(2 + j)}{header}"].style = "atlas_header"
    first, last = header + 1, header + len(volumes)
    for i, volume in enumerate(volumes):
        _put(sheet, f"A{first + i}", volume, "atlas_input", sheets.COUNT)
    grid = f"B{first}:{last_col}{last}"
    formula = sheets.plan_formula("ATLAS_COST", TokensPerDay=f"A{first}:A{last}", **replaces(refs))
    sheet[f"B{first}"] = ArrayFormula(grid, formula)
    _style_grid(sheet, grid)
    _name(book, name, sheet, grid)
    return last


def _style_grid(sheet, ref):
    for row in sheet[ref]:
        for cell in row:
            cell.style = "atlas_calc"
            cell.number_format = sheets.USD


def _array_sheet(book, sheet, title, subtitle, function, rows, columns, name):
    _title(sheet, title, subtitle)
    ref = f"A4:{get_column_letter(columns)}{4 + rows - 1}"
    sheet["A4"] = ArrayFormula(ref, sheets.sim_formula(function))
    for row in sheet[ref]:
        for cell in row:
            cell.number_format = "#,##0.00##"
    for cell in sheet[4][:columns]:
        cell.style = "atlas_header"
    _name(book, name, sheet, ref)
    _widths(sheet, [30] + [16] * (columns - 1))


def _optimizer(book, sheet):
    _title(sheet, "Optimizer", "Hill-climbs the knobs of the Inputs target and workload for throughput within "
                               "the P99 SLA. Click Optimize; results below are values written by Python.")
    _put(sheet, "A4", "SLA: P99 below", "atlas_label")
    _put(sheet, "B4", "sla_p99_ms", "atlas_key")
    _put(sheet, "C4", 120, "atlas_input", sheets.COUNT)
    _put(sheet, "D4", "ms", "atlas_units")
    _name(book, "OptSlaP99Ms", sheet, "C4")
    _put(sheet, "A6", "Starting knobs (blank = the workload's)", "atlas_heading")
    knobs = sheets.INPUTS[-1].rows
    for i, spec in enumerate(knobs, start=7):
        _put(sheet, f"A{i}", spec.label, "atlas_label")
        _put(sheet, f"B{i}", spec.key, "atlas_key")
        _put(sheet, f"C{i}", None, "atlas_input")
        _put(sheet, f"D{i}", spec.units, "atlas_units")
    _name(book, "OptKnobs", sheet, f"B7:C{6 + len(knobs)}")
    results = 8 + len(knobs)
    _put(sheet, f"A{results}", "Results (written by the Optimize button or atlas-xl optimize-workbook)",
         "atlas_heading")
    _put(sheet, f"A{results + 1}", "Last run", "atlas_label")
    _put(sheet, f"B{results + 1}", "not run yet", "atlas_comment")
    _name(book, "OptLastRun", sheet, f"B{results + 1}")
    _name(book, "OptResults", sheet, f"A{results + 2}:E{results + 1 + OPTIMIZER_ROWS}")
    _widths(sheet, [30, 24, 16, 16, 12])


def _checks(book, sheet):
    _title(sheet, "Checks", "Catalog integrity, as ordinary formulas. 0 = fine.")
    for column, heading in enumerate(("Catalog", "Check", "Count", "Status"), start=1):
        _put(sheet, f"{get_column_letter(column)}4", heading, "atlas_header")
    row = 5
    for table, (title, _, _) in sheets.CATALOG_SHEETS.items():
        schema, keys = atlas_xl.catalog.SCHEMAS[table]
        columns = [c.name for c in schema]
        last = len(atlas_xl.load_catalog().tables[table]) + 1 + sheets.SPARE_ROWS
        sheet_ref = quote_sheetname(title)

        def col(name):
            letter = get_column_letter(columns.index(name) + 1)
            return f"{sheet_ref}!${letter}$2:${letter}${last}"

        source = col("source")
        required = [c.name for c in schema if c.required and c.name != "source"]
        blanks = "+".join(f'COUNTIFS({source},"<>",{col(c)},"")' for c in required)
        checks = [("required cells left blank", f"={blanks}")]
        if len(keys) == 1:
            key = col(keys[0])
            checks.append(("duplicate keys", f'=SUMPRODUCT(({key}<>"")*(COUNTIF({key},{key})>1))'))
        else:
            parts = ",".join(f"{col(k)},{col(k)}" for k in keys)
            checks.append(("duplicate keys", f'=SUMPRODUCT(({col(keys[0])}<>"")*(COUNTIFS({parts})>1))'))
        limits = [(c.name, "<=0" if c.positive else f"<{c.minimum:g}") for c in schema
                  if c.kind in ("number", "int") and (c.positive or c.minimum is not None)]
        if limits:
            checks.append(("below the allowed minimum (negative price...)",
                           "=" + "+".join(f'COUNTIF({col(name)},"{limit}")' for name, limit in limits)))
        for label, formula in checks:
            _put(sheet, f"A{row}", title, "atlas_label")
            _put(sheet, f"B{row}", label, "atlas_label")
            _put(sheet, f"C{row}", formula, "atlas_calc", "0")
            _put(sheet, f"D{row}", f'=IF(C{row}=0,"OK","CHECK")', "atlas_calc")
            row += 1
    row += 1
    _put(sheet, f"A{row}", "All catalogs", "atlas_heading")
    _put(sheet, f"C{row}", f"=SUM(C5:C{row - 2})", "atlas_output", "0")
    _put(sheet, f"D{row}", f'=IF(C{row}=0,"OK: catalogs are complete","CHECK: see the Checks sheet")',
         "atlas_output")
    _name(book, "CatalogCheck", sheet, f"D{row}")
    _widths(sheet, [18, 36, 10, 30])


def _lists(book, sheet):
    """Drop-down lists that are not one catalog column: the distinct platforms of Offerings."""
    _put(sheet, "A1", "Distinct platforms of the Offerings sheet (for the Inputs drop-down)", "atlas_comment")
    sheet["A2"] = ArrayFormula(f"A2:A{1 + LIST_ROWS}", '=ATLAS_CATALOG("platforms",OfferingsTable)')
    _define(book, "PlatformList", f'OFFSET(Lists!$A$2,0,0,MAX(1,COUNTIF(Lists!$A$2:$A${1 + LIST_ROWS},"?*")),1)')
    sheet.sheet_state = "hidden"
    _widths(sheet, [40])


def _conf(sheet):
    for row, (key, value) in enumerate(sheets.XLWINGS_CONF, start=1):
        _put(sheet, f"A{row}", key)
        _put(sheet, f"B{row}", value)
    _put(sheet, "D1", "Read by xlwings from A1 down to the first blank row: keep no header, add rows directly "
                      "below (e.g. Interpreter_Win | C:\\path\\to\\python.exe).", "atlas_comment")
    _widths(sheet, [18, 22, 4, 90])


# -- VBA project and buttons ---------------------------------------------------------------------------
BUTTON_VML = """<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" \
xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/>\
</o:shapelayout><v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">\
<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" o:connecttype="rect"/>\
<o:lock v:ext="edit" shapetype="t"/></v:shapetype><v:shape id="_x0000_s{shape_id}" type="#_x0000_t201" \
style="position:absolute;margin-left:0;margin-top:0;width:140pt;height:30pt;z-index:1;mso-wrap-style:tight" \
o:button="t" fillcolor="buttonFace [67]" strokecolor="windowText [64]" o:insetmode="auto"><v:fill \
color2="buttonFace [67]" o:detectmouseclick="t"/><o:lock v:ext="edit" rotation="t"/><v:textbox \
style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center"><font face="Calibri" size="220" \
color="#000000">{caption}</font></div></v:textbox><x:ClientData ObjectType="Button"><x:Anchor>{anchor}</x:Anchor>\
<x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill><x:FmlaMacro>[0]!{macro}</x:FmlaMacro>\
<x:TextHAlign>Center</x:TextHAlign><x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape></xml>"""


def _button_vml(number, caption, macro, column, row):
    """A form-control button (legacy VML, as Excel and XlsxWriter write it) bound to ``macro``."""
    anchor = f"{column}, 0, {row}, 0, {column + 2}, 0, {row + 2}, 0"  # 0-based: col, dx, row, dy × 2
    return BUTTON_VML.format(idmap=number, shape_id=1024 * number + 1, caption=caption, macro=macro, anchor=anchor)


def _vba_archive(buttons):
    """The in-memory archive openpyxl merges into the saved file: xlwings' Excel-authored
    vbaProject.bin, its content types, and one VML drawing per button."""
    with zipfile.ZipFile(XLWINGS_PROJECT) as source:
        parts = {name: source.read(name) for name in ("xl/vbaProject.bin", "[Content_Types].xml", "_rels/.rels")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        for path, vml in buttons.items():
            archive.writestr(path, vml)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def check_xlwings(installed):
    """Refuse to embed the VBA of an xlwings other than the pinned one (its macros would look for
    a DLL that the user's pinned install does not have: "File not found")."""
    if installed != XLWINGS_VERSION:
        raise AtlasError(f"xlwings {installed} is installed, but the template's macros are pinned to "
                         f"{XLWINGS_VERSION} (xlwings64-{XLWINGS_VERSION}.dll) — run: pip install xlwings=={XLWINGS_VERSION}")


# -- the workbook ----------------------------------------------------------------------------------------
def build_template(path, catalog=None, overwrite=True):
    """Write the template workbook to ``path`` (atomically); returns the path.

    ``catalog`` (a Catalog, folder or dict; default built-in) fills the catalog sheets.
    """
    check_xlwings(xlwings.__version__)
    cat = atlas_xl.load_catalog(catalog)
    book = Workbook()
    _register_styles(book)
    start = book.active
    start.title = "Start"
    created = {"Start": start}
    for title in SHEET_ORDER[1:]:
        created[title] = book.create_sheet(title)
    _start(start, book)
    inputs = created["Inputs"]
    _title(inputs, "Inputs", "Blue on yellow cells are inputs. Keys (grey) are what the ATLAS_* functions read.")
    _render_blocks(book, inputs, sheets.INPUTS, "atlas_input")
    _widths(inputs, [30, 26, 22, 12, 70])
    _results(book, created["Results"])
    _whatif(book, created["WhatIf"])
    finance_sheets.forecast_template_sheet(book, created["Forecast"], _name)
    finance_sheets.sensitivity_template_sheet(book, created["Sensitivity"], _name)
    _array_sheet(book, created["Simulator"], "Simulator", "ATLAS_SIMULATE for the Inputs target, workload and knobs.",
                 "ATLAS_SIMULATE", SIMULATOR_ROWS, 2, "SimulationRecord")
    _array_sheet(book, created["Schedule"], "Schedule", "ATLAS_SCHEDULE: aggregated by phase duration, then each "
                 "phase of the Inputs workload.", "ATLAS_SCHEDULE", SCHEDULE_ROWS, len(calls.PHASE_COLUMNS), "ScheduleTable")
    _optimizer(book, created["Optimizer"])
    _checks(book, created["Checks"])
    _catalog_sheets(book, cat)
    _lists(book, book.create_sheet("Lists"))
    _conf(book.create_sheet("xlwings.conf"))
    for number, sheet in enumerate(book.worksheets, start=1):
        sheet.sheet_properties.codeName = f"Sheet{number}"
        sheet.page_setup.orientation = "landscape"
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    book.code_name = "ThisWorkbook"
    start.legacy_drawing = "xl/drawings/vmlDrawing1.vml"
    created["Optimizer"].legacy_drawing = "xl/drawings/vmlDrawing2.vml"
    book.vba_archive = _vba_archive({
        start.legacy_drawing: _button_vml(1, "Import functions", IMPORT_MACRO, 9, 3),
        created["Optimizer"].legacy_drawing: _button_vml(2, "Optimize", OPTIMIZE_MACRO, 5, 3),
    })
    return save_atomic(book, path, overwrite)


