"""Planning commands: plan, estimate, backtest, rank, footprint, scaling."""
from __future__ import annotations

import sys

from atlas_xl import calibration, prices, serving
from atlas_xl.autoscale import scaling
from atlas_xl.energy import footprint
from atlas_xl.planner import plan, rank
from atlas_xl_cli.options import (arg, command, gpu_option, max_price_age_option, model_arg, offering_overrides,
                                  platform_arg, pue_option, registered, serving_args, serving_options,
                                  workload_options)
from atlas_xl_cli.output import emit_frame, plan_price_age, price_warnings, print_fields, warn_implausible

PLAN_UNITS = {
    "tokens_per_day": "tokens/day", "hourly_usd": "USD/GPU-h", "price_per_m_tokens": "USD/Mtok",
    "gpu_tokens_per_s": "tokens/s/GPU", "avg_tokens_per_s": "tokens/s", "peak_tokens_per_s": "tokens/s",
    "effective_gpu_tokens_per_s": "tokens/s/GPU", "gpu_count": "GPUs", "active_hours_per_month": "h/month",
    "monthly_cost_usd": "USD/month", "idle_waste_usd": "USD/month", "idle_waste_pct": "%",
    "mean_utilization": "share", "unused_capacity_usd": "USD/month", "scale_up_gpus": "GPUs",
    "monthly_tokens": "tokens/month", "cost_per_m_tokens_usd": "USD/Mtok", "overload_penalty_usd": "score",
    "scaling_penalty_usd": "score", "latency_penalty_usd": "score", "penalty_usd": "score",
    "replica_gpus": "GPUs", "input_tokens": "tokens", "output_tokens": "tokens", "ttft_ms": "ms (p99)",
    "tpot_ms": "ms (p99)", "throughput_expected_error": "relative", "prefix_hit_rate": "share",
    "cold_start_s": "s", "warm_replicas": "replicas", "energy_kwh_per_month": "kWh/month",
    "co2e_kg_per_month": "kgCO2e/month",
}
ESTIMATE_UNITS = {
    "input_tokens": "tokens", "output_tokens": "tokens", "ttft_limit_ms": "ms (p99)", "tpot_limit_ms": "ms (p99)",
    "output_tokens_per_s_per_gpu": "tokens/s/GPU", "total_tokens_per_s_per_gpu": "tokens/s/GPU",
    "concurrency": "sequences/replica", "tp": "GPUs/replica", "ttft_ms": "ms (p99)", "tpot_ms": "ms (p99)",
    "weights_gb": "GB", "kv_gb_per_sequence": "GB", "max_concurrency": "sequences", "usable_memory_gb": "GB",
    "prefill_ms": "ms", "decode_step_ms": "ms", "allreduce_ms": "ms", "power_w_per_gpu": "W",
    "anchor_factor": "measured/modelled", "expected_error": "relative", "prefix_hit_rate": "share",
}
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


def plan_of(args):
    """`atlas_xl.plan` of a command line that takes the workload, platform, GPU and offering overrides."""
    return plan(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu,
                latency_ms=args.latency_ms, gpu_count=args.gpu_count,
                gpu_tokens_per_s=args.gpu_tokens_per_s, hourly_usd=args.hourly_usd,
                price_per_m_tokens=args.price_per_m_tokens, billing=args.billing, tp=args.tp,
                catalog=args.catalog, **serving_args(args), **_prefix(args), **_running(args), **_split(args))


def _prefix(args):
    """``prefix_hit_rate`` where the command line gives it (plan, rank and estimate take --prefix-hit-rate)."""
    rate = getattr(args, "prefix_hit_rate", None)
    return {} if rate is None else {"prefix_hit_rate": rate}


def _split(args):
    """``disaggregated=True`` where the command line gives --disaggregated (plan and rank take it)."""
    return {"disaggregated": True} if getattr(args, "disaggregated", False) else {}


def _running(args, names=("region", "min_replicas", "pue")):
    """``region``, ``min_replicas`` and ``pue`` where the command line gives them (plan takes all three, rank --region
    and --pue; footprint and scaling pass theirs on, so the plan they report on shows the same grid, warm pool and
    PUE)."""
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


