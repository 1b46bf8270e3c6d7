"""The ``atlas-xl`` command: parse → one library call → format.

The top layer (DESIGN.md): it may use the model (atlas_xl) and the workbook layer (workbook).
Library errors become one line on stderr and exit status 1, never a traceback.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import signal
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from atlas_xl import __version__, calibration, serving
from atlas_xl import values
from atlas_xl.catalog import SCHEMAS, load_catalog
from atlas_xl.errors import AtlasError, CatalogError, InputError
from atlas_xl.files import atomic_output, exclusive_update, read_spec
from atlas_xl.optimizer import optimize
from atlas_xl.planner import plan, rank
from atlas_xl.schedule import run_schedule
from atlas_xl.simulator import parse_overrides, simulate
from udfs.excel import nest

RANK_VIEW = {  # column → (heading, format)
    "rank": ("#", "{:.0f}"),
    "platform": ("platform", "{}"),
    "gpu": ("gpu", "{}"),
    "billing": ("billing", "{}"),
    "gpu_count": ("GPUs", "{:.0f}"),
    "utilization_after": ("util", "{:.0%}"),
    "latency_risk": ("risk", "{}"),
    "monthly_cost_usd": ("$/month", "{:,.0f}"),
    "idle_waste_usd": ("idle $", "{:,.0f}"),
    "cost_per_m_tokens_usd": ("$/Mtok", "{:.3f}"),
    "unused_capacity_usd": ("unused $", "{:,.0f}"),
    "penalty_usd": ("penalty score", "{:,.0f}"),
}
PLAN_UNITS = {
    "tokens_per_day": "tokens/day", "hourly_usd": "USD/GPU-h", "price_per_m_tokens": "USD/Mtok",
    "gpu_tokens_per_s": "tokens/s/GPU", "avg_tokens_per_s": "tokens/s", "peak_tokens_per_s": "tokens/s",
    "effective_gpu_tokens_per_s": "tokens/s/GPU", "gpu_count": "GPUs", "active_hours_per_month": "h/month",
    "monthly_cost_usd": "USD/month", "idle_waste_usd": "USD/month", "idle_waste_pct": "%",
    "mean_utilization": "share", "unused_capacity_usd": "USD/month", "scale_up_gpus": "GPUs",
    "monthly_tokens": "tokens/month", "cost_per_m_tokens_usd": "USD/Mtok", "overload_penalty_usd": "score",
    "scaling_penalty_usd": "score", "latency_penalty_usd": "score", "penalty_usd": "score",
    "replica_gpus": "GPUs", "input_tokens": "tokens", "output_tokens": "tokens", "ttft_ms": "ms (p99)",
    "tpot_ms": "ms (p99)", "throughput_expected_error": "relative",
}
ESTIMATE_UNITS = {
    "input_tokens": "tokens", "output_tokens": "tokens", "ttft_limit_ms": "ms (p99)", "tpot_limit_ms": "ms (p99)",
    "output_tokens_per_s_per_gpu": "tokens/s/GPU", "total_tokens_per_s_per_gpu": "tokens/s/GPU",
    "concurrency": "sequences/replica", "tp": "GPUs/replica", "ttft_ms": "ms (p99)", "tpot_ms": "ms (p99)",
    "weights_gb": "GB", "kv_gb_per_sequence": "GB", "max_concurrency": "sequences", "usable_memory_gb": "GB",
    "prefill_ms": "ms", "decode_step_ms": "ms", "allreduce_ms": "ms", "power_w_per_gpu": "W",
    "anchor_factor": "measured/modelled", "expected_error": "relative",
}


def parse_volume(text):
    """'2e9', '2,000,000,000', '2B', '500M' → tokens per day as a float (atlas_xl.values rules)."""
    try:
        kind = values.parse_value(text, "tokens_per_day")
        if kind is None or isinstance(kind, (str, bool, dt.date)):
            raise argparse.ArgumentTypeError(f"{values.shown(text)} is not a token volume — write e.g. 2e9, 2B or 500M")
        return float(values.parse_volume(text))
    except AtlasError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _argparse_type(check, name):
    """An argparse type from one of the value parser's checks (its error → argparse's one line)."""
    def parse(text):
        try:
            return check(text, name)
        except AtlasError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    parse.__name__ = name  # argparse names the type in some messages
    return parse


def argument(name):
    """An argparse type: the value parser with the LIMITS of ``name`` (one line on error)."""
    return _argparse_type(values.parse_argument, name)


def text_argument(what):
    """An argparse type for text: control characters refused (one line)."""
    return _argparse_type(values.check_text, what)


def _jsonable(value):
    if isinstance(value, (np.floating, float)):
        return values.finite_or_none(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _emit_frame(frame, args, view=None):
    if args.json:
        records = [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]
        print(json.dumps(records, indent=2, allow_nan=False))
    elif args.csv:
        values.write_csv(frame, sys.stdout)
    else:
        if view:
            shown = pd.DataFrame({heading: [_fmt(v, fmt) for v in frame[col]] for col, (heading, fmt) in view.items()})
        else:
            shown = frame.astype(object).where(frame.notna(), "")  # blanks, not NaN (fillna("") warns on floats)
        print(shown.to_string(index=False))


def _fmt(value, fmt):
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return fmt.format(value)


def _serving_args(args):
    return dict(precision=args.precision, input_tokens=args.input_tokens, output_tokens=args.output_tokens,
                ttft_ms=args.ttft_ms, tpot_ms=args.tpot_ms)


def cmd_plan(args):
    result = plan(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu,
                  latency_ms=args.latency_ms, gpu_count=args.gpu_count,
                  gpu_tokens_per_s=args.gpu_tokens_per_s, hourly_usd=args.hourly_usd,
                  price_per_m_tokens=args.price_per_m_tokens, billing=args.billing, tp=args.tp,
                  catalog=args.catalog, **_serving_args(args))
    _print_fields(result.as_dict(), PLAN_UNITS, args)


def cmd_estimate(args):
    record = serving.estimate(args.model, args.gpu, tp=args.tp, catalog=args.catalog, **_serving_args(args))
    _print_fields(record, ESTIMATE_UNITS, args)


def cmd_backtest(args):
    frame = calibration.backtest(catalog=args.catalog)
    if args.json or args.csv:
        _emit_frame(frame, args)
        return
    print("Back-test at the user's question: for each measured point, the most output tokens/s per GPU the model")
    print("predicts within that point's limits (it chooses concurrency and tp), by a fit that never saw the point's")
    print("GPU (or model). Points: catalogs/serving_benchmarks.csv; InferenceX data: SemiAnalysis InferenceX.\n")
    print(calibration.markdown(frame))


def _short(text, width=72):
    """Long text (a source URL) shortened for the table view; --json and --csv print it whole."""
    return text if len(text) <= width else f"{text[:width - 30]}…{text[-29:]}"


def _print_fields(record, units, args):
    record = {k: _jsonable(v) for k, v in record.items()}
    _warn_implausible([record])
    if args.json:
        print(json.dumps(record, indent=2, allow_nan=False))
        return
    frame = pd.DataFrame({"field": list(record), "value": list(record.values()),
                          "units": [units.get(k, "") for k in record]})
    if args.csv:
        values.write_csv(frame, sys.stdout)
        return
    frame["value"] = [("-" if v is None else f"{v:,.4g}" if isinstance(v, float) and abs(v) < 1e4 else
                       f"{v:,.0f}" if isinstance(v, float) else _short(str(v))) for v in frame["value"]]
    print(frame.to_string(index=False))


def cmd_rank(args):
    frame = rank(args.tokens_per_day, args.pattern, args.model, latency_ms=args.latency_ms,
                 catalog=args.catalog, platforms=args.platform or None, tp=args.tp, **_serving_args(args))
    excluded = frame.attrs.get("excluded", {})
    if args.top is not None:
        frame = frame.head(args.top)
    _warn_implausible(frame.head(1).to_dict("records"))
    frame = _with_price_age(frame, args)
    _emit_frame(frame, args, view={**RANK_VIEW, "price_shown": ("price as of", "{}")})
    if excluded and not (args.json or args.csv):
        print(f"\nleft out ({len(excluded)} offerings): " + "; ".join(
            f"{k}: {v}" for k, v in sorted(excluded.items())), file=sys.stderr)


def _with_price_age(frame, args):
    """A ranking with price_as_of, price_age_days and price_stale (issue 20), a 'price as of' column that marks
    stale prices with '!', and one warning line when any is stale."""
    from atlas_xl import prices

    frame = prices.with_price_age(frame, args.catalog, model=args.model, max_age_days=args.max_price_age_days)
    frame["price_shown"] = [f"{d}{' !' if old else ''}" for d, old in zip(frame.price_as_of, frame.price_stale)]
    stale = int(frame.price_stale.sum())
    if stale:
        print(f"atlas-xl: warning: {stale} of {len(frame)} prices in this ranking are older than "
              f"{prices.max_age(args.max_price_age_days):g} days or undated (marked !) — check them with the provider",
              file=sys.stderr)
    if args.json or args.csv:
        frame = frame.drop(columns="price_shown")
    return frame


def _warn_implausible(records):
    """A cost or penalty above any plausible budget is not an answer: say so (stderr, one line)."""
    for record in records:
        for field, units in (("penalty_usd", "(a ranking score)"), ("monthly_cost_usd", "USD/month")):
            amount = record.get(field)
            if isinstance(amount, (int, float)) and amount is not None and amount > values.PLAUSIBLE_BUDGET_USD:
                print(f"atlas-xl: warning: {field} {amount:.3g} {units} is above any plausible budget "
                      f"(> {values.PLAUSIBLE_BUDGET_USD:.0e} USD/month) — this workload cannot be served this way; "
                      "check tokens_per_day and gpu_count", file=sys.stderr)
                return


def cmd_catalog(args):
    catalog = load_catalog(args.catalog)
    if args.action == "validate":
        counts = ", ".join(f"{len(f)} {n}" for n, f in catalog.tables.items())
        print(f"catalog OK: {counts} (fingerprint {catalog.fingerprint})")
    elif args.action == "list":
        if args.table:
            table = args.table
            if table not in SCHEMAS:
                raise InputError(f"unknown catalog table '{table}' — known: {', '.join(SCHEMAS)}")
            _emit_frame(catalog.tables[table], args)
        else:
            for name in list(SCHEMAS) + ["platforms"]:
                print(f"{name}: {', '.join(catalog.keys(name))}")
    else:  # export
        if not args.directory:
            raise InputError("catalog export needs a folder — atlas-xl catalog export DIR")
        target = Path(args.directory)
        existing = [p.name for p in target.glob("*.csv")] if target.exists() else []
        if existing and not args.force:
            raise InputError(f"'{target}' already holds {', '.join(sorted(existing))} — "
                             "choose an empty folder or pass --force to overwrite")
        catalog.to_csv(target)
        print(f"wrote {len(SCHEMAS)} tables to {target}")


SIM_VIEW = (  # (field, units) shown by simulate/schedule/optimize; --json prints everything
    ("target", ""), ("workload", ""), ("mode", ""), ("accelerators", ""), ("tokens_per_sec", "tokens/s"),
    ("step_time_ms", "ms"), ("utilization", ""), ("flop_utilization", ""), ("hbm_bw_util", ""),
    ("comm_compute_ratio", ""), ("p50_ms", "ms"), ("p95_ms", "ms"), ("p99_ms", "ms"), ("ttft_ms", "ms"),
    ("p50_service_ms", "ms"), ("p99_service_ms", "ms"), ("queue_utilization", ""), ("queue_wait_ms", "ms"),
    ("queue_wait_p99_ms", "ms"), ("saturated", ""), ("node_power_w", "W"), ("energy_cost_per_hour_usd", "USD/h"),
    ("hourly_cost_usd", "USD/h"), ("dollar_per_1k_tokens", "USD/1k tokens"),
)
PHASE_VIEW = ("phase", "duration_minutes", "tokens_per_sec", "p99_ms", "queue_utilization", "node_power_w",
              "saturated")


def load_spec_file(path, what, name=None):
    """A target or workload from a YAML or JSON file (one mapping, or a list of them + ``name``)."""
    doc = read_spec(path, what)  # size, depth, alias, encoding and leaf checks (atlas_xl/files.py)
    if isinstance(doc, list):
        names = [str(d.get("name", "")) for d in doc if isinstance(d, dict)]
        if name is None and len(doc) == 1:
            doc = doc[0]
        else:
            found = [d for d in doc if isinstance(d, dict) and str(d.get("name", "")).lower() == str(name).lower()]
            if not found:
                raise InputError(f"{what} file '{path}' holds {len(doc)} {what}s — pass --name with one of "
                                 f"{', '.join(names)}")
            doc = found[0]
    if not isinstance(doc, dict):
        raise InputError(f"{what} file '{path}' must hold a mapping of {what} fields (like workloads.yaml)")
    return doc


def _spec(value, what, name=None):
    """A catalog name, or a YAML/JSON file when the value names one."""
    if value and str(value).lower().endswith((".yaml", ".yml", ".json")):
        return load_spec_file(value, what, name)
    return value


def _knobs(pairs, what="--knob"):
    knobs = {}
    for pair in pairs or []:
        for key, raw in parse_overrides(values.check_text(pair, what)).items():
            if not key:
                raise InputError(f"{what} '{pair}' has no key — write KEY=VALUE")
            knobs[key] = values.parse_value(raw, f"{what} {key}")
    return knobs


SETTABLE = tuple(c.name for c in SCHEMAS["workloads"][0] if c.name not in ("workload", "source", "as_of", "notes"))


def _sim_inputs(args):
    workload = _spec(args.workload, "workload", args.name)
    overrides = _knobs(args.set, "--set")
    unknown = [k for k in overrides if k not in SETTABLE]
    if unknown:
        raise InputError(f"--set {unknown[0]}: unknown workload key — known: {', '.join(SETTABLE)}")
    if overrides:
        workload = {**(workload if isinstance(workload, dict) else {"name": workload or "llama_70b_chat"}),
                    **nest(overrides)}
    return _spec(args.target, "target"), workload, _knobs(args.knob) or None


def _print_record(record, view=SIM_VIEW):
    rows = []
    for field, units in view:
        value = record.get(field)
        if isinstance(value, dict):  # schedule aggregates: one row per percentile
            rows.extend((f"{field}.{k}", _show(v), units) for k, v in value.items())
        elif field in record:
            rows.append((field, _show(value), units))
    print(pd.DataFrame(rows, columns=["field", "value", "units"]).to_string(index=False))


def _show(value):
    if isinstance(value, float):
        if math.isinf(value):
            return "inf (saturated)"
        if math.isnan(value):
            return "-"
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _json_default(value):
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _dump(obj):
    """JSON with inf/NaN as null (strict JSON has neither)."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            value = value.item()
        return values.finite_or_none(value)
    print(json.dumps(clean(obj), indent=2, default=_json_default, allow_nan=False))


