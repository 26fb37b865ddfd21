"""The Python package is the product: every module imports, no import loop between its
modules, no test tooling inside it, and the SQL files it reads at run time ship with it."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import subprocess
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

import microseg

PACKAGE_DIR = Path(microseg.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _imported(module: str, path: Path) -> set[str]:
    """Names of modules `module` imports anywhere in its file (function bodies included)."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .y import z
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            # `from microseg import ml` imports the module microseg.ml.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (itself and the empty root left out)."""
    return {
        module: {
            name
            for name in _imported(module, path)
            if name in MODULES and name not in (module, "microseg")
        }
        for module, path in MODULES.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}  # visiting or done
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "visiting"
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "visiting":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.endswith("__main__")))
def test_every_module_imports(module: str) -> None:
    if module.startswith("microseg.orchestration."):  # each needs its extra (pyproject)
        pytest.importorskip(module.rpartition(".")[2])
    importlib.import_module(module)


def test_the_import_graph_has_no_loop() -> None:
    graph = import_graph()
    assert graph["microseg.cli"], "the graph finds the CLI's imports"
    assert "microseg.bench" in graph["microseg.cli"]
    cycle = _cycle(graph)
    assert cycle is None, "import loop: " + " -> ".join(cycle or [])


def test_the_loop_check_sees_a_loop() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_benchmark_does_not_import_the_cli() -> None:
    graph = import_graph()
    bench = [module for module in graph if module.startswith("microseg.bench")]
    assert bench
    assert not [module for module in bench if "microseg.cli" in graph[module]]


def test_no_test_tooling_in_the_package() -> None:
    tooling = ("pytest", "fakesnow", "support")
    found = {
        module: sorted(name for name in _imported(module, path) if name.split(".")[0] in tooling)
        for module, path in MODULES.items()
    }
    assert not {module: names for module, names in found.items() if names}


def test_sql_read_at_run_time_ships_with_the_package() -> None:
    from microseg.generate import _Sql

    stages = {
        name for name in vars(_Sql) if not name.startswith("_") and callable(vars(_Sql)[name])
    }
    sql = files("microseg.generate").joinpath("sql").iterdir()
    shipped = {entry.name.removesuffix(".sql") for entry in sql if entry.name.endswith(".sql")}
    assert stages == shipped
    assert files("microseg.bench").joinpath("baseline.sql").is_file()


LOCAL_ONLY = (".venv", "build", "target", "logs", "dbt_packages")


def test_nothing_local_or_generated_is_tracked() -> None:
    """No environment, build output, database or symlink is committed (a committed .venv
    symlink once replaced a clone's environment on checkout)."""
    root = PACKAGE_DIR.parent.parent
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "ls-files", "-s"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    wrong = [
        line.split("\t", 1)[1]
        for line in listing
        if line.startswith("120000 ")  # a symlink
        or line.split("\t", 1)[1].split("/")[0] in LOCAL_ONLY
        or line.endswith((".duckdb", ".duckdb.wal"))
    ]
    assert not wrong, f"remove from git (git rm --cached): {wrong}"


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


ROOT = PACKAGE_DIR.parents[1]


def _pins(name: str) -> dict[str, str]:
    pinned = {}
    for line in (ROOT / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, version = line.strip().split("==")
            pinned[_normalised(package)] = version
    return pinned


def test_every_installed_distribution_is_pinned_in_the_lock() -> None:
    """`make venv` installs requirements.lock and requirements-dev.lock: a dependency they
    pull in unpinned (one a pin needs but the locks lack) is installed anyway, at whatever
    version is newest. The dev lock adds to the runtime lock and never re-pins it."""
    if not (ROOT / "requirements.lock").exists():
        pytest.skip("no requirements.lock beside an installed package")
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert set(runtime) & set(dev) == set()
    pinned = {**runtime, **dev}
    installed = {
        _normalised(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }
    unpinned = {
        name: version
        for name, version in installed.items()
        if name not in ("microseg", "pip") and pinned.get(name) != version
    }
    assert unpinned == {}, "installed but not pinned (or pinned at another version)"


def test_make_demo_installs_only_what_it_runs() -> None:
    """requirements.lock (make demo) holds every runtime dependency and no dev tool."""
    if not (ROOT / "requirements.lock").exists():
        pytest.skip("no requirements.lock beside an installed package")
    runtime = _pins("requirements.lock")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = [re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0] for spec in project["dependencies"]]
    assert [name for name in named if _normalised(name) not in runtime] == []
    tools = ("pytest", "ruff", "mypy", "sqlfluff", "fakesnow", "dagster", "dbt-metricflow")
    assert [tool for tool in tools if tool in runtime] == []
