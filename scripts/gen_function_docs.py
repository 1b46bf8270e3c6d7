"""Write docs/functions.md from the ATLAS_* docstrings and argument docs.

    python scripts/gen_function_docs.py          # rewrite docs/functions.md
    python scripts/gen_function_docs.py --check  # exit 1 when the file is stale (tests run this)
"""
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from udfs import functions  # noqa: E402

OUT = ROOT / "docs" / "functions.md"
PLAN = '2000000000, "steady", "llama_70b", "runpod", "h100_sxm"'
SIM = '"nvidia_h100_8x_nvlink", "llama_70b_chat"'
EXAMPLES = {
    "ATLAS_PEAK_TPS": f"=ATLAS_PEAK_TPS({PLAN})",
    "ATLAS_GPUCOUNT": f"=ATLAS_GPUCOUNT({PLAN})",
    "ATLAS_UTILIZATION": f"=ATLAS_UTILIZATION({PLAN})",
    "ATLAS_RISK": f"=ATLAS_RISK({PLAN}, 250)",
    "ATLAS_COST": f"=ATLAS_COST({PLAN})  or, a grid: =ATLAS_COST(A2:A101, \"steady\", \"llama_70b\", B1:K1)  "
                  "or with named options: =ATLAS_COST(TokensPerDay, Pattern, Model, Platform, Gpu, D7:E8)   "
                  "(D7:E8 = precision | fp8, tpot_ms | 40)",
    "ATLAS_COST_PER_MTOK": f"=ATLAS_COST_PER_MTOK({PLAN})",
    "ATLAS_IDLE_WASTE": '=ATLAS_IDLE_WASTE(2000000000, "bursty", "llama_70b", "runpod", "h100_sxm")',
    "ATLAS_PENALTY": '=ATLAS_PENALTY(2000000000, "bursty", "llama_70b", "runpod", "h100_sxm", 200)',
    "ATLAS_PLAN": f"=ATLAS_PLAN({PLAN}, , , , , , Assumptions!A2:B13)",
    "ATLAS_RANK": '=ATLAS_RANK(2000000000, "steady", "llama_70b", 250, 10, "rank, platform, gpu, monthly_cost_usd")',
    "ATLAS_GPU_TPS": '=ATLAS_GPU_TPS("llama_70b", "h200", "fp8", 1024, 1024, 450, 40)',
    "ATLAS_FIT": '=ATLAS_FIT("llama_405b", "l40s", "bf16")',
    "ATLAS_TPOT": '=ATLAS_TPOT("llama_70b", "h100_sxm", "fp8", 8000, 1000)',
    "ATLAS_ESTIMATE": '=ATLAS_ESTIMATE("deepseek_r1", "b200", "fp4")',
    "ATLAS_THROUGHPUT": f"=ATLAS_THROUGHPUT({SIM}, Knobs!A2:B6)",
    "ATLAS_P50": f"=ATLAS_P50({SIM})",
    "ATLAS_P95": f"=ATLAS_P95({SIM})",
    "ATLAS_P99": '=ATLAS_P99("nvidia_h100_8x_nvlink", D2:E5)   (D2:E5 = workload | llama_70b_chat, parallelism.dp | 4, ...)',
    "ATLAS_TTFT": f"=ATLAS_TTFT({SIM})",
    "ATLAS_STEP_TIME": '=ATLAS_STEP_TIME("nvidia_h100_8x_nvlink", "llama_70b_finetune")',
    "ATLAS_POWER": f"=ATLAS_POWER({SIM})",
    "ATLAS_ENERGY_COST": f"=ATLAS_ENERGY_COST({SIM}, , , 0.0806, 1.58)",
    "ATLAS_COST_PER_1K": f"=ATLAS_COST_PER_1K({SIM})",
    "ATLAS_QUEUE_WAIT": f"=ATLAS_QUEUE_WAIT({SIM})",
    "ATLAS_SIMULATE": f"=ATLAS_SIMULATE({SIM})",
    "ATLAS_SCHEDULE": '=ATLAS_SCHEDULE("nvidia_h100_cluster_32n", "gpt5_1t_inference")',
    "ATLAS_OPTIMIZE": f"=ATLAS_OPTIMIZE({SIM}, Knobs!A2:B6, 120)",
    "ATLAS_CATALOG": '=ATLAS_CATALOG("platforms")',
    "ATLAS_VERSION": "=ATLAS_VERSION()",
    # finance (issue 14)
    "ATLAS_FORECAST": f'=ATLAS_FORECAST({PLAN}, 24, 0.05, "2027-01")   or with a 3-year commitment: '
                      f'=ATLAS_FORECAST({PLAN}, 36, , , , "3y")',
    "ATLAS_BREAKEVEN": '=ATLAS_BREAKEVEN("steady", "llama_70b", "together", "runpod/h100_sxm")',
    "ATLAS_PATTERN": '=ATLAS_PATTERN(Usage!A2:A745, Usage!B2:B745)   or one factor: '
                     '=ATLAS_PATTERN(Usage!A2:A745, Usage!B2:B745, "burst_factor")   (timestamps, token counts)',
    "ATLAS_COST_RANGE": f"=ATLAS_COST_RANGE({PLAN}, 90, 0.15, 0.1)   or P10/P50/P90 at once: "
                        f"=ATLAS_COST_RANGE({PLAN}, D1:D3, 0.15)",
    "ATLAS_SENSITIVITY": f"=ATLAS_SENSITIVITY({PLAN}, 0.2)",
    # commitment advice (issue 20)
    "ATLAS_COMMIT": f'=ATLAS_COMMIT({PLAN}, 36, 0.03, "2027-01")   or one term, with a volume error: '
                    f'=ATLAS_COMMIT({PLAN}, 24, 0.05, , "3y", 0.2)',
}


