"""A headless formula engine for workbooks that mix ordinary and ATLAS_* formulas.

Loads the cells, formulas (including array formulas) and defined names of an openpyxl workbook,
evaluates them with the real worksheet functions registered, and recalculates incrementally: a
changed input invalidates only its dependents. Formulas it cannot evaluate (a function it does not
know, a structured table reference, a link to another workbook) are listed in `problems` with the
cell and the reason; their cells hold #NAME? or #REF!.
"""
from __future__ import annotations

import bisect
import inspect
from dataclasses import dataclass

import numpy as np
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from workbook import excel_functions as xf
from workbook.formula import Unsupported, parse, references

MAX_RANGE_CELLS = 5_000_000  # one reference may not materialise more cells than this


@dataclass
class Formula:
    text: str
    tree: tuple | None
    array: tuple | None = None  # (r1, c1, r2, c2) of an array formula's range
    problem: str | None = None
    refs: tuple = ()  # resolved static references (sheet, r1, c1, r2, c2)


def _udf_registry():
    """ATLAS_* worksheet functions, callable from the engine; table functions get ``caller``."""
    from udfs import functions

    registry = {}
    for name, function in vars(functions).items():
        if name.startswith("ATLAS_") and callable(function):
            registry[name] = (function, "caller" in inspect.signature(function).parameters)
    return registry


def _to_excel(value):
    """An engine value as xlwings would pass it: ranges as 2-D lists, 1×1 as a scalar."""
    if xf.is_array(value):
        if value.shape == (1, 1):
            return value[0, 0]
        return value.tolist()
    return value


def _from_result(result):
    if isinstance(result, (list, tuple)):
        rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in result]
        width = max(len(r) for r in rows) if rows else 1
        array = np.empty((len(rows), width), dtype=object)
        for i, row in enumerate(rows):
            array[i, :] = list(row) + [None] * (width - len(row))
        return array
    if isinstance(result, np.generic):
        return result.item()
    if isinstance(result, int) and not isinstance(result, bool):
        return float(result)
    return result


