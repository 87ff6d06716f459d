"""The OpenAPI document describes every /api route and its response models."""

import re
import warnings

import pytest
from litestar.testing import TestClient

from rilievo.entrypoints.http.app import create_app
from tests.api.api_helpers import make_web

RESPONSE_MODELS = [
    ("get", "/api/health", "200", "Health"),
    ("post", "/api/upload", "201", "UploadInfo"),
    ("post", "/api/jobs", "202", "SubmittedBatch"),
    ("get", "/api/jobs", "200", "JobPage"),
    ("get", "/api/jobs/{job_id}", "200", "JobView"),
    ("post", "/api/jobs/{job_id}/cancel", "200", "JobView"),
    ("post", "/api/jobs/{job_id}/retry", "202", "JobView"),
    ("get", "/api/presets", "200", "PresetList"),
    ("post", "/api/presets", "201", "PresetView"),
    ("get", "/api/presets/{name}", "200", "PresetView"),
    ("put", "/api/presets/{name}", "200", "PresetView"),
    ("get", "/api/presets/export", "200", "PresetList"),
    ("post", "/api/presets/import", "200", "ImportedPresets"),
    ("get", "/api/settings/last-used", "200", "LastUsedParams"),
    ("get", "/api/options", "200", "FormOptions"),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(make_web(tmp_path_factory.mktemp("schema")))


@pytest.fixture(scope="module")
def schema(app):
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def api_paths(app) -> set[str]:
    return {re.sub(r":\w+}", "}", route.path) for route in app.routes if route.path.startswith("/api")}


def test_every_api_route_is_in_the_schema(app, schema):
    paths = api_paths(app)
    assert len(paths) == 14
    assert paths <= set(schema["paths"])


@pytest.mark.parametrize("method, path, status, model", RESPONSE_MODELS)
def test_each_response_refers_to_its_model(schema, method, path, status, model):
    content = schema["paths"][path][method]["responses"][status]["content"]
    assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
    assert model in schema["components"]["schemas"]


def test_the_job_model_lists_its_fields_and_the_page_holds_jobs(schema):
    components = schema["components"]["schemas"]
    assert {"job_id", "status", "outputs", "engines", "files_present", "result_url", "zip_url"} <= set(
        components["JobView"]["properties"])
    assert components["JobPage"]["properties"]["jobs"]["items"] == {"$ref": "#/components/schemas/JobView"}


def test_uploads_and_imports_are_described_as_the_bodies_they_take(schema):
    upload = schema["paths"]["/api/upload"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    form = upload["multipart/form-data"]["schema"]
    if "$ref" in form:
        form = schema["components"]["schemas"][form["$ref"].rsplit("/", 1)[1]]
    assert form["properties"]["file"]["format"] == "binary"
    imports = schema["paths"]["/api/presets/import"]["post"]["requestBody"]["content"]
    assert set(imports) == {"application/json", "multipart/form-data"}
    assert imports["application/json"]["schema"] == {"$ref": "#/components/schemas/PresetList"}


def test_the_api_declares_its_parameters_the_way_litestar_3_will_still_accept(web):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
            client.get("/schema/openapi.json")
    handlers = {handler.handler_name for route in client.app.routes if route.path.startswith("/api")
                for handler in route.route_handlers}
    assert {"health", "submit_jobs", "import_presets"} <= handlers
    about_api = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)
                 and any(f"handler='{name}'" in str(w.message) for name in handlers)]
    assert about_api == []


def test_every_refusal_is_declared_in_the_one_error_shape(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    content = response["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
            if method in ("post", "put", "delete"):
                assert "403" in operation["responses"], (method, path)
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "detail"}


@pytest.mark.parametrize("path, allowed", [
    ("/api/jobs", "GET, OPTIONS, POST"),
    ("/api/jobs/someid", "DELETE, GET, OPTIONS"),
    ("/api/presets", "GET, OPTIONS, POST"),
    ("/api/presets/portrait", "DELETE, GET, OPTIONS, PUT"),
    ("/api/upload", "OPTIONS, POST"),
])
def test_options_lists_every_method_of_the_path(app, path, allowed):
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allowed
