"""Refit the serving model's board-power fractions (atlas_xl.serving.POWER_IDLE_FRACTION, POWER_UTIL_FRACTION)
on the InferenceX points that report a measured average power, and print them with their error.

    python scripts/derive_power.py [path/to/inferencex_dsr1.csv]

The points: aggregated serving without speculation (a disaggregated unit's power mixes prefill and decode GPUs;
speculation changes what a step does), each at its own concurrency, tp, request shape and precision. busy is the
model's roofline time over its step time at that point; P/TDP = idle + util × busy by least squares.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import atlas_xl
from atlas_xl import serving

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "inferencex_dsr1.csv"
GPU_KEYS = {"mi355x": "mi355x", "h100": "h100_sxm", "h200": "h200", "b200": "b200", "gb200": "gb200",
            "mi300x": "mi300x"}


def points(path):
    rows = pd.read_csv(path)
    rows = rows[rows.avg_power_w.notna() & ~rows.disagg.astype(bool) & (rows.spec_method == "none")]
    out = []
    for r in rows.itertuples():
        gpu = GPU_KEYS[r.gpu]
        est = atlas_xl.estimate("deepseek_r1", gpu, precision=r.precision, input_tokens=r.isl, output_tokens=r.osl,
                                tp=int(r.tp), concurrency=r.concurrency, ttft_ms=1e6, tpot_ms=1e6)
        tdp = atlas_xl.load_catalog().gpu_specs[gpu]["tdp_w"]
        # invert P = TDP (idle + util busy) at the fractions in force to recover busy
        busy = (est.power_w_per_gpu / tdp - serving.POWER_IDLE_FRACTION) / serving.POWER_UTIL_FRACTION
        out.append((gpu, busy, r.avg_power_w / tdp))
    return pd.DataFrame(out, columns=["gpu", "busy", "measured_fraction"])


def main(argv=None):
    path = Path((argv or sys.argv[1:] or [DATA])[0])
    data = points(path)
    design = np.c_[np.ones(len(data)), data.busy]
    (idle, util), *_ = np.linalg.lstsq(design, data.measured_fraction, rcond=None)
    fitted = design @ [idle, util]
    error = np.mean(np.abs(fitted / data.measured_fraction - 1))
    print(f"{len(data)} points ({', '.join(sorted(set(data.gpu)))}): idle {idle:.3f}, util {util:.3f}, "
          f"mean absolute error {error:.1%}")


if __name__ == "__main__":
    main()
