"""The one value parser (atlas_xl/values.py): what people type, read as they mean it."""
import datetime as dt
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from atlas_xl import values
from atlas_xl.errors import InputError


@pytest.mark.parametrize("text, expected", [
    ("5B", 5_000_000_000), ("500M", 500_000_000), ("2e9", 2e9), ("2,000,000,000", 2_000_000_000),
    ("1.5k", 1500), ("2_000", 2000), ("5 billion", 5e9), ("-3", -3), (".5", 0.5), ("12", 12),
    ("TRUE", True), ("false", False), ("", None), ("  ", None), ("runpod", "runpod"), ('"2e9"', "2e9"),
    ("2026-01-31", dt.date(2026, 1, 31)), ("llama_70b", "llama_70b"), ("12abc", "12abc"),
])
def test_parse_value(text, expected):  # expected: what a spreadsheet user means by the text
    got = values.parse_value(text)
    assert got == expected and type(got) is type(expected) or (isinstance(expected, float) and got == expected)


@pytest.mark.parametrize("text, message", [
    ("1,5", "decimal comma — write 1.5"),
    ("12,75M", "decimal comma — write 12.75M"),
    ("٢", "digits of another script"),
    ("nan", "not a finite number"), ("-inf", "not a finite number"), ("Infinity", "not a finite number"),
    ("1e400", "beyond the range of numbers"),
    ("5e-324", "too close to zero"),
    ("2026-02-30", "not a calendar date"),
    ("a\x07b", "control character U+0007"),
    ("9" * 500, "give a number of ordinary size"),
])
def test_parse_value_refuses_with_the_fix(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        values.parse_value(text)


def test_non_text_passes_through_checked():
    assert values.parse_value(2.5) == 2.5 and values.parse_value(True) is True
    with pytest.raises(InputError, match="finite"):
        values.parse_value(math.inf)
    with pytest.raises(InputError, match="digits"):
        values.parse_value(10 ** 400)


def test_parse_number_bounds_and_whole():
    assert values.parse_number("3", "gpu_count", whole=True) == 3
    with pytest.raises(InputError, match=r"whole number — got 2.5 \(round it yourself: 2 or 3\)"):
        values.parse_number("2.5", "gpu_count", whole=True)
    with pytest.raises(InputError, match="must be a number, not 'abc'"):
        values.parse_number("abc", "x")
    with pytest.raises(InputError, match="greater than 0"):
        values.parse_number("0", "x", positive=True)
    with pytest.raises(InputError, match="above the plausible limit"):
        values.parse_volume("1e30")


def test_every_limit_is_documented():
    from pathlib import Path
    text = (Path(__file__).parents[1] / "docs" / "limits.md").read_text()
    for name in values.LIMITS:
        assert f"`{name}`" in text, name


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_a_value_or_one_line(text):
    try:
        value = values.parse_value(text)
    except InputError as error:
        assert "\n" not in str(error)
        return
    if isinstance(value, float):
        assert math.isfinite(value)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e14, allow_nan=False))
def test_numbers_round_trip(number):
    assert values.parse_value(repr(number)) == pytest.approx(number)


def test_the_three_former_parsers_now_agree():
    """recalc --set, the CLI and worksheet key | value ranges read text the same way (issue 12)."""
    import atlas_xl_cli
    from udfs import excel
    from workbook.recalculate import _parse_value

    assert _parse_value("5B") == atlas_xl_cli.parse_volume("5B") == 5e9
    assert excel.key_values("workload", [["sequence.prompt", "2k"], ["mode", "inference"]]) == \
        {"sequence.prompt": 2000, "mode": "inference"}
    assert _parse_value("2026-01-31") == 46053.0  # Excel's serial day number of 2026-01-31
    assert _parse_value("TRUE") is True and _parse_value('"5B"') == "5B"
    for parse in (_parse_value, lambda t: excel.key_values("k", [["a", t]]), atlas_xl_cli.parse_volume):
        with pytest.raises(Exception, match="decimal comma"):
            parse("1,5")


