"""Choosing the depth engine over HTTP (no browser): /api/options offers the installed ones, a job names
one in params.depth_engine, and a choice whose weights are not installed is refused with a 422."""

import json
import shutil
from pathlib import Path

import pytest
from litestar.testing import TestClient

from rilievo.adapters.model_store import sha256_of
from rilievo.entrypoints.bootstrap import web_side
from rilievo.entrypoints.http.app import create_app
from rilievo.entrypoints.settings import Settings
from tests.api.api_helpers import assert_refused, submit, upload
from tests.contract.test_model_store import fake_files


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.contract.test_depth_learned import tiny_depth_anything, tiny_dpt

    root = tmp_path_factory.mktemp("models")
    tiny_depth_anything(root / "depth-anything-v2-small")
    tiny_dpt(root / "dpt-hybrid-midas")
    return root


@pytest.fixture
def learned_client(tmp_path, tiny_models):
    web = web_side(Settings(tmp_path / "storage", tiny_models, immediate_queue=True))
    with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
        yield client


def test_the_options_offer_auto_classical_and_each_installed_depth_model(learned_client, client):
    assert learned_client.get("/api/options").json()["depth_engines"] == [
        "auto", "classical", "depth-anything-v2-small", "dpt-hybrid-midas"]
    assert client.get("/api/options").json()["depth_engines"] == ["auto", "classical"]  # no weights


def test_a_job_can_choose_midas_while_depth_anything_is_installed(learned_client, tmp_path):
    batch = submit(learned_client, upload(learned_client), params={"depth_engine": "dpt-hybrid-midas"})
    job = learned_client.get(f"/api/jobs/{batch['jobs'][0]['job_id']}").json()
    assert job["status"] == "completed", job["error"]
    assert job["engines"]["depth"] == "dpt-hybrid-midas" and job["params"]["depth_engine"] == "dpt-hybrid-midas"
    record = json.loads(learned_client.get(job["outputs"]["params.json"]).text)
    assert record["params"]["depth_engine"] == "dpt-hybrid-midas"
    assert list(record["models"]) == ["dpt-hybrid-midas"] and record["devices"] == {"depth": "cpu"}

    default = submit(learned_client, upload(learned_client))
    assert learned_client.get(f"/api/jobs/{default['jobs'][0]['job_id']}").json()["engines"]["depth"] == \
        "depth-anything-v2-small"


@pytest.mark.parametrize("engine, words", [
    ("dpt-hybrid-midas", ["depth_engine 'dpt-hybrid-midas' cannot run", "not installed", "rilievo models pull"]),
    ("midas-9000", ["depth_engine 'midas-9000' is unknown", "auto, classical, depth-anything-v2-small"]),
    ("../models", ["depth_engine must be auto, classical or a depth model's key"]),
])
def test_a_depth_engine_that_cannot_run_is_refused_and_no_job_is_made(client, engine, words):
    response = client.post("/api/jobs", json={"upload_id": upload(client), "mode": "photo",
                                              "params": {"depth_engine": engine}})
    assert_refused(response, 422, *words)
    assert client.get("/api/jobs").json()["total"] == 0


def test_the_choice_is_checked_from_the_models_folder_alone(tmp_path):
    """The web process decides without loading weights: these files would not even load."""
    models = tmp_path / "models"
    web = web_side(Settings(tmp_path / "storage", models, immediate_queue=False))
    with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
        refused = client.post("/api/jobs", json={"upload_id": upload(client), "mode": "photo",
                                                 "params": {"depth_engine": "dpt-hybrid-midas"}})
        assert refused.status_code == 422
        fake_files(web.installed.depth_engines.store.spec("dpt-hybrid-midas"), models / "dpt-hybrid-midas")
        assert submit(client, upload(client), params={"depth_engine": "dpt-hybrid-midas"})["jobs"]


def test_the_page_offers_the_installed_depth_engines_and_keeps_the_last_choice(learned_client):
    submit(learned_client, upload(learned_client), params={"depth_engine": "classical"})
    page = learned_client.get("/").text
    for engine in ("auto", "classical", "depth-anything-v2-small", "dpt-hybrid-midas"):
        assert f'<option value="{engine}"' in page
    assert '<option value="classical" selected>' in page


def test_a_depth_model_pulled_while_the_app_runs_can_be_chosen_and_is_recorded(tmp_path, tiny_models):
    models = tmp_path / "models"
    shutil.copytree(tiny_models / "depth-anything-v2-small", models / "depth-anything-v2-small")
    with TestClient(create_app(web_side(Settings(tmp_path / "storage", models, immediate_queue=True))), base_url="http://127.0.0.1") as client:
        assert client.get("/api/options").json()["depth_engines"][2:] == ["depth-anything-v2-small"]
        shutil.copytree(tiny_models / "dpt-hybrid-midas", models / "dpt-hybrid-midas")
        assert client.get("/api/options").json()["depth_engines"][2:] == ["depth-anything-v2-small",
                                                                          "dpt-hybrid-midas"]
        batch = submit(client, upload(client), params={"depth_engine": "dpt-hybrid-midas"})
        job = client.get(f"/api/jobs/{batch['jobs'][0]['job_id']}").json()
        record = json.loads(client.get(job["outputs"]["params.json"]).text)
    assert record["engines"]["depth"] == "dpt-hybrid-midas"
    assert record["models"]["dpt-hybrid-midas"][0]["weights"]["model.safetensors"] == \
        sha256_of(models / "dpt-hybrid-midas" / "model.safetensors")
