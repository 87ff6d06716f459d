"""Cancel, retry and delete: the moves a job's state allows, and the 409s for those it does not."""

from pathlib import Path

import pytest
from litestar.testing import TestClient

from rilievo.domain.job import JobStatus
from rilievo.entrypoints.http.app import create_app
from tests.api.api_helpers import assert_refused, gray_png_bytes, make_web, submit, upload


@pytest.fixture
def queued(tmp_path):
    """An app whose queue nobody consumes: submitted jobs stay pending."""
    web = make_web(tmp_path, immediate=False)
    with TestClient(create_app(web), base_url="http://127.0.0.1") as client:
        yield client, web


def only_job(client, upload_id, **fields) -> str:
    return submit(client, upload_id, **fields)["jobs"][0]["job_id"]


def job(client, job_id) -> dict:
    return client.get(f"/api/jobs/{job_id}").json()


def test_a_job_whose_input_vanished_fails_and_runs_again_once_retried(client, web):
    photo_id, depth_id = upload(client), upload(client, gray_png_bytes(), name="depth.png")
    depth_file = web.uploads.store.original_path(depth_id)
    kept = depth_file.read_bytes()
    depth_file.unlink()  # the record stays, so the job is accepted, but the run finds no file

    job_id = only_job(client, photo_id, depth_upload_id=depth_id)
    failed = job(client, job_id)
    assert failed["status"] == "failed" and "cannot be read" in failed["error"]
    assert (failed["outputs"], failed["result_url"], failed["zip_url"]) == ({}, None, None)
    assert_refused(client.get(f"/api/jobs/{job_id}/result"), 409, "failed")

    depth_file.write_bytes(kept)
    retried = client.post(f"/api/jobs/{job_id}/retry")
    assert retried.status_code == 202
    assert retried.json()["job_id"] == job_id and retried.json()["error"] is None
    again = job(client, job_id)  # the immediate queue ran it before the response came back
    assert (again["status"], again["error"], again["attempts"]) == ("completed", None, 1)
    assert client.get(again["result_url"]).status_code == 200


def test_a_pending_job_is_cancelled_then_retried_then_deleted(queued):
    client, _ = queued
    job_id = only_job(client, upload(client))
    assert job(client, job_id)["status"] == "pending"

    cancelled = client.post(f"/api/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"]
    assert job(client, job_id)["status"] == "cancelled"
    assert_refused(client.post(f"/api/jobs/{job_id}/cancel"), 409, "cancelled")

    retried = client.post(f"/api/jobs/{job_id}/retry")
    assert (retried.status_code, retried.json()["status"]) == (202, "pending")
    assert retried.json()["finished_at"] is None
    assert_refused(client.post(f"/api/jobs/{job_id}/retry"), 409, "pending")

    assert client.delete(f"/api/jobs/{job_id}").status_code == 204
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert client.get("/api/jobs").json()["total"] == 0


def test_a_running_job_is_not_deleted_but_can_be_cancelled(queued):
    client, web = queued
    job_id = only_job(client, upload(client))
    pending = web.jobs.get(job_id)
    web.jobs.repository.save(pending.start(web.jobs.clock(), worker="elsewhere:1"), expect=JobStatus.PENDING)

    assert_refused(client.delete(f"/api/jobs/{job_id}"), 409, "running", "cancel")
    assert job(client, job_id)["status"] == "processing"
    assert client.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    assert client.delete(f"/api/jobs/{job_id}").status_code == 204


def test_a_completed_job_is_neither_cancelled_nor_retried(client):
    job_id = only_job(client, upload(client))
    assert_refused(client.post(f"/api/jobs/{job_id}/cancel"), 409, "completed")
    assert_refused(client.post(f"/api/jobs/{job_id}/retry"), 409, "completed")
    assert job(client, job_id)["status"] == "completed"


def test_deleting_a_completed_job_removes_its_files_from_disk(client, web):
    upload_id = upload(client)
    kept_id, deleted_id = only_job(client, upload_id), only_job(client, upload_id)
    output_dir = Path(web.jobs.get(deleted_id).output_dir)
    file_link = job(client, deleted_id)["outputs"]["composite_full.png"]
    assert (output_dir / "composite_full.png").is_file()

    assert client.delete(f"/api/jobs/{deleted_id}").status_code == 204
    assert not output_dir.exists()
    assert Path(web.jobs.get(kept_id).output_dir).is_dir()
    assert client.get(file_link).status_code == 404
    assert [j["job_id"] for j in client.get("/api/jobs").json()["jobs"]] == [kept_id]


def test_a_file_gone_from_disk_is_not_found_rather_than_a_server_error(client, web):
    job_id = only_job(client, upload(client))
    Path(web.jobs.get(job_id).output_dir, "depth_map.png").unlink()
    assert_refused(client.get(f"/api/jobs/{job_id}/files/depth_map.png"), 404, "depth_map.png")


def test_retrying_a_job_whose_upload_was_cleaned_up_is_refused_with_409_and_the_reason(queued):
    client, web = queued
    upload_id = upload(client)
    job_id = only_job(client, upload_id)
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 200
    web.uploads.store.remove(upload_id)
    assert_refused(client.post(f"/api/jobs/{job_id}/retry"), 409, "was removed")
    assert job(client, job_id)["status"] == "cancelled"