def cmd_simulate(args):
    target, workload, knobs = _sim_inputs(args)
    record = simulate(target, workload, knobs, seed=args.seed, hardware=_spec(args.hardware, "hardware"),
                      catalog=args.catalog, usd_per_kwh=args.usd_per_kwh, pue=args.pue)
    _dump(dict(record)) if args.json else _print_record(record)


def cmd_schedule(args):
    target, workload, knobs = _sim_inputs(args)
    record = run_schedule(target, workload, knobs, seed=args.seed, hardware=_spec(args.hardware, "hardware"),
                          catalog=args.catalog, usd_per_kwh=args.usd_per_kwh, pue=args.pue)
    if args.json:
        _dump(dict(record))
        return
    _print_record(record)
    print()
    phases = pd.DataFrame([{f: _show(p.get(f)) for f in PHASE_VIEW} for p in record.phases])
    print(phases.to_string(index=False))


def cmd_optimize(args):
    target, workload, knobs = _sim_inputs(args)
    result = optimize(target, workload, knobs, seed=args.seed, sla_p99_ms=args.sla_p99_ms,
                      hardware=_spec(args.hardware, "hardware"), catalog=args.catalog,
                      usd_per_kwh=args.usd_per_kwh, pue=args.pue)
    if args.json:
        _dump(dict(result))
        return
    print(f"start: {result.start_knobs}")
    print(f"best:  {result.best_knobs}  ({result.gain:+.1%} tokens/s, {result.evaluated} simulations, "
          f"SLA p99 < {result.sla_p99_ms:g} ms)\n")
    if result.trail:
        trail = pd.DataFrame([{"step": s["step"], "change": s["change"], "tokens/s": _show(s["tokens_per_sec"]),
                               "p99 ms": _show(s["p99_ms"]), "gain": f"{s['gain']:+.1%}"} for s in result.trail])
        print(trail.to_string(index=False))
    else:
        print("no change improved throughput by more than 3 % within the SLA")
    print()
    _print_record(result.best)


def cmd_optimize_workbook(args):
    from workbook.optimizer_button import optimize_workbook

    with _update_lock(args, args.file):
        path, result = optimize_workbook(args.file, args.output, in_place=args.in_place, overwrite=args.force)
    print(f"wrote {path}: best knobs {result.best_knobs} ({result.gain:+.1%} tokens/s, "
          f"{len(result.trail)} accepted steps)")


def _check_output(path, suffixes):
    if Path(path).suffix.lower() not in suffixes:
        raise InputError(f"output '{path}' must end in {' or '.join(suffixes)} — this command writes an Excel "
                         f"workbook (e.g. -o {Path(path).stem or 'out'}{suffixes[0]})")


