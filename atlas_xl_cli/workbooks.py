"""Workbook commands: optimize-workbook, report, recalc, doctor (the workbook layer, on files)."""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from atlas_xl import arguments
from atlas_xl.errors import InputError
from atlas_xl.files import exclusive_update
from atlas_xl_cli.output import price_age_line, price_warnings
from atlas_xl_cli.options import (arg, catalog_option, command, exclusive, force_option, load_spec_file,
                                  max_price_age_option, output_or_in_place, parse_volume, pue_option, registered,
                                  serving_args, serving_options, text_argument)


def update_lock(args, path):
    """--in-place: one writer at a time; another run gets a clear error instead of a lost update."""
    if args.in_place and Path(path).is_file():
        return exclusive_update(path)
    return contextlib.nullcontext()


@command("optimize-workbook", "Do what the template's Optimize button does, on a file (no Excel needed).",
         "examples:\n  atlas-xl optimize-workbook out/atlas_xl_template.xlsm -o optimized.xlsm\n"
         "  atlas-xl optimize-workbook my_copy.xlsm --in-place", data=False)
@arg("file", help="an atlas_xl template workbook (.xlsm/.xlsx)")
@output_or_in_place
@force_option
def cmd_optimize_workbook(args):
    from workbook.optimizer_button import optimize_workbook

    with update_lock(args, args.file):
        path, result = optimize_workbook(args.file, args.output, in_place=args.in_place, overwrite=args.force)
    print(f"wrote {path}: best knobs {result.best_knobs} ({result.gain:+.1%} tokens/s, "
          f"{len(result.trail)} accepted steps)")


REPORT_LATENCY_MS = 250.0
"""The latency requirement of a report whose scenario sets none (`workbook.reports.Scenario.latency_ms`;
a test keeps the two equal — this module does not import the report writer before a report is asked for)."""
_latency = arguments.get("latency_ms")
report_latency_option = registered(
    "latency_ms", help=f"{_latency.help} (default: {REPORT_LATENCY_MS:g} for a report, said so in its assumptions; "
                       "latency_ms: null in a scenario file for none)".replace("%", "%%"))


def _check_output(path, suffixes):
    if Path(path).suffix.lower() not in suffixes:
        raise InputError(f"output '{path}' must end in {' or '.join(suffixes)} — this command writes an Excel "
                         f"workbook (e.g. -o {Path(path).stem or 'out'}{suffixes[0]})")


@command("report", "Write a report workbook (values, charts, sources) for a scenario.",
         "examples:\n  atlas-xl report -o plan.xlsx\n"
         "  atlas-xl report -o plan.xlsx --tokens-per-day 5B --pattern bursty --model llama_8b "
         "--platform runpod --platform groq\n"
         "  atlas-xl report -o choice.xlsx --options runpod/h100_sxm together:per_token lambda\n"
         "  atlas-xl report -o plan.xlsx --detail --scenario scenario.yaml\n\n"
         "scenario.yaml:\n  title: Support bot\n  workload: {tokens_per_day: 2e9, pattern: steady, "
         "model: llama_70b, latency_ms: 250}\n  offerings: [runpod, lambda, together]\n"
         "  simulator: {target: nvidia_h100_8x_nvlink, workload: llama_70b_chat, seed: 0}\n"
         "  schedule: true", data=False)
@arg("-o", "--output", required=True, help="the .xlsx to write")
@arg("--scenario", help="YAML or JSON scenario file; the options below override it")
@arg("--title", type=text_argument("--title"), help="report title")
@arg("--tokens-per-day", type=parse_volume, help="daily token volume (2e9, 2B, 500M)")
@arg("--pattern", help="traffic pattern")
@arg("--model", help="model key")
@report_latency_option
@serving_options
@arg("--platform", action="append", help="candidate platform (repeatable; default all)")
@arg("--options", nargs="+", metavar="OPTION",
     help="compare exactly these on the one-page summary: platform (its best offering), platform/gpu "
          "or platform:billing, e.g. --options runpod/h100_sxm together:per_token lambda "
          "(default: the best three)")
@arg("--detail", action="store_true",
     help="add the detail sheets (ranking, breakdowns, cost against volume, simulator, schedule, "
          "forecast, sensitivity, assumptions) between the summary and the sources")
