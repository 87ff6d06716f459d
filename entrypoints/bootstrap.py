"""The composition root: the one place that chooses adapters and wires them into the services."""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Iterator, Mapping
from importlib import metadata
from datetime import datetime, timezone
from pathlib import Path

import attrs

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
    SuppliedDepthReader,
    TaskQueue,
    UploadStore,
    Upscaler,
)
from rilievo.adapters.model_store import DEPTH, ModelStore, hub_cache_of
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.params import AUTO_DEPTH, CLASSICAL_DEPTH
from rilievo.application.render.pipeline import RenderPipeline
from rilievo.application.services import Services

from .cleanup_cli import cleanup_settings
from .models_cli import PAINT_MODELS, depth_models_usable, engine_choice
from .settings_text import finite_number, from_environment, whole_number_above_zero

DEFAULT_MAX_PIXELS = 150_000_000
DEFAULT_MAX_UPLOAD_MB = 300  # a large 16-bit TIFF from a camera fits comfortably


@attrs.frozen
class Settings:
    storage_dir: Path
    models_dir: Path
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB  # the web app refuses larger request bodies with a 413
    immediate_queue: bool = False  # run queued jobs in the submitting process (tests)
    diffusion_steps: int = 30  # denoising steps the Stable Diffusion painter runs
    diffusion_size: int = 768  # its working size: the long side, 768-1024 for SD 1.5 (less only in tests)
    keep_days: float | None = None  # the worker removes finished jobs older than this
    storage_budget: int | None = None  # bytes: the worker removes the oldest finished jobs beyond it
    hub_cache: Path | None = None  # the Hugging Face cache, where installed models are also looked for

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            storage_dir=Path(os.environ.get("RILIEVO_STORAGE", "storage")).resolve(),
            models_dir=Path(os.environ.get("RILIEVO_MODELS", "models")).resolve(),
            max_pixels=from_environment(os.environ, "RILIEVO_MAX_PIXELS", whole_number_above_zero,
                                        DEFAULT_MAX_PIXELS),
            max_upload_mb=upload_limit_of(os.environ),
            diffusion_steps=from_environment(os.environ, "RILIEVO_DIFFUSION_STEPS", whole_number_above_zero, 30),
            diffusion_size=from_environment(os.environ, "RILIEVO_DIFFUSION_SIZE", whole_number_above_zero, 768),
            hub_cache=hub_cache_of(os.environ),
            **cleanup_settings(os.environ),
        )

    def model_store(self) -> ModelStore:
        return ModelStore(self.models_dir, hub_cache=self.hub_cache)

    @property
    def database_path(self) -> Path:
        return self.storage_dir / "rilievo.sqlite3"

    @property
    def queue_path(self) -> Path:
        return self.storage_dir / "queue.sqlite3"


def parse_megabytes(text: str) -> float:
    megabytes = finite_number(text)
    if megabytes is None or megabytes <= 0:
        raise InvalidParameter(f"a size in MB > 0 such as 300 or 0.5 is needed, got {text!r}")
    return megabytes


def upload_limit_of(environ: Mapping[str, str]) -> float:
    return from_environment(environ, "RILIEVO_MAX_UPLOAD_MB", parse_megabytes, DEFAULT_MAX_UPLOAD_MB)


RECORDED_PACKAGES = ("rilievo", "numpy", "opencv-python-headless", "pillow", "scipy", "torch", "transformers",
                     "diffusers")


def choose_depth_estimator(store: ModelStore, engine: str) -> DepthEstimator:
    """The learned depth model named engine (a catalogue key), else the classical estimator."""
    if engine == CLASSICAL_DEPTH:
        from rilievo.adapters.depth_classical import ClassicalDepth

        return ClassicalDepth()
    from rilievo.adapters.depth_learned import LearnedDepth

    return LearnedDepth(store.folder(engine), key=engine)  # loads on first use, then keeps the model


