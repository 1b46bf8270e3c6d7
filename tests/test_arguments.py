"""The argument registry (atlas_xl/arguments.py, issue 18): each argument once, and everything that
names arguments — the worksheet functions, the sweep columns, the model's defaults, the template's
formulas, docs/limits.md — made from it or checked against it. Named options (``options``) through
xlwings' own conversion (tests/xlwings_com.py)."""
import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import atlas_xl
from atlas_xl import arguments, fields, finance, optimizer, serving, simulator, values
from atlas_xl.errors import InputError, UnknownNameError
from udfs import calls, finance_calls, functions, signatures

ROOT = Path(__file__).resolve().parents[1]
PLAN = (2e9, "steady", "llama_70b", "runpod", "h100_sxm")
EXTRA_UNITS = {"months", "days", "draws", "scenarios", "sequences"}  # counts the field table does not show


# -- the registry itself ------------------------------------------------------------------------------------
def test_every_argument_is_complete_and_in_a_known_group():
    for a in arguments.ARGUMENTS.values():
        assert a.group in arguments.GROUPS, a.name
        assert a.label and a.help and a.doc, a.name
        assert a.units in fields.UNIT_FORMATS or a.units in EXTRA_UNITS, (a.name, a.units)  # the field table's words
        if a.maximum is not None or a.minimum is not None:
            assert a.reason, f"{a.name}: a bound needs its reason (docs/limits.md)"
        if a.kind == "choice" and a.choices is not None:
            assert isinstance(a.choices, (tuple, arguments.CatalogKeys)), a.name


def test_get_names_the_known_arguments_when_one_is_unknown():
    assert arguments.get("tpot_ms").units == "ms"
    with pytest.raises(UnknownNameError, match="unknown argument 'tpot' — .*tpot_ms"):
        arguments.get("tpot")


def test_the_models_defaults_are_the_registrys():
    # one place per fact: the model's constants are read from (or equal) the registry's defaults
    assert serving.DEFAULT_PRECISION == arguments.get("precision").default
    assert (serving.DEFAULT_INPUT_TOKENS, serving.DEFAULT_OUTPUT_TOKENS) == (1024, 1024)  # InferenceX 1k/1k
    assert (serving.DEFAULT_TTFT_MS, serving.DEFAULT_TPOT_MS) == (arguments.get("ttft_ms").default,
                                                                  arguments.get("tpot_ms").default)
    assert simulator.DEFAULT_USD_PER_KWH == arguments.USD_PER_KWH == arguments.get("usd_per_kwh").default == 0.12
    assert inspect.signature(optimizer.optimize).parameters["sla_p99_ms"].default == arguments.get("sla_p99_ms").default
    assert finance.SENSITIVITY_SPREAD == arguments.get("spread").default
    cost_range = inspect.signature(finance.cost_range).parameters
    assert cost_range["draws"].default == arguments.get("draws").default
    commit = inspect.signature(finance.commit_advice).parameters
    assert commit["draws"].default == arguments.get("commit_draws").default
    assert commit["months"].default == 36 and "36" in arguments.get("horizon_months").doc
    assert finance.MAX_MONTHS == arguments.get("months").maximum
    assert atlas_xl.catalog.BILLING is arguments.BILLING and atlas_xl.catalog.TERMS is arguments.TERMS


def test_the_plan_arguments_are_plans_signature():
    parameters = inspect.signature(atlas_xl.plan).parameters
    # PLAN (every entrance's) then PLAN_RUNNING (the Python API's and the CLI's only), in plan's own order
    assert list(arguments.PLAN + arguments.PLAN_RUNNING) == [p for p in parameters if p not in ("catalog", "assumptions")]
    assert {p for p in inspect.signature(atlas_xl.rank).parameters} >= {"region"}
    assert set(arguments.SERVING) <= set(inspect.signature(atlas_xl.estimate).parameters)


