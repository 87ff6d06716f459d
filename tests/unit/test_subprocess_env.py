"""Tests that start rilievo processes never let them use a developer's real models or Hugging Face cache."""

import re
from pathlib import Path

from tests.subprocess_env import rilievo_env

TESTS = Path(__file__).resolve().parents[1]
STARTS_RILIEVO = re.compile(r'"rilievo\.entrypoints\.cli"|/ "rilievo"')


def test_the_helper_gives_its_own_storage_an_empty_models_folder_and_an_empty_hub_cache(tmp_path, monkeypatch):
    for variable, value in {"RILIEVO_MODELS": "/home/me/models", "HF_HOME": "/home/me/.cache/huggingface",
                            "HF_HUB_CACHE": "/home/me/.cache/huggingface/hub"}.items():
        monkeypatch.setenv(variable, value)
    env = rilievo_env(tmp_path / "storage")
    assert env["RILIEVO_STORAGE"] == str(tmp_path / "storage")
    for variable in ("RILIEVO_MODELS", "HF_HOME", "HF_HUB_CACHE"):
        assert Path(env[variable]).is_relative_to(tmp_path / "storage") and not Path(env[variable]).exists()


def test_a_test_may_name_its_own_models_folder(tmp_path):
    env = rilievo_env(tmp_path / "storage", RILIEVO_MODELS=str(tmp_path / "tiny-models"))
    assert env["RILIEVO_MODELS"] == str(tmp_path / "tiny-models")


def test_every_test_that_starts_rilievo_uses_the_helper():
    starting = [path for path in TESTS.rglob("test_*.py")
                if path.name != Path(__file__).name and STARTS_RILIEVO.search(path.read_text())]
    assert len(starting) >= 8  # serve, worker and the CLI
    by_hand = [path.name for path in starting
               if "rilievo_env(" not in path.read_text() or "**os.environ" in path.read_text()]
    assert by_hand == []
