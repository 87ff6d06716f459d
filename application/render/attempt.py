"""One start of a job by this process: its record as the pipeline reports progress, written only
while the job is still on this attempt."""

from __future__ import annotations

from typing import Callable, Mapping

from rilievo.domain.job import Job, JobStatus
from rilievo.domain.outputs import progress_at

from ..ports import Clock, JobRepository

ProgressListener = Callable[[Job], None]


class Attempt:
    def __init__(self, jobs: JobRepository, clock: Clock, job: Job, on_progress: ProgressListener | None):
        self.jobs, self.clock, self.job, self.on_progress = jobs, clock, job, on_progress

    def report(self, stage: str, within: float, engines: Mapping[str, str]) -> None:
        """The pipeline's progress (see pipeline.Progress): stored, or JobChanged (cancelled, retried) or
        JobNotFound (deleted) once the job has left this attempt, which stops the run."""
        self.job = self.job.report(stage, progress_at(stage, within), engines)
        self.save()

    def save(self) -> None:
        self.jobs.save(self.job, expect=JobStatus.PROCESSING)
        self.jobs.touch(self.job.id, self.job.attempt_id, self.clock())
        if self.on_progress is not None:
            self.on_progress(self.job)
