"""Sheet specifications for the template: rows of (label, key, value-or-formula, units, comment).

Data, not code: `workbook.template` renders these with one builder. Defined names are generated
from each row's key (``tokens_per_day`` → ``TokensPerDay``), so a label and its name cannot drift.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from atlas_xl import arguments, fields as field_table, planner, serving
from udfs import signatures


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    value: object = None  # default input, or a formula (text starting with "=")
    units: str = ""
    comment: str = ""
    choices: str | None = None  # defined name of a drop-down list
    fmt: str | None = None
    optional: bool = False  # blank is meaningful ("blank = catalog value")
    array: bool = False  # a one-cell array formula: it looks a field up in a table a function returns (ATLAS_PLAN)


@dataclass(frozen=True)
class Block:
    title: str
    rows: tuple
    kv_name: str | None = None  # name of the block's key | value range, passed to ATLAS_* functions
    named: bool = True  # one defined name per row value


def name_of(key):
    """Defined name of a row: ``tokens_per_day`` → ``TokensPerDay``."""
    return "".join(part[:1].upper() + part[1:] for part in key.replace(".", "_").split("_"))


# number formats: the field table's (atlas_xl.fields), so a sheet row and a report column agree
USD, USD_CENTS, USD_MILLI = field_table.USD, field_table.USD_CENTS, field_table.USD_MILLI
USD_PER_1K = field_table.number_format("dollar_per_1k_tokens")  # the Simulator sheet's format of the same value
COUNT, PCT, NUMBER = field_table.COUNT, field_table.SHARE, field_table.DECIMAL
UNUSED = field_table.field("unused_capacity_usd")  # the Results row of paid capacity that serves no traffic

ASSUMPTION_DOCS = {  # label, units and comment of each planner assumption (atlas_xl.Assumptions)
    f.name: (field_table.field(f.name, assumption=True).label, field_table.field(f.name, assumption=True).units,
             field_table.field(f.name, assumption=True).description) for f in fields(planner.Assumptions)}
ASSUMPTION_FORMATS = {f.name: field_table.field(f.name, assumption=True).number_format
                      for f in fields(planner.Assumptions)}  # by name: formats follow the field table

def argument_row(key, value=None, *details, **options):
    """An Inputs row that holds an argument of the registry (`atlas_xl.arguments`): its label and units
    are the registry's; ``details`` are (units, comment) where the row shows other units, else (comment,)."""
    a = arguments.get(arguments.key_names().get(key, key))
    units, comment = details if len(details) == 2 else (a.units, *details)
    return Row(a.label, key, value, units, comment, **options)


