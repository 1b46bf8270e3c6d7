"""Forecast and Sensitivity sheets: formulas in the template, values in the report (issue 14).

Template (`forecast_template_sheet`, `sensitivity_template_sheet`): inputs for growth, start month,
price change, commitment and the uncertainty spreads (blue on yellow, defined names ``Fc*``), the
monthly table as one ATLAS_FORECAST array formula, P10/P90 of every month by one ATLAS_COST_RANGE array formula, a cost
chart with the P10–P90 band, the break-even volume and month against a second option; a tornado
table (ATLAS_SENSITIVITY) with its chart.

Report (`forecast_report_sheet`, `sensitivity_report_sheet`): the same content as values for the
report's recommended offering.
"""
from __future__ import annotations

import math

from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, BUILTIN_FORMATS_REVERSE, NumberFormat
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula

from atlas_xl import fields, finance
from atlas_xl.errors import InputError
from workbook import layout, sheets
from workbook.layout import put

FORECAST_ROWS = 60  # the monthly table has room for five years
FORECAST_COLUMNS = ("month", "period", "tokens_per_day", "gpu_count", "monthly_cost_usd", "cost_per_m_tokens_usd",
                    "cumulative_cost_usd", "on_demand_cost_usd", "savings_usd", "cumulative_savings_usd")
SENSITIVITY_ROWS = 12
IN_INPUT_UNITS = ("base", "low", "high")
"""Sensitivity columns that hold a value of the row's input: shown in that input's number format ($2.69 an
hour, 85.0 % efficiency, 5,592 tokens/s), not in one format for every row."""

# (label, defined name, default, units, comment, number format)
FORECAST_INPUTS = (
    ("Months", "FcMonths", 24, "months", "length of the forecast (up to 60 on this sheet)", "0"),
    ("Monthly growth", "FcGrowth", 0.05, "per month", "volume growth; 5 % = ×1.05 each month", sheets.PCT),
    ("Start month", "FcStart", "2027-01", "YYYY-MM", "months get their real length (28–31 days); blank = 720-h months",
     "@"),
    ("Price change per year", "FcPriceChange", 0.0, "per year", "e.g. −20 % as GPU prices fall", sheets.PCT),
    ("Commitment", "FcCommitment", None, "1y / 3y", "reserved price from the Commitments sheet; blank = on demand",
     "@"),
    ("Committed GPUs", "FcCommittedGpus", None, "GPUs", "blank = month 1's GPU count", "0"),
    ("Throughput error", "FcThroughputError", None, "1-sigma", "relative throughput error for the band; blank = the "
                                                               "serving model's", sheets.PCT),
    ("Price spread", "FcPriceSpread", 0.0, "1-sigma", "relative price uncertainty; 0 = catalog price", sheets.PCT),
    ("Volume spread", "FcVolumeSpread", 0.0, "1-sigma", "relative error of the daily volume", sheets.PCT),
    ("Growth spread", "FcGrowthSpread", 0.0, "1-sigma", "uncertainty of the monthly growth rate", sheets.PCT),
    ("Compare with", "FcCompareWith", "together", "platform[/gpu]", "the other option of the break-even", "@"),
)
OPTIONAL_NAMES = tuple(row[1] for row in FORECAST_INPUTS if row[2] is None)  # blank is meaningful


