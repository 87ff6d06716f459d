"""Whether a job's files are still on disk: a job rendered into a folder of the user's own (`rilievo
render --out`) shows in the history, and that folder may be moved or deleted since."""

import shutil
from pathlib import Path

import pytest

from rilievo.domain.job import JobStatus
from rilievo.domain.params import RenderParams
from rilievo.entrypoints.bootstrap import work_side
from rilievo.entrypoints.settings import Settings
from tests.api.api_helpers import png_bytes, submit, upload


@pytest.fixture
def own_folder_job(web, tmp_path):  # the app's storage is tmp_path / "storage"
    """A job the command line rendered into the user's own folder, with the web app's storage."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    work = work_side(Settings(tmp_path / "storage", tmp_path / "models"))
    job = work.render_now.render(photo, RenderParams(layers=2), destination=tmp_path / "my prints")
    assert job.status is JobStatus.COMPLETED, job.error
    return job


def test_a_job_whose_files_are_there_says_so(client):
    (job,) = submit(client, upload(client))["jobs"]
    assert client.get(f"/api/jobs/{job['job_id']}").json()["files_present"] is True


def test_a_job_whose_folder_was_deleted_says_its_files_are_gone(client, own_folder_job):
    url = f"/api/jobs/{own_folder_job.id}"
    assert client.get(url).json()["files_present"] is True

    shutil.rmtree(own_folder_job.output_dir)

    view = client.get(url).json()
    assert (view["status"], view["files_present"]) == ("completed", False)
    (listed,) = client.get("/api/jobs").json()["jobs"]
    assert listed["files_present"] is False


def test_a_job_whose_folder_was_moved_says_its_files_are_gone(client, own_folder_job, tmp_path):
    shutil.move(own_folder_job.output_dir, tmp_path / "elsewhere")

    assert client.get(f"/api/jobs/{own_folder_job.id}").json()["files_present"] is False


def test_one_missing_file_is_enough_to_say_so(client, own_folder_job):
    (Path(own_folder_job.output_dir) / "depth_map.png").unlink()

    assert client.get(f"/api/jobs/{own_folder_job.id}").json()["files_present"] is False
