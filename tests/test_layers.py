"""The layers import one way (DESIGN.md): catalogs → atlas_xl → udfs → calc_addin → workbook → CLI/build.py."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "atlas_xl": {"xlwings", "openpyxl", "udfs", "workbook", "atlas_xl_cli", "build"},
    "udfs": {"openpyxl", "workbook", "calc_addin", "atlas_xl_cli", "build"},
    "calc_addin": {"openpyxl", "workbook", "atlas_xl_cli", "build"},
    "workbook": {"atlas_xl_cli", "build"},
}


def imported(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_one_way(layer):
    for path in (ROOT / layer).rglob("*.py"):
        bad = set(imported(path)) & FORBIDDEN[layer]
        assert not bad, f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}"