@command("plan", "Plan one workload on one platform.",
         "examples:\n  atlas-xl plan 2B steady llama_70b runpod --gpu h100_sxm --latency-ms 250\n"
         "  atlas-xl plan 2B steady llama_70b runpod --gpu h200 --input-tokens 8000 --output-tokens 1000 --tpot-ms 40\n"
         "  atlas-xl plan 2B steady llama_70b my_cloud --gpu a100_80gb --hourly-usd 1.5 --billing dedicated\n"
         "  atlas-xl plan 2B steady llama_70b runpod --gpu h100_sxm --input-tokens 8000 --output-tokens 300 "
         "--prefix-hit-rate 0.8\n"
         "  atlas-xl plan 2B business_hours llama_70b runpod_serverless --gpu h100_sxm --min-replicas 1 --region france\n"
         "  atlas-xl plan 50B steady deepseek_r1 nebius --gpu b200 --disaggregated")
@workload_options
@platform_arg
@gpu_option
@offering_overrides
@max_price_age_option
@registered("prefix_hit_rate")
@registered("region", choices=None)  # the catalog's regions, which a folder may extend
@registered("min_replicas")
@registered("disaggregated")
@pue_option
def cmd_plan(args):
    result = plan_of(args)
    age, line = plan_price_age(result, args)
    price_warnings([line])
    print_fields({**result.as_dict(), "price_as_of": age.as_of}, PLAN_UNITS, args)


@command("estimate", "What one replica of a model on a GPU serves within latency limits (the serving model).",
         "examples:\n  atlas-xl estimate llama_70b h100_sxm\n"
         "  atlas-xl estimate deepseek_r1 b200 --precision fp4 --input-tokens 8192 --output-tokens 1024 --tpot-ms 50\n"
         "  atlas-xl estimate deepseek_r1 b200 --precision fp4 --tpot-ms 15 --speculative mtp")
@model_arg
@arg("gpu", help="GPU key, any row of gpus.csv (h100_sxm, a100_80gb, or one you added)")
@registered("tp")
@serving_options
@registered("speculative", choices=None)  # the serving model names the methods it knows (one line)
@registered("acceptance_length")
@registered("prefix_hit_rate")
def cmd_estimate(args):
    record = serving.estimate(args.model, args.gpu, tp=args.tp, catalog=args.catalog, speculative=args.speculative,
                              acceptance_length=args.acceptance_length, **serving_args(args), **_prefix(args))
    print_fields(record, ESTIMATE_UNITS, args)


@command("backtest", "Accuracy of the serving model at the user's question: leave one GPU out, leave one model out.",
         "example:\n  atlas-xl backtest\n  atlas-xl backtest --csv > backtest.csv")
def cmd_backtest(args):
    frame = calibration.backtest(catalog=args.catalog)
    if args.json or args.csv:
        emit_frame(frame, args)
        return
    print("Back-test at the user's question: for each measured point, the most output tokens/s per GPU the model")
    print("predicts within that point's limits (it chooses concurrency and tp), by a fit that never saw the point's")
    print("GPU (or model). Points: catalogs/serving_benchmarks.csv; InferenceX data: SemiAnalysis InferenceX.\n")
    print(calibration.markdown(frame))


@command("rank", "Rank every offering that serves the model: penalty score (0 first), then monthly cost.",
         "examples:\n  atlas-xl rank 500M bursty llama_8b --latency-ms 200 --top 5\n"
         "  atlas-xl rank 2B steady llama_70b --precision best --tpot-ms 40 --ttft-ms 450\n"
         "  atlas-xl rank 50B steady deepseek_r1 --disaggregated --top 5")
