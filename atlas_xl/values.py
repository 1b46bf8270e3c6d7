"""One parser for every value a person types: CLI arguments, ``--set`` overrides, worksheet
key | value ranges, scenario files.

``parse_value`` turns text into what it means: a number (``2e9``, ``2,000,000,000``, ``5B``,
``500M``, ``2_000``), a boolean (TRUE/FALSE), a date (ISO ``2026-01-31``), text, or None for an
empty string. It refuses, with one line that names the fix, what would otherwise be read wrong:
decimal commas (``1,5`` is not fifteen), digits of other scripts (``٢``), ``nan``/``inf``,
numbers beyond float range (``1e400``) and control characters in text.

``parse_number`` is the same rules for an argument that must be a number, with a range.

Limits (documented in docs/limits.md) that stop impossible inputs before they reach the models:

- ``MAX_TOKENS_PER_DAY`` = 1e15 tokens/day. Google reported processing 1.3 quadrillion tokens a
  month across its products (Alphabet Q3 2025 earnings call, October 2025) ≈ 4.3e13 tokens/day;
  the limit is ~23× that, so any single deployment above it is a typing error.
- ``PLAUSIBLE_BUDGET_USD`` = 1e10 USD/month (1.2e11 USD/year): above the 2025 capital spending
  of any single company (Microsoft, Alphabet, Amazon, Meta each announced 75–100 bn USD for
  2025); a monthly cost or penalty above it is reported as implausible.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import sys
import unicodedata

import numpy as np

from . import arguments
from .errors import InputError

MAX_TOKENS_PER_DAY = arguments.get("tokens_per_day").maximum
MIN_LATENCY_MS = arguments.get("ttft_ms").minimum
PLAUSIBLE_BUDGET_USD = 1e10

SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9, "g": 1e9, "t": 1e12,
            "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
TRUE_WORDS, FALSE_WORDS = ("true",), ("false",)

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?")  # 2,000,000.5
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")  # 1,5 or 12,75 (not thousands groups)
_SUFFIXED = re.compile(r"(.*?\d\.?)\s*([a-zA-Z]+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOT_FINITE = ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
               ".inf", "-.inf", ".nan")
MAX_TEXT = 32_767  # Excel's limit on the characters of one cell
TINY = 1e-300  # below this a product of a few such numbers underflows to 0 or a subnormal (5e-324)


def shown(text, limit=40):
    """User text quoted for a one-line message: control characters escaped, long text cut."""
    text = str(text)
    cut = text[:limit]
    escaped = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in cut)
    return f"'{escaped}{'…' if len(text) > limit else ''}'"


def check_text(text, what="value"):
    """Refuse control characters (a workbook cannot hold them) and text longer than a cell."""
    text = str(text)
    for ch in text:
        if ch not in "\t\n" and unicodedata.category(ch) == "Cc":
            raise InputError(f"{what} contains the control character U+{ord(ch):04X} — remove it "
                             "(workbooks cannot hold control characters)")
    if len(text) > MAX_TEXT:
        raise InputError(f"{what} is {len(text):,} characters long — keep it under {MAX_TEXT:,} "
                         "(the most one Excel cell holds)")
    return text


def _number_or_none(raw, what):
    """The number ``raw`` spells, None when it is not a number at all; InputError when it looks
    like one but would be misread."""
    text = raw.strip()
    lowered = text.lower()
    if lowered in _NOT_FINITE:
        raise InputError(f"{what} {shown(raw)} is not a finite number — give a number such as 2e9")
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text):
        raise InputError(f"{what} {shown(raw)} uses digits of another script — type it with 0-9 (e.g. 2B or 2e9)")
    if not text or not any("0" <= ch <= "9" for ch in text):
        return None
    body, scale = text.replace("_", ""), 1.0
    suffixed = _SUFFIXED.fullmatch(body)
    if suffixed and suffixed.group(2).lower() in SUFFIXES:
        body, scale = suffixed.group(1), SUFFIXES[suffixed.group(2).lower()]
    elif suffixed and suffixed.group(2).lower() not in ("e",):
        return None  # '12abc': text
    if _DECIMAL_COMMA.fullmatch(body) and not _GROUPED.fullmatch(body):
        fixed = text.replace(",", ".")
        raise InputError(f"{what} {shown(raw)} has a decimal comma — write {fixed} (a comma only groups thousands: 2,000,000)")
    if _GROUPED.fullmatch(body):
        body = body.replace(",", "")
    if not _NUMBER.fullmatch(body):
        return None
    if len(body) > 400:
        raise InputError(f"{what} {shown(raw, 20)} has {len(body)} characters — give a number of ordinary size")
    number = float(body) * scale
    if not math.isfinite(number):
        raise InputError(f"{what} {shown(raw)} is beyond the range of numbers (about 1.8e308) — give a smaller number")
    if number != 0 and abs(number) < TINY:
        raise InputError(f"{what} {shown(raw)} is too close to zero to compute with — give 0 or a larger number")
    return number


def parse_value(raw, what="value"):
    """Text → None, bool, int/float, datetime.date or str, with the rules of the module docstring.

    Non-text values pass through (a float from Excel stays a float) after the same finiteness
    check. A quoted string ("2e9") stays text.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise InputError(f"{what} {raw} is not a finite number — give a number such as 2e9")
        if isinstance(raw, float) and raw != 0 and abs(raw) < TINY:
            raise InputError(f"{what} {shown(repr(raw))} is too close to zero to compute with — give 0 or a larger number")
        if isinstance(raw, int) and abs(raw) > 1e300:
            raise InputError(f"{what} has {len(str(abs(raw)))} digits — give a number of ordinary size")
        return raw
    if isinstance(raw, (dt.date, dt.datetime)):
        return raw
    text = check_text(raw, what).strip()
    if text == "":
        return None
    if len(text) > 1 and text[0] == text[-1] == '"':
        return text[1:-1]
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{what} {shown(text)} is not a calendar date — write YYYY-MM-DD") from None
    number = _number_or_none(text, what)
    if number is None:
        return text
    return int(number) if number.is_integer() and abs(number) < 2**53 and not _looks_float(text) else number


