"""In-memory fakes of every port; they record what happened so tests can assert on it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import numpy as np

from rilievo.application.cleanup import Cleanup
from rilievo.application.heartbeat import HEARTBEAT_EVERY_S
from rilievo.application.jobs import Jobs
from rilievo.application.ports import DepthEngines, PaintResult, SuppliedDepth
from rilievo.application.presets import Presets
from rilievo.application.recovery import Recovery
from rilievo.application.render.pipeline import RenderPipeline
from rilievo.application.render_now import RenderNow
from rilievo.application.runner import Runner
from rilievo.application.uploads import Uploads
from rilievo.domain.errors import (
    ImageRejected,
    InvalidParameter,
    JobChanged,
    JobNotFound,
    PresetNotFound,
    StorageUnavailable,
    UploadNotFound,
)
from rilievo.domain.images import DecodedImage
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.params import RenderParams
from rilievo.domain.presets import Preset
from rilievo.domain.regions import Regions
from rilievo.domain.upload import Upload, new_upload_id


def three_planes(height: int = 30, width: int = 60) -> np.ndarray:
    """A depth map: left third near, middle third midway, right third far."""
    depth = np.empty((height, width), dtype=np.float32)
    third = width // 3
    depth[:, :third], depth[:, third : 2 * third], depth[:, 2 * third :] = 0.1, 0.5, 0.9
    return depth


def decoded(pixels: np.ndarray, bit_depth: int = 8) -> DecodedImage:
    height, width = pixels.shape[:2]
    return DecodedImage(pixels=pixels, bit_depth=bit_depth, format="PNG", width=width, height=height,
                        had_alpha=False, converted_from=None)


class FakeDecoder:
    """Knows images by file name; anything else is refused, as a real decoder refuses a non-image."""

    def __init__(self, images: dict[str, DecodedImage]):
        self.images = images

    def decode(self, path: Path) -> DecodedImage:
        try:
            return self.images[path.name.removeprefix("original-")]
        except KeyError:
            raise ImageRejected(f"{path.name} is not an image") from None


class FakeDepth:
    name = "fake-depth"
    device = None

    def __init__(self, depth: np.ndarray | None = None, error: BaseException | None = None):
        self.depth, self.error, self.calls = depth, error, 0

    def estimate(self, image: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.error is not None:
            raise self.error
        if self.depth is not None:
            return self.depth
        return np.tile(np.linspace(0, 1, image.shape[1], dtype=np.float32), (image.shape[0], 1))


class FakeSuppliedDepth:
    name = "supplied"

    def __init__(self, depth: np.ndarray):
        self.depth, self.calls = depth, []

    def read(self, path: Path, width: int, height: int, near: str) -> SuppliedDepth:
        self.calls.append((path.name, width, height, near))
        return SuppliedDepth(self.depth)


class FakeEnhancer:
    name = "fake-sharpen"

    def __init__(self):
        self.amounts: list[float] = []

    def sharpen(self, image: np.ndarray, amount: float) -> np.ndarray:
        self.amounts.append(amount)
        return np.clip(image * 0.5, 0, 1)


class FakePainter:
    """"Paints" by inverting the image, and records what it was asked."""

    name = "fake-painter"

    def __init__(self):
        self.calls: list[tuple] = []
        self.subjects: list[np.ndarray | None] = []

    def paint(self, image, depth, request, noise, on_progress=None, subject=None):
        self.calls.append((request, noise))
        self.subjects.append(subject)
        for fraction in (0.5, 1.0):
            if on_progress is not None:
                on_progress(fraction)
        return PaintResult(1.0 - image)


class FakePost:
    name = "fake-post"

    def __init__(self):
        self.calls: list[tuple] = []
        self.print_calls: list[tuple] = []
        self.enlargements: list[float] = []

    def finish(self, image, depth, post, seed, print_enlargement=1.0):
        self.calls.append((post, seed))
        self.enlargements.append(print_enlargement)
        return image

    def print_context_rows(self, source_size, out_size):
        return 2

    def sharpens_print(self, source_size, out_size, post):
        return True

    def finish_print_rows(self, rows, top, keep, source_size, out_size, post, seed, dpi, strokes=None,
                          texture=None):
        """The rows kept, as they came; records what was asked."""
        self.print_calls.append((rows.shape[0], top, keep, source_size, out_size, post, seed, dpi))
        return np.ascontiguousarray(rows[keep])


class FakeShaper:
    """Leaves the layer map alone (recording the calls) and fills with a flat colour."""

    name = "fake-shaper"
    FILL_COLOUR = (1.0, 0.0, 1.0)

    def __init__(self):
        self.calls: list[tuple] = []

    def refine_membership(self, image: np.ndarray, membership: np.ndarray, count: int,
                          things: np.ndarray | None = None) -> np.ndarray:
        self.calls.append(("refine", count, things))
        return membership

    def merge_small_features(self, membership: np.ndarray, count: int, min_feature_px: float,
                             things: np.ndarray | None = None) -> np.ndarray:
        self.calls.append(("merge", count, min_feature_px, things))
        return membership

    def fill_behind(self, image, known, fillable, reach_px):
        self.calls.append(("fill", reach_px))
        colours = np.empty((np.count_nonzero(fillable), 3), np.float16)
        colours[:] = self.FILL_COLOUR
        return colours, fillable.copy()


class FakeSegmenter:
    """The regions it was given (their names too), else one region covering the photo; records each
    image size it segmented."""

    name = "fake-regions"
    device = None

    def __init__(self, labels: np.ndarray | None = None, names: tuple[str, ...] | None = None):
        self.labels, self.names = labels, names
        self.calls: list[tuple[int, int]] = []

    def segment(self, image: np.ndarray) -> Regions:
        height, width = image.shape[:2]
        self.calls.append((height, width))
        if self.labels is None:
            return Regions.whole(height, width)
        if self.labels.shape != (height, width):
            raise ValueError(f"the fake's regions are {self.labels.shape}, the photo {(height, width)}")
        labels = self.labels.astype(np.int32)
        return Regions(labels, self.names or ("",) * (int(labels.max()) + 1))


class FakeTracer:
    def svg_outline(self, alpha: np.ndarray, pixel_mm: float, *, title: str) -> str:
        return f"<svg><title>{title}</title><!-- {int((alpha >= 0.5).sum())} px --></svg>"


class FakeGuideDrawer:
    def __init__(self):
        self.guides: list = []

    def draw(self, guide, thumbnails: list[np.ndarray]) -> np.ndarray:
        self.guides.append(guide)
        return np.ones((10, 20, 3), dtype=np.float32)


class InMemoryUploads:
    def __init__(self):
        self.uploads: dict[str, Upload] = {}
        self.names: dict[str, str] = {}

    def save(self, source: Path, decoded_image: DecodedImage, *, original_name: str | None = None) -> Upload:
        upload = Upload(id=new_upload_id(), original_name=original_name or source.name,
                        format=decoded_image.format,
                        width=decoded_image.width, height=decoded_image.height, bytes=0,
                        created_at=datetime.now(timezone.utc))
        self.uploads[upload.id] = upload
        self.names[upload.id] = source.name
        return upload

    def get(self, upload_id: str) -> Upload:
        try:
            return self.uploads[upload_id]
        except KeyError:
            raise UploadNotFound(f"no upload with id {upload_id!r}") from None

    def original_path(self, upload_id: str) -> Path:
        self.get(upload_id)
        return Path("uploads") / upload_id / f"original-{self.names[upload_id]}"

    def all(self) -> list[Upload]:
        return list(self.uploads.values())

    def remove(self, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)


class InMemoryJobFiles:
    OUTPUTS = Path("/outputs")

    def __init__(self):
        self.working: dict[str, dict[str, object]] = {}
        self.published: dict[Path, dict[str, object]] = {}
        self.discarded: list[str] = []

    def write_image(self, job_id: str, name: str, pixels: np.ndarray, bits: int) -> None:
        scale = 2**bits - 1
        self.working.setdefault(job_id, {})[name] = np.round(np.clip(pixels, 0, 1) * scale) / scale

    def write_json(self, job_id: str, name: str, data: dict) -> None:
        self.working.setdefault(job_id, {})[name] = data

    def write_text(self, job_id: str, name: str, text: str) -> None:
        self.working.setdefault(job_id, {})[name] = text

    def write_animation(self, job_id: str, name: str, frames, frame_ms: int) -> None:
        self.working.setdefault(job_id, {})[name] = list(frames)

    def write_zip(self, job_id: str, name: str, members: list[str]) -> None:
        files = self.working[job_id]
        self.working[job_id][name] = {member: files[member] for member in members}

    def open_print_file(self, job_id: str, name: str, spec) -> InMemoryStripWriter:
        return InMemoryStripWriter(self, job_id, name, spec)

    def cmyk_profile_name(self, profile: str) -> str:
        return f"fake CMYK profile {profile or 'default'}"

    def remove_published(self, output_dir: Path) -> None:
        self.published.pop(output_dir, None)  # as the real store: a folder already gone is no error

    def published_bytes(self, output_dir: Path) -> int:
        """Bytes and text as written, arrays by their buffers, anything else by its text."""
        def size(data: object) -> int:
            if isinstance(data, np.ndarray):
                return data.nbytes
            return len(data if isinstance(data, bytes) else str(data).encode("utf-8"))

        return sum(size(data) for data in self.published.get(output_dir, {}).values())

    def in_store(self, output_dir: Path) -> bool:
        return output_dir.parent == self.OUTPUTS

    def publish(self, run_key: str, destination: Path | None = None) -> Path:
        target = (destination or self.OUTPUTS) / run_key.split("/")[0]
        self.published[target] = self.working.pop(run_key)
        return target

    def discard(self, key: str) -> None:
        """A run key: that attempt's files; a job id: every attempt's."""
        for working in [k for k in self.working if k == key or k.startswith(f"{key}/")]:
            del self.working[working]
        self.discarded.append(key)


class InMemoryStripWriter:
    """Gathers the bands; the file appears (quantised like a PNG or TIFF of its kind) only on close."""

    def __init__(self, files: InMemoryJobFiles, job_id: str, name: str, spec):
        self.files, self.job_id, self.name, self.spec = files, job_id, name, spec
        self.bands: list[np.ndarray] = []
        self.aborted = False

    def write_rows(self, rows: np.ndarray) -> None:
        assert rows.shape[1:] == (self.spec.width, self.spec.channels), (self.name, rows.shape)
        self.bands.append(rows.copy())

    def close(self) -> Path:
        pixels = np.concatenate(self.bands)
        assert pixels.shape[0] == self.spec.height, (self.name, pixels.shape)
        scale = 65535 if self.spec.kind.endswith("16") else 255
        pixels = np.round(np.clip(pixels, 0, 1) * scale) / scale
        self.files.working.setdefault(self.job_id, {})[self.name] = pixels[..., 0] if pixels.shape[2] == 1 else pixels
        return Path(self.name)

    def abort(self) -> None:
        self.aborted = True


class NearestUpscaler:
    """Nearest-neighbour enlargement, exact by window: output pixel x samples source pixel
    floor(x * source / out)."""

    name = "fake-upscaler"
    device = None

    def __init__(self):
        self.released = 0

    def release(self):
        self.released += 1

    def needed_source_rows(self, source_size, out_size, out_window=None):
        _, top, _, bottom = out_window or (0, 0, *out_size)
        return (top * source_size[1] // out_size[1], (bottom - 1) * source_size[1] // out_size[1] + 1)

    def upscale_region(self, source, out_size, out_window=None, *, source_top=0, source_height=None,
                       on_progress=None):
        left, top, right, bottom = out_window or (0, 0, *out_size)
        if not (0 <= left < right <= out_size[0] and 0 <= top < bottom <= out_size[1]):
            raise InvalidParameter(f"output window {out_window} is empty or outside the output")  # as the real ones
        height = source_height or source.shape[0]
        rows = np.arange(top, bottom) * height // out_size[1] - source_top
        columns = np.arange(left, right) * source.shape[1] // out_size[0]
        return np.asarray(source, np.float32)[rows][:, columns]


class InMemoryJobs:
    def __init__(self):
        self.jobs: dict[str, Job] = {}
        self.history: list[Job] = []
        self.storage_gone = False

    def add(self, job: Job) -> None:
        self.jobs[job.id] = job
        self.history.append(job)

    def get(self, job_id: str) -> Job:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise JobNotFound(f"no job with id {job_id!r}") from None

    def check_storage(self) -> None:
        if self.storage_gone:
            raise StorageUnavailable("the fake storage is gone")

    def save(self, job: Job, *, expect: JobStatus | None = None) -> None:
        stored = self.get(job.id)
        if expect is not None and stored.status is not expect:
            raise JobChanged(f"job {job.id} is {stored.status}, no longer {expect}")
        if expect is JobStatus.PROCESSING and stored.attempt_id != job.attempt_id:
            raise JobChanged(f"job {job.id} is on attempt {stored.attempt_id}, no longer {job.attempt_id}")
        job = attrs.evolve(job, heartbeat_at=stored.heartbeat_at)  # only touch() writes it
        self.jobs[job.id] = job
        self.history.append(job)

    def touch(self, job_id: str, attempt_id: str, now: datetime) -> bool:
        stored = self.jobs.get(job_id)
        if stored is None or stored.status is not JobStatus.PROCESSING or stored.attempt_id != attempt_id:
            return False
        self.jobs[job_id] = attrs.evolve(stored, heartbeat_at=now)
        return True

    def delete(self, job_id: str, *, expect: JobStatus | None = None) -> None:
        stored = self.get(job_id)
        if expect is not None and stored.status is not expect:
            raise JobChanged(f"job {job_id} is {stored.status}, no longer {expect}")
        del self.jobs[job_id]

    def all(self) -> list[Job]:
        return list(self.jobs.values())

    def count(self) -> int:
        return len(self.jobs)

    def processing(self) -> list[Job]:
        return [job for job in self.jobs.values() if job.status is JobStatus.PROCESSING]

    def newest(self, *, limit: int = 50, offset: int = 0) -> list[Job]:
        newest = sorted(self.jobs.values(), key=lambda job: job.created_at, reverse=True)
        return newest[offset : offset + limit]


class InMemoryPresets:
    def __init__(self):
        self.presets: dict[str, Preset] = {}
        self.remembered: RenderParams | None = None

    def list(self) -> list[Preset]:
        return [self.presets[name] for name in sorted(self.presets)]

    def get(self, name: str) -> Preset:
        try:
            return self.presets[name]
        except KeyError:
            raise PresetNotFound(f"no preset named {name!r}") from None

    def put(self, preset: Preset) -> None:
        self.presets[preset.name] = preset

    def delete(self, name: str) -> None:
        self.get(name)
        del self.presets[name]

    def last_used(self) -> RenderParams | None:
        return self.remembered

    def remember(self, params: RenderParams) -> None:
        self.remembered = params


class RecordingQueue:
    def __init__(self):
        self.enqueued: list[str] = []
        self.lanes: list[str] = []  # the lane of each, in the same order

    def enqueue(self, job_id: str, lane: str) -> None:
        self.enqueued.append(job_id)
        self.lanes.append(lane)


class TickingClock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class FakeLiveness:
    """Every worker is alive, or every one is dead (alive = False); records whom it was asked about."""

    def __init__(self, alive: bool = True):
        self.answer = alive
        self.asked: list[str] = []

    def alive(self, worker: str) -> bool:
        self.asked.append(worker)
        return self.answer


PIPELINE_PARTS = ("depth", "supplied_depth", "enhancer", "painter", "post", "shaper", "segmenter", "tracer", "guide_drawer",
                  "upscaler", "resampler", "runtime", "models")


@attrs.define
class Fakes:
    """A fake of every port, and the use cases wired on them as the composition root wires the real ones
    (built afresh on each access, so a test may change a fake or a setting first)."""

    decoder: FakeDecoder
    upload_store: InMemoryUploads
    files: InMemoryJobFiles  # the job folders, the attempts' work files and the colour profiles
    job_repository: InMemoryJobs
    preset_repository: InMemoryPresets
    queue: RecordingQueue
    clock: TickingClock
    liveness: FakeLiveness
    pipeline: RenderPipeline
    depth_engines: DepthEngines | None = None
    worker_id: str | None = None
    heartbeat_every_s: float = HEARTBEAT_EVERY_S

    @property
    def uploads(self) -> Uploads:
        return Uploads(decoder=self.decoder, store=self.upload_store, jobs=self.job_repository)

    @property
    def jobs(self) -> Jobs:
        return Jobs(repository=self.job_repository, uploads=self.upload_store, folders=self.files,
                    profiles=self.files, presets=self.preset_repository, queue=self.queue, clock=self.clock,
                    depth_engines=self.depth_engines)

    @property
    def presets(self) -> Presets:
        return Presets(self.preset_repository)

    @property
    def runner(self) -> Runner:
        return Runner(jobs=self.job_repository, folders=self.files, work_files=self.files, clock=self.clock,
                      pipeline=self.pipeline, worker_id=self.worker_id, heartbeat_every_s=self.heartbeat_every_s)

    @property
    def render_now(self) -> RenderNow:
        return RenderNow(uploads=self.uploads, jobs=self.jobs, runner=self.runner)

    @property
    def recovery(self) -> Recovery:
        return Recovery(jobs=self.job_repository, folders=self.files, queue=self.queue, clock=self.clock,
                        liveness=self.liveness)

    @property
    def cleanup(self) -> Cleanup:
        return Cleanup(jobs=self.job_repository, folders=self.files, uploads=self.upload_store, clock=self.clock)


def make_fakes(images: dict[str, DecodedImage], **overrides) -> Fakes:
    """Fakes of every port; overrides name any of them, or any part of the render pipeline."""
    parts = dict(
        decoder=FakeDecoder(images),
        depth=FakeDepth(),
        supplied_depth=FakeSuppliedDepth(np.zeros((1, 1), dtype=np.float32)),
        enhancer=FakeEnhancer(),
        painter=FakePainter(),
        post=FakePost(),
        shaper=FakeShaper(),
        segmenter=FakeSegmenter(),
        tracer=FakeTracer(),
        guide_drawer=FakeGuideDrawer(),
        upload_store=InMemoryUploads(),
        files=InMemoryJobFiles(),
        upscaler=NearestUpscaler(),
        resampler=NearestUpscaler(),
        job_repository=InMemoryJobs(),
        preset_repository=InMemoryPresets(),
        queue=RecordingQueue(),
        clock=TickingClock(),
        liveness=FakeLiveness(),
    )
    parts.update(overrides)
    pipeline = RenderPipeline(decoder=parts["decoder"], photos=parts["upload_store"], profiles=parts["files"],
                              depth_engines=parts.get("depth_engines"),
                              **{name: parts.pop(name) for name in PIPELINE_PARTS if name in parts})
    return Fakes(pipeline=pipeline, **parts)
