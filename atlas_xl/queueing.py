"""G/G/m queueing: Erlang C (exact), Allen–Cunneen with Whitt's refinement, Kingman for m = 1.

Servers are the data-parallel replicas of a deployment; the service time is that of one replica
(DESIGN.md, "Corrections"). Utilization ``rho = arrival_rate × mean_service_time / servers``. At
``rho >= 1`` the queue is *saturated*: waits are infinite, never a capped number.

Every function takes scalars or numpy arrays (which broadcast) and returns a Python float when
every input was a scalar. Times are in whatever unit ``mean_service_time`` is given in; rates in
its inverse.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import InputError


def _scalar(*values):
    return not any(isinstance(v, np.ndarray) for v in values)


def _servers(servers):
    if _scalar(servers):
        if isinstance(servers, bool) or not servers >= 1 or servers != math.floor(servers):
            raise InputError("servers must be a whole number >= 1")
        return float(servers)
    m = np.asarray(servers, dtype=float)
    if np.any(m < 1) or np.any(m != np.floor(m)):
        raise InputError("servers must be a whole number >= 1")
    return m


def utilization(arrival_rate, mean_service_time, servers):
    """Per-server utilization. [unitless]

    Notes
    -----
    rho = lambda × E[S] / m, with E[S] the service time of one server (replica).
    """
    return arrival_rate * mean_service_time / servers


def erlang_b(servers, offered_load):
    """Erlang B blocking probability of M/M/m/m, by the stable recursion
    B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).

    Parameters
    ----------
    servers : int or array
        m ≥ 1.
    offered_load : numeric or array
        a = lambda × E[S]. [Erlangs]
    """
    m = _servers(servers)
    if _scalar(servers, offered_load):
        a, b = float(offered_load), 1.0
        for k in range(1, int(m) + 1):
            b = a * b / (k + a * b)
        return b
    m, a = np.broadcast_arrays(m, np.asarray(offered_load, dtype=float))
    # recursion on the prefix of servers sorted high to low: element i takes m_i steps, not max(m)
    order = np.argsort(-m, axis=None, kind="stable")
    m_sorted, a_sorted = m.ravel()[order], a.ravel()[order]
    active = np.searchsorted(-m_sorted, -np.arange(1, int(m_sorted[0]) + 1), side="right") if m.size else []
    b_sorted = np.ones(m_sorted.shape)
    for k, n in enumerate(active, start=1):
        ab = a_sorted[:n] * b_sorted[:n]
        b_sorted[:n] = ab / (k + ab)
    b = np.empty(m.size)
    b[order] = b_sorted
    return b.reshape(m.shape)


def erlang_c(servers, offered_load):
    """Probability that an arrival waits in M/M/m (Erlang C), exact.

    Parameters
    ----------
    servers : int or array
        m ≥ 1.
    offered_load : numeric or array
        a = lambda × E[S]. [Erlangs]

    Notes
    -----
    C(m, a) = m·B / (m − a·(1 − B)) with B = Erlang B(m, a); 1 when a ≥ m (saturated).
    """
    b = erlang_b(servers, offered_load)
    m = _servers(servers)
    if _scalar(servers, offered_load):
        a = float(offered_load)
        return 1.0 if a >= m else float(m * b / (m - a * (1.0 - b)))
    a = np.asarray(offered_load, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = m * b / (m - a * (1.0 - b))
    return np.where(a >= m, 1.0, c)


def mmm_mean_wait(arrival_rate, mean_service_time, servers):
    """Mean wait in queue of M/M/m, exact: Wq = C(m, a) × E[S] / (m − a); inf when saturated."""
    a = arrival_rate * mean_service_time
    c = erlang_c(servers, a)
    if _scalar(arrival_rate, mean_service_time, servers):
        return math.inf if a >= servers else c * mean_service_time / (servers - a)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a >= servers, np.inf, c * mean_service_time / (servers - a))


def whitt_phi(rho, ca2, cs2, servers):
    """Whitt's (1993) refinement factor phi of the Allen–Cunneen G/G/m approximation.

    Notes
    -----
    W. Whitt, "Approximations for the GI/G/m queue", Production and Operations Management 2(2),
    1993, eqs. 2.24–2.28: gamma = min(0.24, (1−rho)(m−1)(sqrt(4+5m)−2)/(16·m·rho)),
    phi1 = 1+gamma, phi2 = 1−4·gamma, phi3 = phi2·exp(−2(1−rho)/(3rho)), phi4 = min(1, (phi1+phi3)/2),
    psi(c², m, rho) = 1 if c² ≥ 1 else phi4^(2(1−c²));
    phi = 4(ca²−cs²)/(4ca²−3cs²)·phi1 + cs²/(4ca²−3cs²)·psi  when ca² ≥ cs²,
    phi = (cs²−ca²)/(2ca²+2cs²)·phi3 + (cs²+3ca²)/(2ca²+2cs²)·psi  otherwise.
    phi = 1 for M/M/m (ca² = cs² = 1), so the approximation is exact there.
    """
    if _scalar(rho, ca2, cs2, servers):
        return _whitt_phi_scalar(float(rho), float(ca2), float(cs2), float(servers))
    rho, ca2, cs2, m = (np.asarray(v, dtype=float) for v in (rho, ca2, cs2, servers))
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = np.minimum(0.24, (1 - rho) * (m - 1) * (np.sqrt(4 + 5 * m) - 2) / (16 * m * rho))
        phi1 = 1 + gamma
        phi3 = (1 - 4 * gamma) * np.exp(-2 * (1 - rho) / (3 * rho))
        phi4 = np.minimum(1.0, (phi1 + phi3) / 2)
        c2 = (ca2 + cs2) / 2
        psi = np.where(c2 >= 1, 1.0, phi4 ** (2 * (1 - c2)))
        above = 4 * (ca2 - cs2) / (4 * ca2 - 3 * cs2) * phi1 + cs2 / (4 * ca2 - 3 * cs2) * psi
        below = np.where(ca2 == 0, phi3, (cs2 - ca2) / (2 * ca2 + 2 * cs2) * phi3
                         + (cs2 + 3 * ca2) / (2 * ca2 + 2 * cs2) * psi)
        phi = np.where(ca2 == cs2, psi, np.where(ca2 > cs2, above, below))
    return float(phi) if phi.ndim == 0 else phi


def _whitt_phi_scalar(rho, ca2, cs2, m):
    """`whitt_phi` for one queue, in plain floats (the simulator's hot path)."""
    gamma = min(0.24, (1 - rho) * (m - 1) * (math.sqrt(4 + 5 * m) - 2) / (16 * m * rho)) if rho > 0 else 0.24
    phi1 = 1 + gamma
    phi3 = (1 - 4 * gamma) * math.exp(-2 * (1 - rho) / (3 * rho)) if rho > 0 else 0.0
    c2 = (ca2 + cs2) / 2
    psi = 1.0 if c2 >= 1 else min(1.0, (phi1 + phi3) / 2) ** (2 * (1 - c2))
    if ca2 == cs2:
        return psi
    if ca2 > cs2:
        return 4 * (ca2 - cs2) / (4 * ca2 - 3 * cs2) * phi1 + cs2 / (4 * ca2 - 3 * cs2) * psi
    if ca2 == 0:
        return phi3
    return (cs2 - ca2) / (2 * ca2 + 2 * cs2) * phi3 + (cs2 + 3 * ca2) / (2 * ca2 + 2 * cs2) * psi


def mean_wait(arrival_rate, mean_service_time, servers, ca2=1.0, cs2=1.0):
    """Mean wait in queue of G/G/m.

    Parameters
    ----------
    arrival_rate : numeric or array
        lambda. [1 / time unit]
    mean_service_time : numeric or array
        E[S] of one server (replica). [time unit]
    servers : int or array
        m, the number of replicas.
    ca2, cs2 : numeric or array
        Squared coefficients of variation of inter-arrival and service times. [unitless]

    Returns
    -------
    Wq in the unit of ``mean_service_time``; ``inf`` when rho ≥ 1 (saturated).

    Notes
    -----
    m = 1: Kingman / Allen–Cunneen, Wq = (ca²+cs²)/2 × rho/(1−rho) × E[S] (exact for M/M/1).
    m > 1: Allen–Cunneen on the exact M/M/m wait with Whitt's refinement,
    Wq = phi × (ca²+cs²)/2 × Wq(M/M/m) (`whitt_phi`; phi = 1 for M/M/m, so Erlang C exactly).
    """
    m = _servers(servers)
    rho = utilization(arrival_rate, mean_service_time, servers)
    scale = (ca2 + cs2) / 2.0
    if _scalar(arrival_rate, mean_service_time, servers, ca2, cs2):
        if rho >= 1:
            return math.inf
        if servers == 1:
            return scale * rho / (1 - rho) * mean_service_time
        return whitt_phi(rho, ca2, cs2, servers) * scale * mmm_mean_wait(arrival_rate, mean_service_time, servers)
    mmm = mmm_mean_wait(arrival_rate, mean_service_time, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        kingman = scale * rho / (1 - rho) * mean_service_time
        wait = np.where(m == 1, kingman, whitt_phi(rho, ca2, cs2, m) * scale * mmm)
    return np.where(rho >= 1, np.inf, wait)


def wait_percentile(q, arrival_rate, mean_service_time, servers, ca2=1.0, cs2=1.0):
    """The q-quantile of the wait in queue (q = 0.95 for the 95th percentile).

    Notes
    -----
    The wait is 0 with probability 1 − P(wait) and, given a wait, exponential with mean
    Wq / P(wait); P(wait) is Erlang C. W_q = Wq/C × ln(C / (1 − q)) when C > 1 − q, else 0.
    Exact for M/M/m; for G/G/m the mean is `mean_wait`'s. ``inf`` when saturated.
    """
    wq = mean_wait(arrival_rate, mean_service_time, servers, ca2, cs2)
    c = erlang_c(servers, arrival_rate * mean_service_time)
    return percentile_from_mean(q, wq, c)


def percentile_from_mean(q, mean_wait, wait_probability):
    """The q-quantile of a wait that is 0 with probability 1 − C and exponential given a wait,
    from its mean ``mean_wait`` and C = ``wait_probability`` (see `wait_percentile`)."""
    wq, c = mean_wait, wait_probability
    if _scalar(q, wq, c):
        if math.isinf(wq):
            return math.inf
        return wq / c * math.log(c / (1 - q)) if c > 1 - q else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(c > 1 - q, wq / c * np.log(c / (1 - q)), 0.0)
    return np.where(np.isinf(wq), np.inf, w)


def queue_latencies(p50_service, p95_service, p99_service, ttft_service, wq, w50, w95):
    """The spec's latencies with bounded queue delay (atlas fabric spec, section 4.2).

    Notes
    -----
    P50 = P50_s + min(Wq, 0.5·P50_s); P95 = P95_s + min(max(1.5·Wq, W50), 0.8·P95_s);
    P99 = P99_s + min(max(2·Wq, W95), 0.9·P99_s); TTFT = TTFT_s + W50.
    Saturated (Wq = inf) → every latency is inf: the bound never hides an overload.
    """
    if math.isinf(wq):
        return math.inf, math.inf, math.inf, math.inf
    return (p50_service + min(wq, 0.5 * p50_service),
            p95_service + min(max(1.5 * wq, w50), 0.8 * p95_service),
            p99_service + min(max(2.0 * wq, w95), 0.9 * p99_service),
            ttft_service + w50)
