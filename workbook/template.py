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
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import FORMULAE, get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableStyleInfo

import atlas_xl
import atlas_xl.prices  # noqa: F401  (MAX_PRICE_AGE_DAYS for the Checks sheet)
from atlas_xl.errors import AtlasError
from udfs import calls
from atlas_xl import fields
from workbook import finance_sheets, layout, sheets
from workbook.layout import put
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
SHEET_ORDER = ("Start", "Inputs", "Results", "Ranking", "WhatIf", "Forecast", "Sensitivity", "Simulator", "Schedule",
               "Optimizer", "Checks")


# -- styles (registered once) -------------------------------------------------------------------------
def _register_styles(book):
    border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
    font = layout.FONT  # named, so LibreOffice draws a sans font as Excel does
    styles = {
        "atlas_title": dict(font=Font(name=font, bold=True, size=16, color=NAVY)),
        "atlas_heading": dict(font=Font(name=font, bold=True, size=12, color=NAVY),
                              border=Border(bottom=Side("medium", color=NAVY))),
        "atlas_header": dict(font=Font(name=font, bold=True, color="FFFFFF"), fill=PatternFill("solid", fgColor=NAVY),
                             alignment=Alignment(vertical="center", wrap_text=True)),
        "atlas_label": dict(font=Font(name=font, color="000000")),
        "atlas_key": dict(font=Font(name=font, color=GREY, size=9)),
        "atlas_units": dict(font=Font(name=font, color=GREY, italic=True), alignment=Alignment(indent=1)),
        "atlas_comment": dict(font=Font(name=font, color=GREY, size=9), alignment=Alignment(wrap_text=False)),
        "atlas_input": dict(font=Font(name=font, color="0000FF"), fill=PatternFill("solid", fgColor=PALE_YELLOW),
                            border=border),
        "atlas_calc": dict(font=Font(name=font, color="000000"), border=border),
        "atlas_output": dict(font=Font(name=font, bold=True, color="000000"), fill=PatternFill("solid", fgColor=PALE_GREEN),
                             border=border),
        "atlas_note": dict(font=Font(name=font, color="000000"), alignment=Alignment(wrap_text=True, vertical="top")),
    }
    for name, attrs in styles.items():
        book.add_named_style(NamedStyle(name=name, **attrs))


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
    put(sheet, "A1", title, "atlas_title")
    put(sheet, "A2", subtitle, "atlas_comment")
    sheet.sheet_view.showGridLines = False


# -- row-spec sheets (Inputs, Results) ---------------------------------------------------------------
def _render_blocks(book, sheet, blocks, style, start_row=4):
    """Render blocks of rows in columns Label | Key | Value | Units | Comment; returns the next row."""
    row = start_row
    for column, heading in enumerate(("Item", "Key", "Value", "Units", "Comment"), start=1):
        put(sheet, f"{get_column_letter(column)}{row}", heading, "atlas_header")
    row += 2
    for block in blocks:
        put(sheet, f"A{row}", block.title, "atlas_heading")
        for column in "BCDE":
            sheet[f"{column}{row}"].style = "atlas_heading"
        row += 1
        first = row
        for spec in block.rows:
            put(sheet, f"A{row}", spec.label, "atlas_label")
            put(sheet, f"B{row}", spec.key, "atlas_key")
            fmt = spec.fmt or (fields.YES_NO if spec.units == "TRUE/FALSE" and style == "atlas_output" else None)
            formula = isinstance(spec.value, str) and spec.value.startswith("=")
            shown = "atlas_calc" if style == "atlas_input" and formula else style  # an input row that follows the plan
            value = ArrayFormula(f"C{row}", spec.value) if spec.array else spec.value  # LibreOffice: a table in VLOOKUP
            cell = put(sheet, f"C{row}", value, shown, fmt)  # a TRUE/FALSE result reads yes/no everywhere
            if isinstance(spec.value, str) and not spec.value.startswith("="):
                cell.alignment = Alignment(horizontal="left", shrink_to_fit=True)
            put(sheet, f"D{row}", spec.units, "atlas_units").alignment = Alignment(indent=1)
            put(sheet, f"E{row}", spec.comment, "atlas_comment")
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
                cell.alignment = Alignment(vertical="top", indent=1 if c > 1 and isinstance(value, str) else 0)
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
            long_text = heading in ("source", "notes", "description")
            longest = max([len(str(v)) for v in frame[heading] if v == v] + [len(heading)])  # v == v: not NaN
            width = 48 if long_text else max(10, min(30, longest + 3))
            sheet.column_dimensions[get_column_letter(column)].width = width
            if long_text:  # wrapped in their column, so a printed page is as wide as the table
                for row in range(2, last_row + 1):
                    cell = sheet.cell(row=row, column=column)
                    cell.alignment = Alignment(wrap_text=True, vertical="top", indent=1)
                    height = _text_height(str(cell.value or ""), width - 1) - 2
                    sheet.row_dimensions[row].height = max(sheet.row_dimensions[row].height or 15, height)
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
        ("Checks", "=AllChecks"),
    ]
    row = 4
    for label, value in text:
        label_cell = put(sheet, f"A{row}", label, "atlas_label")
        label_cell.font = Font(name=layout.FONT, bold=True)
        label_cell.alignment = Alignment(vertical="top")
        cell = put(sheet, f"B{row}", value, "atlas_note" if label != "Checks" else "atlas_output")
        if label != "Checks":
            sheet.merge_cells(f"B{row}:H{row}")
            sheet.row_dimensions[row].height = _text_height(value, START_TEXT_WIDTH)
        else:  # the overall check: red until every check passes
            sheet.merge_cells(f"B{row}:E{row}")
            sheet.conditional_formatting.add(f"B{row}", FormulaRule(
                formula=[f'LEFT(B{row},2)<>"OK"'], fill=PatternFill("solid", fgColor="C00000"),
                font=Font(name=layout.FONT, bold=True, color="FFFFFF")))
        row += 1
    row += 1
    put(sheet, f"A{row}", "Contents", "atlas_heading")
    row += 1
    contents = [(t, d) for t, d in (
        ("Inputs", "the workload, overrides, assumptions and the simulator's target, workload and knobs"),
        ("Results", "planner and simulator outputs for the Inputs offering"),
        ("Ranking", "every offering that serves the model, best first, and a cost chart"),
        ("WhatIf", "monthly cost over tokens per day × offering and × traffic pattern"),
        ("Forecast", "month-by-month cost as usage grows, P10–P90 band, commitments, break-even month"),
        ("Sensitivity", "tornado: which input moves the monthly cost most"),
        ("Simulator", "the whole simulation record"),
        ("Schedule", "the multi-phase schedule, aggregated and per phase"),
        ("Optimizer", "the SLA, starting knobs, the Optimize button and its results"),
        ("Checks", "inputs in range, results without errors, catalog integrity; one overall check"),
    )] + [(title, "catalog (editable Excel Table)") for title, _, _ in sheets.CATALOG_SHEETS.values()] + [
        ("Fields", "display name, units and number format of every output field"),
        ("xlwings.conf", "settings read by xlwings: the UDF module and options")]
    for title, description in contents:
        cell = put(sheet, f"A{row}", title, "atlas_label")
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheetname(title)}!A1", display=title)
        cell.font = Font(name=layout.FONT, color="0563C1", underline="single")
        put(sheet, f"B{row}", description, "atlas_comment")
        row += 1
    _widths(sheet, [18] + [START_TEXT_WIDTH / 7] * 7 + [4, 18])


