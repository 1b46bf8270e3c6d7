"""How one worksheet call becomes model calls: broadcasting, grouping, per-cell errors.

A planner call over a grid is grouped by its text arguments (and by which optional cells are
blank) and each group is one vectorised ``atlas_xl.plan`` call, so a 1,000 × 1,000 what-if grid
costs a handful of numpy passes. Simulator calls loop per cell (one ``simulate`` is ~30 µs).
A bad cell gets its own error text; the rest of the grid still computes.
"""
from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

import atlas_xl
from atlas_xl import arguments, planner, values
from atlas_xl.catalog import normalize_key
from atlas_xl.errors import AtlasError, InputError

from . import excel

def _lower(name):
    """(positive, minimum) of an argument's LIMITS (atlas_xl/values.py, the one place bounds live)."""
    bounds = values.LIMITS[name][0]
    return bounds.get("positive", False), bounds.get("minimum")


PLAN_ARGS = tuple(n for n in arguments.PLAN + arguments.PLAN_RUNNING if n != "billing")
"""The `atlas_xl.plan` arguments a planner worksheet function takes (registry order, then the running ones)."""
PLAN_REQUIRED = ("tokens_per_day", "pattern", "model", "platform")
# numeric planner arguments: (required, positive, minimum); the upper bounds are checked per cell too
PLAN_NUMBERS = {name: (name in PLAN_REQUIRED,) + _lower(name) for name in PLAN_ARGS
                if arguments.get(name).kind == "number"}
SERVING_NUMBERS = tuple(n for n in arguments.SERVING if arguments.get(n).kind == "number")
"""Arguments of the serving model, one value per `atlas_xl.plan` call: a grid groups its cells by them."""
ONE_VALUE = SERVING_NUMBERS + arguments.ONE_PER_CALL
"""Numbers plan takes one value of per call: the serving model's and the warm pool and PUE (a grid groups by them)."""
PLAN_TEXTS = {name: name in PLAN_REQUIRED for name in PLAN_ARGS if arguments.get(name).kind not in ("number", "bool")}
"""Text planner arguments → required."""
PLAN_FLAGS = tuple(name for name in PLAN_ARGS if arguments.get(name).kind == "bool")
"""Switch planner arguments (disaggregated): TRUE/FALSE, blank = off."""
PLANNER_TABLES = arguments.PLANNER_TABLES
SIMULATOR_TABLES = arguments.SIMULATOR_TABLES
RESULTS = excel.Memo(size=512)
"""Pure call results (plans, simulation records, planner grids) keyed by argument content and the
catalog fingerprint: the template's eight planner cells cost one plan, its nine simulator cells
one simulation."""


OPTION_KINDS = ("number", "choice", "text", "date", "fields", "bool")
"""Kinds of argument an ``options`` range may name: what one cell holds (not a table or a range)."""


def is_options(value, known):
    """True when ``value`` is a key | value range whose keys all name arguments of ``known``: an
    options range, wherever it is given (``=ATLAS_COST(TokensPerDay,Pattern,Model,Platform,Gpu,Options)``
    puts it where latency_ms stands; a number range never has argument names in its first column)."""
    if not excel.is_range(value):
        return False
    rows = excel.as_2d(value)
    if not rows or any(len(row) != 2 for row in rows):
        return False
    keys = [row[0] for row in rows if not excel.is_blank(row[0])]
    return bool(keys) and all(isinstance(k, str) and _option_name(k, known) is not None for k in keys)


def _option_name(key, known):
    """The argument an options key names (its name, or its template Inputs key: ttft_limit_ms)."""
    name = normalize_key(key)
    name = arguments.key_names().get(name, name)
    return name if name in known else None


