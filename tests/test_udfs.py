"""Tests for the ATLAS_* worksheet functions (udfs/), called directly as Excel would call them."""
import datetime as dt
import importlib
import inspect
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import atlas_xl
from udfs import calls, excel
from udfs import functions as f

PLAN = (2e9, "steady", "llama_70b", "runpod", "h100_sxm")
ROOT = Path(__file__).resolve().parents[1]


# -- every function equals the library ------------------------------------------------------------
@pytest.mark.parametrize("name, field", [
    ("ATLAS_PEAK_TPS", "peak_tokens_per_s"), ("ATLAS_GPUCOUNT", "gpu_count"),
    ("ATLAS_UTILIZATION", "utilization_after"), ("ATLAS_RISK", "latency_risk"), ("ATLAS_COST", "monthly_cost_usd"),
    ("ATLAS_COST_PER_MTOK", "cost_per_m_tokens_usd"), ("ATLAS_IDLE_WASTE", "idle_waste_usd"),
    ("ATLAS_PENALTY", "penalty_usd"),
])
def test_planner_functions_equal_plan(name, field):
    expected = atlas_xl.plan(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", latency_ms=200)
    assert getattr(f, name)(2e9, "bursty", "llama_70b", "runpod", "h100_sxm", 200) == getattr(expected, field)


@pytest.mark.parametrize("name, field", [
    ("ATLAS_THROUGHPUT", "tokens_per_sec"), ("ATLAS_P50", "p50_ms"), ("ATLAS_P95", "p95_ms"), ("ATLAS_P99", "p99_ms"),
    ("ATLAS_TTFT", "ttft_ms"), ("ATLAS_STEP_TIME", "step_time_ms"), ("ATLAS_POWER", "node_power_w"),
    ("ATLAS_ENERGY_COST", "energy_cost_per_hour_usd"), ("ATLAS_COST_PER_1K", "dollar_per_1k_tokens"),
    ("ATLAS_QUEUE_WAIT", "queue_wait_ms"),
])
def test_simulator_functions_equal_simulate(name, field):
    knobs = [["cuda_graphs", True], ["microbatch", 2.0]]
    expected = atlas_xl.simulate("nvidia_h100_8x_nvlink", "llama_70b_chat", {"cuda_graphs": True, "microbatch": 2},
                                 seed=3, usd_per_kwh=0.08)
    assert getattr(f, name)("nvidia_h100_8x_nvlink", "llama_70b_chat", knobs, 3.0, 0.08) == expected[field]


def test_plan_and_rank_tables():
    table = f.ATLAS_PLAN(*PLAN)
    assert table[0] == ["field", "value"]
    values = dict(row for row in table[1:])
    assert values["monthly_cost_usd"] == atlas_xl.plan(*PLAN).monthly_cost_usd
    ranking = f.ATLAS_RANK(2e9, "steady", "llama_70b", 250, 5)
    frame = atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250)
    assert ranking[0][:4] == ["rank", "platform", "gpu", "billing"] and len(ranking) == 6
    assert [r[1] for r in ranking[1:]] == list(frame.platform[:5])


def test_simulate_schedule_optimize_tables():
    record = dict(row for row in f.ATLAS_SIMULATE("nvidia_h100_8x_nvlink", "llama_70b_chat")[1:])
    assert record["p99_ms"] == atlas_xl.simulate().p99_ms
    schedule = f.ATLAS_SCHEDULE("nvidia_h100_cluster_32n", "gpt5_1t_inference")
    assert ["surge"] == [r[0] for r in schedule if r[0] == "surge"]
    assert len({len(r) for r in schedule}) == 1  # rectangular: spills cleanly
    optimized = f.ATLAS_OPTIMIZE("nvidia_h100_8x_nvlink", "llama_70b_chat", [["virt", "sriov"], ["cuda_graphs", False]])
    best = {r[0]: r[2] for r in optimized[1:6]}
    assert best == atlas_xl.optimize(knobs={"virt": "sriov", "cuda_graphs": False}).best_knobs


def test_catalog_and_version():
    assert f.ATLAS_CATALOG("models") == [[m] for m in atlas_xl.load_catalog().keys("models")]
    assert ["runpod"] in f.ATLAS_CATALOG("Platforms")
    assert f.ATLAS_VERSION() == atlas_xl.__version__


# -- arrays ------------------------------------------------------------------------------------------
def test_grid_100_by_100_equals_scalar_calls():
    volumes = [[v] for v in np.logspace(6, 11, 100)]
    prices = [list(np.linspace(0.5, 12.0, 100))]
    grid = f.ATLAS_COST(volumes, "bursty", "llama_70b", "runpod", "h100_sxm", 250, None, None, prices)
    assert len(grid) == 100 and all(len(row) == 100 for row in grid)
    for i in range(100):
        for j in range(100):
            scalar = f.ATLAS_COST(volumes[i][0], "bursty", "llama_70b", "runpod", "h100_sxm", 250, None, None,
                                  prices[0][j])
            assert grid[i][j] == scalar


def test_grid_over_offerings_and_patterns():
    grid = f.ATLAS_COST([[1e9], [5e9]], [["steady", "bursty", "steady"]], "llama_70b",
                        [["runpod", "runpod", "together"]], [["h100_sxm", "h100_sxm", None]])
    for i, volume in enumerate((1e9, 5e9)):
        for j, (pattern, platform, gpu) in enumerate((("steady", "runpod", "h100_sxm"), ("bursty", "runpod", "h100_sxm"),
                                                       ("steady", "together", None))):
            assert grid[i][j] == atlas_xl.plan(volume, pattern, "llama_70b", platform, gpu).monthly_cost_usd


