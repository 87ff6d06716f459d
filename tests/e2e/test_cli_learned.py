"""`rilievo render` with learned weights installed: tiny random Depth Anything, SD 1.5 and ControlNets
in a models folder, picked up by the composition root exactly as real downloads are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from rilievo.adapters.image_io import read_png
from rilievo.adapters.model_store import sha256_of
from tests.contract.test_depth_learned import tiny_depth_anything
from tests.contract.test_paint_diffusion import build_tiny_models
from tests.subprocess_env import rilievo_env

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    tiny_depth_anything(root / "depth-anything-v2-small")
    build_tiny_models(root)  # sd15/, controlnet-depth/, controlnet-canny/
    return root


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()[::4, ::4]).save(path)
    return path


def rilievo(storage: Path, models: Path, *args: str | Path) -> dict:
    env = rilievo_env(storage, RILIEVO_MODELS=str(models), RILIEVO_DIFFUSION_STEPS="3", RILIEVO_DIFFUSION_SIZE="128")
    command = [sys.executable, "-m", "rilievo.entrypoints.cli", "render", *map(str, args), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_installed_weights_paint_with_stable_diffusion_and_the_record_names_them(tmp_path, models_dir, photo):
    summary = rilievo(tmp_path / "storage", models_dir, photo, "--mode", "painterly", "--style", "oil-impressionist",
                      "--seed", "7", "--layers", "3")
    assert summary["engines"]["depth"] == "depth-anything-v2-small"
    assert summary["engines"]["paint"] == "stable-diffusion"
    output = Path(summary["output_dir"])
    record = json.loads((output / "params.json").read_text())
    assert record["engines"] == summary["engines"]
    assert record["devices"] == {"depth": "cpu", "paint": "cpu"}
    painted_with = record["models"]["stable-diffusion"]
    assert [model["key"] for model in painted_with] == ["sd15", "controlnet-depth", "controlnet-canny"]
    assert painted_with[0]["source"] == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    unet = models_dir / "sd15" / "unet" / "diffusion_pytorch_model.safetensors"
    assert painted_with[0]["weights"]["unet/diffusion_pytorch_model.safetensors"] == sha256_of(unet)
    depth_model = record["models"]["depth-anything-v2-small"][0]
    assert depth_model["source"] == "depth-anything/Depth-Anything-V2-Small-hf" and depth_model["weights"]
    assert len(record["seeds"]["layers"]) == 3

    again = rilievo(tmp_path / "storage", models_dir, "--replay", summary["job_id"])
    assert np.array_equal(read_png(Path(again["output_dir"]) / "composite_full.png"),
                          read_png(output / "composite_full.png"))


def test_photo_mode_records_only_the_models_it_used(tmp_path, models_dir, photo):
    summary = rilievo(tmp_path / "storage", models_dir, photo, "--layers", "off")
    record = json.loads((Path(summary["output_dir"]) / "params.json").read_text())
    assert "paint" not in record["engines"]
    assert list(record["models"]) == ["depth-anything-v2-small"] and record["devices"] == {"depth": "cpu"}
