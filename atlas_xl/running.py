"""What a running deployment costs besides its GPU-hours: a replica's cold start, and the power, energy and carbon
of its GPUs (issue 19 items 3 and 4).

The equations that `atlas_xl.plan` fills into every `PlanResult` (``cold_start_s``, ``warm_replicas``,
``energy_kwh_per_month``, ``co2e_kg_per_month``) and that `atlas_xl.scaling` (``atlas_xl/autoscale.py``) and
`atlas_xl.footprint` (``atlas_xl/energy.py``) report on in detail. They sit below the planner so that the planner
and those two modules import them without a circle; this module imports only the catalog reader.

References
----------
Tensorfuse, "Reducing GPU cold start" (vLLM serving Llama-3.1-8B-Instruct on L40S, with the model and compile
caches on a shared volume), https://tensorfuse.io/docs/blogs/reducing_gpu_cold_start: weight loading 18 s for the
model's 16.1 GB of BF16 weights → `LOAD_GB_S`; Dynamo bytecode transform 10 s + graph compilation 13 s + graph
capture 7 s + engine init and imports 34 s → `ENGINE_START_S`. Without caches the same start took 294 s (a 61 s
download, 200 s of engine start).

Host power and PUE: ``shared/data/electricity_datacenter.csv`` and ``shared/data/gpu_specs.csv``;
grid intensities: ``catalogs/grid_intensity.csv`` (cited per row).
"""

from __future__ import annotations

from . import arguments
from .catalog import load_catalog, normalize_key
from .errors import unknown_name

# -- cold start of a replica ----------------------------------------------------------------------------------
LOAD_GB_S = 16.06 / 18.0
"""Weights loaded per second into a replica [GB/s]: 16.06 GB (8.03 B parameters × 2 bytes) in 18 s (Tensorfuse,
see the module)."""
ENGINE_START_S = 10.0 + 13.0 + 7.0 + 34.0
"""Engine start besides the weights [s]: compile, graph capture, init (Tensorfuse, warm caches)."""


def cold_start_s(weights_gb, load_gb_s=LOAD_GB_S, engine_start_s=ENGINE_START_S):
    """Time from asking for a replica to its first token. [s]

    Notes
    -----
    t = W / B + t_engine: the replica's weights W [GB] at the load bandwidth B [GB/s], then the engine's start.
    """
    return weights_gb / load_gb_s + engine_start_s


# -- power, energy and carbon ---------------------------------------------------------------------------------
HOST_W_PER_GPU = 575.0
"""Host share of a GPU node's power per GPU [W]: (DGX H100 10.2 kW − 8 × 700 W) / 8
(shared/data/electricity_datacenter.csv, shared/data/gpu_specs.csv). InferenceX's all-in power per H100,
1.37 kW (shared/data/inferencex_gpu_specs_tco.csv), is 7 % above 700 + 575 W: it also counts the network."""

DEFAULT_PUE = arguments.PUE
"""Facility power over IT power [unitless]: the argument registry's default (`atlas_xl.arguments.PUE`, the 2023
industry average of Uptime Institute's survey, data/electricity_datacenter.csv)."""

DEFAULT_REGION = "world"
"""The grid of ``catalogs/grid_intensity.csv`` when no region is given."""


def average_gpu_power_w(idle_w, full_load_w, mean_utilization):
    """Board power of one GPU averaged over its paid hours. [W]

    Notes
    -----
    P = P_idle + (P_full − P_idle) × u, with P_full the serving model's power at the plan's operating point
    (`atlas_xl.serving.power_w`) and u the plan's mean utilization (served over servable tokens): a GPU
    serving a u share of its capacity draws the operating point's extra power a u share of the time.
    """
    power = (full_load_w - idle_w) * mean_utilization
    power += idle_w  # in place for arrays (a million workloads need one array, not two); the same sum for scalars
    return power


def facility_power_kw(gpu_power_w, gpus, pue, host_w_per_gpu=HOST_W_PER_GPU, in_place=False):
    """Power drawn at the facility meter. [kW]

    ``in_place=True`` computes it in ``gpu_power_w``'s own array (one the caller has no more use for): a million
    workloads then need no new array. By default the caller's ``gpu_power_w`` is left as it is.

    Notes
    -----
    P_facility = (P_gpu + P_host) × GPUs × PUE / 1000
    """
    if in_place:
        power = gpu_power_w
        power += host_w_per_gpu
    else:
        power = gpu_power_w + host_w_per_gpu  # a new value
    power *= gpus  # then in place for arrays, in the equation's order (the same bits as one expression)
    power *= pue
    power /= 1000.0
    return power


def energy_kwh(facility_power_kw, paid_hours, in_place=False):
    """Energy drawn over the paid hours. [kWh]

    ``in_place=True`` computes it in ``facility_power_kw``'s own array, as `facility_power_kw` does.

    Notes
    -----
    E = P_facility × paid hours (all hours dedicated, active hours autoscaling): a GPU that is not billed is not
    running.
    """
    if in_place:
        energy = facility_power_kw
        energy *= paid_hours
        return energy
    return facility_power_kw * paid_hours


def co2e_kg(energy_kwh, g_co2e_per_kwh):
    """Emissions of the energy at the grid's intensity. [kg CO2e]

    Notes
    -----
    CO2e = E × I / 1000, location-based (the grid's average, not a supplier's contract).
    """
    emissions = energy_kwh * g_co2e_per_kwh
    emissions /= 1000.0  # in place for arrays
    return emissions


def grid_intensity(region=None, catalog=None):
    """(gCO2e per kWh, the catalog row) of ``region`` in ``grid_intensity.csv`` (default: world). Kept by the
    catalog's content, so a plan looks it up in a dictionary, not a table."""
    cat = load_catalog(catalog)
    if region is None:  # the common case: one look-up by the catalog's fingerprint
        found = _WORLD.get(cat.fingerprint)
        if found is None:
            found = _WORLD[cat.fingerprint] = grid_intensity(DEFAULT_REGION, cat)
        return found
    key = normalize_key(region or DEFAULT_REGION)
    found = _INTENSITY.get((cat.fingerprint, key))
    if found is None:
        table = cat.tables["grid_intensity"]
        rows = table[table.region == key]
        if rows.empty:
            raise unknown_name("region", region, list(table.region))
        row = rows.iloc[0]
        found = float(row.g_co2e_per_kwh), row
        if len(_INTENSITY) > 1024:
            _INTENSITY.clear()
        _INTENSITY[(cat.fingerprint, key)] = found
    return found


_INTENSITY = {}
_WORLD = {}  # catalog fingerprint → the default region's entry of _INTENSITY
