"""The SQL repositories, through the real Alembic migrations, on SQLite and on a real PostgreSQL, against the
same contract as the fakes."""

import shutil
import sqlite3
import threading

import attrs
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from rilievo.adapters.sql_jobs import (
    SqlJobRepository,
    SqlPresetRepository,
    metadata,
    open_sqlite,
    raise_storage_error,
)
from rilievo.domain.errors import JobChanged, JobNotFound, PresetNotFound, StorageFull, StorageUnavailable
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.presets import Preset
from tests.contract.conftest import DATABASES, migrated_database
from tests.fakes import InMemoryJobs, InMemoryPresets

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=[*DATABASES, "fake"])
def repository(request, tmp_path):
    if request.param == "fake":
        return InMemoryJobs()
    return SqlJobRepository(migrated_database(request.param, request, tmp_path))


def make_job(minutes: int = 0, **params) -> Job:
    return Job.create(upload_id="u1", params=RenderParams(**params), now=NOW + timedelta(minutes=minutes))


def test_a_job_comes_back_as_it_was_stored(repository):
    job = make_job(layers=4, sharpen=0.3).start(NOW).report("depth", 0.25, {"depth": "classical"})
    repository.add(job)
    assert repository.get(job.id) == job


def test_saving_a_job_keeps_every_field(repository):
    job = make_job()
    repository.add(job)
    done = job.start(NOW).complete(NOW + timedelta(seconds=3), outputs={"a.png": "/o/a.png"}, output_dir="/o")
    repository.save(done)
    loaded = repository.get(job.id)
    assert loaded == attrs.evolve(done, heartbeat_at=None)  # only touch() writes heartbeats
    assert loaded.finished_at.tzinfo is not None


def test_a_heartbeat_is_never_turned_back_by_a_save(repository):
    job = make_job().start(NOW)
    repository.add(job)
    assert repository.touch(job.id, job.attempt_id, NOW + timedelta(minutes=5))
    repository.save(job.report("depth", 0.5))
    assert repository.get(job.id).heartbeat_at == NOW + timedelta(minutes=5)
    assert repository.get(job.id).progress == 0.5


def test_a_save_expecting_another_status_is_refused(repository):
    job = make_job().start(NOW)
    repository.add(job)
    repository.save(job.cancel(NOW), expect=JobStatus.PROCESSING)
    with pytest.raises(JobChanged):
        repository.save(job.report("layers", 0.7), expect=JobStatus.PROCESSING)
    assert repository.get(job.id).status is JobStatus.CANCELLED


def test_a_write_of_an_earlier_attempt_is_refused_once_the_job_runs_again(repository):
    first = make_job().start(NOW)
    repository.add(first)
    repository.save(first.cancel(NOW), expect=JobStatus.PROCESSING)
    repository.save(first.cancel(NOW).retry(), expect=JobStatus.CANCELLED)
    second = repository.get(first.id).start(NOW + timedelta(seconds=1), worker="other:2")
    repository.save(second, expect=JobStatus.PENDING)
    with pytest.raises(JobChanged):
        repository.save(first.report("layers", 0.6), expect=JobStatus.PROCESSING)
    assert not repository.touch(first.id, first.attempt_id, NOW + timedelta(minutes=1))
    assert repository.get(first.id) == attrs.evolve(second, heartbeat_at=repository.get(first.id).heartbeat_at)
    assert repository.touch(second.id, second.attempt_id, NOW + timedelta(minutes=1))


def test_a_heartbeat_of_a_finished_or_deleted_job_writes_nothing(repository):
    job = make_job().start(NOW)
    repository.add(job)
    repository.save(job.cancel(NOW), expect=JobStatus.PROCESSING)
    assert not repository.touch(job.id, job.attempt_id, NOW + timedelta(minutes=1))
    assert repository.get(job.id).heartbeat_at == job.heartbeat_at == NOW
    repository.delete(job.id)
    assert not repository.touch(job.id, job.attempt_id, NOW + timedelta(minutes=1))


def test_deleting_counting_and_finding_running_jobs(repository):
    running, waiting = make_job().start(NOW), make_job(1)
    repository.add(running)
    repository.add(waiting)
    assert repository.count() == 2
    assert [job.id for job in repository.processing()] == [running.id]
    repository.delete(running.id)
    assert repository.count() == 1
    with pytest.raises(JobNotFound):
        repository.delete(running.id)


