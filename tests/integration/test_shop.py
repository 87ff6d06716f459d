"""A print shop's Rilievo on real servers: one `rilievo serve --no-worker` and three `rilievo worker`
processes sharing a Redis queue, a PostgreSQL database and one storage folder; six clients submit thirty
jobs; one worker is killed (SIGKILL) in the middle of a job. Every job ends completed, none is lost, none
runs to completion twice."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import skimage.data
from PIL import Image

from tests.integration.test_load import small_photo
from tests.integration.test_serve import Server
from tests.servers import PASSWORD
from tests.subprocess_env import rilievo_env
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

WORKERS = 3
CLIENTS = 6
JOBS = 30  # JOBS // CLIENTS per client; client 0's first is a larger photo, the one a worker dies under
FINISHED = {"completed", "failed", "cancelled"}
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z \[(\w+)\s*\] (\S+)")


def large_photo() -> bytes:
    image = Image.fromarray(skimage.data.chelsea())
    buffer = io.BytesIO()
    image.resize((image.width * 5, image.height * 5)).save(buffer, format="PNG")  # ~2.3 x 1.5 kpx: seconds
    return buffer.getvalue()


def start_worker(storage: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "rilievo.entrypoints.cli", "--log-level", "info", "worker"]
    with log.open("w") as output:
        return subprocess.Popen(command, env=rilievo_env(storage, **env), stdout=output, stderr=subprocess.STDOUT)


def submit(url: str, photo: bytes, seed: int) -> str:
    with httpx.Client(base_url=url, timeout=60) as http:
        upload = http.post("/api/upload", files={"file": ("photo.png", photo, "image/png")})
        assert upload.status_code == 201, upload.text
        submitted = http.post("/api/jobs", json={"upload_id": upload.json()["upload_id"], "mode": "photo",
                                                 "params": {"layers": 2, "seed": seed}})
        assert submitted.status_code == 202, submitted.text
        (job,) = submitted.json()["jobs"]
        return job["job_id"]


def client_session(url: str, client: int) -> list[str]:
    return [submit(url, small_photo(client * 100 + number), client * 100 + number)
            for number in range(1 if client == 0 else 0, JOBS // CLIENTS)]


def test_three_workers_on_redis_and_postgresql_lose_no_job_when_one_is_killed(tmp_path, redis_url, postgres_url,
                                                                              capsys):
    storage, env = tmp_path / "storage", {"RILIEVO_QUEUE": redis_url, "RILIEVO_DATABASE": postgres_url}
    server = Server(storage, "--no-worker", env=env, log=tmp_path / "serve.log")  # migrates the database
    logs = [tmp_path / f"worker-{number}.log" for number in range(WORKERS)]
    workers = {}
    try:
        started = time.monotonic()
        for log in logs:
            worker = start_worker(storage, env, log)
            workers[worker.pid] = worker
        health = wait_until(lambda: (answer := server.http.get("/api/health").json())["workers"][WORKERS - 1:]
                            and answer, timeout_s=60)
        assert {worker["name"].rsplit(":", 1)[1] for worker in health["workers"]} == {str(pid) for pid in workers}
        assert {worker["lane"] for worker in health["workers"]} == {"standard"}
        assert health["queue"] == redis_url.replace(f":{PASSWORD}@", "")
        assert health["database"].startswith("postgresql://127.0.0.1:") and PASSWORD not in str(health)

        doomed = submit(server.url, large_photo(), seed=1)
        with ThreadPoolExecutor(CLIENTS) as pool:
            running = pool.map(lambda client: client_session(server.url, client), range(CLIENTS))
            victim = wait_until(lambda: (job := server.http.get(f"/api/jobs/{doomed}").json())["stage"] == "layers"
                                and job, timeout_s=90, every_s=0.05)
            victim_pid = int(victim["worker"].rsplit(":", 1)[1])
            workers[victim_pid].send_signal(signal.SIGKILL)  # in the middle of the job
            submitted = [doomed, *(job_id for ids in running for job_id in ids)]
        workers[victim_pid].wait(10)

        def all_finished():
            page = server.http.get("/api/jobs", params={"limit": 100}).json()
            return page if page["total"] == JOBS and all(job["status"] in FINISHED for job in page["jobs"]) else None

        page = wait_until(all_finished, timeout_s=150, every_s=0.5)
        elapsed = time.monotonic() - started
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGINT)
        for worker in workers.values():
            worker.wait(30)
        server.stop()

    jobs = {job["job_id"]: job for job in page["jobs"]}
    assert len(submitted) == len(set(submitted)) == JOBS and set(jobs) == set(submitted)  # none lost or made up
    outcomes = Counter(job["status"] for job in jobs.values())
    assert outcomes == {"completed": JOBS}, [job["error"] for job in jobs.values() if job["error"]]
    assert jobs[doomed]["attempts"] == 2 and not jobs[doomed]["worker"].endswith(f":{victim_pid}")
    assert all(job["attempts"] == 1 for job_id, job in jobs.items() if job_id != doomed)
    assert len({job["worker"] for job in jobs.values()}) >= 2  # the work was shared

    lines = [line for log in logs for line in log.read_text().splitlines() if LOG_LINE.match(line)]
    completions = Counter(re.search(r"job_id=(\w+)", line).group(1) for line in lines if " job.completed " in line)
    assert completions == {job_id: 1 for job_id in submitted}  # each ran to completion exactly once
    assert all("worker=" in line for line in lines)
    assert all("job_id=" in line for line in lines if LOG_LINE.match(line).group(2).startswith("job."))
    assert any(" job.orphan_recovered " in line and f"job_id={doomed}" in line for line in lines)
    with capsys.disabled():
        print(f"\nshop: {WORKERS} workers (one SIGKILLed mid-job), {JOBS} jobs from {CLIENTS} clients, "
              f"{elapsed:.1f} s, outcomes {dict(outcomes)}, by worker "
              f"{dict(Counter(job['worker'] for job in jobs.values()))}")
