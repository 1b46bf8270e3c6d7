"""The README's two commands stay true: CI runs the README's test command verbatim."""
import importlib.util
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_opens_with_the_two_commands():
    setup, tests = readme_commands()
    assert setup.endswith("python build.py") and "pip install -c requirements.lock -e ." in setup
    assert tests.endswith("python -m pytest") and "-c requirements.lock -e '.[test]'" in tests


def _locked():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#", "-")):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version.split(";")[0].strip())
    return pins


def test_lock_pins_every_dependency_inside_the_projects_ranges():
    # a dependency added to pyproject.toml without renewing the lock (scripts/lock.sh) would install
    # unpinned on a fresh machine; a pin outside the range would be refused by pip
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    pins = _locked()
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock — run scripts/lock.sh"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()


def test_readme_examples_are_real_output():
    # every `$ atlas-xl …` example in README.md is what main() prints for it today (abridged blocks: the
    # lines they show); `python scripts/readme_examples.py` rewrites them after a change of numbers
    spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "scripts" / "readme_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(list(module.examples(text))) >= 6
    assert module.rendered(text) == text, "README examples differ from real runs — run scripts/readme_examples.py"
