"""Every sheet as a reader sees it: LibreOffice renders the report and the values-only template to
PDF, pdftotext reads it back, and each sheet's pages (found by the footer "Sheet — page n of N")
must show no ###, #NAME?, #VALUE! or other error, and every required cell as its number format
shows it (a value that does not fit its column prints as ###; a missing value is simply absent).

The readability checks (issue 20) hold for any numbers: from the cells, their styles and the
column widths and row heights, no header is a raw key (``monthly_cost_usd``) and none is wider
than its column; no wrapped text needs more lines than its row has (text that would overlap the
next row); no chart drops a category label; and from the printed text, no scientific notation,
no volume with cents (3,000,000,000.00), no unformatted amount (-1722.24), no month run into its
period (12027-01), no thousands with more than two decimals (52,834.4577), no text cut off by the cell
beside it. Set ATLAS_RENDER_PNG to a folder to keep the PDFs and PNG pages (pdftoppm).
"""
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

import workbook
from atlas_xl import fields
from atlas_xl.errors import InputError
from openpyxl.utils import get_column_letter

from workbook import finance_sheets, layout, sheets, template

ERRORS = ("###", "#NAME?", "#VALUE!", "#N/A", "#REF!", "#DIV/0!", "#NUM!", "Err:5")
CHECKED_FORMATS = {fields.USD, fields.USD_CENTS, fields.USD_MILLI, fields.USD_MICRO, fields.COUNT, fields.SHARE,
                   fields.DECIMAL, fields.RATIO, fields.PERCENT, fields.YES_NO}