def cmd_report(args):
    from workbook.reports import report, scenario_from

    _check_output(args.output, (".xlsx",))
    scenario = dict(load_spec_file(args.scenario, "scenario")) if args.scenario else {}
    flags = {"tokens_per_day": args.tokens_per_day, "pattern": args.pattern, "model": args.model,
             "latency_ms": args.latency_ms, "platforms": args.platform, "target": args.target,
             "workload": args.workload, "seed": args.seed, "usd_per_kwh": args.usd_per_kwh, "pue": args.pue,
             "title": args.title, "options": args.options, **_serving_args(args)}
    values = vars(scenario_from(scenario))  # the file's scenario, with defaults filled in
    values.update({k: v for k, v in flags.items() if v is not None})
    if args.no_schedule:
        values["schedule"] = False
    if args.detail:
        values["detail"] = True
    merged = scenario_from(values)
    path = report(args.output, merged, catalog=args.catalog, overwrite=args.force)
    print(f"wrote {path}")


def _update_lock(args, path):
    """--in-place: one writer at a time; another run gets a clear error instead of a lost update."""
    import contextlib

    if args.in_place and Path(path).is_file():
        return exclusive_update(path)
    return contextlib.nullcontext()


def cmd_recalc(args):
    from workbook.recalculate import Recalculator

    if len(args.file) > 1 and args.output:
        raise InputError("-o names one output — with several workbooks use --in-place, or recalculate them one by one")
    failed = False
    engine = Recalculator(timeout=args.timeout, max_cells=args.max_cells)  # options checked before LibreOffice starts
    try:
        with engine:  # one LibreOffice for every file
            for path in args.file:
                with _update_lock(args, path):
                    result = engine.recalc(path, args.set or [], args.output, values_only=args.values_only,
                                           in_place=args.in_place, overwrite=args.force)
                for address, reason in sorted(result.problems.items()):
                    print(f"not computed: {address}: {reason}", file=sys.stderr)
                for error in result.errors:
                    if error.address not in result.problems:
                        print(f"{'new error' if error.new else 'error'}: {error}", file=sys.stderr)
                for address, status in result.checks.items():
                    print(f"failed check: {address}: {status}", file=sys.stderr)
                where = f"wrote {result.path}" if result.path else f"{path}: computed (nothing written: give -o OUT or --in-place)"
                new = len(result.new_errors)
                checks = f", {len(result.checks)} failed checks" if result.checks else ""
                print(f"{where}: {len(result.values)} formula cells, {len(result.overrides)} overrides, "
                      f"{len(result.errors)} errors ({new} new from the overrides), {len(result.problems)} not computed"
                      f"{checks}")
                if (result.errors or result.problems or result.checks) and not args.allow_errors:
                    failed = True
    except KeyboardInterrupt:  # Ctrl-C: LibreOffice is already stopped and its files removed
        print("atlas-xl: interrupted — LibreOffice stopped; the workbook being recalculated was not written",
              file=sys.stderr)
        return 130
    if failed:
        print("atlas-xl: error: the recalculated workbook has errors or failed checks (listed above) — fix the "
              "inputs, or pass --allow-errors to accept them", file=sys.stderr)
        return 1
    return 0


def cmd_doctor(args):
    from workbook import doctor
    checks = doctor.run(args.catalog)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    print(f"\n{len(failed)} problem{'s' if len(failed) != 1 else ''} found." if failed
          else "\nPython side ready.")
    print(doctor.AFTER)
    return 1 if failed else 0


EPILOGS = {
    "doctor": "example:\n  atlas-xl doctor",
    "plan": ("examples:\n  atlas-xl plan 2B steady llama_70b runpod --gpu h100_sxm --latency-ms 250\n"
             "  atlas-xl plan 2B steady llama_70b runpod --gpu h200 --input-tokens 8000 --output-tokens 1000 --tpot-ms 40\n"
             "  atlas-xl plan 2B steady llama_70b my_cloud --gpu a100_80gb --hourly-usd 1.5 --billing dedicated"),
    "estimate": ("examples:\n  atlas-xl estimate llama_70b h100_sxm\n"
                 "  atlas-xl estimate deepseek_r1 b200 --precision fp4 --input-tokens 8192 --output-tokens 1024 --tpot-ms 50"),
    "backtest": "example:\n  atlas-xl backtest\n  atlas-xl backtest --csv > backtest.csv",
    "rank": ("examples:\n  atlas-xl rank 500M bursty llama_8b --latency-ms 200 --top 5\n"
             "  atlas-xl rank 2B steady llama_70b --precision best --tpot-ms 40 --ttft-ms 450"),
    "simulate": ("examples:\n  atlas-xl simulate nvidia_h100_8x_nvlink llama_70b_chat\n"
                 "  atlas-xl simulate nvidia_h100_8x_nvlink llama_70b_chat --knob cuda_graphs=true --set parallelism.dp=2\n"
                 "  atlas-xl simulate my_target.yaml workloads.yaml --name gpt5_1t_inference --json"),
    "schedule": "example:\n  atlas-xl schedule nvidia_h100_cluster_32n gpt5_1t_inference",
    "optimize": ("example:\n  atlas-xl optimize nvidia_h100_8x_nvlink llama_70b_chat --sla-p99-ms 50\n"
                 "  atlas-xl optimize nvidia_h100_cluster_128n gpt5_1t_train --knob cuda_graphs=false"),
    "optimize-workbook": ("examples:\n  atlas-xl optimize-workbook out/atlas_xl_template.xlsm -o optimized.xlsm\n"
                          "  atlas-xl optimize-workbook my_copy.xlsm --in-place"),
    "report": ("examples:\n  atlas-xl report -o plan.xlsx\n"
               "  atlas-xl report -o plan.xlsx --tokens-per-day 5B --pattern bursty --model llama_8b "
               "--platform runpod --platform groq\n"
               "  atlas-xl report -o choice.xlsx --options runpod/h100_sxm together:per_token lambda\n"
               "  atlas-xl report -o plan.xlsx --detail --scenario scenario.yaml\n\n"
               "scenario.yaml:\n  title: Support bot\n  workload: {tokens_per_day: 2e9, pattern: steady, "
               "model: llama_70b, latency_ms: 250}\n  offerings: [runpod, lambda, together]\n"
               "  simulator: {target: nvidia_h100_8x_nvlink, workload: llama_70b_chat, seed: 0}\n"
               "  schedule: true"),
    "recalc": ("examples:\n  atlas-xl recalc out/atlas_xl_template.xlsm --set TokensPerDay=5e9 --set Pattern=bursty "
               "-o whatif.xlsm\n  atlas-xl recalc model.xlsm --set 'Inputs!C6=2e9' -o model_values.xlsx --values-only\n"
               "  atlas-xl recalc a.xlsx b.xlsx c.xlsx --in-place      (one LibreOffice for all three)"),
    "catalog": ("examples:\n  atlas-xl catalog list\n  atlas-xl catalog list offerings --csv\n"
                "  atlas-xl catalog validate --catalog my_catalogs/\n  atlas-xl catalog export my_catalogs/"),
}


