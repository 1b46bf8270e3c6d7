"""Fitting the serving model's factors on measurements, and the leave-one-GPU-out back-test.

The points are ``catalogs/serving_benchmarks.csv`` (MLPerf Inference, TensorRT-LLM, SemiAnalysis
InferenceX). The fit minimises the squared log error of output tokens/s per GPU with
`scipy.optimize.least_squares`; each benchmark family weighs the same, whatever its number of
points. The back-test refits once per GPU without that GPU's points and predicts them, so every
error it reports is on data the fit never saw.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import serving
from .catalog import load_catalog, normalize_key

FITTED = {  # parameter: (initial, lower, upper, units)
    "compute_efficiency": (0.5, 0.05, 1.0, "share of dense peak"),
    "memory_efficiency": (0.7, 0.1, 1.0, "share of peak bandwidth"),
    "step_overhead_us_per_layer": (30.0, 0.0, 500.0, "µs per layer per decode step (kernel launches, synchronisation)"),
    "tpot_tail": (1.3, 1.0, 4.0, "p99 / mean TPOT"),
    "ttft_tail": (2.0, 1.0, 10.0, "p99 / mean TTFT"),
    "vendor_efficiency_amd": (0.8, 0.2, 2.0, "AMD software efficiency relative to NVIDIA"),
    "fp4_efficiency": (0.7, 0.2, 1.5, "FP4 kernels' efficiency relative to FP8/BF16"),
    "input_tokens_mlperf_openorca": (800.0, 50.0, 4000.0, "tokens (MLPerf Llama-2-70B dataset mean)"),
    "input_tokens_mlperf_cnn_dailymail": (800.0, 50.0, 4000.0, "tokens (MLPerf Llama-3.1-8B dataset mean)"),
    "input_tokens_mlperf_405b_mix": (5000.0, 500.0, 30000.0, "tokens (MLPerf Llama-3.1-405B dataset mean)"),
}
"""What the fit adjusts. The MLPerf datasets' mean input lengths are not in the result logs, so they are
fitted too; they are properties of a dataset, shared by every GPU, so the back-test stays honest."""



SOURCE = "fitted by atlas_xl.calibration on catalogs/serving_benchmarks.csv (scripts/derive_serving.py)"


def _prepare(cat, points):
    """Per-point inputs that do not depend on the parameters."""
    rows = points.to_dict("records")
    models = [cat.model_specs[r["model"]] for r in rows]
    gpus = [cat.gpu_specs[r["gpu"]] for r in rows]
    vendor_of = dict(zip(cat.tables["gpus"].gpu, cat.tables["gpus"].vendor))
    vendors = [normalize_key(vendor_of[r["gpu"]]) for r in rows]
    precisions = [r["precision"] for r in rows]
    kv = ["fp8" if p in ("fp8", "fp4") else p for p in precisions]
    peaks = [serving.peak_tflops(g, p) for g, p in zip(gpus, precisions)]

    def number(r, k, default):
        v = r.get(k)
        return default if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    return dict(rows=rows, models=models, gpus=gpus, vendors=vendors, precisions=precisions, kv=kv, peaks=peaks,
                tps=[number(r, "tp", None) for r in rows],
                datasets=[r.get("dataset") or "" for r in rows],
                input_tokens=[number(r, "input_tokens", math.nan) for r in rows],
                output_tokens=[float(r["output_tokens"]) for r in rows],
                ttft=[number(r, "ttft_ms", math.inf) for r in rows], tpot=[number(r, "tpot_ms", math.inf) for r in rows],
                concurrency=[number(r, "concurrency", math.nan) for r in rows],
                measured=np.array([float(r["tokens_per_s"]) for r in rows]),
                family=np.array([r["benchmark"] for r in rows]))


def predict(cat, prepared, params):
    """Modelled output tokens/s per GPU of every prepared point under ``params``."""
    p = dict(cat.serving_calibration)
    p.update(params)
    factor = np.array([serving.efficiency_factor(p, v, x) for v, x in zip(prepared["vendors"], prepared["precisions"])])
    inputs = [x if x == x else p.get(f"input_tokens_{d}", serving.DEFAULT_INPUT_TOKENS)
              for x, d in zip(prepared["input_tokens"], prepared["datasets"])]
    out = serving.solve_points(cat, prepared["models"], prepared["gpus"], prepared["vendors"], prepared["precisions"],
                               prepared["kv"], prepared["peaks"], prepared["tps"], inputs, prepared["output_tokens"],
                               prepared["ttft"], prepared["tpot"], prepared["concurrency"], serving.scaled(p, factor))
    return out["output_tokens_per_s_per_gpu"]


def fit(points, catalog=None, names=None):
    """Least-squares fit of `FITTED` (or ``names`` of them) on ``points``; returns {parameter: value}."""
    from scipy.optimize import least_squares

    cat = load_catalog(catalog)
    prepared = _prepare(cat, points)
    names = [n for n in (names or FITTED) if _used(n, prepared)]
    families = prepared["family"]
    weight = np.array([1.0 / math.sqrt((families == f).sum()) for f in families])
    start = np.array([FITTED[n][0] for n in names])
    lower, upper = np.array([FITTED[n][1] for n in names]), np.array([FITTED[n][2] for n in names])

    def residuals(x):
        predicted = predict(cat, prepared, dict(zip(names, x)))
        return weight * np.log(np.maximum(predicted, 1e-3) / prepared["measured"])

    result = least_squares(residuals, start, bounds=(lower, upper), x_scale=np.maximum(np.abs(start), 1e-3),
                           diff_step=1e-3)
    return dict(zip(names, result.x.tolist()))


def _used(name, prepared):
    if name == "vendor_efficiency_amd":
        return "amd" in prepared["vendors"]
    if name == "fp4_efficiency":
        return "fp4" in prepared["precisions"]
    if name.startswith("input_tokens_"):
        return name[len("input_tokens_"):] in prepared["datasets"]
    return True


def backtest(points=None, catalog=None):
    """Leave one GPU out: for each GPU, fit on the others' points and predict its own.

    Returns a DataFrame, one row per point: gpu, benchmark, model, precision, measured, predicted,
    error (predicted / measured − 1).
    """
    cat = load_catalog(catalog)
    points = cat.tables["serving_benchmarks"] if points is None else points
    frames = []
    for gpu in sorted(points.gpu.unique()):
        train, test = points[points.gpu != gpu], points[points.gpu == gpu]
        params = fit(train, cat)
        predicted = predict(cat, _prepare(cat, test), params)
        frames.append(pd.DataFrame({"gpu": gpu, "benchmark": test.benchmark.values, "model": test.model.values,
                                    "precision": test.precision.values, "measured": test.tokens_per_s.values,
                                    "predicted": predicted}))
    frame = pd.concat(frames, ignore_index=True)
    frame["error"] = frame.predicted / frame.measured - 1.0
    return frame


def summary(backtest_frame):
    """Mean absolute percentage error per GPU and benchmark family, plus 'all' rows. [%]"""
    frame = backtest_frame.assign(ape=backtest_frame.error.abs() * 100.0)
    table = frame.pivot_table(index="gpu", columns="benchmark", values="ape", aggfunc="mean")
    table["all"] = frame.groupby("gpu").ape.mean()
    table.loc["all"] = list(frame.groupby("benchmark").ape.mean().reindex(table.columns[:-1])) + [frame.ape.mean()]
    return table.round(1)


def interactive_server_ratio(backtest_frame):
    """Interactive ÷ Server throughput per GPU and model, measured and back-tested (MLPerf)."""
    f = backtest_frame[backtest_frame.benchmark.isin(["mlperf_server", "mlperf_interactive"])]
    pivot = f.pivot_table(index=["gpu", "model", "precision"], columns="benchmark", values=["measured", "predicted"])
    pivot = pivot.dropna()
    out = pd.DataFrame({
        "measured_ratio": pivot[("measured", "mlperf_interactive")] / pivot[("measured", "mlperf_server")],
        "predicted_ratio": pivot[("predicted", "mlperf_interactive")] / pivot[("predicted", "mlperf_server")],
    })
    out["error"] = out.predicted_ratio / out.measured_ratio - 1.0
    return out.reset_index()


def fit_table(points, catalog=None):
    """The ``serving_calibration`` table: fitted factors, the stated ones, and the back-test errors."""
    cat = load_catalog(catalog)
    params = fit(points, cat)
    test = backtest(points, cat)
    anchored = anchored_errors(points, cat, params)
    as_of = max(d for d in points.as_of.astype(str) if d[:4].isdigit())  # the newest measurement fitted
    rows = [{"parameter": n, "value": round(v, 4), "units": FITTED[n][3], "source": SOURCE, "as_of": as_of,
             "notes": f"{len(points)} points"} for n, v in params.items()]
    for name, value in cat.serving_calibration.items():
        if name not in params and not name.startswith("expected_error"):
            row = cat.tables["serving_calibration"].set_index("parameter").loc[name]
            rows.append({"parameter": name, "value": value, "units": row.units, "source": row.source,
                         "as_of": row.as_of, "notes": row.notes})
    server = test[test.benchmark == "mlperf_server"]
    rows.append({"parameter": "expected_error_estimated", "value": round(float(test.error.abs().mean()), 4),
                 "units": "mean |relative error|", "source": "leave-one-GPU-out back-test (atlas-xl backtest)",
                 "as_of": as_of, "notes": f"all {len(test)} points; MLPerf Server only: "
                                          f"{server.error.abs().mean():.3f}"})
    rows.append({"parameter": "expected_error_measured", "value": round(float(np.abs(anchored).mean()), 4),
                 "units": "mean |relative error|", "source": "anchor transfer test (atlas_xl.calibration.anchored_errors)",
                 "as_of": as_of, "notes": "a GPU's MLPerf Server point anchors the prediction of its other points"})
    return pd.DataFrame(rows)


def anchored_errors(points, catalog=None, params=None):
    """Relative errors when each GPU/model/precision's MLPerf Server point anchors the estimate of its
    other points (Interactive, Offline, other shapes): the expected error of ``basis = measured``."""
    cat = load_catalog(catalog)
    params = params or {}
    errors = []
    for (gpu, model, precision), group in points.groupby(["gpu", "model", "precision"]):
        anchor = group[group.benchmark == "mlperf_server"]
        others = group[group.benchmark != "mlperf_server"]
        if anchor.empty or others.empty:
            continue
        both = pd.concat([anchor.iloc[:1], others])
        predicted = predict(cat, _prepare(cat, both), params)
        factor = anchor.tokens_per_s.iloc[0] / predicted[0]
        errors.extend((predicted[1:] * factor / others.tokens_per_s.values - 1.0).tolist())
    return np.array(errors)
