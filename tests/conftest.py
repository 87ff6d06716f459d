import pytest


@pytest.fixture(scope="session")
def empty_hf_home(tmp_path_factory):
    return tmp_path_factory.mktemp("no-hf-home")


@pytest.fixture(autouse=True)
def no_real_hugging_face_cache(empty_hf_home, monkeypatch):
    """In-process code that reads the environment (Settings.from_environment) sees an empty Hugging Face
    cache, never the developer's; the processes a test starts get theirs from tests/subprocess_env.py."""
    monkeypatch.setenv("HF_HOME", str(empty_hf_home))
    monkeypatch.setenv("HF_HUB_CACHE", str(empty_hf_home / "hub"))
