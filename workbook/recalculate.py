"""Recalculate a workbook on LibreOffice: apply what-if overrides, recalculate every formula —
ordinary and ATLAS_* — and write the results back as cached values so any viewer shows numbers.

LibreOffice runs headless with a private profile in which the ATLAS_* Calc add-in (`calc_addin`)
is installed; `workbook/lo_driver.py`, run by LibreOffice's own Python, drives it over UNO and
answers with the value of every formula cell and every error. The output is the *original*
package with those values cached beside the formulas: only the ``<v>`` values of worksheet XML
change, every other part (VBA, tables, names, validations, charts) is copied byte for byte.
``values_only`` writes a macro-free .xlsx instead (no VBA, no buttons, values instead of formulas,
charts kept). Output goes to a temporary file renamed into place; the input is never modified
unless ``in_place`` is asked for.

Honest accounting: every formula that evaluates to an error — an Excel error value or an
ATLAS_* error text — is listed with its cell, the message and the overridden inputs it depends
on; errors an override introduced are marked new. Cells LibreOffice cannot evaluate at all (a
function it does not have) are `problems`, never a stale value.

One LibreOffice per call by default; ``with Recalculator() as r:`` keeps one warm for many
workbooks. Each workbook has a time limit; past it LibreOffice is stopped and a one-line error
raised.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import html
import json
import math
import os
import posixpath
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils import get_column_letter, range_boundaries
from xml.sax.saxutils import escape as xml_escape

import calc_addin
from atlas_xl import values
from atlas_xl.errors import AtlasError, InputError
from atlas_xl.files import atomic_output
from calc_addin import package as addin_package
from calc_addin import spec as addin_spec
from workbook.safety import check_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)
DRIVER = Path(__file__).resolve().with_name("lo_driver.py")
DEFAULT_TIMEOUT_S = 120.0
INSTALL_HINT = "apt-get install libreoffice-calc-nogui python3-uno"


class OfficeError(AtlasError):
    """LibreOffice is missing, did not start, or exceeded the time limit."""


@dataclass(frozen=True)
class CellError:
    """An Excel error value in a cell (#N/A, #DIV/0!, ...)."""

    code: str

    def __str__(self):
        return self.code


@dataclass(frozen=True)
class FormulaError:
    """A formula cell whose result is an error: 'Sheet!A1', the message, whether an override
    produced it (it was not an error before), and which override: ``inputs`` names the one after
    which the error first appeared (overrides are applied and recalculated one at a time)."""

    address: str
    message: str
    inputs: tuple = ()
    new: bool = False
    formula: str = ""

    def __str__(self):
        traced = f" (appeared with the override of {', '.join(self.inputs)})" if self.inputs else ""
        return f"{self.address}: {self.message}{traced}"


@dataclass
class RecalcResult:
    """What a recalculation computed: ``values`` of every formula cell by 'Sheet!A1', ``errors``
    (every formula cell whose result is an error), ``problems`` (cells LibreOffice could not
    evaluate at all, with the reason), the overrides applied and the file written."""

    values: dict
    problems: dict
    errors: list = field(default_factory=list)
    path: Path | None = None
    overrides: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)

    def __getitem__(self, address):
        return self.values[address]

    @property
    def new_errors(self):
        return [e for e in self.errors if e.new]


def address(sheet, row, col):
    return f"{sheet}!{get_column_letter(col)}{row}"


def parse_override(text):
    """'Inputs!C6=2e9' or 'TokensPerDay=2e9' → (target, value); the target is resolved by LibreOffice."""
    target, sep, raw = str(text).partition("=")
    if not sep or not target.strip():
        raise InputError(f"override '{text}' needs the form Sheet!A1=value or Name=value")
    return target.strip(), _parse_value(raw.strip(), f"override '{target.strip()}'")


def _parse_value(raw, what="value"):
    """The project's one value parser (atlas_xl.values); a date becomes Excel's serial day number."""
    value = values.parse_value(raw, what)
    if isinstance(value, dt.date):
        return float((value - dt.date(1899, 12, 30)).days)
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


