"""Opening a workbook from outside: data, never code.

No macro runs (nothing here executes VBA) and no external link is followed (the engine refuses
references to other workbooks). Before openpyxl parses anything, `check_workbook` looks at the
zip archive itself, so a zip bomb, an XML entity bomb or a file that is not a workbook fails in
well under a second with a one-line reason and bounded memory. openpyxl parses with defusedxml
(installed with atlas_xl) as a second line of defence.
"""
from __future__ import annotations

import math
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from atlas_xl.errors import InputError

SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: an encrypted .xlsx or a legacy .xls


@dataclass(frozen=True)
class Limits:
    """What an untrusted workbook may be; each limit refuses in seconds what would otherwise take
    minutes or gigabytes (docs/limits.md)."""

    max_uncompressed_bytes: int = 256 * 1024 * 1024  # all parts together, actually decompressed
    max_ratio: int = 250  # decompressed / compressed for any large part
    max_parts: int = 10_000
    ratio_floor_bytes: int = 4 * 1024 * 1024  # parts smaller than this may compress better
    max_total_ratio: int = 250  # decompressed / compressed of the whole package once above total_floor
    total_ratio_floor_bytes: int = 16 * 1024 * 1024  # (many parts each just under ratio_floor_bytes)
    max_cells: int = 2_000_000  # <c> elements in all worksheets: openpyxl holds every one in memory
    max_text_bytes: int = 1024 * 1024  # one run of text between tags; a cell holds 32 767 characters
    max_row: int = 1_048_576  # Excel's last row


DEFAULT_LIMITS = Limits()

_CHUNK = 1 << 20
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_PREFIXED_CELL = re.compile(rb"<\w+:c[\s>]")
# Patterns that begin with a literal run at C speed; files with namespace prefixes (<x:row>) take
# the general patterns above.
_GOOD_ROW = re.compile(rb"""<row\b[^>]*?\sr\s*=\s*["'][1-9]\d{0,6}["']""")
_LONG_ROW = re.compile(rb"""<row\b[^>]*?\sr\s*=\s*["']\d{7}""")  # ≥ 1,000,000: check the limit
# Candidates for a cached number beyond float range (309+ digits, or an exponent of 3+ digits);
# float() then decides, and only in a numeric cell (a cell of type s, str, inlineStr, e or b holds
# text such as BASES.xlsx's "E000000000").
_BIG_PLAIN = re.compile(rb"<v>\s*([-+]?(?:\d{309,}|[\d.]*[eE][-+]?\d{3,}))\s*</v>")
_BIG = re.compile(rb"<(?:\w+:)?v>\s*([-+]?(?:\d{309,}|[\d.]*[eE][-+]?\d{3,}))\s*</(?:\w+:)?v>")
_CELL_START = re.compile(rb"<(?:\w+:)?c[\s>/]")
_CELL_TYPE = re.compile(rb"""\st\s*=\s*["']([^"']*)["']""")
TEXT_CELL_TYPES = (b"s", b"str", b"inlineStr", b"e", b"b")  # ECMA-376 ST_CellType other than n (number)


class _Budget:
    def __init__(self):
        self.bytes = 0
        self.cells = 0
        self.row = 0  # the last row number of the worksheet being scanned (a <row> without r follows it)


