"""Scenario sweeps: thousands of plan/forecast scenarios through plan's array path, on local
processes or a Dask cluster, with the same results either way.

A scenario is one row of a table: every argument of `atlas_xl.plan` (`atlas_xl.arguments.PLAN`:
tokens_per_day, pattern, model, platform, gpu, latency_ms, gpu_count, gpu_tokens_per_s, hourly_usd,
price_per_m_tokens, billing, precision, input_tokens, output_tokens, ttft_ms, tpot_ms, tp, prefix_hit_rate; and
`atlas_xl.arguments.PLAN_RUNNING`: region, min_replicas, disaggregated, pue) plus the forecast's months,
monthly_growth and price_change_per_year. Blank cells mean "not given"; a number is held to the registry's bounds
with the message every other entrance gives; disaggregated is TRUE/FALSE (or 1/0). The arguments plan takes one
value of per call (the serving settings, min_replicas, pue) group the scenarios: one plan per value, never an
array. The result has one row per scenario-month (720-hour months, the planner's convention).
"""
from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd

from .catalog import load_catalog, normalize_key
from .errors import AtlasError, InputError
from . import arguments
from .values import check_arguments, limit_problems
from .planner import FIELDS, plan

PLAN_COLUMNS = arguments.PLAN + arguments.PLAN_RUNNING
KEY_COLUMNS = tuple(n for n in PLAN_COLUMNS if arguments.get(n).kind not in ("number", "bool"))
"""The text arguments of plan (names): a group of scenarios shares them."""
FLAG_COLUMNS = tuple(n for n in PLAN_COLUMNS if arguments.get(n).kind == "bool")
"""The switches of plan (disaggregated): a group of scenarios shares them."""
NUMBER_COLUMNS = tuple(n for n in PLAN_COLUMNS if arguments.get(n).kind == "number" and n != "tokens_per_day")
SERVING_COLUMNS = tuple(n for n in NUMBER_COLUMNS if n in arguments.SERVING)
"""Numbers plan takes one value of per call (the serving model's settings): a group shares their values."""
ONE_VALUE_COLUMNS = SERVING_COLUMNS + tuple(n for n in NUMBER_COLUMNS if n in arguments.ONE_PER_CALL)
"""Every number plan takes one value of per call (it refuses an array of min_replicas or pue): a group shares them."""
FORECAST_COLUMNS = arguments.FORECAST
SCENARIO_COLUMNS = ("tokens_per_day",) + KEY_COLUMNS + FLAG_COLUMNS + NUMBER_COLUMNS + FORECAST_COLUMNS
REQUIRED = ("tokens_per_day", "pattern", "model", "platform")
RESULT_COLUMNS = ("scenario", "month") + FIELDS + ("cumulative_cost_usd", "error")


def read_scenarios(source):
    """Scenarios from a DataFrame, a CSV/Parquet path or a list of dicts, checked and normalised.

    Every problem names the row as a spreadsheet numbers it (header = row 1) and the column.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    elif isinstance(source, (list, tuple)):
        frame = pd.DataFrame(list(source))
    else:
        from pathlib import Path
        path = Path(source)
        if not path.is_file():
            raise InputError(f"scenario file '{path}' does not exist — give a CSV with one scenario per row")
        try:
            frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as error:
            raise InputError(f"scenario file '{path}' is not a readable table "
                             f"({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None
    frame.columns = [normalize_key(c) for c in frame.columns]
    unknown = [c for c in frame.columns if c not in SCENARIO_COLUMNS]
    if unknown:
        raise InputError(f"scenario column '{unknown[0]}' is unknown — use {', '.join(SCENARIO_COLUMNS)}")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"scenarios lack column {', '.join(missing)} — every row needs "
                         f"{', '.join(REQUIRED)}")
    if frame.empty:
        raise InputError("no scenarios — give at least one row")
    out = pd.DataFrame(index=range(len(frame)))
    for column in KEY_COLUMNS:
        values = frame[column] if column in frame.columns else pd.Series([""] * len(frame))
        out[column] = [normalize_key(v) for v in values.tolist()]
    for column in FLAG_COLUMNS:
        values = frame[column].tolist() if column in frame.columns else [None] * len(frame)
        out[column] = [_flag(v, row, column) for row, v in enumerate(values)]
    defaults = {"months": 1.0, "monthly_growth": 0.0, "price_change_per_year": 0.0}
    for column in ("tokens_per_day",) + NUMBER_COLUMNS + FORECAST_COLUMNS:
        if column in frame.columns:
            raw = frame[column]
            numbers = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
            bad = numbers.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
            if bad.any():
                row = int(np.nonzero(bad.to_numpy())[0][0])
                raise InputError(f"scenario row {row + 2}, column {column}: {raw.iloc[row]!r} is not a number")
            out[column] = numbers.to_numpy(dtype=float)
        else:
            out[column] = np.nan
        if column in defaults:
            out[column] = out[column].fillna(defaults[column])

    def check(mask, column, text):
        if mask.any():
            row = int(np.nonzero(mask)[0][0])
            raise InputError(f"scenario row {row + 2}, column {column}: {out[column].iloc[row]!r} — {text}")

    for column in REQUIRED[1:]:
        check((out[column] == "").to_numpy(), column, "is blank; every row needs one")
    tpd = out["tokens_per_day"].to_numpy()
    check(np.isnan(tpd), "tokens_per_day", "give a daily volume > 0")
    for column in ("monthly_growth", "price_change_per_year"):
        check(~(np.isfinite(out[column].to_numpy()) & (out[column].to_numpy() > -1)), column,
              "give a fraction above −1 (0.05 = +5 %)")
    for column in ("tokens_per_day",) + NUMBER_COLUMNS + ("months",):  # the registry's bounds, its messages
        problems = limit_problems(column, out[column].to_numpy(), first=True, blank_nan=True)
        if problems:
            row, message = next(iter(problems.items()))
            raise InputError(f"scenario row {row + 2}, column {column}: {message}")
    out["months"] = out["months"].astype(int)
    return out


def _flag(value, row, column):
    """A scenario's switch: TRUE/FALSE, true/false or 1/0; blank = False. Anything else names the row and column."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and
                                                                           not value.strip()):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InputError(f"scenario row {row + 2}, column {column}: {value!r} — give TRUE or FALSE (or leave it blank)")


