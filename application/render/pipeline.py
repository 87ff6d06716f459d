"""The render pipeline: one job's stages, top to bottom, each taking what it needs and returning its
result. It writes into the attempt's own folder (RunFiles) and reports progress through a callback;
who owns the job, its heartbeat and its record is the caller's business (application.runner)."""

from __future__ import annotations

from concurrent.futures import wait
from typing import Callable, Mapping

import attrs
import numpy as np

from rilievo.domain.errors import InvalidParameter
from rilievo.domain.images import DecodedImage
from rilievo.domain.job import Job
from rilievo.domain.layers import LayerPlan, quantize_depth, shortfall
from rilievo.domain.region_plan import plan_regions
from rilievo.domain.noise import NoisePlan
from rilievo.domain.outputs import DEPTH_PREVIEW, LAYERS_ZIP, MANIFEST, PHOTO_PREVIEW, RECORD, layer_set
from rilievo.domain.params import AUTO_DEPTH, RenderParams
from rilievo.domain.previews import downsample, preview_factor
from rilievo.domain.print_layout import MM_PER_INCH, PrintPlan, nearest_subject
from rilievo.domain.regions import SUBJECT_NAMES, Regions
from rilievo.domain.seeds import derive_seed
from rilievo.domain.styles import PaintRequest

from ..ports import (
    ColourProfiles,
    DepthEngines,
    DepthEstimator,
    Enhancer,
    GuideDrawer,
    ImageDecoder,
    LayerShaper,
    OutlineTracer,
    Painter,
    PaintResult,
    PostProcessor,
    Resampler,
    Segmenter,
    SuppliedDepthReader,
    UploadStore,
    Upscaler,
)
from .files import RunFiles
from .panes import PaneMaker
from .print_export import PrintExport, PrintFinish

# (stage, fraction within it, the engines run so far); raises when the job has left this attempt
Progress = Callable[[str, float, Mapping[str, str]], None]


@attrs.frozen
class Rendered:
    """What a finished render tells its job: the engine each stage ran and what the user should know."""

    engines: dict[str, str]
    warnings: tuple[str, ...]


@attrs.frozen
class Depth:
    depth8: np.ndarray  # HxW uint8, 0 = nearest
    engine: str
    device: str | None
    warnings: tuple[str, ...] = ()


