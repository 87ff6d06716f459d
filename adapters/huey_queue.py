"""The task queue on Huey with its SQLite storage: the web process enqueues, the worker consumes."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import structlog
from huey import SqliteHuey, crontab

log = structlog.get_logger(__name__)

RUN_JOB = "rilievo.run_job"
RECOVER = "rilievo.recover_orphans"


class HueyQueue:
    """Both processes register the same task names; only the worker gives them something to do."""

    def __init__(self, path: Path, *, immediate: bool = False):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.huey = SqliteHuey("rilievo", filename=str(path), immediate=immediate)
        self._run_job: Callable[[str], object] | None = None
        self._recover: Callable[[], object] | None = None
        self._task = self.huey.task(name=RUN_JOB)(self._handle_job)
        self.huey.periodic_task(crontab(minute="*"), name=RECOVER)(self._handle_recover)

    def enqueue(self, job_id: str) -> None:
        self._task(job_id)

    def handle_with(self, run_job: Callable[[str], object], recover: Callable[[], object]) -> None:
        self._run_job, self._recover = run_job, recover

    def consume(self, *, workers: int = 1) -> None:
        """Run a consumer in this process until SIGINT (stop now) or SIGTERM (finish running jobs)."""
        if self._run_job is None:
            raise RuntimeError("call handle_with() before consume()")
        consumer = self.huey.create_consumer(
            workers=workers, initial_delay=0.05, max_delay=0.5, check_worker_health=True,
            graceful_signal="TERM",
        )
        consumer.run()

    def _handle_job(self, job_id: str) -> None:
        if self._run_job is None:
            raise RuntimeError("this process only enqueues jobs")
        self._run_job(job_id)

    def _handle_recover(self) -> None:
        if self._recover is not None:
            self._recover()
