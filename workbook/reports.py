"""Report workbooks of values (never formulas), written with openpyxl.

A report answers one scenario — a workload, the candidate offerings, a simulator target — with a
summary (the recommendation and why), the full ranking, the per-offering breakdown, cost against
tokens per day, the simulator record and schedule, the assumptions and the catalog rows used with
their sources. Text from users or catalogs is always written as text (a name beginning with "="
stays text); the file is written to a temporary name and renamed, so a crash never leaves a
half-written workbook.
"""
from __future__ import annotations

import math
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.styles import Alignment, Font, PatternFill

from openpyxl.utils import get_column_letter

import atlas_xl
from atlas_xl import serving, simulator
from atlas_xl.catalog import normalize_key
from atlas_xl.errors import InputError
from atlas_xl.planner import DEFAULT_ASSUMPTIONS

HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14, color="1F3864")
BOLD = Font(bold=True)
USD = '"$"#,##0'
USD_CENTS = '"$"#,##0.00'
USD_MILLI = '"$"#,##0.0000'
PCT = "0.0%"
COUNT = "#,##0"

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
    ("cost_per_m_tokens_usd", "Cost per Mtok", USD_MILLI),
    ("penalty_usd", "Penalties", USD),
    ("score_usd", "Score (cost + penalties)", USD),
]
SWEEP = (1e8, 2.5e8, 5e8, 1e9, 2.5e9, 5e9, 1e10, 2.5e10, 5e10, 1e11)


@dataclass(frozen=True)
class Scenario:
    """What a report answers. Every field has a default, so an empty scenario is a valid one."""

    title: str = "LLM serving plan"
    tokens_per_day: float = 2e9
    pattern: str = "steady"
    model: str = "llama_70b"
    latency_ms: float | None = 250.0
    precision: str | None = None  # serving precision (default fp8; "best" per GPU)
    input_tokens: float | None = None  # request shape [tokens]; None = the serving model's default
    output_tokens: float | None = None
    ttft_ms: float | None = None  # p99 serving limits [ms]; None = the serving model's default
    tpot_ms: float | None = None
    platforms: tuple | None = None  # candidate platforms; None = every platform that serves the model
    target: object = None  # None: the planned deployment of the best GPU offering (atlas_xl.simulator.deployment)
    workload: object = None  # a catalog name or a dict in the schema of workloads.yaml; None: as target
    knobs: dict | None = None
    seed: int = 0
    usd_per_kwh: float = 0.12
    pue: float | None = None
    schedule: bool = True
    sweep: tuple = SWEEP  # tokens per day for the cost-versus-volume sheet
    top: int = 5  # offerings drawn in the cost-versus-volume chart
    forecast: dict | None = None  # Forecast/Sensitivity sheets: months, monthly_growth, start, commitment, ... (docs/finance.md)


SECTIONS = {  # the nested form of a scenario file → Scenario fields
    "workload": {"tokens_per_day", "pattern", "model", "latency_ms", "precision", "input_tokens", "output_tokens",
                 "ttft_ms", "tpot_ms"},
    "simulator": {"target", "workload", "knobs", "seed", "usd_per_kwh", "pue"},
}


def scenario_from(mapping):
    """A Scenario from a dict: flat Scenario fields, or the file form with sections
    ``workload:`` (tokens_per_day, pattern, model, latency_ms), ``offerings:`` (list of platforms),
    ``simulator:`` (target, workload, knobs, seed, usd_per_kwh, pue), ``schedule:``, ``sweep:``."""
    if not isinstance(mapping, dict):
        raise InputError("a scenario must be a mapping of fields (see atlas-xl report --help)")
    known = {f.name for f in fields(Scenario)}
    values = {}
    for key, value in mapping.items():
        key = normalize_key(key)
        if key in SECTIONS and isinstance(value, dict):
            for inner, inner_value in value.items():
                inner = normalize_key(inner)
                if inner not in SECTIONS[key]:
                    raise InputError(f"unknown scenario key '{key}.{inner}' — known: "
                                     f"{', '.join(sorted(f'{key}.{k}' for k in SECTIONS[key]))}")
                values["workload" if (key, inner) == ("simulator", "workload") else inner] = inner_value
        elif key == "offerings":
            values["platforms"] = value
        elif key in known:
            values[key] = value
        else:
            raise InputError(f"unknown scenario key '{key}' — known: {', '.join(sorted(known | set(SECTIONS)))}, offerings")
    for key in ("tokens_per_day", "latency_ms", "usd_per_kwh", "pue", "seed", "top", "input_tokens", "output_tokens",
                "ttft_ms", "tpot_ms"):
        if values.get(key) is not None:
            values[key] = _scenario_number(key, values[key])
    if values.get("sweep") is not None:
        values["sweep"] = [_scenario_number("sweep", v) for v in values["sweep"]]
    if isinstance(values.get("platforms"), str):
        values["platforms"] = [p.strip() for p in values["platforms"].split(",") if p.strip()]
    for key in ("platforms", "sweep"):
        if values.get(key) is not None:
            values[key] = tuple(values[key])
    return replace(Scenario(), **values)


