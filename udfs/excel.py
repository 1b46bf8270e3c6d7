"""What arrives from Excel, normalised in one place; what goes back, made fit for a cell.

Excel (through xlwings) sends numbers as floats, empty cells as None, text as str, booleans as
bool, dates as datetime, and ranges as (nested) lists. Worksheet functions broadcast every
argument (a range of tokens per day against a row of platforms fills a grid) and return either a
scalar or a 2-D list that spills. Errors become one line of text in the cell, never a traceback.
"""
from __future__ import annotations

import datetime as dt
import decimal
import functools
import inspect
import math
from collections import OrderedDict

import numpy as np

from atlas_xl import catalog as catalog_module
from atlas_xl import values
from atlas_xl.errors import AtlasError, InputError

class Memo:
    """A bounded least-recently-used cache of pure results, keyed by argument *content*.

    Excel recalculates every ATLAS_* cell that depends on a changed input; many of them ask the
    same model question (ATLAS_COST, ATLAS_GPUCOUNT... of one workload; ATLAS_P50, ATLAS_P99... of
    one simulation), so the answer is computed once and looked up after. Keys are frozen argument
    values plus the catalog's content fingerprint — never a cell address — so an edited input or
    catalog cell is a different key. At most ``size`` results and ``total_cells`` cells are kept
    (a grid counts its cells); a result larger than ``max_cells`` is not kept at all.
    """

    def __init__(self, size, max_cells=10_000, total_cells=200_000):
        self.size, self.max_cells, self.total_cells = size, max_cells, total_cells
        self.entries = OrderedDict()  # key → (result, cells)
        self.cells = 0
        self.hits = self.misses = 0

    def get(self, key, compute, cells=1):
        try:
            found, _ = self.entries[key]
        except KeyError:
            self.misses += 1
            found = compute()
            if cells <= self.max_cells:
                self.entries[key] = (found, cells)
                self.cells += cells
                while len(self.entries) > self.size or self.cells > self.total_cells:
                    _, (_, dropped) = self.entries.popitem(last=False)
                    self.cells -= dropped
            return found
        except TypeError:  # an unhashable argument: compute, keep nothing
            return compute()
        self.hits += 1
        self.entries.move_to_end(key)
        return found

    def clear(self):
        self.entries.clear()
        self.cells = self.hits = self.misses = 0


CATALOGS = Memo(size=32)
"""Catalogs parsed from worksheet tables, keyed by the tables' content."""


def freeze(value):
    """A hashable copy of an argument's content: ranges → tuples of tuples, dicts → sorted items."""
    if value is None or type(value) in (float, str, int, bool):
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    return value


EXCEL_ERRORS = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"))
"""Error values as a host hands them over as text (xlwings ``err_to_str``; LibreOffice)."""


def is_range(value):
    return isinstance(value, (list, tuple, np.ndarray))


_PLAIN = frozenset((float, int, str, bool, type(None)))


def argument(value):
    """One worksheet-function argument as any host delivers it, in the one shape the calls expect.

    Excel through xlwings (arguments declared ``ndim=2``) and LibreOffice hand over every range as
    rows of cells, a single cell included; a Python caller may pass a scalar, a flat list (a row)
    or a numpy array. A 1 × 1 range becomes its value, so a cell and a literal behave alike; a
    currency-formatted cell (``decimal.Decimal`` from COM) becomes a float. Larger ranges pass
    through unchanged: their cells are read where they are used.
    """
    if type(value) in _PLAIN:
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim else value.item()
    if isinstance(value, (list, tuple)) and len(value) == 1:
        only = value[0]
        if not is_range(only):
            value = only
        elif len(only) == 1 and not is_range(only[0]):
            value = only[0]
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def normalised(function):
    """``function`` with every argument passed through `argument` first (one place for all);
    ``caller``, the calling range, passes untouched."""
    names = list(inspect.signature(function).parameters)
    caller = names.index("caller") if "caller" in names else -1

    @functools.wraps(function)
    def call(*args, **kwargs):
        args = [a if i == caller else argument(a) for i, a in enumerate(args)]
        kwargs = {k: v if k == "caller" else argument(v) for k, v in kwargs.items()}
        return function(*args, **kwargs)
    return call


