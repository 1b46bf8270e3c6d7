"""Tests for atlas_xl.sweep — scenario tables through plan's array path, locally and on Dask."""
import numpy as np
import pandas as pd
import pytest

import atlas_xl
from atlas_xl import finance, sweeps
from atlas_xl.errors import InputError


def scenarios(n=60, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "tokens_per_day": rng.uniform(1e7, 1e10, n),
        "pattern": rng.choice(["steady", "bursty", "business_hours"], n),
        "model": "llama_70b",
        "platform": rng.choice(["runpod", "lambda", "together"], n),
        "gpu": "",
        "months": rng.integers(1, 13, n),
        "monthly_growth": rng.uniform(0, 0.1, n),
        "price_change_per_year": rng.choice([0.0, -0.2], n),
    })
    frame.loc[frame.platform != "together", "gpu"] = "h100_sxm"
    return frame


def test_every_scenario_month_equals_forecast():
    table = scenarios(30)
    result = sweeps.sweep(table, workers=1)
    assert len(result) == table["months"].sum()
    assert (result["error"] == "").all()
    for i in (0, 7, 29):
        row = table.iloc[i]
        expected = finance.forecast(row.tokens_per_day, row.pattern, row.model, row.platform, row.gpu or None,
                                    months=int(row.months), monthly_growth=row.monthly_growth,
                                    price_change_per_year=row.price_change_per_year)
        got = result[result["scenario"] == i + 1]
        np.testing.assert_allclose(got["monthly_cost_usd"], expected["monthly_cost_usd"], rtol=1e-12)
        np.testing.assert_allclose(got["cumulative_cost_usd"], expected["cumulative_cost_usd"], rtol=1e-12)
        np.testing.assert_allclose(got["gpu_count"], expected["gpu_count"])


def test_overrides_blank_cells_and_plan_equality():
    table = pd.DataFrame([
        {"tokens_per_day": 2e9, "pattern": "steady", "model": "llama_70b", "platform": "runpod", "gpu": "h100_sxm",
         "gpu_count": 4, "latency_ms": 250},
        {"tokens_per_day": 2e9, "pattern": "steady", "model": "llama_70b", "platform": "runpod", "gpu": "h100_sxm"},
        {"tokens_per_day": 1e9, "pattern": "bursty", "model": "x", "platform": "own", "billing": "dedicated",
         "hourly_usd": 2.0, "gpu_tokens_per_s": 3000},
    ])
    result = sweeps.sweep(table, workers=1)
    assert result["gpu_count"].iloc[0] == 4
    assert result["monthly_cost_usd"].iloc[1] == atlas_xl.plan(2e9, "steady", "llama_70b", "runpod",
                                                               "h100_sxm").monthly_cost_usd
    assert result["monthly_cost_usd"].iloc[2] == atlas_xl.plan(1e9, "bursty", "x", "own", billing="dedicated",
                                                               hourly_usd=2.0,
                                                               gpu_tokens_per_s=3000).monthly_cost_usd


def test_a_bad_scenario_is_an_error_row_not_a_result():
    table = scenarios(10)
    table.loc[3, "platform"] = "runpd"
    result = sweeps.sweep(table, workers=1)
    bad = result[result["scenario"] == 4]
    assert (bad["error"].str.contains("unknown platform 'runpd'")).all()
    assert bad["monthly_cost_usd"].isna().all()
    assert (result.loc[result["scenario"] != 4, "error"] == "").all()


@pytest.mark.parametrize("change, words", [
    ({"tokens_per_day": -1}, "row 3, column tokens_per_day"),
    ({"months": 0}, "row 3, column months"),
    ({"monthly_growth": -1}, "row 3, column monthly_growth"),
    ({"hourly_usd": "cheap"}, "row 3, column hourly_usd: 'cheap' is not a number"),
    ({"pattern": ""}, "row 3, column pattern"),
])
def test_bad_scenario_tables_name_row_and_column(change, words):
    table = scenarios(3).astype(object)
    for column, value in change.items():
        if column not in table:
            table[column] = pd.Series([None] * len(table), dtype=object)
        table.loc[1, column] = value
    with pytest.raises(InputError, match=words):
        sweeps.sweep(table, workers=1)


def test_unknown_or_missing_columns():
    with pytest.raises(InputError, match="column 'colour' is unknown"):
        sweeps.read_scenarios(pd.DataFrame({"tokens_per_day": [1e9], "colour": ["red"]}))
    with pytest.raises(InputError, match="lack column pattern, model, platform"):
        sweeps.read_scenarios(pd.DataFrame({"tokens_per_day": [1e9]}))
    with pytest.raises(InputError, match="does not exist"):
        sweeps.read_scenarios("no_such.csv")


def test_local_processes_give_the_same_results_with_progress():
    table = scenarios(200)
    seen = []
    alone = sweeps.sweep(table, workers=1, chunk_size=50)
    pool = sweeps.sweep(table, workers=2, chunk_size=50, progress=lambda done, total: seen.append((done, total)))
    pd.testing.assert_frame_equal(alone, pool)
    assert seen[-1] == (200, 200) and len(seen) == 4


