"""Tests for the LibreOffice Calc add-in (calc_addin/): the type library matches the worksheet
functions, the .oxt carries help and compatibility names, LibreOffice's Python finds atlas_xl,
the add-in gives the same results as the xlwings functions, and the template printed by
LibreOffice with the add-in shows numbers, not #NAME?."""
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

import atlas_xl
from calc_addin import package, regenerate, spec
from udfs import functions, signatures
from workbook import template
from workbook.recalculate import render_pdf

ROOT = Path(__file__).resolve().parents[1]


def test_the_interface_has_every_worksheet_function():
    assert package.IDL.read_text(encoding="utf-8") == spec.idl(), \
        "calc_addin/XAtlas.idl is out of date — run python -m calc_addin.regenerate"
    declared = set(re.findall(r"> (ATLAS_\w+)\(", package.IDL.read_text(encoding="utf-8")))
    assert declared == {n for n in vars(functions) if n.startswith("ATLAS_")}


def test_the_type_library_is_what_unoidl_write_makes(tmp_path):
    assert regenerate.unoidl_write(), "unoidl-write is needed: apt-get install libreoffice-dev"
    compiled = regenerate.compile_idl(spec.idl(), tmp_path / "check.rdb")
    assert compiled.read_bytes() == package.RDB.read_bytes(), \
        "calc_addin/atlas_xl.rdb is out of date — run python -m calc_addin.regenerate"


def test_the_extension_carries_help_and_compatibility_names(tmp_path):
    oxt = package.build_oxt(tmp_path / "atlas_xl.oxt", site=["/somewhere/site-packages"])
    with zipfile.ZipFile(oxt) as archive:
        manifest = archive.read("META-INF/manifest.xml").decode()
        xcu = archive.read("CalcAddIns.xcu").decode()
        assert archive.read("atlas_xl_site.txt").decode() == "/somewhere/site-packages\n"
        assert archive.read("atlas_xl.rdb") == package.RDB.read_bytes()
    assert all(part in manifest for part in ("atlas_xl.rdb", "component.py", "CalcAddIns.xcu"))
    for function in spec.all_functions():
        assert f'<prop oor:name="CompatibilityName"><value xml:lang="en-US">{function.name}</value>' in xcu
        for argument, _ in function.arguments:
            assert f'<node oor:name="{spec.uno_name(argument)}" oor:op="replace">' in xcu
    assert "Monthly cost of serving the workload on the offering [USD/month]" in xcu
    assert "Daily token volume [tokens/day]" in xcu


BEFORE_RUNNING = [None] * 18  # latency_ms … prefix_hit_rate: between gpu and region (udfs/signatures.py)
SPLIT = [3e10, "steady", "deepseek_r1", "nebius", "b200"]  # 48 GPUs aggregated, 80 disaggregated
SERVERLESS = [2e9, "business_hours", "llama_70b", "runpod_serverless", "h100_sxm"]
RUNNING_CALLS = [  # issue 19: region, min_replicas, disaggregated, pue at the end of the planner functions
    ("ATLAS_GPUCOUNT", SPLIT + BEFORE_RUNNING + [None, None, 1.0]),  # Calc hands TRUE to an add-in as 1
    ("ATLAS_GPUCOUNT", SPLIT + BEFORE_RUNNING + [None, None, True]),
    ("ATLAS_PLAN", SERVERLESS + BEFORE_RUNNING + ["france", 1.0, None, 1.2]),
    ("ATLAS_RANK", [2e9, "steady", "llama_70b", None, 2.0, "platform,co2e_kg_per_month"] + [None] * 13 +
     ["france", None, 1.2]),
]


def at(name, leading, **named):
    """Calc's cells of a call of ``name``: ``leading`` first, ``named`` at their positions (udfs/signatures.py)."""
    parameters = signatures.get(name).parameters
    cells = list(leading) + [None] * (len(parameters) - len(leading))
    for key, value in named.items():
        cells[parameters.index(key)] = value
    return cells


