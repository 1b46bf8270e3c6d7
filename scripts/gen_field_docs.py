"""Write docs/fields.md from the field table (atlas_xl/fields.py).

    python scripts/gen_field_docs.py          # rewrite docs/fields.md
    python scripts/gen_field_docs.py --check  # exit 1 when the file is stale (tests run this)
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from atlas_xl import fields  # noqa: E402

OUT = ROOT / "docs" / "fields.md"


def main(argv):
    text = fields.markdown()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is stale — run python scripts/gen_field_docs.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
