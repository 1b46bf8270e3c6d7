"""Finance commands: forecast, breakeven, cost-range, sensitivity, commit, pattern, sweep (issue 14), hybrid."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from atlas_xl import fields, prices, values
from atlas_xl.catalog import TERMS
from atlas_xl.errors import InputError
from atlas_xl.files import atomic_output
from atlas_xl.finance import (breakeven, breakeven_month, commit_advice, cost_range_periods, forecast,
                              pattern_from_usage, pct_text, people_number, sensitivity, tokens_per_day_text,
                              with_pattern)
from atlas_xl.hybrid import hybrid
from atlas_xl.planner import plan
from atlas_xl.sweeps import sweep
from atlas_xl_cli.options import (arg, argument, catalog_option, command, force_option, gpu_option, group,
                                  max_price_age_option, model_arg, parse_rate, parse_volume, parse_volumes,
                                  pattern_arg, plan_field_options, plan_options, plan_overrides, platform_arg, registered, serving_args,
                                  serving_options, text_argument, tp_option)
from atlas_xl_cli.output import (dump, emit_frame, jsonable, plan_price_age, price_age_line, price_warnings,
                                 print_fields, show)

growth_options = group(
    registered("months"),
    arg("--growth", type=parse_rate, default=0.0, help="volume growth per month: 5%% or 0.05"),
    arg("--start", help="first calendar month YYYY-MM (real month lengths; default 720-h months)"),
)
price_change_option = arg("--price-change", type=parse_rate, default=0.0,
                          help="price change per year: --price-change=-20%% or 0.1")
currency_option = arg("--currency", type=text_argument("--currency"),
                      help="also show money in this currency (EUR, GBP, ...; dated ECB rates, catalogs/fx_rates.csv)")
offering_options = group(  # one offering and its month-1 volume
    arg("tokens_per_day", type=parse_volume, help="daily token volume of month 1 (2e9, 2B, 500M)"),
    pattern_arg, model_arg, platform_arg, gpu_option,
)


def uncertainty_options(draws):
    """The Monte-Carlo options, with ``draws`` the command's default number of draws."""
    return group(
        registered("draws", default=draws, help=f"Monte-Carlo draws (default {draws:,})"),
        registered("seed", default=0),
        arg("--throughput-error", type=parse_rate,
            help="1-sigma throughput error, e.g. 15%% (default: the serving model's)"),
        arg("--price-spread", type=parse_rate, default=0.0, help="1-sigma price spread, e.g. 10%% (default 0)"),
        arg("--volume-spread", type=parse_rate, default=0.0, help="1-sigma volume error, e.g. 20%% (default 0)"),
        arg("--growth-spread", type=parse_rate, default=0.0,
            help="1-sigma of the monthly growth rate, e.g. 2%% (default 0)"),
        price_change_option,
    )


SIDE_NAMES = ("hourly_usd", "price_per_m_tokens", "gpu_tokens_per_s", "gpu_count")


def side_overrides(side):
    """breakeven's --a-* or --b-* options: a price, throughput or GPU count of one option only."""
    which = f"option_{side}"
    return group(
        arg(f"--{side}-hourly-usd", type=argument("hourly_usd"), help=f"price per GPU-hour of {which} [USD]"),
        arg(f"--{side}-price-per-m-tokens", type=argument("price_per_m_tokens"),
            help=f"per-token price of {which} [USD/Mtok]"),
        arg(f"--{side}-gpu-tokens-per-s", type=argument("gpu_tokens_per_s"),
            help=f"throughput per GPU of {which} [tokens/s]"),
        arg(f"--{side}-gpu-count", type=argument("gpu_count"), help=f"fix the GPU count of {which}"),
    )


FORECAST_VIEW = {
    "month": ("month", "{:.0f}"), "period": ("period", "{}"), "tokens_per_day": ("tokens/day", "{:,.0f}"),
    "gpu_count": ("GPUs", "{:.0f}"), "monthly_cost_usd": ("$/month", "{:,.0f}"),
    "cost_per_m_tokens_usd": ("$/Mtok", "{:.3f}"), "cumulative_cost_usd": ("cumulative $", "{:,.0f}"),
}
COMMITMENT_VIEW = {"on_demand_cost_usd": ("on-demand $", "{:,.0f}"), "savings_usd": ("saved $", "{:,.0f}"),
                   "cumulative_savings_usd": ("cum. saved $", "{:,.0f}")}


