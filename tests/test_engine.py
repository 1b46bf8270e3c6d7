"""Tests for the headless formula engine (workbook/engine.py, formula.py, excel_functions.py)."""
import pytest
from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

import atlas_xl
from workbook import excel_functions as xf
from workbook.engine import Engine
from workbook.formula import Unsupported, parse


def book_with(cells, names=None):
    book = Workbook()
    sheet = book.active
    sheet.title = "S"
    for ref, value in cells.items():
        sheet[ref] = value
    for name, target in (names or {}).items():
        book.defined_names[name] = DefinedName(name, attr_text=target)
    return book


def evaluate(formula, cells=None, names=None):
    engine = Engine(book_with({**(cells or {}), "Z1": formula}, names))
    return engine.value("S", 1, 26)


@pytest.mark.parametrize("formula, expected", [
    ("=1+2*3", 7.0), ("=(1+2)*3", 9.0), ("=-2^2", 4.0), ("=2^3^2", 64.0), ("=50%*2", 1.0),  # Excel precedence
    ("=10/4", 2.5), ('="a"&1&TRUE', "a1TRUE"), ("=1=1", True), ('="ABC"="abc"', True), ("=2<\"a\"", True),
    ("=A1+A2", 5.0), ("=A1+B9", 2.0),  # an empty cell is 0
    ("=SUM(A1:A3)", 5.0),  # text in a range is skipped
    ("=SUM(A:A)", 5.0), ("=AVERAGE(A1:A2)", 2.5), ("=MAX(A1:A3,10)", 10.0), ("=COUNT(A1:A3)", 2.0),
    ("=COUNTA(A1:A3)", 3.0), ('=COUNTIF(A1:A3,">2")', 1.0), ('=COUNTIF(A1:A3,"x*")', 1.0),
    ('=COUNTIFS(A1:A3,"<>",B1:B3,"")', 3.0), ('=SUMIF(A1:A3,">=2")', 5.0),
    ('=SUMPRODUCT((A1:A3<>"")*(COUNTIF(A1:A3,A1:A3)>1))', 0.0), ("=SUMPRODUCT(A1:A2,A1:A2)", 13.0),
    ("=VLOOKUP(3,A1:A3,1,FALSE)", 3.0), ('=VLOOKUP("XYZ",A1:A3,1,FALSE)', "xyz"), ("=ROWS(A1:B3)", 3.0),
    ("=INDEX(A1:A3,2)", 3.0), ("=MATCH(3,A1:A3,0)", 2.0), ('=IF(A1>1,"big","small")', "big"),
    ("=IFERROR(1/0,-1)", -1.0), ("=ROUND(2.345,2)", 2.35), ("=ROUND(-2.5,0)", -3.0), ("=MOD(-3,2)", 1.0),
    ('=LEFT("atlas",2)&UPPER("x")', "atX"), ("=AND(TRUE,A1>1)", True), ("=OR(FALSE,A1>5)", False),
    ("=ISBLANK(B9)", True), ("=ISNUMBER(A3)", False), ("=TwoX*3", 6.0), ("=SUM(Column)", 5.0),
    ("=OFFSET(A1,1,0)", 3.0), ("=SUM(OFFSET(A1,0,0,2,1))", 5.0), ("=CEILING(2.1,1)", 3.0),
])
def test_formulas(formula, expected):
    result = evaluate(formula, {"A1": 2, "A2": 3, "A3": "xyz"}, {"TwoX": "S!$A$1", "Column": "S!$A$1:$A$3"})
    assert result == pytest.approx(expected) if isinstance(expected, float) else result == expected


@pytest.mark.parametrize("formula, error", [
    ("=1/0", "#DIV/0!"), ("=A3+1", "#VALUE!"), ("=VLOOKUP(9,A1:A2,1,FALSE)", "#N/A"), ("=#REF!+1", "#REF!"),
    ("=SQRT(-1)", "#NUM!"), ("=(1/0)+1", "#DIV/0!"),
])
def test_errors_propagate(formula, error):
    assert evaluate(formula, {"A1": 2, "A2": 3, "A3": "xyz"}) == xf.XLError(error)