# -- finance commands (issue 14): forecast, breakeven, pattern, sweep ------------------------------
EPILOGS.update({
    "forecast": ("examples:\n  atlas-xl forecast 2B steady llama_70b runpod --gpu h100_sxm --months 24 --growth 5% "
                 "--start 2027-01\n  atlas-xl forecast 2B steady llama_70b runpod --gpu h100_sxm --months 36 "
                 "--commitment 3y\n  atlas-xl forecast 1B,1.5B,3B,3B steady llama_70b together\n  atlas-xl forecast 1B bursty llama_70b together --price-change=-20% --csv   (a negative rate needs the =)"),
    "breakeven": ("examples:\n  atlas-xl breakeven steady llama_70b together:per_token runpod/h100_sxm\n"
                  "  atlas-xl breakeven steady llama_70b together:per_token together/h100_sxm --tpot-ms 40\n"
                  "  atlas-xl breakeven steady llama_70b together:per_token:0.60 runpod/h100_sxm:2.10\n"
                  "  atlas-xl breakeven steady llama_70b together runpod/h100_sxm --b-hourly-usd 2.10\n"
                  "  atlas-xl breakeven steady llama_70b together runpod/h100_sxm --tokens-per-day 100M "
                  "--growth 20% --months 24\n\n"
                  "an option: platform[/gpu][:billing][:price] — together (its per-token API if it has one for the\n"
                  "model, else its only GPU offering; the output says which), together:per_token, together/h100_sxm,\n"
                  "runpod/h100_sxm:2.10 (USD per GPU-hour), together:per_token:0.60 (USD per million tokens).\n"
                  "--a-* / --b-* set a price, throughput or GPU count on one side only."),
    "cost-range": ("examples:\n  atlas-xl cost-range 2B steady llama_70b runpod --gpu h100_sxm --months 12 --growth 5%\n"
                   "  atlas-xl cost-range 2B steady llama_70b runpod --gpu h100_sxm --months 24 --start 2027-01 "
                   "--fiscal-year-start 4 --volume-spread 20%\n"
                   "  atlas-xl cost-range 1B bursty llama_70b together --price-spread 10% --volume-spread 30% --csv"),
    "sensitivity": ("examples:\n  atlas-xl sensitivity 2B steady llama_70b runpod --gpu h100_sxm\n"
                    "  atlas-xl sensitivity 2B steady llama_70b together --spread 20% --output cost_per_m_tokens_usd"),
    "commit": ("examples:\n  atlas-xl commit 2B steady llama_70b runpod --gpu h100_sxm --months 36 --growth 3% "
               "--start 2027-01\n  atlas-xl commit 500M bursty llama_70b runpod --gpu h100_sxm --term 3y "
               "--volume-spread 30% --json"),
    "prices": ("examples:\n  atlas-xl prices stale                      (prices older than 90 days, or undated)\n"
               "  atlas-xl prices stale --max-price-age-days 30\n"
               "  atlas-xl prices import quote.csv --to my_catalogs/   (then: atlas-xl rank 2B steady llama_70b "
               "--catalog my_catalogs/)\n\n"
               "quote.csv: platform,gpu,model,billing,currency,hourly,price_in_per_m_tokens,price_out_per_m_tokens,"
               "source,as_of,notes\n  acme,h100_sxm,,dedicated,EUR,1.80,,,contract ACME-2026-11,2026-11-15,\n"
               "  acme,,llama_70b,per_token,GBP,,0.40,0.60,quote of 2026-11-15,2026-11-15,\n"
               "JSON: a list of the same objects. Prices are converted to USD at the ECB rate on or before as_of\n"
               "(catalogs/fx_rates.csv)."),
    "pattern": ("examples:\n  atlas-xl pattern usage.csv\n"
                "  atlas-xl pattern usage.csv --name ours --add-to my_catalogs/   (then: atlas-xl plan 2B ours "
                "llama_70b runpod --gpu h100_sxm --catalog my_catalogs/)\n\n"
                "usage.csv: a timestamp column (timestamp, time, date, start_time; ISO text or Unix seconds) and\n"
                "tokens or input_tokens + output_tokens, one row per request or per hour"),
    "sweep": ("examples:\n  atlas-xl sweep scenarios.csv -o results.parquet\n"
              "  atlas-xl sweep scenarios.csv -o results.csv --workers 4\n"
              "  atlas-xl sweep scenarios.csv -o results.parquet --scheduler tcp://10.0.0.5:8786\n\n"
              "scenarios.csv: one scenario per row; columns tokens_per_day, pattern, model, platform (required),\n"
              "gpu, latency_ms, gpu_count, gpu_tokens_per_s, hourly_usd, price_per_m_tokens, billing, months,\n"
              "monthly_growth, price_change_per_year (blank = not given)"),
})
FORECAST_VIEW = {
    "month": ("month", "{:.0f}"), "period": ("period", "{}"), "tokens_per_day": ("tokens/day", "{:,.0f}"),
    "gpu_count": ("GPUs", "{:.0f}"), "monthly_cost_usd": ("$/month", "{:,.0f}"),
    "cost_per_m_tokens_usd": ("$/Mtok", "{:.3f}"), "cumulative_cost_usd": ("cumulative $", "{:,.0f}"),
}
COMMITMENT_VIEW = {"on_demand_cost_usd": ("on-demand $", "{:,.0f}"), "savings_usd": ("saved $", "{:,.0f}"),
                   "cumulative_savings_usd": ("cum. saved $", "{:,.0f}")}


def parse_volumes(text):
    """'2B' → one daily volume; '1B,1.5B,3B' → one daily volume per month."""
    parts = [p for p in str(text).split(",") if p.strip()] if "," in str(text) else [text]
    volumes = [parse_volume(p) for p in parts]
    return volumes if len(volumes) > 1 or "," in str(text) else volumes[0]


def parse_rate(text):
    """'5%', '0.05', '-20%' → a fraction."""
    raw = str(text).strip().replace(" ", "")
    percent = raw.endswith("%")
    try:  # the one value parser: no nan, inf, decimal commas
        rate = values.parse_number(raw[:-1] if percent else raw, "rate")
    except AtlasError:
        raise argparse.ArgumentTypeError(f"{values.shown(text)} is not a rate — write 5% or 0.05") from None
    return rate / 100.0 if percent else rate  # the range is atlas_xl.finance's to check


def _plan_overrides(args):
    names = ("latency_ms", "gpu_count", "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "billing",
             "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp")
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def cmd_forecast(args):
    from atlas_xl.finance import forecast

    frame = forecast(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, months=args.months,
                     monthly_growth=args.growth, start=args.start, price_change_per_year=args.price_change,
                     commitment=args.commitment, committed_gpus=args.committed_gpus, catalog=args.catalog,
                     **_plan_overrides(args))
    a = frame.attrs
    rate, fx_line = _fx(args)
    where = f"{frame['platform'].iloc[0]}{'/' + frame['gpu'].iloc[0] if frame['gpu'].iloc[0] else ''}"
    _price_warnings([_price_age_line(frame["price_as_of"].iloc[0], where, args),
                     _price_age_line(a["commitment_as_of"], f"the {a['commitment']} commitment", args,
                                     a["commitment_source"]) if a else "", fx_line])
    if rate:
        for column in [c for c in frame.columns if c.endswith("_usd")]:
            frame[column.replace("_usd", f"_{rate.currency.lower()}")] = frame[column] * rate.units_per_usd
    if args.json:
        _dump({"months": [{k: _jsonable(v) for k, v in r.items()} for r in frame.to_dict("records")],
               "summary": {k: _jsonable(v) for k, v in frame.attrs.items()}, **({"fx": vars(rate)} if rate else {})})
        return
    if args.csv:
        values.write_csv(frame, sys.stdout)
        return
    view = dict(FORECAST_VIEW)
    if not args.start:
        view.pop("period")
    if args.commitment:
        view.update(COMMITMENT_VIEW)
    if rate:
        code = rate.currency.lower()
        view = {(k.replace("_usd", f"_{code}") if k.endswith("_usd") else k):
                (h.replace("$/", rate.currency + "/").replace("$", rate.currency), f) for k, (h, f) in view.items()}
    _emit_frame(frame, args, view=view)
    total = frame["cumulative_cost_usd"].iloc[-1] * (rate.units_per_usd if rate else 1.0)
    print(f"\n{len(frame)} months: {total:,.0f} {rate.currency if rate else 'USD'}"
          + ("" if args.start else " (720-hour months; --start YYYY-MM for calendar months)")
          + f"; on-demand price as of {frame['price_as_of'].iloc[0]}")
    if rate:
        print(f"in {rate.currency}: {rate.line()}")
    if a:
        payoff = a["commitment_payoff_month"]
        print(f"commitment {a['commitment']}: {a['committed_gpus']:.0f} GPUs at {a['commitment_hourly_usd']:g} USD/GPU-h "
              f"for {a['commitment_min_term_months']} months ({a['commitment_basis']}; {a['commitment_source']}, "
              f"{a['commitment_as_of']})")
        print(f"pays off: {'month ' + str(payoff) if payoff else 'never within its term'}; saves "
              f"{a['commitment_term_savings_usd']:,.0f} USD over the term; still owed after month {len(frame)}: "
              f"{a['commitment_owed_after_forecast_usd']:,.0f} USD")


def cmd_breakeven(args):
    from atlas_xl.finance import breakeven, breakeven_month

    from atlas_xl.finance import people_number, pct_text, tokens_per_day_text

    kwargs = _plan_overrides(args)
    sides = dict(overrides_a=_side_overrides(args, "a"), overrides_b=_side_overrides(args, "b"))
    result = breakeven(args.pattern, args.model, args.option_a, args.option_b, catalog=args.catalog, **sides,
                       **kwargs)
    month = None
    if args.tokens_per_day is not None:
        month = breakeven_month(args.tokens_per_day, args.pattern, args.model, args.option_a, args.option_b,
                                months=args.months, monthly_growth=args.growth, start=args.start,
                                catalog=args.catalog, **sides, **kwargs)
    _price_warnings([_price_age_line(result.price_as_of_a, result.label_a, args),
                     _price_age_line(result.price_as_of_b, result.label_b, args)])
    if args.json or args.csv:
        record = {k: _jsonable(v) for k, v in result.as_dict().items()}
        if args.tokens_per_day is not None:
            record["breakeven_month"] = month["month"] if month else None
        if args.json:
            _dump(record)
        else:
            values.write_csv(pd.DataFrame([record]), sys.stdout)
        return
    for note in (result.note_a, result.note_b):
        if note:
            print(note)
    if result.tokens_per_day is None:
        print(result.reason)
    else:
        print(f"break-even: {tokens_per_day_text(result.tokens_per_day)} ({people_number(result.tokens_per_day * 30)}"
              f" tokens a 30-day month) — {result.reason}")
        print(f"monthly cost there: {result.label_a} {result.cost_a_usd:,.0f} USD, {result.label_b} "
              f"{result.cost_b_usd:,.0f} USD ({pct_text(result.gap_pct)} apart)")
    print(f"prices as of: {result.label_a} {result.price_as_of_a}, {result.label_b} {result.price_as_of_b}")
    if args.tokens_per_day is not None:
        if month:
            print(f"in the forecast: month {month['month']}{' (' + month['period'] + ')' if month['period'] else ''}"
                  f" — {month['cheaper_after']} becomes cheaper than {month['cheaper_before']}")
        else:
            print("in the forecast: the cheaper option does not change")