def named(args, options=None):
    """``args`` (argument name → what the cell holds) with the key | value pairs of ``options``
    filled in. Keys are argument names of the registry (`atlas_xl.arguments`) or the template's
    Inputs keys; a blank value means "not given". An options range given in the place of an
    argument (positional use) counts as ``options`` and leaves that argument blank. An argument
    given both ways is refused, so no value silently wins."""
    known = {n for n in args if arguments.get(n).kind in OPTION_KINDS}
    args = dict(args)
    ranges = [options] if not excel.is_blank(options) else []
    for name in [n for n in known if is_options(args[n], known)]:
        ranges.append(args[name])
        args[name] = None
    for found in ranges:
        for key, value in excel.key_values("options", found).items():
            name = _option_name(key, known)
            if name is None:
                raise atlas_xl.errors.unknown_name("option", key, sorted(known))
            if not excel.is_blank(args[name]):
                raise InputError(f"{name} is given twice — as an argument and in options; leave one of them blank")
            args[name] = value
    return args


def argument_number(name, value, *, default=None):
    """One cell as the numeric argument ``name``: blank → ``default`` (refused as empty when None);
    otherwise held to every bound of the registry (`values.check_limits`), so the cell shows the
    message the Python API, the CLI and a sweep give the same value."""
    if excel.is_blank(value) and default is not None:
        return default
    number = excel.number(name, value)
    values.check_limits(name, number)
    return int(number) if arguments.get(name).whole else number


def assumptions(value):
    """A key | value range of `atlas_xl.Assumptions` fields → Assumptions (None → defaults)."""
    pairs = excel.key_values("assumptions", value)
    if not pairs:
        return planner.DEFAULT_ASSUMPTIONS
    known = [f.name for f in fields(planner.Assumptions)]
    unknown = [k for k in pairs if k not in known]
    if unknown:
        raise InputError(f"unknown assumption '{unknown[0]}' — known: {', '.join(known)}")
    return planner.Assumptions(**{k: excel.number(k, v, minimum=0.0) for k, v in pairs.items()})


def _numeric_array(name, value, shape, spec):
    """(floats with NaN for blanks, {flat index: error text}) for one numeric argument."""
    required, positive, minimum = spec
    errors = {}
    if not excel.is_range(value):
        try:
            number = excel.number(name, value, default=math.nan, positive=positive, minimum=minimum)
        except InputError as error:
            return np.full(shape, np.nan), {i: str(error) for i in range(int(np.prod(shape)))}
        array = np.full(shape, number)
    else:
        rows = excel.as_2d(value)
        fast = not any(type(v) is bool for row in rows for v in row)
        try:
            array = np.array(rows, dtype=float) if fast else None
        except (TypeError, ValueError):
            array = None
        if array is None:  # text, booleans or dates among the cells: one by one
            array = np.full(np.shape(np.array(rows, dtype=object)), np.nan)
            for (i, j), cell in np.ndenumerate(np.array(rows, dtype=object)):
                try:
                    array[i, j] = excel.number(name, cell, default=math.nan)
                except InputError as error:
                    errors[(i, j)] = str(error)
        errors = _spread(errors, array.shape, shape)
        array = np.broadcast_to(array, shape)
    if required:
        for index in np.flatnonzero(np.isnan(array)):
            errors.setdefault(int(index), f"{name} is empty — enter a number")
    for index, message in values.limit_problems(name, array, blank_nan=True).items():  # LIMITS, cell by cell
        errors.setdefault(index, message)
    return np.asarray(array, dtype=float), errors


def _text_array(name, value, shape, required):
    if not excel.is_range(value):
        cell = excel.text(name, value)
        if required and cell is None:
            raise InputError(f"{name} is empty — enter a name")
        array = np.empty(shape, dtype=object)
        array.fill(normalize_key(cell) if cell else "")
        return array, {}
    grid = np.array(excel.as_2d(value), dtype=object)
    cells = np.empty(grid.shape, dtype=object)
    errors = {}
    for (i, j), cell in np.ndenumerate(grid):
        try:
            cells[i, j] = normalize_key(excel.text(name, cell) or "")
        except InputError as error:
            cells[i, j] = ""
            errors[(i, j)] = str(error)
    errors = _spread(errors, cells.shape, shape)
    array = np.broadcast_to(cells, shape)
    if required:
        for index in np.flatnonzero(array.ravel() == ""):
            errors.setdefault(int(index), f"{name} is empty — enter a name")
    return array, errors


