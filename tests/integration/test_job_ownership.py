"""Every job runs exactly once, with real processes on one storage: a command-line render beside a
worker, and a run cancelled and retried while two workers consume the queue."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import skimage.data
from PIL import Image

from rilievo.domain.job import JobStatus
from rilievo.domain.params import RenderParams
from tests.subprocess_env import rilievo_env
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def rilievo(storage: Path, log: Path, *command: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rilievo.entrypoints.cli", "--log-level", "info", *command],
                            env=rilievo_env(storage), stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def photo(tmp_path: Path, scale: int) -> Path:
    path = tmp_path / "chelsea.png"
    image = Image.fromarray(skimage.data.chelsea())
    image.resize((image.width * scale, image.height * scale)).save(path)
    return path


def test_a_worker_started_beside_a_command_line_render_leaves_its_job_alone(tmp_path, storage, web):
    render = rilievo(storage, tmp_path / "render.log", "render", str(photo(tmp_path, 3)), "--print", "11x14",
                     "--layers", "2", "--json")
    worker = None
    try:
        job = wait_until(lambda: next((job for job in web.jobs.page()[0]
                                       if job.status is JobStatus.PROCESSING), None), "the render to start")
        assert job.worker.endswith(f":{render.pid}")  # the command line owns its job
        # a worker looks for orphans as it starts: a job whose owner is alive and beating is none
        worker = rilievo(storage, tmp_path / "worker.log", "worker")
        wait_until(lambda: "worker.started" in (tmp_path / "worker.log").read_text(), "the worker to start")
        assert web.jobs.get(job.id).status is JobStatus.PROCESSING, "the render ended before the check"
        assert render.wait(timeout=600) == 0, (tmp_path / "render.log").read_text()
    finally:
        for process in filter(None, (render, worker)):
            stop(process)
    done = web.jobs.get(job.id)
    assert done.status is JobStatus.COMPLETED and done.attempts == 1 and done.worker == job.worker
    assert "orphan_recovered" not in (tmp_path / "worker.log").read_text()


def test_a_run_cancelled_then_retried_on_two_workers_completes_once_and_publishes_nothing_partial(
        tmp_path, storage, web):
    upload = web.uploads.ingest(photo(tmp_path, 4))  # 1804 x 1200
    (job,) = web.jobs.submit(upload.id, RenderParams(layers=3)).jobs
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [rilievo(storage, log, "worker") for log in logs]
    try:
        wait_until(lambda: web.jobs.get(job.id).stage == "layers", "the first run to reach the layers")
        web.jobs.cancel(job.id)
        web.jobs.retry(job.id)
        done = wait_until(lambda: (job_ := web.jobs.get(job.id)).finished and job_, "the retry to finish")
        time.sleep(2)  # a resurrected first run would finish its stage meanwhile
    finally:
        for worker in workers:
            stop(worker)
    output = "".join(log.read_text() for log in logs)
    assert done.status is JobStatus.COMPLETED and done.attempts == 1, done.error
    assert output.count("job.completed") == 1 and output.count("job.stopped") == 1, output
    published = Path(done.output_dir)
    assert sorted(path.name for path in published.iterdir() if path.name.startswith(".")) == []
    assert set(done.outputs) == {path.name for path in published.iterdir()}
    assert not (storage / "jobs" / job.id).exists()
    assert web.jobs.get(job.id) == done