def _price_warnings(lines):
    """Stale-price warnings: one line each on stderr (the result itself stays on stdout)."""
    for line in dict.fromkeys(l for l in lines if l):
        print(f"atlas-xl: warning: {line}", file=sys.stderr)


def _price_age_line(as_of, what, args, source=""):
    from atlas_xl import prices

    if as_of in ("", "given"):
        return ""
    return prices.price_age(as_of, max_age_days=args.max_price_age_days, source=source).line(what)


def _fx(args):
    """(FxRate or None, warning line): the rate for --currency, dated."""
    from atlas_xl import prices

    if not getattr(args, "currency", None) or args.currency.upper() == "USD":
        return None, ""
    rate = prices.fx_rate(args.currency, args.catalog)
    age = prices.price_age(rate.date, max_age_days=args.max_price_age_days)
    stale = (f"the FX rate {rate.currency} is from {rate.date}, {age.age_days:.0f} days old — add a current ECB "
             "rate to fx_rates.csv") if age.stale else ""
    return rate, stale


def _side_overrides(args, side):
    names = ("hourly_usd", "price_per_m_tokens", "gpu_tokens_per_s", "gpu_count")
    return {n: getattr(args, f"{side}_{n}") for n in names if getattr(args, f"{side}_{n}", None) is not None}


def cmd_cost_range(args):
    from atlas_xl.finance import cost_range_periods

    frame = cost_range_periods(
        args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, months=args.months or 12,
        draws=args.draws, seed=args.seed, throughput_error=args.throughput_error, price_spread=args.price_spread,
        volume_spread=args.volume_spread, monthly_growth=args.growth, growth_spread=args.growth_spread,
        start=args.start, price_change_per_year=args.price_change, fiscal_year_start_month=args.fiscal_year_start,
        catalog=args.catalog, **_plan_overrides(args))
    a = frame.attrs
    rate, fx_line = _fx(args)
    money = [c for c in frame.columns if c.endswith("_usd")]
    if rate:
        for column in money:
            frame[column.replace("_usd", f"_{rate.currency.lower()}")] = frame[column] * rate.units_per_usd
    _price_warnings([_price_age_line(a["price_as_of"], f"{args.platform}{'/' + args.gpu if args.gpu else ''}", args),
                     fx_line])
    if args.json:
        _dump({"periods": [{k: _jsonable(v) for k, v in r.items()} for r in frame.to_dict("records")],
               "summary": {k: _jsonable(v) for k, v in a.items()}, **({"fx": vars(rate)} if rate else {})})
        return
    if args.csv:
        values.write_csv(frame, sys.stdout)
        return
    unit = rate.currency if rate else "$"
    suffix = f"_{rate.currency.lower()}" if rate else "_usd"
    view = {"period": ("period", "{}"), "months": ("months", "{:.0f}"),
            f"point{suffix}": (f"forecast {unit}", "{:,.0f}"), f"p10{suffix}": (f"P10 {unit}", "{:,.0f}"),
            f"p50{suffix}": (f"P50 {unit}", "{:,.0f}"), f"p90{suffix}": (f"P90 {unit}", "{:,.0f}")}
    for kind, heading in (("month", "Months"), ("quarter", "Quarters"), ("fiscal_year", "Fiscal years")):
        part = frame[frame.period_type == kind].copy()
        part["period"] = [p if c else f"{p} (part: {m} of {3 if kind == 'quarter' else 12} months)"
                          for p, c, m in zip(part.period, part.complete, part.months)]
        print(f"{heading}:")
        _emit_frame(part, args, view=view)
        print()
    print(f"{a['draws']:,} seeded draws (seed {a['seed']}): throughput error ±{a['throughput_error']:.0%} (1-sigma, "
          f"the serving model's unless given), price spread ±{args.price_spread:.0%}, volume spread "
          f"±{args.volume_spread:.0%}, growth spread ±{args.growth_spread:.1%}; a period's percentile is of its "
          f"total. Price as of {a['price_as_of']}."
          + (f" Fiscal year starts in month {a['fiscal_year_start_month']}." if args.start else ""))
    if rate:
        print(f"In {rate.currency}: {rate.line()}.")
    if a["point_reason"]:
        print(a["point_reason"][0].upper() + a["point_reason"][1:] + ".")


def cmd_sensitivity(args):
    from atlas_xl.finance import sensitivity

    frame = sensitivity(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, spread=args.spread,
                        output=args.output, catalog=args.catalog, **_plan_overrides(args))
    base = plan(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, catalog=args.catalog,
                **_plan_overrides(args))
    from atlas_xl import prices
    age = prices.plan_price_age(base, args.catalog, max_age_days=args.max_price_age_days,
                                price_given=args.hourly_usd is not None or args.price_per_m_tokens is not None)
    _price_warnings([age.line(f"{base.platform}{'/' + base.gpu if base.gpu else ''}")])
    if args.json or args.csv:
        _emit_frame(frame, args)
        return
    from atlas_xl.finance import people_number

    money = args.output.endswith("_usd")
    fmt = "{:,.2f}" if money else "{:,.4g}"
    for column in ("base", "low", "high"):  # 2e+09 tokens/day reads as 2 B
        frame[column] = [people_number(v, 4) if abs(v) >= 1e6 else f"{v:,.4g}" for v in frame[column]]
    view = {"input": ("input", "{}"), "base": ("base", "{}"), "low": ("low", "{}"),
            "high": ("high", "{}"), "cost_at_low_usd": (f"{args.output} at low", fmt),
            "cost_at_high_usd": (f"{args.output} at high", fmt), "swing_usd": ("swing", fmt)}
    _emit_frame(frame, args, view=view)
    print(f"\n{args.output} at the base: {fmt.format(frame['base_cost_usd'].iloc[0])}; each input alone from "
          f"{1 - args.spread:.0%} to {1 + args.spread:.0%} of its base (active_ratio and target_utilization at most "
          f"1), largest swing first. Price as of {age.as_of}.")


def cmd_commit(args):
    from atlas_xl.finance import commit_advice

    advice = commit_advice(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu,
                           months=args.months or 36, monthly_growth=args.growth, start=args.start,
                           terms=args.term, draws=args.draws, seed=args.seed, throughput_error=args.throughput_error,
                           price_spread=args.price_spread, volume_spread=args.volume_spread,
                           growth_spread=args.growth_spread, price_change_per_year=args.price_change,
                           catalog=args.catalog, **_plan_overrides(args))
    rate, fx_line = _fx(args)
    base = plan(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, catalog=args.catalog,
                **_plan_overrides(args))
    from atlas_xl import prices
    age = prices.plan_price_age(base, args.catalog, max_age_days=args.max_price_age_days,
                                price_given=args.hourly_usd is not None)
    _price_warnings([age.line(f"{base.platform}/{base.gpu}"),
                     _price_age_line(advice.as_of, f"the {advice.term} commitment", args, advice.source), fx_line])
    record = advice.as_dict()
    if rate:
        for key in [k for k in record if k.endswith("_usd")]:
            record[key.replace("_usd", f"_{rate.currency.lower()}")] = record[key] * rate.units_per_usd
    if args.json:
        _dump({**record, **({"fx": vars(rate)} if rate else {})})
        return
    if args.csv:
        values.write_csv(pd.DataFrame([{k: v for k, v in record.items() if k != "alternatives"}]), sys.stdout)
        return
    k = rate.units_per_usd if rate else 1.0
    unit = rate.currency if rate else "USD"
    print(advice.reason[0].upper() + advice.reason[1:] + ".")
    print(f"expected cost over {advice.months} months: {advice.expected_cost_usd * k:,.0f} {unit} "
          f"(on demand {advice.on_demand_expected_cost_usd * k:,.0f} {unit}; saves "
          f"{advice.expected_savings_usd * k:,.0f} {unit}); {advice.draws:,} seeded draws")
    if advice.committed_gpus:
        print(f"at the P10 volume: {advice.p10_cost_usd * k:,.0f} {unit} against {advice.p10_on_demand_cost_usd * k:,.0f}"
              f" {unit} on demand; over-commitment {advice.p10_overcommitment_usd * k:,.0f} {unit} "
              f"({advice.p10_idle_gpu_hours:,.0f} committed GPU-hours unused)")
        if advice.owed_after_usd:
            print(f"the term runs past month {advice.months}: {advice.owed_after_usd * k:,.0f} {unit} still owed then "
                  "(counted above; what those months would save is not)")
    print(f"committed price {advice.hourly_usd:g} USD/GPU-h for {advice.min_term_months} months ({advice.basis}; "
          f"{advice.source}, as of {advice.as_of}); on-demand price as of {age.as_of}")
    if len(advice.alternatives) > 1:
        for alt in advice.alternatives:
            print(f"  best {alt['term']}: {alt['committed_gpus']:g} GPUs from month {alt['start_month']}, expected "
                  f"{alt['expected_cost_usd'] * k:,.0f} {unit} ({alt['expected_savings_usd'] * k:,.0f} {unit} saved)")
    if rate:
        print(f"in {unit}: {rate.line()}")


