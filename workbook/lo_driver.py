"""The LibreOffice side of headless recalculation. Runs under LibreOffice's Python (the one with
``uno``: Debian's /usr/bin/python3 with python3-uno), started by `workbook.recalculate`; needs
nothing but the standard library and uno, so it works whatever Python atlas_xl runs in.

    python3 lo_driver.py SOFFICE PROFILE_DIR OXT RDB [PREPARED_PROFILE]

starts ``soffice --headless`` with the private profile PROFILE_DIR (a copy of PREPARED_PROFILE
when given, made here so that the copy is already this process's to remove; the ATLAS_* add-in
OXT is installed into it once), then answers requests, one JSON object per line on stdin → one per line
on stdout: ``{"id": n, "op": "recalc", "path": ..., "overrides": [[target, value], ...],
"baseline": bool, "tables": [names of the functions that return tables], "sheets": [the sheet
titles of the package, in order]}`` → ``{"id": n, ...}``: the values of every formula cell, the
error cells, the resolved override cells. Every reply carries its request's id, so a caller can
never take one workbook's reply for another's. The first lines written are ``{"soffice_pid": ...}``
(as soon as LibreOffice is started) and ``{"ready": ...}`` or ``{"error": ...}``.

This process never outlives its caller: a thread reads stdin, and when it ends (the caller
exited, was killed, or closed the pipe to stop a calculation) it kills LibreOffice's process
group, removes the private profile (a folder ``atlas_xl_lo_*``) and the copy of the workbook
being computed (``atlas_xl_in_*``), and exits at once — even while LibreOffice is inside a long
calculation. SIGTERM, SIGINT and SIGHUP do the same.
"""
import glob
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from urllib.parse import quote


def _types_with(rdb, soffice):
    """This process must know the add-in's UNO types too, or the bridge to LibreOffice breaks on
    the first object that implements them: LibreOffice's own type libraries plus RDB."""
    program = os.path.dirname(os.path.realpath(shutil.which(soffice) or soffice))
    url = "file://" + quote(program)
    return f"{url}/types.rdb <{url}/types>* file://{quote(os.path.abspath(rdb))}"


if __name__ == "__main__":
    os.environ["URE_MORE_TYPES"] = _types_with(sys.argv[4], sys.argv[1])

import uno  # noqa: E402 — after the type libraries are set
import unohelper  # noqa: E402
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.task import XInteractionApprove, XInteractionHandler
from com.sun.star.ucb import XCommandEnvironment, XProgressHandler

FORMULA = 16  # com.sun.star.sheet.CellFlags.FORMULA
ERROR_RESULT = 4  # com.sun.star.sheet.FormulaResult.ERROR
ERROR_CODES = {  # LibreOffice error → the Excel error value a workbook stores, and what it means
    501: ("#NAME?", "invalid character in the formula"), 502: ("#NUM!", "invalid argument"),
    503: ("#NUM!", "invalid numeric operation"), 504: ("#VALUE!", "error in the parameter list"),
    507: ("#VALUE!", "missing pair"), 508: ("#VALUE!", "error in bracketing"), 509: ("#VALUE!", "missing operator"),
    510: ("#VALUE!", "missing variable"), 511: ("#VALUE!", "missing variable"), 512: ("#VALUE!", "formula overflow"),
    513: ("#VALUE!", "string overflow"), 514: ("#VALUE!", "internal overflow"), 516: ("#VALUE!", "internal syntax error"),
    517: ("#VALUE!", "unknown code"), 518: ("#VALUE!", "internal variable missing"), 519: ("#VALUE!", "wrong data type"),
    520: ("#VALUE!", "internal syntax error"), 521: ("#NULL!", "empty intersection"),
    522: ("#VALUE!", "circular reference"), 523: ("#NUM!", "calculation does not converge"),
    524: ("#REF!", "invalid reference"), 525: ("#NAME?", "unknown name or function"),
    532: ("#DIV/0!", "division by zero"), 538: ("#VALUE!", "array too large"), 32767: ("#N/A", "value not available"),
}
NOT_COMPUTED = {501, 504, 508, 509, 510, 511, 512, 516, 517, 518, 520, 525}
"""Errors that mean LibreOffice could not evaluate the formula at all (unknown function, syntax)."""
SERVICE = "org.atlasxl.AtlasFunctions"
TRACE_LIMIT = 12
BOUNDING_CELLS = 20_000
"""A sheet's formula cells are read as one range when its bounding box is at most this many cells
(or four times the formula cells): one UNO call instead of one per block."""
"""Up to this many overrides, each is recalculated on its own to name the one an error came with."""
CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


