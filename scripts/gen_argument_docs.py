"""Rewrite the generated tables of docs/limits.md from the argument registry (atlas_xl/arguments.py).

    python scripts/gen_argument_docs.py          # rewrite the tables
    python scripts/gen_argument_docs.py --check  # exit 1 when they are stale (tests run this)

Each table sits between ``<!-- begin NAME -->`` and ``<!-- end NAME -->`` lines; the prose around
them is written by hand.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from atlas_xl import arguments  # noqa: E402

OUT = ROOT / "docs" / "limits.md"
TABLES = {"limits": arguments.limits_table, "arguments": arguments.arguments_table}


def render(text):
    """``text`` with every generated table replaced by its current form."""
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- begin {name} -->\n).*?(<!-- end {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"docs/limits.md has no '<!-- begin {name} -->' … '<!-- end {name} -->' block")
        text = pattern.sub(lambda m: m.group(1) + make().rstrip("\n") + "\n" + m.group(2), text)
    return text


def main(argv):
    current = OUT.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in argv:
        if current != wanted:
            print("docs/limits.md is stale — run python scripts/gen_argument_docs.py")
            return 1
        return 0
    OUT.write_text(wanted, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