def test_argparse_kwargs_carry_default_units_and_choices():
    kwargs = arguments.get("usd_per_kwh").argparse_kwargs()
    assert kwargs["default"] is None and kwargs["help"] == "Electricity price [USD/kWh] (default: 0.12)"
    assert arguments.get("precision").argparse_kwargs()["choices"] == arguments.PRECISION_CHOICES


# -- generated files are current --------------------------------------------------------------------------
@pytest.mark.parametrize("script", ["gen_functions.py", "gen_argument_docs.py"])
def test_generated_files_are_current(script):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_worksheet_functions_are_the_signatures_and_the_registrys_help():
    listed = [n for n in vars(functions) if n.startswith("ATLAS_")]
    assert listed == [w.name for w in signatures.FUNCTIONS]
    for w in signatures.FUNCTIONS:
        function = getattr(functions, w.name)
        assert functions.arguments(function) == list(w.parameters), w.name
        for name in w.parameters:
            assert functions.ARG_DOCS[name] == arguments.get(name).doc


def test_each_function_body_names_every_argument_it_takes():
    # issue 18: no locals() dispatch — a reader follows tokens_per_day from the cell to the call
    tree = ast.parse((ROOT / "udfs" / "functions.py").read_text(encoding="utf-8"))
    found = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("ATLAS_"):
            found += 1
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            assert "locals" not in used, node.name
            for argument in node.args.args:
                assert argument.arg in used, f"{node.name} does not pass on {argument.arg}"
    assert found == len(signatures.FUNCTIONS)


def test_planner_serving_and_finance_functions_take_options_last():
    for w in signatures.FUNCTIONS:
        if w.section in ("planner", "serving model") or (w.section == "finance" and w.name != "ATLAS_PATTERN"):
            assert w.parameters[-1] == "options", w.name


# -- template formulas are built by keyword -------------------------------------------------------------
def test_template_formulas_are_built_by_keyword():
    from workbook import sheets
    assert sheets.formula("ATLAS_GPU_TPS", model="Model", tp="4") == "=ATLAS_GPU_TPS(Model,,,,,,,4)"
    # the Results formulas as the template wrote them before the registry, character for character
    assert sheets.plan_formula("ATLAS_COST") == (
        "=ATLAS_COST(TokensPerDay,Pattern,Model,Platform,Gpu,LatencyMs,FixedGpuCount,GpuTokensPerSOverride,"
        "HourlyUsdOverride,PricePerMTokOverride,Assumptions,GpusTable,ModelsTable,PatternsTable,OfferingsTable,"
        "ThroughputTable,Precision,InputTokens,OutputTokens,TtftLimitMs,TpotLimitMs)")
    assert sheets.serving_formula("ATLAS_FIT") == ('=IF(Gpu="","",ATLAS_FIT(Model,Gpu,Precision,InputTokens,'
                                                   'OutputTokens,TtftLimitMs,TpotLimitMs,,GpusTable,ModelsTable,'
                                                   'ThroughputTable))')
    assert sheets.sim_formula("ATLAS_P99") == ("=ATLAS_P99(Target,Workload,Knobs,Seed,UsdPerKwh,Pue,"
                                               "HardwareModelsTable,TargetsTable,WorkloadsTable,PhasesTable,"
                                               "RequestProfilesTable)")
    with pytest.raises(KeyError, match="no argument 'tpot'"):
        sheets.formula("ATLAS_COST", tpot="40")


# -- one check, one message, at every entrance ------------------------------------------------------------
def test_every_bound_is_the_registrys():
    assert set(values.LIMITS) == set(arguments.bounded())
    for name, (bounds, why) in values.LIMITS.items():
        assert bounds == arguments.get(name).bounds and why == arguments.get(name).reason