@workload_options
@arg("--platform", action="append", help="only this platform (repeatable)")
@registered("top")
@registered("max_price_age_days")
@registered("prefix_hit_rate")
@registered("region", choices=None)
@registered("disaggregated")
@pue_option
def cmd_rank(args):
    frame = rank(args.tokens_per_day, args.pattern, args.model, latency_ms=args.latency_ms,
                 catalog=args.catalog, platforms=args.platform or None, tp=args.tp, **serving_args(args),
                 **_prefix(args), **_running(args, ("region", "pue")), **_split(args))
    excluded = frame.attrs.get("excluded", {})
    if args.top is not None:
        frame = frame.head(args.top)
    warn_implausible(frame.head(1).to_dict("records"))
    frame = _with_price_age(frame, args)
    view = {**RANK_VIEW, "price_shown": ("price as of", "{}")}
    if "serving_mode" in frame.columns:  # --disaggregated: which mode each row kept
        view["serving_mode"] = ("mode", "{}")
    emit_frame(frame, args, view=view)
    if excluded and not (args.json or args.csv):
        print(f"\nleft out ({len(excluded)} offerings): " + "; ".join(
            f"{k}: {v}" for k, v in sorted(excluded.items())), file=sys.stderr)


def _with_price_age(frame, args):
    """A ranking with price_as_of, price_age_days and price_stale (issue 20), a 'price as of' column that marks
    stale prices with '!', and one warning line when any is stale."""
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


FOOTPRINT_UNITS = {
    "gpu_power_w": "W", "facility_power_kw": "kW", "peak_power_kw": "kW", "energy_kwh_per_month": "kWh/month",
    "kwh_per_m_tokens": "kWh/Mtok", "co2e_kg_per_month": "kgCO2e/month", "g_co2e_per_m_tokens": "gCO2e/Mtok",
    "g_co2e_per_kwh": "gCO2e/kWh", "pue": "ratio", "max_gpus": "GPUs", "max_tokens_per_day": "tokens/day",
}


@command("footprint", "Power, energy and carbon of a plan, and what a site power cap allows (docs/energy.md).",
         "examples:\n  atlas-xl footprint 2B steady llama_70b runpod --gpu h100_sxm --region germany\n"
         "  atlas-xl footprint 2B steady llama_70b runpod --gpu h100_sxm --power-cap-kw 20 --pue 1.2")
@workload_options
@platform_arg
@gpu_option
@offering_overrides
@registered("region", choices=None)  # the catalog's regions, which a folder may extend
@registered("g_co2e_per_kwh")
@pue_option
@registered("power_cap_kw")
def cmd_footprint(args):
    record = footprint(plan_of(args), region=args.region, g_co2e_per_kwh=args.g_co2e_per_kwh, pue=args.pue,
                       power_cap_kw=args.power_cap_kw, catalog=args.catalog)
    if record.reason:
        print(f"atlas-xl: {record.reason}", file=sys.stderr)
    print_fields(record, FOOTPRINT_UNITS, args)



SCALING_UNITS = {"cold_start_s": "s", "warm_replicas": "replicas", "replicas": "replicas", "warm_pool_usd": "USD/month",
                 "monthly_cost_usd": "USD/month", "late_minutes_per_month": "min/month", "late_capacity_share": "share",
                 "ramps_per_week": "1/week"}


@command("scaling", "Cold starts, a warm pool and the minutes above the latency limit of an autoscaling plan.",
         "examples:\n  atlas-xl scaling 2B business_hours llama_70b runpod --gpu h100_sxm --billing autoscaling\n"
         "  atlas-xl scaling 2B bursty llama_70b runpod --gpu h100_sxm --billing autoscaling --ramps-per-week 14 "
         "--min-replicas 1")
@workload_options
@platform_arg
@gpu_option
@offering_overrides
@registered("min_replicas", default=0)
@registered("ramps_per_week")
@registered("load_gb_s")
@registered("engine_start_s")
def cmd_scaling(args):
    record = scaling(plan_of(args), min_replicas=args.min_replicas, ramps_per_week=args.ramps_per_week,
                     load_gb_s=args.load_gb_s, engine_start_s=args.engine_start_s, catalog=args.catalog)
    if record.note:
        print(f"atlas-xl: note: {record.note}", file=sys.stderr)
    print_fields({k: v for k, v in record.items() if k != "note"}, SCALING_UNITS, args)


COMMANDS = (cmd_plan, cmd_estimate, cmd_backtest, cmd_rank, cmd_footprint, cmd_scaling)
