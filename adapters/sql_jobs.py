"""Jobs, presets and the workers seen, through SQLAlchemy 2.x: in SQLite (one computer, the default) or in
PostgreSQL (a shop's many workers). The schema comes from the same Alembic migrations on both."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite

from rilievo.domain.errors import (
    InvalidParameter,
    JobChanged,
    JobNotFound,
    PresetNotFound,
    StorageFull,
    StorageUnavailable,
)
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.presets import Preset
from rilievo.domain.workers import WorkerSeen

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


class DatabaseNotReady(StorageUnavailable):
    """The database can't be reached, refuses the credentials, or lacks Rilievo's schema."""


class UtcDateTime(sa.TypeDecorator):
    """SQLite keeps no time zone (and the PostgreSQL column has none): store naive UTC, hand back aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value else None


metadata = sa.MetaData()

jobs_table = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("batch_id", sa.String(32), index=True),
    sa.Column("upload_id", sa.String(32), nullable=False),
    sa.Column("depth_upload_id", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("stage", sa.String(32)),
    sa.Column("progress", sa.Float, nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("engines", sa.Text, nullable=False),
    sa.Column("outputs", sa.Text, nullable=False),
    sa.Column("output_dir", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
    sa.Column("started_at", UtcDateTime),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("worker", sa.String(128)),
    sa.Column("heartbeat_at", UtcDateTime),
    sa.Column("attempt_id", sa.String(32)),
    sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
)

presets_table = sa.Table(
    "presets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("params", sa.Text, nullable=False),
)

settings_table = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

workers_table = sa.Table(
    "workers",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("lane", sa.String(32), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("seen_at", UtcDateTime, nullable=False, index=True),
)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def open_sqlite(path: Path) -> sa.Engine:
    """The engine for the database at `path`, created and migrated to the latest schema if needed.

    The engine then refuses to work on any other file than the one it opened: if the storage folder is
    removed or replaced while Rilievo runs, every transaction raises StorageUnavailable instead of
    writing into a deleted file or starting a new empty database. A full disk raises StorageFull."""
    storage = path.parent
    try:
        storage.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=storage):
            pass
    except OSError as error:
        raise StorageUnavailable(f"the storage folder {storage} can't be written ({error.strerror or error}); "
                                 "set RILIEVO_STORAGE to a folder you can write to") from None
    sqlite3.connect(path).close()  # creates it when new; from here on, never again
    identity = _identity(path)
    engine = sa.create_engine(
        "sqlite://", poolclass=sa.pool.QueuePool,
        creator=lambda: sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, check_same_thread=False),
    )

    @sa.event.listens_for(engine, "connect")
    def configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def begin_immediately(connection) -> None:
        if _identity(path) != identity:
            raise StorageUnavailable(f"the database {path} was removed or replaced while Rilievo ran: "
                                     "restart Rilievo (it can't see the jobs it had)")
        # Take the write lock up front: a deferred transaction that later writes can fail with
        # "database is locked" without waiting out the busy timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @sa.event.listens_for(engine, "handle_error")
    def name_storage_errors(context) -> None:
        raise_storage_error(context.original_exception, path)

    with engine.begin() as connection:
        config = alembic_config(f"sqlite:///{path}")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def raise_storage_error(error: BaseException, path: Path) -> None:
    """SQLite's storage failures as Rilievo's own, naming the file; anything else is left alone."""
    message = str(error).lower()
    if "database or disk is full" in message:
        raise StorageFull(f"the disk is full: the database {path} can't grow") from error
    if "readonly database" in message or "read-only" in message:
        raise StorageUnavailable(f"the database {path} is read-only: Rilievo needs to write its storage "
                                 "folder") from error
    if "unable to open database file" in message or "disk i/o error" in message:
        raise StorageUnavailable(f"the database {path} can't be used ({message}): was the storage folder "
                                 "removed, or its disk unplugged?") from error


# --- PostgreSQL -----------------------------------------------------------------------------------

CONNECT_TIMEOUT_S = 10
MIGRATION_LOCK = 7_261_180_300  # pg_advisory_xact_lock key: two `serve`s starting at once migrate in turn


def where_is(url: str) -> str:
    """A PostgreSQL URL as it may be shown and logged: no user, no password."""
    parsed = sa.make_url(url)
    return f"postgresql://{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def open_postgres(url: str, *, migrate: bool) -> sa.Engine:
    """The engine for the PostgreSQL database at url (postgresql+psycopg://user:password@host:port/name).
    migrate: bring its schema to the latest (`rilievo migrate`, `rilievo serve`); else only check that it
    is there (a worker: many starting at once must not race to migrate). Raises DatabaseNotReady, in one
    line without the password, when it can't be reached, refuses the credentials or lacks the schema."""
    where = where_is(url)
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    except ImportError:
        raise DatabaseNotReady("RILIEVO_DATABASE needs psycopg: install Rilievo's shop extra "
                               "(pip install 'rilievo[shop]')") from None

    @sa.event.listens_for(engine, "handle_error")
    def name_connection_errors(context) -> None:
        raise_postgres_error(context.original_exception, url)

    with engine.begin() as connection:
        if migrate:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config = alembic_config("postgresql://")  # unused: the migrations run on this connection
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        else:
            check_schema(connection, where)
    return engine


def raise_postgres_error(error: BaseException, url: str) -> None:
    """psycopg's connection failures as one line a shop's operator can act on; anything else is left alone."""
    import psycopg

    if type(error) is not psycopg.OperationalError:  # its subclasses are SQL errors (a deadlock, say)
        return
    parsed, where = sa.make_url(url), where_is(url)
    message = str(error).strip()
    if "password authentication failed" in message or "no password supplied" in message:
        raise DatabaseNotReady(f"PostgreSQL at {where} refused the password of user {parsed.username!r}: "
                               "check RILIEVO_DATABASE") from None
    if f'database "{parsed.database}" does not exist' in message:
        raise DatabaseNotReady(f"PostgreSQL at {where} has no database {parsed.database!r}: create it "
                               "(createdb) or fix RILIEVO_DATABASE") from None
    reason = message.splitlines()[0].rsplit("failed: ", 1)[-1].strip()
    raise DatabaseNotReady(f"can't reach PostgreSQL at {where} ({reason}): is it running, and is "
                           "RILIEVO_DATABASE right?") from None


def check_schema(connection: sa.Connection, where: str) -> None:
    """Raises DatabaseNotReady unless the database's schema is the one this Rilievo's migrations end at."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(""))
    head, current = scripts.get_current_head(), MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return
    if current is None:
        problem = "has no Rilievo tables yet"
    elif current in {script.revision for script in scripts.walk_revisions()}:
        problem = f"is at schema {current}, this Rilievo needs {head}"
    else:
        raise DatabaseNotReady(f"the database at {where} is at schema {current}, newer than this Rilievo "
                               f"knows ({head}): update Rilievo on this machine")
    raise DatabaseNotReady(f"the database at {where} {problem}: run `rilievo migrate` (or start `rilievo "
                           "serve`) with the same RILIEVO_DATABASE first")


def schema_revision(engine: sa.Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.begin() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _insert(engine: sa.Engine, table: sa.Table):
    """An INSERT that can turn into an update on a clash (on_conflict_do_update), in the engine's dialect."""
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)


