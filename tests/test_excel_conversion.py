"""The ATLAS_* functions as Excel calls them: through xlwings' own CallUDF / conversion.read /
conversion.write with each argument's declared options (tests/xlwings_com.py stubs only pywin32).

Every ATLAS_* formula of the template and every example in docs/functions.md and README.md is
evaluated that way, with cells delivered as COM delivers them, and compared with atlas_xl's
plan / simulate / rank.
"""
import io
import math
import re
import types
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula

import atlas_xl
import xlwings_com as com
from atlas_xl.errors import AtlasError
from conftest import resized_target_record
from udfs import calls, excel
from udfs import functions as f
from workbook import template

ROOT = Path(__file__).resolve().parents[1]
PLANNER_FIELDS = {"ATLAS_PEAK_TPS": "peak_tokens_per_s", "ATLAS_GPUCOUNT": "gpu_count",
                  "ATLAS_UTILIZATION": "utilization_after", "ATLAS_RISK": "latency_risk",
                  "ATLAS_COST": "monthly_cost_usd", "ATLAS_COST_PER_MTOK": "cost_per_m_tokens_usd",
                  "ATLAS_IDLE_WASTE": "idle_waste_usd", "ATLAS_PENALTY": "penalty_usd"}
SIMULATOR_FIELDS = {"ATLAS_THROUGHPUT": "tokens_per_sec", "ATLAS_P50": "p50_ms", "ATLAS_P95": "p95_ms",
                    "ATLAS_P99": "p99_ms", "ATLAS_TTFT": "ttft_ms", "ATLAS_STEP_TIME": "step_time_ms",
                    "ATLAS_POWER": "node_power_w", "ATLAS_ENERGY_COST": "energy_cost_per_hour_usd",
                    "ATLAS_COST_PER_1K": "dollar_per_1k_tokens", "ATLAS_QUEUE_WAIT": "queue_wait_ms"}


@pytest.fixture(autouse=True)
def cold_cache():
    calls.RESULTS.clear()  # every test computes; caching is tested on its own


def as_grid(value):
    """What Excel received (CallUDF collapses 1 × 1 to a scalar and one row to a 1-D list)."""
    if not isinstance(value, (list, tuple)):
        return [[value]]
    return [list(value)] if not isinstance(value[0], (list, tuple)) else [list(r) for r in value]


# -- expected values from the library ------------------------------------------------------------------
def cell(value):
    return None if value in (None, "") else value


def library_cell(compute):
    try:
        value = compute()
    except AtlasError as error:
        return str(error).splitlines()[0]
    value = excel.cell_value(value)
    return "" if value is None else value  # xlwings writes None / NaN as an empty cell


def expected_planner(name, args):
    """Per cell of the broadcast grid: atlas_xl.plan with that cell's arguments."""
    names = f.arguments(getattr(f, name))
    given = dict(zip(names, args + [None] * (len(names) - len(args))))
    for key in [k for k in calls.PLAN_ARGS + ("options",) if k in given]:  # a key | value range of named arguments
        value = given[key]
        if isinstance(value, list) and value and all(len(r) == 2 and isinstance(r[0], str) for r in value):
            given[key] = None
            given.update({k: v for k, v in value if v is not None})
    pairs = dict(given["assumptions"]) if given["assumptions"] else {}
    assumptions = atlas_xl.Assumptions(**{k: v for k, v in pairs.items() if v is not None})
    grids = {k: np.array(given[k], dtype=object) if isinstance(given[k], list) else given[k] for k in calls.PLAN_ARGS}
    shape = np.broadcast_shapes(*[g.shape for g in grids.values() if isinstance(g, np.ndarray)] or [(1, 1)])
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        one = {k: cell(np.broadcast_to(g, shape)[index] if isinstance(g, np.ndarray) else g) for k, g in grids.items()}
        positional = [one[k] for k in calls.PLAN_ARGS[:5]]  # tokens_per_day, pattern, model, platform, gpu
        keywords = {k: one[k] for k in calls.PLAN_ARGS[5:]}
        out[index] = library_cell(lambda: getattr(atlas_xl.plan(*positional, **keywords, assumptions=assumptions),
                                                  PLANNER_FIELDS[name]))
    return out.tolist()


