"""Every sheet as a reader sees it: LibreOffice renders the report and the values-only template to
PDF, pdftotext reads it back, and each sheet's pages (found by the footer "Sheet — page n of N")
must show no ###, #NAME?, #VALUE! or other error, and every required cell as its number format
shows it (a value that does not fit its column prints as ###; a missing value is simply absent).
"""
import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

import workbook
from atlas_xl import fields
from atlas_xl.errors import InputError
from workbook import sheets, template

ERRORS = ("###", "#NAME?", "#VALUE!", "#N/A", "#REF!", "#DIV/0!", "#NUM!", "Err:5")
CHECKED_FORMATS = {fields.USD, fields.USD_CENTS, fields.USD_MILLI, fields.COUNT, fields.SHARE, fields.DECIMAL,
                   fields.RATIO, fields.PERCENT, fields.YES_NO}


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


@pytest.fixture(scope="module")
def report_pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("render_report")
    path = workbook.report(folder / "report.xlsx")
    return load_workbook(path), render(path, folder)


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
