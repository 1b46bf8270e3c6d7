"""The ``atlas-xl`` command: parse → one library call → format.

Library errors become one line on stderr and exit status 1, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .catalog import SCHEMAS, load_catalog
from .errors import AtlasError, InputError
from .planner import plan, rank

SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}

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
    "penalty_usd": ("penalty $", "{:,.0f}"),
    "score_usd": ("score $", "{:,.0f}"),
}
PLAN_UNITS = {
    "tokens_per_day": "tokens/day", "hourly_usd": "USD/GPU-h", "price_per_m_tokens": "USD/Mtok",
    "gpu_tokens_per_s": "tokens/s/GPU", "avg_tokens_per_s": "tokens/s", "peak_tokens_per_s": "tokens/s",
    "effective_gpu_tokens_per_s": "tokens/s/GPU", "gpu_count": "GPUs", "active_hours_per_month": "h/month",
    "monthly_cost_usd": "USD/month", "idle_waste_usd": "USD/month", "idle_waste_pct": "%",
    "monthly_tokens": "tokens/month", "cost_per_m_tokens_usd": "USD/Mtok", "overload_penalty_usd": "USD",
    "scaling_penalty_usd": "USD", "latency_penalty_usd": "USD", "penalty_usd": "USD", "score_usd": "USD",
}


def parse_volume(text):
    """'2e9', '2,000,000,000', '2B', '500M' → tokens per day as a float."""
    raw = str(text).strip().replace(",", "").replace("_", "")
    scale = 1.0
    if raw and raw[-1].lower() in SUFFIXES:
        scale, raw = SUFFIXES[raw[-1].lower()], raw[:-1]
    try:
        return float(raw) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a token volume — write e.g. 2e9, 2B or 500M") from None


def _jsonable(value):
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _emit_frame(frame, args, view=None):
    if args.json:
        records = [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]
        print(json.dumps(records, indent=2))
    elif args.csv:
        frame.to_csv(sys.stdout, index=False)
    else:
        if view:
            shown = pd.DataFrame({heading: [_fmt(v, fmt) for v in frame[col]] for col, (heading, fmt) in view.items()})
        else:
            shown = frame.fillna("")
        print(shown.to_string(index=False))


def _fmt(value, fmt):
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return fmt.format(value)


def cmd_plan(args):
    result = plan(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu,
                  latency_ms=args.latency_ms, gpu_count=args.gpu_count,
                  gpu_tokens_per_s=args.gpu_tokens_per_s, hourly_usd=args.hourly_usd,
                  price_per_m_tokens=args.price_per_m_tokens, billing=args.billing,
                  catalog=args.catalog)
    record = {k: _jsonable(v) for k, v in result.as_dict().items()}
    if args.json:
        print(json.dumps(record, indent=2))
        return
    frame = pd.DataFrame({"field": list(record), "value": list(record.values()),
                          "units": [PLAN_UNITS.get(k, "") for k in record]})
    if args.csv:
        frame.to_csv(sys.stdout, index=False)
        return
    frame["value"] = [("-" if v is None else f"{v:,.4g}" if isinstance(v, float) and abs(v) < 1e4 else
                       f"{v:,.0f}" if isinstance(v, float) else str(v)) for v in frame["value"]]
    print(frame.to_string(index=False))


def cmd_rank(args):
    frame = rank(args.tokens_per_day, args.pattern, args.model, latency_ms=args.latency_ms,
                 catalog=args.catalog, platforms=args.platform or None)
    if args.top:
        frame = frame.head(args.top)
    _emit_frame(frame, args, view=RANK_VIEW)


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


EPILOGS = {
    "plan": "example:\n  atlas-xl plan 2B steady llama_70b runpod --gpu h100_sxm --latency-ms 250",
    "rank": "example:\n  atlas-xl rank 500M bursty llama_8b --latency-ms 200 --top 5",
    "catalog": ("examples:\n  atlas-xl catalog list\n  atlas-xl catalog list offerings --csv\n"
                "  atlas-xl catalog validate --catalog my_catalogs/\n  atlas-xl catalog export my_catalogs/"),
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="atlas-xl", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Plan LLM serving: GPU count, monthly cost per platform, cost per million tokens.",
        epilog="examples:\n  atlas-xl rank 2B steady llama_70b\n  atlas-xl plan 2B steady llama_70b together")
    parser.add_argument("--version", action="version", version=f"atlas-xl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOGS[name],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        out = p.add_mutually_exclusive_group()
        out.add_argument("--json", action="store_true", help="print JSON")
        out.add_argument("--csv", action="store_true", help="print CSV")
        p.add_argument("--catalog", metavar="DIR", help="folder of catalog CSV files (default: built-in)")
        return p

    def workload(p):
        p.add_argument("tokens_per_day", type=parse_volume, help="daily token volume (2e9, 2B, 500M)")
        p.add_argument("pattern", help="traffic pattern: steady, business_hours, bursty")
        p.add_argument("model", help="model key, e.g. llama_70b")
        p.add_argument("--latency-ms", type=float, help="latency requirement [ms]; < 300 penalises high risk")

    p = command("plan", "Plan one workload on one platform.")
    workload(p)
    p.add_argument("platform", help="platform key, e.g. runpod, fireworks, together")
    p.add_argument("--gpu", help="GPU key when the platform offers several (h100_sxm)")
    p.add_argument("--gpu-count", type=float, help="fix the GPU count instead of the 75%% rule")
    p.add_argument("--gpu-tokens-per-s", type=float, help="override throughput per GPU [tokens/s]")
    p.add_argument("--hourly-usd", type=float, help="override price per GPU-hour [USD]")
    p.add_argument("--price-per-m-tokens", type=float, help="override per-token price [USD/Mtok]")
    p.add_argument("--billing", choices=["autoscaling", "dedicated", "per_token"], help="override billing")
    p.set_defaults(func=cmd_plan)

    p = command("rank", "Rank every offering that serves the model by monthly cost + penalties.")
    workload(p)
    p.add_argument("--platform", action="append", help="only this platform (repeatable)")
    p.add_argument("--top", type=int, help="show only the best N")
    p.set_defaults(func=cmd_rank)

    p = command("catalog", "List, validate or export the catalogs.")
    p.add_argument("action", choices=["list", "validate", "export"])
    p.add_argument("table", nargs="?", help="list: one table to print in full")
    p.add_argument("directory", nargs="?", help="export: the folder to write")
    p.add_argument("--force", action="store_true", help="export: overwrite existing CSV files")
    p.set_defaults(func=cmd_catalog)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "catalog" and args.action == "export" and args.table and not args.directory:
        args.directory, args.table = args.table, None
    try:
        args.func(args)
    except (AtlasError, OSError) as error:
        print(f"atlas-xl: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
