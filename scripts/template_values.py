"""Every formula value of the template recalculated on LibreOffice, saved or compared (issue 21).

    python scripts/template_values.py save before.json     # build the template, recalculate, save
    python scripts/template_values.py check before.json    # the same, and compare cell for cell

A layout change (one array formula instead of one formula per row) must leave every number in
place: the comparison is by 'Sheet!A1' address, values exactly equal (floats bit for bit).
"""
import json
import math
import sys
import tempfile
from pathlib import Path

from workbook import template
from workbook.recalculate import Recalculator


def template_values():
    """{'Sheet!A1': value} of every formula cell of a freshly built template, recalculated."""
    with tempfile.TemporaryDirectory() as folder:
        path = template.build_template(Path(folder) / template.TEMPLATE_NAME)
        with Recalculator() as engine:
            result = engine.recalc(path)
    return {a: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
            for a, v in result.values.items()}


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


def main(argv):
    if len(argv) != 2 or argv[0] not in ("save", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    values = template_values()
    if argv[0] == "save":
        Path(argv[1]).write_text(json.dumps(values, indent=0, sort_keys=True))
        print(f"saved {len(values)} formula values to {argv[1]}")
        return 0
    before = json.loads(Path(argv[1]).read_text())
    differ = [a for a in before if a in values and not same(before[a], values[a])]
    gone = [a for a in before if a not in values]
    new = [a for a in values if a not in before]
    for a in differ[:20]:
        print(f"differs {a}: {before[a]!r} → {values[a]!r}")
    print(f"{len(before)} values before, {len(values)} after: {len(differ)} differ, {len(gone)} no longer formulas "
          f"({', '.join(gone[:10])}), {len(new)} new formulas ({', '.join(new[:10])})")
    return 1 if differ or gone else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
