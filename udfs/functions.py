"""The ATLAS_* worksheet functions (xlwings UDFs). UDF module: ``udfs.functions``.

Each function is a one-line delegation to `udfs.calls`; xlwings turns the docstring and the
argument docs into the Excel function-wizard help. Catalog arguments take the range of a catalog
sheet, header row included (blank rows below are ignored); omitted, the built-in catalog applies.
Any scalar argument may be a range: arguments broadcast and the result spills. Functions that
return a table take a hidden ``caller`` (xlwings passes the calling range): entered as an array
formula over a larger range, the table is padded with empty cells instead of #N/A.
"""
import inspect

import xlwings as xw

import atlas_xl
from udfs import calls, excel

ARG_DOCS = {
    "tokens_per_day": "Daily token volume [tokens/day]",
    "pattern": "Traffic pattern: steady, business_hours, bursty (or a row of the patterns table)",
    "model": "Model key, e.g. llama_70b",
    "platform": "Platform key, e.g. runpod, fireworks, together",
    "gpu": "GPU key (h100_sxm); blank = the platform's only/per-token offering",
    "latency_ms": "Latency requirement [ms]; below 300 ms a high-risk setup is penalised; blank = none",
    "gpu_count": "Fix the GPU count instead of the 75 % rule [GPUs]; blank = rule",
    "gpu_tokens_per_s": "Override throughput per GPU [tokens/s]; blank = catalog",
    "hourly_usd": "Override price per GPU-hour [USD/h]; blank = catalog",
    "price_per_m_tokens": "Override per-token price [USD per million tokens]; blank = catalog",
    "assumptions": "Key | value range of assumptions (hours_per_month, target_utilization, ...); blank = defaults",
    "top": "Show only the best N rows; blank = all",
    "fields": "Columns to show: a range or comma-separated text of field names (rank, platform, monthly_cost_usd...); blank = all",
    "gpus": "GPUs catalog table (range with header row); blank = built-in",
    "models": "Models catalog table; blank = built-in",
    "patterns": "Traffic patterns catalog table; blank = built-in",
    "offerings": "Offerings catalog table; blank = built-in",
    "throughput": "Throughput catalog table; blank = built-in",
    "target": "Target key, e.g. nvidia_h100_8x_nvlink",
    "workload": "Workload key, or a key | value range of dotted overrides (parallelism.dp | 4)",
    "knobs": "Key | value range: cuda_graphs, gpudirect_rdma, fabric, virt, microbatch; blank = workload's",
    "seed": "Noise seed (whole number); blank = 0",
    "usd_per_kwh": "Electricity price [USD/kWh]; blank = 0.12",
    "pue": "Power usage effectiveness [>= 1]; blank = the target's",
    "sla_p99_ms": "P99 latency limit for inference [ms]; blank = 120",
    "hardware_models": "Hardware models catalog table; blank = built-in",
    "targets": "Targets catalog table; blank = built-in",
    "workloads": "Workloads catalog table; blank = built-in",
    "phases": "Schedule phases catalog table; blank = built-in",
    "request_profiles": "Request profiles catalog table; blank = built-in",
    "kind": "Catalog: models, patterns, platforms, gpus, targets, workloads, offerings, throughput, ...",
    "precision": "Weight precision: bf16, fp8, fp4 or best (planner: the native one of least cost; serving model: the narrowest); blank = fp8",
    "input_tokens": "Input tokens per request [tokens]; blank = 1024",
    "output_tokens": "Output tokens per request [tokens]; blank = 1024",
    "ttft_ms": "p99 time-to-first-token limit [ms]; blank = 2000",
    "tpot_ms": "p99 time-per-output-token limit [ms]; blank = 200",
    "tp": "GPUs per replica (tensor parallel); blank = the least-cost size (planner), the fastest (serving model)",
    "table": "That catalog's table (range with header row); blank = built-in",
}
"""Every argument's help text, with units."""


def arguments(function):
    """The arguments Excel shows: all but ``caller``, which xlwings fills with the calling range."""
    return [name for name in inspect.signature(function).parameters if name != "caller"]


ARG_OPTIONS = {"ndim": 2, "err_to_str": True}
"""How xlwings converts every argument: ``ndim=2`` keeps a one-column range a column (xlwings'
default flattens a 1 × n or n × 1 range to a 1-D list, so a column against a row could not
broadcast to a grid); ``err_to_str`` hands an error cell over as "#N/A" instead of an empty cell, so
an upstream error is reported, never silently read as "blank = default". `excel.argument` turns a
1 × 1 range back into its value."""