def cmd_prices(args):
    from atlas_xl import prices

    if args.action == "import":
        if not args.file or not args.to:
            raise InputError("prices import needs a price list and a folder — atlas-xl prices import FILE --to DIR")
        target, count, replaced = prices.import_price_list(args.file, args.to, args.catalog, overwrite=args.force)
        print(f"wrote {target}: {count} imported price{'s' if count != 1 else ''} in USD"
              + (f", replacing {replaced} row{'s' if replaced != 1 else ''} of the same offering" if replaced else ""))
        return
    frame = prices.stale_prices(args.catalog, max_age_days=args.max_price_age_days)
    if args.json or args.csv:
        _emit_frame(frame, args)
        return
    limit = prices.max_age(args.max_price_age_days)
    if frame.empty:
        print(f"every price is at most {limit:g} days old")
        return
    frame["age_days"] = ["undated" if math.isnan(v) else f"{v:.0f}" for v in frame.age_days]
    frame["source"] = [_short(str(v), 60) for v in frame.source]
    print(frame.to_string(index=False))
    print(f"\n{len(frame)} prices older than {limit:g} days or undated — check them with the provider, then "
          "update the catalog row (source, as_of)")


def cmd_pattern(args):
    from atlas_xl.finance import pattern_from_usage

    period = (args.period_start, args.period_end) if args.period_start or args.period_end else None
    if period and not all(period):
        raise InputError("give both --period-start and --period-end")
    found = pattern_from_usage(args.file, period=period, catalog=args.catalog)
    record = found.as_dict()
    if args.add_to:
        _add_pattern(found, args)
    if args.json:
        _dump(record)
    elif args.csv:
        values.write_csv(pd.DataFrame([record]), sys.stdout)
    else:
        units = {"tokens_per_day": "tokens/day", "hours": "h"}
        print(pd.DataFrame({"field": list(record), "value": [_show(v) for v in record.values()],
                            "units": [units.get(k, "") for k in record]}).to_string(index=False))
    if args.add_to:
        print(f"added pattern '{args.name}' to {Path(args.add_to) / 'patterns.csv'}", file=sys.stderr)


def _add_pattern(found, args):
    from atlas_xl.finance import with_pattern

    target = Path(args.add_to) / "patterns.csv"
    if target.exists() and not args.force:
        raise InputError(f"'{target}' exists — pass --force to replace it, or choose another folder")
    table = with_pattern(found, args.name, args.catalog, source=Path(args.file).name).tables["patterns"]
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(target, lambda path: values.write_csv(table, path), overwrite=args.force)


def _atomic_write(target, write, overwrite=True):
    """Write through a temporary file in the same folder, then move it into place: never a
    half-written file, umask permissions, exclusive create without ``overwrite`` (atlas_xl.files)."""
    with atomic_output(target, overwrite=overwrite) as temp:
        write(str(temp))


class _Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, width=30):
        self.width = width

    def __call__(self, done, total):
        filled = int(self.width * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,} scenarios")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def cmd_sweep(args):
    from atlas_xl.sweeps import sweep

    target = Path(args.output)
    if target.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(f"'{target}': write .parquet or .csv")
    if target.exists() and not args.force:
        raise InputError(f"'{target}' exists — pass --force to replace it, or choose another name")
    if target.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("writing .parquet needs pyarrow — pip install 'atlas-xl[parquet]', or write .csv") \
                from None
    result = sweep(args.scenarios, catalog=args.catalog, scheduler=args.scheduler, workers=args.workers,
                   chunk_size=args.chunk_size, progress=None if args.quiet else _Progress())
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".parquet":
        _atomic_write(target, lambda path: result.to_parquet(path, index=False), overwrite=args.force)
    else:
        _atomic_write(target, lambda path: values.write_csv(result, path), overwrite=args.force)
    failed = result[result["error"] != ""].drop_duplicates("scenario")
    scenarios = result["scenario"].nunique()
    print(f"wrote {target}: {scenarios:,} scenarios, {len(result):,} scenario-months, {len(failed):,} failed")
    if len(failed):
        first = failed.iloc[0]
        raise InputError(f"{len(failed)} scenario(s) failed (their rows carry the reason in column error) — "
                         f"first: scenario {first['scenario']} (row {first['scenario'] + 1}): {first['error']}")