def _scenario_number(key, value):
    """YAML reads 2e9 as text; accept it (and 2,000,000,000) as the number it means."""
    if isinstance(value, bool):
        raise InputError(f"scenario {key} must be a number, not {value!r}")
    try:
        number = float(str(value).replace(",", "").replace("_", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise InputError(f"scenario {key} must be a number, not {value!r}") from None
    return int(number) if key in ("seed", "top") else number


# -- cells ------------------------------------------------------------------------------------------------
def write_cell(sheet, row, column, value, number_format=None):
    """Write one value; strings are always text, NaN becomes an empty cell."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, float) and math.isnan(value):
        return cell
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        value = "saturated (infinite)"
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


def _title(sheet, title, subtitle=None):
    write_cell(sheet, 1, 1, title).font = TITLE_FONT
    if subtitle:
        write_cell(sheet, 2, 1, subtitle).font = Font(italic=True, color="808080")


def field_format(name):
    """A number format from a field name's units."""
    if name in ("utilization_after", "utilization_ratio", "utilization", "flop_utilization", "hbm_bw_util",
                "queue_utilization", "queue_wait_probability"):
        return PCT
    if name in ("cost_per_m_tokens_usd", "dollar_per_1k_tokens", "price_per_m_tokens"):
        return USD_MILLI
    if name.endswith(("_usd", "_usd_per_month")) or name in ("hourly_usd",):
        return USD_CENTS if "hour" in name else USD
    if name.endswith("_ms"):
        return "#,##0.00"
    if name.endswith(("_w", "tokens_per_s", "tokens_per_sec", "tokens_per_day", "monthly_tokens")) or "tokens" in name:
        return COUNT
    return "#,##0.####"


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


# -- the report --------------------------------------------------------------------------------------------
@dataclass
class _Results:
    ranking: object
    simulation: object
    schedule: object
    sweep: dict = field(default_factory=dict)


def report(path, scenario=None, *, catalog=None, overwrite=False):
    """Write the report workbook of ``scenario`` (a Scenario, a dict, or None for the defaults).

    Returns the path written.
    """
    if Path(path).exists() and not overwrite:  # before any work: never overwrite a user's file
        raise InputError(f"'{path}' already exists — choose another name or pass overwrite/--force")
    scenario = scenario if isinstance(scenario, Scenario) else scenario_from(scenario or {})
    cat = atlas_xl.load_catalog(catalog)
    ranking = atlas_xl.rank(scenario.tokens_per_day, scenario.pattern, scenario.model,
                            latency_ms=scenario.latency_ms, catalog=cat, platforms=scenario.platforms,
                            **serving_args(scenario))
    if ranking.empty:
        raise InputError(f"no offering serves model '{scenario.model}'"
                         f"{' on ' + ', '.join(scenario.platforms) if scenario.platforms else ''} — "
                         "add a throughput or per-token row, or widen the platforms")
    sim_args = dict(seed=scenario.seed, catalog=cat, usd_per_kwh=scenario.usd_per_kwh, pue=scenario.pue)
    target, workload = _simulated(scenario, ranking, cat)
    simulate = target is not None or workload is not None
    results = _Results(
        ranking=ranking,
        simulation=atlas_xl.simulate(target, workload, scenario.knobs, **sim_args) if simulate else None,
        schedule=atlas_xl.run_schedule(target, workload, scenario.knobs, **sim_args)
        if simulate and scenario.schedule else None)
    volumes = np.asarray(scenario.sweep, dtype=float)
    for offer in ranking.head(scenario.top).itertuples():
        plan = atlas_xl.plan(volumes, scenario.pattern, scenario.model, offer.platform, offer.gpu or None,
                             latency_ms=scenario.latency_ms, catalog=cat, **serving_args(scenario))
        results.sweep[f"{offer.platform} {offer.gpu or 'per-token'}"] = np.broadcast_to(plan.monthly_cost_usd,
                                                                                        volumes.shape)
    book = Workbook()
    _summary(book.active, scenario, results, cat)
    _ranking(book.create_sheet("Ranking"), ranking)
    _breakdown(book.create_sheet("Breakdown"), ranking)
    _sweep(book.create_sheet("CostVsVolume"), volumes, results.sweep)
    if results.simulation is not None:
        _simulator(book.create_sheet("Simulator"), results.simulation)
    if results.schedule is not None:
        _schedule(book.create_sheet("Schedule"), results.schedule)
    from workbook import finance_sheets  # here: finance_sheets imports this module
    finance_sheets.forecast_report_sheet(book.create_sheet("Forecast"), scenario, ranking, cat, write_cell, _header,
                                         _title)
    finance_sheets.sensitivity_report_sheet(book.create_sheet("Sensitivity"), scenario, ranking, cat, write_cell,
                                            _header, _title)
    _assumptions(book.create_sheet("Assumptions"), scenario)
    _sources(book.create_sheet("Sources"), ranking, results.simulation, cat, scenario)
    for sheet in book.worksheets:
        sheet.page_setup.orientation = "portrait" if sheet.title == "Summary" else "landscape"
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    return save_atomic(book, path, overwrite)


def _or(value, default):
    return default if value is None else value


def serving_args(scenario):
    """The serving model's arguments of a scenario (precision, request shape, latency limits)."""
    return {k: getattr(scenario, k) for k in ("precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms")}


def _simulated(scenario, ranking, cat):
    """What the Simulator and Schedule sheets simulate: the scenario's own target/workload when it names
    them, else the planned deployment of the best-ranked GPU offering (same model, GPU, count)."""
    if scenario.target is not None or scenario.workload is not None:
        return scenario.target, scenario.workload
    gpu_rows = ranking[ranking.billing != "per_token"]
    if gpu_rows.empty:
        return None, None  # only per-token offerings: no GPUs of ours to simulate
    best = gpu_rows.iloc[0]
    planned = atlas_xl.plan(scenario.tokens_per_day, scenario.pattern, scenario.model, best.platform, best.gpu,
                            latency_ms=scenario.latency_ms, catalog=cat, **serving_args(scenario))
    return simulator.deployment(planned, cat)


def _summary(sheet, scenario, results, cat):
    sheet.title = "Summary"
    best = results.ranking.iloc[0]
    sim = results.simulation
    _title(sheet, scenario.title, f"atlas_xl {atlas_xl.__version__} · {date.today().isoformat()} · catalog "
                                  f"{cat.fingerprint}")
    blocks = [
        ("Workload", [("Tokens per day", scenario.tokens_per_day, COUNT, "tokens/day"),
                      ("Traffic pattern", scenario.pattern, None, ""), ("Model", scenario.model, None, ""),
                      ("Latency requirement", scenario.latency_ms if scenario.latency_ms is not None else "none",
                       "0", "ms"),
                      ("Serving precision", scenario.precision or f"{serving.DEFAULT_PRECISION} (default)", None, ""),
                      ("Request shape", f"{_or(scenario.input_tokens, serving.DEFAULT_INPUT_TOKENS):,.0f} in / "
                                        f"{_or(scenario.output_tokens, serving.DEFAULT_OUTPUT_TOKENS):,.0f} out",
                       None, "tokens per request"),
                      ("Latency limits", f"TTFT {_or(scenario.ttft_ms, serving.DEFAULT_TTFT_MS):,.0f} / TPOT "
                                         f"{_or(scenario.tpot_ms, serving.DEFAULT_TPOT_MS):,.0f}", None, "ms, p99"),
                      ("Offerings compared", len(results.ranking), "0", "")]),
        ("Recommendation", [("Platform", best.platform, None, ""), ("GPU", best.gpu or "(per-token API)", None, ""),
                            ("Billing", best.billing, None, ""), ("GPUs", best.gpu_count, "0", "GPUs"),
                            ("Utilization per GPU", best.utilization_after, PCT, "at peak"),
                            ("Latency risk", best.latency_risk, None, ""),
                            ("Monthly cost", best.monthly_cost_usd, USD, "USD/month"),
                            ("Cost per million tokens", best.cost_per_m_tokens_usd, USD_MILLI, "USD/Mtok"),
                            ("Idle waste", best.idle_waste_usd, USD, "USD/month"),
                            ("Penalties", best.penalty_usd, USD, "USD")]),
        (f"Simulator: {sim.workload} on {sim.target}" if sim is not None else "", [
            ("Throughput", sim.tokens_per_sec, COUNT, "tokens/s"),
            ("P99 service time (without queue)", sim.p99_service_ms, "#,##0.00", "ms"),
            ("P99 wait in the queue", sim.queue_wait_p99_ms, "#,##0.00", "ms"),
            ("Time to first token (without queue)", sim.ttft_service_ms, "#,##0.00", "ms"),
            ("Queue utilization", sim.queue_utilization, PCT, ""),
            ("Node power", sim.node_power_w, COUNT, "W"),
            ("Energy cost", sim.energy_cost_per_hour_usd, USD_CENTS, "USD/h"),
            ("Cost per 1k tokens", sim.dollar_per_1k_tokens, USD_MILLI, "USD/1k tokens")] if sim is not None else []),
    ]
    blocks = [b for b in blocks if b[1]]
    row = 4
    for heading, rows in blocks:
        write_cell(sheet, row, 1, heading).font = BOLD
        row += 1
        for label, value, fmt, units in rows:
            write_cell(sheet, row, 1, label)
            write_cell(sheet, row, 2, value, fmt).alignment = Alignment(horizontal="right")
            write_cell(sheet, row, 3, units).font = Font(color="808080", italic=True)
            row += 1
        row += 1
    write_cell(sheet, row, 1, "Why").font = BOLD
    why = sheet.cell(row=row + 1, column=1)
    write_cell(sheet, row + 1, 1, _why(results.ranking, scenario)).alignment = Alignment(wrap_text=True,
                                                                                         vertical="top")
    sheet.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=3)
    sheet.row_dimensions[why.row].height = 90
    _widths(sheet, [34, 26, 16])


def _why(ranking, scenario):
    best = ranking.iloc[0]
    where = f"{best.platform}{' on ' + best.gpu if best.gpu else ' (per-token API)'}"
    text = (f"{where} has the lowest monthly cost plus penalties of the {len(ranking)} offerings that serve "
            f"{scenario.model}: ${best.monthly_cost_usd:,.0f} a month, ${best.cost_per_m_tokens_usd:.4f} per "
            f"million tokens")
    if best.billing != "per_token":
        text += f", {best.gpu_count:.0f} GPUs at {best.utilization_after:.0%} utilization ({best.latency_risk} risk)"
    if len(ranking) > 1:
        second = ranking.iloc[1]
        saving = second.score_usd - best.score_usd
        text += (f". The runner-up, {second.platform}{' on ' + second.gpu if second.gpu else ''}, costs "
                 f"${saving:,.0f} more a month ({saving / second.score_usd:.0%})")
    if best.penalty_usd > 0:
        text += f". Penalties of ${best.penalty_usd:,.0f} apply: see the Breakdown sheet"
    return text + "."


def _ranking(sheet, ranking):
    _header(sheet, 1, [h for _, h, _ in RANKING_COLUMNS])
    for r, record in enumerate(ranking.to_dict("records"), start=2):
        for c, (name, _, fmt) in enumerate(RANKING_COLUMNS, start=1):
            write_cell(sheet, r, c, record[name], fmt)
    sheet.freeze_panes = "C2"
    _widths(sheet, [6, 18, 11, 12, 7, 11, 9, 13, 12, 12, 12, 14])
    sheet.row_dimensions[1].height = 32
    labels = len(RANKING_COLUMNS) + 2
    last = min(len(ranking), 15) + 1
    write_cell(sheet, 1, labels, "offering").font = Font(color="808080")
    for r in range(2, last + 1):  # "platform gpu" labels beside the table, for the chart
        write_cell(sheet, r, labels, f"{sheet.cell(r, 2).value} {sheet.cell(r, 3).value or 'per-token'}")
    chart = BarChart()
    chart.type, chart.title, chart.legend = "bar", "Monthly cost by offering (best 15)", None
    chart.y_axis.title = "USD per month"
    chart.add_data(Reference(sheet, min_col=8, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=labels, min_row=2, max_row=last))
    chart.x_axis.scaling.orientation = "maxMin"
    chart.height, chart.width = 10, 18
    sheet.add_chart(chart, f"B{len(ranking) + 4}")


def _breakdown(sheet, ranking):
    _title(sheet, "Per-offering breakdown", "Every field of the plan of each offering, in ranking order.")
    columns = [c for c in ranking.columns]
    _header(sheet, 4, columns)
    for r, record in enumerate(ranking.to_dict("records"), start=5):
        for c, name in enumerate(columns, start=1):
            write_cell(sheet, r, c, record[name], field_format(name))
    sheet.freeze_panes = "D5"
    sheet.row_dimensions[4].height = 45
    _widths(sheet, [6, 18, 11] + [13] * (len(columns) - 3))


def _sweep(sheet, volumes, series):
    _title(sheet, "Monthly cost against tokens per day", "The best offerings at the scenario's volume, over a "
                                                         "range of volumes [USD/month].")
    _header(sheet, 4, ["Tokens per day"] + list(series))
    for i, volume in enumerate(volumes, start=5):
        write_cell(sheet, i, 1, float(volume), COUNT)
        for j, costs in enumerate(series.values(), start=2):
            write_cell(sheet, i, j, float(costs[i - 5]), USD)
    chart = ScatterChart()
    chart.title, chart.style = "Monthly cost against tokens per day", 13
    chart.x_axis.title, chart.y_axis.title = "tokens per day (log scale)", "USD per month (log scale)"
    chart.x_axis.scaling.logBase = 10
    chart.y_axis.scaling.logBase = 10
    xs = Reference(sheet, min_col=1, min_row=5, max_row=4 + len(volumes))
    for j in range(2, 2 + len(series)):
        line = Series(Reference(sheet, min_col=j, min_row=4, max_row=4 + len(volumes)), xs, title_from_data=True)
        line.marker.symbol = "circle"
        chart.series.append(line)
    chart.height, chart.width = 10, 18
    sheet.add_chart(chart, f"A{len(volumes) + 7}")
    sheet.row_dimensions[4].height = 32
    _widths(sheet, [18] + [20] * len(series))


def _record_rows(sheet, record, row):
    for key, value in record.items():
        if isinstance(value, (dict, list)):
            continue
        write_cell(sheet, row, 1, key)
        write_cell(sheet, row, 2, value, field_format(key) if not isinstance(value, bool) else None)
        row += 1
    return row


def _simulator(sheet, record):
    _title(sheet, f"Simulator: {record.workload} on {record.target}", "The whole simulation record; latencies in "
                                                                      "ms, with and without queue delay.")
    _header(sheet, 4, ["Field", "Value"])
    end = _record_rows(sheet, record, 5)
    _header(sheet, 4, ["Field", "Value", "", "Percentile", "Service [ms]", "With queue [ms]"])
    for i, p in enumerate(("p50", "p95", "p99", "ttft"), start=5):
        write_cell(sheet, i, 4, p.upper())
        write_cell(sheet, i, 5, record[f"{p}_service_ms"], "#,##0.00")
        write_cell(sheet, i, 6, record[f"{p}_ms"], "#,##0.00")
    chart = BarChart()
    chart.title, chart.y_axis.title = "Latency percentiles", "ms"
    chart.add_data(Reference(sheet, min_col=5, max_col=6, min_row=4, max_row=8), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=4, min_row=5, max_row=8))
    chart.height, chart.width = 8, 14
    sheet.add_chart(chart, "D11")
    _widths(sheet, [30, 20, 3, 12, 14, 16])
    return end


