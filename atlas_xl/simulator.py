"""The simulator: throughput, utilization, latency with queueing, power and cost of one configuration.

Every equation of ``spec/atlas_fabric_equations.md`` sections 3–6 is one function below, named
after what it returns; `simulate` chains them. Performance = hardware capability × utilization ÷
communication overhead.
"""
from __future__ import annotations

import math
import random

from . import arguments, queueing, serving
from .catalog import SCHEMAS, load_catalog, normalize_key, parse_bool, validate_record
from .errors import CatalogError, InputError, unknown_name
from .values import check_arguments
from .record import Record

DEFAULT_TARGET = "nvidia_h100_8x_nvlink"
DEFAULT_WORKLOAD = "llama_70b_chat"
DEFAULT_USD_PER_KWH = arguments.USD_PER_KWH  # spec section 6 "Standard rate" (atlas_xl/arguments.py)
KNOBS = ("cuda_graphs", "gpudirect_rdma", "fabric", "virt", "microbatch")
"""The optimization parameters (spec: K); a workload's ``runtime_tuning.*`` columns."""


# -- equations: throughput (spec 3.1–3.2) ---------------------------------------------------------
def utilization_with_knobs(rho_base, delta_cuda_graphs, delta_gpudirect, delta_inference, rho_max,
                           cuda_graphs, gpudirect_rdma, inference):
    """Effective utilization of the accelerators. [unitless]

    Notes
    -----
    rho = min(rho_base + Δrho_cuda·cuda_graphs + Δrho_gpudirect·gpudirect + Δrho_infer·[inference], rho_max)
    (spec 3.1)
    """
    rho = rho_base + delta_cuda_graphs * cuda_graphs + delta_gpudirect * gpudirect_rdma + delta_inference * inference
    return min(rho, rho_max)


def communication_intensity(chi_base, chi_tp, chi_pp, tp, pp, inference_scale, inference):
    """Communication needed between accelerators. [unitless]

    Notes
    -----
    chi = (chi_base + chi_tp·(tp − 1) + chi_pp·(pp − 1)) × (chi_infer_scale if inference else 1)  (spec 3.1)
    """
    chi = chi_base + chi_tp * (tp - 1) + chi_pp * (pp - 1)
    return chi * inference_scale if inference else chi


def communication_overhead(chi, fabric_factor, jitter_per_sriov, sriov, gpudirect_multiplier, gpudirect_rdma,
                           min_overhead):
    """End-to-end communication overhead omega_comm. [unitless]

    Notes
    -----
    omega_comm = max(omega_min, chi × gamma_fabric × gamma_jitter × gamma_gpudirect) with
    gamma_jitter = 1 + jitter_per_sriov·[sriov] and gamma_gpudirect = multiplier if GPUDirect
    RDMA else 1 (spec 3.1)
    """
    jitter = 1.0 + jitter_per_sriov * sriov
    gpudirect = gpudirect_multiplier if gpudirect_rdma else 1.0
    return max(min_overhead, chi * fabric_factor * jitter * gpudirect)


def base_rate(accelerators, base_tokens_per_accel, vendor_factor):
    """Theoretical maximum token rate of the target. [tokens s⁻¹]

    Notes
    -----
    base_rate = N × B_base × f_vendor(mode)  (spec 3.2)
    """
    return accelerators * base_tokens_per_accel * vendor_factor


def token_throughput(base_rate, rho, overhead_weight, omega_comm):
    """Token throughput after utilization and communication losses. [tokens s⁻¹]

    Notes
    -----
    tokens_per_second = base_rate × rho / (1 + omega × omega_comm)  (spec 3.2)
    """
    return base_rate * rho / (1.0 + overhead_weight * omega_comm)


def decode_scaling(tokens_per_second, generate, sequence):
    """Decode-only steady state of autoregressive inference. [tokens s⁻¹]

    Notes
    -----
    tokens_per_second × g / max(1, s), applied when g > 0 (spec 3.2)
    """
    return tokens_per_second * (generate / max(1, sequence)) if generate > 0 else tokens_per_second


def step_time_ms(step_tokens, tokens_per_second):
    """Duration of one step (training) or one batch. [ms]

    Notes
    -----
    step_time_ms = max(1, step_tokens) / tokens_per_second × 1000, with
    step_tokens = dp × microbatch × (prompt + generate)  (spec 3.2 and notation)
    """
    return max(1, step_tokens) / tokens_per_second * 1000.0


