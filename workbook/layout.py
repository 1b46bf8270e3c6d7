"""Layout helpers shared by report and template sheets: headers with display names and units,
tables and field | value records formatted from `atlas_xl.fields`, column widths that fit what
is shown, and print setup. A new sheet (forecast, sensitivity, ...) reuses these:

    row = layout.title(sheet, "Forecast", "Monthly cost by month [USD/month].")
    end = layout.table(sheet, 4, ["month", "monthly_cost_usd"], records)
    layout.print_setup(sheet, title_rows=(4, 4))

Labels, units and number formats come from the one field table, so a column reads the same on
every sheet and in the docs.
"""
from __future__ import annotations

import math

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from atlas_xl import fields

NAVY, GREY = "1F3864", "808080"
HEADER_FILL = PatternFill("solid", fgColor=NAVY)
FONT = "Calibri"  # the workbook default; named, so LibreOffice substitutes a metric-compatible sans font
HEADER_FONT = Font(name=FONT, bold=True, color="FFFFFF")
TITLE_FONT = Font(name=FONT, bold=True, size=14, color=NAVY)
SUBTITLE_FONT = Font(name=FONT, italic=True, color=GREY)
UNITS_FONT = Font(name=FONT, italic=True, color=GREY)
NOTE_FONT = Font(name=FONT, color=GREY, size=9)
BOLD = Font(name=FONT, bold=True)
RULE = Border(bottom=Side("thin", color="BFBFBF"))
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
MIN_WIDTH, MAX_WIDTH, HEADER_LINES = 6, 60, 3
LINE_POINTS = 15  # row height [points] of one line of 11-point text
UNIT_TEXT = {"share": "%", "count": "", "yes/no": "", "ratio": "", "": ""}  # units as a header shows them
FIELD_COLUMNS = ("Field", "Heading", "Label", "Units", "Number format", "Description")
"""Columns of the template's Fields sheet (its FieldsTable): a field's key, then how it is shown."""


VOLUME = '[>=1000000000]#,##0.0,,,"B";[>=1000000]#,##0,,"M";#,##0'  # 2.5B, 250M: tokens per day, readable


def volume_text(tokens):
    """``tokens`` as the VOLUME format shows it: 2.0B, 250M, 50,000."""
    tokens = float(tokens)
    if tokens >= 1e9:
        return f"{tokens / 1e9:,.1f}B"
    if tokens >= 1e6:
        return fields.display(tokens / 1e6, fields.COUNT) + "M"
    return fields.display(tokens, fields.COUNT)


def unit_text(units, beside_value=False):
    """Units as shown in a header ("[%]") or beside a value (nothing for a share: "58.6%" says it)."""
    if beside_value and units == "share":
        return ""
    return UNIT_TEXT.get(units, units)


def write_cell(sheet, row, column, value, number_format=None):
    """Write one value; strings are always text (never a formula), NaN becomes an empty cell,
    infinity the word saturated."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, float) and math.isnan(value):
        return cell
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        value = "saturated (infinite)"
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif number_format and number_format != fields.TEXT:
        cell.number_format = number_format
    return cell


def put(sheet, ref, value, style=None, fmt=None):
    """Write ``value`` at ``ref`` ("B5") with a named style (template.register_styles) and number format;
    text that does not start with "=" stays text. Returns the cell."""
    cell = sheet[ref]
    cell.value = value
    if isinstance(value, str) and not value.startswith("="):
        cell.data_type = "s"
    if style:
        cell.style = style
    if fmt:
        cell.number_format = fmt
    return cell


def title(sheet, text, subtitle=None):
    """Title in A1, subtitle in A2 (neither counts for column widths); returns the first free row."""
    write_cell(sheet, 1, 1, text).font = TITLE_FONT
    if subtitle:
        write_cell(sheet, 2, 1, subtitle).font = SUBTITLE_FONT
    sheet.sheet_view.showGridLines = False
    return 4


def header(sheet, row, texts, column=1):
    """A header row: white on navy, wrapped, centred vertically; returns the row's height in lines."""
    lines = 1
    for offset, text in enumerate(texts):
        cell = write_cell(sheet, row, column + offset, text)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="center",
                                   horizontal="left" if offset == 0 else "center")
        lines = max(lines, str(text or "").count("\n") + 1)
    current = sheet.row_dimensions[row].height or 0
    sheet.row_dimensions[row].height = max(current, 15 * lines)
    return lines


def heading_text(name, plan=False):
    """'Monthly cost\\n[USD/month]': a field's display name and units, for a column header."""
    meta = fields.field(name, plan=plan)
    shown = unit_text(meta.units)
    return f"{meta.label}\n[{shown}]" if shown else meta.label


