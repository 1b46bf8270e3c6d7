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
import re
from dataclasses import asdict, dataclass, field, fields as dataclass_fields, replace
from datetime import date
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.chart.axis import ChartLines
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

import atlas_xl
from atlas_xl import arguments, prices, serving, simulator
from atlas_xl.catalog import BILLING, normalize_key
from atlas_xl import values as atlas_values
from atlas_xl.errors import InputError
from atlas_xl.files import atomic_output
from atlas_xl.planner import DEFAULT_ASSUMPTIONS
from workbook import finance_sheets, layout
from workbook.layout import BOLD, write_cell

fields = layout.fields  # atlas_xl.fields: labels, units and number formats of every field

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
    usd_per_kwh: float = arguments.USD_PER_KWH
    pue: float | None = None
    schedule: bool = True
    sweep: tuple = SWEEP  # tokens per day for the cost-versus-volume sheet
    top: int = 5  # offerings drawn in the cost-versus-volume chart
    forecast: dict | None = None  # Forecast/Sensitivity sheets: months, monthly_growth, start, commitment, ... (docs/finance.md)
    options: tuple | None = None  # the options the Summary compares: platform, platform/gpu, platform:billing; None = best 3
    detail: bool = False  # the detail sheets (ranking, breakdowns, simulator, forecast, ...) after the one-page summary

    def serving_args(self):
        """The serving model's arguments (precision, request shape, latency limits) as plan() takes them."""
        return {k: getattr(self, k) for k in ("precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms")}


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
    known = {f.name for f in dataclass_fields(Scenario)}
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
    _check_kinds(values)
    for key in NUMBER_FIELDS:
        if values.get(key) is not None:
            values[key] = _scenario_number(key, values[key])
    if values.get("sweep") is not None:
        values["sweep"] = [_scenario_number("sweep", v) for v in values["sweep"]]
    for key in ("platforms", "options"):
        if isinstance(values.get(key), str):
            values[key] = [p.strip() for p in re.split(r"[,\s]+", values[key]) if p.strip()]
    for key in ("platforms", "sweep", "options"):
        if values.get(key) is not None:
            values[key] = tuple(values[key])
    return replace(Scenario(), **values)


NUMBER_FIELDS = tuple(f.name for f in dataclass_fields(Scenario)
                      if f.name in arguments.ARGUMENTS and arguments.get(f.name).kind == "number")
"""Scenario fields that are numeric arguments of the registry: read with its bounds (atlas_xl/arguments.py)."""
_TEXT_FIELDS = ("title", "pattern", "model", "precision")


def _check_kinds(values):
    """Each scenario field of the kind it must be (a file can hold any YAML): one line otherwise."""
    for key in _TEXT_FIELDS:
        value = values.get(key)
        if value is not None and not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise InputError(f"scenario {key} must be text, not {_kind(value)}")
        if value is not None:
            values[key] = atlas_values.check_text(str(value), f"scenario {key}")
    if values.get("target") is not None and not isinstance(values["target"], (str, dict)):
        raise InputError(f"scenario simulator.target must be a target name or a mapping, not {_kind(values['target'])}")
    if values.get("workload") is not None and not isinstance(values["workload"], (str, dict)):
        raise InputError(f"scenario simulator.workload must be a workload name or a mapping, not {_kind(values['workload'])}")
    if values.get("knobs") is not None and not isinstance(values["knobs"], dict):
        raise InputError(f"scenario simulator.knobs must be a mapping such as {{cuda_graphs: true}}, "
                         f"not {_kind(values['knobs'])}")
    platforms = values.get("platforms")
    if platforms is not None and not (isinstance(platforms, str) or (
            isinstance(platforms, (list, tuple)) and all(isinstance(p, str) for p in platforms))):
        raise InputError(f"scenario offerings must be a list of platform keys such as [runpod, together], "
                         f"not {_kind(platforms)}")
    options = values.get("options")
    if options is not None and not (isinstance(options, str) or (
            isinstance(options, (list, tuple)) and all(isinstance(o, str) for o in options))):
        raise InputError(f"scenario options must be a list such as [runpod/h100_sxm, together:per_token, lambda], "
                         f"not {_kind(options)}")
    if "detail" in values and not isinstance(values["detail"], bool):
        raise InputError(f"scenario detail must be true or false, not {_kind(values['detail'])}")
    if values.get("sweep") is not None and not isinstance(values["sweep"], (list, tuple)):
        raise InputError(f"scenario sweep must be a list of daily token volumes such as [1e8, 1e9], "
                         f"not {_kind(values['sweep'])}")
    if "schedule" in values and not isinstance(values["schedule"], bool):
        raise InputError(f"scenario schedule must be true or false, not {_kind(values['schedule'])}")


def _kind(value):
    return f"{type(value).__name__} {str(value)[:40]!r}" if not isinstance(value, str) else repr(value[:40])


