"""The dependency rule: domain and application load no framework; the layers import from this repository."""

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
