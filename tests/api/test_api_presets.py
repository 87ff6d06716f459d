"""Presets: create, read, replace, delete; export to a file and import it back, all or nothing."""

import json

import pytest

from rilievo.domain.params import RenderParams
from tests.api.api_helpers import assert_refused


def create(client, name: str, **params) -> dict:
    response = client.post("/api/presets", json={"name": name, "params": params})
    assert response.status_code == 201, response.text
    return response.json()


def import_file(client, content: bytes, field: str = "file"):
    return client.post("/api/presets/import", files={field: ("presets.json", content, "application/json")})


def names(client) -> list[str]:
    return [preset["name"] for preset in client.get("/api/presets").json()["presets"]]


def test_a_preset_is_created_read_replaced_and_deleted(client):
    created = create(client, "Soft portrait", feather=6, sharpen=0.2)
    assert created == {"name": "Soft portrait",
                       "params": RenderParams(feather=6, sharpen=0.2).to_dict()}
    assert client.get("/api/presets/Soft portrait").json() == created

    replaced = client.put("/api/presets/Soft portrait", json={"params": {"layers": 4}})
    assert replaced.status_code == 200
    assert client.get("/api/presets/Soft portrait").json()["params"] == RenderParams(layers=4).to_dict()
    same_name = client.put("/api/presets/Soft portrait", json={"name": "Soft portrait", "params": {}})
    assert same_name.json()["params"] == RenderParams().to_dict()

    assert client.delete("/api/presets/Soft portrait").status_code == 204
    assert_refused(client.get("/api/presets/Soft portrait"), 404, "Soft portrait")
    assert_refused(client.delete("/api/presets/Soft portrait"), 404, "Soft portrait")


def test_presets_are_listed_by_name(client):
    for name in ("b-side", "A1", "a_2"):
        create(client, name)
    assert names(client) == sorted(["b-side", "A1", "a_2"])


def test_a_second_preset_of_the_same_name_is_a_conflict(client):
    create(client, "mine", seed=1)
    assert_refused(client.post("/api/presets", json={"name": "mine", "params": {}}), 409, "mine", "PUT")
    assert client.get("/api/presets/mine").json()["params"]["seed"] == 1


@pytest.mark.parametrize(
    "body, words",
    [
        ({"name": "x", "params": {"feather": 99}}, ["feather"]),
        ({"name": "x", "params": {"bloom": 1}}, ["bloom"]),
        ({"name": "", "params": {}}, ["preset name"]),
        ({"name": "../x", "params": {}}, ["preset name"]),
        ({"name": "export", "params": {}}, ["reserved"]),
        ({"name": "x"}, ["params"]),
        ({"name": "x", "params": {}, "colour": 1}, ["colour"]),
    ],
)
def test_an_invalid_preset_is_refused_and_not_stored(client, body, words):
    assert_refused(client.post("/api/presets", json=body), 422, *words)
    assert names(client) == []


def test_a_replacement_naming_another_preset_or_with_bad_params_is_refused(client):
    create(client, "mine", seed=1)
    assert_refused(client.put("/api/presets/mine", json={"name": "yours", "params": {}}), 422, "yours")
    assert_refused(client.put("/api/presets/mine", json={"params": {"dpi": 72}}), 422, "dpi")
    assert client.get("/api/presets/mine").json()["params"]["seed"] == 1


def test_export_and_import_are_not_taken_for_preset_names(client):
    create(client, "mine")
    export = client.get("/api/presets/export")
    assert export.status_code == 200 and set(export.json()) == {"presets"}
    assert client.post("/api/presets/import", json={"presets": []}).json() == {"imported": []}


def test_an_export_downloads_as_a_file_and_imports_back_as_a_json_body(client):
    create(client, "one", seed=11, layers=2)
    create(client, "two", near="black")
    export = client.get("/api/presets/export")
    assert export.headers["content-disposition"] == 'attachment; filename="rilievo-presets.json"'
    exported = export.json()
    for name in ("one", "two"):
        client.delete(f"/api/presets/{name}")

    response = client.post("/api/presets/import", json=exported)
    assert response.status_code == 200
    assert response.json() == {"imported": ["one", "two"]}
    assert client.get("/api/presets").json() == exported


def test_an_export_imports_back_as_an_uploaded_file_replacing_same_names(client):
    create(client, "one", seed=11)
    exported = client.get("/api/presets/export").content
    client.put("/api/presets/one", json={"params": {"seed": 12}})

    response = import_file(client, exported)
    assert response.json() == {"imported": ["one"]}
    assert client.get("/api/presets/one").json()["params"]["seed"] == 11


@pytest.mark.parametrize(
    "document, words",
    [
        ({"presets": [{"name": "good", "params": {}}, {"name": "bad", "params": {"feather": -1}}]},
         ["presets[1]", "feather"]),
        ({"presets": [{"name": "good", "params": {}}, {"name": "good", "params": {}}]}, ["more than once"]),
        ({"presets": [{"name": "good", "params": {}}, {"name": "import", "params": {}}]}, ["reserved"]),
        ({"presets": [{"name": "good", "params": {}}, {"name": "extra", "params": {}, "x": 1}]},
         ["presets[1]"]),
        ({"presets": [{"name": "good", "params": {}}, "not a preset"]}, ["presets[1]"]),
        ({"presets": {"name": "good"}}, ["presets"]),
        ({"presets": [], "version": 2}, ["presets"]),
        ([{"name": "good", "params": {}}], ["presets"]),
    ],
)
def test_an_invalid_import_stores_nothing(client, document, words):
    assert_refused(client.post("/api/presets/import", json=document), 422, *words)
    assert_refused(import_file(client, json.dumps(document).encode()), 422, *words)
    assert names(client) == []


def test_an_import_that_is_not_json_is_refused(client):
    assert_refused(import_file(client, b"{not json"), 422, "not valid JSON")
    assert_refused(import_file(client, b"{}", field="upload"), 400, "'file'")