@pytest.mark.parametrize("name, value", [("hourly_usd", 5000.0), ("tokens_per_day", 1e16), ("tpot_ms", 0.0)])
def test_the_same_value_gets_the_same_message_everywhere(name, value):
    row = dict(zip(("tokens_per_day", "pattern", "model", "platform", "gpu"), PLAN))
    row[name] = value
    with pytest.raises(InputError) as api:
        atlas_xl.plan(**row)
    message = str(api.value)
    with pytest.raises(InputError) as typed:  # the CLI's and scenario files' parser
        values.parse_argument(repr(value), name)
    assert str(typed.value) == message
    with pytest.raises(InputError) as swept:
        atlas_xl.sweep([row], workers=1)
    assert str(swept.value).endswith(": " + message)
    given = dict(zip(signatures.PLANNER, PLAN))
    given[name] = value
    cell = functions.ATLAS_COST(**given)
    assert cell == message
    from workbook import recalculate, sheets  # recalc --set on the template's defined name of the argument
    defined = sheets.INPUT_NAMES[name]
    with pytest.raises(InputError) as overridden:
        recalculate.parse_override(f"{defined}={value!r}")
    assert str(overridden.value) == f"override '{defined}': {message}"


def test_the_checks_sheet_holds_inputs_to_the_registrys_bounds():
    from workbook import sheets
    for key in sheets.ARGUMENT_INPUTS:
        a, check = arguments.get(arguments.key_names().get(key, key)), sheets.INPUT_CHECKS[key]
        if a.kind == "number":
            assert (check.maximum, check.whole, check.above) == (a.maximum, a.whole, a.positive), key
            assert check.minimum == (0.0 if a.positive else a.minimum), key
        else:
            assert check.choices in (a.choices, (getattr(a.choices, "table", None), getattr(a.choices, "column", None)))


# -- named options ------------------------------------------------------------------------------------------
def _com():
    import xlwings_com
    return xlwings_com


def test_options_in_a_positional_place_mean_the_named_arguments():
    com = _com()
    options = com.Range([["precision", "fp8"], ["tpot_ms", 20.0]])
    named = com.call("ATLAS_COST", *PLAN, options)  # =ATLAS_COST(TokensPerDay,Pattern,Model,Platform,Gpu,Options)
    positional = com.call("ATLAS_COST", *PLAN, *[com.MISSING] * 11, "fp8", com.MISSING, com.MISSING, com.MISSING, 20.0)
    assert named == positional == atlas_xl.plan(*PLAN, precision="fp8", tpot_ms=20).monthly_cost_usd
    assert named != com.call("ATLAS_COST", *PLAN)  # 20 ms per token needs more GPUs than the 200 ms default


def test_options_last_and_template_keys():
    com = _com()
    options = com.Range([["ttft_limit_ms", 1000.0], ["fixed_gpu_count", 16.0], [None, None]])  # the Inputs keys
    last = com.call("ATLAS_GPUCOUNT", *PLAN, *[com.MISSING] * 18, options)  # 18: ... tp, prefix_hit_rate
    assert last == atlas_xl.plan(*PLAN, ttft_ms=1000, gpu_count=16).gpu_count == 16
    assert com.call("ATLAS_ESTIMATE", "llama_70b", "h200", com.Range([["tp", 4.0]]), caller=com.cells(30, 2)) == \
        com.call("ATLAS_ESTIMATE", "llama_70b", "h200", *[com.MISSING] * 5, 4.0, caller=com.cells(30, 2))


def test_options_in_finance_functions():
    com = _com()
    options = com.Range([["months", 3.0], ["monthly_growth", 0.1], ["tpot_ms", 40.0]])
    named = com.call("ATLAS_FORECAST", *PLAN, options, caller=com.cells(6, 7))
    positional = com.call("ATLAS_FORECAST", *PLAN, 3.0, 0.1, *[com.MISSING] * 17, 40.0, caller=com.cells(6, 7))
    assert named == positional
    assert len([r for r in named if r[0] not in ("", None)]) == 5  # a header, three months and the price's as_of
    assert com.call("ATLAS_BREAKEVEN", "steady", "llama_70b", "together", "runpod/h100_sxm",
                    com.Range([["latency_ms", 250.0]])) == \
        com.call("ATLAS_BREAKEVEN", "steady", "llama_70b", "together", "runpod/h100_sxm", com.MISSING, com.MISSING,
                 250.0)