def _flag_array(name, value, shape):
    """(bools, {flat index: error text}) for one switch argument (`excel.flag` per cell; blank = False)."""
    if not excel.is_range(value):
        return np.full(shape, excel.flag(name, value)), {}
    grid = np.array(excel.as_2d(value), dtype=object)
    cells = np.zeros(grid.shape, dtype=bool)
    errors = {}
    for (i, j), cell in np.ndenumerate(grid):
        try:
            cells[i, j] = excel.flag(name, cell)
        except InputError as error:
            errors[(i, j)] = str(error)
    return np.broadcast_to(cells, shape), _spread(errors, cells.shape, shape)


def _spread(errors, range_shape, shape):
    """Errors of a range's cells {(i, j): text} → errors of the broadcast grid {flat index: text}."""
    if not errors:
        return {}
    mask = np.zeros(range_shape, dtype=bool)
    for i, j in errors:
        mask[i, j] = True
    spread = {}
    for index in np.flatnonzero(np.broadcast_to(mask, shape)):
        i, j = np.unravel_index(index, shape)
        spread[int(index)] = errors[(i % range_shape[0], j % range_shape[1])]
    return spread


def _shape(values):
    shapes = [np.shape(excel.as_2d(v)) for v in values if excel.is_range(v)]
    if not shapes:
        return None
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise InputError("ranges do not line up (" + ", ".join(f"{r}x{c}" for r, c in shapes)
                         + ") — use one column, one row, or ranges of the same size") from None


@excel.one_line_errors
def plan_field(field, args, tables, assumption_range, options=None):
    """One planner output over broadcast arguments: a scalar, or a 2-D list that spills."""
    args = named(args, options)
    cat = excel.catalog(**{t: tables.get(t) for t in PLANNER_TABLES})
    a = assumptions(assumption_range)
    shape = _shape(args.values())
    key = (cat.fingerprint, a) + tuple(excel.freeze(v) for v in args.values())  # Assumptions is frozen
    if shape is None:
        return excel.cell_value(getattr(RESULTS.get(("plan",) + key, lambda: _plan_one(args, cat, a)), field))
    grid = RESULTS.get(("plan grid", field) + key, lambda: _plan_grid(field, args, shape, cat, a),
                       cells=int(np.prod(shape)))
    return [list(row) for row in grid]  # the caller's copy: the cached grid stays as computed


def _plan_one(args, cat, a):
    numbers = {}
    for name, (required, positive, minimum) in PLAN_NUMBERS.items():
        value = excel.number(name, args.get(name), default=None if required else math.nan,
                             positive=positive, minimum=minimum)
        numbers[name] = None if isinstance(value, float) and math.isnan(value) else value
    texts = {}
    for name, required in PLAN_TEXTS.items():
        texts[name] = excel.text(name, args.get(name))
        if required and texts[name] is None:
            raise InputError(f"{name} is empty — enter a name")
    return atlas_xl.plan(numbers.pop("tokens_per_day"), texts["pattern"], texts["model"], texts["platform"],
                         texts["gpu"], **numbers, precision=texts["precision"], region=texts["region"],
                         disaggregated=excel.flag("disaggregated", args.get("disaggregated")), catalog=cat,
                         assumptions=a)