@attrs.define
class RenderPipeline:
    decoder: ImageDecoder
    photos: UploadStore
    depth: DepthEstimator  # the automatic choice
    supplied_depth: SuppliedDepthReader
    enhancer: Enhancer
    painter: Painter
    post: PostProcessor
    shaper: LayerShaper
    segmenter: Segmenter  # the photo's regions, which the layer plan places whole on panes
    tracer: OutlineTracer
    guide_drawer: GuideDrawer
    upscaler: Upscaler  # the composite to print size
    resampler: Resampler  # alpha and fill colours to print size: plain Lanczos, no sharpening
    profiles: ColourProfiles  # the CMYK profile's name, for the record
    depth_engines: DepthEngines | None = None  # what a job's depth_engine may name (None: "auto" alone)
    runtime: Mapping[str, str] = attrs.field(factory=dict)  # library versions, for the job record
    # the weights each learned engine loads, by engine name ({key, source, weights: {file: sha256}})
    models: Mapping[str, list] = attrs.field(factory=dict)

    def __call__(self, job: Job, files: RunFiles, progress: Progress) -> Rendered:
        params = job.params
        engines: dict[str, str] = {}
        warnings: list[str] = []

        progress("ingest", 0.0, engines)
        image, bits, source = self.load(job.upload_id)

        progress("depth", 0.0, engines)
        depth = self.estimate_depth(job, image)
        engines["depth"] = depth.engine
        warnings += depth.warnings
        depth8, devices = depth.depth8, {"depth": depth.device}

        # The crop and the layers are planned before painting: the painting's noise follows the very
        # layers the panes are cut into, and those are planned from the print's crop of the depth and
        # of the regions.
        plan, advice = plan_print(params, image, depth8)
        regions, layer_plan, layers_warning = None, None, None
        # a painting without layers still needs its subject: the painter gives it the finest brushes
        if params.layer_count != 0 or params.mode == "painterly":
            progress("depth", 0.5, engines)
            regions = self.segmenter.segment(image).cropped(plan.crop.slices)
            engines["regions"] = self.segmenter.name
            if self.segmenter.device:
                devices["regions"] = self.segmenter.device
            if params.layer_count != 0:
                layer_plan, layers_warning = plan_layers(params, depth8[plan.crop.slices], regions)
        warnings += filter(None, (advice, layers_warning))
        noise, strokes = None, None
        if params.mode == "painterly":
            noise = plan_noise(params, layer_plan)
            progress("paint", 0.0, engines)
            subject = None
            if regions is not None:  # the regions are the print's crop of the photo: put them back in place
                subject = np.zeros(image.shape[:2], bool)
                subject[plan.crop.slices] = regions.named(SUBJECT_NAMES)
            painting = self.paint(params, image, unit_depth(depth8), noise, subject,
                                  lambda within: progress("paint", within, engines))
            image, engines["paint"], devices["paint"] = painting.image, self.painter.name, painting.device
            strokes = painting.strokes
            warnings += painting.warnings
            del painting  # its image goes once finished: held to the end it was the job's peak (137 MiB at 12 MP)

        progress("post-process", 0.0, engines)
        image, finishing = self.finish(params, image, depth8, max(plan.scale))
        if finishing:
            engines["post-process"] = finishing

        progress("layers", 0.0, engines)
        cropped, depth8 = (array[plan.crop.slices] for array in (image, depth8))
        factor = preview_factor(cropped.shape[1], cropped.shape[0])
        print_pixel_mm = MM_PER_INCH / plan.dpi
        maker = PaneMaker(params, cropped, factor, regions=regions, shaper=self.shaper, tracer=self.tracer,
                          guide_drawer=self.guide_drawer, files=files, pixel_mm=print_pixel_mm * plan.scale[0],
                          print_px=plan.canvas_px, print_pixel_mm=print_pixel_mm)
        del regions  # the pane maker lets go of them once the panes are planned
        panes = maker.make(job.id, depth8, layer_plan, lambda within: progress("layers", within, engines))
        warnings += filter(None, [panes.warning])
        try:
            if panes.edges_engine:
                engines["edges"] = panes.edges_engine
            progress("upscale", 0.0, engines)  # a cancelled job stops here or at any later report
            if plan.scale != (1.0, 1.0):
                engines["upscale"] = self.upscaler.name
            finish = None
            if params.mode == "painterly":
                finish = PrintFinish(self.post, PaintRequest.from_params(params).style.post,
                                     seeds_of(params)["post"], strokes)
            export = PrintExport(params, plan, image, depth8, upscaler=self.upscaler, resampler=self.resampler,
                                 files=files, finish=finish)
            export.write(panes.sources, bits, lambda within: progress("upscale", within, engines))
        finally:  # the previews are written into the attempt's folder: done before it is published or discarded
            wait([panes.previews])
        panes.previews.result()
        if "upscale" in engines:
            devices["upscale"] = self.upscaler.device  # a learned model knows its device once loaded

        progress("export", 0.0, engines)
        files.image(PHOTO_PREVIEW, downsample(cropped, factor), 8)
        files.image(DEPTH_PREVIEW, unit_depth(downsample(depth8, factor)), 8)  # shrunk first: 48 MB less to make
        files.json(MANIFEST, {**panes.manifest, "print": self.print_record(params, plan, engines.get("upscale"))})
        files.json(RECORD, self.record(job, engines, devices, warnings, noise, source))
        if panes.manifest["layers"]:
            files.zip(LAYERS_ZIP, layer_set(panes.manifest))
        return Rendered(engines=engines, warnings=tuple(dict.fromkeys(warnings)))

    # -- the stages ------------------------------------------------------------------------------
    def load(self, upload_id: str) -> tuple[np.ndarray, int, dict]:
        """The photo's pixels, bit depth, and what ingest learned about it (for the record)."""
        decoded = self.decoder.decode(self.photos.original_path(upload_id))
        return decoded.pixels, decoded.bit_depth, source_record(decoded)

    def estimate_depth(self, job: Job, image: np.ndarray) -> Depth:
        height, width = image.shape[:2]
        if job.depth_upload_id is not None:
            supplied = self.supplied_depth.read(self.photos.original_path(job.depth_upload_id), width, height,
                                                job.params.near)
            return Depth(quantize_depth(supplied.depth), self.supplied_depth.name, None, supplied.warnings)
        estimator = self.depth_estimator(job.params.depth_engine)
        return Depth(quantize_depth(estimator.estimate(image)), estimator.name, estimator.device)

    def depth_estimator(self, key: str) -> DepthEstimator:
        if key == AUTO_DEPTH:
            return self.depth
        if self.depth_engines is None:
            raise InvalidParameter(f"depth_engine {key!r}: no depth engine but the automatic one is available")
        return self.depth_engines.get(key)

    def paint(self, params: RenderParams, image: np.ndarray, depth: np.ndarray, noise: NoisePlan,
              subject: np.ndarray | None, on_progress: Callable[[float], None]) -> PaintResult:
        return self.painter.paint(image, depth, PaintRequest.from_params(params), noise, on_progress=on_progress,
                                  subject=subject)

    def finish(self, params: RenderParams, image: np.ndarray, depth8: np.ndarray, enlargement: float
               ) -> tuple[np.ndarray, str]:
        """Painterly post-processing and sharpening, as asked; returns the image and the engines that ran.
        enlargement: the print's, from the photo's pixels."""
        finishing = []
        if params.mode == "painterly":
            post = PaintRequest.from_params(params).style.post
            image = self.post.finish(image, unit_depth(depth8), post, seeds_of(params)["post"], enlargement)
            finishing.append(self.post.name)
        if params.sharpen > 0:
            image = self.enhancer.sharpen(image, params.sharpen)
            finishing.append(self.enhancer.name)
        return image, "+".join(finishing)

    # -- the records -----------------------------------------------------------------------------
    def print_record(self, params: RenderParams, plan: PrintPlan, engine: str | None) -> dict:
        record = {**plan.to_dict(), "format": params.format, "engine": engine}
        if params.format == "cmyk-tiff":
            record["cmyk"] = {"profile": self.profiles.cmyk_profile_name(params.cmyk_profile),
                              "profile_path": params.cmyk_profile or None, "intent": params.intent,
                              "black_point_compensation": True, "ink_limit": params.ink_limit or None}
        return record

    def record(self, job: Job, engines: dict[str, str], devices: dict[str, str | None], warnings: list[str],
               noise: NoisePlan | None, source: dict) -> dict:
        """params.json: everything needed to tell how the job was made and to make it again."""
        return {
            "job_id": job.id,
            "batch_id": job.batch_id,
            "mode": job.params.mode,
            "params": job.params.to_dict(),
            "seeds": {**seeds_of(job.params), **noise.to_dict()} if noise is not None else {},
            "engines": dict(engines),
            "runtime": dict(self.runtime),
            "models": {name: list(self.models[name]) for name in sorted(set(engines.values())) if name in self.models},
            # where each learned engine ran (cpu, cuda, mps): its results can differ by device
            "devices": {stage: device for stage, device in devices.items() if device},
            "warnings": list(dict.fromkeys(warnings)),
            "source": {"upload_id": job.upload_id, **source},
            "depth_upload_id": job.depth_upload_id,
        }