def _scenario_number(key, value):
    """YAML reads 2e9 as text; accept it (and 2B, 2,000,000,000) as the number it means, within
    the documented limits (atlas_xl.values.LIMITS)."""
    if isinstance(value, (list, dict, tuple)):
        raise InputError(f"scenario {key} must be a number, not {_kind(value)}")
    if key in ("tokens_per_day", "sweep"):
        return float(atlas_values.parse_volume(value, f"scenario {key}"))
    bounds, _ = atlas_values.LIMITS[key]
    number = atlas_values.parse_number(value, f"scenario {key}", **bounds)
    return int(number) if key in ("seed", "top") else float(number)


# -- cells ------------------------------------------------------------------------------------------------
def _widths(sheet, widths):
    layout.widths(sheet, widths)


def _title(sheet, title, subtitle=None):
    return layout.title(sheet, title, subtitle)


_header = layout.header  # white on navy header row: (sheet, row, texts)


def field_format(name):
    """The number format of a field, from its units (atlas_xl.fields)."""
    return fields.number_format(name)


def save_atomic(book, path, overwrite=False):
    """Save to a temporary file beside ``path`` and move it into place (atlas_xl.files.atomic_output:
    exclusive create unless ``overwrite``, umask permissions, temp files never left behind)."""
    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as temp:
        book.save(temp)
    return path


# -- the report --------------------------------------------------------------------------------------------
@dataclass
class _Results:
    ranking: object
    simulation: object
    schedule: object
    sweep: dict = field(default_factory=dict)


def report(path, scenario=None, *, catalog=None, overwrite=False, max_price_age_days=None):
    """Write the report workbook of ``scenario`` (a Scenario, a dict, or None for the defaults):
    a one-page Summary comparing the scenario's options (or the best three) and the Sources page;
    with ``detail``, the ranking, breakdowns, cost against volume, simulator, schedule, forecast,
    sensitivity and assumptions sheets between them. The Summary names every compared price older than
    ``max_price_age_days`` (default: the registry's, 90) or undated.

    Returns the path written.
    """
    if Path(path).exists() and not overwrite:  # before any work: never overwrite a user's file
        raise InputError(f"'{path}' already exists — choose another name or pass overwrite/--force")
    scenario = scenario if isinstance(scenario, Scenario) else scenario_from(scenario or {})
    finance_sheets.forecast_settings(scenario)  # a mistyped forecast key fails before any work, detail or not
    cat = atlas_xl.load_catalog(catalog)
    ranking, compared = _options(scenario, cat)
    book = Workbook()
    _executive(book.active, scenario, compared, len(ranking), cat, max_price_age_days)
    record = _details(book, scenario, ranking, cat) if scenario.detail else None
    _sources(book.create_sheet("Sources"), ranking if scenario.detail else compared, record, cat, scenario,
             one_page=not scenario.detail)
    for sheet in book.worksheets:
        if sheet.page_setup.orientation is None:  # a sheet without its own print setup
            layout.print_setup(sheet)
    return save_atomic(book, path, overwrite)


def _options(scenario, cat):
    """(the ranking, the options the Summary compares) of ``scenario``."""
    named = [parse_option(text) for text in scenario.options or ()]
    platforms = scenario.platforms
    if named:
        platforms = tuple(dict.fromkeys(option["platform"] for option in named))
    ranking = atlas_xl.rank(scenario.tokens_per_day, scenario.pattern, scenario.model,
                            latency_ms=scenario.latency_ms, catalog=cat, platforms=platforms,
                            **scenario.serving_args())
    if ranking.empty:
        raise InputError(f"no offering serves model '{scenario.model}'"
                         f"{' on ' + ', '.join(platforms) if platforms else ''} — "
                         "add a throughput or per-token row, or widen the platforms")
    return ranking, (compared_options(ranking, named, scenario.model) if named else ranking.head(COMPARED))


def report_prices(scenario=None, *, catalog=None, max_age_days=None, today=None):
    """The prices the report of ``scenario`` compares: the Summary's options with ``price_as_of``,
    ``price_age_days`` and ``price_stale`` (`atlas_xl.prices.with_price_age`), for a caller that warns of stale ones
    (``atlas-xl report`` does, one line each)."""
    scenario = scenario if isinstance(scenario, Scenario) else scenario_from(scenario or {})
    cat = atlas_xl.load_catalog(catalog)
    return prices.with_price_age(_options(scenario, cat)[1], cat, model=scenario.model, max_age_days=max_age_days,
                                 today=today)


COMPARED = 3  # options on the Summary when the scenario names none: the best three of the ranking