def _plan_grid(field, args, shape, cat, a):
    size = int(np.prod(shape))
    errors = {}
    numbers = {}
    for name, spec in PLAN_NUMBERS.items():
        numbers[name], bad = _numeric_array(name, args.get(name), shape, spec)
        errors.update({k: v for k, v in bad.items() if k not in errors})
    texts = {}
    for name, required in PLAN_TEXTS.items():
        texts[name], bad = _text_array(name, args.get(name), shape, required)
        errors.update({k: v for k, v in bad.items() if k not in errors})
    flags = {}
    for name in PLAN_FLAGS:
        flags[name], bad = _flag_array(name, args.get(name), shape)
        errors.update({k: v for k, v in bad.items() if k not in errors})
    # group cells by their names and by which optional numbers are blank
    blank_bits = np.zeros(size, dtype=np.int64)
    for bit, name in enumerate(n for n in PLAN_NUMBERS if n != "tokens_per_day"):
        blank_bits |= np.isnan(numbers[name]).ravel().astype(np.int64) << bit
    keys = [blank_bits]
    for name in ONE_VALUE:
        if excel.is_range(args.get(name)):
            _, codes = np.unique(np.nan_to_num(numbers[name].ravel(), nan=-1.0), return_inverse=True)
            keys.append(codes.astype(np.int64))
    for name in PLAN_FLAGS:
        if excel.is_range(args.get(name)):
            keys.append(flags[name].ravel().astype(np.int64))
    for name in PLAN_TEXTS:
        flat = texts[name].ravel()
        if excel.is_range(args.get(name)):
            _, codes = np.unique(flat.astype(str), return_inverse=True)
            keys.append(codes.astype(np.int64))
    group_key = np.zeros(size, dtype=np.int64)
    for k in keys:
        group_key = group_key * (int(k.max()) + 1 if k.size else 1) + k
    if errors:
        group_key[list(errors)] = -1
    out = np.empty(size, dtype=object)
    for index, message in errors.items():
        out[index] = message
    for key in np.unique(group_key):
        if key < 0:
            continue
        idx = np.flatnonzero(group_key == key)
        first = idx[0]
        kwargs = {name: (None if np.isnan(numbers[name].flat[first]) else
                         float(numbers[name].flat[first]) if name in ONE_VALUE else numbers[name].ravel()[idx])
                  for name in PLAN_NUMBERS if name != "tokens_per_day"}
        try:
            result = atlas_xl.plan(numbers["tokens_per_day"].ravel()[idx], texts["pattern"].flat[first],
                                   texts["model"].flat[first], texts["platform"].flat[first],
                                   texts["gpu"].flat[first] or None, **kwargs,
                                   precision=texts["precision"].flat[first] or None,
                                   region=texts["region"].flat[first] or None,
                                   disaggregated=bool(flags["disaggregated"].flat[first]), catalog=cat, assumptions=a)
            values = np.broadcast_to(getattr(result, field), idx.shape)
            out[idx] = _cells(values)
        except AtlasError as error:
            out[idx] = excel.error_text(error)
    return out.reshape(shape).tolist()


def _cells(values):
    """Model outputs as cell values, vectorised: NaN → None, inf → the saturation text."""
    if values.dtype.kind == "f":
        cells = values.astype(object)
        if not np.isfinite(values).all():
            cells[np.isnan(values)] = None
            cells[np.isinf(values)] = excel.cell_value(math.inf)
        return cells
    return values.astype(object)


# -- scalar tables ----------------------------------------------------------------------------------
@excel.one_line_errors
def plan_table(args, tables, assumption_range, options=None):
    """The whole plan of one workload as field | value rows."""
    args = named(args, options)
    if _shape(args.values()) is not None:
        raise InputError("ATLAS_PLAN takes one workload — use ATLAS_COST and friends for grids")
    cat = excel.catalog(**{t: tables.get(t) for t in PLANNER_TABLES})
    a = assumptions(assumption_range)
    key = ("plan", cat.fingerprint, a) + tuple(excel.freeze(v) for v in args.values())
    result = RESULTS.get(key, lambda: _plan_one(args, cat, a))
    return excel.table([["field", "value"]] + [[k, v] for k, v in result.as_dict().items()])


