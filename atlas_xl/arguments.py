"""Every argument of the Python API and the worksheet functions, once: name, Excel label, units,
type, default, bounds with the reason, choices and help.

A module of data, as pvlib keeps its variable names in one ``nomenclature``. The worksheet
functions' signatures and help (`udfs.functions`), the Calc add-in's IDL, ``docs/functions.md``,
the bounds table of ``docs/limits.md``, the one check every entrance calls
(`atlas_xl.values.check_arguments`), the sweep columns and the template's formulas are made from
it or checked against it (tests/test_arguments.py).

Units are the field table's vocabulary (`atlas_xl.fields`: ``tokens/day``, ``USD/GPU-hour``,
``ms``...), with ``months``, ``days``, ``draws``, ``scenarios`` and ``sequences`` for counts the
field table does not show. Bounds are inclusive (``positive`` = strictly above 0; ``whole`` refuses
fractions, never rounds). An upper bound is a plausibility limit: the same value is refused with the
same message at every entrance (docs/limits.md).

Choices that come from a catalog table name it (``CatalogKeys("models", "model")``): the keys are
the catalog's, which a workbook may edit. Closed word lists (billing types, precisions, commitment
terms) are constants here; `atlas_xl.catalog` validates its columns with the same tuples.

Python only: this module imports nothing but the error type, so the value parser
(`atlas_xl.values`) and the catalog reader can use it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import unknown_name

BILLING = ("autoscaling", "dedicated", "per_token")
"""How an offering charges: per GPU-hour while active, per GPU-hour always, per token."""
PRECISIONS = ("bf16", "fp16", "fp8", "fp4")
"""Weight precisions the serving model knows; ``best`` may also be asked for (`PRECISION_CHOICES`)."""
PRECISION_CHOICES = PRECISIONS + ("best",)
TERMS = ("1y", "3y")
"""Commitment terms of the commitments catalog (reserved prices)."""
SPECULATIVE = ("mtp", "eagle")
"""Speculative decoding methods of the serving model v2 (issue 17); blank = none."""

USD_PER_KWH = 0.12
"""Default electricity price [USD/kWh]: the simulator spec's "Standard rate" (section 6)."""
PUE = 1.58
"""Default facility power over IT power of a plan [unitless]: the 2023 industry average of Uptime Institute's survey
(data/electricity_datacenter.csv; new large facilities report 1.3 or better — give yours). The simulator's default is
the target's own (targets.csv)."""

HOUR_MS = 3.6e6  # one hour: a latency limit beyond it is not interactive serving
ONE_HOUR = "one hour; a latency target beyond it is not interactive serving"


@dataclass(frozen=True)
class CatalogKeys:
    """Choices that are the keys of a catalog table's column (the workbook may add rows)."""
    table: str
    column: str

    def __str__(self):
        return f"keys of the {self.table} catalog ({self.column})"