def parse_option(text):
    """An option as a person names it → {"name", "platform", "gpu", "billing"}: ``runpod`` (the
    platform's best offering), ``runpod/h100_sxm``, ``together:per_token``, ``modal/h100_sxm:autoscaling``."""
    text = atlas_values.check_text(str(text), "option").strip()
    head, colon, billing = text.partition(":")
    platform, _, gpu = head.partition("/")
    billing = normalize_key(billing) if colon else None
    if colon and billing not in BILLING:
        raise InputError(f"option '{text}': billing '{billing}' is not one of {', '.join(BILLING)} "
                         f"(write platform, platform/gpu or platform:billing)")
    if not platform.strip():
        raise InputError(f"option '{text}' names no platform (write platform, platform/gpu or platform:billing)")
    return {"name": text, "platform": normalize_key(platform), "gpu": normalize_key(gpu) if gpu else None,
            "billing": billing}


def compared_options(ranking, named, model):
    """The ranking rows of exactly the ``named`` options (parse_option), each the best row that
    matches it, in ranking order; one line naming what the platform offers when an option matches nothing."""
    rows, seen = [], {}
    for option in named:
        match = ranking[ranking.platform == option["platform"]]
        if option["gpu"]:
            match = match[match.gpu == option["gpu"]]
        if option["billing"]:
            match = match[match.billing == option["billing"]]
        if match.empty:
            offered = ranking[ranking.platform == option["platform"]]
            known = ", ".join(f"{r.platform}{'/' + r.gpu if r.gpu else ''}:{r.billing}" for r in offered.itertuples())
            raise InputError(f"option '{option['name']}' matches no offering that serves {model} — "
                             f"{option['platform']} offers {known or 'nothing for this model'}")
        index = match.index[0]
        if index in seen:
            raise InputError(f"options '{seen[index]}' and '{option['name']}' name the same offering — "
                             f"name each option once")
        seen[index] = option["name"]
        rows.append(index)
    return ranking.loc[sorted(rows, key=list(ranking.index).index)].reset_index(drop=True)


def option_name(offer):
    """What an option resolved to, as the Summary names it: runpod/h100_sxm, together (per-token)."""
    return f"{offer.platform}/{offer.gpu}" if offer.gpu else f"{offer.platform} (per-token)"


def _details(book, scenario, ranking, cat):
    """The detail sheets of a report: everything behind the Summary's numbers."""
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
                             latency_ms=scenario.latency_ms, catalog=cat, **scenario.serving_args())
        results.sweep[f"{offer.platform} {offer.gpu or 'per-token'}"] = np.broadcast_to(plan.monthly_cost_usd,
                                                                                        volumes.shape)
    _summary(book.create_sheet("Overview"), scenario, results, cat)
    _ranking(book.create_sheet("Ranking"), ranking)
    _breakdown(book.create_sheet("Breakdown"), ranking, CAPACITY_FIELDS, "Breakdown: load and capacity",
               "Per offering, in ranking order: prices, throughput, load, the GPUs it takes, its warm replicas and "
               "how long one replica takes to start.")
    _breakdown(book.create_sheet("Costs"), ranking, COST_FIELDS, "Breakdown: costs and penalties",
               "Per offering, in ranking order: what a month costs, idle waste, energy and emissions, and the "
               "ranking penalties.")
    _breakdown(book.create_sheet("Serving"), ranking, SERVING_FIELDS, "Breakdown: serving model",
               "Per offering, in ranking order: the precision, replica and request shape the throughput is "
               "planned for, its p99 latencies (within the limits), and how well that throughput is known.")
    _sweep(book.create_sheet("CostVsVolume"), volumes, results.sweep)
    if results.simulation is not None:
        _simulator(book.create_sheet("Simulator"), results.simulation)
    if results.schedule is not None:
        _schedule(book.create_sheet("Schedule"), results.schedule)
    finance_sheets.forecast_report_sheet(book.create_sheet("Forecast"), scenario, ranking, cat, write_cell, _header,
                                         _title)
    finance_sheets.sensitivity_report_sheet(book.create_sheet("Sensitivity"), scenario, ranking, cat, write_cell,
                                            _header, _title)
    _assumptions(book.create_sheet("Assumptions"), scenario)
    return results.simulation  # the Sources sheet lists the simulator's catalog rows too


def _or(value, default):
    return default if value is None else value


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
                            latency_ms=scenario.latency_ms, catalog=cat, **scenario.serving_args())
    return simulator.deployment(planned, cat)


EXECUTIVE_FIELDS = ("option", "billing", "gpu_count", "utilization_after", "latency_risk", "monthly_cost_usd",
                    "annual_cost_usd", "cost_per_m_tokens_usd", "idle_waste_usd")


