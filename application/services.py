"""The use cases: ingest photos, submit and run jobs, read, retry, cancel and delete them, clean up storage,
presets."""

from __future__ import annotations

import errno
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Mapping

import attrs
import structlog

from rilievo.domain.cleanup import CleanupPolicy, CleanupReport, StoredJob, plan_cleanup, stale_uploads
from rilievo.domain.errors import (
    Conflict,
    FileNotFound,
    JobChanged,
    JobNotFound,
    RilievoError,
    UploadNotFound,
)
from rilievo.domain.images import check_depth_fits
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams, validate_variations
from rilievo.domain.presets import Preset
from rilievo.domain.seeds import variation_seed
from rilievo.domain.upload import Upload

from .heartbeat import HEARTBEAT_EVERY_S, Heartbeat
from .render.attempt import Attempt, ProgressListener
from .render.files import RunFiles
from .render.pipeline import RenderPipeline
from .ports import (
    Clock,
    DepthEngines,
    ImageDecoder,
    ColourProfiles,
    JobFolders,
    JobRepository,
    PresetRepository,
    TaskQueue,
    UploadStore,
    WorkFiles,
)

log = structlog.get_logger(__name__)

# A job is attempted at most twice when its worker dies under it; then it fails with the reason.
MAX_ATTEMPTS = 2
STALE_AFTER = timedelta(seconds=60)


@attrs.frozen
class Batch:
    id: str
    jobs: tuple[Job, ...]


