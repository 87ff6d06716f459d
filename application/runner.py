"""Running one attempt of a job in this process: it owns the job (its worker id and heartbeat) while the
render pipeline runs, publishes the files, then completes the job only if it is still on this attempt;
else it stops or fails the job and leaves nothing behind."""

from __future__ import annotations

import errno
import time
from pathlib import Path
from typing import Callable, Mapping

import attrs
import structlog

from rilievo.domain.errors import JobChanged, JobNotFound, RilievoError
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.outputs import progress_at

from .heartbeat import HEARTBEAT_EVERY_S, Heartbeat
from .ports import Clock, JobFolders, JobRepository, WorkFiles
from .render.files import RunFiles
from .render.pipeline import RenderPipeline

log = structlog.get_logger(__name__)

ProgressListener = Callable[[Job], None]


@attrs.frozen
class Runner:
    jobs: JobRepository
    folders: JobFolders
    work_files: WorkFiles
    clock: Clock
    pipeline: RenderPipeline
    worker_id: str | None = None  # this process, recorded on the jobs it runs
    heartbeat_every_s: float = HEARTBEAT_EVERY_S

    def work_on(self, job_id: str) -> Job | None:
        """What the worker does with a queued job id: run it if it still waits, else let it be
        (it was cancelled or deleted while queued, or a duplicate delivery finds it done)."""
        try:
            job = self.jobs.get(job_id)
        except JobNotFound:
            log.info("job.skipped", job_id=job_id, reason="deleted")
            return None
        if job.status is not JobStatus.PENDING:
            log.info("job.skipped", job_id=job_id, reason=job.status.value)
            return None
        try:
            return self.run(job_id)
        except (JobNotFound, JobChanged):
            log.info("job.skipped", job_id=job_id, reason="deleted or taken by another worker meanwhile")
            return None

    def run(
        self,
        job_id: str,
        *,
        destination: Path | None = None,
        on_progress: ProgressListener | None = None,
    ) -> Job:
        """Run a pending job to completion or failure, as a new attempt that this process owns (its
        worker id and heartbeat); the job never stays "processing" while this process lives. A run whose
        job was cancelled, deleted or retried meanwhile stops, and leaves nothing behind."""
        run = Attempt(self.jobs, self.clock, self.jobs.get(job_id).start(self.clock(), worker=self.worker_id),
                      on_progress)
        self.jobs.save(run.job, expect=JobStatus.PENDING)
        self.jobs.touch(job_id, run.attempt_id, run.started_at)
        started, published = time.perf_counter(), None
        files = RunFiles(self.work_files, run.job.run_key)
        try:
            with Heartbeat(self.jobs, job_id, run.attempt_id, self.clock, self.heartbeat_every_s):
                rendered = self.pipeline(run.job, files, run.report)
                published = self.folders.publish(run.job.run_key, destination)
                run.job = attrs.evolve(run.job, engines=rendered.engines).complete(
                    self.clock(), outputs=files.outputs(published), output_dir=str(published),
                    warnings=rendered.warnings)
                run.save()
        except (JobChanged, JobNotFound):
            return self._stop(run, published)
        except RilievoError as error:
            return self._fail(run, str(error), published)
        except Exception as error:
            if not self._still_on(run.job):
                return self._stop(run, published)  # e.g. its folder went with a delete
            if not disk_full(error):
                log.exception("job.crashed", job_id=job_id)
            return self._fail(run, failure_reason(error), published)
        except BaseException:
            self._fail(run, "interrupted", published)
            raise
        log.info("job.completed", job_id=job_id, seconds=round(time.perf_counter() - started, 2),
                 engines=dict(run.job.engines))
        return run.job

    def _still_on(self, job: Job) -> bool:
        """Whether the stored job is still processing on this attempt."""
        try:
            stored = self.jobs.get(job.id)
        except JobNotFound:
            return False
        return stored.status is JobStatus.PROCESSING and stored.attempt_id == job.attempt_id

    def _clear(self, run: Attempt, published: Path | None) -> None:
        """Remove what this attempt wrote: its working folder, and its published folder if it got that far."""
        self.folders.discard(run.job.run_key)
        if published is not None:
            self.folders.remove_published(published)

    def _stop(self, run: Attempt, published: Path | None) -> Job:
        self._clear(run, published)
        log.info("job.stopped", job_id=run.job.id, attempt=run.attempt_id, reason="cancelled, deleted or retried")
        return self.jobs.get(run.job.id)  # JobNotFound once deleted

    def _fail(self, run: Attempt, reason: str, published: Path | None = None) -> Job:
        self._clear(run, published)
        failed = run.job.fail(self.clock(), reason)
        try:
            self.jobs.save(failed, expect=JobStatus.PROCESSING)
        except (JobChanged, JobNotFound):
            return self._stop(run, None)
        except RilievoError as error:
            # the database can't take the failure either (a full disk): the job stays "processing" with a
            # silent heartbeat, so recovery runs it again, or fails it, once the disk has room
            log.error("job.failure_unrecorded", job_id=failed.id, reason=reason, error=str(error))
            return failed
        if run.on_progress is not None:
            run.on_progress(failed)
        log.warning("job.failed", job_id=failed.id, reason=reason)
        return failed


class Attempt:
    """One start of a job by this process: its record as the pipeline reports progress, written only
    while the job is still on this attempt."""

    def __init__(self, jobs: JobRepository, clock: Clock, job: Job, on_progress: ProgressListener | None):
        if job.attempt_id is None or job.started_at is None:
            raise ValueError(f"job {job.id} has not been started")
        self.jobs, self.clock, self.job, self.on_progress = jobs, clock, job, on_progress
        self.attempt_id, self.started_at = job.attempt_id, job.started_at

    def report(self, stage: str, within: float, engines: Mapping[str, str]) -> None:
        """The pipeline's progress (see pipeline.Progress): stored, or JobChanged (cancelled, retried) or
        JobNotFound (deleted) once the job has left this attempt, which stops the run."""
        self.job = self.job.report(stage, progress_at(stage, within), engines)
        self.save()

    def save(self) -> None:
        self.jobs.save(self.job, expect=JobStatus.PROCESSING)
        self.jobs.touch(self.job.id, self.attempt_id, self.clock())
        if self.on_progress is not None:
            self.on_progress(self.job)


def disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno == errno.ENOSPC


def failure_reason(error: Exception) -> str:
    """One line for an error nobody raised on purpose."""
    if disk_full(error):
        filename = getattr(error, "filename", None)
        where = f" (writing {filename})" if filename else ""
        return f"the disk is full{where}: free some space, then retry the job"
    return f"internal error: {type(error).__name__}: {error}"
