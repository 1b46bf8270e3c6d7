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


def project_imports(path):
    """(module imported, names taken from it) for every import of a repository module in ``path``, deferred
    imports inside functions included; ``from package import module`` counts as an import of that module."""
    here, package = module_name(path), path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
        graph[module_name(path)] = {m for m, _ in project_imports(path)
                                    if m.split(".")[0] == folder and m != module_name(path)}
    found = cycle(graph)
    assert not found, f"import circle in {folder}/: {' → '.join(found)} — move what they share into a lower module"


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def private_uses(path):
    """``module._name`` and ``from module import _name`` for repository modules other than ``path``'s own."""
    here = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {}  # local name → repository module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_module(alias.name):
                    aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = absolute(node, here, path.name == "__init__.py")
            for alias in node.names:
                if source and is_module(f"{source}.{alias.name}"):
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
    for source, names in project_imports(path):
        for name in names:
            if name.startswith("_") and not name.startswith("__") and source != here:
                yield f"from {source} import {name}"
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
            dotted = ast.unparse(node.value)
            if aliases.get(dotted, dotted if is_module(dotted) else None) not in (None, here):
                yield f"{dotted}.{node.attr}"


@pytest.mark.parametrize("folder", PACKAGES)  # not tests/: a test may patch a module's internals
def test_no_private_name_of_another_module(folder):
    paths = sources(folder) + ([ROOT / "build.py", ROOT / "atlas_xl_template.py"] if folder == "scripts" else [])
    used = [f"{path.relative_to(ROOT)}: {use}" for path in paths for use in private_uses(path)]
    assert not used, ("private names used across modules (make them public with a docstring, or move them): "
                      + "; ".join(used))
