"""``atlas-xl doctor``: is this Python ready to serve the template's ATLAS_* functions to Excel?

Each check is one line — ok, or the problem and the one thing to do. What it can see is the
Python side only; what it cannot (macro security, the Import functions step) it says in words.
"""
from __future__ import annotations

import importlib
import importlib.util
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

EXCEL_TYPELIB = "{00020813-0000-0000-C000-000000000046}"  # Microsoft Excel Object Library


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self):
        mark = "ok  " if self.ok else "FAIL"
        return f"[{mark}] {self.name}: {self.detail}" + ("" if self.ok or not self.fix else f" — {self.fix}")


def check_python(version=None, executable=None):
    version = version or sys.version_info
    executable = executable or sys.executable
    bits = struct.calcsize("P") * 8
    if tuple(version[:2]) < (3, 10):
        return Check("python", False, f"{version[0]}.{version[1]} at {executable}",
                     "atlas_xl needs Python 3.10 or newer")
    return Check("python", True, f"{version[0]}.{version[1]} ({bits}-bit) at {executable}; on Windows Excel "
                                 f"runs the python.exe on PATH unless xlwings.conf sets Interpreter_Win to this path")


def check_xlwings(installed=None, pinned=None):
    from workbook import template
    pinned = pinned or template.XLWINGS_VERSION
    if installed is None:
        try:
            import xlwings
            installed = xlwings.__version__
        except ImportError:
            return Check("xlwings", False, "not installed", f"pip install xlwings=={pinned}")
    if installed != pinned:
        return Check("xlwings", False, f"{installed} installed; the template's macros need {pinned}",
                     f"pip install xlwings=={pinned}")
    return Check("xlwings", True, f"{installed}, the version the template's macros load")


def check_dll(platform=None, prefix=None, executable=None, pinned=None):
    """Windows: the DLL the VBA loads sits beside python.exe or one folder up (xlwings' XLPyLoadDLL)."""
    from workbook import template
    platform = platform or sys.platform
    if not platform.startswith("win"):
        return Check("xlwings DLL", True, "not needed here (Windows only)")
    pinned = pinned or template.XLWINGS_VERSION
    bits = struct.calcsize("P") * 8
    name = f"xlwings{bits}-{pinned}.dll"
    folders = {Path(executable or sys.executable).parent, Path(prefix or sys.prefix),
               Path(executable or sys.executable).parent.parent}
    if any((folder / name).exists() for folder in folders):
        return Check("xlwings DLL", True, name)
    return Check("xlwings DLL", False, f"{name} not found beside {executable or sys.executable}",
                 f"pip install --force-reinstall xlwings=={pinned}")


def check_excel_cache(platform=None, gencache=None):
    """Windows: pywin32's generated Excel module, without which xlwings cannot hand a function its
    calling range (xlwings issue #1404: 'AttributeError: Range.CLSID' in every table function)."""
    platform = platform or sys.platform
    if not platform.startswith("win"):
        return Check("pywin32 Excel cache", True, "not needed here (Windows only)")
    fix = ('python -c "from win32com.client import gencache; gencache.EnsureModule('
           f"'{EXCEL_TYPELIB}', 0, 1, 2)\"")
    try:
        gencache = gencache or importlib.import_module("win32com.client.gencache")
    except ImportError:
        return Check("pywin32 Excel cache", False, "pywin32 is not installed", "pip install pywin32")
    try:
        module = gencache.EnsureModule(EXCEL_TYPELIB, 0, 1, 2)
    except Exception as error:  # noqa: BLE001 — any failure is reported as the problem it is
        return Check("pywin32 Excel cache", False, f"cannot build it ({type(error).__name__}: {error})", fix)
    if module is None:
        return Check("pywin32 Excel cache", False, "Excel's type library was not found (is Excel installed?)", fix)
    return Check("pywin32 Excel cache", True, "present (table functions can read their calling range)")


def check_module(name="udfs.functions"):
    """The UDF module named on the template's xlwings.conf sheet imports and has the functions."""
    try:
        module = importlib.import_module(name)
    except Exception as error:  # noqa: BLE001
        return Check("UDF module", False, f"import {name} failed ({type(error).__name__}: {error})",
                     "pip install -e . in the atlas_xl folder (or pip install atlas-xl)")
    count = sum(1 for n in vars(module) if n.startswith("ATLAS_"))
    if not count:
        return Check("UDF module", False, f"{name} has no ATLAS_* functions", "reinstall atlas_xl")
    return Check("UDF module", True, f"{name}: {count} ATLAS_* functions")


def check_button_module(name="atlas_xl_template"):
    if importlib.util.find_spec(name) is None:
        return Check("Optimize button", False, f"module {name} not importable", "pip install -e . in the atlas_xl folder")
    return Check("Optimize button", True, f"module {name} importable")


def check_catalog(path=None):
    from atlas_xl import load_catalog
    from atlas_xl.errors import AtlasError
    try:
        catalog = load_catalog(path)
    except (AtlasError, OSError) as error:
        return Check("catalog", False, str(error).splitlines()[0], "fix the catalog file it names")
    return Check("catalog", True, f"loads ({sum(len(t) for t in catalog.tables.values())} rows, "
                                  f"fingerprint {catalog.fingerprint})")


def run(catalog=None):
    """Every check, in the order a user fixes them."""
    return [check_python(), check_xlwings(), check_dll(), check_excel_cache(), check_module(),
            check_button_module(), check_catalog(catalog)]


AFTER = """In Excel (what this command cannot check):
  1. A downloaded or e-mailed copy has its macros blocked: right-click the file > Properties >
     tick Unblock > OK (or keep it in a Trusted Location: File > Options > Trust Center).
  2. File > Options > Trust Center > Macro Settings: tick 'Trust access to the VBA project
     object model' (needed once, for Import functions).
  3. Open atlas_xl_template.xlsm, enable macros, click 'Import functions' on the Start sheet,
     then SAVE the file. Cells showing #NAME? mean the functions are not imported in this
     file: click 'Import functions' again and save."""