def test_blank_cells_in_optional_ranges_mean_default():
    grid = f.ATLAS_GPUCOUNT(2e9, "steady", "llama_70b", "runpod", "h100_sxm", None, [[4.0, None, 16.0]])
    assert grid == [[4, atlas_xl.plan(*PLAN).gpu_count, 16]]


def test_one_row_or_column_arrives_1d():
    assert f.ATLAS_COST([1e9, 2e9], *PLAN[1:]) == [[atlas_xl.plan(v, *PLAN[1:]).monthly_cost_usd for v in (1e9, 2e9)]]


def test_simulator_broadcasts_targets():
    row = f.ATLAS_THROUGHPUT([["nvidia_h100_8x_nvlink", "nvidia_h200_8x", "nope"]], "llama_70b_chat")
    assert row[0][0] == atlas_xl.simulate("nvidia_h100_8x_nvlink").tokens_per_sec
    assert row[0][1] == atlas_xl.simulate("nvidia_h200_8x").tokens_per_sec
    assert row[0][2].startswith("unknown target 'nope'")


def test_simulator_target_range_resizes_a_target_to_the_plans_gpus(resized_target):
    target = [["target", "nvidia_b200_8x"], ["gpu_count", 4]]
    workload = [["workload", None], ["model", "gpt_oss_120b"], ["sequence.prompt", 1024], ["sequence.generate", 512]]
    # no catalog workload runs gpt_oss_120b: one built from the rows, its 4 GPUs as 4 replicas of tp = 1
    expected = atlas_xl.simulate(resized_target("nvidia_b200_8x", 4),
                                 {"name": "gpt_oss_120b_planned", "model": "gpt_oss_120b", "parallelism": {"dp": 4},
                                  "sequence": {"prompt": 1024, "generate": 512}})
    assert f.ATLAS_THROUGHPUT(target, workload) == expected.tokens_per_sec
    assert f.ATLAS_COST_PER_1K(target, workload) == expected.dollar_per_1k_tokens
    table = dict(map(tuple, f.ATLAS_SIMULATE(target, workload)[1:]))
    assert (table["target"], table["workload"], table["accelerators"]) == ("nvidia_b200_8x_as_4_gpus",
                                                                           "gpt_oss_120b_planned", 4)
    # 12 GPUs: two equal nodes of 6 (atlas_xl.simulator.node_split); a catalog workload keeps its tp (2): 6 replicas
    twelve = dict(map(tuple, f.ATLAS_SIMULATE([["target", "nvidia_h100_8x_nvlink"], ["gpu_count", 12]],
                                              [["workload", "llama_70b_chat"], ["model", "llama_70b"]])[1:]))
    assert (twelve["accelerators"], twelve["tp"], twelve["dp"]) == (12, 2, 6)
    assert twelve["tokens_per_sec"] == atlas_xl.simulate(resized_target("nvidia_h100_8x_nvlink", 12),
                                                         {"name": "llama_70b_chat", "parallelism": {"dp": 6}},
                                                         ).tokens_per_sec


def test_simulator_target_range_without_a_target_says_why():
    text = f.ATLAS_THROUGHPUT([["target", None], ["gpu_count", 4]], [["model", "llama_70b"]])
    assert text.startswith("target is empty — no Targets row has the plan's GPU")


# -- Excel values --------------------------------------------------------------------------------------
def test_excel_values_are_normalised():
    assert f.ATLAS_COST(2e9, " Steady ", "LLAMA_70B", "RunPod", "H100-SXM") == atlas_xl.plan(*PLAN).monthly_cost_usd
    assert f.ATLAS_GPUCOUNT(2e9, "steady", "llama_70b", "runpod", "h100_sxm", None, 4.0) == 4  # counts cast
    assert f.ATLAS_COST("2,000,000,000", *PLAN[1:]) == atlas_xl.plan(*PLAN).monthly_cost_usd
    assert f.ATLAS_COST("2B", *PLAN[1:]) == atlas_xl.plan(*PLAN).monthly_cost_usd  # the one value parser
    assert f.ATLAS_GPUCOUNT(1e9, "steady", "llama_70b", "together") is None  # per-token: empty cell
    per_token = dict(row for row in f.ATLAS_PLAN(1e9, "steady", "llama_70b", "together")[1:])
    assert per_token["gpu_count"] is None and per_token["replica_gpus"] is None  # no GPUs, so none per replica


@pytest.mark.parametrize("value, message", [
    (True, "tokens_per_day must be a number, not TRUE/FALSE"),
    (dt.datetime(2026, 1, 1), "tokens_per_day must be a number, not a date"),
    ("lots", "tokens_per_day must be a number, not 'lots' — write e.g. 2e9, 2B or 500M"),
    ("1,5", "tokens_per_day '1,5' has a decimal comma — write 1.5"),
    (None, "tokens_per_day is empty"),
])
def test_booleans_dates_text_rejected(value, message):
    assert f.ATLAS_COST(value, *PLAN[1:]).startswith(message)


# -- one error class, one line --------------------------------------------------------------------------
def one_line(text):
    assert isinstance(text, str) and "\n" not in text and "Traceback" not in text
    return text