def flop_utilization(rho, kappa_comm, omega_comm):
    """Share of peak FLOPs used. [unitless]

    Notes
    -----
    flop_util = rho × (1 − kappa_comm × omega_comm)  (spec 3.3)
    """
    return rho * (1.0 - kappa_comm * omega_comm)


def hbm_utilization(sequence, hbm_base, hbm_seq_scale, hbm_seq_norm, hbm_max):
    """Share of memory bandwidth used. [unitless]

    Notes
    -----
    hbm_util = min(hbm_max, hbm_base + hbm_seq_scale × s / hbm_seq_norm)  (spec 3.3)
    """
    return min(hbm_max, hbm_base + hbm_seq_scale * sequence / hbm_seq_norm)


def comm_compute_ratio(overhead_weight, omega_comm):
    """Communication time per unit of compute time implied by the throughput equation. [unitless]

    Notes
    -----
    The throughput equation stretches compute time by (1 + omega·omega_comm), so communication
    adds omega × omega_comm per unit of compute (atlas_xl's reading; the spec names the field only).
    """
    return overhead_weight * omega_comm


def noise_epsilon(seed, amplitude):
    """Seeded multiplicative noise epsilon ~ U[−a/2, a/2]; exactly 0 when the amplitude is 0.

    Notes
    -----
    spec 3.3 "Random perturbations"; the same seed gives the same epsilon on every platform
    (Python's Mersenne Twister).
    """
    return (random.Random(seed).random() - 0.5) * amplitude


# -- equations: latency (spec 4.1) ----------------------------------------------------------------
def p50_service_ms(lat_min_ms, lat_base_coeff, base_rate, accelerators):
    """Median service time of one request in isolation. [ms]

    Notes
    -----
    p50_service = max(lat_min, lat_base_coeff / max(1, base_rate / N))  (spec 4.1)
    """
    return max(lat_min_ms, lat_base_coeff / max(1.0, base_rate / accelerators))


def tail_multiplier(tail_comm, omega_comm, tail_sriov, sriov):
    """Tail-latency penalty of communication and virtualization. [unitless]

    Notes
    -----
    tail_mult = 1 + tail_comm × omega_comm + tail_sriov × [virt = sriov]  (spec 4.1)
    """
    return 1.0 + tail_comm * omega_comm + tail_sriov * sriov


def tail_service_ms(p50_service_ms, percentile_multiplier, tail_multiplier):
    """p95 or p99 service time: p50 × m95 (or m99) × tail_mult. [ms] (spec 4.1)"""
    return p50_service_ms * percentile_multiplier * tail_multiplier


def ttft_service_ms(p50_service_ms, ttft_ratio):
    """Time to first token in isolation: p50 × r_ttft. [ms] (spec 4.1)"""
    return p50_service_ms * ttft_ratio


# -- equations: power and cost (spec 5–6) -----------------------------------------------------------
def node_power_w(p_node_nominal_w, phi_idle, phi_util, rho):
    """Power of one node. [W]

    Notes
    -----
    node_power_w = p_node_nominal × (phi_idle + phi_util × rho)  (spec 5)
    """
    return p_node_nominal_w * (phi_idle + phi_util * rho)


def energy_cost_per_hour_usd(power_w, pue, usd_per_kwh):
    """Electricity cost including datacenter overhead. [USD h⁻¹]

    Notes
    -----
    energy_cost_per_hour = power_w × PUE / 1000 × cost_per_kWh  (spec 6)
    """
    return power_w * pue / 1000.0 * usd_per_kwh


def dollar_per_1k_tokens(hourly_usd, energy_cost_per_hour_usd, tokens_per_second):
    """Infrastructure plus energy cost of a thousand tokens. [USD (1000 tokens)⁻¹]

    Notes
    -----
    (hourly_cost + energy_cost_per_hour) / (tokens_per_second × 3.6)  (spec 6: tokens per hour / 1000)
    """
    return (hourly_usd + energy_cost_per_hour_usd) / (tokens_per_second * 3.6)