@pytest.fixture(params=[*DATABASES, "fake"])
def presets(request, tmp_path):
    if request.param == "fake":
        return InMemoryPresets()
    return SqlPresetRepository(migrated_database(request.param, request, tmp_path))


def test_presets_are_stored_replaced_listed_by_name_and_deleted(presets):
    presets.put(Preset("Warm glass", RenderParams(feather=4)))
    presets.put(Preset("acrylic", RenderParams(layers=5)))
    presets.put(Preset("Warm glass", RenderParams(feather=6)))
    assert [preset.name for preset in presets.list()] == ["Warm glass", "acrylic"]
    assert presets.get("Warm glass").params.feather == 6
    presets.delete("acrylic")
    with pytest.raises(PresetNotFound):
        presets.get("acrylic")
    with pytest.raises(PresetNotFound):
        presets.delete("acrylic")


def test_the_last_used_parameters_are_remembered(presets):
    assert presets.last_used() is None
    presets.remember(RenderParams(layers=4, seed=9))
    presets.remember(RenderParams(layers=3, seed=10))
    assert presets.last_used() == RenderParams(layers=3, seed=10)


def test_unknown_ids_raise_job_not_found(repository):
    with pytest.raises(JobNotFound):
        repository.get("missing")
    with pytest.raises(JobNotFound):
        repository.save(make_job())


def test_newest_lists_the_newest_first_a_page_at_a_time(repository):
    jobs = [make_job(minutes) for minutes in range(5)]
    for job in jobs:
        repository.add(job)
    assert [job.id for job in repository.newest(limit=2)] == [jobs[4].id, jobs[3].id]
    assert [job.id for job in repository.newest(limit=2, offset=4)] == [jobs[0].id]


def test_the_migrations_and_the_table_definitions_agree(database):
    with database.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def test_the_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = open_sqlite(tmp_path / "rilievo.sqlite3")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_opening_an_existing_database_again_keeps_its_jobs(tmp_path):
    path = tmp_path / "rilievo.sqlite3"
    job = make_job()
    SqlJobRepository(open_sqlite(path)).add(job)
    assert SqlJobRepository(open_sqlite(path)).get(job.id) == job
    with open_sqlite(path).connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0005"


def test_concurrent_writers_lose_no_update(tmp_path):
    path = tmp_path / "rilievo.sqlite3"
    jobs = [make_job(i).start(NOW) for i in range(4)]
    setup = SqlJobRepository(open_sqlite(path))
    for job in jobs:
        setup.add(job)

    def report_progress(job):
        repository = SqlJobRepository(open_sqlite(path))
        for step in range(1, 51):
            job = job.report("depth", step / 50)
            repository.save(job)

    threads = [threading.Thread(target=report_progress, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(setup.get(job.id).progress == 1.0 for job in jobs)
    with sa.create_engine(f"sqlite:///{path}").connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM jobs").scalar() == 4


@pytest.mark.parametrize("change", ["removed", "replaced"])
def test_a_database_removed_or_replaced_under_a_running_app_is_refused_not_recreated(tmp_path, change):
    storage = tmp_path / "storage"
    repository = SqlJobRepository(open_sqlite(storage / "rilievo.sqlite3"))
    repository.add(make_job())
    shutil.rmtree(storage)
    if change == "replaced":
        storage.mkdir()
        sqlite3.connect(storage / "rilievo.sqlite3").close()
    for attempt in (repository.check_storage, lambda: repository.add(make_job(1)), repository.count):
        with pytest.raises(StorageUnavailable, match="removed or replaced"):
            attempt()
    assert not (storage / "rilievo.sqlite3").exists() or change == "replaced"


def test_a_storage_folder_that_cannot_be_written_is_refused_with_its_name(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageUnavailable, match=f"{blocker}/storage can't be written"):
        open_sqlite(blocker / "storage" / "rilievo.sqlite3")


@pytest.mark.parametrize("message, error", [
    ("database or disk is full", StorageFull),
    ("attempt to write a readonly database", StorageUnavailable),
    ("disk I/O error", StorageUnavailable),
])
def test_sqlite_storage_failures_become_rilievo_errors_naming_the_database(tmp_path, message, error):
    path = tmp_path / "rilievo.sqlite3"
    with pytest.raises(error, match=str(path)):
        raise_storage_error(sqlite3.OperationalError(message), path)
    raise_storage_error(sqlite3.OperationalError("no such table: x"), path)  # others are left alone
