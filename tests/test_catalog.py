"""Tests for atlas_xl.catalog — the built-in data, each class of bad input, and round trips."""
import math
import re
from pathlib import Path

import pandas as pd
import pytest

import atlas_xl
from atlas_xl.catalog import SCHEMAS, load_catalog, normalize_key, validate_table
from atlas_xl.errors import CatalogError

CATALOG_DIR = Path(__file__).resolve().parents[1] / "catalogs"


def test_builtin_catalog_loads_and_has_what_the_spec_names():
    cat = load_catalog()
    assert {"llama_8b", "llama_70b", "llama_405b", "mixtral_8x7b", "mistral_7b"} <= cat.models
    assert {"steady", "business_hours", "bursty"} <= set(cat.patterns)
    assert {"fireworks", "runpod", "modal", "together"} <= set(cat.platforms)
    assert set(cat.tables["offerings"].billing) == {"autoscaling", "dedicated", "per_token"}


def test_every_row_has_source_and_date():
    for name, frame in load_catalog().tables.items():
        assert (frame.source.str.len() > 0).all(), name
        assert frame.as_of.map(lambda d: bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}|undated", d))).all(), name


def test_throughput_is_measured_and_below_the_compute_ceiling():
    # DESIGN.md: catalog throughput must be physically possible. Ceiling = dense FP8 peak /
    # (2 FLOPs × active params); FP4 results (B200) may reach twice that.
    cat = load_catalog()
    gpus = cat.tables["gpus"].set_index("gpu")
    models = cat.tables["models"].set_index("model")
    for row in cat.tables["throughput"].itertuples():
        peak = gpus.fp8_dense_tflops[row.gpu]
        peak = gpus.bf16_dense_tflops[row.gpu] * 2 if math.isnan(peak) else peak
        ceiling = 2 * peak * 1e12 / (2 * models.active_params_b[row.model] * 1e9)
        assert row.tokens_per_s < ceiling, (row.gpu, row.model)
        assert "mlcommons" in row.source or "PROXY" in row.notes


def test_catalog_files_ship_with_the_package():
    from importlib import resources
    files = {p.name for p in resources.files("atlas_xl.catalogs").iterdir()}
    assert {f"{n}.csv" for n in SCHEMAS} <= files


def test_columns_documented_in_readme():
    readme = (CATALOG_DIR / "README.md").read_text()
    for name, (columns, _) in SCHEMAS.items():
        assert f"{name}.csv" in readme
        for column in columns:
            assert f"`{column.name}`" in readme, (name, column.name)


# -- round trips ---------------------------------------------------------------------------------
def test_round_trip_csv_frames_lists(tmp_path):
    cat = load_catalog()
    via_lists = load_catalog(cat.to_lists())
    via_frames = load_catalog(cat.to_frames())
    via_csv = load_catalog(cat.to_csv(tmp_path / "cat"))
    for other in (via_lists, via_frames, via_csv):
        assert other.fingerprint == cat.fingerprint
        for name in SCHEMAS:
            pd.testing.assert_frame_equal(other.tables[name], cat.tables[name])
    assert cat.to_lists() == via_csv.to_lists()


def test_partial_catalog_fills_from_builtin_and_changes_results():
    lists = load_catalog().to_lists()
    offerings = lists["offerings"]
    col = offerings[0].index("hourly_usd")
    for row in offerings[1:]:
        if row[0] == "runpod" and row[1] == "h100_sxm":
            row[col] = 5.38  # twice the built-in price
    cat = load_catalog({"offerings": offerings})
    base = atlas_xl.plan(1e9, "steady", "llama_70b", "runpod", "h100_sxm")
    edited = atlas_xl.plan(1e9, "steady", "llama_70b", "runpod", "h100_sxm", catalog=cat)
    assert edited.monthly_cost_usd == pytest.approx(2 * base.monthly_cost_usd)


def test_a_user_catalog_is_validated_once_and_an_edit_is_never_stale(tmp_path):
    # issue 21: load_catalog caches a folder or a dict by content (file bytes, pickled tables), never by identity
    frame = load_catalog().to_frames()["offerings"]
    first = load_catalog({"offerings": frame})
    assert load_catalog({"offerings": frame.copy()}) is first  # the same content: validated once
    hourly = frame.loc[(frame.platform == "runpod") & (frame.gpu == "h100_sxm"), "hourly_usd"].iloc[0]
    frame.loc[(frame.platform == "runpod") & (frame.gpu == "h100_sxm"), "hourly_usd"] = 2 * hourly  # edited in place
    edited = load_catalog({"offerings": frame})
    assert edited is not first and edited.fingerprint != first.fingerprint
    base = atlas_xl.plan(1e9, "steady", "llama_70b", "runpod", "h100_sxm", catalog={"offerings": frame})
    assert base.hourly_usd == 2 * hourly  # the edit, not the cached first catalog
    folder = load_catalog().to_csv(tmp_path / "cat")
    from_folder = load_catalog(folder)
    assert load_catalog(folder) is from_folder
    (folder / "patterns.csv").write_text((folder / "patterns.csv").read_text().replace("\nsteady,1.0,", "\nsteady,0.5,", 1))
    assert load_catalog(folder).pattern("steady").active_ratio == 0.5  # the file's new bytes, not the cache


def test_excel_style_range_with_blank_tail_and_messy_header():
    table = [["Pattern ", "active_ratio", "efficiency", "burst_factor", "batch_multiplier", "description", "source", "as_of", "notes"],
             ["Night Batch", 0.3, 0.9, 1.0, 1.3, None, "our logs", "2026-11-01", None],
             [None] * 9, [None] * 9]
    cat = load_catalog({"patterns": table})
    assert cat.pattern("night batch").active_ratio == 0.3
    assert atlas_xl.plan(1e9, " Night-Batch ", "llama_8b", "groq", catalog=cat).active_hours_per_month == pytest.approx(216)