PHASE_FIELDS = ("phase", "duration_minutes", "tokens_scale", "autoscale_factor", "queue_profile", "tokens_per_sec",
                "p50_ms", "p99_ms", "ttft_ms", "queue_utilization", "node_power_w", "dollar_per_1k_tokens",
                "saturated")


def _schedule(sheet, aggregated):
    _title(sheet, f"Schedule: {aggregated.workload} on {aggregated.target}",
           f"{aggregated.phase_count} phases over {aggregated.duration_minutes:,.0f} minutes, aggregated by duration.")
    _header(sheet, 4, ["Field", "Value"])
    row = _record_rows(sheet, aggregated, 5)
    for group in ("service_latency_ms", "queue_latency_ms", "queue_wait_ms"):
        for key, value in aggregated[group].items():
            write_cell(sheet, row, 1, f"{group}.{key}")
            write_cell(sheet, row, 2, value, "#,##0.00")
            row += 1
    row += 1
    _header(sheet, row, list(PHASE_FIELDS))
    for phase in aggregated.phases:
        row += 1
        for c, name in enumerate(PHASE_FIELDS, start=1):
            write_cell(sheet, row, c, phase[name], field_format(name) if not isinstance(phase[name], bool) else None)
    _widths(sheet, [30, 18] + [14] * (len(PHASE_FIELDS) - 2))


