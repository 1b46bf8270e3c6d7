"""Shared fixtures. ``office``: one warm LibreOffice (with the ATLAS_* add-in) for the whole session,
so the suite pays LibreOffice's start-up once. ``resized_target``: a catalog target resized by hand."""
import pytest

import atlas_xl

from workbook.recalculate import Recalculator, find_office


@pytest.fixture(scope="session")
def office():
    find_office()  # fails with the one-line install hint when LibreOffice is missing
    with Recalculator(timeout=300) as engine:
        yield engine.start()


def resized_target_record(target, gpus):
    """A catalog target with ``gpus`` GPUs in the fewest equal nodes of at most 8, its hourly price and node power
    per GPU kept: what the template's simulator target range (target, gpu_count) stands for, built by hand."""
    nodes = -(-gpus // 8)
    while gpus % nodes:
        nodes += 1
    row = dict(atlas_xl.load_catalog().record("targets", target))
    share = gpus // nodes / row["accelerators_per_node"]
    return dict(row, target=f"{target}_as_{gpus}_gpus", accelerators_per_node=gpus // nodes, num_nodes=nodes,
                **{"cost.hourly_usd": row["cost.hourly_usd"] * share,
                   "cost.energy_watts_node": row["cost.energy_watts_node"] * share})


@pytest.fixture(scope="session")
def resized_target():
    return resized_target_record
