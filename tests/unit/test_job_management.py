"""Submitting, listing, cancelling, retrying, deleting and recovering jobs; presets. All on fakes."""

import time
from datetime import timedelta
from pathlib import Path

import attrs
import numpy as np
import pytest

from rilievo.application.recovery import MAX_ATTEMPTS, STALE_AFTER
from rilievo.domain.errors import (
    Conflict,
    FileNotFound,
    IllegalTransition,
    InvalidParameter,
    JobNotFound,
    PresetNotFound,
    StorageFull,
    StorageUnavailable,
    UploadNotFound,
)
from rilievo.domain.job import JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.presets import Preset
from rilievo.domain.workers import DIFFUSION, STANDARD
from tests.fakes import FakeDepth, decoded, make_fakes


@pytest.fixture
def fakes():
    pixels = np.random.default_rng(3).random((24, 32, 3), dtype=np.float32)
    return make_fakes({"photo.png": decoded(pixels)})


@pytest.fixture
def upload(fakes):
    return fakes.uploads.ingest(Path("photo.png"))


def test_variations_get_sequential_seeds_one_batch_and_are_queued_in_order(fakes, upload):
    batch = fakes.jobs.submit(upload.id, RenderParams(seed=100), variations=3)
    assert [job.params.seed for job in batch.jobs] == [100, 101, 102]
    assert {job.batch_id for job in batch.jobs} == {batch.id}
    assert fakes.queue.enqueued == [job.id for job in batch.jobs]
    assert all(fakes.jobs.get(job.id).status is JobStatus.PENDING for job in batch.jobs)


def test_painterly_jobs_wait_in_the_diffusion_lane_and_keep_it_when_retried(fakes, upload):
    painting = fakes.jobs.submit(upload.id, RenderParams(mode="painterly")).jobs[0]
    photo = fakes.jobs.submit(upload.id, RenderParams(mode="photo")).jobs[0]
    fakes.jobs.cancel(painting.id)
    fakes.jobs.retry(painting.id)
    assert fakes.queue.enqueued == [painting.id, photo.id, painting.id]
    assert fakes.queue.lanes == [DIFFUSION, STANDARD, DIFFUSION]


class DownQueue:
    """A queue whose server is down after it took `takes` jobs."""

    def __init__(self, takes: int = 0):
        self.takes, self.enqueued = takes, []

    def enqueue(self, job_id: str, lane: str) -> None:
        if len(self.enqueued) >= self.takes:
            raise StorageUnavailable("can't reach Redis at redis://queue:6379/0")
        self.enqueued.append(job_id)


def test_jobs_the_queue_could_not_take_are_not_kept_and_a_failed_retry_leaves_the_job_as_it_was(fakes, upload):
    fakes.queue = DownQueue(takes=1)
    with pytest.raises(StorageUnavailable, match="Redis"):
        fakes.jobs.submit(upload.id, RenderParams(), variations=3)
    assert list(fakes.job_repository.jobs) == fakes.queue.enqueued  # the one queued stays, the two others go
    (queued,) = fakes.queue.enqueued
    fakes.jobs.cancel(queued)
    with pytest.raises(StorageUnavailable):
        fakes.jobs.retry(queued)
    assert fakes.jobs.get(queued).status is JobStatus.CANCELLED


@pytest.mark.parametrize("variations", [0, 4, "2", True])
def test_a_bad_variation_count_queues_nothing(fakes, upload, variations):
    with pytest.raises(InvalidParameter, match="variations"):
        fakes.jobs.submit(upload.id, RenderParams(), variations=variations)
    assert fakes.queue.enqueued == [] and fakes.job_repository.jobs == {}


def test_an_unknown_upload_queues_nothing(fakes):
    with pytest.raises(UploadNotFound):
        fakes.jobs.submit("missing", RenderParams())
    assert fakes.queue.enqueued == []


def test_the_last_submitted_parameters_are_remembered_for_the_form(fakes, upload):
    assert fakes.presets.last_used_params() == RenderParams()
    fakes.jobs.submit(upload.id, RenderParams(seed=7, feather=5), variations=2)
    assert fakes.presets.last_used_params() == RenderParams(seed=7, feather=5)