@command("forecast", "Month-by-month cost as usage grows, with price changes and commitments.",
         "examples:\n  atlas-xl forecast 2B steady llama_70b runpod --gpu h100_sxm --months 24 --growth 5% "
         "--start 2027-01\n  atlas-xl forecast 2B steady llama_70b runpod --gpu h100_sxm --months 36 "
         "--commitment 3y\n  atlas-xl forecast 1B,1.5B,3B,3B steady llama_70b together\n  atlas-xl forecast 1B bursty llama_70b together --price-change=-20% --csv   (a negative rate needs the =)")
@arg("tokens_per_day", type=parse_volumes,
     help="daily token volume of month 1 (2e9, 2B, 500M), or one per month: 1B,1.5B,3B")
@pattern_arg
@model_arg
@platform_arg
@gpu_option
@growth_options
@price_change_option
@registered("commitment")
@registered("committed_gpus")
@plan_options
@plan_field_options
@max_price_age_option
@currency_option
def cmd_forecast(args):
    frame = forecast(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, months=args.months,
                     monthly_growth=args.growth, start=args.start, price_change_per_year=args.price_change,
                     commitment=args.commitment, committed_gpus=args.committed_gpus, catalog=args.catalog,
                     **plan_overrides(args))
    a = frame.attrs
    rate, fx_line = _fx(args)
    where = f"{frame['platform'].iloc[0]}{'/' + frame['gpu'].iloc[0] if frame['gpu'].iloc[0] else ''}"
    price_warnings([price_age_line(frame["price_as_of"].iloc[0], where, args),
                    price_age_line(a["commitment_as_of"], f"the {a['commitment']} commitment", args,
                                    a["commitment_source"]) if a else "", fx_line])
    if rate:
        for column in [c for c in frame.columns if c.endswith("_usd")]:
            frame[column.replace("_usd", f"_{rate.currency.lower()}")] = frame[column] * rate.units_per_usd
    if args.json:
        dump({"months": [{k: jsonable(v) for k, v in r.items()} for r in frame.to_dict("records")],
              "summary": {k: jsonable(v) for k, v in frame.attrs.items()}, **({"fx": vars(rate)} if rate else {})})
        return
    if args.csv:
        values.write_csv(frame, sys.stdout)
        return
    view = dict(FORECAST_VIEW)
    if not args.start:
        view.pop("period")
    if args.commitment:
        view.update(COMMITMENT_VIEW)
    if rate:
        code = rate.currency.lower()
        view = {(k.replace("_usd", f"_{code}") if k.endswith("_usd") else k):
                (h.replace("$/", rate.currency + "/").replace("$", rate.currency), f) for k, (h, f) in view.items()}
    emit_frame(frame, args, view=view)
    total = frame["cumulative_cost_usd"].iloc[-1] * (rate.units_per_usd if rate else 1.0)
    print(f"\n{len(frame)} months: {total:,.0f} {rate.currency if rate else 'USD'}"
          + ("" if args.start else " (720-hour months; --start YYYY-MM for calendar months)")
          + f"; on-demand price as of {frame['price_as_of'].iloc[0]}")
    if rate:
        print(f"in {rate.currency}: {rate.line()}")
    if a:
        payoff = a["commitment_payoff_month"]
        print(f"commitment {a['commitment']}: {a['committed_gpus']:.0f} GPUs at {a['commitment_hourly_usd']:g} USD/GPU-h "
              f"for {a['commitment_min_term_months']} months ({a['commitment_basis']}; {a['commitment_source']}, "
              f"{a['commitment_as_of']})")
        print(f"pays off: {'month ' + str(payoff) if payoff else 'never within its term'}; saves "
              f"{a['commitment_term_savings_usd']:,.0f} USD over the term; still owed after month {len(frame)}: "
              f"{a['commitment_owed_after_forecast_usd']:,.0f} USD")