def refuse_error(name, value):
    """A cell that holds an Excel error value ("#N/A"...) is the user's to fix, never a blank."""
    if isinstance(value, str) and value in EXCEL_ERRORS:
        raise InputError(f"{name} is {value} — fix the cell it comes from")


def as_2d(value):
    """A range as a 2-D list: a row or column from xlwings may arrive 1-D."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    rows = list(value)
    if rows and not is_range(rows[0]):
        return [rows]
    return [list(r) for r in rows]


def is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def number(name, value, *, default=None, positive=False, minimum=None, whole=False):
    """One cell as a float (or int when ``whole``); None/blank → ``default``."""
    if is_blank(value):
        if default is None:
            raise InputError(f"{name} is empty — enter a number")
        return default
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number, not TRUE/FALSE")
    refuse_error(name, value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        raise InputError(f"{name} must be a number, not a date — format the cell as a number")
    if isinstance(value, str):  # the project's one value parser: 2e9, 2B, 500M, 2,000,000; refuses 1,5
        value = values.parse_number(value, name)
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number")
    values.parse_value(value, name)  # too close to zero (5e-324), as typed text is
    problem = values.bound_problem(value, name, positive=positive, minimum=minimum, whole=whole,
                                   unit=values.unit_of(name))  # the words the CLI and the Python API use
    if problem:
        raise InputError(problem)
    return int(value) if whole else value


def flag(name, value, *, default=False):
    """One cell as a switch: TRUE/FALSE, 1/0 (Calc hands TRUE over as 1) or the words TRUE/FALSE; blank → ``default``."""
    if is_blank(value):
        return default
    refuse_error(name, value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = values.parse_value(value, name)
        if isinstance(word, bool):
            return word
    raise InputError(f"{name} must be TRUE or FALSE, not {values.shown(str(value))} — or leave it blank")


def text(name, value, *, default=None):
    """One cell as a name; None/blank → ``default`` (None when optional)."""
    if is_blank(value):
        return default
    refuse_error(name, value)
    if isinstance(value, bool) or isinstance(value, (dt.date, dt.datetime)):
        raise InputError(f"{name} must be a name, not {value!r}")
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return str(value).strip()


def key_values(name, value):
    """A two-column range of key | value rows (blank rows ignored) as a dict; None → {}."""
    if is_blank(value):
        return {}
    if not is_range(value):
        raise InputError(f"{name} must be a two-column range of key | value rows, or a name")
    rows = as_2d(value)
    if any(len(r) != 2 for r in rows):
        raise InputError(f"{name} must be a two-column range of key | value rows — got {len(rows[0])} columns")
    pairs = {}
    for key, val in rows:
        if is_blank(key):
            if not is_blank(val):
                raise InputError(f"{name} has a value {val!r} without a key — fill in column 1")
            continue
        if is_blank(val):
            continue
        refuse_error(name, key)
        refuse_error(key, val)
        if isinstance(val, decimal.Decimal):
            val = float(val)
        val = values.parse_value(val, f"{name} {catalog_module.normalize_key(key)}")  # the one value parser
        if isinstance(val, float) and val.is_integer() and abs(val) < 2**53:
            val = int(val)
        pairs[catalog_module.normalize_key(key)] = val
    return pairs


def nest(flat):
    """{'parallelism.dp': 4} → {'parallelism': {'dp': 4}} (the schema of workloads.yaml)."""
    tree = {}
    for key, value in flat.items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InputError(f"key '{key}' clashes with another key")
        node[leaf] = value
    return tree


# -- catalogs from worksheet ranges ---------------------------------------------------------------
def _freeze(table):
    """A range's content as a hashable key, without copying it into lists first."""
    if isinstance(table, np.ndarray):
        table = table.tolist()
    if table and is_range(table[0]):
        return tuple(map(tuple, table))
    return (tuple(table),)


