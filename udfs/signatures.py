"""What each ATLAS_* worksheet function is: its arguments in their fixed positions, its help line
and the call that computes it. `scripts/gen_functions.py` writes `udfs/functions.py` from this and
the argument registry (`atlas_xl.arguments`: help, units, defaults); tests/test_arguments.py checks
the written file is current.

Positions are a promise to saved workbooks: ``=ATLAS_COST(A1,"steady","llama_70b","runpod",,,,,,,,,,,,,,,,,,4)``
must keep meaning tp = 4. So an argument list only ever grows at its end (before ``options``), and
``options`` — a key | value range of named arguments — comes last in every planner, serving and finance
function. Named options make the positions matter less: ``=ATLAS_COST(TokensPerDay,Pattern,Model,
Platform,Gpu,Options)`` works because an options range may stand in any argument's place.
"""
from __future__ import annotations

from dataclasses import dataclass

PLANNER_TABLES = ("gpus", "models", "patterns", "offerings", "throughput")
SIMULATOR_TABLES = ("hardware_models", "targets", "workloads", "phases", "request_profiles")
SERVING = ("precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp")
PREFIX = ("prefix_hit_rate",)  # issue 19 item 2: at the end of the planner and serving functions, before options
RUNNING = ("region", "min_replicas", "disaggregated", "pue")  # issue 19 items 1, 3, 4 (atlas_xl.arguments.PLAN_RUNNING)
RANK_RUNNING = ("region", "disaggregated", "pue")  # atlas_xl.arguments.RANK_RUNNING: a ranking keeps no warm pool
COST_RUNNING = ("disaggregated",)  # atlas_xl.arguments.COST_RUNNING: the finance functions whose results are costs

PLANNER = ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count", "gpu_tokens_per_s",
           "hourly_usd", "price_per_m_tokens", "assumptions") + PLANNER_TABLES + SERVING + PREFIX + RUNNING + \
    ("options",)
RANK = ("tokens_per_day", "pattern", "model", "latency_ms", "top", "fields", "assumptions") + PLANNER_TABLES + \
    SERVING + PREFIX + RANK_RUNNING + ("options",)
ESTIMATE = ("model", "gpu") + SERVING + ("gpus", "models", "throughput", "speculative", "acceptance_length") + PREFIX + \
    ("options",)
SIMULATOR = ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue") + SIMULATOR_TABLES
OPTIMIZE = ("target", "workload", "knobs", "sla_p99_ms", "seed", "usd_per_kwh", "pue") + SIMULATOR_TABLES
FORECAST = ("tokens_per_day", "pattern", "model", "platform", "gpu", "months", "monthly_growth", "start",
            "price_change_per_year", "commitment", "committed_gpus", "latency_ms", "forecast_fields", "assumptions") + \
    PLANNER_TABLES + ("commitments",) + SERVING + RUNNING + ("options",)
BREAKEVEN = ("pattern", "model", "option_a", "option_b", "gpu_a", "gpu_b", "latency_ms", "assumptions") + \
    PLANNER_TABLES + SERVING + COST_RUNNING + ("options",)
PATTERN = ("timestamps", "tokens", "pattern_field", "patterns")
COST_RANGE = ("tokens_per_day", "pattern", "model", "platform", "gpu", "percentile", "throughput_error",
              "price_spread", "volume_spread", "draws", "seed", "month", "monthly_growth", "growth_spread", "start",
              "price_change_per_year", "latency_ms", "assumptions") + PLANNER_TABLES + SERVING + COST_RUNNING + \
    ("options",)
SENSITIVITY = ("tokens_per_day", "pattern", "model", "platform", "gpu", "spread", "output", "latency_ms",
               "assumptions") + PLANNER_TABLES + SERVING + RUNNING + ("options",)
