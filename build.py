"""Build atlas_xl's deliverables from the built-in catalogs into out/ (or --out DIR):

    atlas_xl_template.xlsm     the macro-enabled template workbook for Excel, recalculated on
                               LibreOffice so that every viewer shows numbers (cached values)
    atlas_xl.oxt               the ATLAS_* add-in for LibreOffice Calc (Tools > Extension Manager)
    atlas_report_sample.xlsx   a planner report for a sample workload

    python build.py
    python build.py --out DIR

Without LibreOffice (apt-get install libreoffice-calc-nogui python3-uno) the template is written
without cached values and the build says so. Build outputs in the output folder are replaced on
every run (they are generated files).
"""
import argparse
import sys
import time
from pathlib import Path

import calc_addin
import workbook
from atlas_xl.errors import AtlasError
from workbook import template
from workbook.recalculate import OfficeError, find_office


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="out", help="output folder (default: out)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    start = time.perf_counter()
    notes = []
    try:
        built = workbook.build_template(out / template.TEMPLATE_NAME)
        try:
            find_office()
        except OfficeError as missing:
            notes.append(f"note: {built.name} has no cached values ({missing})")
        else:
            result = workbook.recalc(built, in_place=True)  # cached values: viewers show numbers
            if result.errors or result.problems:
                shown = "; ".join(str(e) for e in result.errors[:5])
                raise AtlasError(f"the template has {len(result.errors)} formulas that evaluate to errors: {shown}")
        written = [built,
                   calc_addin.build_oxt(out / "atlas_xl.oxt"),
                   workbook.report(out / "atlas_report_sample.xlsx", overwrite=True)]  # the default scenario
    except (AtlasError, OSError) as error:
        print(f"build.py: error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    for note in notes:
        print(note)
    print(f"done in {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