BREAKEVEN_SPLIT = ["steady", "deepseek_r1", "deepinfra", "nebius/b200"]  # the API against disaggregated B200 units
CARBON_FIELDS = "month,warm_replicas,energy_kwh_per_month,co2e_kg_per_month"
FINANCE_CALLS = [  # issue 19: the finance functions take the running arguments that change their results
    ("ATLAS_FORECAST", at("ATLAS_FORECAST", SPLIT, months=3.0, monthly_growth=0.5, disaggregated=1.0)),
    ("ATLAS_FORECAST", at("ATLAS_FORECAST", SERVERLESS, months=2.0, forecast_fields=CARBON_FIELDS, region="france",
                          min_replicas=1.0, pue=1.2)),
    ("ATLAS_BREAKEVEN", at("ATLAS_BREAKEVEN", BREAKEVEN_SPLIT, disaggregated=1.0)),
    ("ATLAS_COST_RANGE", at("ATLAS_COST_RANGE", SPLIT + [90.0, 0.3], disaggregated=1.0)),
    ("ATLAS_SENSITIVITY", at("ATLAS_SENSITIVITY", SPLIT, disaggregated=1.0)),
    ("ATLAS_SENSITIVITY", at("ATLAS_SENSITIVITY", SERVERLESS, output="co2e_kg_per_month", region="france",
                             min_replicas=1.0, pue=1.2)),
    ("ATLAS_COMMIT", at("ATLAS_COMMIT", SPLIT + [36.0], throughput_error=0.0, disaggregated=1.0)),
]
CALLS = [
    ("ATLAS_COST", [2e9, "steady", "llama_70b", "runpod", "h100_sxm"]),
    ("ATLAS_COST", [[[1e9], [2e9]], "steady", "llama_70b", [["together", "deepinfra"]]]),
    ("ATLAS_GPUCOUNT", [2e9, "steady", "llama_70b", "runpod", "h100_sxm", None, 4.0]),
    ("ATLAS_COST", [2e9, "steady", "llama_70b", "runpd"]),
    ("ATLAS_P99", ["nvidia_h100_8x_nvlink", "llama_70b_chat"]),
    ("ATLAS_RANK", [2e9, "steady", "llama_70b", 250.0, 3.0, "rank,platform,monthly_cost_usd"]),
    ("ATLAS_CATALOG", ["models"]),
    ("ATLAS_VERSION", []),
    *RUNNING_CALLS,
    *FINANCE_CALLS,
    ("ATLAS_GPUCOUNT", [2e9, "steady", "llama_70b", "runpod", "h100_sxm", None, 8.5]),  # limits (docs/limits.md)
    ("ATLAS_COST", [1e300, "steady", "llama_70b", "runpod", "h100_sxm"]),
    ("ATLAS_COST", [2e9, "steady", "llama_70b", "runpod", "h100_sxm", [["precision", "fp8"], ["tpot_ms", 40.0]]]),
]


