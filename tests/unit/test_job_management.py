"""Submitting, listing, cancelling, retrying, deleting and recovering jobs; presets. All on fakes."""

import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from rilievo.application.services import MAX_ATTEMPTS, STALE_AFTER
from rilievo.domain.errors import (
    Conflict,
    FileNotFound,
    IllegalTransition,
    InvalidParameter,
    JobNotFound,
    PresetNotFound,
    StorageFull,
    UploadNotFound,
)
from rilievo.domain.job import JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.presets import Preset
from tests.fakes import FakeDepth, decoded, fake_services


@pytest.fixture
def services():
    pixels = np.random.default_rng(3).random((24, 32, 3), dtype=np.float32)
    return fake_services({"photo.png": decoded(pixels)})


@pytest.fixture
def upload(services):
    return services.ingest(Path("photo.png"))


def test_variations_get_sequential_seeds_one_batch_and_are_queued_in_order(services, upload):
    batch = services.submit(upload.id, RenderParams(seed=100), variations=3)
    assert [job.params.seed for job in batch.jobs] == [100, 101, 102]
    assert {job.batch_id for job in batch.jobs} == {batch.id}
    assert services.queue.enqueued == [job.id for job in batch.jobs]
    assert all(services.get_job(job.id).status is JobStatus.PENDING for job in batch.jobs)


@pytest.mark.parametrize("variations", [0, 4, "2", True])
def test_a_bad_variation_count_queues_nothing(services, upload, variations):
    with pytest.raises(InvalidParameter, match="variations"):
        services.submit(upload.id, RenderParams(), variations=variations)
    assert services.queue.enqueued == [] and services.jobs.jobs == {}


def test_an_unknown_upload_queues_nothing(services):
    with pytest.raises(UploadNotFound):
        services.submit("missing", RenderParams())
    assert services.queue.enqueued == []


def test_the_last_submitted_parameters_are_remembered_for_the_form(services, upload):
    assert services.last_used_params() == RenderParams()
    services.submit(upload.id, RenderParams(seed=7, feather=5), variations=2)
    assert services.last_used_params() == RenderParams(seed=7, feather=5)


