"""Jobs whose worker is gone: found and queued again (or failed), and handed back by a stopping worker."""

from __future__ import annotations

from datetime import timedelta

import attrs
import structlog

from rilievo.domain.errors import JobChanged
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.workers import lane_of

from .ports import Clock, JobFolders, JobRepository, TaskQueue, WorkerLiveness

log = structlog.get_logger(__name__)

# A job is attempted at most twice when its worker dies under it; then it fails with the reason.
MAX_ATTEMPTS = 2
STALE_AFTER = timedelta(seconds=60)


@attrs.frozen
class Recovery:
    jobs: JobRepository
    folders: JobFolders  # an orphan's unfinished files are discarded
    queue: TaskQueue
    clock: Clock
    liveness: WorkerLiveness

    def recover_orphans(self) -> list[Job]:
        """Jobs left "processing" by a dead worker: queued again once, then failed with the reason."""
        now, recovered = self.clock(), []
        for job in self.jobs.processing():
            # with no owner on record (a job run by an older version), its heartbeat alone tells
            alive = job.worker is None or self.liveness.alive(job.worker)
            if not job.is_orphaned(now, stale_after=STALE_AFTER, worker_alive=alive):
                continue
            if job.attempts < MAX_ATTEMPTS:
                fixed = job.requeue()
            else:
                fixed = job.fail(now, f"the worker running this job stopped, {job.attempts} times")
            try:
                self.jobs.save(fixed, expect=JobStatus.PROCESSING)
            except JobChanged:
                continue  # it moved on by itself meanwhile, or another worker's check recovered it first
            # only the dead attempt's files: another worker may already run the job again, in a folder of its own
            self.folders.discard(job.run_key)
            if fixed.status is JobStatus.PENDING:
                self.queue.enqueue(job.id, lane_of(job.params))
            log.warning("job.orphan_recovered", job_id=job.id, now=fixed.status.value, worker=job.worker)
            recovered.append(fixed)
        return recovered

    def release_jobs_of(self, worker_id: str) -> list[Job]:
        """A stopping worker hands its unfinished jobs back to the queue, for the next worker."""
        released = []
        for job in self.jobs.processing():
            if job.worker != worker_id:
                continue
            try:
                self.jobs.save(job.release(), expect=JobStatus.PROCESSING)
            except JobChanged:
                continue
            self.queue.enqueue(job.id, lane_of(job.params))
            released.append(job)
        return released
