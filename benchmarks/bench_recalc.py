"""Headless recalculation speed and memory: prints numbers and ratios against the targets.

    python benchmarks/bench_recalc.py            # N = 1,000 and 10,000, plus the template
    python benchmarks/bench_recalc.py 1000       # one size

Each measurement runs in a fresh process, so peak memory (max RSS) is that of one recalculation.
The generated what-if workbook has N rows of inputs (tokens, pattern, model), an ATLAS_COST call
and three ordinary formulas (×12, IF, VLOOKUP into a catalog range), plus a SUM over all rows.
"""
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

PATTERNS = ("steady", "business_hours", "bursty")
MODELS = ("llama_8b", "llama_70b")
TARGETS = {1000: (3.0, 0.050, None), 10000: (30.0, None, 1024)}  # cold s, one-input recalc s, peak MB


def make_workbook(path, rows):
    book = Workbook()
    model = book.active
    model.title = "Model"
    model.append(["tokens_per_day", "pattern", "model", "monthly_cost", "annual", "discounted", "with_fee"])
    for i in range(2, rows + 2):
        model.append([1e8 * (1 + i % 97), PATTERNS[i % 3], MODELS[i % 2],
                      f'=ATLAS_COST(A{i},B{i},C{i},"runpod","h100_sxm")', f"=D{i}*12",
                      f"=IF(E{i}>1000,E{i}*0.9,E{i})", f"=F{i}+VLOOKUP(C{i},Catalog!$A$2:$C$3,3,FALSE)"])
    catalog = book.create_sheet("Catalog")
    for row in (["model", "size", "fee"], ["llama_8b", 8, 100.0], ["llama_70b", 70, 250.0]):
        catalog.append(row)
    summary = book.create_sheet("Summary")
    summary["A1"], summary["B1"] = "total", f"=SUM(Model!G2:G{rows + 1})"
    book.save(path)


def measure(rows):
    from workbook.engine import Engine
    from workbook.safety import open_workbook

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"whatif_{rows}.xlsx"
        make_workbook(path, rows)
        start = time.perf_counter()
        engine = Engine(open_workbook(path))
        engine.calculate()
        cold = time.perf_counter() - start
        start = time.perf_counter()
        engine.set_value("Model", rows // 2, 1, 5e9)
        total = engine.value("Summary", 1, 2)
        one = time.perf_counter() - start
        assert isinstance(total, float) and not engine.problems
    return {"rows": rows, "cold_s": cold, "one_input_s": one,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_template():
    from workbook import template
    from workbook.recalculate import recalc

    with tempfile.TemporaryDirectory() as folder:
        path = template.build_template(Path(folder) / template.TEMPLATE_NAME)
        start = time.perf_counter()
        result = recalc(path)
        assert not result.problems
        return {"template_cold_s": time.perf_counter() - start}


def verdict(value, target):
    return "" if target is None else f"target {target:g}  ratio {value / target:5.2f}  {'OK' if value <= target else 'SLOW'}"


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        arg = sys.argv[2]
        print(json.dumps(measure_template() if arg == "template" else measure(int(arg))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    child = [sys.executable, __file__, "--child"]
    template = json.loads(subprocess.run(child + ["template"], capture_output=True, text=True, check=True).stdout)
    print(f"{'template: cold load + full calculation':<44} {template['template_cold_s']:8.3f} s   "
          f"{verdict(template['template_cold_s'], 3.0)}")
    for rows in sizes:
        result = json.loads(subprocess.run(child + [str(rows)], capture_output=True, text=True, check=True).stdout)
        cold_target, one_target, memory_target = TARGETS.get(rows, (None, None, None))
        print(f"{f'{rows:,} rows: cold load + full calculation':<44} {result['cold_s']:8.3f} s   "
              f"{verdict(result['cold_s'], cold_target)}")
        print(f"{f'{rows:,} rows: recalculation after one input':<44} {result['one_input_s'] * 1e3:8.1f} ms  "
              f"{verdict(result['one_input_s'], one_target)}")
        print(f"{f'{rows:,} rows: peak memory (max RSS)':<44} {result['peak_mb']:8.0f} MB  "
              f"{verdict(result['peak_mb'], memory_target)}")


if __name__ == "__main__":
    main()
