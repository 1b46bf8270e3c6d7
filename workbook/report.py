"""Report workbooks of values (no formulas) written with openpyxl.

Text from users or catalogs is always written as text — a catalog name beginning with "=" stays
text — and the file is written to a temporary name and renamed, so a crash never leaves a
half-written workbook.
"""
from __future__ import annotations

import math
import os
import tempfile
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

import atlas_xl
from atlas_xl.planner import DEFAULT_ASSUMPTIONS
from atlas_xl.errors import InputError

HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
USD = '"$"#,##0'
USD_CENTS = '"$"#,##0.000'
PCT = "0.0%"

RANKING_COLUMNS = [  # (field, heading, number format)
    ("rank", "Rank", "0"),
    ("platform", "Platform", None),
    ("gpu", "GPU", None),
    ("billing", "Billing", None),
    ("gpu_count", "GPUs", "0"),
    ("utilization_after", "Utilization per GPU", PCT),
    ("latency_risk", "Latency risk", None),
    ("monthly_cost_usd", "Monthly cost", USD),
    ("idle_waste_usd", "Idle waste", USD),
    ("idle_waste_pct", "Idle waste %", "0.0"),
    ("cost_per_m_tokens_usd", "Cost per Mtok", USD_CENTS),
    ("penalty_usd", "Penalties", USD),
    ("score_usd", "Score (cost + penalties)", USD),
    ("hourly_usd", "Price per GPU-hour", '"$"#,##0.00'),
    ("price_per_m_tokens", "Price per Mtok", '"$"#,##0.000'),
]


def write_cell(sheet, row, column, value, number_format=None):
    """Write one value; strings are always text, NaN becomes an empty cell."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, float) and math.isnan(value):
        return cell
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif number_format:
        cell.number_format = number_format
    return cell


def _header(sheet, row, headings):
    for column, heading in enumerate(headings, start=1):
        cell = write_cell(sheet, row, column, heading)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _widths(sheet, widths):
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def save_atomic(book, path, overwrite=False):
    """Save to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"'{path}' already exists — choose another name or pass overwrite/--force")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        book.save(temp)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return path


def report(path, tokens_per_day=2e9, pattern="steady", model="llama_70b", *, latency_ms=None,
           platforms=None, catalog=None, overwrite=False):
    """Write a planner report workbook: summary, ranking with a chart, assumptions, sources.

    Returns the path written.
    """
    cat = atlas_xl.load_catalog(catalog)
    ranking = atlas_xl.rank(tokens_per_day, pattern, model, latency_ms=latency_ms, catalog=cat,
                            platforms=platforms)
    if ranking.empty:
        raise InputError(f"no offering serves model '{model}' — add a throughput or per-token row")
    book = Workbook()
    _summary(book.active, ranking, tokens_per_day, pattern, model, latency_ms)
    _ranking(book.create_sheet("Ranking"), ranking)
    _assumptions(book.create_sheet("Assumptions"))
    _sources(book.create_sheet("Sources"), ranking, cat, model)
    for sheet in book.worksheets:
        _fit_page(sheet, landscape=sheet.title != "Summary")
    return save_atomic(book, path, overwrite)


def _fit_page(sheet, landscape):
    """Print (and convert to PDF) one page wide."""
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0