def check_workbook(path, limits=DEFAULT_LIMITS):
    """Raise InputError unless ``path`` looks like a safe .xlsx/.xlsm archive.

    Every part is decompressed once, as a stream (bounded memory), so damaged data (flipped
    bytes, a bad CRC, an unknown compression method), sizes that lie, entity declarations,
    oversize text, malformed rows and too many cells are all found before openpyxl parses.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"workbook '{path}' does not exist")
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"'{path.name}' is not an Excel workbook — give an .xlsx or .xlsm file")
    with path.open("rb") as head:
        if head.read(8) == OLE2_MAGIC:
            raise InputError(f"'{path.name}' is a password-protected (encrypted) workbook or an old .xls file, not an "
                             "Office Open XML package — save a copy without a password, as .xlsx")
    if not zipfile.is_zipfile(path):
        raise InputError(f"'{path.name}' is not a valid .xlsx/.xlsm file (not a zip archive) — re-save it from Excel")
    label = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > limits.max_parts:
                raise InputError(f"'{label}' has {len(infos):,} parts — refusing (limit {limits.max_parts:,})")
            names = [info.filename for info in infos]
            if len({name.lower() for name in names}) != len(names):  # OPC part names ignore case
                raise InputError(f"'{label}' holds two parts with one name — a damaged archive; re-save it from Excel")
            if "[Content_Types].xml" not in names and any("\\" in n for n in names):
                raise InputError(f"'{label}' names its parts with backslashes (xl\\workbook.xml), which Office Open "
                                 "XML forbids — open it in Excel and save it again")
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise InputError(f"'{label}' is not a valid .xlsx/.xlsm file (no workbook part) — re-save it "
                                 "from Excel")
            total = sum(info.file_size for info in infos)
            if total > limits.max_uncompressed_bytes:
                raise InputError(f"'{label}' expands to {total / 2**20:,.0f} MB — refusing (limit "
                                 f"{limits.max_uncompressed_bytes / 2**20:,.0f} MB; possible zip bomb)")
            packed = sum(info.compress_size for info in infos)
            if total > limits.total_ratio_floor_bytes and total > limits.max_total_ratio * max(1, packed):
                raise InputError(f"'{label}' expands {total // max(1, packed):,}-fold as a whole — refusing "
                                 "(possible zip bomb)")
            for info in infos:
                if info.file_size > limits.ratio_floor_bytes and \
                        info.file_size > limits.max_ratio * max(1, info.compress_size):
                    raise InputError(f"'{label}': part {info.filename} expands {info.file_size // max(1, info.compress_size):,}"
                                     f"-fold — refusing (possible zip bomb)")
            budget = _Budget()
            for info in infos:
                _scan_part(archive, info, label, limits, budget)
            _check_sheets(archive, label)
    except zipfile.BadZipFile as error:
        raise InputError(f"'{label}' is a damaged zip archive ({error}) — re-save it from Excel") from None
    except (zlib.error, EOFError) as error:
        raise InputError(f"'{label}' is a damaged zip archive (compressed data is corrupt: {error}) — "
                         "re-save it from Excel") from None
    except OSError as error:  # lzma/bz2 streams: "Invalid data stream"
        raise InputError(f"'{label}' is a damaged zip archive ({error}) — re-save it from Excel") from None
    except NotImplementedError as error:
        raise InputError(f"'{label}' uses a compression Excel does not write ({error}) — re-save it from Excel") from None
    except RuntimeError as error:  # zipfile: "... is encrypted, password required for extraction"
        if "encrypted" in str(error):
            raise InputError(f"'{label}' is encrypted (password-protected) — save a copy without a password") from None
        raise InputError(f"'{label}' is a damaged zip archive ({error}) — re-save it from Excel") from None


def _scan_part(archive, info, label, limits, budget):
    """Decompress one part as a stream: actual size, CRC (zipfile checks it at the end), and for
    XML parts entities, text runs, row numbers and cell count."""
    xml = info.filename.endswith((".xml", ".rels", ".vml"))
    sheet = info.filename.startswith("xl/worksheets/") and xml
    carry, run = b"", 0
    budget.row = 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            budget.bytes += len(chunk)
            if budget.bytes > limits.max_uncompressed_bytes:
                raise InputError(f"'{label}' expands beyond {limits.max_uncompressed_bytes / 2**20:,.0f} MB "
                                 "(its sizes lie) — refusing (possible zip bomb)")
            if not xml:
                continue
            window = carry + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                raise InputError(f"'{label}': part {info.filename} declares XML entities — refusing "
                                 "(possible entity-expansion attack)")
            last, first = window.rfind(b"<"), chunk.find(b"<")
            ending = run + (len(chunk) if first == -1 else first)  # the text run that goes on from the last chunk
            run = ending if last == -1 else len(window) - last  # text since the last '<'
            if max(ending, run) >= limits.max_text_bytes or _longest_text_at_least(window, limits.max_text_bytes):
                raise InputError(f"'{label}': part {info.filename} holds a run of text longer than "
                                 f"{limits.max_text_bytes // 1024:,} kB — refusing (a cell holds at most 32,767 characters)")
            complete = window[:last] if last >= 0 else b""  # whole tags only; the rest is carried over
            if sheet:
                _scan_sheet_chunk(complete, info.filename, label, limits, budget)
            carry = window[last:] if last >= 0 else window[-16:]


def _longest_text_at_least(data, limit):
    """Whether ``data`` holds ``limit`` bytes without a '<'. Any such run covers a whole block of
    limit/2 bytes starting at a multiple of limit/2, so a few C-speed finds decide it."""
    half = max(1, limit // 2)
    for start in range(0, max(1, len(data) - half + 1), half):
        if data.find(b"<", start, start + half) == -1:
            begin = data.rfind(b"<", 0, start) + 1
            end = data.find(b"<", start + half)
            end = len(data) if end == -1 else end
            if end - begin >= limit:
                return True
    return False


def _scan_sheet_chunk(data, part, label, limits, budget):
    """Rows, cells and cached numbers of a run of whole worksheet tags (C-speed counts first; the
    per-row check runs only when the counts disagree)."""
    prefixed = b":row" in data or b":v>" in data or b":c " in data
    for match in (_BIG if prefixed else _BIG_PLAIN).finditer(data):
        if not math.isfinite(_float(match.group(1))) and _numeric_cell(data, match.start()):
            raise InputError(f"'{label}': a cell in {part} holds a number beyond Excel's range "
                             "(about ±1.8e308) — a damaged sheet; re-save it from Excel")
    rows = data.count(b"<row")
    if prefixed or (rows and (len(_GOOD_ROW.findall(data)) != rows or _LONG_ROW.search(data))):
        for match in _ROW.finditer(data):
            budget.row = _check_row(match.group(1), part, label, limits, budget.row)
    elif rows:  # every row numbered below 1,000,000: the last number carries on to the next chunk
        budget.row = int(_ROW_NUMBER.search(_ROW.match(data, data.rfind(b"<row")).group(1)).group(1))
    budget.cells += data.count(b"<c ") + data.count(b"<c>") + (len(_PREFIXED_CELL.findall(data)) if prefixed else 0)
    if budget.cells > limits.max_cells:
        raise InputError(f"'{label}' has more than {limits.max_cells:,} cells — refusing (limit {limits.max_cells:,}: "
                         "openpyxl holds every cell in memory); split the workbook, or from Python pass "
                         "workbook.safety.Limits(max_cells=...)")


def _float(text):
    try:
        return float(text)
    except ValueError:  # 'E000000000': text, not a number
        return 0.0


def _numeric_cell(data, at):
    """Whether the <v> at ``at`` belongs to a cell of type n (no t attribute, or t="n"). A cell
    whose start lies in an earlier chunk is given the benefit of the doubt."""
    start = None
    for start in _CELL_START.finditer(data, max(0, at - 65_536), at):
        pass
    if start is None:
        return False
    end = data.find(b">", start.start())
    kind = _CELL_TYPE.search(data, start.start(), end)
    return kind is None or kind.group(1) not in TEXT_CELL_TYPES


def _check_row(attributes, part, label, limits, previous):
    """The row's number: its r attribute, or the row after ``previous`` where r is left out
    (ECMA-376 Part 1, 18.3.1.73: r is optional; Apache POI's stress002.xlsx, InlineString.xlsx)."""
    found = _ROW_NUMBER.search(attributes)
    if not found:
        if previous + 1 > limits.max_row:
            raise InputError(f"'{label}': {part} has more than {limits.max_row:,} rows — Excel's last row is "
                             f"{limits.max_row:,}; split the sheet")
        return previous + 1
    text = found.group(1)
    if not text.isdigit() or not 1 <= int(text) <= limits.max_row:
        shown = text.decode("ascii", "replace")[:20]
        raise InputError(f"'{label}': a row in {part} has the row number r=\"{shown}\" — rows are whole numbers "
                         f"1 to {limits.max_row:,}; re-save it from Excel")
    return int(text)


def _check_sheets(archive, label):
    """Sheet names unique (Excel compares them without case) and every sheet part present."""
    from defusedxml import ElementTree

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels")) \
            if "xl/_rels/workbook.xml.rels" in archive.namelist() else None
    except Exception as error:  # noqa: BLE001 — defusedxml/expat raise several kinds
        raise InputError(f"cannot read '{label}': xl/workbook.xml is not well-formed XML ({str(error).splitlines()[0][:80]}) — "
                         "re-save it from Excel") from None
    seen = {}
    targets = {}
    if rels is not None:
        for rel in rels:
            targets[rel.get("Id")] = rel.get("Target", "")
    names = set(archive.namelist())
    for sheet in book.iter(f"{main}sheet"):
        name = sheet.get("name") or ""
        if not name:
            raise InputError(f"'{label}': a sheet has no name — re-save it from Excel")
        if name.lower() in seen:
            raise InputError(f"'{label}': two sheets are named '{name}' — a damaged workbook (Excel forbids it); "
                             "rename one and re-save")
        seen[name.lower()] = True
        target = targets.get(sheet.get(f"{rel_ns}id"))
        if rels is not None and target is not None:
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            if part not in names:
                raise InputError(f"'{label}': sheet '{name}' points to a missing part {part} — re-save it from Excel")


def open_workbook(path, limits=DEFAULT_LIMITS):
    """Check, then load with openpyxl (formulas, not cached values; VBA kept but never run)."""
    check_workbook(path, limits)
    path = Path(path)
    try:
        return load_workbook(path, keep_vba=path.suffix.lower() in (".xlsm", ".xltm"), keep_links=True)
    except InputError:
        raise
    except Exception as error:  # openpyxl raises many kinds on malformed files
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"cannot read '{path.name}': {reason[:160]} — openpyxl rejects a part of it; open it in Excel "
                         "and save it again") from None