def add_finance_commands(command):
    """The forecast, breakeven, pattern and sweep commands (``command`` is build_parser's factory)."""
    def overrides(p):
        p.add_argument("--latency-ms", type=argument("latency_ms"), help="latency requirement [ms]; < 300 penalises high risk")
        p.add_argument("--gpu-count", type=argument("gpu_count"), help="fix the (whole) GPU count instead of the 75%% rule")
        p.add_argument("--gpu-tokens-per-s", type=argument("gpu_tokens_per_s"), help="override throughput per GPU [tokens/s]")
        p.add_argument("--hourly-usd", type=argument("hourly_usd"), help="override price per GPU-hour [USD]")
        p.add_argument("--price-per-m-tokens", type=argument("price_per_m_tokens"), help="override per-token price [USD/Mtok]")
        p.add_argument("--billing", choices=["autoscaling", "dedicated", "per_token"], help="override billing")
        p.add_argument("--precision", help="weight precision of the serving model: bf16, fp8 (default), fp4, best")
        p.add_argument("--input-tokens", type=argument("input_tokens"), help="mean prompt tokens per request (default 1024)")
        p.add_argument("--output-tokens", type=argument("output_tokens"), help="mean output tokens per request (default 1024)")
        p.add_argument("--ttft-ms", type=argument("ttft_ms"), help="p99 time-to-first-token limit [ms] (default 2000)")
        p.add_argument("--tpot-ms", type=argument("tpot_ms"), help="p99 time-per-output-token limit [ms] (default 200)")
        p.add_argument("--tp", type=argument("tp"), help="GPUs per replica (default: the size of least monthly cost)")

    def growth(p):
        p.add_argument("--months", type=argument("months"), help="months to forecast (default 12)")
        p.add_argument("--growth", type=parse_rate, default=0.0, help="volume growth per month: 5%% or 0.05")
        p.add_argument("--start", help="first calendar month YYYY-MM (real month lengths; default 720-h months)")

    p = command("forecast", "Month-by-month cost as usage grows, with price changes and commitments.")
    p.add_argument("tokens_per_day", type=parse_volumes,
                   help="daily token volume of month 1 (2e9, 2B, 500M), or one per month: 1B,1.5B,3B")
    p.add_argument("pattern", help="traffic pattern: steady, business_hours, bursty")
    p.add_argument("model", help="model key, e.g. llama_70b")
    p.add_argument("platform", help="platform key, e.g. runpod, together")
    p.add_argument("--gpu", help="GPU key when the platform offers several (h100_sxm)")
    growth(p)
    p.add_argument("--price-change", type=parse_rate, default=0.0, help="price change per year: --price-change=-20%% or 0.1")
    p.add_argument("--commitment", choices=["1y", "3y"], help="reserved price from the commitments catalog")
    p.add_argument("--committed-gpus", type=argument("committed_gpus"), help="GPUs committed (default: month 1's count)")
    overrides(p)
    p.set_defaults(func=cmd_forecast)

    def price_age(p):
        p.add_argument("--max-price-age-days", type=argument("max_price_age_days"), default=None,
                       help="warn about prices older than this many days (default 90); undated prices always warn")

    def currency(p):
        p.add_argument("--currency", type=text_argument("--currency"),
                       help="also show money in this currency (EUR, GBP, ...; dated ECB rates, catalogs/fx_rates.csv)")

    price_age(p)  # forecast
    currency(p)

    p = command("breakeven", "The daily volume at which two options cost the same per month.")
    p.add_argument("pattern", help="traffic pattern")
    p.add_argument("model", help="model key")
    p.add_argument("option_a", help="platform[/gpu][:billing][:price], e.g. together:per_token")
    p.add_argument("option_b", help="platform[/gpu][:billing][:price], e.g. runpod/h100_sxm or runpod/h100_sxm:2.10")
    p.add_argument("--tokens-per-day", type=parse_volume, help="today's volume: also find the month of crossing")
    growth(p)
    overrides(p)
    for side in ("a", "b"):
        which = "option_a" if side == "a" else "option_b"
        p.add_argument(f"--{side}-hourly-usd", type=argument("hourly_usd"), help=f"price per GPU-hour of {which} [USD]")
        p.add_argument(f"--{side}-price-per-m-tokens", type=argument("price_per_m_tokens"),
                       help=f"per-token price of {which} [USD/Mtok]")
        p.add_argument(f"--{side}-gpu-tokens-per-s", type=argument("gpu_tokens_per_s"),
                       help=f"throughput per GPU of {which} [tokens/s]")
        p.add_argument(f"--{side}-gpu-count", type=argument("gpu_count"), help=f"fix the GPU count of {which}")
    price_age(p)
    p.set_defaults(func=cmd_breakeven)

    def uncertainty(p, draws):
        p.add_argument("--draws", type=argument("draws"), default=draws, help=f"Monte-Carlo draws (default {draws:,})")
        p.add_argument("--seed", type=argument("seed"), default=0, help="random seed (default 0)")
        p.add_argument("--throughput-error", type=parse_rate,
                       help="1-sigma throughput error, e.g. 15%% (default: the serving model's)")
        p.add_argument("--price-spread", type=parse_rate, default=0.0, help="1-sigma price spread, e.g. 10%% (default 0)")
        p.add_argument("--volume-spread", type=parse_rate, default=0.0, help="1-sigma volume error, e.g. 20%% (default 0)")
        p.add_argument("--growth-spread", type=parse_rate, default=0.0,
                       help="1-sigma of the monthly growth rate, e.g. 2%% (default 0)")
        p.add_argument("--price-change", type=parse_rate, default=0.0, help="price change per year: --price-change=-20%%")

    def offering(p):
        p.add_argument("tokens_per_day", type=parse_volume, help="daily token volume of month 1 (2e9, 2B, 500M)")
        p.add_argument("pattern", help="traffic pattern: steady, business_hours, bursty")
        p.add_argument("model", help="model key, e.g. llama_70b")
        p.add_argument("platform", help="platform key, e.g. runpod, together")
        p.add_argument("--gpu", help="GPU key when the platform offers several (h100_sxm)")

    p = command("cost-range", "P10/P50/P90 of monthly, quarterly and fiscal-year cost under stated uncertainty.")
    offering(p)
    growth(p)
    p.add_argument("--fiscal-year-start", type=argument("fiscal_year_start_month"),
                   help="month the fiscal year starts, 1-12 (default 1; needs --start)")
    uncertainty(p, 10_000)
    overrides(p)
    price_age(p)
    currency(p)
    p.set_defaults(func=cmd_cost_range)

    p = command("sensitivity", "Tornado table: the cost at the low and high end of each input, largest swing first.")
    offering(p)
    p.add_argument("--spread", type=parse_rate, default=0.1, help="every input from -spread to +spread (default 10%%)")
    p.add_argument("--output", default="monthly_cost_usd",
                   help="plan field compared: monthly_cost_usd (default), cost_per_m_tokens_usd, unused_capacity_usd, gpu_count")
    overrides(p)
    price_age(p)
    p.set_defaults(func=cmd_sensitivity)

    p = command("commit", "Which commitment term, how many GPUs and from which month minimise the expected cost.")
    offering(p)
    growth(p)
    p.add_argument("--term", action="append", choices=["1y", "3y"], help="only this term (repeatable; default all priced)")
    uncertainty(p, 2_000)
    overrides(p)
    price_age(p)
    currency(p)
    p.set_defaults(func=cmd_commit)

    p = command("prices", "Prices: list the stale ones, or import a provider's or negotiated price list.")
    p.add_argument("action", choices=["stale", "import"])
    p.add_argument("file", nargs="?", help="import: the price list (.csv or .json, with a currency column)")
    p.add_argument("--to", metavar="DIR", help="import: the catalog folder to write offerings.csv into")
    p.add_argument("--force", action="store_true", help="import: replace DIR/offerings.csv if it exists")
    price_age(p)
    p.set_defaults(func=cmd_prices)

    p = command("pattern", "Traffic-pattern factors (active ratio, burst factor, ...) from a usage log.")
    p.add_argument("file", help="usage CSV: timestamps and token counts (hourly or finer)")
    p.add_argument("--period-start", help="start of the period the log covers, when idle hours are left out")
    p.add_argument("--period-end", help="end of that period")
    p.add_argument("--add-to", metavar="DIR", help="write DIR/patterns.csv with the observed pattern added")
    p.add_argument("--name", default="observed", help="pattern name for --add-to (default observed)")
    p.add_argument("--force", action="store_true", help="replace DIR/patterns.csv if it exists")
    p.set_defaults(func=cmd_pattern)

    p = command("sweep", "Evaluate a table of scenarios (plan/forecast arguments per row) in parallel.", data=False)
    p.add_argument("scenarios", help="CSV or Parquet file, one scenario per row")
    p.add_argument("-o", "--output", required=True, help="results file: .parquet or .csv (one row per scenario-month)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:8786); needs atlas-xl[dask]")
    p.add_argument("--workers", type=argument("workers"), help="local processes (default: one per CPU)")
    p.add_argument("--chunk-size", type=argument("chunk_size"), default=2000, help="scenarios per task (default 2000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--catalog", metavar="DIR", help="folder of catalog CSV files (default: built-in)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(func=cmd_sweep)


class Parser(argparse.ArgumentParser):
    """argparse with errors as one line — the reason first, then where to read the usage."""

    def error(self, message):
        message = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)  # one line, always
        message = re.sub(r"^argument ([\w-]+): \1 ", r"\1 ", message)  # not "argument x: x ..."
        message = re.sub(r"^argument --([\w-]+): \w+ ", lambda m: f"--{m.group(1)} ", message)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


NEGATIVE = re.compile(r"-(\d|\.\d)")
SCALE_WORDS = ("thousand", "million", "billion", "trillion", "k", "m", "b", "bn", "t")


def _explain_argv(argv):
    """Mistakes argparse words badly, caught before parsing: the reason as one line, or None."""
    for i, token in enumerate(argv):
        option_value = i > 0 and argv[i - 1].startswith("-") and not NEGATIVE.match(argv[i - 1])
        plain = re.fullmatch(r"-\d+|-\d*\.\d+", token)  # argparse reads these as values itself
        if NEGATIVE.match(token) and not plain and i > 0 and not option_value:
            return f"'{token}': a negative value is not allowed here — volumes and counts must be greater than 0"
        if token.lower() in SCALE_WORDS and i > 0 and re.fullmatch(r"[\d.,_eE+]+", argv[i - 1]):
            return f"'{argv[i - 1]} {token}' must be one word — write {argv[i - 1]}{token[0].upper()} (like 2B or 500M)"
    return None


