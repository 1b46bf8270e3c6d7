"""Field metadata: the display name, units, number format and a short description of every output.

One table for everything that shows a number to a person: report workbooks, the template's
labels (through its Fields sheet), the CLI and ``docs/fields.md``. A field is named by its key in
the model's records (``monthly_cost_usd``, ``p99_ms``; schedule groups as ``queue_wait_ms.p99``);
its number format follows from its units (``UNIT_FORMATS``) unless the row says otherwise.

Data only: format strings are spreadsheet number-format codes (Excel and LibreOffice read the
same codes), kept here as text so the model package never imports a workbook library.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# -- number formats ------------------------------------------------------------------------------------
USD = '"$"#,##0'
USD_CENTS = '"$"#,##0.00'
USD_MILLI = '"$"#,##0.0000'
USD_MICRO = '"$"#,##0.000000'  # a cost per 1k tokens, a thousandth of a cost per Mtok: $0.000171, not $0.0002
COUNT = "#,##0"
INTEGER = "0"
SHARE = "0.0%"  # a share stored as 0.586 shows as 58.6 %
PERCENT = '0.0" %"'  # a value already in percent (60 → "60.0 %")
DECIMAL = "#,##0.00"
RATIO = "0.000"
FINE = "0.0000"
YES_NO = '"yes";"yes";"no"'  # TRUE (1) → yes, FALSE (0) → no, in Excel and LibreOffice alike
TEXT = "@"
MAGNITUDE = '[>=1000000000]#,##0.0,,,"B";[>=1000]#,##0;#,##0.00##'  # 2.0B, 52,834, 0.255: a value of any size

UNIT_FORMATS = {
    "USD": USD, "USD/month": USD, "USD/year": USD, "USD/GPU": USD,
    "USD/h": USD_CENTS, "USD/GPU-hour": USD_CENTS, "USD/kWh": USD_MILLI,
    "USD/Mtok": USD_MILLI, "USD/1k tokens": USD_MICRO,
    "tokens/day": COUNT, "tokens/month": COUNT, "tokens/s": COUNT, "tokens/s/GPU": COUNT, "tokens": COUNT,
    "GPUs": COUNT, "score": COUNT, "score/GPU": COUNT, "W": COUNT, "minutes": COUNT, "h/month": COUNT, "days/month": COUNT,
    "ms": DECIMAL, "requests/s": DECIMAL, "GPU-equivalents": DECIMAL,
    "share": SHARE, "%": PERCENT, "ratio": RATIO, "×": DECIMAL, "count": INTEGER,
    "kW": DECIMAL, "kWh/month": COUNT, "kWh/Mtok": DECIMAL, "gCO2e/kWh": COUNT, "kgCO2e/month": COUNT,
    "gCO2e/Mtok": DECIMAL, "GB/s": DECIMAL, "s": DECIMAL, "min/month": COUNT,
    "yes/no": YES_NO, "": TEXT,
}
"""Number format of each unit: whole dollars for budgets, cents for hourly prices, four decimals
for prices per million tokens (six per thousand tokens: the same digits of a figure 1000 times smaller),
thousands separators for volumes, one decimal for percentages."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    units: str = ""
    description: str = ""
    format: str | None = None  # None = the format of the units

    @property
    def number_format(self):
        return self.format or UNIT_FORMATS.get(self.units, DECIMAL)

    @property
    def is_text(self):
        return self.number_format == TEXT


def _rows(*rows):
    return {row[0]: Field(*row) for row in rows}


