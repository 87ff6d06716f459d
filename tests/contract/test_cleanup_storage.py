"""The storage cleanup on the real filesystem store and SQLite; the ports it adds, fake and real alike."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from rilievo.adapters.fs_store import FilesystemJobFiles, FilesystemUploads
from rilievo.adapters.sql_jobs import SqlJobRepository, open_sqlite
from rilievo.domain.errors import JobChanged, JobNotFound
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from tests.fakes import InMemoryJobFiles, InMemoryJobs, InMemoryUploads, decoded, make_fakes

NOW = datetime.now(timezone.utc)
LATER = NOW + timedelta(days=31)  # the uploads a test stores now are past a 30-day cutoff then


@pytest.fixture(params=["sqlite", "fake"])
def repository(request, tmp_path):
    if request.param == "fake":
        return InMemoryJobs()
    return SqlJobRepository(open_sqlite(tmp_path / "rilievo.sqlite3"))


def failed_job(*, days_ago: float = 0) -> Job:
    then = NOW - timedelta(days=days_ago)
    return Job.create(upload_id="u1", params=RenderParams(), now=then).start(then).fail(then, "boom")


def test_every_job_comes_back_in_one_read(repository):
    jobs = [failed_job(days_ago=days) for days in (3, 1, 2)]
    for job in jobs:
        repository.add(job)
    assert sorted(job.id for job in repository.all()) == sorted(job.id for job in jobs)


def test_a_delete_expecting_a_status_refuses_a_job_that_changed(repository):
    job = failed_job()
    repository.add(job)
    repository.save(job.retry())
    with pytest.raises(JobChanged):
        repository.delete(job.id, expect=JobStatus.FAILED)
    assert repository.get(job.id).status is JobStatus.PENDING
    repository.delete(job.id, expect=JobStatus.PENDING)
    with pytest.raises(JobNotFound):
        repository.delete(job.id, expect=JobStatus.PENDING)
    with pytest.raises(JobNotFound):
        repository.delete(job.id)


def publish(files, job_id: str, sizes: dict[str, int]) -> Path:
    for name, size in sizes.items():
        files.write_text(job_id, name, "x" * size)
    return files.publish(job_id)


@pytest.fixture(params=["filesystem", "fake"])
def files(request, tmp_path):
    return InMemoryJobFiles() if request.param == "fake" else FilesystemJobFiles(tmp_path / "storage")


def test_published_bytes_add_up_the_files_of_a_job(files):
    folder = publish(files, "job1", {"a.svg": 300, "b.svg": 1200})
    assert files.published_bytes(folder) == 1500
    files.remove_published(folder)
    assert files.published_bytes(folder) == 0


def test_only_the_outputs_folder_is_the_stores_own(files, tmp_path):
    assert files.in_store(publish(files, "job1", {"a.svg": 1}))
    files.write_text("job2", "a.svg", "x")
    assert not files.in_store(files.publish("job2", tmp_path / "chosen"))


@pytest.fixture(params=["filesystem", "fake"])
def uploads(request, tmp_path):
    return InMemoryUploads() if request.param == "fake" else FilesystemUploads(tmp_path / "storage")


def test_uploads_are_listed_and_removed(uploads, tmp_path):
    source = tmp_path / "photo.png"
    source.write_bytes(b"\x89PNG pretend")
    kept, gone = (uploads.save(source, decoded(np.zeros((4, 6, 3), np.float32))) for _ in range(2))
    assert sorted(upload.id for upload in uploads.all()) == sorted([kept.id, gone.id])
    uploads.remove(gone.id)
    uploads.remove(gone.id)  # already gone: no error
    assert [upload.id for upload in uploads.all()] == [kept.id]


# --- the whole cleanup on the real store and database -----------------------------------------------


@pytest.fixture
def storage(tmp_path):
    root = tmp_path / "storage"
    return make_fakes({}, upload_store=FilesystemUploads(root), files=FilesystemJobFiles(root),
                      job_repository=SqlJobRepository(open_sqlite(root / "rilievo.sqlite3"))), root


def real_job(fakes, status: JobStatus, *, days_ago: float, upload_id: str, size: int = 0) -> Job:
    """A job recorded as if it had run days_ago, counted from LATER; a completed one with its files
    published, a running one with its files half written."""
    then = LATER - timedelta(days=days_ago)
    job = Job.create(upload_id=upload_id, params=RenderParams(), now=then)
    if status is not JobStatus.PENDING:
        job = job.start(then, worker="host:1")
    if status is JobStatus.COMPLETED:
        folder = publish(fakes.files, job.id, {"Layer_1_front.svg": size, "params.json": 10})
        job = job.complete(then, outputs={"params.json": str(folder / "params.json")}, output_dir=str(folder))
    elif status is JobStatus.PROCESSING:
        fakes.files.write_text(job.id, "Layer_1_front.svg", "half")
    elif status is JobStatus.CANCELLED:
        job = job.cancel(then)
    fakes.job_repository.add(job)
    return job


def test_old_and_over_budget_jobs_go_from_disk_and_database_running_ones_stay(storage, tmp_path):
    fakes, root = storage
    source = tmp_path / "photo.png"
    source.write_bytes(b"\x89PNG pretend")
    photo, unused = (fakes.upload_store.save(source, decoded(np.zeros((4, 6, 3), np.float32))) for _ in range(2))
    expired = real_job(fakes, JobStatus.COMPLETED, days_ago=40, upload_id=photo.id, size=5_000)
    cancelled = real_job(fakes, JobStatus.CANCELLED, days_ago=40, upload_id=photo.id)
    oldest_recent = real_job(fakes, JobStatus.COMPLETED, days_ago=3, upload_id=photo.id, size=2_000)
    newest = real_job(fakes, JobStatus.COMPLETED, days_ago=1, upload_id=photo.id, size=2_000)
    running = real_job(fakes, JobStatus.PROCESSING, days_ago=40, upload_id=photo.id)
    waiting = real_job(fakes, JobStatus.PENDING, days_ago=40, upload_id=photo.id)
    report = fakes.cleanup.clean_up(older_than_days=30, budget_bytes=3_000, now=LATER)

    assert set(report.removed_jobs) == {expired.id, cancelled.id, oldest_recent.id}
    assert sorted(job.id for job in fakes.job_repository.all()) == sorted([newest.id, running.id, waiting.id])
    assert sorted(path.name for path in (root / "outputs").iterdir()) == [newest.id]
    assert (root / "jobs" / running.id / "Layer_1_front.svg").read_text() == "half"
    assert report.removed_bytes == 5_010 + 2_010 and report.remaining_bytes == 2_010
    assert dict(report.kept) == {"running": 1, "waiting to run": 1, "within the age and budget": 1}
    assert report.removed_uploads == (unused.id,)
    assert [upload.id for upload in fakes.upload_store.all()] == [photo.id]


def test_a_dry_run_leaves_disk_and_database_as_they_were(storage):
    fakes, root = storage
    job = real_job(fakes, JobStatus.COMPLETED, days_ago=40, upload_id="u1", size=100)
    report = fakes.cleanup.clean_up(older_than_days=30, budget_bytes=None, now=LATER, dry_run=True)
    assert report.removed_jobs == (job.id,) and report.removed_bytes == 110
    assert fakes.job_repository.get(job.id) == job and (root / "outputs" / job.id / "params.json").exists()
