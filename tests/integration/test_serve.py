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

from tests.subprocess_env import rilievo_env

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
    """`rilievo serve` on a free port; `wrapper` runs before it (unshare, say), `env` adds variables,
    its stderr (the log) goes to `log` when given."""

    def __init__(self, storage: Path, *options: str, wrapper: tuple[str, ...] = (), env: dict | None = None,
                 log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [*wrapper, sys.executable, "-m", "rilievo.entrypoints.cli", "serve", "--port", str(self.port),
                   *options]
        self.log = log.open("w") if log else None
        self.process = subprocess.Popen(command, env=rilievo_env(storage, **(env or {})), stdout=subprocess.PIPE,
                                        stderr=self.log, text=True)
        self.banner = self.process.stdout.readline()
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> str:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        if self.log:
            self.log.close()
        return output

    def worker_pid(self, timeout_s: float = 30) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            children = [pid for pid in children_of(self.process.pid) if alive(pid)]
            if children:
                return children[0]
            time.sleep(0.1)
        raise AssertionError("serve started no worker process")

    def upload(self, photo: bytes) -> str:
        upload = self.http.post("/api/upload", files={"file": ("photo.png", photo, "image/png")})
        assert upload.status_code == 201, upload.text
        return upload.json()["upload_id"]

    def submit(self, upload_id: str, variations: int = 1) -> list[str]:
        submitted = self.http.post("/api/jobs", json={"upload_id": upload_id, "mode": "photo",
                                                      "variations": variations})
        assert submitted.status_code == 202, submitted.text
        return [job["job_id"] for job in submitted.json()["jobs"]]

    def finished(self, job_id: str, timeout_s: float = 90) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.http.get(f"/api/jobs/{job_id}").json()
            if state["status"] in ("completed", "failed", "cancelled"):
                return state
            time.sleep(0.1)
        raise AssertionError(f"job never finished: {state}")

    def once_one_runs(self, job_ids: list[str], timeout_s: float = 60) -> list[str]:
        """The jobs' statuses as soon as one of them is running."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            statuses = [self.http.get(f"/api/jobs/{job_id}").json()["status"] for job_id in job_ids]
            if "processing" in statuses:
                return statuses
            time.sleep(0.02)
        raise AssertionError(f"no job started: {statuses}")

    def render(self, photo: bytes) -> dict:
        (job_id,) = self.submit(self.upload(photo))
        return self.finished(job_id)


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


def test_serve_stops_its_worker_on_sigterm_too(tmp_path):
    # what `systemctl stop`, `docker stop` and `kill` send: uvicorn re-raised it after shutting down and
    # the process died there, leaving its worker running alone
    server = Server(tmp_path / "storage")
    worker = server.worker_pid()
    server.http.close()
    server.process.send_signal(signal.SIGTERM)
    output, _ = server.process.communicate(timeout=30)
    assert server.process.returncode == 128 + signal.SIGTERM
    assert "Rilievo stopped." in output
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and alive(worker):
        time.sleep(0.2)
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


def test_restarting_the_web_process_loses_no_job_and_no_upload(tmp_path, photo):
    """The web app is killed (SIGKILL, no chance to tidy up) while its jobs wait or run in a separate
    worker; a new web process on the same storage shows every job, and every job completes once."""
    storage = tmp_path / "storage"
    worker = subprocess.Popen([sys.executable, "-m", "rilievo.entrypoints.cli", "worker"], env=rilievo_env(storage))
    first = Server(storage, "--no-worker")
    second = None
    try:
        upload_id = first.upload(photo)
        job_ids = first.submit(upload_id, variations=3) + first.submit(upload_id)
        in_flight = first.once_one_runs(job_ids)
        first.process.kill()
        assert in_flight.count("pending") >= 2, in_flight  # killed with one job running and more waiting
        first.process.wait(10)

        second = Server(storage, "--no-worker")
        states = [second.finished(job_id) for job_id in job_ids]
        assert [state["status"] for state in states] == ["completed"] * 4
        assert [state["attempts"] for state in states] == [1] * 4
        listed = [job["job_id"] for job in second.http.get("/api/jobs", params={"limit": 100}).json()["jobs"]]
        assert sorted(listed) == sorted(job_ids)
        (again,) = second.submit(upload_id)  # the upload is still there
        assert second.finished(again)["status"] == "completed"
    finally:
        if second is not None:
            second.stop()
        worker.send_signal(signal.SIGINT)
        worker.wait(30)


def test_jobs_waiting_when_serve_stops_run_when_it_starts_again(tmp_path, photo):
    storage = tmp_path / "storage"
    first = Server(storage)
    job_ids = first.submit(first.upload(photo), variations=3)
    first.stop()
    assert first.process.returncode == 0

    second = Server(storage)
    try:
        assert [second.finished(job_id)["status"] for job_id in job_ids] == ["completed"] * 3
    finally:
        second.stop()


def test_serve_refuses_uploads_over_its_configured_limit_and_keeps_nothing(tmp_path, photo):
    storage = tmp_path / "storage"
    server = Server(storage, "--no-worker", "--max-upload-mb", "0.05")
    try:
        assert len(photo) > 0.05 * 1024 * 1024
        response = server.http.post("/api/upload", files={"file": ("photo.png", photo, "image/png")})
        assert response.status_code == 413
        assert response.json() == {"error": "too_large", "detail": "the upload is larger than the limit of 0.05 MB"}
    finally:
        server.stop()
    uploads = storage / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
