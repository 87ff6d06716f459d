"""A storage that goes away, can't be written or fills up: one clear line or answer, never a traceback,
a stuck job or a file stored where no job can see it. Read-only and full disks are real: a read-only
bind mount and a small tmpfs, in a private mount namespace (`unshare`)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import skimage.data
from litestar.testing import TestClient
from PIL import Image

from rilievo.adapters.sql_jobs import SqlJobRepository, open_sqlite
from rilievo.entrypoints.http.app import create_app
from tests.api.api_helpers import make_web
from tests.subprocess_env import rilievo_env

pytestmark = pytest.mark.slow

RILIEVO = [sys.executable, "-m", "rilievo.entrypoints.cli"]


def in_own_mounts(mount: str, command: list[str], storage: Path, timeout_s: float = 120) -> subprocess.CompletedProcess:
    """Runs command as root of a new user and mount namespace, after the shell line `mount`."""
    env = rilievo_env(storage)
    script = f'{mount} && exec "$@"'
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", *command],
                          capture_output=True, text=True, env=env, timeout=timeout_s)


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "chelsea.png"
    Image.fromarray(skimage.data.chelsea()).save(path)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_storage_folder_removed_while_the_app_runs_is_refused_and_health_says_so(tmp_path, photo):
    web = make_web(tmp_path)
    with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
        assert client.get("/api/health").json() == {"status": "ok", "queue": "sqlite", "database": "sqlite",
                                                     "workers": []}
        shutil.rmtree(web.uploads.store.folder.parent)
        health = client.get("/api/health")
        assert health.status_code == 503 and health.json()["error"] == "storage_unavailable"
        assert "removed or replaced" in health.json()["detail"]
        with photo.open("rb") as file:
            upload = client.post("/api/upload", files={"file": ("chelsea.png", file, "image/png")})
        assert upload.status_code == 503 and upload.json()["error"] == "storage_unavailable"
        assert client.get("/api/jobs").status_code == 503
    assert not web.uploads.store.folder.exists()  # nothing stored where no job could see it


@pytest.mark.parametrize("command", [
    ["render", "{photo}"],
    ["cleanup", "--older-than", "1"],
    ["worker"],
    ["serve", "--port", "{port}"],
])
def test_every_command_refuses_a_read_only_storage_in_one_line(tmp_path, photo, command):
    storage = tmp_path / "storage"
    SqlJobRepository(open_sqlite(storage / "rilievo.sqlite3"))  # an existing store, then read-only
    command = [part.format(photo=photo, port=free_port()) for part in command]
    result = in_own_mounts(f"mount --bind -o ro {storage} {storage}", [*RILIEVO, *command], storage)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == (f"rilievo: error: the storage folder {storage} can't be written (Read-only file "
                             "system); set RILIEVO_STORAGE to a folder you can write to\n")


def test_a_disk_that_fills_up_fails_the_render_with_one_line_and_one_json_object(tmp_path, photo):
    storage = tmp_path / "storage"
    storage.mkdir()
    result = in_own_mounts(f"mount -t tmpfs -o size=700k tmpfs {storage}", [*RILIEVO, "render", str(photo), "--json"],
                           storage)
    assert result.returncode == 1, result.stderr
    (line,) = result.stdout.splitlines()
    summary = json.loads(line)
    assert summary["status"] == "failed" and summary["error"].startswith("the disk is full"), summary
    assert "Traceback" not in result.stderr
    plain = in_own_mounts(f"mount -t tmpfs -o size=700k tmpfs {storage}", [*RILIEVO, "render", str(photo)], storage)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.splitlines()[-1].startswith("rilievo: job ") and "failed: the disk is full" in plain.stderr
