"""Simulator commands: simulate, schedule, optimize (the fabric simulator and its hill-climbing optimizer)."""
from __future__ import annotations

import pandas as pd

from atlas_xl import values
from atlas_xl.catalog import SCHEMAS
from atlas_xl.errors import InputError
from atlas_xl.optimizer import optimize
from atlas_xl.schedule import run_schedule
from atlas_xl import arguments
from atlas_xl.simulator import parse_overrides, simulate
from atlas_xl_cli.options import (arg, command, group, pue_option, registered, seed_option, spec_or_name,
                                  usd_per_kwh_option)
from atlas_xl_cli.output import dump, print_record, show
from udfs.excel import nest

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
SETTABLE = tuple(c.name for c in SCHEMAS["workloads"][0] if c.name not in ("workload", "source", "as_of", "notes"))

simulation_options = group(  # what to simulate, and the simulator's settings
    arg("target", nargs="?", help="target key or YAML/JSON file (default nvidia_h100_8x_nvlink)"),
    arg("workload", nargs="?", help="workload key or YAML/JSON file (default llama_70b_chat)"),
    arg("--name", help="which workload of a file that holds several"),
    arg("--knob", action="append", metavar="K=V",
        help="optimization parameter: cuda_graphs, gpudirect_rdma, fabric, virt, microbatch"),
    arg("--set", action="append", metavar="KEY=VALUE",
        help="workload override with dotted keys, e.g. parallelism.dp=8 or sequence.prompt=2048"),
    arg("--hardware", help="hardware model key or YAML file overriding coefficients"),
    seed_option,
    usd_per_kwh_option,
    pue_option,
)


def knob_values(pairs, what="--knob"):
    """KEY=VALUE pairs (repeatable options) as a dict of parsed values; one line for a pair without a key."""
    knobs = {}
    for pair in pairs or []:
        for key, raw in parse_overrides(values.check_text(pair, what)).items():
            if not key:
                raise InputError(f"{what} '{pair}' has no key — write KEY=VALUE")
            knobs[key] = values.parse_value(raw, f"{what} {key}")
    return knobs


def _sim_inputs(args):
    workload = spec_or_name(args.workload, "workload", args.name)
    overrides = knob_values(args.set, "--set")
    unknown = [k for k in overrides if k not in SETTABLE]
    if unknown:
        raise InputError(f"--set {unknown[0]}: unknown workload key — known: {', '.join(SETTABLE)}")
    if overrides:
        workload = {**(workload if isinstance(workload, dict) else {"name": workload or "llama_70b_chat"}),
                    **nest(overrides)}
    return spec_or_name(args.target, "target"), workload, knob_values(args.knob) or None


def _settings(args):
    return dict(seed=args.seed, hardware=spec_or_name(args.hardware, "hardware"), catalog=args.catalog,
                usd_per_kwh=args.usd_per_kwh, pue=args.pue)


@command("simulate", "Simulate one configuration: throughput, latency with queueing, power, cost.",
         "examples:\n  atlas-xl simulate nvidia_h100_8x_nvlink llama_70b_chat\n"
         "  atlas-xl simulate nvidia_h100_8x_nvlink llama_70b_chat --knob cuda_graphs=true --set parallelism.dp=2\n"
         "  atlas-xl simulate my_target.yaml workloads.yaml --name gpt5_1t_inference --json")
@simulation_options
def cmd_simulate(args):
    target, workload, knobs = _sim_inputs(args)
    record = simulate(target, workload, knobs, **_settings(args))
    dump(dict(record)) if args.json else print_record(record, SIM_VIEW)


@command("schedule", "Run a workload's multi-phase schedule and aggregate by duration.",
         "example:\n  atlas-xl schedule nvidia_h100_cluster_32n gpt5_1t_inference")
@simulation_options
def cmd_schedule(args):
    target, workload, knobs = _sim_inputs(args)
    record = run_schedule(target, workload, knobs, **_settings(args))
    if args.json:
        dump(dict(record))
        return
    print_record(record, SIM_VIEW)
    print()
    phases = pd.DataFrame([{f: show(p.get(f)) for f in PHASE_VIEW} for p in record.phases])
    print(phases.to_string(index=False))


@command("optimize", "Hill-climb the optimization parameters for throughput within a P99 SLA.",
         "example:\n  atlas-xl optimize nvidia_h100_8x_nvlink llama_70b_chat --sla-p99-ms 50\n"
         "  atlas-xl optimize nvidia_h100_cluster_128n gpt5_1t_train --knob cuda_graphs=false")
@simulation_options
@registered("sla_p99_ms", default=arguments.get("sla_p99_ms").default)
def cmd_optimize(args):
    target, workload, knobs = _sim_inputs(args)
    result = optimize(target, workload, knobs, sla_p99_ms=args.sla_p99_ms, **_settings(args))
    if args.json:
        dump(dict(result))
        return
    print(f"start: {result.start_knobs}")
    print(f"best:  {result.best_knobs}  ({result.gain:+.1%} tokens/s, {result.evaluated} simulations, "
          f"SLA p99 < {result.sla_p99_ms:g} ms)\n")
    if result.trail:
        trail = pd.DataFrame([{"step": s["step"], "change": s["change"], "tokens/s": show(s["tokens_per_sec"]),
                               "p99 ms": show(s["p99_ms"]), "gain": f"{s['gain']:+.1%}"} for s in result.trail])
        print(trail.to_string(index=False))
    else:
        print("no change improved throughput by more than 3 % within the SLA")
    print()
    print_record(result.best, SIM_VIEW)


COMMANDS = (cmd_simulate, cmd_schedule, cmd_optimize)
