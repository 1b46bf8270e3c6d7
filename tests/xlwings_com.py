"""xlwings' own Windows UDF path, run on Linux: only pywin32 (the COM transport) is stubbed.

Excel calls a UDF through the VBA wrapper that *Import Functions* writes: ``XLPy.CallUDF(module,
name, Array(args...), ThisWorkbook, Application.Caller)``. That lands in xlwings'
``com_server.XLPython.CallUDF`` → ``udfs.call_udf``, which turns each argument into Python with
``xlwings.conversion.read`` and the options its ``@xw.arg`` declares, calls the function, and
converts the result back with ``conversion.write``. Everything in that chain is xlwings' own code
here; what pywin32 would hand it is imitated the way COM delivers it:

- a reference to one cell → a Range whose ``.Value`` is a scalar;
- a reference to a block → a Range whose ``.Value`` is a tuple of row tuples (one row or one
  column included — xlwings' *default* conversion then flattens it to a 1-D list);
- a literal in the formula (``"steady"``, ``250``) → the scalar itself;
- an omitted optional argument → the DISP_E_PARAMNOTFOUND code (-2147352572);
- an error cell (#N/A, #DIV/0!...) → its int code.

On a Windows machine xlwings decorates with ``udfs.xlfunc``; on Linux ``xw.func`` is a no-op, so
`load` executes the UDF module again with the Windows decorators in place.
"""
from __future__ import annotations

import collections
import ctypes
import datetime as dt
import importlib.util
import re
import sys
import types

from openpyxl.worksheet.formula import ArrayFormula

IID_RANGE = "{00020846-0000-0000-C000-000000000046}"  # Excel's Range interface (xlwings is_range_instance)
MISSING = -2147352572  # DISP_E_PARAMNOTFOUND: what VBA passes for an omitted Optional argument
ERRORS = {"#DIV/0!": -2146826281, "#N/A": -2146826246, "#NAME?": -2146826259, "#NULL!": -2146826288,
          "#NUM!": -2146826252, "#REF!": -2146826265, "#VALUE!": -2146826273}  # xlwings._xlwindows.cell_errors


