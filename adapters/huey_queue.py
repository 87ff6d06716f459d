"""The task queue on Huey: the web process enqueues, the workers consume. On one computer, Huey's SQLite
storage with one lane; for a shop's many workers, Huey's Redis storage with a queue per lane (a Huey
instance each), so that a worker takes only the jobs of the lane it was started for."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

import structlog
from huey import Huey, SqliteHuey, crontab

from rilievo.domain.errors import StorageUnavailable
from rilievo.domain.workers import LANES, STANDARD

log = structlog.get_logger(__name__)

RUN_JOB = "rilievo.run_job"
RECOVER = "rilievo.recover_orphans"
REDIS_TIMEOUT_S = 10


class QueueUnavailable(StorageUnavailable):
    """The queue's server can't be reached or refuses us."""


class HueyQueue:
    """Every process registers the same task names on every lane; only a worker gives them something to do,
    and consumes one lane."""

    def __init__(self, hueys: Mapping[str, Huey]):
        self.hueys = dict(hueys)
        self._run_job: Callable[[str], object] | None = None
        self._recover: Callable[[], object] | None = None
        self._tasks = {lane: huey.task(name=RUN_JOB)(self._handle_job) for lane, huey in self.hueys.items()}
        for huey in self.hueys.values():
            huey.periodic_task(crontab(minute="*"), name=RECOVER)(self._handle_recover)

    @classmethod
    def on_sqlite(cls, path: Path, *, immediate: bool = False) -> HueyQueue:
        """One lane: one computer's worker takes every job."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls({STANDARD: SqliteHuey("rilievo", filename=str(path), immediate=immediate)})

    @classmethod
    def on_redis(cls, url: str) -> HueyQueue:
        """A queue per lane on the Redis server at url (redis://[:password@]host:port/db). Raises
        QueueUnavailable, in one line without the password, when the server can't be reached or refuses."""
        from huey import RedisHuey

        try:
            from redis import ConnectionPool
        except ImportError:
            raise QueueUnavailable("RILIEVO_QUEUE needs redis: install Rilievo's shop extra "
                                   "(pip install 'rilievo[shop]')") from None

        pool = ConnectionPool.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S, health_check_interval=30)
        queue = cls({lane: RedisHuey(f"rilievo_{lane}", connection_pool=pool, results=False) for lane in LANES})
        queue.check()
        return queue

    @property
    def huey(self) -> Huey:
        """The standard lane's Huey."""
        return self.hueys[STANDARD]

    @property
    def lanes(self) -> tuple[str, ...]:
        return tuple(self.hueys)

    def check(self) -> None:
        """Raises QueueUnavailable unless the queue's server answers."""
        storage = self.huey.storage
        if not hasattr(storage, "conn"):
            return
        from redis.exceptions import AuthenticationError, RedisError, ResponseError

        connection = storage.pool.connection_kwargs
        where = where_is(connection)
        try:
            storage.conn.ping()
        except (AuthenticationError, ResponseError) as error:
            if not connection.get("password"):
                raise QueueUnavailable(f"Redis at {where} wants a password: put it in RILIEVO_QUEUE "
                                       "(redis://:PASSWORD@host:port/0)") from None
            if isinstance(error, AuthenticationError) or "WRONGPASS" in str(error):
                raise QueueUnavailable(f"Redis at {where} refused the password: check RILIEVO_QUEUE") from None
            raise QueueUnavailable(f"Redis at {where} refused us: {error}") from None
        except RedisError as error:
            reason = str(error).split(". ")[-1].strip(". ") or type(error).__name__
            raise QueueUnavailable(f"can't reach Redis at {where} ({reason}): is it running, and is "
                                   "RILIEVO_QUEUE right?") from None

    def enqueue(self, job_id: str, lane: str) -> None:
        """A lane this queue does not keep apart (one computer's) goes to the standard lane."""
        task = self._tasks.get(lane, self._tasks[STANDARD])
        try:
            task(job_id)
        except Exception as error:
            if type(error).__module__.startswith("redis"):
                raise QueueUnavailable(f"the queue can't take the job: {error}") from None
            raise

    def handle_with(self, run_job: Callable[[str], object], recover: Callable[[], object]) -> None:
        self._run_job, self._recover = run_job, recover

    def consume(self, *, lane: str = STANDARD, workers: int = 1) -> None:
        """Run a consumer of the lane in this process until SIGINT (stop now) or SIGTERM (finish running
        jobs)."""
        if self._run_job is None:
            raise RuntimeError("call handle_with() before consume()")
        consumer = self.hueys.get(lane, self.huey).create_consumer(
            workers=workers, initial_delay=0.05, max_delay=0.5, check_worker_health=True,
            graceful_signal="TERM",
        )
        consumer.run()

    def _handle_job(self, job_id: str) -> None:
        if self._run_job is None:
            raise RuntimeError("this process only enqueues jobs")
        with structlog.contextvars.bound_contextvars(job_id=job_id):
            self._run_job(job_id)

    def _handle_recover(self) -> None:
        if self._recover is not None:
            self._recover()


def where_is(connection: Mapping[str, object]) -> str:
    """A Redis server as it may be shown and logged: no password."""
    return f"redis://{connection.get('host', 'localhost')}:{connection.get('port', 6379)}/{connection.get('db', 0)}"