@excel.one_line_errors
def rank_table(args, tables, assumption_range, options=None):
    """The ranking as a table with a header row (only ``fields`` when given)."""
    args = named(args, options)
    tokens_per_day, pattern, model = args["tokens_per_day"], args["pattern"], args["model"]
    latency_ms = args["latency_ms"]
    top, fields = args["top"], args["fields"]
    serving = {n: args[n] for n in ("precision",) + SERVING_NUMBERS}
    cat = excel.catalog(**{t: tables.get(t) for t in PLANNER_TABLES})
    volume = argument_number("tokens_per_day", tokens_per_day)
    latency = argument_number("latency_ms", latency_ms, default=math.nan)
    a = assumptions(assumption_range)
    texts = excel.text("pattern", pattern) or "", excel.text("model", model) or ""
    latency = None if math.isnan(latency) else latency
    settings = serving_options(serving)
    region, split = excel.text("region", args["region"]), excel.flag("disaggregated", args["disaggregated"])
    pue = argument_number("pue", args["pue"], default=math.nan)
    running = dict(region=region, disaggregated=split, pue=None if math.isnan(pue) else pue)
    frame = RESULTS.get(("rank", cat.fingerprint, a, volume, *texts, latency, tuple(sorted(settings.items())),
                         tuple(running.items())),
                        lambda: atlas_xl.rank(volume, *texts, latency_ms=latency, catalog=cat, assumptions=a,
                                              **settings, **running))
    count = argument_number("top", top) if not excel.is_blank(top) else 0
    if count:
        frame = frame.head(count)
    wanted = field_list(fields)
    if wanted:
        unknown = [w for w in wanted if w not in frame.columns]
        if unknown:
            raise atlas_xl.errors.unknown_name("ranking field", unknown[0], frame.columns)
        frame = frame[wanted]
    return excel.table([list(frame.columns)] + frame.astype(object).values.tolist())


def field_list(fields):
    """Field names from a range or from comma-separated text; blank → None."""
    if excel.is_blank(fields):
        return None
    cells = [c for row in excel.as_2d(fields) for c in row] if excel.is_range(fields) else str(fields).split(",")
    return [normalize_key(c) for c in cells if not excel.is_blank(c)] or None


# -- simulator --------------------------------------------------------------------------------------
def workload_spec(value):
    """A workload name, or a key | value range of dotted keys overriding the named (``workload``
    key) workload — without one, a workload ``<model>_planned`` of the rows alone when they name a model,
    else the default workload."""
    if excel.is_range(value):
        pairs = excel.key_values("workload", value)
        base = pairs.pop("workload", pairs.pop("name", None))
        if base is None and "model" in pairs:  # no catalog workload runs the model: one built from the rows
            base = f"{normalize_key(pairs['model'])}_planned"
        return {"name": base or atlas_xl.simulator.DEFAULT_WORKLOAD, **excel.nest(pairs)}
    return excel.text("workload", value)


def target_spec(value, cat):
    """A target name, or a key | value range: ``target`` names the Targets row to start from, ``gpu_count``
    resizes it to that many GPUs in equal nodes (`atlas_xl.simulator.node_split`; hourly price and node power
    per GPU as the row's), other dotted keys override the row. The template sizes the plan's GPU this way."""
    if not excel.is_range(value):
        return excel.text("target", value)
    pairs = excel.key_values("target", value)
    base = excel.text("target", pairs.pop("target", None))
    if base is None:
        raise InputError("target is empty — no Targets row has the plan's GPU (or the plan bills per token): add a "
                         "Targets row with the GPU, or enter a target")
    count = pairs.pop("gpu_count", None)
    record = dict(cat.record("targets", base))
    if count is not None:
        count = argument_number("gpu_count", count)
        nodes, per_node = atlas_xl.simulator.node_split(count)
        share = per_node / record["accelerators_per_node"]
        record.update({"target": f"{base}_as_{int(count)}_gpus", "accelerators_per_node": per_node,
                       "num_nodes": nodes, "cost.hourly_usd": record["cost.hourly_usd"] * share,
                       "cost.energy_watts_node": record["cost.energy_watts_node"] * share})
    return {**record, **pairs}


