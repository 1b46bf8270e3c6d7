"""The planner: traffic → peak tokens/s → GPU count → monthly cost → cost per Mtok, risk, ranking.

Every equation of ``spec/inference_atlas_methodology.md`` is one function below, named after
what it returns. Each takes scalars or numpy arrays (which broadcast) and returns a Python
scalar when every input was a scalar.
"""
from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, fields

import numpy as np
import pandas as pd

from . import disaggregated as disagg
from . import running, serving
from .arith import ceil_rounded, floor, is_array, maximum, minimum, where
from .catalog import BILLING, load_catalog, normalize_key
from .errors import InputError, unknown_name
from .record import Record
from .values import check_arguments

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Assumptions:
    """The visible, changeable assumptions of the planner (spec values as defaults)."""

    hours_per_month: float = 720.0  # 30-day month (spec "Month Model")
    days_per_month: float = 30.0
    target_utilization: float = 0.75  # the 75 % scaling rule
    low_risk_max: float = 0.50  # latency risk: low ≤ 0.50 < medium ≤ 0.75 < high (DESIGN.md)
    medium_risk_max: float = 0.75
    overload_threshold: float = 0.90
    overload_ramp: float = 0.10  # penalty reaches overload_penalty_usd this far above the threshold
    overload_penalty_usd: float = 20_000.0
    max_gpus: float = 8  # scale-up domain of a GPU without a catalog row (gpus.csv gives scale_up_gpus)
    scaling_penalty_usd_per_gpu: float = 50_000.0
    strict_latency_ms: float = 300.0
    latency_penalty_usd: float = 30_000.0

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise InputError(f"assumption {f.name} = {value!r} — give a finite number >= 0")
        if not 0 < self.target_utilization <= 1:
            raise InputError(f"assumption target_utilization = {self.target_utilization} — give a share in (0, 1]")
        if self.hours_per_month <= 0 or self.days_per_month <= 0 or self.overload_ramp <= 0:
            raise InputError("assumptions hours_per_month, days_per_month and overload_ramp must be > 0")


DEFAULT_ASSUMPTIONS = Assumptions()


# -- traffic -----------------------------------------------------------------------------------
def avg_tokens_per_s(tokens_per_day):
    """Daily volume spread over 24 hours.

    Parameters
    ----------
    tokens_per_day : numeric
        Tokens served per day. [tokens day⁻¹]

    Notes
    -----
    avg_tps = tokens_per_day / 86 400  (planner spec, "Daily Volume → Average Throughput")
    """
    return tokens_per_day / SECONDS_PER_DAY


def peak_tokens_per_s(avg_tokens_per_s, active_ratio, burst_factor):
    """Peak load during active periods.

    Parameters
    ----------
    avg_tokens_per_s : numeric
        Daily volume spread over 24 h. [tokens s⁻¹]
    active_ratio : numeric
        Share of the week with traffic. [unitless]
    burst_factor : numeric
        Peak over average while active. [unitless]

    Notes
    -----
    required_peak = avg / active_ratio × burst_factor  (planner spec, "Peak Load Calculation")
    """
    return avg_tokens_per_s / active_ratio * burst_factor


# -- GPU throughput and scaling ------------------------------------------------------------------
def effective_gpu_tokens_per_s(gpu_tokens_per_s, efficiency, batch_multiplier):
    """Throughput one GPU sustains under the pattern's batching.

    Parameters
    ----------
    gpu_tokens_per_s : numeric
        Catalog (or per-model) throughput of one GPU. [tokens s⁻¹]
    efficiency, batch_multiplier : numeric
        Pattern factors. [unitless]

    Notes
    -----
    effective = gpu_tokens_per_s × efficiency × batch_mult  (planner spec, "Effective Throughput")
    """
    return gpu_tokens_per_s * efficiency * batch_multiplier


def utilization_ratio(peak_tokens_per_s, effective_gpu_tokens_per_s):
    """Utilization of a single GPU at peak. [unitless]

    Notes
    -----
    utilization_ratio = required_peak_tps / effective_gpu_tps  (planner spec, "Utilization Ratio")
    """
    return peak_tokens_per_s / effective_gpu_tokens_per_s


def gpu_count(utilization_ratio, target_utilization=0.75, replica_gpus=1):
    """GPUs needed so that each runs at or below the target utilization, in whole replicas.

    Parameters
    ----------
    utilization_ratio : numeric
        Single-GPU utilization at peak. [unitless]
    target_utilization : numeric
        The scaling threshold, 0.75 in the spec. [unitless]
    replica_gpus : numeric
        GPUs one copy of the model needs (tensor parallel, from the serving model's memory fit). [GPUs]

    Notes
    -----
    gpu_count = ceil(utilization_ratio / 0.75) if utilization_ratio > 0.75 else 1
    (planner spec, "Scaling to Multiple GPUs"), rounded up to a whole number of replicas. The
    quotient is rounded to 9 decimals first so that 2.25 / 0.75 gives 3 GPUs, not 4, despite binary
    floating point. With ``replica_gpus = 1`` this is the spec's equation exactly.
    """
    if isinstance(utilization_ratio, np.ndarray) or isinstance(replica_gpus, np.ndarray):
        needed = _ceil_rounded_array(np.asarray(utilization_ratio) / target_utilization)
        needed = np.maximum(needed, 1, out=needed if needed.ndim else None)  # a new array already: in place
        if not isinstance(replica_gpus, np.ndarray) and replica_gpus == 1 and needed.max(initial=0) < 4e9:
            return needed  # n ÷ 1 rounded to 9 decimals is n for whole n < 2⁵³ ÷ 5⁹ (n × 10⁹ is exact): 6 passes saved
        return _ceil_rounded_array(needed / replica_gpus) * replica_gpus
    if utilization_ratio != utilization_ratio:
        return math.nan
    needed = max(ceil_rounded(utilization_ratio / target_utilization), 1)
    return int(ceil_rounded(needed / replica_gpus) * replica_gpus)


def _ceil_rounded_array(x):
    """np.ceil(np.round(x, 9)) of a new array, in place: a million workloads would allocate two more arrays."""
    if isinstance(x, np.ndarray) and x.ndim:
        return np.ceil(np.round(x, 9, out=x), out=x)
    return np.ceil(np.round(x, 9))


def utilization_after(utilization_ratio, gpu_count):
    """Utilization of each GPU after scaling. [unitless]

    Notes
    -----
    utilization_after = utilization_ratio / gpu_count  (planner spec, "Post-Scaling Utilization")
    """
    return utilization_ratio / gpu_count


def latency_risk(utilization_after, low_max=0.50, medium_max=0.75):
    """Latency-risk band: 'low' (≤ 0.50), 'medium' (≤ 0.75) or 'high'; 'n/a' when undefined (NaN).

    Notes
    -----
    Planner spec, "Latency Risk Bands", with the boundaries of DESIGN.md.
    """
    if isinstance(utilization_after, np.ndarray) and utilization_after.ndim > 0:
        # the text written once from the band's index (np.select writes it four times: 4× slower)
        return _RISK_BANDS.take(risk_band(utilization_after, low_max, medium_max))
    if isinstance(utilization_after, np.ndarray):
        return np.select([utilization_after <= low_max, utilization_after <= medium_max,
                          utilization_after > medium_max], ["low", "medium", "high"], "n/a")
    if utilization_after != utilization_after:
        return "n/a"
    return "low" if utilization_after <= low_max else "medium" if utilization_after <= medium_max else "high"


_RISK_BANDS = np.array(["low", "medium", "high", "n/a"])  # <U6, as np.select made them
HIGH_RISK = 2
"""`risk_band`'s index of 'high'."""


def risk_band(utilization_after, low_max=0.50, medium_max=0.75):
    """`latency_risk` of an array as each band's index (int8): 0 low, 1 medium, 2 high (`HIGH_RISK`), 3 n/a.

    Notes
    -----
    index = [u > low_max] × (1 + [u > medium_max]), 3 where u is NaN: the bands of `latency_risk`.
    """
    band = (utilization_after > low_max).view(np.int8) * (1 + (utilization_after > medium_max).view(np.int8))
    band[utilization_after != utilization_after] = 3  # NaN
    return band


# -- cost ----------------------------------------------------------------------------------------
def active_hours_per_month(active_ratio, hours_per_month=720.0):
    """Hours with traffic in a month. [h month⁻¹]

    Notes
    -----
    active_hours = hours_per_month × active_ratio  (DESIGN.md, "Ambiguities resolved")
    """
    return hours_per_month * active_ratio


def autoscaling_monthly_cost_usd(active_hours_per_month, hourly_usd, gpu_count):
    """Autoscaling platforms bill active hours only. [USD month⁻¹]

    Notes
    -----
    monthly_cost = active_hours × hourly_rate × gpu_count  (planner spec, "Autoscaling")
    """
    return active_hours_per_month * hourly_usd * gpu_count


def dedicated_monthly_cost_usd(hours_per_month, hourly_usd, gpu_count):
    """Dedicated platforms bill the whole month. [USD month⁻¹]

    Notes
    -----
    monthly_cost = 720 × hourly_rate × gpu_count  (planner spec, "Dedicated")
    """
    return hours_per_month * hourly_usd * gpu_count


def idle_waste_usd(hours_per_month, active_hours_per_month, hourly_usd, gpu_count):
    """What a dedicated deployment pays for hours without traffic. [USD month⁻¹]

    Notes
    -----
    idle_waste = (720 − active_hours) × hourly_rate × gpu_count  (planner spec, "Dedicated")
    """
    return (hours_per_month - active_hours_per_month) * hourly_usd * gpu_count