def test_bad_options_are_one_line_that_names_the_fix():
    com = _com()
    assert com.call("ATLAS_COST", *PLAN, com.MISSING, com.MISSING, com.MISSING, com.MISSING, com.MISSING,
                    com.MISSING, com.MISSING, com.MISSING, com.MISSING, com.MISSING, com.MISSING, "fp8",
                    *[com.MISSING] * 6, com.Range([["precision", "bf16"]])) == \
        "precision is given twice — as an argument and in options; leave one of them blank"
    before_options = signatures.get("ATLAS_COST").parameters.index("options") - len(PLAN)  # options' own place
    unknown = com.call("ATLAS_COST", *PLAN, *[com.MISSING] * before_options, com.Range([["tpot", 40.0]]))
    assert unknown.startswith("unknown option 'tpot' — ") and "tpot_ms" in unknown
    # a key that is no argument of this function: ATLAS_GPU_TPS has no latency_ms
    assert com.call("ATLAS_GPU_TPS", "llama_70b", "h200", *[com.MISSING] * 12,
                    com.Range([["latency_ms", 250.0]])).startswith("unknown option 'latency_ms'")
    # in a positional place, a range that does not name arguments is that argument's value, as before
    as_latency = com.call("ATLAS_COST", *PLAN, com.Range([["fast", 1.0]]))
    assert as_latency[0] == "latency_ms must be a number, not 'fast' — write e.g. 2e9, 2B or 500M"


def test_is_options_tells_options_from_values():
    known = {"precision", "tpot_ms", "latency_ms"}
    assert calls.is_options([["precision", "fp8"], ["tpot_ms", 40.0]], known)
    assert calls.is_options([["TTFT_LIMIT_MS", 1.0]], known | {"ttft_ms"})  # template key, any case
    assert not calls.is_options([[250.0], [300.0]], known)  # a column of latencies
    assert not calls.is_options([["runpod", "lambda"]], known)  # a row of platforms
    assert not calls.is_options([[None, None]], known) and not calls.is_options(250.0, known)
    assert finance_calls.PLAN_KWARGS == ("latency_ms",) + arguments.SERVING + arguments.PLAN_RUNNING