def unit_depth(depth8: np.ndarray) -> np.ndarray:
    """The 8-bit depth as floats in [0, 1], made where a stage needs it rather than held all along (at
    12 MP it is 48 MB)."""
    return depth8.astype(np.float32) / 255.0


def seeds_of(params: RenderParams) -> dict[str, int]:
    """Every seed a job uses, derived from its one seed and recorded in params.json."""
    return {purpose: derive_seed(params.seed, purpose) for purpose in ("paint", "post")}


def plan_print(params: RenderParams, image: np.ndarray, depth8: np.ndarray) -> tuple[PrintPlan, str | None]:
    """The print's crop and scale, and the advice when the photo is enlarged past what it supports."""
    height, width = image.shape[:2]
    plan = PrintPlan.for_photo((width, height), params.print_size, dpi=params.dpi, fit=params.fit,
                               bleed=params.bleed, point_of_interest=nearest_subject(depth8))
    return plan, plan.advice.warning


def plan_layers(params: RenderParams, depth8: np.ndarray, regions: Regions) -> tuple[LayerPlan, str | None]:
    """The layers the job cuts, planned once from the depth and the regions the panes use, and a
    warning when the scene has fewer depths than asked."""
    count = params.layer_count
    plan = plan_regions(depth8, regions, count)
    return plan, shortfall(depth8, plan, count)


def plan_noise(params: RenderParams, layer_plan: LayerPlan | None) -> NoisePlan:
    """The painting's noise follows the layers the job will cut (the same plan the panes use)."""
    return NoisePlan.for_painting(seeds_of(params)["paint"], layer_plan=layer_plan, edition=params.edition,
                                  depth_influence=params.depth_influence)


def source_record(decoded: DecodedImage) -> dict:
    """What ingest learned about the photo, for the job record."""
    return {
        "format": decoded.format,
        "width": decoded.width,
        "height": decoded.height,
        "bit_depth": decoded.bit_depth,
        "converted_from_profile": decoded.converted_from,
    }