def _executive(sheet, scenario, compared, offered, cat, max_price_age_days=None):
    """The one printed page: what is recommended and why, the options' costs side by side, a chart
    of their monthly costs and the assumptions in one line."""
    sheet.title = "Summary"
    frame = compared.copy()
    frame["option"] = [option_name(r) for r in frame.itertuples()]
    frame["annual_cost_usd"] = frame.monthly_cost_usd * 12
    named = "the options named" if scenario.options else f"the best {len(frame)} of {offered} offerings"
    top = _title(sheet, scenario.title, f"{named.capitalize()} for {scenario.model} · atlas_xl "
                                        f"{atlas_xl.__version__} · {date.today().isoformat()} · catalog "
                                        f"{cat.fingerprint}")
    span = len(EXECUTIVE_FIELDS)
    why = _why(frame, scenario, of_what=f"{len(frame)} options compared" if scenario.options else None)
    _paragraph(sheet, top, why, span, layout.BOLD)
    table_top = top + 2
    last = layout.table(sheet, table_top, list(EXECUTIVE_FIELDS), _records(frame, EXECUTIVE_FIELDS), plan=True)
    chart = _bar_chart("Monthly cost by option", "USD per month",
                       Reference(sheet, min_col=EXECUTIVE_FIELDS.index("monthly_cost_usd") + 1, min_row=table_top,
                                 max_row=last),
                       Reference(sheet, min_col=1, min_row=table_top + 1, max_row=last), len(frame))
    chart.height, chart.width = max(5.0, 2.5 + 1.0 * len(frame)), 18
    sheet.add_chart(chart, f"A{last + 2}")
    chart_rows = math.ceil(chart.height / 0.53) + 1  # 15-point rows are 0.53 cm
    line = last + 2 + chart_rows
    _paragraph(sheet, line, assumptions_line(scenario, frame, cat, max_price_age_days), span, layout.NOTE_FONT)
    _paragraph(sheet, line + 1, "Sources of every price and throughput: the Sources sheet (page 2)."
               + ("" if scenario.detail else " The detail sheets (ranking, breakdowns, simulator, forecast, "
                                             "sensitivity): atlas-xl report --detail."), span, layout.NOTE_FONT)
    layout.print_setup(sheet, area=f"A1:{get_column_letter(span)}{line + 1}", one_page=True)


def _paragraph(sheet, row, text, span, font=None):
    """One wrapped paragraph across ``span`` columns, its row as tall as the text needs."""
    cell = write_cell(sheet, row, 1, text)
    cell.alignment = layout.WRAP_TOP
    if font is not None:
        cell.font = font
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
    width = sum(sheet.column_dimensions[get_column_letter(c)].width or 8.43 for c in range(1, span + 1))
    size = (font.sz if font is not None and font.sz else 11) / 11
    bold = 1.1 if font is not None and font.b else 1.0
    lines = layout.wrapped_lines(text, width / size / bold - 2)
    sheet.row_dimensions[row].height = 15 * size * lines + 3


def assumptions_line(scenario, frame, cat, max_price_age_days=None):
    """Every setting the Summary's numbers depend on, in one sentence; a default says it is one. Prices older
    than ``max_price_age_days`` or undated are named (`atlas_xl.prices.with_price_age`)."""
    def given(value, default, text):
        return text(default) + " (default)" if value is None else text(value)
    a = DEFAULT_ASSUMPTIONS
    latency = ("no latency requirement" if scenario.latency_ms is None else
               f"latency requirement {scenario.latency_ms:,.0f} ms"
               + (" (default)" if scenario.latency_ms == Scenario.latency_ms else ""))
    aged = prices.with_price_age(frame, cat, model=scenario.model, max_age_days=max_price_age_days)
    stated = [str(d) for d in aged.price_as_of]
    dates = sorted(d for d in stated if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d))
    undated = len(stated) - len(dates)
    parts = [f"{layout.volume_text(scenario.tokens_per_day)} tokens/day, {scenario.pattern} traffic, {scenario.model}",
             given(scenario.precision, serving.DEFAULT_PRECISION, lambda v: f"{v} weights"),
             given(scenario.input_tokens, serving.DEFAULT_INPUT_TOKENS, lambda v: f"{v:,.0f} input")
             + " / " + given(scenario.output_tokens, serving.DEFAULT_OUTPUT_TOKENS, lambda v: f"{v:,.0f} output")
             + " tokens per request",
             "p99 limits " + given(scenario.ttft_ms, serving.DEFAULT_TTFT_MS, lambda v: f"TTFT {v:,.0f} ms") + ", "
             + given(scenario.tpot_ms, serving.DEFAULT_TPOT_MS, lambda v: f"TPOT {v:,.0f} ms"),
             latency,
             f"{a.hours_per_month:,.0f}-hour months, annual = 12 × monthly at today's volume",
             f"GPUs sized to at most {a.target_utilization:.0%} utilization at peak",
             ((f"prices as of {dates[0]}" if len(set(dates)) == 1 else f"prices as of {dates[0]} to {dates[-1]}")
              if dates else "no price dated") + (f" ({undated} undated)" if undated and dates else "")]
    stale = [f"{option_name(r)}: {r.price_as_of}" for r in aged.itertuples() if r.price_stale]
    if stale:
        limit = prices.max_age(max_price_age_days)
        parts.append(f"stale prices (older than {limit:,.0f} days or undated): {', '.join(stale)} — check them "
                     f"with the provider")
    return "Assumptions: " + "; ".join(parts) + "."