# -- inputs ---------------------------------------------------------------------------------------
WORKLOAD_DEFAULTS = {
    "parallelism.tp": 1, "parallelism.pp": 1, "parallelism.dp": 1, "sequence.generate": 0,
    "runtime_tuning.microbatch": 1, "runtime_tuning.cuda_graphs": False,
    "runtime_tuning.gpudirect_rdma": False, "runtime_tuning.virt": "bare", "runtime_tuning.fabric": "ib",
}
_PROVENANCE = {"source": "user input", "as_of": "undated"}


def flatten(tree, prefix=""):
    """{'a': {'b': 1}} → {'a.b': 1}, keys in the catalog's spelling (lower case)."""
    flat = {}
    for key, value in tree.items():
        path = f"{prefix}{normalize_key(key)}"
        if isinstance(value, dict):
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def parse_overrides(text):
    """'parallelism.dp=12; sequence.prompt=2048' → {'parallelism.dp': '12', ...}."""
    pairs = {}
    for part in str(text or "").split(";"):
        if part.strip():
            key, sep, value = part.partition("=")
            if not sep:
                raise InputError(f"override '{part.strip()}' needs key=value, e.g. parallelism.dp=12")
            pairs[normalize_key(key)] = value.strip()
    return pairs


def _one_row(table, record, what):
    """Validate one record against a catalog schema (the same rules and messages as the CSVs)."""
    columns = [c.name for c in SCHEMAS[table][0]]
    sections = {c.split(".")[0] for c in columns if "." in c}
    unknown = [k for k in record if k not in columns and k.split(".")[0] in sections]
    if unknown:
        near = [c for c in columns if c.split(".")[0] == unknown[0].split(".")[0]]
        raise InputError(f"unknown key '{unknown[0]}' in {what} — known: {', '.join(near)}")
    try:
        return validate_record(table, {**_PROVENANCE, **record}, what)
    except CatalogError as error:  # the user's own input, not a catalog file
        raise InputError(str(error)) from None


def resolve_target(target, cat):
    if isinstance(target, dict):
        flat = flatten(target)
        flat.setdefault("target", flat.pop("name", "custom"))
        vendor = str(flat.get("vendor", ""))
        flat.setdefault("hardware_model", normalize_key(vendor) if normalize_key(vendor) in cat.hardware_models else "")
        if not flat["hardware_model"]:
            raise InputError(f"target '{flat['target']}' needs a hardware_model — known: "
                             f"{', '.join(sorted(cat.hardware_models))}")
        return _one_row("targets", flat, f"target '{flat['target']}'")
    return cat.record("targets", target or DEFAULT_TARGET)


def resolve_hardware(hardware, target, cat):
    base = cat.record("hardware_models", target["hardware_model"])
    if hardware is None:
        return base
    if isinstance(hardware, dict):
        overlay = {k: v for k, v in flatten(hardware).items()
                   if k not in ("description", "notes", "name") and k.split(".")[0] not in ("match", "best_for", "memory", "retries")}
        return _one_row("hardware_models", {**base, **overlay}, f"hardware model '{base['hardware_model']}'")
    return cat.record("hardware_models", hardware)


def resolve_workload(workload, cat, overrides=None):
    """A workload record from a catalog name or a dict in the seed YAML schema, with overrides."""
    if isinstance(workload, dict):
        flat = flatten({k: v for k, v in workload.items() if normalize_key(k) != "schedule"})
        name = normalize_key(flat.pop("name", flat.pop("workload", "")))
        base = cat.record("workloads", name) if name in cat.workloads else dict(WORKLOAD_DEFAULTS, workload=name or "custom")
        record = {**base, **flat}
    else:
        record = cat.record("workloads", workload or DEFAULT_WORKLOAD)
        if not overrides:
            return record  # validated when the catalog loaded
        record = {**record, **overrides}
    if "mode" not in record or record.get("mode") in ("", None):
        record["mode"] = "inference" if float(record.get("sequence.generate", 0) or 0) > 0 else "training"
    return _one_row("workloads", record, f"workload '{record.get('workload', 'custom')}'")


