"""The template's Checks sheet: every input driven through good, boundary and bad values, and the
checks say what happened (workbook/template.py `_checks`, rules in workbook/sheets.py INPUT_CHECKS).

Each case is one headless recalculation of the built template with the inputs overridden.
"""
import pytest
from openpyxl import load_workbook

from workbook import sheets, template

BOUNDARY = {  # the edge of what each input allows: every check must still pass
    "tokens_per_day": 1, "pattern": "bursty", "model": "llama_8b", "latency_ms": 0, "platform": "together",
    "gpu": None, "precision": "bf16", "input_tokens": 1, "output_tokens": 1, "ttft_limit_ms": 1, "tpot_limit_ms": 1,
    "fixed_gpu_count": 1, "gpu_tokens_per_s_override": 0.001, "hourly_usd_override": 0,
    "price_per_m_tok_override": 0, "hours_per_month": 744, "days_per_month": 31, "target_utilization": 1,
    "low_risk_max": 0, "medium_risk_max": 1, "overload_threshold": 0, "overload_ramp": 0.001,
    "overload_penalty_usd": 0, "max_gpus": 1, "scaling_penalty_usd_per_gpu": 0, "strict_latency_ms": 0,
    "latency_penalty_usd": 0, "seed": 0, "usd_per_kwh": 0, "pue": 1,
    "parallelism.pp": 1, "parallelism.dp": 1,
    "arrival.requests_per_sec": 0, "arrival.profile": "spike",
    "cuda_graphs": True, "gpudirect_rdma": False, "fabric": "ib", "virt": "bare", "microbatch": 1,
}
OUT_OF_RANGE = {  # one step outside what each input allows
    "tokens_per_day": -5e9, "pattern": "weekly", "model": "gpt4", "latency_ms": -1, "platform": "runpd",
    "gpu": "h100", "precision": "int3", "input_tokens": 0, "output_tokens": 0.5, "ttft_limit_ms": 0,
    "tpot_limit_ms": -1, "fixed_gpu_count": 2.5, "gpu_tokens_per_s_override": 0, "hourly_usd_override": -1,
    "price_per_m_tok_override": -0.5, "hours_per_month": 745, "days_per_month": 32, "target_utilization": 1.5,
    "low_risk_max": 1.2, "medium_risk_max": -0.1, "overload_threshold": -0.1, "overload_ramp": 0,
    "overload_penalty_usd": -1, "max_gpus": 0.5, "scaling_penalty_usd_per_gpu": -1, "strict_latency_ms": -1,
    "latency_penalty_usd": -1, "seed": 1.5, "usd_per_kwh": -0.1, "pue": 0.9,
    "parallelism.pp": 1.5, "parallelism.dp": 0,
    "arrival.requests_per_sec": -1, "arrival.profile": "weekend", "cuda_graphs": "yes",
    "gpudirect_rdma": "maybe", "fabric": "ethernet", "virt": "vm", "microbatch": 0,
}
WRONG_TYPE = {  # blank where a value is required, text where a number belongs, a number for a name
    "tokens_per_day": "5B", "pattern": None, "model": None, "latency_ms": "fast", "platform": None, "gpu": 5,
    "precision": 8, "input_tokens": "x", "output_tokens": "x", "ttft_limit_ms": "x", "tpot_limit_ms": "x",
    "fixed_gpu_count": "two", "gpu_tokens_per_s_override": "x", "hourly_usd_override": "x",
    "price_per_m_tok_override": "x", "hours_per_month": None, "days_per_month": "x", "target_utilization": None,
    "low_risk_max": "x", "medium_risk_max": None, "overload_threshold": "x", "overload_ramp": None,
    "overload_penalty_usd": "x", "max_gpus": None, "scaling_penalty_usd_per_gpu": "x", "strict_latency_ms": None,
    "latency_penalty_usd": "x", "seed": "x", "usd_per_kwh": None, "pue": "x",
    "parallelism.pp": "x", "parallelism.dp": "x",
    "arrival.requests_per_sec": "x", "arrival.profile": 3, "cuda_graphs": 2,
    "gpudirect_rdma": "x", "fabric": 1, "virt": 0, "microbatch": "x",
}


ENGINE = {}


@pytest.fixture(scope="module")
def built(tmp_path_factory, office):
    ENGINE["office"] = office  # one warm LibreOffice for every case
    path = template.build_template(tmp_path_factory.mktemp("checks") / template.TEMPLATE_NAME)
    book = load_workbook(path)
    inputs = {}
    for cell in book["Inputs"]["B"]:  # the first row of a key: the simulator workload repeats model
        if isinstance(cell.value, str) and cell.style == "atlas_key":
            inputs.setdefault(cell.value, f"Inputs!C{cell.row}")
    checks = {}  # check label → row on the Checks sheet
    for row in book["Checks"].iter_rows(min_row=7):
        if row[1].value and row[3].value is not None:
            checks[row[1].value] = row[1].row
    return path, inputs, checks


