"""The JSON API on real adapters in a temp dir; with the immediate queue, a job has run by the time
its POST returns."""

import pytest
from litestar.testing import TestClient

from rilievo.entrypoints.http.app import create_app
from tests.api.api_helpers import make_web


@pytest.fixture
def web(tmp_path):
    return make_web(tmp_path)


@pytest.fixture
def client(web, tmp_path):
    app = create_app(web, incoming=tmp_path / "storage" / "tmp")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client