FIELDS = _rows(
    # -- the planner (atlas_xl.plan / rank) ---------------------------------------------------------------
    ("rank", "Rank", "count", "position in the ranking: penalty score (0 first), then monthly cost"),
    ("platform", "Platform", "", "the serving platform (Offerings sheet)"),
    ("gpu", "GPU", "", "accelerator type; blank for per-token APIs"),
    ("model", "Model", "", "the model served"),
    ("pattern", "Traffic pattern", "", "how the daily volume arrives"),
    ("billing", "Billing", "", "dedicated, autoscaling or per_token"),
    ("tokens_per_day", "Tokens per day", "tokens/day", "prompt + output tokens served per day"),
    ("hourly_usd", "Price per GPU-hour", "USD/GPU-hour", "the offering's price of one GPU for one hour"),
    ("price_per_m_tokens", "Price per million tokens", "USD/Mtok", "per-token offerings only"),
    ("gpu_tokens_per_s", "Catalog throughput per GPU", "tokens/s/GPU", "measured throughput (Throughput sheet)"),
    ("avg_tokens_per_s", "Average load", "tokens/s", "daily volume spread over 24 h"),
    ("peak_tokens_per_s", "Peak load", "tokens/s", "average ÷ active share × burst factor"),
    ("effective_gpu_tokens_per_s", "Effective throughput per GPU", "tokens/s/GPU",
     "catalog throughput × the pattern's efficiency × batch multiplier"),
    ("utilization_ratio", "Load at peak", "GPU-equivalents", "peak load ÷ effective throughput of one GPU"),
    ("gpu_count", "GPUs", "GPUs", "75 % rule: GPUs so that each runs at or below the target at peak"),
    ("utilization_after", "Utilization per GPU", "share", "load at peak ÷ GPUs"),
    ("latency_risk", "Latency risk", "", "low ≤ 50 % < medium ≤ 75 % < high"),
    ("active_hours_per_month", "Active hours per month", "h/month", "hours per month × the pattern's active share"),
    ("monthly_cost_usd", "Monthly cost", "USD/month",
     "GPUs × price per GPU-hour × hours billed (all hours dedicated, active hours autoscaling), or tokens × price"),
    ("idle_waste_usd", "Idle waste", "USD/month", "dedicated GPU-hours paid without traffic"),
    ("idle_waste_pct", "Idle waste share", "%", "idle waste ÷ monthly cost × 100"),
    ("mean_utilization", "Mean utilization of paid GPUs", "share",
     "tokens served ÷ tokens the paid GPUs could serve in their paid hours"),
    ("unused_capacity_usd", "Unused paid capacity", "USD/month",
     "paid GPU-hours × price × (1 − mean utilization); includes the idle waste"),
    ("monthly_tokens", "Tokens per month", "tokens/month", "tokens per day × days per month"),
    ("cost_per_m_tokens_usd", "Cost per million tokens", "USD/Mtok", "monthly cost ÷ monthly tokens × 10⁶"),
    ("annual_cost_usd", "Annual cost", "USD/year", "12 × monthly cost at today's volume"),
    ("option", "Option", "", "an offering as named: platform, platform/gpu or platform:billing"),
    ("overload_penalty_usd", "Overload penalty (score)", "score",
     "ranking score for utilization above the overload threshold; not a cost"),
    ("scaling_penalty_usd", "Scaling penalty (score)", "score",
     "ranking score per GPU of a replica beyond its scale-up domain; not a cost"),
    ("latency_penalty_usd", "Strict-latency penalty (score)", "score",
     "ranking score for high risk under a strict latency requirement; not a cost"),
    ("penalty_usd", "Penalty score", "score",
     "overload + scaling + strict latency in the planner spec's dollar points: ranks, never in a cost"),
    ("latency_ms", "Latency requirement", "ms", "blank = none"),
    ("precision", "Precision", "", "weight precision of the serving model: bf16, fp8, fp4"),
    ("throughput_basis", "Throughput basis", "", "measured (anchored on a benchmark), "
     "estimated, uncalibrated (a vendor no measurement calibrates: docs/serving.md), or given"),
    ("throughput_expected_error", "Expected throughput error", "share",
     "relative error of this basis in the leave-one-GPU-out back-test (uncalibrated: leave-one-vendor-out)"),
    ("replica_gpus", "GPUs per replica", "GPUs", "GPUs one copy of the model runs on (tp), chosen for least cost; "
     "per-token: blank, no GPUs of yours"),
    ("replica_choice", "Replica size chosen by", "", "why this replica size: given, least monthly cost, or the fixed GPUs"),
    ("serving_mode", "Serving mode", "",
     "aggregated (every replica prefills and decodes) or disaggregated (units of prefill and decode GPUs); "
     "per-token: blank, the provider's"),
    ("scale_up_gpus", "Scale-up domain", "GPUs", "GPUs of one NVLink domain (gpus.csv); a wider replica is penalised"),
    ("input_tokens", "Input tokens per request", "tokens", "mean prompt length of the request shape"),
    ("output_tokens", "Output tokens per request", "tokens", "mean generated length of the request shape"),
    ("prefix_hit_rate", "Prefix-cache hit rate", "share",
     "share of input tokens served from the prefix cache: skipped in prefill, billed at the cached-input price"),
    ("tpot_ms", "P99 time per output token", "ms", "estimated at the planned operating point, within the limit"),
    ("cold_start_s", "Cold start of a replica", "s",
     "autoscaling: weights ÷ load bandwidth + engine start, the wait of a replica a ramp starts; dedicated: 0 "
     "(every replica stays up); per-token: blank, the provider's"),
    ("warm_replicas", "Warm replicas", "count",
     "replicas up through the hours without traffic: min_replicas autoscaling (default 0), every replica dedicated; "
     "per-token: blank"),
    ("energy_kwh_per_month", "Energy per month", "kWh/month",
     "(GPU power at the mean utilization + host) × GPUs × PUE × paid hours; per-token: blank, the provider's "
     "energy is not yours"),
    ("co2e_kg_per_month", "Emissions per month", "kgCO2e/month",
     "energy × the grid intensity of the region (default world, location-based); per-token: blank"),
    # -- traffic patterns (Patterns sheet), the inputs of a sensitivity -------------------------------------
    ("active_ratio", "Active share of the week", "share", "share of the week with traffic (Patterns sheet)"),
    ("burst_factor", "Burst factor", "×", "peak over average while active (Patterns sheet)"),
    ("efficiency", "Pattern efficiency", "share", "share of the catalog throughput the pattern achieves"),
    ("batch_multiplier", "Batch multiplier", "×", "throughput gain from batching under the pattern"),
    # -- forecast (atlas_xl.finance.forecast) -----------------------------------------------------------------
    ("month", "Month", "count", "month of the forecast, 1 = the first"),
    ("period", "Period", "", "calendar month (YYYY-MM) when the forecast has a start month"),
    ("days", "Days", "days/month", "days in the month (720-hour months when no start is given)"),
    ("cumulative_cost_usd", "Cumulative cost", "USD", "monthly cost summed from month 1"),
    ("on_demand_cost_usd", "On-demand cost", "USD/month", "the month's cost without the commitment"),
    ("commitment_cost_usd", "Commitment cost", "USD/month", "the committed GPUs at the reserved price"),
    ("savings_usd", "Saved by commitment", "USD/month", "on-demand cost − cost with the commitment"),
    ("cumulative_savings_usd", "Cumulative saving", "USD", "savings summed from month 1"),
    ("p10_cost_usd", "P10 on-demand cost", "USD/month", "10th percentile of the month's cost (no commitment)"),
    ("p90_cost_usd", "P90 on-demand cost", "USD/month", "90th percentile of the month's cost (no commitment)"),
    ("price_as_of", "Price as of", "", "date (as_of) of the offerings row whose price the figures use; 'given' "
     "for a price set by hand"),
    # -- sensitivity (atlas_xl.finance.sensitivity) -------------------------------------------------------------
    ("input", "Input", "", "the input moved, one at a time"),
    ("base", "Base value", "", "the input's value in the plan, in the input's units and number format (this "
     "format only where the input has none)", MAGNITUDE),
    ("low", "Low value", "", "base × (1 − spread), as the base value", MAGNITUDE),
    ("high", "High value", "", "base × (1 + spread), as the base value", MAGNITUDE),
    ("cost_at_low_usd", "Cost at low", "USD/month", "monthly cost with the input at its low value"),
    ("cost_at_high_usd", "Cost at high", "USD/month", "monthly cost with the input at its high value"),
    ("swing_usd", "Swing", "USD/month", "|cost at high − cost at low|"),
    ("base_cost_usd", "Base cost", "USD/month", "monthly cost of the plan"),
    ("low_delta_usd", "Low − base", "USD/month", "cost at low − base cost: the tornado's left bar"),
    ("high_delta_usd", "High − base", "USD/month", "cost at high − base cost: the tornado's right bar"),
    # -- planner assumptions (atlas_xl.Assumptions) ---------------------------------------------------------
    ("hours_per_month", "Hours per month", "h/month", "30-day month (planner spec); 730 for a calendar average"),
    ("days_per_month", "Days per month", "days/month", "turns tokens per day into tokens per month"),
    ("target_utilization", "Target utilization", "share", "the 75 % scaling rule: GPUs run at or below this at peak"),
    ("low_risk_max", "Low-risk limit", "share", "latency risk is low up to this utilization"),
    ("medium_risk_max", "Medium-risk limit", "share", "medium up to this; high above"),
    ("overload_threshold", "Overload threshold", "share", "the overload penalty starts above this utilization"),
    ("overload_ramp", "Overload ramp", "share", "the penalty reaches its full amount this far above the threshold"),
    ("overload_penalty_usd_assumption", "Overload penalty", "score", "at threshold + ramp; linear, continues above"),
    ("max_gpus", "Default scale-up domain", "GPUs", "for a GPU without a catalog row; replica GPUs beyond it are penalised"),
    ("scaling_penalty_usd_per_gpu", "Scaling penalty", "score/GPU", "ranking score per replica GPU beyond its domain"),
    ("strict_latency_ms", "Strict latency below", "ms", "requirements below this are strict"),
    ("latency_penalty_usd_assumption", "Strict-latency penalty", "score", "for high risk under a strict requirement"),
    # -- the simulator (atlas_xl.simulate) ----------------------------------------------------------------
    ("target", "Target", "", "node or cluster simulated (Targets sheet)"),
    ("workload", "Workload", "", "simulated workload (Workloads sheet)"),
    ("hardware_model", "Hardware model", "", "coefficient set of the target's vendor"),
    ("mode", "Mode", "", "inference or training"),
    ("seed", "Noise seed", "count", "same inputs and seed give the same numbers"),
    ("knob_cuda_graphs", "CUDA graphs", "yes/no", "knob: kernel launch overhead removed"),
    ("knob_gpudirect_rdma", "GPUDirect RDMA", "yes/no", "knob: GPU-to-NIC transfers without the CPU"),
    ("knob_fabric", "Fabric", "", "knob: ib, roce, nvlink, vendor"),
    ("knob_virt", "Virtualization", "", "knob: bare metal or SR-IOV"),
    ("knob_microbatch", "Microbatch", "count", "knob: samples per micro-batch"),
    ("accelerators", "Accelerators", "GPUs", "GPUs in the target"),
    ("tp", "Tensor parallel", "count", "GPUs per tensor-parallel group"),
    ("pp", "Pipeline parallel", "count", "pipeline stages"),
    ("dp", "Data-parallel replicas", "count", "replicas: the queue's servers"),
    ("prompt_tokens", "Prompt tokens", "tokens", "per request"),
    ("generate_tokens", "Generated tokens", "tokens", "per request"),
    ("utilization", "Utilization", "share", "accelerator utilization of the hardware model"),
    ("comm_intensity", "Communication intensity", "ratio", "share of the step spent communicating, before tuning"),
    ("comm_overhead", "Communication overhead", "ratio", "throughput = … ÷ (1 + this)"),
    ("noise_epsilon", "Noise", "ratio", "seeded run-to-run variation", FINE),
    ("base_rate_tokens_per_sec", "Base rate per GPU", "tokens/s/GPU", "tokens/s per accelerator before utilization"),
    ("base_rate_basis", "Base rate from", "", "the serving model (measured or estimated) or the hardware model"),
    ("tokens_per_sec", "Throughput", "tokens/s", "accelerators × base rate × utilization ÷ (1 + overhead)"),
    ("step_tokens", "Tokens per step", "tokens", "tokens processed per step"),
    ("step_time_ms", "Step time", "ms", "time of one step"),
    ("flop_utilization", "FLOP utilization", "share", "share of peak compute used"),
    ("hbm_bw_util", "Memory-bandwidth utilization", "share", "share of HBM bandwidth used"),
    ("comm_compute_ratio", "Communication ÷ compute", "ratio", "communication time over compute time"),
    ("p50_service_ms", "P50 service latency", "ms", "without queue delay"),
    ("p95_service_ms", "P95 service latency", "ms", "without queue delay"),
    ("p99_service_ms", "P99 service latency", "ms", "without queue delay"),
    ("ttft_service_ms", "Time to first token (service)", "ms", "without queue delay"),
    ("p50_ms", "P50 latency", "ms", "with queue delay"),
    ("p95_ms", "P95 latency", "ms", "with queue delay"),
    ("p99_ms", "P99 latency", "ms", "with queue delay"),
    ("ttft_ms", "Time to first token", "ms", "with the median queue wait"),
    ("queue_profile", "Request profile", "", "steady, peak, spike or low"),
    ("queue_servers", "Queue servers", "count", "replicas serving the queue"),
    ("queue_service_time_ms", "Service time per request", "ms", "one replica, one request"),
    ("queue_arrival_rate_per_sec", "Arrival rate", "requests/s", "requests arriving per second"),
    ("queue_utilization", "Queue utilization", "share", "arrival rate × service time ÷ servers"),
    ("queue_wait_probability", "Probability of waiting", "share", "Erlang C"),
    ("queue_wait_ms", "Mean queue wait", "ms", "G/G/m (Allen–Cunneen)"),
    ("queue_wait_p50_ms", "P50 queue wait", "ms", ""),
    ("queue_wait_p95_ms", "P95 queue wait", "ms", ""),
    ("queue_wait_p99_ms", "P99 queue wait", "ms", ""),
    ("queue_ca2", "Arrival variability (ca²)", "ratio", "squared coefficient of variation of arrivals", DECIMAL),
    ("queue_cs2", "Service variability (cs²)", "ratio", "squared coefficient of variation of service", DECIMAL),
    ("saturated", "Saturated", "yes/no", "arrivals exceed capacity: waits grow without bound"),
    ("queue_delay_capped", "Queue delay capped", "yes/no", "latency percentiles cap the queue delay"),
    ("node_power_w", "Node power", "W", "power drawn by one node"),
    ("cluster_power_w", "Cluster power", "W", "power drawn by the whole target"),
    ("pue", "PUE", "ratio", "data-centre power usage effectiveness", DECIMAL),
    ("usd_per_kwh", "Electricity price", "USD/kWh", ""),
    ("hourly_cost_usd", "Infrastructure cost", "USD/h", "whole target"),
    ("energy_cost_per_hour_usd", "Energy cost", "USD/h", "whole target, with PUE"),
    ("dollar_per_1k_tokens", "Cost per 1k tokens", "USD/1k tokens", "infrastructure + energy"),
    # -- schedules (atlas_xl.run_schedule) -----------------------------------------------------------------
    ("phase", "Phase", "", "schedule phase (Phases sheet)"),
    ("phase_count", "Phases", "count", "phases in the schedule"),
    ("duration_minutes", "Duration", "minutes", ""),
    ("tokens_scale", "Load scale", "×", "phase load relative to the workload's"),
    ("autoscale_factor", "Autoscale factor", "×", "replicas relative to the workload's"),
    ("total_tokens", "Tokens served", "tokens", "over the whole schedule"),
    ("total_cost_usd", "Total cost", "USD", "infrastructure + energy over the whole schedule"),
    ("service_latency_ms.p50", "P50 service latency", "ms", "duration-weighted, without queue delay"),
    ("service_latency_ms.p95", "P95 service latency", "ms", "duration-weighted, without queue delay"),
    ("service_latency_ms.p99", "P99 service latency", "ms", "duration-weighted, without queue delay"),
    ("service_latency_ms.ttft", "Time to first token (service)", "ms", "duration-weighted, without queue delay"),
    ("queue_latency_ms.p50", "P50 latency", "ms", "duration-weighted, with queue delay"),
    ("queue_latency_ms.p95", "P95 latency", "ms", "duration-weighted, with queue delay"),
    ("queue_latency_ms.p99", "P99 latency", "ms", "duration-weighted, with queue delay"),
    ("queue_latency_ms.ttft", "Time to first token", "ms", "duration-weighted, with queue delay"),
    ("queue_wait_ms.mean", "Mean queue wait", "ms", "duration-weighted"),
    ("queue_wait_ms.p50", "P50 queue wait", "ms", "duration-weighted"),
    ("queue_wait_ms.p95", "P95 queue wait", "ms", "duration-weighted"),
    ("queue_wait_ms.p99", "P99 queue wait", "ms", "duration-weighted"),
    # -- optimizer ------------------------------------------------------------------------------------------
    ("cuda_graphs", "CUDA graphs", "yes/no", "knob"),
    ("gpudirect_rdma", "GPUDirect RDMA", "yes/no", "knob"),
    ("fabric", "Fabric", "", "knob: ib, roce, nvlink, vendor"),
    ("virt", "Virtualization", "", "knob: bare or sriov"),
    ("microbatch", "Microbatch", "count", "knob"),
    ("gain", "Throughput gain", "share", "best over the starting configuration"),
    ("step", "Step", "count", ""),
    ("change", "Change", "", ""),
)
"""Every field a person sees, keyed by its name in the model's records."""

