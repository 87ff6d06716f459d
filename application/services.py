"""The use cases: ingest a photo, create a job, run it, read it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import attrs
import numpy as np
import structlog

from rilievo.domain.errors import InvalidParameter, RilievoError
from rilievo.domain.job import Job
from rilievo.domain.layers import LayerPlan, layer_alphas, layer_rgba, quantize_depth
from rilievo.domain.params import RenderParams
from rilievo.domain.upload import Upload

from .ports import (
    Clock,
    DepthEstimator,
    Enhancer,
    ImageDecoder,
    JobFiles,
    JobRepository,
    SuppliedDepthReader,
    UploadStore,
)

log = structlog.get_logger(__name__)

ProgressListener = Callable[[Job], None]

# Where each stage starts on the job's 0-1 progress scale.
STAGE_START = {"ingest": 0.0, "depth": 0.05, "post-process": 0.4, "layers": 0.5, "export": 0.9}
STAGE_END = {"ingest": 0.05, "depth": 0.4, "post-process": 0.5, "layers": 0.9, "export": 1.0}


@attrs.define
class Services:
    decoder: ImageDecoder
    depth: DepthEstimator
    supplied_depth: SuppliedDepthReader
    enhancer: Enhancer
    uploads: UploadStore
    files: JobFiles
    jobs: JobRepository
    clock: Clock

    def ingest(self, path: Path) -> Upload:
        """Validate a photo (or a depth map) and keep its original. Raises ImageRejected."""
        decoded = self.decoder.decode(path)
        upload = self.uploads.save(path, decoded)
        log.info("upload.stored", upload_id=upload.id, format=upload.format, width=upload.width,
                 height=upload.height)
        return upload

    def create_job(
        self,
        upload_id: str,
        params: RenderParams,
        *,
        depth_upload_id: str | None = None,
        batch_id: str | None = None,
    ) -> Job:
        if params.mode != "photo":
            raise InvalidParameter(f"mode {params.mode!r} is not available yet; use mode 'photo'")
        self.uploads.get(upload_id)
        if depth_upload_id is not None:
            self.uploads.get(depth_upload_id)
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

    def get_job(self, job_id: str) -> Job:
        return self.jobs.get(job_id)

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
        # Both files are checked before either is stored, so a refused depth map leaves nothing behind.
        decoded_photo = self.decoder.decode(photo)
        decoded_depth = self.decoder.decode(depth_map) if depth_map is not None else None
        upload = self.uploads.save(photo, decoded_photo)
        depth_upload = self.uploads.save(depth_map, decoded_depth) if decoded_depth else None
        job = self.create_job(
            upload.id, params, depth_upload_id=depth_upload.id if depth_upload else None
        )
        return self.run_job(job.id, destination=destination, on_progress=on_progress)

    def run_job(
        self,
        job_id: str,
        *,
        destination: Path | None = None,
        on_progress: ProgressListener | None = None,
    ) -> Job:
        """Run a pending job to completion or failure; the job never stays "processing"."""
        run = _JobRun(self, self.jobs.get(job_id).start(self.clock()), on_progress)
        run.save()
        started = time.perf_counter()
        try:
            output_dir = run.photo_mode(destination)
        except RilievoError as error:
            return run.fail(str(error))
        except Exception as error:
            log.exception("job.crashed", job_id=job_id)
            return run.fail(f"internal error: {type(error).__name__}: {error}")
        except BaseException:
            run.fail("interrupted")
            raise
        run.job = run.job.complete(self.clock(), outputs=run.outputs(output_dir), output_dir=str(output_dir))
        run.save()
        log.info("job.completed", job_id=job_id, seconds=round(time.perf_counter() - started, 2),
                 engines=dict(run.job.engines))
        return run.job


class _JobRun:
    """One run of one job: the stages, and the bookkeeping of its progress."""

    def __init__(self, services: Services, job: Job, on_progress: ProgressListener | None):
        self.services = services
        self.job = job
        self.on_progress = on_progress
        self.written: list[str] = []

    def save(self) -> None:
        self.services.jobs.save(self.job)
        if self.on_progress is not None:
            self.on_progress(self.job)

    def stage(self, name: str, within: float = 0.0) -> None:
        start, end = STAGE_START[name], STAGE_END[name]
        self.job = self.job.report(name, start + (end - start) * within)
        self.save()

    def fail(self, reason: str) -> Job:
        self.services.files.discard(self.job.id)
        self.job = self.job.fail(self.services.clock(), reason)
        self.save()
        log.warning("job.failed", job_id=self.job.id, reason=reason)
        return self.job

    def write_image(self, name: str, pixels: np.ndarray, bits: int) -> None:
        self.services.files.write_image(self.job.id, name, pixels, bits)
        self.written.append(name)

    def write_json(self, name: str, data: dict) -> None:
        self.services.files.write_json(self.job.id, name, data)
        self.written.append(name)

    def outputs(self, output_dir: Path) -> dict[str, str]:
        return {name: str(output_dir / name) for name in self.written}

    def photo_mode(self, destination: Path | None) -> Path:
        services, job, params = self.services, self.job, self.job.params

        self.stage("ingest")
        decoded = services.decoder.decode(services.uploads.original_path(job.upload_id))
        image, bits = decoded.pixels, decoded.bit_depth

        self.stage("depth")
        depth = self.depth_map(image)
        depth8 = quantize_depth(depth)

        self.stage("post-process")
        if params.sharpen > 0:
            image = services.enhancer.sharpen(image, params.sharpen)
            self.job = self.job.use_engine("post-process", services.enhancer.name)

        self.stage("layers")
        manifest = self.layers(image, depth8, bits, decoded.width, decoded.height)

        self.stage("export")
        self.write_image("composite_full.png", image, bits)
        self.write_image("depth_map.png", depth8.astype(np.float32) / 255.0, 8)
        self.write_json("layer_manifest.json", manifest)
        self.write_json("params.json", self.params_record(decoded))
        return services.files.publish(job.id, destination)

    def depth_map(self, image: np.ndarray) -> np.ndarray:
        services, job = self.services, self.job
        height, width = image.shape[:2]
        if job.depth_upload_id is not None:
            path = services.uploads.original_path(job.depth_upload_id)
            depth = services.supplied_depth.read(path, width, height, job.params.near)
            self.job = self.job.use_engine("depth", services.supplied_depth.name)
        else:
            depth = services.depth.estimate(image)
            self.job = self.job.use_engine("depth", services.depth.name)
        return depth

    def layers(self, image: np.ndarray, depth8: np.ndarray, bits: int, width: int, height: int) -> dict:
        params = self.job.params
        if params.layer_count == 0:
            return LayerPlan(ranges=(), coverage=()).manifest(
                job_id=self.job.id, feather_px=params.feather, width=width, height=height
            )
        plan = LayerPlan.from_depth(depth8, params.layer_count)
        membership = plan.membership(depth8)
        alphas = layer_alphas(membership, plan.count, params.feather)
        for index, (name, alpha) in enumerate(zip(plan.layer_names(), alphas)):
            self.write_image(f"{name}.png", layer_rgba(image, alpha), bits)
            self.stage("layers", (index + 1) / plan.count)
        return plan.manifest(job_id=self.job.id, feather_px=params.feather, width=width, height=height)

    def params_record(self, decoded) -> dict:
        job = self.job
        return {
            "job_id": job.id,
            "mode": job.params.mode,
            "params": job.params.to_dict(),
            "engines": dict(job.engines),
            "source": {
                "upload_id": job.upload_id,
                "format": decoded.format,
                "width": decoded.width,
                "height": decoded.height,
                "bit_depth": decoded.bit_depth,
                "converted_from_profile": decoded.converted_from,
            },
            "depth_upload_id": job.depth_upload_id,
        }