class SqlJobRepository:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def check_storage(self) -> None:
        with self.engine.begin() as connection:  # SQLite: beginning checks it is still the file it opened
            connection.execute(sa.text("SELECT 1"))

    def add(self, job: Job) -> None:
        with self.engine.begin() as connection:
            connection.execute(jobs_table.insert().values(**_row_of(job)))

    def save(self, job: Job, *, expect: JobStatus | None = None) -> None:
        row = _row_of(job)
        del row["heartbeat_at"]  # only touch() writes it, so a save never turns the clock back
        query = jobs_table.update().where(jobs_table.c.id == job.id).values(**row)
        if expect is not None:
            query = query.where(jobs_table.c.status == expect.value)
        if expect is JobStatus.PROCESSING:
            query = query.where(jobs_table.c.attempt_id == job.attempt_id)
        with self.engine.begin() as connection:
            if connection.execute(query).rowcount == 1:
                return
        current = self.get(job.id)  # raises JobNotFound if it is gone
        raise JobChanged(f"job {job.id} is {current.status}, no longer {expect}")

    def touch(self, job_id: str, attempt_id: str, now: datetime) -> bool:
        query = (jobs_table.update()
                 .where(jobs_table.c.id == job_id, jobs_table.c.attempt_id == attempt_id,
                        jobs_table.c.status == JobStatus.PROCESSING.value)
                 .values(heartbeat_at=now))
        with self.engine.begin() as connection:
            return connection.execute(query).rowcount == 1

    def delete(self, job_id: str, *, expect: JobStatus | None = None) -> None:
        query = jobs_table.delete().where(jobs_table.c.id == job_id)
        if expect is not None:
            query = query.where(jobs_table.c.status == expect.value)
        with self.engine.begin() as connection:
            if connection.execute(query).rowcount == 1:
                return
        current = self.get(job_id)  # raises JobNotFound if it is gone
        raise JobChanged(f"job {job_id} is {current.status}, no longer {expect}")

    def count(self) -> int:
        with self.engine.begin() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(jobs_table)).scalar_one()

    def processing(self) -> list[Job]:
        query = sa.select(jobs_table).where(jobs_table.c.status == JobStatus.PROCESSING.value)
        with self.engine.begin() as connection:
            return [_job_of(row._mapping) for row in connection.execute(query)]

    def get(self, job_id: str) -> Job:
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(jobs_table).where(jobs_table.c.id == job_id)
            ).one_or_none()
        if row is None:
            raise JobNotFound(f"no job with id {job_id!r}")
        return _job_of(row._mapping)

    def all(self) -> list[Job]:
        with self.engine.begin() as connection:
            return [_job_of(row._mapping) for row in connection.execute(sa.select(jobs_table))]

    def newest(self, *, limit: int = 50, offset: int = 0) -> list[Job]:
        query = (
            sa.select(jobs_table)
            .order_by(jobs_table.c.created_at.desc(), jobs_table.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self.engine.begin() as connection:
            return [_job_of(row._mapping) for row in connection.execute(query)]


def _row_of(job: Job) -> dict:
    return {
        "id": job.id,
        "batch_id": job.batch_id,
        "upload_id": job.upload_id,
        "depth_upload_id": job.depth_upload_id,
        "status": job.status.value,
        "stage": job.stage,
        "progress": job.progress,
        "params": json.dumps(job.params.to_dict()),
        "engines": json.dumps(dict(job.engines)),
        "outputs": json.dumps(dict(job.outputs)),
        "output_dir": job.output_dir,
        "error": job.error,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "worker": job.worker,
        "heartbeat_at": job.heartbeat_at,
        "attempt_id": job.attempt_id,
        "warnings": json.dumps(list(job.warnings)),
    }


def _job_of(row) -> Job:
    return Job(
        id=row["id"],
        batch_id=row["batch_id"],
        upload_id=row["upload_id"],
        depth_upload_id=row["depth_upload_id"],
        status=JobStatus(row["status"]),
        stage=row["stage"],
        progress=row["progress"],
        params=RenderParams.from_mapping(json.loads(row["params"])),
        engines=json.loads(row["engines"]),
        outputs=json.loads(row["outputs"]),
        output_dir=row["output_dir"],
        error=row["error"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        worker=row["worker"],
        heartbeat_at=row["heartbeat_at"],
        attempt_id=row["attempt_id"],
        warnings=json.loads(row["warnings"]),
    )


LAST_USED = "last_used_params"


class SqlPresetRepository:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def list(self) -> list[Preset]:
        with self.engine.begin() as connection:
            rows = connection.execute(sa.select(presets_table).order_by(presets_table.c.name))
            return [_preset_of(row._mapping) for row in rows]

    def get(self, name: str) -> Preset:
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(presets_table).where(presets_table.c.name == name)
            ).one_or_none()
        if row is None:
            raise PresetNotFound(f"no preset named {name!r}")
        return _preset_of(row._mapping)

    def put(self, preset: Preset) -> None:
        values = {"name": preset.name, "params": json.dumps(preset.params.to_dict())}
        upsert = _insert(self.engine, presets_table).values(**values)
        with self.engine.begin() as connection:
            connection.execute(upsert.on_conflict_do_update(index_elements=["name"], set_=values))

    def delete(self, name: str) -> None:
        with self.engine.begin() as connection:
            deleted = connection.execute(presets_table.delete().where(presets_table.c.name == name))
        if deleted.rowcount == 0:
            raise PresetNotFound(f"no preset named {name!r}")

    def last_used(self) -> RenderParams | None:
        with self.engine.begin() as connection:
            value = connection.execute(
                sa.select(settings_table.c.value).where(settings_table.c.key == LAST_USED)
            ).scalar_one_or_none()
        if value is None:
            return None
        try:
            return RenderParams.from_mapping(json.loads(value))
        except InvalidParameter:
            return None  # stored by an older version with other ranges: fall back to defaults

    def remember(self, params: RenderParams) -> None:
        values = {"key": LAST_USED, "value": json.dumps(params.to_dict())}
        upsert = _insert(self.engine, settings_table).values(**values)
        with self.engine.begin() as connection:
            connection.execute(upsert.on_conflict_do_update(index_elements=["key"], set_=values))


def _preset_of(row) -> Preset:
    return Preset(name=row["name"], params=RenderParams.from_mapping(json.loads(row["params"])))


class SqlWorkerRoster:
    KEEP = timedelta(days=1)  # rows of workers silent this long are dropped when another one checks in

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def seen(self, worker: WorkerSeen) -> None:
        values = {"name": worker.name, "lane": worker.lane, "started_at": worker.started_at,
                  "seen_at": worker.seen_at}
        upsert = _insert(self.engine, workers_table).values(**values)
        with self.engine.begin() as connection:
            connection.execute(upsert.on_conflict_do_update(index_elements=["name"], set_=values))
            connection.execute(workers_table.delete().where(workers_table.c.seen_at < worker.seen_at - self.KEEP))

    def gone(self, name: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(workers_table.delete().where(workers_table.c.name == name))

    def seen_since(self, since: datetime) -> list[WorkerSeen]:
        query = sa.select(workers_table).where(workers_table.c.seen_at >= since).order_by(workers_table.c.name)
        with self.engine.begin() as connection:
            return [WorkerSeen(name=row.name, lane=row.lane, started_at=row.started_at, seen_at=row.seen_at)
                    for row in connection.execute(query)]
