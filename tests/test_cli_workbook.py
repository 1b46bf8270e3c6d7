"""The workbook commands of the CLI (atlas_xl_cli/workbooks.py: ``recalc``, ``optimize-workbook``) run
through ``main()`` on real files: exit status, what is printed, what is written."""
import pytest
from openpyxl import load_workbook

import atlas_xl_cli
from workbook import template


@pytest.fixture(scope="module")
def template_path(tmp_path_factory):
    return template.build_template(tmp_path_factory.mktemp("t") / template.TEMPLATE_NAME)


def test_optimize_workbook_writes_a_copy(template_path, tmp_path, capsys):
    # before the fix: TypeError: _update_lock() missing 1 required positional argument (issue 22)
    out = tmp_path / "optimized.xlsm"
    assert atlas_xl_cli.main(["optimize-workbook", str(template_path), "-o", str(out)]) == 0
    assert f"wrote {out}: best knobs" in capsys.readouterr().out
    book = load_workbook(out)
    (title, ref), = book.defined_names["OptResults"].destinations
    first = book[title][ref.replace("$", "").split(":")[0]].value
    assert first not in (None, ""), "the optimizer's table is written into OptResults"


def test_optimize_workbook_in_place_and_never_over_an_existing_file(template_path, tmp_path, capsys):
    copy = tmp_path / "mine.xlsm"
    copy.write_bytes(template_path.read_bytes())
    assert atlas_xl_cli.main(["optimize-workbook", str(copy), "--in-place"]) == 0
    assert copy.read_bytes() != template_path.read_bytes()
    capsys.readouterr()
    assert atlas_xl_cli.main(["optimize-workbook", str(template_path), "-o", str(copy)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_report_latency_help_names_the_default_a_report_uses(capsys):
    # before the fix: `report --help` said "(default: none)" (the planner's) while a report plans at
    # 250 ms and its Summary says "latency requirement 250 ms (default)" (issue 20)
    from atlas_xl_cli.workbooks import REPORT_LATENCY_MS
    from workbook.reports import Scenario

    assert REPORT_LATENCY_MS == Scenario.latency_ms
    with pytest.raises(SystemExit):
        atlas_xl_cli.main(["report", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {Scenario.latency_ms:g} for a report" in text and "penalised (default: none)" not in text


def test_report_warns_of_the_stale_prices_it_compares(tmp_path, capsys):
    # issue 20: every output that uses a price says when it is old. catalogs/offerings.csv: together's H100 row is
    # dated 2026-05-08 (older than the 90-day default from 2026-08-06 on), deepinfra's llama_70b price is undated
    options = ["--options", "together", "runpod/h100_sxm", "deepinfra"]
    assert atlas_xl_cli.main(["report", "-o", str(tmp_path / "r.xlsx"), *options]) == 0
    err = capsys.readouterr().err.splitlines()
    assert any("the price of together/h100_sxm is from 2026-05-08" in line for line in err)
    assert any("the price of deepinfra is undated" in line for line in err)
    # at a limit longer than any dated price's age (the registry's bound, 100 years) only the undated one is left
    assert atlas_xl_cli.main(["report", "-o", str(tmp_path / "s.xlsx"), *options, "--max-price-age-days", "36500"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "warning" in line] == [
        "atlas-xl: warning: the price of deepinfra is undated (no source date) — check it and set as_of in the catalog"]
    # the Summary page itself names them, at the same limit as the warnings (before: only stderr said so)
    def assumptions(name):
        cells = load_workbook(tmp_path / name)["Summary"].iter_rows(values_only=True)
        return next(c for r in cells for c in r if isinstance(c, str) and c.startswith("Assumptions:"))
    line = assumptions("r.xlsx")
    assert "stale prices (older than 90 days or undated): " in line and "— check them with the provider" in line
    assert "together/h100_sxm: 2026-05-08" in line and "deepinfra (per-token): undated" in line
    line = assumptions("s.xlsx")
    assert "stale prices (older than 36,500 days or undated): deepinfra (per-token): undated —" in line
    assert "together/h100_sxm: 2026-05-08" not in line