def _looks_float(text):
    return any(ch in text for ch in ".eE") and not any(text.lower().endswith(s) for s in SUFFIXES)


def parse_number(raw, what="value", *, minimum=None, maximum=None, positive=False, whole=False, unit=""):
    """A value that must be a number: text with the same rules as `parse_value`, bounds checked.

    ``minimum``/``maximum`` are inclusive; ``positive`` means > 0; ``whole`` refuses fractions
    (never rounds silently). Returns a float (an int when ``whole``).
    """
    value = parse_value(raw, what)
    if value is None:
        raise InputError(f"{what} is empty — give a number")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what} must be a number, not {shown(str(raw).strip())} — write e.g. 2e9, 2B or 500M")
    number = float(value)
    problem = bound_problem(number, what, minimum=minimum, maximum=maximum, positive=positive, whole=whole,
                            unit=unit)
    if problem:
        raise InputError(problem)
    return int(number) if whole else number


def bound_problem(number, what, *, minimum=None, maximum=None, positive=False, whole=False, unit=""):
    """The one-line message when the finite float ``number`` is outside its bounds, else None.

    The same text at every entrance: `parse_number` (CLI, scenario files, worksheet text) and
    `check_limits` (the Python API, the worksheet functions' numbers).
    """
    units = f" {unit}" if unit else ""
    if positive and number <= 0:
        return f"{what} must be greater than 0 — got {_show(number)}"
    if minimum is not None and number < minimum:
        return f"{what} must be {_show(minimum)}{units if minimum != 1 else ''} or more — got {_show(number)}"  # not '1 months'
    if maximum == 1 and not unit and number > 1:  # a share (0-1), often given in percent
        return f"{what} {_show(number)} is above 1 — it is a share from 0 to 1 (write 80 % as 0.8)"
    if maximum is not None and number > maximum:
        return (f"{what} {_show(number)}{units} is above the plausible limit of {_show(maximum)}{units} — "
                "check the value (see docs/limits.md)")
    if whole and number != math.floor(number):
        return (f"{what} must be a whole number — got {_show(number)} (round it yourself: "
                f"{math.floor(number):g} or {math.ceil(number):g})")
    return None


