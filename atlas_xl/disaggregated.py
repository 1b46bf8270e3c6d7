"""Disaggregated prefill/decode serving: prompts on prefill replicas, generation on decode replicas.

A *unit* is ``prefill_replicas`` replicas of ``prefill_tp`` GPUs that only run prompts and ``decode_replicas``
replicas of ``decode_tp`` GPUs that only generate; a prompt's KV cache crosses the scale-out network from the
one to the other (NVIDIA Dynamo, SGLang PD disaggregation, Mooncake). Every quantity is one function below
(units in brackets); the replicas' times come from the serving model (`atlas_xl.serving.replica_phases`), so
the calibration is that of `atlas_xl.estimate` and nothing is fitted here.

- Prefill replicas are compute-bound and never decode: one prompt takes the serving model's prefill time on
  ``prefill_tp`` GPUs, and a replica serves 1 / that prompts per second.
- Decode replicas never prefill: the time per output token is the decode step ÷ the acceptance length (no
  chunked-prefill share, unlike `atlas_xl.serving.tpot_s`), and a replica runs the largest batch whose p99 TPOT
  meets the limit, whose TTFT share (its first step) fits the TTFT limit, and that fits memory and the engine.
- TTFT = prefill + KV transfer + the first decode step (p99: × the serving model's ``ttft_tail``).
- The unit's prefill:decode replica ratio balances the request rates; the model chooses both replica sizes and
  the ratio for the most output tokens/s per GPU of the whole unit.

References: Zhong et al., "DistServe: Disaggregating Prefill and Decoding for Goodput-optimized Large Language
Model Serving" (OSDI 2024) — the split, the ratio that balances the phases and the KV transfer; Patel et al.,
"Splitwise" (ISCA 2024); SemiAnalysis InferenceX (``disagg = True`` rows of shared/data/inferencex_dsr1.csv) for
the back-test.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .arith import floor, maximum, minimum, where
from .catalog import disaggregated_benchmarks, load_catalog, normalize_key
from .errors import InputError, UnknownNameError
from .record import Record
from .serving import (DEFAULT_PRECISION, DEFAULT_TPOT_MS, DEFAULT_TTFT_MS, TP_CHOICES, best_precision,
                      normalize_precision, replica_phases, tp_choices)
from .values import check_arguments

MAX_REPLICAS_PER_ROLE = 16
"""Replicas of one role (prefill or decode) a unit may hold: 16 (stated; the InferenceX disaggregated runs use
1–7 prefill and 1–6 decode workers, shared/data/inferencex_dsr1.csv). A ratio beyond 16:1 is rounded to it."""
CALIBRATED_REPLICA_GPUS = 8
"""The widest replica the serving model's back-test measures: single-node points of up to 8 GPUs (InferenceX
single-node rows, MLPerf 8-GPU systems; docs/serving.md). By default a replica is at most this wide, wider only
where nothing this narrow holds the model (DeepSeek-R1 at fp8 on H100 needs 16): on wider ones the serving
model's decode step is an extrapolation, 2–10× above the InferenceX disaggregated measurements of GB200 NVL72
replicas of 16–64 GPUs (docs/disaggregated.md shows the back-test both ways). ``max_tp`` raises it."""
KV_TRANSFER_LATENCY_MS = 1.0
"""Fixed time of one prompt's KV transfer besides its bytes: 1 ms (stated, not measured here — the
connection and completion handshakes of a transfer library such as NIXL or Mooncake's transfer engine, and the
decode side's block allocation; DistServe §6 measures the whole transfer under 0.1 % of a request's latency)."""


# -- equations -------------------------------------------------------------------------------------
def prompt_kv_gb(kv_bytes_per_token, prompt_tokens):
    """KV cache of one prompt. [GB]

    Notes
    -----
    kv = kv_bytes_per_token × prompt_tokens / 10⁹  (`atlas_xl.serving.kv_bytes_per_token`; sliding-window
    layers keep only their window, so ``prompt_tokens`` is the attended count).
    """
    return kv_bytes_per_token * prompt_tokens / 1e9


def kv_transfer_ms(kv_gb, links, scale_out_gb_s, latency_ms=KV_TRANSFER_LATENCY_MS):
    """Time to move one prompt's KV cache from a prefill replica to a decode replica. [ms]

    Parameters
    ----------
    kv_gb : numeric
        KV cache of the prompt (`prompt_kv_gb`). [GB]
    links : numeric
        NICs sending in parallel: min(prefill tp, decode tp), each GPU holding its shard. [NICs]
    scale_out_gb_s : numeric
        Scale-out bandwidth of one GPU's NIC, one direction (``gpus.csv`` ``scale_out_gb_s``). [GB s⁻¹]
    latency_ms : numeric
        Fixed time per transfer (`KV_TRANSFER_LATENCY_MS`). [ms]

    Notes
    -----
    t = latency + kv / (links × scale_out)  (DistServe, OSDI 2024, §3.3: the KV cache of a request crosses the
    network once, after its prefill)
    """
    return latency_ms + kv_gb / (links * scale_out_gb_s) * 1000.0


def replica_request_rate_per_s(concurrency, tpot_s, output_tokens):
    """Requests per second one decode replica completes. [requests s⁻¹]

    Notes
    -----
    rate = concurrency / (output_tokens × TPOT)  (Little's law: each request holds a slot output × TPOT)
    """
    return concurrency / (output_tokens * tpot_s)


def prefill_request_rate_per_s(prefill_s):
    """Prompts per second one prefill replica processes (compute-bound, no decode). [requests s⁻¹]"""
    return 1.0 / prefill_s


def unit_output_tokens_per_s_per_gpu(prefill_replicas, prefill_rate_per_s, prefill_tp, decode_replicas,
                                     decode_rate_per_s, decode_tp, output_tokens):
    """Output tokens per second per GPU of a unit, over all its GPUs (prefill and decode). [tokens s⁻¹ GPU⁻¹]

    Notes
    -----
    requests = min(n_p × rate_p, n_d × rate_d): the slower role sets the unit's rate (DistServe §4)
    per GPU = requests × output_tokens / (n_p × tp_p + n_d × tp_d)
    """
    requests = minimum(prefill_replicas * prefill_rate_per_s, decode_replicas * decode_rate_per_s)
    return requests * output_tokens / (prefill_replicas * prefill_tp + decode_replicas * decode_tp)


def balanced_prefill_replicas(decode_replicas, decode_rate_per_s, prefill_rate_per_s):
    """Prefill replicas whose prompts keep ``decode_replicas`` busy, as a real number. [replicas]

    Notes
    -----
    n_p × rate_p = n_d × rate_d ⇒ n_p = n_d × rate_d / rate_p (DistServe §4.1); the unit rounds it down or up.
    """
    return decode_replicas * decode_rate_per_s / prefill_rate_per_s


# -- the estimate -------------------------------------------------------------------------------------
FIELDS = ("model", "prefill_gpu", "decode_gpu", "precision", "input_tokens", "output_tokens", "ttft_limit_ms",
          "tpot_limit_ms", "prefill_tp", "decode_tp", "prefill_replicas", "decode_replicas", "prefill_gpus",
          "decode_gpus", "prefill_decode_ratio", "decode_concurrency", "output_tokens_per_s_per_gpu",
          "total_tokens_per_s_per_gpu", "output_tokens_per_s_per_decode_gpu", "prefill_ms", "kv_transfer_ms",
          "decode_step_ms", "ttft_ms", "tpot_ms", "fits", "meets_limits", "weights_gb", "speculative",
          "acceptance_length")


def estimate_disaggregated(model, prefill_gpu, decode_gpu=None, *, precision=None, input_tokens=None,
                           output_tokens=None, ttft_ms=None, tpot_ms=None, speculative=None, acceptance_length=None,
                           max_tp=None, catalog=None):
    """The most output tokens/s per GPU a disaggregated prefill/decode unit delivers within the latency limits.

    Parameters
    ----------
    model : str or dict
        A key of ``models.csv`` or an architecture dict (as `atlas_xl.estimate`).
    prefill_gpu : str
        GPU of the prefill replicas (a key of ``gpus.csv``).
    decode_gpu : str, optional
        GPU of the decode replicas; default the prefill GPU.
    precision : str, optional
        Weight precision, as `atlas_xl.estimate` (default fp8; ``best`` is the decode GPU's narrowest).
    input_tokens, output_tokens : numeric, optional
        Request shape (means). Default 1024 / 1024. [tokens]
    ttft_ms, tpot_ms : numeric, optional
        p99 limits on time to first token and time per output token. Default 2000 / 200. [ms]
    speculative, acceptance_length : optional
        Speculative decoding on the decode replicas, as `atlas_xl.estimate`.
    max_tp : int, optional
        The widest replica to consider; default `CALIBRATED_REPLICA_GPUS` (8). Replicas never exceed their GPU's
        scale-up domain unless nothing within it holds the model. [GPUs]
    catalog : optional
        A catalog folder or `atlas_xl.Catalog`; default the built-in one.

    Returns
    -------
    Record
        ``prefill_tp``/``decode_tp`` [GPUs per replica], ``prefill_replicas``/``decode_replicas``,
        ``prefill_gpus``/``decode_gpus`` (per unit) [GPUs], ``prefill_decode_ratio`` (prefill GPUs ÷ decode GPUs),
        ``decode_concurrency`` (sequences per decode replica), ``output_tokens_per_s_per_gpu`` and
        ``total_tokens_per_s_per_gpu`` (over all GPUs of the unit) and ``output_tokens_per_s_per_decode_gpu``
        (InferenceX's convention) [tokens s⁻¹ GPU⁻¹], ``prefill_ms``, ``kv_transfer_ms``, ``decode_step_ms``
        [ms], ``ttft_ms``/``tpot_ms`` (p99) [ms], ``fits`` (both roles hold the weights and one sequence),
        ``meets_limits``, ``weights_gb`` [GB].

    Notes
    -----
    For every (prefill tp, decode tp): the decode batch B is the largest with
    p99 TPOT = tail_tpot × step(B) / acceptance ≤ tpot_ms and tail_ttft × (prefill + transfer + step(B)) ≤ ttft_ms,
    within memory and the engine's batch ceiling; then the whole-replica unit (`MAX_REPLICAS_PER_ROLE`) with the
    most output tokens/s per GPU (`unit_output_tokens_per_s_per_gpu`). A replica stays within its GPU's scale-up
    domain.
    """
    check_arguments(input_tokens=input_tokens, output_tokens=output_tokens, ttft_ms=ttft_ms, tpot_ms=tpot_ms,
                    tp=max_tp)
    cat = load_catalog(catalog)
    model_id = tuple(sorted(model.items())) if isinstance(model, dict) else normalize_key(model)
    key = (cat.fingerprint, model_id, normalize_key(prefill_gpu), normalize_key(decode_gpu), precision,
           input_tokens, output_tokens, ttft_ms, tpot_ms, speculative, acceptance_length, max_tp)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _estimate(cat, model, prefill_gpu, decode_gpu, precision, input_tokens, output_tokens, ttft_ms,
                           tpot_ms, speculative, acceptance_length, max_tp)
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = cached
    return Record(cached)


_CACHE = {}


def _limit(name, value, default):
    if value is None:
        return default
    if isinstance(value, (bool, np.bool_, str)):
        raise InputError(f"{name} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{name} must be a finite number greater than 0 — got {value!r}")
    return number


def _gpu(cat, gpu, role):
    try:
        return cat.check_gpu(gpu)
    except UnknownNameError as error:
        raise UnknownNameError(f"{role}: {error}") from None


def _estimate(cat, model, prefill_gpu, decode_gpu, precision, input_tokens, output_tokens, ttft_ms, tpot_ms,
              speculative, acceptance_length, max_tp):
    prefill_key = _gpu(cat, prefill_gpu, "prefill_gpu")
    decode_key = prefill_key if decode_gpu is None else _gpu(cat, decode_gpu, "decode_gpu")
    ttft_limit, tpot_limit = _limit("ttft_ms", ttft_ms, DEFAULT_TTFT_MS), _limit("tpot_ms", tpot_ms, DEFAULT_TPOT_MS)
    widest = CALIBRATED_REPLICA_GPUS if max_tp is None else _limit("max_tp", max_tp, None)
    # the prefill replicas hold the same weights at the same precision (the KV cache moves as it is)
    precision = normalize_precision(precision) or DEFAULT_PRECISION
    if precision == "best":
        precision = best_precision(cat.gpu_specs[decode_key])
    common = dict(precision=precision, input_tokens=input_tokens, output_tokens=output_tokens, catalog=cat)
    decode = replica_phases(model, decode_key, TP_CHOICES, speculative=speculative,
                            acceptance_length=acceptance_length, **common)
    prefill = replica_phases(model, prefill_key, TP_CHOICES, **common)
    prefill_tps, decode_tps = replica_sizes(prefill, widest), replica_sizes(decode, widest)
    prefill = replica_phases(model, prefill_key, prefill_tps, **common)
    decode = replica_phases(model, decode_key, decode_tps, speculative=speculative,
                            acceptance_length=acceptance_length, **common)
    point = operating_points(prefill, decode, prefill_tps, decode_tps, cat.gpu_specs[prefill_key]["scale_out_gb_s"],
                             cat.gpu_specs[decode_key]["scale_out_gb_s"], ttft_limit, tpot_limit)
    return dict(model=decode["model"], prefill_gpu=prefill_key, decode_gpu=decode_key, precision=decode["precision"],
                input_tokens=float(decode["input_tokens"]), output_tokens=float(decode["output_tokens"]),
                ttft_limit_ms=ttft_limit, tpot_limit_ms=tpot_limit, speculative=decode["speculative"],
                acceptance_length=decode["acceptance_length"], **point)


def replica_sizes(phases, max_tp=CALIBRATED_REPLICA_GPUS):
    """The replica sizes to try: those of `atlas_xl.serving.tp_choices` that hold the weights and one sequence,
    within the GPU's scale-up domain and ``max_tp``; where none does, the smallest that holds the model within the
    domain, else the smallest that holds it at all (beyond the domain at scale-out bandwidth, as
    `atlas_xl.estimate`). [GPUs]"""
    sizes = np.array(tp_choices(phases["attention_heads"]), dtype=float)
    fits = (phases["usable_gb_per_gpu"] * sizes - phases["weights_gb"]) >= phases["kv_gb_per_sequence"]
    within = fits & (sizes <= phases["scale_up_gpus"])
    chosen = sizes[within & (sizes <= max_tp)]
    if len(chosen):
        return chosen
    fallback = sizes[within] if within.any() else sizes[fits]
    return fallback[:1] if len(fallback) else sizes[-1:]


GRID_POINTS = 64
"""Concurrencies per stage of `largest_within`'s two-stage geometric search: 64 → within 0.2 % of the largest batch
up to 4 096 sequences (4096^(1/63) = 1.14 per point, then 1.14^(1/63) = 1.002)."""


def largest_within(step_s, budget_s, cap):
    """The largest whole batch B ≤ cap with step_s(B) ≤ budget_s, for arrays of cases (1 where none). [sequences]

    ``step_s`` increases with B (the serving model's decode step), so a geometric grid from 1 to ``cap`` brackets
    the largest B within the budget and a second grid inside that bracket refines it: 4 evaluations of the step
    for every case at once. [sequences]
    """
    low, high = np.ones_like(cap), cap
    for _ in range(2):
        share = np.linspace(0.0, 1.0, GRID_POINTS).reshape((-1,) + (1,) * np.ndim(cap))
        grid = low * (high / low) ** share
        ok = step_s(grid) <= budget_s
        last = np.maximum(ok.shape[0] - 1 - np.argmax(ok[::-1], axis=0), 0)  # the last grid point within
        last = np.where(ok.any(axis=0), last, 0)
        low = np.take_along_axis(grid, last[None], axis=0)[0]
        high = np.take_along_axis(grid, np.minimum(last + 1, GRID_POINTS - 1)[None], axis=0)[0]
    return floor(low * (1.0 + 1e-9))


def operating_points(prefill, decode, prefill_tps, decode_tps, prefill_scale_out_gb_s, decode_scale_out_gb_s,
                     ttft_limit_ms, tpot_limit_ms):
    """The best unit over every (prefill tp, decode tp) and replica count; a dict of the record's quantities.

    ``prefill`` and ``decode`` are `atlas_xl.serving.replica_phases` of the candidate sizes ``prefill_tps`` and
    ``decode_tps``. Where nothing meets the limits, the quantities are those of one sequence on the fastest
    replicas, with ``meets_limits`` False and 0 tokens/s.
    """
    tp_p, tp_d = prefill_tps[:, None], decode_tps[None, :]
    acceptance, output = decode["acceptance_length"], decode["output_tokens"]
    prefill_s = prefill["prefill_s"][:, None]
    kv = prompt_kv_gb(decode["kv_bytes_per_token"], decode["prompt_kv_tokens"])
    transfer_ms = kv_transfer_ms(kv, minimum(tp_p, tp_d), minimum(prefill_scale_out_gb_s, decode_scale_out_gb_s))
    # the decode step may take: TPOT's share, and what TTFT leaves after the prefill and the transfer
    step_budget_s = minimum(tpot_limit_ms / decode["tpot_tail"] * acceptance,
                            ttft_limit_ms / decode["ttft_tail"] - prefill_s * 1000.0 - transfer_ms) / 1000.0
    cap = minimum(decode["max_concurrency"], decode["engine_max_concurrency"])[None, :] + 0.0 * step_budget_s
    step = decode["decode_step_s"]
    # a prefill replica holds the weights and one prompt's KV cache
    feasible = (cap >= 1) & (step(np.ones_like(cap)) <= step_budget_s) & (prefill["max_concurrency"][:, None] >= 1)
    batch = largest_within(step, step_budget_s, maximum(cap, 1.0))
    batch = where(feasible, maximum(batch, 1.0), 1.0)
    step_s = step(batch)
    tpot_mean_s = step_s / acceptance
    decode_rate = replica_request_rate_per_s(batch, tpot_mean_s, output)
    prefill_rate = prefill_request_rate_per_s(prefill_s) + 0.0 * decode_rate
    # whole replicas: every decode count with the prefill count below and above the balance
    n_d = np.arange(1.0, MAX_REPLICAS_PER_ROLE + 1.0)[:, None, None]
    balance = balanced_prefill_replicas(n_d, decode_rate, prefill_rate)
    best = None
    for n_p in (floor(balance), floor(balance) + 1.0):
        n_p = minimum(maximum(n_p, 1.0), MAX_REPLICAS_PER_ROLE)
        rate = unit_output_tokens_per_s_per_gpu(n_p, prefill_rate, tp_p, n_d, decode_rate, tp_d, output)
        rate = where(feasible, rate, -1.0)
        if best is None:
            best = (rate, n_p)
        else:
            better = rate > best[0] * (1.0 + 1e-12)
            best = (where(better, rate, best[0]), where(better, n_p, best[1]))
    rate, n_p = best
    flat = int(np.argmax(rate))  # first = fewest decode replicas, then smallest prefill and decode tp
    i_d, i_p, j = np.unravel_index(flat, rate.shape)
    meets = bool(rate[i_d, i_p, j] > 0)
    if not meets:  # the closest: one sequence on the replicas with the lowest TTFT and TPOT
        one = step(np.ones_like(cap))
        i_p, j = np.unravel_index(int(np.argmin(prefill_s * 1000.0 + transfer_ms + one * 1000.0 + 0.0 * one)),
                                  one.shape)
        i_d, batch_at, step_at = 0, 1.0, float(one[i_p, j])
        prefill_replicas, decode_replicas = 1.0, 1.0
    else:
        batch_at, step_at = float(batch[i_p, j]), float(step_s[i_p, j])
        prefill_replicas, decode_replicas = float(n_p[i_d, i_p, j]), float(n_d[i_d, 0, 0])
    tp_prefill, tp_decode = float(prefill_tps[i_p]), float(decode_tps[j])
    prefill_ms = float(prefill["prefill_s"][i_p]) * 1000.0
    move_ms = float(np.broadcast_to(transfer_ms, cap.shape)[i_p, j])
    per_gpu = float(rate[i_d, i_p, j]) if meets else 0.0
    prefill_gpus, decode_gpus = prefill_replicas * tp_prefill, decode_replicas * tp_decode
    input_tokens = decode["input_tokens"]
    fits = bool((prefill["max_concurrency"] >= 1).any() and (decode["max_concurrency"] >= 1).any())
    return dict(prefill_tp=tp_prefill, decode_tp=tp_decode, prefill_replicas=prefill_replicas,
                decode_replicas=decode_replicas, prefill_gpus=prefill_gpus, decode_gpus=decode_gpus,
                prefill_decode_ratio=prefill_gpus / decode_gpus, decode_concurrency=batch_at,
                output_tokens_per_s_per_gpu=per_gpu,
                total_tokens_per_s_per_gpu=per_gpu * (input_tokens + output) / output,
                output_tokens_per_s_per_decode_gpu=per_gpu * (prefill_gpus + decode_gpus) / decode_gpus,
                prefill_ms=prefill_ms, kv_transfer_ms=move_ms, decode_step_ms=step_at * 1000.0,
                ttft_ms=(prefill_ms + move_ms + step_at * 1000.0) * decode["ttft_tail"],
                tpot_ms=step_at / acceptance * 1000.0 * decode["tpot_tail"], fits=fits, meets_limits=meets,
                weights_gb=float(decode["weights_gb"]))


# -- the back-test at the user's question ---------------------------------------------------------------
INFERENCEX_GPUS = {"b200": "b200", "gb200": "gb200", "h100": "h100_sxm", "h200": "h200", "mi355x": "mi355x",
                   "b300": "b300", "gb300": "gb300", "mi300x": "mi300x", "mi325x": "mi325x"}
"""InferenceX GPU names → ``gpus.csv`` keys."""
POINT_COLUMNS = ("gpu", "model", "precision", "speculative", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms",
                 "tokens_per_s", "tokens_per_s_per_decode_gpu", "prefill_tp", "prefill_ep", "prefill_gpus",
                 "decode_tp", "decode_ep", "decode_gpus", "concurrency", "framework", "source", "as_of", "notes")


def inferencex_points(frame):
    """The InferenceX disaggregated DeepSeek-R1 points whose limits bind, as back-test rows (`POINT_COLUMNS`).

    ``frame`` is shared/data/inferencex_dsr1.csv. A point is kept where no other point of its sweep (GPU,
    precision, request shape, speculative or not) has at least its throughput within its p99 TPOT and TTFT:
    otherwise the user's question ("the most tokens/s within these limits") has a better measured answer.
    ``tokens_per_s`` is the output tokens/s per GPU over all GPUs of the unit, prefill included: total tokens/s
    per GPU × output / (input + output) (InferenceX divides its output figure by the decode GPUs only).
    Data: SemiAnalysis InferenceX; ``source`` is the row's ``run_url``.
    """
    frame = frame[(frame.disagg.astype(str).str.lower() == "true") & frame.tpot_p99_ms.notna()
                  & frame.ttft_p99_ms.notna() & frame.gpu.isin(list(INFERENCEX_GPUS))].copy()
    frame["tokens_per_s"] = (frame.tput_per_gpu_total_tok_s * frame.osl / (frame.isl + frame.osl)).round(2)
    frame["speculative"] = np.where(frame.spec_method.astype(str).str.lower() == "mtp", "mtp", "none")
    frame["tpot_p99_ms"], frame["ttft_p99_ms"] = frame.tpot_p99_ms.round(3), frame.ttft_p99_ms.round(1)
    keep = []
    for _, group in frame.groupby(["gpu", "precision", "isl", "osl", "speculative"]):
        rate, tpot, ttft = group.tokens_per_s.values, group.tpot_p99_ms.values, group.ttft_p99_ms.values
        for i, index in enumerate(group.index):
            within = (rate >= rate[i]) & (tpot <= tpot[i]) & (ttft <= ttft[i])
            same = (rate == rate[i]) & (tpot == tpot[i]) & (ttft == ttft[i])
            if not (within & ~same).any() and not (same & (np.arange(len(group)) < i)).any():
                keep.append(index)
    x = frame.loc[keep]
    out = pd.DataFrame(dict(
        gpu=x.gpu.map(INFERENCEX_GPUS), model="deepseek_r1", precision=x.precision, speculative=x.speculative,
        input_tokens=x.isl, output_tokens=x.osl, ttft_ms=x.ttft_p99_ms, tpot_ms=x.tpot_p99_ms,
        tokens_per_s=x.tokens_per_s, tokens_per_s_per_decode_gpu=x.output_tput_per_gpu_tok_s.round(2),
        prefill_tp=x.prefill_tp, prefill_ep=x.prefill_ep, prefill_gpus=x.num_prefill_gpu_api, decode_tp=x.decode_tp,
        decode_ep=x.decode_ep, decode_gpus=x.num_decode_gpu_api, concurrency=x.concurrency, framework=x.framework,
        source="SemiAnalysis InferenceX: " + x.run_url.astype(str), as_of=x.date.astype(str).str[:10],
        notes="p99 limits of the point itself; tokens_per_s over prefill and decode GPUs (derived)"))
    return out.sort_values(["gpu", "precision", "input_tokens", "output_tokens", "speculative", "tpot_ms"])[
        list(POINT_COLUMNS)].reset_index(drop=True)


def backtest(points=None, catalog=None, max_tp=None):
    """Predict every binding InferenceX disaggregated point at its own p99 TPOT and TTFT: the model chooses the
    replica sizes, the ratio and the decode batch; the measured concurrency and layout are never given.

    Parameters
    ----------
    points : DataFrame, optional
        Rows of `POINT_COLUMNS`; default the shipped ones (`atlas_xl.catalog.disaggregated_benchmarks`,
        derived from SemiAnalysis InferenceX by scripts/derive_disaggregated.py).
    max_tp : int, optional
        As `estimate_disaggregated`.

    Returns
    -------
    DataFrame
        gpu, precision, input_tokens, output_tokens, speculative, tpot_ms, ttft_ms, measured, predicted (output
        tokens/s per GPU of the whole unit), error (predicted / measured − 1), measured_layout and
        chosen_layout (replicas × GPUs per replica, `_layout`), client_bound (the benchmark ran fewer sequences than the unit has decode GPUs: the client, not the unit,
        set the throughput), source (the InferenceX run).
    """
    points = disaggregated_benchmarks() if points is None else points
    rows = []
    for r in points.to_dict("records"):
        shape = dict(input_tokens=float(r["input_tokens"]), output_tokens=float(r["output_tokens"]),
                     ttft_ms=float(r["ttft_ms"]), tpot_ms=float(r["tpot_ms"]))
        e = estimate_disaggregated(r["model"], r["gpu"], precision=r["precision"], catalog=catalog, max_tp=max_tp,
                                   speculative=None if r["speculative"] == "none" else r["speculative"], **shape)
        rows.append(dict(gpu=r["gpu"], precision=r["precision"], speculative=r["speculative"], **shape,
                         measured=float(r["tokens_per_s"]), predicted=e.output_tokens_per_s_per_gpu,
                         measured_layout=_layout(*(float(r[k]) for k in ("prefill_gpus", "prefill_tp", "prefill_ep",
                                                                          "decode_gpus", "decode_tp", "decode_ep"))),
                         chosen_layout=_layout(e.prefill_gpus, e.prefill_tp, 1.0, e.decode_gpus, e.decode_tp, 1.0),
                         client_bound=float(r["concurrency"]) < float(r["decode_gpus"]), source=r["source"]))
    frame = pd.DataFrame(rows)
    frame["error"] = frame.predicted / frame.measured - 1.0
    return frame


def _layout(prefill_gpus, prefill_tp, prefill_ep, decode_gpus, decode_tp, decode_ep):
    """'2×P8 + 3×D8': replicas × GPUs per replica of each role (a replica spans max(tp, ep) GPUs)."""
    prefill, decode = max(prefill_tp, prefill_ep), max(decode_tp, decode_ep)
    return f"{prefill_gpus / prefill:g}×P{prefill:g} + {decode_gpus / decode:g}×D{decode:g}"


def summary(backtest_frame, system_bound_only=False):
    """MAPE and median error per GPU and precision, and over all points, of the back-test. [%]

    ``system_bound_only`` leaves out the client-bound points (fewer sequences than decode GPUs)."""
    frame = backtest_frame[~backtest_frame.client_bound] if system_bound_only else backtest_frame
    frame = frame.assign(ape=frame.error.abs() * 100.0)
    groups = [((gpu, precision), g) for (gpu, precision), g in frame.groupby(["gpu", "precision"])]
    groups.append((("all", "all"), frame))
    return pd.DataFrame([dict(gpu=gpu, precision=precision, points=len(g), mape_pct=round(float(g.ape.mean()), 1),
                              median_error_pct=round(float(g.error.median() * 100.0), 1),
                              within_30_pct=int((g.ape <= 30.0).sum()))
                         for (gpu, precision), g in groups])


def _table(frame):
    cells = [[f"{v:g}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)]
    numeric = [pd.api.types.is_numeric_dtype(frame.dtypes.iloc[i]) for i in range(len(frame.columns))]
    return "\n".join(["| " + " | ".join(frame.columns) + " |",
                      "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
                     + ["| " + " | ".join(c) + " |" for c in cells])


def markdown(backtest_frame, wide_frame=None):
    """The back-test as the Markdown of docs/disaggregated.md (`scripts/gen_disaggregated_doc.py`): the headline,
    MAPE per GPU and precision over all binding points and over the system-bound ones, replicas up to the whole
    scale-up domain (``wide_frame``, `backtest` with ``max_tp`` 72) where given, and the largest errors."""
    whole, system = summary(backtest_frame).iloc[-1], summary(backtest_frame, system_bound_only=True).iloc[-1]
    zeros = int(((backtest_frame.predicted <= 0)).sum())
    verdict = "met" if system.mape_pct <= 30.0 else "missed"
    parts = [f"**Target (MAPE within 30 %): {verdict}.** MAPE {whole.mape_pct:g} % over all {whole.points} binding "
             f"points (median error {whole.median_error_pct:+g} %), {system.mape_pct:g} % over the {system.points} "
             f"system-bound ones (median {system.median_error_pct:+g} %); {zeros} points the model calls "
             f"impossible although InferenceX met their limits.", "",
             "All binding points (MAPE and median error of output tokens/s per GPU over the unit's GPUs, in %):", "",
             _table(summary(backtest_frame)), "",
             "System-bound points (at least one sequence per decode GPU):", "",
             _table(summary(backtest_frame, system_bound_only=True))]
    if wide_frame is not None:
        parts += ["", "System-bound points with replicas up to the whole scale-up domain (`max_tp=72`: GB200 "
                  "replicas of 16–64 GPUs), the extrapolation `CALIBRATED_REPLICA_GPUS` avoids:", "",
                  _table(summary(wide_frame, system_bound_only=True))]
    worst = backtest_frame.assign(ape=backtest_frame.error.abs()).sort_values("ape", ascending=False)
    worst = worst[~worst.client_bound].head(8)
    worst = worst.assign(error_pct=(worst.error * 100.0).round(0), measured=worst.measured.round(1),
                         predicted=worst.predicted.round(1))[
        ["gpu", "precision", "speculative", "input_tokens", "output_tokens", "tpot_ms", "ttft_ms", "measured",
         "predicted", "error_pct", "measured_layout", "chosen_layout", "source"]]
    parts += ["", "The largest errors among the system-bound points (SemiAnalysis InferenceX, the run in `source`; "
              "layouts are replicas × GPUs per replica):", "", _table(worst)]
    return "\n".join(parts) + "\n"


def servable(record):
    """``record`` (an `estimate_disaggregated` result) when it meets the limits; else one line naming the fix."""
    if not record.fits:
        raise InputError(f"{record.model} at {record.precision} ({record.weights_gb:,.0f} GB of weights) does not fit "
                         f"on {record.prefill_gpu}/{record.decode_gpu} replicas — use a lower precision or a larger GPU")
    if not record.meets_limits:
        raise InputError(
            f"{record.model} disaggregated on {record.prefill_gpu}/{record.decode_gpu} at {record.precision} cannot "
            f"meet TTFT ≤ {record.ttft_limit_ms:g} ms and TPOT ≤ {record.tpot_limit_ms:g} ms (one sequence: TTFT "
            f"{record.ttft_ms:,.0f} ms, TPOT {record.tpot_ms:,.1f} ms) — relax ttft_ms/tpot_ms or choose a faster GPU")
    return record


DOC_HEAD = """# Disaggregated prefill/decode serving

`atlas_xl.estimate_disaggregated(model, prefill_gpu, decode_gpu=None, *, precision, input_tokens, output_tokens,
ttft_ms, tpot_ms, speculative, acceptance_length, max_tp, catalog)` (module `atlas_xl/disaggregated.py`) sizes a
*unit* of prefill replicas, which only run prompts, and decode replicas, which only generate, on the serving model
of `docs/serving.md` (its calibration; nothing is fitted here). This page is generated by
`scripts/gen_disaggregated_doc.py`; `tests/test_disaggregated.py` checks that it is current.

## Equations (units in brackets; each is one function of the module)

- Prefill replica of tp_p GPUs: one prompt takes `prefill` [s], the serving model's compute-bound prefill; it
  serves rate_p = 1 / prefill prompts/s (`prefill_request_rate_per_s`).
- Decode replica of tp_d GPUs, no prefill interleaved: TPOT = step(B) / acceptance [s]; B is the largest batch
  with p99 TPOT = tpot_tail × TPOT ≤ tpot_ms and ttft_tail × (prefill + transfer + step(B)) ≤ ttft_ms, within
  memory and the engine's batch ceiling; rate_d = B / (output_tokens × TPOT) requests/s
  (`replica_request_rate_per_s`).
- KV transfer: kv = kv_bytes_per_token × prompt tokens [GB] (`prompt_kv_gb`); t = 1 ms + kv / (min(tp_p, tp_d)
  × scale_out) [ms] (`kv_transfer_ms`; `gpus.csv` `scale_out_gb_s`, from the InferenceX GPU table's
  `scale_out_bw_per_nic`; blank = one 400 Gb/s NIC, 50 GB/s). Always the scale-out network, also inside an NVL72
  rack (an upper bound there; the transfer is milliseconds against TTFTs of hundreds).
- TTFT = prefill + KV transfer + the first decode step (p99: × ttft_tail).
- Unit: n_p = n_d × rate_d / rate_p balances the rates (`balanced_prefill_replicas`), rounded down or up;
  output tokens/s per GPU = min(n_p rate_p, n_d rate_d) × output_tokens / (n_p tp_p + n_d tp_d)
  (`unit_output_tokens_per_s_per_gpu`). The model chooses tp_p, tp_d, B and n_p:n_d (at most 16 replicas per
  role) for the most output tokens/s per GPU of the unit. Replicas are at most `CALIBRATED_REPLICA_GPUS` (8)
  GPUs wide, the widest the serving model's back-test measures, unless nothing that narrow holds the model;
  `max_tp` raises it, within the GPU's scale-up domain.

`atlas_xl.disaggregated.servable(record)` turns a record that misses the limits into one line naming the fix; an
unknown prefill or decode GPU is refused naming the known ones. `plan(..., disaggregated=True)` and
`rank(..., disaggregated=True)` (`atlas-xl plan/rank --disaggregated`) plan a GPU offering on this unit and say
whether it is cheaper than aggregated serving (docs/planner.md, "Disaggregated serving"); so do the planner's
worksheet functions (`disaggregated` = TRUE), sweeps (a `disaggregated` column) and the finance functions —
forecast, break-even, cost range, sensitivity, commitments — in Python, the worksheet and the CLI (docs/finance.md).

## Back-test at the user's question (SemiAnalysis InferenceX)

Data: SemiAnalysis InferenceX, DeepSeek-R1-0528 `disagg = True` rows of `shared/data/inferencex_dsr1.csv`
(Apache-2.0; each point's `run_url` is in `catalogs/disaggregated_benchmarks.csv`, derived by
`scripts/derive_disaggregated.py`). A point is kept where its limits bind: no other point of its sweep (GPU,
precision, request shape, MTP or not) has at least its throughput within its p99 TPOT and TTFT. The model gets
that point's p99 TPOT and TTFT as limits and chooses the replica sizes, the ratio and the decode batch itself;
the measured concurrency and layout are never given. Measured = output tokens/s per GPU over the prefill *and*
decode GPUs (total tokens/s per GPU × output / (input + output); InferenceX's output figure divides by the decode
GPUs only).

Why the errors are large. (1) At tight TPOT limits InferenceX ran units of 8–100 GPUs with 1–16 concurrent
requests: the client, not the unit, set the throughput, so the measured figure lies far below what those limits
allow (the sweeps are thinned to 3–5 concurrency points). These *client-bound* points (fewer sequences than
decode GPUs) are split off below. (2) The tops of the sweeps (e.g. MI355X at 256 concurrent requests) are
client-bound too, in a way no per-point rule sees. (3) The serving model itself: speculative decoding's p99 TPOT
spreads wider than the one `tpot_tail` (MI355X MTP points), and replicas beyond one node (H100 at tp 16 over the
scale-out network) or beyond 8 GPUs (GB200) are outside its calibration.

"""


def doc_text(backtest_frame=None, wide_frame=None):
    """The whole of docs/disaggregated.md: the equations and the back-test tables of this catalog."""
    frame = backtest() if backtest_frame is None else backtest_frame
    wide = backtest(max_tp=72) if wide_frame is None else wide_frame
    return DOC_HEAD + markdown(frame, wide)