INPUTS = (
    Block("Workload — what the planner prices", (
        argument_row("tokens_per_day", 2e9, "prompt + output tokens served per day", fmt=COUNT),
        argument_row("pattern", "steady", "", "how the volume arrives: steady, business_hours, bursty",
            choices="PatternList"),
        argument_row("model", "llama_70b", "", "a key of the Models sheet", choices="ModelList"),
        argument_row("latency_ms", 250, "below 300 ms a high-risk setup is penalised; blank = none",
            fmt=COUNT, optional=True),
        argument_row("platform", "runpod", "", "a platform of the Offerings sheet", choices="PlatformList"),
        argument_row("gpu", "h100_sxm", "", "blank for per-token platforms (together, groq, ...)", choices="GpuList",
            optional=True),
    )),
    Block("Serving — precision, request shape and latency limits (blank = the stated defaults)", (
        argument_row("precision", None, "", "weights: bf16, fp8, fp4, or best (each GPU's fastest); blank = fp8",
            optional=True),
        argument_row("input_tokens", None, "blank = 1 024; per-token APIs then price "
            "input and output apart", fmt=COUNT, optional=True),
        argument_row("output_tokens", None, "blank = 1 024", fmt=COUNT, optional=True),
        argument_row("ttft_limit_ms", None, "ms (p99)", "blank = 2 000 (MLPerf Server)", fmt=COUNT,
            optional=True),
        argument_row("tpot_limit_ms", None, "ms (p99)", "blank = 200 (MLPerf Server); 40 "
            "streams 25 tokens/s per user and needs more GPUs", fmt=COUNT, optional=True),
    ), kv_name="ServingOptions"),  # its Key | Value cells: an options range, =ATLAS_COST(...,Gpu,ServingOptions)
    Block("What-if overrides — blank = catalog value or the 75 % rule", (
        argument_row("fixed_gpu_count", None, "what if we only have this many GPUs?", fmt=COUNT,
            optional=True),
        argument_row("gpu_tokens_per_s_override", None, "tokens/s/GPU",
            "input + output tokens, as the Ranking's and atlas-xl plan's gpu_tokens_per_s; replaces the catalog figure",
            fmt=COUNT, optional=True),
        argument_row("hourly_usd_override", None, "USD/h", "replaces the Offerings sheet price",
            fmt=USD_CENTS, optional=True),
        argument_row("price_per_m_tok_override", None, "per-token offerings only",
            fmt=USD_CENTS, optional=True),
        Row("Ranking columns", "rank_fields",
            "rank, platform, gpu, billing, gpu_count, utilization_after, latency_risk, monthly_cost_usd, "
            "idle_waste_usd, unused_capacity_usd, cost_per_m_tokens_usd, penalty_usd", "",
            "fields shown by the ranking on Results (any ATLAS_PLAN field)"),
    )),
    Block("Planner assumptions (key | value, passed to every planner function)", tuple(
        Row(ASSUMPTION_DOCS[f.name][0], f.name, f.default, ASSUMPTION_DOCS[f.name][1], ASSUMPTION_DOCS[f.name][2],
            fmt=ASSUMPTION_FORMATS[f.name])
        for f in fields(planner.Assumptions)), kv_name="Assumptions", named=False),
    # the Simulator follows the plan (issue 20): the plan's GPU and GPU count, model and request shape
    Block("Simulator target (key | value; follows the plan: the Inputs GPU, the Results GPU count)", (
        argument_row("target", '=IF(Gpu="","",IFERROR(INDEX(TargetKeys,MATCH(Gpu,TargetGpus,0)),""))', "",
            "the first Targets row with the Inputs GPU; blank when none — the Simulator then says so",
            choices="TargetList", optional=True),
        Row("GPUs", "gpu_count", '=IF(GpuCount="","",GpuCount)', "GPUs",
            "the Results GPU count: the target resized to it (equal nodes of at most 8 GPUs)", fmt=COUNT,
            optional=True),
    ), kv_name="Target", named=False),
    Block("Simulator — seed and energy", (
        argument_row("seed", 0, "", "noise seed: same inputs and seed give the same numbers", fmt="0"),
        argument_row("usd_per_kwh", arguments.USD_PER_KWH, "simulator spec default; US industrial 2023: 0.0806",
                     fmt=USD_MILLI),
        argument_row("pue", None, "blank = the target's (1.2); industry average 2023: 1.58", fmt="0.00",
            optional=True),
    )),
    Block("Simulator workload (key | value; blank values = the workload's own)", (
        argument_row("workload", '=IFERROR(INDEX(WorkloadKeys,MATCH(Model,WorkloadModels,0)),"")', "",
            "the first Workloads row running the Inputs model; blank = one built from the plan", choices="WorkloadList",
            optional=True),
        Row("Model", "model", "=Model", "", "the Inputs model"),
        Row("Tensor parallel", "parallelism.tp", '=IF(ReplicaGpus="","",ReplicaGpus)', "GPUs",
            "the Results GPUs per replica (the planner's replica size); blank = the workload's (1 when built from "
            "the plan)", fmt="0", optional=True),
        Row("Pipeline parallel", "parallelism.pp", None, "stages", "", fmt="0", optional=True),
        Row("Data parallel replicas", "parallelism.dp", None, "replicas",
            "the queue's servers; blank = the target's GPUs ÷ (tp × pp)", fmt="0", optional=True),
        Row("Prompt tokens", "sequence.prompt",
            f'=IF(InputTokens="",{serving.DEFAULT_INPUT_TOKENS},InputTokens)', "tokens",
            f"the Inputs input tokens (blank there = {serving.DEFAULT_INPUT_TOKENS:,}, the serving default)",
            fmt=COUNT, optional=True),
        Row("Generated tokens", "sequence.generate",
            f'=IF(OutputTokens="",{serving.DEFAULT_OUTPUT_TOKENS},OutputTokens)', "tokens",
            f"the Inputs output tokens (blank there = {serving.DEFAULT_OUTPUT_TOKENS:,})", fmt=COUNT, optional=True),
        Row("Weights precision", "precision.weights", '=IF(Precision="","",Precision)', "",
            "the Inputs precision; blank = the workload's", optional=True),
        Row("Arrival rate", "arrival.requests_per_sec", None, "requests/s", "blank = profile share of capacity",
            fmt=NUMBER, optional=True),
        Row("Request profile", "arrival.profile", None, "", "steady, peak, spike, low", optional=True),
    ), kv_name="Workload", named=False),
    Block("Simulator knobs (key | value; blank = the workload's runtime tuning)", (
        Row("CUDA graphs", "cuda_graphs", None, "TRUE/FALSE", "", optional=True),
        Row("GPUDirect RDMA", "gpudirect_rdma", None, "TRUE/FALSE", "", optional=True),
        Row("Fabric", "fabric", None, "", "ib, roce, nvlink, vendor, fabric", optional=True),
        Row("Virtualization", "virt", None, "", "bare or sriov", optional=True),
        Row("Microbatch", "microbatch", None, "samples", "", fmt="0", optional=True),
    ), kv_name="Knobs", named=False),
)