# -- the limits at every entrance (issue 22): the Python API, a worksheet function, the CLI ----------
PLAN_WORKLOAD = (2e9, "steady", "llama_70b", "runpod")
LIMIT_CASES = [  # (API function, its keyword, value, worksheet function, CLI command) — the cases
    ("plan", "tokens_per_day", 1e300, "ATLAS_GPUCOUNT", "plan 1e300 steady llama_70b runpod --gpu h100_sxm"),
    ("plan", "gpu_count", 8.5, "ATLAS_GPUCOUNT", "plan 2e9 steady llama_70b runpod --gpu h100_sxm --gpu-count 8.5"),
    ("plan", "hourly_usd", 5000.0, "ATLAS_COST", "plan 2e9 steady llama_70b runpod --gpu h100_sxm --hourly-usd 5000"),
    ("estimate", "output_tokens", 5e-324, "ATLAS_GPU_TPS", "estimate llama_70b h100_sxm --output-tokens 5e-324"),
    ("estimate", "ttft_ms", 1e-300, "ATLAS_GPU_TPS", "estimate llama_70b h100_sxm --ttft-ms 1e-300"),
    ("estimate", "tp", 1.5, "ATLAS_GPU_TPS", "estimate llama_70b h100_sxm --tp 1.5"),  # udfs' own check, same text
]


def _api(function, name, value):
    import atlas_xl
    if function == "plan":
        arguments = dict(zip(("tokens_per_day", "pattern", "model", "platform"), PLAN_WORKLOAD), gpu="h100_sxm")
        arguments[name] = value
        return atlas_xl.plan(**arguments)
    return atlas_xl.estimate("llama_70b", "h100_sxm", **{name: value})


def _sheet(function, name, value):
    """The worksheet function called as Excel calls it (xlwings' conversion, tests/xlwings_com.py)."""
    import inspect
    import xlwings_com as com
    from udfs import functions
    parameters = list(inspect.signature(getattr(functions, function)).parameters)
    given = dict(zip(parameters, PLAN_WORKLOAD + ("h100_sxm",))) if function != "ATLAS_GPU_TPS" else \
        {"model": "llama_70b", "gpu": "h100_sxm"}
    given[name] = value
    last = max(parameters.index(k) for k in given)
    return com.call(function, *[given.get(p, com.MISSING) for p in parameters[:last + 1]])


@pytest.mark.parametrize("function, name, value, sheet_function, command", LIMIT_CASES)
def test_each_limit_is_refused_alike_at_every_entrance(function, name, value, sheet_function, command, capsys):
    import atlas_xl_cli
    with pytest.raises(InputError) as refused:
        _api(function, name, value)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(name)
    assert _sheet(sheet_function, name, value) == message  # the cell shows the same line
    with pytest.raises(SystemExit) as exited:  # argparse's usage error
        atlas_xl_cli.main(command.split())
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    option = "--" + name.replace("_", "-")
    shown_as = name if name == "tokens_per_day" else option  # the CLI names the option as typed
    assert err == f"atlas-xl {command.split()[0]}: error: {message.replace(name, shown_as, 1)} " \
                  f"(see atlas-xl {command.split()[0]} --help)"


def test_limits_are_vectorised_per_cell():
    problems = values.limit_problems("gpu_count", [[8.0, 8.5], [math.nan, 2e7]], blank_nan=True)
    assert problems == {1: "gpu_count must be a whole number — got 8.5 (round it yourself: 8 or 9)",
                        3: "gpu_count 20,000,000 GPUs is above the plausible limit of 10,000,000 GPUs — check the "
                           "value (see docs/limits.md)"}  # NaN is a blank cell
    with pytest.raises(InputError, match="gpu_count nan is not a finite number"):
        values.check_limits("gpu_count", [4.0, math.nan])  # from Python, NaN is no blank
    assert values.check_limits("gpu_count", None) is None and values.check_limits("gpu_count", "x") == "x"


