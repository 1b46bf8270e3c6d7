"""Everything that reads or writes workbooks: reports, the template, headless recalculation.

    workbook.report(path, scenario)          a report workbook of values
    workbook.recalc(path, overrides, output) recalculate a workbook with ATLAS_* formulas (LibreOffice)
    workbook.Recalculator()                  the same, one warm LibreOffice for many workbooks
    workbook.build_template(path)            the macro-enabled template
    workbook.optimize_workbook(path, output) the template's Optimize button, headless
"""
from workbook.optimizer_button import optimize_workbook
from workbook.recalculate import Recalculator, recalc
from workbook.reports import report
from workbook.template import build_template

__all__ = ["Recalculator", "build_template", "optimize_workbook", "recalc", "report"]
