"""Workers that say what they take, on a real Redis and PostgreSQL: `rilievo worker --concurrency 2` runs two
worker processes, which never take a painterly (diffusion) job; `rilievo worker --diffusion-on-cpu` takes it;
SIGTERM stops a worker and its processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rilievo.domain.job import JobStatus
from rilievo.domain.params import RenderParams
from rilievo.entrypoints.bootstrap import web_side
from rilievo.entrypoints.settings import Settings
from tests.integration.test_load import small_photo
from tests.subprocess_env import rilievo_env
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def start_worker(storage: Path, env: dict[str, str], log: Path, *options: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "rilievo.entrypoints.cli", "--log-level", "info", "worker", *options]
    with log.open("w") as output:
        return subprocess.Popen(command, env=rilievo_env(storage, **env), stdout=output, stderr=subprocess.STDOUT)


def test_a_painterly_job_waits_for_a_worker_that_takes_the_diffusion_lane(tmp_path, redis_url, postgres_url):
    storage, env = tmp_path / "storage", {"RILIEVO_QUEUE": redis_url, "RILIEVO_DATABASE": postgres_url}
    web = web_side(Settings(storage_dir=storage, models_dir=tmp_path / "no-models", queue_url=redis_url,
                            database_url=postgres_url))
    photo = tmp_path / "photo.png"
    photo.write_bytes(small_photo(7))
    upload = web.uploads.ingest(photo)
    (painting,) = web.jobs.submit(upload.id, RenderParams(mode="painterly", layers=2)).jobs
    (ordinary,) = web.jobs.submit(upload.id, RenderParams(mode="photo", layers=2)).jobs

    cpu = start_worker(storage, env, tmp_path / "cpu.log", "--concurrency", "2")
    try:
        seen = wait_until(lambda: len(workers := web.health.check().workers) == 2 and workers)
        assert {worker.lane for worker in seen} == {"standard"}
        assert all(worker.name.rsplit(":", 1)[1] != str(cpu.pid) for worker in seen)  # two processes of its own
        wait_until(lambda: web.jobs.get(ordinary.id).status is JobStatus.COMPLETED)
        time.sleep(2)  # the painterly job stays queued: no standard worker takes it
        assert web.jobs.get(painting.id).status is JobStatus.PENDING

        painter = start_worker(storage, env, tmp_path / "painter.log", "--diffusion-on-cpu")
        try:
            done = wait_until(lambda: (job := web.jobs.get(painting.id)).finished and job)
            assert done.status is JobStatus.COMPLETED, done.error
            assert done.worker.endswith(f":{painter.pid}")
            assert "diffusion" in {worker.lane for worker in web.health.check().workers}
        finally:
            painter.send_signal(signal.SIGTERM)
            assert painter.wait(30) == 0
    finally:
        cpu.send_signal(signal.SIGTERM)  # what `docker stop` sends: each process finishes its job, then stops
        status = cpu.wait(30)
    assert status == 0, (tmp_path / "cpu.log").read_text()
    assert (tmp_path / "cpu.log").read_text().count("worker.stopped") == 2
    assert web.health.check().workers == []  # each took itself off the roster
