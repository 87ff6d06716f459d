"""Keeping the storage within its age and size limits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import attrs
import structlog

from rilievo.domain.cleanup import CleanupPolicy, CleanupReport, StoredJob, plan_cleanup, stale_uploads
from rilievo.domain.errors import JobChanged, JobNotFound
from rilievo.domain.job import Job
from rilievo.domain.upload import Upload

from .ports import Clock, JobFolders, JobRepository, UploadStore

log = structlog.get_logger(__name__)


@attrs.frozen
class Cleanup:
    jobs: JobRepository
    folders: JobFolders
    uploads: UploadStore
    clock: Clock

    def clean_up(self, *, older_than_days: float | None, budget_bytes: int | None,
                 now: datetime | None = None, dry_run: bool = False) -> CleanupReport:
        """Remove finished jobs older than the cutoff, then the oldest finished jobs until the jobs' files fit
        the budget; with a cutoff, also the uploads older than it that no remaining job uses. Pending and
        processing jobs are never removed. Raises InvalidParameter."""
        policy = CleanupPolicy.of(older_than_days=older_than_days, budget_bytes=budget_bytes)
        now = now or self.clock()
        plan = plan_cleanup([self._stored(job) for job in self.jobs.all()], policy, now)
        removed = {job.id for job in plan.remove if dry_run or self._remove_finished(job.id)}
        uploads: tuple[Upload, ...] = ()
        if (cutoff := policy.cutoff(now)) is not None:
            referenced = {upload_id for job in self.jobs.all() if job.id not in removed
                          for upload_id in (job.upload_id, job.depth_upload_id) if upload_id}
            uploads = stale_uploads(self.uploads.all(), referenced, cutoff)
            if not dry_run:
                for upload in uploads:
                    self.uploads.remove(upload.id)
        report = CleanupReport.of(plan, policy, removed=removed, dry_run=dry_run, uploads=uploads)
        log.info("storage.cleaned", dry_run=dry_run, jobs=len(report.removed_jobs), bytes=report.removed_bytes,
                 uploads=len(report.removed_uploads), kept=dict(report.kept), left_bytes=report.remaining_bytes)
        return report

    def _stored(self, job: Job) -> StoredJob:
        if not job.output_dir:
            return StoredJob.of(job)
        output_dir = Path(job.output_dir)
        if not self.folders.in_store(output_dir):
            return StoredJob.of(job, in_store=False)
        return StoredJob.of(job, bytes=self.folders.published_bytes(output_dir))

    def _remove_finished(self, job_id: str) -> bool:
        """Jobs.delete's steps, record first and only while the job is still finished: a retry arriving
        meanwhile wins, and a deleted job is never started."""
        try:
            job = self.jobs.get(job_id)
            if not job.finished:
                return False
            self.jobs.delete(job_id, expect=job.status)
        except (JobNotFound, JobChanged):
            return False  # retried, or removed by another worker's cleanup
        if job.output_dir:
            self.folders.remove_published(Path(job.output_dir))
        self.folders.discard(job_id)
        log.info("job.deleted", job_id=job_id, by="cleanup")
        return True