LOGICAL_FUNCTIONS = re.compile(r"^=\s*(AND|OR|NOT|XOR|TRUE|FALSE|EXACT|IS[A-Z]*)\s*\(", re.I)


def is_logical(formula):
    """Whether a formula's result is TRUE/FALSE rather than a number (LibreOffice returns both as
    1/0): a logical function around the whole formula, or a comparison at its top level."""
    formula = "=" + formula.lstrip("{").lstrip("=").rstrip("}")
    if LOGICAL_FUNCTIONS.match(formula) and _closes_at_end(formula):
        return True
    depth, quoted = 0, False
    for i, ch in enumerate(formula[1:], 1):
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif depth == 0 and ch in "<>=":
            return True
    return False


def _closes_at_end(formula):
    depth, quoted = 0, False
    opened = False
    for i, ch in enumerate(formula):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
            opened = True
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0 and opened:
                return formula[i + 1:].strip() == ""
    return False


class RequestError(Exception):
    """A one-line problem with the request (bad override, unreadable file)."""


class Leftovers:
    """What must go when this process goes: LibreOffice's process group and the temporary
    folders of the caller (profile, workbook copy). `end` may run on any thread, once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ending = False
        self.soffice = None
        self.folders = set()
        self.pipe = None

    def folder(self, path, prefix):
        """A folder of the caller's to remove on an abnormal end (only its own temporaries)."""
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.basename(folder).startswith(prefix):
            self.folders.add(folder)
        return folder

    def end(self, status=1, orphans=True):
        """Kill LibreOffice, remove the folders, exit. ``orphans``: also look for the copies of a
        caller that died (a wait of up to 0.5 s to tell); not when the caller itself asked."""
        with self.lock:
            self.ending = True
            if self.soffice is not None:
                try:
                    os.killpg(self.soffice.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            for folder in list(self.folders) + (self._orphaned_copies() if orphans else []):
                shutil.rmtree(folder, ignore_errors=True)
            if self.pipe:  # the socket LibreOffice made for the UNO pipe (osl: /tmp/OSL_PIPE_<uid>_<name>)
                for path in glob.glob(os.path.join(PIPE_FOLDER, f"OSL_PIPE_*_{self.pipe}")):
                    try:
                        os.unlink(path)
                    except OSError:
                        pass
            os._exit(status)


    @staticmethod
    def _orphaned_copies(wait_s=0.5):
        """When the caller itself has died (this process is handed to another parent), every
        workbook copy it made (``atlas_xl_in_<its pid>_*``), sent to LibreOffice or not yet. A
        dying process closes its pipes before its children are handed on: wait a moment for that."""
        owner = os.environ.get("ATLAS_XL_OWNER", "").split(":")[0]
        if not owner.isdigit():
            return []
        end = time.monotonic() + wait_s
        while os.getppid() == int(owner):
            if time.monotonic() > end:
                return []  # the caller lives (it closed the pipe to stop a calculation): its copies are its own
            time.sleep(0.02)
        return glob.glob(os.path.join(tempfile.gettempdir(), f"atlas_xl_in_{owner}_*"))


LEFTOVERS = Leftovers()
PIPE_FOLDER = "/tmp"


def props(**values):
    return tuple(PropertyValue(Name=k, Value=v) for k, v in values.items())


def column_number(letters):
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def column_letters(number):
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Approve(unohelper.Base, XCommandEnvironment, XInteractionHandler, XProgressHandler):
    """What unopkg does for its user: approve installing the extension, show no progress."""

    def getInteractionHandler(self):
        return self

    def getProgressHandler(self):
        return self

    def handle(self, request):
        for continuation in request.getContinuations():
            if continuation.queryInterface(uno.getTypeByName("com.sun.star.task.XInteractionApprove")):
                continuation.select()
                return

    def push(self, status):
        pass

    def update(self, status):
        pass

    def pop(self):
        pass


def _office_environment(profile):
    """LibreOffice's temporary files (``lu*.tmp``) beside the private profile, so they go with
    it even when LibreOffice is killed."""
    temp = os.path.join(os.path.dirname(os.path.abspath(profile)), "tmp")
    os.makedirs(temp, exist_ok=True)
    return dict(os.environ, TMPDIR=temp, TMP=temp, TEMP=temp)


class Office:
    """One headless LibreOffice with the add-in installed in its private profile."""

    def __init__(self, soffice, profile, oxt):
        pipe = f"atlas_xl_{os.getpid()}_{int(time.time() * 1000)}"
        with LEFTOVERS.lock:  # no start once the end has begun (a signal during start-up)
            if LEFTOVERS.ending:
                raise SystemExit(1)
            self.process = subprocess.Popen(
                [soffice, f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}", "--headless", "--invisible",
                 "--nologo", "--norestore", "--nodefault", "--nolockcheck", "--nofirststartwizard",
                 f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sys.stderr,  # the caller's log or nowhere
                env=_office_environment(profile),
                start_new_session=True)  # its own process group: soffice starts soffice.bin, kill both
            LEFTOVERS.soffice = self.process
            LEFTOVERS.pipe = pipe
        write({"soffice_pid": self.process.pid})
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except NoConnectException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"LibreOffice ({soffice}) did not start") from None
                time.sleep(0.05)
        try:
            self.manager = self.context.ServiceManager
            self.desktop = self.manager.createInstanceWithContext("com.sun.star.frame.Desktop", self.context)
            self._install(profile, oxt)
            # LibreOffice's Python is first started by Calc itself (a formula on its main thread),
            # not from this connection: on a busy machine the latter sometimes failed.
            blank = self.desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, props(Hidden=True))
            try:
                probe = blank.Sheets.getByIndex(0).getCellByPosition(0, 0)
                probe.setFormula(f"={SERVICE.upper()}.ATLAS_VERSION()")
                blank.calculateAll()
                self.version = probe.getString()
            finally:
                blank.close(True)
            self.addin = self._addin()
        except Exception:
            self.kill()
            raise
        self.kept = None  # the Loaded document kept for the next request about the same file: see _document
        if self.addin is None:
            self.kill()
            raise RuntimeError("the ATLAS_* add-in did not register in LibreOffice — is python3-uno "
                               "(LibreOffice's Python script provider) installed?")

    def _addin(self, attempts=20):
        """The add-in's service. Right after start-up LibreOffice may still be registering the
        profile's extensions (no service yet: ask again for a while). An exception means its
        Python did not come up; the caller starts a fresh LibreOffice."""
        for _ in range(attempts):
            addin = self.manager.createInstanceWithContext(SERVICE, self.context)
            if addin is not None:
                return addin
            time.sleep(0.25)
        return None

    def _install(self, profile, oxt):
        """Install (or update) the add-in in the profile, once per version of the .oxt."""
        marker = os.path.join(profile, "atlas_xl_oxt.stamp")
        with open(oxt, "rb") as handle:
            stamp = f"{len(handle.read())}:{os.path.getmtime(oxt)}"
        try:
            with open(marker, encoding="utf-8") as handle:
                if handle.read() == stamp:
                    return
        except OSError:
            pass
        manager = self.context.getValueByName("/singletons/com.sun.star.deployment.ExtensionManager")
        manager.addExtension(uno.systemPathToFileUrl(os.path.abspath(oxt)), (), "user", None, Approve())
        with open(marker, "w", encoding="utf-8") as handle:
            handle.write(stamp)

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def close(self):
        try:
            self.forget()
            self.desktop.terminate()
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 — it is going away anyway
            pass
        self.kill()

    # -- one recalculation ----------------------------------------------------------------------
    def _document(self, request):
        """The request's workbook, loaded and calculated (a `Loaded`). It is kept for the next
        request with the same content key (the caller's hash of the file's bytes): a warm
        recalculation then skips the load, most of its time (issue 21), and LibreOffice
        recalculates only what an override changed. Between requests the kept document is as
        loaded (overrides are put back)."""
        key = request.get("key")
        if key and self.kept is not None and self.kept.key == key:
            self.kept.doc.calculate()  # nothing to do unless LibreOffice left a put-back input uncalculated
            return self.kept
        self.forget()
        self.addin.takeErrorTexts(None)  # forget texts of earlier workbooks
        started = time.perf_counter()
        doc = self._load(request)
        read = time.perf_counter()
        try:
            doc.calculateAll()
        except Exception:
            doc.close(True)
            raise
        loaded = Loaded(key, doc)
        loaded.load_s, loaded.calculate_s = read - started, time.perf_counter() - read
        if key:
            self.kept = loaded
        return loaded

    def _done(self, loaded, restore, failed):
        """After a request: put the overridden cells back and keep the document, or close it (not
        kept, or its state is unknown after a failure)."""
        if failed or self.kept is not loaded:
            if self.kept is loaded:
                self.kept = None
            loaded.doc.close(True)
            return
        for cell, value in reversed(restore):
            _set(loaded.doc, cell, value)

    def forget(self):
        """Close the kept document, if any."""
        if self.kept is not None:
            doc, self.kept = self.kept.doc, None
            doc.close(True)

    def recalc(self, request):
        names = "|".join(re.escape(n) for n in request.get("tables", ()))
        tables = re.compile(rf"^\{{=ORG\.ATLASXL\.ATLASFUNCTIONS\.({names})\(", re.I) if names else None
        loaded = self._document(request)
        doc, load_s, calculate_s = loaded.doc, loaded.load_s, loaded.calculate_s
        loaded.load_s = loaded.calculate_s = 0.0  # the next request about it loads nothing
        ready = time.perf_counter()
        restore, failed = [], True
        try:
            cells = [self._target(doc, target, titles=request.get("sheets")) for target, _ in request["overrides"]]
            baseline, introduced = None, {}
            trace = bool(request["overrides"]) and request.get("baseline")
            if trace:
                baseline = [e[:3] for e in self._read(loaded, errors_only=True, tables=tables)[1]]
                seen = {tuple(e) for e in baseline}
            for index, (cell, (_, value)) in enumerate(zip(cells, request["overrides"])):
                restore.append((cell, _get(doc, cell)))
                _set(doc, cell, value)
                if trace and len(cells) <= TRACE_LIMIT:  # which override an error appeared with: one calculation each
                    doc.calculate()  # what depends on the changed cells (the document is calculated)
                    for error in self._read(loaded, errors_only=True, tables=tables)[1]:
                        key = tuple(error[:3])
                        if key not in seen:
                            seen.add(key)
                            introduced[f"{key[0]}!{column_letters(key[2])}{key[1]}"] = index
            doc.calculate()
            calculated = time.perf_counter()
            values, errors = self._read(loaded, tables=tables)
            failed = False
            return {"values": values, "errors": errors, "baseline": baseline, "cells": cells, "introduced": introduced,
                    "sheets": list(loaded.titles()),
                    "timing": {"load_s": load_s, "calculate_s": calculate_s + calculated - ready,
                               "read_s": time.perf_counter() - calculated}}
        finally:
            self._done(loaded, restore, failed)

    def _load(self, request):
        url = uno.systemPathToFileUrl(os.path.abspath(request["path"]))
        doc = self.desktop.loadComponentFromURL(url, "_blank", 0, props(
            Hidden=True, MacroExecutionMode=0, UpdateDocMode=0, ReadOnly=False, Silent=True))
        if doc is None or not hasattr(doc, "Sheets"):
            if doc is not None:
                doc.close(True)
            raise RequestError(f"LibreOffice cannot open '{request.get('name') or os.path.basename(request['path'])}' "
                               "as a spreadsheet — is it a valid .xlsx/.xlsm file?")
        return doc

    def scenarios(self, request):
        """Load once (or take the kept document), then per scenario: apply its overrides
        (LibreOffice recalculates what depends on them), read the requested cells, put the inputs
        back. For what-if sweeps."""
        loaded = self._document(request)
        doc, failed = loaded.doc, True
        try:
            reads = [self._target(doc, target, formulas_ok=True, titles=request.get("sheets")) for target in request["read"]]
            out = []
            for scenario in request["scenarios"]:
                started = time.perf_counter()
                cells = [self._target(doc, target, titles=request.get("sheets")) for target, _ in scenario]
                saved = [_get(doc, cell) for cell in cells]
                for cell, (_, value) in zip(cells, scenario):
                    _set(doc, cell, value)
                values = [_value(doc, cell) for cell in reads]
                for cell, value in zip(cells, saved):
                    _set(doc, cell, value)
                out.append({"values": values, "seconds": time.perf_counter() - started})
            failed = False
            return {"scenarios": out}
        finally:
            self._done(loaded, [], failed)

    def pdf(self, request):
        """Recalculate and export every sheet to PDF: what a LibreOffice user with the add-in sees."""
        url = uno.systemPathToFileUrl(os.path.abspath(request["path"]))
        doc = self.desktop.loadComponentFromURL(url, "_blank", 0, props(Hidden=True, MacroExecutionMode=0,
                                                                        UpdateDocMode=0, Silent=True))
        if doc is None or not hasattr(doc, "Sheets"):
            raise RequestError(f"LibreOffice cannot open '{request.get('name')}' as a spreadsheet")
        try:
            doc.calculateAll()
            doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(request["output"])),
                           props(FilterName="calc_pdf_Export"))
        finally:
            doc.close(True)
        return {"written": request["output"]}

    def _target(self, doc, target, formulas_ok=False, titles=None):
        """'Sheet!A1', "'My sheet'!A1" or a single-cell defined name → [sheet, row, col], the
        sheet as LibreOffice names it. ``titles``: the package's sheet titles in order — a sheet
        is found by its title there, compared without case as Excel does (LibreOffice renames
        titles Excel forbids, such as ``x[1]``)."""
        if "!" in target:
            sheet, _, ref = target.rpartition("!")
            sheet = sheet[1:-1].replace("''", "'") if sheet[:1] == sheet[-1:] == "'" and len(sheet) > 1 else sheet
            titles = list(titles or doc.Sheets.getElementNames())
            index = next((i for i, t in enumerate(titles) if t.casefold() == sheet.casefold()), None)
            if index is None or index >= doc.Sheets.getCount():
                raise RequestError(f"override '{target}': no sheet '{sheet}' — sheets: {', '.join(titles)}")
            sheet = doc.Sheets.getByIndex(index).getName()
            if ":" in ref:
                raise RequestError(f"override '{target}': give one cell, not a range")
            match = CELL.match(ref.strip())
            if not match:
                raise RequestError(f"override '{target}': '{ref}' is not a cell address")
            cell = [sheet, int(match.group(2)), column_number(match.group(1))]
        else:
            names = doc.NamedRanges
            found = next((n for n in names.getElementNames() if n.upper() == target.upper()), None)
            if found is None:
                raise RequestError(f"override '{target}': no cell or defined name '{target}' — use Sheet!A1=value")
            referred = names.getByName(found).getReferredCells()
            if referred is None:
                raise RequestError(f"override '{target}': name '{target}' is not a single cell")
            address = referred.getRangeAddress()
            if address.StartColumn != address.EndColumn or address.StartRow != address.EndRow:
                raise RequestError(f"override '{target}': name '{target}' is not a single cell")
            sheet = doc.Sheets.getByIndex(address.Sheet).getName()
            cell = [sheet, address.StartRow + 1, address.StartColumn + 1]
        uno_cell = doc.Sheets.getByName(cell[0]).getCellByPosition(cell[2] - 1, cell[1] - 1)
        if not formulas_ok and uno_cell.getType().value == "FORMULA":
            raise RequestError(f"override {cell[0]}!{column_letters(cell[2])}{cell[1]} holds a formula — "
                               "override its input cells instead")
        return cell

    def _read(self, loaded, errors_only=False, tables=None):
        """Values of every formula cell {"Sheet!A1": value} and the error cells
        [sheet, row, col, excel_code, message, formula] (ATLAS_* error texts included) of a
        `Loaded` document."""
        _, taken = self.addin.takeErrorTexts(None)
        texts = loaded.texts
        texts.update(taken)
        values, errors, padding = {}, [], []
        for title, sheet, reads in loaded.layout():
            for address in sheet.queryFormulaCells(ERROR_RESULT).getRangeAddresses():
                block = sheet.getCellRangeByPosition(address.StartColumn, address.StartRow,
                                                     address.EndColumn, address.EndRow)
                formulas = block.getFormulaArray()
                table_codes = {}
                for i, row in enumerate(formulas):
                    for j, formula in enumerate(row):
                        r, c = address.StartRow + i + 1, address.StartColumn + j + 1
                        if tables and tables.match(formula):
                            # the unused part of a table function's array range: Calc has no caller
                            # range to pad to (Excel with xlwings shows blanks); one look per block
                            if formula not in table_codes:
                                table_codes[formula] = sheet.getCellByPosition(c - 1, r - 1).getError()
                            if table_codes[formula] == 32767:
                                padding.append([title, r, c])
                                continue
                        code = sheet.getCellByPosition(c - 1, r - 1).getError()
                        excel, meaning = ERROR_CODES.get(code, ("#VALUE!", f"error {code}"))
                        message = f"{excel} {meaning}" if excel != "#VALUE!" or code == 519 else f"Err:{code} {meaning}"
                        errors.append([title, r, c, excel, message, formula, code in NOT_COMPUTED])
            if errors_only and not texts:
                continue
            for whole, top, left, blocks, formulas in reads:
                data = whole.getDataArray()
                for block in blocks:
                    for i in range(block.StartRow - top, block.EndRow - top + 1):
                        for j in range(block.StartColumn - left, block.EndColumn - left + 1):
                            value = data[i][j]
                            r, c = top + i + 1, left + j + 1
                            if isinstance(value, str) and value in texts:
                                errors.append([title, r, c, None, value, formulas[i][j], False])
                            if errors_only:
                                continue
                            if isinstance(value, float) and value in (0.0, 1.0) and is_logical(formulas[i][j]):
                                value = value == 1.0
                            values[f"{title}!{column_letters(c)}{r}"] = value
        for error in errors:  # error cells: the error, not whatever getDataArray made of it
            if error[3] is not None:
                values[f"{error[0]}!{column_letters(error[2])}{error[1]}"] = {"error": error[3]}
        for sheet, row, col in padding:
            values[f"{sheet}!{column_letters(col)}{row}"] = ""
        return values, errors


