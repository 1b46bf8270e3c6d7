"""Untrusted workbooks (workbook/safety.py): each attack or malformed file fails fast with one line.
Every hostile file is generated here."""
import io
import resource
import time
import zipfile

import pytest
from openpyxl import Workbook

from atlas_xl.errors import InputError
from workbook.recalculate import recalc
from workbook.safety import Limits, check_workbook


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


def test_huge_declared_dimension_is_harmless(tmp_path):
    path = plain_workbook(tmp_path / "dim.xlsx", {"A1": 1, "A2": 2, "B1": "=SUM(A:A)", "B2": "=COUNTA(A:A)"})
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").replace(b'<dimension ref="A1:B2"/>',
                                                                 b'<dimension ref="A1:XFD1048576"/>')
    assert b"XFD1048576" in sheet
    rewrite(path, {"xl/worksheets/sheet1.xml": sheet})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = recalc(path)
    assert time.perf_counter() - start < 5.0
    assert result["S!B1"] == 3.0 and result["S!B2"] == 2.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB: bounded


def test_far_away_cell_with_whole_column_refs(tmp_path):
    path = plain_workbook(tmp_path / "far.xlsx", {"A1": 1, "XFD1048576": 1, "AA1": "=SUM(A:Z)", "AB1": "=SUM(A:A)"})
    result = recalc(path)
    assert "too large" in result.problems["S!AA1"]
    assert result["S!AB1"] == 1.0  # one column of a million rows is fine


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


def test_external_links_are_not_followed(tmp_path):
    path = plain_workbook(tmp_path / "links.xlsx", {"A1": "='[other.xlsx]Sheet1'!A1+1", "A2": 2})
    result = recalc(path)
    assert "is not followed" in result.problems["S!A1"]