def escape(text):
    """A pipe inside a Markdown table cell ends the cell unless escaped."""
    return text.replace("|", "\\|")


def worksheet_functions():
    return {name: f for name, f in vars(functions).items() if name.startswith("ATLAS_") and callable(f)}


def render():
    lines = ["# ATLAS_* worksheet functions", "",
             "Generated from the docstrings by `scripts/gen_function_docs.py`; do not edit by hand.", "",
             "All functions are in the Excel category **Atlas** (UDF module `udfs.functions`). Any scalar",
             "argument may be a range: arguments broadcast and the result spills. Empty cells mean the",
             "default. Errors appear as one line of text in the cell.", "",
             "## Ranges, shapes and error cells", "",
             "Every argument is declared to xlwings with `ndim=2` and `err_to_str=True`: a column stays a",
             "column and a row a row, so `=ATLAS_COST(A2:A101, \"steady\", \"llama_70b\", B1:K1)` fills a",
             "100 × 10 grid (volumes down, platforms across); a single cell and a literal behave alike. A cell",
             "that holds an error (`#N/A`, `#REF!`...) is reported (`latency_ms is #N/A — fix the cell it",
             "comes from`), never read as a blank that would silently mean \"default\". The one layer that",
             "does this, `udfs.excel.argument`, is shared with every other host of the functions.", "",
             "## Named options: `options`", "",
             "Every planner, serving-model and finance function takes, after its positional arguments, an",
             "`options` range of key | value rows that name arguments: `precision | fp8`, `tpot_ms | 40`.",
             "Instead of counting commas (`=ATLAS_COST(TokensPerDay,Pattern,Model,Platform,Gpu,,,,,,,,,,,,\"fp8\")`),",
             "write `=ATLAS_COST(TokensPerDay,Pattern,Model,Platform,Gpu,D7:E8)` with D7:E8 holding",
             "`precision | fp8` and `tpot_ms | 40`: an options range may stand in any argument's place (a",
             "range whose first column names arguments cannot be a value of that argument), or be given last.",
             "Keys are the argument names below (the registry `atlas_xl/arguments.py` lists them with units",
             "and bounds in docs/limits.md) or the template's Inputs keys (`ttft_limit_ms`, `fixed_gpu_count`...),",
             "so the Key | Value columns of the template's Inputs sheet are options ranges as they stand; its",
             "serving block is named `ServingOptions`:",
             "`=ATLAS_COST(TokensPerDay,Pattern,Model,Platform,Gpu,ServingOptions)`. A blank value means",
             "\"not given\"; an unknown key, or an argument given both ways, is refused with one line.",
             "Positional arguments keep their meaning, so saved workbooks compute the same.", "",
             "## Speed: one array formula, not one formula per cell", "",
             "Each call carries its catalog ranges (the template passes about 5,700 catalog cells to every",
             "planner formula), and xlwings converts them on every call. So fill a what-if grid with **one**",
             "array formula over the whole range — select it, type the formula, Ctrl+Shift+Enter (or just",
             "Enter in Excel 365, where it spills) — instead of one formula per cell. Measured by",
             "`python benchmarks/bench_udfs.py` through xlwings' own conversion on a busy 2-core Linux box:",
             "a 10 × 7 grid of `ATLAS_COST` with the catalog ranges took 3–13 ms as one array formula and",
             "90–170 ms as 70 cell formulas (10–35× slower); a 100 × 100 grid is one call of a few",
             "milliseconds against about a second for 10,000 cells.", "",
             "Results are also cached (at most 512 results and 200,000 cells) by argument *content* plus the catalog's",
             "fingerprint — never by cell address: the template's eight planner cells of one workload cost",
             "one plan, its nine simulator cells one simulation, and an edited catalog cell is a new key.",
             "The whole template (23 `ATLAS_*` formulas, catalog ranges included) recalculates in about",
             "0.1 s of Python warm — most of it xlwings converting the catalog ranges — and about 0.2 s cold",
             "(target 0.5 s; catalog sheets that still hold the built-in tables are recognised by content",
             "and not parsed again).", ""]
    for name, function in worksheet_functions().items():
        defaults = inspect.signature(function).parameters
        params = functions.arguments(function)
        signature = ", ".join(p if defaults[p].default is inspect.Parameter.empty else f"[{p}]" for p in params)
        lines += [f"## {name}({signature})", "", inspect.getdoc(function), "",
                  f"Example: `{EXAMPLES[name]}`", ""]
        if params:
            lines += ["| argument | meaning |", "|---|---|"]
            lines += [f"| `{p}` | {escape(functions.ARG_DOCS[p])} |" for p in params]
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        stale = not OUT.exists() or OUT.read_text(encoding="utf-8") != text
        print("docs/functions.md is stale — run python scripts/gen_function_docs.py" if stale else "up to date")
        sys.exit(1 if stale else 0)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(worksheet_functions())} functions)")
