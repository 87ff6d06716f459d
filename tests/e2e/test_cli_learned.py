"""`rilievo render` with learned weights installed: tiny random Depth Anything, MiDaS DPT, SD 1.5,
ControlNets and Real-ESRGAN in a models folder (or in a Hugging Face cache), picked up by the
composition root exactly as real downloads are."""

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
from tests.contract.test_depth_learned import tiny_depth_anything, tiny_dpt
from tests.contract.test_model_store import in_hub_cache
from tests.contract.test_paint_diffusion import build_tiny_models
from tests.subprocess_env import rilievo_env

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    tiny_depth_anything(root / "depth-anything-v2-small")
    tiny_dpt(root / "dpt-hybrid-midas")
    build_tiny_models(root)  # sd15/, controlnet-depth/, controlnet-canny/
    tiny_compact_esrgan(root / "realesr-general-x4v3" / "realesr-general-x4v3.pth")
    return root


def tiny_compact_esrgan(path: Path) -> Path:
    """A random realesr-general-x4v3 (SRVGGNetCompact) in the release file's layout."""
    import torch
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(0)
    path.parent.mkdir(parents=True)
    torch.save({"params": Compact(num_feat=8, num_conv=4, upscale=4).state_dict()}, path)
    return path


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()[::4, ::4]).save(path)
    return path


def rilievo(storage: Path, models: Path, *args: str | Path, expect: int = 0, **environment: str) -> dict:
    env = rilievo_env(storage, RILIEVO_MODELS=str(models), RILIEVO_DIFFUSION_STEPS="3", RILIEVO_DIFFUSION_SIZE="128",
                      **environment)
    command = [sys.executable, "-m", "rilievo.entrypoints.cli", "render", *map(str, args), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == expect, result.stderr
    return {**json.loads(result.stdout), "stderr": result.stderr}


def job_record(summary: dict) -> dict:
    return json.loads((Path(summary["output_dir"]) / "params.json").read_text())


def test_installed_weights_paint_with_stable_diffusion_and_the_record_names_them(tmp_path, models_dir, photo):
    summary = rilievo(tmp_path / "storage", models_dir, photo, "--mode", "painterly", "--style", "oil-impressionist",
                      "--seed", "7", "--layers", "3")
    assert summary["engines"]["depth"] == "depth-anything-v2-small"
    assert summary["engines"]["paint"] == "stable-diffusion"
    output = Path(summary["output_dir"])
    record = json.loads((output / "params.json").read_text())
    assert record["engines"] == summary["engines"] and record["params"]["depth_engine"] == "auto"
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


@pytest.mark.parametrize("engine, source", [("dpt-hybrid-midas", "Intel/dpt-hybrid-midas"), ("classical", None)])
def test_a_chosen_depth_engine_runs_instead_of_depth_anything_and_the_record_says_so(tmp_path, models_dir, photo,
                                                                                       engine, source):
    summary = rilievo(tmp_path / "storage", models_dir, photo, "--layers", "off", "--depth-engine", engine)
    assert summary["engines"]["depth"] == engine
    record = job_record(summary)
    assert record["params"]["depth_engine"] == engine and record["engines"]["depth"] == engine
    if source is None:
        assert record["models"] == {} and record["devices"] == {}
    else:
        [model] = record["models"][engine]
        assert model["source"] == source and model["installed_from"] == "models"
        assert model["weights"] == {"model.safetensors": sha256_of(models_dir / engine / "model.safetensors")}
        assert record["devices"] == {"depth": "cpu"}


def test_a_depth_engine_whose_weights_are_not_installed_is_refused_before_anything_is_stored(tmp_path, photo):
    storage = tmp_path / "storage"
    refused = rilievo(storage, tmp_path / "no-models", photo, "--depth-engine", "dpt-hybrid-midas", expect=2)
    assert refused["status"] == "refused"
    assert refused["stderr"] == ("rilievo: error: depth_engine 'dpt-hybrid-midas' cannot run: its weights are not "
                                 "installed (`rilievo models pull dpt-hybrid-midas` downloads them)\n")
    assert not (storage / "uploads").exists() or not any((storage / "uploads").iterdir())
    unknown = rilievo(storage, tmp_path / "no-models", photo, "--depth-engine", "midas-9000", expect=2)
    assert "depth_engine 'midas-9000' is unknown; the depth engines are auto, classical, " in unknown["error"]


def test_real_esrgan_weights_and_device_are_recorded(tmp_path, models_dir, photo):
    summary = rilievo(tmp_path / "storage", models_dir, photo, "--layers", "off", "--print", "2x3in")
    engine = "realesrgan:realesr-general-x4v3"
    assert summary["engines"]["upscale"] == engine
    record = job_record(summary)
    [model] = record["models"][engine]
    weights = models_dir / "realesr-general-x4v3" / "realesr-general-x4v3.pth"
    assert model["key"] == "realesr-general-x4v3" and model["source"].endswith("/realesr-general-x4v3.pth")
    assert model["weights"] == {"realesr-general-x4v3.pth": sha256_of(weights)}
    assert record["devices"] == {"depth": "cpu", "upscale": "cpu"}
    assert sorted(record["models"]) == ["depth-anything-v2-small", engine]


def test_a_depth_model_in_the_hugging_face_cache_is_used_where_it_is(tmp_path, photo):
    hub = tmp_path / "hf-home" / "hub"
    snapshot = hub / "models--depth-anything--Depth-Anything-V2-Small-hf" / "snapshots" / ("d" * 40)
    in_hub_cache(tiny_depth_anything(snapshot))
    before = sorted(hub.rglob("*"))
    summary = rilievo(tmp_path / "storage", tmp_path / "no-models", photo, "--layers", "off",
                      HF_HOME=str(tmp_path / "hf-home"), HF_HUB_CACHE=str(hub))
    assert summary["engines"]["depth"] == "depth-anything-v2-small"
    [model] = job_record(summary)["models"]["depth-anything-v2-small"]
    assert model["installed_from"] == "hub-cache"
    assert model["weights"] == {"model.safetensors": (snapshot / "model.safetensors").resolve().name}
    assert sorted(hub.rglob("*")) == before and not (tmp_path / "no-models" / "depth-anything-v2-small").exists()