@dataclass(frozen=True)
class Argument:
    """One argument. ``kind``: number, text, choice, bool, date, range (cells), pairs (a key | value
    range), table (a catalog table's range) or fields (field names). ``blank`` says what an empty
    cell / None means when that is not simply ``default``. ``pending``: declared for a change that
    has not landed on this branch; nothing wires it (no worksheet argument, no check)."""
    name: str
    group: str
    label: str
    help: str
    units: str = ""
    kind: str = "number"
    default: object = None
    blank: str | None = None
    positive: bool = False
    minimum: float | None = None
    maximum: float | None = None
    whole: bool = False
    reason: str = ""
    choices: object = None  # a tuple of words, or CatalogKeys
    key: str | None = None  # the template's Inputs key when it differs from the name (ttft_limit_ms)
    pending: bool = False

    @property
    def bounded(self):
        return self.positive or self.minimum is not None or self.maximum is not None or self.whole

    @property
    def bounds(self):
        """Keyword arguments of `atlas_xl.values.parse_number` / `bound_problem`."""
        out = {}
        if self.positive:
            out["positive"] = True
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.whole:
            out["whole"] = True
        out["unit"] = self.message_units
        return out

    @property
    def message_units(self):
        """The units a bound message shows after a number ('' for counts and ratios)."""
        return "" if self.units in ("", "count", "ratio", "share") else self.units

    @property
    def doc(self):
        """The worksheet help: the text, then what a blank cell means."""
        blank = self.blank if self.blank is not None else (None if self.default is None else _shown(self.default))
        return self.help + (f"; blank = {blank}" if blank is not None else "")

    def argparse_kwargs(self):
        """Keyword arguments of argparse's ``add_argument`` for this argument: help with units and what
        the default is, choices. The parsed default is None — "not given", as a blank cell — because a
        given value can mean more than the default does (an ``input_tokens`` given prices per-token
        offerings by input and output apart). ``type`` is the caller's: the CLI reads numbers with the
        value parser and these bounds (`atlas_xl.values.parse_argument`), which this module cannot import."""
        units = f" [{self.units}]" if self.units and f"[{self.units}]" not in self.help else ""
        blank = self.blank if self.blank is not None else (None if self.default is None else _shown(self.default))
        default = f" (default: {blank})" if blank is not None else ""
        out = {"default": None, "help": f"{self.help}{units}{default}"}
        if self.kind == "bool":  # a switch: given = True
            out.update(action="store_true", default=self.default)
        if isinstance(self.choices, tuple):
            out["choices"] = self.choices
        return out