@command("breakeven", "The daily volume at which two options cost the same per month.",
         "examples:\n  atlas-xl breakeven steady llama_70b together:per_token runpod/h100_sxm\n"
         "  atlas-xl breakeven steady llama_70b together:per_token together/h100_sxm --tpot-ms 40\n"
         "  atlas-xl breakeven steady llama_70b together:per_token:0.60 runpod/h100_sxm:2.10\n"
         "  atlas-xl breakeven steady llama_70b together runpod/h100_sxm --b-hourly-usd 2.10\n"
         "  atlas-xl breakeven steady llama_70b together runpod/h100_sxm --tokens-per-day 100M "
         "--growth 20% --months 24\n\n"
         "an option: platform[/gpu][:billing][:price] — together (its per-token API if it has one for the\n"
         "model, else its only GPU offering; the output says which), together:per_token, together/h100_sxm,\n"
         "runpod/h100_sxm:2.10 (USD per GPU-hour), together:per_token:0.60 (USD per million tokens).\n"
         "--a-* / --b-* set a price, throughput or GPU count on one side only.")
@pattern_arg
@model_arg
@arg("option_a", help="platform[/gpu][:billing][:price], e.g. together:per_token")
@arg("option_b", help="platform[/gpu][:billing][:price], e.g. runpod/h100_sxm or runpod/h100_sxm:2.10")
@arg("--tokens-per-day", type=parse_volume, help="today's volume: also find the month of crossing")
@growth_options
@plan_options
@side_overrides("a")
@side_overrides("b")
@max_price_age_option
def cmd_breakeven(args):
    kwargs = plan_overrides(args)
    sides = dict(overrides_a=_side_values(args, "a"), overrides_b=_side_values(args, "b"))
    result = breakeven(args.pattern, args.model, args.option_a, args.option_b, catalog=args.catalog, **sides,
                       **kwargs)
    month = None
    if args.tokens_per_day is not None:
        month = breakeven_month(args.tokens_per_day, args.pattern, args.model, args.option_a, args.option_b,
                                months=args.months, monthly_growth=args.growth, start=args.start,
                                catalog=args.catalog, **sides, **kwargs)
    price_warnings([price_age_line(result.price_as_of_a, result.label_a, args),
                    price_age_line(result.price_as_of_b, result.label_b, args)])
    if args.json or args.csv:
        record = {k: jsonable(v) for k, v in result.as_dict().items()}
        if args.tokens_per_day is not None:
            record["breakeven_month"] = month["month"] if month else None
        if args.json:
            dump(record)
        else:
            values.write_csv(pd.DataFrame([record]), sys.stdout)
        return
    for note in (result.note_a, result.note_b):
        if note:
            print(note)
    if result.tokens_per_day is None:
        print(result.reason)
    else:
        print(f"break-even: {tokens_per_day_text(result.tokens_per_day)} ({people_number(result.tokens_per_day * 30)}"
              f" tokens a 30-day month) — {result.reason}")
        print(f"monthly cost there: {result.label_a} {result.cost_a_usd:,.0f} USD, {result.label_b} "
              f"{result.cost_b_usd:,.0f} USD ({pct_text(result.gap_pct)} apart)")
    print(f"prices as of: {result.label_a} {result.price_as_of_a}, {result.label_b} {result.price_as_of_b}")
    if args.tokens_per_day is not None:
        if month:
            print(f"in the forecast: month {month['month']}{' (' + month['period'] + ')' if month['period'] else ''}"
                  f" — {month['cheaper_after']} becomes cheaper than {month['cheaper_before']}")
        else:
            print("in the forecast: the cheaper option does not change")


def _fx(args):
    """(FxRate or None, warning line): the rate for --currency, dated."""

    if not getattr(args, "currency", None) or args.currency.upper() == "USD":
        return None, ""
    rate = prices.fx_rate(args.currency, args.catalog)
    age = prices.price_age(rate.date, max_age_days=args.max_price_age_days)
    stale = (f"the FX rate {rate.currency} is from {rate.date}, {age.age_days:.0f} days old — add a current ECB "
             "rate to fx_rates.csv") if age.stale else ""
    return rate, stale


def _side_values(args, side):
    return {n: getattr(args, f"{side}_{n}") for n in SIDE_NAMES if getattr(args, f"{side}_{n}", None) is not None}


