"""Power, energy and carbon of a planned deployment, and what a site power cap allows (issue 19 item 4).

A plan (`atlas_xl.plan`) says how many GPUs run how many paid hours at what mean utilization; the serving
model (`atlas_xl.serving.estimate`) says what one GPU draws at the plan's operating point. From those:

* average power per GPU while paid = idle + (full-load − idle) × mean utilization, plus the host's share
  of the node (CPUs, memory, NICs, fans), times the facility's PUE;
* energy per month = that power × GPUs × paid hours; emissions = energy × the grid's intensity
  (``catalogs/grid_intensity.csv``, cited per region, or a figure you give);
* under a site power cap (kW at the facility meter) the GPUs it can feed at full load, and the daily volume
  those GPUs serve at the planner's target utilization — the planner's own equations run backwards.

The equations a plan shares (`average_gpu_power_w`, `facility_power_kw`, `energy_kwh`, `co2e_kg`,
`grid_intensity` and their defaults) live in `atlas_xl.running`, below the planner, which fills
``energy_kwh_per_month`` and ``co2e_kg_per_month`` into every plan.

A per-token offering has no GPUs of yours: its footprint is unknown and every figure is NaN with a reason.
"""

from __future__ import annotations

import math

from . import serving
from .arith import is_array
from .catalog import load_catalog
from .errors import InputError
from .planner import DEFAULT_ASSUMPTIONS, serving_estimate
from .record import Record
from .running import (DEFAULT_PUE, DEFAULT_REGION, HOST_W_PER_GPU, average_gpu_power_w,  # noqa: F401 (as before)
                      co2e_kg, energy_kwh, facility_power_kw, grid_intensity)
from .values import check_arguments

def gpus_within_cap(power_cap_kw, full_load_w, pue, replica_gpus, host_w_per_gpu=HOST_W_PER_GPU):
    """The most GPUs, in whole replicas, a site power cap feeds when every GPU runs at full load. [GPUs]

    Notes
    -----
    N = ⌊cap × 1000 / ((P_full + P_host) × PUE) / replica⌋ × replica — sized at full load, because a cap
    must hold at the peak, not on average.
    """
    per_gpu_kw = (full_load_w + host_w_per_gpu) * pue / 1000.0
    return math.floor(power_cap_kw / per_gpu_kw / replica_gpus) * replica_gpus


def max_tokens_per_day(tokens_per_day, utilization_ratio, gpus, target_utilization):
    """The daily volume ``gpus`` serve at the planner's target utilization. [tokens day⁻¹]

    Notes
    -----
    The planner needs GPUs = ⌈u₁ / target⌉ (whole replicas) with u₁ = peak ÷ effective tokens/s of one GPU,
    and the peak is proportional to the daily volume; so N GPUs serve volume × N × target ÷ u₁.
    """
    return tokens_per_day * gpus * target_utilization / utilization_ratio


def footprint(plan_result, *, region=None, g_co2e_per_kwh=None, pue=None, power_cap_kw=None, catalog=None,
              target_utilization=0.75):
    """Power, energy and carbon of a plan, and what a site power cap allows.

    Parameters
    ----------
    plan_result : atlas_xl.PlanResult
        A scalar plan (`atlas_xl.plan`) on GPUs of the catalog.
    region : str, optional
        Grid region of ``grid_intensity.csv`` (default ``"world"``).
    g_co2e_per_kwh : float, optional
        The grid's intensity instead of the region's (your supplier's figure). [gCO2e/kWh]
    pue : float, optional
        Facility power over IT power, ≥ 1 (default `DEFAULT_PUE`). [unitless]
    power_cap_kw : float, optional
        The site's power at the facility meter. [kW]
    target_utilization : float
        The planner's scaling threshold the plan used (`atlas_xl.Assumptions`). [unitless]

    Returns
    -------
    Record
        ``gpu_power_w`` (average board power per GPU), ``facility_power_kw`` (average), ``peak_power_kw``
        (every GPU at full load), ``energy_kwh_per_month``, ``kwh_per_m_tokens``, ``co2e_kg_per_month``,
        ``g_co2e_per_m_tokens``, ``g_co2e_per_kwh`` with ``grid`` (region, basis, year, source), ``pue``; with a
        cap: ``max_gpus``, ``max_tokens_per_day``, ``within_power_cap``. NaN with ``reason`` for a per-token plan.
    """
    check_arguments(pue=pue, g_co2e_per_kwh=g_co2e_per_kwh, power_cap_kw=power_cap_kw)  # docs/limits.md
    p = plan_result
    cat = load_catalog(catalog)
    pue = DEFAULT_PUE if pue is None else float(pue)
    if g_co2e_per_kwh is None:
        intensity, row = grid_intensity(region, cat)
        grid = f"{row['name']} {int(row.year)}, {row.basis}: {row.source}"
    else:
        intensity, grid = float(g_co2e_per_kwh), "given"
    cap = None if power_cap_kw is None else float(power_cap_kw)
    nan = math.nan
    out = Record(gpu_power_w=nan, facility_power_kw=nan, peak_power_kw=nan, energy_kwh_per_month=nan,
                 kwh_per_m_tokens=nan, co2e_kg_per_month=nan, g_co2e_per_m_tokens=nan, g_co2e_per_kwh=intensity,
                 grid=grid, pue=pue, max_gpus=nan, max_tokens_per_day=nan, within_power_cap=None, reason="")
    if p.billing == "per_token" or not p.gpu:
        out["reason"] = f"{p.platform} bills per token: the provider's GPUs and grid are not known"
        return out
    if is_array(p.gpu_count):
        raise InputError("footprint takes one plan — call plan with one tokens_per_day")
    spec = cat.gpu_specs[p.gpu]
    tdp = spec["tdp_w"]
    if not tdp == tdp:
        raise InputError(f"{p.gpu} has no tdp_w in gpus.csv — add it to compute its power")
    full = tdp if p.model not in cat.model_specs else serving_estimate(p, cat).power_w_per_gpu
    gpu_w = average_gpu_power_w(serving.POWER_IDLE_FRACTION * tdp, full, p.mean_utilization)
    paid_hours = p.active_hours_per_month if p.billing == "autoscaling" else DEFAULT_ASSUMPTIONS.hours_per_month
    average_kw = facility_power_kw(gpu_w, p.gpu_count, pue)
    energy = energy_kwh(average_kw, paid_hours)
    out.update(gpu_power_w=gpu_w, facility_power_kw=average_kw, peak_power_kw=facility_power_kw(full, p.gpu_count, pue),
               energy_kwh_per_month=energy, kwh_per_m_tokens=energy / p.monthly_tokens * 1e6,
               co2e_kg_per_month=co2e_kg(energy, intensity),
               g_co2e_per_m_tokens=co2e_kg(energy, intensity) * 1000.0 / p.monthly_tokens * 1e6)
    if cap is not None:
        most = gpus_within_cap(cap, full, pue, p.replica_gpus)
        if most < p.replica_gpus:
            raise InputError(f"power_cap_kw {cap:g} cannot feed one replica of {p.replica_gpus:g} {p.gpu} GPUs "
                             f"({facility_power_kw(full, p.replica_gpus, pue):,.1f} kW at full load) — give a "
                             f"larger cap")
        out.update(max_gpus=float(most), within_power_cap=bool(p.gpu_count <= most),
                   max_tokens_per_day=max_tokens_per_day(p.tokens_per_day, p.utilization_ratio, most,
                                                         target_utilization))
    return out
