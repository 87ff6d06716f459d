"""The dependency rule: domain and application load no framework; the layers import from this repository,
keep the import contracts, type-check, and import each other without cycles."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "application", "adapters", "entrypoints", "migrations")
# The layers whose modules import each other without a cycle; a layer joins once its cycles are gone.
ACYCLIC_LAYERS = ["domain", "application", "adapters", "entrypoints"]
HEAVY = ["torch", "diffusers", "transformers", "cv2", "PIL", "sqlalchemy", "alembic", "litestar", "huey"]


@pytest.mark.parametrize("package", ["rilievo.domain", "rilievo.application"])
def test_the_inner_layers_load_no_framework(package):
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"root = importlib.import_module({package!r})\n"
        "for module in pkgutil.iter_modules(root.__path__):\n"
        f"    importlib.import_module({package!r} + '.' + module.name)\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)))
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_the_domain_loads_no_logging_library_either():
    code = "import rilievo.domain.layers, rilievo.domain.job, sys; print('structlog' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"


@pytest.mark.parametrize("layer", ["domain", "application", "adapters", "entrypoints", "migrations"])
def test_each_layer_is_imported_from_this_repository(layer):
    """Installed as rilievo.*, so an unrelated PyPI package named "adapters" cannot shadow ours."""
    module = __import__(f"rilievo.{layer}", fromlist=["_"])
    assert Path(module.__file__).resolve().parent == REPOSITORY / layer


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPOSITORY, capture_output=True, text=True, timeout=300)


def test_the_layers_keep_the_import_contracts():
    """lint-imports checks [tool.importlinter] in pyproject.toml (imports inside functions count)."""
    lint_imports = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    result = _run("-c", lint_imports, "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_typed_layers_pass_mypy():
    """mypy checks the packages listed in [tool.mypy] in pyproject.toml."""
    result = _run("-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def import_graph(repository: Path, layers=LAYERS) -> dict[str, set[str]]:
    """rilievo.<layer>.<module> -> the project's modules it imports, wherever the import stands (in a
    function, under `if TYPE_CHECKING:`), read with ast without importing anything."""
    paths = {}
    for layer in layers:
        for path in sorted((repository / layer).rglob("*.py")):
            parts = path.relative_to(repository).with_suffix("").parts
            paths[".".join(("rilievo", *parts)).removesuffix(".__init__")] = path
    return {module: _imports(module, path, paths) for module, path in paths.items()}


def _imports(module: str, path: Path, modules) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:  # the longest part of the dotted name that is one of our modules
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
                break
    found.discard(module)
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (sorted)."""
    return sorted(sorted(group) for group in _strongly_connected(graph) if len(group) > 1)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = {stack.pop()}
            while node not in group:
                group.add(stack.pop())
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def layer_graph(layer: str) -> dict[str, set[str]]:
    """The imports between the modules of one layer."""
    prefix = f"rilievo.{layer}."
    return {module: {target for target in targets if target.startswith(prefix)}
            for module, targets in import_graph(REPOSITORY, [layer]).items()}


@pytest.mark.parametrize("layer", ACYCLIC_LAYERS)
def test_the_modules_of_a_layer_import_each_other_without_cycles(layer):
    graph = layer_graph(layer)
    cycles = import_cycles(graph)
    assert cycles == [], "\n".join(
        f"{module} imports {sorted(graph[module] & set(cycle))}" for cycle in cycles for module in cycle)


def test_the_cycle_check_sees_imports_in_functions_and_under_type_checking(tmp_path):
    package = tmp_path / "domain"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from .b import g\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rilievo.domain import c\n")
    (package / "c.py").write_text("import rilievo.domain.a\nimport numpy\n")
    (package / "d.py").write_text("from . import a\n")
    graph = import_graph(tmp_path, ["domain"])
    assert graph["rilievo.domain.d"] == {"rilievo.domain.a"}
    assert import_cycles(graph) == [["rilievo.domain.a", "rilievo.domain.b", "rilievo.domain.c"]]
