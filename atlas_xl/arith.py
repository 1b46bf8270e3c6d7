"""Scalar-or-array arithmetic: Python floats stay Python floats (about 20× faster than numpy's on one
value), numpy arrays broadcast. The equations of the planner and the serving model use these where
numpy's functions would turn a scalar into a numpy scalar or need an ``if`` on an array."""
import math

import numpy as np


def is_array(*values):
    for v in values:
        if isinstance(v, np.ndarray):
            return True
    return False


def where(condition, a, b):
    if condition is True:  # a Python bool, by identity: the serving model asks ~100 times per estimate
        return a
    if condition is False:
        return b
    if isinstance(condition, np.bool_):
        return a if condition else b
    return np.where(condition, a, b)


def ceil(x):
    if isinstance(x, np.ndarray):
        return np.ceil(x)
    return math.ceil(x) if x == x else math.nan


def floor(x):
    if isinstance(x, np.ndarray):
        return np.floor(x)
    return float(math.floor(x)) if math.isfinite(x) else x


def maximum(a, b):
    if type(a) is float and type(b) is float:  # the scalar case first
        return a if a >= b or a != a else b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.maximum(a, b)
    return a if a >= b or a != a else b


def minimum(a, b):
    if type(a) is float and type(b) is float:  # the scalar case first
        return a if a <= b or a != a else b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.minimum(a, b)
    return a if a <= b or a != a else b


def ceil_rounded(x, digits=9):
    """ceil(round(x, digits)) of a Python float: the least whole number ≥ x once x is rounded to ``digits``
    decimals (so 2.25 / 0.75 gives 3, not 4, despite binary floating point); an int.

    ``round(x, 9)`` rounds correctly in decimal, which costs ~270 ns; an x that is whole already, or more than
    ``10**-digits`` above the whole number below it, has the same ceiling with or without the rounding (rounding
    moves x by at most half of that and never past a whole number), so only the rest is rounded.
    """
    whole = math.floor(x)  # ValueError for NaN, OverflowError for ±inf: as math.ceil(round(x, digits))
    if x == whole:
        return whole
    if x - whole > 10.0 ** -digits:
        return whole + 1
    return math.ceil(round(x, digits))