START_TEXT_WIDTH = 98  # characters across the merged B:H of the Start sheet


def _text_height(text, width):
    """Row height [points] that shows ``text`` wrapped in a ``width``-character cell (15 pt a line;
    a line holds about 0.9 × width characters of proportional text, as LibreOffice wraps it)."""
    return 15 * layout.wrapped_lines(text, width * 0.9) + 2


def _results(book, sheet):
    _title(sheet, "Results", "Every value is an ATLAS_* formula over the Inputs sheet and the catalog sheets.")
    _render_blocks(book, sheet, sheets.RESULTS, "atlas_output")
    _widths(sheet, [26, 20, 18, 16, 40])
    _wrap_value(sheet, "sim_deployment", "gpt_oss_120b on 16 × h100_sxm in replicas of 8")  # the longest kind


def _wrap_value(sheet, key, longest):
    """The value (column C) of the row keyed ``key`` wrapped, its row as high as ``longest`` needs: a text
    longer than the column would be cut off by the units beside it."""
    width = sheet.column_dimensions["C"].width
    for row in sheet.iter_rows(min_col=2, max_col=3):
        if row[0].value == key:
            a = row[1].alignment
            row[1].alignment = Alignment(horizontal=a.horizontal, indent=a.indent, wrap_text=True, vertical="top")
            sheet.row_dimensions[row[0].row].height = _text_height(longest, width - 1)


