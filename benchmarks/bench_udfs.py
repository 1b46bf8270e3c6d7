"""Worksheet-function speed: prints numbers and ratios against the targets (on demand, not a test).

    python benchmarks/bench_udfs.py

The template section recalculates every ATLAS_* formula of the built template the way Excel
calls them — through xlwings' own CallUDF and conversion (tests/xlwings_com.py, pywin32 stubbed)
with the catalog sheets' ranges as arguments — and times the Python side: cold (first
recalculation), after one input changed, and a full recalculation with nothing changed.
"""
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from openpyxl import load_workbook

import atlas_xl
from bench_planner import median_seconds, row
from udfs import calls
from udfs import functions as f

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import xlwings_com as com  # noqa: E402


def recalculate(book, formulas):
    """Seconds of Python for one recalculation of ``formulas``: the cells are read into COM-shaped
    Ranges first (Excel's side), then every formula goes through xlwings' CallUDF (timed)."""
    prepared = []
    for sheet, _, formula, shape in formulas:
        name, text = com.FORMULA.fullmatch(formula.strip()).groups()
        prepared.append((name, [com.resolve(t, book, sheet)[0] for t in com.split_arguments(text)],
                         com.cells(*shape)))
    start = time.perf_counter()
    for name, args, caller in prepared:
        com.call(name, *args, caller=caller)
    return time.perf_counter() - start


def template_recalculation():
    from workbook import template
    with tempfile.TemporaryDirectory() as folder:
        book = load_workbook(template.build_template(Path(folder) / template.TEMPLATE_NAME))
    formulas = list(com.template_formulas(book))
    com.load()
    calls.RESULTS.clear()
    cold = recalculate(book, formulas)
    row(f"template: all {len(formulas)} ATLAS_* formulas, cold", cold, 0.5, "s")
    (title, ref), = book.defined_names["TokensPerDay"].destinations
    book[title][ref.replace("$", "")] = 3e9  # one input changed: the planner formulas recompute
    changed = recalculate(book, formulas)
    row("template: after TokensPerDay changed", changed, 0.5, "s")
    full = min(recalculate(book, formulas) for _ in range(3))
    row("template: full recalculation, nothing changed", full, 0.5, "s")
    print(f"{'  result cache':<44} {calls.RESULTS.hits} hits, {calls.RESULTS.misses} misses")


def array_formula_vs_cells():
    """The docs' example: a 10 x 7 what-if grid as one array formula or as 70 cell formulas, each
    passing the five planner catalog tables (what the template's formulas do)."""
    tables = atlas_xl.load_catalog().to_lists()
    catalogs = [tables[t] for t in calls.PLANNER_TABLES]
    volumes = [[float(v)] for v in np.logspace(8, 11, 10)]
    offers = [("runpod", "h100_sxm"), ("runpod", "b200"), ("lambda", "h100_sxm"), ("nebius", "h200"),
              ("fireworks", "h100_sxm"), ("together", None), ("deepinfra", None)]
    platforms, gpus = [[p for p, _ in offers]], [[g for _, g in offers]]
    blanks = [com.MISSING] * 6
    cat = [com.Range(t) for t in catalogs]

    def one_array():
        calls.RESULTS.clear()
        com.call("ATLAS_COST", com.Range(volumes), "steady", "llama_70b", com.Range(platforms), com.Range(gpus),
                 *blanks, *cat)

    def cell_by_cell():
        calls.RESULTS.clear()
        for v in volumes:
            for p, g in offers:
                com.call("ATLAS_COST", v[0], "steady", "llama_70b", p, g if g else com.MISSING, *blanks, *cat)
    array = median_seconds(one_array, repeat=5, number=1)
    cells = median_seconds(cell_by_cell, repeat=3, number=1)
    print(f"{'10 x 7 grid through xlwings: 1 array formula':<44} {array * 1e3:>9.1f} ms vs 70 cell formulas "
          f"{cells * 1e3:.0f} ms = {cells / array:.0f}x faster")

PLAN = (2e9, "bursty", "llama_70b", "runpod", "h100_sxm", 250)


def main():
    atlas_xl.load_catalog()
    udf = median_seconds(lambda: (calls.RESULTS.clear(), f.ATLAS_COST(*PLAN)), repeat=7, number=2000)
    hit = median_seconds(lambda: f.ATLAS_COST(*PLAN), repeat=7, number=2000)
    direct = median_seconds(lambda: atlas_xl.plan(*PLAN[:5], latency_ms=250), repeat=7, number=2000)
    row("ATLAS_COST scalar call, overhead over plan()", udf - direct, 30e-6, "µs", 1e6)
    print(f"{'  ATLAS_COST / plan() time':<44} {udf / direct:>12.2f} x   (ATLAS_COST {udf * 1e6:.1f} µs, "
          f"plan() {direct * 1e6:.1f} µs; a cached repeat {hit * 1e6:.1f} µs)")

    volumes = [[v] for v in np.logspace(6, 11, 1000)]
    prices = [list(np.linspace(0.5, 12.0, 1000))]
    start = time.perf_counter()
    calls.RESULTS.clear()
    grid = f.ATLAS_COST(volumes, *PLAN[1:], None, None, prices)
    seconds = time.perf_counter() - start
    assert len(grid) == 1000 and len(grid[0]) == 1000 and isinstance(grid[500][500], float)
    row("ATLAS_COST over a 1,000 x 1,000 grid", seconds, 1.0, "s")

    small_v, small_p = volumes[::10], [prices[0][::10]]
    one_call = median_seconds(lambda: (calls.RESULTS.clear(), f.ATLAS_COST(small_v, *PLAN[1:], None, None, small_p)),
                              repeat=5, number=1)
    calls.RESULTS.clear()
    start = time.perf_counter()
    for v in small_v:
        for p in small_p[0]:
            f.ATLAS_COST(v[0], *PLAN[1:], None, None, p)
    scalar_calls = time.perf_counter() - start
    print(f"{'100 x 100 grid: one call vs 10,000 calls':<44} {one_call * 1e3:>9.2f} ms vs {scalar_calls * 1e3:.0f} ms"
          f" = {scalar_calls / one_call:.0f}x faster")


if __name__ == "__main__":
    main()
    template_recalculation()
    array_formula_vs_cells()
