"""`rilievo models list|pull` through run_models, on a temporary models folder and a fake downloader."""

import argparse
import json
import re
from pathlib import Path

import pytest

from rilievo.adapters.model_store import CATALOGUE, ModelsOffline, ModelStore
from rilievo.entrypoints.cli.models import add_models_commands, run_models
from rilievo.entrypoints.bootstrap import work_side
from rilievo.entrypoints.engines import engine_choice, learned_segmenter
from rilievo.entrypoints.settings import Settings
from tests.contract.test_model_store import FakeDownloader, fake_files, hub_snapshot
from tests.subprocess_env import rilievo_env


def parse(*argv):
    parser = argparse.ArgumentParser(prog="rilievo")
    add_models_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["models", *argv])


def settings_for(models_dir: Path, hub_cache: Path | None = None) -> Settings:
    return Settings(storage_dir=models_dir / "storage", models_dir=models_dir, hub_cache=hub_cache)


def install(store, *keys):
    for key in keys:
        fake_files(store.spec(key), store.folder(key))


def test_engines_fall_back_to_classical_with_no_models(tmp_path):
    assert engine_choice(ModelStore(tmp_path)) == {
        "depth": "classical", "paint": "classical-strokes", "upscale": "lanczos",
    }


def test_engines_use_the_installed_models(tmp_path):
    store = ModelStore(tmp_path)
    install(store, "dpt-hybrid-midas", "sd15", "controlnet-depth", "realesrgan-x4plus")
    assert engine_choice(store) == {
        "depth": "dpt-hybrid-midas", "paint": "classical-strokes", "upscale": "realesrgan-x4plus",
    }
    install(store, "depth-anything-v2-small", "controlnet-canny", "realesr-general-x4v3")
    assert engine_choice(store) == {
        "depth": "depth-anything-v2-small", "paint": "stable-diffusion", "upscale": "realesr-general-x4v3",
    }


def test_installed_weights_without_torch_fall_back_to_classical(tmp_path):
    store = ModelStore(tmp_path)
    install(store, *(spec.key for spec in CATALOGUE))
    assert engine_choice(store, has_package=lambda name: name != "torch") == {
        "depth": "classical", "paint": "classical-strokes", "upscale": "lanczos",
    }
    assert engine_choice(store, has_package=lambda name: name != "diffusers")["paint"] == "classical-strokes"


def test_no_learned_segmenter_without_its_weights(tmp_path):
    store = ModelStore(tmp_path)
    install(store, "depth-anything-v2-small")
    assert learned_segmenter(store) is None


def test_the_learned_segmenter_runs_when_its_weights_are_installed(tmp_path):
    store = ModelStore(tmp_path)
    install(store, "eomt-small-coco-panoptic")
    segmenter = learned_segmenter(store, device="cpu")
    assert segmenter.name == "eomt-small-coco-panoptic"
    assert segmenter.model_dir == tmp_path / "eomt-small-coco-panoptic"
    assert segmenter.device is None  # loads on first use: choosing reads only the models folder


def test_the_learned_segmenter_is_found_in_the_hugging_face_cache(tmp_path):
    snapshot = hub_snapshot(tmp_path / "hub", ModelStore(tmp_path).spec("eomt-small-coco-panoptic"))
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub")
    segmenter = learned_segmenter(store)
    assert segmenter.model_dir == snapshot and segmenter.name == "eomt-small-coco-panoptic"


@pytest.mark.parametrize("missing", ["torch", "transformers"])
def test_installed_segmentation_weights_without_torch_or_transformers_give_no_learned_segmenter(tmp_path, missing):
    store = ModelStore(tmp_path)
    install(store, "eomt-small-coco-panoptic")
    assert learned_segmenter(store, has_package=lambda name: name != missing) is None


