"""Submitting photo jobs, reading them back, and fetching their files and result."""

import io
import json
import zipfile

import pytest
from litestar.testing import TestClient
from PIL import Image

from rilievo.entrypoints.http.app import create_app
from tests.api.api_helpers import HEIGHT, WIDTH, assert_refused, make_web, submit, upload

BASE_SEED = 7


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One request for three variations, run to completion; the tests here only read it."""
    web = make_web(tmp_path_factory.mktemp("batch"))
    with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
        upload_id = upload(client)
        submitted = submit(client, upload_id, variations=3, params={"seed": BASE_SEED, "layers": 3})
        yield client, upload_id, submitted


@pytest.fixture(scope="module")
def first_job(batch):
    client, _, submitted = batch
    return client.get(f"/api/jobs/{submitted['jobs'][0]['job_id']}").json()


def test_three_variations_run_with_sequential_seeds_and_all_complete(batch):
    client, upload_id, submitted = batch
    assert [job["seed"] for job in submitted["jobs"]] == [BASE_SEED, BASE_SEED + 1, BASE_SEED + 2]
    for seed, job_id in zip(range(BASE_SEED, BASE_SEED + 3), (j["job_id"] for j in submitted["jobs"])):
        job = client.get(f"/api/jobs/{job_id}").json()
        assert (job["status"], job["params"]["seed"], job["batch_id"]) == ("completed", seed,
                                                                           submitted["batch_id"])
        assert job["upload_id"] == upload_id
        assert "composite_full.png" in job["outputs"]


def test_a_job_reports_its_state_engines_and_file_urls(first_job):
    job, url = first_job, f"/api/jobs/{first_job['job_id']}"
    assert {"job_id", "batch_id", "upload_id", "status", "stage", "progress", "created_at", "started_at",
            "finished_at", "params", "engines", "outputs", "files_present", "error", "result_url", "zip_url",
            "attempts"} <= set(job)
    assert "engine" not in job  # one name for the per-stage engines, as in the CLI's --json and the domain
    assert (job["progress"], job["stage"], job["error"], job["attempts"]) == (1.0, None, None, 1)
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    assert job["engines"]["depth"] == "classical" and "edges" in job["engines"]
    assert job["params"]["layers"] == 3 and job["params"]["mode"] == "photo"
    assert {"Layer_1_front.png", "Layer_2_mid.png", "Layer_3_back.png", "depth_map.png",
            "layer_manifest.json", "params.json", "layers.zip"} <= set(job["outputs"])
    assert all(link == f"{url}/files/{name}" for name, link in job["outputs"].items())
    assert job["result_url"] == f"{url}/result"
    assert job["zip_url"] == f"{url}/files/layers.zip"


def test_every_listed_file_downloads(batch, first_job):
    client, _, _ = batch
    for link in first_job["outputs"].values():
        response = client.get(link)
        assert response.status_code == 200, link
        assert int(response.headers["content-length"]) == len(response.content) > 0


def test_an_image_file_is_a_png_shown_inline_unless_a_download_is_asked_for(batch, first_job):
    client, _, _ = batch
    response = client.get(first_job["outputs"]["Layer_1_front.png"])
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("inline")
    layer = Image.open(io.BytesIO(response.content))
    assert (layer.size, layer.mode) == ((WIDTH, HEIGHT), "RGBA")
    download = client.get(first_job["outputs"]["Layer_1_front.png"] + "?download=1")
    assert download.headers["content-disposition"] == 'attachment; filename="Layer_1_front.png"'


def test_the_manifest_is_json_naming_the_layer_files(batch, first_job):
    client, _, _ = batch
    response = client.get(first_job["outputs"]["layer_manifest.json"])
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith("inline")
    files = [layer["file"] for layer in response.json()["layers"]]
    assert files == ["Layer_1_front.png", "Layer_2_mid.png", "Layer_3_back.png"]


def test_the_layer_zip_holds_the_layers_and_the_manifest(batch, first_job):
    client, _, _ = batch
    response = client.get(first_job["zip_url"])
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="layers.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        for name in ("Layer_1_front", "Layer_2_mid", "Layer_3_back"):
            assert {f"{name}.png", f"{name}_white.png", f"{name}_cut.svg"} <= names
        assert {"layer_manifest.json", "assembly_guide.png"} <= names
        manifest = json.loads(archive.read("layer_manifest.json"))
        front = Image.open(io.BytesIO(archive.read("Layer_1_front.png")))
    assert manifest["job_id"] == first_job["job_id"]
    assert front.size == (WIDTH, HEIGHT)


def test_the_result_is_the_full_composite(batch, first_job):
    client, _, _ = batch
    response = client.get(first_job["result_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == client.get(first_job["outputs"]["composite_full.png"]).content
    assert Image.open(io.BytesIO(response.content)).size == (WIDTH, HEIGHT)
    assert client.get(first_job["result_url"] + "?format=png").content == response.content


def test_a_result_format_the_job_did_not_produce_is_not_found_and_the_detail_lists_the_formats(
    batch, first_job
):
    client, _, _ = batch
    assert_refused(client.get(first_job["result_url"] + "?format=tif"), 404, "'tif'", "available: png")


@pytest.mark.parametrize("name", ["upload.json", "rilievo.sqlite3", "..%2Fparams.json", "nothing.png"])
def test_only_the_files_a_job_recorded_are_served(batch, first_job, name):
    client, _, _ = batch
    response = client.get(f"/api/jobs/{first_job['job_id']}/files/{name}")
    assert response.status_code == 404
    assert response.content.startswith(b"{")  # the error body, never a file's content


@pytest.mark.parametrize(
    "method, path",
    [("get", ""), ("get", "/result"), ("get", "/files/params.json"), ("delete", ""),
     ("post", "/cancel"), ("post", "/retry")],
)
def test_an_unknown_job_is_not_found(client, method, path):
    unknown = "0123456789abcdef"
    assert_refused(client.request(method.upper(), f"/api/jobs/{unknown}{path}"), 404, unknown)


def test_history_is_newest_first_and_paged(batch):
    client, _, submitted = batch
    newest_first = [job["job_id"] for job in reversed(submitted["jobs"])]
    page = client.get("/api/jobs?limit=2").json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    assert [job["job_id"] for job in page["jobs"]] == newest_first[:2]
    assert page["jobs"][0] == client.get(f"/api/jobs/{newest_first[0]}").json()
    rest = client.get("/api/jobs?limit=2&offset=2").json()
    assert [job["job_id"] for job in rest["jobs"]] == newest_first[2:]
    assert client.get("/api/jobs?offset=5").json()["jobs"] == []
    assert client.get("/api/jobs").json()["limit"] == 20


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=many", "offset=-1"])
def test_a_page_outside_the_limits_is_refused(client, query):
    response = client.get(f"/api/jobs?{query}")
    assert_refused(response, 400, query.split("=")[0])


def test_an_offset_past_any_database_integer_is_refused_not_a_server_error(client):
    response = client.get("/api/jobs", params={"offset": 3199569820714584768512})
    assert response.status_code == 400 and response.json()["error"] == "validation"