class Loaded:
    """A loaded, calculated document, with what a read of it needs that does not change while it
    is open: its sheet titles, its formula layout (`_layout`), and the add-in's error texts seen
    in it (cells calculated by an earlier request do not call the add-in again, yet still show
    their error text)."""

    def __init__(self, key, doc):
        self.key, self.doc, self.texts = key, doc, set()
        self._titles = self._layout = None
        self.load_s = self.calculate_s = 0.0  # of the load that made it [s]

    def titles(self):
        if self._titles is None:
            self._titles = self.doc.Sheets.getElementNames()
        return self._titles

    def layout(self):
        if self._layout is None:
            self._layout = _layout(self.doc)
        return self._layout


def _layout(doc):
    """[(title, sheet, [(range, top, left, blocks, formulas)])] for the sheets holding formulas:
    each sheet's formula blocks with the ranges to read them through and their formulas. Blocks
    that fill most of their bounding box are read as one range (one getDataArray instead of one
    per block: UNO calls, not cells, are what a read costs — about 1 ms each on a busy machine);
    a sparse sheet block by block. Overrides never touch a formula cell, so a kept document's
    layout holds for every request about it (issue 21)."""
    out = []
    sheets = doc.Sheets
    for index, title in enumerate(sheets.getElementNames()):
        sheet = sheets.getByIndex(index)
        addresses = sheet.queryContentCells(FORMULA).getRangeAddresses()
        if not addresses:
            continue
        top, left = min(a.StartRow for a in addresses), min(a.StartColumn for a in addresses)
        bottom, right = max(a.EndRow for a in addresses), max(a.EndColumn for a in addresses)
        cells = sum((a.EndRow - a.StartRow + 1) * (a.EndColumn - a.StartColumn + 1) for a in addresses)
        if len(addresses) > 1 and (bottom - top + 1) * (right - left + 1) <= max(4 * cells, BOUNDING_CELLS):
            whole = sheet.getCellRangeByPosition(left, top, right, bottom)
            reads = [(whole, top, left, addresses, whole.getFormulaArray())]
        else:
            reads = []
            for a in addresses:
                block = sheet.getCellRangeByPosition(a.StartColumn, a.StartRow, a.EndColumn, a.EndRow)
                reads.append((block, a.StartRow, a.StartColumn, [a], block.getFormulaArray()))
        out.append((title, sheet, reads))
    return out


