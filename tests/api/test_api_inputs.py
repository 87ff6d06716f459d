"""What the API refuses about a photo or a depth map before it stores anything: too small a photo, a depth
map of another shape."""

import io

import numpy as np
import pytest
from PIL import Image

from tests.api.api_helpers import HEIGHT, WIDTH, assert_refused, gray_png_bytes, upload


def png_of_size(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 128, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("width", "height"), [(1, 1), (1, 5000), (5000, 2)])
def test_a_photo_too_small_to_process_is_refused_at_upload_and_not_stored(client, tmp_path, width, height):
    response = client.post("/api/upload", files={"file": ("tiny.png", png_of_size(width, height), "image/png")})
    assert_refused(response, 422, f"{width}x{height} px", "at least 8 px")
    assert not list((tmp_path / "storage" / "uploads").glob("*/upload.json"))


def test_a_depth_map_of_another_shape_is_refused_at_submit_and_no_job_is_created(client):
    photo_id = upload(client)  # WIDTH x HEIGHT, landscape
    depth_id = upload(client, gray_png_bytes(HEIGHT, WIDTH), name="depth.png")  # portrait
    response = client.post("/api/jobs", json={"upload_id": photo_id, "mode": "photo", "depth_upload_id": depth_id})
    assert_refused(response, 422, f"depth map is {HEIGHT}x{WIDTH} px and the photo {WIDTH}x{HEIGHT} px")
    assert client.get("/api/jobs").json()["total"] == 0


def test_a_depth_map_of_the_photos_shape_at_half_size_is_accepted(client):
    photo_id = upload(client)
    depth_id = upload(client, gray_png_bytes(WIDTH // 2, HEIGHT // 2 + 1), name="depth.png")
    response = client.post("/api/jobs", json={"upload_id": photo_id, "mode": "photo", "depth_upload_id": depth_id})
    assert response.status_code == 202, response.text