def _summary(sheet, scenario, results, cat):
    """The Overview sheet: the workload, the recommendation and the simulation of its deployment."""
    best = results.ranking.iloc[0]
    sim = results.simulation
    _title(sheet, scenario.title, f"atlas_xl {atlas_xl.__version__} · {date.today().isoformat()} · catalog "
                                  f"{cat.fingerprint}")
    blocks = [
        ("Workload", [("tokens_per_day", scenario.tokens_per_day), ("pattern", scenario.pattern),
                      ("model", scenario.model),
                      ("latency_ms", "none" if scenario.latency_ms is None else (
                          f"{scenario.latency_ms:,.0f} (default)" if scenario.latency_ms == Scenario.latency_ms
                          else scenario.latency_ms)),
                      ("precision", scenario.precision or f"{serving.DEFAULT_PRECISION} (default)",
                       "Serving precision"),
                      ("Request shape", f"{_or(scenario.input_tokens, serving.DEFAULT_INPUT_TOKENS):,.0f} in / "
                                        f"{_or(scenario.output_tokens, serving.DEFAULT_OUTPUT_TOKENS):,.0f} out",
                       "Request shape", "tokens per request"),
                      ("Latency limits", f"TTFT {_or(scenario.ttft_ms, serving.DEFAULT_TTFT_MS):,.0f} / TPOT "
                                         f"{_or(scenario.tpot_ms, serving.DEFAULT_TPOT_MS):,.0f}",
                       "Latency limits", "ms, p99"),
                      ("Offerings compared", len(results.ranking))]),
        ("Recommendation", [("platform", best.platform), ("gpu", best.gpu or "(per-token API)"),
                            ("billing", best.billing), ("gpu_count", best.gpu_count),
                            ("utilization_after", best.utilization_after), ("latency_risk", best.latency_risk),
                            ("monthly_cost_usd", best.monthly_cost_usd),
                            ("cost_per_m_tokens_usd", best.cost_per_m_tokens_usd),
                            ("idle_waste_usd", best.idle_waste_usd), ("penalty_usd", best.penalty_usd)]),
        (f"Simulator: {sim.workload} on {sim.target}" if sim is not None else "", [
            ("tokens_per_sec", sim.tokens_per_sec),
            ("p99_service_ms", sim.p99_service_ms, "P99 service time (without queue)"),
            ("queue_wait_p99_ms", sim.queue_wait_p99_ms, "P99 wait in the queue"),
            ("ttft_service_ms", sim.ttft_service_ms, "Time to first token (without queue)"),
            ("queue_utilization", sim.queue_utilization), ("node_power_w", sim.node_power_w),
            ("energy_cost_per_hour_usd", sim.energy_cost_per_hour_usd),
            ("dollar_per_1k_tokens", sim.dollar_per_1k_tokens)] if sim is not None else []),
    ]
    blocks = [b for b in blocks if b[1]]
    row = 4
    for heading, rows in blocks:
        write_cell(sheet, row, 1, heading).font = BOLD
        for column in (1, 2, 3):
            sheet.cell(row=row, column=column).border = layout.RULE
        row += 1
        for name, value, *label in rows:  # (field, value[, label[, units]] where the summary words it its own way)
            meta = fields.field(name) if name in fields.FIELDS else fields.Field(name, name, "count")
            fmt = fields.INTEGER if name == "latency_ms" else meta.number_format
            if isinstance(value, float) and math.isnan(value):
                value = "n/a"  # per-token offerings have no GPUs: say so rather than leave a hole
            write_cell(sheet, row, 1, label[0] if label else meta.label)
            write_cell(sheet, row, 2, value, fmt).alignment = Alignment(horizontal="right")
            layout.units_cell(write_cell(sheet, row, 3, label[1] if len(label) > 1 else layout.unit_text(meta.units, True)))
            row += 1
        row += 1
    write_cell(sheet, row, 1, "Why").font = BOLD
    why = _why(results.ranking, scenario)
    write_cell(sheet, row + 1, 1, why).alignment = layout.WRAP_TOP
    sheet.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=3)
    sheet.row_dimensions[row + 1].height = 15 * (len(why) // 70 + 2)  # ~70 characters a line across A:C
    _widths(sheet, [34, 26, 16])
    layout.print_setup(sheet, landscape=False, area=f"A1:C{row + 1}")


def _why(ranking, scenario, of_what=None):
    best = ranking.iloc[0]
    where = f"{best.platform}{' on ' + best.gpu if best.gpu else ' (per-token API)'}"
    of_what = of_what or f"{len(ranking)} offerings that serve {scenario.model}"
    text = (f"{where} ranks first (lowest penalty score, then lowest monthly cost) of the {of_what}: "
            f"${best.monthly_cost_usd:,.0f} a month, ${best.cost_per_m_tokens_usd:.4f} per million tokens")
    if best.billing != "per_token":
        text += f", {best.gpu_count:.0f} GPUs at {best.utilization_after:.0%} utilization ({best.latency_risk} risk)"
    if len(ranking) > 1:
        text += ". " + runner_up_text(best, ranking.iloc[1])
    if best.penalty_usd > 0:
        text += f". It has a penalty score of {best.penalty_usd:,.0f} (a ranking score, not a cost): see the Costs sheet"
    return text + "."


def runner_up_text(best, second):
    """How much more the runner-up costs, as a percentage of the recommendation's cost (the base a
    reader compares against: $30,000 against $9,750 is 208 % more, not 68 %)."""
    name = f"{second.platform}{' on ' + second.gpu if second.gpu else ''}"
    more, base = second.monthly_cost_usd - best.monthly_cost_usd, best.monthly_cost_usd
    if second.penalty_usd > best.penalty_usd:  # penalties rank first; they are a score, never added to a cost
        score = f"a penalty score of {second.penalty_usd:,.0f}"
        if more < 0:
            return f"The runner-up, {name}, costs ${-more:,.0f} less a month but ranks lower: {score}"
        return f"The runner-up, {name}, costs ${more:,.0f} more a month and has {score}"
    share = f" ({more / base:.0%} more)" if base > 0 else ""
    return f"The runner-up, {name}, costs ${more:,.0f} more a month{share}"


RANKING_FIELDS = ("rank", "platform", "gpu", "billing", "gpu_count", "utilization_after", "latency_risk",
                  "monthly_cost_usd", "idle_waste_usd", "cost_per_m_tokens_usd", "penalty_usd")
CAPACITY_FIELDS = ("rank", "platform", "gpu", "billing", "hourly_usd", "price_per_m_tokens", "gpu_tokens_per_s",
                   "effective_gpu_tokens_per_s", "avg_tokens_per_s", "peak_tokens_per_s", "utilization_ratio",
                   "gpu_count", "utilization_after", "latency_risk", "warm_replicas", "cold_start_s")
COST_FIELDS = ("rank", "platform", "gpu", "billing", "active_hours_per_month", "monthly_tokens", "monthly_cost_usd",
               "idle_waste_usd", "idle_waste_pct", "mean_utilization", "unused_capacity_usd", "cost_per_m_tokens_usd",
               "energy_kwh_per_month", "co2e_kg_per_month",
               "overload_penalty_usd", "scaling_penalty_usd", "latency_penalty_usd", "penalty_usd")
SERVING_FIELDS = ("rank", "platform", "gpu", "billing", "precision", "replica_gpus", "replica_choice", "scale_up_gpus",
                  "input_tokens", "output_tokens", "prefix_hit_rate",
                  "ttft_ms", "tpot_ms", "throughput_basis", "throughput_expected_error", "gpu_tokens_per_s")
CHART_BARS = 15


def _records(ranking, names):
    return [{n: r.get(n) for n in names} for r in ranking.to_dict("records")]


def _ranking(sheet, ranking):
    top = _title(sheet, "Ranking", "Every offering that serves the model, best first: penalty score, then "
                                   "monthly cost. Penalties rank setups; they are never added to a cost.")
    last = layout.table(sheet, top, list(RANKING_FIELDS), _records(ranking, RANKING_FIELDS), plan=True)
    sheet.freeze_panes = f"C{top + 1}"
    labels = len(RANKING_FIELDS) + 2  # "platform gpu" beside the table: the chart's category labels
    write_cell(sheet, top, labels, "Offering (chart label)").font = layout.NOTE_FONT
    bars = min(len(ranking), CHART_BARS)
    names = []
    for r in range(top + 1, top + 1 + bars):
        names.append(f"{sheet.cell(r, 2).value}/{sheet.cell(r, 3).value or 'per-token'}")
        write_cell(sheet, r, labels, names[-1]).font = layout.NOTE_FONT
    layout.set_width(sheet, labels, layout.fit_width(names))
    cost = RANKING_FIELDS.index("monthly_cost_usd") + 1
    chart = _bar_chart(f"Monthly cost by offering (best {bars})", "USD per month",
                       Reference(sheet, min_col=cost, min_row=top, max_row=top + bars),
                       Reference(sheet, min_col=labels, min_row=top + 1, max_row=top + bars), bars)
    sheet.add_chart(chart, f"B{last + 3}")
    layout.print_setup(sheet, title_rows=(top, top), area=f"A1:{get_column_letter(len(RANKING_FIELDS))}"
                                                            f"{last + 3 + math.ceil(chart.height / 0.5)}")


def _bar_chart(title, axis_title, data, categories, bars):
    """A horizontal bar chart, best first from the top, with labels that fit: one bar per centimetre."""
    chart = BarChart()
    chart.type, chart.title, chart.legend, chart.style = "bar", title, None, 10
    chart.y_axis.title = axis_title
    chart.y_axis.number_format = fields.USD
    chart.y_axis.majorGridlines = ChartLines()
    chart.y_axis.scaling.min = 0  # bars of money start at $0, or a 1 % difference looks like a factor
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.txPr = _axis_font(800)
    chart.y_axis.txPr = _axis_font(800)
    chart.x_axis.tickLblSkip = 1  # every offering named, none skipped
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.gapWidth = 40
    chart.height, chart.width = max(7.5, 3 + 1.0 * bars), 20
    return chart


def _axis_font(size):
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=size)), endParaRPr=
                                 CharacterProperties(sz=size))])


