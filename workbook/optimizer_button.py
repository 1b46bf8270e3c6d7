"""The Python behind the template's Optimize button — one function for Excel and for files.

`run` reads the optimizer's inputs through defined names (the Inputs sheet's target, workload,
seed and energy price; the Optimizer sheet's SLA and starting knobs; the catalog sheets), runs
`atlas_xl.optimize`, and writes the same table ATLAS_OPTIMIZE returns into the range named
``OptResults``. In Excel the names are read through xlwings (`main`, called by the button); on a
server through openpyxl (`optimize_workbook`, the ``atlas-xl optimize-workbook`` command).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

import atlas_xl
from atlas_xl.errors import InputError
from udfs import calls, excel
from workbook import recalculate, sheets
from workbook.reports import save_atomic

TABLE_NAMES = {table: name for table, (_, name, _) in sheets.CATALOG_SHEETS.items()
               if table in calls.SIMULATOR_TABLES}


def run(names):
    """Optimize the workbook behind ``names`` (an object with ``read(name)`` and
    ``write(name, rows)``); returns the `atlas_xl.optimize` result."""
    tables = {table: names.read(name) for table, name in TABLE_NAMES.items()}
    cat, target, workload, _ = calls.sim_inputs(names.read("Target"), names.read("Workload"), None, tables)
    knobs = {**excel.key_values("Knobs", names.read("Knobs")), **excel.key_values("OptKnobs", names.read("OptKnobs"))}
    kwargs = calls.sim_kwargs({"seed": names.read("Seed"), "usd_per_kwh": names.read("UsdPerKwh"),
                                "pue": names.read("Pue")})
    result = atlas_xl.optimize(target, workload,
                               knobs or None, catalog=cat,
                               sla_p99_ms=excel.number("OptSlaP99Ms", names.read("OptSlaP99Ms"), default=120.0,
                                                       positive=True), **kwargs)
    names.write("OptResults", excel.table(calls.optimize_rows(result)))
    names.write("OptLastRun", [[f"{dt.datetime.now():%Y-%m-%d %H:%M} — atlas_xl {atlas_xl.__version__}, "
                                f"{result.evaluated} simulations, {len(result.trail)} accepted steps"]])
    return result


class OpenpyxlNames:
    """Defined names of a workbook loaded with openpyxl. A formula cell (the simulator's target and workload
    follow the plan) reads as its value: the one ``cached`` (the workbook loaded with ``data_only``) holds,
    else the one ``recalculate()`` ({'Sheet!A1': value}, called once) computes."""

    def __init__(self, book, cached=None, recalculate=None):
        self.book = book
        self.cached = cached
        self.recalculate = recalculate
        self._computed = None

    def _value(self, sheet, cell):
        if not (isinstance(cell.value, str) and cell.value.startswith("=")):
            return cell.value
        value = self.cached[sheet.title][cell.coordinate].value if self.cached is not None else None
        if value is not None:
            return value
        if self.recalculate is None:
            raise InputError(f"{sheet.title}!{cell.coordinate} holds a formula without a computed value — recalculate "
                             "the workbook (atlas-xl recalc FILE -o OUT) or type the value in")
        if self._computed is None:
            self._computed = self.recalculate()
        return self._computed.get(f"{sheet.title}!{cell.coordinate}")

    def _cells(self, name):
        if name not in self.book.defined_names:
            raise InputError(f"the workbook has no defined name '{name}' — is it an atlas_xl template?")
        (title, ref), = self.book.defined_names[name].destinations
        sheet = self.book[title]
        low_col, low_row, high_col, high_row = range_boundaries(ref.replace("$", ""))
        return sheet, [[sheet.cell(r, c) for c in range(low_col, high_col + 1)] for r in range(low_row, high_row + 1)]

    def read(self, name):
        sheet, cells = self._cells(name)
        values = [[self._value(sheet, cell) for cell in row] for row in cells]
        return values[0][0] if len(values) == 1 and len(values[0]) == 1 else values

    def write(self, name, rows):
        _, cells = self._cells(name)
        for r, row in enumerate(cells):
            for c, cell in enumerate(row):
                value = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
                cell.value = None if value == "" else value
                if isinstance(value, str):
                    cell.data_type = "s"


class XlwingsNames:
    """Defined names of the workbook that called the button (Windows Excel through xlwings)."""

    def __init__(self, book):
        self.book = book

    def read(self, name):
        return self.book.names[name].refers_to_range.value

    def write(self, name, rows):
        target = self.book.names[name].refers_to_range
        target.clear_contents()
        target.resize(len(rows), len(rows[0])).value = rows


def main():
    """Entry point of the Optimize button (via ``atlas_xl_template.main``)."""
    import xlwings as xw  # only in Excel: the headless path never needs an Excel connection

    run(XlwingsNames(xw.Book.caller()))


def optimize_workbook(path, output=None, in_place=False, overwrite=False):
    """Fill the Optimizer sheet of the workbook at ``path``; write ``output`` (or ``path`` when
    ``in_place``); an existing ``output`` is replaced only with ``overwrite``. Returns (output
    path, optimize result)."""
    source = Path(path)
    if not source.exists():
        raise InputError(f"workbook '{source}' does not exist")
    if output is None and not in_place:
        raise InputError("say where to write: -o OUT.xlsm, or --in-place to update the file itself")
    target = source if in_place else Path(output)
    if target.suffix.lower() != source.suffix.lower():
        raise InputError(f"write the result as {source.suffix} like the input ('{target.name}' has another type)")
    book = load_workbook(source, keep_vba=source.suffix.lower() == ".xlsm")
    # the inputs' formulas as last computed, or (a file never recalculated, such as a fresh template) on LibreOffice
    names = OpenpyxlNames(book, load_workbook(source, data_only=True),
                          lambda: recalculate.recalc(source).values)
    result = run(names)
    return save_atomic(book, target, overwrite=in_place or overwrite), result
