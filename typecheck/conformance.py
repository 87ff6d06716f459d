"""Each adapter satisfies the port the composition root wires it to: mypy checks every function below
(an adapter that drifts from its port fails the type check in tests/unit/test_architecture.py)."""

from rilievo.adapters.artwork import PillowGuideDrawer, SvgOutlineTracer
from rilievo.adapters.depth_classical import ClassicalDepth
from rilievo.adapters.depth_learned import LearnedDepth
from rilievo.adapters.depth_supplied import SuppliedDepthReader
from rilievo.adapters.enhance import ClassicalEnhancer
from rilievo.adapters.fs_store import FilesystemJobFiles, FilesystemUploads
from rilievo.adapters.huey_queue import HueyQueue
from rilievo.adapters.image_io import PillowImageDecoder
from rilievo.adapters.layer_shaping import OpenCVLayerShaper
from rilievo.adapters.liveness import HostProcesses
from rilievo.adapters.paint_classical import ClassicalPainter, ClassicalStrokes
from rilievo.adapters.paint_diffusion import DiffusionPainter
from rilievo.adapters.post_painterly import PainterlyPostProcessor
from rilievo.adapters.print_files import AtomicStripWriter
from rilievo.adapters.segment_classical import ClassicalSegmenter
from rilievo.adapters.segment_learned import LearnedSegmenter
from rilievo.adapters.sql_jobs import SqlJobRepository, SqlPresetRepository, SqlWorkerRoster
from rilievo.adapters.upscale import LanczosUpscaler
from rilievo.adapters.upscale_esrgan import RealEsrganUpscaler
from rilievo.application import ports
from rilievo.entrypoints.engines import DepthEngineChoice


def decoder(adapter: PillowImageDecoder) -> ports.ImageDecoder:
    return adapter


def classical_depth(adapter: ClassicalDepth) -> ports.DepthEstimator:
    return adapter


def learned_depth(adapter: LearnedDepth) -> ports.DepthEstimator:
    return adapter


def depth_engines(adapter: DepthEngineChoice) -> ports.DepthEngines:
    return adapter


def segmenter(adapter: ClassicalSegmenter) -> ports.Segmenter:
    return adapter


def learned_segmenter(adapter: LearnedSegmenter) -> ports.Segmenter:
    return adapter


def supplied_depth(adapter: SuppliedDepthReader) -> ports.SuppliedDepthReader:
    return adapter


def enhancer(adapter: ClassicalEnhancer) -> ports.Enhancer:
    return adapter


def classical_painter(adapter: ClassicalPainter) -> ports.Painter:
    return adapter


def diffusion_painter(adapter: DiffusionPainter) -> ports.Painter:
    return adapter


def classical_strokes(adapter: ClassicalStrokes) -> ports.PaintedStrokes:
    return adapter


def post_processor(adapter: PainterlyPostProcessor) -> ports.PostProcessor:
    return adapter


def lanczos(adapter: LanczosUpscaler) -> ports.Upscaler:
    return adapter


def resampler(adapter: LanczosUpscaler) -> ports.Resampler:
    return adapter


def real_esrgan(adapter: RealEsrganUpscaler) -> ports.Upscaler:
    return adapter


def strip_writer(adapter: AtomicStripWriter) -> ports.StripWriter:
    return adapter


def shaper(adapter: OpenCVLayerShaper) -> ports.LayerShaper:
    return adapter


def tracer(adapter: SvgOutlineTracer) -> ports.OutlineTracer:
    return adapter


def guide_drawer(adapter: PillowGuideDrawer) -> ports.GuideDrawer:
    return adapter


def uploads(adapter: FilesystemUploads) -> ports.UploadStore:
    return adapter


def work_files(adapter: FilesystemJobFiles) -> ports.WorkFiles:
    return adapter


def job_folders(adapter: FilesystemJobFiles) -> ports.JobFolders:
    return adapter


def colour_profiles(adapter: FilesystemJobFiles) -> ports.ColourProfiles:
    return adapter


def jobs(adapter: SqlJobRepository) -> ports.JobRepository:
    return adapter


def presets(adapter: SqlPresetRepository) -> ports.PresetRepository:
    return adapter


def roster(adapter: SqlWorkerRoster) -> ports.WorkerRoster:
    return adapter


def queue(adapter: HueyQueue) -> ports.TaskQueue:
    return adapter


def liveness(adapter: HostProcesses) -> ports.WorkerLiveness:
    return adapter