def simulator_inputs(args):
    target, workload, knobs, seed, usd, pue = [excel.argument(a) for a in (args + [None] * 6)[:6]]
    gpus = None
    if isinstance(target, list):  # the template's target range: a Targets row resized to the plan's GPU count
        given = {k: v for k, v in target if v not in (None, "")}
        gpus = int(given["gpu_count"])
        target = resized_target_record(given["target"], gpus)
    if isinstance(workload, list):
        pairs = {k: v for k, v in workload if v not in (None, "")}
        name = pairs.pop("workload", None) or f"{pairs['model']}_planned"  # no catalog workload: built from the rows
        spec = {"name": name}
        if gpus is not None and "parallelism.dp" not in pairs:  # the target's GPUs as replicas of tp × pp
            cat = atlas_xl.load_catalog()
            base = cat.record("workloads", name) if name in cat.workloads else {}
            tp = pairs.get("parallelism.tp", base.get("parallelism.tp", 1))
            pp = pairs.get("parallelism.pp", base.get("parallelism.pp", 1))
            pairs["parallelism.dp"] = gpus // int(tp * pp)
        for key, value in pairs.items():
            *parents, leaf = key.split(".")
            node = spec
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = int(value) if isinstance(value, float) and value.is_integer() else value
    else:
        spec = workload
    knob_values = {k: (int(v) if isinstance(v, float) else v) for k, v in knobs if v is not None} \
        if isinstance(knobs, list) else None
    return target, spec, knob_values or None, dict(seed=int(seed or 0), usd_per_kwh=0.12 if usd is None else usd,
                                                    pue=pue)


def expected_simulator(name, args):
    target, spec, knob_values, kwargs = simulator_inputs(args)
    record = atlas_xl.simulate(target, spec, knob_values, **kwargs)
    value = record[SIMULATOR_FIELDS[name]]
    return [[value]]


def check(name, args, result, caller_shape):
    """Compare one formula's Excel result with the library."""
    grid = as_grid(result)
    if name in PLANNER_FIELDS:
        expected = expected_planner(name, args)
        assert np.shape(grid) == np.shape(expected), name
        assert grid == expected, name  # bit for bit: the grid path equals scalar plan() calls
    elif name in SIMULATOR_FIELDS:
        assert grid == expected_simulator(name, args), name
    else:  # tables: the same rows a Python caller gets, padded to the calling range
        direct = getattr(f, name)(*args, caller=caller_shape) if "caller" in com.declared(name) \
            else getattr(f, name)(*args)
        direct = [["" if v is None else v for v in row] for row in as_grid(direct)]
        assert grid == direct, name
        messages = [v for row in grid for v in row if isinstance(v, str) and (" — " in v or "internal error" in v)]
        assert not messages, messages[:2]  # the one-line messages all contain " — "
    return grid


# -- the template ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = template.build_template(tmp_path_factory.mktemp("conversion") / template.TEMPLATE_NAME)
    loaded = load_workbook(path)
    loaded.atlas_path = path  # computed_ranges recalculates the file
    return loaded


def computed_ranges(book, office, names=("Target", "Workload", "WhatIfPlatforms", "WhatIfGpus")):
    """The ranges whose cells are formulas, as Excel hands them over: computed, here by LibreOffice — the
    simulator's Inputs ranges (they follow the plan, issue 20) and the What-if offering axis (the Ranking's first
    seven)."""
    values = office.recalc(book.atlas_path).values
    out = {}
    for name in names:
        (title, ref), = book.defined_names[name].destinations
        out[name] = [[values.get(f"{title}!{c.coordinate}", "") if isinstance(c.value, str) and c.value.startswith("=")
                      else c.value for c in row] for row in book[title][ref.replace("$", "")]]
    return out


def test_every_template_formula_through_xlwings_conversion(book, office):
    seen = set()
    extra = computed_ranges(book, office)
    for sheet, coordinate, formula, shape in com.template_formulas(book):
        name, args, result = com.evaluate(formula, book, sheet, shape, extra)
        grid = check(name, args, result, shape)
        seen.add(name)
        if shape != (1, 1):  # an array range gets exactly its shape back: no #N/A, nothing cut off
            assert np.shape(grid) == shape, f"{sheet}!{coordinate}"
    assert {"ATLAS_COST", "ATLAS_P99", "ATLAS_RANK", "ATLAS_SIMULATE", "ATLAS_SCHEDULE", "ATLAS_CATALOG"} <= seen