def build_parser():
    parser = Parser(
        prog="atlas-xl", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Plan LLM serving (GPU count, monthly cost per platform, cost per million tokens) "
                    "and simulate a configuration (throughput, latency, power, energy cost).",
        epilog="examples:\n  atlas-xl rank 2B steady llama_70b\n  atlas-xl plan 2B steady llama_70b together")
    parser.add_argument("--version", action="version", version=f"atlas-xl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help_text, data=True):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOGS[name],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if data:  # commands that print model results
            out = p.add_mutually_exclusive_group()
            out.add_argument("--json", action="store_true", help="print JSON")
            out.add_argument("--csv", action="store_true", help="print CSV")
            p.add_argument("--catalog", metavar="DIR", help="folder of catalog CSV files (default: built-in)")
        return p

    def workload(p):
        p.add_argument("tokens_per_day", type=parse_volume, help="daily token volume (2e9, 2B, 500M)")
        p.add_argument("pattern", help="traffic pattern: steady, business_hours, bursty")
        p.add_argument("model", help="model key, e.g. llama_70b")
        p.add_argument("--latency-ms", type=argument("latency_ms"), help="latency requirement [ms]; < 300 penalises high risk")
        p.add_argument("--tp", type=argument("tp"), help="GPUs per replica (default: the size of least monthly cost)")
        serving_options(p)

    def serving_options(p):
        p.add_argument("--precision", help="weight precision: bf16, fp8 (default), fp4, best")
        p.add_argument("--input-tokens", type=argument("input_tokens"), help="input tokens per request (default 1024)")
        p.add_argument("--output-tokens", type=argument("output_tokens"), help="output tokens per request (default 1024)")
        p.add_argument("--ttft-ms", type=argument("ttft_ms"), help="p99 time-to-first-token limit [ms] (default 2000)")
        p.add_argument("--tpot-ms", type=argument("tpot_ms"), help="p99 time-per-output-token limit [ms] (default 200)")

    p = command("plan", "Plan one workload on one platform.")
    workload(p)
    p.add_argument("platform", help="platform key, e.g. runpod, fireworks, together")
    p.add_argument("--gpu", help="GPU key when the platform offers several (h100_sxm)")
    p.add_argument("--gpu-count", type=argument("gpu_count"), help="fix the (whole) GPU count instead of the 75%% rule")
    p.add_argument("--gpu-tokens-per-s", type=argument("gpu_tokens_per_s"), help="override throughput per GPU [tokens/s]")
    p.add_argument("--hourly-usd", type=argument("hourly_usd"), help="override price per GPU-hour [USD]")
    p.add_argument("--price-per-m-tokens", type=argument("price_per_m_tokens"), help="override per-token price [USD/Mtok]")
    p.add_argument("--billing", choices=["autoscaling", "dedicated", "per_token"], help="override billing")
    p.set_defaults(func=cmd_plan)

    p = command("estimate", "What one replica of a model on a GPU serves within latency limits (the serving model).")
    p.add_argument("model", help="model key, e.g. llama_70b")
    p.add_argument("gpu", help="GPU key, any row of gpus.csv (h100_sxm, a100_80gb, or one you added)")
    p.add_argument("--tp", type=argument("tp"), help="GPUs per replica (default: the best)")
    serving_options(p)
    p.set_defaults(func=cmd_estimate)

    p = command("backtest", "Leave-one-GPU-out accuracy of the serving model per GPU and benchmark.")
    p.set_defaults(func=cmd_backtest)

    p = command("rank", "Rank every offering that serves the model: penalty score (0 first), then monthly cost.")
    workload(p)
    p.add_argument("--platform", action="append", help="only this platform (repeatable)")
    p.add_argument("--top", type=argument("top"), help="show only the best N (N >= 1)")
    p.add_argument("--max-price-age-days", type=argument("max_price_age_days"),
                   help="mark prices older than this many days (default 90); undated prices are always marked")
    p.set_defaults(func=cmd_rank)

    def simulation(name, help_text, func):
        p = command(name, help_text)
        p.add_argument("target", nargs="?", help="target key or YAML/JSON file (default nvidia_h100_8x_nvlink)")
        p.add_argument("workload", nargs="?", help="workload key or YAML/JSON file (default llama_70b_chat)")
        p.add_argument("--name", help="which workload of a file that holds several")
        p.add_argument("--knob", action="append", metavar="K=V",
                       help="optimization parameter: cuda_graphs, gpudirect_rdma, fabric, virt, microbatch")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="workload override with dotted keys, e.g. parallelism.dp=8 or sequence.prompt=2048")
        p.add_argument("--hardware", help="hardware model key or YAML file overriding coefficients")
        p.add_argument("--seed", type=argument("seed"), default=0, help="noise seed (default 0)")
        p.add_argument("--usd-per-kwh", type=argument("usd_per_kwh"), default=0.12, help="electricity price [USD/kWh] (default 0.12)")
        p.add_argument("--pue", type=argument("pue"), help="override the target's PUE")
        p.set_defaults(func=func)
        return p

    simulation("simulate", "Simulate one configuration: throughput, latency with queueing, power, cost.", cmd_simulate)
    simulation("schedule", "Run a workload's multi-phase schedule and aggregate by duration.", cmd_schedule)
    p = simulation("optimize", "Hill-climb the optimization parameters for throughput within a P99 SLA.", cmd_optimize)
    p.add_argument("--sla-p99-ms", type=argument("sla_p99_ms"), default=120.0, help="P99 latency limit for inference [ms] (default 120)")

    p = command("optimize-workbook", "Do what the template's Optimize button does, on a file (no Excel needed).",
                data=False)
    p.add_argument("file", help="an atlas_xl template workbook (.xlsm/.xlsx)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", help="write the result here (the input stays as it is)")
    where.add_argument("--in-place", action="store_true", help="update FILE itself")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(func=cmd_optimize_workbook)

    p = command("report", "Write a report workbook (values, charts, sources) for a scenario.", data=False)
    p.add_argument("-o", "--output", required=True, help="the .xlsx to write")
    p.add_argument("--scenario", help="YAML or JSON scenario file; the options below override it")
    p.add_argument("--title", type=text_argument("--title"), help="report title")
    p.add_argument("--tokens-per-day", type=parse_volume, help="daily token volume (2e9, 2B, 500M)")
    p.add_argument("--pattern", help="traffic pattern")
    p.add_argument("--model", help="model key")
    p.add_argument("--latency-ms", type=argument("latency_ms"), help="latency requirement [ms]")
    serving_options(p)
    p.add_argument("--platform", action="append", help="candidate platform (repeatable; default all)")
    p.add_argument("--options", nargs="+", metavar="OPTION",
                   help="compare exactly these on the one-page summary: platform (its best offering), platform/gpu "
                        "or platform:billing, e.g. --options runpod/h100_sxm together:per_token lambda "
                        "(default: the best three)")
    p.add_argument("--detail", action="store_true",
                   help="add the detail sheets (ranking, breakdowns, cost against volume, simulator, schedule, "
                        "forecast, sensitivity, assumptions) between the summary and the sources")
    p.add_argument("--target", help="simulator target")
    p.add_argument("--workload", help="simulator workload")
    p.add_argument("--seed", type=argument("seed"), help="simulator noise seed")
    p.add_argument("--usd-per-kwh", type=argument("usd_per_kwh"), help="electricity price [USD/kWh]")
    p.add_argument("--pue", type=argument("pue"), help="override the target's PUE")
    p.add_argument("--no-schedule", action="store_true", help="leave out the multi-phase schedule")
    p.add_argument("--catalog", metavar="DIR", help="folder of catalog CSV files (default: built-in)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(func=cmd_report)

    p = command("recalc", "Recalculate every formula of a workbook (ATLAS_* included) on LibreOffice, without Excel.",
                data=False)
    p.add_argument("file", nargs="+", help="the workbook(s) (.xlsx/.xlsm); never modified unless --in-place")
    p.add_argument("--set", action="append", metavar="CELL=VALUE",
                   help="what-if input: Sheet!A1=value or DefinedName=value (repeatable)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", help="write the recalculated workbook here")
    where.add_argument("--in-place", action="store_true", help="update FILE itself")
    p.add_argument("--values-only", action="store_true",
                   help="write a macro-free .xlsx of values (no formulas, VBA or buttons; charts kept)")
    p.add_argument("--allow-errors", action="store_true",
                   help="exit 0 even when formulas evaluate to errors (they are still listed)")
    p.add_argument("--timeout", default="120", metavar="S",
                   help="stop if one workbook takes longer than S seconds, every phase counted (default 120)")
    p.add_argument("--max-cells", metavar="N",
                   help="refuse a workbook with more than N formula cells, array ranges counted (default: the budget in "
                        "docs/limits.md)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(func=cmd_recalc)

    p = command("doctor", "Check that this Python can serve the template's ATLAS_* functions to Excel.", data=False)
    p.add_argument("--catalog", metavar="DIR", help="folder of catalog CSV files to check (default: built-in)")
    p.set_defaults(func=cmd_doctor)

    p = command("catalog", "List, validate or export the catalogs.")
    p.add_argument("action", choices=["list", "validate", "export"])
    p.add_argument("table", nargs="?", help="list: one table to print in full")
    p.add_argument("directory", nargs="?", help="export: the folder to write")
    p.add_argument("--force", action="store_true", help="export: overwrite existing CSV files")
    p.set_defaults(func=cmd_catalog)

    add_finance_commands(command)
    return parser


def main(argv=None):
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    problem = _explain_argv(argv)
    if problem:
        command = f" {argv[0]}" if argv and argv[0] in EPILOGS else ""
        print(f"atlas-xl{command}: error: {problem}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.command == "catalog" and args.action == "export" and args.table and not args.directory:
        args.directory, args.table = args.table, None
    signal.signal(signal.SIGTERM, _terminate)  # `finally` blocks (temp-file cleanup) run on kill
    try:
        status = args.func(args)
    except BrokenPipeError:  # `atlas-xl rank ... | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (AtlasError, OSError) as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        if not isinstance(error, CatalogError):  # one line: only a catalog lists one line per bad row
            lines = [" ".join(lines)]
        for line in lines[:21]:  # a catalog reports one line per malformed row
            print(f"atlas-xl: error: {line}", file=sys.stderr)
        return 1
    except (RecursionError, MemoryError) as error:
        print(f"atlas-xl: error: the input is too large or too deeply nested ({type(error).__name__}) — "
              "simplify it", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 — a bug: one line, never a traceback
        if os.environ.get("ATLAS_XL_DEBUG"):
            raise
        print(f"atlas-xl: internal error: {type(error).__name__}: {_one_line(error)} — please report it "
              "(ATLAS_XL_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 3
    return status or 0  # a command may report a problem through its status (doctor)


def _one_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