def test_unsupported_constructs_are_listed_with_the_cell():
    engine = Engine(book_with({"A1": "=XLOOKUP(1,B1:B2,C1:C2)", "A2": "=Sales[Total]", "A3": "=[1]Sheet1!A1",
                               "A4": "=NOSUCH(1)+1", "A5": "=A1+1"}))
    engine.calculate()
    problems = engine.problems
    assert "function XLOOKUP is not supported" in problems[("S", 1, 1)]
    assert "structured table reference Sales[Total]" in problems[("S", 2, 1)]
    assert "external workbook reference [1]Sheet1!A1 is not followed" in problems[("S", 3, 1)]
    assert "function NOSUCH" in problems[("S", 4, 1)]
    assert engine.value("S", 5, 1) == xf.NAME  # dependents see the error, as in Excel


def test_circular_reference_is_flagged():
    engine = Engine(book_with({"A1": "=B1+1", "B1": "=A1+1"}))
    engine.calculate()
    assert "circular reference" in engine.problems.values()


def test_long_chain_without_recursion_limits():
    cells = {"A1": 1}
    cells.update({f"A{i}": f"=A{i - 1}+1" for i in range(2, 5001)})
    engine = Engine(book_with(cells))
    assert engine.value("S", 5000, 1) == 5000.0


def test_array_formula_fills_its_range_and_broadcasts():
    book = book_with({"A1": 1, "A2": 2})
    book.active["B1"] = ArrayFormula("B1:C2", "=A1:A2*10")
    engine = Engine(book)
    assert [engine.value("S", r, c) for r in (1, 2) for c in (2, 3)] == [10.0, 10.0, 20.0, 20.0]
    book.active["D1"] = ArrayFormula("D1:D3", "=A1:A2*10")
    assert Engine(book).value("S", 3, 4) == xf.NA  # beyond the result, as Excel shows


def test_atlas_functions_are_registered_with_the_real_model():
    cells = {"A1": 2e9, "B1": '=ATLAS_COST(A1,"steady","llama_70b","runpod","h100_sxm")', "B2": "=B1*12",
             "C1": '=ATLAS_P99("nvidia_h100_8x_nvlink","llama_70b_chat")'}
    engine = Engine(book_with(cells))
    cost = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm").monthly_cost_usd
    assert engine.value("S", 1, 2) == cost and engine.value("S", 2, 2) == cost * 12
    assert engine.value("S", 1, 3) == atlas_xl.simulate().p99_ms


def test_table_functions_get_the_array_range_as_caller():
    book = book_with({})
    book.active["A1"] = ArrayFormula("A1:C5", '=ATLAS_RANK(2e9,"steady","llama_70b",250,2,"rank,platform")')
    engine = Engine(book)
    assert engine.value("S", 1, 1) == "rank" and engine.value("S", 2, 1) == 1
    assert engine.value("S", 5, 3) == ""  # padded by the function, not #N/A


def test_what_if_changes_exactly_the_dependents():
    calls = []

    def cost(volume, *rest):
        calls.append(volume)
        return volume * 2

    cells = {"A1": 1, "A2": 2, "B1": "=COST(A1)", "B2": "=COST(A2)", "C1": "=B1+1", "D1": "=SUM(B1:B2)", "E1": "=A2*3"}
    engine = Engine(book_with(cells), functions={"COST": (cost, False)})
    before = engine.calculate()
    assert sorted(calls) == [1, 2]
    engine.set_value("S", 1, 1, 10.0)
    after = engine.calculate()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {("S", 1, 2), ("S", 1, 3), ("S", 1, 4)}  # B1, C1, D1 — not B2, not E1
    assert sorted(calls) == [1, 2, 10]  # one more call, for B1 only
    with pytest.raises(ValueError, match="holds a formula"):
        engine.set_value("S", 1, 2, 5.0)


def test_parse_errors_are_unsupported():
    with pytest.raises(Unsupported, match="missing"):
        parse("=SUM(1,2")
    assert parse("=Gpu") == ("name", "GPU")  # a bare column-like word is a defined name
    assert parse("=A:A")[0] == "ref"
