"""The one value parser (atlas_xl/values.py): what people type, read as they mean it."""
import datetime as dt
import math
import re

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
