"""A bounded load test on loopback: several clients submit jobs at once to one `rilievo serve`; every
job ends completed (or failed with a reason), none is lost, none runs twice."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.integration.test_serve import Server

pytestmark = pytest.mark.slow

CLIENTS = 6
JOBS = 24  # in all, JOBS // CLIENTS per client, each from its own upload
FINISHED = {"completed", "failed", "cancelled"}


def small_photo(seed: int) -> bytes:
    pixels = (np.random.default_rng(seed).random((48, 64, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def client_session(url: str, client: int) -> list[str]:
    """One client's submissions, as a user's browser would make them: upload, submit, poll."""
    ids = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for number in range(JOBS // CLIENTS):
            upload = http.post("/api/upload", files={"file": ("photo.png", small_photo(client * 100 + number),
                                                              "image/png")})
            assert upload.status_code == 201, upload.text
            submitted = http.post("/api/jobs", json={"upload_id": upload.json()["upload_id"], "mode": "photo",
                                                     "params": {"layers": 2, "seed": client * 100 + number}})
            assert submitted.status_code == 202, submitted.text
            ids += [job["job_id"] for job in submitted.json()["jobs"]]
            http.get(f"/api/jobs/{ids[-1]}").raise_for_status()  # polling meanwhile
    return ids


def test_concurrent_clients_lose_no_job_and_run_none_twice(tmp_path, capsys):
    server = Server(tmp_path / "storage")
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            submitted = [job for ids in pool.map(lambda c: client_session(server.url, c), range(CLIENTS))
                         for job in ids]
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            page = server.http.get("/api/jobs", params={"limit": 100}).json()
            if all(job["status"] in FINISHED for job in page["jobs"]) and page["total"] == JOBS:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        jobs = {job["job_id"]: job for job in page["jobs"]}
    finally:
        server.stop()

    assert len(submitted) == len(set(submitted)) == JOBS
    assert set(jobs) == set(submitted) and page["total"] == JOBS  # none lost, none made up
    outcomes = {status: sum(job["status"] == status for job in jobs.values()) for status in FINISHED}
    assert sum(outcomes.values()) == JOBS  # none left pending or processing
    assert all(job["error"] for job in jobs.values() if job["status"] == "failed")
    assert all(job["attempts"] == 1 for job in jobs.values() if job["status"] == "completed")  # run once
    assert outcomes["completed"] == JOBS
    with capsys.disabled():
        print(f"\nload: {CLIENTS} clients, {JOBS} jobs, {elapsed:.1f} s, outcomes {outcomes}")