PRICE_AGE_CELL = "Checks!D5"  # MaxPriceAgeDays (issue 20); the input cases below hold it at a century so that
# their expected failures do not change with the calendar — test_stale_price_fails_the_price_check varies it


def run(built, values, max_price_age_days=36500):
    path, inputs, checks = built
    overrides = {inputs[k]: v for k, v in values.items()}
    overrides[PRICE_AGE_CELL] = max_price_age_days
    result = ENGINE["office"].recalc(path, overrides)
    status = {label: (result.values[f"Checks!D{row}"], result.values[f"Checks!E{row}"])
              for label, row in checks.items()}
    return status, (result.values["Checks!D4"], result.values["Checks!E4"])


def input_label(key):
    return next(spec.label for block in sheets.INPUTS for spec in block.rows if spec.key == key)


FOLLOW_THE_PLAN = {spec.key for block in sheets.INPUTS for spec in block.rows
                   if isinstance(spec.value, str) and spec.value.startswith("=") and spec.key != "model"}
"""Inputs rows that are formulas over the plan (issue 20): a recalculation cannot override them (it overrides input
cells), so the cases below drive them through the plan's inputs; a value typed over one is checked like any input."""


def test_every_input_has_a_rule_and_a_check_row(built):
    _, inputs, checks = built
    assert set(sheets.INPUT_CHECKS) == set(inputs) - {"rank_fields"}  # rank_fields: checked by the ranking
    assert set(BOUNDARY) == set(OUT_OF_RANGE) == set(WRONG_TYPE) == set(sheets.INPUT_CHECKS) - FOLLOW_THE_PLAN
    assert {input_label(k) for k in sheets.INPUT_CHECKS} <= set(checks)


def test_defaults_pass_every_check(built):
    status, (count, overall) = run(built, {})
    assert count == 0 and overall.startswith("OK: all"), [s for s in status.items() if s[1][0]]


def test_boundary_values_pass_the_input_checks(built):
    status, _ = run(built, BOUNDARY)
    failed = {k: status[input_label(k)] for k in BOUNDARY if status[input_label(k)][0] != 0}
    assert not failed


@pytest.mark.parametrize("bad", [OUT_OF_RANGE, WRONG_TYPE], ids=["out_of_range", "wrong_type"])
def test_every_bad_value_is_caught_and_named(built, bad):
    status, (count, overall) = run(built, bad)
    missed = {k: v for k, v in bad.items() if status[input_label(k)][0] != 1}
    assert not missed  # each input's own check fired
    for key in bad:
        assert status[input_label(key)][1] == f"CHECK: {input_label(key)}: {sheets.INPUT_CHECKS[key].fix}"
    assert count >= len(bad) and overall.startswith("CHECK:")


SIMULATOR = ("Results (simulator): a number in every value cell", "Simulator: computed", "Schedule: computed")


@pytest.mark.parametrize("values, inputs_failing, results_failing", [
    # issue 12: these exited 0 with "0 not computed" and a Checks sheet that said OK
    # text "5B" in the cell: the ATLAS_* functions read it with the one value parser (as recalc --set and the
    # CLI do), so the results compute; the input check still asks for a number, as other formulas see text
    ({"tokens_per_day": "5B"}, {"Tokens per day"}, set()),
    # the Simulator follows the plan (issue 20): a plan without a GPU count (its GPUs row is the error) leaves it
    # nothing to simulate; the What-if offering axis is the Ranking's first seven, so no ranking leaves it empty
    ({"tokens_per_day": "=abc"}, {"Tokens per day"}, {"Results (planner): a number in every value cell",
                                                      "Ranking: computed, at least one offering", "GPUs", *SIMULATOR,
                                                      "What-if by offering: a cost in every cell"}),
    ({"tokens_per_day": -5e9}, {"Tokens per day"}, {"Results (planner): a number in every value cell",
                                                    "Ranking: computed, at least one offering", "GPUs", *SIMULATOR,
                                                    "What-if by offering: a cost in every cell"}),
    ({"model": "gpt4"}, {"Model"}, {"Results (planner): a number in every value cell",
                                    "Results (serving model): a number in every value cell",
                                    "Ranking: computed, at least one offering",
                                    "What-if by offering: a cost in every cell", "What-if by pattern: a cost in every cell",
                                    "GPUs", *SIMULATOR}),
    ({"parallelism.dp": 0}, {"Data parallel replicas"}, {"Results (simulator): a number in every value cell",
                                                         "Simulator: computed", "Schedule: computed"}),
    ({"low_risk_max": 0.8}, {"Low-risk limit ≤ medium-risk limit"}, set()),
    # issue 20: a GPU the simulator cannot model (no Targets row) is flagged, and the simulator rows say why
    ({"gpu": "a100_80gb"}, {"Simulator target has the plan's GPU"}, set(SIMULATOR)),
])
def test_one_bad_input_fails_its_check_and_the_results_it_breaks(built, values, inputs_failing, results_failing):
    status, (count, overall) = run(built, values)
    failing = {label for label, (problems, _) in status.items() if problems}
    assert failing == inputs_failing | results_failing
    assert count == sum(p for p, _ in status.values()) and overall.startswith("CHECK:")