def resolve_knobs(workload, knobs, hardware):
    """The optimization parameters: the workload's runtime_tuning, overridden by ``knobs``."""
    values = {k: workload[f"runtime_tuning.{k}"] for k in KNOBS}
    for key, value in (knobs or {}).items():
        name = normalize_key(key).removeprefix("runtime_tuning.")
        if name not in KNOBS:
            raise InputError(f"unknown knob '{key}' — known: {', '.join(KNOBS)}")
        values[name] = value
    values["cuda_graphs"] = parse_bool(values["cuda_graphs"], "knob cuda_graphs", InputError)
    values["gpudirect_rdma"] = parse_bool(values["gpudirect_rdma"], "knob gpudirect_rdma", InputError)
    virt = normalize_key(values["virt"])
    if virt not in ("bare", "sriov"):
        raise InputError(f"knob virt '{values['virt']}' is unknown — use bare or sriov")
    fabric = normalize_key(values["fabric"])
    fabrics = sorted(k.rsplit(".", 1)[1] for k in hardware if k.startswith("communication.fabric_factors."))
    if fabric not in fabrics:
        raise unknown_name("fabric", fabric, fabrics, f" for hardware model '{hardware['hardware_model']}'")
    microbatch = values["microbatch"]
    if isinstance(microbatch, bool) or not isinstance(microbatch, (int, float, str)):
        raise InputError(f"knob microbatch must be a whole number >= 1, not {microbatch!r}")
    try:
        microbatch = float(microbatch)
    except ValueError:
        raise InputError(f"knob microbatch must be a whole number >= 1, not {values['microbatch']!r}") from None
    if not math.isfinite(microbatch) or microbatch < 1 or microbatch != int(microbatch):
        raise InputError(f"knob microbatch must be a whole number >= 1, not {values['microbatch']!r}")
    return {"cuda_graphs": values["cuda_graphs"], "gpudirect_rdma": values["gpudirect_rdma"],
            "fabric": fabric, "virt": virt, "microbatch": int(microbatch)}


# -- the whole simulation -------------------------------------------------------------------------
def simulate(target=None, workload=None, knobs=None, *, seed=0, hardware=None, catalog=None,
             usd_per_kwh=DEFAULT_USD_PER_KWH, pue=None, _phase=None):
    """Simulate one configuration.

    Parameters
    ----------
    target : str or dict
        Node or cluster: a catalog key (nvidia_h100_8x_nvlink) or a dict in the schema of
        ``targets.yaml``. Default nvidia_h100_8x_nvlink.
    workload : str or dict
        A catalog key (llama_70b_chat) or a dict in the schema of ``workloads.yaml``; a dict with a
        ``name`` of a catalog workload overrides that workload's values.
    knobs : dict, optional
        Optimization parameters overriding the workload's runtime_tuning: cuda_graphs,
        gpudirect_rdma (bool), fabric (ib, roce, nvlink...), virt (bare | sriov), microbatch (int).
    seed : int
        Seed of the noise; the same inputs and seed give the same record bit for bit.
    hardware : str or dict, optional
        Another hardware model, or a dict (schema of ``nvidia.yaml``) overriding coefficients of
        the target's model.
    usd_per_kwh : float
        Electricity price. [USD kWh⁻¹]
    pue : float, optional
        Overrides the target's PUE. [unitless]

    Returns
    -------
    Record
        tokens_per_sec, step_time_ms, flop_utilization, hbm_bw_util, comm_compute_ratio,
        p50/p95/p99/ttft (``*_service_ms`` in isolation; ``*_ms`` with queue delay), queue
        metrics (``queue_*``, ``saturated``), node_power_w, energy_cost_per_hour_usd,
        dollar_per_1k_tokens and the inputs that produced them.
    """
    check_arguments(seed=seed, usd_per_kwh=usd_per_kwh, pue=pue)  # docs/limits.md
    cat = load_catalog(catalog)
    phase = _phase or {}
    t, h, w = resolve(target, workload, hardware, cat, phase.get("overrides"))
    k = resolve_knobs(w, knobs, h)
    return simulate_resolved(t, h, w, k, seed, cat, usd_per_kwh, pue, phase)


def resolve(target, workload, hardware, cat, overrides=None):
    """(target, hardware, workload) records; the hardware's base rate from the serving model unless
    ``hardware`` gives ``compute.base_tokens_per_accel`` explicitly (then the seed's equations run on it)."""
    t = resolve_target(target, cat)
    h = resolve_hardware(hardware, t, cat)
    w = resolve_workload(workload, cat, overrides)
    if not (isinstance(hardware, dict) and "compute.base_tokens_per_accel" in flatten(hardware)):
        h = dict(h, **serving_base_rate(t, h, w, cat))
    return t, h, w


