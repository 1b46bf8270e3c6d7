"""The ATLAS_* Calc add-in: a Python UNO component that runs inside LibreOffice.

LibreOffice runs this file with its own Python (Debian: /usr/bin/python3 with python3-uno), not
with the interpreter atlas_xl was installed into. Before anything else it adds that
interpreter's folders to ``sys.path``, in front (so LibreOffice's Python never picks up another
numpy), processing them like site-packages so that .pth files — editable installs — work:

1. the environment variable ``ATLAS_XL_SITE`` (folders separated by ``os.pathsep``), which
   ``atlas-xl recalc`` sets for the LibreOffice it starts; else
2. ``atlas_xl_site.txt`` beside this file in the extension, written by ``build.py`` with the
   folders of the Python that built it (`calc_addin.site_dirs`).

Both Pythons must be the same minor version (3.11 on Debian 12) for numpy's compiled modules.

Every function is `udfs.functions` itself — the same code the xlwings add-in runs: Calc's
arguments are converted to what xlwings delivers (ranges as 2-D lists, empty cells as None) and
the result back (tables as arrays). If atlas_xl cannot be imported, each call returns one line
saying so instead of a number.
"""
import functools
import inspect
import os
import site
import sys
import time
from collections import OrderedDict

import uno
import unohelper
from com.sun.star.lang import XServiceInfo, XServiceName
from org.atlasxl import XAtlas, XAtlasErrors

SERVICE = "org.atlasxl.AtlasFunctions"
SITE_VARIABLE = "ATLAS_XL_SITE"
SITE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "atlas_xl_site.txt")


def _site_folders():
    text = os.environ.get(SITE_VARIABLE)
    if text:
        return [f for f in text.split(os.pathsep) if f]
    try:
        with open(SITE_FILE, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip()]
    except OSError:
        return []


def _add_site(folders):
    before = list(sys.path)
    for folder in folders:
        site.addsitedir(folder)
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + before


_add_site(_site_folders())
try:
    from udfs import excel as _excel
    from udfs import functions as _functions
    _IMPORT_ERROR = None
except Exception as error:  # noqa: BLE001 — reported in every cell instead
    _functions = _excel = None
    _IMPORT_ERROR = (f"atlas_xl is not available to LibreOffice's Python ({type(error).__name__}: {error}) — "
                     f"set {SITE_VARIABLE} to the site-packages of the Python that has atlas_xl, or rebuild "
                     "the .oxt with that Python (python build.py)")

_ERROR_TEXTS = set()
_PROFILE = os.environ.get("ATLAS_XL_PROFILE")
"""A file to append 'ATLAS_NAME seconds' to for every call (the Python side of a recalculation,
arguments converted and result made; docs/headless.md). Unset: nothing is timed."""
"""Texts of the errors the functions returned: a recalculation tells error texts from values."""

_CALLED = []
"""Error texts made by the call being computed (`_recorded_error_text`), kept with its cached result."""

if _excel is not None:
    _error_text = _excel.error_text

    def _recorded_error_text(error):
        text = _error_text(error)
        _ERROR_TEXTS.add(text)
        _CALLED.append(text)
        return text
    _excel.error_text = _recorded_error_text

_CALLS = OrderedDict()
"""(function, Calc's arguments) → (result, its error texts), for the calls of one recalculation: a
what-if sheet asks the same question in many rows (10,000 ATLAS_COST rows of the benchmark hold 582
different calls), and Calc hands the arguments as numbers, texts and tuples — their content, never a
cell address. Emptied when the driver takes the error texts (after each read, and before a new
workbook), so nothing outlives a recalculation but in a what-if session on a loaded workbook."""
CALLS_KEPT = 4096
"""At most this many results are kept (least recently used first out)."""
CALL_CELLS_KEPT = 1000
"""A result of more cells (a large table) is not kept: computing it dwarfs the look-up."""