def _expand(scenarios):
    """One row per scenario-month: scenario number, month, volume and price factor."""
    months = scenarios["months"].to_numpy()
    index = np.repeat(np.arange(len(scenarios)), months)
    starts = np.cumsum(months) - months
    k = np.arange(index.size) - np.repeat(starts, months)  # 0-based month
    volume = scenarios["tokens_per_day"].to_numpy()[index] * (1.0 + scenarios["monthly_growth"].to_numpy()[index]) ** k
    factor = (1.0 + scenarios["price_change_per_year"].to_numpy()[index]) ** (k / 12.0)
    return index, k + 1, volume, factor


def run_chunk(scenarios, catalog=None, assumptions=None):
    """Evaluate normalised scenarios (from `read_scenarios`); one plan() array call per group.

    A group is every scenario-month with the same names and the same overrides given. A group
    that fails is retried scenario by scenario so that the ``error`` column names only the
    scenarios at fault.
    """
    cat = load_catalog(catalog)
    index, month, volume, factor = _expand(scenarios)
    n = index.size
    columns = {}  # field → array, made at the first result (text or numbers, as plan() returns it)
    errors = np.full(n, "", dtype=object)
    given = {c: ~np.isnan(scenarios[c].to_numpy())[index] for c in NUMBER_COLUMNS}
    keys = pd.DataFrame({c: scenarios[c].to_numpy()[index] for c in KEY_COLUMNS + FLAG_COLUMNS})
    for c in NUMBER_COLUMNS:
        keys[f"has_{c}"] = given[c]
    for c in ONE_VALUE_COLUMNS:  # one value per plan call
        keys[f"value_{c}"] = np.nan_to_num(scenarios[c].to_numpy()[index], nan=-1.0)
    keys["priced"] = factor != 1.0
    for _, rows in keys.groupby(list(keys.columns), sort=False).indices.items():
        _run_group(rows, scenarios, index, volume, factor, columns, errors, cat, assumptions)
    data = {"scenario": index + 1, "month": month}
    data.update((f, columns.get(f, np.full(n, np.nan))) for f in FIELDS)
    frame = pd.DataFrame(data)  # one construction: inserting 40 columns one by one costs more than the plan
    frame["cumulative_cost_usd"] = frame.groupby("scenario")["monthly_cost_usd"].cumsum()
    frame["error"] = errors
    return frame