LIMITS = {name: (argument.bounds, argument.reason) for name, argument in arguments.bounded().items()}
"""(bounds, why) of every numeric argument, from the registry (`atlas_xl.arguments`): what every
entrance — the CLI, scenario files, the Python API, the worksheet functions — holds a value to."""


def unit_of(name):
    """The unit LIMITS gives the argument ``name`` ('' when it has none or no limits)."""
    return LIMITS[name][0].get("unit", "") if name in LIMITS else ""


def check_limits(name, value):
    """``value`` checked against the LIMITS of the argument ``name``: None passes, a number or an
    array (list, numpy array, pandas Series) of numbers must lie within the bounds, else InputError
    with the first offending value — the message `parse_argument` gives the same value. Text and
    other kinds pass through unchanged for the caller's own type check. Returns ``value``.

    The one check the Python API applies at its entry (plan, rank, estimate, forecast, ...), so the
    worksheet functions, which call it, share it too.
    """
    if type(value) is float:  # the common cases: a plain number inside the bounds passes at once
        low, high, whole = _WITHIN[name]
        if low <= value <= high and (value == 0.0 or abs(value) >= TINY) and (not whole or value.is_integer()):
            return value
    elif type(value) is int:
        low, high, _ = _WITHIN[name]
        if low <= value <= high:  # whole, and 0 or at least 1: never too close to zero
            return value
    if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
        return value
    if isinstance(value, (int, float)):
        parse_value(value, name)  # non-finite, too close to zero, or an int of hundreds of digits
        problem = bound_problem(float(value), name, **LIMITS[name][0])
        if problem:
            raise InputError(problem)
        return value  # a plain number, the common case: no numpy (one plan is ~100 us)
    if type(value) is np.ndarray and value.dtype == np.float64 and value.size:  # a float array inside the bounds:
        low, high, whole = _WITHIN[name]  # two reading passes, where the full checks write five arrays (issue 21)
        smallest, largest = float(value.min()), float(value.max())  # NaN if any is: the full checks then
        if low <= smallest and largest <= high and (smallest >= TINY or largest <= -TINY) and not whole:
            return value
    problems = limit_problems(name, value, first=True)
    if problems:
        raise InputError(next(iter(problems.values())))
    return value


def _within(bounds):
    """(low, high, whole) such that low ≤ x ≤ high (finite), and x whole when ``whole``, is inside ``bounds``:
    `check_limits`' quick acceptance; what it does not accept gets the full checks and their message."""
    largest = sys.float_info.max
    minimum, maximum = bounds.get("minimum"), bounds.get("maximum")
    low = max(-largest if minimum is None else minimum, TINY if bounds.get("positive") else -largest)
    return low, largest if maximum is None else min(maximum, largest), bool(bounds.get("whole"))


_WITHIN = {name: _within(bounds) for name, (bounds, _) in LIMITS.items()}


def check_arguments(**arguments):
    """`check_limits` for every ``name=value`` given that LIMITS knows (the arguments of one API
    call; the others, such as ``billing``, are the callee's to check)."""
    for name, value in arguments.items():
        if value is not None and name in LIMITS:  # None passes: most of a call's arguments are not given
            check_limits(name, value)


