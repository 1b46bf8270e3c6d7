"""Build atlas_xl's deliverables from the built-in catalogs into out/ (or --out DIR):

    atlas_xl_template.xlsm     the macro-enabled template workbook for Excel
    atlas_report_sample.xlsx   a planner report for a sample workload

    python build.py
    python build.py --out DIR

Build outputs in the output folder are replaced on every run (they are generated files).
"""
import argparse
import sys
import time
from pathlib import Path

from atlas_xl.errors import AtlasError
import workbook
from workbook import template


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="out", help="output folder (default: out)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    start = time.perf_counter()
    try:
        built = workbook.build_template(out / template.TEMPLATE_NAME)
        problems = workbook.recalc(built, in_place=True).problems  # cached values: viewers show numbers
        if problems:
            raise AtlasError(f"the template has formulas the engine cannot compute: {problems}")
        written = [built,
                   workbook.report(out / "atlas_report_sample.xlsx", overwrite=True)]  # the default scenario
    except (AtlasError, OSError) as error:
        print(f"build.py: error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"done in {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