UNLIMITED_MS = 3.6e6
"""A latency limit that never binds (one hour, the value parser's largest) [ms]."""
REFERENCE_KNOBS = {"cuda_graphs": True, "gpudirect_rdma": True, "virt": "bare"}
"""The tuned configuration a measured serving throughput (MLPerf-like) stands for; the simulator's knobs
then degrade the base rate from it (fabric: the hardware model's best, NVLink on NVIDIA)."""


def serving_base_rate(t, h, w, cat):
    """The base rate per accelerator from the serving model, for inference on a target whose GPU is in
    gpus.csv; {} (the hardware model's published base_tokens_per_accel) otherwise.

    Notes
    -----
    base = serving total tokens/s per GPU × (1 + ω·ω_ref) / (ρ_ref × f_vendor(inference)), with ρ_ref
    and ω_ref of `REFERENCE_KNOBS`, so that the spec's throughput equation (3.1–3.2) returns the serving
    model's throughput for a tuned deployment and less for an untuned one: with the decode scaling g/s
    (3.2), a tuned, noiseless simulation reports accelerators × the serving model's *output* tokens/s per
    GPU at the workload's tp·pp and request shape, exactly (`atlas_xl.estimate`; the seed's noise stays
    within ±amplitude/2 around it). Where the default latency limits cannot be met, the rate without a
    latency limit (the simulator reports its own latencies). The model is the workload's
    ``model`` or, without one, a dense model built from its ``params.*`` (12·layers·hidden² + 2·vocab·hidden
    parameters, multi-head attention).
    """
    gpu = t.get("gpu")
    if w["mode"] != "inference" or not gpu:
        return {}
    model = w.get("model") or _model_from_params(w)
    if model is None:
        return {}
    precision = normalize_key(w.get("precision.weights", "")) or serving.DEFAULT_PRECISION
    if precision not in serving.PRECISIONS:
        precision = serving.DEFAULT_PRECISION
    shape = dict(precision=precision, input_tokens=max(w["sequence.prompt"], 1), output_tokens=w["sequence.generate"],
                 tp=w["parallelism.tp"] * w["parallelism.pp"], catalog=cat)
    est = serving.estimate(model, gpu, **shape)
    basis = est.basis
    if est.fits and not est.meets_limits:
        # the serving model's default TTFT/TPOT limits cannot be met (a long prompt): the simulator reports its own
        # latencies, so its rate is the one the replica's memory allows, without a latency limit
        est = serving.estimate(model, gpu, ttft_ms=UNLIMITED_MS, tpot_ms=UNLIMITED_MS, **shape)
        basis = f"{est.basis}, beyond the default latency limits"
    if not est.fits:
        raise InputError(f"{est.model} at {precision} does not fit on tp·pp = {est.tp:g} {gpu} GPUs "
                         f"({est.weights_gb:,.0f} GB of weights) — raise parallelism.tp or use a lower precision")
    factors = {k.rsplit(".", 1)[1]: v for k, v in h.items() if k.startswith("communication.fabric_factors.") and v}
    ref = resolve_knobs(w, dict(REFERENCE_KNOBS, fabric=min(factors, key=factors.get)), h)
    rho = utilization_with_knobs(h["utilization.base"], h["utilization.knob_increments.cuda_graphs"],
                                 h["utilization.knob_increments.gpudirect_rdma"],
                                 h["utilization.knob_increments.inference_bonus"], h["utilization.max"],
                                 ref["cuda_graphs"], ref["gpudirect_rdma"], True)
    chi = communication_intensity(h["communication.intensity.base"], h["communication.intensity.per_tp"],
                                  h["communication.intensity.per_pp"], w["parallelism.tp"], w["parallelism.pp"],
                                  h["communication.intensity.inference_scale"], True)
    omega = communication_overhead(chi, h[f"communication.fabric_factors.{ref['fabric']}"],
                                   h["communication.jitter_per_sriov"], False, h["communication.gpudirect_multiplier"],
                                   True, h["communication.min_overhead"])
    base = est.total_tokens_per_s_per_gpu * (1.0 + h["throughput.overhead_weight"] * omega) / (
        rho * h["compute.factors.inference"])
    return {"compute.base_tokens_per_accel": base, "base_rate_basis": f"serving model ({basis})"}