def input_row(key):
    """The Inputs row of ``key``."""
    return next(row for block in INPUTS for row in block.rows if row.key == key)


CATALOG_SHEETS = {  # catalog table → (sheet title, defined name of its range, drop-down list name)
    "gpus": ("GPUs", "GpusTable", "GpuList"),
    "models": ("Models", "ModelsTable", "ModelList"),
    "patterns": ("Patterns", "PatternsTable", "PatternList"),
    "offerings": ("Offerings", "OfferingsTable", None),
    "throughput": ("Throughput", "ThroughputTable", None),
    "hardware_models": ("HardwareModels", "HardwareModelsTable", None),
    "targets": ("Targets", "TargetsTable", "TargetList"),
    "workloads": ("Workloads", "WorkloadsTable", "WorkloadList"),
    "phases": ("Phases", "PhasesTable", None),
    "request_profiles": ("RequestProfiles", "RequestProfilesTable", None),
    "commitments": ("Commitments", "CommitmentsTable", None),  # reserved prices for the Forecast sheet
}

def _input_names():
    """Argument → the defined name that holds it in the template: an Inputs row's name (its key is the
    argument's, or the registry's ``key`` such as ttft_limit_ms), a key | value block's name
    (Assumptions, Workload, Knobs) or a catalog table's (GpusTable...)."""
    keys = {row.key for block in INPUTS if block.named for row in block.rows}
    out = {a.name: name_of(a.key or a.name) for a in arguments.ARGUMENTS.values() if (a.key or a.name) in keys}
    out.update({block.kv_name.lower(): block.kv_name for block in INPUTS if block.kv_name})
    out.update({table: names[1] for table, names in CATALOG_SHEETS.items()})
    return out


INPUT_NAMES = _input_names()


def formula(function, **given):
    """``=FUNCTION(a,b,,d)`` with each argument given by keyword in its position (`udfs.signatures`),
    so that a new argument cannot shift another; blanks between keep their commas, trailing ones go."""
    parameters = signatures.get(function).parameters
    unknown = [k for k in given if k not in parameters]
    if unknown:
        raise KeyError(f"{function} has no argument {unknown[0]!r}")
    cells = [str(given.get(p, "")) for p in parameters]
    while cells and cells[-1] == "":
        cells.pop()
    return f"={function}({','.join(cells)})"