@attrs.define
class Services:
    decoder: ImageDecoder
    uploads: UploadStore
    folders: JobFolders
    work_files: WorkFiles
    profiles: ColourProfiles
    jobs: JobRepository
    presets: PresetRepository
    queue: TaskQueue
    clock: Clock
    pipeline: RenderPipeline
    worker_id: str | None = None  # set in processes that run jobs: recorded on the jobs they run
    heartbeat_every_s: float = HEARTBEAT_EVERY_S
    # the engine each stage uses with the models installed (depth, paint, upscale), for the web form
    engines: Mapping[str, str] = attrs.field(factory=dict)
    depth_engines: DepthEngines | None = None  # what a job's depth_engine may name (None: "auto" alone)

    # --- uploads -----------------------------------------------------------------------------

    def ingest(self, path: Path, *, original_name: str | None = None) -> Upload:
        """Validate a photo (or a depth map) and keep its original. Raises ImageRejected, or
        StorageUnavailable when the storage can't take it."""
        self.jobs.check_storage()  # never keep an upload no job could be recorded for
        decoded = self.decoder.decode(path)
        upload = self.uploads.save(path, decoded, original_name=original_name)
        log.info("upload.stored", upload_id=upload.id, format=upload.format, width=upload.width,
                 height=upload.height)
        return upload

    def check_storage(self) -> None:
        """Raises StorageUnavailable when the storage can't be used (gone, replaced, read-only)."""
        self.jobs.check_storage()

    def get_upload(self, upload_id: str) -> Upload:
        return self.uploads.get(upload_id)

    # --- submitting and reading jobs -------------------------------------------------------------

    def create_job(
        self,
        upload_id: str,
        params: RenderParams,
        *,
        depth_upload_id: str | None = None,
        batch_id: str | None = None,
    ) -> Job:
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
        self.jobs.add(job)
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
            self.create_job(
                upload_id,
                attrs.evolve(params, seed=variation_seed(params.seed, variation)),
                depth_upload_id=depth_upload_id,
                batch_id=batch_id,
            )
            for variation in range(variations)
        )
        self.presets.remember(params)
        for job in jobs:
            self.queue.enqueue(job.id)
        return Batch(id=batch_id, jobs=jobs)

    def check_print_profile(self, params: RenderParams) -> None:
        """A CMYK job's profile is opened at submit, so a missing or non-CMYK one is refused then with the
        reason (InvalidParameter), not when the first CMYK file is written minutes into the run."""
        if params.format == "cmyk-tiff":
            self.profiles.cmyk_profile_name(params.cmyk_profile)

    def get_job(self, job_id: str) -> Job:
        return self.jobs.get(job_id)

    def list_jobs(self, *, limit: int = 50, offset: int = 0) -> tuple[list[Job], int]:
        return self.jobs.list(limit=limit, offset=offset), self.jobs.count()

    def job_file(self, job_id: str, name: str) -> Path:
        """The path of one of a finished job's files; only names the job itself recorded."""
        job = self.jobs.get(job_id)
        if name not in job.outputs:
            raise FileNotFound(f"job {job_id} has no file {name!r}")
        return Path(job.outputs[name])

    # --- changing jobs ---------------------------------------------------------------------------

    def cancel_job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        cancelled = job.cancel(self.clock())
        self.jobs.save(cancelled, expect=job.status)
        log.info("job.cancelled", job_id=job_id, was=job.status.value)
        return cancelled

    def retry_job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        retried = job.retry()
        for upload_id in filter(None, (job.upload_id, job.depth_upload_id)):
            try:
                self.uploads.get(upload_id)
            except UploadNotFound:
                raise Conflict(f"job {job_id} can't run again: its upload {upload_id} was removed") from None
        self.jobs.save(retried, expect=job.status)
        self.queue.enqueue(job_id)
        return retried

    def delete_job(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job.status is JobStatus.PROCESSING:
            raise Conflict(f"job {job_id} is running; cancel it before deleting it")
        if job.output_dir:
            self.folders.remove_published(Path(job.output_dir))
        self.folders.discard(job_id)
        self.jobs.delete(job_id)
        log.info("job.deleted", job_id=job_id)

    def recover_orphans(self, worker_alive) -> list[Job]:
        """Jobs left "processing" by a dead worker: queued again once, then failed with the reason."""
        now, recovered = self.clock(), []
        for job in self.jobs.processing():
            # with no owner on record (a job run by an older version), its heartbeat alone tells
            alive = job.worker is None or worker_alive(job.worker)
            if not job.is_orphaned(now, stale_after=STALE_AFTER, worker_alive=alive):
                continue
            self.folders.discard(job.id)
            if job.attempts < MAX_ATTEMPTS:
                fixed = job.requeue()
            else:
                fixed = job.fail(now, f"the worker running this job stopped, {job.attempts} times")
            try:
                self.jobs.save(fixed, expect=JobStatus.PROCESSING)
            except JobChanged:
                continue  # it moved on by itself meanwhile
            if fixed.status is JobStatus.PENDING:
                self.queue.enqueue(job.id)
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
            self.queue.enqueue(job.id)
            released.append(job)
        return released

    # --- storage ---------------------------------------------------------------------------------

    def clean_up(self, *, older_than_days: float | None, budget_bytes: int | None,
                 now: datetime | None = None, dry_run: bool = False) -> CleanupReport:
        """Remove finished jobs older than the cutoff, then the oldest finished jobs until the jobs' files fit
        the budget; with a cutoff, also the uploads older than it that no remaining job uses. Pending and
        processing jobs are never removed. Raises InvalidParameter."""
        policy = CleanupPolicy.of(older_than_days=older_than_days, budget_bytes=budget_bytes)
        now = now or self.clock()
        plan = plan_cleanup([self._stored(job) for job in self.jobs.all()], policy, now)
        removed = {job.id for job in plan.remove if dry_run or self._remove_finished(job.id)}
        uploads = ()
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
        """delete_job's steps, record first and only while the job is still finished: a retry arriving
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

    # --- running jobs ----------------------------------------------------------------------------

    def render(
        self,
        photo: Path,
        params: RenderParams,
        *,
        depth_map: Path | None = None,
        destination: Path | None = None,
        on_progress: ProgressListener | None = None,
    ) -> Job:
        """Ingest, create and run in one go: what the command line does."""
        self.check_print_profile(params)
        # Both files are checked before either is stored, so a refused depth map leaves nothing behind.
        decoded_photo = self.decoder.decode(photo)
        decoded_depth = self.decoder.decode(depth_map) if depth_map is not None else None
        if decoded_depth is not None:
            check_depth_fits((decoded_photo.width, decoded_photo.height), (decoded_depth.width, decoded_depth.height))
        upload = self.uploads.save(photo, decoded_photo)
        depth_upload = self.uploads.save(depth_map, decoded_depth) if decoded_depth else None
        job = self.create_job(
            upload.id, params, depth_upload_id=depth_upload.id if depth_upload else None
        )
        return self.run_job(job.id, destination=destination, on_progress=on_progress)

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
            return self.run_job(job_id)
        except (JobNotFound, JobChanged):
            log.info("job.skipped", job_id=job_id, reason="deleted or taken by another worker meanwhile")
            return None

    def replay(
        self,
        job_id: str,
        *,
        destination: Path | None = None,
        on_progress: ProgressListener | None = None,
    ) -> Job:
        """Run an earlier job again as a new job: the same stored photo (and depth map), parameters and
        seed, so with the same engines it gives the same files."""
        earlier = self.jobs.get(job_id)
        job = self.create_job(earlier.upload_id, earlier.params, depth_upload_id=earlier.depth_upload_id)
        log.info("job.replay", job_id=job.id, replay_of=job_id)
        return self.run_job(job.id, destination=destination, on_progress=on_progress)

    def run_job(
        self,
        job_id: str,
        *,
        destination: Path | None = None,
        on_progress: ProgressListener | None = None,
    ) -> Job:
        """Run a pending job to completion or failure, as a new attempt that this process owns (its
        worker id and heartbeat); the job never stays "processing" while this process lives. A run whose
        job was cancelled, deleted or retried meanwhile stops, and leaves nothing behind."""
        job = self.jobs.get(job_id)
        run = Attempt(self.jobs, self.clock, job.start(self.clock(), worker=self.worker_id), on_progress)
        self.jobs.save(run.job, expect=JobStatus.PENDING)
        self.jobs.touch(job_id, run.job.attempt_id, run.job.started_at)
        started, published = time.perf_counter(), None
        files = RunFiles(self.work_files, run.job.run_key)
        try:
            with Heartbeat(self.jobs, job_id, run.job.attempt_id, self.clock, self.heartbeat_every_s):
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
        log.info("job.stopped", job_id=run.job.id, attempt=run.job.attempt_id, reason="cancelled, deleted or retried")
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

    # --- presets -----------------------------------------------------------------------------------

    def list_presets(self) -> list[Preset]:
        return self.presets.list()

    def get_preset(self, name: str) -> Preset:
        return self.presets.get(name)

    def create_preset(self, preset: Preset) -> Preset:
        names = {existing.name for existing in self.presets.list()}
        if preset.name in names:
            raise Conflict(f"a preset named {preset.name!r} exists; use PUT to replace it")
        self.presets.put(preset)
        return preset

    def replace_preset(self, preset: Preset) -> Preset:
        self.presets.put(preset)
        return preset

    def delete_preset(self, name: str) -> None:
        self.presets.delete(name)

    def import_presets(self, presets: list[Preset]) -> list[Preset]:
        """Every preset is validated before any is stored; same names are replaced."""
        for preset in presets:
            self.presets.put(preset)
        return presets

    def last_used_params(self) -> RenderParams:
        return self.presets.last_used() or RenderParams()


def disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno == errno.ENOSPC


def failure_reason(error: Exception) -> str:
    """One line for an error nobody raised on purpose."""
    if disk_full(error):
        where = f" (writing {error.filename})" if getattr(error, "filename", None) else ""
        return f"the disk is full{where}: free some space, then retry the job"
    return f"internal error: {type(error).__name__}: {error}"