def render(path, folder):
    """{sheet title: text of its pages} of the PDF LibreOffice prints from ``path``."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice and shutil.which("pdftotext"), \
        "LibreOffice and poppler are required: apt-get install libreoffice-calc-nogui poppler-utils"
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{folder}/profile", "--headless", "--convert-to",
                           "pdf", "--outdir", str(folder), str(path)], capture_output=True, text=True, timeout=240)
    pdf = folder / (path.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists(), done.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    keep = os.environ.get("ATLAS_RENDER_PNG")
    if keep and shutil.which("pdftoppm"):  # pages to look at: ATLAS_RENDER_PNG=/tmp/pages pytest ...
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(pdf, Path(keep) / pdf.name)
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(Path(keep) / path.stem)], check=True,
                       timeout=240)
    pages = {}
    for page in text.split("\f"):
        footer = re.search(r"(\S+) — page \d+ of \d+\s*$", page, re.M)  # sheet names here have no spaces
        if footer:
            pages[footer.group(1)] = pages.get(footer.group(1), "") + page
    return pages


def shown_numbers(sheet, columns=None, rows=None):
    """(cell, text) of numeric cells as their number format shows them."""
    for row in sheet.iter_rows(min_row=rows[0] if rows else 1, max_row=rows[1] if rows else None):
        for cell in row:
            if columns and cell.column_letter not in columns:
                continue
            if isinstance(cell.value, (int, float)) and cell.number_format in CHECKED_FORMATS:
                yield cell, fields.display(cell.value, cell.number_format)


PROSE = ("#NAME? in cells",)  # the Start sheet's own words about #NAME?, not an error


def assert_clean(pages, titles):
    assert set(titles) <= set(pages), f"sheets without a printed page: {set(titles) - set(pages)}"
    for title in titles:
        text = pages[title]
        for words in PROSE:
            text = text.replace(words, "")
        for error in ERRORS:
            assert error not in text, f"{title} shows {error}"


# -- readability (issue 20) ----------------------------------------------------------------------------
RAW_KEY = re.compile(r"^[a-z][a-z0-9]*([_.][a-z0-9]+)*$")  # monthly_cost_usd, month, queue_wait_ms.p99
PRINTED = (  # (what a reader would see, pattern in the printed text)
    ("scientific notation", re.compile(r"\d[eE][+-]\d{1,3}\b")),
    ("a volume with cents", re.compile(r"\d{1,3}(?:,\d{3}){2,}\.\d+")),
    ("an unformatted amount", re.compile(r"(?<![\w.,$/-])-?\d{4,}\.\d{2,}(?![\d%])")),
    ("thousands with more than two decimals", re.compile(r"\d,\d{3}\.\d{3,}")),  # 52,834.4577: no unit needs it
    ("a month run into its period", re.compile(r"(?<![\d-])\d{5,6}-\d{2}(?!\d)")),
)
CHAR_WIDTH = {"bold": 1.1, "plain": 1.0}  # width of a character of an 11-point font [units of column width]
LINE_POINTS = 15  # one line of an 11-point font needs a 15-point row (the default row height)
KEYED_SHEETS = ("GPUs", "Models", "Patterns", "Offerings", "Throughput", "HardwareModels", "Targets", "Workloads",
                "Phases", "RequestProfiles", "Commitments", "Fields", "xlwings.conf")
"""Catalog tables, the field table and xlwings.conf: their header row is the column keys the ATLAS_*
functions read (a catalog range with a header row), so a key there is the content, not a label."""


NARROW, WIDE = set("iljtfr[]/.,:;'!|() -"), set("mwMW")


def text_width(text):
    """Width of ``text`` [characters of a '0'] in a proportional font: i, l, t, brackets and slashes
    about half a digit, m and w one and a half, capitals a fifth more."""
    return sum(0.5 if c in NARROW else 1.5 if c in WIDE else 1.2 if c.isupper() else 1.0 for c in text)


def _is_header(cell):
    fill = cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None
    return cell.style == "atlas_header" or (isinstance(fill, str) and fill.endswith(layout.NAVY))


def _span_width(sheet, cell):
    """Width [characters] of the cell, or of the merged range it starts."""
    columns = [cell.column]
    for merged in sheet.merged_cells.ranges:
        if merged.min_row == cell.row and merged.min_col == cell.column:
            columns = range(merged.min_col, merged.max_col + 1)
    return sum(sheet.column_dimensions[get_column_letter(c)].width or 8.43 for c in columns)


def _lines(text, width):
    """Lines ``text`` takes when wrapped into ``width`` characters (word wrap; a word wider than the
    column is cut, which the clipped-header check reports on its own)."""
    total = 0
    for paragraph in str(text).split("\n"):
        line, count = 0, 1
        for word in paragraph.split():
            if line and line + 1 + len(word) > width:
                count, line = count + 1, len(word)
            else:
                line += (1 if line else 0) + len(word)
        total += count
    return total


def _font_points(cell):
    return (cell.font.sz if cell.font is not None and cell.font.sz else 11)


def _right_edge(cell):
    """A number printed flush against the right edge of its cell."""
    alignment = cell.alignment.horizontal if cell.alignment is not None else None
    return (isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
            and alignment in (None, "general", "right"))


def _left_edge(cell):
    """Text printed flush against the left edge of its cell."""
    alignment = cell.alignment if cell.alignment is not None else None
    return (isinstance(cell.value, str) and cell.value.strip() != "" and not (alignment and alignment.indent)
            and (alignment is None or alignment.horizontal in (None, "general", "left")))


DISPLAY_TEXT_STYLES = ("atlas_units", "atlas_label", "atlas_header")


def clipped_text(sheet, merged_inner, hidden):
    """Text that does not fit its cell and is not wrapped prints over the next cell when that is empty, and
    is cut off at the cell's edge when it is not (the Sources sheet's 'expected_error_uncalibrated_dense' ran
    into its source): one line per cut-off text."""
    problems = []
    for row in sheet.iter_rows():
        for cell in row:
            text = cell.value
            if (not isinstance(text, str) or not text.strip() or (cell.row, cell.column) in merged_inner
                    or cell.column in hidden or _is_header(cell) or cell.style == "atlas_key"):
                continue  # a grey key row names what the ATLAS_* functions read: not text for the reader
            alignment = cell.alignment
            if alignment is not None and (alignment.wrap_text or alignment.horizontal not in (None, "general", "left")):
                continue  # wrapped (the row-height check covers it), or centred/right text that spills left
            scale = 11 / _font_points(cell) / (CHAR_WIDTH["bold"] if cell.font is not None and cell.font.b
                                               else CHAR_WIDTH["plain"])
            longest = max(text_width(part) for part in text.split("\n"))
            room = _span_width(sheet, cell)
            after = cell.column + 1
            for merged in sheet.merged_cells.ranges:
                if merged.min_row == cell.row and merged.min_col == cell.column:
                    after = merged.max_col + 1
            while after <= sheet.max_column and sheet.cell(cell.row, after).value in (None, ""):
                room += sheet.column_dimensions[get_column_letter(after)].width or 8.43  # spills over empty cells
                after += 1
            width = room * scale - 1 - (alignment.indent if alignment is not None else 0)
            beside = sheet.cell(cell.row, after).value if after <= sheet.max_column else None
            if longest > width and beside not in (None, ""):
                problems.append(f"{sheet.title}!{cell.coordinate}: {text[:50]!r} needs {longest:.1f} characters, its "
                                f"column has {width:.1f}, and {str(beside)[:20]!r} beside it cuts it off")
    return problems


def readability_problems(book, pages, keyed=KEYED_SHEETS):
    """Every readability defect of the sheets of ``book`` printed as ``pages``, one line each."""
    problems = []
    for sheet in book.worksheets:
        if sheet.sheet_state != "visible":
            continue
        merged_inner = {(r, c) for m in sheet.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
                        for c in range(m.min_col, m.max_col + 1) if (r, c) != (m.min_row, m.min_col)}
        for row in sheet.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or not cell.value.strip() or (cell.row, cell.column) in merged_inner:
                    continue
                where = f"{sheet.title}!{cell.coordinate}"
                text, header = cell.value, _is_header(cell)
                scale = 11 / _font_points(cell) / (CHAR_WIDTH["bold"] if cell.font is not None and cell.font.b
                                                   else CHAR_WIDTH["plain"])
                width = _span_width(sheet, cell) * scale - 1  # a character of padding
                wrapped = bool(cell.alignment is not None and cell.alignment.wrap_text)
                if header and sheet.title not in keyed and RAW_KEY.match(text.split("\n")[0].strip()):
                    problems.append(f"{where}: raw key {text!r} as a header (use the field table's label)")
                if header:
                    parts = text.split() if wrapped else text.split("\n")
                    longest = max(text_width(p) for p in parts)
                    if longest > width:
                        problems.append(f"{where}: header {text!r} is wider than its column "
                                        f"({longest:.1f} characters, room for {width:.1f})")
                if wrapped:
                    height = sheet.row_dimensions[cell.row].height or LINE_POINTS
                    needed = _lines(text, max(width, 1)) * LINE_POINTS * _font_points(cell) / 11
                    if needed > height * 1.05:
                        problems.append(f"{where}: wrapped text needs {needed:.0f} points, its row has "
                                        f"{height:.0f}: it overlaps the next row")
        for row in sheet.iter_rows():
            for cell in row:  # a display-text cell (label, units, header) computed to a number prints that number
                if cell.style in DISPLAY_TEXT_STYLES and isinstance(cell.value, (int, float)):
                    problems.append(f"{sheet.title}!{cell.coordinate}: the number {cell.value!r} in a {cell.style} cell "
                                    "(a lookup of an empty cell is 0; keep the formula text)")
        hidden = {c for d in sheet.column_dimensions.values() if d.hidden for c in range(d.min, d.max + 1)}
        if sheet.title not in keyed:  # catalog tables are data a user widens; every other sheet is read as printed
            problems += clipped_text(sheet, merged_inner, hidden)
        for row in sheet.iter_rows(min_col=1, max_col=max(sheet.max_column - 1, 1)):
            for cell in row:
                after = sheet.cell(cell.row, cell.column + 1)
                if cell.column not in hidden and _right_edge(cell) and _left_edge(after):
                    problems.append(f"{sheet.title}!{cell.coordinate}: {cell.value!r} runs into "
                                    f"{after.value!r} beside it (align apart or leave a gap)")
        for chart in sheet._charts:
            skip = getattr(getattr(chart, "x_axis", None), "tickLblSkip", None)
            if getattr(chart, "tagname", "") == "barChart" and skip not in (None, 1):
                problems.append(f"{sheet.title}: a bar chart shows every {skip}th label only")
            if getattr(chart, "tagname", "") == "barChart" and skip is None:
                problems.append(f"{sheet.title}: a bar chart leaves label skipping to the spreadsheet "
                                f"(LibreOffice drops labels); set tickLblSkip = 1")
        for what, pattern in PRINTED:
            for found in pattern.finditer(pages.get(sheet.title, "")):
                problems.append(f"{sheet.title}: {what} printed: {found.group(0)!r}")
    return problems


DETAIL = {"detail": True, "offerings": ["runpod", "lambda", "together"],  # a GPU offering first: it can commit
          "forecast": {"months": 24, "monthly_growth": 0.05, "start": "2027-01", "commitment": "3y"}}


@pytest.fixture(scope="module")
def report_pages(tmp_path_factory):
    """Every sheet a report can have: the detail sheets, a forecast with calendar months and a commitment."""
    folder = tmp_path_factory.mktemp("render_report")
    path = workbook.report(folder / "report.xlsx", DETAIL)
    return load_workbook(path), render(path, folder)


@pytest.fixture(scope="module", params=[None, ("runpod/h100_sxm", "together:per_token", "lambda")],
                ids=["default", "options"])
def short_pages(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("render_short")
    path = workbook.report(folder / "short.xlsx", {"options": request.param} if request.param else None)
    return load_workbook(path), render(path, folder)


def printed_pages(text):
    return len(re.findall(r"— page \d+ of \d+", text))


def test_short_report_is_one_page_and_its_sources(short_pages):
    book, pages = short_pages
    assert book.sheetnames == ["Summary", "Sources"]
    assert printed_pages(pages["Summary"]) == 1 and printed_pages(pages["Sources"]) == 1
    problems = readability_problems(book, pages)
    assert not problems, "\n".join(problems)
    table = book["Summary"]
    shown = [text for _, text in shown_numbers(table)]
    assert len(shown) >= 12 and all(text in pages["Summary"] for text in shown)  # every cost on the page


def test_report_every_sheet_renders_clean(report_pages):
    book, pages = report_pages
    assert_clean(pages, book.sheetnames)


def test_report_every_number_is_shown_whole(report_pages):
    book, pages = report_pages
    checked = 0
    for sheet in book.worksheets:
        for cell, text in shown_numbers(sheet):
            assert text in pages[sheet.title], f"{sheet.title}!{cell.coordinate} {cell.value!r} not shown as {text}"
            checked += 1
    assert checked > 500


@pytest.fixture(scope="module")
def template_pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("render_template")
    built = template.build_template(folder / template.TEMPLATE_NAME)
    for suffix in (".xlsx", ".xlsm"):  # the macro-free deliverable is .xlsx where the engine writes one
        values = folder / f"values{suffix}"
        try:
            workbook.recalc(built, output=values, values_only=True)
            break
        except InputError:
            continue
    return load_workbook(values), render(values, folder)


def test_template_every_sheet_renders_clean(template_pages):
    book, pages = template_pages
    visible = [s.title for s in book.worksheets if s.sheet_state == "visible"]
    assert_clean(pages, visible)


def test_template_required_cells_are_filled_and_shown(template_pages):
    book, pages = template_pages
    results = book["Results"]
    required = [row[2] for row in results.iter_rows(min_row=5) if row[1].value and row[1].style == "atlas_key"]
    assert len(required) == sum(len(b.rows) for b in sheets.RESULTS)
    assert all(c.value not in (None, "") for c in required)  # the default offering has GPUs: no blank allowed
    for cell, text in shown_numbers(results, columns={"C"}):
        assert text in pages["Results"], f"Results!{cell.coordinate} not shown as {text}"
    ranking = book["Ranking"]
    assert ranking["A4"].value == "Rank" and ranking["B6"].value  # display header, a first offering
    for cell, text in shown_numbers(ranking, columns=set("ABCDEFGHIJKL"), rows=(6, 20)):
        assert text in pages["Ranking"], f"Ranking!{cell.coordinate} not shown as {text}"
    for title in ("Simulator", "Schedule"):
        sheet = book[title]
        labelled = [r for r in sheet.iter_rows(min_row=6, max_row=40) if r[1].value]
        assert labelled and all(r[0].value and r[2].value not in (None, "") for r in labelled), title
        for cell, text in shown_numbers(sheet, columns=set("ABCDEFGHIJKLMN")):
            assert text in pages[title], f"{title}!{cell.coordinate} not shown as {text}"
    for cell, text in shown_numbers(book["WhatIf"]):
        assert text in pages["WhatIf"], f"WhatIf!{cell.coordinate} not shown as {text}"
    assert "OK: all" in pages["Checks"] and "OK: all" in pages["Start"]
    # the forecast's footer dates its price in the field table's words, not as the key price_as_of
    assert re.search(rf"{fields.label('price_as_of')}\s+\d{{4}}-\d{{2}}-\d{{2}}", pages["Forecast"])


def test_template_sensitivity_reads_in_each_inputs_units(template_pages):
    """Base, low and high value as the row's input is shown everywhere ($2.69, 85.0%, 5,592), whatever order
    the rows come in (the conditional formats of finance_sheets.sensitivity_template_sheet)."""
    book, pages = template_pages
    first = 8  # under the header and the function's key row
    checked = 0
    for row in book["Sensitivity"].iter_rows(min_row=first, max_row=first + finance_sheets.SENSITIVITY_ROWS - 1):
        key = row[1].value
        if not key:
            continue
        for cell in row[2:5]:
            text = fields.display(cell.value, fields.number_format(key))
            assert text in pages["Sensitivity"], f"Sensitivity!{cell.coordinate} ({key}) not shown as {text}"
            checked += 1
    assert checked >= 3 * 6


def test_report_reads_cleanly(report_pages):
    book, pages = report_pages
    problems = readability_problems(book, pages)
    assert not problems, "\n".join(problems)


def test_template_reads_cleanly(template_pages):
    book, pages = template_pages
    problems = readability_problems(book, pages)
    assert not problems, "\n".join(problems)