def inputs_for(function, groups=("workload", "offering", "serving")):
    """The template's Inputs names of ``function``'s arguments in ``groups`` (registry groups), with its
    catalog tables and the key | value blocks it takes."""
    names = _input_names()
    return {p: names[p] for p in signatures.get(function).parameters if p in names and (
        arguments.get(p).group in groups or arguments.get(p).kind in ("table", "pairs"))}


def plan_formula(function, **ranges):
    """A planner formula over the Inputs names; ``ranges`` replace names by ranges (what-if axes)."""
    return formula(function, **{arg: ranges.get(name, name) for arg, name in inputs_for(function).items()})


def sim_formula(function):
    return formula(function, **inputs_for(function, groups=("simulator",)))


def serving_formula(function):
    """A serving-model formula for the chosen GPU; a per-token offering has none (blank GPU)."""
    return f'=IF(Gpu="","",{formula(function, **inputs_for(function))[1:]})'


SIM_TP = 'INDEX(Workload,MATCH("parallelism.tp",INDEX(Workload,0,1),0),2)'
"""The Inputs simulator workload's tensor parallel (the planner's GPUs per replica unless typed over)."""

RESULTS = (
    Block("Planner — the chosen offering", (
        Row("Peak load", "peak_tokens_per_s", plan_formula("ATLAS_PEAK_TPS"), "tokens/s", "while active", fmt=COUNT),
        Row("GPU count", "gpu_count", plan_formula("ATLAS_GPUCOUNT"), "GPUs", "75 % rule (blank for per-token)",
            fmt=COUNT),
        Row("Utilization per GPU", "utilization", plan_formula("ATLAS_UTILIZATION"), "share", "at peak", fmt=PCT),
        Row("Latency risk", "latency_risk", plan_formula("ATLAS_RISK"), "band", "low ≤ 50 % < medium ≤ 75 % < high"),
        Row("Monthly cost", "monthly_cost", plan_formula("ATLAS_COST"), "USD/month", "", fmt=USD),
        Row("Idle waste", "idle_waste", plan_formula("ATLAS_IDLE_WASTE"), "USD/month", "dedicated hours without traffic",
            fmt=USD),
        Row(UNUSED.label, "unused_capacity",
            f'=IFERROR(VLOOKUP("unused_capacity_usd",{plan_formula("ATLAS_PLAN")[1:]},2,FALSE),"")', UNUSED.units,
            f"{UNUSED.description} (ATLAS_PLAN's unused_capacity_usd); 0 for per-token offerings", fmt=USD,
            array=True),
        Row("Cost per million tokens", "cost_per_m_tokens", plan_formula("ATLAS_COST_PER_MTOK"), "USD/Mtok", "",
            fmt=USD_MILLI),
        Row("Penalty score", "penalty", plan_formula("ATLAS_PENALTY"), "score",
            "overload + scaling + strict latency: ranks offerings, never a cost", fmt=COUNT),
        Row("Annual cost", "annual_cost", "=MonthlyCost*12", "USD/year", "12 × monthly cost", fmt=USD),
        Row("GPUs per replica", "replica_gpus",
            f'=IF(Gpu="","",IFERROR(VLOOKUP("replica_gpus",{plan_formula("ATLAS_PLAN")[1:]},2,FALSE),""))', "GPUs",
            "one copy of the model (tp), the size the planner chose for least monthly cost (ATLAS_PLAN's "
            "replica_gpus); the Simulator runs it as its tensor parallel", fmt=COUNT, optional=True, array=True),
    )),
    Block("Serving model — one GPU of the chosen offering (blank for per-token offerings)", (
        Row("Output tokens per GPU", "serving_tokens_per_s", serving_formula("ATLAS_GPU_TPS"), "tokens/s/GPU",
            "output tokens only, within the TTFT/TPOT limits; the planner's throughput per GPU (Ranking, atlas-xl "
            "plan: gpu_tokens_per_s) counts input + output tokens", fmt=COUNT),
        Row("Time per output token", "serving_tpot_ms", serving_formula("ATLAS_TPOT"), "ms (p99)",
            "at that throughput", fmt=NUMBER),
        Row("Model fits", "serving_fits", serving_formula("ATLAS_FIT"), "TRUE/FALSE",
            "weights + one sequence's KV cache on a replica of at most 64 GPUs"),
    )),
    Block("Simulator — the planned deployment (Inputs: Simulator target and workload)", (
        Row("Throughput", "throughput", sim_formula("ATLAS_THROUGHPUT"), "tokens/s", "", fmt=COUNT),
        Row("P50 latency", "latency_p50_ms", sim_formula("ATLAS_P50"), "ms", "with queue delay", fmt=NUMBER),
        Row("P95 latency", "latency_p95_ms", sim_formula("ATLAS_P95"), "ms", "with queue delay", fmt=NUMBER),
        Row("P99 latency", "latency_p99_ms", sim_formula("ATLAS_P99"), "ms", "with queue delay", fmt=NUMBER),
        Row("Time to first token", "ttft", sim_formula("ATLAS_TTFT"), "ms", "with the median queue wait", fmt=NUMBER),
        Row("Mean queue wait", "queue_wait", sim_formula("ATLAS_QUEUE_WAIT"), "ms", "G/G/m over the replicas",
            fmt=NUMBER),
        Row("Node power", "node_power_w", sim_formula("ATLAS_POWER"), "W", "", fmt=COUNT),
        Row("Energy cost", "energy_cost", sim_formula("ATLAS_ENERGY_COST"), "USD/h", "whole target, with PUE",
            fmt=USD_CENTS),
        Row("Simulator cost per 1k tokens", "cost_per_1k", sim_formula("ATLAS_COST_PER_1K"), "USD/1k tokens",
            "the Targets row's hourly price (not the Offerings price) + energy, at the simulated throughput: not "
            "the planner's cost per Mtok", fmt=USD_PER_1K),
        Row("Simulated deployment", "sim_deployment",
            '=IF(Gpu="","not simulated: per token",IF(INDEX(Target,1,2)="","not simulated: no "&Gpu&" target",'
            f'Model&" on "&GpuCount&" × "&Gpu&IF({SIM_TP}="",""," in replicas of "&{SIM_TP})))', "",
            "what the rows above simulate: the plan's model on its GPUs in replicas of the Inputs workload's tensor "
            "parallel (the planner's GPUs per replica), or why not (a per-token offering has no GPUs; a GPU without "
            "a Targets row cannot be modelled — add one)"),
    )),
)

