"""What POST /api/jobs refuses, and that a refused request creates no job."""

import pytest

from tests.api.api_helpers import assert_refused, gray_png_bytes, submit, upload


@pytest.fixture
def upload_id(client):
    return upload(client)


def no_jobs(client) -> bool:
    return client.get("/api/jobs").json()["total"] == 0


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"params": {"feather": 11}}, ["feather", "0 to 10"]),
        ({"params": {"sharpen": -0.1}}, ["sharpen"]),
        ({"params": {"layers": 9}}, ["layers"]),
        ({"params": {"seed": "seven"}}, ["seed"]),
        ({"params": {"glow": 1}}, ["unknown parameter 'glow'"]),
        ({"variations": 4}, ["variations", "1 to 3"]),
        ({"variations": 0}, ["variations"]),
        ({"near": "grey"}, ["near"]),
        ({"mode": "sketch"}, ["mode"]),
        ({"mode": "painterly", "params": {"painterliness": 0.9}}, ["painterliness", "0.2 to 0.8"]),
        ({"mode": "painterly", "params": {"style": "cubist"}}, ["style"]),
        ({"params": {"print_size": "huge"}}, ["print_size", "A4"]),
        ({"params": {"print_size": "0x10in"}}, ["print_size", "greater than 0"]),
        ({"params": {"format": "gif"}}, ["format", "cmyk-tiff"]),
        ({"params": {"fit": "stretch"}}, ["fit", "crop, pad"]),
        ({"params": {"bleed": True}}, ["bleed needs a print size"]),
        ({"params": {"ink_limit": 90}}, ["ink_limit", "150"]),
        ({"params": {"edition": -1}}, ["edition"]),
    ],
)
def test_an_invalid_parameter_is_refused_and_no_job_is_created(client, upload_id, fields, words):
    response = client.post("/api/jobs", json={"upload_id": upload_id, "mode": "photo", **fields})
    assert_refused(response, 422, *words)
    assert response.json()["error"] == "invalid_parameter"
    assert no_jobs(client)


def test_a_painterly_job_is_painted_by_the_classical_engine(client, upload_id):
    body = {"upload_id": upload_id, "mode": "painterly",
            "params": {"style": "pastel-soft", "seed": 11, "brush_scale": 2}}
    (submitted,) = client.post("/api/jobs", json=body).json()["jobs"]
    job = client.get(f"/api/jobs/{submitted['job_id']}").json()
    assert job["status"] == "completed", job["error"]
    assert job["engines"]["paint"] == "classical-strokes" and job["params"]["style"] == "pastel-soft"
    record = client.get(job["outputs"]["params.json"]).json()
    assert {"paint", "post", "layers", "edition"} <= set(record["seeds"])


@pytest.mark.parametrize(
    "body, word",
    [
        ({"upload_id": "UPLOAD", "mode": "photo", "colour": "red"}, "colour"),
        ({"mode": "photo"}, "upload_id"),
        ({"upload_id": "UPLOAD"}, "mode"),
        ({"upload_id": "UPLOAD", "mode": "photo", "variations": "three"}, "variations"),
        ({"upload_id": "UPLOAD", "mode": "photo", "params": [1]}, "params"),
    ],
)
def test_a_body_with_unknown_missing_or_mistyped_fields_is_refused_naming_the_field(
    client, upload_id, body, word
):
    body = {key: upload_id if value == "UPLOAD" else value for key, value in body.items()}
    assert_refused(client.post("/api/jobs", json=body), 422, word)
    assert no_jobs(client)


@pytest.mark.parametrize("field", ["upload_id", "depth_upload_id"])
def test_a_job_for_an_unknown_upload_is_not_found(client, upload_id, field):
    body = {"upload_id": upload_id, "mode": "photo", field: "0123456789abcdef"}
    assert_refused(client.post("/api/jobs", json=body), 404, "0123456789abcdef")
    assert no_jobs(client)


def test_a_refused_request_leaves_the_remembered_parameters_alone(client, upload_id):
    submit(client, upload_id, params={"seed": 5, "feather": 4})
    refused = {"upload_id": upload_id, "mode": "photo", "params": {"seed": 6, "feather": 99}}
    assert client.post("/api/jobs", json=refused).status_code == 422
    remembered = client.get("/api/settings/last-used").json()["params"]
    assert (remembered["seed"], remembered["feather"]) == (5, 4)


def test_a_supplied_depth_map_is_used_with_the_top_level_near_convention(client, upload_id):
    depth_id = upload(client, gray_png_bytes(), name="depth.png")
    submitted = submit(client, upload_id, depth_upload_id=depth_id, near="black", params={"near": "white"})
    job = client.get(f"/api/jobs/{submitted['jobs'][0]['job_id']}").json()
    assert (job["status"], job["depth_upload_id"], job["engines"]["depth"]) == ("completed", depth_id,
                                                                               "supplied")
    assert job["params"]["near"] == "black"


def test_a_custom_print_size_is_accepted_and_recorded_in_its_normal_form(client, upload_id):
    job = submit(client, upload_id, params={"print_size": "30 X 40 CM", "format": "tiff16", "fit": "pad"})["jobs"][0]
    params = client.get(f"/api/jobs/{job['job_id']}").json()["params"]
    assert (params["print_size"], params["format"], params["fit"]) == ("30x40cm", "tiff16", "pad")