@pytest.mark.parametrize("name", ["tokens_per_day", "latency_ms", "gpu_count", "gpu_tokens_per_s", "hourly_usd"])
def test_a_float_array_is_refused_as_its_list_is(name):
    """check_limits accepts a float64 array inside its bounds from its least and greatest value; any array it
    refuses gets the message of the full checks, the one its list gets."""
    for bad in (math.nan, math.inf, -math.inf, -1.0, 0.0, 1e-310, 2.5, 1e30):
        cells = [4.0, bad, 8.0]
        try:
            values.check_limits(name, cells)  # the full, per-cell checks
        except InputError as error:
            with pytest.raises(InputError) as refused:
                values.check_limits(name, np.array(cells))
            assert str(refused.value) == str(error)
        else:
            assert values.check_limits(name, np.array(cells)) is not None  # accepted alike
    inside = np.array([1.0, 2.0, 8.0])  # inside every one of these bounds: the array itself comes back
    assert values.check_limits(name, inside) is inside


def test_a_worksheet_grid_refuses_only_its_bad_cells():
    """Each cell of a grid gets the line the same value gets alone, from the API and from one cell."""
    import atlas_xl
    import xlwings_com as com
    workload = ("steady", "llama_70b", "runpod", "h100_sxm")
    volumes = [2e9, 1e300, -5.0, 5e-324]
    grid = com.call("ATLAS_GPUCOUNT", com.Range([[v] for v in volumes]), *workload)
    assert grid[0][0] == atlas_xl.plan(2e9, *workload).gpu_count
    for row, volume in zip(grid[1:], volumes[1:]):
        with pytest.raises(InputError) as refused:
            atlas_xl.plan(volume, *workload)
        assert row[0] == str(refused.value) == com.call("ATLAS_GPUCOUNT", volume, *workload)
    assert grid[1][0].startswith("tokens_per_day 1e+300 tokens/day is above the plausible limit")


@pytest.mark.parametrize("function, arguments, message", [
    ("forecast", dict(months=0), "months must be 1 or more — got 0"),
    ("forecast", dict(committed_gpus=2e7), "committed_gpus 20,000,000 GPUs is above the plausible limit"),
    ("cost_range", dict(draws=2.5), "draws must be a whole number — got 2.5"),
    ("sensitivity", dict(hourly_usd=5000), "hourly_usd 5,000 USD/GPU-hour is above the plausible limit"),
])
def test_the_finance_api_checks_the_same_limits(function, arguments, message):
    from atlas_xl import finance
    with pytest.raises(InputError, match=re.escape(message)):
        getattr(finance, function)(*PLAN_WORKLOAD, "h100_sxm", **arguments)


@pytest.mark.parametrize("function, arguments, message", [
    ("simulate", dict(usd_per_kwh=50), "usd_per_kwh 50 USD/kWh is above the plausible limit of 10 USD/kWh"),
    ("run_schedule", dict(pue=0.5), "pue must be 1 or more — got 0.5"),
    ("optimize", dict(seed=2**40), "seed 1,099,511,627,776 is above the plausible limit of 4,294,967,295"),
])
def test_the_simulator_api_checks_the_same_limits(function, arguments, message):
    import atlas_xl
    with pytest.raises(InputError, match=re.escape(message)):
        getattr(atlas_xl, function)(**arguments)


def test_the_limits_table_in_the_docs_is_the_code():
    from pathlib import Path
    assert values.limits_table() in (Path(__file__).parents[1] / "docs" / "limits.md").read_text()


PLAN_LIMITED = ("tokens_per_day", "latency_ms", "gpu_count", "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens",
                "input_tokens", "output_tokens", "ttft_ms", "tpot_ms")


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.sampled_from(PLAN_LIMITED), st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_in_plan_is_a_finite_answer_or_one_line(name, number):
    import atlas_xl
    arguments = {"tokens_per_day": 2e9, name: number}
    try:
        result = atlas_xl.plan(arguments.pop("tokens_per_day"), "steady", "llama_70b", "runpod", "h100_sxm",
                               **arguments)
    except InputError as error:
        assert "\n" not in str(error)
        return
    bounds, _ = values.LIMITS[name]
    assert values.bound_problem(number, name, **bounds) is None  # only values within LIMITS compute
    assert math.isfinite(result.monthly_cost_usd) and math.isfinite(result.gpu_count)
    assert result.monthly_cost_usd <= values.PLAUSIBLE_BUDGET_USD * 1e3  # bounded: 3e7 GPUs at 1e-3 tokens/s ~ 6e10 USD