WHATIF_VOLUMES = (1e8, 2.5e8, 5e8, 1e9, 2.5e9, 5e9, 1e10, 2.5e10, 5e10, 1e11)
WHATIF_OFFERINGS = 7
"""Offerings across the What-if grid: the Ranking's first seven for the Inputs model (formulas a user may type over),
so every column serves the model (a fixed list errs for a model some platforms do not serve: gpt_oss_120b)."""


def ranking_cell(field, position):
    """A formula for ``field`` (platform, gpu) of the Ranking's ``position``-th offering, blank past its end or for a
    per-token offering's GPU (``&""``: a blank cell reads as text, not 0)."""
    return f'=IFERROR(INDEX(Ranking,{1 + position},MATCH("{field}",INDEX(Ranking,1,0),0))&"","")'


WHATIF_PATTERNS = ("steady", "business_hours", "bursty")

SPARE_ROWS = 100  # blank rows inside each table's defined name, so added rows count

XLWINGS_CONF = (  # rows of the xlwings.conf sheet (read from A1 down to the first blank)
    ("UDF Modules", "udfs.functions"),
    ("Debug UDFs", "False"),
    ("Use UDF Server", "False"),
    ("Show Console", "False"),
)


@dataclass(frozen=True)
class Check:
    """What the Checks sheet accepts in one input cell. ``kind``: number, choice or bool.

    number: ``minimum``/``maximum`` inclusive, ``above`` = strictly greater than ``minimum``,
    ``whole`` = no fractions. choice: ``choices`` is a (catalog table, key column) or a tuple of
    words. ``optional``: blank is fine. ``fix`` is the one line shown when the check fails.
    """
    kind: str
    fix: str
    minimum: float | None = None
    maximum: float | None = None
    above: bool = False
    whole: bool = False
    choices: object = None
    optional: bool = False