def forecast_template_sheet(book, sheet, name):
    """Fill the template's Forecast sheet; ``name(book, defined_name, sheet, ref)`` defines names."""
    sheet["A1"], sheet["A2"] = "Forecast", ("Monthly cost of the Inputs workload and offering as usage grows, with "
                                            "a P10–P90 band and the break-even against a second option.")
    sheet["A1"].style, sheet["A2"].style = "atlas_title", "atlas_comment"
    sheet.sheet_view.showGridLines = False
    for column, heading in enumerate(("Item", "Value", "Units", "Comment"), start=1):
        put(sheet, f"{'ABCD'[column - 1]}4", heading, "atlas_header")
    row = 5
    for label, defined, default, units, comment, fmt in FORECAST_INPUTS:
        put(sheet, f"A{row}", label, "atlas_label")
        put(sheet, f"B{row}", default, "atlas_input", fmt)
        put(sheet, f"C{row}", units, "atlas_units")
        put(sheet, f"D{row}", comment, "atlas_comment")
        name(book, defined, sheet, f"B{row}")
        if defined == "FcCommitment":
            put(sheet, "Y4", "Commitment terms", "atlas_comment")  # the drop-down's list, right of the chart
            for i, term in enumerate(("1y", "3y"), start=5):
                put(sheet, f"Y{i}", term, "atlas_comment")
            name(book, "TermList", sheet, "Y5:Y6")
            rule = DataValidation(type="list", formula1="TermList", allow_blank=True)  # as Excel stores it: no "="
            sheet.add_data_validation(rule)
            rule.add(f"B{row}")
        row += 1
    row += 1
    put(sheet, f"A{row}", "Break-even", "atlas_heading")
    volume_row = row + 1
    put(sheet, f"A{volume_row}", "Volume where both cost the same", "atlas_label")
    put(sheet, f"B{volume_row}", sheets.formula("ATLAS_BREAKEVEN", **sheets.inputs_for("ATLAS_BREAKEVEN"),
                                                 option_a="Platform", option_b="FcCompareWith", gpu_a="Gpu"),
         "atlas_output", sheets.COUNT)
    put(sheet, f"C{volume_row}", "tokens/day", "atlas_units")
    put(sheet, f"D{volume_row}", "text when the two never cross between 1 million and 10 trillion tokens/day",
         "atlas_comment")
    name(book, "FcBreakevenVolume", sheet, f"B{volume_row}")
    top = volume_row + 5  # the array's own first row: its column keys, under a header of their labels
    first, last = top + 1, top + FORECAST_ROWS
    put(sheet, f"A{volume_row + 1}", "First month at or above it", "atlas_label")
    # first month k with TokensPerDay × (1 + g)^(k−1) ≥ break-even volume: k = ceil(ln(V/T) / ln(1 + g)) + 1
    put(sheet, f"B{volume_row + 1}",
         '=IF(NOT(ISNUMBER(FcBreakevenVolume)),"—",IF(TokensPerDay>=FcBreakevenVolume,1,'
         'IF(FcGrowth<=0,"not with this growth",IF(ROUNDUP(LN(FcBreakevenVolume/TokensPerDay)/LN(1+FcGrowth),0)+1'
         '>FcMonths,"not within the forecast",ROUNDUP(LN(FcBreakevenVolume/TokensPerDay)/LN(1+FcGrowth),0)+1))))',
         "atlas_output", "0")
    put(sheet, f"D{volume_row + 1}", "first month whose volume reaches it (720-h months at today's prices)",
         "atlas_comment")
    name(book, "FcBreakevenMonth", sheet, f"B{volume_row + 1}")

    put(sheet, f"A{top - 2}", "Monthly table (ATLAS_FORECAST) with the P10–P90 band (ATLAS_COST_RANGE)",
         "atlas_heading")
    width = len(FORECAST_COLUMNS)
    end_col = get_column_letter(width)
    keys = ",".join(FORECAST_COLUMNS)
    sheet[f"A{top}"] = ArrayFormula(
        f"A{top}:{end_col}{last}",
        sheets.formula("ATLAS_FORECAST", **sheets.inputs_for("ATLAS_FORECAST"), months="FcMonths",
                       monthly_growth="FcGrowth", start="FcStart", price_change_per_year="FcPriceChange",
                       commitment="FcCommitment", committed_gpus="FcCommittedGpus", forecast_fields=f'"{keys}"'))
    band = {"L": 10, "M": 90}
    shown = list(FORECAST_COLUMNS) + ["month_number", "p10_cost_usd", "p90_cost_usd"]
    headings = [layout.heading_text(c) for c in FORECAST_COLUMNS] + ["Month no."] + [
        layout.heading_text(f"p{q}_cost_usd") for q in band.values()]
    for column, heading in enumerate(headings, start=1):
        put(sheet, f"{get_column_letter(column)}{top - 1}", heading, "atlas_header")
    for r in range(first, last + 1):
        put(sheet, f"K{r}", r - top, "atlas_key", "0")  # the row's month, so no formula reads the spilled table
        for letter in band:
            sheet[f"{letter}{r}"].number_format = sheets.USD
    for letter, q in band.items():
        put(sheet, f"{letter}{top}", q, "atlas_key", "0")  # the band's percentiles, read by its formula
    # the whole band in one call (issue 21): a column of months (blank past FcMonths) × a row of
    # percentiles, one seeded Monte-Carlo a month, not one a cell
    sheet[f"L{first}"] = ArrayFormula(f"L{first}:M{last}", sheets.formula(
        "ATLAS_COST_RANGE", **sheets.inputs_for("ATLAS_COST_RANGE"), percentile=f"L{top}:M{top}",
        throughput_error="FcThroughputError", price_spread="FcPriceSpread", volume_spread="FcVolumeSpread",
        month=f'IF(K{first}:K{last}<=FcMonths,K{first}:K{last},"")', monthly_growth="FcGrowth",
        growth_spread="FcGrowthSpread", start="FcStart", price_change_per_year="FcPriceChange"))
    for column, key in enumerate(FORECAST_COLUMNS, start=1):
        letter = get_column_letter(column)
        sheet[f"{letter}{top}"].style = "atlas_key"  # the function's keys, small and grey, as on the Simulator
        fmt = fields.number_format(key)
        for r in range(first, last + 1):
            cell = sheet[f"{letter}{r}"]
            cell.number_format = "General" if fmt == fields.TEXT else fmt
            if key in ("month", "period"):  # centred, so month 1 and 2027-01 do not read as 12027-01
                cell.alignment = Alignment(horizontal="center")
    name(book, "ForecastTable", sheet, f"A{top}:J{last}")
    chart = LineChart()
    chart.title, chart.y_axis.title, chart.x_axis.title = "Monthly cost with the P10–P90 band", "USD per month", "month"
    cost = FORECAST_COLUMNS.index("monthly_cost_usd") + 1
    for column, label in ((cost, fields.label("monthly_cost_usd")), (12, fields.label("p10_cost_usd")),
                          (13, fields.label("p90_cost_usd"))):
        chart.series.append(Series(Reference(sheet, min_col=column, min_row=first, max_row=top + 36), title=label))
    chart.set_categories(Reference(sheet, min_col=11, min_row=first, max_row=top + 36))
    for series in chart.series[1:]:
        series.graphicalProperties = GraphicalProperties()
        series.graphicalProperties.line.dashStyle = "dash"
    chart.y_axis.number_format = sheets.USD
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.height, chart.width = 9, 15
    sheet.add_chart(chart, "I4")  # beside the inputs, clear of their comments (D:H)
    samples = {"month": "60", "period": "2027-01", "tokens_per_day": "2,000,000,000", "gpu_count": "1,000",
               "month_number": "60"}
    for column, (key, heading) in enumerate(zip(shown, headings), start=1):
        value = samples.get(key, "$10,000,000")
        sheet.column_dimensions[get_column_letter(column)].width = layout.fit_width([value], heading)
    for letter, least in (("A", 30), ("B", 16), ("C", 14), ("D", 12)):  # the inputs above the table: labels, values, units
        sheet.column_dimensions[letter].width = max(sheet.column_dimensions[letter].width, least)
    sheet.row_dimensions[top - 1].height = layout.LINE_POINTS * max(
        layout.wrapped_lines(h, sheet.column_dimensions[get_column_letter(c)].width / 1.1 - 1)
        for c, h in enumerate(headings, start=1))
    sheet.freeze_panes = f"B{first}"
    layout.print_setup(sheet, title_rows=(top - 1, top), area=f"A1:M{last}")