def _breakdown(sheet, ranking, names, title, subtitle):
    names = [n for n in names if n in ranking.columns]
    top = _title(sheet, title, subtitle)
    last = layout.table(sheet, top, names, _records(ranking, names), plan=True)
    sheet.freeze_panes = f"D{top + 1}"
    layout.print_setup(sheet, title_rows=(top, top), area=f"A1:{get_column_letter(len(names))}{last}")


VOLUME = layout.VOLUME


def _sweep(sheet, volumes, series):
    top = _title(sheet, "Monthly cost against tokens per day", "The best offerings at the scenario's volume, over "
                                                               "a range of volumes [USD/month].")
    layout.header(sheet, top, ["Tokens per day\n[tokens/day]"] + [f"{name}\n[USD/month]" for name in series])
    shown = [[] for _ in range(len(series) + 1)]
    for i, volume in enumerate(volumes, start=top + 1):
        write_cell(sheet, i, 1, float(volume), VOLUME)
        shown[0].append(f"{volume:,.0f}")
        for j, costs in enumerate(series.values(), start=2):
            write_cell(sheet, i, j, float(costs[i - top - 1]), fields.USD)
            shown[j - 1].append(fields.display(float(costs[i - top - 1]), fields.USD))
    for j, name in enumerate(["Tokens per day"] + list(series)):
        layout.set_width(sheet, j + 1, max(14, layout.fit_width(shown[j], name)))
    sheet.row_dimensions[top].height = 45
    last = top + len(volumes)
    chart = ScatterChart()
    chart.title, chart.style = "Monthly cost against tokens per day", 2  # style 2: distinct colours
    chart.x_axis.title, chart.y_axis.title = "tokens per day (log scale)", "USD per month (log scale)"
    chart.x_axis.scaling.logBase = 10
    chart.y_axis.scaling.logBase = 10
    chart.x_axis.number_format, chart.y_axis.number_format = VOLUME, fields.USD
    chart.x_axis.txPr = _axis_font(900)
    chart.y_axis.txPr = _axis_font(900)
    chart.x_axis.delete = chart.y_axis.delete = False
    xs = Reference(sheet, min_col=1, min_row=top + 1, max_row=last)
    for j, name in enumerate(series, start=2):
        line = Series(Reference(sheet, min_col=j, min_row=top + 1, max_row=last), xs, title=name)
        line.marker.symbol = "circle"
        chart.series.append(line)
    chart.height, chart.width = 11, 22
    sheet.add_chart(chart, f"A{last + 3}")
    layout.print_setup(sheet, area=f"A1:{get_column_letter(max(len(series) + 1, 8))}{last + 26}", one_page=True)


