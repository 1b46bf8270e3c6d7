"""Excel's values, operators and the built-in functions the headless engine evaluates.

Values: float, str, bool, None (an empty cell) and `XLError`; ranges arrive as 2-D numpy object
arrays. Semantics follow Excel where it matters for models: empty cells count as 0 in arithmetic
and are skipped by aggregates; text compares case-insensitively; errors propagate.
"""
from __future__ import annotations

import fnmatch
import math
import operator
import re
import statistics

import numpy as np


class XLError(Exception):
    """An Excel error value (#DIV/0!, #N/A, #VALUE!, #REF!, #NAME?, #NUM!, #NULL!)."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code

    def __eq__(self, other):
        return isinstance(other, XLError) and other.code == self.code

    def __hash__(self):
        return hash(self.code)

    def __repr__(self):
        return self.code


DIV0, NA, VALUE, REF, NAME, NUM = (XLError(c) for c in ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!"))


def is_array(value):
    return isinstance(value, np.ndarray)


def cells(value):
    """Every cell of an argument (a scalar is one cell)."""
    return value.ravel().tolist() if is_array(value) else [value]


def first_error(*values):
    for value in values:
        for cell in cells(value):
            if isinstance(cell, XLError):
                return cell
    return None


# -- coercion ---------------------------------------------------------------------------------------
def number(value):
    if isinstance(value, XLError):
        raise value
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "")) if value.strip() else 0.0
        except ValueError:
            raise VALUE from None
    raise VALUE


def text(value):
    if isinstance(value, XLError):
        raise value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    return str(value)


def boolean(value):
    if isinstance(value, XLError):
        raise value
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str) and value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    raise VALUE


def scalar(value):
    """The top-left cell of an array argument (implicit intersection is not modelled)."""
    return value.flat[0] if is_array(value) else value


# -- operators --------------------------------------------------------------------------------------
def _rank(value):
    return 0 if isinstance(value, (int, float)) and not isinstance(value, bool) else 1 if isinstance(value, str) else 2


def compare(a, b, op):
    """Excel comparison: numbers < text < booleans; text case-insensitive; empty = 0 or ""."""
    if isinstance(a, XLError):
        return a
    if isinstance(b, XLError):
        return b
    if a is None:
        a = "" if isinstance(b, str) else False if isinstance(b, bool) else 0.0
    if b is None:
        b = "" if isinstance(a, str) else False if isinstance(a, bool) else 0.0
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        left, right = ra, rb
    elif ra == 1:
        left, right = a.lower(), b.lower()
    else:
        left, right = a, b
    return {"=": operator.eq, "<>": operator.ne, "<": operator.lt, ">": operator.gt,
            "<=": operator.le, ">=": operator.ge}[op](left, right)


def _arith(a, b, op):
    try:
        x, y = number(a), number(b)
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            if y == 0:
                return DIV0
            return x / y
        if op == "^":
            result = x ** y
            return NUM if isinstance(result, complex) or math.isinf(result) else float(result)
    except XLError as error:
        return error
    except (OverflowError, ZeroDivisionError, ValueError):
        return NUM
    raise ValueError(op)


def _concat(a, b):
    try:
        return text(a) + text(b)
    except XLError as error:
        return error


def binary(op, a, b):
    """Apply an infix operator; arrays broadcast element by element."""
    if op in ("=", "<>", "<", ">", "<=", ">="):
        fn = lambda x, y: compare(x, y, op)  # noqa: E731
    elif op == "&":
        fn = _concat
    else:
        fn = lambda x, y: _arith(x, y, op)  # noqa: E731
    if is_array(a) or is_array(b):
        return np.frompyfunc(fn, 2, 1)(a, b).astype(object).reshape(np.broadcast_shapes(np.shape(a), np.shape(b)))
    return fn(a, b)


def negate(a):
    if is_array(a):
        return np.frompyfunc(negate, 1, 1)(a).astype(object)
    try:
        return -number(a)
    except XLError as error:
        return error


def percent(a):
    return binary("/", a, 100.0)


# -- criteria (COUNTIF and friends) --------------------------------------------------------------------
CRITERION = re.compile(r"^(<=|>=|<>|=|<|>)?(.*)$", re.S)


def criterion(spec):
    """Excel criteria ("<0", ">=5", "<>", "", "abc*", 3) → a predicate on a cell."""
    if isinstance(spec, XLError):
        raise spec
    if spec is None:
        spec = ""
    if isinstance(spec, bool):
        return lambda v: v is spec
    if isinstance(spec, (int, float)):
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == spec
    op, rest = CRITERION.match(str(spec)).groups()
    op = op or "="
    try:
        target = float(rest.replace(",", "")) if rest.strip() else None
    except ValueError:
        target = None
    if target is not None:
        def numeric(v):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                if op == "<>":
                    return True
                if op == "=" and isinstance(v, str):
                    try:
                        return float(v) == target
                    except ValueError:
                        return False
                return False
            return compare(v, target, op)
        return numeric
    if rest == "":
        if op == "=":
            return lambda v: v is None or v == ""
        if op == "<>":
            return lambda v: not (v is None or v == "")
    pattern = rest.lower()
    wildcard = any(ch in pattern for ch in "*?")

    def textual(v):
        if isinstance(v, str):
            value = v.lower()
            equal = fnmatch.fnmatchcase(value, pattern) if wildcard else value == pattern
            if op == "=":
                return equal
            if op == "<>":
                return not equal
            return compare(value, pattern, op)
        return op == "<>"
    return textual


def _matches(ranges_and_criteria):
    if len(ranges_and_criteria) % 2:
        raise VALUE
    pairs = list(zip(ranges_and_criteria[::2], ranges_and_criteria[1::2]))
    shape = np.shape(pairs[0][0])
    for rng, _ in pairs:
        if np.shape(rng) != shape:
            raise VALUE
    return pairs, shape


def _counts(pairs, shape, spec_values):
    mask = np.ones(shape, dtype=bool)
    for (rng, _), spec in zip(pairs, spec_values):
        test = criterion(spec)
        mask &= np.frompyfunc(test, 1, 1)(np.asarray(rng, dtype=object)).astype(bool)
    return mask


def _over_criteria(fn, pairs):
    """Criteria given as arrays (COUNTIF(A:A, A:A)) give an array of results."""
    specs = [c for _, c in pairs]
    if not any(is_array(c) for c in specs):
        return fn([scalar(c) for c in specs])
    shape = np.broadcast_shapes(*(np.shape(c) for c in specs if is_array(c)))
    grids = [np.broadcast_to(c if is_array(c) else np.array(c, dtype=object), shape) for c in specs]
    out = np.empty(shape, dtype=object)
    cache = {}
    for index in np.ndindex(shape):
        key = tuple(g[index] for g in grids)
        if key not in cache:
            cache[key] = fn(list(key))
        out[index] = cache[key]
    return out


def COUNTIFS(*args):
    pairs, shape = _matches(args)
    return _over_criteria(lambda specs: float(_counts(pairs, shape, specs).sum()), pairs)


def COUNTIF(rng, spec):
    return COUNTIFS(rng, spec)


def SUMIFS(sum_range, *args):
    pairs, shape = _matches(args)
    if np.shape(sum_range) != shape:
        raise VALUE
    values = np.asarray(sum_range, dtype=object)
    return _over_criteria(lambda specs: float(sum(v for v, m in zip(values.ravel(), _counts(pairs, shape, specs).ravel())
                                                  if m and _is_number(v))), pairs)


def SUMIF(rng, spec, sum_range=None):
    return SUMIFS(rng if sum_range is None else sum_range, rng, spec)


def AVERAGEIF(rng, spec, average_range=None):
    values = np.asarray(rng if average_range is None else average_range, dtype=object).ravel()
    mask = _counts([(rng, spec)], np.shape(rng), [scalar(spec)]).ravel()
    chosen = [v for v, m in zip(values, mask) if m and _is_number(v)]
    if not chosen:
        raise DIV0
    return sum(chosen) / len(chosen)


# -- aggregates -----------------------------------------------------------------------------------------
def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numbers(args):
    """Numbers of aggregate arguments: range cells that are numbers; direct scalars coerced."""
    out = []
    for arg in args:
        if is_array(arg):
            for v in arg.ravel():
                if isinstance(v, XLError):
                    raise v
                if _is_number(v):
                    out.append(float(v))
        elif arg is not None:
            out.append(number(arg))
    return out


def SUM(*args):
    return float(math.fsum(_numbers(args)))


def AVERAGE(*args):
    values = _numbers(args)
    if not values:
        raise DIV0
    return math.fsum(values) / len(values)


def MIN(*args):
    values = _numbers(args)
    return min(values) if values else 0.0


def MAX(*args):
    values = _numbers(args)
    return max(values) if values else 0.0


def MEDIAN(*args):
    values = _numbers(args)
    if not values:
        raise NUM
    return float(statistics.median(values))


def PRODUCT(*args):
    return float(math.prod(_numbers(args)))


def COUNT(*args):
    return float(sum(1 for arg in args for v in cells(arg) if _is_number(v)))


def COUNTA(*args):
    return float(sum(1 for arg in args for v in cells(arg) if v is not None))


def COUNTBLANK(rng):
    return float(sum(1 for v in cells(rng) if v is None or v == ""))


def SUMPRODUCT(*arrays):
    grids = [np.asarray(a, dtype=object) if is_array(a) else np.array([[a]], dtype=object) for a in arrays]
    if any(g.shape != grids[0].shape for g in grids):
        raise VALUE
    total = np.ones(grids[0].shape)
    for grid in grids:
        error = first_error(grid)
        if error:
            raise error
        # non-numbers (text, empty, TRUE/FALSE) count as 0, as in Excel
        total *= np.frompyfunc(lambda v: float(v) if _is_number(v) else 0.0, 1, 1)(grid).astype(float)
    return float(total.sum())


# -- logic and information --------------------------------------------------------------------------------
def AND(*args):
    values = [boolean(v) for arg in args for v in cells(arg) if not (is_array(arg) and (v is None or isinstance(v, str)))]
    if not values:
        raise VALUE
    return all(values)


def OR(*args):
    values = [boolean(v) for arg in args for v in cells(arg) if not (is_array(arg) and (v is None or isinstance(v, str)))]
    if not values:
        raise VALUE
    return any(values)


def NOT(value):
    return not boolean(scalar(value))


def ISNUMBER(value):
    return _is_number(scalar(value))


def ISTEXT(value):
    return isinstance(scalar(value), str)


def ISBLANK(value):
    return scalar(value) is None


def ISERROR(value):
    return isinstance(scalar(value), XLError)


def ISNA(value):
    return scalar(value) == NA


def NA_():
    raise NA


# -- math -------------------------------------------------------------------------------------------------------
def _unary(fn):
    def apply(value):
        x = number(scalar(value))
        try:
            return float(fn(x))
        except (ValueError, OverflowError):
            raise NUM from None
    return apply


def ROUND(value, digits=0.0):
    x, d = number(scalar(value)), int(number(scalar(digits)))
    factor = 10.0 ** d
    return math.copysign(math.floor(abs(x) * factor + 0.5 + 1e-12) / factor, x)


def ROUNDUP(value, digits=0.0):
    x, d = number(scalar(value)), int(number(scalar(digits)))
    factor = 10.0 ** d
    return math.copysign(math.ceil(abs(x) * factor - 1e-12) / factor, x)


def ROUNDDOWN(value, digits=0.0):
    x, d = number(scalar(value)), int(number(scalar(digits)))
    factor = 10.0 ** d
    return math.copysign(math.floor(abs(x) * factor + 1e-12) / factor, x)


def MOD(a, b):
    x, y = number(scalar(a)), number(scalar(b))
    if y == 0:
        raise DIV0
    return x - y * math.floor(x / y)


def POWER(a, b):
    result = _arith(scalar(a), scalar(b), "^")
    if isinstance(result, XLError):
        raise result
    return result


def CEILING(value, significance=1.0):
    x, s = number(scalar(value)), number(scalar(significance))
    return 0.0 if s == 0 else math.ceil(x / s - 1e-12) * s


def FLOOR(value, significance=1.0):
    x, s = number(scalar(value)), number(scalar(significance))
    if s == 0:
        raise DIV0
    return math.floor(x / s + 1e-12) * s


def LOG(value, base=10.0):
    x, b = number(scalar(value)), number(scalar(base))
    if x <= 0 or b <= 0 or b == 1:
        raise NUM
    return math.log(x, b)


# -- text --------------------------------------------------------------------------------------------------------
def CONCATENATE(*args):
    return "".join(text(v) for arg in args for v in cells(arg))


def LEFT(value, count=1.0):
    return text(scalar(value))[:int(number(scalar(count)))]


def RIGHT(value, count=1.0):
    n = int(number(scalar(count)))
    return text(scalar(value))[-n:] if n else ""


def MID(value, start, count):
    s = int(number(scalar(start)))
    if s < 1:
        raise VALUE
    return text(scalar(value))[s - 1:s - 1 + int(number(scalar(count)))]


def VALUE_(value):
    return number(scalar(value))


# -- lookup --------------------------------------------------------------------------------------------------------
def _equal(a, b):
    return compare(a, b, "=") is True


def MATCH(value, rng, match_type=1.0):
    value, kind = scalar(value), int(number(scalar(match_type)))
    items = np.asarray(rng, dtype=object).ravel().tolist()
    if kind == 0:
        test = criterion(value) if isinstance(value, str) and any(c in value for c in "*?") else None
        for i, item in enumerate(items, start=1):
            if (test(item) if test else _equal(item, value)):
                return float(i)
        raise NA
    best = None
    for i, item in enumerate(items, start=1):
        if item is None:
            continue
        ok = compare(item, value, "<=" if kind > 0 else ">=")
        if ok is True:
            best = i
        elif best is not None:
            break
    if best is None:
        raise NA
    return float(best)


def _lookup(value, table, index, approximate, by_rows):
    table = np.asarray(table, dtype=object)
    if by_rows:
        table = table.T
    column = int(number(scalar(index)))
    if column < 1 or column > table.shape[1]:
        raise REF
    approx = True if approximate is None else boolean(scalar(approximate))
    row = int(MATCH(value, table[:, 0:1], 1.0 if approx else 0.0)) - 1
    return table[row, column - 1]


def VLOOKUP(value, table, index, approximate=None):
    return _lookup(value, table, index, approximate, by_rows=False)


def HLOOKUP(value, table, index, approximate=None):
    return _lookup(value, table, index, approximate, by_rows=True)


def INDEX(rng, row, column=None):
    array = np.asarray(rng, dtype=object)
    if array.ndim < 2:
        array = array.reshape(1, -1)
    r = int(number(scalar(row)))
    c = int(number(scalar(column))) if column is not None else (1 if array.shape[1] == 1 or array.shape[0] > 1 else r)
    if array.shape[0] == 1 and column is None:
        r, c = 1, int(number(scalar(row)))
    if r < 0 or c < 0 or r > array.shape[0] or c > array.shape[1]:
        raise REF
    if r == 0:
        return array[:, c - 1:c]
    if c == 0:
        return array[r - 1:r, :]
    return array[r - 1, c - 1]


def CHOOSE(index, *options):
    i = int(number(scalar(index)))
    if i < 1 or i > len(options):
        raise VALUE
    return options[i - 1]


def ROWS(rng):
    return float(np.shape(rng)[0]) if is_array(rng) else 1.0


def COLUMNS(rng):
    return float(np.shape(rng)[1]) if is_array(rng) else 1.0


BUILTINS = {
    "SUM": SUM, "AVERAGE": AVERAGE, "MIN": MIN, "MAX": MAX, "MEDIAN": MEDIAN, "PRODUCT": PRODUCT,
    "COUNT": COUNT, "COUNTA": COUNTA, "COUNTBLANK": COUNTBLANK, "COUNTIF": COUNTIF, "COUNTIFS": COUNTIFS,
    "SUMIF": SUMIF, "SUMIFS": SUMIFS, "AVERAGEIF": AVERAGEIF, "SUMPRODUCT": SUMPRODUCT,
    "AND": AND, "OR": OR, "NOT": NOT, "ISNUMBER": ISNUMBER, "ISTEXT": ISTEXT, "ISBLANK": ISBLANK,
    "ISERROR": ISERROR, "ISNA": ISNA, "NA": NA_, "TRUE": lambda: True, "FALSE": lambda: False,
    "ABS": _unary(abs), "INT": _unary(math.floor), "SQRT": _unary(math.sqrt), "EXP": _unary(math.exp),
    "LN": _unary(math.log), "LOG10": _unary(math.log10), "SIGN": _unary(lambda x: (x > 0) - (x < 0)),
    "ROUND": ROUND, "ROUNDUP": ROUNDUP, "ROUNDDOWN": ROUNDDOWN, "MOD": MOD, "POWER": POWER,
    "CEILING": CEILING, "FLOOR": FLOOR, "LOG": LOG, "PI": lambda: math.pi,
    "CONCATENATE": CONCATENATE, "CONCAT": CONCATENATE, "LEFT": LEFT, "RIGHT": RIGHT, "MID": MID,
    "LEN": lambda v: float(len(text(scalar(v)))), "UPPER": lambda v: text(scalar(v)).upper(),
    "LOWER": lambda v: text(scalar(v)).lower(), "TRIM": lambda v: " ".join(text(scalar(v)).split()),
    "VALUE": VALUE_, "VLOOKUP": VLOOKUP, "HLOOKUP": HLOOKUP, "MATCH": MATCH, "INDEX": INDEX,
    "CHOOSE": CHOOSE, "ROWS": ROWS, "COLUMNS": COLUMNS,
}
"""Built-in functions by Excel name; each takes evaluated arguments (ranges as 2-D arrays)."""
LAZY = {"IF", "IFERROR", "IFNA", "OFFSET"}
"""Functions the engine evaluates itself (their arguments are not all evaluated up front)."""
RANGE_FUNCTIONS = {
    "SUM", "AVERAGE", "MIN", "MAX", "MEDIAN", "PRODUCT", "COUNT", "COUNTA", "COUNTBLANK", "COUNTIF", "COUNTIFS",
    "SUMIF", "SUMIFS", "AVERAGEIF", "SUMPRODUCT", "AND", "OR", "VLOOKUP", "HLOOKUP", "MATCH", "INDEX", "ROWS",
    "COLUMNS", "CONCATENATE", "CONCAT",
}
"""Functions whose arguments stay ranges (a one-cell reference is a 1×1 range, not a value)."""