def sensitivity_template_sheet(book, sheet, name):
    """Fill the template's Sensitivity sheet: the tornado table and its chart."""
    sheet["A1"], sheet["A2"] = "Sensitivity", ("Monthly cost of the Inputs workload and offering at the low and the "
                                               "high end of each input, one at a time, largest swing first.")
    sheet["A1"].style, sheet["A2"].style = "atlas_title", "atlas_comment"
    sheet.sheet_view.showGridLines = False
    put(sheet, "A4", "Range of every input (±)", "atlas_label")
    put(sheet, "B4", finance.SENSITIVITY_SPREAD, "atlas_input", sheets.PCT)
    put(sheet, "D4", "one-at-a-time ± share around each base value (a convention, not a measurement)",
         "atlas_comment")
    name(book, "SensSpread", sheet, "B4")
    # A: the input's label (Fields sheet); B:I the ATLAS_SENSITIVITY table, its first row the function's keys
    # under a header of their labels; J the row number; K, L low − base and high − base for the tornado
    header, top = 6, 7
    last = top + SENSITIVITY_ROWS
    sheet[f"B{top}"] = ArrayFormula(
        f"B{top}:I{last}", sheets.formula("ATLAS_SENSITIVITY", **sheets.inputs_for("ATLAS_SENSITIVITY"),
                                          spread="SensSpread"))
    names = ["input_label"] + list(finance.SENSITIVITY_COLUMNS) + ["row", "low_delta_usd", "high_delta_usd"]
    headings = ["Input", "Key"] + [layout.heading_text(c) for c in finance.SENSITIVITY_COLUMNS[1:]] + [
        "Row", layout.heading_text("low_delta_usd"), layout.heading_text("high_delta_usd")]
    for column, heading in enumerate(headings, start=1):
        put(sheet, f"{get_column_letter(column)}{header}", heading, "atlas_header")
    for column, key in enumerate(finance.SENSITIVITY_COLUMNS, start=2):
        letter = get_column_letter(column)
        sheet[f"{letter}{top}"].style = "atlas_key"  # the function's keys, small and grey
        fmt = fields.number_format(key)
        for r in range(top + 1, last + 1):
            sheet[f"{letter}{r}"].number_format = "General" if fmt == fields.TEXT else fmt
    columns = [get_column_letter(finance.SENSITIVITY_COLUMNS.index(c) + 2) for c in IN_INPUT_UNITS]
    _formats_of_row_field(book, sheet, f"{columns[0]}{top + 1}:{columns[-1]}{last}", f"$B{top + 1}")
    for r in range(top + 1, last + 1):
        put(sheet, f"A{r}", f'=IF(B{r}="","",IFERROR(VLOOKUP(B{r},FieldsTable,3,FALSE),B{r}))', "atlas_label")
        put(sheet, f"J{r}", r - top, "atlas_key", "0")  # which row of the spilled table, read through its name
        for letter, column in (("K", 5), ("L", 6)):
            cost, base = f"INDEX(SensitivityTable,J{r}+1,{column})", f"INDEX(SensitivityTable,J{r}+1,8)"
            sheet[f"{letter}{r}"] = f'=IF(ISNUMBER({cost}),{cost}-{base},"")'
            sheet[f"{letter}{r}"].number_format = sheets.USD
    put(sheet, f"K{top}", fields.label("low_delta_usd"), "atlas_key")  # the tornado's series names
    put(sheet, f"L{top}", fields.label("high_delta_usd"), "atlas_key")
    name(book, "SensitivityTable", sheet, f"B{top}:I{last}")
    _tornado(sheet, top, last, "K", "A", anchor=f"A{last + 3}")
    samples = {"input_label": "Catalog throughput per GPU", "input": "gpu_tokens_per_s", "base": "2,000,000,000",
               "low": "1,800,000,000", "high": "2,200,000,000", "row": "12"}  # tokens per day, the widest input
    for column, (key, heading) in enumerate(zip(names, headings), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = layout.fit_width([samples.get(key, "-$1,000,000")],
                                                                                   heading)
    sheet.row_dimensions[header].height = layout.LINE_POINTS * max(
        layout.wrapped_lines(h, sheet.column_dimensions[get_column_letter(c)].width / 1.1 - 1)
        for c, h in enumerate(headings, start=1))


def _formats_of_row_field(book, sheet, ref, key_cell):
    """Conditional formats that show each cell of ``ref`` in the number format of the field its row names in
    ``key_cell`` (``$B8``, relative to the first row), looked up in FieldsTable: one rule per number format of
    the field table (the rows' order follows the inputs, so no format can be fixed when the sheet is built)."""
    column = layout.FIELD_COLUMNS.index("Number format") + 1
    for code in sorted({f.number_format for f in fields.FIELDS.values()} - {fields.TEXT}):
        literal = code.replace('"', '""')
        style = DifferentialStyle(numFmt=NumberFormat(numFmtId=_format_id(book, code), formatCode=code))
        sheet.conditional_formatting.add(ref, Rule(
            type="expression", dxf=style, stopIfTrue=True,
            formula=[f'IFERROR(VLOOKUP({key_cell},FieldsTable,{column},FALSE),"")="{literal}"']))


def _format_id(book, code):
    """The number-format id of ``code`` in ``book``: a built-in one's, else the id its cells get (a custom
    format's place in openpyxl's list of them after the built-ins), which is how Excel numbers a
    conditional format's number format."""
    if code in BUILTIN_FORMATS_REVERSE:
        return BUILTIN_FORMATS_REVERSE[code]
    return BUILTIN_FORMATS_MAX_SIZE + book._number_formats.add(code)  # openpyxl keeps no public index of them


def _tornado(sheet, top, last, delta_letter, label_letter, anchor=None):
    """Horizontal bars of (low − base) and (high − base) per input, overlapping: a tornado."""
    from openpyxl.utils import column_index_from_string
    col = column_index_from_string(delta_letter)
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "bar", "clustered", 100
    chart.title, chart.y_axis.title = "Tornado: change of the monthly cost", "USD per month against the base"
    chart.add_data(Reference(sheet, min_col=col, max_col=col + 1, min_row=top, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=column_index_from_string(label_letter), min_row=top + 1,
                                   max_row=last))
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.tickLblPos = "low"  # input names at the left edge, clear of bars that go below 0
    chart.x_axis.tickLblSkip = 1  # every input named: LibreOffice otherwise drops every other label
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.y_axis.number_format = sheets.USD
    chart.height, chart.width = max(9.0, 3 + 0.8 * (last - top)), 18  # 0.8 cm a bar: room for its label
    sheet.add_chart(chart, anchor or f"A{last + 3}")


# -- report sections (values) ------------------------------------------------------------------------
def _plan_args(scenario):
    """The plan() arguments the report's ranking used: latency requirement, precision, request shape."""
    return {"latency_ms": scenario.latency_ms, **scenario.serving_args()}


def forecast_settings(scenario):
    """The scenario's forecast settings, checked: one line for an unknown key."""
    given = dict(getattr(scenario, "forecast", None) or {})
    known = {"months", "monthly_growth", "start", "price_change_per_year", "commitment", "committed_gpus",
             "throughput_error", "price_spread", "volume_spread", "growth_spread", "compare_with", "spread"}
    unknown = set(given) - known
    if unknown:
        raise InputError(f"unknown forecast key '{sorted(unknown)[0]}' — known: {', '.join(sorted(known))}")
    return given


def _band(best, scenario, cat, settings, months):
    """(P10 list, P90 list, note) for each forecast month; no band with the reason when no
    throughput error is known."""
    kwargs = dict(monthly_growth=settings.get("monthly_growth", 0.0), start=settings.get("start"),
                  price_change_per_year=settings.get("price_change_per_year", 0.0),
                  price_spread=settings.get("price_spread", 0.0), volume_spread=settings.get("volume_spread", 0.0),
                  growth_spread=settings.get("growth_spread", 0.0), catalog=cat, **_plan_args(scenario))
    error = settings.get("throughput_error")
    if error is None and best.billing != "per_token":
        try:
            error = finance.default_throughput_error(scenario.model, best.gpu, cat)
        except InputError as reason:
            return None, None, f"No P10–P90 band: {reason}."
    low, high = [], []
    for month in range(1, months + 1):
        result = finance.cost_range(scenario.tokens_per_day, scenario.pattern, scenario.model, best.platform,
                                    best.gpu or None, month=month, throughput_error=error, percentiles=(10, 90),
                                    **kwargs)
        low.append(result.p10)
        high.append(result.p90)
    return low, high, (f"P10–P90: {settings.get('price_spread', 0.0):.0%} price spread, "
                       f"{settings.get('volume_spread', 0.0):.0%} volume spread, throughput error "
                       f"{error if error is not None else 0:.0%} (1-sigma, lognormal), 10,000 seeded draws.")


def forecast_report_sheet(sheet, scenario, ranking, cat, write_cell, header, title):
    """The report's Forecast sheet for the recommended offering (values)."""
    settings = forecast_settings(scenario)
    best = ranking.iloc[0]
    months = int(settings.get("months", 12))
    frame = finance.forecast(scenario.tokens_per_day, scenario.pattern, scenario.model, best.platform,
                             best.gpu or None, months=months, monthly_growth=settings.get("monthly_growth", 0.0),
                             start=settings.get("start"), price_change_per_year=settings.get("price_change_per_year", 0.0),
                             commitment=settings.get("commitment"), committed_gpus=settings.get("committed_gpus"),
                             catalog=cat, **_plan_args(scenario))
    where = f"{best.platform}{' on ' + best.gpu if best.gpu else ' (per-token)'}"
    title(sheet, f"Forecast: {where}", f"{months} months from {scenario.tokens_per_day:,.0f} tokens/day, growth "
                                       f"{settings.get('monthly_growth', 0.0):.1%} a month, price change "
                                       f"{settings.get('price_change_per_year', 0.0):.0%} a year"
                                       + (f", from {settings['start']}" if settings.get("start") else
                                          " (720-hour months)"))
    columns = [c for c in FORECAST_COLUMNS if c in frame.columns and (c != "period" or settings.get("start"))]
    low, high, note = _band(best, scenario, cat, settings, months)
    committed = bool(frame.attrs)
    records = frame[columns].to_dict("records")
    if low is not None:  # the band is of the on-demand cost: cost_range does not model commitments
        columns += ["p10_cost_usd", "p90_cost_usd"]
        for record, p10, p90 in zip(records, low, high):
            record.update(p10_cost_usd=p10, p90_cost_usd=p90)
    layout.table(sheet, 4, columns, records, plan=True)
    row = 6 + months
    notes = [note]
    if len(ranking) > 1:
        other = ranking.iloc[1]
        def option(row):  # a dict, so a name holding "/" stays one name
            return {"platform": row.platform, "gpu": row.gpu or None,
                    "label": f"{row.platform}/{row.gpu}" if row.gpu else row.platform}
        option_a = option(best)
        option_b = settings.get("compare_with") or option(other)
        even = finance.breakeven(scenario.pattern, scenario.model, option_a, option_b, catalog=cat,
                                 **_plan_args(scenario))  # the report's serving limits, as its ranking
        month = finance.breakeven_month(scenario.tokens_per_day, scenario.pattern, scenario.model, option_a, option_b,
                                        months=months, monthly_growth=settings.get("monthly_growth", 0.0),
                                        start=settings.get("start"), catalog=cat, **_plan_args(scenario))
        notes.append(f"Break-even against {option_b['label'] if isinstance(option_b, dict) else option_b}: " + (
            f"{layout.volume_text(even.tokens_per_day)} tokens/day ({even.tokens_per_day:,.0f}) — "
            f"{even.cheaper_below} is cheaper below, {even.cheaper_above} above"
            + ("" if even.exact else f" (the costs jump past each other at a GPU step, "
                                     f"{abs(even.gap_pct):,.1f} % apart there)") + "."
            if even.tokens_per_day else even.reason + "."))
        notes.append(f"In this forecast {month['cheaper_after']} becomes cheaper in month {month['month']}."
                     if month else "In this forecast the cheaper of the two does not change.")
    if frame.attrs:
        a = frame.attrs
        notes.append(f"Commitment {a['commitment']}: {a['committed_gpus']:.0f} GPUs at ${a['commitment_hourly_usd']:g}"
                     f"/GPU-h for {a['commitment_min_term_months']} months ({a['commitment_basis']}; "
                     f"{a['commitment_source']}, {a['commitment_as_of']}). Pays off: "
                     f"{'month ' + str(a['commitment_payoff_month']) if a['commitment_payoff_month'] else 'never'}; "
                     f"saves ${a['commitment_term_savings_usd']:,.0f} over its term; still owed after month {months}: "
                     f"${a['commitment_owed_after_forecast_usd']:,.0f}.")
    span = max(len(columns), 8)
    for text in notes:  # one wrapped paragraph across the table's width, so the page keeps its scale
        write_cell(sheet, row, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
        width = sum(sheet.column_dimensions[get_column_letter(c)].width or 8.43 for c in range(1, span + 1))
        sheet.row_dimensions[row].height = 15 * layout.wrapped_lines(text, width - 2) + 3
        row += 1
    chart = LineChart()
    chart.title = "Monthly cost" + (" with the P10–P90 band" if low is not None else "")
    chart.y_axis.title, chart.x_axis.title = "USD per month", "month"
    cost_col = columns.index("monthly_cost_usd") + 1
    chart.add_data(Reference(sheet, min_col=cost_col, min_row=4, max_row=4 + months), titles_from_data=True)
    if committed:
        chart.add_data(Reference(sheet, min_col=columns.index("on_demand_cost_usd") + 1, min_row=4,
                                 max_row=4 + months), titles_from_data=True)
    if low is not None:
        chart.add_data(Reference(sheet, min_col=columns.index("p10_cost_usd") + 1, max_col=len(columns), min_row=4,
                                 max_row=4 + months), titles_from_data=True)
        for series in chart.series[-2:]:
            series.graphicalProperties = GraphicalProperties()
            series.graphicalProperties.line.dashStyle = "dash"
    chart.set_categories(Reference(sheet, min_col=1, min_row=5, max_row=4 + months))
    chart.height, chart.width = 9, 18
    sheet.add_chart(chart, f"A{row + 1}")
    sheet.freeze_panes = "B5"
    layout.print_setup(sheet, title_rows=(4, 4), area=f"A1:{get_column_letter(span)}{row + 20}")
    return frame


def sensitivity_report_sheet(sheet, scenario, ranking, cat, write_cell, header, title):
    """The report's Sensitivity sheet (tornado table and chart) for the recommended offering."""
    settings = forecast_settings(scenario)
    best = ranking.iloc[0]
    spread = settings.get("spread", finance.SENSITIVITY_SPREAD)
    frame = finance.sensitivity(scenario.tokens_per_day, scenario.pattern, scenario.model, best.platform,
                                best.gpu or None, spread=spread, catalog=cat, **_plan_args(scenario))
    title(sheet, f"Sensitivity: {best.platform}{' on ' + best.gpu if best.gpu else ''}",
          f"Monthly cost with each input at ±{spread:.0%} of its base value, one at a time, largest swing first.")
    records = frame.to_dict("records")
    for record in records:
        record["input_key"], record["input"] = record["input"], fields.label(record["input"])  # as a reader names it
        record["low_delta_usd"] = record["cost_at_low_usd"] - record["base_cost_usd"]
        record["high_delta_usd"] = record["cost_at_high_usd"] - record["base_cost_usd"]
    names = list(finance.SENSITIVITY_COLUMNS) + ["low_delta_usd", "high_delta_usd"]
    in_units = {name: lambda record: fields.number_format(record["input_key"]) for name in IN_INPUT_UNITS}
    last = layout.table(sheet, 4, names, records, formats=in_units)
    _tornado(sheet, 4, last, get_column_letter(names.index("low_delta_usd") + 1), "A", anchor=f"A{last + 3}")
    layout.print_setup(sheet, title_rows=(4, 4), area=f"A1:{get_column_letter(len(names))}"
                                                     f"{last + 3 + math.ceil((3 + 0.8 * len(frame)) / 0.5)}")
    return frame
