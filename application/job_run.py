"""One run of one job: photo mode's stages, and the bookkeeping of their progress."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from rilievo.domain.errors import InvalidParameter
from rilievo.domain.images import DecodedImage
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.layers import LayerPlan, quantize_depth, shortfall
from rilievo.domain.noise import NoisePlan
from rilievo.domain.params import AUTO_DEPTH
from rilievo.domain.previews import downsample, preview_factor
from rilievo.domain.print_layout import MM_PER_INCH, PrintPlan, nearest_subject
from rilievo.domain.seeds import derive_seed
from rilievo.domain.styles import PaintRequest

from .panes import GUIDE, PaneMaker
from .print_export import PrintExport

if TYPE_CHECKING:
    from .ports import DepthEstimator
    from .services import Services

ProgressListener = Callable[[Job], None]

# Where each stage starts and ends on the job's 0-1 progress scale, in the order the stages run: the
# one list of stages (the web page shows them in this order).
STAGE_SPAN = {
    "ingest": (0.0, 0.05),
    "depth": (0.05, 0.2),
    "paint": (0.2, 0.45),  # painterly mode only
    "post-process": (0.45, 0.5),
    "layers": (0.5, 0.65),
    "upscale": (0.65, 0.97),  # the print files, band by band at print size
    "export": (0.97, 1.0),
}
LAYERS_ZIP = "layers.zip"


def layer_set(manifest: dict) -> list[str]:
    """What goes to the print shop in one zip: every pane's files, the manifest and the guide."""
    files = []
    for layer in manifest["layers"]:
        files += [layer[key] for key in ("file", "print_file", "white_ink_file", "cut_file") if layer[key]]
    return [*files, "layer_manifest.json", GUIDE]


