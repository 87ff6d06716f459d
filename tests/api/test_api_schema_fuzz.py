"""Schemathesis against the app's own OpenAPI schema: generated requests for every operation, bounded
for CI, with every check schemathesis has but one. No answer may be a server error; every status code,
content type, header and body must be the ones the schema declares (errors included: each operation
lists its refusals in the one error shape); invalid requests must be refused; OPTIONS and 405 answers
list the methods each path allows.

Left out: "positive data acceptance" (a request the schema allows must succeed). The schema can't say
which bytes are a photo, which of the render parameters' rules hold together, or that a preset's body
and path name agree, so a request can be schema-valid and still be refused with a 422, by design."""

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, assume, settings
from litestar.testing import TestClient
from schemathesis.checks import positive_data_acceptance

from rilievo.entrypoints.http.app import create_app
from rilievo.entrypoints.http.presets import ROUTE_NAMES
from tests.api.api_helpers import make_web, png_bytes

MAX_EXAMPLES = 100  # per operation

# schemathesis's ASGI client names the host "testserver": the app answers to it as to its own --host
APP = create_app(make_web(Path(tempfile.mkdtemp(prefix="rilievo-schemathesis-"))), host="testserver")
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_breaks_the_api_or_its_schema(case):
    # /api/presets/export and /import are operations of their own: as OpenAPI says, a concrete path wins
    # over a templated one, so a preset named so is another operation's request (and is refused as reserved)
    assume((case.path_parameters or {}).get("name") not in ROUTE_NAMES)
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


def test_a_real_session_answers_as_the_schema_says(tmp_path):
    """The generated requests above rarely name an upload, job or preset that exists; this walk does,
    so the successful answers are checked against the schema too."""
    answers = []
    with TestClient(create_app(make_web(tmp_path)), base_url="http://127.0.0.1") as client:
        def call(method: str, template: str, path_parameters: dict | None = None, **kwargs):
            response = client.request(method, template.format(**(path_parameters or {})), **kwargs)
            answers.append((schema[template][method].Case(path_parameters=path_parameters), response))
            return response

        upload_id = call("POST", "/api/upload", files={"file": ("photo.png", png_bytes(), "image/png")}
                         ).json()["upload_id"]
        submitted = call("POST", "/api/jobs", json={"upload_id": upload_id, "mode": "photo"}).json()
        job = {"job_id": submitted["jobs"][0]["job_id"]}
        preset = {"name": "soft"}
        call("GET", "/api/jobs")
        call("GET", "/api/jobs/{job_id}", job)
        call("GET", "/api/jobs/{job_id}/result", job)
        call("GET", "/api/jobs/{job_id}/files/{name}", {**job, "name": "layer_manifest.json"})
        call("POST", "/api/jobs/{job_id}/cancel", job)
        call("POST", "/api/jobs/{job_id}/retry", job)
        call("POST", "/api/presets", json={"name": "soft", "params": {"feather": 4}})
        call("GET", "/api/presets")
        call("GET", "/api/presets/{name}", preset)
        call("PUT", "/api/presets/{name}", preset, json={"params": {"feather": 6}})
        exported = call("GET", "/api/presets/export").json()
        call("DELETE", "/api/presets/{name}", preset)
        call("POST", "/api/presets/import", json=exported)
        call("GET", "/api/settings/last-used")
        call("GET", "/api/options")
        call("GET", "/api/health")
        call("DELETE", "/api/jobs/{job_id}", job)

    statuses = [response.status_code for _, response in answers]
    assert statuses == [201, 202, 200, 200, 200, 200, 409, 409, 201, 200, 200, 200, 200, 204, 200, 200,
                        200, 200, 204]
    for case, response in answers:  # status, content type, headers and body, as declared
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