# -- positions are a promise to saved workbooks ----------------------------------------------------------
SAVED_POSITIONS = {  # every argument list before issue 18 (udfs/functions.py at bbbcfc0)
    "ATLAS_PEAK_TPS": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_GPUCOUNT": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_UTILIZATION": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_RISK": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_COST": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_COST_PER_MTOK": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_IDLE_WASTE": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_PENALTY": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_PLAN": ("tokens_per_day", "pattern", "model", "platform", "gpu", "latency_ms", "gpu_count",
        "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "assumptions", "gpus", "models", "patterns",
        "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_RANK": ("tokens_per_day", "pattern", "model", "latency_ms", "top", "fields", "assumptions", "gpus",
        "models", "patterns", "offerings", "throughput", "precision", "input_tokens", "output_tokens",
        "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_GPU_TPS": ("model", "gpu", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp",
        "gpus", "models", "throughput"),
    "ATLAS_FIT": ("model", "gpu", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp",
        "gpus", "models", "throughput"),
    "ATLAS_TPOT": ("model", "gpu", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp",
        "gpus", "models", "throughput"),
    "ATLAS_ESTIMATE": ("model", "gpu", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp",
        "gpus", "models", "throughput"),
    "ATLAS_THROUGHPUT": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models",
        "targets", "workloads", "phases", "request_profiles"),
    "ATLAS_P50": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models", "targets",
        "workloads", "phases", "request_profiles"),
    "ATLAS_P95": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models", "targets",
        "workloads", "phases", "request_profiles"),
    "ATLAS_P99": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models", "targets",
        "workloads", "phases", "request_profiles"),
    "ATLAS_TTFT": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models", "targets",
        "workloads", "phases", "request_profiles"),
    "ATLAS_STEP_TIME": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models",
        "targets", "workloads", "phases", "request_profiles"),
    "ATLAS_POWER": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models", "targets",
        "workloads", "phases", "request_profiles"),
    "ATLAS_ENERGY_COST": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models",
        "targets", "workloads", "phases", "request_profiles"),
    "ATLAS_COST_PER_1K": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models",
        "targets", "workloads", "phases", "request_profiles"),
    "ATLAS_QUEUE_WAIT": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models",
        "targets", "workloads", "phases", "request_profiles"),
    "ATLAS_SIMULATE": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models",
        "targets", "workloads", "phases", "request_profiles"),
    "ATLAS_SCHEDULE": ("target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "hardware_models",
        "targets", "workloads", "phases", "request_profiles"),
    "ATLAS_OPTIMIZE": ("target", "workload", "knobs", "sla_p99_ms", "seed", "usd_per_kwh", "pue",
        "hardware_models", "targets", "workloads", "phases", "request_profiles"),
    "ATLAS_CATALOG": ("kind", "table"),
    "ATLAS_VERSION": (),
    "ATLAS_FORECAST": ("tokens_per_day", "pattern", "model", "platform", "gpu", "months", "monthly_growth",
        "start", "price_change_per_year", "commitment", "committed_gpus", "latency_ms", "forecast_fields",
        "assumptions", "gpus", "models", "patterns", "offerings", "throughput", "commitments", "precision",
        "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_BREAKEVEN": ("pattern", "model", "option_a", "option_b", "gpu_a", "gpu_b", "latency_ms",
        "assumptions", "gpus", "models", "patterns", "offerings", "throughput", "precision", "input_tokens",
        "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_PATTERN": ("timestamps", "tokens", "pattern_field", "patterns"),
    "ATLAS_COST_RANGE": ("tokens_per_day", "pattern", "model", "platform", "gpu", "percentile",
        "throughput_error", "price_spread", "volume_spread", "draws", "seed", "month", "monthly_growth",
        "growth_spread", "start", "price_change_per_year", "latency_ms", "assumptions", "gpus", "models",
        "patterns", "offerings", "throughput", "precision", "input_tokens", "output_tokens", "ttft_ms",
        "tpot_ms", "tp"),
    "ATLAS_SENSITIVITY": ("tokens_per_day", "pattern", "model", "platform", "gpu", "spread", "output",
        "latency_ms", "assumptions", "gpus", "models", "patterns", "offerings", "throughput", "precision",
        "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
    "ATLAS_COMMIT": ("tokens_per_day", "pattern", "model", "platform", "gpu", "horizon_months",
        "monthly_growth", "start", "term", "volume_spread", "throughput_error", "commit_draws", "seed",
        "latency_ms", "assumptions", "gpus", "models", "patterns", "offerings", "throughput", "commitments",
        "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp"),
}


def test_an_argument_list_only_grows_at_its_end():
    # a saved =ATLAS_COST(A1,"steady","llama_70b","runpod",,,,,,,,,,,,,,,,,,4) keeps meaning tp = 4
    assert set(SAVED_POSITIONS) == {w.name for w in signatures.FUNCTIONS}
    for w in signatures.FUNCTIONS:
        saved = SAVED_POSITIONS[w.name]
        assert w.parameters[:len(saved)] == saved, w.name


def test_speculative_decoding_reaches_the_worksheet_and_the_cli(capsys):
    # serving model v2's speculative= and acceptance_length=: by name in an options range, and at the end of
    # the serving functions' argument lists (no saved position moves)
    com = _com()
    expected = atlas_xl.estimate("deepseek_r1", "b200", precision="fp4", tpot_ms=15, speculative="mtp")
    options = com.Range([["precision", "fp4"], ["tpot_ms", 15.0], ["speculative", "mtp"]])
    assert com.call("ATLAS_GPU_TPS", "deepseek_r1", "b200", options) == expected.output_tokens_per_s_per_gpu
    given = atlas_xl.estimate("deepseek_r1", "b200", speculative="mtp", acceptance_length=1.8)
    tail = [com.MISSING] * 9 + ["mtp", 1.8]  # precision … throughput left blank, then the two new arguments
    assert com.call("ATLAS_GPU_TPS", "deepseek_r1", "b200", *tail) == given.output_tokens_per_s_per_gpu
    assert "acceptance_length" in com.call("ATLAS_GPU_TPS", "deepseek_r1", "b200", *tail[:-1], 0.5)
    import atlas_xl_cli
    assert atlas_xl_cli.main(["estimate", "deepseek_r1", "b200", "--precision", "fp4", "--tpot-ms", "15",
                              "--speculative", "mtp", "--json"]) == 0
    import json
    assert json.loads(capsys.readouterr().out)["output_tokens_per_s_per_gpu"] == pytest.approx(
        expected.output_tokens_per_s_per_gpu)


def test_prefix_hit_rate_reaches_the_worksheet_the_cli_and_sweeps(capsys):
    # issue 19 item 2: prefix_hit_rate at the end of the planner and serving functions (before options), by
    # name in an options range, and a range of hit rates spills one plan per value
    com = _com()
    rag = dict(input_tokens=8000, output_tokens=300)
    expected = [atlas_xl.plan(*PLAN, prefix_hit_rate=h, **rag).gpu_count for h in (0.0, 0.5, 0.8)]
    column = com.Range([[0.0], [0.5], [0.8]])
    tail = [com.MISSING] * 12 + [8000.0, 300.0, com.MISSING, com.MISSING, com.MISSING]  # … tp blank
    assert com.call("ATLAS_GPUCOUNT", *PLAN, *tail, column, caller=com.cells(3, 1)) == [[g] for g in expected]
    options = com.Range([["input_tokens", 8000.0], ["output_tokens", 300.0], ["prefix_hit_rate", 0.8]])
    assert com.call("ATLAS_COST", *PLAN, options) == atlas_xl.plan(*PLAN, prefix_hit_rate=0.8, **rag).monthly_cost_usd
    estimate = atlas_xl.estimate("llama_70b", "h100_sxm", prefix_hit_rate=0.8, **rag)
    serving_tail = [com.MISSING, 8000.0, 300.0] + [com.MISSING] * 8  # precision … acceptance_length
    assert com.call("ATLAS_GPU_TPS", "llama_70b", "h100_sxm", *serving_tail, 0.8) == \
        estimate.output_tokens_per_s_per_gpu
    assert com.call("ATLAS_GPU_TPS", "llama_70b", "h100_sxm", *serving_tail, 1.5).startswith(
        "prefix_hit_rate 1.5 is above 1 — it is a share from 0 to 1 (write 80 % as 0.8)")
    ranked = atlas_xl.rank(*PLAN[:3], prefix_hit_rate=0.8, **rag)
    assert com.call("ATLAS_RANK", *PLAN[:3], com.Range([["prefix_hit_rate", 0.8], ["input_tokens", 8000.0],
                                                       ["output_tokens", 300.0], ["top", 1.0],
                                                       ["fields", "monthly_cost_usd"]]),
                    caller=com.cells(2, 1)) == [["monthly_cost_usd"], [ranked.monthly_cost_usd.iloc[0]]]
    import atlas_xl_cli
    import json
    for command in (["plan", "2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm"],
                    ["rank", "2B", "steady", "llama_70b", "--top", "1"], ["estimate", "llama_70b", "h100_sxm"]):
        assert atlas_xl_cli.main(command + ["--input-tokens", "8000", "--output-tokens", "300",
                                            "--prefix-hit-rate", "0.8", "--json"]) == 0, command
        shown = json.loads(capsys.readouterr().out)
        shown = shown[0] if isinstance(shown, list) else shown
        assert shown["prefix_hit_rate"] == 0.8, command
    # a sweep's column of the registry's PLAN arguments
    from atlas_xl import sweeps
    assert "prefix_hit_rate" in sweeps.SCENARIO_COLUMNS and "prefix_hit_rate" in sweeps.SERVING_COLUMNS
    rows = [dict(zip(("tokens_per_day", "pattern", "model", "platform", "gpu"), PLAN), prefix_hit_rate=h, **rag)
            for h in (0.0, 0.5, 0.8)]
    assert sweeps.sweep(rows).gpu_count.tolist() == expected  # one plan per hit rate, as plan() gives


def test_the_running_arguments_reach_the_worksheet_and_the_cli(capsys):
    # issue 19: region, min_replicas, disaggregated and pue at the end of every planner function (before options),
    # rank's three at the end of ATLAS_RANK; the CLI's plan and rank take the same names from the registry
    for w in signatures.FUNCTIONS:
        if w.call in ("calls.plan_field", "calls.plan_table"):
            assert w.parameters[-5:-1] == arguments.PLAN_RUNNING, w.name
    assert signatures.get("ATLAS_RANK").parameters[-4:-1] == arguments.RANK_RUNNING
    com = _com()
    serverless = (2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm")
    expected = atlas_xl.plan(*serverless, region="germany", min_replicas=2, pue=1.3)
    options = com.Range([["region", "germany"], ["min_replicas", 2.0], ["pue", 1.3]])
    rows = com.call("ATLAS_PLAN", *serverless, options, caller=com.cells(70, 2))
    shown = {row[0]: row[1] for row in rows[1:] if row and row[0]}
    for field in ("co2e_kg_per_month", "warm_replicas", "energy_kwh_per_month"):  # as plan() gives them
        assert shown[field] == getattr(expected, field), field
    import atlas_xl_cli
    import json
    assert atlas_xl_cli.main(["plan", "2B", "business_hours", "llama_70b", "runpod_serverless", "--gpu", "h100_sxm",
                              "--region", "germany", "--min-replicas", "2", "--pue", "1.3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    for field in ("co2e_kg_per_month", "warm_replicas", "energy_kwh_per_month"):
        assert printed[field] == pytest.approx(getattr(expected, field), rel=1e-12), field


def test_the_finance_functions_take_the_running_arguments_that_change_their_results():
    # issue 19: a forecast's columns and a tornado's output may be any plan field, so ATLAS_FORECAST and
    # ATLAS_SENSITIVITY take all four (as the planner functions); break-even, cost range and commitment advice are
    # costs, which only disaggregated changes (atlas_xl.arguments.COST_RUNNING) — each at the end, before options
    for name in ("ATLAS_FORECAST", "ATLAS_SENSITIVITY"):
        assert signatures.get(name).parameters[-5:-1] == arguments.PLAN_RUNNING, name
    for name in ("ATLAS_BREAKEVEN", "ATLAS_COST_RANGE", "ATLAS_COMMIT"):
        assert signatures.get(name).parameters[-2:-1] == arguments.COST_RUNNING, name
    changes_cost = [n for n in arguments.PLAN_RUNNING if n in arguments.COST_RUNNING]
    serverless = (2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm")
    base = atlas_xl.plan(*serverless).monthly_cost_usd
    for name, value in (("region", "france"), ("min_replicas", 1), ("pue", 1.2)):  # energy, CO2e, warm pool only
        assert name not in changes_cost and atlas_xl.plan(*serverless, **{name: value}).monthly_cost_usd == base
    split = (3e10, "steady", "deepseek_r1", "nebius", "b200")
    assert changes_cost == ["disaggregated"] and atlas_xl.plan(*split, disaggregated=True).monthly_cost_usd != \
        atlas_xl.plan(*split).monthly_cost_usd
