"""Tests for atlas_xl.queueing: Erlang C exactly, Kingman for one server, Whitt's G/G/m against an
independent simulation, saturation, percentiles, arrays."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_xl import queueing
from atlas_xl.errors import InputError


def erlang_c_by_definition(m, a):
    """Erlang C from its textbook definition (independent of the recursion under test)."""
    top = a ** m / math.factorial(m) * m / (m - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(m)) + top)


@pytest.mark.parametrize("m, a, expected", [
    (1, 0.5, 0.5),  # M/M/1: P(wait) = rho
    (2, 1.0, 1 / 3),  # hand-computed: a²/(2+a) at a = 1
    (3, 2.0, 4 / 9),  # hand-computed from the definition
])
def test_erlang_c_hand_values(m, a, expected):
    assert queueing.erlang_c(m, a) == pytest.approx(expected, rel=1e-14)


def test_erlang_c_published_call_centre_value():
    # the standard call-centre example: 10 agents, 8 Erlangs of traffic → 40.9 % of calls wait
    assert queueing.erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-5)


@pytest.mark.parametrize("m", [1, 2, 4, 8, 16, 32, 64])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.85, 0.99])
def test_erlang_c_equals_definition_to_machine_precision(m, rho):
    assert queueing.erlang_c(m, m * rho) == pytest.approx(erlang_c_by_definition(m, m * rho), rel=1e-12)


@pytest.mark.parametrize("m", [1, 2, 3, 8, 24])
@pytest.mark.parametrize("rho", [0.3, 0.7, 0.95])
def test_mmm_mean_wait_is_erlang_c_exactly(m, rho):
    # M/M/m: Wq = C(m, a) · E[S] / (m − a); the G/G/m formula must reduce to it (phi = 1)
    service = 0.25
    arrival = rho * m / service
    exact = erlang_c_by_definition(m, arrival * service) * service / (m - arrival * service)
    assert queueing.mean_wait(arrival, service, m) == pytest.approx(exact, rel=1e-12)
    assert queueing.whitt_phi(rho, 1.0, 1.0, m) == 1.0


@pytest.mark.parametrize("ca2, cs2", [(1.0, 1.0), (2.0, 0.5), (0.5, 2.0), (0.0, 1.0)])
def test_kingman_for_one_server(ca2, cs2):
    # Wq = (ca² + cs²)/2 · rho/(1 − rho) · E[S]; rho = 0.8, E[S] = 2 → 8 × (ca²+cs²)/2
    assert queueing.mean_wait(0.4, 2.0, 1, ca2, cs2) == pytest.approx((ca2 + cs2) / 2 * 0.8 / 0.2 * 2.0)


@pytest.mark.parametrize("m, rho, ca2, cs2, simulated, tolerance", [
    # independent FCFS simulation (shared/research/reference_data.md §4, numpy with 400
    # replications; cross-checked with the ciw library); tolerance = Whitt93's worst error
    # reported there at that utilization
    (4, 0.85, 2.0, 0.5, 1.593, 0.16),
    (8, 0.70, 0.5, 2.0, 0.110, 0.37),
    (2, 0.95, 2.0, 2.0, 18.79, 0.04),
    (16, 0.85, 0.5, 0.5, 0.0758, 0.16),
])
def test_whitt_against_simulation(m, rho, ca2, cs2, simulated, tolerance):
    wait = queueing.mean_wait(rho * m, 1.0, m, ca2, cs2)  # E[S] = 1: Wq in units of E[S]
    assert wait == pytest.approx(simulated, rel=tolerance)


def test_saturation_is_infinite_never_capped():
    assert queueing.mean_wait(1.0, 1.0, 1) == math.inf  # rho = 1
    assert queueing.mean_wait(10.0, 1.0, 4) == math.inf  # rho = 2.5
    assert queueing.wait_percentile(0.99, 10.0, 1.0, 4) == math.inf
    assert queueing.erlang_c(4, 10.0) == 1.0
    waits = queueing.mean_wait(np.array([1.0, 5.0]), 1.0, 4)
    assert math.isfinite(waits[0]) and waits[1] == math.inf


def test_percentiles_mm1_exact():
    # M/M/1, lambda 0.8, mu 1: P(W > t) = 0.8·exp(−0.2 t) → W95 = ln(0.8/0.05)/0.2
    assert queueing.wait_percentile(0.95, 0.8, 1.0, 1) == pytest.approx(math.log(16) / 0.2)
    assert queueing.wait_percentile(0.10, 0.8, 1.0, 1) == 0.0  # 20 % never wait → P10 = 0


def test_queue_latencies_bounds_and_saturation():
    # spec 4.2 with service 10/20/30/5 ms, Wq 4, W50 1, W95 50
    assert queueing.queue_latencies(10, 20, 30, 5, 4.0, 1.0, 50.0) == (14.0, 26.0, 57.0, 6.0)
    assert queueing.queue_latencies(10, 20, 30, 5, math.inf, 1.0, 50.0) == (math.inf,) * 4


def test_arrays_broadcast_and_match_scalars():
    arrival = np.linspace(0.5, 7.5, 8)
    servers = np.array([[1], [2], [4], [8]])
    waits = queueing.mean_wait(arrival, 1.0, servers, 1.5, 0.7)
    assert waits.shape == (4, 8)
    for i, m in enumerate(servers[:, 0]):
        for j, lam in enumerate(arrival):
            expected = queueing.mean_wait(float(lam), 1.0, int(m), 1.5, 0.7)
            assert waits[i, j] == pytest.approx(expected, rel=1e-12) or (math.isinf(expected) and math.isinf(waits[i, j]))


def test_bad_servers():
    with pytest.raises(InputError, match="servers must be a whole number >= 1"):
        queueing.mean_wait(1.0, 1.0, 0)
    with pytest.raises(InputError, match="servers must be a whole number >= 1"):
        queueing.erlang_c(2.5, 1.0)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.01, 50), st.floats(0.01, 50), st.integers(1, 32), st.floats(0.0, 4.0), st.floats(0.0, 4.0))
def test_more_load_never_less_wait(l1, l2, m, ca2, cs2):
    lo, hi = sorted((l1, l2))
    assert queueing.mean_wait(hi, 0.1, m, ca2, cs2) >= queueing.mean_wait(lo, 0.1, m, ca2, cs2) * (1 - 1e-12)