def test_error_unknown_name_lists_close_and_known():
    text = one_line(f.ATLAS_COST(2e9, "steady", "llama_70b", "runpd"))
    assert text.startswith("unknown platform 'runpd' — did you mean runpod") and "known: aws" in text


@pytest.mark.parametrize("volume", [0, -5e8])
def test_error_negative_or_zero_volume(volume):
    assert one_line(f.ATLAS_COST(volume, *PLAN[1:])).startswith("tokens_per_day must be greater than 0")


def test_error_text_where_number_belongs():
    assert "hourly_usd must be a number, not 'cheap'" in one_line(
        f.ATLAS_COST(*PLAN, None, None, None, "cheap"))


def test_error_wrong_shaped_range():
    assert one_line(f.ATLAS_COST([[1e9], [2e9], [3e9]], "steady", "llama_70b", [["runpod", "runpod"], ["x", "y"]])) \
        .startswith("ranges do not line up")
    assert one_line(f.ATLAS_P99("nvidia_h100_8x_nvlink", [["a", 1, 2]])).startswith(
        "workload must be a two-column range of key | value rows")


def test_error_malformed_catalog_table():
    offerings = atlas_xl.load_catalog().to_lists()["offerings"]
    broken = [row[:3] for row in offerings]  # billing and prices cut off
    assert one_line(f.ATLAS_COST(*PLAN, None, None, None, None, None, None, None, None, None, broken)).startswith(
        "table offerings: missing column billing")
    assert one_line(f.ATLAS_CATALOG("models", [["model"]])).startswith("models table must be a range with a header row")


def test_error_saturated_queue():
    text = one_line(f.ATLAS_P99("nvidia_h100_8x_nvlink", [["arrival.requests_per_sec", 50]]))
    assert text.startswith("saturated: queue utilization") and "add replicas" in text


def test_nothing_crashes_the_function_server(monkeypatch):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("bug")
    monkeypatch.setattr(atlas_xl, "plan", boom)
    calls.RESULTS.clear()  # a cached plan would not reach the broken one
    assert one_line(f.ATLAS_COST(*PLAN)).startswith("internal error (ZeroDivisionError: bug)")


# -- catalogs through arguments -------------------------------------------------------------------------
def test_edited_catalog_table_changes_the_result():
    offerings = atlas_xl.load_catalog().to_lists()["offerings"]
    column = offerings[0].index("hourly_usd")
    edited = [list(row) for row in offerings]
    for row in edited[1:]:
        if row[0] == "runpod" and row[1] == "h100_sxm":
            row[column] = 5.38
    base = f.ATLAS_COST(*PLAN)
    assert f.ATLAS_COST(*PLAN, None, None, None, None, None, None, None, None, None, edited) == pytest.approx(2 * base)


def test_catalog_cache_is_keyed_by_content():
    tables = atlas_xl.load_catalog().to_lists()
    first = excel.catalog(patterns=tables["patterns"])
    copy = [list(row) for row in tables["patterns"]]  # a different object, same content
    assert excel.catalog(patterns=copy) is first
    copy[1][1] = 0.5
    assert excel.catalog(patterns=copy) is not first


def test_assumptions_range():
    table = [["hours_per_month", 730], ["target_utilization", 0.5]]
    expected = atlas_xl.plan(*PLAN, assumptions=atlas_xl.Assumptions(hours_per_month=730, target_utilization=0.5))
    assert f.ATLAS_COST(*PLAN, None, None, None, None, None, table) == expected.monthly_cost_usd
    assert one_line(f.ATLAS_COST(*PLAN, None, None, None, None, None, [["months", 2]])).startswith(
        "unknown assumption 'months'")


# -- the serving model ---------------------------------------------------------------------------------------
def test_serving_functions_equal_estimate():
    expected = atlas_xl.estimate("llama_70b", "h200", tpot_ms=40, ttft_ms=450)
    assert f.ATLAS_GPU_TPS("llama_70b", "h200", None, None, None, 450, 40) == expected.output_tokens_per_s_per_gpu
    assert f.ATLAS_TPOT("llama_70b", "h200", None, None, None, 450, 40) == expected.tpot_ms
    table = dict(map(tuple, f.ATLAS_ESTIMATE("llama_70b", "h200", ttft_ms=450, tpot_ms=40)[1:]))
    assert table["basis"] == "measured" and table["concurrency"] == expected.concurrency
    assert f.ATLAS_FIT("llama_405b", "l40s", "bf16") is True  # 812 GB across many 48 GB GPUs
    assert f.ATLAS_FIT("llama_70b", "h100_sxm", "fp8", 1024, 1024, None, None, 1) is True


def test_serving_functions_broadcast_and_refuse_per_cell():
    grid = f.ATLAS_GPU_TPS([["llama_70b"], ["llama_8b"]], [["h100_sxm", "a100_80gb"]], None, None, None, None, 40)
    assert grid[1][0] == atlas_xl.estimate("llama_8b", "h100_sxm", tpot_ms=40).output_tokens_per_s_per_gpu
    slow = f.ATLAS_GPU_TPS("llama_70b", [["l40s", "b200"]], None, None, None, None, 12)  # 12 ms TPOT
    assert one_line(slow[0][0]).startswith("llama_70b on l40s at fp8 cannot meet") and isinstance(slow[0][1], float)
    assert one_line(f.ATLAS_GPU_TPS("llama_70b", "h100_sxm", "int3")).startswith("unknown precision 'int3'")
    assert one_line(f.ATLAS_FIT("llama_70b", "h1000")).startswith("unknown gpu 'h1000'")