SHARE = dict(minimum=0.0, maximum=1.0)
def _shown(number):
    return f"{int(number):,}" if float(number).is_integer() and abs(number) < 1e13 else f"{number:g}"


def argument_check(key):
    """The Checks-sheet rule of an Inputs row that is an argument of the registry (`atlas_xl.arguments`):
    its bounds, whole-number rule and choices, so a cell the sheet passes is one every function takes."""
    a = arguments.get(arguments.key_names().get(key, key))
    optional = input_row(key).optional
    blank = "blank, or " if optional else ""
    if a.kind == "number":
        low = "above 0" if a.positive else (f"{_shown(a.minimum)} or more" if a.minimum is not None else "")
        high = f"at most {_shown(a.maximum)}" if a.maximum is not None else ""
        words = ", ".join(w for w in (low, high) if w)
        fix = f"{blank}{'a whole number' if a.whole else 'a number'} {words}" + (f" {a.units}" if a.message_units
                                                                                 else "")
        return Check("number", fix, minimum=0.0 if a.positive else a.minimum, maximum=a.maximum, above=a.positive,
                     whole=a.whole, optional=optional)
    if isinstance(a.choices, arguments.CatalogKeys):
        title = CATALOG_SHEETS[a.choices.table][0]
        return Check("choice", f"{blank}a key of the {title} sheet", choices=(a.choices.table, a.choices.column),
                     optional=optional)
    words = ", ".join(a.choices[:-1]) + f" or {a.choices[-1]}"
    return Check("choice", f"{blank}{words}", choices=a.choices, optional=optional)


ARGUMENT_INPUTS = ("tokens_per_day", "pattern", "model", "latency_ms", "platform", "gpu", "precision", "input_tokens",
                   "output_tokens", "ttft_limit_ms", "tpot_limit_ms", "fixed_gpu_count", "gpu_tokens_per_s_override",
                   "hourly_usd_override", "price_per_m_tok_override", "target", "seed", "usd_per_kwh", "pue",
                   "workload")
