"""Record the planner's and the serving model's outputs over a grid, to prove a speed-up changes no number.

    python scripts/snapshot_outputs.py out/before.json            # write the snapshot
    python scripts/snapshot_outputs.py out/after.json --compare out/before.json   # exit 1 on any difference

Every float is kept as its ``repr`` (so equality is bit for bit and NaN equals NaN), arrays as lists of those;
errors are recorded as their one-line text. The grid covers several models (dense and mixture of experts),
GPU, autoscaling and per-token platforms, every pattern, a fixed gpu_count, ``precision="best"``, a given tp,
arrays of volumes, `rank` frames, `estimate` records and one `cost_range` and `forecast` call. Not a test: the
numbers move whenever a catalog or an equation does; it compares one tree before and after a refactoring.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pandas as pd

import atlas_xl

MODELS = ("llama_70b", "llama_8b", "gpt_oss_120b", "deepseek_r1", "qwen3_235b_a22b", "mixtral_8x7b")
OFFERINGS = (("runpod", "h100_sxm"), ("runpod_serverless", "b200"), ("lambda", "a100_80gb"), ("nebius", "h200"),
             ("fireworks", None), ("together", None), ("deepinfra", None), ("modal", "l40s"))
PATTERNS = ("steady", "business_hours", "bursty")
VOLUMES = (1e6, 2e9, 5e10)


def plain(value):
    """``value`` as JSON-ready text and lists: floats by repr (bit for bit, NaN-aware)."""
    if isinstance(value, pd.DataFrame):
        return {"columns": [str(c) for c in value.columns], "dtypes": [str(d) for d in value.dtypes], "rows": plain(value.to_dict("records")),
                "attrs": plain(dict(value.attrs))}
    if isinstance(value, np.ndarray):
        return {"dtype": str(value.dtype), "values": plain(value.tolist())}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return f"{type(value).__name__}:{float(value)!r}"
    if isinstance(value, (int, np.integer)):
        return f"{type(value).__name__}:{int(value)}"
    return value if value is None or isinstance(value, str) else repr(value)


def attempt(call, *args, **kwargs):
    try:
        result = call(*args, **kwargs)
    except atlas_xl.AtlasError as error:
        return {"error": f"{type(error).__name__}: {error}"}
    return result.as_dict() if isinstance(result, atlas_xl.PlanResult) else result


def cases():
    """(label, output) over the grid."""
    for model in MODELS:  # first: each estimate is then a first call (uncached), as plan's are below
        for gpu in ("h100_sxm", "b200", "a100_80gb", "l40s", "h200"):
            for kwargs in ({}, {"precision": "best"}, {"tp": 8}, {"ttft_ms": 800, "tpot_ms": 40},
                           {"input_tokens": 8000, "output_tokens": 200}, {"concurrency": 16}):
                yield f"estimate {model} {gpu} {kwargs}", attempt(atlas_xl.estimate, model, gpu, **kwargs)
    for model in MODELS:
        for platform, gpu in OFFERINGS:
            for pattern in PATTERNS:
                for volume in VOLUMES:
                    yield f"plan {volume:g} {pattern} {model} {platform} {gpu}", attempt(
                        atlas_xl.plan, volume, pattern, model, platform, gpu)
            yield f"plan latency {model} {platform} {gpu}", attempt(
                atlas_xl.plan, 2e9, "bursty", model, platform, gpu, latency_ms=250)
            yield f"plan fixed {model} {platform} {gpu}", attempt(
                atlas_xl.plan, 2e9, "steady", model, platform, gpu, gpu_count=6)
            yield f"plan best {model} {platform} {gpu}", attempt(
                atlas_xl.plan, 2e9, "steady", model, platform, gpu, precision="best")
            yield f"plan tp {model} {platform} {gpu}", attempt(
                atlas_xl.plan, 2e9, "steady", model, platform, gpu, tp=8)
            yield f"plan shape {model} {platform} {gpu}", attempt(
                atlas_xl.plan, 2e9, "steady", model, platform, gpu, input_tokens=4000, output_tokens=300,
                ttft_ms=1500, tpot_ms=50)
            yield f"plan array {model} {platform} {gpu}", attempt(
                atlas_xl.plan, np.array([1e6, 3e8, 2e9, 7e10]), "business_hours", model, platform, gpu,
                latency_ms=250)
            yield f"plan array fixed {model} {platform} {gpu}", attempt(
                atlas_xl.plan, [1e6, 3e8, 2e9, 7e10], "steady", model, platform, gpu, gpu_count=[8, 16, 16, 64])
        yield f"plan given {model}", attempt(atlas_xl.plan, np.array([1e8, 2e9]), "bursty", model, "runpod",
                                             "h100_sxm", gpu_tokens_per_s=3818.8, hourly_usd=2.5, latency_ms=250)
        yield f"plan given scalar {model}", attempt(atlas_xl.plan, 2e9, "bursty", model, "runpod", "h100_sxm",
                                                    gpu_tokens_per_s=3818.8, gpu_count=7, tp=2)
        for pattern in PATTERNS:
            yield f"rank {pattern} {model}", attempt(atlas_xl.rank, 2e9, pattern, model, latency_ms=250)
        yield f"rank best {model}", attempt(atlas_xl.rank, 5e10, "steady", model, precision="best",
                                            input_tokens=2000, output_tokens=500)
    offerings = atlas_xl.load_catalog().tables["offerings"]
    for call, price in enumerate((2.0, 3.0, 2.0)):  # a user's catalog, edited between calls: no stale lookups
        edited = offerings.copy()
        edited.loc[edited.platform == "runpod", "hourly_usd"] = price
        yield f"plan user catalog {call} {price}", attempt(atlas_xl.plan, 2e9, "steady", "llama_70b", "runpod", "h100_sxm",
                                                     catalog={"offerings": edited})
        yield f"rank user catalog {call} {price}", attempt(atlas_xl.rank, 2e9, "steady", "llama_70b", catalog={"offerings": edited})
    yield "cost_range", attempt(atlas_xl.cost_range, 2e9, "bursty", "llama_70b", "runpod", "h100_sxm", draws=2000,
                                price_spread=0.1, volume_spread=0.2)
    yield "forecast", attempt(atlas_xl.forecast, 2e9, "steady", "gpt_oss_120b", "runpod", "b200", months=12,
                              monthly_growth=0.1)


def differences(before, after):
    """Labels whose outputs differ (or exist on one side only)."""
    return [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="JSON file to write")
    parser.add_argument("--compare", help="a snapshot written before: exit 1 when any output differs")
    args = parser.parse_args(argv)
    snapshot = {}
    for label, value in cases():
        if label in snapshot:
            raise SystemExit(f"duplicate label {label}")
        snapshot[label] = plain(value)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(snapshot, handle, indent=0, sort_keys=True)
    print(f"{len(snapshot)} outputs written to {args.output}")
    if args.compare:
        with open(args.compare, encoding="utf-8") as handle:
            before = json.load(handle)
        changed = differences(before, snapshot)
        for label in changed[:20]:
            print(f"differs: {label}")
        print(f"{len(changed)} of {len(snapshot)} outputs differ from {args.compare}")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