def test_list_shows_the_segmentation_model_with_its_licence(tmp_path, capsys):
    install(ModelStore(tmp_path), "eomt-small-coco-panoptic")
    assert run_models(parse("list", "--json"), settings_for(tmp_path)) == 0
    model = next(model for model in json.loads(capsys.readouterr().out)["models"]
                 if model["key"] == "eomt-small-coco-panoptic")
    assert model["kind"] == "segmentation" and model["installed"] and model["licence"] == "MIT" and model["default"]
    assert run_models(parse("list"), settings_for(tmp_path)) == 0
    table = capsys.readouterr().out.splitlines()
    row = next(line for line in table if line.startswith("eomt-small-coco-panoptic"))
    assert re.fullmatch(r"eomt-small-coco-panoptic +segmentation +yes +.* MIT", row)
    assert row.index("yes") == table[0].index("INSTALLED")  # the longest kind still fits its column


def test_pull_installs_the_segmentation_model(tmp_path, capsys):
    store = ModelStore(tmp_path, downloader=FakeDownloader())
    assert run_models(parse("pull", "eomt-small-coco-panoptic"), settings_for(tmp_path), store=store) == 0
    assert store.installed() == ["eomt-small-coco-panoptic"]
    assert learned_segmenter(store) is not None


def test_list_json(tmp_path, capsys):
    install(ModelStore(tmp_path), "depth-anything-v2-small")
    assert run_models(parse("list", "--json"), settings_for(tmp_path)) == 0
    data = json.loads(capsys.readouterr().out)
    assert [model["key"] for model in data["models"]] == [spec.key for spec in CATALOGUE]
    installed = {model["key"]: model for model in data["models"] if model["installed"]}
    assert list(installed) == ["depth-anything-v2-small"]
    assert installed["depth-anything-v2-small"]["bytes"] > 0
    assert installed["depth-anything-v2-small"]["licence"] == "Apache-2.0"
    assert data["engines"]["depth"] == "depth-anything-v2-small"
    sd15 = next(model for model in data["models"] if model["key"] == "sd15")
    assert sd15["bytes"] == ModelStore(tmp_path).spec("sd15").download_bytes


