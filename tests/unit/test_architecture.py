"""The dependency rule: domain and application load no framework; the layers import from this repository."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
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


def entrypoints_imports() -> dict[str, set[str]]:
    """Each module of entrypoints and the modules of entrypoints it imports anywhere: at the top, inside a
    function or under TYPE_CHECKING (a package counts as its __init__)."""
    root = REPOSITORY / "entrypoints"
    graph = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        package = ("entrypoints", *parts[:-1])
        name = ".".join(package if parts[-1] == "__init__" else (*package, parts[-1]))
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                elif node.module and node.module.startswith("rilievo.entrypoints"):
                    base = ("entrypoints",)
                    node = ast.ImportFrom(module=node.module.removeprefix("rilievo.entrypoints").lstrip("."),
                                          names=node.names, level=1)
                else:
                    continue
                module = (*base, *node.module.split(".")) if node.module else base
                targets.add(".".join(module))
                targets.update(".".join((*module, alias.name)) for alias in node.names)
            elif isinstance(node, ast.Import):
                targets.update(alias.name.removeprefix("rilievo.") for alias in node.names
                               if alias.name.startswith("rilievo.entrypoints"))
        graph[name] = targets
    return {name: {target for target in targets if target in graph and target != name}
            for name, targets in graph.items()}


def test_no_module_of_entrypoints_imports_one_that_imports_it_back():
    graph = entrypoints_imports()
    assert "entrypoints.bootstrap" in graph["entrypoints.worker"]  # the graph sees relative imports

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        seen = set()
        while stack:
            name, path = stack.pop()
            for target in graph[name]:
                if target == start:
                    return [*path, start]
                if target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
        return None

    cycles = [cycle for name in sorted(graph) if (cycle := cycle_from(name))]
    assert cycles == []
