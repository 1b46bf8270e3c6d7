"""Opening a workbook from outside: data, never code.

No macro runs (nothing here executes VBA) and no external link is followed (the engine refuses
references to other workbooks). Before openpyxl parses anything, `check_workbook` looks at the
zip archive itself, so a zip bomb, an XML entity bomb or a file that is not a workbook fails in
well under a second with a one-line reason and bounded memory. openpyxl parses with defusedxml
(installed with atlas_xl) as a second line of defence.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from atlas_xl.errors import InputError

SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")


@dataclass(frozen=True)
class Limits:
    max_uncompressed_bytes: int = 256 * 1024 * 1024  # all parts together, decompressed
    max_ratio: int = 250  # decompressed / compressed for any large part
    max_parts: int = 10_000
    ratio_floor_bytes: int = 4 * 1024 * 1024  # parts smaller than this may compress better


DEFAULT_LIMITS = Limits()


def check_workbook(path, limits=DEFAULT_LIMITS):
    """Raise InputError unless ``path`` looks like a safe .xlsx/.xlsm archive."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"workbook '{path}' does not exist")
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"'{path.name}' is not an Excel workbook — give an .xlsx or .xlsm file")
    if not zipfile.is_zipfile(path):
        raise InputError(f"'{path.name}' is not a valid .xlsx/.xlsm file (not a zip archive) — re-save it from Excel")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > limits.max_parts:
                raise InputError(f"'{path.name}' has {len(infos):,} parts — refusing (limit {limits.max_parts:,})")
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise InputError(f"'{path.name}' is not a valid .xlsx/.xlsm file (no workbook part) — re-save it "
                                 "from Excel")
            total = sum(info.file_size for info in infos)
            if total > limits.max_uncompressed_bytes:
                raise InputError(f"'{path.name}' expands to {total / 2**20:,.0f} MB — refusing (limit "
                                 f"{limits.max_uncompressed_bytes / 2**20:,.0f} MB; possible zip bomb)")
            for info in infos:
                if info.file_size > limits.ratio_floor_bytes and \
                        info.file_size > limits.max_ratio * max(1, info.compress_size):
                    raise InputError(f"'{path.name}': part {info.filename} expands {info.file_size // max(1, info.compress_size):,}"
                                     f"-fold — refusing (possible zip bomb)")
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    _scan_for_entities(archive, info, path.name)
    except zipfile.BadZipFile as error:
        raise InputError(f"'{path.name}' is a damaged zip archive ({error}) — re-save it from Excel") from None


def _scan_for_entities(archive, info, label):
    """Office XML never declares a DTD; a part that does is refused (entity-expansion attacks)."""
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(1 << 20):
            window = tail + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                raise InputError(f"'{label}': part {info.filename} declares XML entities — refusing "
                                 "(possible entity-expansion attack)")
            tail = chunk[-16:]


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
        raise InputError(f"cannot read '{path.name}': {reason} — is it a valid .xlsx/.xlsm file?") from None
