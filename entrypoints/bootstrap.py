"""The composition root: the one place that chooses adapters and wires them into the use cases.

Every process opens the same stores (open_stores). The web process wires only those (web_side): no
engine is built or imported in it. The worker and the command line wire the engines too (work_side)."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Mapping, Protocol

import attrs

from rilievo.adapters.model_store import ModelStore
from rilievo.application.cleanup import Cleanup
from rilievo.application.jobs import Jobs
from rilievo.application.ports import (
    Clock,
    ColourProfiles,
    DepthEngines,
    DepthEstimator,
    ImageDecoder,
    JobFolders,
    JobRepository,
    PresetRepository,
    TaskQueue,
    UploadStore,
    WorkerRoster,
    WorkFiles,
)
from rilievo.application.health import Health
from rilievo.application.presets import Presets
from rilievo.application.recovery import Recovery
from rilievo.application.render.pipeline import RenderPipeline
from rilievo.application.render_now import RenderNow
from rilievo.application.runner import Runner
from rilievo.application.uploads import Uploads

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


class JobFiles(JobFolders, WorkFiles, ColourProfiles, Protocol):
    """The filesystem store plays all three roles."""


@attrs.frozen
class Stores:
    """What every process opens: the photo decoder, the upload and job-file stores, the repositories,
    the queue and the clock."""

    decoder: ImageDecoder
    uploads: UploadStore
    files: JobFiles
    jobs: JobRepository
    presets: PresetRepository
    roster: WorkerRoster
    queue: TaskQueue
    clock: Clock = utc_now


def open_database(settings: Settings, *, migrate: bool = True):
    """The SQLite file in the storage folder, always brought to the latest schema (one computer); or the
    PostgreSQL database of RILIEVO_DATABASE, migrated when migrate (`rilievo migrate`, `serve`), else only
    checked (a worker: a shop's many workers must not race to migrate)."""
    from rilievo.adapters.sql_jobs import open_postgres, open_sqlite

    if settings.database_url is None:
        return open_sqlite(settings.database_path)
    return open_postgres(settings.database_url, migrate=migrate)


def open_queue(settings: Settings):
    from rilievo.adapters.huey_queue import HueyQueue

    if settings.queue_url is None:
        return HueyQueue.on_sqlite(settings.queue_path, immediate=settings.immediate_queue)
    return HueyQueue.on_redis(settings.queue_url)


def open_stores(settings: Settings, *, migrate: bool = True) -> Stores:
    """Opening the database applies its migrations (or checks them, see open_database) before anything
    else runs; the queue's server is asked whether it answers."""
    from rilievo.adapters.fs_store import FilesystemJobFiles, FilesystemUploads
    from rilievo.adapters.image_io import PillowImageDecoder
    from rilievo.adapters.sql_jobs import SqlJobRepository, SqlPresetRepository, SqlWorkerRoster

    database = open_database(settings, migrate=migrate)
    return Stores(
        decoder=PillowImageDecoder(max_pixels=settings.max_pixels),
        uploads=FilesystemUploads(settings.storage_dir),
        files=FilesystemJobFiles(settings.storage_dir),
        jobs=SqlJobRepository(database),
        presets=SqlPresetRepository(database),
        roster=SqlWorkerRoster(database),
        queue=open_queue(settings),
    )


@attrs.frozen
class Installed:
    """What this installation runs, for the form and the command line: the engine each stage uses with
    the models installed (depth, paint, upscale), and the depth engines a job may name."""

    engines: Mapping[str, str]
    depth_engines: DepthEngines


def installed(store: ModelStore, engines: Mapping[str, str], auto_depth: DepthEstimator | None = None) -> Installed:
    """Reads only the models folder and which packages are importable, never torch itself."""
    return Installed(engines=engines, depth_engines=DepthEngineChoice(store, auto_depth, learned=depth_models_usable()))


def uploads_of(stores: Stores) -> Uploads:
    return Uploads(decoder=stores.decoder, store=stores.uploads, jobs=stores.jobs)


def jobs_of(stores: Stores, depth_engines: DepthEngines | None) -> Jobs:
    return Jobs(repository=stores.jobs, uploads=stores.uploads, folders=stores.files, profiles=stores.files,
                presets=stores.presets, queue=stores.queue, clock=stores.clock, depth_engines=depth_engines)


def cleanup_of(stores: Stores) -> Cleanup:
    return Cleanup(jobs=stores.jobs, folders=stores.files, uploads=stores.uploads, clock=stores.clock)


@attrs.frozen
class WebSide:
    """The use cases the web app serves: taking uploads, submitting and managing jobs, presets."""

    uploads: Uploads
    jobs: Jobs
    presets: Presets
    installed: Installed
    health: Health


def web_side(settings: Settings, stores: Stores | None = None) -> WebSide:
    stores = stores or open_stores(settings)
    store = settings.model_store()
    what = installed(store, engine_choice(store))
    if settings.immediate_queue:  # the tests' mode: queued jobs run in this very process
        attach_worker(work_side(settings, stores), stores.queue)
    return WebSide(uploads=uploads_of(stores), jobs=jobs_of(stores, what.depth_engines),
                   presets=Presets(stores.presets), installed=what,
                   health=Health(jobs=stores.jobs, roster=stores.roster, clock=stores.clock,
                                 queue=settings.shown_queue(), database=settings.shown_database()))


@attrs.frozen
class WorkSide:
    """The use cases of a process that runs jobs (the worker, `rilievo render`): running them with the
    engines loaded once, rendering one here and now, recovering orphans, cleaning up."""

    runner: Runner
    render_now: RenderNow
    recovery: Recovery
    cleanup: Cleanup
    installed: Installed


def work_side(settings: Settings, stores: Stores | None = None, *, worker_id: str | None = None) -> WorkSide:
    """The engines are chosen from the models installed; their adapters load weights on first use."""
    from rilievo.adapters.artwork import PillowGuideDrawer, SvgOutlineTracer
    from rilievo.adapters.depth_supplied import SuppliedDepthReader
    from rilievo.adapters.enhance import ClassicalEnhancer
    from rilievo.adapters.layer_shaping import OpenCVLayerShaper
    from rilievo.adapters.liveness import HostProcesses
    from rilievo.adapters.post_painterly import PainterlyPostProcessor
    from rilievo.adapters.upscale import LanczosUpscaler

    stores = stores or open_stores(settings)
    store = settings.model_store()
    engines = engine_choice(store)
    depth = choose_depth_estimator(store, engines["depth"])
    painter = choose_painter(store, engines["paint"], settings)
    upscaler = choose_upscaler(store, engines["upscale"])
    segmenter = choose_segmenter(store)
    what = installed(store, engines, depth)
    pipeline = RenderPipeline(
        decoder=stores.decoder,
        photos=stores.uploads,
        depth=depth,
        supplied_depth=SuppliedDepthReader(stores.decoder),
        enhancer=ClassicalEnhancer(),
        painter=painter,
        post=PainterlyPostProcessor(),
        shaper=OpenCVLayerShaper(),
        segmenter=segmenter,
        tracer=SvgOutlineTracer(),
        guide_drawer=PillowGuideDrawer(),
        upscaler=upscaler,
        resampler=LanczosUpscaler(sharpening=0.0),
        profiles=stores.files,
        depth_engines=what.depth_engines,
        runtime=runtime_versions(),
        models=models_record(store, engines, painter=painter, upscaler=upscaler, segmenter=segmenter),
    )
    runner = Runner(jobs=stores.jobs, folders=stores.files, work_files=stores.files, clock=stores.clock,
                    pipeline=pipeline, worker_id=worker_id)
    jobs = jobs_of(stores, what.depth_engines)
    return WorkSide(
        runner=runner,
        render_now=RenderNow(uploads=uploads_of(stores), jobs=jobs, runner=runner),
        recovery=Recovery(jobs=stores.jobs, folders=stores.files, queue=stores.queue, clock=stores.clock,
                          liveness=HostProcesses()),
        cleanup=cleanup_of(stores),
        installed=what,
    )


def attach_worker(work: WorkSide, queue) -> None:
    """Give the Huey queue's tasks their work: running jobs, and finding jobs whose worker died."""
    queue.handle_with(work.runner.work_on, work.recovery.recover_orphans)
