"""Reading catalog CSV files a user edited: encodings, malformed rows, implausible figures
(atlas_xl/catalog.py's reader and Column checks; issue 13)."""
import json
import re

import pytest

import atlas_xl_cli as cli
from atlas_xl import catalog
from atlas_xl.errors import CatalogError

HEADER = "platform,gpu,model,billing,hourly_usd,price_per_m_tokens,source,as_of,notes\n"
GOOD = "runpod,h100_sxm,,dedicated,2.69,,test,2026-01-01,\n"
THROUGHPUT = "gpu,model,precision,tokens_per_s,tp,dataset,input_tokens,output_tokens,ttft_ms,tpot_ms,source,as_of,notes\n"


def folder(tmp_path, name, content):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return tmp_path


def refused(tmp_path, name, content):
    with pytest.raises(CatalogError) as info:
        catalog.load_catalog(folder(tmp_path, name, content))
    return str(info.value)


def test_utf8_with_and_without_bom_are_read(tmp_path):
    cat = catalog.load_catalog(folder(tmp_path, "offerings", "\ufeff" + HEADER + GOOD))
    assert cat.offering("runpod", "llama_70b", "h100_sxm").hourly_usd == 2.69  # the row as written


@pytest.mark.parametrize("data, message", [
    ((HEADER + "rünpod,h100_sxm,,dedicated,2.69,,test,2026-01-01,\n").encode("latin-1"),
     "offerings.csv row 2: byte 0xFC is not UTF-8 (the file looks Latin-1 / Windows-1252) — save it as 'CSV UTF-8'"),
    ((HEADER + GOOD).encode("utf-16"), "offerings.csv: the file is UTF-16 — save it as 'CSV UTF-8'"),
    (b"", "offerings.csv: the file is empty"),
    (HEADER.encode(), "offerings.csv: no data rows"),
    (HEADER.replace(",", ";").encode() + GOOD.replace(",", ";").encode(), "columns are separated by ';'"),
    ((HEADER + 'runpod,h100_sxm,,dedicated,2.69,,"test,2026-01-01,\n').encode(), "a quoted value is never closed"),
    ((HEADER + GOOD.replace("2.69", "1,5")).encode(), "a comma inside a value needs quotes"),
    ((HEADER + GOOD.replace("2.69", '"1,5"')).encode(), "hourly_usd: '1,5' has a decimal comma — write 1.5"),
    ((HEADER + GOOD.replace("2.69", "1e308")).encode(),
     "offerings.csv row 2, column hourly_usd: 1e+308 is outside the plausible range 0 to 1000"),
    ((HEADER + GOOD.replace("2.69", "nan")).encode(), "column hourly_usd: 'nan' is not a finite number"),
    ((HEADER + GOOD.replace("2.69", "\u0662")).encode(), "digits of another script"),
])
def test_bad_files_one_line_naming_file_row_column(tmp_path, data, message):
    text = refused(tmp_path, "offerings", data)
    assert message in text and "\n" not in text


def test_one_line_per_malformed_row(tmp_path):
    rows = [GOOD, "runpod,h100_sxm\n", GOOD.replace("runpod", "a"), "x,y,z,a,b,c,d,e,f,g\n"]
    text = refused(tmp_path, "offerings", HEADER + "".join(rows))
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("offerings.csv row 3, column model: 2 cells but the header has 9")
    assert lines[1].startswith("offerings.csv row 5, column beyond 'notes': 10 cells")


@pytest.mark.parametrize("row, message", [
    ("b200,llama_70b,fp8,5e-324,1,d,,100,2000,200,t,2026-01-01,\n", "too close to zero"),
    ("b200,llama_70b,fp8,1e-9,1,d,,100,2000,200,t,2026-01-01,\n",
     "tokens_per_s: 1e-09 is outside the plausible range 0.001 to 1e+08"),
    ("b200,llama_70b,fp8,100,1e18,d,,100,2000,200,t,2026-01-01,\n", "tp: 1e+18 is outside the plausible range 1 to 100000"),
])
def test_implausible_throughput_names_the_cell(tmp_path, row, message):
    text = refused(tmp_path, "throughput", THROUGHPUT + row)
    assert message in text and "throughput.csv row 2" in text


def test_cli_reports_every_malformed_row(tmp_path, capsys):
    folder(tmp_path, "offerings", HEADER + "a,b\n" + "c,d\n")
    code = cli.main(["rank", "2B", "steady", "llama_70b", "--catalog", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("atlas-xl: error: offerings.csv row") == 2 and "Traceback" not in err


def test_header_only_offerings_is_refused_not_an_empty_frame(tmp_path, capsys):
    folder(tmp_path, "offerings", HEADER)
    code = cli.main(["rank", "2B", "steady", "llama_70b", "--catalog", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1 and "Empty DataFrame" not in out and "no data rows" in err


def test_every_plausibility_range_is_documented():
    from pathlib import Path
    text = (Path(__file__).parents[1] / "docs" / "limits.md").read_text()
    for table, column in catalog.PLAUSIBLE:
        assert re.search(rf"`{table}\.{re.escape(column)}`", text), (table, column)


def test_builtin_catalog_is_within_every_range():
    for table, column in catalog.PLAUSIBLE:  # no range for a column that no longer exists
        assert column in [c.name for c in catalog.SCHEMAS[table][0]], (table, column)
    cat = catalog.builtin_catalog()  # loading validates; this names what is checked
    for (table, column), (lowest, highest, _) in catalog.PLAUSIBLE.items():
        values = cat.tables[table][column].dropna()
        assert ((values >= lowest) & (values <= highest)).all(), (table, column)


def test_key_that_normalises_to_nothing_is_refused(tmp_path):
    from atlas_xl.catalog import _builtin_dir
    text = (_builtin_dir() / "targets.csv").read_text(encoding="utf-8").splitlines()
    text[1] = "-" + text[1][text[1].index(","):]  # a target named '-'
    message = refused(tmp_path, "targets", "\n".join(text) + "\n")
    assert "targets.csv row 2, column target: '-' is not a usable name" in message


def test_more_experts_per_token_than_experts_is_refused(tmp_path):
    from atlas_xl.catalog import _builtin_dir
    lines = (_builtin_dir() / "models.csv").read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("mixtral_8x7b,"))
    lines[row] = lines[row].replace(",8,2,", ",8,1500,")
    message = refused(tmp_path, "models", "\n".join(lines) + "\n")
    assert f"models.csv row {row + 1}, column experts_per_token: 1500 is more than the model's 8 experts" in message


def test_every_source_names_its_source_not_the_row_above():
    # before the fix: offerings.csv's groq/llama_70b row printed "same as above" as its source in the ranking,
    # the report's Sources sheet and `prices stale`, where no row is above it (issue 20 audit)
    cat = catalog.load_catalog()
    found = [f"{name}: {frame.source.iloc[i]!r} in row {i + 2}" for name, frame in cat.tables.items()
             if "source" in frame.columns for i in range(len(frame))
             if str(frame.source.iloc[i]).strip().lower() in ("same as above", "ditto", "see above", "as above")]
    assert found == []