def test_whatif_grid_is_volumes_down_by_offerings_across(book, office):
    (title, ref), = book.defined_names["WhatIfByOffering"].destinations
    formula = book[title][ref.replace("$", "").split(":")[0]].value
    _, args, result = com.evaluate(formula.text, book, title, (10, 7), computed_ranges(book, office))
    grid = as_grid(result)
    assert np.shape(grid) == (10, 7)  # was "ranges do not line up (1x10, 1x7, 1x7)" with xlwings' default
    volumes, platforms, gpus = [r[0] for r in args[0]], args[3][0], args[4][0]
    assert grid[9][0] == atlas_xl.plan(volumes[9], "steady", "llama_70b", platforms[0], gpus[0] or None,
                                       latency_ms=250).monthly_cost_usd
    ranking = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250)  # the axis is the Ranking's first seven
    assert list(platforms) == list(ranking.platform[:7])


def test_forecast_band_is_one_call_with_the_numbers_of_one_call_per_cell(book):
    # issue 21: the P10/P90 band was 120 cells of =IF(Kr<=FcMonths,ATLAS_COST_RANGE(...,10 or 90,...,Kr,...),"");
    # it is one array formula now, and every cell must hold what that cell's own call gives
    sheet = book["Forecast"]
    band = next(c.value for row in sheet.iter_rows() for c in row
                if isinstance(c.value, ArrayFormula) and "ATLAS_COST_RANGE" in c.value.text)
    area = sheet[band.ref]
    _, args, result = com.evaluate(band.text, book, "Forecast", (len(area), len(area[0])))
    grid = as_grid(result)
    (title, ref), = book.defined_names["FcMonths"].destinations
    months = book[title][ref.replace("$", "")].value
    percentiles, month_cells = args[5][0], args[11]
    assert percentiles == [10.0, 90.0] and len(grid) == 60
    for row, (month,) in zip(grid, month_cells):
        if month == "":
            assert row == ["", ""]
            continue
        assert month <= months
        for q, value in zip(percentiles, row):
            one = args[:5] + [q] + args[6:11] + [month] + args[12:]
            assert value == com.call("ATLAS_COST_RANGE", *(com.Range(a) if isinstance(a, list) else a if a is not None
                                                           else com.MISSING for a in one))