"""Inputs rows that hold an argument of the registry: their checks are the registry's."""
INPUT_CHECKS = {key: argument_check(key) for key in ARGUMENT_INPUTS}
INPUT_CHECKS.update({  # the other Inputs rows (planner assumptions, the simulator's workload and knobs)
    "hours_per_month": Check("number", "hours in a month: above 0, at most 744 (31 × 24)", minimum=0.0,
                             maximum=744.0, above=True),
    "days_per_month": Check("number", "days in a month: above 0, at most 31", minimum=0.0, maximum=31.0, above=True),
    "target_utilization": Check("number", "a share above 0 % and at most 100 %", minimum=0.0, maximum=1.0,
                                above=True),
    "low_risk_max": Check("number", "a share from 0 % to 100 %", **SHARE),
    "medium_risk_max": Check("number", "a share from 0 % to 100 %", **SHARE),
    "overload_threshold": Check("number", "a share of 0 % or more", minimum=0.0),
    "overload_ramp": Check("number", "a share above 0 %", minimum=0.0, above=True),
    "overload_penalty_usd": Check("number", "0 USD or more", minimum=0.0),
    "max_gpus": Check("number", "a whole number of GPUs, 1 or more", minimum=1.0, whole=True),
    "scaling_penalty_usd_per_gpu": Check("number", "0 USD or more", minimum=0.0),
    "strict_latency_ms": Check("number", "0 ms or more", minimum=0.0),
    "latency_penalty_usd": Check("number", "0 USD or more", minimum=0.0),
    "parallelism.tp": Check("number", "blank, or a whole number, 1 or more", minimum=1.0, whole=True, optional=True),
    "parallelism.pp": Check("number", "blank, or a whole number, 1 or more", minimum=1.0, whole=True, optional=True),
    "parallelism.dp": Check("number", "blank, or a whole number, 1 or more", minimum=1.0, whole=True, optional=True),
    "sequence.prompt": Check("number", "blank, or a whole number of tokens, 1 or more", minimum=1.0, whole=True,
                             optional=True),
    "sequence.generate": Check("number", "blank, or a whole number of tokens, 1 or more", minimum=1.0, whole=True,
                               optional=True),
    "arrival.requests_per_sec": Check("number", "blank, or 0 requests/s or more", minimum=0.0, optional=True),
    "arrival.profile": Check("choice", "blank, or a profile of the RequestProfiles sheet",
                             choices=("request_profiles", "profile"), optional=True),
    "cuda_graphs": Check("bool", "blank, TRUE or FALSE", optional=True),
    "gpudirect_rdma": Check("bool", "blank, TRUE or FALSE", optional=True),
    "fabric": Check("choice", "blank, or ib, roce, nvlink, vendor, fabric", choices=("ib", "roce", "nvlink", "vendor",
                                                                                    "fabric"), optional=True),
    "virt": Check("choice", "blank, bare or sriov", choices=("bare", "sriov"), optional=True),
    "microbatch": Check("number", "blank, or a whole number, 1 or more", minimum=1.0, whole=True, optional=True),
    # rows that follow the plan (formulas); a value typed over one is held to the same rules
    "gpu_count": Check("number", "blank, or a whole number of GPUs, 1 or more", minimum=1.0, whole=True,
                       optional=True),
    "precision.weights": INPUT_CHECKS["precision"],
})
INPUT_CHECKS = {row.key: INPUT_CHECKS[row.key] for block in INPUTS for row in block.rows if row.key in INPUT_CHECKS}
"""Input rules of the Checks sheet, one per Inputs row (rank_fields is checked by the ranking itself)."""

CATALOG_COLUMNS = {  # defined name → (catalog table, column): catalog columns the cross-checks look up
    "TargetKeys": ("targets", "target"), "TargetGpus": ("targets", "gpu"),
    "WorkloadKeys": ("workloads", "workload"), "WorkloadModels": ("workloads", "model"),
}

CROSS_CHECKS = (  # checks across inputs: (label, condition that must hold, over Inputs keys, fix)
    ("Low-risk limit ≤ medium-risk limit", "{low_risk_max}<={medium_risk_max}",
     "the low-risk limit must not exceed the medium-risk limit"),
    # the Simulator models the planned deployment only when its target and workload match the plan
    ("Simulator target has the plan's GPU", 'OR({gpu}="",IFERROR(INDEX(TargetGpus,MATCH({target},TargetKeys,0)),"")'
                                            '={gpu})',
     "pick a target of the Targets sheet with the Inputs GPU, or the Simulator models other hardware than the plan"),
    ("Simulator workload runs the plan's model", 'OR({workload}="",IFERROR(INDEX(WorkloadModels,MATCH({workload},'
                                                 'WorkloadKeys,0)),"")={model})',
     "pick a workload of the Workloads sheet whose model is the Inputs model (add one if none), or the Simulator "
     "models another model than the plan"),
    ("Simulator tensor parallel is the plan's replica size",
     'OR({parallelism_tp}="",ReplicaGpus="",{parallelism_tp}=ReplicaGpus)',
     "clear the typed tensor parallel (it follows Results' GPUs per replica), or the Simulator runs other replicas "
     "than the plan"),
)
