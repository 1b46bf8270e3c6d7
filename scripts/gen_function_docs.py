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
    "ATLAS_COST": f"=ATLAS_COST({PLAN})  or, a grid: =ATLAS_COST(A2:A101, \"steady\", \"llama_70b\", B1:K1)",
    "ATLAS_COST_PER_MTOK": f"=ATLAS_COST_PER_MTOK({PLAN})",
    "ATLAS_IDLE_WASTE": '=ATLAS_IDLE_WASTE(2000000000, "bursty", "llama_70b", "runpod", "h100_sxm")',
    "ATLAS_PENALTY": '=ATLAS_PENALTY(2000000000, "bursty", "llama_70b", "runpod", "h100_sxm", 200)',
    "ATLAS_PLAN": f"=ATLAS_PLAN({PLAN}, , , , , , Assumptions!A2:B13)",
    "ATLAS_RANK": '=ATLAS_RANK(2000000000, "steady", "llama_70b", 250, 10, "rank, platform, gpu, monthly_cost_usd")',
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
             "default. Errors appear as one line of text in the cell.", ""]
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
