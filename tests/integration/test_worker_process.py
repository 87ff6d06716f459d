"""The real worker: a `rilievo worker` process consuming the Huey SQLite queue, and what happens when
it dies mid-job."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import skimage.data
from PIL import Image

from rilievo.adapters.liveness import this_worker
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from tests.subprocess_env import rilievo_env

pytestmark = pytest.mark.slow


def start_worker(storage: Path) -> subprocess.Popen:
    env = rilievo_env(storage)
    command = [sys.executable, "-m", "rilievo.entrypoints.cli", "--log-level", "info", "worker"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(worker: subprocess.Popen, how: signal.Signals = signal.SIGINT) -> str:
    if worker.poll() is None:
        worker.send_signal(how)
    output, _ = worker.communicate(timeout=30)
    return output


def wait_for(web, job_id: str, condition, timeout_s: float = 90.0, every_s: float = 0.05) -> Job:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = web.jobs.get(job_id)
        if condition(job):
            return job
        time.sleep(every_s)
    raise AssertionError(f"job {job_id} never got there; it is {job.status} at {job.stage}")


def photo(tmp_path: Path, scale: int = 1) -> Path:
    path = tmp_path / "chelsea.png"
    image = Image.fromarray(skimage.data.chelsea())
    image.resize((image.width * scale, image.height * scale)).save(path)
    return path


def test_a_job_queued_by_the_app_is_run_by_the_worker_process(tmp_path, storage, web):
    upload = web.uploads.ingest(photo(tmp_path))
    batch = web.jobs.submit(upload.id, RenderParams(seed=5), variations=2)
    worker = start_worker(storage)
    try:
        for job in batch.jobs:
            done = wait_for(web, job.id, lambda job: job.finished)
            assert done.status is JobStatus.COMPLETED, done.error
            assert done.worker and done.worker.endswith(f":{worker.pid}")
            assert Path(done.outputs["layer_overlay.png"]).is_file()
    finally:
        output = stop(worker)
    assert worker.returncode == 0, output
    assert "worker.stopped" in output


def dead_worker_id() -> str:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    return this_worker().rsplit(":", 1)[0] + ":" + finished.stdout.strip()


def test_a_job_left_processing_by_a_dead_worker_is_run_again_by_the_next(tmp_path, storage, web):
    upload = web.uploads.ingest(photo(tmp_path))
    (job,) = web.jobs.submit(upload.id, RenderParams()).jobs
    # What a worker that died mid-job leaves: the job "processing" under a process that is gone, and
    # (Huey having deleted the task when it dequeued it) nothing in the queue.
    web.jobs.repository.save(web.jobs.get(job.id).start(web.jobs.clock(), worker=dead_worker_id()))
    web.jobs.queue.huey.flush()
    worker = start_worker(storage)
    try:
        done = wait_for(web, job.id, lambda job: job.finished)
    finally:
        output = stop(worker)
    assert done.status is JobStatus.COMPLETED, done.error
    assert done.attempts == 2
    assert "job.orphan_recovered" in output


def test_a_worker_killed_mid_job_leaves_nothing_stuck(tmp_path, storage, web):
    upload = web.uploads.ingest(photo(tmp_path, scale=6))  # ~ 2.7 x 1.8 kpx: a few seconds of work
    (job,) = web.jobs.submit(upload.id, RenderParams()).jobs
    worker = start_worker(storage)
    wait_for(web, job.id, lambda job: job.status is JobStatus.PROCESSING and job.stage == "layers")
    stop(worker, signal.SIGKILL)
    assert web.jobs.get(job.id).status is JobStatus.PROCESSING  # orphaned, for now

    replacement = start_worker(storage)
    try:
        done = wait_for(web, job.id, lambda job: job.finished)
    finally:
        stop(replacement)
    assert done.status is JobStatus.COMPLETED, done.error
    assert done.attempts == 2 and done.worker.endswith(f":{replacement.pid}")
    assert not (storage / "jobs" / job.id).exists()


def test_stopping_a_worker_mid_job_hands_the_job_back_to_the_queue(tmp_path, storage, web):
    upload = web.uploads.ingest(photo(tmp_path, scale=6))
    (job,) = web.jobs.submit(upload.id, RenderParams()).jobs
    worker = start_worker(storage)
    wait_for(web, job.id, lambda job: job.status is JobStatus.PROCESSING and job.stage == "layers")
    output = stop(worker, signal.SIGINT)
    handed_back = web.jobs.get(job.id)
    assert handed_back.status is JobStatus.PENDING and handed_back.attempts == 0, output
    queued = [task.args for task in web.jobs.queue.huey.pending() if task.name == "rilievo.run_job"]
    assert queued == [(job.id,)]