def test_a_queued_job_runs_when_the_worker_takes_it(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    done = fakes.runner.work_on(job.id)
    assert done.status is JobStatus.COMPLETED
    assert fakes.jobs.file(job.id, "depth_map.png").name == "depth_map.png"


def test_only_files_the_job_recorded_are_served(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    fakes.runner.run(job.id)
    for name in ("../rilievo.sqlite3", "params.json/..", "nothing.png"):
        with pytest.raises(FileNotFound):
            fakes.jobs.file(job.id, name)


def test_history_is_newest_first_with_a_total(fakes, upload):
    first = fakes.jobs.submit(upload.id, RenderParams()).jobs[0]
    second = fakes.jobs.submit(upload.id, RenderParams(), variations=2).jobs
    jobs, total = fakes.jobs.page(limit=2)
    assert total == 3 and [job.id for job in jobs] == [second[1].id, second[0].id]
    jobs, _ = fakes.jobs.page(limit=2, offset=2)
    assert [job.id for job in jobs] == [first.id]


def test_a_cancelled_pending_job_is_skipped_by_the_worker(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    assert fakes.jobs.cancel(job.id).status is JobStatus.CANCELLED
    assert fakes.runner.work_on(job.id) is None
    assert fakes.jobs.get(job.id).status is JobStatus.CANCELLED
    assert fakes.files.published == {}


def test_a_job_deleted_while_queued_is_skipped_by_the_worker(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    fakes.jobs.delete(job.id)
    assert fakes.runner.work_on(job.id) is None


def test_a_job_cancelled_while_running_stops_and_publishes_nothing(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs

    def cancel_during_depth(progress):
        if progress.stage == "depth":
            fakes.jobs.cancel(job.id)

    finished = fakes.runner.run(job.id, on_progress=cancel_during_depth)
    assert finished.status is JobStatus.CANCELLED
    assert fakes.files.published == {} and fakes.files.working == {}


def test_a_failed_job_is_retried_from_the_start(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    fakes.pipeline.depth.error = RuntimeError("out of memory")
    assert fakes.runner.run(job.id).status is JobStatus.FAILED
    fakes.pipeline.depth.error = None
    retried = fakes.jobs.retry(job.id)
    assert retried.status is JobStatus.PENDING and retried.error is None
    assert fakes.queue.enqueued == [job.id, job.id]
    assert fakes.runner.run(job.id).status is JobStatus.COMPLETED


def test_a_completed_job_is_not_retried(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    fakes.runner.run(job.id)
    with pytest.raises(IllegalTransition):
        fakes.jobs.retry(job.id)


def test_deleting_a_job_removes_its_record_and_files(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    fakes.runner.run(job.id)
    fakes.jobs.delete(job.id)
    assert fakes.job_repository.jobs == {} and fakes.files.published == {}


def test_a_running_job_is_not_deleted(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    fakes.job_repository.save(fakes.jobs.get(job.id).start(fakes.clock(), worker="w:1"))
    with pytest.raises(Conflict, match="cancel"):
        fakes.jobs.delete(job.id)


def start_on_dead_worker(fakes, job_id, worker="host:999"):
    started = fakes.jobs.get(job_id).start(fakes.clock(), worker=worker)
    fakes.job_repository.save(started)
    fakes.job_repository.touch(job_id, started.attempt_id, fakes.clock())
    return started


def test_a_job_of_a_dead_worker_is_queued_again_once_then_failed_with_the_reason(fakes, upload):
    fakes.liveness.answer = False
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    for attempt in range(1, MAX_ATTEMPTS + 1):
        start_on_dead_worker(fakes, job.id)
        (recovered,) = fakes.recovery.recover_orphans()
        if attempt < MAX_ATTEMPTS:
            assert recovered.status is JobStatus.PENDING and recovered.worker is None
    assert recovered.status is JobStatus.FAILED
    assert "worker" in recovered.error and "stopped" in recovered.error
    assert fakes.queue.enqueued == [job.id] * MAX_ATTEMPTS
    assert fakes.recovery.recover_orphans() == []


class StaleSnapshot:
    """A repository read a moment ago by a second worker's recovery: processing() answers what it saw then."""

    def __init__(self, repository, processing):
        self.repository, self.seen = repository, processing

    def processing(self):
        return self.seen

    def __getattr__(self, name):
        return getattr(self.repository, name)


def test_a_second_workers_late_recovery_of_the_same_orphan_leaves_its_new_attempt_alone(fakes, upload):
    fakes.liveness.answer = False
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    dead = start_on_dead_worker(fakes, job.id)
    fakes.files.write_json(dead.run_key, "dead.json", {})
    seen_by_the_second = fakes.job_repository.processing()
    (recovered,) = fakes.recovery.recover_orphans()  # the first worker's check, at the same minute
    rerun = start_on_dead_worker(fakes, job.id, worker="host:2")  # a third worker takes it again at once
    fakes.files.write_json(rerun.run_key, "rerun.json", {})
    late = attrs.evolve(fakes.recovery, jobs=StaleSnapshot(fakes.job_repository, seen_by_the_second))
    assert late.recover_orphans() == []
    assert fakes.files.working == {rerun.run_key: {"rerun.json": {}}}  # the dead attempt's files went, not these
    assert fakes.jobs.get(job.id).attempt_id == rerun.attempt_id


def test_a_live_worker_keeps_its_job_until_its_heartbeat_goes_stale(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    start_on_dead_worker(fakes, job.id)
    assert fakes.recovery.recover_orphans() == [] and fakes.liveness.asked == ["host:999"]
    fakes.clock.now += STALE_AFTER + timedelta(seconds=1)
    (recovered,) = fakes.recovery.recover_orphans()
    assert recovered.status is JobStatus.PENDING


def test_a_job_with_no_owner_on_record_is_recovered_only_once_its_heartbeat_goes_stale(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    fakes.liveness.answer = False
    start_on_dead_worker(fakes, job.id, worker=None)
    assert fakes.recovery.recover_orphans() == []
    fakes.clock.now += STALE_AFTER + timedelta(seconds=1)
    (recovered,) = fakes.recovery.recover_orphans()
    assert recovered.status is JobStatus.PENDING and fakes.liveness.asked == []


def test_a_command_line_run_records_its_process_as_the_owner(fakes, upload):
    fakes.worker_id = "laptop:4242"
    job = fakes.jobs.create(upload.id, RenderParams())
    seen = []
    fakes.runner.run(job.id, on_progress=lambda progress: seen.append(progress.worker))
    assert set(seen) == {"laptop:4242"}


def test_a_cancelled_run_whose_job_another_worker_retried_stops_and_leaves_the_retry_alone(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    retry = {}

    def cancel_retry_and_start_elsewhere(progress):
        if progress.stage == "layers" and not retry:
            fakes.jobs.cancel(job.id)
            fakes.jobs.retry(job.id)
            retry["job"] = start_on_dead_worker(fakes, job.id, worker="other:2")
            fakes.files.write_json(retry["job"].run_key, "theirs.json", {})

    first = fakes.runner.run(job.id, on_progress=cancel_retry_and_start_elsewhere)
    stored = fakes.jobs.get(job.id)
    assert first == stored and stored.status is JobStatus.PROCESSING
    assert stored.attempt_id == retry["job"].attempt_id != None and stored.worker == "other:2"
    assert list(fakes.files.working) == [retry["job"].run_key]  # only the retry's files are left
    assert fakes.files.published == {}


def test_a_run_whose_job_is_deleted_meanwhile_stops_without_a_trace(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs

    def cancel_and_delete(progress):
        if progress.stage == "layers" and fakes.job_repository.jobs.get(job.id):
            fakes.jobs.cancel(job.id)
            fakes.jobs.delete(job.id)

    with pytest.raises(JobNotFound):  # the worker's work_on takes this as "nothing to do"
        fakes.runner.run(job.id, on_progress=cancel_and_delete)
    assert fakes.job_repository.jobs == {} and fakes.files.working == {} and fakes.files.published == {}


def test_a_failure_a_full_disk_keeps_out_of_the_database_is_run_again_by_recovery_once_there_is_room(
        fakes, upload, monkeypatch):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    disk = {"full": False}
    save = fakes.job_repository.save

    def save_unless_full(job, *, expect=None):
        if disk["full"]:
            raise StorageFull("the disk is full: the database /x/rilievo.sqlite3 can't grow")
        save(job, expect=expect)

    def fill_the_disk(progress):
        disk["full"] = disk["full"] or progress.stage == "layers"

    monkeypatch.setattr(fakes.job_repository, "save", save_unless_full)
    failed = fakes.runner.run(job.id, on_progress=fill_the_disk)
    assert failed.status is JobStatus.FAILED and failed.error.startswith("the disk is full")
    assert fakes.jobs.get(job.id).status is JobStatus.PROCESSING  # it could not be recorded
    assert fakes.files.working == {}
    disk["full"] = False
    fakes.clock.now += STALE_AFTER + timedelta(seconds=1)
    (recovered,) = fakes.recovery.recover_orphans()
    assert recovered.status is JobStatus.PENDING and fakes.queue.enqueued == [job.id, job.id]


def test_retrying_a_job_whose_upload_was_removed_is_refused_as_a_conflict(fakes, upload):
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    fakes.jobs.cancel(job.id)
    fakes.upload_store.remove(upload.id)
    with pytest.raises(Conflict, match="upload .* was removed"):
        fakes.jobs.retry(job.id)
    assert fakes.jobs.get(job.id).status is JobStatus.CANCELLED and fakes.queue.enqueued == [job.id]


def test_presets_are_created_listed_replaced_and_deleted(fakes):
    fakes.presets.create(Preset("Soft", RenderParams(feather=6)))
    fakes.presets.create(Preset("Crisp", RenderParams(feather=0, sharpen=0.8)))
    assert [preset.name for preset in fakes.presets.all()] == ["Crisp", "Soft"]
    with pytest.raises(Conflict):
        fakes.presets.create(Preset("Soft", RenderParams()))
    fakes.presets.replace(Preset("Soft", RenderParams(feather=9)))
    assert fakes.presets.get("Soft").params.feather == 9
    fakes.presets.delete("Soft")
    with pytest.raises(PresetNotFound):
        fakes.presets.get("Soft")


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "params": {}},
        {"name": "../etc", "params": {}},
        {"name": "ok", "params": {"feather": 11}},
        {"name": "ok", "params": {"colour": "red"}},
        {"name": "ok"},
        {"name": "ok", "params": {}, "extra": 1},
    ],
)
def test_invalid_presets_are_refused(data):
    with pytest.raises(InvalidParameter):
        Preset.from_mapping(data)


def test_an_exported_preset_imports_back_equal():
    preset = Preset("Gallery wrap", RenderParams(layers=4, feather=3, sharpen=0.25))
    assert Preset.from_mapping(preset.to_dict()) == preset


class SlowDepth(FakeDepth):
    """Waits inside the depth stage until the job's heartbeat moves (or gives up after 2 s)."""

    def __init__(self, fakes):
        super().__init__()
        self.fakes, self.beats_seen = fakes, 0

    def estimate(self, image):
        (job,) = self.fakes.job_repository.processing()
        seen = job.heartbeat_at
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and self.beats_seen < 2:
            beat = self.fakes.job_repository.get(job.id).heartbeat_at
            if beat != seen:
                self.beats_seen, seen = self.beats_seen + 1, beat
            time.sleep(0.005)
        return super().estimate(image)


def test_a_long_stage_keeps_touching_the_heartbeat(fakes, upload):
    fakes.pipeline.depth = SlowDepth(fakes)
    fakes.heartbeat_every_s = 0.02
    (job,) = fakes.jobs.submit(upload.id, RenderParams()).jobs
    assert fakes.runner.work_on(job.id).status is JobStatus.COMPLETED
    assert fakes.pipeline.depth.beats_seen == 2


def test_a_stopping_worker_hands_back_only_its_own_jobs_without_using_an_attempt(fakes, upload):
    mine, theirs = fakes.jobs.submit(upload.id, RenderParams(), variations=2).jobs
    fakes.job_repository.save(fakes.jobs.get(mine.id).start(fakes.clock(), worker="host:1"))
    fakes.job_repository.save(fakes.jobs.get(theirs.id).start(fakes.clock(), worker="host:2"))
    (released,) = fakes.recovery.release_jobs_of("host:1")
    assert released.id == mine.id
    stored = fakes.jobs.get(mine.id)
    assert stored.status is JobStatus.PENDING and stored.attempts == 0 and stored.worker is None
    assert fakes.jobs.get(theirs.id).status is JobStatus.PROCESSING
    assert fakes.queue.enqueued[-1] == mine.id