class _Anything:
    """Stands in for any pywin32 object that xlwings touches at import time only."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __getattr__(self, name):
        return _Anything()


def _raise(*args, **kwargs):
    raise TypeError("not a wrapped COM server object")


def _attribute(name):
    if name.startswith("__"):
        raise AttributeError(name)  # a stub has no __file__, __path__...: tools that scan modules skip it
    return _Anything()


def _stub(name, **attributes):
    module = types.ModuleType(name)
    module.__getattr__ = _attribute
    module.__dict__.update(attributes)
    sys.modules[name] = module
    parent, _, leaf = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], leaf, module)
    return module


class _TimeType(dt.datetime):
    """pywintypes.TimeType: what pywin32 returns for a date cell."""


def _install_pywin32_stubs():
    """Import xlwings' Windows modules against stubs, then take the stubs out of ``sys.modules``
    again so nothing else in the test session believes pywin32 is installed."""
    if "xlwings.com_server" in sys.modules:
        return
    before = set(sys.modules)
    added_ctypes = [name for name in ("windll", "oledll") if not hasattr(ctypes, name)]
    try:
        _import_with_stubs()
    finally:
        for name in set(sys.modules) - before:
            if isinstance(sys.modules[name].__dict__.get("__getattr__"), types.FunctionType) \
                    and sys.modules[name].__getattr__ is _attribute:
                del sys.modules[name]
        for name in added_ctypes:
            delattr(ctypes, name)


def _import_with_stubs():
    _stub("pywintypes", TimeType=_TimeType, IID=lambda text: text, com_error=type("com_error", (Exception,), {}),
          error=type("error", (Exception,), {}))
    _stub("pythoncom", __file__="pythoncom (stub)", TypeIIDs=collections.defaultdict(lambda: type("PyIDispatch", (), {})))
    _stub("win32process", GetWindowThreadProcessId=lambda hwnd: (0, 4242))  # (thread, pid) of Excel
    for name in ("win32api", "win32con", "win32gui", "win32timezone", "win32event", "win32com",
                 "win32com.server", "win32com.server.dispatcher", "win32com.server.policy",
                 "win32com.server.exception"):
        _stub(name)
    _stub("win32com.server.util", unwrap=_raise)
    _stub("win32com.client", Dispatch=_Anything, DispatchEx=_Anything, CDispatch=type("CDispatch", (), {}),
          CoClassBaseClass=type("CoClassBaseClass", (), {}), DispatchBaseClass=type("DispatchBaseClass", (), {}))
    for name in ("windll", "oledll"):  # Windows-only names of ctypes
        if not hasattr(ctypes, name):
            setattr(ctypes, name, _Anything())
    import xlwings
    real_pydll = ctypes.PyDLL  # _xlwindows loads a symbol from pythoncom's DLL at import
    ctypes.PyDLL = _Anything
    try:
        from xlwings import _xlwindows
    finally:
        ctypes.PyDLL = real_pydll
    if "excel" not in [engine.name for engine in xlwings.engines]:
        xlwings.engines.add(xlwings.main.Engine(impl=_xlwindows.engine))
    import xlwings.com_server  # noqa: F401  (imports xlwings.udfs)


class _Count:
    def __init__(self, count):
        self.Count = count


class Range:
    """What pywin32 hands xlwings for a range argument (and for ``Application.Caller``)."""

    def __init__(self, rows):
        if not isinstance(rows, (list, tuple)) or not isinstance(rows[0], (list, tuple)):
            raise TypeError("a Range is a list of rows")
        self.rows = [list(row) for row in rows]
        self.Rows, self.Columns = _Count(len(self.rows)), _Count(len(self.rows[0]))
        self.Row = self.Column = 1
        self.Worksheet = _Anything()
        self.CLSID = IID_RANGE  # present when pywin32's makepy cache for Excel exists (xlwings #1404)
        attr = types.SimpleNamespace(iid=IID_RANGE)
        self._oleobj_ = types.SimpleNamespace(GetTypeInfo=lambda: types.SimpleNamespace(GetTypeAttr=lambda: attr))

        cells = [[ERRORS.get(v, v) if isinstance(v, str) else v for v in row] for row in self.rows]
        self.Value = cells[0][0] if len(cells) == 1 and len(cells[0]) == 1 else tuple(tuple(r) for r in cells)


def cells(rows, columns):
    """An empty calling range (``Application.Caller``) of this shape."""
    return Range([[None] * columns for _ in range(rows)])


_MODULES = {}


def load(module_name="udfs.functions"):
    """The UDF module as xlwings on Windows sees it: decorated by ``xlwings.udfs.xlfunc/xlarg``."""
    if module_name in _MODULES:
        return _MODULES[module_name]
    _install_pywin32_stubs()
    import xlwings
    from xlwings import udfs as xlwings_udfs
    spec = importlib.util.find_spec(module_name)
    module = importlib.util.module_from_spec(spec)
    saved = xlwings.func, xlwings.arg, xlwings.ret
    xlwings.func, xlwings.arg, xlwings.ret = xlwings_udfs.xlfunc, xlwings_udfs.xlarg, xlwings_udfs.xlret
    try:
        spec.loader.exec_module(module)
    finally:
        xlwings.func, xlwings.arg, xlwings.ret = saved
    xlwings_udfs.udf_modules[module_name] = {"filename": module.__file__, "filetime": None, "module": module}
    _MODULES[module_name] = module
    return module


def call(name, *args, caller=None, module_name="udfs.functions"):
    """Call a worksheet function as Excel does: through ``XLPython.CallUDF`` with every declared
    argument (omitted ones as MISSING); returns what Excel receives."""
    module = load(module_name)
    from xlwings import com_server
    info = getattr(module, name).__xlfunc__["args"]
    values = list(args) + [MISSING] * (len(info) - len(args))
    values = [None if a["name"] == "caller" else v for a, v in zip(info, values)]  # VBA passes Nothing
    return com_server.XLPython().CallUDF(module_name, name, tuple(values), None, caller or cells(1, 1))


def declared(name, module_name="udfs.functions"):
    """{argument: conversion options} as the decorators declared them."""
    return {a["name"]: a["options"] for a in getattr(load(module_name), name).__xlfunc__["args"]}


# -- workbook formulas → CallUDF ----------------------------------------------------------------------------------
FORMULA = re.compile(r'=(ATLAS_[A-Z0-9_]+)\(((?:[^()"]|"[^"]*"|\((?:[^()"]|"[^"]*")*\))*)\)')
"""An ATLAS_* call whose arguments are references, literals or one nested call (the Forecast band's
``IF(K20:K79<=FcMonths,K20:K79,"")``)."""
BLANK_PAST = re.compile(r'IF\(([^,<=]+)<=([^,]+),\1,""\)')
"""``IF(range<=limit,range,"")``: the range's cells up to the limit, "" after (Excel's array result)."""


def split_arguments(text):
    """Top-level arguments of a formula's argument list (quotes and parentheses respected)."""
    parts, current, quoted, depth = [], "", False, 0
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        if char == "," and not quoted and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return parts + [current.strip()] if text.strip() else []