def test_dask_local_cluster_gives_the_same_results():
    from dask import distributed  # in the test extra: pip install -e '.[test]' (a missing dask fails, never skips)
    table = scenarios(120)
    local = sweeps.sweep(table, workers=1, chunk_size=40)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = sweeps.sweep(table, scheduler=cluster.scheduler_address, chunk_size=40)
    pd.testing.assert_frame_equal(local, remote)


def test_unreachable_scheduler_is_one_line():
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        sweeps.sweep(scenarios(2), scheduler="tcp://127.0.0.1:1", connect_timeout_s=1)


def test_sweep_columns_are_every_plan_and_forecast_argument():
    # issue 18: the columns come from the argument registry, so the serving arguments are sweepable
    from atlas_xl import arguments
    assert set(sweeps.SCENARIO_COLUMNS) == set(arguments.PLAN) | set(arguments.PLAN_RUNNING) | set(arguments.FORECAST)
    rows = [dict(tokens_per_day=2e9, pattern="steady", model="llama_70b", platform="runpod", gpu="h100_sxm",
                 precision="fp8", tpot_ms=tpot) for tpot in (40, 200)] + [
        dict(tokens_per_day=2e9, pattern="steady", model="llama_70b", platform="runpod", gpu="h100_sxm", tp=8)]
    frame = atlas_xl.sweep(rows, workers=1)
    assert (frame["error"] == "").all()
    for i, row in enumerate(rows):  # each scenario is plan() with the same arguments, bit for bit
        expected = atlas_xl.plan(**row)
        assert frame.loc[i, "monthly_cost_usd"] == expected.monthly_cost_usd
        assert frame.loc[i, "replica_gpus"] == expected.replica_gpus


def test_a_sweep_refuses_what_plan_refuses_with_the_same_message():
    row = dict(tokens_per_day=2e9, pattern="steady", model="llama_70b", platform="runpod", gpu="h100_sxm",
               hourly_usd=5000)
    with pytest.raises(InputError) as refused:
        atlas_xl.plan(**row)
    with pytest.raises(InputError, match="scenario row 2, column hourly_usd: ") as swept:
        atlas_xl.sweep([row], workers=1)
    assert str(swept.value).endswith(str(refused.value))


SERVERLESS = dict(tokens_per_day=2e9, pattern="business_hours", model="llama_70b", platform="runpod_serverless",
                  gpu="h100_sxm")
SPLIT = dict(tokens_per_day=5e10, pattern="steady", model="deepseek_r1", platform="nebius", gpu="b200")


def test_region_min_replicas_disaggregated_and_pue_are_sweep_columns():
    # issue 19: the four running arguments of plan (atlas_xl.arguments.PLAN_RUNNING) as columns; plan takes one
    # min_replicas and one pue per call, so the sweep plans each value apart — each scenario is plan() of its row
    rows = [dict(SERVERLESS, region=r, min_replicas=m, pue=p) for r, m, p in
            (("france", 0, 1.2), ("germany", 1, 1.2), ("france", 1, 1.5), (None, None, None))]
    rows += [dict(SPLIT, disaggregated=d) for d in (True, False, "TRUE", 0)]
    frame = atlas_xl.sweep(pd.DataFrame(rows), workers=1)
    assert (frame["error"] == "").all()
    for i, row in enumerate(rows):
        given = {k: v for k, v in row.items() if v is not None}
        if "disaggregated" in given:
            given["disaggregated"] = given["disaggregated"] in (True, "TRUE")
        expected = atlas_xl.plan(**given)
        for field in ("co2e_kg_per_month", "warm_replicas", "energy_kwh_per_month", "replica_gpus", "gpu_count"):
            assert frame.loc[i, field] == getattr(expected, field), (i, field)
    # each argument changed what it should (hand check: energy ∝ PUE, atlas_xl/running.py)
    assert frame.loc[2, "energy_kwh_per_month"] == pytest.approx(frame.loc[0, "energy_kwh_per_month"] * 1.5 / 1.2)
    assert frame.loc[0, "co2e_kg_per_month"] != frame.loc[1, "co2e_kg_per_month"]  # France vs Germany (and warm)
    assert frame.loc[1, "warm_replicas"] == 1.0 and frame.loc[0, "warm_replicas"] == 0.0
    assert frame.loc[4, "replica_gpus"] != frame.loc[5, "replica_gpus"]  # a disaggregated unit vs a replica


@pytest.mark.parametrize("change, words", [
    (dict(pue=0.9), "scenario row 2, column pue: pue must be 1 or more — got 0.9"),  # the registry's bound
    (dict(min_replicas=1.5), "scenario row 2, column min_replicas: min_replicas must be a whole number"),
    (dict(disaggregated="maybe"), "scenario row 2, column disaggregated: 'maybe' — give TRUE or FALSE"),
])
def test_bad_running_columns_name_row_and_column(change, words):
    with pytest.raises(InputError, match=words):
        atlas_xl.sweep([dict(SERVERLESS, **change)], workers=1)


def test_a_warm_pool_larger_than_the_plan_is_that_scenarios_error():
    rows = [dict(SERVERLESS, min_replicas=1), dict(SERVERLESS, min_replicas=999)]
    frame = atlas_xl.sweep(rows, workers=1)
    with pytest.raises(InputError) as refused:
        atlas_xl.plan(**rows[1])
    assert frame.loc[0, "error"] == "" and frame.loc[1, "error"] == str(refused.value)  # plan()'s own line
