"""The storage cleanup: the policy as properties, the use case on fakes."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rilievo.domain.cleanup import CleanupPolicy, Kept, StoredJob, parse_size, plan_cleanup
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.job import FINISHED, Job, JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.upload import Upload
from tests.fakes import InMemoryJobs, make_fakes

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
GB = 10**9


@st.composite
def stored_jobs(draw) -> list[StoredJob]:
    count = draw(st.integers(0, 25))
    return [
        StoredJob(
            id=f"job{index}",
            status=draw(st.sampled_from(JobStatus)),
            since=NOW - timedelta(hours=draw(st.integers(0, 24 * 90))),
            bytes=draw(st.integers(0, 5 * GB)),
            in_store=draw(st.booleans() | st.just(True)),
        )
        for index in range(count)
    ]


policies = st.builds(
    CleanupPolicy.of,
    older_than_days=st.none() | st.floats(0, 120),
    budget_bytes=st.none() | st.integers(0, 60 * GB),
)


def left_bytes(jobs: list[StoredJob], removed: tuple[StoredJob, ...]) -> int:
    return sum(job.bytes for job in jobs if job.in_store) - sum(job.bytes for job in removed)


@given(stored_jobs(), policies)
def test_no_waiting_running_or_outside_job_is_ever_selected(jobs, policy):
    """Everything selected is finished and its files are in the store."""
    for job in plan_cleanup(jobs, policy, NOW).remove:
        assert job.status in FINISHED and job.in_store


@given(stored_jobs(), policies)
def test_every_job_is_either_removed_or_kept_once(jobs, policy):
    plan = plan_cleanup(jobs, policy, NOW)
    assert sorted([job.id for job in plan.remove] + [job.id for job, _ in plan.kept]) == sorted(j.id for j in jobs)


@given(stored_jobs(), policies)
def test_expired_are_exactly_the_finished_jobs_older_than_the_cutoff(jobs, policy):
    plan = plan_cleanup(jobs, policy, NOW)
    cutoff = policy.cutoff(NOW)
    expected = {job.id for job in jobs if job.removable and cutoff is not None and job.since < cutoff}
    assert {job.id for job in plan.expired} == expected


@given(stored_jobs(), policies)
def test_jobs_removed_for_the_budget_are_the_oldest_and_no_more_than_needed(jobs, policy):
    """Each is no newer than any finished job kept, and without the last of them the rest would not fit."""
    plan = plan_cleanup(jobs, policy, NOW)
    recent = [job for job, reason in plan.kept if reason is Kept.RECENT]
    for job in plan.over_budget:
        assert all((job.since, job.id) < (other.since, other.id) for other in recent)
    if plan.over_budget:
        assert left_bytes(jobs, plan.remove[:-1]) > policy.budget_bytes


@given(stored_jobs(), policies)
def test_what_is_left_fits_the_budget_unless_only_unremovable_jobs_remain(jobs, policy):
    plan = plan_cleanup(jobs, policy, NOW)
    if policy.budget_bytes is not None and left_bytes(jobs, plan.remove) > policy.budget_bytes:
        assert all(reason in (Kept.RUNNING, Kept.PENDING, Kept.OUTSIDE) for _, reason in plan.kept)


@given(stored_jobs())
def test_without_an_age_or_a_budget_nothing_is_removed(jobs):
    assert plan_cleanup(jobs, CleanupPolicy(), NOW).remove == ()


@pytest.mark.parametrize("text, size", [
    ("50GB", 50 * GB), ("500 MB", 500 * 10**6), ("1.5TB", 1_500 * GB), ("2GiB", 2 * 2**30), ("4.35kb", 4_350),
    ("123", 123), ("10 G", 10 * GB), (" 7B ", 7), ("0", 0),
])
def test_storage_sizes_are_read_with_their_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "GB", "-5GB", "50XB", "5 GB GB", "1e3", "5,5GB", "five"])
def test_anything_else_is_not_a_size(text):
    with pytest.raises(InvalidParameter, match="50GB or 500MB"):
        parse_size(text)


@given(st.integers(0, 10**6), st.sampled_from(["", "B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"]))
def test_a_whole_number_of_units_is_exact(count, unit):
    factor = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
              "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
    assert parse_size(f"{count}{unit}") == count * factor


@pytest.mark.parametrize("days, budget", [
    (-1, None), (float("nan"), None), (float("inf"), None), (True, None), ("30", None),
    (None, -1), (None, 1.5), (None, True),
])
def test_a_negative_or_malformed_limit_is_refused(days, budget):
    with pytest.raises(InvalidParameter):
        CleanupPolicy.of(older_than_days=days, budget_bytes=budget)


# --- the use case, on fakes -------------------------------------------------------------------------


@pytest.fixture
def fakes():
    return make_fakes({})


def add_job(fakes, status: JobStatus, *, days_ago: float, size: int = 0, upload_id: str = "u1",
            destination: Path | None = None) -> Job:
    """A job in the repository as if it had run days_ago; a completed one with size bytes published."""
    then = NOW - timedelta(days=days_ago)
    job = Job.create(upload_id=upload_id, params=RenderParams(), now=then)
    if status is not JobStatus.PENDING:
        job = job.start(then, worker="host:1")
    if status is JobStatus.COMPLETED:
        output_dir = (destination or fakes.files.OUTPUTS) / job.id
        fakes.files.published[output_dir] = {"print.tif": b"x" * size}
        job = job.complete(then, outputs={"print.tif": str(output_dir / "print.tif")}, output_dir=str(output_dir))
    elif status is JobStatus.FAILED:
        job = job.fail(then, "out of memory")
    elif status is JobStatus.CANCELLED:
        job = job.cancel(then)
    fakes.job_repository.add(job)
    return job


def add_upload(fakes, upload_id: str, *, days_ago: float, size: int = 100) -> Upload:
    upload = Upload(id=upload_id, original_name=f"{upload_id}.jpg", format="JPEG", width=4, height=3,
                    bytes=size, created_at=NOW - timedelta(days=days_ago))
    fakes.upload_store.uploads[upload_id] = upload
    return upload


def test_finished_jobs_past_the_age_go_with_their_files_and_unfinished_ones_stay(fakes):
    old = [add_job(fakes, status, days_ago=40, size=10)
           for status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)]
    running = add_job(fakes, JobStatus.PROCESSING, days_ago=40)
    waiting = add_job(fakes, JobStatus.PENDING, days_ago=40)
    recent = add_job(fakes, JobStatus.COMPLETED, days_ago=2, size=5)
    report = fakes.cleanup.clean_up(older_than_days=30, budget_bytes=None, now=NOW)
    assert set(report.removed_jobs) == {job.id for job in old}
    assert set(fakes.job_repository.jobs) == {running.id, waiting.id, recent.id}
    assert list(fakes.files.published) == [fakes.files.OUTPUTS / recent.id]
    assert {job.id for job in old} <= set(fakes.files.discarded)
    assert (report.removed_bytes, report.expired, report.over_budget) == (10, 3, 0)
    assert dict(report.kept) == {"running": 1, "waiting to run": 1, "within the age and budget": 1}


def test_the_oldest_finished_jobs_go_until_the_files_fit_the_budget(fakes):
    jobs = [add_job(fakes, JobStatus.COMPLETED, days_ago=days, size=1_000) for days in (5, 4, 3, 2, 1)]
    add_job(fakes, JobStatus.PROCESSING, days_ago=10)
    report = fakes.cleanup.clean_up(older_than_days=None, budget_bytes=2_500, now=NOW)
    assert report.removed_jobs == tuple(job.id for job in jobs[:3])
    assert (report.used_bytes, report.remaining_bytes, report.over_budget_still) == (5_000, 2_000, False)
    assert sorted(fakes.job_repository.jobs) == sorted([jobs[3].id, jobs[4].id, *(j.id for j in fakes.job_repository.processing())])


def test_age_first_then_the_budget(fakes):
    expired = add_job(fakes, JobStatus.FAILED, days_ago=50)
    older, newer = (add_job(fakes, JobStatus.COMPLETED, days_ago=days, size=1_000) for days in (3, 1))
    report = fakes.cleanup.clean_up(older_than_days=30, budget_bytes=1_000, now=NOW)
    assert report.removed_jobs == (expired.id, older.id)
    assert (report.expired, report.over_budget) == (1, 1)
    assert list(fakes.job_repository.jobs) == [newer.id]


def test_running_jobs_alone_over_the_budget_are_kept_and_reported(fakes):
    add_job(fakes, JobStatus.PROCESSING, days_ago=1)
    add_job(fakes, JobStatus.PENDING, days_ago=1)
    report = fakes.cleanup.clean_up(older_than_days=0, budget_bytes=0, now=NOW)
    assert report.removed_jobs == () and len(fakes.job_repository.jobs) == 2
    assert dict(report.kept) == {"running": 1, "waiting to run": 1}


def test_a_dry_run_reports_the_same_and_removes_nothing(fakes):
    for days in (40, 35, 1):
        add_job(fakes, JobStatus.COMPLETED, days_ago=days, size=7, upload_id=f"u{days}")
    add_upload(fakes, "orphan", days_ago=60)
    before = (dict(fakes.job_repository.jobs), dict(fakes.files.published), dict(fakes.upload_store.uploads))
    dry = fakes.cleanup.clean_up(older_than_days=30, budget_bytes=None, now=NOW, dry_run=True)
    assert (dict(fakes.job_repository.jobs), dict(fakes.files.published), dict(fakes.upload_store.uploads)) == before
    real = fakes.cleanup.clean_up(older_than_days=30, budget_bytes=None, now=NOW)
    assert dry.dry_run and not real.dry_run
    assert (dry.removed_jobs, dry.removed_bytes, dry.removed_uploads) == \
        (real.removed_jobs, real.removed_bytes, real.removed_uploads)


def test_files_in_a_folder_the_user_chose_are_never_removed(fakes):
    mine = add_job(fakes, JobStatus.COMPLETED, days_ago=90, size=1_000, destination=Path("/home/me/prints"))
    report = fakes.cleanup.clean_up(older_than_days=1, budget_bytes=0, now=NOW)
    assert report.removed_jobs == () and mine.id in fakes.job_repository.jobs
    assert dict(report.kept) == {"files outside storage": 1} and report.used_bytes == 0


def test_uploads_no_remaining_job_uses_go_once_older_than_the_cutoff(fakes):
    add_job(fakes, JobStatus.COMPLETED, days_ago=40, upload_id="gone")  # removed: its photo is unused now
    add_job(fakes, JobStatus.PENDING, days_ago=40, upload_id="waiting")
    add_job(fakes, JobStatus.COMPLETED, days_ago=1, upload_id="recent")
    for upload_id in ("gone", "waiting", "recent"):
        add_upload(fakes, upload_id, days_ago=40)
    add_upload(fakes, "unused", days_ago=45, size=300)
    add_upload(fakes, "fresh", days_ago=1)  # uploaded, not yet submitted
    report = fakes.cleanup.clean_up(older_than_days=30, budget_bytes=None, now=NOW)
    assert sorted(report.removed_uploads) == ["gone", "unused"] and report.removed_upload_bytes == 400
    assert sorted(fakes.upload_store.uploads) == ["fresh", "recent", "waiting"]


def test_a_budget_alone_removes_no_upload(fakes):
    add_upload(fakes, "unused", days_ago=400)
    report = fakes.cleanup.clean_up(older_than_days=None, budget_bytes=0, now=NOW)
    assert report.removed_uploads == () and "unused" in fakes.upload_store.uploads


class RetriedDuringCleanup(InMemoryJobs):
    """Hands the cleanup a listing, then the user retries a failed job before it is removed."""

    retry_id: str | None = None

    def all(self):
        listing = super().all()
        if self.retry_id is not None:
            self.save(self.get(self.retry_id).retry())
            self.retry_id = None
        return listing


def test_a_job_retried_during_the_cleanup_is_kept():
    fakes = make_fakes({}, job_repository=RetriedDuringCleanup())
    failed = add_job(fakes, JobStatus.FAILED, days_ago=40)
    fakes.job_repository.retry_id = failed.id
    report = fakes.cleanup.clean_up(older_than_days=30, budget_bytes=None, now=NOW)
    assert report.removed_jobs == () and dict(report.kept) == {"changed during the cleanup": 1}
    assert fakes.jobs.get(failed.id).status is JobStatus.PENDING


def test_the_clock_gives_now_by_default(fakes):
    add_job(fakes, JobStatus.COMPLETED, days_ago=1)
    fakes.clock.now = NOW + timedelta(days=40)
    assert len(fakes.cleanup.clean_up(older_than_days=30, budget_bytes=None).removed_jobs) == 1


def test_bad_limits_are_refused_before_anything_is_removed(fakes):
    add_job(fakes, JobStatus.COMPLETED, days_ago=40)
    with pytest.raises(InvalidParameter, match="older_than_days"):
        fakes.cleanup.clean_up(older_than_days=-1, budget_bytes=None, now=NOW)
    assert len(fakes.job_repository.jobs) == 1