COMMIT = ("tokens_per_day", "pattern", "model", "platform", "gpu", "horizon_months", "monthly_growth", "start", "term",
          "volume_spread", "throughput_error", "commit_draws", "seed", "latency_ms", "assumptions") + \
    PLANNER_TABLES + ("commitments",) + SERVING + COST_RUNNING + ("options",)


@dataclass(frozen=True)
class Worksheet:
    """One worksheet function. ``call``: the `udfs.calls` / `udfs.finance_calls` function that
    computes it; ``field``: the output it returns (functions that return one field of a record);
    ``required``: how many leading arguments have no default; ``table``: returns a table that spills
    (takes xlwings' hidden ``caller``)."""
    name: str
    help: str
    parameters: tuple
    required: int
    call: str
    field: str | None = None
    table: bool = False
    section: str = "planner"


def _planner(name, field, help):
    return Worksheet(name, help, PLANNER, 4, "calls.plan_field", field)


def _serving(name, field, help):
    return Worksheet(name, help, ESTIMATE, 2, "calls.estimate_field", field, section="serving model")


def _simulator(name, field, help):
    return Worksheet(name, help, SIMULATOR, 1, "calls.sim_field", field, section="simulator")


FUNCTIONS = (
    _planner("ATLAS_PEAK_TPS", "peak_tokens_per_s",
             "Peak load while active: tokens/day ÷ 86 400 ÷ active ratio × burst factor [tokens/s]."),
    _planner("ATLAS_GPUCOUNT", "gpu_count",
             "GPUs needed to serve the workload at 75 % target utilization (blank for per-token offerings)."),
    _planner("ATLAS_UTILIZATION", "utilization_after", "Utilization of each GPU at peak after scaling [0-1]."),
    _planner("ATLAS_RISK", "latency_risk",
             "Latency-risk band: low (≤ 50 % utilization), medium (≤ 75 %), high; n/a for per-token."),
    _planner("ATLAS_COST", "monthly_cost_usd", "Monthly cost of serving the workload on the offering [USD/month]."),
    _planner("ATLAS_COST_PER_MTOK", "cost_per_m_tokens_usd",
             "Cost per million tokens: monthly cost ÷ monthly tokens × 10⁶ [USD/Mtok]."),
    _planner("ATLAS_IDLE_WASTE", "idle_waste_usd",
             "What a dedicated deployment pays for hours without traffic [USD/month]."),
    _planner("ATLAS_PENALTY", "penalty_usd",
             "Penalty score: overload + scaling + strict-latency penalties that rank offerings, never a cost [score]."),
    Worksheet("ATLAS_PLAN", "The whole plan of one workload as a field | value table (spills).", PLANNER, 4,
              "calls.plan_table", table=True),
    Worksheet("ATLAS_RANK", "Every offering that serves the model, best first (penalty score, then monthly cost), "
              "with a header row (spills).", RANK, 3, "calls.rank_table", table=True),
    _serving("ATLAS_GPU_TPS", "output_tokens_per_s_per_gpu",
             "Output tokens per second one GPU serves within the TTFT/TPOT limits (the serving model) "
             "[tokens/s/GPU]."),
    _serving("ATLAS_FIT", "fits",
             "TRUE when the model's weights and at least one sequence's KV cache fit on the GPUs of a replica."),
    _serving("ATLAS_TPOT", "tpot_ms", "p99 time per output token at the serving model's operating point [ms]."),
    Worksheet("ATLAS_ESTIMATE", "The serving model's whole estimate: tokens/s, replica size, memory fit, TTFT/TPOT, "
              "basis (spills).", ESTIMATE, 2, "calls.estimate_table", table=True, section="serving model"),
    _simulator("ATLAS_THROUGHPUT", "tokens_per_sec", "Token throughput of the target running the workload [tokens/s]."),
    _simulator("ATLAS_P50", "p50_ms", "Median latency including queue delay [ms]."),
    _simulator("ATLAS_P95", "p95_ms", "95th-percentile latency including queue delay [ms]."),
    _simulator("ATLAS_P99", "p99_ms", "99th-percentile latency including queue delay [ms]."),
    _simulator("ATLAS_TTFT", "ttft_ms", "Time to first token including the median queue wait [ms]."),
    _simulator("ATLAS_STEP_TIME", "step_time_ms",
               "Duration of one step: dp × microbatch × sequence tokens ÷ throughput [ms]."),
    _simulator("ATLAS_POWER", "node_power_w", "Power of one node at the simulated utilization [W]."),
    _simulator("ATLAS_ENERGY_COST", "energy_cost_per_hour_usd",
               "Electricity cost of the whole target including PUE [USD/h]."),
    _simulator("ATLAS_COST_PER_1K", "dollar_per_1k_tokens",
               "Infrastructure plus energy cost of a thousand tokens [USD per 1k tokens]."),
    _simulator("ATLAS_QUEUE_WAIT", "queue_wait_ms",
               "Mean wait in queue (G/G/m over the replicas) [ms]; text 'saturated…' when arrivals exceed capacity."),
    Worksheet("ATLAS_SIMULATE", "The whole simulation record as a field | value table (spills).", SIMULATOR, 1,
              "calls.simulate_table", table=True, section="simulator"),
    Worksheet("ATLAS_SCHEDULE", "The multi-phase schedule: aggregated field | value rows, then one row per phase "
              "(spills).", SIMULATOR, 1, "calls.schedule_table", table=True, section="simulator"),
    Worksheet("ATLAS_OPTIMIZE", "Hill-climb the knobs: start and best knobs, baseline and best metrics, accepted "
              "steps (spills).", OPTIMIZE, 1, "calls.optimize_table", table=True, section="simulator"),
    Worksheet("ATLAS_CATALOG", "The keys of one catalog as a column — what a drop-down needs (spills).",
              ("kind", "table"), 1, "calls.catalog_column", table=True, section="catalog"),
    Worksheet("ATLAS_VERSION", "The version of atlas_xl that computes these functions.", (), 0, "atlas_xl.__version__",
              section="catalog"),
    Worksheet("ATLAS_FORECAST", "Month-by-month cost as usage grows: month, volume, GPUs, cost, cost per Mtok, "
              "cumulative cost, then the price's as_of (spills).\ntokens_per_day may be a range of monthly volumes.", FORECAST, 4,
              "finance_calls.forecast_table", table=True, section="finance"),
    Worksheet("ATLAS_BREAKEVEN", "Daily volume at which two options cost the same per month [tokens/day]; text when "
              "they never cross.", BREAKEVEN, 4, "finance_calls.breakeven_value", section="finance"),
    Worksheet("ATLAS_PATTERN", "Traffic-pattern factors observed in a usage log: active ratio, burst factor, "
              "suggested batching (spills).", PATTERN, 2, "finance_calls.pattern_table", table=True,
              section="finance"),
    Worksheet("ATLAS_COST_RANGE", "A percentile of the monthly cost under throughput, price and volume uncertainty "
              "(seeded) [USD/month].\nmonth may be a column of months: one row per month, one column per "
              "percentile.", COST_RANGE, 4, "finance_calls.cost_range_value", section="finance"),
    Worksheet("ATLAS_SENSITIVITY", "Tornado table: the monthly cost at the low and high end of each input, largest "
              "swing first (spills).", SENSITIVITY, 4, "finance_calls.sensitivity_table", table=True,
              section="finance"),
    Worksheet("ATLAS_COMMIT", "Commitment advice: which term, how many GPUs, from which month minimise expected cost; "
              "risk at P10 (spills).", COMMIT, 4, "finance_calls.commit_table", table=True, section="finance"),
)
"""Every worksheet function, in the order udfs/functions.py lists them."""


def get(name):
    """The worksheet function ``name`` (ATLAS_COST)."""
    for function in FUNCTIONS:
        if function.name == name:
            return function
    raise KeyError(f"no worksheet function {name!r}")
