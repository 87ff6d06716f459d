from datetime import datetime, timedelta, timezone

import pytest

from rilievo.domain.errors import IllegalTransition
from rilievo.domain.job import ALLOWED_TRANSITIONS, Job, JobStatus
from rilievo.domain.params import RenderParams

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(seconds=5)


def new_job() -> Job:
    return Job.create(upload_id="u1", params=RenderParams(), now=NOW)


def job_in(status: JobStatus) -> Job:
    job = new_job()
    if status is JobStatus.PENDING:
        return job
    if status is JobStatus.CANCELLED:
        return job.cancel(LATER)
    job = job.start(NOW)
    if status is JobStatus.COMPLETED:
        return job.complete(LATER, outputs={"a.png": "/x/a.png"}, output_dir="/x")
    if status is JobStatus.FAILED:
        return job.fail(LATER, "boom")
    return job


def test_a_new_job_is_pending_with_no_progress():
    job = new_job()
    assert job.status is JobStatus.PENDING
    assert job.progress == 0.0 and job.attempts == 0 and not job.finished


def test_a_job_runs_from_pending_to_completed():
    job = new_job().start(NOW).report("depth", 0.3)
    assert job.status is JobStatus.PROCESSING and job.attempts == 1 and job.stage == "depth"
    done = job.complete(LATER, outputs={"a.png": "/x/a.png"}, output_dir="/x")
    assert done.status is JobStatus.COMPLETED and done.progress == 1.0 and done.finished
    assert done.started_at == NOW and done.finished_at == LATER


def test_a_failed_job_keeps_its_reason():
    job = new_job().start(NOW).fail(LATER, "depth map unreadable")
    assert job.status is JobStatus.FAILED and job.error == "depth map unreadable"


@pytest.mark.parametrize("source", list(JobStatus))
@pytest.mark.parametrize("target", list(JobStatus))
def test_only_the_allowed_transitions_happen(source, target):
    job = job_in(source)
    moves = {
        JobStatus.PENDING: lambda j: j.requeue() if j.status is JobStatus.PROCESSING else j.retry(),
        JobStatus.PROCESSING: lambda j: j.start(LATER),
        JobStatus.COMPLETED: lambda j: j.complete(LATER, outputs={}, output_dir="/x"),
        JobStatus.FAILED: lambda j: j.fail(LATER, "x"),
        JobStatus.CANCELLED: lambda j: j.cancel(LATER),
    }
    if target in ALLOWED_TRANSITIONS[source]:
        assert moves[target](job).status is target
    else:
        with pytest.raises(IllegalTransition):
            moves[target](job)


def test_a_completed_job_is_final():
    assert ALLOWED_TRANSITIONS[JobStatus.COMPLETED] == frozenset()


def test_progress_is_reported_only_while_processing_and_clamped():
    with pytest.raises(IllegalTransition):
        new_job().report("depth", 0.5)
    assert new_job().start(NOW).report("depth", 1.7).progress == 1.0


def test_a_retried_job_starts_clean_with_fresh_attempts():
    job = new_job().start(NOW).fail(LATER, "boom").retry()
    assert job.status is JobStatus.PENDING and job.error is None and job.finished_at is None
    assert job.start(LATER).attempts == 1


def test_a_requeued_job_keeps_counting_attempts():
    job = new_job().start(NOW, worker="host:1").requeue()
    assert job.status is JobStatus.PENDING and job.worker is None
    assert job.start(LATER).attempts == 2


STALE = timedelta(seconds=60)


def test_a_job_whose_worker_is_gone_is_orphaned_at_once():
    job = new_job().start(NOW, worker="host:1")
    assert job.is_orphaned(NOW, stale_after=STALE, worker_alive=False)
    assert not job.is_orphaned(NOW, stale_after=STALE, worker_alive=True)


def test_a_job_silent_for_too_long_is_orphaned_even_if_its_worker_lives():
    job = new_job().start(NOW, worker="host:1")
    assert job.is_orphaned(NOW + STALE + timedelta(seconds=1), stale_after=STALE, worker_alive=True)


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.COMPLETED, JobStatus.FAILED])
def test_only_processing_jobs_can_be_orphaned(status):
    assert not job_in(status).is_orphaned(LATER + STALE * 10, stale_after=STALE, worker_alive=False)


def test_engines_are_recorded_per_stage_as_progress_reports_them():
    job = new_job().start(NOW).report("depth", 0.1, {"depth": "classical"})
    job = job.report("post-process", 0.5, {"depth": "classical", "post-process": "unsharp"}).report("layers", 0.6)
    assert dict(job.engines) == {"depth": "classical", "post-process": "unsharp"}