def test_a_queued_job_runs_when_the_worker_takes_it(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    done = services.work_on(job.id)
    assert done.status is JobStatus.COMPLETED
    assert services.job_file(job.id, "depth_map.png").name == "depth_map.png"


def test_only_files_the_job_recorded_are_served(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    services.run_job(job.id)
    for name in ("../rilievo.sqlite3", "params.json/..", "nothing.png"):
        with pytest.raises(FileNotFound):
            services.job_file(job.id, name)


def test_history_is_newest_first_with_a_total(services, upload):
    first = services.submit(upload.id, RenderParams()).jobs[0]
    second = services.submit(upload.id, RenderParams(), variations=2).jobs
    jobs, total = services.list_jobs(limit=2)
    assert total == 3 and [job.id for job in jobs] == [second[1].id, second[0].id]
    jobs, _ = services.list_jobs(limit=2, offset=2)
    assert [job.id for job in jobs] == [first.id]


def test_a_cancelled_pending_job_is_skipped_by_the_worker(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    assert services.cancel_job(job.id).status is JobStatus.CANCELLED
    assert services.work_on(job.id) is None
    assert services.get_job(job.id).status is JobStatus.CANCELLED
    assert services.folders.published == {}


def test_a_job_deleted_while_queued_is_skipped_by_the_worker(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    services.delete_job(job.id)
    assert services.work_on(job.id) is None


def test_a_job_cancelled_while_running_stops_and_publishes_nothing(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs

    def cancel_during_depth(progress):
        if progress.stage == "depth":
            services.cancel_job(job.id)

    finished = services.run_job(job.id, on_progress=cancel_during_depth)
    assert finished.status is JobStatus.CANCELLED
    assert services.folders.published == {} and services.folders.working == {}


def test_a_failed_job_is_retried_from_the_start(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    services.pipeline.depth.error = RuntimeError("out of memory")
    assert services.run_job(job.id).status is JobStatus.FAILED
    services.pipeline.depth.error = None
    retried = services.retry_job(job.id)
    assert retried.status is JobStatus.PENDING and retried.error is None
    assert services.queue.enqueued == [job.id, job.id]
    assert services.run_job(job.id).status is JobStatus.COMPLETED


def test_a_completed_job_is_not_retried(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    services.run_job(job.id)
    with pytest.raises(IllegalTransition):
        services.retry_job(job.id)


def test_deleting_a_job_removes_its_record_and_files(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    services.run_job(job.id)
    services.delete_job(job.id)
    assert services.jobs.jobs == {} and services.folders.published == {}


def test_a_running_job_is_not_deleted(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    services.jobs.save(services.get_job(job.id).start(services.clock(), worker="w:1"))
    with pytest.raises(Conflict, match="cancel"):
        services.delete_job(job.id)


def start_on_dead_worker(services, job_id, worker="host:999"):
    started = services.get_job(job_id).start(services.clock(), worker=worker)
    services.jobs.save(started)
    services.jobs.touch(job_id, started.attempt_id, services.clock())
    return started


def test_a_job_of_a_dead_worker_is_queued_again_once_then_failed_with_the_reason(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    for attempt in range(1, MAX_ATTEMPTS + 1):
        start_on_dead_worker(services, job.id)
        (recovered,) = services.recover_orphans(worker_alive=lambda worker: False)
        if attempt < MAX_ATTEMPTS:
            assert recovered.status is JobStatus.PENDING and recovered.worker is None
    assert recovered.status is JobStatus.FAILED
    assert "worker" in recovered.error and "stopped" in recovered.error
    assert services.queue.enqueued == [job.id] * MAX_ATTEMPTS
    assert services.recover_orphans(worker_alive=lambda worker: False) == []


def test_a_live_worker_keeps_its_job_until_its_heartbeat_goes_stale(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    start_on_dead_worker(services, job.id)
    assert services.recover_orphans(worker_alive=lambda worker: True) == []
    services.clock.now += STALE_AFTER + timedelta(seconds=1)
    (recovered,) = services.recover_orphans(worker_alive=lambda worker: True)
    assert recovered.status is JobStatus.PENDING


def test_a_job_with_no_owner_on_record_is_recovered_only_once_its_heartbeat_goes_stale(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    start_on_dead_worker(services, job.id, worker=None)
    assert services.recover_orphans(worker_alive=lambda worker: False) == []
    services.clock.now += STALE_AFTER + timedelta(seconds=1)
    (recovered,) = services.recover_orphans(worker_alive=lambda worker: False)
    assert recovered.status is JobStatus.PENDING


def test_a_command_line_run_records_its_process_as_the_owner(services, upload):
    services.worker_id = "laptop:4242"
    job = services.create_job(upload.id, RenderParams())
    seen = []
    services.run_job(job.id, on_progress=lambda progress: seen.append(progress.worker))
    assert set(seen) == {"laptop:4242"}


def test_a_cancelled_run_whose_job_another_worker_retried_stops_and_leaves_the_retry_alone(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    retry = {}

    def cancel_retry_and_start_elsewhere(progress):
        if progress.stage == "layers" and not retry:
            services.cancel_job(job.id)
            services.retry_job(job.id)
            retry["job"] = start_on_dead_worker(services, job.id, worker="other:2")
            services.work_files.write_json(retry["job"].run_key, "theirs.json", {})

    first = services.run_job(job.id, on_progress=cancel_retry_and_start_elsewhere)
    stored = services.get_job(job.id)
    assert first == stored and stored.status is JobStatus.PROCESSING
    assert stored.attempt_id == retry["job"].attempt_id != None and stored.worker == "other:2"
    assert list(services.folders.working) == [retry["job"].run_key]  # only the retry's files are left
    assert services.folders.published == {}


def test_a_run_whose_job_is_deleted_meanwhile_stops_without_a_trace(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs

    def cancel_and_delete(progress):
        if progress.stage == "layers" and services.jobs.jobs.get(job.id):
            services.cancel_job(job.id)
            services.delete_job(job.id)

    with pytest.raises(JobNotFound):  # the worker's work_on takes this as "nothing to do"
        services.run_job(job.id, on_progress=cancel_and_delete)
    assert services.jobs.jobs == {} and services.folders.working == {} and services.folders.published == {}


def test_a_failure_a_full_disk_keeps_out_of_the_database_is_run_again_by_recovery_once_there_is_room(
        services, upload, monkeypatch):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    disk = {"full": False}
    save = services.jobs.save

    def save_unless_full(job, *, expect=None):
        if disk["full"]:
            raise StorageFull("the disk is full: the database /x/rilievo.sqlite3 can't grow")
        save(job, expect=expect)

    def fill_the_disk(progress):
        disk["full"] = disk["full"] or progress.stage == "layers"

    monkeypatch.setattr(services.jobs, "save", save_unless_full)
    failed = services.run_job(job.id, on_progress=fill_the_disk)
    assert failed.status is JobStatus.FAILED and failed.error.startswith("the disk is full")
    assert services.get_job(job.id).status is JobStatus.PROCESSING  # it could not be recorded
    assert services.folders.working == {}
    disk["full"] = False
    services.clock.now += STALE_AFTER + timedelta(seconds=1)
    (recovered,) = services.recover_orphans(worker_alive=lambda worker: True)
    assert recovered.status is JobStatus.PENDING and services.queue.enqueued == [job.id, job.id]


def test_retrying_a_job_whose_upload_was_removed_is_refused_as_a_conflict(services, upload):
    (job,) = services.submit(upload.id, RenderParams()).jobs
    services.cancel_job(job.id)
    services.uploads.remove(upload.id)
    with pytest.raises(Conflict, match="upload .* was removed"):
        services.retry_job(job.id)
    assert services.get_job(job.id).status is JobStatus.CANCELLED and services.queue.enqueued == [job.id]


def test_presets_are_created_listed_replaced_and_deleted(services):
    services.create_preset(Preset("Soft", RenderParams(feather=6)))
    services.create_preset(Preset("Crisp", RenderParams(feather=0, sharpen=0.8)))
    assert [preset.name for preset in services.list_presets()] == ["Crisp", "Soft"]
    with pytest.raises(Conflict):
        services.create_preset(Preset("Soft", RenderParams()))
    services.replace_preset(Preset("Soft", RenderParams(feather=9)))
    assert services.get_preset("Soft").params.feather == 9
    services.delete_preset("Soft")
    with pytest.raises(PresetNotFound):
        services.get_preset("Soft")


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

    def __init__(self, services):
        super().__init__()
        self.services, self.beats_seen = services, 0

    def estimate(self, image):
        (job,) = self.services.jobs.processing()
        seen = job.heartbeat_at
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and self.beats_seen < 2:
            beat = self.services.jobs.get(job.id).heartbeat_at
            if beat != seen:
                self.beats_seen, seen = self.beats_seen + 1, beat
            time.sleep(0.005)
        return super().estimate(image)


def test_a_long_stage_keeps_touching_the_heartbeat(services, upload):
    services.pipeline.depth = SlowDepth(services)
    services.heartbeat_every_s = 0.02
    (job,) = services.submit(upload.id, RenderParams()).jobs
    assert services.work_on(job.id).status is JobStatus.COMPLETED
    assert services.pipeline.depth.beats_seen == 2


def test_a_stopping_worker_hands_back_only_its_own_jobs_without_using_an_attempt(services, upload):
    mine, theirs = services.submit(upload.id, RenderParams(), variations=2).jobs
    services.jobs.save(services.get_job(mine.id).start(services.clock(), worker="host:1"))
    services.jobs.save(services.get_job(theirs.id).start(services.clock(), worker="host:2"))
    (released,) = services.release_jobs_of("host:1")
    assert released.id == mine.id
    stored = services.get_job(mine.id)
    assert stored.status is JobStatus.PENDING and stored.attempts == 0 and stored.worker is None
    assert services.get_job(theirs.id).status is JobStatus.PROCESSING
    assert services.queue.enqueued[-1] == mine.id
