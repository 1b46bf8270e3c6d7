"""The layers import one way (DESIGN.md): catalogs → atlas_xl → udfs → calc_addin → workbook → CLI/build.py;
inside each folder, no import circle (deferred imports included) and no module uses another's private name
(STYLE.md 14)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "atlas_xl": {"xlwings", "openpyxl", "udfs", "workbook", "atlas_xl_cli", "build"},
    "udfs": {"openpyxl", "workbook", "calc_addin", "atlas_xl_cli", "build"},
    "calc_addin": {"openpyxl", "workbook", "atlas_xl_cli", "build"},
    "workbook": {"atlas_xl_cli", "build"},
    "atlas_xl_cli": {"build"},
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


# -- inside a folder: no import circle, no private name of another module (STYLE.md 14) -------------------
PACKAGES = ("atlas_xl", "udfs", "calc_addin", "workbook", "atlas_xl_cli", "scripts")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name):
    """A module of this repository: ``name`` is a .py file or a package folder."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def absolute(node, here, package):
    """The module a ``from … import`` names, relative levels resolved."""
    if not node.level:
        return node.module
    base = (here if package else here.rpartition(".")[0]).split(".")
    base = base[:len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def project_imports(tree, here, package=False):
    """(module imported, names taken from it) for every import of a repository module in the syntax tree of
    module ``here``, deferred imports inside functions included; ``from package import module`` counts as an
    import of that module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_module(alias.name):
                    yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            source = absolute(node, here, package)
            if not source or not is_module(source):
                continue
            names = []
            for alias in node.names:
                if is_module(f"{source}.{alias.name}"):
                    yield f"{source}.{alias.name}", ()
                else:
                    names.append(alias.name)
            if names:
                yield source, tuple(names)


def parsed(path):
    """(syntax tree, module name, is a package's __init__) of a source file."""
    return ast.parse(path.read_text(encoding="utf-8")), module_name(path), path.name == "__init__.py"


def cycle(graph):
    """One import circle of ``graph`` (module → modules it imports) as a list of modules, or None."""
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return trail[trail.index(target):] + [target]
            if target not in state:
                found = visit(target, trail + [target])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def sources(folder):
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", PACKAGES)
def test_no_import_circle_inside_a_folder(folder):
    # a package's __init__ gathers its modules; a module importing its own package's __init__ back is a circle
    graph = {}
    for path in sources(folder):
        tree, here, package = parsed(path)
        graph[here] = {m for m, _ in project_imports(tree, here, package) if m.split(".")[0] == folder and m != here}
    found = cycle(graph)
    assert not found, f"import circle in {folder}/: {' → '.join(found)} — move what they share into a lower module"


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    deferred = ast.parse("def f():\n    from workbook.template import put\n")
    assert list(project_imports(deferred, "workbook.layout")) == [("workbook.template", ("put",))]


def private_uses(tree, here, package=False):
    """``module._name`` and ``from module import _name`` of repository modules other than ``here``."""
    aliases = {}  # local name → repository module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_module(alias.name):
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom):
            source = absolute(node, here, package)
            for alias in node.names:
                if source and is_module(f"{source}.{alias.name}"):
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
    for source, names in project_imports(tree, here, package):
        for name in names:
            if name.startswith("_") and not name.startswith("__") and source != here:
                yield f"from {source} import {name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            dotted = ast.unparse(node.value)
            first, _, rest = dotted.partition(".")
            module = aliases.get(first, "") + (f".{rest}" if rest else "")
            if first in aliases and is_module(module) and module != here:
                yield f"{dotted}.{node.attr}"


def test_the_private_name_finder_finds_them():
    source = ("from atlas_xl.planner import _helper, plan\nimport atlas_xl.simulator\nfrom atlas_xl import serving as s\n"
              "def f(self):\n    return atlas_xl.simulator._run(), s._fit, self._own, s.estimate\n")
    assert sorted(private_uses(ast.parse(source), "workbook.reports")) == [
        "atlas_xl.simulator._run", "from atlas_xl.planner import _helper", "s._fit"]
    assert list(private_uses(ast.parse("from .planner import _x"), "atlas_xl.finance")) == [
        "from atlas_xl.planner import _x"]  # relative imports resolved


@pytest.mark.parametrize("folder", PACKAGES)  # not tests/: a test may patch a module's internals
def test_no_private_name_of_another_module(folder):
    paths = sources(folder) + ([ROOT / "build.py", ROOT / "atlas_xl_template.py"] if folder == "scripts" else [])
    used = [f"{path.relative_to(ROOT)}: {use}" for path in paths for use in private_uses(*parsed(path))]
    assert not used, ("private names used across modules (make them public with a docstring, or move them): "
                      + "; ".join(used))