class DepthEngineChoice:
    """The depth engines a job may name: "auto" (the estimator bootstrap chose), "classical" and each
    installed depth model, when torch and transformers are there too. Deciding reads only the models
    folder (the web process needs no torch); estimators are built on first use and kept, so each model
    loads once per process."""

    def __init__(self, store: ModelStore, auto: DepthEstimator, *, learned: bool) -> None:
        self.store = store
        self.learned = learned
        self._built: dict[str, DepthEstimator] = {AUTO_DEPTH: auto, auto.name: auto}
        self._lock = threading.Lock()

    def models(self) -> list[str]:
        """The catalogue's depth models."""
        return [spec.key for spec in self.store.catalogue if spec.kind == DEPTH]

    def choices(self) -> list[str]:
        installed = [key for key in self.models() if self.learned and self.store.is_installed(key)]
        return [AUTO_DEPTH, CLASSICAL_DEPTH, *installed]

    def check(self, key: str) -> None:
        if key in (AUTO_DEPTH, CLASSICAL_DEPTH):
            return
        if key not in self.models():
            raise InvalidParameter(f"depth_engine {key!r} is unknown; the depth engines are "
                                   f"{', '.join([AUTO_DEPTH, CLASSICAL_DEPTH, *self.models()])}")
        if not self.store.is_installed(key):
            raise InvalidParameter(f"depth_engine {key!r} cannot run: its weights are not installed "
                                   f"(`rilievo models pull {key}` downloads them)")
        if not self.learned:
            raise InvalidParameter(f"depth_engine {key!r} cannot run: torch and transformers are not installed "
                                   "(`scripts/setup learned` adds them)")

    def get(self, key: str) -> DepthEstimator:
        self.check(key)
        with self._lock:
            if key not in self._built:
                self._built[key] = choose_depth_estimator(self.store, key)
            return self._built[key]


def choose_painter(store: ModelStore, engine: str, settings: Settings) -> Painter:
    """Stable Diffusion + the two ControlNets when engine_choice picked them, else the stroke painter."""
    if engine != "stable-diffusion":
        from rilievo.adapters.paint_classical import ClassicalPainter

        return ClassicalPainter()
    from rilievo.adapters.paint_diffusion import DiffusionPainter

    # loads on the first painting, then keeps the pipeline
    return DiffusionPainter(*(store.folder(key) for key in PAINT_MODELS), loras_dir=settings.models_dir / "loras",
                            steps=settings.diffusion_steps, working_long_side=settings.diffusion_size)


def choose_upscaler(store: ModelStore, engine: str) -> Upscaler:
    """Real-ESRGAN when engine_choice picked one of its weight files, else Lanczos with sharpening."""
    if engine == "lanczos":
        from rilievo.adapters.upscale import LanczosUpscaler

        return LanczosUpscaler()
    from rilievo.adapters.upscale_esrgan import RealEsrganUpscaler

    return RealEsrganUpscaler(store.location(engine), key=engine)  # loads on first use, then keeps it


class WeightsRecord(Mapping[str, list]):
    """What the job record says about the weights of each learned engine that may run, by the name a job
    records for it ("depth-anything-v2-small", "stable-diffusion", "realesrgan:<key>"): the catalogue
    key, source, where it was installed from and the sha256 of each weight file. Computed when a job
    first asks (the web process never does), then kept; the store caches the hashes on disk too."""

    def __init__(self, store: ModelStore, keys: Mapping[str, list[str]]) -> None:
        self.store = store
        self._keys = dict(keys)
        self._records: dict[str, list[dict]] = {}

    def __getitem__(self, engine: str) -> list[dict]:
        if engine not in self._records:
            self._records[engine] = [
                {"key": key, "source": self.store.spec(key).source, "installed_from": self.store.installed_from(key),
                 "weights": self.store.weight_hashes(key)}
                for key in self._keys[engine]
            ]
        return self._records[engine]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def models_record(store: ModelStore, engines: Mapping[str, str], *, painter: Painter,
                  upscaler: Upscaler) -> WeightsRecord:
    """The weights behind each learned engine these services may run: every depth model (a job may
    choose any that is installed, even one pulled after start), and the painter and upscaler when they
    are the learned ones engine_choice picked (not a stand-in handed to bootstrap)."""
    keys = {spec.key: [spec.key] for spec in store.catalogue if spec.kind == DEPTH}
    if painter.name == engines["paint"] == "stable-diffusion":
        keys[painter.name] = list(PAINT_MODELS)
    if upscaler.name == f"realesrgan:{engines['upscale']}":
        keys[upscaler.name] = [engines["upscale"]]
    return WeightsRecord(store, keys)


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