def _shown(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _table(name, what):
    return Argument(name, "tables", f"{what} table", f"{what} catalog table (range with header row)", kind="table",
                    blank="built-in")


_ARGUMENTS = (
    # -- workload: what is served ---------------------------------------------------------------------------
    Argument("tokens_per_day", "workload", "Tokens per day", "Daily token volume [tokens/day]", "tokens/day",
             positive=True, maximum=1e15,
             reason="23x the 1.3e15 tokens/month Google reported for all its products (Oct 2025)"),
    Argument("pattern", "workload", "Traffic pattern",
             "Traffic pattern: steady, business_hours, bursty (or a row of the patterns table)", kind="choice",
             choices=CatalogKeys("patterns", "pattern")),
    Argument("model", "workload", "Model", "Model key, e.g. llama_70b", kind="choice",
             choices=CatalogKeys("models", "model")),
    Argument("latency_ms", "workload", "Latency requirement",
             "Latency requirement [ms]; below 300 ms a high-risk setup is penalised", "ms", blank="none", minimum=0,
             maximum=HOUR_MS, reason=ONE_HOUR),
    # -- offering: where it is served and at what price -----------------------------------------------------
    Argument("platform", "offering", "Platform", "Platform key, e.g. runpod, fireworks, together", kind="choice",
             choices=CatalogKeys("offerings", "platform")),
    Argument("gpu", "offering", "GPU", "GPU key (h100_sxm)", kind="choice", choices=CatalogKeys("gpus", "gpu"),
             blank="the platform's only/per-token offering"),
    Argument("gpu_count", "offering", "Fixed GPU count", "Fix the GPU count instead of the 75 % rule [GPUs]", "GPUs",
             blank="rule", positive=True, whole=True, maximum=1e7, key="fixed_gpu_count",
             reason="about three years of NVIDIA data-center GPU shipments (~3.8M in 2023, TechInsights)"),
    Argument("gpu_tokens_per_s", "offering", "Throughput per GPU (input + output)",
             "Override throughput per GPU [tokens/s/GPU]", "tokens/s/GPU", blank="catalog", minimum=1e-3, maximum=1e8,
             key="gpu_tokens_per_s_override",
             reason="compute bound 2 x 4.5 PFLOPS (B200 FP8, data/gpu_specs.csv, x2 for FP4) / (2 FLOP x 1e8 params)"
                    " = 4.5e7 tokens/s for a 0.1B model; below 1e-3 tokens/s nothing is served"),
    Argument("hourly_usd", "offering", "Price per GPU-hour", "Override price per GPU-hour [USD/GPU-hour]", "USD/GPU-hour",
             blank="catalog", minimum=0, maximum=1000, key="hourly_usd_override",
             reason="~100x the dearest on-demand GPU-hour in data/cloud_and_api_prices.csv"),
    Argument("price_per_m_tokens", "offering", "Price per million tokens",
             "Override per-token price [USD per million tokens]", "USD/Mtok", blank="catalog", minimum=0,
             maximum=10_000, key="price_per_m_tok_override",
             reason="~16x the dearest API price published (600 USD/Mtok output, OpenAI o1-pro, 2025)"),
    Argument("billing", "offering", "Billing", "How an offering without a catalog row charges", kind="choice",
             choices=BILLING, blank="the catalog offering's"),
    # -- serving: precision, request shape, latency limits, replica size ------------------------------------
    Argument("precision", "serving", "Precision",
             "Weight precision: bf16, fp8, fp4 or best (planner: the native one of least cost; serving model: the "
             "narrowest)", kind="choice", choices=PRECISION_CHOICES, default="fp8"),
    Argument("input_tokens", "serving", "Input tokens per request", "Input tokens per request [tokens]", "tokens",
             default=1024, minimum=1, maximum=1e9,
             reason="a request holds at least one token; 1000x the longest published context windows"),
    Argument("output_tokens", "serving", "Output tokens per request", "Output tokens per request [tokens]", "tokens",
             default=1024, minimum=1, maximum=1e9,
             reason="at least the first token; 1000x the longest published context windows"),
    Argument("ttft_ms", "serving", "Time to first token limit", "p99 time-to-first-token limit [ms]", "ms",
             default=2000.0, minimum=0.01, maximum=HOUR_MS, key="ttft_limit_ms",
             reason="10 us: two GPU kernel launches (a few us each, NVIDIA 'Getting Started with CUDA Graphs', 2019); "
                    "no forward pass is faster. One hour, as latency_ms"),
    Argument("tpot_ms", "serving", "Time per output token limit", "p99 time-per-output-token limit [ms]", "ms",
             default=200.0, minimum=0.01, maximum=HOUR_MS, key="tpot_limit_ms", reason="as ttft_ms"),
    Argument("tp", "serving", "GPUs per replica", "GPUs per replica (tensor parallel)", "GPUs",
             blank="the least-cost size (planner), the fastest (serving model)", positive=True, whole=True,
             maximum=1_000_000, reason="a degree of parallelism above 1e6 exceeds any cluster"),
    Argument("concurrency", "serving", "Sequences per replica", "Sequences decoded together on one replica",
             "sequences", blank="the most within the limits", minimum=1, maximum=1e6, whole=True,
             reason="sequences per replica; 1e6 is ~1000x the batch any published serving benchmark runs"),
    Argument("speculative", "serving", "Speculative decoding", "Speculative decoding: mtp or eagle", kind="choice",
             choices=SPECULATIVE, blank="none"),
    Argument("acceptance_length", "serving", "Acceptance length",
             "Tokens accepted per verification step with speculative decoding [tokens]", "tokens",
             blank="the method's", minimum=1, maximum=64,
             reason="at least the verified token; above 64 exceeds any draft length published"),
    Argument("prefix_hit_rate", "serving", "Prefix-cache hit rate",
             "Share of input tokens served from the prefix cache (vLLM automatic prefix caching, SGLang "
             "RadixAttention), e.g. 0.8 [0-1]", "share", default=0.0, minimum=0, maximum=1,
             reason="a share of the input tokens: 0 (no cache hits) to 1 (every input token cached)"),
    Argument("disaggregated", "serving", "Disaggregated serving",
             "Serve prompts and generation on separate GPUs of the offering (prefill/decode units, "
             "atlas_xl.estimate_disaggregated); GPU offerings only", kind="bool", default=False, blank="aggregated"),
    # -- finance: forecast, uncertainty, commitments, break-even ---------------------------------------------
    Argument("months", "finance", "Months", "Months to forecast", "months",
             blank="12 (or the number of volumes given) [months]", minimum=1, maximum=1200, whole=True,
             reason="a century of monthly forecast"),
    Argument("monthly_growth", "finance", "Monthly growth", "Volume growth per month, e.g. 5 % or 0.05 [1/month]",
             "share", default=0.0),
    Argument("start", "finance", "First month",
             "First calendar month (a date, or text YYYY-MM): months get their real length", kind="date",
             blank="720-h months"),
    Argument("price_change_per_year", "finance", "Price change per year",
             "Price change per year, e.g. -20 % [1/year]", "share", default=0.0),
    Argument("commitment", "finance", "Commitment", "Reserved price term: 1y or 3y (commitments table)",
             kind="choice", choices=TERMS, blank="on demand"),
    Argument("committed_gpus", "finance", "Committed GPUs", "GPUs committed [GPUs]", "GPUs",
             blank="month 1's GPU count [GPUs]", positive=True, maximum=1e7, reason="as gpu_count"),
    Argument("option_a", "finance", "Option A", "First option: platform or platform/gpu, e.g. together", kind="text"),
    Argument("option_b", "finance", "Option B", "Second option: platform or platform/gpu, e.g. runpod/h100_sxm",
             kind="text"),
    Argument("gpu_a", "finance", "GPU of option A", "GPU of the first option when option_a is a platform alone",
             kind="choice", choices=CatalogKeys("gpus", "gpu"), blank="none"),
    Argument("gpu_b", "finance", "GPU of option B", "GPU of the second option when option_b is a platform alone",
             kind="choice", choices=CatalogKeys("gpus", "gpu"), blank="none"),
    Argument("timestamps", "finance", "Timestamps", "Range of usage timestamps (dates/times, hourly or finer)",
             kind="range"),
    Argument("tokens", "finance", "Tokens", "Range of token counts, one beside each timestamp [tokens]", "tokens",
             kind="range"),
    Argument("pattern_field", "finance", "Pattern field",
             "One field to return (active_ratio, burst_factor, efficiency, batch_multiplier, tokens_per_day)",
             kind="fields", blank="the whole table"),
    Argument("percentile", "finance", "Percentile",
             "Percentile of the monthly cost: 10, 50, 90 (or 10 %, 50 %, 90 %); a range spills", default=50.0),
    Argument("throughput_error", "finance", "Throughput error", "Relative 1-sigma throughput error, e.g. 0.15",
             "share", blank="the serving model's", minimum=0,
             reason="a standard deviation is never negative"),
    Argument("price_spread", "finance", "Price spread", "Relative 1-sigma price spread, e.g. 0.1", "share",
             default=0.0, minimum=0, reason="as throughput_error"),
    Argument("volume_spread", "finance", "Volume spread", "Relative 1-sigma error of the daily volume, e.g. 0.2",
             "share", default=0.0, minimum=0, reason="as throughput_error"),
    Argument("draws", "finance", "Draws", "Monte-Carlo draws", "draws", default=10000, minimum=1, maximum=1e7,
             whole=True,
             reason="Monte Carlo draws held in memory at once (1e7 x a few float64 arrays is a few hundred MB)"),
    Argument("month", "finance", "Month", "Which forecast month (1 = now)", "months", default=1, positive=True,
             whole=True, reason="the first month is 1"),
    Argument("growth_spread", "finance", "Growth spread", "1-sigma of the monthly growth rate, e.g. 0.02", "share",
             default=0.0, minimum=0, reason="as throughput_error"),
    Argument("spread", "finance", "Spread", "Low/high of every input as ± this share, e.g. 0.1", "share",
             default=0.1, minimum=0, reason="a spread is never negative"),
    Argument("output", "finance", "Output",
             "Plan field to compare: monthly_cost_usd (blank), cost_per_m_tokens_usd, unused_capacity_usd, gpu_count",
             kind="fields"),
    Argument("horizon_months", "finance", "Horizon", "Forecast horizon for the commitment advice", "months",
             blank="36 [months]", minimum=1, maximum=1200, whole=True, reason="as months"),
    Argument("term", "finance", "Terms", "Commitment terms to consider: 1y, 3y or 1y,3y", kind="text",
             blank="every term priced for the GPU"),
    Argument("commit_draws", "finance", "Draws", "Monte-Carlo draws", "draws", default=2000, minimum=1, maximum=1e7,
             whole=True, reason="as draws"),
    Argument("fiscal_year_start_month", "finance", "Fiscal year start", "First month of the fiscal year", "",
             minimum=1, maximum=12, whole=True, reason="a month of the year"),
    Argument("max_price_age_days", "finance", "Price age limit", "Flag prices older than this", "days", minimum=0,
             maximum=36_500, reason="a century; 0 flags every price"),
    # -- simulator ------------------------------------------------------------------------------------------
    Argument("target", "simulator", "Target",
             "Target key, e.g. nvidia_h100_8x_nvlink, or a key | value range: target, gpu_count (resized to it) and "
             "dotted overrides", kind="choice",
             choices=CatalogKeys("targets", "target")),
    Argument("workload", "simulator", "Workload",
             "Workload key, or a key | value range of dotted overrides (parallelism.dp | 4)", kind="pairs",
             choices=CatalogKeys("workloads", "workload")),
    Argument("knobs", "simulator", "Knobs", "Key | value range: cuda_graphs, gpudirect_rdma, fabric, virt, microbatch",
             kind="pairs", blank="workload's"),
    Argument("seed", "simulator", "Seed", "Noise seed (whole number)", "", default=0, minimum=0, maximum=2**32 - 1,
             whole=True, reason="numpy seeds are 32-bit"),
    Argument("usd_per_kwh", "simulator", "Electricity price", "Electricity price [USD/kWh]", "USD/kWh",
             default=USD_PER_KWH, minimum=0, maximum=10,
             reason="~50x the dearest price (0.19 USD/kWh) in data/electricity_datacenter.csv"),
    Argument("pue", "simulator", "PUE", "Power usage effectiveness: facility power over IT power [>= 1]", "ratio",
             blank=f"{PUE:g}, Uptime's 2023 average (planner); the target's (simulator)", minimum=1, maximum=5,
             reason=f"PUE >= 1 by definition; 5 is ~3x the 2023 industry average of {PUE:g} (Uptime, "
                    "data/electricity_datacenter.csv)"),
    # -- autoscaling dynamics of a plan (atlas_xl.scaling) ------------------------------------------------------
    Argument("min_replicas", "scaling", "Warm replicas", "Replicas kept warm through the hours without traffic",
             "count", default=0, minimum=0, maximum=1e6, whole=True, reason="as gpu_count, in replicas"),
    Argument("ramps_per_week", "scaling", "Ramps per week", "Times a week the load rises from quiet to active [1/week]",
             "count", blank="the pattern's", minimum=0, maximum=10_080,
             reason="one a minute: a ramp cannot be shorter than the time between two"),
    Argument("load_gb_s", "scaling", "Weight load bandwidth", "Weights loaded per second into a starting replica "
             "[GB/s]", "GB/s", blank="0.89 (Tensorfuse)", positive=True, maximum=1000,
             reason="~20x a GPU's PCIe 5.0 x16 link (64 GB/s) times 16 GPUs"),
    Argument("engine_start_s", "scaling", "Engine start", "Engine start besides the weights [s]", "s",
             blank="64 (Tensorfuse)", minimum=0, maximum=86_400, reason="a day"),
    # -- power, energy and carbon of a plan (atlas_xl.footprint) ---------------------------------------------
    Argument("region", "energy", "Grid region", "Grid region of the grid_intensity catalog (a country, or world)",
             kind="choice", choices=CatalogKeys("grid_intensity", "region"), blank="world"),
    Argument("g_co2e_per_kwh", "energy", "Grid intensity", "Grid carbon intensity instead of the region's [gCO2e/kWh]",
             "gCO2e/kWh", blank="the region's", minimum=0, maximum=1500,
             reason="~1.5x lignite's ~1,000 g/kWh; India's grid, the most carbon-intensive in "
                    "catalogs/grid_intensity.csv, is 713"),
    Argument("power_cap_kw", "energy", "Site power cap", "Site power at the facility meter [kW]", "kW", blank="none",
             positive=True, maximum=1e7,
             reason="10 GW: several times the largest AI campus announced; a cap below one replica is refused"),
    Argument("sla_p99_ms", "simulator", "P99 limit", "P99 latency limit for inference [ms]", "ms", default=120.0,
             positive=True, maximum=HOUR_MS, reason="one hour, as latency_ms"),
    # -- what a worksheet function shows, and how the planner counts ------------------------------------------
    Argument("assumptions", "view", "Assumptions",
             "Key | value range of assumptions (hours_per_month, target_utilization, ...)", kind="pairs",
             blank="defaults"),
    Argument("options", "view", "Options",
             "Key | value range of named arguments (precision | fp8, tpot_ms | 40); the template's Inputs key "
             "column names them", kind="pairs", blank="none"),
    Argument("top", "view", "Top", "Show only the best N rows", "count", blank="all", minimum=1,
             maximum=1_000_000, whole=True, reason="a count of rows to show"),
    Argument("fields", "view", "Fields",
             "Columns to show: a range or comma-separated text of field names (rank, platform, monthly_cost_usd...)",
             kind="fields", blank="all"),
    Argument("forecast_fields", "view", "Fields",
             "Columns to show: a range or comma-separated text (month, monthly_cost_usd, ...)", kind="fields",
             blank="the main ones"),
    Argument("kind", "view", "Catalog",
             "Catalog: models, patterns, platforms, gpus, targets, workloads, offerings, throughput, ...",
             kind="choice"),
    Argument("table", "tables", "Table", "That catalog's table (range with header row)", kind="table",
             blank="built-in"),
    _table("gpus", "GPUs"), _table("models", "Models"), _table("patterns", "Traffic patterns"),
    _table("offerings", "Offerings"), _table("throughput", "Throughput"),
    _table("commitments", "Commitments"),
    _table("hardware_models", "Hardware models"), _table("targets", "Targets"), _table("workloads", "Workloads"),
    _table("phases", "Schedule phases"), _table("request_profiles", "Request profiles"),
    # -- running sweeps ------------------------------------------------------------------------------------
    Argument("workers", "run", "Workers", "Local processes", "", minimum=1, maximum=4096, whole=True,
             reason="local processes; more than any one machine's cores"),
    Argument("chunk_size", "run", "Chunk size", "Scenarios per task", "scenarios", default=2000, minimum=1,
             maximum=10_000_000, whole=True, reason="scenarios per task"),
)

ARGUMENTS = {a.name: a for a in _ARGUMENTS}
"""Every argument by name, in the registry's order (the order worksheet signatures use)."""

GROUPS = ("workload", "offering", "serving", "finance", "simulator", "scaling", "energy", "view", "tables", "run")

def get(name):
    """The argument ``name``; an unknown name lists the known ones."""
    try:
        return ARGUMENTS[name]
    except KeyError:
        raise unknown_name("argument", name, ARGUMENTS) from None


def group(name, *, pending=False):
    """The arguments of one group, in order (``pending`` ones only when asked for)."""
    return tuple(a for a in _ARGUMENTS if a.group == name and (pending or not a.pending))


def bounded():
    """Every argument with bounds, in order: what `atlas_xl.values.check_arguments` holds values to."""
    return {a.name: a for a in _ARGUMENTS if a.bounded}


def key_names():
    """Template Inputs key → argument name, for every argument whose key differs (ttft_limit_ms → ttft_ms)."""
    return {a.key: a.name for a in _ARGUMENTS if a.key}


# -- which arguments each entrance takes (names in order) -------------------------------------------------
PLAN = ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count", "gpu_tokens_per_s",
        "hourly_usd", "price_per_m_tokens", "billing", "precision", "input_tokens", "output_tokens", "ttft_ms",
        "tpot_ms", "tp", "prefix_hit_rate")