def idle_waste_pct(idle_waste_usd, monthly_cost_usd):
    """Idle waste as a share of the monthly cost. [%]

    Notes
    -----
    idle_waste_pct = idle_waste / monthly_cost × 100  (planner spec, "Dedicated"); 0 when the
    cost is 0.
    """
    if is_array(idle_waste_usd, monthly_cost_usd):
        cost = np.asarray(monthly_cost_usd, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pct = idle_waste_usd / cost * 100.0
        if pct.ndim:  # in place: a million workloads need one array, not three
            if not cost.min(initial=math.inf) > 0:  # some cost is 0 or NaN (the least is NaN if any is)
                np.copyto(pct, 0.0, where=~(cost > 0))
            return pct
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(cost > 0, idle_waste_usd / np.where(cost > 0, cost, 1.0) * 100.0, 0.0)
    return idle_waste_usd / monthly_cost_usd * 100.0 if monthly_cost_usd > 0 else 0.0


def mean_utilization(utilization_after, burst_factor, active_hours_per_month, paid_hours_per_month):
    """Share of the paid GPU capacity that serves traffic, averaged over the paid hours. [unitless]

    Parameters
    ----------
    utilization_after : numeric
        Utilization of each GPU at the peak. [unitless]
    burst_factor : numeric
        Peak over average while active (the pattern's). [unitless]
    active_hours_per_month, paid_hours_per_month : numeric
        Hours with traffic, and hours billed (all hours dedicated, active hours autoscaling). [h month⁻¹]

    Notes
    -----
    While active the load averages peak ÷ burst_factor, and there is none the rest of the month, so
    mean = min(1, utilization_after ÷ burst_factor × active_hours ÷ paid_hours): served tokens over the
    tokens the paid GPUs could serve (atlas_xl; the planner spec counts only hours without traffic).
    """
    share = utilization_after / burst_factor * active_hours_per_month / paid_hours_per_month
    if isinstance(share, np.ndarray) and share.ndim:
        return np.minimum(share, 1.0, out=share)  # in place: a million workloads need one array, not two
    return minimum(share, 1.0)


def unused_capacity_usd(monthly_cost_usd, mean_utilization):
    """What the paid GPU capacity that serves no traffic costs a month. [USD month⁻¹]

    Notes
    -----
    unused = paid GPU-hours × hourly_rate × (1 − mean utilization) = monthly_cost × (1 − mean) (issue 20:
    idle waste read $0 at 11 % utilization, counting only hours without traffic). It includes the idle
    waste of hours without traffic.
    """
    return monthly_cost_usd * (1.0 - mean_utilization)


def monthly_tokens(tokens_per_day, days_per_month=30.0):
    """Tokens served in a month. [tokens month⁻¹]

    Notes
    -----
    monthly_tokens = tokens_per_day × 30  (planner spec, "Per-Token Platforms")
    """
    return tokens_per_day * days_per_month


def per_token_monthly_cost_usd(monthly_tokens, price_per_m_tokens):
    """Per-token platforms bill tokens consumed. [USD month⁻¹]

    Notes
    -----
    monthly_cost = monthly_tokens / 10⁶ × price_per_m_tokens  (planner spec, "Per-Token Platforms")
    """
    return monthly_tokens / 1e6 * price_per_m_tokens


def cost_per_m_tokens_usd(monthly_cost_usd, monthly_tokens):
    """Unified cost per million tokens. [USD Mtok⁻¹]

    Notes
    -----
    cost_per_m_tokens = monthly_cost / monthly_tokens × 10⁶  (planner spec, "Cost per Million Tokens")
    """
    return monthly_cost_usd / monthly_tokens * 1e6


# -- penalties -----------------------------------------------------------------------------------
def overload_penalty_usd(utilization_after, threshold=0.90, ramp=0.10, amount_usd=20_000.0):
    """Penalty for running hot: a linear ramp above the threshold, kept above 100 %. [USD]

    Notes
    -----
    penalty = 20 000 × (utilization_after − 0.90) / 0.10 if utilization_after > 0.90
    (planner spec, "Overload Penalty"; DESIGN.md keeps the ramp above 100 %). 0 for NaN.
    """
    if type(utilization_after) is float and type(threshold) is float:  # a scalar plan, first
        return (utilization_after - threshold) / ramp * amount_usd if utilization_after > threshold else 0.0
    if isinstance(utilization_after, np.ndarray) and utilization_after.ndim and utilization_after.dtype == np.float64:
        hot = utilization_after > threshold
        if not hot.any():  # none above it (every plan the 75 % rule sizes): zeros, without the ramp's four passes
            return np.zeros(np.broadcast_shapes(hot.shape, np.shape(ramp), np.shape(amount_usd)))
        over = (utilization_after - threshold) / ramp * amount_usd
        np.copyto(over, 0.0, where=~hot)  # in place: one array, not two
        return over
    over = (utilization_after - threshold) / ramp * amount_usd
    if isinstance(over, np.ndarray) and over.ndim:
        np.copyto(over, 0.0, where=~(utilization_after > threshold))
        return over
    return where(utilization_after > threshold, over, 0.0)


def scaling_penalty_usd(replica_gpus, scale_up_gpus=8, amount_usd_per_gpu=50_000.0):
    """Ranking penalty for a replica wider than its GPU's scale-up domain, per GPU beyond it. [USD, a score]

    Parameters
    ----------
    replica_gpus : numeric
        GPUs of one copy of the model (tensor/expert parallel). [GPUs]
    scale_up_gpus : numeric
        GPUs of one NVLink / Infinity Fabric domain (gpus.csv: 8 HGX, 72 NVL72). [GPUs]

    Notes
    -----
    penalty = 50 000 × (replica_gpus − scale_up_gpus) if replica_gpus > scale_up_gpus. The planner spec
    ("Scaling Penalty") charges every GPU beyond 8 of the whole deployment, because its model instance
    was one GPU and "> 8 GPUs needs tensor parallelism, model sharding"; the serving model sizes the
    replicas itself, so only a replica that has to shard beyond its scale-up domain (over the slower
    scale-out network) is penalised, not the number of replicas (DESIGN.md, "Penalties"). A ranking
    score, never part of a cost.
    """
    return where(replica_gpus > scale_up_gpus, (replica_gpus - scale_up_gpus) * amount_usd_per_gpu, 0.0)


def latency_penalty_usd(latency_risk, latency_ms, strict_ms=300.0, amount_usd=30_000.0, band=None):
    """Penalty for a high-risk configuration under a strict latency requirement. [USD]

    Parameters
    ----------
    latency_risk : str or array of str
        Band from `latency_risk`.
    latency_ms : numeric or None
        The workload's latency requirement; None (or NaN) means none. [ms]
    band : array of int8, optional
        The `risk_band` indices ``latency_risk`` was written from, when the caller has them: compared instead of
        the text (a million six-character comparisons are 3 ms, of indices 0.03 ms).

    Notes
    -----
    penalty = 30 000 if latency_risk == "high" and latency_ms < 300  (planner spec, "Strict
    Latency Penalty")
    """
    if latency_ms is None:
        return np.zeros(np.shape(latency_risk)) if is_array(latency_risk) else 0.0
    if is_array(latency_risk, latency_ms):
        strict = latency_ms < strict_ms
        if strict is False:  # a scalar requirement that is not strict: no penalty anywhere
            return np.zeros(np.broadcast(np.asarray(latency_risk), latency_ms).shape)
        high = np.asarray(latency_risk) == "high" if band is None else band == HIGH_RISK
        if not high.any():  # no high risk anywhere: zeros (never written until read)
            return np.zeros(np.broadcast(high, latency_ms).shape)
        # the penalty where both hold, else 0: a bool times the amount is np.where's numbers at an eighth of its time
        return np.multiply(high if strict is True else high & strict, float(amount_usd))
    return amount_usd if latency_risk == "high" and latency_ms < strict_ms else 0.0


# -- the whole plan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanResult:
    """One planned deployment. Numeric fields are floats (or arrays when inputs were arrays);
    fields that do not apply (GPU count and GPUs per replica of a per-token offering) are NaN.

    Costs (``monthly_cost_usd``, ``idle_waste_usd``, ``unused_capacity_usd``, ``cost_per_m_tokens_usd``)
    never include the penalties: those are the seed's ranking score (``penalty_usd``), in its own column.

    ``cold_start_s``, ``warm_replicas``, ``energy_kwh_per_month`` and ``co2e_kg_per_month`` are what `running_fields`
    says of the plan's GPUs (the numbers `atlas_xl.scaling` and `atlas_xl.footprint` report with their details);
    NaN for a per-token offering, whose replicas, power and grid are the provider's.

    ``serving_mode`` is ``"aggregated"`` (every replica prefills and decodes) or ``"disaggregated"`` (units of
    prefill and decode GPUs, `plan`'s ``disaggregated=True``); blank for a per-token offering, the provider's.

    Planned over arrays, a field with one value for every workload (the scaling penalty of one replica size, a
    dedicated plan's ``cold_start_s``, an autoscaling plan's ``cold_start_s`` and ``warm_replicas``) is a read-only
    view of that value (``np.broadcast_to``), and ``warm_replicas`` of replicas of one GPU a read-only view of
    ``gpu_count``, not a million copies; ``np.array(field)`` gives an array of one's own to write into."""

    platform: str
    gpu: str
    model: str
    pattern: str
    billing: str
    tokens_per_day: float
    hourly_usd: float
    price_per_m_tokens: float
    gpu_tokens_per_s: float
    avg_tokens_per_s: float
    peak_tokens_per_s: float
    effective_gpu_tokens_per_s: float
    utilization_ratio: float
    gpu_count: float
    utilization_after: float
    latency_risk: str
    active_hours_per_month: float
    monthly_cost_usd: float
    idle_waste_usd: float
    idle_waste_pct: float
    mean_utilization: float
    unused_capacity_usd: float
    monthly_tokens: float
    cost_per_m_tokens_usd: float
    overload_penalty_usd: float
    scaling_penalty_usd: float
    latency_penalty_usd: float
    penalty_usd: float
    precision: str = ""
    throughput_basis: str = "given"
    replica_gpus: float = math.nan  # every GPU plan sets it; a per-token plan has no GPUs, so none per replica
    replica_choice: str = ""
    scale_up_gpus: float = math.nan
    input_tokens: float = math.nan
    output_tokens: float = math.nan
    ttft_ms: float = math.nan
    tpot_ms: float = math.nan
    throughput_expected_error: float = math.nan
    prefix_hit_rate: float = 0.0
    cold_start_s: float = math.nan
    warm_replicas: float = math.nan
    energy_kwh_per_month: float = math.nan
    co2e_kg_per_month: float = math.nan
    serving_mode: str = ""

    def as_dict(self):
        return asdict(self)


FIELDS = tuple(f.name for f in fields(PlanResult))
_DEFAULTS = {f.name: f.default for f in fields(PlanResult) if f.default is not MISSING}


def _plan_result(values):
    """The PlanResult of ``values`` (every field without a default, any with one): what ``PlanResult(**values)``
    builds, in one step. A frozen dataclass's ``__init__`` sets each of the 43 fields through
    ``object.__setattr__``, about 4 µs of a scalar `plan` (issue 21); copying them into a new instance dictionary
    was another 0.9 µs, so ``values`` — a dictionary `plan` made for this result — becomes the result's own."""
    if len(values) != len(FIELDS):  # fields left at their defaults (a per-token plan has no serving fields)
        values = _DEFAULTS | values
        if len(values) != len(FIELDS):  # a missing or unknown name: the dataclass's own TypeError
            return PlanResult(**values)
    result = object.__new__(PlanResult)
    object.__setattr__(result, "__dict__", values)
    return result

_NUMERIC_ARGS = ("tokens_per_day", "latency_ms", "gpu_count", "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens")


def _number(name, value, *, positive=False, allow_none=True):
    """Validate a numeric argument: a float, or a float array when given a list or array."""
    if type(value) is float or type(value) is int:  # the common case, at once
        number = float(value)
        if 0.0 < number < math.inf or (number == 0.0 and not positive):
            return number
    if value is None:
        if allow_none:
            return None
        raise InputError(f"{name} is missing — give a number")
    if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
        raise InputError(f"{name} must be a number, not {value!r}")
    array = isinstance(value, (list, tuple, np.ndarray, pd.Series))
    try:
        number = np.asarray(value, dtype=float) if array else float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, not {value!r}") from None
    if array:  # the least and the greatest say whether all are finite (NaN is either): two reading passes
        smallest, largest = (float(number.min()), float(number.max())) if number.size else (0.0, 0.0)
    else:
        smallest = largest = number
    if not (math.isfinite(smallest) and math.isfinite(largest)):
        raise InputError(f"{name} must be a finite number")
    if smallest < 0 or (positive and smallest == 0):
        raise InputError(f"{name} must be {'greater than 0' if positive else '0 or more'} — got {smallest:g}")
    return number


def plan_equations(tokens_per_day, pattern, gpu_tokens_per_s, replica_gpus, billing, hourly_usd,
                   price_per_m_tokens, fixed_gpu_count, latency_ms, a, scale_up_gpus=None, widest_replica_gpus=None):
    """The planner equations in order, on inputs already resolved from the catalog; returns a dict of
    the numeric and band fields. `plan` and `plan_table` call it after their lookups and checks; the
    finance draws (atlas_xl.finance) call it on arrays of changed throughputs and prices.

    ``pattern`` is a catalog pattern row (active_ratio, burst_factor, efficiency, batch_multiplier),
    ``a`` the Assumptions; ``fixed_gpu_count`` None means the 75 % rule decides.

    ``scale_up_gpus`` is the GPU's scale-up domain for the scaling penalty (default ``a.max_gpus``).
    A fixed GPU count serves with its whole replicas only (6 GPUs hold one replica of 4). ``replica_gpus`` is
    what the count is rounded to; ``widest_replica_gpus`` is the widest copy of the model for the scaling
    penalty where that differs (a disaggregated unit of ``replica_gpus`` GPUs whose prefill and decode replicas
    are narrower; default ``replica_gpus``)."""
    per_token = billing == "per_token"
    avg = avg_tokens_per_s(tokens_per_day)
    peak = peak_tokens_per_s(avg, pattern.active_ratio, pattern.burst_factor)
    hours_active = active_hours_per_month(pattern.active_ratio, a.hours_per_month)
    tokens_month = monthly_tokens(tokens_per_day, a.days_per_month)
    out = {"avg_tokens_per_s": avg, "peak_tokens_per_s": peak,
           "active_hours_per_month": hours_active, "monthly_tokens": tokens_month}
    if per_token:  # no GPU count, no idle waste, no utilization penalties (DESIGN.md)
        nan = math.nan if not is_array(tokens_per_day, price_per_m_tokens) else np.full(np.shape(avg * price_per_m_tokens), np.nan)
        zero = 0.0 if not is_array(nan) else np.zeros(np.shape(nan))
        cost = per_token_monthly_cost_usd(tokens_month, price_per_m_tokens)
        scaling, shaped = zero, False
        out.update(effective_gpu_tokens_per_s=nan, utilization_ratio=nan, gpu_count=nan,
                   utilization_after=nan, latency_risk=latency_risk(nan), monthly_cost_usd=cost,
                   idle_waste_usd=zero, idle_waste_pct=zero, mean_utilization=nan, unused_capacity_usd=zero,
                   overload_penalty_usd=zero, scaling_penalty_usd=scaling, latency_penalty_usd=zero)
    else:
        effective = effective_gpu_tokens_per_s(gpu_tokens_per_s, pattern.efficiency, pattern.batch_multiplier)
        ratio = utilization_ratio(peak, effective)
        if fixed_gpu_count is None:
            count = gpu_count(ratio, a.target_utilization, replica_gpus)
            serving = count
        else:
            count = fixed_gpu_count
            serving = floor(count / replica_gpus + 1e-9) * replica_gpus  # GPUs in whole replicas
        after = utilization_after(ratio, serving)
        if isinstance(after, np.ndarray) and after.ndim:  # the bands' indices kept for the latency penalty
            band = risk_band(after, a.low_risk_max, a.medium_risk_max)
            risk = _RISK_BANDS.take(band)
        else:
            band, risk = None, latency_risk(after, a.low_risk_max, a.medium_risk_max)
        if billing == "autoscaling":
            cost = autoscaling_monthly_cost_usd(hours_active, hourly_usd, count)
            waste = 0.0 * cost
            paid_hours = hours_active
        else:
            cost = dedicated_monthly_cost_usd(a.hours_per_month, hourly_usd, count)
            waste = idle_waste_usd(a.hours_per_month, hours_active, hourly_usd, count)
            paid_hours = a.hours_per_month
        mean = mean_utilization(after, pattern.burst_factor, hours_active, paid_hours)
        if fixed_gpu_count is not None:  # idle GPUs beyond whole replicas serve nothing
            mean = mean * serving / count
        domain = a.max_gpus if scale_up_gpus is None else scale_up_gpus
        scaling = scaling_penalty_usd(replica_gpus if widest_replica_gpus is None else widest_replica_gpus, domain,
                                      a.scaling_penalty_usd_per_gpu)
        shaped = isinstance(count, np.ndarray) and not isinstance(scaling, np.ndarray)  # a field shaped as the plan
        out.update(effective_gpu_tokens_per_s=effective, utilization_ratio=ratio, gpu_count=count,
                   utilization_after=after, latency_risk=risk, monthly_cost_usd=cost,
                   idle_waste_usd=waste, idle_waste_pct=idle_waste_pct(waste, cost), mean_utilization=mean,
                   unused_capacity_usd=unused_capacity_usd(cost, mean),
                   overload_penalty_usd=overload_penalty_usd(after, a.overload_threshold, a.overload_ramp,
                                                             a.overload_penalty_usd),
                   scaling_penalty_usd=scaling,
                   latency_penalty_usd=latency_penalty_usd(risk, latency_ms, a.strict_latency_ms,
                                                           a.latency_penalty_usd, band))
    out["cost_per_m_tokens_usd"] = cost_per_m_tokens_usd(out["monthly_cost_usd"], tokens_month)
    out["penalty_usd"] = penalty_usd(out["overload_penalty_usd"], scaling, out["latency_penalty_usd"])
    if shaped:  # one value for every workload: a read-only view of it, not a million copies (issue 21)
        out["scaling_penalty_usd"] = np.broadcast_to(float(scaling), np.shape(count))
    return out


def penalty_usd(overload_penalty_usd, scaling_penalty_usd, latency_penalty_usd):
    """The ranking score of a plan: its penalties summed. [USD, a score]

    Notes
    -----
    penalty = overload + scaling + latency  (planner spec, "Ranking"), added in that order. A scalar scaling
    penalty of 0 over arrays is left out of the sum (x + 0 is x: no penalty is −0), one pass of a million less.
    """
    if type(overload_penalty_usd) is float:  # a scalar plan, first
        return overload_penalty_usd + scaling_penalty_usd + latency_penalty_usd
    if isinstance(overload_penalty_usd, np.ndarray) and not isinstance(scaling_penalty_usd, np.ndarray):
        if scaling_penalty_usd == 0.0:
            return overload_penalty_usd + latency_penalty_usd
        total = overload_penalty_usd + scaling_penalty_usd
        total += latency_penalty_usd  # in place: the sum is a new array already
        return total
    return overload_penalty_usd + scaling_penalty_usd + latency_penalty_usd


POWER_KEY = "power_w_per_gpu"
"""What a serving-field row (`ReplicaSizes`) carries besides PlanResult fields: one GPU's board power at the
replica's operating point [W], for `running_fields`; `plan` takes it out before it builds the PlanResult."""


def running_fields(billing, gpu_count, replica_gpus, mean_utilization, paid_hours, idle_w, full_load_w, start_s,
                   min_replicas, g_co2e_per_kwh, pue=running.DEFAULT_PUE):
    """Cold start, warm pool, energy and carbon of a plan's GPUs (`atlas_xl.running`). Scalars or arrays.

    Parameters
    ----------
    billing : str
        autoscaling, dedicated or per_token.
    gpu_count, replica_gpus : numeric
        The plan's GPUs and GPUs per replica. [GPUs]
    mean_utilization : numeric
        Served over servable tokens in the paid hours (`mean_utilization`). [unitless]
    paid_hours : numeric
        Hours billed: active hours autoscaling, every hour dedicated. [h month⁻¹]
    idle_w, full_load_w : numeric
        One GPU's board power idle (``POWER_IDLE_FRACTION`` × TDP) and at the replica's operating point
        (`atlas_xl.serving.estimate`'s ``power_w_per_gpu``; the TDP without a serving model). [W]
    start_s : numeric
        One replica's cold start (`atlas_xl.running.cold_start_s` of its weights). [s]
    min_replicas : numeric
        Replicas an autoscaling offering keeps warm through the hours without traffic. [count]
    g_co2e_per_kwh : float
        The grid's intensity (`atlas_xl.running.grid_intensity`). [gCO2e kWh⁻¹]
    pue : float
        Facility power over IT power (`atlas_xl.running.DEFAULT_PUE`). [unitless]

    Returns
    -------
    dict
        ``cold_start_s`` — autoscaling: ``start_s``, the wait of a replica a ramp starts; dedicated: 0, every
        replica stays up all month. ``warm_replicas`` — autoscaling: ``min_replicas``; dedicated: every replica
        (gpu_count ÷ replica_gpus). ``energy_kwh_per_month`` = `atlas_xl.running.energy_kwh` of
        `atlas_xl.running.facility_power_kw` of `atlas_xl.running.average_gpu_power_w` over the paid hours (a warm
        pool's hours without traffic are not counted; `atlas_xl.footprint` does not count them either); ``co2e_kg_per_month`` =
        `atlas_xl.running.co2e_kg` of it. Per-token: all NaN — the provider's replicas, power and grid are not
        known.
    """
    if billing == "per_token":
        nan = gpu_count  # NaN (math.nan itself, as plan_equations gives it, so equal plans compare equal), or its array
        return {"cold_start_s": nan, "warm_replicas": nan, "energy_kwh_per_month": nan, "co2e_kg_per_month": nan}
    shape = gpu_count.shape if isinstance(gpu_count, np.ndarray) else None
    if billing == "autoscaling":
        if shape is not None and not isinstance(start_s, np.ndarray):  # one value for every workload: a view of it
            cold, warm = np.broadcast_to(float(start_s), shape), np.broadcast_to(float(min_replicas), shape)
        else:
            zero = 0.0 * gpu_count if shape is None else np.zeros(shape)
            cold, warm = zero + start_s, zero + min_replicas
    elif shape is None:
        cold, warm = 0.0 * gpu_count, gpu_count / replica_gpus
    else:  # every replica stays up: no cold start for any workload (a view of one 0, not a million)
        cold = np.broadcast_to(0.0, shape)
        if isinstance(replica_gpus, np.ndarray) or replica_gpus != 1:
            warm = gpu_count / replica_gpus
        else:  # replicas of one GPU: count ÷ 1 is the count, bit for bit — a read-only view of it, not a copy
            warm = gpu_count.view()
            warm.flags.writeable = False
    gpu_w = running.average_gpu_power_w(idle_w, full_load_w, mean_utilization)  # a new value, ours to reuse:
    energy = running.energy_kwh(running.facility_power_kw(gpu_w, gpu_count, pue, in_place=True), paid_hours,
                                in_place=True)  # one array for the three, not three (issue 21)
    return {"cold_start_s": cold, "warm_replicas": warm, "energy_kwh_per_month": energy,
            "co2e_kg_per_month": running.co2e_kg(energy, g_co2e_per_kwh)}


def plan(tokens_per_day, pattern, model, platform, gpu=None, *, latency_ms=None, gpu_count=None,
         gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, billing=None, precision=None,
         input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None, catalog=None,
         assumptions=None, prefix_hit_rate=None, region=None, min_replicas=None, disaggregated=False, pue=None):
    """Plan one workload on one offering.

    Parameters
    ----------
    tokens_per_day : numeric or array
        Daily token volume, input plus output tokens. [tokens day⁻¹]
    pattern : str
        Traffic pattern key (steady, business_hours, bursty, or a catalog row).
    model : str
        Model key (llama_70b).
    platform : str
        Platform key (runpod, fireworks, together...).
    gpu : str, optional
        GPU key; needed when the platform offers several GPUs. Any row of gpus.csv works with
        ``hourly_usd`` and ``billing`` (no offering row needed).
    latency_ms : numeric, optional
        End-to-end latency requirement for the risk band: below 300 ms a high-risk configuration is
        penalised (planner spec). The throughput itself follows ``ttft_ms``/``tpot_ms``. [ms]
    gpu_count : numeric or array, optional
        Fix the GPU count (what-if: "we only have 4 GPUs") instead of the 75 % rule. [GPUs]
    gpu_tokens_per_s, hourly_usd, price_per_m_tokens : numeric or array, optional
        Replace the serving model's throughput [tokens s⁻¹ GPU⁻¹], the hourly price [USD h⁻¹ GPU⁻¹]
        or the per-token price [USD Mtok⁻¹]. A given ``gpu_tokens_per_s`` wins over the serving model.
    billing : str, optional
        autoscaling | dedicated | per_token; with the overrides above, plans an offering that
        has no catalog row.
    precision : str, optional
        Weight precision: bf16, fp8 (default), fp4, or best: the native precision of the GPU that costs least.
    input_tokens, output_tokens : numeric, optional
        Request shape (means). Default 1024 / 1024; per-token offerings then use their separate
        input and output prices. [tokens]
    ttft_ms, tpot_ms : numeric, optional
        p99 limits on time to first token and per output token. Default 2000 / 200. [ms]
    tp : int, optional
        GPUs per replica (tensor/expert parallel). Default: the size (and, for ``precision="best"``, the
        precision) that serves the volume within the limits at the least monthly cost; with a fixed
        ``gpu_count``, the one that serves the most from those GPUs (`ReplicaSizes`). [GPUs]
    catalog : Catalog, path or dict, optional
        Defaults to the built-in catalog.
    assumptions : Assumptions, optional
        Month length, 75 % target, penalty amounts.
    prefix_hit_rate : numeric, optional
        Share of the input tokens served from the prefix cache, 0 to 1 (default 0): GPU offerings get the
        serving model's throughput with the cached prefill skipped (`atlas_xl.serving.estimate`), per-token
        offerings bill cached input at their cached-input price (`per_token_price`). One value per call (a
        sweep or a worksheet range takes several). docs/planner.md, "Prefix caching". [0-1]
    region : str, optional
        Grid region of ``grid_intensity.csv`` for ``co2e_kg_per_month`` (default ``"world"``).
    min_replicas : int, optional
        Replicas an autoscaling offering keeps warm through the hours without traffic, at most the plan's
        replicas (default 0; `atlas_xl.scaling` prices them). [count]
    disaggregated : bool, optional
        Serve prompts and generation on separate GPUs of the offering (default False): the throughput per GPU is
        `atlas_xl.estimate_disaggregated`'s on the offering's GPU (prefill and decode alike) at this request shape
        and these limits, and the GPU count is whole units of its prefill + decode GPUs (``replica_gpus`` = the
        unit). Refused for a per-token offering (the provider decides how it serves), with a given
        ``gpu_tokens_per_s``, ``tp`` or ``prefix_hit_rate``. docs/planner.md, "Disaggregated serving".
    pue : float, optional
        Facility power over IT power of the site, ≥ 1, for ``energy_kwh_per_month`` and ``co2e_kg_per_month``
        (default `atlas_xl.arguments.PUE`, 1.58: Uptime Institute's 2023 average). One value per call, as
        ``min_replicas``. [unitless]

    Returns
    -------
    PlanResult
        ``replica_gpus`` is the replica size chosen (the unit, disaggregated) and ``replica_choice`` says why; ``cold_start_s``,
        ``warm_replicas``, ``energy_kwh_per_month`` and ``co2e_kg_per_month`` as `running_fields` gives them
        (docs/planner.md, "Cold start, warm pool, energy and carbon of every plan").
    """
    check_arguments(tokens_per_day=tokens_per_day, latency_ms=latency_ms, gpu_count=gpu_count,
                    gpu_tokens_per_s=gpu_tokens_per_s, hourly_usd=hourly_usd,
                    price_per_m_tokens=price_per_m_tokens, input_tokens=input_tokens,
                    output_tokens=output_tokens, ttft_ms=ttft_ms, tpot_ms=tpot_ms, tp=tp)  # docs/limits.md
    hit = 0.0
    if prefix_hit_rate is not None:  # not given: no work (a scalar plan() is ~8 µs)
        check_arguments(prefix_hit_rate=prefix_hit_rate)
        hit = serving.prefix_hit_share(prefix_hit_rate)
    warm = 0.0
    if min_replicas is not None:
        check_arguments(min_replicas=_one_value("min_replicas", min_replicas))
        warm = float(min_replicas)
    if pue is None:
        pue = running.DEFAULT_PUE
    else:
        check_arguments(pue=_one_value("pue", pue))
        pue = float(pue)
    if disaggregated is not False:  # the default costs one comparison
        disaggregated = _disaggregated(disaggregated, tp=tp, prefix_hit_rate=hit)
    cat = load_catalog(catalog)
    intensity = running.grid_intensity(region, cat)[0]  # a dictionary look-up; an unknown region names the known
    a = assumptions or DEFAULT_ASSUMPTIONS
    tokens_per_day = _number("tokens_per_day", tokens_per_day, positive=True, allow_none=False)
    latency_ms = _number("latency_ms", latency_ms)
    fixed = _number("gpu_count", gpu_count, positive=True)
    if fixed is not None:
        fixed = np.ceil(fixed) if isinstance(fixed, np.ndarray) else float(math.ceil(fixed))
    gpu_tps = _number("gpu_tokens_per_s", gpu_tokens_per_s, positive=True)
    hourly = _number("hourly_usd", hourly_usd)
    price = _number("price_per_m_tokens", price_per_m_tokens)
    pat = cat.pattern(pattern)
    model_key, platform_key, gpu_key = normalize_key(model), normalize_key(platform), normalize_key(gpu)
    shape_given = input_tokens is not None or output_tokens is not None or hit > 0

    if billing is not None:
        billing = normalize_key(billing)
        if billing not in BILLING:
            raise InputError(f"unknown billing '{billing}' — use {', '.join(BILLING[:-1])} or {BILLING[-1]}")
    offering = None
    complete = (billing == "per_token" and price is not None) or (
        billing in ("autoscaling", "dedicated") and hourly is not None and (gpu_tps is not None or gpu_key))
    if not complete:
        model_key = cat.check_model(model)
        offering = cat.offering(platform, model_key, gpu)
        billing = billing or offering.billing
        gpu_key = offering.gpu
    serving_fields, domain, tp, idle, widest = {}, None, _tp(tp), math.nan, None
    if billing == "per_token":
        if disaggregated:
            raise InputError(f"platform '{platform_key}' serves {model_key} per token: how it serves is the "
                             "provider's — plan disaggregated serving on a GPU offering, or leave disaggregated off")
        if price is None:
            price = per_token_price(offering, input_tokens, output_tokens, hit) if shape_given else \
                offering.price_per_m_tokens
            if np.ndim(price) == 0 and math.isnan(price):  # billing='per_token' on an offering without a token price
                raise InputError(f"platform '{platform_key}' lists no per-token price for {model_key} — pass "
                                 "price_per_m_tokens, or plan it on a GPU (billing dedicated or autoscaling)")
        replica = 1
    else:
        if hourly is None:
            hourly = offering.hourly_usd if offering is not None and not math.isnan(offering.hourly_usd) else None
            if hourly is None:
                raise InputError(f"no hourly price for platform '{platform_key}' — pass hourly_usd")
        if gpu_tps is None:
            sizes = _sizes(cat, model_key, gpu_key, disaggregated, precision, tp, input_tokens, output_tokens, ttft_ms,
                           tpot_ms, hit)
            gpu_tps, serving_fields = sizes.choose(tokens_per_day, pat, fixed, a.target_utilization)
            replica, domain, idle, widest = serving_fields["replica_gpus"], sizes.domain, sizes.idle_w, sizes.widest
        elif disaggregated:
            raise InputError("gpu_tokens_per_s gives the throughput per GPU, so disaggregated=True has nothing to "
                             "size — leave out gpu_tokens_per_s or disaggregated")
        else:
            replica = 1 if tp is None else tp
            if fixed is not None and np.min(fixed) < replica:
                raise InputError(f"gpu_count {float(np.min(fixed)):g} cannot hold one replica of tp {replica:g} — "
                                 f"give gpu_count ≥ {replica:g} or a smaller tp")
            serving_fields = dict(replica_gpus=float(replica), replica_choice="given throughput: replicas of one GPU"
                                  if tp is None else f"given: tp {tp:g}", serving_mode="aggregated")
            if gpu_key in cat.gpu_specs:
                domain = cat.gpu_specs[gpu_key]["scale_up_gpus"]
            serving_fields["scale_up_gpus"] = a.max_gpus if domain is None else domain
            idle, given = _given_throughput_power(cat, model_key, gpu_key, replica, hit)
            serving_fields.update(given)
    values = plan_equations(tokens_per_day, pat, gpu_tps, replica, billing, hourly, price, fixed, latency_ms, a, domain,
                            widest)
    nan = math.nan
    values.update(
        platform=platform_key, gpu=gpu_key if billing != "per_token" else "", model=model_key,
        pattern=normalize_key(pattern), billing=billing, tokens_per_day=tokens_per_day,
        hourly_usd=hourly if hourly is not None and billing != "per_token" else nan,
        price_per_m_tokens=price if billing == "per_token" else nan,
        gpu_tokens_per_s=gpu_tps if billing != "per_token" else nan)
    values.update(serving_fields)
    if hit:  # per-token and given-throughput plans carry the rate too (the serving model's rows have it)
        values["prefix_hit_rate"] = hit
    if billing == "per_token":
        values.update(running_fields(billing, values["gpu_count"], 1.0, nan, nan, nan, nan, nan, warm, intensity, pue))
    else:
        count = values["gpu_count"]
        if warm:
            _check_warm_pool(warm, count / replica)
        values.update(running_fields(billing, count, replica, values["mean_utilization"],
                                     values["active_hours_per_month"] if billing == "autoscaling" else a.hours_per_month,
                                     idle, values.pop(POWER_KEY), values["cold_start_s"], warm, intensity, pue))
    return _plan_result(values)


def _one_value(name, value):
    """``value`` when it is one number; an array or list refused in one line: ``name`` is one setting per call."""
    if is_array(value) or isinstance(value, (list, tuple)):
        raise InputError(f"{name} takes one value per call, not an array — call plan once per {name} (a sweep or a "
                         f"worksheet range of {name} does)")
    return value


def _disaggregated(value, tp=None, prefix_hit_rate=0.0):
    """``disaggregated`` as a bool: True or False (None = False); with True, refused where the disaggregated serving
    model cannot follow (a given tp, a prefix cache), in one line naming the fix."""
    if value is None or value is False or (isinstance(value, np.bool_) and not value):
        return False
    if not (value is True or isinstance(value, np.bool_)):
        raise InputError(f"disaggregated must be True or False, not {value!r}")
    if tp is not None:
        raise InputError("tp with disaggregated=True: the unit's prefill and decode replica sizes are chosen by "
                         "estimate_disaggregated — leave tp out, or plan aggregated")
    if prefix_hit_rate:
        raise InputError("prefix_hit_rate with disaggregated=True: the disaggregated serving model has no prefix "
                         "cache yet — leave prefix_hit_rate out, or plan aggregated")
    return True


def _check_warm_pool(min_replicas, replicas):
    """A warm pool of at most the plan's replicas (the fewest, for arrays of volumes)."""
    fewest = float(np.min(replicas)) if isinstance(replicas, np.ndarray) else replicas
    if min_replicas > fewest:
        raise InputError(f"min_replicas {min_replicas:g} is more than the plan's {fewest:g} replicas — give at most "
                         f"{fewest:g}")


def _given_throughput_power(cat, model, gpu, replica_gpus, hit):
    """(idle power of the GPU [W], the power and cold-start entries) of a plan whose throughput was given: the serving
    model's at ``replica_gpus``
    and its default shape where the catalog knows the model and the GPU (as `serving_estimate` reads the plan), the
    TDP at full load where it knows only the GPU, NaN otherwise. Kept by content."""
    key = (cat.fingerprint, model, gpu, replica_gpus, hit)
    found = _GIVEN.get(key)
    if found is None:
        spec = cat.gpu_specs.get(gpu)
        tdp = math.nan if spec is None else spec["tdp_w"]
        full, start = tdp, math.nan
        if spec is not None and model in cat.model_specs:
            try:
                est = serving.estimate(model, gpu, tp=int(replica_gpus), catalog=cat, prefix_hit_rate=hit or None)
                full, start = est.power_w_per_gpu, running.cold_start_s(est.weights_gb)
            except InputError:  # the model cannot run there: its power and start are unknown, the plan stands
                full = math.nan
        found = serving.POWER_IDLE_FRACTION * tdp, {POWER_KEY: full, "cold_start_s": start}
        if len(_GIVEN) > 4096:
            _GIVEN.clear()
        _GIVEN[key] = found
    return found


_GIVEN = {}


def _tp(tp):
    """A given replica size: a whole number of GPUs ≥ 1, or None (the planner chooses)."""
    if tp is None:
        return None
    number = _number("tp", tp, positive=True)
    if isinstance(number, np.ndarray):
        raise InputError("tp takes one replica size — call plan once per tp")
    if number != int(number):
        raise InputError(f"tp must be a whole number of GPUs, not {tp!r}")
    return int(number)


# -- the replica size: least monthly cost ----------------------------------------------------------
SERVING_FIELDS = ("precision", "throughput_basis", "replica_gpus", "input_tokens", "output_tokens", "ttft_ms",
                  "tpot_ms", "throughput_expected_error", "prefix_hit_rate")
_ESTIMATE_NAMES = {"throughput_basis": "basis", "replica_gpus": "tp", "throughput_expected_error": "expected_error"}


class ReplicaSizes:
    """The replica sizes (tp, and the precision where ``precision="best"``) worth comparing for one model on
    one GPU under one request shape and latency limits: those that fit and meet the limits, without the
    ones a smaller replica beats (no more tokens/s per GPU from more GPUs per replica). Built by
    `replica_sizes` (cached by content); `choose` picks one per workload."""

    def __init__(self, estimates, mode, notes, domain, idle_w=math.nan, widest=None):
        self.estimates = estimates  # serving-model records, tp ascending
        self.tp = [float(e.tp) for e in estimates]
        self.rate = [float(e.total_tokens_per_s_per_gpu) for e in estimates]
        self.domain = domain
        self.idle_w = idle_w  # one GPU's idle board power [W] (`running_fields`)
        self.mode = mode  # "given", "least cost" or "disaggregated" (one size: the unit, `disaggregated_sizes`)
        self.notes = notes
        self.widest = widest  # the widest replica of a disaggregated unit, for the scaling penalty; None: the size
        self._sizes = [(tp, rate, tp > domain) for tp, rate in zip(self.tp, self.rate)]
        rows = [{f: e[_ESTIMATE_NAMES.get(f, f)] for f in SERVING_FIELDS} | {"scale_up_gpus": domain}
                | {"cold_start_s": running.cold_start_s(e.weights_gb), POWER_KEY: e.power_w_per_gpu,
                   "serving_mode": "disaggregated" if mode == "disaggregated" else "aggregated"}
                for e in estimates]  # per size, once: plan() stays microseconds
        self._rows = {fixed: [dict(row, replica_choice=self._why(fixed)) for row in rows] for fixed in (False, True)}
        self._columns = None

    def choose(self, tokens_per_day, pattern, fixed, target_utilization):
        """(total tokens/s per GPU, serving fields) of the size each workload needs: least monthly cost (fewest
        GPUs, as one offering prices every GPU alike), then inside its scale-up domain, then the most headroom;
        with a fixed GPU count, the size that serves the most from it. Arrays in, arrays out; the scalar
        fields are shared (read only)."""
        if isinstance(tokens_per_day, np.ndarray) or isinstance(fixed, np.ndarray):
            return self._choose_arrays(tokens_per_day, pattern, fixed, target_utilization)
        peak = tokens_per_day / SECONDS_PER_DAY / pattern.active_ratio * pattern.burst_factor  # peak_tokens_per_s
        scale = pattern.efficiency * pattern.batch_multiplier
        best, best_key = None, None
        for i, (tp, rate, beyond) in enumerate(self._sizes):
            ratio = peak / (rate * scale)
            if fixed is None:  # gpu_count() inlined: this loop is most of a scalar plan()'s time
                needed = max(ceil_rounded(ratio / target_utilization), 1)
                key = (ceil_rounded(needed / tp) * tp, beyond, ratio)
            elif tp <= fixed:
                key = (0, beyond, ratio / (math.floor(fixed / tp + 1e-9) * tp))
            else:
                continue
            if best_key is None or key < best_key:
                best, best_key = i, key
        if best is None:
            self._refuse(fixed)
        return self.rate[best], self._rows[fixed is not None][best]

    def _choose_arrays(self, tokens_per_day, pattern, fixed, target_utilization):
        peak = peak_tokens_per_s(avg_tokens_per_s(np.asarray(tokens_per_day, dtype=float)), pattern.active_ratio,
                                 pattern.burst_factor)
        scale = pattern.efficiency * pattern.batch_multiplier
        shape = np.broadcast(peak, np.asarray(np.nan if fixed is None else fixed)).shape
        best = np.full(shape, -1)
        best_count, best_beyond, best_ratio = np.full(shape, np.inf), np.ones(shape, bool), np.full(shape, np.inf)
        for i, (tp, rate, beyond) in enumerate(self._sizes):
            ratio = peak / (rate * scale)
            if fixed is None:
                count = gpu_count(np.broadcast_to(ratio, shape), target_utilization, tp)
            else:
                count = np.where(tp <= fixed, 0.0, np.inf)
                ratio = ratio / np.maximum(np.floor(fixed / tp + 1e-9) * tp, tp)
            better = (count < best_count) | ((count == best_count) & (
                (~beyond & best_beyond) | ((beyond == best_beyond) & (ratio < best_ratio))))
            better &= np.isfinite(count)
            best = np.where(better, i, best)
            best_count, best_ratio = np.where(better, count, best_count), np.where(better, ratio, best_ratio)
            best_beyond = np.where(better, beyond, best_beyond)
        if (best < 0).any():
            self._refuse(float(np.min(fixed)))
        rows = self._rows[fixed is not None]
        columns = {f: np.array([row[f] for row in rows]) for f in rows[0] if f != "replica_choice"}
        out = {f: column[best] for f, column in columns.items()}
        out["replica_choice"] = rows[0]["replica_choice"]
        return np.asarray(self.rate)[best], out

    def _refuse(self, fixed):
        e = self.estimates[0]
        what = "disaggregated unit" if self.mode == "disaggregated" else "replica"
        raise InputError(f"gpu_count {fixed:g} cannot hold {e.model} at {e.precision} on {e.gpu}: the smallest {what} "
                         f"that fits and meets the limits needs {self.tp[0]:g} GPUs — give gpu_count ≥ {self.tp[0]:g}")

    def _why(self, fixed):
        if self.mode == "disaggregated":
            return self.notes + (", as many units as the fixed gpu_count holds" if fixed else "")
        if self.mode == "given":
            return f"given: tp {self.tp[0]:g}"
        what = "most tokens/s from the fixed gpu_count" if fixed else "least monthly cost"
        return f"{what} of {self.notes}"


def serving_estimate(plan_result, catalog=None):
    """The serving model's record (`atlas_xl.serving.estimate`) at a plan's operating point: its model, GPU,
    precision, request shape, latency limits and replica size. For the functions that work on a plan
    (`atlas_xl.footprint`, `atlas_xl.scaling`)."""
    p = plan_result

    def given(value):
        return None if value != value else value  # NaN: the plan took the serving model's default
    return serving.estimate(p.model, p.gpu, precision=p.precision or None, input_tokens=given(p.input_tokens),
                            output_tokens=given(p.output_tokens), ttft_ms=given(p.ttft_ms), tpot_ms=given(p.tpot_ms),
                            tp=int(p.replica_gpus), catalog=catalog, prefix_hit_rate=p.prefix_hit_rate or None)


def replica_sizes(cat, model, gpu, precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms, prefix_hit_rate=0.0):
    """`ReplicaSizes` of ``model`` on ``gpu``: every tp that divides its attention heads (`atlas_xl.serving.tp_choices`; or the given ``tp``)
    and, for ``precision="best"``, every precision the GPU's tensor cores run natively. Refused with one line
    when none fits and meets the limits (naming the fix). Cached by content: plan() stays microseconds."""
    key = (cat.fingerprint, model, gpu, precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms, prefix_hit_rate)
    sizes = _SIZES.get(key)
    if sizes is None:
        sizes = _replica_sizes(cat, model, gpu, precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms,
                               prefix_hit_rate)
        if len(_SIZES) > 4096:
            _SIZES.clear()
        _SIZES[key] = sizes
    return sizes


_SIZES = {}


def _replica_sizes(cat, model, gpu, precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms, prefix_hit_rate=0.0):
    def estimate(p, size):
        return serving.estimate(model, gpu, precision=p, input_tokens=input_tokens, output_tokens=output_tokens,
                                ttft_ms=ttft_ms, tpot_ms=tpot_ms, tp=size, catalog=cat,
                                prefix_hit_rate=prefix_hit_rate or None)

    wanted = serving.normalize_precision(precision)
    gpu_key = cat.check_gpu(gpu)
    domain = cat.gpu_specs[gpu_key]["scale_up_gpus"]
    idle_w = serving.POWER_IDLE_FRACTION * cat.gpu_specs[gpu_key]["tdp_w"]  # `atlas_xl.footprint`'s idle power
    sizes = serving.tp_choices(cat.model_specs[cat.check_model(model)]["attention_heads"])
    if tp is not None:
        est = estimate(wanted, tp)
        if not est.fits:
            fitting = [t for t in sizes if estimate(wanted, t).fits]
            hint = f"tp ≥ {fitting[0]:g}" if fitting else "a larger GPU"
            raise InputError(f"{est.model} at {est.precision} ({est.weights_gb:,.0f} GB of weights) does not fit on "
                             f"tp {tp:g} {est.gpu} GPUs — give {hint} or a lower precision")
        return ReplicaSizes([serving.servable(est)], "given", "", domain, idle_w)
    if wanted == "best":
        spec = cat.gpu_specs[gpu_key]
        precisions = [p for p in ("fp4", "fp8", "bf16") if spec[serving.TFLOPS_COLUMN[p]] == spec[serving.TFLOPS_COLUMN[p]]]
    else:
        precisions = [wanted]
    candidates, missed = [], []
    for p in precisions or ["bf16"]:
        for size in sizes:
            est = estimate(p, size)
            (candidates if est.fits and est.meets_limits else missed).append(est)
    if not candidates:  # the serving model's own message: does not fit, or cannot meet the limits
        serving.servable(estimate(precision, None))
        raise InputError(f"{model} cannot be served on {gpu_key} within the limits — relax ttft_ms/tpot_ms")
    candidates.sort(key=lambda e: (e.tp, -e.total_tokens_per_s_per_gpu))
    kept, beaten = [], []
    for e in candidates:  # a replica no faster per GPU than a smaller one whose tp divides it never costs less
        if any(k.tp <= e.tp and e.tp % k.tp == 0 and k.total_tokens_per_s_per_gpu >= e.total_tokens_per_s_per_gpu
               for k in kept):
            beaten.append(e)
        else:
            kept.append(e)
    several = len(precisions) > 1
    sep = "; " if several else ", "
    notes = sep.join(_names(kept, several))
    if beaten:
        notes += f" ({sep.join(_names(beaten, several))}: fewer tokens/s per GPU)"
    if missed:
        notes += f"; {sep.join(_names(missed, several))}: does not fit or meet the limits"
    return ReplicaSizes(kept, "least cost", notes, domain, idle_w)


def _names(estimates, with_precision):
    """'tp 1, 2, 4' (or 'fp4 tp 1, 2; fp8 tp 4' when several precisions are compared)."""
    groups = {}
    for e in estimates:
        groups.setdefault(e.precision if with_precision else "", []).append(int(e.tp))
    return [f"{p + ' ' if p else ''}tp {', '.join(str(t) for t in sorted(set(tps)))}" for p, tps in groups.items()]


def disaggregated_sizes(cat, model, gpu, precision, input_tokens, output_tokens, ttft_ms, tpot_ms):
    """`ReplicaSizes` of one size, a disaggregated unit of ``model`` on ``gpu`` (prefill and decode on the same GPU
    type): `atlas_xl.estimate_disaggregated` at the plan's request shape and limits. Refused with its one line
    (`atlas_xl.disaggregated.servable`) where the unit does not fit or cannot meet the limits, as
    `replica_sizes` refuses an aggregated plan. Cached by content.

    Notes
    -----
    The unit stands where an aggregated plan has its replica: size = prefill_gpus + decode_gpus [GPUs], throughput
    per GPU = the unit's ``total_tokens_per_s_per_gpu`` (input + output tokens over all its GPUs, as the planner's
    volume counts them), so `plan_equations` gives gpu_count = ceil(ceil(peak ÷ (rate × efficiency ×
    batch_multiplier) ÷ 0.75) ÷ unit) × unit. The scaling penalty looks at the widest of its replicas
    (max(prefill_tp, decode_tp)), not the unit. The power per GPU at the operating point is the TDP (the
    disaggregated model computes none); ``throughput_expected_error`` is NaN (its back-test: docs/disaggregated.md).
    """
    key = ("disaggregated", cat.fingerprint, model, gpu, precision, input_tokens, output_tokens, ttft_ms, tpot_ms)
    sizes = _SIZES.get(key)
    if sizes is None:
        record = disagg.servable(disagg.estimate_disaggregated(
            model, gpu, precision=precision, input_tokens=input_tokens, output_tokens=output_tokens, ttft_ms=ttft_ms,
            tpot_ms=tpot_ms, catalog=cat))
        spec = cat.gpu_specs[record.decode_gpu]
        unit = record.prefill_gpus + record.decode_gpus
        unit_record = dict(model=record.model, gpu=record.decode_gpu, precision=record.precision,
                           basis="estimated" if serving.calibrated(cat.serving_calibration,
                                                                   cat.gpu_vendors[record.decode_gpu]) else "uncalibrated",
                           tp=unit, input_tokens=record.input_tokens, output_tokens=record.output_tokens,
                           ttft_ms=record.ttft_ms, tpot_ms=record.tpot_ms, expected_error=math.nan,
                           prefix_hit_rate=0.0, weights_gb=record.weights_gb, power_w_per_gpu=spec["tdp_w"],
                           total_tokens_per_s_per_gpu=record.total_tokens_per_s_per_gpu)
        notes = (f"disaggregated: {record.prefill_gpus:g} prefill + {record.decode_gpus:g} decode GPUs per unit "
                 f"({record.prefill_replicas:g}×P{record.prefill_tp:g} + {record.decode_replicas:g}×D{record.decode_tp:g})")
        sizes = ReplicaSizes([Record(unit_record)], "disaggregated", notes, spec["scale_up_gpus"],
                             serving.POWER_IDLE_FRACTION * spec["tdp_w"], max(record.prefill_tp, record.decode_tp))
        if len(_SIZES) > 4096:
            _SIZES.clear()
        _SIZES[key] = sizes
    return sizes


def per_token_price(offering, input_tokens, output_tokens, prefix_hit_rate=0.0):
    """Price per million tokens of a request shape from separate input, cached-input and output prices.
    [USD Mtok⁻¹]

    Parameters
    ----------
    offering : Offering
        A per-token offering (its ``price_in_per_m_tokens``, ``price_cached_in_per_m_tokens``,
        ``price_out_per_m_tokens``). [USD Mtok⁻¹]
    input_tokens, output_tokens : numeric or None
        Request shape; None = the serving model's default. [tokens]
    prefix_hit_rate : numeric or array
        Share of the input tokens the provider serves from its prompt cache, h. [0-1]

    Notes
    -----
    price = (input × ((1 − h) × price_in + h × price_cached_in) + output × price_out) / (input + output), with
    price_cached_in = price_in where the offering lists no cached price (billed as fresh input); the catalog's
    blended price where the offering has no separate input and output prices. Arrays of h broadcast.
    """
    p_in, p_out = offering.price_in_per_m_tokens, offering.price_out_per_m_tokens
    if p_in != p_in or p_out != p_out:
        return offering.price_per_m_tokens
    i = serving.DEFAULT_INPUT_TOKENS if input_tokens is None else float(input_tokens)
    o = serving.DEFAULT_OUTPUT_TOKENS if output_tokens is None else float(output_tokens)
    if is_array(prefix_hit_rate) or prefix_hit_rate:
        p_cached = offering.price_cached_in_per_m_tokens
        p_cached = p_in if p_cached != p_cached else p_cached
        return (i * ((1.0 - prefix_hit_rate) * p_in + prefix_hit_rate * p_cached) + o * p_out) / (i + o)
    return (i * p_in + o * p_out) / (i + o)


RANK_COLUMNS = ("rank", "platform", "gpu", "billing") + tuple(
    f for f in FIELDS if f not in ("platform", "gpu", "billing", "model", "pattern", "tokens_per_day", "serving_mode"))
"""`rank`'s columns; ``rank(..., disaggregated=True)`` adds ``serving_mode`` (every row of a default ranking is
aggregated)."""


def rank(tokens_per_day, pattern, model, *, latency_ms=None, catalog=None, assumptions=None,
         platforms=None, precision=None, input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None,
         prefix_hit_rate=None, region=None, disaggregated=False, pue=None):
    """Rank every offering that can serve ``model``: penalty score first, then monthly cost, best first.

    Parameters
    ----------
    tokens_per_day : numeric
        Daily token volume, input plus output. [tokens day⁻¹]
    pattern, model : str
        Catalog keys.
    latency_ms : numeric, optional
        Latency requirement for the risk band. [ms]
    platforms : list of str, optional
        Only these platforms (candidate offerings).
    precision : str, optional
        One precision for every GPU offering (default fp8), or ``best``: each GPU's native precision of
        least monthly cost.
    input_tokens, output_tokens, ttft_ms, tpot_ms, tp : numeric, optional
        Request shape, latency limits and replica size, as in `plan` (default: the least-cost size per GPU).
    prefix_hit_rate : numeric, optional
        Share of the input tokens served from the prefix cache, as in `plan` (default 0). [0-1]
    region : str, optional
        Grid region for ``co2e_kg_per_month``, as in `plan` (default ``"world"``); autoscaling offerings keep no
        warm replicas (``warm_replicas`` 0: `plan` and `atlas_xl.scaling` take ``min_replicas``).
    disaggregated : bool, optional
        Plan every GPU offering both ways, aggregated and disaggregated (as `plan`'s ``disaggregated``), and keep
        the better row of the two by the ranking's own order (penalty score, then monthly cost; aggregated on a
        tie); a column ``serving_mode`` says which. Per-token rows are as without it.
    pue : float, optional
        Facility power over IT power for ``energy_kwh_per_month``, as in `plan` (default `atlas_xl.arguments.PUE`).
        [unitless]

    Returns
    -------
    pandas.DataFrame
        One row per offering, columns ``RANK_COLUMNS`` (and ``serving_mode`` with ``disaggregated``), sorted by
        the seed's penalty score (``penalty_usd``: 0 first), then monthly cost, then platform and GPU. The
        penalties rank; they are never added to a cost. GPU offerings that cannot hold the model or meet the
        limits are left out and named in ``frame.attrs["excluded"]`` ({"platform/gpu": reason}; with
        ``disaggregated``, those that neither way can serve). With ``disaggregated``,
        ``frame.attrs["serving_modes"]`` gives each GPU offering's penalty score and monthly cost both ways
        ({"platform/gpu": {"aggregated": {"penalty_usd": …, "monthly_cost_usd": …} or the reason it cannot serve,
        "disaggregated": the same}}).
    """
    check_arguments(tokens_per_day=tokens_per_day, latency_ms=latency_ms, input_tokens=input_tokens,
                    output_tokens=output_tokens, ttft_ms=ttft_ms, tpot_ms=tpot_ms, tp=tp,
                    prefix_hit_rate=prefix_hit_rate)  # docs/limits.md
    if pue is not None:
        check_arguments(pue=_one_value("pue", pue))
    pue = running.DEFAULT_PUE if pue is None else float(pue)
    hit = 0.0 if prefix_hit_rate is None else serving.prefix_hit_share(prefix_hit_rate)
    if disaggregated is not False:
        disaggregated = _disaggregated(disaggregated, tp=tp, prefix_hit_rate=hit)
    cat = load_catalog(catalog)
    intensity = running.grid_intensity(region, cat)[0]
    model_key = cat.check_model(model)
    if is_array(tokens_per_day) or isinstance(tokens_per_day, (list, tuple)):
        raise InputError("rank takes one tokens_per_day — call it once per volume")
    wanted = None if platforms is None else {normalize_key(p) for p in platforms}
    if wanted:
        unknown = wanted - set(cat.platforms)
        if unknown:
            raise unknown_name("platform", sorted(unknown)[0], cat.platforms)
    tokens_per_day = _number("tokens_per_day", tokens_per_day, positive=True, allow_none=False)
    latency_ms = _number("latency_ms", latency_ms)
    tp = _tp(tp)
    pat = cat.pattern(pattern)
    a = assumptions or DEFAULT_ASSUMPTIONS
    shape_given = input_tokens is not None or output_tokens is not None or hit > 0
    offerings = [o for o in cat.serving(model_key) if wanted is None or o.platform in wanted]
    workload = (tokens_per_day, pattern, pat, model_key, latency_ms, a, intensity, pue)
    serving_args = (precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms, hit, shape_given)
    parts, excluded = _rank_parts(cat, offerings, workload, serving_args, False)
    if not disaggregated:
        keys = [np.concatenate(parts[f]) if parts[f] else [] for f in ("gpu", "platform", "monthly_cost_usd",
                                                                       "penalty_usd")]
        order = np.lexsort(keys)
        frame = pd.DataFrame({"rank": range(1, len(order) + 1)} | {f: _rank_column(parts[f], order) for f in parts})
        frame.attrs["excluded"] = {f"{o.platform}/{o.gpu}": excluded[o.gpu] for o in offerings if o.gpu in excluded}
        return frame
    split, split_excluded = _rank_parts(cat, [o for o in offerings if o.billing != "per_token"], workload,
                                        serving_args, True)
    return _better_of(_rank_frame(parts, "aggregated"), _rank_frame(split, "disaggregated"), offerings, excluded,
                      split_excluded)


def _rank_frame(parts, mode):
    """A `rank` frame of ``parts`` (`_rank_parts`), unsorted, with its ``serving_mode``."""
    frame = pd.DataFrame({f: _rank_column(parts[f], np.arange(sum(len(p) for p in parts["platform"])))
                          for f in parts})
    frame["serving_mode"] = np.where(frame.billing == "per_token", "", mode) if len(frame) else []
    return frame


def _better_of(aggregated, split, offerings, excluded, split_excluded):
    """`rank`'s frame with ``disaggregated``: per GPU offering, the better of its aggregated and disaggregated rows
    (penalty score, then monthly cost; aggregated on a tie), sorted and numbered as `rank` sorts."""
    both = pd.concat([aggregated, split], ignore_index=True)
    both["_mode"] = (both.serving_mode == "disaggregated").astype(int)  # aggregated first on a tie
    both = both.sort_values(["penalty_usd", "monthly_cost_usd", "_mode"], kind="stable")
    best = both.drop_duplicates(["platform", "gpu", "billing"]).drop(columns="_mode")
    best = best.sort_values(["penalty_usd", "monthly_cost_usd", "platform", "gpu"], kind="stable")
    frame = pd.concat([pd.Series(range(1, len(best) + 1), index=best.index, name="rank"), best], axis=1)
    frame = frame[list(RANK_COLUMNS) + ["serving_mode"]].reset_index(drop=True)
    cost = {(mode, f"{r.platform}/{r.gpu}"): {"penalty_usd": r.penalty_usd, "monthly_cost_usd": r.monthly_cost_usd}
            for mode, part in (("aggregated", aggregated), ("disaggregated", split)) for r in part.itertuples()}
    modes = {}
    for o in offerings:
        if o.gpu:
            name = f"{o.platform}/{o.gpu}"
            modes[name] = {mode: cost.get((mode, name), reasons.get(o.gpu, ""))
                           for mode, reasons in (("aggregated", excluded), ("disaggregated", split_excluded))}
    frame.attrs["excluded"] = {f"{o.platform}/{o.gpu}": f"aggregated: {excluded[o.gpu]}; disaggregated: "
                               f"{split_excluded[o.gpu]}" for o in offerings
                               if o.gpu in excluded and o.gpu in split_excluded}
    frame.attrs["serving_modes"] = modes
    return frame


def _sizes(cat, model_key, gpu_key, split, precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms, hit):
    """The replica sizes a GPU offers a plan: aggregated (`replica_sizes`) or, ``split``, units of prefill and
    decode GPUs (`disaggregated_sizes`)."""
    if split:
        return disaggregated_sizes(cat, model_key, gpu_key, precision, input_tokens, output_tokens, ttft_ms, tpot_ms)
    return replica_sizes(cat, model_key, gpu_key, precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms, hit)


def _rank_parts(cat, offerings, workload, serving_args, split):
    """`rank`'s columns (one array per billing type each) and the GPUs left out ({gpu: reason}) of ``offerings``,
    every GPU planned aggregated or, ``split``, disaggregated (`disaggregated_sizes`)."""
    tokens_per_day, pattern, pat, model_key, latency_ms, a, intensity, pue = workload
    precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms, hit, shape_given = serving_args
    chosen, excluded, idle_w, widest = {}, {}, {}, {}
    for gpu in sorted({o.gpu for o in offerings if o.gpu}):  # the least-cost size depends on the GPU, not the price
        try:
            sizes = _sizes(cat, model_key, gpu, split, precision, tp, input_tokens, output_tokens, ttft_ms, tpot_ms,
                           hit)
            chosen[gpu] = sizes.choose(tokens_per_day, pat, None, a.target_utilization)
            idle_w[gpu], widest[gpu] = sizes.idle_w, sizes.widest
        except InputError as error:
            excluded[gpu] = str(error)
    parts = {f: [] for f in RANK_COLUMNS[1:]}  # per column, one array per billing type
    for billing in ("autoscaling", "dedicated", "per_token"):  # one vectorised pass per billing type
        per_token = billing == "per_token"
        group = [o for o in offerings if o.billing == billing and (per_token or o.gpu in chosen)]
        if not group:
            continue
        n = len(group)
        rows = [None if per_token else chosen[o.gpu] for o in group]
        tps = np.array([math.nan if r is None else r[0] for r in rows])
        rows = [None if r is None else r[1] for r in rows]
        replica = np.array([1.0 if r is None else r["replica_gpus"] for r in rows])
        domain = np.array([math.nan if r is None else r["scale_up_gpus"] for r in rows])
        hourly = np.array([math.nan if per_token else o.hourly_usd for o in group])
        price = np.array([(per_token_price(o, input_tokens, output_tokens, hit) if shape_given else o.price_per_m_tokens)
                          if per_token else math.nan for o in group])
        penalised = np.array([widest[o.gpu] for o in group]) if split else None  # the unit's widest replica
        values = plan_equations(np.full(n, tokens_per_day), pat, tps, replica, billing, hourly, price, None, latency_ms, a,
                                domain, penalised)
        values.update(platform=[o.platform for o in group], gpu=[o.gpu for o in group], model=[model_key] * n,
                      pattern=[normalize_key(pattern)] * n, billing=[billing] * n, tokens_per_day=[tokens_per_day] * n,
                      hourly_usd=hourly, price_per_m_tokens=price, gpu_tokens_per_s=tps, scale_up_gpus=domain)
        for field, default in _PER_TOKEN_DEFAULTS.items():
            values[field] = [default if r is None else r[field] for r in rows]
        idle = np.array([math.nan if per_token else idle_w[o.gpu] for o in group])
        full, start = (np.array([math.nan if r is None else r[k] for r in rows]) for k in (POWER_KEY, "cold_start_s"))
        values.update(running_fields(billing, values["gpu_count"], replica, values["mean_utilization"],
                                     values["active_hours_per_month"] if billing == "autoscaling" else a.hours_per_month,
                                     idle, full, start, 0.0, intensity, pue))
        if hit:
            values["prefix_hit_rate"] = [hit] * n
        for f, column in parts.items():
            part = np.asarray(values[f])
            column.append(part if part.shape == (n,) else np.broadcast_to(part, (n,)))
    return parts, excluded


def _rank_column(parts, order):
    """One column of `rank`'s frame from its arrays per billing type, in ``order``: a float64 array when they are
    all floats, else a list of the Python values (for pandas to type, as it types text)."""
    if parts and all(part.dtype == np.float64 for part in parts):
        return np.concatenate(parts)[order]
    values = [value for part in parts for value in part.tolist()]
    return [values[i] for i in order]


_PER_TOKEN_DEFAULTS = {f.name: f.default for f in fields(PlanResult) if f.name in SERVING_FIELDS + ("replica_choice",)}
