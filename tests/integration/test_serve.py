"""`rilievo serve` as a user runs it: the web app and its worker process, over real HTTP."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import skimage.data
from PIL import Image

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Children started by any thread of the process (a restarted worker comes from a watcher thread)."""
    return [int(child) for path in Path(f"/proc/{pid}/task").glob("*/children")
            for child in path.read_text().split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


class Server:
    def __init__(self, storage: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "RILIEVO_STORAGE": str(storage)}
        command = [sys.executable, "-m", "rilievo.entrypoints.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        self.banner = self.process.stdout.readline()
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> str:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        return output

    def worker_pid(self, timeout_s: float = 30) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            children = [pid for pid in children_of(self.process.pid) if alive(pid)]
            if children:
                return children[0]
            time.sleep(0.1)
        raise AssertionError("serve started no worker process")

    def render(self, photo: bytes) -> dict:
        upload = self.http.post("/api/upload", files={"file": ("photo.png", photo, "image/png")})
        assert upload.status_code == 201, upload.text
        submitted = self.http.post("/api/jobs", json={"upload_id": upload.json()["upload_id"], "mode": "photo"})
        assert submitted.status_code == 202, submitted.text
        (job,) = submitted.json()["jobs"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = self.http.get(f"/api/jobs/{job['job_id']}").json()
            if state["status"] in ("completed", "failed", "cancelled"):
                return state
            time.sleep(0.1)
        raise AssertionError(f"job never finished: {state}")


@pytest.fixture
def photo() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(skimage.data.chelsea()).save(buffer, format="PNG")
    return buffer.getvalue()


def test_serve_runs_the_app_and_a_worker_and_stops_both_on_ctrl_c(tmp_path, photo):
    server = Server(tmp_path / "storage")
    try:
        assert server.banner.strip().startswith(f"Rilievo is running at {server.url}/")
        page = server.http.get("/")
        assert page.status_code == 200 and "<form" in page.text
        worker = server.worker_pid()

        job = server.render(photo)
        assert job["status"] == "completed", job
        result = server.http.get(job["result_url"])
        assert Image.open(io.BytesIO(result.content)).size == (451, 300)
    finally:
        output = server.stop()
    assert server.process.returncode == 0
    assert "Rilievo stopped." in output
    assert not alive(worker)


def test_a_killed_worker_is_replaced_and_the_app_keeps_working(tmp_path, photo):
    server = Server(tmp_path / "storage")
    try:
        first = server.worker_pid()
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.worker_pid() == first:
            time.sleep(0.2)
        assert server.worker_pid() != first
        assert server.render(photo)["status"] == "completed"
    finally:
        server.stop()
