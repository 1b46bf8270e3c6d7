"""Fuzz suite (issue 13): generated inputs per interface with fixed seeds, bounded in time.

Every generated input must end in a clean one-line refusal or a sane success — never a
traceback, a multi-line message, an "internal error", Infinity in JSON or an accepted
non-finite figure. The generators live in tests/fuzz_cases.py; benchmarks/fuzz_long.py runs the
same generators for 10 000 inputs per interface with hang and memory accounting.
"""
import random
import signal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fuzz_cases

CASES = 100  # per interface; the long run is benchmarks/fuzz_long.py
CASE_LIMIT_S = 20  # a case slower than this is a hang


def _bounded(run):
    def alarm(signum, frame):
        raise TimeoutError("hang")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_LIMIT_S)
    try:
        return run()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("interface", fuzz_cases.INTERFACES)
def test_generated_inputs_never_traceback(interface, tmp_path):
    outcomes, failures = {"refused": 0, "success": 0, "traceback": 0}, []
    cases = fuzz_cases.generator(interface, seed=1234, workdir=tmp_path)
    for _ in range(CASES):
        shown, run = next(cases)
        outcome, detail = _bounded(run)
        outcomes[outcome] += 1
        if outcome == "traceback":
            failures.append(f"{detail} ← {shown!r}"[:400])
    assert not failures, "\n".join(failures[:5])
    assert outcomes["refused"] and outcomes["success"]  # the generator reaches both sides


TOKENS = st.one_of(st.sampled_from(fuzz_cases.EDGE_NUMBERS + fuzz_cases.EDGE_TEXT[:10]), st.text(max_size=12))


@settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(command=st.sampled_from(["plan", "rank", "simulate"]), tokens=st.lists(TOKENS, max_size=6),
       options=st.lists(st.tuples(st.sampled_from(["--top", "--latency-ms", "--gpu-count", "--seed", "--pue",
                                                    "--knob", "--set", "--hourly-usd", "--gpu-tokens-per-s"]),
                                  TOKENS), max_size=3))
def test_cli_arguments_property(command, tokens, options):
    argv = [command] + (tokens or list(fuzz_cases.VALID[command]))
    for option, value in options:
        argv += [option, f"microbatch={value}" if option == "--knob" else value]
    outcome, detail = _bounded(lambda: fuzz_cases.run_cli(argv))
    assert outcome in ("refused", "success"), f"{detail} ← {argv!r}"


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_scenario_yaml_property(seed, tmp_path_factory):
    data = fuzz_cases.yaml_case(random.Random(seed))
    path = tmp_path_factory.mktemp("yaml") / "s.yaml"
    outcome, detail = _bounded(lambda: fuzz_cases.run_yaml(data, path))
    assert outcome in ("refused", "success"), f"{detail} ← {data[:200]!r}"