def _model_from_params(w):
    n = {k: w.get(f"params.{k}") for k in ("hidden_size", "n_layers", "vocab_size", "n_heads")}
    if not (n["hidden_size"] and n["n_layers"] and n["n_heads"]):
        return None
    params = 12.0 * n["n_layers"] * n["hidden_size"] ** 2 + 2.0 * (n["vocab_size"] or 0) * n["hidden_size"]
    return {"model": w["workload"], "params_b": params / 1e9, "layers": n["n_layers"], "hidden_size": n["hidden_size"],
            "attention_heads": n["n_heads"]}


def simulate_resolved(t, h, w, k, seed, cat, usd_per_kwh, pue, phase):
    """`simulate` on a target ``t``, hardware model ``h``, workload ``w`` and knobs ``k`` already
    resolved (`resolve`, `resolve_knobs`): the optimizer resolves once and simulates every candidate
    knob set through this. ``phase`` is a schedule phase's settings ({} outside a schedule)."""
    if usd_per_kwh is None or not 0 <= float(usd_per_kwh) < math.inf:
        raise InputError(f"usd_per_kwh must be a number >= 0, not {usd_per_kwh!r}")
    pue = t["cost.pue"] if pue is None else float(pue)
    if not pue >= 1:
        raise InputError(f"pue must be >= 1 (1.0 = no overhead), not {pue!r}")
    inference = w["mode"] == "inference"
    accelerators = t["accelerators_per_node"] * t["num_nodes"]
    tp, pp, dp = w["parallelism.tp"], w["parallelism.pp"], w["parallelism.dp"]
    if tp * pp * dp > accelerators:
        raise InputError(f"parallelism tp·pp·dp = {tp}·{pp}·{dp} = {tp * pp * dp} needs {tp * pp * dp} accelerators "
                         f"but target '{t['target']}' has {accelerators} — use a larger target or less parallelism")
    sriov = k["virt"] == "sriov"
    sequence = w["sequence.prompt"] + w["sequence.generate"]

    rho = utilization_with_knobs(h["utilization.base"], h["utilization.knob_increments.cuda_graphs"],
                                 h["utilization.knob_increments.gpudirect_rdma"],
                                 h["utilization.knob_increments.inference_bonus"], h["utilization.max"],
                                 k["cuda_graphs"], k["gpudirect_rdma"], inference)
    chi = communication_intensity(h["communication.intensity.base"], h["communication.intensity.per_tp"],
                                  h["communication.intensity.per_pp"], tp, pp,
                                  h["communication.intensity.inference_scale"], inference)
    omega_comm = communication_overhead(chi, h[f"communication.fabric_factors.{k['fabric']}"],
                                        h["communication.jitter_per_sriov"], sriov,
                                        h["communication.gpudirect_multiplier"], k["gpudirect_rdma"],
                                        h["communication.min_overhead"])
    rate = base_rate(accelerators, h["compute.base_tokens_per_accel"],
                     h["compute.factors.inference" if inference else "compute.factors.training"])
    tokens = token_throughput(rate, rho, h["throughput.overhead_weight"], omega_comm)
    if inference:
        tokens = decode_scaling(tokens, w["sequence.generate"], sequence)
    epsilon = noise_epsilon(seed, h["noise.amplitude"])
    tokens *= 1.0 + epsilon

    p50_s = p50_service_ms(h["latency.min_p50_ms"], h["latency.base_p50_coeff"], rate, accelerators)
    tail = tail_multiplier(h["latency.tail.comm_tail"], omega_comm, h["latency.tail.sriov_tail"], sriov)
    tail_noise = 1.0 + epsilon * h["noise.tail_scale"]
    p95_s = tail_service_ms(p50_s, h["latency.tail.p95_multiplier"], tail) * tail_noise
    p99_s = tail_service_ms(p50_s, h["latency.tail.p99_multiplier"], tail) * tail_noise
    ttft_s = ttft_service_ms(p50_s, h["latency.ttft_ratio"])

    nominal_tokens = tokens  # before phase scaling: the capacity that nominal demand refers to
    autoscale = phase.get("autoscale_factor", 1.0)
    scale = phase.get("tokens_scale", 1.0) * autoscale
    tokens = max(1.0, tokens * scale) if phase else tokens  # spec 7 per-phase scaling
    step_tokens = dp * k["microbatch"] * sequence
    power_node = node_power_w(t["cost.energy_watts_node"], h["power.idle_fraction"], h["power.util_fraction"], rho)
    power_node *= autoscale
    power_cluster = power_node * t["num_nodes"]
    hourly = t["cost.hourly_usd"] * t["num_nodes"] * autoscale  # autoscaling adds (or sheds) nodes
    energy = energy_cost_per_hour_usd(power_cluster, pue, usd_per_kwh)

    record = Record(
        target=t["target"], workload=w["workload"], hardware_model=h["hardware_model"], mode=w["mode"],
        seed=seed, **{f"knob_{n}": v for n, v in k.items()},
        accelerators=accelerators, tp=tp, pp=pp, dp=dp, prompt_tokens=w["sequence.prompt"],
        generate_tokens=w["sequence.generate"],
        utilization=rho, comm_intensity=chi, comm_overhead=omega_comm, noise_epsilon=epsilon,
        base_rate_tokens_per_sec=rate, base_rate_basis=h.get("base_rate_basis", "hardware model"),
        tokens_per_sec=tokens, step_tokens=step_tokens,
        step_time_ms=step_time_ms(step_tokens, tokens),
        flop_utilization=flop_utilization(rho, h["compute.comm_penalty_coeff"], omega_comm),
        hbm_bw_util=hbm_utilization(sequence, h["hbm.base"], h["hbm.seq_scale"], h["hbm.seq_norm"], h["hbm.max"]),
        comm_compute_ratio=comm_compute_ratio(h["throughput.overhead_weight"], omega_comm),
        p50_service_ms=p50_s, p95_service_ms=p95_s, p99_service_ms=p99_s, ttft_service_ms=ttft_s,
    )
    record.update(_queue(w, cat, phase, tokens, nominal_tokens, dp, (p50_s, p95_s, p99_s, ttft_s), inference))
    record.update(node_power_w=power_node, cluster_power_w=power_cluster, pue=pue, usd_per_kwh=float(usd_per_kwh),
                  hourly_cost_usd=hourly, energy_cost_per_hour_usd=energy,
                  dollar_per_1k_tokens=dollar_per_1k_tokens(hourly, energy, tokens))
    return record


