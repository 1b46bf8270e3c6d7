"""Untrusted workbooks (workbook/safety.py): each attack or malformed file fails fast with one line.
Every hostile file is generated here."""
import io
import resource
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from atlas_xl.errors import InputError
from workbook.recalculate import recalc
from workbook.safety import Limits, check_workbook, open_workbook


def plain_workbook(path, cells=None):
    book = Workbook()
    book.active.title = "S"
    for ref, value in (cells or {"A1": 1, "B1": "=A1*2"}).items():
        book.active[ref] = value
    book.save(path)
    return path


def rewrite(path, replace):
    """Copy a workbook with some parts replaced: {name: bytes}."""
    data = io.BytesIO(path.read_bytes())
    with zipfile.ZipFile(data) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, payload in replace.items():
            if name not in source.namelist():
                out.writestr(name, payload)
    return path


def quick(call):
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        call()
    assert time.perf_counter() - start < 5.0
    message = str(info.value)
    assert "\n" not in message
    return message


def test_entity_bomb_is_refused(tmp_path):
    laughs = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
        f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">'.encode() for i in range(1, 10)) + \
        b']><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol9;</workbook>'
    path = rewrite(plain_workbook(tmp_path / "bomb.xlsx"), {"xl/workbook.xml": laughs})
    assert "declares XML entities" in quick(lambda: recalc(path))


def test_zip_bomb_ratio_is_refused(tmp_path):
    path = rewrite(plain_workbook(tmp_path / "zip.xlsx"), {"xl/media/padding.xml": b"\0" * (64 * 2**20)})
    assert "possible zip bomb" in quick(lambda: recalc(path))


def test_zip_bomb_total_size_is_refused(tmp_path):
    path = plain_workbook(tmp_path / "big.xlsx")
    assert "possible zip bomb" in quick(lambda: check_workbook(path, Limits(max_uncompressed_bytes=1000)))


def test_huge_declared_dimension_is_harmless(tmp_path, office):
    path = plain_workbook(tmp_path / "dim.xlsx", {"A1": 1, "A2": 2, "B1": "=SUM(A:A)", "B2": "=COUNTA(A:A)"})
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").replace(b'<dimension ref="A1:B2"/>',
                                                                 b'<dimension ref="A1:XFD1048576"/>')
    assert b"XFD1048576" in sheet
    rewrite(path, {"xl/worksheets/sheet1.xml": sheet})
    start = time.perf_counter()
    result = office.recalc(path)
    assert time.perf_counter() - start < 5.0
    assert result["S!B1"] == 3.0 and result["S!B2"] == 2.0


def test_far_away_cell_with_whole_column_refs(tmp_path, office):
    path = plain_workbook(tmp_path / "far.xlsx", {"A1": 1, "XFD1048576": 1, "AA1": "=SUM(A:Z)", "AB1": "=SUM(A:A)",
                                                  "AC1": "=SUM(1:1048576)"})
    start = time.perf_counter()
    result = office.recalc(path)
    assert time.perf_counter() - start < 5.0  # whole columns and rows cost what their cells cost
    assert result["S!AA1"] == 1.0 and result["S!AB1"] == 1.0 and result.problems == {}


@pytest.mark.parametrize("payload, message", [
    (b"this is not a workbook", "not a valid .xlsx/.xlsm file (not a zip archive)"),
    (None, "no workbook part"),
    (b"PK\x03\x04truncated", "not a valid .xlsx/.xlsm file"),
])
def test_malformed_files(tmp_path, payload, message):
    path = tmp_path / "bad.xlsx"
    if payload is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hi")
    else:
        path.write_bytes(payload)
    assert message in quick(lambda: recalc(path))


def test_broken_xml_inside_a_valid_zip(tmp_path):
    path = rewrite(plain_workbook(tmp_path / "broken.xlsx"), {"xl/workbook.xml": b"<workbook><sheets>"})
    assert "cannot read 'broken.xlsx'" in quick(lambda: recalc(path))


