"""Fitting the serving model's factors on measurements, and the back-test that asks the user's question.

The points are ``catalogs/serving_benchmarks.csv`` (MLPerf Inference v4.1-v6.0, TensorRT-LLM, SemiAnalysis
InferenceX, and independent runs: GPUStack performance lab, AccelMark). Every point is a *question with a measured
answer*: the most output tokens/s per GPU within the point's latency limits (MLPerf Server/Interactive: the
round's p99 TTFT/TPOT; InferenceX: the point's own p99 TPOT/TTFT, kept where that limit binds; Offline and
max-load tables: no limit), or one user's tokens/s alone (single-stream runs: concurrency 1, the only points that
give one). The model chooses the concurrency and, where the benchmark did not fix it, the replica size (tp)
itself; a measured concurrency is never given otherwise.

The fit minimises the squared log error of output tokens/s per GPU with `scipy.optimize.least_squares` from
stated starts within stated bounds (`FITTED`), in log space with a log-normal prior around the starts
(`PRIOR_WEIGHT`, `PRIOR_WEIGHTS`) from three fixed starts (`STARTS`); each benchmark family weighs the same,
whatever its number of points. The back-test refits without a GPU (leave-one-GPU-out) or without a model (leave-one-model-out) and
predicts the points left out, so every error it reports is on data the fit never saw; a factor the fit could
not learn from its training points (a vendor's software period) takes its stated start,
never the stored value fitted on everything.
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
    "step_overhead_us": (600.0, 0.0, 5000.0, "µs per decode step (scheduling, sampling, host synchronisation)"),
    "step_overhead_us_per_layer": (45.0, 0.0, 100.0, "µs per layer per decode step (kernel launches)"),
    "expert_imbalance": (1.3, 1.0, 3.0, "busiest GPU's routed-expert load / mean, expert parallelism"),
    "expert_read_efficiency": (1.0, 0.1, 1.0, "routed experts' bandwidth relative to the dense GEMMs' "
                               "(`serving.weights_read_gb`)"),
    "expert_compute_efficiency": (1.0, 0.1, 1.0, "routed experts' grouped-GEMM FLOP rate relative to the dense "
                                  "GEMMs' (`serving.expert_compute_params_b`)"),
    "gemm_overlap_loss": (0.3, 0.0, 1.0, "share of the shorter of a GEMM's weight read and multiply not hidden "
                          "under the longer (`serving.decode_step_time_s`; 0: the roofline)"),
    "fp4_efficiency": (0.7, 0.2, 1.5, "FP4 kernels' efficiency relative to FP8/BF16"),
    **{f"software_nvidia_{year}": (1.0, 0.2, 2.0, f"NVIDIA software efficiency in {year} relative to "
                                                  f"{serving.SOFTWARE_PERIODS[-1]}")
       for year in serving.SOFTWARE_PERIODS[:-1]},
    **{f"software_amd_{year}": (0.8, 0.2, 2.0, f"AMD software efficiency in {year} relative to NVIDIA's "
                                               f"{serving.SOFTWARE_PERIODS[-1]}")
       for year in serving.SOFTWARE_PERIODS},
    "acceptance_length_mtp": (serving.MTP_ACCEPTANCE_START, 1.0, 2.0, "accepted tokens per step, DeepSeek-R1 "
                              "multi-token prediction (1 draft token), on InferenceX spec_method = mtp rows"),
}
"""What the fit adjusts. The overhead pair starts (and its prior is centred, `PRIOR_WEIGHTS`) where two cited
single-stream TPOTs put it: Qwen2.5-0.5B (24 layers) on one H100 under vLLM, 2.21 ms median (AccelMark,
shared/data/independent_serving_benchmarks.csv), less its 1 GB weight read (0.4 ms), gives a + 24 b ≈ 1.8 ms;
DeepSeek-R1 (61 layers) FP4 on 8 × B200 under SGLang at one client, 6.04 ms median (SemiAnalysis InferenceX,
shared/data/inferencex_dsr1.csv), less its weight read (0.65 ms) and 3 collectives per layer at the stated 10 µs
(1.8 ms), gives a + 61 b ≈ 3.6 ms; so a ≈ 0.6 ms per step and b ≈ 45 µs per layer. (That read was counted with the
former weights-read equation, which read a batch of one's own experts twice: 0.41 ms now; the start is kept.)
No request shape is fitted: the MLPerf datasets' mean input lengths are not in the result logs, and the points carry
them from the datasets' token counts (scripts/derive_serving.py, ``MLPERF_INPUT_TOKENS``)."""

SOURCE = "fitted by atlas_xl.calibration on catalogs/serving_benchmarks.csv (scripts/derive_serving.py)"
SPLITS = {"gpu": "leave-one-GPU-out", "model": "leave-one-model-out"}
SCENARIO = {"mlperf_server": "Server", "mlperf_interactive": "Interactive", "mlperf_offline": "Offline",
            "trtllm_max_load": "max load", "inferencex": "InferenceX", "inferencex_mtp": "InferenceX MTP",
            "independent": "independent max load", "independent_single_stream": "single stream"}


def _number(row, key, default):
    value = row.get(key)
    return default if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _prepare(cat, points):
    """Per-point inputs that do not depend on the parameters."""
    rows = points.to_dict("records")
    models = [cat.model_specs[r["model"]] for r in rows]
    gpus = [cat.gpu_specs[r["gpu"]] for r in rows]
    vendors = [normalize_key(cat.gpu_vendors[r["gpu"]]) for r in rows]
    precisions = [r["precision"] for r in rows]
    kv = ["fp8" if p in ("fp8", "fp4") else p for p in precisions]
    peaks = [serving.peak_tflops(g, p) for g, p in zip(gpus, precisions)]
    return dict(rows=rows, models=models, gpus=gpus, vendors=vendors, precisions=precisions, kv=kv, peaks=peaks,
                periods=[serving.software_period(r.get("as_of")) for r in rows],
                tps=[_number(r, "tp", None) for r in rows],
                input_tokens=[float(r["input_tokens"]) for r in rows],  # every point states its request shape
                output_tokens=[float(r["output_tokens"]) for r in rows],
                ttft=[_number(r, "ttft_ms", math.inf) for r in rows], tpot=[_number(r, "tpot_ms", math.inf) for r in rows],
                concurrency=[_number(r, "concurrency", math.nan) for r in rows],
                speculative=np.array([r["benchmark"] == "inferencex_mtp" for r in rows]),
                measured=np.array([float(r["tokens_per_s"]) for r in rows]),
                family=np.array([r["benchmark"] for r in rows]))


def stated(cat):
    """The calibration before any fit: the catalog's stated values and every fitted factor at its start."""
    p = {k: v for k, v in cat.serving_calibration.items() if k not in FITTED and not k.startswith("expected_error")}
    p.update({name: spec[0] for name, spec in FITTED.items()})
    return p


def predict(cat, prepared, params, base=None, soft=False):
    """Modelled output tokens/s per GPU of every prepared point under ``params`` (over ``base``, default the
    catalog's stored calibration).

    ``soft`` (the fit's residuals): where the model meets no limit it predicts 0, which has no gradient; there it
    returns one sequence's rate on the closest replica times (limit / modelled p99)², which falls smoothly the
    further the model is from meeting the limit, so that the fit can move out of it. The back-test reports the
    hard 0."""
    p = dict(cat.serving_calibration if base is None else base)
    p.update(params)
    factors = np.array([serving.efficiency_factor(p, v, x, y) for v, x, y in
                        zip(prepared["vendors"], prepared["precisions"], prepared["periods"])])
    q = serving.scaled(p, (factors[:, 0], factors[:, 1]))
    mtp = prepared["speculative"]
    q.update(spec_draft_tokens=np.where(mtp, serving.SPECULATIVE["mtp"], 0.0),
             spec_acceptance=np.where(mtp, p.get("acceptance_length_mtp", serving.MTP_ACCEPTANCE_START), 1.0))
    out = serving.solve_points(cat, prepared["models"], prepared["gpus"], prepared["vendors"], prepared["precisions"],
                               prepared["kv"], prepared["peaks"], prepared["tps"], prepared["input_tokens"],
                               prepared["output_tokens"],
                               prepared["ttft"], prepared["tpot"], prepared["concurrency"], q)
    rate = out["output_tokens_per_s_per_gpu"]
    if not soft:
        return rate
    p99_tpot_ms, p99_ttft_ms = out["tpot_s"] * 1000.0 * p["tpot_tail"], out["ttft_s"] * 1000.0 * p["ttft_tail"]
    short = np.minimum(1.0, np.minimum(np.asarray(prepared["tpot"]) / p99_tpot_ms, np.asarray(prepared["ttft"]) / p99_ttft_ms))
    closest = out["concurrency"] / out["tpot_s"] / out["tp"] * short ** 2
    return np.where(rate > 0, rate, closest)


PRIOR_WEIGHT = 0.05
"""Weight of the prior: a residual √w · ln(value / initial) per parameter beside the data's. The data alone
leave a flat valley (compute efficiency, memory efficiency and the two step overheads trade against each other
within 0.1 % of the cost: 0.7 ms + 38 µs per layer against 1.5 ms + 26 µs per layer at the same error), so an
unregularised fit lands anywhere along it and moves by 10-30 % when the start or a library version moves by
1e-4. The prior makes the minimum unique (a maximum a-posteriori fit with a log-normal prior around `FITTED`'s
initial values)."""

PRIOR_WEIGHTS = {"step_overhead_us": 1.0, "step_overhead_us_per_layer": 1.0}
"""Parameters whose prior is stronger than `PRIOR_WEIGHT`: the overhead split, pinned to the cited single-stream
TPOT figures its initial values come from (`FITTED`), which the throughput points cannot separate."""

STARTS = (1.0, 0.8, 1.25)
"""Multiples of the initial values the fit starts from; the lowest final cost wins. The fit counts sequences as
a real number (``continuous_concurrency``), but the best tp of a set still leaves kinks, so one descent can stall
on one; several fixed starts make the result independent of where one of them stalls."""

FIT_TOLERANCE = {"factor_rel": 0.1, "backtest_pp": 1.5}
"""How far a refit may land from the stored factors (relative) and the published back-test (percentage points
of MAPE) on another machine or library version; tests/test_calibration.py holds both."""


def fit(points, catalog=None, names=None, start_scale=1.0):
    """Regularised least-squares fit of `FITTED` (or ``names`` of them) on ``points``; returns {parameter: value}.

    The residuals are each point's log error of output tokens/s per GPU, weighted so that every benchmark family
    weighs the same, plus the prior's (`PRIOR_WEIGHT`, `PRIOR_WEIGHTS`). Parameters are fitted as logarithms
    (every one is a positive scale), from each of `STARTS` × ``start_scale``.
    """
    from scipy.optimize import least_squares

    cat = load_catalog(catalog)
    prepared = _prepare(cat, points)
    names = [n for n in (names or FITTED) if _used(n, prepared)]
    families = prepared["family"]
    weight = np.array([1.0 / math.sqrt((families == f).sum()) for f in families])
    prior = np.log([FITTED[n][0] for n in names])
    prior_weight = np.sqrt([PRIOR_WEIGHTS.get(n, PRIOR_WEIGHT) for n in names])
    lower = np.log([max(FITTED[n][1], 1e-3 * FITTED[n][0]) for n in names])
    upper = np.log([FITTED[n][2] for n in names])
    base = dict(stated(cat), continuous_concurrency=True)  # smooth residuals (`serving._operating_point`)

    def residuals(z):
        predicted = predict(cat, prepared, dict(zip(names, np.exp(z))), base, soft=True)
        data = weight * np.log(np.maximum(predicted, 1e-3) / prepared["measured"])
        return np.concatenate([data, prior_weight * (z - prior)])

    best = None
    for scale in STARTS:
        start = np.clip(prior + math.log(scale * start_scale), lower + 1e-9, upper - 1e-9)
        result = least_squares(residuals, start, bounds=(lower, upper), diff_step=1e-3, xtol=1e-8, ftol=1e-8,
                               gtol=1e-8)
        if best is None or result.cost < best.cost:
            best = result
    return dict(zip(names, np.exp(best.x).tolist()))


def _used(name, prepared):
    if name.startswith("software_"):
        _, vendor, year = name.split("_")
        return any(v == vendor and p == int(year) for v, p in zip(prepared["vendors"], prepared["periods"]))
    if name == "fp4_efficiency":
        return "fp4" in prepared["precisions"]
    if name == "acceptance_length_mtp":
        return bool(prepared["speculative"].any())
    return True


def _describe(cat, points):
    """Per-point labels of the back-test frame: vendor, dense/MoE, scenario, period."""
    vendor = [normalize_key(cat.gpu_vendors[g]) for g in points.gpu]
    moe = ["MoE" if cat.model_specs[m]["experts"] > 0 else "dense" for m in points.model]
    return dict(vendor=vendor, architecture=moe, scenario=[SCENARIO.get(b, b) for b in points.benchmark],
                period=[serving.software_period(d) for d in points.as_of])


def backtest(points=None, catalog=None, splits=("gpu", "model")):
    """Predict every point with a fit that never saw its GPU (split ``gpu``) or its model (split ``model``).

    Returns a DataFrame, one row per point and split: split, held_out, gpu, vendor, benchmark, scenario, model,
    architecture (dense | MoE), precision, period, measured, predicted, error (predicted / measured − 1),
    source.
    """
    cat = load_catalog(catalog)
    points = cat.tables["serving_benchmarks"] if points is None else points
    base = stated(cat)
    frames = []
    for split in splits:
        for held_out in sorted(points[split].unique()):
            train, test = points[points[split] != held_out], points[points[split] == held_out]
            params = fit(train, cat)
            predicted = predict(cat, _prepare(cat, test), params, base)
            frames.append(pd.DataFrame(dict(
                split=split, held_out=held_out, gpu=test.gpu.values, benchmark=test.benchmark.values,
                model=test.model.values, precision=test.precision.values, measured=test.tokens_per_s.values,
                predicted=predicted, source=test.source.values, **_describe(cat, test))))
    frame = pd.concat(frames, ignore_index=True)
    frame["error"] = frame.predicted / frame.measured - 1.0
    return frame


def summary(backtest_frame, split="gpu"):
    """Mean absolute percentage error per held-out GPU (or model) and benchmark family, plus 'all' rows. [%]"""
    frame = backtest_frame[backtest_frame.split == split]
    frame = frame.assign(ape=frame.error.abs() * 100.0)
    table = frame.pivot_table(index="held_out", columns="scenario", values="ape", aggfunc="mean")
    table["all"] = frame.groupby("held_out").ape.mean()
    table.loc["all"] = list(frame.groupby("scenario").ape.mean().reindex(table.columns[:-1])) + [frame.ape.mean()]
    table.index.name = split
    return table.round(1)


def splits_table(backtest_frame):
    """MAPE and point count by split and by group: scenario, vendor, precision, dense/MoE, MLPerf v6.0. [%]"""
    rows = []
    for split, name in SPLITS.items():
        frame = backtest_frame[backtest_frame.split == split]
        if frame.empty:
            continue
        frame = frame.assign(ape=frame.error.abs() * 100.0)
        mlperf = frame[frame.benchmark.str.startswith("mlperf")]
        groups = [("all points", frame)]
        groups += [(f"scenario: {s}", g) for s, g in frame.groupby("scenario")]
        groups += [(f"MLPerf v6.0 {s}", g) for s, g in mlperf[mlperf.period == 2026].groupby("scenario")]
        groups += [(f"vendor: {v}", g) for v, g in frame.groupby("vendor")]
        groups += [(f"precision: {p}", g) for p, g in frame.groupby("precision")]
        groups += [(f"{a}", g) for a, g in frame.groupby("architecture")]
        groups += [(f"MLPerf {a}", g) for a, g in mlperf.groupby("architecture")]
        ratio = interactive_server_ratio(backtest_frame, split)
        for group, g in groups:
            rows.append({"split": name, "group": group, "points": len(g), "mape_pct": round(float(g.ape.mean()), 1),
                         "median_error_pct": round(float(g.error.median() * 100.0), 1)})
        if len(ratio):
            rows.append({"split": name, "group": "MLPerf Interactive/Server ratio", "points": len(ratio),
                         "mape_pct": round(float(ratio.error.abs().mean() * 100.0), 1),
                         "median_error_pct": round(float(ratio.error.median() * 100.0), 1)})
    return pd.DataFrame(rows)


def interactive_server_ratio(backtest_frame, split="gpu"):
    """Interactive ÷ Server throughput per GPU, model, precision and period, measured and back-tested (MLPerf)."""
    f = backtest_frame[(backtest_frame.split == split)
                       & backtest_frame.benchmark.isin(["mlperf_server", "mlperf_interactive"])]
    pivot = f.pivot_table(index=["gpu", "model", "precision", "period"], columns="benchmark",
                          values=["measured", "predicted"])
    if pivot.empty or ("measured", "mlperf_interactive") not in pivot.columns:
        return pd.DataFrame(columns=["gpu", "model", "precision", "period", "measured_ratio", "predicted_ratio",
                                     "error"])
    pivot = pivot.dropna()
    out = pd.DataFrame({
        "measured_ratio": pivot[("measured", "mlperf_interactive")] / pivot[("measured", "mlperf_server")],
        "predicted_ratio": pivot[("predicted", "mlperf_interactive")] / pivot[("predicted", "mlperf_server")],
    })
    out["error"] = out.predicted_ratio / out.measured_ratio - 1.0
    return out.reset_index()


def markdown(backtest_frame):
    """The back-test as the Markdown tables docs/serving.md publishes (`atlas-xl backtest --markdown`)."""
    def table(frame, index=True):
        frame = frame.reset_index() if index else frame
        cells = [[("–" if isinstance(v, float) and v != v else (f"{v:g}" if isinstance(v, float) else str(v)))
                  for v in row] for row in frame.itertuples(index=False)]
        head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
        numeric = [pd.api.types.is_numeric_dtype(frame.dtypes.iloc[i]) for i in range(len(frame.columns))]
        rule = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
        return "\n".join([head, rule] + ["| " + " | ".join(c) + " |" for c in cells])

    parts = ["Splits (MAPE and median error of output tokens/s per GPU, in %):", "",
             table(splits_table(backtest_frame), index=False)]
    for split, name in SPLITS.items():
        if (backtest_frame.split == split).any():
            parts += ["", f"{name[0].upper() + name[1:]}, MAPE by held-out {split} and scenario [%]:", "",
                      table(summary(backtest_frame, split))]
    return "\n".join(parts) + "\n"


def fit_table(points, catalog=None):
    """The ``serving_calibration`` table: fitted factors, the stated ones, and the back-test errors."""
    cat = load_catalog(catalog)
    params = fit(points, cat)
    test = backtest(points, cat, splits=("gpu",))
    anchored = anchored_errors(points, cat, params)
    as_of = max(d for d in points.as_of.astype(str) if d[:4].isdigit())  # the newest measurement fitted
    rows = [{"parameter": n, "value": round(v, 4), "units": FITTED[n][3], "source": SOURCE, "as_of": as_of,
             "notes": f"{len(points)} points"} for n, v in params.items()]
    table = cat.tables["serving_calibration"].set_index("parameter")
    for name in table.index:
        row = table.loc[name]
        # stated rows stay; a row an earlier fit wrote for a factor no longer fitted goes (it would be read as a fact)
        if name not in FITTED and not name.startswith("expected_error") and name not in params \
                and not name.startswith("vendor_efficiency") and row.source != SOURCE:
            rows.append({"parameter": name, "value": row.value, "units": row.units, "source": row.source,
                         "as_of": row.as_of, "notes": row.notes})
    server = test[test.benchmark == "mlperf_server"]
    rows.append({"parameter": "expected_error_estimated", "value": round(float(test.error.abs().mean()), 4),
                 "units": "mean |relative error|", "source": "leave-one-GPU-out back-test (atlas-xl backtest)",
                 "as_of": as_of, "notes": f"all {len(test)} points; MLPerf Server only: "
                                          f"{server.error.abs().mean():.3f}"})
    for (vendor, architecture), group in test.groupby(["vendor", "architecture"]):
        if len(group) >= 3:
            rows.append({"parameter": f"expected_error_estimated_{vendor}_{architecture.lower()}",
                         "value": round(float(group.error.abs().mean()), 4), "units": "mean |relative error|",
                         "source": "leave-one-GPU-out back-test (atlas-xl backtest)", "as_of": as_of,
                         "notes": f"{len(group)} points of {vendor} GPUs, {architecture} models"})
    unseen, moe = unseen_vendor_errors(points, cat)
    for suffix, mask in (("", np.ones_like(moe)), ("_moe", moe), ("_dense", ~moe)):
        rows.append({"parameter": f"expected_error_uncalibrated{suffix}",
                     "value": round(float(np.abs(unseen[mask]).mean()), 4), "units": "mean |relative error|",
                     "source": "leave-one-vendor-out test (atlas_xl.calibration.unseen_vendor_errors)", "as_of": as_of,
                     "notes": f"{int(mask.sum())} AMD points predicted by a fit on the other vendors' points at the "
                              f"default software efficiency (NVIDIA's newest); median error "
                              f"{np.median(unseen[mask]) * 100:+.0f} %"})
    rows.append({"parameter": "expected_error_measured", "value": round(float(np.abs(anchored).mean()), 4),
                 "units": "mean |relative error|", "source": "anchor transfer test (atlas_xl.calibration.anchored_errors)",
                 "as_of": as_of, "notes": "a GPU's MLPerf Server point anchors the prediction of its other points"})
    return pd.DataFrame(rows)


def unseen_vendor_errors(points, catalog=None, held_out="amd"):
    """Relative errors of the points of vendor ``held_out`` predicted by a fit on the other vendors' points with the
    vendor's software efficiency unknown: the expected error of ``basis = uncalibrated`` (an accelerator whose
    vendor has no ``software_<vendor>_<year>`` factor; `serving.efficiency_factor` gives it the reference's 1).

    Returns (errors, moe): two arrays, one entry per held-out point (predicted / measured − 1; True for a
    mixture-of-experts model)."""
    cat = load_catalog(catalog)
    vendors = np.array([normalize_key(cat.gpu_vendors[g]) for g in points.gpu])
    train, test = points[vendors != held_out], points[vendors == held_out]
    prepared = _prepare(cat, test)
    prepared["vendors"] = ["uncalibrated"] * len(test)  # no software_uncalibrated_* factor: the default 1
    predicted = predict(cat, prepared, fit(train, cat), stated(cat))
    moe = np.array([cat.model_specs[m]["experts"] > 0 for m in test.model])
    return predicted / test.tokens_per_s.values - 1.0, moe


def anchored_errors(points, catalog=None, params=None):
    """Relative errors when each GPU/model/precision's newest MLPerf Server point anchors the estimate of its
    other points (Interactive, Offline, other shapes): the expected error of ``basis = measured``."""
    cat = load_catalog(catalog)
    base = None if params is None else stated(cat)  # default: the stored calibration
    params = params or {}
    errors = []
    for (gpu, model, precision), group in points.groupby(["gpu", "model", "precision"]):
        anchor = group[group.benchmark == "mlperf_server"].sort_values("as_of").tail(1)
        others = group.drop(anchor.index)
        if anchor.empty or others.empty:
            continue
        both = pd.concat([anchor, others])
        predicted = predict(cat, _prepare(cat, both), params, base)
        if predicted[0] <= 0:
            continue  # the anchor itself is not servable in the model: nothing to transfer
        factor = anchor.tokens_per_s.iloc[0] / predicted[0]
        errors.extend((predicted[1:] * factor / others.tokens_per_s.values - 1.0).tolist())
    return np.array(errors)