def _queue(w, cat, phase, tokens, nominal_tokens, dp, service, inference):
    """Queue metrics and queue-adjusted latencies (spec 4.2); training has no request queue."""
    p50_s, p95_s, p99_s, ttft_s = service
    nan = math.nan
    if not inference:
        return dict(p50_ms=p50_s, p95_ms=p95_s, p99_ms=p99_s, ttft_ms=ttft_s, queue_profile="", queue_servers=nan,
                    queue_service_time_ms=nan, queue_arrival_rate_per_sec=nan, queue_utilization=nan,
                    queue_wait_probability=nan, queue_wait_ms=nan, queue_wait_p50_ms=nan,
                    queue_wait_p95_ms=nan, queue_wait_p99_ms=nan, queue_ca2=nan, queue_cs2=nan,
                    queue_delay_capped=False, saturated=False)
    profile_name = phase.get("request_profile") or w.get("arrival.profile") or "steady"
    profile = cat.record("request_profiles", profile_name)
    servers = w.get("arrival.servers", dp)
    request_tokens = w["sequence.generate"] or w["sequence.prompt"]
    service_s = request_tokens / (tokens / servers)  # one request on one replica
    nominal_capacity = servers / (request_tokens / (nominal_tokens / servers))  # requests/s before autoscaling
    arrival = w.get("arrival.requests_per_sec", profile["load_factor"] * nominal_capacity)
    ca2, cs2 = profile["arrival_cv"] ** 2, w.get("arrival.cs2", 1.0)
    wq = queueing.mean_wait(arrival, service_s, servers, ca2, cs2) * 1000.0
    wait_probability = queueing.erlang_c(servers, arrival * service_s)
    w50, w95, w99 = (queueing.percentile_from_mean(q, wq, wait_probability) for q in (0.50, 0.95, 0.99))
    p50, p95, p99, ttft = queueing.queue_latencies(p50_s, p95_s, p99_s, ttft_s, wq, w50, w95)
    rho = queueing.utilization(arrival, service_s, servers)
    return dict(p50_ms=p50, p95_ms=p95, p99_ms=p99, ttft_ms=ttft, queue_profile=profile["profile"],
                queue_servers=servers, queue_service_time_ms=service_s * 1000.0, queue_arrival_rate_per_sec=arrival,
                queue_utilization=rho, queue_wait_probability=wait_probability,
                queue_wait_ms=wq, queue_wait_p50_ms=w50, queue_wait_p95_ms=w95, queue_wait_p99_ms=w99,
                queue_ca2=ca2, queue_cs2=cs2, saturated=rho >= 1,
                # True when the spec's bounds (0.5/0.8/0.9 × service) cut the queue delay short:
                # the unbounded waits are in queue_wait_p50/p95/p99_ms
                queue_delay_capped=bool(wq > 0.5 * p50_s or max(1.5 * wq, w50) > 0.8 * p95_s
                                        or max(2.0 * wq, w95) > 0.9 * p99_s))




