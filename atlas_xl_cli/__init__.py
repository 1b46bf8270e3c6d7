"""The ``atlas-xl`` command: parse → one library call → format (the top layer, DESIGN.md).

It may use the model (atlas_xl) and the workbook layer (workbook). One module per command group, each
command's options stacked over its handler (``options`` defines the shared ones once):

    planning     plan, estimate, backtest, rank
    simulation   simulate, schedule, optimize
    workbooks    optimize-workbook, report, recalc, doctor
    catalogs     catalog, prices
    finance      forecast, breakeven, cost-range, sensitivity, commit, pattern, sweep
    parser       the parser built from them, and main()
"""
from atlas_xl_cli.options import parse_rate, parse_volume, parse_volumes
from atlas_xl_cli.output import jsonable
from atlas_xl_cli.parser import build_parser, main, terminate

__all__ = ["build_parser", "jsonable", "main", "parse_rate", "parse_volume", "parse_volumes", "terminate"]
