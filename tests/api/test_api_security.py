"""A local app stays local: other sites can't change anything through the user's browser, every
response tells the browser not to sniff, frame or leak, and no request body is read past its limit."""

import pytest

from tests.api.api_helpers import assert_refused, png_bytes, upload


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://other.example"},
])
def test_a_cross_site_upload_is_refused_and_stores_nothing(client, web, tmp_path, headers):
    response = client.post("/api/upload", files={"file": ("photo.png", png_bytes(), "image/png")}, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "cross_site_request"
    assert web.uploads.store.all() == []
    uploads = tmp_path / "storage" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_cross_site_delete_is_refused(client):
    response = client.delete("/api/presets/anything", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_the_app_s_own_page_and_scripts_without_a_browser_may_post(client):
    own = client.post("/api/upload", files={"file": ("photo.png", png_bytes(), "image/png")},
                      headers={"Origin": str(client.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 201, own.text
    assert upload(client)  # no Origin, no Sec-Fetch-Site: curl, scripts, the CLI's peers


def test_cross_site_reads_are_answered_but_never_shared(client):
    response = client.get("/api/jobs", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers  # no CORS: the other site can't read it


@pytest.mark.parametrize("path", ["/", "/api/jobs", "/schema/openapi.json", "/api/jobs/nope"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_serving_beyond_this_computer_is_said_out_loud():
    from rilievo.entrypoints.http.serve import exposure_warning

    assert exposure_warning("127.0.0.1") is None and exposure_warning("localhost") is None
    warning = exposure_warning("0.0.0.0")
    assert warning.startswith("Warning: listening on 0.0.0.0") and "--host 127.0.0.1" in warning


HUGE_JSON = b'{"upload_id": "' + b"x" * (2 * 1024 * 1024) + b'", "mode": "photo"}'


@pytest.mark.parametrize("method, path, files", [
    ("POST", "/api/jobs", None),
    ("POST", "/api/presets", None),
    ("PUT", "/api/presets/portrait", None),
    ("POST", "/api/presets/import", None),
    ("POST", "/api/presets/import", {"file": ("presets.json", HUGE_JSON, "application/json")}),
])
def test_a_json_body_over_1_mb_is_refused_before_it_is_read(client, web, method, path, files):
    if files:
        response = client.request(method, path, files=files)
    else:
        response = client.request(method, path, content=HUGE_JSON, headers={"content-type": "application/json"})
    assert_refused(response, 413, "the request body is larger than the limit of 1 MB")
    assert web.presets.all() == [] and web.jobs.page(limit=10, offset=0)[1] == 0


REBINDING = {"Host": "rebind.attacker.example:8000", "Origin": "http://rebind.attacker.example:8000"}


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/", None),
    ("GET", "/api/jobs", None),
    ("GET", "/static/app.js", None),
    ("GET", "/schema/openapi.json", None),
    ("GET", "/no/such/page", None),
    ("HEAD", "/api/jobs", None),
    ("PUT", "/api/presets/p1", {"params": {"seed": 7}}),
    ("DELETE", "/api/jobs/any", None),
])
def test_a_request_for_a_host_name_this_app_is_not_is_refused_on_every_path(client, web, method, path, body):
    """DNS rebinding: a page whose own name now points to 127.0.0.1 still names itself in Host."""
    response = client.request(method, path, json=body, headers=REBINDING)
    assert response.status_code == 421
    if method != "HEAD":
        assert response.json()["error"] == "unknown_host"
        assert "rebind.attacker.example" in response.json()["detail"]
    assert web.presets.all() == []


def test_an_upload_for_another_host_name_stores_nothing(client, tmp_path):
    response = client.post("/api/upload", files={"file": ("photo.png", png_bytes(), "image/png")}, headers=REBINDING)
    assert response.status_code == 421
    assert not (tmp_path / "storage" / "uploads").exists() or not any((tmp_path / "storage" / "uploads").iterdir())


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"])
def test_the_loopback_names_are_answered(client, host):
    assert client.get("/api/jobs", headers={"Host": host}).status_code == 200


def test_the_host_given_to_serve_is_answered_and_only_it(web):
    from rilievo.entrypoints.http.security import HostNames

    named = HostNames("192.168.1.20")
    assert named.allows("192.168.1.20:8000") and named.allows("localhost")
    assert not named.allows("192.168.1.21") and not named.allows("evil.example")
    everywhere = HostNames("0.0.0.0")  # any address typed as digits; names only this computer's own
    assert everywhere.allows("10.0.0.7:8000") and everywhere.allows("[fe80::1]:8000")
    assert not everywhere.allows("rebind.attacker.example")
