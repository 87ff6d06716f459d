"""The JSON API's request and response bodies, and how domain values become them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from rilievo.domain.outputs import LAYERS_ZIP, RESULT_STEM
from rilievo.application.jobs import Batch
from rilievo.application.health import HealthReport
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.presets import Preset
from rilievo.domain.upload import Upload

API_ROOT = "/api"


def job_url(job_id: str) -> str:
    return f"{API_ROOT}/jobs/{job_id}"


def result_formats(job: Job) -> list[str]:
    return sorted(
        name.removeprefix(f"{RESULT_STEM}.")
        for name in job.outputs
        if name.startswith(f"{RESULT_STEM}.")
    )


# --- requests -------------------------------------------------------------------------------------


class JobRequest(msgspec.Struct, forbid_unknown_fields=True):
    upload_id: str
    mode: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    variations: int = 1
    depth_upload_id: str | None = None
    near: str | None = None

    def render_params(self) -> RenderParams:
        """The top-level mode and near win over the same names inside params."""
        near = {"near": self.near} if self.near else {}
        return RenderParams.from_mapping({**self.params, "mode": self.mode, **near})


class PresetBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    params: dict[str, Any]


class PresetReplacement(msgspec.Struct, forbid_unknown_fields=True):
    params: dict[str, Any]
    name: str | None = None


# --- responses ------------------------------------------------------------------------------------


class WorkerInfo(msgspec.Struct):
    name: str  # host:pid
    lane: str  # "standard" or "diffusion"
    started_at: datetime
    seen_at: datetime


class Health(msgspec.Struct):
    status: str
    queue: str  # "sqlite", or the Redis server (redis://host:port/db), never a password
    database: str  # "sqlite", or the PostgreSQL server (postgresql://host:port/name), never a user or password
    workers: list[WorkerInfo]  # the workers seen in the last minute

    @classmethod
    def of(cls, report: HealthReport) -> Health:
        return cls(status="ok", queue=report.queue, database=report.database,
                   workers=[WorkerInfo(name=worker.name, lane=worker.lane, started_at=worker.started_at,
                                       seen_at=worker.seen_at) for worker in report.workers])


class UploadInfo(msgspec.Struct):
    upload_id: str
    width: int
    height: int
    format: str
    bytes: int

    @classmethod
    def of(cls, upload: Upload) -> UploadInfo:
        return cls(upload.id, upload.width, upload.height, upload.format, upload.bytes)


class SubmittedJob(msgspec.Struct):
    job_id: str
    seed: int


class SubmittedBatch(msgspec.Struct):
    batch_id: str
    jobs: list[SubmittedJob]

    @classmethod
    def of(cls, batch: Batch) -> SubmittedBatch:
        return cls(batch.id, [SubmittedJob(job.id, job.params.seed) for job in batch.jobs])


class JobView(msgspec.Struct):
    job_id: str
    batch_id: str | None
    upload_id: str
    depth_upload_id: str | None
    status: JobStatus
    stage: str | None
    progress: float
    attempts: int
    worker: str | None  # the worker (host:pid) that runs or ran it
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    params: dict[str, Any]
    engines: dict[str, str]
    outputs: dict[str, str]
    # False when a file the job wrote is gone: rendered into a folder of the user's own
    # (`render --out`) that was moved or deleted since
    files_present: bool
    result_url: str | None
    zip_url: str | None
    error: str | None
    warnings: list[str]  # what the user should know about how it was made (an enlargement past the photo)

    @classmethod
    def of(cls, job: Job) -> JobView:
        url = job_url(job.id)
        return cls(
            job_id=job.id,
            batch_id=job.batch_id,
            upload_id=job.upload_id,
            depth_upload_id=job.depth_upload_id,
            status=job.status,
            stage=job.stage,
            progress=job.progress,
            attempts=job.attempts,
            worker=job.worker,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            params=job.params.to_dict(),
            engines=dict(job.engines),
            outputs={name: f"{url}/files/{name}" for name in job.outputs},
            files_present=all(Path(path).is_file() for path in job.outputs.values()),
            result_url=f"{url}/result" if result_formats(job) else None,
            zip_url=f"{url}/files/{LAYERS_ZIP}" if LAYERS_ZIP in job.outputs else None,
            error=job.error,
            warnings=list(job.warnings),
        )


class JobPage(msgspec.Struct):
    jobs: list[JobView]
    total: int
    limit: int
    offset: int


class PresetView(msgspec.Struct):
    name: str
    params: dict[str, Any]

    @classmethod
    def of(cls, preset: Preset) -> PresetView:
        return cls(preset.name, preset.params.to_dict())


class PresetList(msgspec.Struct):
    """Also the file format of an export, and what an import accepts."""

    presets: list[PresetView]

    @classmethod
    def of(cls, presets: list[Preset]) -> PresetList:
        return cls([PresetView.of(preset) for preset in presets])


class ImportedPresets(msgspec.Struct):
    imported: list[str]


class LastUsedParams(msgspec.Struct):
    params: dict[str, Any]