def _summary(sheet, ranking, tokens_per_day, pattern, model, latency_ms):
    sheet.title = "Summary"
    best = ranking.iloc[0]
    write_cell(sheet, 1, 1, "atlas_xl planning report").font = TITLE_FONT
    rows = [
        ("Tokens per day", tokens_per_day, "#,##0", "tokens/day"),
        ("Traffic pattern", pattern, None, ""),
        ("Model", model, None, ""),
        ("Latency requirement", latency_ms if latency_ms is not None else "none", "0", "ms"),
        ("Recommended platform", best.platform, None, ""),
        ("GPU", best.gpu or "(per-token API)", None, ""),
        ("Billing", best.billing, None, ""),
        ("GPUs", best.gpu_count, "0", "GPUs"),
        ("Monthly cost", best.monthly_cost_usd, USD, "USD/month"),
        ("Cost per million tokens", best.cost_per_m_tokens_usd, USD_CENTS, "USD/Mtok"),
        ("Penalties", best.penalty_usd, USD, "USD"),
        ("Offerings compared", len(ranking), "0", ""),
        ("atlas_xl version", atlas_xl.__version__, None, ""),
        ("Report date", date.today().isoformat(), None, ""),
    ]
    _header(sheet, 3, ["Item", "Value", "Units"])
    for i, (label, value, fmt, units) in enumerate(rows, start=4):
        write_cell(sheet, i, 1, label)
        write_cell(sheet, i, 2, value, fmt)
        write_cell(sheet, i, 3, units)
    why = (f"Lowest monthly cost plus penalties of {len(ranking)} offerings: {best.platform}"
           f"{' on ' + best.gpu if best.gpu else ''} ({best.billing}) at "
           f"${best.monthly_cost_usd:,.0f} a month, ${best.cost_per_m_tokens_usd:.3f} per million tokens.")
    why_row = len(rows) + 5
    write_cell(sheet, why_row, 1, "Why").font = Font(bold=True)
    write_cell(sheet, why_row + 1, 1, why).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=why_row + 1, start_column=1, end_row=why_row + 1, end_column=3)
    sheet.row_dimensions[why_row + 1].height = 48
    _widths(sheet, [28, 22, 14])


def _ranking(sheet, ranking):
    _header(sheet, 1, [h for _, h, _ in RANKING_COLUMNS])
    for r, record in enumerate(ranking.to_dict("records"), start=2):
        for c, (field, _, fmt) in enumerate(RANKING_COLUMNS, start=1):
            write_cell(sheet, r, c, record[field], fmt)
    sheet.freeze_panes = "B2"
    _widths(sheet, [6, 18, 11, 12, 7, 11, 9, 13, 12, 9, 10, 12, 14, 10, 10])
    sheet.row_dimensions[1].height = 32
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Monthly cost by offering (best 15)"
    chart.y_axis.title = "USD per month"
    last = min(len(ranking), 15) + 1
    chart.add_data(Reference(sheet, min_col=8, min_row=1, max_row=last), titles_from_data=True)
    labels = sheet.max_column + 2
    for r in range(2, last + 1):  # "platform / gpu" labels beside the table
        write_cell(sheet, r, labels, f"{sheet.cell(r, 2).value} {sheet.cell(r, 3).value or 'per-token'}")
    chart.set_categories(Reference(sheet, min_col=labels, min_row=2, max_row=last))
    chart.x_axis.scaling.orientation = "maxMin"
    chart.height, chart.width = 10, 18
    sheet.add_chart(chart, f"A{len(ranking) + 4}")


def _assumptions(sheet):
    _header(sheet, 1, ["Assumption", "Value", "Source"])
    for r, (name, value) in enumerate(DEFAULT_ASSUMPTIONS.__dict__.items(), start=2):
        write_cell(sheet, r, 1, name)
        write_cell(sheet, r, 2, value, "#,##0.00")
        write_cell(sheet, r, 3, "planner spec default (DESIGN.md)")
    _widths(sheet, [30, 14, 40])


def _sources(sheet, ranking, cat, model):
    _header(sheet, 1, ["Table", "Key", "Source", "As of", "Notes"])
    rows = []
    offerings = cat.tables["offerings"]
    throughput = cat.tables["throughput"]
    for record in ranking.itertuples():
        o = offerings[(offerings.platform == record.platform) & (offerings.gpu == record.gpu)
                      & (offerings.model == ("" if record.gpu else model))].iloc[0]
        rows.append(("offerings", f"{record.platform}/{record.gpu or model}", o.source, o.as_of, o.notes))
    for t in throughput[throughput.model == model].itertuples():
        rows.append(("throughput", f"{t.gpu}/{t.model}", t.source, t.as_of, t.notes))
    for p in cat.tables["patterns"].itertuples():
        rows.append(("patterns", p.pattern, p.source, p.as_of, p.notes))
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            write_cell(sheet, r, c, value)
    _widths(sheet, [12, 28, 60, 12, 60])