def test_wrong_suffix_and_missing(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    assert "not an Excel workbook" in quick(lambda: recalc(tmp_path / "x.csv"))
    assert "does not exist" in quick(lambda: recalc(tmp_path / "none.xlsx"))


def test_external_links_are_not_followed(tmp_path, office):
    (tmp_path / "other.xlsx").write_bytes(plain_workbook(tmp_path / "o.xlsx", {"A1": 41}).read_bytes())
    path = plain_workbook(tmp_path / "links.xlsx", {"A1": "='[other.xlsx]S'!A1+1", "A2": 2})
    result = office.recalc(path)
    assert result["S!A1"] != 42.0 and result.errors  # the other workbook is never read
    assert result.errors[0].address == "S!A1"


# -- damaged and big-on-purpose archives (issue 13) -------------------------------------------------
def _entry_offsets(path, name):
    """(local header offset, central directory offset) of one part's headers in the archive."""
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    central = None
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        length = int.from_bytes(data[position + 28:position + 30], "little")
        if data[position + 46:position + 46 + length].decode() == name:
            central = position
            break
        position = data.find(b"PK\x01\x02", position + 4)
    return info, central


def test_flipped_bytes_are_a_damaged_archive(tmp_path):
    path = plain_workbook(tmp_path / "flip.xlsx", {f"A{i}": i * 1.5 for i in range(1, 400)})
    info, _ = _entry_offsets(path, "xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 20, start + 60):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    assert "damaged zip archive" in quick(lambda: recalc(path))


def test_unknown_compression_method(tmp_path):
    path = plain_workbook(tmp_path / "method.xlsx")
    info, central = _entry_offsets(path, "xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 8:info.header_offset + 10] = (99).to_bytes(2, "little")  # AES: not Excel's
    data[central + 10:central + 12] = (99).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    assert "compression Excel does not write" in quick(lambda: recalc(path))


SHEET = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
         b'spreadsheetml/2006/main"><sheetData>%s</sheetData></worksheet>')


@pytest.mark.parametrize("rows, message", [
    (b'<row r="1048576"><c r="A1048576"><v>1</v></c></row><row><c><v>1</v></c></row>',
     "has more than 1,048,576 rows"),  # a row without r follows the one before it
    (b'<row r="55.0"><c r="A55"><v>1</v></c></row>', 'has the row number r="55.0"'),
    (b'<row r="0"><c r="A1"><v>1</v></c></row>', 'has the row number r="0"'),
    (b'<row r="9999999"><c r="A1"><v>1</v></c></row>', 'has the row number r="9999999"'),
    (b'<row r="1"><c r="A1"><v>' + b"9" * 400 + b'</v></c></row>', "a number beyond Excel's range"),
    (b'<row r="1"><c r="A1"><v>1e400</v></c></row>', "a number beyond Excel's range"),
])
def test_malformed_rows(tmp_path, rows, message):
    path = rewrite(plain_workbook(tmp_path / "rows.xlsx"), {"xl/worksheets/sheet1.xml": SHEET % rows})
    assert message in quick(lambda: recalc(path))


def test_two_sheets_with_one_name(tmp_path):
    book = Workbook()
    book.active.title = "S"
    book.create_sheet("T")
    path = tmp_path / "twins.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        workbook_xml = archive.read("xl/workbook.xml").replace(b'name="T"', b'name="s"')
    rewrite(path, {"xl/workbook.xml": workbook_xml})
    assert "two sheets are named 's'" in quick(lambda: recalc(path))


def test_many_parts_each_under_the_per_part_floor(tmp_path):
    """Ten parts of 3.9 MB (just under the 4 MB per-part ratio floor) that compress 1000-fold:
    the package as a whole is refused, in seconds and little memory."""
    filler = SHEET % (b'<row r="1"><c r="A1"><v>1</v></c></row>' + b" " * (3_900_000))
    parts = {f"xl/media/part{i}.xml": filler for i in range(10)}
    path = rewrite(plain_workbook(tmp_path / "many.xlsx"), parts)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert "expands" in quick(lambda: recalc(path)) and "as a whole" in quick(lambda: recalc(path))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500 * 1024  # kB: < 500 MB


def test_too_many_cells_and_huge_text_are_refused(tmp_path):
    cells = {f"A{i}": i for i in range(1, 2001)}
    path = plain_workbook(tmp_path / "cells.xlsx", cells)
    assert "more than 1,000 cells" in quick(lambda: check_workbook(path, Limits(max_cells=1000)))
    text = plain_workbook(tmp_path / "text.xlsx", {"A1": "word " * 2000})
    assert "run of text longer than" in quick(lambda: check_workbook(text, Limits(max_text_bytes=4096)))
    big = rewrite(plain_workbook(tmp_path / "big.xlsx"), {"xl/sharedStrings.xml": b"<sst>" + b"x" * 12_000_000 + b"</sst>"})
    assert "refusing" in quick(lambda: recalc(big))


def test_encrypted_flag_is_refused(tmp_path):
    path = plain_workbook(tmp_path / "locked.xlsx")
    info, central = _entry_offsets(path, "xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 6] |= 1  # general-purpose flag bit 0: encrypted
    data[central + 8] |= 1
    path.write_bytes(bytes(data))
    assert "is encrypted (password-protected)" in quick(lambda: recalc(path))


# -- no valid file refused (issue 22, item 5) ------------------------------------------------------
POI = Path(__file__).parent / "workbooks" / "poi"  # Apache POI's test data; README.md beside them
XLCALCULATOR = Path(__file__).parent / "fidelity" / "xlcalculator"
VALID = ["stress002.xlsx", "InlineString.xlsx", "59746_NoRowNums.xlsx", "56278.xlsx", "62629_target.xlsm",
         "SampleSS.xlsx", "WithVariousData.xlsx", "shared_formulas.xlsx"]


@pytest.mark.parametrize("name", VALID)
def test_public_excel_workbooks_open(name):
    book = open_workbook(POI / name)  # the guards, then openpyxl
    assert book.sheetnames


def test_every_xlcalculator_workbook_opens():
    books = sorted(XLCALCULATOR.glob("*.xlsx"))
    assert len(books) == 56 and "BASES.xlsx" in {b.name for b in books}  # tests/fidelity/README.md
    for path in books:
        check_workbook(path)  # BASES.xlsx: text results such as E000000000 (t="str") look like 1e309


@pytest.mark.parametrize("name, message", [
    ("poc-xmlbomb.xlsx", "declares XML entities"),
    ("54764.xlsx", "declares XML entities"),
    ("poc-shared-strings.xlsx", "run of text longer than 1,024 kB"),
    ("duplicate-filename.xlsx", "holds two parts with one name"),
    ("duplicate-filename-case-insensitive.xlsx", "holds two parts with one name"),  # OPC names ignore case
    ("protected_passtika.xlsx", "password-protected (encrypted) workbook or an old .xls file"),
])
def test_public_hostile_workbooks_are_refused(name, message):
    assert message in quick(lambda: check_workbook(POI / name))


@pytest.mark.parametrize("rows", [
    b'<row><c r="A1"><v>1</v></c></row><row><c><v>2</v></c></row>',  # r is optional (ECMA-376 18.3.1.73)
    b'<row r="1"><c r="A1" t="str"><f>"1e400"</f><v>1e400</v></c></row>',  # a text result, not a number
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>1e999</t></is></c></row>',
    b'<row r="1"><c r="A1"><v>1.7976931348623157e308</v></c><c r="B1"><v>-1e-400</v></c></row>',  # finite; 0
    b'<row r="1"><c r="A1"><v>1' + b"0" * 307 + b'</v></c></row>',  # 1e307 written out: 308 digits
])
def test_what_ecma_376_allows_is_accepted(tmp_path, rows):
    path = rewrite(plain_workbook(tmp_path / "valid.xlsx"), {"xl/worksheets/sheet1.xml": SHEET % rows})
    check_workbook(path)


def test_rows_without_r_are_numbered_as_excel_numbers_them(tmp_path):
    rows = b'<row r="3"><c r="A3"><v>3</v></c></row><row><c r="A4"><v>4</v></c></row>'
    path = rewrite(plain_workbook(tmp_path / "norow.xlsx"), {"xl/worksheets/sheet1.xml": SHEET % rows})
    sheet = open_workbook(path).active
    assert sheet["A3"].value == 3 and sheet["A4"].value == 4  # the row after 3 is 4 (openpyxl agrees)
