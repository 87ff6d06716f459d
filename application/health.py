"""What /api/health reports: the storage usable, where the queue and the database are, the workers alive."""

from __future__ import annotations

from datetime import timedelta

import attrs

from rilievo.domain.workers import WorkerSeen

from .ports import Clock, JobRepository, WorkerRoster

SEEN_WITHIN = timedelta(minutes=1)  # a worker says it is alive every 20 s


@attrs.frozen
class HealthReport:
    queue: str  # where the queue is, with no credentials: "sqlite", "redis://host:6379/0"
    database: str  # likewise: "sqlite", "postgresql://host:5432/rilievo"
    workers: list[WorkerSeen]


@attrs.frozen
class Health:
    jobs: JobRepository
    roster: WorkerRoster
    clock: Clock
    queue: str
    database: str

    def check(self) -> HealthReport:
        """Raises StorageUnavailable when the storage or the database can't be used."""
        self.jobs.check_storage()
        return HealthReport(queue=self.queue, database=self.database,
                            workers=self.roster.seen_since(self.clock() - SEEN_WITHIN))
