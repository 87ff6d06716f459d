"""Test photos and short ways to call the API."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from litestar.testing import TestClient
from PIL import Image

from rilievo.entrypoints.bootstrap import WebSide, WorkSide, open_stores, web_side, work_side
from rilievo.entrypoints.settings import Settings

WIDTH, HEIGHT = 64, 48


def png_bytes(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A small scene with structure to find depth in: a lit disc on a vertical gradient."""
    rows, columns = np.mgrid[0:height, 0:width]
    sky = np.repeat((rows / height * 200)[..., None], 3, axis=2)
    disc = (rows - height * 0.6) ** 2 + (columns - width * 0.4) ** 2 < (height / 4) ** 2
    sky[disc] = (230, 120, 40)
    buffer = io.BytesIO()
    Image.fromarray(sky.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def encoded(content: bytes, image_format: str) -> bytes:
    """The same picture in another format: JPEG, TIFF…"""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(content)).convert("RGB").save(buffer, format=image_format)
    return buffer.getvalue()


def bomb_png_bytes(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small PNG whose header, with a valid checksum, claims a huge picture: a decompression bomb."""
    data = bytearray(png_bytes())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def gray_png_bytes(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A depth map: white (near) at the bottom, black (far) at the top."""
    ramp = np.repeat(np.linspace(0, 255, height)[:, None], width, axis=1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, format="PNG")
    return buffer.getvalue()


def make_web(root: Path, *, immediate: bool = True) -> WebSide:
    return web_side(Settings(root / "storage", root / "models", immediate_queue=immediate))


def make_sides(root: Path, *, immediate: bool = True) -> tuple[WebSide, WorkSide]:
    """The web app's use cases and a job-running process's (the command line's), on one storage."""
    settings = Settings(root / "storage", root / "models", immediate_queue=immediate)
    stores = open_stores(settings)
    return web_side(settings, stores), work_side(settings, stores)


def upload(client: TestClient, content: bytes | None = None, name: str = "photo.png") -> str:
    response = client.post("/api/upload", files={"file": (name, content or png_bytes(), "image/png")})
    assert response.status_code == 201, response.text
    return response.json()["upload_id"]


def submit(client: TestClient, upload_id: str, **fields) -> dict:
    response = client.post("/api/jobs", json={"upload_id": upload_id, "mode": "photo", **fields})
    assert response.status_code == 202, response.text
    return response.json()


def assert_refused(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    for word in words:
        assert word in body["detail"]
