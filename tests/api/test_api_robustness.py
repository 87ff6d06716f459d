"""Requests that used to crash the app with a bare 500: deep JSON, multipart parts without a file
name or with binary extras; what an unexpected error looks like now; HEAD; the request body deadline."""

import asyncio

import attrs
import httpx
import pytest
from litestar.testing import TestClient
from structlog.testing import capture_logs

from rilievo.application.presets import Presets
from rilievo.entrypoints.http.app import create_app
from tests.api.api_helpers import assert_refused, png_bytes, upload

JSON = {"content-type": "application/json"}


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [40, 500, 1000, 5000])
def test_json_nested_too_deep_is_refused_with_422_on_every_json_route(client, web, levels):
    upload_id = upload(client)
    job = client.post("/api/jobs", headers=JSON,
                      content=f'{{"upload_id": "{upload_id}", "mode": "photo", "params": {{"seed": {nested(levels)}}}}}')
    preset = client.put("/api/presets/p1", headers=JSON, content=f'{{"params": {{"seed": {nested(levels)}}}}}')
    imported = client.post("/api/presets/import", headers=JSON, content=f'{{"presets": {nested(levels)}}}')
    for response in (job, preset, imported):
        assert_refused(response, 422, "nests deeper than 32 levels")
    assert web.presets.all() == [] and web.jobs.page(limit=10, offset=0)[1] == 0


def test_a_photo_sent_as_a_plain_field_without_a_file_name_is_uploaded(client, web):
    """curl -F "file=<photo.png" (a `<` for the `@`) sends the bytes without a file name."""
    response = client.post("/api/upload", files={"file": (None, png_bytes())})
    assert response.status_code == 201, response.text
    assert web.uploads.store.original_path(response.json()["upload_id"]).read_bytes() == png_bytes()


def test_a_file_name_in_the_rfc_5987_form_is_kept(client, web):
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''caf%C3%A9.png\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png_bytes() + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/api/upload", content=body,
                           headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 201, response.text
    assert web.uploads.get(response.json()["upload_id"]).original_name == "café.png"


def test_extra_binary_fields_beside_the_photo_are_ignored(client):
    response = client.post("/api/upload", files={"note": (None, b"\xff\xfe\x00\x81"),
                                                 "file": ("photo.png", png_bytes(), "image/png")})
    assert response.status_code == 201, response.text


def test_a_presets_file_sent_without_a_file_name_or_beside_binary_fields_is_imported(client):
    document = b'{"presets": [{"name": "warm", "params": {"seed": 3}}]}'
    plain = client.post("/api/presets/import", files={"extra": (None, b"\xff\xd8\xff"), "file": (None, document)})
    assert plain.status_code == 200, plain.text
    assert plain.json() == {"imported": ["warm"]}


def test_a_binary_presets_file_is_refused_as_not_json(client):
    response = client.post("/api/presets/import", files={"file": (None, b"\xff\xd8\xff\xe0 a jpeg")})
    assert_refused(response, 422, "not valid JSON")


def test_a_malformed_multipart_body_is_a_bad_request(client):
    response = client.post("/api/upload", content=b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc",
                           headers={"content-type": "multipart/form-data; boundary=b"})
    assert_refused(response, 400, "malformed")


class BrokenPresets:
    def __getattr__(self, name):
        raise RuntimeError("the presets table is damaged")


def test_an_unexpected_error_is_logged_with_its_traceback_and_answered_in_the_error_shape(web, tmp_path):
    app = create_app(attrs.evolve(web, presets=Presets(BrokenPresets())))
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client, \
            capture_logs() as logs:
        response = client.get("/api/presets")
    assert_refused(response, 500, "request id")
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "error": "internal_error",
        "detail": f"an unexpected error stopped this request; the server log has the details under request id "
                  f"{request_id}"}
    (logged,) = [entry for entry in logs if entry["event"] == "http.unexpected_error"]
    assert logged["request_id"] == request_id and logged["path"] == "/api/presets"
    assert logged["log_level"] == "error" and "the presets table is damaged" in repr(logged["exc_info"])


def test_every_response_carries_its_own_request_id(client):
    first, second = client.get("/api/health"), client.get("/no/such/page")
    assert len(first.headers["x-request-id"]) == 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/", "/api/jobs", "/api/options", "/api/presets/export", "/static/app.js",
                                  "/schema/openapi.json"])
def test_head_answers_as_get_without_a_body(client, path):
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_head_on_a_path_that_takes_only_posts_is_405(client):
    assert client.head("/api/upload").status_code == 405


async def post_slowly(app, pauses: list[float]) -> httpx.Response:
    async def trickle():
        yield b'{"params": '
        for pause in pauses:
            await asyncio.sleep(pause)
            yield b" "
        yield b'{"seed": 1}}'

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        return await http.put("/api/presets/slow", content=trickle(), headers=JSON)


def test_a_body_that_trickles_past_the_deadline_is_refused_with_408(web):
    app = create_app(web, body_timeout_s=1.0, body_idle_timeout_s=0.5)
    response = asyncio.run(post_slowly(app, [0.2] * 8))
    assert_refused(response, 408, "within 1 s")
    assert web.presets.all() == []


def test_a_body_that_stalls_is_refused_with_408(web):
    app = create_app(web, body_timeout_s=10.0, body_idle_timeout_s=0.3)
    response = asyncio.run(post_slowly(app, [0.6]))
    assert_refused(response, 408, "stalled")


def test_a_body_that_keeps_coming_in_time_is_accepted(web):
    app = create_app(web, body_timeout_s=2.0, body_idle_timeout_s=0.5)
    response = asyncio.run(post_slowly(app, [0.1] * 3))
    assert response.status_code == 200, response.text
