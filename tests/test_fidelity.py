"""Fidelity: real workbooks with Excel's cached values, stripped, recalculated on LibreOffice and
compared cell by cell (tests/fidelity/README.md)."""
import csv
import datetime as dt
import math
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.datetime import to_excel

from workbook.recalculate import CellError, strip_cached_values

HERE = Path(__file__).resolve().parent / "fidelity"
WORKBOOKS = sorted((HERE / "xlcalculator").glob("*.xlsx"))


def excel_values(path):
    book = load_workbook(path, data_only=True)
    return {f"{s.title}!{c.coordinate}": c.value for s in book.worksheets for row in s.iter_rows() for c in row}


def same(excel, computed):
    """Excel's cached value and LibreOffice's result are the same answer."""
    if isinstance(computed, CellError):
        return excel == computed.code
    if isinstance(excel, (dt.datetime, dt.date, dt.time)):
        excel = to_excel(excel)
    if isinstance(excel, bool) or isinstance(computed, bool):
        return isinstance(computed, (bool, float, int)) and float(excel) == float(computed)
    if isinstance(excel, (int, float)) and isinstance(computed, (int, float)):
        return math.isclose(excel, computed, rel_tol=1e-9, abs_tol=1e-9)
    if excel is None:
        return computed in ("", None)
    return excel == computed


def test_recalculated_workbooks_match_excel(office, tmp_path):
    assert len(WORKBOOKS) == 56
    known = {(r["workbook"], r["cell"]) for r in csv.DictReader(open(HERE / "known_differences.csv", encoding="utf-8"))}
    matched, wrong, not_computed = 0, set(), set()
    for path in WORKBOOKS:
        stripped = strip_cached_values(path, tmp_path / path.name)
        formulas = load_workbook(stripped)
        cached = load_workbook(stripped, data_only=True)
        for sheet in formulas.worksheets:  # nothing Excel computed is left to be passed off as fresh
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        assert cached[sheet.title][cell.coordinate].value is None
        result = office.recalc(stripped)
        excel = excel_values(path)
        for where, value in result.values.items():
            if where in result.problems:
                not_computed.add((path.name, where))
            elif same(excel.get(where), value):
                matched += 1
            else:
                wrong.add((path.name, where))
    total = matched + len(wrong) + len(not_computed)
    print(f"\nfidelity against Excel: {total} formula cells in {len(WORKBOOKS)} workbooks — {matched} matched "
          f"({matched / total:.1%}), {len(wrong)} wrong, {len(not_computed)} not computed")
    assert total == 3357
    assert wrong == known, f"new differences: {sorted(wrong - known)}; fixed: {sorted(known - wrong)}"
    assert not not_computed