PLAN_FIELDS = _rows(
    ("ttft_ms", "P99 time to first token", "ms", "estimated at the planned operating point, within the limit"),
)
"""Planner fields whose name the simulator uses for another quantity (the simulator's ttft_ms is its
simulated time to first token with the median queue wait; the planner's is the serving model's
p99 estimate at the operating point it plans for)."""

ASSUMPTION_KEYS = {"overload_penalty_usd": "overload_penalty_usd_assumption",
                   "latency_penalty_usd": "latency_penalty_usd_assumption"}
"""Assumptions whose name is also a plan field (the penalty amount versus the penalty applied)."""


def field(name, *, assumption=False, plan=False):
    """The metadata of ``name`` (``assumption``: of the planner assumption, ``plan``: of the plan
    field, where the name means something else elsewhere); a name not in the table gets a readable
    label and units guessed from its suffix, so a new model output still displays sensibly (tests
    keep the table complete)."""
    if plan and name in PLAN_FIELDS:
        return PLAN_FIELDS[name]
    key = ASSUMPTION_KEYS.get(name, name) if assumption else name
    if key in FIELDS:
        return FIELDS[key]
    return Field(name, name.replace(".", " ").replace("_", " ").strip().capitalize(), _guess_units(name))


def _guess_units(name):
    for suffix, units in (("_usd_per_month", "USD/month"), ("_per_hour_usd", "USD/h"), ("_usd", "USD"),
                          ("_ms", "ms"), ("_w", "W"), ("_per_sec", "tokens/s"), ("_per_s", "tokens/s"),
                          ("_pct", "%"), ("_tokens", "tokens")):
        if name.endswith(suffix):
            return units
    return "ratio"


