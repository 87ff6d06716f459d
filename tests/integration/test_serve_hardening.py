"""`rilievo serve` against hostile or clumsy clients, over real sockets on loopback: DNS rebinding,
slow and piling-up connections, bodies that stall, requests that used to crash it, a full disk, a
busy port."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rilievo.entrypoints.settings import HEADER_TIMEOUT_S, KEEP_ALIVE_S, MAX_CONNECTIONS
from tests.integration.test_serve import Server
from tests.subprocess_env import rilievo_env

pytestmark = pytest.mark.slow

REBINDING = {"Origin": "http://rebind.attacker.example"}


def noise_png(megabytes: float) -> bytes:
    """A PNG of random pixels: it doesn't compress, so it weighs what it says."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    pixels = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def stored_uploads(storage: Path) -> list[Path]:
    return list((storage / "uploads").glob("*/upload.json"))


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def read_answer(sock: socket.socket, timeout_s: float) -> bytes:
    sock.settimeout(timeout_s)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and answer.endswith(b"}"):
                break
    except (TimeoutError, ConnectionResetError):
        pass
    return answer


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path / "storage", "--no-worker", log=tmp_path / "serve.log")
    yield server
    server.stop()


def test_requests_naming_another_host_are_refused_and_change_nothing(server, tmp_path):
    port = server.port
    host = {"Host": f"rebind.attacker.example:{port}", **REBINDING}
    answers = [
        server.http.get("/", headers=host),
        server.http.get("/static/app.js", headers=host),
        server.http.get("/api/jobs", headers=host),
        server.http.post("/api/upload", files={"file": ("p.png", small_png(), "image/png")}, headers=host),
        server.http.put("/api/presets/p1", json={"params": {"seed": 3}}, headers=host),
    ]
    assert [answer.status_code for answer in answers] == [421] * 5
    assert all(answer.json()["error"] == "unknown_host" for answer in answers)
    assert stored_uploads(tmp_path / "storage") == []
    assert server.http.get("/api/presets").json()["presets"] == []
    for name in ("localhost", "127.0.0.1", "[::1]"):
        assert server.http.get("/api/jobs", headers={"Host": f"{name}:{port}"}).status_code == 200