"""`atlas_xl.plan`'s arguments (besides catalog and assumptions) that every planner entrance takes: the planner
worksheet functions (`udfs.calls`), sweep columns (`atlas_xl.sweeps`) and the template."""
PLAN_RUNNING = ("region", "min_replicas", "disaggregated", "pue")
"""`atlas_xl.plan`'s arguments after `PLAN`: the grid of ``co2e_kg_per_month``, the warm pool of
``warm_replicas`` (issue 19 items 3-4), disaggregated prefill/decode serving (issue 19 item 1) and the facility PUE of
``energy_kwh_per_month``. The Python API, ``atlas-xl plan`` and the planner worksheet functions (at the end of their
argument lists, before options) take them, and so do the finance functions that show any plan field (ATLAS_FORECAST's
columns, ATLAS_SENSITIVITY's output; ``atlas-xl forecast``, ``sensitivity``)."""
COST_RUNNING = ("disaggregated",)
"""The one argument of `PLAN_RUNNING` that changes a monthly cost: region and pue change energy and CO2e only, and
min_replicas only ``warm_replicas`` (plan prices autoscaling by its active hours; `atlas_xl.scaling` prices a warm
pool). The finance functions whose results are costs take it alone (ATLAS_BREAKEVEN, ATLAS_COST_RANGE,
ATLAS_COMMIT; ``atlas-xl breakeven``, ``cost-range``, ``commit``)."""
RANK_RUNNING = ("region", "disaggregated", "pue")
"""`atlas_xl.rank`'s arguments of `PLAN_RUNNING` (a ranking keeps no warm replicas)."""
ONE_PER_CALL = ("min_replicas", "pue")
"""Numbers of `PLAN_RUNNING` that `atlas_xl.plan` takes one value of per call (an array is refused in one line): a
worksheet range or a sweep column of them is grouped by value, one plan per value."""
SERVING = ("precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp", "prefix_hit_rate")
"""The serving settings every planner and finance function forwards to `plan`."""
FORECAST = ("months", "monthly_growth", "price_change_per_year")
"""The forecast arguments a sweep scenario takes besides plan's."""
PLANNER_TABLES = ("gpus", "models", "patterns", "offerings", "throughput")
ESTIMATE_TABLES = ("gpus", "models", "throughput")
SIMULATOR_TABLES = ("hardware_models", "targets", "workloads", "phases", "request_profiles")
FINANCE_TABLES = PLANNER_TABLES + ("commitments",)