@command("cost-range", "P10/P50/P90 of monthly, quarterly and fiscal-year cost under stated uncertainty.",
         "examples:\n  atlas-xl cost-range 2B steady llama_70b runpod --gpu h100_sxm --months 12 --growth 5%\n"
         "  atlas-xl cost-range 2B steady llama_70b runpod --gpu h100_sxm --months 24 --start 2027-01 "
         "--fiscal-year-start 4 --volume-spread 20%\n"
         "  atlas-xl cost-range 1B bursty llama_70b together --price-spread 10% --volume-spread 30% --csv")
@offering_options
@growth_options
@registered("fiscal_year_start_month", "--fiscal-year-start", dest="fiscal_year_start")
@uncertainty_options(draws=10_000)
@plan_options
@max_price_age_option
@currency_option
def cmd_cost_range(args):
    frame = cost_range_periods(
        args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, months=args.months or 12,
        draws=args.draws, seed=args.seed, throughput_error=args.throughput_error, price_spread=args.price_spread,
        volume_spread=args.volume_spread, monthly_growth=args.growth, growth_spread=args.growth_spread,
        start=args.start, price_change_per_year=args.price_change, fiscal_year_start_month=args.fiscal_year_start,
        catalog=args.catalog, **plan_overrides(args))
    a = frame.attrs
    rate, fx_line = _fx(args)
    money = [c for c in frame.columns if c.endswith("_usd")]
    if rate:
        for column in money:
            frame[column.replace("_usd", f"_{rate.currency.lower()}")] = frame[column] * rate.units_per_usd
    price_warnings([price_age_line(a["price_as_of"], f"{args.platform}{'/' + args.gpu if args.gpu else ''}", args),
                    fx_line])
    if args.json:
        dump({"periods": [{k: jsonable(v) for k, v in r.items()} for r in frame.to_dict("records")],
              "summary": {k: jsonable(v) for k, v in a.items()}, **({"fx": vars(rate)} if rate else {})})
        return
    if args.csv:
        values.write_csv(frame, sys.stdout)
        return
    unit = rate.currency if rate else "$"
    suffix = f"_{rate.currency.lower()}" if rate else "_usd"
    view = {"period": ("period", "{}"), "months": ("months", "{:.0f}"),
            f"point{suffix}": (f"forecast {unit}", "{:,.0f}"), f"p10{suffix}": (f"P10 {unit}", "{:,.0f}"),
            f"p50{suffix}": (f"P50 {unit}", "{:,.0f}"), f"p90{suffix}": (f"P90 {unit}", "{:,.0f}")}
    for kind, heading in (("month", "Months"), ("quarter", "Quarters"), ("fiscal_year", "Fiscal years")):
        part = frame[frame.period_type == kind].copy()
        part["period"] = [p if c else f"{p} (part: {m} of {3 if kind == 'quarter' else 12} months)"
                          for p, c, m in zip(part.period, part.complete, part.months)]
        print(f"{heading}:")
        emit_frame(part, args, view=view)
        print()
    print(f"{a['draws']:,} seeded draws (seed {a['seed']}): throughput error ±{a['throughput_error']:.0%} (1-sigma, "
          f"the serving model's unless given), price spread ±{args.price_spread:.0%}, volume spread "
          f"±{args.volume_spread:.0%}, growth spread ±{args.growth_spread:.1%}; a period's percentile is of its "
          f"total. Price as of {a['price_as_of']}."
          + (f" Fiscal year starts in month {a['fiscal_year_start_month']}." if args.start else ""))
    if rate:
        print(f"In {rate.currency}: {rate.line()}.")
    if a["point_reason"]:
        print(a["point_reason"][0].upper() + a["point_reason"][1:] + ".")


@command("sensitivity", "Tornado table: the cost at the low and high end of each input, largest swing first.",
         "examples:\n  atlas-xl sensitivity 2B steady llama_70b runpod --gpu h100_sxm\n"
         "  atlas-xl sensitivity 2B steady llama_70b together --spread 20% --output cost_per_m_tokens_usd")
@offering_options
@arg("--spread", type=parse_rate, default=0.1, help="every input from -spread to +spread (default 10%%)")
@arg("--output", default="monthly_cost_usd",
     help="plan field compared: monthly_cost_usd (default), cost_per_m_tokens_usd, unused_capacity_usd, gpu_count")