def test_planner_functions_take_the_serving_arguments():
    expected = atlas_xl.plan(*PLAN, tpot_ms=40, input_tokens=8000, output_tokens=1000, precision="fp8")
    got = f.ATLAS_GPUCOUNT(*PLAN, tpot_ms=40, input_tokens=8000, output_tokens=1000, precision="fp8")
    assert got == expected.gpu_count
    row = f.ATLAS_GPUCOUNT(*PLAN, tpot_ms=[[40, 200]])  # a row of limits against one workload
    assert row == [[atlas_xl.plan(*PLAN, tpot_ms=40).gpu_count, atlas_xl.plan(*PLAN, tpot_ms=200).gpu_count]]
    ranking = f.ATLAS_RANK(2e9, "steady", "llama_70b", None, 5, "gpu,precision", precision="best")
    assert ranking[0] == ["gpu", "precision"] and ["b200", "fp4"] in ranking[1:]


# -- the surface stays honest ------------------------------------------------------------------------------
FUNCTIONS = {n: fn for n, fn in vars(f).items() if n.startswith("ATLAS_")}


def test_the_family_is_complete():
    required = {"ATLAS_PEAK_TPS", "ATLAS_GPUCOUNT", "ATLAS_UTILIZATION", "ATLAS_RISK", "ATLAS_COST",
                "ATLAS_COST_PER_MTOK", "ATLAS_IDLE_WASTE", "ATLAS_PENALTY", "ATLAS_PLAN", "ATLAS_RANK",
                "ATLAS_THROUGHPUT", "ATLAS_P50", "ATLAS_P95", "ATLAS_P99", "ATLAS_TTFT", "ATLAS_STEP_TIME",
                "ATLAS_POWER", "ATLAS_ENERGY_COST", "ATLAS_COST_PER_1K", "ATLAS_QUEUE_WAIT", "ATLAS_SIMULATE",
                "ATLAS_SCHEDULE", "ATLAS_OPTIMIZE", "ATLAS_CATALOG", "ATLAS_VERSION", "ATLAS_GPU_TPS", "ATLAS_FIT",
                "ATLAS_TPOT", "ATLAS_ESTIMATE",
                "ATLAS_FORECAST", "ATLAS_BREAKEVEN", "ATLAS_PATTERN", "ATLAS_COST_RANGE", "ATLAS_SENSITIVITY",
                "ATLAS_COMMIT"}
    assert required == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_has_help_and_a_test(name):
    function = FUNCTIONS[name]
    doc = inspect.getdoc(function)
    assert doc and len(doc.splitlines()[0]) <= 255  # Excel's description limit
    for parameter in f.arguments(function):
        assert f.ARG_DOCS.get(parameter), f"{name}: argument {parameter} has no help"
    here = Path(__file__).read_text()
    assert here.count(f'"{name}"') + here.count(f"f.{name}(") >= 1, f"{name} has no test"


def test_function_docs_are_current():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_function_docs.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_udf_module_imports_without_excel():
    module = importlib.import_module("udfs.functions")  # the name xlwings.conf gives
    assert callable(module.ATLAS_COST)
    assert not any(name in vars(module) for name in ("plan", "simulate", "rank"))  # modules, not names (STYLE 6)


def test_cell_values():
    assert excel.cell_value(float("nan")) is None
    assert excel.cell_value(np.float64(2.5)) == 2.5 and type(excel.cell_value(np.float64(2.5))) is float
    assert excel.cell_value(math.inf).startswith("saturated")
    assert calls.workload_spec([["workload", "llama_8b_api"], ["parallelism.dp", 4.0]]) == {
        "name": "llama_8b_api", "parallelism": {"dp": 4}}


def test_tables_fit_the_calling_array_range():
    class Caller:  # what xlwings passes: the range the array formula was entered in
        shape = (6, 4)
    table = f.ATLAS_RANK(2e9, "steady", "llama_70b", 250, 3, "rank, platform", caller=Caller())
    assert len(table) == 6 and all(len(r) == 4 for r in table)
    assert table[1][:2] == [1, atlas_xl.rank(2e9, "steady", "llama_70b", latency_ms=250).platform[0]]
    assert table[5] == ["", "", "", ""]
    assert excel.fit("unknown model", (2, 2)) == [["unknown model", ""], ["", ""]]
    assert one_line(f.ATLAS_RANK(2e9, "steady", "llama_70b", None, None, "platform, cost")).startswith(
        "unknown ranking field 'cost'")


def test_bad_cells_in_text_ranges_get_their_own_error():
    grid = f.ATLAS_COST(1e9, [["steady", True, None]], "llama_70b", "together")
    assert grid[0][0] == atlas_xl.plan(1e9, "steady", "llama_70b", "together").monthly_cost_usd
    assert grid[0][1] == "pattern must be a name, not True"
    assert grid[0][2] == "pattern is empty — enter a name"


# -- finance functions (issue 14) ----------------------------------------------------------------------------
def test_forecast_spills_the_library_table():
    table = f.ATLAS_FORECAST(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 3, 0.05)
    frame = atlas_xl.forecast(2e9, "steady", "llama_70b", "runpod", "h100_sxm", months=3, monthly_growth=0.05)
    assert table[0] == ["month", "tokens_per_day", "gpu_count", "monthly_cost_usd", "cost_per_m_tokens_usd",
                        "cumulative_cost_usd"]
    assert [r[3] for r in table[1:4]] == list(frame["monthly_cost_usd"])  # three months, then the price's date