def test_the_simulator_follows_another_gpu_and_every_check_passes(built):
    # issue 20: B200 and H200 (before: "Simulator target has the plan's GPU" failed beside the fixed H100 target)
    for values in ({"gpu": "b200"}, {"gpu": "h200"}):
        status, (count, overall) = run(built, values)
        assert count == 0 and overall.startswith("OK: all"), [s for s in status.items() if s[1][0]]


def test_a_typed_simulator_workload_of_another_model_is_flagged(built, tmp_path):
    path, inputs, checks = built
    book = load_workbook(path, keep_vba=True)
    (title, ref), = book.defined_names["Workload"].destinations
    first = ref.replace("$", "").split(":")[0]  # the workload row: its value cell is C of the first row
    book[title][f"C{first[1:]}"] = "llama_8b_api"  # typed over the formula: llama_8b beside a llama_70b plan
    edited = tmp_path / "typed.xlsm"
    book.save(edited)
    status, (count, overall) = run((edited, inputs, checks), {})
    failing = {label for label, (problems, _) in status.items() if problems}
    assert "Simulator workload runs the plan's model" in failing and overall.startswith("CHECK:")
    # llama_8b_api's tp = 1 cannot hold the plan's llama_70b (the model row still follows the plan): the rows say so
    assert failing - {"Simulator workload runs the plan's model"} <= set(SIMULATOR)


def test_a_typed_tensor_parallel_other_than_the_plans_is_flagged(built, tmp_path):
    # issue 20: the simulator's tp follows Results' GPUs per replica (2 for the default llama_70b plan on 6 H100s,
    # atlas_xl.plan(...).replica_gpus); 8 typed over the formula simulates other replicas than the plan
    path, inputs, checks = built
    book = load_workbook(path, keep_vba=True)
    (title, ref), = book.defined_names["Workload"].destinations
    top, bottom = (int(c[1:]) for c in ref.replace("$", "").split(":"))
    row = next(r for r in range(top, bottom + 1) if book[title][f"B{r}"].value == "parallelism.tp")
    book[title][f"C{row}"] = 8
    edited = tmp_path / "typed_tp.xlsm"
    book.save(edited)
    status, _ = run((edited, inputs, checks), {})
    failing = {label for label, (problems, _) in status.items() if problems}
    assert "Simulator tensor parallel is the plan's replica size" in failing
    assert "Simulator tensor parallel is the plan's replica size" not in {
        label for label, (problems, _) in run(built, {})[0].items() if problems}  # the formula passes


def test_overall_check_turns_red(built):
    path, _, _ = built
    book = load_workbook(path)
    rules = {str(r.sqref): [rule.formula[0] for rule in r.rules] for r in book["Checks"].conditional_formatting}
    assert rules["D4:E4"] == ["$D$4>0", "$D$4=0"]
    red = next(rule for r in book["Checks"].conditional_formatting for rule in r.rules if rule.formula == ["$D$4>0"])
    assert red.dxf.fill.fgColor.rgb.endswith("C00000")
    assert list(book.defined_names["AllChecks"].destinations) == [("Checks", "$E$4")]


PRICE_CHECK = "Price of the planned offering: at most the age limit (D5) old"


def test_stale_price_fails_the_price_check(built):
    # the Inputs' offering, runpod/h100_sxm, is priced as of 2026-09-25 (catalogs/offerings.csv): any age limit
    # of 0 days fails it, a century passes it
    status, (count, overall) = run(built, {}, max_price_age_days=0)
    assert status[PRICE_CHECK][0] == 1 and status[PRICE_CHECK][1].startswith("CHECK: Price of the planned")
    assert overall.startswith("CHECK:")
    status, _ = run(built, {}, max_price_age_days=36500)
    assert status[PRICE_CHECK][0] == 0
    # an undated price (DeepInfra's llama_70b row) fails whatever the limit
    status, _ = run(built, {"platform": "deepinfra", "gpu": None}, max_price_age_days=36500)
    assert status[PRICE_CHECK][0] == 1
