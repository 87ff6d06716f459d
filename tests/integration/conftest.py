"""What the tests with real processes share: a storage of their own, and the web process's side of it."""

from pathlib import Path

import pytest

from rilievo.entrypoints.bootstrap import web_side
from rilievo.entrypoints.settings import Settings


@pytest.fixture
def storage(tmp_path) -> Path:
    return tmp_path / "storage"


@pytest.fixture
def web(storage, tmp_path):
    """The web process's side: the use cases the app serves, enqueueing onto the SQLite queue."""
    return web_side(Settings(storage_dir=storage, models_dir=tmp_path / "no-models"))