def _assumptions(sheet, scenario):
    _title(sheet, "Assumptions", "Every constant the numbers depend on.")
    _header(sheet, 4, ["Assumption", "Value", "Source"])
    row = 5
    for name, value in asdict(DEFAULT_ASSUMPTIONS).items():
        write_cell(sheet, row, 1, name)
        write_cell(sheet, row, 2, value, "#,##0.00")
        write_cell(sheet, row, 3, "planner spec default (atlas_xl.Assumptions)")
        row += 1
    for name in ("usd_per_kwh", "pue", "seed", "target", "workload", "knobs"):
        value = getattr(scenario, name)
        write_cell(sheet, row, 1, name)
        write_cell(sheet, row, 2, "target's" if value is None and name == "pue" else
                   value if isinstance(value, (int, float, str)) else str(value or "workload's"))
        write_cell(sheet, row, 3, "scenario")
        row += 1
    _widths(sheet, [30, 26, 46])


def _sources(sheet, ranking, record, cat, scenario):
    _title(sheet, "Catalog rows used", "Where every figure of this report comes from.")
    _header(sheet, 4, ["Table", "Key", "Source", "As of", "Notes"])
    rows = []
    offerings = cat.tables["offerings"]
    for offer in ranking.itertuples():
        match = offerings[(offerings.platform == offer.platform) & (offerings.gpu == offer.gpu)
                          & (offerings.model == ("" if offer.gpu else scenario.model))]
        for o in match.itertuples():
            rows.append(("offerings", f"{offer.platform}/{offer.gpu or scenario.model}", o.source, o.as_of, o.notes))
    model = normalize_key(scenario.model)
    for t in cat.tables["throughput"][cat.tables["throughput"].model == model].itertuples():
        rows.append(("throughput", f"{t.gpu}/{t.model}", t.source, t.as_of, t.notes))
    keys = [("patterns", "pattern", normalize_key(scenario.pattern)), ("models", "model", model)]
    keys += [("gpus", "gpu", g) for g in sorted({g for g in ranking.gpu if g})]
    if record is not None:
        keys += [("targets", "target", record.target), ("hardware_models", "hardware_model", record.hardware_model),
                 ("workloads", "workload", record.workload)]
    calibration = cat.tables["serving_calibration"]
    for r in calibration[calibration.parameter.str.startswith("expected_error")].itertuples():
        rows.append(("serving_calibration", r.parameter, r.source, r.as_of, f"{r.value:.1%} {r.units}; {r.notes}"))
    for table, key_column, key in keys:
        frame = cat.tables[table]
        for r in frame[frame[key_column] == key].itertuples():
            rows.append((table, key, r.source, r.as_of, r.notes))
    for r, values in enumerate(rows, start=5):
        for c, value in enumerate(values, start=1):
            write_cell(sheet, r, c, value).alignment = Alignment(wrap_text=c in (3, 5), vertical="top")
    _widths(sheet, [16, 28, 60, 12, 60])