def _clean_table(name, table):
    """A catalog range's cells as the loader expects: currency cells (Decimal) as floats; an error
    value in any cell is the user's to fix, never a silent blank."""
    rows = as_2d(table)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, decimal.Decimal):
                row[c] = float(value)
            elif isinstance(value, str) and value in EXCEL_ERRORS:
                raise InputError(f"{name} table has {value} in row {r + 1}, column {c + 1} — fix that cell")
    return rows


@functools.lru_cache(maxsize=1)
def _builtin_lists():
    """The built-in tables as rows (header first, blanks None), as a catalog sheet holds them."""
    return catalog_module.load_catalog().to_lists()


def _trimmed(rows):
    """Rows without the trailing blank rows a catalog range keeps for additions."""
    end = len(rows)
    while end > 1 and all(is_blank(v) for v in rows[end - 1]):
        end -= 1
    return rows[:end]


def catalog(**tables):
    """The catalog for these worksheet tables (None = built-in), cached by content.

    Parsing the same tables twice costs one dictionary look-up: the key is the tables' content,
    never a cell address.
    """
    given = {name: table for name, table in tables.items() if not is_blank(table)}
    if not given:
        return catalog_module.load_catalog()
    for name, table in given.items():
        if not is_range(table) or len(table) < 2 or not is_range(table[0]):  # header + one row at least
            raise InputError(f"{name} table must be a range with a header row and at least one data row")
    key = tuple(sorted((name, _freeze(table)) for name, table in given.items()))
    return CATALOGS.get(key, lambda: _parse_catalog(given))


def _parse_catalog(given):
    cleaned = {name: _clean_table(name, table) for name, table in given.items()}
    builtin = _builtin_lists()
    if all(_trimmed(rows) == builtin.get(name) for name, rows in cleaned.items()):
        return catalog_module.load_catalog()  # the sheets hold the built-in tables: nothing to parse
    return catalog_module.load_catalog(cleaned)


def cell_value(value):
    """A model output made fit for a cell: NaN → empty, inf → 'saturated', numpy → Python."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "saturated: arrivals exceed capacity (utilization >= 1) — add replicas or lower the load"
    return value


def error_text(error):
    """One line for the cell. Library errors carry their own message; anything else is a bug
    reported briefly, never as a traceback."""
    if isinstance(error, AtlasError):
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"internal error ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}) — please report it"


def one_line_errors(function):
    """A worksheet computation whose any exception becomes its one-line text: nothing may crash
    the function server or show a traceback in a cell."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001
            return error_text(error)
    return call


def table(rows):
    """A list of rows padded to one width, cells made fit for Excel."""
    width = max(len(r) for r in rows)
    return [[cell_value(v) for v in r] + [""] * (width - len(r)) for r in rows]


def caller_shape(caller):
    """(rows, columns) of the calling range, or None when there is none or it cannot be read
    (called from Python or VBA; a COM object that no longer answers)."""
    try:
        shape = getattr(caller, "shape", caller)
        rows, columns = shape
        return int(rows), int(columns)
    except Exception:  # noqa: BLE001 — any failure means: no caller, return the table unpadded
        return None


def fit(result, caller=None):
    """Pad a table to the calling array range (``caller.shape``) with empty cells; Excel would
    show #N/A in the unused cells of an array formula. Text (an error) fills the first cell only.
    Without a readable caller the table comes back unpadded."""
    shape = caller_shape(caller)
    if isinstance(result, str) and shape:
        result = [[result]]
    if not shape or not isinstance(result, list):
        return result
    rows, columns = shape
    width = max(columns, max(len(r) for r in result))
    padded = [list(r) + [""] * (width - len(r)) for r in result]
    return padded + [[""] * width for _ in range(rows - len(padded))]
