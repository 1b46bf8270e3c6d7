"""The long fuzz run: N generated inputs per interface, counted by outcome.

    python benchmarks/fuzz_long.py                 # 10 000 cases per interface, seed 0
    python benchmarks/fuzz_long.py 500 --seed 7    # quicker
    python benchmarks/fuzz_long.py 10000 --only yaml

Interfaces (generators in tests/fuzz_cases.py): CLI arguments (in-process `atlas-xl`), catalog
CSV folders (load + rank), scenario YAML (read + validate), workbook archives (check + recalc +
write). Each interface runs in its own process with an address-space limit (--memory-mb, default
2048), so a memory blow-up is a counted MemoryError, not a dead machine; each case has a time
limit (--hang-s, default 60 s) enforced with SIGALRM. Printed per interface: cases, clean
refusals, successes, tracebacks, hangs, memory failures, the slowest case and peak RSS; then the
first examples of every traceback. Exit status 1 when any traceback, hang or memory failure.
Targets (issue 13): 0 tracebacks, 0 hangs, 0 memory blow-ups.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def worker(interface, cases, seed, hang_s, memory_mb):
    """Run in a child process: print one JSON line of counts."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    import fuzz_cases  # after the limit: imports count too

    signal.signal(signal.SIGALRM, _alarm)
    counts = {"cases": 0, "refused": 0, "success": 0, "traceback": 0, "hang": 0, "memory": 0}
    examples, slowest = [], (0.0, None)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{interface}-") as workdir:
        cases_iter = fuzz_cases.generator(interface, seed, workdir)
        started = time.perf_counter()
        for _ in range(cases):
            shown, run = next(cases_iter)
            begin = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, hang_s)
            try:
                outcome, detail = run()
            except Hang:
                outcome, detail = "hang", f"> {hang_s} s"
            except MemoryError:
                outcome, detail = "memory", "MemoryError"
            except BaseException as error:  # noqa: BLE001 — anything that escapes is a traceback
                outcome, detail = "traceback", f"{type(error).__name__}: {str(error)[:200]}"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            took = time.perf_counter() - begin
            if took > slowest[0]:
                slowest = (took, repr(shown)[:120])
            counts["cases"] += 1
            counts[outcome] += 1
            if outcome in ("traceback", "hang", "memory") and len(examples) < 10:
                examples.append({"input": repr(shown)[:300], "outcome": outcome, "detail": detail})
        counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["slowest_s"] = round(slowest[0], 3)
    counts["slowest_input"] = slowest[1]
    counts["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    counts["examples"] = examples
    print(json.dumps(counts))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="?", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("cli", "catalog", "yaml", "archive"), action="append")
    parser.add_argument("--hang-s", type=float, default=60.0)
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.cases, args.seed, args.hang_s, args.memory_mb)
        return 0
    interfaces = args.only or ["cli", "catalog", "yaml", "archive"]
    procs = {name: subprocess.Popen([sys.executable, __file__, str(args.cases), "--seed", str(args.seed),
                                     "--hang-s", str(args.hang_s), "--memory-mb", str(args.memory_mb),
                                     "--worker", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in interfaces}
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate()
        try:
            results[name] = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            results[name] = {"cases": 0, "crashed": f"worker died (exit {proc.returncode}): {err[-500:]}"}
    header = f"{'interface':10} {'cases':>7} {'refused':>8} {'success':>8} {'traceback':>9} {'hang':>5} " \
             f"{'memory':>6} {'seconds':>8} {'slowest s':>9} {'peak MB':>8}"
    print(f"fuzz run: {args.cases} cases per interface, seed {args.seed}, hang > {args.hang_s:g} s, "
          f"memory limit {args.memory_mb} MB")
    print(header)
    bad = 0
    for name, r in results.items():
        if "crashed" in r:
            print(f"{name:10} {r['crashed']}")
            bad += 1
            continue
        print(f"{name:10} {r['cases']:>7} {r['refused']:>8} {r['success']:>8} {r['traceback']:>9} {r['hang']:>5} "
              f"{r['memory']:>6} {r['seconds']:>8} {r['slowest_s']:>9} {r['peak_rss_mb']:>8}")
        bad += r["traceback"] + r["hang"] + r["memory"]
    for name, r in results.items():
        for example in r.get("examples", []):
            print(f"  {name}: {example['outcome']}: {example['detail']}  ← {example['input']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