def test_list_table(tmp_path, capsys):
    assert run_models(parse("list"), settings_for(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "depth-anything-v2-small" in out and "CreativeML OpenRAIL-M" in out
    assert "depth → classical" in out and "paint → classical-strokes" in out and "upscale → lanczos" in out


def test_list_shows_a_model_in_the_hugging_face_cache_as_installed_from_there(tmp_path, capsys):
    snapshot = hub_snapshot(tmp_path / "hub", ModelStore(tmp_path).spec("dpt-hybrid-midas"))
    assert run_models(parse("list", "--json"), settings_for(tmp_path / "models", tmp_path / "hub")) == 0
    data = json.loads(capsys.readouterr().out)
    midas = next(model for model in data["models"] if model["key"] == "dpt-hybrid-midas")
    assert midas["installed"] and midas["installed_from"] == "hub-cache" and midas["path"] == str(snapshot)
    assert data["hub_cache"] == str(tmp_path / "hub")
    assert data["engines"]["depth"] == "dpt-hybrid-midas"

    assert run_models(parse("list"), settings_for(tmp_path / "models", tmp_path / "hub")) == 0
    table = capsys.readouterr().out
    assert re.search(r"^dpt-hybrid-midas +depth +HF cache ", table, re.MULTILINE)
    assert f"dpt-hybrid-midas: {snapshot}" in table


def test_pull_of_a_model_in_the_hugging_face_cache_verifies_it_and_downloads_nothing(tmp_path, capsys):
    hub_snapshot(tmp_path / "hub", ModelStore(tmp_path).spec("controlnet-canny"))
    downloader = FakeDownloader()
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub", downloader=downloader)
    assert run_models(parse("pull", "controlnet-canny"), settings_for(tmp_path), store=store) == 0
    assert downloader.calls == []
    assert "verified; used where it is, nothing downloaded" in capsys.readouterr().err


def test_pull_defaults_to_the_recommended_set(tmp_path, capsys):
    downloader = FakeDownloader()
    store = ModelStore(tmp_path, downloader=downloader)
    assert run_models(parse("pull"), settings_for(tmp_path), store=store) == 1  # fake bytes fail the ESRGAN pin
    assert [key for key, _ in downloader.calls] == [
        "depth-anything-v2-small", "eomt-small-coco-panoptic", "sd15", "controlnet-depth", "controlnet-canny",
        "realesr-general-x4v3",
    ]
    assert store.installed() == ["depth-anything-v2-small", "eomt-small-coco-panoptic", "sd15", "controlnet-depth",
                                 "controlnet-canny"]
    err = capsys.readouterr().err
    assert "installed in" in err and "sha256" in err


def test_pull_named_models_shows_progress(tmp_path, capsys):
    store = ModelStore(tmp_path, downloader=FakeDownloader())
    assert run_models(parse("pull", "controlnet-canny"), settings_for(tmp_path), store=store) == 0
    err = capsys.readouterr().err
    assert "100%" in err and "controlnet-canny" in err
    assert store.installed() == ["controlnet-canny"]


def test_pull_offline_is_one_line_and_exit_2(tmp_path, capsys):
    offline = ModelsOffline("cannot reach huggingface.co to download sd15 (offline?): Name or service not known")
    store = ModelStore(tmp_path, downloader=FakeDownloader(fail_with=offline))
    assert run_models(parse("pull", "sd15"), settings_for(tmp_path), store=store) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("rilievo: error")]
    assert errors == [f"rilievo: error: {offline}"]
    assert list(tmp_path.iterdir()) == []


def test_pull_offline_through_the_real_downloader(tmp_path, capsys, monkeypatch):
    import urllib.error

    from rilievo.adapters import model_store

    def no_network(*args, **kwargs):
        raise urllib.error.URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(model_store.urllib.request, "urlopen", no_network)
    assert run_models(parse("pull", "realesrgan-x4plus"), settings_for(tmp_path)) == 2
    assert "cannot reach github.com" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_pull_of_an_unknown_model_is_refused_before_any_download(tmp_path, capsys):
    downloader = FakeDownloader()
    store = ModelStore(tmp_path, downloader=downloader)
    assert run_models(parse("pull", "sd15", "depth-anything-v2-large"), settings_for(tmp_path), store=store) == 2
    assert downloader.calls == []
    assert "unknown model 'depth-anything-v2-large'" in capsys.readouterr().err


def test_models_needs_a_subcommand():
    with pytest.raises(SystemExit):
        parse()


def test_models_list_through_the_installed_command_says_which_engines_run(tmp_path):
    import json as json_module
    import subprocess
    import sys

    env = rilievo_env(tmp_path / "storage", RILIEVO_MODELS=str(tmp_path / "models"))
    result = subprocess.run([sys.executable, "-m", "rilievo.entrypoints.cli", "models", "list", "--json"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    listing = json_module.loads(result.stdout)
    assert listing["hub_cache"] == env["HF_HUB_CACHE"] and not Path(env["HF_HUB_CACHE"]).exists()
    assert listing["engines"] == {"depth": "classical", "paint": "classical-strokes", "upscale": "lanczos"}


def test_the_worker_segments_with_the_learned_model_once_installed_and_records_its_weights(tmp_path):
    settings = settings_for(tmp_path)
    assert work_side(settings).runner.pipeline.segmenter.name == "classical-regions"
    install(ModelStore(tmp_path), "eomt-small-coco-panoptic")
    pipeline = work_side(settings).runner.pipeline
    assert pipeline.segmenter.name == "eomt-small-coco-panoptic"
    (weights,) = pipeline.models["eomt-small-coco-panoptic"]
    assert weights["key"] == "eomt-small-coco-panoptic" and weights["weights"]