# -- a planned deployment as simulator inputs --------------------------------------------------------
HOST_W_PER_GPU = 575.0
"""Host share of a GPU node's power per GPU [W]: (DGX H100 10.2 kW − 8 × 700 W) / 8
(shared/data/electricity_datacenter.csv, shared/data/gpu_specs.csv)."""
GPUS_PER_NODE = 8


def node_split(gpu_count):
    """(nodes, GPUs per node): the fewest equal nodes of at most `GPUS_PER_NODE` GPUs that hold exactly
    ``gpu_count`` GPUs (12 → 2 × 6; a prime above 8 → that many one-GPU nodes)."""
    count = int(gpu_count)
    nodes = math.ceil(count / GPUS_PER_NODE)
    while count % nodes:
        nodes += 1
    return nodes, count // nodes


def deployment(plan_result, catalog=None):
    """(target, workload) dicts that simulate what `atlas_xl.plan` planned: the same model, GPU, GPU
    count, replica size, precision and request shape, tuned as a serving deployment, with a schedule
    from the traffic pattern (active share of the week at the pattern's load, the rest quiet).

    Raises InputError for a per-token plan (no GPUs to simulate).
    """
    cat = load_catalog(catalog)
    p = plan_result
    if p.billing == "per_token" or not p.gpu:
        raise InputError(f"{p.platform} bills per token: there are no GPUs to simulate — pick a GPU offering")
    count, tp = int(p.gpu_count), int(p.replica_gpus)
    nodes, per_node = node_split(count)
    vendor = cat.gpu_vendors[p.gpu]
    tdp = cat.gpu_specs[p.gpu]["tdp_w"]
    hardware = "amd_mi300x" if normalize_key(vendor) == "amd" else "nvidia"
    target = {"name": f"{p.platform}_{p.gpu}_x{count}", "vendor": vendor, "hardware_model": hardware, "gpu": p.gpu,
              "accelerators_per_node": per_node, "num_nodes": nodes, "memory_gb_per_accel": cat.gpu_specs[p.gpu]["memory_gb"],
              "interconnect": {"type": "NVLink" if per_node > 1 else "PCIe"},
              "cost": {"hourly_usd": p.hourly_usd * per_node,
                       "energy_watts_node": per_node * ((tdp if tdp == tdp else 700.0) + HOST_W_PER_GPU), "pue": 1.2}}
    pattern = cat.pattern(p.pattern)
    phases = [{"name": "active", "duration_minutes": 10080.0 * pattern.active_ratio,
               "request_profile": "peak" if pattern.burst_factor > 1 else "steady"}]
    if pattern.active_ratio < 1:
        phases.append({"name": "quiet", "duration_minutes": 10080.0 * (1 - pattern.active_ratio),
                       "request_profile": "low"})
    inputs = serving.DEFAULT_INPUT_TOKENS if p.input_tokens != p.input_tokens else p.input_tokens
    outputs = serving.DEFAULT_OUTPUT_TOKENS if p.output_tokens != p.output_tokens else p.output_tokens
    workload = {"name": f"{p.model}_planned", "mode": "inference", "model": p.model,
                "parallelism": {"tp": tp, "pp": 1, "dp": max(count // tp, 1)},
                "sequence": {"prompt": int(round(inputs)), "generate": int(round(outputs))},
                "precision": {"weights": p.precision or serving.DEFAULT_PRECISION},
                "runtime_tuning": {"microbatch": 1, "cuda_graphs": True, "gpudirect_rdma": True, "virt": "bare",
                                   "fabric": "nvlink" if per_node > 1 and hardware == "nvidia" else "ib"},
                "arrival": {"profile": "steady"}, "schedule": {"phases": phases}}
    return target, workload