def udf(function):
    """Register a worksheet function with xlwings: category Atlas, argument docs from ARG_DOCS,
    every argument converted with ARG_OPTIONS and normalised by `udfs.excel.argument`."""
    function = excel.normalised(function)
    for name in reversed(arguments(function)):
        function = xw.arg(name, doc=ARG_DOCS[name], **ARG_OPTIONS)(function)
    return xw.func(category="Atlas")(function)


def _planner(field, local):
    return calls.plan_field(field, {n: local[n] for n in calls.PLAN_ARGS},
                            {t: local[t] for t in calls.PLANNER_TABLES}, local["assumptions"])


def _simulator(field, local):
    tables = {t: local[t] for t in calls.SIMULATOR_TABLES}
    return calls.sim_field(field, local["target"], local["workload"], local["knobs"], local["seed"],
                           local["usd_per_kwh"], local["pue"], tables)


# -- planner ------------------------------------------------------------------------------------------
@udf
def ATLAS_PEAK_TPS(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
                   gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None, gpus=None,
                   models=None, patterns=None, offerings=None, throughput=None, precision=None,
                   input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """Peak load while active: tokens/day ÷ 86 400 ÷ active ratio × burst factor [tokens/s]."""
    return _planner("peak_tokens_per_s", locals())


@udf
def ATLAS_GPUCOUNT(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
                   gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None, gpus=None,
                   models=None, patterns=None, offerings=None, throughput=None, precision=None,
                   input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """GPUs needed to serve the workload at 75 % target utilization (blank for per-token offerings)."""
    return _planner("gpu_count", locals())


@udf
def ATLAS_UTILIZATION(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
                      gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None, gpus=None,
                      models=None, patterns=None, offerings=None, throughput=None, precision=None,
                      input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """Utilization of each GPU at peak after scaling [0-1]."""
    return _planner("utilization_after", locals())


@udf
def ATLAS_RISK(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
               gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None, gpus=None,
               models=None, patterns=None, offerings=None, throughput=None, precision=None,
               input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """Latency-risk band: low (≤ 50 % utilization), medium (≤ 75 %), high; n/a for per-token."""
    return _planner("latency_risk", locals())


@udf
def ATLAS_COST(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
               gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None, gpus=None,
               models=None, patterns=None, offerings=None, throughput=None, precision=None,
               input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """Monthly cost of serving the workload on the offering [USD/month]."""
    return _planner("monthly_cost_usd", locals())


@udf
def ATLAS_COST_PER_MTOK(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
                        gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None,
                        gpus=None, models=None, patterns=None, offerings=None, throughput=None, precision=None,
                        input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """Cost per million tokens: monthly cost ÷ monthly tokens × 10⁶ [USD/Mtok]."""
    return _planner("cost_per_m_tokens_usd", locals())


@udf
def ATLAS_IDLE_WASTE(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
                     gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None, gpus=None,
                     models=None, patterns=None, offerings=None, throughput=None, precision=None,
                     input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """What a dedicated deployment pays for hours without traffic [USD/month]."""
    return _planner("idle_waste_usd", locals())


@udf
def ATLAS_PENALTY(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
                  gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None, gpus=None,
                  models=None, patterns=None, offerings=None, throughput=None, precision=None,
                  input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """Penalty score: overload + scaling + strict-latency penalties that rank offerings, never a cost [score]."""
    return _planner("penalty_usd", locals())


@udf
def ATLAS_PLAN(tokens_per_day, pattern, model, platform, gpu=None, latency_ms=None, gpu_count=None,
               gpu_tokens_per_s=None, hourly_usd=None, price_per_m_tokens=None, assumptions=None, gpus=None,
               models=None, patterns=None, offerings=None, throughput=None, precision=None,
               input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None, caller=None):
    """The whole plan of one workload as a field | value table (spills)."""
    local = locals()
    return excel.fit(calls.plan_table({n: local[n] for n in calls.PLAN_ARGS},
                                      {t: local[t] for t in calls.PLANNER_TABLES}, assumptions), caller)


@udf
def ATLAS_RANK(tokens_per_day, pattern, model, latency_ms=None, top=None, fields=None, assumptions=None, gpus=None,
               models=None, patterns=None, offerings=None, throughput=None, precision=None, input_tokens=None,
               output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None, caller=None):
    """Every offering that serves the model, best first (penalty score, then monthly cost), with a header row (spills)."""
    local = locals()
    return excel.fit(calls.rank_table(tokens_per_day, pattern, model, latency_ms, top, fields,
                                      {t: local[t] for t in calls.PLANNER_TABLES}, assumptions,
                                      {n: local[n] for n in ("precision",) + calls.SERVING_NUMBERS}), caller)


# -- serving model ---------------------------------------------------------------------------------------
def _serving(field, local):
    return calls.estimate_field(field, {n: local[n] for n in calls.ESTIMATE_ARGS},
                                {t: local[t] for t in calls.ESTIMATE_TABLES})


@udf
def ATLAS_GPU_TPS(model, gpu, precision=None, input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None,
                  tp=None, gpus=None, models=None, throughput=None):
    """Output tokens per second one GPU serves within the TTFT/TPOT limits (the serving model) [tokens/s/GPU]."""
    return _serving("output_tokens_per_s_per_gpu", locals())


@udf
def ATLAS_FIT(model, gpu, precision=None, input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None,
              tp=None, gpus=None, models=None, throughput=None):
    """TRUE when the model's weights and at least one sequence's KV cache fit on the GPUs of a replica."""
    return _serving("fits", locals())


@udf
def ATLAS_TPOT(model, gpu, precision=None, input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None,
               tp=None, gpus=None, models=None, throughput=None):
    """p99 time per output token at the serving model's operating point [ms]."""
    return _serving("tpot_ms", locals())


@udf
def ATLAS_ESTIMATE(model, gpu, precision=None, input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None,
                   tp=None, gpus=None, models=None, throughput=None, caller=None):
    """The serving model's whole estimate: tokens/s, replica size, memory fit, TTFT/TPOT, basis (spills)."""
    local = locals()
    return excel.fit(calls.estimate_table({n: local[n] for n in calls.ESTIMATE_ARGS},
                                          {t: local[t] for t in calls.ESTIMATE_TABLES}), caller)


# -- simulator -----------------------------------------------------------------------------------------
@udf
def ATLAS_THROUGHPUT(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
                     hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """Token throughput of the target running the workload [tokens/s]."""
    return _simulator("tokens_per_sec", locals())


@udf
def ATLAS_P50(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
              hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """Median latency including queue delay [ms]."""
    return _simulator("p50_ms", locals())


@udf
def ATLAS_P95(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
              hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """95th-percentile latency including queue delay [ms]."""
    return _simulator("p95_ms", locals())


@udf
def ATLAS_P99(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
              hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """99th-percentile latency including queue delay [ms]."""
    return _simulator("p99_ms", locals())


@udf
def ATLAS_TTFT(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
               hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """Time to first token including the median queue wait [ms]."""
    return _simulator("ttft_ms", locals())


@udf
def ATLAS_STEP_TIME(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
                    hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """Duration of one step: dp × microbatch × sequence tokens ÷ throughput [ms]."""
    return _simulator("step_time_ms", locals())


@udf
def ATLAS_POWER(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
                hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """Power of one node at the simulated utilization [W]."""
    return _simulator("node_power_w", locals())


@udf
def ATLAS_ENERGY_COST(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
                      hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """Electricity cost of the whole target including PUE [USD/h]."""
    return _simulator("energy_cost_per_hour_usd", locals())


@udf
def ATLAS_COST_PER_1K(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
                      hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """Infrastructure plus energy cost of a thousand tokens [USD per 1k tokens]."""
    return _simulator("dollar_per_1k_tokens", locals())


@udf
def ATLAS_QUEUE_WAIT(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
                     hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None):
    """Mean wait in queue (G/G/m over the replicas) [ms]; text 'saturated…' when arrivals exceed capacity."""
    return _simulator("queue_wait_ms", locals())


@udf
def ATLAS_SIMULATE(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
                   hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None, caller=None):
    """The whole simulation record as a field | value table (spills)."""
    local = locals()
    return excel.fit(calls.simulate_table(target, workload, knobs, seed, usd_per_kwh, pue,
                                  {t: local[t] for t in calls.SIMULATOR_TABLES}), caller)


@udf
def ATLAS_SCHEDULE(target, workload=None, knobs=None, seed=None, usd_per_kwh=None, pue=None,
                   hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None, caller=None):
    """The multi-phase schedule: aggregated field | value rows, then one row per phase (spills)."""
    local = locals()
    return excel.fit(calls.schedule_table(target, workload, knobs, seed, usd_per_kwh, pue,
                                  {t: local[t] for t in calls.SIMULATOR_TABLES}), caller)


@udf
def ATLAS_OPTIMIZE(target, workload=None, knobs=None, sla_p99_ms=None, seed=None, usd_per_kwh=None, pue=None,
                   hardware_models=None, targets=None, workloads=None, phases=None, request_profiles=None, caller=None):
    """Hill-climb the knobs: start and best knobs, baseline and best metrics, accepted steps (spills)."""
    local = locals()
    return excel.fit(calls.optimize_table(target, workload, knobs, sla_p99_ms, seed, usd_per_kwh, pue,
                                          {t: local[t] for t in calls.SIMULATOR_TABLES}), caller)


# -- catalog ---------------------------------------------------------------------------------------------
@udf
def ATLAS_CATALOG(kind, table=None, caller=None):
    """The keys of one catalog as a column — what a drop-down needs (spills)."""
    return excel.fit(calls.catalog_column(kind, table), caller)


@udf
def ATLAS_VERSION():
    """The version of atlas_xl that computes these functions."""
    return atlas_xl.__version__


# -- finance (issue 14): forecast, break-even, usage pattern, cost range, sensitivity -------------------
from udfs import finance_calls  # noqa: E402  (a module, not names: xlwings exports decorated attributes)

ARG_DOCS.update({
    "months": "Months to forecast; blank = 12 (or the number of volumes given) [months]",
    "monthly_growth": "Volume growth per month, e.g. 5 % or 0.05; blank = 0 [1/month]",
    "start": "First calendar month (a date, or text YYYY-MM): months get their real length; blank = 720-h months",
    "price_change_per_year": "Price change per year, e.g. -20 %; blank = 0 [1/year]",
    "commitment": "Reserved price term: 1y or 3y (commitments table); blank = on demand",
    "committed_gpus": "GPUs committed; blank = month 1's GPU count [GPUs]",
    "forecast_fields": "Columns to show: a range or comma-separated text (month, monthly_cost_usd, ...); blank = the main ones",
    "commitments": "Commitments catalog table (reserved prices); blank = built-in",
    "option_a": "First option: platform or platform/gpu, e.g. together",
    "option_b": "Second option: platform or platform/gpu, e.g. runpod/h100_sxm",
    "gpu_a": "GPU of the first option when option_a is a platform alone; blank = none",
    "gpu_b": "GPU of the second option when option_b is a platform alone; blank = none",
    "timestamps": "Range of usage timestamps (dates/times, hourly or finer)",
    "tokens": "Range of token counts, one beside each timestamp [tokens]",
    "pattern_field": "One field to return (active_ratio, burst_factor, efficiency, batch_multiplier, tokens_per_day); blank = the whole table",
    "percentile": "Percentile of the monthly cost: 10, 50, 90 (or 10 %, 50 %, 90 %); a range spills; blank = 50",
    "throughput_error": "Relative 1-sigma throughput error, e.g. 0.15; blank = the serving model's",
    "price_spread": "Relative 1-sigma price spread, e.g. 0.1; blank = 0",
    "volume_spread": "Relative 1-sigma error of the daily volume, e.g. 0.2; blank = 0",
    "draws": "Monte-Carlo draws; blank = 10000",
    "month": "Which forecast month (1 = now); blank = 1",
    "growth_spread": "1-sigma of the monthly growth rate, e.g. 0.02; blank = 0",
    "spread": "Low/high of every input as ± this share, e.g. 0.1; blank = 0.1",
    "output": "Plan field to compare: monthly_cost_usd (blank), cost_per_m_tokens_usd, unused_capacity_usd, gpu_count",
    "horizon_months": "Forecast horizon for the commitment advice; blank = 36 [months]",
    "term": "Commitment terms to consider: 1y, 3y or 1y,3y; blank = every term priced for the GPU",
    "commit_draws": "Monte-Carlo draws; blank = 2000",
})


def _finance_tables(local):
    return {t: local[t] for t in finance_calls.FINANCE_TABLES}


def _plan_args(local):
    """The plan() arguments every finance function forwards: latency requirement and serving settings."""
    return {n: local[n] for n in finance_calls.PLAN_KWARGS}


@udf
def ATLAS_FORECAST(tokens_per_day, pattern, model, platform, gpu=None, months=None, monthly_growth=None, start=None,
                   price_change_per_year=None, commitment=None, committed_gpus=None, latency_ms=None,
                   forecast_fields=None, assumptions=None, gpus=None, models=None, patterns=None, offerings=None,
                   throughput=None, commitments=None, precision=None, input_tokens=None, output_tokens=None,
                   ttft_ms=None, tpot_ms=None, tp=None, caller=None):
    """Month-by-month cost as usage grows: month, volume, GPUs, cost, cost per Mtok, cumulative cost (spills).
    tokens_per_day may be a range of monthly volumes."""
    local = locals()
    return excel.fit(finance_calls.forecast_table(
        tokens_per_day, pattern, model, platform, gpu, months, monthly_growth, start, price_change_per_year,
        commitment, committed_gpus, _plan_args(local), forecast_fields, _finance_tables(local), assumptions), caller)


@udf
def ATLAS_BREAKEVEN(pattern, model, option_a, option_b, gpu_a=None, gpu_b=None, latency_ms=None, assumptions=None,
                    gpus=None, models=None, patterns=None, offerings=None, throughput=None, precision=None,
                    input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """Daily volume at which two options cost the same per month [tokens/day]; text when they never cross."""
    local = locals()
    return finance_calls.breakeven_value(pattern, model, option_a, option_b, gpu_a, gpu_b, _plan_args(local),
                                         {t: local[t] for t in calls.PLANNER_TABLES}, assumptions)


@udf
def ATLAS_PATTERN(timestamps, tokens, pattern_field=None, patterns=None, caller=None):
    """Traffic-pattern factors observed in a usage log: active ratio, burst factor, suggested batching (spills)."""
    return excel.fit(finance_calls.pattern_table(timestamps, tokens, pattern_field, {"patterns": patterns}), caller)


@udf
def ATLAS_COST_RANGE(tokens_per_day, pattern, model, platform, gpu=None, percentile=None, throughput_error=None,
                     price_spread=None, volume_spread=None, draws=None, seed=None, month=None, monthly_growth=None,
                     growth_spread=None, start=None, price_change_per_year=None, latency_ms=None, assumptions=None,
                     gpus=None, models=None, patterns=None, offerings=None, throughput=None, precision=None,
                     input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None):
    """A percentile of the monthly cost under throughput, price and volume uncertainty (seeded) [USD/month]."""
    local = locals()
    return finance_calls.cost_range_value(
        tokens_per_day, pattern, model, platform, gpu, percentile, throughput_error, price_spread, volume_spread,
        draws, seed, month, monthly_growth, growth_spread, start, price_change_per_year, _plan_args(local),
        {t: local[t] for t in calls.PLANNER_TABLES}, assumptions)


@udf
def ATLAS_SENSITIVITY(tokens_per_day, pattern, model, platform, gpu=None, spread=None, output=None, latency_ms=None,
                      assumptions=None, gpus=None, models=None, patterns=None, offerings=None, throughput=None,
                      precision=None, input_tokens=None, output_tokens=None, ttft_ms=None, tpot_ms=None, tp=None, caller=None):
    """Tornado table: the monthly cost at the low and high end of each input, largest swing first (spills)."""
    local = locals()
    return excel.fit(finance_calls.sensitivity_table(
        tokens_per_day, pattern, model, platform, gpu, spread, output, _plan_args(local),
        {t: local[t] for t in calls.PLANNER_TABLES}, assumptions), caller)


@udf
def ATLAS_COMMIT(tokens_per_day, pattern, model, platform, gpu=None, horizon_months=None, monthly_growth=None,
                 start=None, term=None, volume_spread=None, throughput_error=None, commit_draws=None, seed=None,
                 latency_ms=None, assumptions=None, gpus=None, models=None, patterns=None, offerings=None,
                 throughput=None, commitments=None, precision=None, input_tokens=None, output_tokens=None,
                 ttft_ms=None, tpot_ms=None, tp=None, caller=None):
    """Commitment advice: which term, how many GPUs, from which month minimise expected cost; risk at P10 (spills)."""
    local = locals()
    return excel.fit(finance_calls.commit_table(
        tokens_per_day, pattern, model, platform, gpu, horizon_months, monthly_growth, start, term, volume_spread,
        throughput_error, commit_draws, seed, _plan_args(local), _finance_tables(local), assumptions), caller)
