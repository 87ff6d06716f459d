"""The composition root: the one place that chooses adapters and wires them into the services."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata

from rilievo.application.ports import (
    DepthEstimator,
    Enhancer,
    GuideDrawer,
    ImageDecoder,
    JobFolders,
    JobRepository,
    LayerShaper,
    OutlineTracer,
    Painter,
    PostProcessor,
    PresetRepository,
    Segmenter,
    SuppliedDepthReader,
    TaskQueue,
    UploadStore,
    Upscaler,
)
from rilievo.application.render.pipeline import RenderPipeline
from rilievo.application.services import Services

from .engines import (
    DepthEngineChoice,
    choose_depth_estimator,
    choose_painter,
    choose_segmenter,
    choose_upscaler,
    depth_models_usable,
    engine_choice,
    models_record,
)
from .settings import Settings

RECORDED_PACKAGES = ("rilievo", "numpy", "opencv-python-headless", "pillow", "scipy", "torch", "transformers",
                     "diffusers")


def runtime_versions() -> dict[str, str]:
    """What a job record needs to tell whether a re-run can match: Python and the libraries that shape
    the pixels (those installed)."""
    versions = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def bootstrap(
    settings: Settings,
    *,
    decoder: ImageDecoder | None = None,
    depth: DepthEstimator | None = None,
    supplied_depth: SuppliedDepthReader | None = None,
    enhancer: Enhancer | None = None,
    painter: Painter | None = None,
    post: PostProcessor | None = None,
    shaper: LayerShaper | None = None,
    segmenter: Segmenter | None = None,
    tracer: OutlineTracer | None = None,
    guide_drawer: GuideDrawer | None = None,
    uploads: UploadStore | None = None,
    files: JobFolders | None = None,  # and WorkFiles and ColourProfiles: one store does all three
    jobs: JobRepository | None = None,
    presets: PresetRepository | None = None,
    queue: TaskQueue | None = None,
    upscaler: Upscaler | None = None,
    worker_id: str | None = None,
) -> Services:
    """Real adapters for whatever the caller does not hand in; imports stay inside for start-up speed."""
    if decoder is None:
        from rilievo.adapters.image_io import PillowImageDecoder

        decoder = PillowImageDecoder(max_pixels=settings.max_pixels)
    store = settings.model_store()
    engines = engine_choice(store)
    if depth is None:
        depth = choose_depth_estimator(store, engines["depth"])
    if supplied_depth is None:
        from rilievo.adapters.depth_supplied import SuppliedDepthReader as FileDepthReader

        supplied_depth = FileDepthReader(decoder)
    if enhancer is None:
        from rilievo.adapters.enhance import ClassicalEnhancer

        enhancer = ClassicalEnhancer()
    if painter is None:
        painter = choose_painter(store, engines["paint"], settings)
    if post is None:
        from rilievo.adapters.post_painterly import PainterlyPostProcessor

        post = PainterlyPostProcessor()
    if shaper is None:
        from rilievo.adapters.layer_shaping import OpenCVLayerShaper

        shaper = OpenCVLayerShaper()
    if segmenter is None:
        segmenter = choose_segmenter()
    if tracer is None or guide_drawer is None:
        from rilievo.adapters.artwork import PillowGuideDrawer, SvgOutlineTracer

        tracer = tracer or SvgOutlineTracer()
        guide_drawer = guide_drawer or PillowGuideDrawer()
    if uploads is None or files is None:
        from rilievo.adapters.fs_store import FilesystemJobFiles, FilesystemUploads

        uploads = uploads or FilesystemUploads(settings.storage_dir)
        files = files or FilesystemJobFiles(settings.storage_dir)
    if jobs is None or presets is None:
        from rilievo.adapters.sqlite_jobs import (
            SqliteJobRepository,
            SqlitePresetRepository,
            open_database,
        )

        engine = open_database(settings.database_path)
        jobs = jobs or SqliteJobRepository(engine)
        presets = presets or SqlitePresetRepository(engine)
    if queue is None:
        from rilievo.adapters.huey_queue import HueyQueue

        queue = HueyQueue(settings.queue_path, immediate=settings.immediate_queue)
    if upscaler is None:
        upscaler = choose_upscaler(store, engines["upscale"])
    depth_engines = DepthEngineChoice(store, depth, learned=depth_models_usable())
    from rilievo.adapters.upscale import LanczosUpscaler

    pipeline = RenderPipeline(
        decoder=decoder,
        photos=uploads,
        depth=depth,
        supplied_depth=supplied_depth,
        enhancer=enhancer,
        painter=painter,
        post=post,
        shaper=shaper,
        segmenter=segmenter,
        tracer=tracer,
        guide_drawer=guide_drawer,
        upscaler=upscaler,
        resampler=LanczosUpscaler(sharpening=0.0),
        profiles=files,
        depth_engines=depth_engines,
        runtime=runtime_versions(),
        models=models_record(store, engines, painter=painter, upscaler=upscaler),
    )
    services = Services(
        decoder=decoder,
        uploads=uploads,
        folders=files,
        work_files=files,
        profiles=files,
        jobs=jobs,
        presets=presets,
        queue=queue,
        clock=utc_now,
        pipeline=pipeline,
        worker_id=worker_id,
        engines=engines,
        depth_engines=depth_engines,
    )
    if settings.immediate_queue:
        attach_worker(services, queue)
    return services


def attach_worker(services: Services, queue) -> None:
    """Give the Huey queue's tasks their work: running jobs, and finding jobs whose worker died."""
    from rilievo.adapters.huey_queue import worker_alive

    queue.handle_with(services.work_on, lambda: services.recover_orphans(worker_alive))