@arg("--target", help="simulator target")
@arg("--workload", help="simulator workload")
@registered("seed")
@registered("usd_per_kwh")
@pue_option
@arg("--no-schedule", action="store_true", help="leave out the multi-phase schedule")
@max_price_age_option
@catalog_option
@force_option
def cmd_report(args):
    from workbook.reports import report, report_prices, scenario_from

    _check_output(args.output, (".xlsx",))
    scenario = dict(load_spec_file(args.scenario, "scenario")) if args.scenario else {}
    flags = {"tokens_per_day": args.tokens_per_day, "pattern": args.pattern, "model": args.model,
             "latency_ms": args.latency_ms, "platforms": args.platform, "target": args.target,
             "workload": args.workload, "seed": args.seed, "usd_per_kwh": args.usd_per_kwh, "pue": args.pue,
             "title": args.title, "options": args.options, **serving_args(args)}
    fields = vars(scenario_from(scenario))  # the file's scenario, with defaults filled in
    fields.update({k: v for k, v in flags.items() if v is not None})
    if args.no_schedule:
        fields["schedule"] = False
    if args.detail:
        fields["detail"] = True
    scenario = scenario_from(fields)
    path = report(args.output, scenario, catalog=args.catalog, overwrite=args.force,
                  max_price_age_days=args.max_price_age_days)
    print(f"wrote {path}")
    # every output that uses a price says when it is old (issue 20): one line per stale price the Summary compares
    compared = report_prices(scenario, catalog=args.catalog, max_age_days=args.max_price_age_days)
    price_warnings([price_age_line(as_of, f"{platform}{'/' + gpu if gpu else ''}", args)
                    for platform, gpu, as_of in zip(compared.platform, compared.gpu, compared.price_as_of)])


@command("recalc", "Recalculate every formula of a workbook (ATLAS_* included) on LibreOffice, without Excel.",
         "examples:\n  atlas-xl recalc out/atlas_xl_template.xlsm --set TokensPerDay=5e9 --set Pattern=bursty "
         "-o whatif.xlsm\n  atlas-xl recalc model.xlsm --set 'Inputs!C6=2e9' -o model_values.xlsx --values-only\n"
         "  atlas-xl recalc a.xlsx b.xlsx c.xlsx --in-place      (one LibreOffice for all three)", data=False)
@arg("file", nargs="+", help="the workbook(s) (.xlsx/.xlsm); never modified unless --in-place")
@arg("--set", action="append", metavar="CELL=VALUE",
     help="what-if input: Sheet!A1=value or DefinedName=value (repeatable)")
@exclusive(arg("-o", "--output", help="write the recalculated workbook here"),
           arg("--in-place", action="store_true", help="update FILE itself"))
@arg("--values-only", action="store_true",
     help="write a macro-free .xlsx of values (no formulas, VBA or buttons; charts kept)")
@arg("--allow-errors", action="store_true", help="exit 0 even when formulas evaluate to errors (they are still listed)")
@arg("--timeout", default="120", metavar="S",
     help="stop if one workbook takes longer than S seconds, every phase counted (default 120)")
@arg("--max-cells", metavar="N",
     help="refuse a workbook with more than N formula cells, array ranges counted (default: the budget in "
          "docs/limits.md)")
@force_option
def cmd_recalc(args):
    from workbook.recalculate import Recalculator

    if len(args.file) > 1 and args.output:
        raise InputError("-o names one output — with several workbooks use --in-place, or recalculate them one by one")
    failed = False
    engine = Recalculator(timeout=args.timeout, max_cells=args.max_cells,  # options checked before LibreOffice starts
                          single=len(args.file) == 1)
    try:
        with engine:  # one LibreOffice for every file
            for path in args.file:
                with update_lock(args, path):
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


@command("doctor", "Check that this Python can serve the template's ATLAS_* functions to Excel.",
         "example:\n  atlas-xl doctor", data=False)
@arg("--catalog", metavar="DIR", help="folder of catalog CSV files to check (default: built-in)")
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


COMMANDS = (cmd_optimize_workbook, cmd_report, cmd_recalc, cmd_doctor)