def _run_group(rows, scenarios, index, volume, factor, columns, errors, cat, assumptions):
    first = scenarios.iloc[index[rows[0]]]
    names = {c: first[c] or None for c in KEY_COLUMNS}
    kwargs = {c: scenarios[c].to_numpy()[index[rows]] for c in NUMBER_COLUMNS if not math.isnan(first[c])}
    kwargs.update((c, float(first[c])) for c in ONE_VALUE_COLUMNS if c in kwargs)
    kwargs.update(region=names["region"], disaggregated=bool(first["disaggregated"]))
    if "latency_ms" in kwargs and np.unique(kwargs["latency_ms"]).size == 1:
        kwargs["latency_ms"] = float(kwargs["latency_ms"][0])
    try:
        if (factor[rows] != 1.0).any():  # price change: scale the price plan() would use
            base = plan(float(volume[rows[0]]), names["pattern"], names["model"], names["platform"], names["gpu"],
                        billing=names["billing"], precision=names["precision"], catalog=cat, assumptions=assumptions,
                        **{k: (v[0] if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()})
            key = "price_per_m_tokens" if base.billing == "per_token" else "hourly_usd"
            price = kwargs.get(key, getattr(base, key))
            kwargs[key] = price * factor[rows]
        result = plan(volume[rows], names["pattern"], names["model"], names["platform"], names["gpu"],
                      billing=names["billing"], precision=names["precision"], catalog=cat, assumptions=assumptions, **kwargs)
    except AtlasError as error:
        if np.unique(index[rows]).size > 1:
            for scenario in np.unique(index[rows]):
                _run_group(rows[index[rows] == scenario], scenarios, index, volume, factor, columns, errors, cat,
                           assumptions)
        else:
            errors[rows] = str(error)
        return
    for f in FIELDS:
        value = getattr(result, f)
        if f not in columns:
            text = isinstance(value, str) or getattr(value, "dtype", np.dtype(float)).kind in "OUS"
            columns[f] = np.full(index.size, "" if text else np.nan, dtype=object if text else float)
        columns[f][rows] = value  # a scalar broadcasts


def _chunks(scenarios, size):
    return [scenarios.iloc[i:i + size] for i in range(0, len(scenarios), size)]


def _renumber(frame, offset):
    frame["scenario"] += offset
    return frame


def _run_numbered(chunk, offset, catalog, assumptions):
    return _renumber(run_chunk(chunk.reset_index(drop=True), catalog, assumptions), offset)


def sweep(scenarios, *, catalog=None, assumptions=None, scheduler=None, workers=None, chunk_size=2000,
          progress=None, connect_timeout_s=10):
    """Evaluate every scenario; one row per scenario-month, ordered by scenario and month.

    Parameters
    ----------
    scenarios : DataFrame, CSV/Parquet path or list of dicts
        See the module docstring for the columns.
    scheduler : str or dask.distributed.Client, optional
        A Dask scheduler address (tcp://host:8786) or client: run the chunks on that cluster
        (needs the ``dask`` extra: ``pip install 'atlas-xl[dask]'``).
    workers : int, optional
        Local processes (default: the CPU count); 1 runs in this process.
    chunk_size : int
        Scenarios per task.
    connect_timeout_s : numeric
        How long to try reaching the scheduler. [s]
    progress : callable(done, total), optional
        Called as scenarios finish.

    Returns
    -------
    pandas.DataFrame
        Columns ``RESULT_COLUMNS``; ``error`` is '' for a scenario that was computed and the
        one-line reason otherwise.
    """
    check_arguments(workers=workers, chunk_size=chunk_size)  # docs/limits.md
    table = read_scenarios(scenarios)
    cat = load_catalog(catalog)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"chunk_size = {chunk_size!r} — give a whole number >= 1")
    chunks = _chunks(table, chunk_size)
    offsets = np.cumsum([0] + [len(c) for c in chunks[:-1]]).tolist()
    total = len(table)
    done = 0
    results = [None] * len(chunks)

    def tick(i, frame):
        nonlocal done
        results[i] = frame
        done += len(chunks[i])
        if progress:
            progress(done, total)

    if scheduler is not None:
        try:
            from dask.distributed import Client, as_completed as dask_completed
        except ImportError:
            raise InputError("--scheduler needs dask.distributed — pip install 'atlas-xl[dask]'") from None
        own = not isinstance(scheduler, Client)
        try:
            client = Client(scheduler, timeout=f"{float(connect_timeout_s)}s") if own else scheduler
        except (OSError, TimeoutError, ValueError) as error:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({error}) — check the address") \
                from None
        try:
            futures = {client.submit(_run_numbered, c, o, cat, assumptions, pure=False): i
                       for i, (c, o) in enumerate(zip(chunks, offsets))}
            for future in dask_completed(futures):
                tick(futures[future], future.result())
        finally:
            if own:
                client.close()
    elif workers == 1 or len(chunks) == 1:
        for i, (c, o) in enumerate(zip(chunks, offsets)):
            tick(i, _run_numbered(c, o, cat, assumptions))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_run_numbered, c, o, cat, assumptions): i
                       for i, (c, o) in enumerate(zip(chunks, offsets))}
            for future in as_completed(futures):
                tick(futures[future], future.result())
    return pd.concat(results, ignore_index=True)[list(RESULT_COLUMNS)]