def table(sheet, top, names, records, column=1, widths=None, plan=False, formats=None):
    """A table of ``records`` (dicts) under a header of the display names and units of ``names``,
    each column in its field's number format (``plan``: names are plan fields; ``formats`` maps a name
    to a function of the record that gives the cell's format, for a column whose units change by row);
    sets the columns' widths to fit (``widths`` maps a name to a fixed width). Returns the last row written."""
    header(sheet, top, [heading_text(n, plan) for n in names], column)
    shown = {n: [heading_text(n, plan)] for n in names}
    row = top
    for row, record in enumerate(records, start=top + 1):
        for offset, name in enumerate(names):
            value = record.get(name)
            fmt = formats[name](record) if formats and name in formats else fields.number_format(name, value, plan)
            cell = write_cell(sheet, row, column + offset, value, fmt)
            if fmt == fields.INTEGER:  # ranks and counts: centred, clear of the text beside them
                cell.alignment = Alignment(horizontal="center")
            elif isinstance(cell.value, str) and offset:  # text set off from a number on its left
                cell.alignment = Alignment(indent=1)
            shown[name].append(fields.display(value, fmt))
    for offset, name in enumerate(names):
        set_width(sheet, column + offset, (widths or {}).get(name) or fit_width(shown[name][1:], shown[name][0]))
    for r in range(top + 1, row + 1):  # text wider than the widest column wraps (the next cell would clip it)
        lines = 1
        for offset in range(len(names)):
            cell = sheet.cell(r, column + offset)
            width = (sheet.column_dimensions[get_column_letter(column + offset)].width or 10) - 2
            if isinstance(cell.value, str) and len(cell.value) > width:
                cell.alignment = Alignment(wrap_text=True, vertical="top", indent=cell.alignment.indent)
                lines = max(lines, wrapped_lines(cell.value, width - cell.alignment.indent))
        if lines > 1:
            sheet.row_dimensions[r].height = 15 * lines + 2
            for offset in range(len(names)):  # the row's numbers beside the wrapped text, on its first line
                cell = sheet.cell(r, column + offset)
                a = cell.alignment
                cell.alignment = Alignment(horizontal=a.horizontal, indent=a.indent, wrap_text=a.wrap_text,
                                           vertical="top")
    sheet.row_dimensions[top].height = header_height(sheet, names, column)
    return row


def header_height(sheet, names, column=1):
    """Height [points] of a header row of the headings of ``names`` once the columns have their widths."""
    return 15 * max(2, _header_lines(names, sheet, column))


def _header_lines(names, sheet, column):
    """Lines the header row needs once its columns have their widths (word wrap, with slack)."""
    lines = 1
    for offset, name in enumerate(names):
        width = sheet.column_dimensions[get_column_letter(column + offset)].width or 10
        lines = max(lines, wrapped_lines(heading_text(name), (width - 1) / 1.1))  # bold: a tenth wider
    return lines


def wrapped_lines(text, width):
    """Lines ``text`` takes word-wrapped into ``width`` characters (each newline starts a line; a
    word longer than a line, such as an address, is broken across lines as spreadsheets break it)."""
    width = max(int(width), 1)
    total = 0
    for paragraph in str(text).split("\n"):
        line, count = 0, 1
        for word in paragraph.split():
            if line and line + 1 + len(word) > width:
                count, line = count + 1, 0
            elif line:
                line += 1
            while line + len(word) > width:  # the rest of a long word on the next lines
                word, count, line = word[width - line:], count + 1, 0
            line += len(word)
        total += count
    return total


def fit_width(values, heading=""):
    """A column width that shows every value whole and the heading in at most three lines."""
    longest = max((len(str(v)) for v in values), default=0)
    words = max((len(w) for w in str(heading).split()), default=0)
    heading_lines = max((len(part) for part in str(heading).split("\n")), default=0)
    needed = max(longest + 2, words + 2, math.ceil(heading_lines / HEADER_LINES) + 2)
    return max(MIN_WIDTH, min(MAX_WIDTH, needed))


def record(sheet, top, items, column=1, describe=True):
    """Field | Value | Units [| Description] rows for ``items`` (name, value) pairs under a header;
    nested dicts become ``group.key`` rows, lists are skipped. Returns the last row written."""
    heads = ["Field", "Value", "Units"] + (["Description"] if describe else [])
    header(sheet, top, heads, column)
    labels, values, units, notes = [heads[0]], [heads[1]], [heads[2]], [heads[-1]]
    row = top
    for name, value in _flat(items):
        row += 1
        meta = fields.field(name)
        fmt = fields.number_format(name, value)
        write_cell(sheet, row, column, meta.label)
        cell = write_cell(sheet, row, column + 1, value, fmt)
        cell.alignment = Alignment(horizontal="right")
        units_cell(write_cell(sheet, row, column + 2, unit_text(meta.units, True)))
        if describe:
            write_cell(sheet, row, column + 3, meta.description).font = NOTE_FONT
            notes.append(meta.description)
        labels.append(meta.label)
        values.append(fields.display(value, fmt))
        units.append(unit_text(meta.units, True))
    for offset, shown in enumerate([labels, values, units] + ([notes] if describe else [])):
        set_width(sheet, column + offset, fit_width(shown[1:], shown[0]))
    return row


def units_cell(cell):
    """Grey italic units, set off from the right-aligned value beside them."""
    cell.font, cell.alignment = UNITS_FONT, Alignment(indent=1)
    return cell


def _flat(items):
    for name, value in (items.items() if hasattr(items, "items") else items):
        if isinstance(value, dict):
            yield from ((f"{name}.{k}", v) for k, v in value.items())
        elif not isinstance(value, (list, tuple)):
            yield name, value


def set_width(sheet, column, width):
    """Widen a column to ``width`` (never narrow one that another table on the sheet needs wider)."""
    letter = get_column_letter(column)
    current = sheet.column_dimensions[letter].width if letter in sheet.column_dimensions else 0
    sheet.column_dimensions[letter].width = max(width, current or 0)


def widths(sheet, values, column=1):
    for offset, width in enumerate(values):
        sheet.column_dimensions[get_column_letter(column + offset)].width = width


def print_setup(sheet, title_rows=None, landscape=True, area=None, one_page=False):
    """Fit to one page wide, as many tall as needed (or one page in all); header rows repeated on
    every page; the sheet name and page number in the footer."""
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 1 if one_page else 0
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_options.horizontalCentered = False
    if title_rows:
        sheet.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    if area:
        sheet.print_area = area
    sheet.oddFooter.center.text = "&A — page &P of &N"
    sheet.oddFooter.center.size = 8