def _cell(doc, cell):
    return doc.Sheets.getByName(cell[0]).getCellByPosition(cell[2] - 1, cell[1] - 1)


def _set(doc, cell, value):
    target = _cell(doc, cell)
    if value is None:
        target.setFormula("")
    elif isinstance(value, bool):
        target.setValue(1.0 if value else 0.0)
    elif isinstance(value, (int, float)):
        target.setValue(float(value))
    else:
        target.setString(str(value))


def _get(doc, cell):
    """An input cell's content, to put back: a number, a text or None."""
    source = _cell(doc, cell)
    kind = source.getType().value
    return None if kind == "EMPTY" else source.getValue() if kind == "VALUE" else source.getString()


def _value(doc, cell):
    source = _cell(doc, cell)
    if source.getError():
        return {"error": ERROR_CODES.get(source.getError(), ("#VALUE!",))[0]}
    kind = source.getType().value
    if kind == "FORMULA":
        return source.getString() if source.FormulaResultType2 == 2 else source.getValue()  # 2: TEXT
    return None if kind == "EMPTY" else source.getValue() if kind == "VALUE" else source.getString()


OUT = sys.stdout


def write(message):
    """One protocol line; a caller that has gone (broken pipe) ends this process cleanly."""
    try:
        OUT.write(json.dumps(message, allow_nan=True) + "\n")
        OUT.flush()
    except (BrokenPipeError, OSError, ValueError):
        LEFTOVERS.end(1)


