"""Submitting jobs and looking after them: create, submit, read, cancel, retry, delete, replay."""

from __future__ import annotations

import uuid
from pathlib import Path

import attrs
import structlog

from rilievo.domain.errors import Conflict, FileNotFound, StorageUnavailable, UploadNotFound
from rilievo.domain.images import check_depth_fits
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams, validate_variations
from rilievo.domain.seeds import variation_seed
from rilievo.domain.workers import lane_of

from .ports import Clock, ColourProfiles, DepthEngines, JobFolders, JobRepository, PresetRepository, TaskQueue, UploadStore

log = structlog.get_logger(__name__)


@attrs.frozen
class Batch:
    id: str
    jobs: tuple[Job, ...]


@attrs.frozen
class Jobs:
    repository: JobRepository
    uploads: UploadStore  # a job's photo and depth map must exist
    folders: JobFolders  # a deleted job's files go too
    profiles: ColourProfiles  # a CMYK job's profile is checked at submit
    presets: PresetRepository  # a submission's parameters prefill the next form
    queue: TaskQueue
    clock: Clock
    depth_engines: DepthEngines | None = None  # what a job's depth_engine may name (None: "auto" alone)

    # --- submitting and reading ------------------------------------------------------------------

    def create(
        self,
        upload_id: str,
        params: RenderParams,
        *,
        depth_upload_id: str | None = None,
        batch_id: str | None = None,
    ) -> Job:
        """A pending job, recorded but not queued."""
        if self.depth_engines is not None:
            self.depth_engines.check(params.depth_engine)
        photo = self.uploads.get(upload_id)
        if depth_upload_id is not None:
            depth = self.uploads.get(depth_upload_id)
            check_depth_fits((photo.width, photo.height), (depth.width, depth.height))
        job = Job.create(
            upload_id=upload_id,
            params=params,
            now=self.clock(),
            depth_upload_id=depth_upload_id,
            batch_id=batch_id,
        )
        self.repository.add(job)
        log.info("job.created", job_id=job.id, upload_id=upload_id, params=params.to_dict())
        return job

    def submit(
        self,
        upload_id: str,
        params: RenderParams,
        *,
        variations: int = 1,
        depth_upload_id: str | None = None,
    ) -> Batch:
        """Queue 1-3 variations of one request, with seeds base + 0, + 1, + 2."""
        validate_variations(variations)
        self.check_print_profile(params)
        batch_id = uuid.uuid4().hex[:16]
        jobs = tuple(
            self.create(
                upload_id,
                attrs.evolve(params, seed=variation_seed(params.seed, variation)),
                depth_upload_id=depth_upload_id,
                batch_id=batch_id,
            )
            for variation in range(variations)
        )
        self.presets.remember(params)
        for number, job in enumerate(jobs):
            try:
                self.queue.enqueue(job.id, lane_of(job.params))
            except StorageUnavailable:  # the queue's server is down: keep no job that nothing would run
                for unqueued in jobs[number:]:
                    self.repository.delete(unqueued.id, expect=JobStatus.PENDING)
                raise
        return Batch(id=batch_id, jobs=jobs)

    def replay(self, job_id: str) -> Job:
        """A new pending job made of an earlier one: the same stored photo (and depth map), parameters and
        seed, so with the same engines it gives the same files."""
        earlier = self.repository.get(job_id)
        job = self.create(earlier.upload_id, earlier.params, depth_upload_id=earlier.depth_upload_id)
        log.info("job.replay", job_id=job.id, replay_of=job_id)
        return job

    def check_print_profile(self, params: RenderParams) -> None:
        """A CMYK job's profile is opened at submit, so a missing or non-CMYK one is refused then with the
        reason (InvalidParameter), not when the first CMYK file is written minutes into the run."""
        if params.format == "cmyk-tiff":
            self.profiles.cmyk_profile_name(params.cmyk_profile)

    def get(self, job_id: str) -> Job:
        return self.repository.get(job_id)

    def page(self, *, limit: int = 50, offset: int = 0) -> tuple[list[Job], int]:
        """Newest first, and how many jobs there are in all."""
        return self.repository.newest(limit=limit, offset=offset), self.repository.count()

    def file(self, job_id: str, name: str) -> Path:
        """The path of one of a finished job's files; only names the job itself recorded."""
        job = self.repository.get(job_id)
        if name not in job.outputs:
            raise FileNotFound(f"job {job_id} has no file {name!r}")
        return Path(job.outputs[name])

    # --- changing ---------------------------------------------------------------------------------

    def cancel(self, job_id: str) -> Job:
        job = self.repository.get(job_id)
        cancelled = job.cancel(self.clock())
        self.repository.save(cancelled, expect=job.status)
        log.info("job.cancelled", job_id=job_id, was=job.status.value)
        return cancelled

    def retry(self, job_id: str) -> Job:
        job = self.repository.get(job_id)
        retried = job.retry()
        for upload_id in filter(None, (job.upload_id, job.depth_upload_id)):
            try:
                self.uploads.get(upload_id)
            except UploadNotFound:
                raise Conflict(f"job {job_id} can't run again: its upload {upload_id} was removed") from None
        self.repository.save(retried, expect=job.status)
        try:
            self.queue.enqueue(job_id, lane_of(job.params))
        except StorageUnavailable:  # the queue's server is down: the job stays as it was
            self.repository.save(job, expect=JobStatus.PENDING)
            raise
        return retried

    def delete(self, job_id: str) -> None:
        job = self.repository.get(job_id)
        if job.status is JobStatus.PROCESSING:
            raise Conflict(f"job {job_id} is running; cancel it before deleting it")
        if job.output_dir:
            self.folders.remove_published(Path(job.output_dir))
        self.folders.discard(job_id)
        self.repository.delete(job_id)
        log.info("job.deleted", job_id=job_id)