def component_results(site_env=None, site_file=None):
    """Run the component's functions in LibreOffice's Python (no LibreOffice process needed)."""
    rdb = package.RDB.resolve()
    script = f"""
import json, os, sys
sys.path.insert(0, {str(ROOT / 'calc_addin')!r})
import component
calls = json.loads(sys.stdin.read())
addin = component.AtlasFunctions(None)
out = []
for name, args in calls:
    args = [tuple(tuple(r) for r in a) if isinstance(a, list) else a for a in args]
    n = len(component._functions.arguments(getattr(component._functions, name))) if component._functions else 0
    out.append(getattr(addin, name)(*(args + [None] * (n - len(args)))))
print(json.dumps({{"results": out, "first_path": sys.path[0], "error": component._IMPORT_ERROR}}))
"""
    env = dict(os.environ, URE_MORE_TYPES=f"file:///usr/lib/libreoffice/program/types.rdb "
                                          f"<file:///usr/lib/libreoffice/program/types>* file://{rdb}")
    env.pop(package.SITE_VARIABLE, None)
    if site_env is not None:
        env[package.SITE_VARIABLE] = site_env
    done = subprocess.run(["/usr/bin/python3", "-c", script], input=json.dumps(CALLS), capture_output=True, text=True,
                          env=env, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def as_cells(value):
    """What the add-in hands Calc for an xlwings result: rows of cells, blanks as '', numbers as float."""
    rows = value if isinstance(value, list) else [[value]]
    width = max(len(r) for r in rows)
    return [[("" if c is None else float(c) if isinstance(c, (bool, int)) else c) for c in r] + [""] * (width - len(r))
            for r in rows]


@pytest.fixture(scope="module")
def lo_python():
    assert os.access("/usr/bin/python3", os.X_OK) and subprocess.run(
        ["/usr/bin/python3", "-c", "import uno"]).returncode == 0, "apt-get install python3-uno"


def test_libreoffice_and_excel_give_the_same_results(lo_python):
    import calc_addin
    got = component_results(site_env=os.pathsep.join(calc_addin.site_dirs()))
    assert got["error"] is None
    for (name, args), result in zip(CALLS, got["results"]):
        expected = getattr(functions, name)(*args)
        assert result == as_cells(expected), name
    assert "unknown platform 'runpd'" in got["results"][3][0][0]
    assert got["results"][-3] == [["gpu_count must be a whole number — got 8.5 (round it yourself: 8 or 9)"]]
    assert got["results"][-2][0][0].startswith("tokens_per_day 1e+300 tokens/day is above the plausible limit")
    # named options (issue 18): a key | value range in latency_ms's place, as =ATLAS_COST(...,Gpu,Options)
    assert got["results"][-1] == [[atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", precision="fp8",
                                                 tpot_ms=40).monthly_cost_usd]]
    assert got["results"][0] == [[atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm").monthly_cost_usd]]
    # region, min_replicas, disaggregated and pue from Calc equal plan()'s for the same inputs
    first = CALLS.index(RUNNING_CALLS[0])
    split = atlas_xl.plan(*SPLIT, disaggregated=True).gpu_count
    assert got["results"][first] == got["results"][first + 1] == [[split]] != [[atlas_xl.plan(*SPLIT).gpu_count]]
    shown = dict((row[0], row[1]) for row in got["results"][first + 2][1:] if row[0])
    given = atlas_xl.plan(*SERVERLESS, region="france", min_replicas=1, pue=1.2)
    assert shown["co2e_kg_per_month"] == given.co2e_kg_per_month and shown["warm_replicas"] == 1.0
    assert shown["energy_kwh_per_month"] == given.energy_kwh_per_month
    # the finance functions' disaggregated, region, min_replicas and pue from Calc equal the Python functions'
    first = CALLS.index(FINANCE_CALLS[0])
    split, carbon, breakeven, p90, tornado, carbon_tornado, advice = got["results"][first:first + len(FINANCE_CALLS)]
    frame = atlas_xl.forecast(*SPLIT, months=3, monthly_growth=0.5, disaggregated=True)
    assert [row[split[0].index("monthly_cost_usd")] for row in split[1:4]] == list(frame.monthly_cost_usd)
    assert frame.monthly_cost_usd.iloc[0] != atlas_xl.plan(*SPLIT).monthly_cost_usd  # 80 GPUs, not 48
    frame = atlas_xl.forecast(*SERVERLESS, months=2, region="france", min_replicas=1, pue=1.2)
    assert [row[1:] for row in carbon[1:3]] == frame[CARBON_FIELDS.split(",")[1:]].values.tolist()
    assert breakeven == [[atlas_xl.breakeven(*BREAKEVEN_SPLIT, disaggregated=True).tokens_per_day]]
    assert p90 == [[atlas_xl.cost_range(*SPLIT, percentiles=[90], throughput_error=0.3, disaggregated=True).p90]]
    for table, frame in ((tornado, atlas_xl.sensitivity(*SPLIT, disaggregated=True)),
                         (carbon_tornado, atlas_xl.sensitivity(*SERVERLESS, output="co2e_kg_per_month",
                                                               region="france", min_replicas=1, pue=1.2))):
        assert table == [list(frame.columns)] + frame.astype(object).values.tolist()
    rows = dict((row[0], row[1]) for row in advice[1:])
    expected = atlas_xl.finance.commit_advice(*SPLIT, months=36, throughput_error=0, disaggregated=True)
    assert rows["committed_gpus"] == expected.committed_gpus and rows["expected_cost_usd"] == expected.expected_cost_usd


def test_libreoffice_python_finds_atlas_xl_through_the_site_variable_or_says_how(lo_python):
    import calc_addin
    sites = calc_addin.site_dirs()
    assert sites[0].endswith("site-packages") and str(ROOT) in sites  # this venv and this checkout
    got = component_results(site_env=os.pathsep.join(sites))
    assert got["first_path"] == sites[0]  # in front of LibreOffice's own packages
    missing = component_results(site_env="")  # no variable and no site file beside the component
    assert missing["error"] and "set ATLAS_XL_SITE" in missing["error"]
    assert missing["results"][0] == [[missing["error"]]]  # every cell says so, one line


def test_the_template_printed_by_libreoffice_with_the_add_in_has_no_name_errors(tmp_path, office):
    assert shutil.which("pdftotext"), "apt-get install poppler-utils"
    built = template.build_template(tmp_path / template.TEMPLATE_NAME)
    pdf = render_pdf(built, tmp_path / "template.pdf", engine=office)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    book = load_workbook(built)
    typed = " ".join(c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row
                     if isinstance(c.value, str) and not c.value.startswith("="))  # help text may name errors
    for error in ("#NAME?", "Err:", "#VALUE!"):  # (#N/A: the unused rows of table ranges, docs/headless.md)
        assert text.count(error) == typed.count(error), f"{error} in a computed cell"
    cost = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm", latency_ms=250).monthly_cost_usd
    assert f"{cost:,.0f}" in text  # the Results sheet shows the computed cost
    assert "runpod" in text and "tokens_per_sec" in text  # the ranking and the Simulator table


def test_a_repeated_call_is_looked_up_and_still_reports_its_error_text(lo_python):
    # issue 21: the calls of one recalculation are kept by their arguments' content (component._CALLS); a
    # repeated call does not reach udfs, yet an error text it returns is reported again, and taking the
    # error texts (the end of a recalculation) empties the cache
    import calc_addin
    rdb = package.RDB.resolve()
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT / 'calc_addin')!r})
import component
addin = component.AtlasFunctions(None)
n = len(component._functions.arguments(component._functions.ATLAS_COST))
good = (2e9, "steady", "llama_70b", "runpod", "h100_sxm") + (None,) * (n - 5)
bad = (2e9, "steady", "llama_70b", "runpd", "h100_sxm") + (None,) * (n - 5)
first = [addin.ATLAS_COST(*good), addin.ATLAS_COST(*bad)]
texts = addin.takeErrorTexts(None)[1]
calls = []
real = component._functions.ATLAS_COST
component._functions.ATLAS_COST = lambda *a, **k: calls.append(1) or real(*a, **k)
kept = [addin.ATLAS_COST(*good), addin.ATLAS_COST(*bad)]  # a new recalculation: computed again
again = [addin.ATLAS_COST(*good), addin.ATLAS_COST(*bad)]  # the same recalculation: looked up
print(json.dumps({{"first": first, "kept": kept, "again": again, "calls": len(calls), "texts": texts,
                  "texts_after": addin.takeErrorTexts(None)[1], "left": len(component._CALLS)}}))
"""
    env = dict(os.environ, URE_MORE_TYPES=f"file:///usr/lib/libreoffice/program/types.rdb "
                                          f"<file:///usr/lib/libreoffice/program/types>* file://{rdb}",
               **{package.SITE_VARIABLE: os.pathsep.join(calc_addin.site_dirs())})
    done = subprocess.run(["/usr/bin/python3", "-c", script], capture_output=True, text=True, env=env, cwd="/",
                          timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["first"] == got["kept"] == got["again"]
    assert got["first"][0] == [[atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm").monthly_cost_usd]]
    assert got["calls"] == 2  # after the texts were taken: both computed once, then both looked up
    assert len(got["texts"]) == 1 and "unknown platform 'runpd'" in got["texts"][0]
    assert got["texts_after"] == got["texts"]  # the looked-up error is reported as the computed one was
    assert got["left"] == 0
