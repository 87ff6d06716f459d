"""A render job and the states it moves through."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Mapping

import attrs

from .errors import IllegalTransition
from .params import RenderParams


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# processing -> pending is the requeue of a job whose worker died; failed/cancelled -> pending is a retry.
ALLOWED_TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = MappingProxyType(
    {
        JobStatus.PENDING: frozenset({JobStatus.PROCESSING, JobStatus.CANCELLED}),
        JobStatus.PROCESSING: frozenset(
            {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PENDING}
        ),
        JobStatus.COMPLETED: frozenset(),
        JobStatus.FAILED: frozenset({JobStatus.PENDING}),
        JobStatus.CANCELLED: frozenset({JobStatus.PENDING}),
    }
)

FINISHED = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


@attrs.frozen
class Job:
    id: str
    upload_id: str
    params: RenderParams
    created_at: datetime
    status: JobStatus = JobStatus.PENDING
    batch_id: str | None = None
    depth_upload_id: str | None = None
    stage: str | None = None
    progress: float = 0.0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    engines: Mapping[str, str] = attrs.field(factory=dict, converter=lambda d: MappingProxyType(dict(d)))
    outputs: Mapping[str, str] = attrs.field(factory=dict, converter=lambda d: MappingProxyType(dict(d)))
    output_dir: str | None = None
    error: str | None = None
    worker: str | None = None  # which process runs it (a worker, the CLI), to tell a live job from an orphan
    heartbeat_at: datetime | None = None
    # one id per start: a run's writes count only while the job is still on its attempt, so a run that
    # was cancelled (and maybe retried by another worker) can never write over the new one
    attempt_id: str | None = None
    # what the user should know about how the job was made (an enlargement past what the photo
    # supports, a flat depth map, a LoRA that could not be loaded)
    warnings: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @classmethod
    def create(
        cls,
        *,
        upload_id: str,
        params: RenderParams,
        now: datetime,
        depth_upload_id: str | None = None,
        batch_id: str | None = None,
    ) -> Job:
        return cls(
            id=new_job_id(),
            upload_id=upload_id,
            params=params,
            created_at=now,
            depth_upload_id=depth_upload_id,
            batch_id=batch_id,
        )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def run_key(self) -> str:
        """Names this attempt's own working files: "{job id}/{attempt id}"."""
        if self.attempt_id is None:
            raise IllegalTransition(f"job {self.id} has not been started")
        return f"{self.id}/{self.attempt_id}"

    def _move(self, target: JobStatus, **changes: Any) -> Job:
        if target not in ALLOWED_TRANSITIONS[self.status]:
            raise IllegalTransition(f"job {self.id} is {self.status}; it cannot become {target}")
        return attrs.evolve(self, status=target, **changes)

    def start(self, now: datetime, worker: str | None = None) -> Job:
        return self._move(
            JobStatus.PROCESSING,
            started_at=now,
            heartbeat_at=now,
            worker=worker,
            attempt_id=uuid.uuid4().hex[:16],
            attempts=self.attempts + 1,
            stage=None,
            progress=0.0,
        )

    def is_orphaned(self, now: datetime, *, stale_after: timedelta, worker_alive: bool) -> bool:
        """A processing job whose worker died: gone, or silent for longer than stale_after. A job whose
        owner is alive and beating is never an orphan."""
        if self.status is not JobStatus.PROCESSING:
            return False
        silent_since = self.heartbeat_at or self.started_at or self.created_at
        return not worker_alive or now - silent_since > stale_after

    def report(self, stage: str, progress: float, engines: Mapping[str, str] | None = None) -> Job:
        """Progress on the 0-1 scale, and the engines the stages so far have run."""
        if self.status is not JobStatus.PROCESSING:
            raise IllegalTransition(f"job {self.id} is {self.status}; only a processing job reports progress")
        return attrs.evolve(self, stage=stage, progress=min(max(progress, 0.0), 1.0),
                            engines=self.engines if engines is None else engines)

    def complete(self, now: datetime, *, outputs: Mapping[str, str], output_dir: str,
                 warnings: tuple[str, ...] | list[str] = ()) -> Job:
        return self._move(
            JobStatus.COMPLETED,
            finished_at=now,
            progress=1.0,
            stage=None,
            outputs=outputs,
            output_dir=output_dir,
            error=None,
            warnings=warnings,
        )

    def fail(self, now: datetime, reason: str) -> Job:
        return self._move(JobStatus.FAILED, finished_at=now, error=reason)

    def cancel(self, now: datetime) -> Job:
        return self._move(JobStatus.CANCELLED, finished_at=now)

    def requeue(self) -> Job:
        """Back to the queue after its worker died mid-job."""
        if self.status is not JobStatus.PROCESSING:
            raise IllegalTransition(f"job {self.id} is {self.status}; only a processing job is requeued")
        return self._move(JobStatus.PENDING, stage=None, progress=0.0, started_at=None, worker=None)

    def release(self) -> Job:
        """Back to the queue because its worker was asked to stop: the attempt does not count."""
        return attrs.evolve(self.requeue(), attempts=max(self.attempts - 1, 0))

    def retry(self) -> Job:
        """A finished-but-unsuccessful job asked to run again."""
        if self.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise IllegalTransition(f"job {self.id} is {self.status}; only a failed or cancelled job is retried")
        return self._move(
            JobStatus.PENDING,
            stage=None,
            progress=0.0,
            started_at=None,
            finished_at=None,
            error=None,
            worker=None,
            attempts=0,
            warnings=(),
        )