def limit_problems(name, value, *, first=False, blank_nan=False):
    """{flat index: message} for the values of ``value`` (a number or an array) outside the LIMITS of
    ``name``; vectorised, so a worksheet grid of a million cells costs a few numpy passes. With
    ``blank_nan`` a NaN is a blank cell and passes; otherwise it is refused as not finite."""
    bounds, _ = LIMITS[name]
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return {}  # not numbers: the caller's type check says what is wrong
    flat = array.ravel()
    with np.errstate(invalid="ignore"):
        if bounds.get("positive") and not blank_nan:
            # x ≥ TINY is False for NaN, for x ≤ 0 and for 0 < x < TINY: the checks below in one pass (issue 21)
            bad = ~(flat >= TINY)
            if not bounds.get("maximum", math.inf) < math.inf:
                bad |= np.isinf(flat)
        else:
            bad = ~np.isfinite(flat) if not blank_nan else np.isinf(flat)
            bad |= (flat != 0) & (flat < TINY) & (flat > -TINY)  # |x| < TINY without an array of |x|
            if bounds.get("positive"):
                bad |= flat <= 0
        if bounds.get("minimum") is not None:
            bad |= flat < bounds["minimum"]
        if bounds.get("maximum") is not None:
            bad |= flat > bounds["maximum"]
        if bounds.get("whole"):
            bad |= np.isfinite(flat) & (flat != np.floor(flat))
    problems = {}
    for index in np.flatnonzero(bad):
        number = float(flat[index])
        if not math.isfinite(number):
            problems[int(index)] = f"{name} {number} is not a finite number — give a number such as 2e9"
        elif number != 0 and abs(number) < TINY:
            problems[int(index)] = (f"{name} {shown(repr(number))} is too close to zero to compute with — "
                                    "give 0 or a larger number")
        else:
            problems[int(index)] = bound_problem(number, name, **bounds)
        if first:
            break
    return problems


def limits_table():
    """The markdown table of bounds that docs/limits.md shows (`atlas_xl.arguments.limits_table`)."""
    return arguments.limits_table()


def parse_argument(raw, name):
    """``raw`` parsed as the numeric argument ``name`` with its LIMITS."""
    bounds, _ = LIMITS[name]
    return parse_number(raw, name, **bounds)


def parse_volume(raw, what="tokens_per_day"):
    """A daily token volume: positive, at most MAX_TOKENS_PER_DAY [tokens/day]."""
    return parse_number(raw, what, **arguments.get("tokens_per_day").bounds)


def _show(number):
    return f"{number:,.0f}" if abs(number) < 1e15 and number == int(number) else f"{number:.6g}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP, "CSV Injection",
https://owasp.org/www-community/attacks/CSV_Injection)."""


def spreadsheet_text(value):
    """A cell for a CSV a spreadsheet will open: text that starts with = + - @ tab or CR gets a
    leading single quote, so Excel and LibreOffice show it as text instead of running it
    (``=cmd|'/c calc'!A1``, ``=HYPERLINK(...)``); numbers, and text that is a plain number
    (``-3``, ``+1.5e3``), stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def from_spreadsheet_text(value):
    """The inverse of `spreadsheet_text` for a CSV read back (a catalog exported by atlas-xl): a
    leading single quote before = + - @ tab or CR is dropped, as Excel drops the quote typed before
    a formula character."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def write_csv(frame, target):
    """``frame`` (a pandas DataFrame) as CSV to ``target`` (a path or a text stream), every text
    cell through `spreadsheet_text`: the one CSV writer of the product (rank/catalog/forecast/
    breakeven/pattern --csv, sweep -o, catalog export)."""
    safe = frame.copy()
    for index, column in enumerate(safe.columns):
        cells = safe.iloc[:, index]
        if cells.dtype.kind not in "biufcmM":  # text (object or pandas' str dtype); numbers stay numbers
            safe.isetitem(index, cells.map(spreadsheet_text, na_action="ignore").astype(object))
    safe.columns = [spreadsheet_text(str(c)) for c in safe.columns]
    safe.to_csv(target, index=False)


def finite_or_none(value):
    """JSON has no Infinity/NaN: a non-finite float becomes None (null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