def test_idle_and_half_sent_connections_are_closed_and_the_server_keeps_answering(server):
    idle = [connect(server.port) for _ in range(25)]
    partial = [connect(server.port) for _ in range(25)]
    for sock in partial:
        sock.sendall(b"GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    started = time.monotonic()
    assert server.http.get("/api/health").status_code == 200  # 50 held connections don't block it
    time.sleep(HEADER_TIMEOUT_S + 1.5 - (time.monotonic() - started))
    assert [closed_by_server(sock) for sock in idle + partial] == [True] * 50
    for sock in idle + partial:
        sock.close()


def test_connections_over_the_cap_get_503_at_once(server):
    server.http.close()  # its kept-alive connection would count
    held = [connect(server.port) for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.5)
    extra = connect(server.port)
    answer = read_answer(extra, 3)
    assert answer.startswith(b"HTTP/1.1 503") and b"too many open connections" in answer
    for sock in [extra, *held]:
        sock.close()
    time.sleep(0.5)
    fresh = connect(server.port)
    fresh.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert read_answer(fresh, 5).startswith(b"HTTP/1.1 200")
    fresh.close()


def test_a_body_that_stalls_gets_408_and_nothing_is_stored(server):
    sock = connect(server.port)
    sock.sendall(b"PUT /api/presets/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000\r\n\r\n{\"params\": ")
    started = time.monotonic()
    answer = read_answer(sock, 20)
    waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"stalled" in answer and 9 < waited < 15
    assert read_answer(sock, KEEP_ALIVE_S + 2) == b"" and closed_by_server(sock)
    sock.close()
    assert server.http.get("/api/presets").json()["presets"] == []


def test_requests_that_used_to_crash_the_server_are_answered(server):
    upload_id = server.upload(small_png())
    deep = "[" * 1000 + "]" * 1000
    job = server.http.post("/api/jobs", headers={"content-type": "application/json"},
                           content=f'{{"upload_id": "{upload_id}", "mode": "photo", "params": {{"seed": {deep}}}}}')
    preset = server.http.put("/api/presets/p1", headers={"content-type": "application/json"},
                             content=f'{{"params": {{"seed": {deep}}}}}')
    assert (job.status_code, preset.status_code) == (422, 422)
    no_file_name = server.http.post("/api/upload", files={"file": (None, small_png())})  # curl -F "file=<p.png"
    extra_binary = server.http.post("/api/upload", files={"x": (None, b"\xff\xd8\xff"), "file": ("p.png", small_png())})
    assert (no_file_name.status_code, extra_binary.status_code) == (201, 201)
    imported = server.http.post("/api/presets/import", files={
        "x": (None, b"\xff\xd8\xff"), "file": (None, b'{"presets": [{"name": "a", "params": {}}]}')})
    assert imported.status_code == 200, imported.text


def test_an_unexpected_error_is_answered_in_the_error_shape_and_logged_with_its_request_id(server, tmp_path):
    upload_id = server.upload(small_png())
    (tmp_path / "storage" / "uploads" / upload_id / "upload.json").write_text("damaged {")
    response = server.http.post("/api/jobs", json={"upload_id": upload_id, "mode": "photo"})
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json() == {"error": "internal_error", "detail": "an unexpected error stopped this request; "
                               f"the server log has the details under request id {request_id}"}
    server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "http.unexpected_error" in log and f"request_id={request_id}" in log
    assert "Traceback" in log and "JSONDecodeError" in log


def test_head_is_answered_like_get_without_a_body(server):
    for path in ("/", "/api/jobs", "/static/app.js"):
        get, head = server.http.get(path), server.http.head(path)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == get.headers["content-length"]


def in_own_mount_namespace(*mounts: tuple[Path, str]) -> tuple[str, ...]:
    """A command prefix: serve runs with a small tmpfs over each folder, seen by it alone."""
    script = " && ".join(f'mount -t tmpfs -o size={size} tmpfs "{folder}"' for folder, size in mounts)
    return ("unshare", "--mount", "--map-root-user", "sh", "-c", f'{script} && exec "$@"', "sh")


def test_an_upload_does_not_go_through_the_system_temp_folder(tmp_path):
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    storage = tmp_path / "storage"
    photo = noise_png(3)
    server = Server(storage, "--no-worker", wrapper=in_own_mount_namespace((system_temp, "256k")),
                    env={"TMPDIR": str(system_temp)})
    try:
        response = server.http.post("/api/upload", files={"file": ("big.png", photo, "image/png")})
        assert response.status_code == 201, response.text
        assert response.json()["bytes"] == len(photo) > 3 * 1024 * 1024 - 1
    finally:
        server.stop()


@pytest.mark.parametrize("announced", [True, False], ids=["with-length", "chunked"])
def test_an_upload_the_storage_has_no_room_for_is_507_and_keeps_nothing(tmp_path, announced):
    storage = tmp_path / "storage"
    (storage / "tmp").mkdir(parents=True)
    photo = noise_png(3)
    server = Server(storage, "--no-worker", wrapper=in_own_mount_namespace((storage / "tmp", "1m")))
    try:
        boundary = "rilievo-test"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'.encode()
                + photo + f"\r\n--{boundary}--\r\n".encode())
        content = body if announced else iter([body[i:i + 65536] for i in range(0, len(body), 65536)])
        response = server.http.post("/api/upload", content=content,
                                    headers={"content-type": f"multipart/form-data; boundary={boundary}"})
        assert response.status_code == 507, response.text
        assert response.json()["error"] == "storage_full"
        assert "not enough free space in the storage folder" in response.json()["detail"]
        assert server.http.get("/api/health").status_code == 200
    finally:
        server.stop()
    assert stored_uploads(storage) == []
    assert list((storage / "tmp").iterdir()) == []


def test_a_second_serve_on_a_busy_port_says_so_in_one_line_and_exits_2(server, tmp_path):
    second = subprocess.run(
        [sys.executable, "-m", "rilievo.entrypoints.cli", "serve", "--port", str(server.port)],
        env=rilievo_env(tmp_path / "other"), capture_output=True, text=True, timeout=60)
    assert second.returncode == 2
    assert second.stderr.strip() == (f"rilievo: error: port {server.port} is in use on 127.0.0.1 (another "
                                     "Rilievo, or another program): stop it or choose another with --port")
    assert second.stdout == "" and not (tmp_path / "other").exists()  # no migrations, no worker
    assert server.http.get("/api/health").status_code == 200




def test_an_upload_that_fills_the_uploads_folder_is_507_and_keeps_nothing(tmp_path):
    storage = tmp_path / "storage"
    (storage / "uploads").mkdir(parents=True)
    server = Server(storage, "--no-worker", wrapper=in_own_mount_namespace((storage / "uploads", "1m")))
    try:
        response = server.http.post("/api/upload", files={"file": ("big.png", noise_png(3), "image/png")})
        assert response.status_code == 507, response.text
        assert response.json()["error"] == "storage_full" and "the disk is full" in response.json()["detail"]
    finally:
        server.stop()
    assert list((storage / "uploads").iterdir()) == [] and list((storage / "tmp").iterdir()) == []


def test_serve_removes_what_a_killed_server_left_of_an_upload_and_nothing_newer(tmp_path):
    incoming = tmp_path / "storage" / "tmp"
    old, recent = incoming / "upload-killed", incoming / "upload-arriving"
    for work in (old, recent):
        work.mkdir(parents=True)
        (work / "photo.jpg").write_bytes(b"half a photo")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    server = Server(tmp_path / "storage", "--no-worker")
    server.stop()
    assert sorted(incoming.iterdir()) == [recent]
