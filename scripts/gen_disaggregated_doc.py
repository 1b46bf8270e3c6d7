"""Write docs/disaggregated.md from atlas_xl.disaggregated (its back-test tables are generated, never typed).

    python scripts/gen_disaggregated_doc.py
"""
from pathlib import Path

from atlas_xl import disaggregated

DOC = Path(__file__).resolve().parents[1] / "docs" / "disaggregated.md"


def main():
    DOC.write_text(disaggregated.doc_text())
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