def _cell_in(value):
    """A Calc cell as xlwings delivers it: empty → None, numbers as float, text as str."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if isinstance(value, uno.Any):
        value = value.value
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def _argument(value):
    if isinstance(value, tuple):  # a range: a tuple of rows
        if len(value) == 1 and len(value[0]) == 1:
            return _cell_in(value[0][0])  # one cell, as xlwings passes it
        return [[_cell_in(v) for v in row] for row in value]
    return _cell_in(value)


def _cell_out(value):
    if value is None:
        return ""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, str)):
        value = value.item()  # numpy scalar
    if isinstance(value, (bool, int)):
        return float(value)  # a UNO boolean inside a matrix reaches Calc as 1 whatever its value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else ""
    return value if isinstance(value, str) else str(value)


def _result(value):
    """Every result as rows of cells (the IDL's sequence< sequence< any > >): a scalar is 1 × 1."""
    if isinstance(value, (list, tuple)):
        rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value] or [[None]]
        width = max(len(r) for r in rows)
        return tuple(tuple(_cell_out(c) for c in r + [None] * (width - len(r))) for r in rows)
    return ((_cell_out(value),),)


def _shape(value):
    """The table functions' last argument: {rows, columns} of the calling array range, or empty."""
    try:
        rows, columns = (value[0] if isinstance(value, tuple) and len(value) == 1 else value)[:2]
        return int(rows), int(columns)
    except (TypeError, ValueError, IndexError):
        return None


@functools.lru_cache(maxsize=None)
def _takes_caller(function):
    """Does ``function`` take the calling range (a table that pads to it)? Looked up once per
    function: inspect.signature costs ~65 µs, as much as a cached ATLAS_COST twice over."""
    return "caller" in inspect.signature(function).parameters


def _method(name):
    def call(self, *arguments):
        if not _PROFILE:
            return compute(*arguments)
        started = time.perf_counter()
        try:
            return compute(*arguments)
        finally:
            with open(_PROFILE, "a", encoding="utf-8") as log:
                log.write(f"{name} {time.perf_counter() - started:.6f}\n")

    def compute(*arguments):
        key = (name, arguments)
        try:
            result, texts = _CALLS[key]
        except KeyError:
            pass
        except TypeError:  # an argument without a hash: computed, not kept
            return uncached(*arguments)
        else:
            _CALLS.move_to_end(key)
            _ERROR_TEXTS.update(texts)
            return result
        del _CALLED[:]
        result = uncached(*arguments)
        if sum(len(row) for row in result) <= CALL_CELLS_KEPT:
            _CALLS[key] = (result, tuple(_CALLED))
            if len(_CALLS) > CALLS_KEPT:
                _CALLS.popitem(last=False)
        return result

    def uncached(*arguments):
        if _functions is None:
            _ERROR_TEXTS.add(_IMPORT_ERROR)
            _CALLED.append(_IMPORT_ERROR)
            return ((_IMPORT_ERROR,),)
        try:
            function = getattr(_functions, name)
            if _takes_caller(function):  # a table: pad to the array range
                *arguments, caller = arguments
                return _result(function(*(_argument(a) for a in arguments), caller=_shape(caller)))
            return _result(function(*(_argument(a) for a in arguments)))
        except Exception as error:  # noqa: BLE001 — one line in the cell, never a traceback
            text = f"internal error ({type(error).__name__}: {error}) — please report it"
            _ERROR_TEXTS.add(text)
            _CALLED.append(text)
            return ((text,),)
    call.__name__ = name
    return call


class AtlasFunctions(unohelper.Base, XAtlas, XAtlasErrors, XServiceName, XServiceInfo):
    """Calc looks up the functions by the methods of XAtlas; names and help come from
    CalcAddIns.xcu."""

    def __init__(self, context):
        self.context = context

    def takeErrorTexts(self, texts=None):
        found = tuple(sorted(_ERROR_TEXTS))
        _ERROR_TEXTS.clear()
        _CALLS.clear()  # the end of a recalculation (see _CALLS)
        return None, found

    def __getattr__(self, name):  # only when atlas_xl could not be imported: every function says why
        if name.startswith("ATLAS_"):
            return _method(name).__get__(self)
        raise AttributeError(name)

    def getServiceName(self):
        return SERVICE

    def getImplementationName(self):
        return SERVICE

    def supportsService(self, name):
        return name in self.getSupportedServiceNames()

    def getSupportedServiceNames(self):
        return (SERVICE, "com.sun.star.sheet.AddIn")


for _name in [n for n in vars(_functions) if n.startswith("ATLAS_")] if _functions is not None else ():
    setattr(AtlasFunctions, _name, _method(_name))

g_ImplementationHelper = unohelper.ImplementationHelper()
g_ImplementationHelper.addImplementation(AtlasFunctions, SERVICE, (SERVICE, "com.sun.star.sheet.AddIn"))