def com_value(value):
    """A cell's value as pywin32 returns it: numbers are doubles, empty cells None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return float(value)


def block(book, sheet, ref):
    cells = book[sheet][ref.replace("$", "")]
    cells = cells if isinstance(cells, tuple) else ((cells,),)
    return [[com_value(c.value) for c in row] for row in cells]


def resolve(token, book, sheet, extra=None):
    """(what COM hands xlwings, what a Python caller would pass) for one formula argument."""
    extra = extra or {}
    if token == "":
        return MISSING, None
    if token.startswith('"'):
        return token.strip('"'), token.strip('"')
    if re.fullmatch(r"-?\d+(\.\d+)?([eE]\d+)?", token):
        return float(token), float(token)
    blank_past = BLANK_PAST.fullmatch(token)
    if token in extra:
        rows = extra[token]
    elif blank_past:
        cells, (limit,) = resolve(blank_past.group(1), book, sheet, extra)[1], resolve(blank_past.group(2), book,
                                                                                     sheet, extra)[1][0]
        rows = [[c if c <= limit else "" for c in row] for row in cells]
    elif token in book.defined_names:
        (title, ref), = book.defined_names[token].destinations
        rows = block(book, title, ref)
    else:
        title, ref = token.split("!") if "!" in token else (sheet, token)
        rows = block(book, title.strip("'"), ref)
    return Range(rows), rows


def evaluate(formula, book, sheet, caller_shape=(1, 1), extra=None):
    """Evaluate one ``=ATLAS_*(...)`` formula of ``book`` as Excel would: names and ranges become
    COM Ranges of the cells' values (``extra`` maps a reference to rows of its own), literals stay
    literals, blanks are omitted arguments. Returns (function, Python-side arguments, result)."""
    name, text = FORMULA.fullmatch(formula.strip()).groups()
    resolved = [resolve(t, book, sheet, extra) for t in split_arguments(text)]
    result = call(name, *(c for c, _ in resolved), caller=cells(*caller_shape))
    return name, [p for _, p in resolved], result


def template_formulas(book):
    """(sheet, cell, formula, calling range shape) of every ATLAS_* formula in an openpyxl book."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                value = c.value
                if isinstance(value, ArrayFormula) and value.text.startswith("=ATLAS_"):  # not a lookup around one
                    area = sheet[value.ref]
                    yield sheet.title, c.coordinate, value.text, (len(area), len(area[0]))
                elif isinstance(value, str) and value.startswith("=ATLAS_"):
                    yield sheet.title, c.coordinate, value, (1, 1)


