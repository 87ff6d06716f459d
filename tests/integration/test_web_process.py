"""The web process wires the stores and the use cases it serves, and no engine: no torch, diffusers or
transformers, no painter, upscaler or learned depth adapter is imported in it, even with every learned
model installed."""

import json
import subprocess
import sys

import pytest

from rilievo.adapters.model_store import ModelStore
from tests.contract.test_model_store import fake_files
from tests.subprocess_env import rilievo_env

HEAVY_PACKAGES = ("torch", "diffusers", "transformers")
ENGINE_ADAPTERS = ("rilievo.adapters.paint_", "rilievo.adapters.upscale", "rilievo.adapters.depth_learned")

# Builds the app as `rilievo serve` does, then uploads a photo, submits a job and shows the page.
WEB_PROCESS = """
import io, json, sys
import numpy as np
from PIL import Image
from litestar.testing import TestClient
from rilievo.entrypoints.http.serve import web_app
from rilievo.entrypoints.settings import Settings

app = web_app(Settings.from_environment(), host="127.0.0.1")
photo = io.BytesIO()
Image.fromarray(np.full((48, 64, 3), 128, np.uint8)).save(photo, format="PNG")
with TestClient(app, base_url="http://127.0.0.1") as client:
    upload = client.post("/api/upload", files={"file": ("photo.png", photo.getvalue(), "image/png")})
    job = client.post("/api/jobs", json={"upload_id": upload.json()["upload_id"], "mode": "painterly"})
    page = client.get("/")
    assert (upload.status_code, job.status_code, page.status_code) == (201, 202, 200), (upload.text, job.text)
print(json.dumps(sorted(sys.modules)))
"""


def install_every_model(models) -> None:
    """Files that pass for every catalogue model's download: the engines chosen are the learned ones."""
    store = ModelStore(models)
    for spec in store.catalogue:
        fake_files(spec, store.folder(spec.key))


@pytest.mark.parametrize("models", ["none", "all"])
def test_the_web_process_imports_no_engine(tmp_path, models):
    storage = tmp_path / "storage"
    environment = rilievo_env(storage)
    if models == "all":
        install_every_model(tmp_path / "models")
        environment["RILIEVO_MODELS"] = str(tmp_path / "models")
    result = subprocess.run([sys.executable, "-c", WEB_PROCESS], env=environment, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert [name for name in loaded if name.split(".")[0] in HEAVY_PACKAGES] == []
    assert [name for name in loaded if name.startswith(ENGINE_ADAPTERS)] == []