def test_forecast_states_the_price_date():
    table = f.ATLAS_FORECAST(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 3)
    frame = atlas_xl.forecast(2e9, "steady", "llama_70b", "runpod", "h100_sxm", months=3)
    footer = {r[0]: r[1] for r in table[4:] if r[0]}
    # the footer row reads as the field table labels price_as_of (atlas_xl/fields.py), not as a key
    label = atlas_xl.fields.FIELDS["price_as_of"].label
    assert label in footer and "_" not in label and label[0].isupper()
    # the library's price_as_of: the runpod/h100_sxm offerings row's as_of (atlas_xl.prices.plan_price_age)
    assert footer[label] == frame["price_as_of"].iloc[0] == atlas_xl.prices.plan_price_age(
        atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm")).as_of
    per_token = f.ATLAS_FORECAST(2e9, "steady", "llama_70b", "together", None, 3)
    # a per-token price is dated by its own offerings row (platform, model)
    assert {r[0]: r[1] for r in per_token[4:] if r[0]}[label] == atlas_xl.prices.plan_price_age(
        atlas_xl.plan(2e9, "steady", "llama_70b", "together")).as_of


def test_forecast_from_a_column_of_volumes_and_an_excel_date():
    table = f.ATLAS_FORECAST([[1e9], [2e9], [None]], "steady", "llama_70b", "runpod", "h100_sxm",
                             start=dt.datetime(2027, 2, 1))
    assert [r[1] for r in table[1:3]] == ["2027-02", "2027-03"] and table[3][0] in ("", None)  # then the footer
    assert table[1][4] == pytest.approx(4 * 2.69 * 28 * 24)  # 1e9 steady → 4 GPUs; February 2027 has 28 days


def test_forecast_commitment_rows_and_errors():
    table = f.ATLAS_FORECAST(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 12, None, None, None, "3y")
    assert "savings_usd" in table[0]
    labels = [r[0] for r in table]
    assert "commitment pays off in month" in labels and "basis" in labels
    assert one_line(f.ATLAS_FORECAST(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 0)).startswith("months")
    assert "−100 %" in f.ATLAS_FORECAST(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 12, -1.5)
    assert "no 1y commitment" in f.ATLAS_FORECAST(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 12, None, None,
                                                 None, "1y")


def test_breakeven_number_or_reason():
    volume = f.ATLAS_BREAKEVEN("steady", "llama_70b", "together", "runpod/h100_sxm")
    assert volume == pytest.approx(2 * 2.69 * 720 / (30 * 0.88 / 1e6), rel=1e-6)  # see test_finance
    assert f.ATLAS_BREAKEVEN("bursty", "llama_8b", "groq", "runpod/h100_sxm").startswith("never cross")
    assert f.ATLAS_BREAKEVEN("steady", "llama_70b", None, "together").startswith("option_a is empty")
    # the platform and its GPU in cells of their own, as the template's Inputs hold them
    assert f.ATLAS_BREAKEVEN("steady", "llama_70b", "together", "runpod", None, "h100_sxm") == volume
    assert "already names a GPU" in f.ATLAS_BREAKEVEN("steady", "llama_70b", "runpod/h100_sxm", "together", "b200")


def test_pattern_from_ranges_of_dates_and_tokens():
    times = [[dt.datetime(2027, 1, 4) + dt.timedelta(hours=h)] for h in range(7 * 24)]
    tokens = [[1000.0 if (h // 24) < 5 and 9 <= h % 24 < 17 else 0.0] for h in range(7 * 24)]
    table = dict((r[0], r[1]) for r in f.ATLAS_PATTERN(times, tokens)[1:])
    assert table["active_ratio"] == pytest.approx(40 / 168)  # Mon–Fri 09–17 of one week
    assert table["nearest_pattern"] == "business_hours"
    assert f.ATLAS_PATTERN(times, tokens, "burst_factor") == pytest.approx(1.0)
    serials = [[46391 + h / 24] for h in range(7 * 24)]  # the same week as spreadsheet date serials
    assert f.ATLAS_PATTERN(serials, tokens, "active_ratio") == pytest.approx(40 / 168)
    assert "same size" in f.ATLAS_PATTERN(times, tokens[:-1])
    assert "unknown pattern field" in f.ATLAS_PATTERN(times, tokens, "colour")


def test_cost_range_percentiles_spill_and_match_library():
    cells = f.ATLAS_COST_RANGE(2e9, "steady", "llama_70b", "runpod", "h100_sxm", [[10], [50], [90]], 0.15, 0.1)
    result = atlas_xl.cost_range(2e9, "steady", "llama_70b", "runpod", "h100_sxm", throughput_error=0.15,
                                 price_spread=0.1)
    assert [r[0] for r in cells] == [result.p10, result.p50, result.p90]
    # a cell formatted as 90 % arrives as 0.9: the same percentile
    assert f.ATLAS_COST_RANGE(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 0.9, 0.15, 0.1) == result.p90
    default = atlas_xl.cost_range(2e9, "steady", "llama_70b", "runpod", "h100_sxm", percentiles=[90])
    assert f.ATLAS_COST_RANGE(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 90) == default.percentiles[90.0]


def test_cost_range_month_column_is_one_row_per_month():
    # issue 21: the Forecast band in one call — rows = months, columns = percentiles, each cell the
    # library's cost_range of that month (the same seeded draws as one call per cell)
    months = [[1.0], [2.0], [None], [12.0]]
    cells = f.ATLAS_COST_RANGE(2e9, "steady", "llama_70b", "runpod", "h100_sxm", [[10, 90]], 0.15, 0.1, None, None,
                               None, months, 0.05)
    for row, month in zip(cells, (1, 2, None, 12)):
        if month is None:
            assert row == ["", ""]  # a blank month: a blank row
            continue
        expected = atlas_xl.cost_range(2e9, "steady", "llama_70b", "runpod", "h100_sxm", throughput_error=0.15,
                                       price_spread=0.1, month=month, monthly_growth=0.05, percentiles=[10])
        assert row[0] == expected.p10
        assert row[1] == atlas_xl.cost_range(2e9, "steady", "llama_70b", "runpod", "h100_sxm", throughput_error=0.15,
                                             price_spread=0.1, month=month, monthly_growth=0.05,
                                             percentiles=[90]).p90
    assert "month" in f.ATLAS_COST_RANGE(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 90, None, None, None,
                                         None, None, [[1.0], [-3.0]])  # a bad month names the argument


def test_sensitivity_spills_a_tornado_table():
    table = f.ATLAS_SENSITIVITY(1e9, "steady", "llama_70b", "together")
    assert table[0][:2] == ["input", "base"]
    rows = {r[0]: r for r in table[1:]}
    assert rows["price_per_m_tokens"][4] == pytest.approx(26_400 * 0.9)  # 1e9 × 30 / 1e6 × 0.88 × 0.9
    assert "not a plan field" in f.ATLAS_SENSITIVITY(1e9, "steady", "llama_70b", "together", None, None, "profit")


def test_finance_functions_forward_the_serving_settings():
    serving = dict(precision="bf16", tpot_ms=50.0)
    table = f.ATLAS_FORECAST(5e9, "steady", "llama_70b", "runpod", "h100_sxm", 2, **serving)
    expected = atlas_xl.forecast(5e9, "steady", "llama_70b", "runpod", "h100_sxm", months=2, **serving)
    assert [r[3] for r in table[1:3]] == list(expected["monthly_cost_usd"])  # two months, then the price's date
    assert f.ATLAS_BREAKEVEN("steady", "llama_70b", "together", "runpod/h100_sxm", **serving) == \
        atlas_xl.breakeven("steady", "llama_70b", "together", "runpod/h100_sxm", **serving).tokens_per_day
    assert f.ATLAS_COST_RANGE(5e9, "steady", "llama_70b", "runpod", "h100_sxm", 90, **serving) == \
        atlas_xl.cost_range(5e9, "steady", "llama_70b", "runpod", "h100_sxm", percentiles=[90], **serving).p90
    assert "precision" in f.ATLAS_SENSITIVITY(5e9, "steady", "llama_70b", "runpod", "h100_sxm",
                                               precision="int3")  # the serving model's one-line refusal


def test_planner_functions_take_a_replica_size():
    # issue 17: tp (GPUs per replica) reaches plan() from a cell; blank = the least-cost size
    free = atlas_xl.plan(3e10, "steady", "gpt_oss_120b", "runpod", "h100_sxm")
    assert f.ATLAS_GPUCOUNT(3e10, "steady", "gpt_oss_120b", "runpod", "h100_sxm") == free.gpu_count
    for tp in (2, 8):
        given = atlas_xl.plan(3e10, "steady", "gpt_oss_120b", "runpod", "h100_sxm", tp=tp)
        assert f.ATLAS_COST(3e10, "steady", "gpt_oss_120b", "runpod", "h100_sxm", tp=tp) == given.monthly_cost_usd
    grid = f.ATLAS_GPUCOUNT(3e10, "steady", "gpt_oss_120b", "runpod", "h100_sxm", tp=[[2, 8]])
    assert grid == [[atlas_xl.plan(3e10, "steady", "gpt_oss_120b", "runpod", "h100_sxm", tp=t).gpu_count
                     for t in (2, 8)]]
    assert "give tp ≥ 2" in f.ATLAS_GPUCOUNT(3e10, "steady", "gpt_oss_120b", "runpod", "h100_sxm", tp=1)


def test_commit_advice_spills_and_matches_library():
    table = f.ATLAS_COMMIT(2e9, "steady", "llama_70b", "runpod", "h100_sxm", 36, None, None, "3y", None, 0)
    rows = dict(table[1:])
    expected = atlas_xl.finance.commit_advice(2e9, "steady", "llama_70b", "runpod", "h100_sxm", months=36,
                                              terms=["3y"], throughput_error=0)
    gpus = atlas_xl.plan(*PLAN).gpu_count
    assert table[0] == ["field", "value"] and rows["committed_gpus"] == expected.committed_gpus == gpus
    # no uncertainty: the same GPUs every month, committed at 2.00 instead of 2.69 USD/h for 36 months
    assert rows["expected_savings_usd"] == pytest.approx(36 * gpus * (2.69 - 2.00) * 720)
    assert rows["as_of"] == "2026-09-08" and "InferenceX" in rows["source"]
    assert "bills per token" in f.ATLAS_COMMIT(1e9, "steady", "llama_70b", "together")
    assert "no 1y commitment" in f.ATLAS_COMMIT(2e9, "steady", "llama_70b", "runpod", "h100_sxm", None, None, None,
                                                "1y")


# -- region, min_replicas, disaggregated and pue reach the planner functions (issue 19) ------------------------
BEFORE_RUNNING = 18  # latency_ms … prefix_hit_rate: the arguments between gpu and region (udfs/signatures.py)


def _com():
    import xlwings_com  # xlwings' own COM conversion, pywin32 stubbed (tests/xlwings_com.py)
    return xlwings_com


def _plan_table(com, args, *running):
    """ATLAS_PLAN through xlwings' conversion with region, min_replicas, disaggregated, pue at their positions."""
    rows = com.call("ATLAS_PLAN", *args, *[com.MISSING] * BEFORE_RUNNING, *running, caller=com.cells(70, 2))
    return {row[0]: row[1] for row in rows[1:] if row and row[0]}


def test_region_min_replicas_disaggregated_and_pue_equal_plan():
    com = _com()
    serverless = (2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm")
    default = atlas_xl.plan(*serverless)
    given = atlas_xl.plan(*serverless, region="france", min_replicas=1, pue=1.2)
    shown = _plan_table(com, serverless, "france", 1.0, com.MISSING, 1.2)
    # each value as plan() gives it for the same inputs, and each argument changes what it should
    assert shown["co2e_kg_per_month"] == given.co2e_kg_per_month != default.co2e_kg_per_month  # region, pue
    assert shown["warm_replicas"] == given.warm_replicas == 1.0 != default.warm_replicas  # autoscaling warm pool
    assert shown["energy_kwh_per_month"] == given.energy_kwh_per_month == pytest.approx(
        default.energy_kwh_per_month * 1.2 / 1.58, rel=1e-12)  # energy ∝ PUE (atlas_xl/running.py)
    blank = _plan_table(com, serverless, com.MISSING, com.MISSING, com.MISSING, com.MISSING)
    assert blank["co2e_kg_per_month"] == default.co2e_kg_per_month  # blank cells: world, no warm pool, PUE 1.58
    split_args = (3e10, "steady", "deepseek_r1", "nebius", "b200")
    split = atlas_xl.plan(*split_args, disaggregated=True)
    shown = _plan_table(com, split_args, com.MISSING, com.MISSING, True)
    assert shown["replica_gpus"] == split.replica_gpus != atlas_xl.plan(*split_args).replica_gpus  # the unit
    assert shown["serving_mode"] == "disaggregated"
    # the same four by name in an options range (=ATLAS_COST(TokensPerDay,…,Gpu,Options))
    options = com.Range([["region", "france"], ["min_replicas", 1.0], ["pue", 1.2]])
    assert com.call("ATLAS_COST", *serverless, options) == given.monthly_cost_usd
    assert com.call("ATLAS_GPUCOUNT", *split_args, com.Range([["disaggregated", True]])) == split.gpu_count


def test_running_arguments_in_a_grid_and_their_refusals():
    com = _com()
    split_args = (3e10, "steady", "deepseek_r1", "nebius", "b200")
    column = com.Range([[False], [True]])  # one plan per switch value
    expected = [[atlas_xl.plan(*split_args, disaggregated=d).gpu_count] for d in (False, True)]
    tail = [com.MISSING] * BEFORE_RUNNING
    assert com.call("ATLAS_GPUCOUNT", *split_args, *tail, com.MISSING, com.MISSING, column,
                    caller=com.cells(2, 1)) == expected
    assert expected[0] != expected[1]  # whole 8-GPU replicas against whole disaggregated units
    # a range of PUEs is one plan per value (plan takes one per call); a bad cell names its problem alone
    pues = com.Range([[1.1], [0.9]])
    got = com.call("ATLAS_COST", *PLAN, *tail, com.MISSING, com.MISSING, com.MISSING, pues, caller=com.cells(2, 1))
    assert got[0] == [atlas_xl.plan(*PLAN, pue=1.1).monthly_cost_usd]
    assert got[1][0].startswith("pue must be 1 or more — got 0.9")  # the registry's bound, as plan() says it
    assert "disaggregated must be TRUE or FALSE" in com.call("ATLAS_GPUCOUNT", *split_args, *tail, com.MISSING,
                                                             com.MISSING, "maybe")
    assert "unknown region 'mars'" in com.call("ATLAS_COST", *PLAN, *tail, "mars")


def test_rank_takes_region_disaggregated_and_pue():
    com = _com()
    ranked = atlas_xl.rank(2e9, "steady", "llama_70b", region="france", pue=1.2)
    fields = "platform,gpu,co2e_kg_per_month,energy_kwh_per_month"
    before = [com.MISSING] * 12  # precision … prefix_hit_rate between fields and region
    shown = com.call("ATLAS_RANK", 2e9, "steady", "llama_70b", com.MISSING, 3.0, fields, com.MISSING, *before,
                     "france", com.MISSING, 1.2, caller=com.cells(4, 4))
    assert shown[0] == fields.split(",")
    blank = lambda v: "" if math.isnan(v) else v  # noqa: E731 — a per-token row's NaN is an empty cell
    assert [r[2] for r in shown[1:]] == [blank(v) for v in ranked.co2e_kg_per_month.head(3)]
    assert [r[3] for r in shown[1:]] == [blank(v) for v in ranked.energy_kwh_per_month.head(3)]
    world = atlas_xl.rank(2e9, "steady", "llama_70b")
    gpu_rows = ranked.gpu.head(3) != ""
    assert gpu_rows.any() and (ranked.co2e_kg_per_month.head(3)[gpu_rows] !=
                               world.co2e_kg_per_month.head(3)[gpu_rows]).all()  # the grid and PUE changed them
    split = atlas_xl.rank(5e10, "steady", "deepseek_r1", disaggregated=True)
    shown = com.call("ATLAS_RANK", 5e10, "steady", "deepseek_r1", com.Range([["disaggregated", True], ["top", 2.0],
                                                                             ["fields", "serving_mode"]]),
                     caller=com.cells(3, 1))
    assert [r[0] for r in shown[1:]] == split.serving_mode.head(2).tolist()


# -- the finance functions take the running arguments that change their results (issue 19) -------------------
SPLIT = (3e10, "steady", "deepseek_r1", "nebius", "b200")  # 80 GPUs aggregated, 96 (one unit) disaggregated
SERVERLESS = (2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm")  # autoscaling, warm pool allowed


def _finance_call(com, name, *leading, caller=None, **named):
    """``name`` through xlwings' conversion: ``leading`` in the first places, ``named`` at their own positions
    (udfs/signatures.py), every other argument omitted."""
    from udfs import signatures
    parameters = signatures.get(name).parameters
    cells = list(leading) + [com.MISSING] * (len(parameters) - len(leading))
    for key, value in named.items():
        cells[parameters.index(key)] = value
    return com.call(name, *cells, caller=caller)


def test_forecast_takes_disaggregated_region_min_replicas_and_pue():
    com = _com()
    table = _finance_call(com, "ATLAS_FORECAST", *SPLIT, months=3.0, monthly_growth=0.5, disaggregated=True,
                          caller=com.cells(8, 6))
    frame = atlas_xl.forecast(*SPLIT, months=3, monthly_growth=0.5, disaggregated=True)
    costs = [row[table[0].index("monthly_cost_usd")] for row in table[1:4]]
    assert costs == list(frame.monthly_cost_usd) == [atlas_xl.plan(v, *SPLIT[1:], disaggregated=True).monthly_cost_usd
                                                    for v in frame.tokens_per_day]
    assert costs[0] != atlas_xl.plan(*SPLIT).monthly_cost_usd  # 80 GPUs, not 48
    fields = "month,warm_replicas,energy_kwh_per_month,co2e_kg_per_month"
    table = _finance_call(com, "ATLAS_FORECAST", *SERVERLESS, months=2.0, forecast_fields=fields, region="france",
                          min_replicas=1.0, pue=1.2, caller=com.cells(6, 4))
    frame = atlas_xl.forecast(*SERVERLESS, months=2, region="france", min_replicas=1, pue=1.2)
    assert table[0] == fields.split(",")
    assert [row[1:] for row in table[1:3]] == frame[fields.split(",")[1:]].values.tolist()
    assert table[1][3] != atlas_xl.plan(*SERVERLESS).co2e_kg_per_month  # the French grid at PUE 1.2


def test_breakeven_cost_range_and_commit_take_disaggregated():
    com = _com()
    expected = atlas_xl.breakeven("steady", "deepseek_r1", "deepinfra", "nebius/b200", disaggregated=True)
    assert _finance_call(com, "ATLAS_BREAKEVEN", "steady", "deepseek_r1", "deepinfra", "nebius/b200",
                         disaggregated=True) == expected.tokens_per_day
    assert expected.tokens_per_day != atlas_xl.breakeven("steady", "deepseek_r1", "deepinfra",
                                                         "nebius/b200").tokens_per_day
    p90 = atlas_xl.cost_range(*SPLIT, percentiles=[90], throughput_error=0.3, disaggregated=True).p90
    assert _finance_call(com, "ATLAS_COST_RANGE", *SPLIT, 90.0, 0.3, disaggregated=True) == p90
    assert _finance_call(com, "ATLAS_COST_RANGE", *SPLIT, 90.0, 0.3, com.Range([["disaggregated", True]])) == p90
    assert "pass throughput_error" in _finance_call(com, "ATLAS_COST_RANGE", *SPLIT, 90.0, disaggregated=True)
    rows = dict(_finance_call(com, "ATLAS_COMMIT", *SPLIT, 36.0, throughput_error=0.0, disaggregated=True,
                              caller=com.cells(21, 2))[1:])
    advice = atlas_xl.finance.commit_advice(*SPLIT, months=36, throughput_error=0, disaggregated=True)
    assert rows["committed_gpus"] == advice.committed_gpus == atlas_xl.plan(*SPLIT, disaggregated=True).gpu_count
    assert rows["expected_cost_usd"] == advice.expected_cost_usd


def test_sensitivity_takes_disaggregated_region_min_replicas_and_pue():
    com = _com()
    frame = atlas_xl.sensitivity(*SPLIT, disaggregated=True)
    table = _finance_call(com, "ATLAS_SENSITIVITY", *SPLIT, disaggregated=True, caller=com.cells(len(frame) + 1, 8))
    assert table == [list(frame.columns)] + frame.astype(object).values.tolist()
    expected = atlas_xl.sensitivity(*SERVERLESS, output="co2e_kg_per_month", region="france", min_replicas=1, pue=1.2)
    carbon = _finance_call(com, "ATLAS_SENSITIVITY", *SERVERLESS, output="co2e_kg_per_month", region="france",
                           min_replicas=1.0, pue=1.2, caller=com.cells(len(expected) + 1, 8))
    assert carbon == [list(expected.columns)] + expected.astype(object).values.tolist()
    assert carbon[1][-1] != atlas_xl.plan(*SERVERLESS).co2e_kg_per_month  # base_cost_usd: the French grid's
