"""What a shop's many workers need from the database, on SQLite and on a real PostgreSQL: a job is taken by
one worker only, a dead worker's job is found from another host by its silent heartbeat, the workers seen
are listed; and a PostgreSQL that can't be used is refused in one line without the password."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from rilievo.adapters.liveness import HostProcesses
from rilievo.adapters.sql_jobs import (
    DatabaseNotReady,
    SqlJobRepository,
    SqlWorkerRoster,
    open_postgres,
    schema_revision,
)
from rilievo.application.recovery import STALE_AFTER, Recovery
from rilievo.domain.errors import JobChanged
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.workers import DIFFUSION, STANDARD, WorkerSeen
from tests.fakes import InMemoryJobFiles, RecordingQueue
from tests.servers import PASSWORD, free_port

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def test_of_many_workers_taking_the_same_jobs_at_once_exactly_one_takes_each(database):
    jobs = [Job.create(upload_id="u1", params=RenderParams(), now=NOW) for _ in range(20)]
    for job in jobs:
        SqlJobRepository(database).add(job)
    workers = [f"host-{number}:1" for number in range(4)]
    taken: dict[str, list[str]] = {worker: [] for worker in workers}
    start = threading.Barrier(len(workers))

    def take_all(worker: str) -> None:
        repository = SqlJobRepository(database)
        start.wait()
        for job in jobs:
            try:
                repository.save(job.start(NOW, worker=worker), expect=JobStatus.PENDING)
            except JobChanged:
                continue
            taken[worker].append(job.id)

    threads = [threading.Thread(target=take_all, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every_take = [job_id for ids in taken.values() for job_id in ids]
    assert sorted(every_take) == sorted(job.id for job in jobs)  # each once, none twice, none missed
    stored = SqlJobRepository(database)
    assert all(job.id in taken[stored.get(job.id).worker] for job in jobs)


def test_a_job_of_a_worker_on_another_host_is_recovered_once_its_heartbeat_is_silent(database):
    repository, queue = SqlJobRepository(database), RecordingQueue()
    clock = lambda: NOW  # noqa: E731
    silent = Job.create(upload_id="u1", params=RenderParams(mode="painterly"), now=NOW) \
        .start(NOW - STALE_AFTER - timedelta(seconds=5), worker="print-room-2:4242")
    beating = Job.create(upload_id="u2", params=RenderParams(), now=NOW) \
        .start(NOW - timedelta(minutes=10), worker="print-room-3:4242")
    for job in (silent, beating):
        repository.add(job)
    repository.touch(beating.id, beating.attempt_id, NOW - timedelta(seconds=5))
    recovery = Recovery(jobs=repository, folders=InMemoryJobFiles(), queue=queue, clock=clock,
                        liveness=HostProcesses())
    (recovered,) = recovery.recover_orphans()
    assert recovered.id == silent.id and repository.get(silent.id).status is JobStatus.PENDING
    assert queue.enqueued == [silent.id] and queue.lanes == [DIFFUSION]  # back in its own lane
    assert repository.get(beating.id).status is JobStatus.PROCESSING
    assert recovery.recover_orphans() == []  # a second look, from another worker, finds nothing to do


def test_the_workers_seen_are_listed_until_they_stop_or_fall_silent(database):
    roster = SqlWorkerRoster(database)
    roster.seen(WorkerSeen("a:1", STANDARD, started_at=NOW, seen_at=NOW))
    roster.seen(WorkerSeen("b:2", DIFFUSION, started_at=NOW, seen_at=NOW))
    roster.seen(WorkerSeen("a:1", STANDARD, started_at=NOW, seen_at=NOW + timedelta(seconds=40)))
    since = NOW + timedelta(seconds=30)
    assert roster.seen_since(since) == [WorkerSeen("a:1", STANDARD, NOW, NOW + timedelta(seconds=40))]
    assert [worker.name for worker in roster.seen_since(NOW)] == ["a:1", "b:2"]
    roster.gone("a:1")
    assert [worker.name for worker in roster.seen_since(NOW)] == ["b:2"]
    roster.seen(WorkerSeen("c:3", STANDARD, started_at=NOW, seen_at=NOW + timedelta(days=2)))
    assert [worker.name for worker in roster.seen_since(NOW)] == ["c:3"]  # b, silent for a day, dropped


def test_two_servers_migrating_one_new_database_at_once_both_succeed(postgres_url):
    errors = []

    def migrate() -> None:
        try:
            open_postgres(postgres_url, migrate=True)
        except Exception as error:  # noqa: BLE001 - recorded for the assertion
            errors.append(error)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and schema_revision(open_postgres(postgres_url, migrate=False)) == "0005"


def test_a_worker_refuses_a_database_without_the_schema_and_names_the_command_that_makes_it(postgres_url):
    with pytest.raises(DatabaseNotReady, match=r"has no Rilievo tables yet: run `rilievo migrate`"):
        open_postgres(postgres_url, migrate=False)
    open_postgres(postgres_url, migrate=True)
    with sa.create_engine(postgres_url).begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    with pytest.raises(DatabaseNotReady, match="is at schema 0003, this Rilievo needs 0005"):
        open_postgres(postgres_url, migrate=False)
    with sa.create_engine(postgres_url).begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(DatabaseNotReady, match="newer than this Rilievo knows"):
        open_postgres(postgres_url, migrate=False)


def test_a_wrong_password_is_refused_in_one_line_without_the_password(postgres_server):
    url = postgres_server.url(password="not-the-password")
    with pytest.raises(DatabaseNotReady) as refused:
        open_postgres(url, migrate=True)
    message = str(refused.value)
    assert message == (f"PostgreSQL at postgresql://127.0.0.1:{postgres_server.port}/postgres refused the "
                       "password of user 'rilievo': check RILIEVO_DATABASE")
    assert "not-the-password" not in message and PASSWORD not in message


def test_an_unreachable_server_or_a_missing_database_is_refused_in_one_line(postgres_server):
    port = free_port()
    with pytest.raises(DatabaseNotReady, match=rf"^can't reach PostgreSQL at postgresql://127.0.0.1:{port}/x "
                                               r"\(Connection refused\): is it running"):
        open_postgres(f"postgresql+psycopg://u:secret@127.0.0.1:{port}/x", migrate=True)
    with pytest.raises(DatabaseNotReady, match="has no database 'nowhere': create it"):
        open_postgres(postgres_server.url("nowhere"), migrate=True)


def test_a_postgresql_restarted_under_a_running_app_is_used_again_once_it_is_back():
    from tests.servers import PostgresServer

    server = PostgresServer.start()  # a server of its own: the session's is not stopped under other tests
    try:
        repository = SqlJobRepository(open_postgres(server.url(server.create_database()), migrate=True))
        job = Job.create(upload_id="u1", params=RenderParams(), now=NOW)
        repository.add(job)
        server.stop_server()
        with pytest.raises(DatabaseNotReady, match=rf"can't reach PostgreSQL at postgresql://127.0.0.1:{server.port}/"):
            repository.get(job.id)
        server.start_server()
        assert repository.get(job.id) == job
    finally:
        server.stop()