def _ranking(book, sheet, cat):
    """ATLAS_RANK spilled from row 5 (its own header row of field keys, grey), under a header row of
    display names and units looked up in the Fields sheet, so edited RankFields still read well."""
    _title(sheet, "Ranking", "Every offering that serves the model, best first: penalty score, then monthly cost "
                             "(ATLAS_RANK). Penalties rank setups; they are not billed.")
    heading, top = 4, 5
    names = [f.strip() for f in sheets.input_row("rank_fields").value.split(",")]
    width = len(names)
    last_col = get_column_letter(width)
    ref = f"A{top}:{last_col}{top + RANK_ROWS}"
    sheet[f"A{top}"] = ArrayFormula(ref, sheets.formula("ATLAS_RANK", **sheets.inputs_for("ATLAS_RANK"),
                                                        fields="RankFields"))
    _name(book, "Ranking", sheet, ref)
    sample = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250, catalog=cat)  # sizes the columns
    for column, name in enumerate(names, start=1):
        letter = get_column_letter(column)
        put(sheet, f"{letter}{heading}", f'=IF({letter}{top}="","",IFERROR(VLOOKUP({letter}{top},FieldsTable,2,FALSE),'
                                          f'{letter}{top}))', "atlas_header")
        sheet[f"{letter}{heading}"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet[f"{letter}{top}"].style = "atlas_key"
        fmt = fields.number_format(name)
        shown = [fields.display(v, fmt) for v in (sample[name] if name in sample else [])]
        for row in range(top + 1, top + RANK_ROWS + 1):
            sheet[f"{letter}{row}"].number_format = "General" if fmt == fields.TEXT else fmt
            if fmt == fields.INTEGER:
                sheet[f"{letter}{row}"].alignment = Alignment(horizontal="center")
            elif fmt == fields.TEXT and column > 1:  # text set off from a number on its left
                sheet[f"{letter}{row}"].alignment = Alignment(indent=1)
        layout.set_width(sheet, column, layout.fit_width(shown + [name], layout.heading_text(name)))
    sheet.row_dimensions[heading].height = layout.header_height(sheet, names)
    sheet.freeze_panes = f"C{top + 1}"
    # chart helpers beside the table, found by key so they follow edited RankFields
    label_col, cost_col = width + 2, width + 3
    keys = f"$A${top}:${last_col}${top}"
    put(sheet, f"{get_column_letter(label_col)}{heading}", "Chart label", "atlas_header")
    put(sheet, f"{get_column_letter(cost_col)}{heading}", "Monthly cost [USD/month]", "atlas_header")
    for row in range(top + 1, top + 1 + CHART_BARS):
        cells = f"$A{row}:${last_col}{row}"
        platform = f'IFERROR(INDEX({cells},MATCH("platform",{keys},0)),"")'
        gpu = f'IFERROR(INDEX({cells},MATCH("gpu",{keys},0)),"")'
        put(sheet, f"{get_column_letter(label_col)}{row}",
             f'=IF({platform}="","",{platform}&"/"&IF({gpu}="","per-token",{gpu}))', "atlas_key")
        put(sheet, f"{get_column_letter(cost_col)}{row}",
             f'=IFERROR(INDEX({cells},MATCH("monthly_cost_usd",{keys},0))*1,"")', "atlas_key", fields.USD)
    layout.set_width(sheet, label_col, 26)
    layout.set_width(sheet, cost_col, 14)
    chart = BarChart()
    chart.type, chart.style, chart.legend = "bar", 10, None
    chart.title = f"Monthly cost by offering (best {CHART_BARS})"
    chart.y_axis.title = "USD per month"
    chart.y_axis.number_format = fields.USD
    chart.add_data(Reference(sheet, min_col=cost_col, min_row=top + 1, max_row=top + CHART_BARS))
    chart.set_categories(Reference(sheet, min_col=label_col, min_row=top + 1, max_row=top + CHART_BARS))
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.tickLblSkip = 1
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.gapWidth = 40
    chart.height, chart.width = 3 + CHART_BARS, 18
    sheet.add_chart(chart, f"{get_column_letter(cost_col + 2)}{heading}")
    layout.print_setup(sheet, title_rows=(heading, top), area=f"A1:{last_col}{top + RANK_ROWS}")


CHART_BARS = 15
CATALOG_TITLES = {title for title, _, _ in sheets.CATALOG_SHEETS.values()}


def _whatif(book, sheet):
    _title(sheet, "What-if", "Monthly cost [USD/month] for the model and inputs of the Inputs sheet. Edit the "
                             "blue axes; each grid is one array formula.")
    offers = range(1, sheets.WHATIF_OFFERINGS + 1)
    platforms = [sheets.ranking_cell("platform", i) for i in offers]
    gpus = [sheets.ranking_cell("gpu", i) for i in offers]
    top = _whatif_grid(book, sheet, 4, "By offering (the Ranking's first seven; type over one to fix it)",
                       [("Platform", platforms, "WhatIfPlatforms"), ("GPU (blank = per-token)", gpus, "WhatIfGpus")],
                       lambda axes: {"Platform": axes[0], "Gpu": axes[1]}, "WhatIfByOffering")
    _whatif_grid(book, sheet, top + 2, "By traffic pattern (the Inputs platform and GPU)",
                 [("Pattern", list(sheets.WHATIF_PATTERNS), "WhatIfPatterns")], lambda axes: {"Pattern": axes[0]},
                 "WhatIfByPattern")
    _widths(sheet, [24] + [15] * len(offers))


def _whatif_grid(book, sheet, top, heading, axes, replaces, name):
    """A grid of monthly cost: tokens per day down column A × the ``axes`` rows (label, values, defined name)
    across, filled by one ATLAS_COST array formula over the axes' names. Returns the last row used."""
    volumes = sheets.WHATIF_VOLUMES
    width = len(axes[0][1])
    last_col = get_column_letter(1 + width)
    put(sheet, f"A{top}", heading, "atlas_heading")
    refs = []
    for i, (label, values, axis) in enumerate(axes, start=top + 1):
        put(sheet, f"A{i}", label, "atlas_label")
        for j, value in enumerate(values):
            put(sheet, f"{get_column_letter(2 + j)}{i}", value, "atlas_input")
        _name(book, axis, sheet, f"B{i}:{last_col}{i}")
        refs.append(axis)
    header = top + 1 + len(axes)
    put(sheet, f"A{header}", "Tokens per day [tokens/day]", "atlas_header")
    for j in range(width):
        sheet[f"{get_column_letter(2 + j)}{header}"].style = "atlas_header"
    put(sheet, f"B{header}", "Monthly cost [USD/month]", "atlas_header")
    sheet.row_dimensions[header].height = 2 * layout.LINE_POINTS  # both headings wrap to two lines
    first, last = header + 1, header + len(volumes)
    for i, volume in enumerate(volumes):
        put(sheet, f"A{first + i}", volume, "atlas_input", sheets.COUNT)
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


def _sample_rows(function):
    """The rows an ATLAS_SIMULATE / ATLAS_SCHEDULE table has for the Inputs defaults: their order
    is the record's, whatever the inputs, so each row and column gets its field's number format."""
    values = {spec.key: spec.value for block in sheets.INPUTS for spec in block.rows}
    rows = function(atlas_xl.simulator.DEFAULT_TARGET, atlas_xl.simulator.DEFAULT_WORKLOAD, None, values["seed"],
                    values["usd_per_kwh"], None, {})
    if not isinstance(rows, list):
        raise atlas_xl.errors.AtlasError(f"the template's default simulation failed: {rows}")
    return rows


def _lookup(key_ref, column, fallback=None):
    """A FieldsTable lookup of ``key_ref``'s display text (column 2 heading, 3 label, 4 units).

    ``&""`` keeps it text: a lookup of an empty FieldsTable cell (a unitless field) is 0 in Excel and
    LibreOffice, which the sheet would print as a unit."""
    fallback = key_ref if fallback is None else fallback
    return f'=IF({key_ref}="","",IFERROR(VLOOKUP({key_ref},FieldsTable,{column},FALSE)&"",{fallback}))'


def _record_header(sheet, row):
    for column, text in enumerate(("Field", "Key", "Value", "Units"), start=1):
        put(sheet, f"{get_column_letter(column)}{row}", text, "atlas_header")


def _format_value(cell, key, fmt=None):
    fmt = fmt or fields.number_format(key)
    cell.number_format = "General" if fmt == fields.TEXT else fmt
    cell.alignment = Alignment(horizontal="left", indent=1) if fmt == fields.TEXT else Alignment(horizontal="right")


def _simulator(book, sheet):
    """ATLAS_SIMULATE spilled into Key | Value (B:C) with display names and units beside it."""
    _title(sheet, "Simulator", "ATLAS_SIMULATE of the planned deployment (the Inputs simulator target and workload "
                               "follow the plan's model, GPU, GPU count and GPUs per replica as tensor parallel) "
                               "with the Inputs knobs: the whole record.")
    _record_header(sheet, 4)
    top = 5
    ref = f"B{top}:C{top + SIMULATOR_ROWS - 1}"
    sheet[f"B{top}"] = ArrayFormula(ref, sheets.sim_formula("ATLAS_SIMULATE"))
    _name(book, "SimulationRecord", sheet, ref)
    sheet[f"B{top}"].style = sheet[f"C{top}"].style = "atlas_key"
    sample = _sample_rows(calls.simulate_table)
    for row in range(top + 1, top + SIMULATOR_ROWS):
        put(sheet, f"A{row}", _lookup(f"B{row}", 3), "atlas_label")
        put(sheet, f"D{row}", _lookup(f"B{row}", 4, '""'), "atlas_units")
        sheet[f"B{row}"].style = "atlas_key"
        index = row - top
        key = sample[index][0] if index < len(sample) else ""
        _format_value(sheet[f"C{row}"], key)
    labels = [fields.label(r[0]) for r in sample[1:]]
    _widths(sheet, [layout.fit_width(labels), 26, 24, 16])
    sheet.freeze_panes = f"A{top + 1}"
    layout.print_setup(sheet, title_rows=(4, 4), landscape=False, area=f"A1:D{top + len(sample) - 1}")


def _schedule(book, sheet):
    """ATLAS_SCHEDULE spilled into hidden columns; the visible sheet shows it by reference with
    display names, units and formats: the whole schedule (Field | Key | Value | Units), then a
    table of the phases under a header of display names."""
    _title(sheet, "Schedule", "ATLAS_SCHEDULE for the planned deployment (the Inputs simulator target and "
                              "workload): the schedule aggregated by phase duration, then each phase.")
    width = len(calls.PHASE_COLUMNS)
    first = SCHEDULE_SPILL_COLUMN
    ref = f"{get_column_letter(first)}5:{get_column_letter(first + width - 1)}{5 + SCHEDULE_ROWS - 1}"
    sheet[f"{get_column_letter(first)}5"] = ArrayFormula(ref, sheets.sim_formula("ATLAS_SCHEDULE"))
    _name(book, "ScheduleTable", sheet, ref)
    for column in range(first, first + width):
        sheet.column_dimensions[get_column_letter(column)].hidden = True
    sample = _sample_rows(calls.schedule_table)
    blank = next(i for i, r in enumerate(sample) if not any(v not in ("", None) for v in r))

    def cell(r, c):  # row r, column c (1-based) of the spilled table, as a plain reference (cheap to compute)
        return f"{get_column_letter(first + c - 1)}{4 + r}"

    _record_header(sheet, 4)
    top = 5
    for index in range(blank):  # the spill's key row (or its one-line error), then the aggregate
        row = top + index
        put(sheet, f"B{row}", f'=IF({cell(index + 1, 1)}="","",{cell(index + 1, 1)})', "atlas_key")
        put(sheet, f"C{row}", f'=IF({cell(index + 1, 2)}="","",{cell(index + 1, 2)})',
             "atlas_key" if index == 0 else None)
        if index:
            put(sheet, f"A{row}", _lookup(f"B{row}", 3), "atlas_label")
            put(sheet, f"D{row}", _lookup(f"B{row}", 4, '""'), "atlas_units")
            _format_value(sheet[f"C{row}"], sample[index][0])
    heading = top + blank + 1
    put(sheet, f"A{heading}", "Phases", "atlas_heading")
    header = heading + 1
    keys = header + 1
    for c, key in enumerate(calls.PHASE_COLUMNS, start=1):
        letter = get_column_letter(c)
        put(sheet, f"{letter}{header}", _lookup(f"{letter}{keys}", 2), "atlas_header")
        sheet[f"{letter}{header}"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for offset in range(SCHEDULE_ROWS - blank - 1):
            row, r = keys + offset, blank + 2 + offset
            put(sheet, f"{letter}{row}", f'=IF({cell(r, c)}="","",{cell(r, c)})', "atlas_key" if not offset else None)
            if offset:
                _format_value(sheet[f"{letter}{row}"], key)
    phases = [r for r in sample[blank + 2:] if any(v not in ("", None) for v in r)]
    for c, key in enumerate(calls.PHASE_COLUMNS, start=1):
        shown = [fields.display(r[c - 1], fields.number_format(key, r[c - 1])) for r in phases]
        layout.set_width(sheet, c, layout.fit_width(shown, layout.heading_text(key)))
    layout.set_width(sheet, 1, layout.fit_width([fields.label(r[0]) for r in sample[1:blank]]))
    layout.set_width(sheet, 2, 24)
    layout.set_width(sheet, 3, 16)
    sheet.row_dimensions[header].height = layout.header_height(sheet, calls.PHASE_COLUMNS)
    last = keys + len(phases)
    layout.print_setup(sheet, title_rows=(4, 4), area=f"A1:{get_column_letter(width)}{last}")


SCHEDULE_SPILL_COLUMN = 20  # T: the raw ATLAS_SCHEDULE table, hidden


def _optimizer(book, sheet):
    _title(sheet, "Optimizer", "Hill-climbs the knobs of the planned deployment (the Inputs simulator target and "
                               "workload) for throughput within the P99 SLA. Click Optimize; results below are values "
                               "written by Python.")
    put(sheet, "A4", "SLA: P99 below", "atlas_label")
    put(sheet, "B4", "sla_p99_ms", "atlas_key")
    put(sheet, "C4", 120, "atlas_input", sheets.COUNT)
    put(sheet, "D4", "ms", "atlas_units")
    _name(book, "OptSlaP99Ms", sheet, "C4")
    put(sheet, "A6", "Starting knobs (blank = the workload's)", "atlas_heading")
    knobs = sheets.INPUTS[-1].rows
    for i, spec in enumerate(knobs, start=7):
        put(sheet, f"A{i}", spec.label, "atlas_label")
        put(sheet, f"B{i}", spec.key, "atlas_key")
        put(sheet, f"C{i}", None, "atlas_input")
        put(sheet, f"D{i}", spec.units, "atlas_units")
    _name(book, "OptKnobs", sheet, f"B7:C{6 + len(knobs)}")
    results = 8 + len(knobs)
    put(sheet, f"A{results}", "Results (written by the Optimize button or atlas-xl optimize-workbook)",
         "atlas_heading")
    put(sheet, f"A{results + 1}", "Last run", "atlas_label")
    put(sheet, f"B{results + 1}", "not run yet", "atlas_comment")
    _name(book, "OptLastRun", sheet, f"B{results + 1}")
    _name(book, "OptResults", sheet, f"A{results + 2}:E{results + 1 + OPTIMIZER_ROWS}")
    _widths(sheet, [30, 24, 16, 16, 12])


def _checks(book, sheet, inputs, results):
    """Input checks (ranges, allowed values), result checks (no error or stray text where numbers
    belong) and catalog integrity, each a count of problems (0 = fine) and a one-line status;
    an overall check on top that turns red when any fails (named AllChecks, shown on Start)."""
    _title(sheet, "Checks", "Every check counts problems: 0 = fine. A failed check says what to fix. The overall "
                            "check turns red when any fails.")
    put(sheet, "A4", "All checks", "atlas_heading")
    put(sheet, "B4", "inputs, results and catalogs", "atlas_comment")
    header = 6
    for column, heading in enumerate(("Area", "Check", "Where", "Problems", "Status"), start=1):
        put(sheet, f"{get_column_letter(column)}{header}", heading, "atlas_header")
    rows = _input_checks(inputs) + _result_checks(results) + _catalog_checks() + _price_checks(inputs)
    put(sheet, "B5", "Price age limit [days]", "atlas_label")
    put(sheet, "E5", "a price older than this, or undated, fails the price check", "atlas_comment").alignment = \
        Alignment(indent=1)  # clear of the number beside it
    put(sheet, "D5", atlas_xl.prices.MAX_PRICE_AGE_DAYS, "atlas_input", "0")
    _name(book, "MaxPriceAgeDays", sheet, "D5")
    row = header + 1
    for area, label, where, formula, fix in rows:
        put(sheet, f"A{row}", area, "atlas_label")
        put(sheet, f"B{row}", label, "atlas_label")
        put(sheet, f"C{row}", where, "atlas_key")
        put(sheet, f"D{row}", formula, "atlas_calc", "0")
        status = f"{label}: {fix}".replace('"', '""')
        put(sheet, f"E{row}", f'=IF(D{row}=0,"OK","CHECK: {status}")', "atlas_calc").alignment = \
            Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[row].height = _text_height(f"CHECK: {label}: {fix}", CHECK_TEXT_WIDTH)
        for column in "ABCD":
            sheet[f"{column}{row}"].alignment = Alignment(vertical="top", horizontal="center" if column == "D" else None)
        row += 1
    last = row - 1
    put(sheet, "D4", f"=SUM(D{header + 1}:D{last})", "atlas_output", "0")
    put(sheet, "E4", f'=IF(D4=0,"OK: all {len(rows)} checks pass","CHECK: "&COUNTIF(D{header + 1}:D{last},">0")&'
                      f'" of {len(rows)} checks fail — see the Checks sheet")', "atlas_output")
    _name(book, "AllChecks", sheet, "E4")
    catalog_rows = [i for i, r in enumerate(rows) if r[0] == "Catalog"]
    first, end = header + 1 + catalog_rows[0], header + 1 + catalog_rows[-1]
    total = last + 2
    put(sheet, f"A{total}", "All catalogs", "atlas_heading")
    put(sheet, f"D{total}", f"=SUM(D{first}:D{end})", "atlas_output", "0")
    put(sheet, f"E{total}", f'=IF(D{total}=0,"OK: catalogs are complete","CHECK: see the Checks sheet")',
         "atlas_output").alignment = Alignment(indent=1)  # clear of the count beside it
    _name(book, "CatalogCheck", sheet, f"E{total}")
    red = dict(fill=PatternFill("solid", fgColor="C00000"), font=Font(name=layout.FONT, bold=True, color="FFFFFF"))
    green = dict(fill=PatternFill("solid", fgColor="C6EFCE"), font=Font(name=layout.FONT, bold=True, color="006100"))
    for ref, count in (("D4:E4", "$D$4"), (f"D{header + 1}:E{last}", f"$D{header + 1}"),
                       (f"D{total}:E{total}", f"$D${total}")):
        sheet.conditional_formatting.add(ref, FormulaRule(formula=[f"{count}>0"], **red))
        sheet.conditional_formatting.add(ref, FormulaRule(formula=[f"{count}=0"], **green))
    sheet["D4"].alignment = Alignment(horizontal="center")
    _widths(sheet, [12, 50, 16, 10, CHECK_TEXT_WIDTH])  # B: the longest check label whole
    sheet.freeze_panes = f"A{header + 1}"
    layout.print_setup(sheet, title_rows=(header, header), area=f"A1:E{total}")


CHECK_TEXT_WIDTH = 100  # characters of the Status column


def _input_cells(inputs):
    """Row key → its value cell ('Inputs!$C$7'), read from the rendered Key column of a row-spec sheet."""
    cells = {}
    for cell in inputs["B"]:  # the first row of a key: a block may repeat one (the simulator workload's model)
        if isinstance(cell.value, str) and cell.style == "atlas_key":
            cells.setdefault(cell.value, f"{quote_sheetname(inputs.title)}!$C${cell.row}")
    return cells


def _input_checks(inputs):
    cells = _input_cells(inputs)
    labels = {spec.key: spec.label for block in sheets.INPUTS for spec in block.rows}
    rows = []
    for key, check in sheets.INPUT_CHECKS.items():
        x = cells[key]
        blank = "0" if check.optional else "1"
        if check.kind == "number":
            conditions = [f"{x}>{_literal(check.minimum)}" if check.above else f"{x}>={_literal(check.minimum)}"] \
                if check.minimum is not None else []
            conditions += [f"{x}<={_literal(check.maximum)}"] if check.maximum is not None else []
            conditions += [f"{x}=INT({x})"] if check.whole else []
            test = f"IF(ISNUMBER({x}),IF(AND({','.join(conditions)}),0,1),1)" if conditions else f"IF(ISNUMBER({x}),0,1)"
        elif check.kind == "bool":
            test = f"IF(OR({x}=TRUE,{x}=FALSE),0,1)"
        elif isinstance(check.choices[0], str) and check.choices[0] in sheets.CATALOG_SHEETS:
            table, column = check.choices
            test = f"IF(SUMPRODUCT(--({_catalog_column(table, column)}={x}))>0,0,1)"
        else:
            test = f"IF(OR({','.join(f'{x}={chr(34)}{c}{chr(34)}' for c in check.choices)}),0,1)"
        formula = f"=IF(ISERROR({x}),1,IF(LEN({x})=0,{blank},{test}))"
        rows.append(("Inputs", labels[key], x.replace("$", "").replace("'", ""), formula, check.fix))
    for label, condition, fix in sheets.CROSS_CHECKS:
        test = condition.format(**{key.replace(".", "_"): cell for key, cell in cells.items()})  # {parallelism_tp}
        rows.append(("Inputs", label, "Inputs", f"=IF(ISERROR({test}),1,IF({test},0,1))", fix))
    return rows


def _literal(number):
    """A bound as a formula literal, exactly: 4294967295, not 4.29497e+09."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _catalog_column(table, column):
    title = sheets.CATALOG_SHEETS[table][0]
    schema, _ = atlas_xl.catalog.SCHEMAS[table]
    letter = get_column_letter([c.name for c in schema].index(column) + 1)
    last = len(atlas_xl.load_catalog().tables[table]) + 1 + sheets.SPARE_ROWS
    return f"{quote_sheetname(title)}!${letter}$2:${letter}${last}"


def _price_checks(inputs):
    """Issue 20: the planned offering's price (Inputs platform, and its GPU or, per token, its model) is at most
    MaxPriceAgeDays old; an undated row (as_of 'undated') counts as old. DATEVALUE reads ISO dates in Excel and
    LibreOffice; IFERROR turns a non-date into 'old'."""
    cells = _input_cells(inputs)
    platform, gpu, model = cells["platform"], cells["gpu"], cells["model"]
    col = {c: _catalog_column("offerings", c) for c in ("platform", "gpu", "model", "as_of")}
    planned = (f'({col["platform"]}={platform})*(({col["gpu"]}={gpu})*({col["model"]}="")*(LEN({gpu})>0)'
               f'+({col["model"]}={model})*(LEN({gpu})=0))')
    old = f'IFERROR(TODAY()-DATEVALUE({col["as_of"]})>MaxPriceAgeDays,TRUE)'
    return [("Prices", "Price of the planned offering: at most the age limit (D5) old", "Offerings",
             f"=SUMPRODUCT({planned}*{old})",
             "the price is older than the limit or undated — check the provider's price and update the Offerings "
             "row (hourly_usd or price_per_m_tokens, source, as_of), or raise the limit in D5")]


RISK_BANDS = ("low", "medium", "high", "n/a")
MAY_BE_BLANK = {"gpu_count", "utilization", "idle_waste", "replica_gpus"}  # per-token offerings have no GPUs


def _result_checks(results):
    """A number (or a risk band) where each Results value belongs: error text from an ATLAS_*
    function, #VALUE! or #NAME? (functions not imported) all count."""
    cells = _input_cells(results)  # by address: a name such as P50 would read as a cell reference
    rows = []
    for block in sheets.RESULTS:
        area = block.title.split(" — ")[0].lower()
        terms = []
        for spec in block.rows:
            x = cells[spec.key]
            if spec.key == "latency_risk":
                ok = "OR(" + ",".join(f'{x}="{band}"' for band in RISK_BANDS) + ")"
            elif spec.units == "TRUE/FALSE":
                ok = f"OR({x}=TRUE,{x}=FALSE,LEN({x})=0)"
            elif spec.key == "sim_deployment":  # what the simulator rows model, or why they cannot
                ok = f"ISTEXT({x})"
            elif block.title.startswith("Simulator"):  # per-token: no GPUs to simulate, the rows say so
                ok = f'OR(ISNUMBER({x}),Gpu="")'
            elif spec.key in MAY_BE_BLANK or block.title.startswith("Serving"):  # per-token: no GPU, blank
                ok = f'OR(ISNUMBER({x}),LEN({x})=0)'
            else:
                ok = f"ISNUMBER({x})"
            terms.append(f"IF(ISERROR({x}),1,IF({ok},0,1))")
        rows.append(("Results", f"Results ({area}): a number in every value cell", "Results", "=" + "+".join(terms),
                     "a value is an error or text — read it on the Results sheet, then fix the input it names"))
    first = "INDEX(Ranking,1,1)"
    rows.append(("Results", "Ranking: computed, at least one offering", "Ranking",
                 f'=IF(ISERROR({first}),1,IF(ISERROR(VLOOKUP({first},FieldsTable,1,FALSE)),1,'
                 f'IF(LEN(INDEX(Ranking,2,1))=0,1,0)))',
                 "the ranking shows an error or no offering — read Ranking!A5"))
    for name, label in (("WhatIfByOffering", "What-if by offering"), ("WhatIfByPattern", "What-if by pattern")):
        rows.append(("Results", f"{label}: a cost in every cell", "WhatIf",
                     f"=ROWS({name})*COLUMNS({name})-COUNT({name})",
                     "some grid cells are errors or text — read them on the WhatIf sheet"))
    for name, label, where in (("SimulationRecord", "Simulator", "Simulator!B5"),
                               ("ScheduleTable", "Schedule", "Schedule!B5")):
        first = f"INDEX({name},1,1)"
        rows.append(("Results", f"{label}: computed", where.split("!")[0],
                     f'=IF(ISERROR({first}),1,IF({first}="field",0,1))',
                     f"the simulation failed — read {where} for the reason"))
    return rows


def _catalog_checks():
    rows = []
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
        rows.append(("Catalog", f"{title}: required cells left blank", title, f"={blanks}",
                     "fill the blank cells of rows that have a source"))
        if len(keys) == 1:
            key = col(keys[0])
            duplicates = f'=SUMPRODUCT(({key}<>"")*(COUNTIF({key},{key})>1))'
        else:
            parts = ",".join(f"{col(k)},{col(k)}" for k in keys)
            duplicates = f'=SUMPRODUCT(({col(keys[0])}<>"")*(COUNTIFS({parts})>1))'
        rows.append(("Catalog", f"{title}: duplicate keys", title, duplicates,
                     f"each {' + '.join(keys)} may appear once"))
        limits = [(c.name, "<=0" if c.positive else f"<{c.minimum:g}") for c in schema
                  if c.kind in ("number", "int") and (c.positive or c.minimum is not None)]
        if limits:
            rows.append(("Catalog", f"{title}: values below the allowed minimum", title,
                         "=" + "+".join(f'COUNTIF({col(name)},"{limit}")' for name, limit in limits),
                         "prices, counts and rates cannot be negative"))
    return rows


def _fields(book, sheet):
    """The field table of atlas_xl.fields as a sheet: the template's headers and labels look names
    up here (FieldsTable), and a reader sees what every output means."""
    _title(sheet, "Fields", "Display name, units and number format of every output field (atlas_xl.fields).")
    for column, text in enumerate(layout.FIELD_COLUMNS, start=1):
        put(sheet, f"{get_column_letter(column)}4", text, "atlas_header")
    rows = sorted(fields.FIELDS.values(), key=lambda f: f.name)
    for row, meta in enumerate(rows, start=5):
        values = (meta.name, layout.heading_text(meta.name), meta.label, layout.unit_text(meta.units, True),
                  meta.number_format, meta.description)
        for column, value in enumerate(values, start=1):
            put(sheet, f"{get_column_letter(column)}{row}", value, "atlas_key" if column == 1 else None)
    _name(book, "FieldsTable", sheet, f"A5:F{4 + len(rows)}")
    _widths(sheet, [32, 36, 32, 14, 24, 70])
    sheet.freeze_panes = "B5"
    sheet.sheet_properties.tabColor = "A6A6A6"
    layout.print_setup(sheet, title_rows=(4, 4))


def _lists(book, sheet):
    """Drop-down lists that are not one catalog column: the distinct platforms of Offerings."""
    put(sheet, "A1", "Distinct platforms of the Offerings sheet (for the Inputs drop-down)", "atlas_comment")
    sheet["A2"] = ArrayFormula(f"A2:A{1 + LIST_ROWS}", '=ATLAS_CATALOG("platforms",OfferingsTable)')
    _define(book, "PlatformList", f'OFFSET(Lists!$A$2,0,0,MAX(1,COUNTIF(Lists!$A$2:$A${1 + LIST_ROWS},"?*")),1)')
    sheet.sheet_state = "hidden"
    _widths(sheet, [40])


def _conf(sheet):
    for row, (key, value) in enumerate(sheets.XLWINGS_CONF, start=1):
        put(sheet, f"A{row}", key)
        put(sheet, f"B{row}", value)
    put(sheet, "D1", "Read by xlwings from A1 down to the first blank row: keep no header, add rows directly "
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
    _widths(inputs, [30, 26, 22, 14, 70])  # D: 'tokens/s/GPU' whole
    _wrap_value(inputs, "rank_fields", sheets.input_row("rank_fields").value)  # the ranking's column list
    _results(book, created["Results"])
    _whatif(book, created["WhatIf"])
    _ranking(book, created["Ranking"], cat)
    finance_sheets.forecast_template_sheet(book, created["Forecast"], _name)
    finance_sheets.sensitivity_template_sheet(book, created["Sensitivity"], _name)
    _simulator(book, created["Simulator"])
    _schedule(book, created["Schedule"])
    _optimizer(book, created["Optimizer"])
    _checks(book, created["Checks"], inputs, created["Results"])
    _catalog_sheets(book, cat)
    for name, (table, column) in sheets.CATALOG_COLUMNS.items():  # the columns the cross-checks look up
        _define(book, name, _catalog_column(table, column))
    _fields(book, book.create_sheet("Fields"))
    _lists(book, book.create_sheet("Lists"))
    _conf(book.create_sheet("xlwings.conf"))
    for number, sheet in enumerate(book.worksheets, start=1):
        sheet.sheet_properties.codeName = f"Sheet{number}"
        if sheet.page_setup.orientation is None:  # sheets without their own print setup
            layout.print_setup(sheet, title_rows=(1, 1) if sheet.title in CATALOG_TITLES else None)
    book.code_name = "ThisWorkbook"
    start.legacy_drawing = "xl/drawings/vmlDrawing1.vml"
    created["Optimizer"].legacy_drawing = "xl/drawings/vmlDrawing2.vml"
    book.vba_archive = _vba_archive({
        start.legacy_drawing: _button_vml(1, "Import functions", IMPORT_MACRO, 9, 3),
        created["Optimizer"].legacy_drawing: _button_vml(2, "Optimize", OPTIMIZE_MACRO, 5, 3),
    })
    return save_atomic(book, path, overwrite)