def _simulator(sheet, record):
    top = _title(sheet, f"Simulator: {record.workload} on {record.target}",
                 "The whole simulation record. Latencies with and without the queue delay.")
    last = layout.record(sheet, top, record)
    column = 6  # percentile table and chart to the right of the record
    layout.header(sheet, top, ["Percentile", "Service\n[ms]", "With queue\n[ms]"], column)
    for i, p in enumerate(("p50", "p95", "p99", "ttft"), start=top + 1):
        write_cell(sheet, i, column, fields.label(f"{p}_ms"))
        write_cell(sheet, i, column + 1, record[f"{p}_service_ms"], fields.DECIMAL)
        write_cell(sheet, i, column + 2, record[f"{p}_ms"], fields.DECIMAL)
    layout.widths(sheet, [22, 14, 14], column)
    sheet.column_dimensions["E"].width = 3
    chart = BarChart()
    chart.title, chart.y_axis.title, chart.style = "Latency percentiles", "ms", 10
    chart.add_data(Reference(sheet, min_col=column + 1, max_col=column + 2, min_row=top, max_row=top + 4),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=column, min_row=top + 1, max_row=top + 4))
    chart.x_axis.txPr, chart.y_axis.txPr = _axis_font(900), _axis_font(900)
    chart.x_axis.tickLblSkip = 1  # every percentile named
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.height, chart.width = 8, 14
    sheet.add_chart(chart, f"F{top + 7}")
    sheet.freeze_panes = f"A{top + 1}"
    layout.print_setup(sheet, title_rows=(top, top), area=f"A1:H{last}", landscape=False)
    return last