class Engine:
    """Evaluate every formula of a workbook; `set_value` for what-if; `values()` for the results."""

    def __init__(self, book, functions=None):
        self.book = book
        self.functions = _udf_registry() if functions is None else functions
        self.cells = {}  # (sheet, row, col) → constant value
        self.formulas = {}  # (sheet, row, col) → Formula (anchor cell for arrays)
        self.members = {}  # member cell of an array formula → its anchor
        self.computed = {}  # (sheet, row, col) → value of a formula cell
        self.problems = {}  # (sheet, row, col) → reason
        self.names = {}  # NAME → tree; (sheet, NAME) → tree for sheet-scoped names
        self.extent = {}  # sheet → (max_row, max_col) of cells with content
        self.by_column = {}  # (sheet, col) → sorted rows holding formula cells
        self.members_by_column = {}  # (sheet, col) → sorted rows of array-formula member cells
        self.dependents = {}  # precedent cell → formula cells that read it
        self.range_dependents = {}  # (sheet, r1, c1, r2, c2) → formula cells that read the range
        self._load()

    # -- loading -----------------------------------------------------------------------------------
    def _load(self):
        for sheet in self.book.worksheets:
            title = sheet.title
            max_row = max_col = 0
            # only the cells that exist: iter_rows() would walk the whole rectangle up to the
            # farthest cell (a hostile file puts one at XFD1048576)
            for cell in list(sheet._cells.values()):
                value = cell.value
                if value is None:
                    continue
                key = (title, cell.row, cell.column)
                max_row, max_col = max(max_row, cell.row), max(max_col, cell.column)
                if isinstance(value, ArrayFormula):
                    r1, c1, r2, c2 = self._bounds(value.ref)
                    self._add_formula(key, value.text, (r1, c1, r2, c2))
                    max_row, max_col = max(max_row, r2), max(max_col, c2)
                elif cell.data_type == "f":
                    self._add_formula(key, value, None)
                elif cell.data_type == "e":  # an error typed into a cell (#N/A)
                    self.cells[key] = xf.XLError(str(value))
                elif hasattr(value, "isoformat"):
                    self.cells[key] = _excel_date(value)
                else:
                    self.cells[key] = float(value) if isinstance(value, int) and not isinstance(value, bool) else value
            self.extent[title] = (max_row, max_col)
            for name, defined in getattr(sheet, "defined_names", {}).items():
                self._add_name((title, name.upper()), defined.attr_text, title)
        for name, defined in self.book.defined_names.items():
            self._add_name(name.upper(), defined.attr_text, None)
        for key, formula in self.formulas.items():
            self._index(key, formula)

    @staticmethod
    def _bounds(ref):
        c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
        return r1, c1, r2, c2

    def _add_formula(self, key, text, array):
        try:
            tree = parse(text, key[0])
            formula = Formula(text, tree, array)
            for node in _function_names(tree):
                if node not in xf.BUILTINS and node not in xf.LAZY and node not in self.functions:
                    raise Unsupported(f"function {node} is not supported by the headless engine")
        except Unsupported as problem:
            formula = Formula(text, None, array, str(problem))
            self.problems[key] = str(problem)
        self.formulas[key] = formula
        if array:
            r1, c1, r2, c2 = array
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != key[1:]:
                        self.members[(key[0], r, c)] = key
                        self.cells.pop((key[0], r, c), None)
                        bisect.insort(self.members_by_column.setdefault((key[0], c), []), r)

    def _add_name(self, key, text, sheet):
        if text is None:
            return
        try:
            self.names[key] = parse(text, sheet)
        except Unsupported as problem:
            self.names[key] = ("problem", str(problem))

    def _index(self, key, formula):
        sheet, row, col = key
        bisect.insort(self.by_column.setdefault((sheet, col), []), row)
        if formula.tree is None:
            return
        formula.refs = tuple(self._static_refs(formula.tree, sheet))
        for ref in formula.refs:
            if ref[1:] and ref[1] == ref[3] and ref[2] == ref[4]:
                self.dependents.setdefault((ref[0], ref[1], ref[2]), set()).add(key)
            else:
                self.range_dependents.setdefault(ref, set()).add(key)

    def _static_refs(self, tree, sheet, seen=None):
        """Resolved (sheet, r1, c1, r2, c2) references of a tree, names followed."""
        seen = set() if seen is None else seen
        out = []
        for node in references(tree):
            if node[0] == "name":
                target = self._name_tree(node[1], sheet)
                if target is None or target[0] == "problem" or node[1] in seen:
                    continue
                seen.add(node[1])
                out.extend(self._static_refs(target, sheet, seen))
            else:
                out.append(self._clip(node))
        return out

    def _name_tree(self, name, sheet):
        return self.names.get((sheet, name), self.names.get(name))

    def _clip(self, node):
        """A ("ref" ...) node → (sheet, r1, c1, r2, c2) with whole rows/columns cut to the used area."""
        _, sheet, r1, c1, r2, c2 = node
        max_row, max_col = self.extent.get(sheet, (0, 0))
        if r1 == 0:
            r1, r2 = 1, max(1, max_row)
        if c1 == 0:
            c1, c2 = 1, max(1, max_col)
        return (sheet, r1, c1, r2, c2)

    # -- values ------------------------------------------------------------------------------------------
    def value(self, sheet, row, col):
        """The value of one cell (evaluating formulas as needed)."""
        key = (sheet, row, col)
        if key in self.computed:
            return self.computed[key]
        anchor = self.members.get(key)
        if anchor is not None:
            self._evaluate(anchor)
            return self.computed.get(key)
        if key in self.formulas:
            self._evaluate(key)
            return self.computed[key]
        return self.cells.get(key)

    def range_values(self, ref):
        sheet, r1, c1, r2, c2 = ref
        if sheet not in self.extent:
            raise xf.REF
        if (r2 - r1 + 1) * (c2 - c1 + 1) > MAX_RANGE_CELLS:
            raise Unsupported(f"range {sheet}!{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2} is too large")
        self._prepare(ref)
        out = np.empty((r2 - r1 + 1, c2 - c1 + 1), dtype=object)
        cells, computed, members = self.cells, self.computed, self.members
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                key = (sheet, r, c)
                if key in computed:
                    out[r - r1, c - c1] = computed[key]
                elif key in members or key in self.formulas:
                    out[r - r1, c - c1] = self.value(sheet, r, c)
                else:
                    out[r - r1, c - c1] = cells.get(key)
        return out

    def _formulas_in(self, ref):
        sheet, r1, c1, r2, c2 = ref
        for col in range(c1, c2 + 1):
            rows = self.by_column.get((sheet, col))
            if rows:
                for row in rows[bisect.bisect_left(rows, r1):bisect.bisect_right(rows, r2)]:
                    yield (sheet, row, col)
            rows = self.members_by_column.get((sheet, col))
            if rows:
                for row in rows[bisect.bisect_left(rows, r1):bisect.bisect_right(rows, r2)]:
                    yield self.members[(sheet, row, col)]

    def _precedent_formulas(self, key):
        out = []
        for ref in self.formulas[key].refs:
            if ref[1] == ref[3] and ref[2] == ref[4]:
                cell = (ref[0], ref[1], ref[2])
                if cell in self.formulas:
                    out.append(cell)
                elif cell in self.members:
                    out.append(self.members[cell])
            else:
                out.extend(self._formulas_in(ref))
        return out

    def _prepare(self, ref):
        """Evaluate the formula cells inside a range before reading it (iteratively: no deep recursion)."""
        pending = [k for k in self._formulas_in(ref) if k not in self.computed]
        for key in pending:
            if key not in self.computed:
                self._evaluate(key)

    def _evaluate(self, key):
        """Evaluate a formula cell after its precedents, with an explicit stack (long chains are fine)."""
        stack, visiting = [(key, False)], set()
        while stack:
            current, expanded = stack.pop()
            if current in self.computed:
                continue
            if expanded:
                visiting.discard(current)
                self._compute(current)
                continue
            if current in visiting:
                self.problems[current] = "circular reference"
                self._store(current, xf.REF)
                continue
            visiting.add(current)
            stack.append((current, True))
            for precedent in self._precedent_formulas(current):
                if precedent in visiting or precedent == current:  # a cycle: Excel warns; we flag it
                    self.problems[current] = "circular reference"
                    self._store(current, xf.REF)
                    break
                if precedent not in self.computed:
                    stack.append((precedent, False))

    def _compute(self, key):
        formula = self.formulas[key]
        if formula.tree is None:
            error = xf.REF if "reference" in (formula.problem or "") else xf.NAME
            self._store(key, error)
            return
        shape = None
        if formula.array:
            r1, c1, r2, c2 = formula.array
            shape = (r2 - r1 + 1, c2 - c1 + 1)
        try:
            result = self._eval(formula.tree, key[0], shape)
        except xf.XLError as error:
            result = error
        except Unsupported as problem:
            self.problems[key] = str(problem)
            result = xf.NAME
        self._store(key, result)

    def _store(self, key, result):
        formula = self.formulas[key]
        if not formula.array:
            if xf.is_array(result):
                result = result.flat[0] if result.size else None
            self.computed[key] = result
            return
        sheet = key[0]
        r1, c1, r2, c2 = formula.array
        grid = result if xf.is_array(result) else np.array([[result]], dtype=object)
        rows, cols = grid.shape
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                i, j = r - r1, c - c1
                if rows == 1 and cols == 1:
                    value = grid[0, 0]  # a scalar fills the whole array range, as in Excel
                elif i < rows and j < cols:
                    value = grid[i, j]
                elif rows == 1 and i >= 1 and j < cols:
                    value = grid[0, j]
                elif cols == 1 and j >= 1 and i < rows:
                    value = grid[i, 0]
                else:
                    value = xf.NA
                self.computed[(sheet, r, c)] = value

    # -- evaluation ------------------------------------------------------------------------------------------
    def _eval(self, node, sheet, shape=None):
        kind = node[0]
        if kind in ("num", "str", "bool"):
            return node[1]
        if kind == "err":
            return xf.XLError(node[1])
        if kind == "missing":
            return None
        if kind == "ref":
            return self._ref_value(self._clip(node))
        if kind == "name":
            target = self._name_tree(node[1], sheet)
            if target is None:
                raise Unsupported(f"name {node[1]} is not defined")
            if target[0] == "problem":
                raise Unsupported(target[1])
            return self._eval(target, sheet, shape)
        if kind == "op":
            return xf.binary(node[1], self._unwrap(self._eval(node[2], sheet)), self._unwrap(self._eval(node[3], sheet)))
        if kind == "neg":
            return xf.negate(self._unwrap(self._eval(node[1], sheet)))
        if kind == "pct":
            return xf.percent(self._unwrap(self._eval(node[1], sheet)))
        if kind == "array":
            return np.array(node[1], dtype=object)
        if kind == "fn":
            return self._call(node[1], node[2], sheet, shape)
        raise Unsupported(f"cannot evaluate {kind}")

    def _ref_value(self, ref):
        sheet, r1, c1, r2, c2 = ref
        if r1 == r2 and c1 == c2:
            if sheet not in self.extent:
                raise xf.REF
            value = self.value(sheet, r1, c1)
            return np.array([[value]], dtype=object)
        return self.range_values(ref)

    def _call(self, name, args, sheet, shape):
        if name == "IF":
            condition = xf.scalar(self._eval(args[0], sheet))
            if isinstance(condition, xf.XLError):
                return condition
            chosen = args[1] if xf.boolean(condition) else (args[2] if len(args) > 2 else ("bool", False))
            return self._unwrap(self._eval(chosen, sheet))
        if name in ("IFERROR", "IFNA"):
            value = self._unwrap(self._eval(args[0], sheet))
            failed = isinstance(value, xf.XLError) and (name == "IFERROR" or value == xf.NA)
            return self._unwrap(self._eval(args[1], sheet)) if failed else value
        if name == "OFFSET":
            return self._offset(args, sheet)
        values = [self._eval(a, sheet) for a in args]
        if name in self.functions:
            function, takes_caller = self.functions[name]
            error = next((v for v in values if isinstance(v, xf.XLError)), None)
            if error:
                return error
            call_args = [None if a[0] == "missing" else _to_excel(v) for a, v in zip(args, values)]
            kwargs = {"caller": shape} if takes_caller and shape else {}
            return _from_result(function(*call_args, **kwargs))
        function = xf.BUILTINS[name]
        keep = name in xf.RANGE_FUNCTIONS  # SUM(A1) ignores text in A1; ABS(A1) reads its value
        values = [None if a[0] == "missing" else v if keep else self._unwrap(v) for a, v in zip(args, values)]
        try:
            return _from_result(function(*values))
        except TypeError:
            raise Unsupported(f"wrong number of arguments for {name}") from None
        except xf.XLError as error:
            return error

    @staticmethod
    def _unwrap(value):
        return value[0, 0] if xf.is_array(value) and value.shape == (1, 1) else value

    def _offset(self, args, sheet):
        base = args[0]
        if base[0] == "name":
            base = self._name_tree(base[1], sheet)
        if base is None or base[0] != "ref":
            raise xf.VALUE
        ref_sheet, r1, c1, r2, c2 = self._clip(base)
        numbers = [xf.number(xf.scalar(self._eval(a, sheet))) if a[0] != "missing" else None for a in args[1:]]
        rows, cols = int(numbers[0] or 0), int(numbers[1] or 0)
        height = int(numbers[2]) if len(numbers) > 2 and numbers[2] is not None else r2 - r1 + 1
        width = int(numbers[3]) if len(numbers) > 3 and numbers[3] is not None else c2 - c1 + 1
        if r1 + rows < 1 or c1 + cols < 1 or height < 1 or width < 1:
            raise xf.REF
        return self._ref_value((ref_sheet, r1 + rows, c1 + cols, r1 + rows + height - 1, c1 + cols + width - 1))

    # -- what-if ---------------------------------------------------------------------------------------------
    def calculate(self):
        """Evaluate every formula; returns {(sheet, row, col): value} of all formula cells."""
        for key in list(self.formulas):
            if key not in self.computed:
                self._evaluate(key)
        return dict(self.computed)

    def set_value(self, sheet, row, col, value):
        """Change an input cell; only the formulas that depend on it are recomputed later."""
        key = (sheet, row, col)
        if key in self.formulas or key in self.members:
            raise ValueError(f"{sheet}!{get_column_letter(col)}{row} holds a formula — change an input cell")
        if sheet not in self.extent:
            raise KeyError(sheet)
        self.cells[key] = value
        max_row, max_col = self.extent[sheet]
        self.extent[sheet] = (max(max_row, row), max(max_col, col))
        self._invalidate(key)

    def _invalidate(self, key):
        pending, seen = [key], set()
        while pending:
            cell = pending.pop()
            for dependent in self._dependents_of(cell):
                if dependent in seen:
                    continue
                seen.add(dependent)
                self.computed.pop(dependent, None)
                formula = self.formulas[dependent]
                if formula.array:
                    r1, c1, r2, c2 = formula.array
                    for r in range(r1, r2 + 1):
                        for c in range(c1, c2 + 1):
                            self.computed.pop((dependent[0], r, c), None)
                            pending.append((dependent[0], r, c))
                pending.append(dependent)

    def _dependents_of(self, cell):
        found = set(self.dependents.get(cell, ()))
        sheet, row, col = cell
        for (s, r1, c1, r2, c2), keys in self.range_dependents.items():
            if s == sheet and r1 <= row <= r2 and c1 <= col <= c2:
                found |= keys
        return found


def _function_names(tree):
    stack, names = [tree], []
    while stack:
        node = stack.pop()
        if node[0] == "fn":
            names.append(node[1])
            stack.extend(node[2])
        elif node[0] == "op":
            stack.extend(node[2:])
        elif node[0] in ("neg", "pct"):
            stack.append(node[1])
    return names


def _excel_date(value):
    """A date or datetime as Excel's serial number (1900 system)."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
    elif isinstance(value, dt.date):
        delta = value - dt.date(1899, 12, 30)
    else:
        return None
    return delta.days + getattr(delta, "seconds", 0) / 86400.0
