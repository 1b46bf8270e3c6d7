"""The field table (atlas_xl/fields.py): complete for every output, formats from units, docs in sync."""
import subprocess
import sys
from dataclasses import fields as dataclass_fields
from pathlib import Path

import pytest

import atlas_xl
from atlas_xl import fields
from udfs import calls

ROOT = Path(__file__).resolve().parents[1]


def test_every_output_field_has_metadata():
    plan = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm").as_dict()
    ranking = atlas_xl.rank(2e9, "steady", "llama_70b")
    record = atlas_xl.simulate()
    schedule = atlas_xl.run_schedule()
    names = set(plan) | set(ranking.columns) | {k for k, v in record.items() if not isinstance(v, (dict, list))}
    names |= {f"{k}.{inner}" if isinstance(v, dict) else k for k, v in schedule.items() if k != "phases"
              for inner in (v if isinstance(v, dict) else [None])}
    names |= set(calls.PHASE_COLUMNS) | set(calls.OPTIMIZE_METRICS) | set(atlas_xl.simulator.KNOBS)
    missing = sorted(n for n in names if n not in fields.FIELDS)
    assert not missing, f"add these to atlas_xl/fields.py: {missing}"
    for f in dataclass_fields(atlas_xl.planner.Assumptions):
        assert fields.field(f.name, assumption=True).name in fields.FIELDS


def test_every_field_reads_well():
    for meta in fields.FIELDS.values():
        assert meta.label and meta.label[0].isupper() and "_" not in meta.label, meta.name
        assert meta.units in fields.UNIT_FORMATS, f"{meta.name}: units {meta.units!r} have no number format"


@pytest.mark.parametrize("name, value, shown", [
    ("monthly_cost_usd", 12_916.8, "$12,917"),          # whole dollars a month
    ("hourly_usd", 5.98, "$5.98"),                       # cents an hour
    ("cost_per_m_tokens_usd", 0.21528, "$0.2153"),       # four decimals per million tokens
    ("utilization_after", 0.5858, "58.6%"),              # a share shows as a percentage
    ("utilization_ratio", 28.56, "28.56"),               # issue 12: GPU-equivalents, not 2855.8 %
    ("idle_waste_pct", 60.0, "60.0 %"),                  # already in percent
    ("monthly_tokens", 6e10, "60,000,000,000"),
    ("seed", 0, "0"),                                    # issue 12: seeds were shown as 0.00
    ("saturated", False, "no"),                          # issue 12: booleans were shown as 0.00
    ("p99_ms", 19.99690035689637, "20.00"),
    ("monthly_cost_usd", 1_912.5, "$1,913"),             # half away from zero, as spreadsheets round
    ("base", 52_834.4577, "52,834"),                     # a value of any size: whole from a thousand up
    ("base", 2e9, "2.0B"),
    ("base", 0.765, "0.765"),
])
def test_display_follows_the_units(name, value, shown):
    assert fields.display(value, fields.number_format(name, value)) == shown


def test_unknown_names_still_read_sensibly():
    meta = fields.field("gpu_memory_gb_new")
    assert meta.label == "Gpu memory gb new" and fields.field("new_cost_usd").number_format == fields.USD
    assert fields.field("overload_penalty_usd").label == "Overload penalty (score)"
    assert fields.field("overload_penalty_usd", assumption=True).description.startswith("at threshold")


def test_docs_are_generated_from_the_table():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_field_docs.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