def _is_target_spec(value):
    """True for a key | value target range (it names ``target`` or ``gpu_count``), not a range of target names."""
    if not excel.is_range(value):
        return False
    rows = excel.as_2d(value)
    return all(len(r) == 2 for r in rows) and any(isinstance(r[0], str) and normalize_key(r[0]) in
                                                  ("target", "gpu_count") for r in rows)


def _sized_workload(spec, target, cat):
    """A sized target's GPUs as the workload's replicas: parallelism.dp = GPUs ÷ (tp · pp) unless given."""
    if not isinstance(target, dict):
        return spec
    spec = {"name": spec or atlas_xl.simulator.DEFAULT_WORKLOAD} if not isinstance(spec, dict) else spec
    parallelism = dict(spec.get("parallelism", {}))
    if "dp" in parallelism:
        return spec
    name = normalize_key(spec.get("name", ""))
    base = cat.record("workloads", name) if name in cat.workloads else atlas_xl.simulator.WORKLOAD_DEFAULTS
    tp = parallelism.get("tp", base["parallelism.tp"])
    pp = parallelism.get("pp", base["parallelism.pp"])
    parallelism["dp"] = max(int(target["accelerators_per_node"] * target["num_nodes"] // (tp * pp)), 1)
    return {**spec, "parallelism": parallelism}


def sim_inputs(target, workload, knobs, tables):
    """(catalog, target, workload, knobs); target is a range of names to broadcast, or one name or sized
    record (`target_spec`)."""
    cat = excel.catalog(**{t: tables.get(t) for t in SIMULATOR_TABLES})
    target = target_spec(target, cat) if _is_target_spec(target) or not excel.is_range(target) else target
    return cat, target, _sized_workload(workload_spec(workload), target, cat), excel.key_values("knobs", knobs) or None


def _sim_cells(target, seed, usd_per_kwh, pue):
    """Broadcast the per-cell simulator arguments; returns (shape or None, cell dicts)."""
    return _broadcast_cells({"target": target, "seed": seed, "usd_per_kwh": usd_per_kwh, "pue": pue})


def _broadcast_cells(args):
    """Broadcast arguments that are computed cell by cell; returns (shape or None, one dict per cell)."""
    shape = _shape(args.values())
    grids = {n: np.broadcast_to(np.array(excel.as_2d(v), dtype=object), shape) if excel.is_range(v) else v
             for n, v in args.items()} if shape else args
    cells = []
    for index in range(int(np.prod(shape)) if shape else 1):
        cell = {n: (g.flat[index] if isinstance(g, np.ndarray) else g) for n, g in grids.items()}
        cells.append(cell)
    return shape, cells


def sim_kwargs(cell):
    return dict(seed=argument_number("seed", cell["seed"], default=0.0),
                usd_per_kwh=argument_number("usd_per_kwh", cell["usd_per_kwh"], default=arguments.USD_PER_KWH),
                pue=None if excel.is_blank(cell["pue"]) else argument_number("pue", cell["pue"]))


@excel.one_line_errors
def sim_field(field, target, workload, knobs, seed, usd_per_kwh, pue, tables):
    """One simulator output per cell of the broadcast target/seed/price/PUE arguments."""
    cat, target, spec, knob_values = sim_inputs(target, workload, knobs, tables)
    names = excel.is_range(target)  # a range of target names broadcasts
    shape, cells = _sim_cells(target if names else None, seed, usd_per_kwh, pue)
    out = []
    for cell in cells:
        try:
            record = _simulate(cat, excel.text("target", cell["target"]) if names else target, spec, knob_values,
                               sim_kwargs(cell))
            out.append(excel.cell_value(_show(record, field)))
        except AtlasError as error:
            out.append(excel.error_text(error))
    return out[0] if shape is None else np.array(out, dtype=object).reshape(shape).tolist()


def _simulate(cat, target, spec, knob_values, kwargs, run=None):
    """One simulation record (or, with ``run=atlas_xl.run_schedule``, one schedule), computed once
    per content of its arguments."""
    run = run or atlas_xl.simulate
    key = (run.__name__, cat.fingerprint, target, excel.freeze(spec), excel.freeze(knob_values), excel.freeze(kwargs))
    return RESULTS.get(key, lambda: run(target, spec, knob_values, catalog=cat, **kwargs))


def _saturated(record, field):
    value = record.get(field)
    return isinstance(value, float) and math.isinf(value)


def _saturation_text(record, field):
    return (f"saturated: queue utilization {record['queue_utilization']:.2f} >= 1 — add replicas "
            f"(parallelism.dp) or lower arrival.requests_per_sec")


def _record_rows(record):
    return [[k, _show(record, k)] for k, v in record.items() if not isinstance(v, (dict, list))]


def _show(record, key):
    value = record[key]
    return _saturation_text(record, key) if _saturated(record, key) else value


@excel.one_line_errors
def simulate_table(target, workload, knobs, seed, usd_per_kwh, pue, tables):
    cat, target, spec, knob_values = sim_inputs(target, workload, knobs, tables)
    record = _simulate(cat, target, spec, knob_values,
                       sim_kwargs({"seed": seed, "usd_per_kwh": usd_per_kwh, "pue": pue}))
    return excel.table([["field", "value"]] + _record_rows(record))


PHASE_COLUMNS = ("phase", "duration_minutes", "tokens_scale", "autoscale_factor", "queue_profile", "tokens_per_sec",
                 "p50_ms", "p95_ms", "p99_ms", "ttft_ms", "queue_utilization", "node_power_w",
                 "dollar_per_1k_tokens", "saturated")


@excel.one_line_errors
def schedule_table(target, workload, knobs, seed, usd_per_kwh, pue, tables):
    cat, target, spec, knob_values = sim_inputs(target, workload, knobs, tables)
    record = _simulate(cat, target, spec, knob_values,
                       sim_kwargs({"seed": seed, "usd_per_kwh": usd_per_kwh, "pue": pue}), atlas_xl.run_schedule)
    rows = [["field", "value"]] + _record_rows(record)
    for group in ("service_latency_ms", "queue_latency_ms", "queue_wait_ms"):
        rows += [[f"{group}.{k}", v] for k, v in record[group].items()]
    rows += [[], list(PHASE_COLUMNS)]
    rows += [[_show(phase, c) for c in PHASE_COLUMNS] for phase in record.phases]
    return excel.table(rows)


OPTIMIZE_METRICS = ("tokens_per_sec", "p50_ms", "p99_ms", "ttft_ms", "flop_utilization", "node_power_w",
                    "energy_cost_per_hour_usd", "dollar_per_1k_tokens")


@excel.one_line_errors
def optimize_table(target, workload, knobs, sla_p99_ms, seed, usd_per_kwh, pue, tables):
    cat, name, spec, knob_values = sim_inputs(target, workload, knobs, tables)
    sla = argument_number("sla_p99_ms", sla_p99_ms, default=arguments.get("sla_p99_ms").default)
    kwargs = sim_kwargs({"seed": seed, "usd_per_kwh": usd_per_kwh, "pue": pue})
    key = ("optimize", cat.fingerprint, name, excel.freeze(spec), excel.freeze(knob_values), sla, excel.freeze(kwargs))
    result = RESULTS.get(key, lambda: atlas_xl.optimize(name, spec, knob_values, sla_p99_ms=sla, catalog=cat, **kwargs))
    return excel.table(optimize_rows(result))


def optimize_rows(result):
    """The optimizer's answer as rows: knobs (start → best), metrics (baseline → best), trail.
    Shared by ATLAS_OPTIMIZE and the Optimize button, so both show the same table."""
    rows = [["knob", "start", "best"]]
    rows += [[k, result.start_knobs[k], result.best_knobs[k]] for k in result.best_knobs]
    rows += [[], ["metric", "baseline", "best"]]
    rows += [[m, _show(result.baseline, m), _show(result.best, m)] for m in OPTIMIZE_METRICS]
    rows += [["throughput gain", None, result.gain], ["simulations", None, result.evaluated],
             ["SLA p99 [ms]", None, result.sla_p99_ms], [], ["step", "change", "tokens_per_sec", "p99_ms", "gain"]]
    rows += [[s["step"], s["change"], s["tokens_per_sec"], s["p99_ms"], s["gain"]] for s in result.trail]
    if not result.trail:
        rows.append(["-", "no change improved throughput by more than 3 % within the SLA"])
    return rows


# -- the serving model ----------------------------------------------------------------------------
ESTIMATE_TABLES = arguments.ESTIMATE_TABLES
ESTIMATE_ARGS = ("model", "gpu", "precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms", "tp")


def serving_options(args):
    """precision and the serving numbers of one cell → keyword arguments of estimate/plan/rank."""
    options = {"precision": excel.text("precision", args.get("precision"))}
    for name in SERVING_NUMBERS:
        if name in args:
            value = argument_number(name, args.get(name), default=math.nan)
            options[name] = None if math.isnan(value) else value
    return {k: v for k, v in options.items() if v is not None}


@excel.one_line_errors
def estimate_field(field, args, tables, options=None):
    """One output of `atlas_xl.estimate` per cell of the broadcast arguments."""
    args = named(args, options)
    cat = excel.catalog(**{t: tables.get(t) for t in ESTIMATE_TABLES})
    shape, cells = _broadcast_cells(args)
    out = []
    for cell in cells:
        try:
            record = _estimate(cell, cat)
            out.append(excel.cell_value(record[field] if field == "fits" else atlas_xl.serving.servable(record)[field]))
        except AtlasError as error:
            out.append(excel.error_text(error))
    return out[0] if shape is None else np.array(out, dtype=object).reshape(shape).tolist()


def _estimate(cell, cat):
    model, gpu = excel.text("model", cell["model"]), excel.text("gpu", cell["gpu"])
    if model is None or gpu is None:
        raise InputError(f"{'model' if model is None else 'gpu'} is empty — enter a name")
    speculation = {"speculative": excel.text("speculative", cell.get("speculative"))}
    if cell.get("acceptance_length") is not None:
        length = argument_number("acceptance_length", cell["acceptance_length"], default=math.nan)
        speculation["acceptance_length"] = None if math.isnan(length) else length
    return atlas_xl.estimate(model, gpu, catalog=cat, **serving_options(cell),
                             **{k: v for k, v in speculation.items() if v is not None})


@excel.one_line_errors
def estimate_table(args, tables, options=None):
    """The whole estimate of one model on one GPU as field | value rows."""
    args = named(args, options)
    if _shape(args.values()) is not None:
        raise InputError("ATLAS_ESTIMATE takes one model and GPU — use ATLAS_GPU_TPS and friends for grids")
    record = _estimate(args, excel.catalog(**{t: tables.get(t) for t in ESTIMATE_TABLES}))
    return excel.table([["field", "value"]] + [[k, v] for k, v in record.items()])


CATALOG_KINDS = {"models": "models", "patterns": "patterns", "platforms": "offerings", "gpus": "gpus",
                 "offerings": "offerings", "throughput": "throughput", "targets": "targets",
                 "workloads": "workloads", "hardware_models": "hardware_models",
                 "request_profiles": "request_profiles", "phases": "phases"}


@excel.one_line_errors
def catalog_column(kind, table):
    name = normalize_key(excel.text("kind", kind) or "")
    if name not in CATALOG_KINDS:
        raise atlas_xl.errors.unknown_name("catalog", name, CATALOG_KINDS)
    cat = excel.catalog(**{CATALOG_KINDS[name]: table})
    return [[k] for k in cat.keys(name)]