def test_user_added_pattern_via_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "patterns.csv").write_text(
        (CATALOG_DIR / "patterns.csv").read_text() + "weekend,0.286,0.8,1.5,1.1,2,48h of 168,our traffic logs,2026-11-01,\n")
    cat = load_catalog(folder)
    assert "weekend" in cat.patterns
    assert len(cat.tables["offerings"]) == len(load_catalog().tables["offerings"])


# -- each bad-input class: one line naming file, row and column -------------------------------------
def _patterns_csv(tmp_path, text):
    folder = tmp_path / "bad"
    folder.mkdir(exist_ok=True)
    (folder / "patterns.csv").write_text(text)
    return folder


HEADER = "pattern,active_ratio,efficiency,burst_factor,batch_multiplier,description,source,as_of,notes\n"


@pytest.mark.parametrize("text, expected", [
    ("pattern,active_ratio,efficiency,burst_factor,description,source,as_of,notes\nsteady,1,0.85,1,x,s,2026-01-01,\n",
     "patterns.csv: missing column batch_multiplier"),
    (HEADER + "steady,1,0.85,1,1.25,,s,2026-01-01,\nSteady,1,0.85,1,1.25,,s,2026-01-01,\n",
     "patterns.csv row 3, column pattern: duplicate key steady (also row 2)"),
    (HEADER + "steady,1,abc,1,1.25,,s,2026-01-01,\n",
     "patterns.csv row 2, column efficiency: 'abc' is not a number"),
    (HEADER + "steady,1,-0.85,1,1.25,,s,2026-01-01,\n",
     "patterns.csv row 2, column efficiency: -0.85 must be greater than 0"),
    (HEADER + "steady,1.5,0.85,1,1.25,,s,2026-01-01,\n",
     "patterns.csv row 2, column active_ratio: 1.5 is above 1"),
    (HEADER + "steady,1,0.85,1,1.25,,,2026-01-01,\n",
     "patterns.csv row 2, column source: empty"),
])
def test_bad_pattern_files(tmp_path, text, expected):
    with pytest.raises(CatalogError) as info:
        load_catalog(_patterns_csv(tmp_path, text))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_negative_price_named(tmp_path):
    frame = load_catalog().tables["offerings"].copy()
    frame.loc[3, "hourly_usd"] = -1.0
    with pytest.raises(CatalogError, match=r"table offerings row 5, column hourly_usd: -1 is negative"):
        load_catalog({"offerings": frame})


def test_offering_needs_price_for_its_billing():
    frame = load_catalog().tables["offerings"].copy()
    frame.loc[0, "hourly_usd"] = math.nan
    with pytest.raises(CatalogError, match="row 2, column hourly_usd: a dedicated offering needs a gpu and hourly_usd"):
        load_catalog({"offerings": frame})


def test_unknown_billing_and_reference():
    frame = load_catalog().tables["offerings"].copy()
    frame.loc[0, "billing"] = "monthly"
    with pytest.raises(CatalogError, match="billing 'monthly' is unknown — use one of autoscaling, dedicated, per_token"):
        load_catalog({"offerings": frame})
    frame = load_catalog().tables["throughput"].copy()
    frame.loc[0, "gpu"] = "h900"
    with pytest.raises(CatalogError, match="table throughput row 2, column gpu: unknown gpu 'h900'"):
        load_catalog({"throughput": frame})


def test_bad_containers():
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog("/no/such/folder")
    with pytest.raises(CatalogError, match="unknown catalog table 'prices'"):
        load_catalog({"prices": []})
    with pytest.raises(CatalogError, match="empty table"):
        load_catalog({"patterns": []})
    with pytest.raises(CatalogError, match="whole number"):
        validate_table("throughput", [["gpu", "model", "precision", "tokens_per_s", "tp", "output_tokens", "source",
                                       "as_of"], ["h100_sxm", "llama_8b", "fp8", 100, 1.5, 200, "x", "undated"]])


def test_normalize_key():
    assert normalize_key(" Business Hours ") == "business_hours"
    assert normalize_key("H100-SXM") == "h100_sxm"
    assert normalize_key(None) == ""


def test_with_patterns_is_the_catalog_load_catalog_builds():
    # issue 21: a changed patterns table without validating the other tables again — same lookups, same fingerprint
    cat = load_catalog()
    patterns = cat.tables["patterns"].copy()
    patterns.loc[patterns.pattern == "bursty", "burst_factor"] = 2.5
    derived = cat.with_patterns(patterns)
    loaded = load_catalog({**cat.tables, "patterns": patterns})
    assert derived.fingerprint == loaded.fingerprint != cat.fingerprint
    assert {k: vars(p) for k, p in derived.patterns.items()} == {k: vars(p) for k, p in loaded.patterns.items()}
    assert all(derived.tables[n] is cat.tables[n] for n in SCHEMAS if n != "patterns")  # shared, not copied
    assert derived.pattern("bursty").burst_factor == 2.5 and cat.pattern("bursty").burst_factor != 2.5
    patterns.loc[patterns.pattern == "bursty", "burst_factor"] = -1.0
    with pytest.raises(CatalogError, match="burst_factor"):
        load_catalog({**cat.tables, "patterns": patterns})
    with pytest.raises(CatalogError, match="burst_factor"):  # refused as load_catalog refuses it
        cat.with_patterns(patterns)