@plan_options
@plan_field_options
@max_price_age_option
def cmd_sensitivity(args):
    frame = sensitivity(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, spread=args.spread,
                        output=args.output, catalog=args.catalog, **plan_overrides(args))
    base = plan(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, catalog=args.catalog,
                **plan_overrides(args))
    age, line = plan_price_age(base, args)
    price_warnings([line])
    if args.json or args.csv:
        emit_frame(frame, args)
        return
    shown = fields.field(args.output, plan=True)  # label, units and number format, as the report shows them
    for column in ("base", "low", "high"):  # 2e+09 tokens/day reads as 2 B
        frame[column] = [people_number(v, 4) if abs(v) >= 1e6 else f"{v:,.4g}" for v in frame[column]]
    frame["input"] = [fields.field(name, plan=True).label for name in frame["input"]]
    for column in ("cost_at_low_usd", "cost_at_high_usd", "swing_usd"):
        frame[column] = [fields.display(v, shown.number_format) for v in frame[column]]
    view = {"input": ("input", "{}"), "base": ("base", "{}"), "low": ("low", "{}"), "high": ("high", "{}"),
            "cost_at_low_usd": (f"{shown.label} at low", "{}"), "cost_at_high_usd": (f"{shown.label} at high", "{}"),
            "swing_usd": ("swing", "{}")}
    emit_frame(frame, args, view=view)
    at_base = fields.display(frame["base_cost_usd"].iloc[0], shown.number_format)
    print(f"\n{shown.label} [{shown.units}] at the base: {at_base}; each input alone from {1 - args.spread:.0%} to "
          f"{1 + args.spread:.0%} of its base (active share and target utilization at most 1), largest swing first. "
          f"Price as of {age.as_of}.")


@command("commit", "Which commitment term, how many GPUs and from which month minimise the expected cost.",
         "examples:\n  atlas-xl commit 2B steady llama_70b runpod --gpu h100_sxm --months 36 --growth 3% "
         "--start 2027-01\n  atlas-xl commit 500M bursty llama_70b runpod --gpu h100_sxm --term 3y "
         "--volume-spread 30% --json")
@offering_options
@growth_options
@arg("--term", action="append", choices=TERMS, help="only this term (repeatable; default all priced)")
@uncertainty_options(draws=2_000)
@plan_options
@max_price_age_option
@currency_option
def cmd_commit(args):
    advice = commit_advice(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu,
                           months=args.months or 36, monthly_growth=args.growth, start=args.start,
                           terms=args.term, draws=args.draws, seed=args.seed, throughput_error=args.throughput_error,
                           price_spread=args.price_spread, volume_spread=args.volume_spread,
                           growth_spread=args.growth_spread, price_change_per_year=args.price_change,
                           catalog=args.catalog, **plan_overrides(args))
    rate, fx_line = _fx(args)
    base = plan(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, catalog=args.catalog,
                **plan_overrides(args))
    age, line = plan_price_age(base, args)
    price_warnings([line,
                    price_age_line(advice.as_of, f"the {advice.term} commitment", args, advice.source), fx_line])
    record = advice.as_dict()
    if rate:
        for key in [k for k in record if k.endswith("_usd")]:
            record[key.replace("_usd", f"_{rate.currency.lower()}")] = record[key] * rate.units_per_usd
    if args.json:
        dump({**record, **({"fx": vars(rate)} if rate else {})})
        return
    if args.csv:
        values.write_csv(pd.DataFrame([{k: v for k, v in record.items() if k != "alternatives"}]), sys.stdout)
        return
    k = rate.units_per_usd if rate else 1.0
    unit = rate.currency if rate else "USD"
    print(advice.reason[0].upper() + advice.reason[1:] + ".")
    print(f"expected cost over {advice.months} months: {advice.expected_cost_usd * k:,.0f} {unit} "
          f"(on demand {advice.on_demand_expected_cost_usd * k:,.0f} {unit}; saves "
          f"{advice.expected_savings_usd * k:,.0f} {unit}); {advice.draws:,} seeded draws")
    if advice.committed_gpus:
        print(f"at the P10 volume: {advice.p10_cost_usd * k:,.0f} {unit} against {advice.p10_on_demand_cost_usd * k:,.0f}"
              f" {unit} on demand; over-commitment {advice.p10_overcommitment_usd * k:,.0f} {unit} "
              f"({advice.p10_idle_gpu_hours:,.0f} committed GPU-hours unused)")
        if advice.owed_after_usd:
            print(f"the term runs past month {advice.months}: {advice.owed_after_usd * k:,.0f} {unit} still owed then "
                  "(counted above; what those months would save is not)")
    print(f"committed price {advice.hourly_usd:g} USD/GPU-h for {advice.min_term_months} months ({advice.basis}; "
          f"{advice.source}, as of {advice.as_of}); on-demand price as of {age.as_of}")
    if len(advice.alternatives) > 1:
        for alt in advice.alternatives:
            print(f"  best {alt['term']}: {alt['committed_gpus']:g} GPUs from month {alt['start_month']}, expected "
                  f"{alt['expected_cost_usd'] * k:,.0f} {unit} ({alt['expected_savings_usd'] * k:,.0f} {unit} saved)")
    if rate:
        print(f"in {unit}: {rate.line()}")