# -- LibreOffice ------------------------------------------------------------------------------------
def find_office():
    """(soffice, LibreOffice's Python): $ATLAS_XL_SOFFICE / $ATLAS_XL_LO_PYTHON or the usual places."""
    soffice = os.environ.get("ATLAS_XL_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise OfficeError(f"recalculation needs LibreOffice, which is not installed — {INSTALL_HINT}")
    program = Path(os.path.realpath(soffice)).parent
    candidates = [os.environ.get("ATLAS_XL_LO_PYTHON"), str(program / "python"), "/usr/bin/python3"]
    for python in filter(None, candidates):
        if os.access(python, os.X_OK) and _has_uno(python):
            return soffice, python
    raise OfficeError(f"LibreOffice's Python cannot import uno — {INSTALL_HINT} (or set ATLAS_XL_LO_PYTHON)")


_UNO_CHECKED = {}


def _has_uno(python):
    if python not in _UNO_CHECKED:
        done = subprocess.run([python, "-c", "import uno"], capture_output=True, timeout=60)
        _UNO_CHECKED[python] = done.returncode == 0
    return _UNO_CHECKED[python]


def _cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "atlas_xl" / "libreoffice"


def _prepared_profile(soffice, python, sites, timeout):
    """A LibreOffice profile with this build of the add-in installed, made once and cached
    (keyed by the add-in's content and the site folders); callers copy it."""
    oxt_key = hashlib.sha256()
    oxt_key.update((addin_package.HERE / "component.py").read_bytes() + addin_package.RDB.read_bytes())
    oxt_key.update(addin_spec.idl().encode() + "\n".join(sites).encode() + soffice.encode())
    folder = _cache_dir() / oxt_key.hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / "profile"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (profile / "atlas_xl_oxt.stamp").exists():
            shutil.rmtree(profile, ignore_errors=True)
            oxt = calc_addin.build_oxt(folder / "atlas_xl.oxt", sites)
            driver = _Driver(soffice, python, profile, oxt, sites, timeout)
            driver.close()
    return folder


def _office_environment():
    """This process's environment without what would make LibreOffice's embedded Python start as
    another Python: an activated virtual environment puts its python3 first on PATH, and the
    embedded interpreter, looking for itself there, would read that venv's pyvenv.cfg and load
    another Python's standard library (seen as bad_alloc or "can't import __main__")."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "CONDA_PREFIX")}
    folders = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(f for f in folders if f and not os.path.exists(os.path.join(os.path.dirname(f), "pyvenv.cfg")))
    return env


class _Driver:
    """lo_driver.py in its own process group (with the soffice it starts)."""

    def __init__(self, soffice, python, profile, oxt, sites, timeout):
        env = dict(_office_environment(), **{addin_package.SITE_VARIABLE: os.pathsep.join(sites),
                                             "SAL_USE_VCLPLUGIN": "svp"})
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(variable, "1")  # numpy inside LibreOffice computes cell by cell: no thread pools
        log = os.environ.get("ATLAS_XL_LO_LOG")  # a file for the driver's diagnostics, when debugging
        if log:  # and LibreOffice's Python calls and exceptions beside it
            env.update(PYUNO_LOGLEVEL="CALL", PYUNO_LOGTARGET=f"file://{os.path.abspath(log)}.pyuno")
        with open(log or os.devnull, "ab") as errors:
            self.process = subprocess.Popen([python, str(DRIVER), soffice, str(profile), str(oxt), str(addin_package.RDB)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                            env=env, start_new_session=True)
        self.soffice_pid = None
        self._buffer = b""
        try:
            ready = self._reply(time.monotonic() + max(timeout, 60.0), "starting LibreOffice")
        except BaseException:
            self.kill()
            raise
        if "error" in ready:
            self.kill()
            raise OfficeError(f"LibreOffice did not start: {ready['error']}")
        self.soffice_pid = ready.get("soffice_pid")
        self.startup_s = ready.get("startup_s")
        if ready.get("addin") and "atlas_xl is not available" in ready["addin"]:
            self.kill()
            raise OfficeError(ready["addin"])

    def request(self, message, timeout, what):
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise OfficeError(f"LibreOffice stopped unexpectedly while {what}") from None
        return self._reply(time.monotonic() + timeout, what, timeout)

    def _reply(self, deadline, what, timeout=None):
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.kill()
                    limit = f" (limit {timeout:g} s)" if timeout else ""
                    raise OfficeError(f"LibreOffice took too long {what}{limit} — stopped it; "
                                      "raise the limit with --timeout if the workbook is that large")
                chunk = os.read(self.process.stdout.fileno(), 1 << 20)
                if not chunk:
                    self.kill()
                    raise OfficeError(f"LibreOffice stopped unexpectedly while {what}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def alive(self):
        return self.process.poll() is None

    def close(self):
        if self.alive():
            try:
                self.process.stdin.write(b'{"op": "quit"}\n')
                self.process.stdin.flush()
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def kill(self):
        for group in (self.process.pid, self.soffice_pid):
            if group:
                try:
                    os.killpg(group, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


class Recalculator:
    """A LibreOffice kept warm for many recalculations::

        with workbook.Recalculator(timeout=60) as engine:
            for path in paths:
                engine.recalc(path, {"TokensPerDay": 5e9}, in_place=True)

    ``timeout`` [s] bounds each workbook (load, recalculation, read-back); past it LibreOffice
    is stopped, OfficeError raised, and the next call starts a fresh one.
    """

    def __init__(self, timeout=DEFAULT_TIMEOUT_S):
        self.timeout = float(timeout)
        self._driver = None
        self._temp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        if self._driver is not None and self._driver.alive():
            return self
        soffice, python = find_office()
        sites = calc_addin.site_dirs()
        prepared = _prepared_profile(soffice, python, sites, self.timeout)
        for attempt in (1, 2, 3):  # LibreOffice's Python sometimes fails to come up on a busy machine
            self.close()
            self._temp = tempfile.mkdtemp(prefix="atlas_xl_lo_")
            profile = Path(self._temp) / "profile"
            shutil.copytree(prepared / "profile", profile, symlinks=True)
            try:
                self._driver = _Driver(soffice, python, profile, prepared / "atlas_xl.oxt", sites, self.timeout)
                return self
            except OfficeError as error:
                if attempt == 3 or "atlas_xl is not available" in str(error):
                    raise
                time.sleep(attempt)
        return self

    def close(self):
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        if self._temp:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    def scenarios(self, path, scenarios, read):
        """What-if without writing files: load ``path`` once; for each scenario (a dict or a list
        of 'Name=value' overrides) apply it, read the cells ``read`` ('Sheet!A1' or names) and
        restore the inputs. Returns one {address: value} per scenario, plus ``seconds`` per
        scenario (applying, recalculating the dependents, reading)."""
        source = Path(path)
        check_workbook(source)
        pairs_per_scenario = [[(str(k).strip(), v) for k, v in s.items()] if isinstance(s, dict)
                              else [parse_override(t) for t in s] for s in scenarios]
        self.start()
        with tempfile.TemporaryDirectory(prefix="atlas_xl_in_") as folder:
            copy = Path(folder) / f"book{source.suffix.lower()}"
            _copy_for_office(source, copy)
            reply = self._driver.request({"op": "scenarios", "path": str(copy), "name": source.name,
                                          "scenarios": pairs_per_scenario, "read": list(read)},
                                         self.timeout * max(1, len(scenarios)), f"what-if on '{source.name}'")
        if "error" in reply:
            raise (InputError if reply.get("input") else OfficeError)(reply["error"])
        out = []
        for scenario in reply["scenarios"]:
            values = {a: CellError(v["error"]) if isinstance(v, dict) else v for a, v in zip(read, scenario["values"])}
            out.append({**values, "seconds": scenario["seconds"]})
        return out

    def render_pdf(self, path, output):
        """See `render_pdf`."""
        source = Path(path)
        check_workbook(source)
        self.start()
        with tempfile.TemporaryDirectory(prefix="atlas_xl_in_") as folder:
            copy = Path(folder) / f"book{source.suffix.lower()}"
            _copy_for_office(source, copy)
            reply = self._driver.request({"op": "pdf", "path": str(copy), "name": source.name,
                                          "output": str(Path(output).resolve())},
                                         self.timeout, f"printing '{source.name}' to PDF")
        if "error" in reply:
            raise OfficeError(reply["error"])
        return Path(output)

    def recalc(self, path, overrides=None, output=None, *, values_only=False, in_place=False, overwrite=False):
        """Recalculate the workbook at ``path`` with what-if ``overrides`` (['Inputs!C6=2e9', ...]
        or {'Inputs!C6': 2e9, 'TokensPerDay': 5e9}); write it to ``output`` (or over ``path`` with
        ``in_place``) when asked. Returns a RecalcResult."""
        source = Path(path)
        check_workbook(source)
        target = None
        if output is not None or in_place:
            target = source if in_place else Path(output)
            _check_target(source, target, values_only, in_place, overwrite)
        if isinstance(overrides, dict):
            pairs = [(str(k).strip(), v) for k, v in overrides.items()]  # values as given, not parsed
        else:
            pairs = [parse_override(text) for text in overrides or ()]
        self.start()
        with tempfile.TemporaryDirectory(prefix="atlas_xl_in_") as folder:
            copy = Path(folder) / f"book{source.suffix.lower()}"
            _copy_for_office(source, copy)
            reply = self._driver.request({"op": "recalc", "path": str(copy), "name": source.name,
                                          "overrides": pairs, "baseline": True,
                                          "tables": list(TABLE_FUNCTIONS)},
                                         self.timeout, f"recalculating '{source.name}'")
        if "error" in reply:
            if reply.get("input"):
                raise InputError(reply["error"])
            raise OfficeError(reply["error"])
        result = _result(source, reply, pairs)
        if target is not None:
            changes = {tuple(cell): value for cell, (_, value) in zip(reply["cells"], pairs)}
            computed = {_split(a): v for a, v in result.values.items()}
            result.path = write_cached_values(source, target, computed, changes, values_only=values_only,
                                              overwrite=in_place or overwrite)
        return result


def render_pdf(path, output, *, engine=None, timeout=DEFAULT_TIMEOUT_S):
    """Recalculate the workbook with the add-in and print every sheet to the PDF ``output``
    (replaced if it exists): the workbook as a LibreOffice user with the add-in sees it."""
    own = engine is None
    engine = engine or Recalculator(timeout)
    try:
        return engine.render_pdf(path, output)
    finally:
        if own:
            engine.close()


def recalc(path, overrides=None, output=None, *, values_only=False, in_place=False, overwrite=False,
           timeout=DEFAULT_TIMEOUT_S):
    """Recalculate one workbook on a LibreOffice started for this call (see `Recalculator`)."""
    with Recalculator(timeout) as engine:
        return engine.recalc(path, overrides, output, values_only=values_only, in_place=in_place,
                             overwrite=overwrite)


def _check_target(source, target, values_only, in_place, overwrite):
    if target.exists() and not (in_place or overwrite):
        raise InputError(f"'{target}' already exists — choose another name, or pass --force to replace it")
    if values_only:
        if in_place:
            raise InputError("--values-only writes a new file — give -o OUT.xlsx instead of --in-place")
        if target.suffix.lower() != ".xlsx":
            raise InputError(f"a values-only workbook has no macros: write it as .xlsx ('{target.name}' is not)")
    elif target.suffix.lower() != source.suffix.lower():
        raise InputError(f"write the result as {source.suffix} like the input ('{target.name}' has another type)")


SHEET_CELL = re.compile(r"^(.*)!([A-Z]+)([0-9]+)$")


def _split(text):
    sheet, letters, row = SHEET_CELL.match(text).groups()
    return sheet, int(row), _column_number(letters)


# -- what LibreOffice reads: the ATLAS_* calls bound to the add-in ---------------------------------------
FORMULA_ELEMENT = re.compile(rb"(<(?:\w+:)?f\b[^>/]*>)(.*?)(</(?:\w+:)?f>)", re.S)
DEFINED_NAME = re.compile(rb"<(?:\w+:)?definedName\b([^>]*)>(.*?)</(?:\w+:)?definedName>", re.S)
ONE_CELL = re.compile(r"^((?:'[^']+'|[^!:]+)!)?(\$?[A-Za-z]{1,3}\$?[0-9]+)$")


def _single_cell_names(workbook_xml):
    """Global defined names that refer to one cell → that cell's reference."""
    found = {}
    for attributes, text in DEFINED_NAME.findall(workbook_xml):
        if b"localSheetId" in attributes:
            continue
        name = re.search(rb'name="([^"]+)"', attributes)
        target = html.unescape(text.decode("utf-8")).strip()
        if name and ONE_CELL.match(target) and ONE_CELL.match(target).group(1):
            found[name.group(1).decode("utf-8").upper()] = target
    return found


def _bind_atlas(formula, names, shape=None, prefix=f"{addin_spec.SERVICE.upper()}."):
    """Rewrite one formula for LibreOffice:

    * ``ATLAS_COST(`` → ``ORG.ATLASXL.ATLASFUNCTIONS.ATLAS_COST(``: LibreOffice 7.4 binds an
      add-in's programmatic name on .xlsx import, not yet its compatibility name;
    * an argument that is one cell (``B7``, ``Inputs!$C$6``, a name of one cell) becomes a
      one-cell range (``B7:B7``): Calc hands an add-in an empty single cell as 0 but an empty
      cell of a range as empty — and a blank optional input means "default", as in Excel;
    * in an array formula of ``shape`` (rows, columns), a table function gets that size as its
      last argument: Calc tells an add-in nothing about the calling range, and xlwings pads a
      table to it (blank cells, not #N/A, below and beside the table).

    A small scanner, not a full tokenizer: string literals, quoted sheet names and array
    constants are skipped; everything else is copied unchanged.
    """
    if "atlas_" not in formula.lower():
        return formula
    out = []
    stack = []  # per open parenthesis: is it an ATLAS_* call?
    given = []  # per open parenthesis: arguments seen so far (for table calls)
    tables = []  # per open parenthesis: the table function's name, if it is one
    starts = []  # per open parenthesis: where an ATLAS_* call starts in ``out``
    argument_start = None  # index in ``out`` where the current ATLAS_* argument starts
    i, n = 0, len(formula)
    while i < n:
        ch = formula[i]
        if ch == '"' or ch == "'":  # a string literal or a quoted sheet name: copy as is
            j = i + 1
            while j < n and not (formula[j] == ch and (j + 1 >= n or formula[j + 1] != ch)):
                j += 2 if formula[j] == ch else 1
            out.append(formula[i:j + 1])
            i = j + 1
            continue
        if ch == "{":  # an array constant
            j = formula.find("}", i)
            j = n - 1 if j < 0 else j
            out.append(formula[i:j + 1])
            i = j + 1
            continue
        match = _WORD.match(formula, i)
        if match:
            word = match.group(0)
            end = match.end()
            if end < n and formula[end] == "(":
                bare = word[5:] if word.lower().startswith("_xll.") else word
                atlas = bare.upper() in ATLAS_NAMES
                starts.append(len(out))
                out.append(prefix + bare.upper() + "(" if atlas else word + "(")
                stack.append(atlas)
                given.append(0)
                tables.append(bare.upper() if atlas and bare.upper() in TABLE_ARGUMENTS else None)
                argument_start = len(out) if atlas else None
                i = end + 1
                continue
            out.append(word)
            i = end
            continue
        if ch == "(":
            stack.append(False)
            given.append(0)
            tables.append(None)
            starts.append(None)
            argument_start = None
        elif ch in ",)" and stack:
            if stack[-1] and argument_start is not None:
                out[argument_start:] = [_one_cell_range("".join(out[argument_start:]), names)]
            given[-1] += 1
            if ch == ")":
                if tables[-1] and shape:
                    empty = out[-1].endswith("(") if out else False
                    count = 0 if empty else given[-1]
                    out.append("," * (TABLE_ARGUMENTS[tables[-1]] - count + (0 if empty else 1)) +
                               f"{{{shape[0]},{shape[1]}}}")
                out.append(")")
                if stack[-1]:  # re-intern text results (see _REINTERN)
                    call = "".join(out[starts[-1]:])
                    out[starts[-1]:] = [_REINTERN[bool(shape)].format(call=call)]
                stack.pop()
                given.pop()
                tables.pop()
                starts.pop()
                argument_start = None
                i += 1
                continue
        out.append(ch)
        i += 1
        if ch == "," and stack and stack[-1]:
            argument_start = len(out)
    return "".join(out)


_WORD = re.compile(r"(?:'[^']*'|[A-Za-z_\\][\w.]*)!\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?"
                   r"|[A-Za-z_\\][\w.]*(?:!\$?[A-Za-z]{1,3}\$?[0-9]+)?|\$?[A-Za-z]{1,3}\$[0-9]+")


_REINTERN = {False: "INDEX({call},1,1)", True: 'IF(ISTEXT({call}),{call}&"",{call})'}
"""LibreOffice 7.4 does not intern the text an add-in returns in a matrix, so `=A1="medium"`
is FALSE although A1 shows medium; INDEX (one cell) or concatenation (an array) gives the text
back as Calc's own."""


def _one_cell_range(argument, names):
    """``B7`` → ``B7:B7``, a one-cell name → its cell as a range; anything else unchanged."""
    text = argument.strip()
    cell = names.get(text.upper(), text)
    match = ONE_CELL.match(cell)
    if not match:
        return argument
    return argument.replace(text, f"{cell}:{match.group(2)}")


def _copy_for_office(source, copy):
    """The workbook LibreOffice loads: the original with ATLAS_* calls bound to the add-in
    (`_bind_atlas`); every other part unchanged."""
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        names = _single_cell_names(archive.read("xl/workbook.xml"))

        def rewrite(match):
            text = html.unescape(match.group(2).decode("utf-8"))
            opening = match.group(1).decode("utf-8")
            area = re.search(r'\bref="([^"]+)"', opening) if 't="array"' in opening else None
            shape = None
            if area:
                c1, r1, c2, r2 = range_boundaries(area.group(1).replace("$", ""))
                shape = (r2 - r1 + 1, c2 - c1 + 1)
            bound = _bind_atlas(text, names, shape)
            if bound == text:
                return match.group(0)
            return match.group(1) + xml_escape(bound).encode("utf-8") + match.group(3)

        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml") and b"ATLAS_" in data.upper():
                data = FORMULA_ELEMENT.sub(rewrite, data)
            out.writestr(info, data)


def strip_cached_values(source, target):
    """Copy a workbook without the cached values of its formula cells (fidelity tests: nothing
    Excel computed can be passed off as LibreOffice's result)."""
    ns = f"{{{MAIN}}}"
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        parts = set(_sheet_parts(archive).values())
        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename in parts:
                root = etree.fromstring(data, PARSER)
                for cell in root.iter(ns + "c"):
                    if cell.find(ns + "f") is not None:
                        for v in cell.findall(ns + "v"):
                            cell.remove(v)
                        cell.attrib.pop("t", None)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            out.writestr(info, data)
    return Path(target)


# -- what comes back ----------------------------------------------------------------------------------
TABLE_FUNCTIONS = tuple(f.name for f in addin_spec.all_functions() if f.table)
ATLAS_NAMES = frozenset(f.name for f in addin_spec.all_functions())
TABLE_ARGUMENTS = {f.name: len(f.arguments) - 1 for f in addin_spec.all_functions() if f.table}
"""Table functions → how many arguments come before ``caller``."""


def _result(source, reply, pairs):
    values = {}
    for where, value in reply["values"].items():
        values[where] = CellError(value["error"]) if isinstance(value, dict) else value
    before = {tuple(e) for e in reply.get("baseline") or ()}
    introduced = reply.get("introduced", {})
    errors, problems = [], {}
    for sheet, row, col, code, message, formula, not_computed in reply["errors"]:
        where = address(sheet, row, col)
        if not_computed:
            problems[where] = f"LibreOffice cannot evaluate {_short(formula)}: {message}"
        new = bool(pairs) and reply.get("baseline") is not None and (sheet, row, col) not in before
        inputs = (pairs[introduced[where]][0],) if new and where in introduced else ()
        errors.append(FormulaError(where, message, inputs, new, formula))
    overrides = {address(*cell): value for cell, (_, value) in zip(reply["cells"], pairs)}
    return RecalcResult(values, problems, errors, overrides=overrides, timing=reply.get("timing", {}))


def _short(formula, limit=80):
    return formula if len(formula) <= limit else formula[:limit - 1] + "…"


def _plain(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return CellError("#NUM!")
    return value


# -- formulas + cached values (XML) ---------------------------------------------------------------------
def _sheet_parts(archive):
    """Sheet title → worksheet part path inside the archive."""
    workbook = etree.fromstring(archive.read("xl/workbook.xml"), PARSER)
    rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), PARSER)
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PKG_REL}}}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{{{MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{REL}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        parts[sheet.get("name")] = path
    return parts


CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _column_number(letters):
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _set_cell(cell, value, formula_cell):
    """Give a <c> element its value: cached result for formulas, new input otherwise."""
    ns = f"{{{MAIN}}}"
    for child in list(cell):
        if child.tag in (ns + "v", ns + "is") or (not formula_cell and child.tag == ns + "f"):
            cell.remove(child)
    for attribute in ("t",):
        cell.attrib.pop(attribute, None)
    value = _plain(value)
    if value is None:
        if formula_cell:
            cell.set("t", "str")
            etree.SubElement(cell, ns + "v").text = ""
        return
    if isinstance(value, CellError):
        cell.set("t", "e")
        text = value.code
    elif isinstance(value, bool):
        cell.set("t", "b")
        text = "1" if value else "0"
    elif isinstance(value, (int, float)):
        text = repr(float(value))
    else:
        if not formula_cell:
            cell.set("t", "inlineStr")
            inline = etree.SubElement(cell, ns + "is")
            etree.SubElement(inline, ns + "t").text = str(value)
            return
        cell.set("t", "str")
        text = str(value)
    etree.SubElement(cell, ns + "v").text = text


def _apply(root, values, formulas):
    """Write ``values`` {(row, col): value} into a worksheet tree, creating rows and cells in order."""
    ns = f"{{{MAIN}}}"
    data = root.find(ns + "sheetData")
    rows = {int(r.get("r")): r for r in data.findall(ns + "row")}
    cells = {}  # (row, col) → <c>, indexed once: a sheet of 40,000 cells is one pass, not 40,000 searches
    for number, row_el in rows.items():
        for existing in row_el.findall(ns + "c"):
            match = CELL_REF.match(existing.get("r", ""))
            if match:
                cells[(number, _column_number(match.group(1)))] = existing
    for (row, col), value in sorted(values.items()):
        cell = cells.get((row, col))
        if cell is None:
            row_el = rows.get(row)
            if row_el is None:
                row_el = etree.Element(ns + "row", r=str(row))
                following = [r for r in rows if r > row]
                if following:
                    rows[min(following)].addprevious(row_el)
                else:
                    data.append(row_el)
                rows[row] = row_el
            cell = etree.Element(ns + "c", r=f"{get_column_letter(col)}{row}")
            before = next((c for c in row_el.findall(ns + "c") if CELL_REF.match(c.get("r", "")) and
                           _column_number(CELL_REF.match(c.get("r")).group(1)) > col), None)
            if before is not None:
                before.addprevious(cell)
            else:
                row_el.append(cell)
            cells[(row, col)] = cell
        _set_cell(cell, value, (row, col) in formulas)


def write_cached_values(source, target, computed, changes, *, values_only=False, overwrite=True):
    """Copy ``source`` to ``target`` with computed values cached beside their formulas and
    ``changes`` written into their input cells; every other part is copied unchanged.
    ``values_only``: a macro-free workbook instead — formulas replaced by their values, no VBA
    project, no buttons, no calculation chain; charts, styles, names and validations kept."""
    by_sheet = {}
    for (sheet, row, col), value in computed.items():
        by_sheet.setdefault(sheet, {})[(row, col)] = value
    for (sheet, row, col), value in changes.items():
        by_sheet.setdefault(sheet, {})[(row, col)] = value
    target = Path(target)
    with atomic_output(target, overwrite=overwrite) as temp, \
            zipfile.ZipFile(source) as archive, zipfile.ZipFile(temp, "w") as out:
        parts = _sheet_parts(archive)
        rewritten = {}
        for sheet, cells in by_sheet.items():
            part = parts[sheet]
            root = etree.fromstring(archive.read(part), PARSER)
            formulas = {(r, c) for (r, c) in cells if (sheet, r, c) in computed}
            _apply(root, cells, formulas)
            rewritten[part] = root
        if values_only:
            for part in parts.values():
                if part not in rewritten and part in archive.namelist():
                    rewritten[part] = etree.fromstring(archive.read(part), PARSER)
            dropped = _values_only(archive, rewritten)
        else:
            dropped = {}
        for info in archive.infolist():
            if info.filename in dropped:
                continue
            data = rewritten.get(info.filename)
            if data is None:
                data = archive.read(info.filename)
            elif not isinstance(data, bytes):
                data = etree.tostring(data, xml_declaration=True, encoding="UTF-8", standalone=True)
            out.writestr(info, data, compress_type=info.compress_type)
    return target


# -- values only ----------------------------------------------------------------------------------------
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
MACRO_FREE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_PARTS = re.compile(r"^xl/(vbaProject\.bin|vbaProjectSignature\w*\.bin|calcChain\.xml|ctrlProps/.*|activeX/.*)$")


def _rels_name(part):
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _values_only(archive, rewritten):
    """Edit ``rewritten`` (part → XML tree or bytes) into a macro-free workbook; returns the parts to drop."""
    ns = f"{{{MAIN}}}"
    names = set(archive.namelist())
    dropped = {n for n in names if MACRO_PARTS.match(n)}
    dropped |= {_rels_name(n) for n in dropped if _rels_name(n) in names}
    for part, root in list(rewritten.items()):
        if not part.startswith("xl/worksheets/"):
            continue
        for cell in root.iter(ns + "c"):
            formula = cell.find(ns + "f")
            if formula is None:
                continue
            cell.remove(formula)
            if cell.get("t") == "str":  # a formula's text result becomes ordinary inline text
                value = cell.find(ns + "v")
                text = value.text if value is not None else ""
                if value is not None:
                    cell.remove(value)
                cell.set("t", "inlineStr")
                etree.SubElement(etree.SubElement(cell, ns + "is"), ns + "t").text = text or ""
        _drop_buttons(archive, part, root, rewritten, dropped)
        for element in [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "controls"]:
            holder = element.getparent()
            while holder is not root and etree.QName(holder).localname in ("Choice", "Fallback", "AlternateContent"):
                element, holder = holder, holder.getparent()
            holder.remove(element)
    for rels in [n for n in names if n.endswith(".rels") and n not in dropped]:
        root = rewritten.get(rels)
        root = root if root is not None and not isinstance(root, bytes) else etree.fromstring(archive.read(rels), PARSER)
        folder = posixpath.dirname(posixpath.dirname(rels))
        changed = False
        for rel in list(root):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            if rel.get("TargetMode") != "External" and path in dropped:
                root.remove(rel)
                changed = True
        if changed:
            rewritten[rels] = root
    types = etree.fromstring(archive.read("[Content_Types].xml"), PARSER)
    for entry in list(types):
        name = entry.get("PartName", "").lstrip("/")
        if name in dropped or entry.get("ContentType") == "application/vnd.ms-office.vbaProject":
            types.remove(entry)
        elif name == "xl/workbook.xml":
            entry.set("ContentType", MACRO_FREE)
    rewritten["[Content_Types].xml"] = types
    return dropped


def _drop_buttons(archive, part, root, rewritten, dropped):
    """Remove form-control buttons (legacy VML shapes bound to macros) from a sheet's drawings;
    a VML drawing left without shapes goes, with its reference."""
    rels_part = _rels_name(part)
    if rels_part not in archive.namelist():
        return
    rels = etree.fromstring(archive.read(rels_part), PARSER)
    folder = posixpath.dirname(part)
    for rel in rels:
        target = rel.get("Target", "")
        if not target.endswith(".vml"):
            continue
        vml_part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        if vml_part not in archive.namelist():
            continue
        vml = etree.fromstring(archive.read(vml_part), PARSER)
        shapes = [e for e in vml.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "shape"]
        buttons = [e for e in shapes if any(isinstance(d.tag, str) and etree.QName(d).localname == "ClientData"
                                            and d.get("ObjectType") == "Button" for d in e.iter())]
        if not buttons:
            continue
        if len(buttons) < len(shapes):
            for shape in buttons:
                shape.getparent().remove(shape)
            rewritten[vml_part] = vml
            continue
        dropped.add(vml_part)
        for element in list(root):
            if etree.QName(element).localname == "legacyDrawing" and element.get(f"{{{REL}}}id") == rel.get("Id"):
                root.remove(element)