def _read_requests(requests):
    """The watchdog: stdin's lines → ``requests``; the end of stdin, or an ``end`` line, ends
    everything at once unless a quit came first (then the main thread closes LibreOffice in order)."""
    quitting = False
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if request.get("op") == "end":  # the caller stops everything now (Recalculator.close): no quit, no wait
            LEFTOVERS.end(0, orphans=False)
        quitting = quitting or request.get("op") == "quit"
        requests.put(request)
    if not quitting:
        LEFTOVERS.end(1)
    requests.put({"op": "quit"})


def _on_signal(signum, frame):
    LEFTOVERS.end(128 + signum)


def main():
    global OUT
    soffice, profile, oxt = sys.argv[1:4]
    OUT = sys.stdout
    sys.stdout = sys.stderr  # nothing but protocol lines on the real stdout
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    LEFTOVERS.folder(profile, "atlas_xl_lo_")
    requests = queue.Queue()
    threading.Thread(target=_read_requests, args=(requests,), daemon=True).start()
    if len(sys.argv) > 5 and not os.path.exists(profile):
        with LEFTOVERS.lock:  # an end waits for the copy, so nothing is created after the removal
            if LEFTOVERS.ending:
                return 1
            shutil.copytree(sys.argv[5], profile, symlinks=True)
    started = time.perf_counter()
    try:
        office = Office(soffice, profile, oxt)
    except Exception as error:  # noqa: BLE001
        traceback.print_exc()
        write({"error": f"{error}".splitlines()[0] if str(error) else type(error).__name__})
        return 1
    try:
        write({"ready": True, "soffice_pid": office.process.pid, "addin": office.version,
               "startup_s": time.perf_counter() - started})
        while True:
            request = requests.get()
            if request.get("op") == "quit":
                break
            folder = LEFTOVERS.folder(request["path"], "atlas_xl_in_") if request.get("path") else None
            try:
                operation = {"pdf": office.pdf, "scenarios": office.scenarios}.get(request.get("op"), office.recalc)
                reply = operation(request)
            except RequestError as error:
                reply = {"error": str(error), "input": True}
            except Exception as error:  # noqa: BLE001
                traceback.print_exc()
                reply = {"error": f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
                         "failure": True}
            LEFTOVERS.folders.discard(folder)
            write({**reply, "id": request.get("id")})
    finally:
        office.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
