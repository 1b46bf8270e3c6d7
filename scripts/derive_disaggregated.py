"""Derive the disaggregated back-test points (catalogs/disaggregated_benchmarks.csv) from shared/data.

    python scripts/derive_disaggregated.py ../shared/data

SemiAnalysis InferenceX DeepSeek-R1 rows with ``disagg = True``; the points whose limits bind
(`atlas_xl.disaggregated.inferencex_points`). Attribution: SemiAnalysis InferenceX, each row's run_url.
"""
import sys
from pathlib import Path

import pandas as pd

from atlas_xl import disaggregated
from atlas_xl.catalog import DISAGGREGATED_BENCHMARKS

ROOT = Path(__file__).resolve().parents[1]


def main(data_dir):
    points = disaggregated.inferencex_points(pd.read_csv(Path(data_dir) / "inferencex_dsr1.csv"))
    points.to_csv(ROOT / "catalogs" / DISAGGREGATED_BENCHMARKS, index=False)
    print(f"wrote {len(points)} disaggregated points")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
