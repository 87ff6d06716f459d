"""POST /api/upload: accepted photos are stored and described; refused ones get {error, detail}."""

import pytest
from litestar.testing import TestClient

from rilievo.entrypoints.bootstrap import web_side
from rilievo.entrypoints.http.app import create_app
from rilievo.entrypoints.http.uploads import safe_file_name
from rilievo.entrypoints.settings import Settings
from tests.api.api_helpers import HEIGHT, WIDTH, assert_refused, bomb_png_bytes, encoded, png_bytes

TIFF = encoded(png_bytes(), "TIFF")
JPEG = encoded(png_bytes(), "JPEG")


def test_an_accepted_photo_is_stored_and_described(client, web):
    content = png_bytes()
    response = client.post("/api/upload", files={"file": ("holiday.png", content, "image/png")})
    assert response.status_code == 201
    body = response.json()
    assert body == {"upload_id": body["upload_id"], "width": WIDTH, "height": HEIGHT, "format": "PNG",
                    "bytes": len(content)}
    assert web.uploads.store.original_path(body["upload_id"]).read_bytes() == content
    assert web.uploads.get(body["upload_id"]).original_name == "holiday.png"


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("notes.txt", b"just some text, not a photo", ["notes.txt", "not an image"]),
        ("cut.png", png_bytes()[:120], ["cut.png", "truncated"]),
        ("empty.png", b"", ["empty.png", "empty"]),
        ("bomb.png", bomb_png_bytes(), ["bomb.png", "60000x60000 = 3600.0 megapixels, over the 150 megapixel"]),
        ("corrupt.tif", TIFF[:8] + bytes(200), ["corrupt.tif", "damaged TIFF"]),
        ("cut.tif", TIFF[: len(TIFF) // 3], ["cut.tif", "truncated"]),
        ("cut.jpg", JPEG[: len(JPEG) // 2], ["cut.jpg", "damaged"]),
        ("page.png", b"<script>alert(1)</script>", ["page.png", "not an image"]),  # a lying extension and type
    ],
)
def test_a_file_that_is_not_a_readable_photo_is_refused(client, tmp_path, name, content, words):
    response = client.post("/api/upload", files={"file": (name, content, "image/png")})
    assert_refused(response, 422, *words)
    assert response.json()["error"] == "image_rejected"
    assert not list((tmp_path / "storage" / "uploads").glob("*/upload.json"))


def test_a_photo_is_read_as_what_it_is_whatever_its_name_and_type_say(client, web):
    response = client.post("/api/upload", files={"file": ("photo.png", JPEG, "image/png")})
    assert response.status_code == 201
    assert response.json()["format"] == "JPEG"


def test_a_photo_with_too_many_pixels_is_refused(tmp_path):
    settings = Settings(tmp_path / "storage", tmp_path / "models", max_pixels=WIDTH * HEIGHT - 1)
    with TestClient(create_app(web_side(settings)), base_url="http://127.0.0.1") as client:
        response = client.post("/api/upload", files={"file": ("big.png", png_bytes(), "image/png")})
    assert_refused(response, 422, "big.png", "pixels")


def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(tmp_path, web):
    with TestClient(create_app(web, max_upload_bytes=4096), base_url="http://127.0.0.1") as client:
        response = client.post("/api/upload", files={"file": ("big.png", b"x" * 10_000, "image/png")})
    assert_refused(response, 413, "larger than the limit of 0.003906 MB")
    assert not (tmp_path / "storage" / "uploads").exists() or not any((tmp_path / "storage" / "uploads").iterdir())


def test_a_form_without_the_file_field_is_a_bad_request(client):
    response = client.post("/api/upload", files={"photo": ("p.png", png_bytes(), "image/png")})
    assert_refused(response, 400, "file")


@pytest.mark.parametrize(
    "sent, kept",
    [("../../etc/passwd.png", "passwd.png"), ("..", "upload"), ("", "upload"), (None, "upload"),
     (".hidden.png", "hidden.png"), ("ph\x00oto;$(rm).png", "ph_oto___rm_.png")],
)
def test_the_sender_file_name_becomes_a_plain_name_inside_the_temp_folder(sent, kept):
    assert safe_file_name(sent) == kept


def test_the_original_name_is_recorded_as_sent(client, web):
    response = client.post("/api/upload", files={"file": ("../mine.png", png_bytes(), "image/png")})
    assert web.uploads.get(response.json()["upload_id"]).original_name == "../mine.png"