@command("pattern", "Traffic-pattern factors (active ratio, burst factor, ...) from a usage log.",
         "examples:\n  atlas-xl pattern usage.csv\n"
         "  atlas-xl pattern usage.csv --name ours --add-to my_catalogs/   (then: atlas-xl plan 2B ours "
         "llama_70b runpod --gpu h100_sxm --catalog my_catalogs/)\n\n"
         "usage.csv: a timestamp column (timestamp, time, date, start_time; ISO text or Unix seconds) and\n"
         "tokens or input_tokens + output_tokens, one row per request or per hour")
@arg("file", help="usage CSV: timestamps and token counts (hourly or finer)")
@arg("--period-start", help="start of the period the log covers, when idle hours are left out")
@arg("--period-end", help="end of that period")
@arg("--add-to", metavar="DIR", help="write DIR/patterns.csv with the observed pattern added")
@arg("--name", default="observed", help="pattern name for --add-to (default observed)")
@arg("--force", action="store_true", help="replace DIR/patterns.csv if it exists")
def cmd_pattern(args):
    period = (args.period_start, args.period_end) if args.period_start or args.period_end else None
    if period and not all(period):
        raise InputError("give both --period-start and --period-end")
    found = pattern_from_usage(args.file, period=period, catalog=args.catalog)
    record = found.as_dict()
    if args.add_to:
        _add_pattern(found, args)
    if args.json:
        dump(record)
    elif args.csv:
        values.write_csv(pd.DataFrame([record]), sys.stdout)
    else:
        units = {"tokens_per_day": "tokens/day", "hours": "h"}
        print(pd.DataFrame({"field": list(record), "value": [show(v) for v in record.values()],
                            "units": [units.get(k, "") for k in record]}).to_string(index=False))
    if args.add_to:
        print(f"added pattern '{args.name}' to {Path(args.add_to) / 'patterns.csv'}", file=sys.stderr)


def _add_pattern(found, args):

    target = Path(args.add_to) / "patterns.csv"
    if target.exists() and not args.force:
        raise InputError(f"'{target}' exists — pass --force to replace it, or choose another folder")
    table = with_pattern(found, args.name, args.catalog, source=Path(args.file).name).tables["patterns"]
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(target, lambda path: values.write_csv(table, path), overwrite=args.force)


def _atomic_write(target, write, overwrite=True):
    """Write through a temporary file in the same folder, then move it into place: never a
    half-written file, umask permissions, exclusive create without ``overwrite`` (atlas_xl.files)."""
    with atomic_output(target, overwrite=overwrite) as temp:
        write(str(temp))


class _Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, width=30):
        self.width = width

    def __call__(self, done, total):
        filled = int(self.width * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,} scenarios")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


@command("sweep", "Evaluate a table of scenarios (plan/forecast arguments per row) in parallel.",
         "examples:\n  atlas-xl sweep scenarios.csv -o results.parquet\n"
         "  atlas-xl sweep scenarios.csv -o results.csv --workers 4\n"
         "  atlas-xl sweep scenarios.csv -o results.parquet --scheduler tcp://10.0.0.5:8786\n\n"
         "scenarios.csv: one scenario per row; columns tokens_per_day, pattern, model, platform (required),\n"
         "gpu, latency_ms, gpu_count, gpu_tokens_per_s, hourly_usd, price_per_m_tokens, billing, months,\n"
         "monthly_growth, price_change_per_year (blank = not given)", data=False)