class JobRun:
    def __init__(self, services: Services, job: Job, on_progress: ProgressListener | None):
        self.services = services
        self.job = job
        self.on_progress = on_progress
        self.written: list[str] = []
        self.noise: NoisePlan | None = None  # painterly mode's, once planned
        self.warnings: list[str] = []  # what the user should know about how the job was made
        self.depth_estimator: DepthEstimator | None = None  # the one that ran, once it has

    def save(self) -> None:
        """Store progress, unless the job left this attempt meanwhile (cancelled, retried: then JobChanged
        stops the run; deleted: JobNotFound)."""
        self.services.jobs.save(self.job, expect=JobStatus.PROCESSING)
        self.services.jobs.touch(self.job.id, self.job.attempt_id, self.services.clock())
        if self.on_progress is not None:
            self.on_progress(self.job)

    def stage(self, name: str, within: float = 0.0) -> None:
        start, end = STAGE_SPAN[name]
        self.job = self.job.report(name, start + (end - start) * within)
        self.save()

    def write_image(self, name: str, pixels: np.ndarray, bits: int) -> None:
        self.services.files.write_image(self.job.run_key, name, pixels, bits)
        self.written.append(name)

    def write_text(self, name: str, text: str) -> None:
        self.services.files.write_text(self.job.run_key, name, text)
        self.written.append(name)

    def write_animation(self, name: str, frames: list[np.ndarray], frame_ms: int) -> None:
        self.services.files.write_animation(self.job.run_key, name, frames, frame_ms)
        self.written.append(name)

    def write_json(self, name: str, data: dict) -> None:
        self.services.files.write_json(self.job.run_key, name, data)
        self.written.append(name)

    def outputs(self, output_dir: Path) -> dict[str, str]:
        return {name: str(output_dir / name) for name in self.written}

    def execute(self) -> None:
        """Every stage, each file written into this attempt's working folder (published by the caller)."""
        services, job, params = self.services, self.job, self.job.params

        self.stage("ingest")
        decoded = services.decoder.decode(services.uploads.original_path(job.upload_id))
        image, bits, source = decoded.pixels, decoded.bit_depth, source_record(decoded)
        del decoded  # its pixels are the image's until the image is replaced: then they would be a second copy

        self.stage("depth")
        depth8 = quantize_depth(self.depth_map(image))

        depth = depth8.astype(np.float32) / 255.0
        # The crop and the layers are planned before painting: the painting's noise follows the very
        # layers the panes are cut into, and those are planned from the print's crop of the depth.
        plan = self.print_plan(image, depth8)
        layer_plan = self.layer_plan(depth8[plan.crop.slices])
        if params.mode == "painterly":
            image = self.paint(image, depth, self.noise_plan(layer_plan))

        self.stage("post-process")
        finishing = []
        if params.mode == "painterly":
            post = PaintRequest.from_params(params).style.post
            image = services.post.finish(image, depth, post, self.seeds["post"])
            finishing.append(services.post.name)
        if params.sharpen > 0:
            image = services.enhancer.sharpen(image, params.sharpen)
            finishing.append(services.enhancer.name)
        if finishing:
            self.job = self.job.use_engine("post-process", "+".join(finishing))

        self.stage("layers")
        cropped, depth8, depth = (array[plan.crop.slices] for array in (image, depth8, depth))
        print_pixel_mm = MM_PER_INCH / plan.dpi
        panes = PaneMaker(self, cropped, self.preview_factor(cropped), pixel_mm=print_pixel_mm * plan.scale[0],
                          print_px=plan.canvas_px, print_pixel_mm=print_pixel_mm)
        manifest = panes.make(depth8, layer_plan)

        self.stage("upscale")
        enlarged = plan.scale != (1.0, 1.0)
        export = PrintExport(self, plan, image, depth, upscaler=services.upscaler, resampler=services.resampler)
        self.written += export.write(panes.panes, bits)
        if enlarged:
            self.job = self.job.use_engine("upscale", services.upscaler.name)
        manifest["print"] = self.print_record(plan)

        self.stage("export")
        self.write_image("preview.png", downsample(cropped, self.preview_factor(cropped)), 8)
        self.write_image("depth_preview.png", downsample(depth, self.preview_factor(cropped)), 8)
        self.write_json("layer_manifest.json", manifest)
        self.write_json("params.json", self.params_record(source))
        if manifest["layers"]:
            services.files.write_zip(job.run_key, LAYERS_ZIP, layer_set(manifest))
            self.written.append(LAYERS_ZIP)

    def print_plan(self, image: np.ndarray, depth8: np.ndarray) -> PrintPlan:
        params = self.job.params
        height, width = image.shape[:2]
        plan = PrintPlan.for_photo((width, height), params.print_size, dpi=params.dpi, fit=params.fit,
                                   bleed=params.bleed, point_of_interest=nearest_subject(depth8))
        if plan.advice.warning:
            self.warnings.append(plan.advice.warning)
        return plan

    def print_record(self, plan: PrintPlan) -> dict:
        params = self.job.params
        record = {**plan.to_dict(), "format": params.format, "engine": self.job.engines.get("upscale")}
        if params.format == "cmyk-tiff":
            record["cmyk"] = {"profile": self.services.files.cmyk_profile_name(params.cmyk_profile),
                              "profile_path": params.cmyk_profile or None, "intent": params.intent,
                              "black_point_compensation": True, "ink_limit": params.ink_limit or None}
        return record

    @property
    def seeds(self) -> dict[str, int]:
        """Every seed the run uses, derived from the job's one seed and recorded in params.json."""
        return {purpose: derive_seed(self.job.params.seed, purpose) for purpose in ("paint", "post")}

    def layer_plan(self, depth8: np.ndarray) -> LayerPlan | None:
        """The layers the job cuts (None: layers off), planned once from the depth the panes use."""
        count = self.job.params.layer_count
        if count == 0:
            return None
        plan = LayerPlan.from_depth(depth8, count)
        if warning := shortfall(depth8, plan, count):
            self.warnings.append(warning)
        return plan

    def noise_plan(self, layer_plan: LayerPlan | None) -> NoisePlan:
        """The painting's noise follows the layers the job will cut (the same plan the panes use)."""
        params = self.job.params
        self.noise = NoisePlan.for_painting(self.seeds["paint"], layer_plan=layer_plan, edition=params.edition,
                                            depth_influence=params.depth_influence)
        return self.noise

    def paint(self, image: np.ndarray, depth: np.ndarray, noise: NoisePlan) -> np.ndarray:
        painter = self.services.painter
        self.stage("paint")
        painted = painter.paint(image, depth, PaintRequest.from_params(self.job.params), noise,
                                on_progress=lambda fraction: self.stage("paint", fraction))
        self.job = self.job.use_engine("paint", painter.name)
        self.warnings += [w for w in getattr(painter, "warnings", ()) if w not in self.warnings]
        return painted

    def depth_map(self, image: np.ndarray) -> np.ndarray:
        services, job = self.services, self.job
        height, width = image.shape[:2]
        if job.depth_upload_id is not None:
            path = services.uploads.original_path(job.depth_upload_id)
            depth = services.supplied_depth.read(path, width, height, job.params.near)
            self.warnings += getattr(services.supplied_depth, "warnings", ())
            self.job = self.job.use_engine("depth", services.supplied_depth.name)
        else:
            key = job.params.depth_engine
            if key == AUTO_DEPTH:
                self.depth_estimator = services.depth
            elif services.depth_engines is None:
                raise InvalidParameter(f"depth_engine {key!r}: no depth engine but the automatic one is available")
            else:
                self.depth_estimator = services.depth_engines.get(key)
            depth = self.depth_estimator.estimate(image)
            self.job = self.job.use_engine("depth", self.depth_estimator.name)
        return depth

    def devices(self) -> dict[str, str]:
        """Where each learned engine that ran this job ran (cpu, cuda, mps): its results can differ by device."""
        engines, devices = self.job.engines, {}
        ran = (("depth", self.depth_estimator), ("paint", self.services.painter), ("upscale", self.services.upscaler))
        for stage, adapter in ran:
            device = getattr(adapter, "device", None)
            if adapter is not None and engines.get(stage) == adapter.name and device:
                devices[stage] = str(device)
        return devices

    @staticmethod
    def preview_factor(image: np.ndarray) -> int:
        return preview_factor(image.shape[1], image.shape[0])

    def params_record(self, source: dict) -> dict:
        job = self.job
        return {
            "job_id": job.id,
            "batch_id": job.batch_id,
            "mode": job.params.mode,
            "params": job.params.to_dict(),
            "seeds": {**self.seeds, **self.noise.to_dict()} if self.noise is not None else {},
            "engines": dict(job.engines),
            "runtime": dict(self.services.runtime),
            "models": {name: list(self.services.models[name]) for name in sorted(set(job.engines.values()))
                       if name in self.services.models},
            "devices": self.devices(),
            "warnings": list(self.warnings),
            "source": {"upload_id": job.upload_id, **source},
            "depth_upload_id": job.depth_upload_id,
        }


def source_record(decoded: DecodedImage) -> dict:
    """What ingest learned about the photo, for the job record."""
    return {
        "format": decoded.format,
        "width": decoded.width,
        "height": decoded.height,
        "bit_depth": decoded.bit_depth,
        "converted_from_profile": decoded.converted_from,
    }