def limits_table():
    """The markdown table of bounds that docs/limits.md shows (a test compares the two)."""
    lines = ["| argument | lower | upper | units | kind | why this bound |", "|---|---|---|---|---|---|"]
    for a in _ARGUMENTS:
        if not a.reason:
            continue
        lower = "> 0" if a.positive else (f"≥ {a.minimum:g}" if a.minimum is not None else "")
        upper = f"≤ {a.maximum:g}" if a.maximum is not None else ""
        kind = "whole" if a.whole else ""
        pending = " (serving model v2, not yet wired)" if a.pending else ""
        lines.append(f"| `{a.name}` | {lower} | {upper} | {a.message_units} | {kind} | {a.reason}{pending} |")
    return "\n".join(lines) + "\n"


def arguments_table():
    """The markdown table of every argument by group that docs/limits.md shows (tested as current)."""
    lines = []
    for name in GROUPS:
        lines += [f"### {name}", "", "| argument | Excel label | units | default | choices | help |",
                  "|---|---|---|---|---|---|"]
        for a in group(name, pending=True):
            default = "" if a.default is None else _shown(a.default)
            choices = (", ".join(a.choices) if isinstance(a.choices, tuple) else str(a.choices or ""))
            pending = " *(serving model v2, not yet wired)*" if a.pending else ""
            lines.append(f"| `{a.name}` | {a.label} | {a.units} | {default} | {choices} | "
                         f"{a.doc.replace('|', chr(92) + '|')}{pending} |")
        lines.append("")
    return "\n".join(lines)