PHASE_FIELDS = ("phase", "duration_minutes", "tokens_scale", "autoscale_factor", "queue_profile", "tokens_per_sec",
                "p50_ms", "p99_ms", "ttft_ms", "queue_utilization", "node_power_w", "dollar_per_1k_tokens",
                "saturated")


def _schedule(sheet, aggregated):
    top = _title(sheet, f"Schedule: {aggregated.workload} on {aggregated.target}",
                 f"{aggregated.phase_count} phases over {aggregated.duration_minutes:,.0f} minutes. Each phase, "
                 f"then the schedule aggregated by duration.")
    last = layout.table(sheet, top, list(PHASE_FIELDS), [{n: p[n] for n in PHASE_FIELDS} for p in aggregated.phases])
    write_cell(sheet, last + 2, 1, "Whole schedule, weighted by phase duration").font = BOLD
    end = layout.record(sheet, last + 3, aggregated, describe=False)
    layout.print_setup(sheet, title_rows=(top, top), area=f"A1:{get_column_letter(len(PHASE_FIELDS))}{end}")


def _assumptions(sheet, scenario):
    top = _title(sheet, "Assumptions", "Every constant the numbers depend on.")
    layout.header(sheet, top, ["Assumption", "Value", "Units", "Source", "What it means"])
    rows = [(fields.field(name, assumption=True), value, "planner spec default (atlas_xl.Assumptions)")
            for name, value in asdict(DEFAULT_ASSUMPTIONS).items()]
    for name in ("usd_per_kwh", "pue", "seed", "target", "workload", "knobs"):
        value = getattr(scenario, name)
        if value is None:
            value = {"pue": "the target's", "knobs": "the workload's"}.get(name, "the planned deployment")
        elif not isinstance(value, (int, float, str)):
            value = str(value)
        meta = fields.field(name) if name != "knobs" else fields.Field("knobs", "Knobs", "", "simulator settings")
        rows.append((meta, value, "scenario"))
    shown = [[], [], [], [], []]
    for row, (meta, value, source) in enumerate(rows, start=top + 1):
        fmt = fields.number_format(meta.name, value)
        cells = (meta.label, value, layout.unit_text(meta.units, True), source, meta.description)
        for column, item in enumerate(cells, start=1):
            cell = write_cell(sheet, row, column, item, fmt if column == 2 else None)
            if column == 2:
                cell.alignment = Alignment(horizontal="right")
            elif column == 3:
                layout.units_cell(cell)
            shown[column - 1].append(fields.display(item, fmt) if column == 2 else str(item))
    for column, values in enumerate(shown, start=1):
        layout.set_width(sheet, column, layout.fit_width(values, "Assumption"))
    layout.print_setup(sheet, title_rows=(top, top), area=f"A1:E{top + len(rows)}")


def _sources(sheet, ranking, record, cat, scenario, one_page=False):
    top = _title(sheet, "Catalog rows used", "Where every figure of this report comes from.")
    layout.header(sheet, top, ["Table", "Key", "Source", "As of", "Notes"])
    rows = []
    offerings = cat.tables["offerings"]
    for offer in ranking.itertuples():
        match = offerings[(offerings.platform == offer.platform) & (offerings.gpu == offer.gpu)
                          & (offerings.model == ("" if offer.gpu else scenario.model))]
        for o in match.itertuples():
            rows.append(("offerings", f"{offer.platform}/{offer.gpu or scenario.model}", o.source, o.as_of, o.notes))
    model = normalize_key(scenario.model)
    throughput = cat.tables["throughput"]
    used = {g for g in ranking.gpu if g}
    for t in throughput[(throughput.model == model) & throughput.gpu.isin(used)].itertuples():
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
    column_widths = [18, max([28] + [len(str(r[1])) + 2 for r in rows]), 60, 11, 70]  # every key whole
    _widths(sheet, column_widths)
    for r, values in enumerate(rows, start=top + 1):
        lines = 1
        for c, value in enumerate(values, start=1):
            wrap = c in (3, 5)
            write_cell(sheet, r, c, value).alignment = Alignment(wrap_text=wrap, vertical="top")
            if wrap and value:  # openpyxl leaves row heights to the reader, and LibreOffice keeps 15 points
                lines = max(lines, layout.wrapped_lines(str(value), column_widths[c - 1] - 2))
        sheet.row_dimensions[r].height = 15 * lines + 2
    layout.print_setup(sheet, title_rows=(top, top), area=f"A1:E{top + len(rows)}", one_page=one_page)