def label(name):
    return field(name).label


def units(name):
    return field(name).units


def number_format(name, value=None, plan=False):
    """The number format of ``name``; booleans always read yes/no, text is shown as it is."""
    if isinstance(value, bool):
        return YES_NO
    return field(name, plan=plan).number_format


def display(value, fmt):
    """``value`` as a spreadsheet shows it under ``fmt`` (close enough to size a column)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool) or fmt == YES_NO:
        return "yes" if value else "no"
    if isinstance(value, str) or fmt == TEXT:
        return str(value)
    if isinstance(value, float) and math.isinf(value):
        return "saturated (infinite)"
    number = float(value)
    if fmt == MAGNITUDE:
        if number >= 1e9:
            return _rounded(number / 1e9, 1, ",") + "B"
        if number >= 1e3:
            return _rounded(number, 0, ",")
        text = _rounded(number, 4, ",").rstrip("0")
        return text + "0" * max(0, 2 - len(text.partition(".")[2]))
    if fmt == SHARE:
        return _rounded(number * 100, 1, "") + "%"
    if fmt == PERCENT:
        return _rounded(number, 1, "") + " %"
    decimals = {USD: 0, USD_CENTS: 2, USD_MILLI: 4, USD_MICRO: 6, COUNT: 0, INTEGER: 0, DECIMAL: 2, RATIO: 3, FINE: 4}.get(fmt, 2)
    text = _rounded(abs(number), decimals, "," if fmt not in (INTEGER, RATIO, FINE) else "")
    negative = number < 0 and text.strip("0.,") != ""
    return ("-" if negative else "") + ("$" if fmt.startswith('"$"') else "") + text


def _rounded(number, decimals, thousands):
    """Rounded half away from zero, as spreadsheets round for display (Python rounds half to even)."""
    exact = Decimal(repr(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{exact:{thousands}.{decimals}f}"


def markdown():
    """The field table as the Markdown of docs/fields.md."""
    lines = ["# Fields", "",
             "Display name, units, number format and meaning of every output field, as report workbooks,",
             "the template (its Fields sheet) and these docs show them. Generated from `atlas_xl/fields.py`",
             "by `python scripts/gen_field_docs.py`; a test fails when this page is stale.", "",
             "Number formats follow the units: whole dollars for monthly and one-off amounts, cents for hourly",
             "prices, four decimals for prices per million tokens (six per thousand tokens), thousands separators",
             "for volumes, one decimal for percentages (a share of 0.586 shows as 58.6 %).", "",
             "| field | display name | units | number format | meaning |", "|---|---|---|---|---|"]
    for meta in sorted(FIELDS.values(), key=lambda f: f.name):
        cells = (f"`{meta.name}`", meta.label, meta.units, f"`{meta.number_format}`", meta.description)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
