"""What the form needs: the choices the domain accepts, and the last submitted parameters."""

import attrs
import pytest
from litestar.testing import TestClient

from rilievo.domain import params as domain
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.params import RenderParams
from rilievo.entrypoints.http.app import create_app
from tests.api.api_helpers import assert_refused, gray_png_bytes, make_web, submit, upload


@pytest.fixture
def options(client):
    return client.get("/api/options").json()


def test_the_choices_are_the_domain_s(options):
    assert options["modes"] == list(domain.MODES)
    assert options["styles"] == list(domain.STYLES)
    assert options["layers"] == ["auto", "off", 2, 3, 4, 5]
    assert options["near"] == ["white", "black"]
    assert options["dpis"] == [300, 600]
    assert options["print_sizes"] == ["original", "8x10", "11x14", "16x20", "18x24", "24x36", "A4", "A3", "A2"]
    assert options["formats"] == ["png16", "tiff", "tiff16", "cmyk-tiff"]
    assert (options["fits"], options["intents"]) == (["crop", "pad"], ["perceptual", "relative"])
    assert options["prompt_max_chars"] == domain.PROMPT_MAX_CHARS
    assert options["defaults"] == RenderParams().to_dict()


@pytest.fixture
def queue_only(tmp_path):
    """The API with a queue no worker reads: a submitted job is accepted and waits, and none runs
    (a 24x36 in print for each offered size would take minutes)."""
    web = make_web(tmp_path / "queue-only", immediate=False)
    with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
        yield client, web


def test_every_offered_choice_is_accepted_by_a_submit(queue_only, options):
    client, web = queue_only
    upload_id = upload(client)
    depth_id = upload(client, gray_png_bytes(), name="depth.png")
    submitted = 0
    for field, choices in [("mode", "modes"), ("style", "styles"), ("layers", "layers"), ("near", "near"),
                           ("dpi", "dpis"), ("print_size", "print_sizes"), ("format", "formats"),
                           ("fit", "fits"), ("intent", "intents")]:
        for choice in options[choices]:
            request = {"upload_id": upload_id, "mode": "photo", "params": {field: choice}}
            if field in ("mode", "near"):
                request = {**request, field: choice, "params": {}, "depth_upload_id": depth_id}
            response = client.post("/api/jobs", json=request)
            assert response.status_code == 202, (field, choice, response.text)
            (job,) = response.json()["jobs"]
            stored = client.get(f"/api/jobs/{job['job_id']}").json()
            assert stored["status"] == "pending" and stored["params"][field] == choice, (field, choice)
            submitted += 1
    assert web.jobs.page(limit=100)[1] == submitted


def test_each_numeric_range_is_exactly_what_the_parameters_accept(options):
    numeric = {field.name for field in attrs.fields(RenderParams)
               if isinstance(field.default, (int, float)) and not isinstance(field.default, bool)
               and field.name != "dpi"}
    assert set(options["numbers"]) == numeric
    for name, bounds in options["numbers"].items():
        step = 1 if bounds["integer"] else 1e-6
        assert bounds["default"] == getattr(RenderParams(), name)
        RenderParams(**{name: bounds["min"]})
        RenderParams(**{name: bounds["max"]})
        with pytest.raises(InvalidParameter):
            RenderParams(**{name: bounds["min"] - step})
        with pytest.raises(InvalidParameter):
            RenderParams(**{name: bounds["max"] + step})
    assert options["numbers"]["feather"] == {"min": 0, "max": 10, "default": 2, "integer": True}


def test_the_variations_range_is_what_a_submit_accepts(queue_only, options):
    client, web = queue_only
    variations = options["variations"]
    assert variations["default"] == 1
    upload_id = upload(client)
    for count in (variations["min"], variations["max"]):
        assert len(submit(client, upload_id, variations=count)["jobs"]) == count
    for count in (variations["min"] - 1, variations["max"] + 1):
        response = client.post("/api/jobs", json={"upload_id": upload_id, "mode": "photo", "variations": count})
        assert_refused(response, 422, "variations")
    assert web.jobs.page(limit=100)[1] == variations["min"] + variations["max"]


def test_the_last_used_parameters_start_as_the_defaults_then_follow_each_submit(client):
    assert client.get("/api/settings/last-used").json() == {"params": RenderParams().to_dict()}
    upload_id = upload(client)
    submit(client, upload_id, variations=2, params={"seed": 100, "layers": "off", "sharpen": 0.3})
    remembered = client.get("/api/settings/last-used").json()["params"]
    assert remembered == RenderParams(seed=100, layers="off", sharpen=0.3).to_dict()