@arg("scenarios", help="CSV or Parquet file, one scenario per row")
@arg("-o", "--output", required=True, help="results file: .parquet or .csv (one row per scenario-month)")
@arg("--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:8786); needs atlas-xl[dask]")
@registered("workers")
@registered("chunk_size", default=2000)
@arg("--quiet", action="store_true", help="no progress bar")
@catalog_option
@force_option
def cmd_sweep(args):
    target = Path(args.output)
    if target.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(f"'{target}': write .parquet or .csv")
    if target.exists() and not args.force:
        raise InputError(f"'{target}' exists — pass --force to replace it, or choose another name")
    if target.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("writing .parquet needs pyarrow — pip install 'atlas-xl[parquet]', or write .csv") \
                from None
    result = sweep(args.scenarios, catalog=args.catalog, scheduler=args.scheduler, workers=args.workers,
                   chunk_size=args.chunk_size, progress=None if args.quiet else _Progress())
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".parquet":
        _atomic_write(target, lambda path: result.to_parquet(path, index=False), overwrite=args.force)
    else:
        _atomic_write(target, lambda path: values.write_csv(result, path), overwrite=args.force)
    failed = result[result["error"] != ""].drop_duplicates("scenario")
    scenarios = result["scenario"].nunique()
    print(f"wrote {target}: {scenarios:,} scenarios, {len(result):,} scenario-months, {len(failed):,} failed")
    if len(failed):
        first = failed.iloc[0]
        raise InputError(f"{len(failed)} scenario(s) failed (their rows carry the reason in column error) — "
                         f"first: scenario {first['scenario']} (row {first['scenario'] + 1}): {first['error']}")


HYBRID_UNITS = {
    "monthly_cost_usd": "USD/month", "own_gpu_count": "GPUs", "own_share": "share", "api_share": "share",
    "own_monthly_usd": "USD/month", "api_monthly_usd": "USD/month", "own_only_usd": "USD/month",
    "api_only_usd": "USD/month", "saving_usd": "USD/month", "hourly_usd": "USD/GPU-h", "replica_gpus": "GPUs",
    "own_tokens_per_s_per_gpu": "tokens/s/GPU", "price_per_m_tokens": "USD/Mtok", "tokens_per_day": "tokens/day",
}


@command("hybrid", "Own GPUs for the base load and a per-token API for the rest: the cheapest split (docs/finance.md).",
         "examples:\n  atlas-xl hybrid 2B steady llama_70b runpod --gpu h100_sxm --burst-platform together\n"
         "  atlas-xl hybrid - steady llama_70b runpod --gpu h100_sxm --usage usage.csv")
@arg("tokens_per_day", type=lambda text: None if text == "-" else parse_volume(text),
     help="daily token volume (2e9, 2B, 500M), or - for the usage log's")
@pattern_arg
@model_arg
@platform_arg
@gpu_option
@arg("--burst-platform", help="the per-token offering for the tokens above the own GPUs (default: the cheapest)")
@arg("--usage", metavar="FILE", help="usage CSV (timestamps and token counts, as `pattern` reads): the hourly load")
@tp_option
@serving_options
@max_price_age_option
def cmd_hybrid(args):
    record = hybrid(args.tokens_per_day, args.pattern, args.model, args.platform, args.gpu, args.burst_platform,
                    usage=args.usage, tp=args.tp, catalog=args.catalog, **serving_args(args))
    if record.note:
        print(f"atlas-xl: note: {record.note}", file=sys.stderr)
    show_record = {k: v for k, v in record.items() if k != "note"}
    lines = []  # both prices dated, as every command that uses a price (issue 20)
    for field, (platform, gpu, model, billing) in (
            ("price_as_of", (record.platform, record.gpu, "", "dedicated")),
            ("api_price_as_of", (record.burst_platform, "", args.model, "per_token"))):
        row = prices.offering_row(args.catalog, platform, gpu, model, billing)
        show_record[field] = row["as_of"] if row else "given"
        lines.append(price_age_line(show_record[field], f"{platform}/{gpu or model}", args, row["source"] if row else ""))
    price_warnings(lines)
    print_fields(show_record, HYBRID_UNITS, args)


COMMANDS = (cmd_forecast, cmd_breakeven, cmd_cost_range, cmd_sensitivity, cmd_commit, cmd_pattern, cmd_sweep,
            cmd_hybrid)