# -- the documentation -------------------------------------------------------------------------------------
def docs_sample_ranges():
    """Contents for the ranges the documented examples refer to."""
    one_offering = [p for p in atlas_xl.load_catalog().keys("platforms")
                    if library_cell(lambda: atlas_xl.plan(1e9, "steady", "llama_70b", p).monthly_cost_usd)
                    .__class__ is float]
    return {
        "A2:A101": [[float(v)] for v in np.logspace(8, 11, 100)],
        "B1:K1": [(one_offering * 10)[:10]],
        "Assumptions!A2:B13": [["hours_per_month", 730.0], ["target_utilization", 0.7]] + [[None, None]] * 10,
        "Knobs!A2:B6": [["cuda_graphs", True], ["gpudirect_rdma", True], ["fabric", "ib"], ["virt", "bare"],
                        ["microbatch", 2.0]],
        "D2:E5": [["workload", "llama_70b_chat"], ["parallelism.dp", 4.0], ["arrival.profile", "steady"],
                  [None, None]],
        # finance (issue 14): percentiles, and a month of hourly usage (date serials, business hours)
        "D1:D3": [[10.0], [50.0], [90.0]],
        "D7:E8": [["precision", "fp8"], ["tpot_ms", 40.0]],  # named options (issue 18)
        "Usage!A2:A745": [[46388.0 + h / 24] for h in range(744)],
        "Usage!B2:B745": [[1000.0 if (h // 24) % 7 < 5 and 9 <= h % 24 < 17 else 0.0] for h in range(744)],
    }


def documented_formulas():
    text = (ROOT / "docs" / "functions.md").read_text() + (ROOT / "README.md").read_text()
    return [m.group(0) for m in com.FORMULA.finditer(text) if m.group(2) != "..."]  # "=ATLAS_COST(...)" is prose


def test_documented_examples_through_xlwings_conversion(book):
    formulas = documented_formulas()
    assert len(formulas) >= 26 and '=ATLAS_COST(A2:A101,"steady","llama_70b",B1:K1)' in formulas
    for formula in formulas:
        shape = (40, 14) if re.match(r"=ATLAS_(PLAN|RANK|SIMULATE|SCHEDULE|OPTIMIZE|CATALOG)\(", formula) else (1, 1)
        name, args, result = com.evaluate(formula, book, "Inputs", shape, extra=docs_sample_ranges())
        grid = check(name, args, result, shape)
        if name == "ATLAS_COST" and "A2:A101" in formula:
            assert np.shape(grid) == (100, 10)  # a column × a row is a grid


# -- shapes and cells, one at a time ----------------------------------------------------------------------------
PLAN = ("steady", "llama_70b", "runpod", "h100_sxm")


def test_every_argument_is_declared_two_dimensional_with_errors_as_text():
    for name in (n for n in vars(f) if n.startswith("ATLAS_")):
        for argument, options in com.declared(name).items():
            if argument == "caller":
                assert options == {}, name  # xlwings fills it with the calling range
            else:
                assert options == {"ndim": 2, "err_to_str": True}, f"{name}({argument})"


@pytest.mark.parametrize("volumes, expected_shape", [
    ([[1e9], [2e9], [4e9]], (3, 1)),  # a column stays a column
    ([[1e9, 2e9, 4e9]], (1, 3)),  # a row stays a row
])
def test_a_column_or_row_keeps_its_orientation(volumes, expected_shape):
    grid = as_grid(com.call("ATLAS_COST", com.Range(volumes), *PLAN))
    assert np.shape(grid) == expected_shape
    flat = [v for row in volumes for v in row]
    assert [v for row in grid for v in row] == [atlas_xl.plan(v, *PLAN).monthly_cost_usd for v in flat]


def test_a_single_cell_and_a_literal_give_the_same_scalar():
    literal = com.call("ATLAS_COST", 2e9, *PLAN)
    referenced = com.call("ATLAS_COST", com.Range([[2e9]]), *(com.Range([[v]]) for v in PLAN))
    assert literal == referenced == atlas_xl.plan(2e9, *PLAN).monthly_cost_usd


def test_an_error_cell_is_reported_not_read_as_blank():
    # xlwings' default turns #N/A into None, which would mean "no latency requirement"
    text = com.call("ATLAS_COST", 2e9, *PLAN, com.Range([["#N/A"]]))
    assert text == "latency_ms is #N/A — fix the cell it comes from"
    grid = as_grid(com.call("ATLAS_COST", com.Range([[1e9], ["#DIV/0!"]]), *PLAN))
    assert grid[0][0] == atlas_xl.plan(1e9, *PLAN).monthly_cost_usd
    assert grid[1][0] == "tokens_per_day is #DIV/0! — fix the cell it comes from"
    offerings = atlas_xl.load_catalog().to_lists()["offerings"]
    offerings[3][5] = "#REF!"
    assert com.call("ATLAS_COST", 2e9, *PLAN, *[com.MISSING] * 9, com.Range(offerings)) == \
        "offerings table has #REF! in row 4, column 6 — fix that cell"


def test_ranking_fields_in_one_cell_are_one_text():
    table = as_grid(com.call("ATLAS_RANK", 2e9, "steady", "llama_70b", 250.0, 2.0, com.Range([["rank, platform"]]),
                             caller=com.cells(3, 2)))
    assert table[0] == ["rank", "platform"] and table[1][1] == atlas_xl.rank(2e9, "steady", "llama_70b",
                                                                              latency_ms=250).platform[0]


def test_currency_cells_arrive_as_decimal_and_count():
    hourly = com.call("ATLAS_COST", 2e9, *PLAN, com.MISSING, com.MISSING, com.MISSING, com.Range([[Decimal("5.38")]]))
    assert hourly == atlas_xl.plan(2e9, *PLAN, hourly_usd=5.38).monthly_cost_usd
    assert excel.argument([[Decimal("2.5")]]) == 2.5


def test_a_caller_that_cannot_be_read_gives_the_unpadded_table():
    class Gone:  # a COM range that no longer answers
        @property
        def shape(self):
            raise OSError("the object invoked has disconnected from its clients")
    table = f.ATLAS_RANK(2e9, "steady", "llama_70b", 250, 2, "rank, platform", caller=Gone())
    assert table == f.ATLAS_RANK(2e9, "steady", "llama_70b", 250, 2, "rank, platform")
    assert len(table) == 3 and table[0] == ["rank", "platform"]
    assert excel.caller_shape(None) is None and excel.caller_shape((4, 2)) == (4, 2)


def test_xlwings_cannot_build_a_caller_without_pywin32s_excel_cache():
    """xlwings #1404: without the makepy cache, ComRange(caller) fails inside xlwings before any
    ATLAS_* code runs. `atlas-xl doctor` checks for that cache; this test pins the behaviour."""
    caller = com.cells(3, 2)
    del caller.CLSID
    with pytest.raises(AttributeError):
        com.call("ATLAS_RANK", 2e9, "steady", "llama_70b", caller=caller)
    assert not math.isnan(com.call("ATLAS_COST", 2e9, *PLAN, caller=caller))  # functions without caller work


# -- the result cache ---------------------------------------------------------------------------------------------
def test_results_are_cached_by_content_and_catalog():
    tables = atlas_xl.load_catalog().to_lists()
    for name in ("ATLAS_COST", "ATLAS_GPUCOUNT", "ATLAS_UTILIZATION", "ATLAS_RISK"):
        getattr(f, name)(2e9, *PLAN)
    assert (calls.RESULTS.misses, calls.RESULTS.hits) == (1, 3)  # one plan for four cells
    edited = [list(r) for r in tables["offerings"]]
    column = edited[0].index("hourly_usd")
    for row in edited[1:]:
        if row[:2] == ["runpod", "h100_sxm"]:
            row[column] *= 2
    doubled = f.ATLAS_COST(2e9, *PLAN, None, None, None, None, None, None, None, None, None, edited)
    assert calls.RESULTS.misses == 2  # an edited catalog is a different key
    assert doubled == pytest.approx(2 * f.ATLAS_COST(2e9, *PLAN))
    for name in ("ATLAS_P50", "ATLAS_P95", "ATLAS_P99"):
        getattr(f, name)("nvidia_h100_8x_nvlink", "llama_70b_chat")
    assert calls.RESULTS.misses == 3


def test_cache_is_bounded():
    memo = excel.Memo(size=3, max_cells=4, total_cells=5)
    for i in range(10):
        memo.get(i, lambda: i)
    assert list(memo.entries) == [7, 8, 9]
    memo.get("big", lambda: [[0] * 5], cells=5)
    assert "big" not in memo.entries
    memo.get("grid", lambda: [[0] * 4], cells=4)  # 3 + 4 cells > 5: the oldest go
    assert list(memo.entries) == [9, "grid"] and memo.cells == 5
    assert memo.get([1], lambda: "unhashable") == "unhashable"


# -- Import Functions: the VBA wrappers xlwings writes into the workbook ------------------------------------------
def test_import_functions_writes_a_wrapper_for_every_function():
    module = com.load()  # installs xlwings' Windows modules first
    from xlwings import udfs as xlwings_udfs
    buffer = io.StringIO()
    xlwings_udfs.generate_vba_wrapper("udfs.functions", module, buffer,
                                      types.SimpleNamespace(Name=template.TEMPLATE_NAME))
    vba = buffer.getvalue().replace(" _\n", "")
    for name in (n for n in vars(f) if n.startswith("ATLAS_")):
        header = re.search(rf"^Function {name}\((.*)\)$", vba, re.M)
        assert header, name
        shown = [a.strip() for a in header.group(1).split(",") if a.strip()]
        assert [a.replace("Optional ", "") for a in shown] == f.arguments(getattr(f, name)), name  # caller hidden
        call = re.search(rf'{name} = XLPy.CallUDF\("udfs.functions", "{name}", Array\((.*?)\), ThisWorkbook', vba)
        passed = [a.strip() for a in call.group(1).split(",")]
        assert passed[-1] == "Nothing" if "caller" in com.declared(name) else "Nothing" not in passed, name


def test_the_normalising_layer_accepts_every_host_shape():
    assert excel.argument(2e9) == 2e9 and excel.argument(None) is None
    assert excel.argument([[5.0]]) == 5.0 and excel.argument(((5.0,),)) == 5.0  # xlwings ndim=2 / LibreOffice
    assert excel.argument([5.0]) == 5.0 and excel.argument(np.float64(5.0)) == 5.0  # flat list, numpy scalar
    assert excel.argument(np.array([[1.0], [2.0]])) == [[1.0], [2.0]]
    assert excel.argument(((1.0, 2.0),)) == ((1.0, 2.0),)  # a row stays a row
    assert excel.argument(Decimal("1.25")) == 1.25
    # a Python caller and a LibreOffice-style tuple of rows give the same grid
    rows = ((1e9,), (2e9,))
    assert f.ATLAS_COST(rows, *PLAN) == f.ATLAS_COST([[1e9], [2e9]], *PLAN) == \
        [[atlas_xl.plan(v, *PLAN).monthly_cost_usd] for v in (1e9, 2e9)]
