"""Recalculate a workbook without Excel: evaluate every formula, apply what-if overrides, write
the results back as cached values so any viewer shows numbers.

The output keeps everything the input had — formulas, tables, names, validations, charts, macros
— because only the ``<v>`` values of computed cells (and the overridden input cells) are rewritten
in the worksheet XML; every other part of the archive is copied byte for byte. ``values_only``
writes plain values instead (openpyxl). Output goes to a temporary file that is renamed into
place; the input is never modified unless ``in_place`` is asked for.
"""
from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from openpyxl.utils import get_column_letter, range_boundaries

from atlas_xl import values
from atlas_xl.files import atomic_output
from atlas_xl.errors import InputError
from workbook import excel_functions as xf
from workbook.engine import Engine
from workbook.formula import split_sheet
from workbook.reports import save_atomic
from workbook.safety import open_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)


@dataclass
class RecalcResult:
    """What a recalculation computed: values by 'Sheet!A1', problems by 'Sheet!A1', the file written."""

    values: dict
    problems: dict
    path: Path | None = None
    overrides: dict = field(default_factory=dict)

    def __getitem__(self, address):
        return self.values[address]


def address(sheet, row, col):
    return f"{sheet}!{get_column_letter(col)}{row}"


def parse_override(text, book):
    """'Inputs!C6=2e9' or 'TokensPerDay=2e9' → ((sheet, row, col), value)."""
    target, sep, raw = str(text).partition("=")
    if not sep or not target.strip():
        raise InputError(f"override '{text}' needs the form Sheet!A1=value or Name=value")
    return parse_target(target.strip(), book, text), _parse_value(raw.strip(), f"override '{target.strip()}'")


def parse_target(target, book, text=None):
    """'Inputs!C6' or a single-cell defined name → (sheet, row, col)."""
    text = text or target
    if "!" not in target:
        defined = book.defined_names.get(target)
        if defined is None:
            raise InputError(f"override '{text}': no cell or defined name '{target}' — use Sheet!A1=value")
        destinations = list(defined.destinations)
        if len(destinations) != 1 or ":" in destinations[0][1]:
            raise InputError(f"override '{text}': name '{target}' is not a single cell")
        sheet, ref = destinations[0]
    else:
        sheet, ref = split_sheet(target)
    if sheet not in book.sheetnames:
        raise InputError(f"override '{text}': no sheet '{sheet}' — sheets: {', '.join(book.sheetnames)}")
    try:
        col, row, col2, row2 = range_boundaries(ref.replace("$", ""))
    except (ValueError, TypeError):
        raise InputError(f"override '{text}': '{ref}' is not a cell address") from None
    if (col, row) != (col2, row2):
        raise InputError(f"override '{text}': give one cell, not a range")
    return sheet, row, col


def _parse_value(raw, what="value"):
    """The project's one value parser (atlas_xl.values); a date becomes Excel's serial day number."""
    value = values.parse_value(raw, what)
    if isinstance(value, dt.date):
        return float((value - dt.date(1899, 12, 30)).days)
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def recalc(path, overrides=None, output=None, *, values_only=False, in_place=False, overwrite=False, functions=None):
    """Recalculate the workbook at ``path`` with what-if ``overrides`` (['Inputs!C6=2e9', ...] or
    {'Inputs!C6': 2e9}); write it to ``output`` (or over ``path`` with ``in_place``) when asked.

    Returns a RecalcResult: ``values`` of every formula cell by address, ``problems`` (cells that
    could not be computed, with the reason), and the path written.
    """
    source = Path(path)
    book = open_workbook(source)
    engine = Engine(book, functions)
    if isinstance(overrides, dict):
        pairs = [(parse_target(str(k), book, f"{k}={v}"), v) for k, v in overrides.items()]
    else:
        pairs = [parse_override(text, book) for text in overrides or ()]
    changes = {}
    for cell, parsed in pairs:
        if cell in engine.formulas or cell in engine.members:
            raise InputError(f"override {address(*cell)} holds a formula — override its input cells instead")
        engine.set_value(*cell, parsed)
        changes[cell] = parsed
    computed = engine.calculate()
    result = RecalcResult({address(*k): _plain(v) for k, v in computed.items()},
                          {address(*k): reason for k, reason in engine.problems.items()},
                          overrides={address(*k): v for k, v in changes.items()})
    if output is None and not in_place:
        return result
    target = source if in_place else Path(output)
    if target.exists() and not (in_place or overwrite):
        raise InputError(f"'{target}' already exists — choose another name, or pass --force to replace it")
    if target.suffix.lower() != source.suffix.lower():
        raise InputError(f"write the result as {source.suffix} like the input ('{target.name}' has another type)")
    replace = in_place or overwrite
    if values_only:
        result.path = _write_values_only(book, engine, computed, changes, target, replace)
    else:
        result.path = write_cached_values(source, target, computed, changes, overwrite=replace)
    return result


def _plain(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return xf.NUM
    return value


# -- values only (openpyxl) ------------------------------------------------------------------------
def _write_values_only(book, engine, computed, changes, target, overwrite=True):
    for (sheet, row, col), value in {**computed, **changes}.items():
        cell = book[sheet].cell(row=row, column=col)
        value = _plain(value)
        cell.value = value.code if isinstance(value, xf.XLError) else value
        if isinstance(value, str):
            cell.data_type = "s"
    return save_atomic(book, target, overwrite=overwrite)


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
    if isinstance(value, xf.XLError):
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
    for (row, col), value in sorted(values.items()):
        row_el = rows.get(row)
        if row_el is None:
            row_el = etree.Element(ns + "row", r=str(row))
            following = [r for r in rows if r > row]
            if following:
                rows[min(following)].addprevious(row_el)
            else:
                data.append(row_el)
            rows[row] = row_el
        ref = f"{get_column_letter(col)}{row}"
        cell = None
        before = None
        for existing in row_el.findall(ns + "c"):
            letters = CELL_REF.match(existing.get("r", "")).group(1) if existing.get("r") else None
            number = _column_number(letters) if letters else None
            if number == col:
                cell = existing
                break
            if number is not None and number > col and before is None:
                before = existing
        if cell is None:
            cell = etree.Element(ns + "c", r=ref)
            if before is not None:
                before.addprevious(cell)
            else:
                row_el.append(cell)
        _set_cell(cell, value, (row, col) in formulas)


def write_cached_values(source, target, computed, changes, overwrite=True):
    """Copy ``source`` to ``target`` with computed values cached beside their formulas and
    ``changes`` written into their input cells; every other part is copied unchanged. Without
    ``overwrite`` the target is created exclusively (atlas_xl.files.atomic_output)."""
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
            rewritten[part] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        for info in archive.infolist():
            data = rewritten.get(info.filename)
            out.writestr(info, data if data is not None else archive.read(info.filename),
                         compress_type=info.compress_type)
    return target
