"""What the use cases need from the outside world. Adapters implement these; tests fake them.

Images cross these ports as numpy arrays: HxWx3 float32 sRGB in [0, 1]; depth as HxW float32 in
[0, 1] with 0 = nearest.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Protocol, Sequence

import attrs
import numpy as np

from rilievo.domain.assembly import AssemblyGuide
from rilievo.domain.images import DecodedImage
from rilievo.domain.job import Job, JobStatus
from rilievo.domain.noise import NoisePlan
from rilievo.domain.params import RenderParams
from rilievo.domain.presets import Preset
from rilievo.domain.regions import Regions
from rilievo.domain.styles import PaintRequest, PostSettings
from rilievo.domain.upload import Upload
from rilievo.domain.workers import WorkerSeen

Clock = Callable[[], datetime]


class ImageDecoder(Protocol):
    def decode(self, path: Path) -> DecodedImage:
        """Validate and decode a photo, oriented and in sRGB. Raises ImageRejected."""


class DepthEstimator(Protocol):
    name: str
    @property
    def device(self) -> str | None:
        """Where a learned model runs (cpu, cuda, mps); None for a classical method."""

    def estimate(self, image: np.ndarray) -> np.ndarray:
        """HxW float32 in [0, 1], 0 = nearest. Raises DepthEstimationFailed."""


class Segmenter(Protocol):
    """Splits a photo into regions that belong together (objects, their parts, background surfaces)."""

    name: str
    @property
    def device(self) -> str | None:
        """Where a learned model runs; None for a classical method."""

    def segment(self, image: np.ndarray) -> Regions:
        """Regions of an HxWx3 float32 image in [0, 1], at its size."""


class DepthEngines(Protocol):
    """The depth engines a job may name (RenderParams.depth_engine): "auto", "classical", installed models."""

    def choices(self) -> list[str]:
        """The keys that can run here, "auto" first."""

    def check(self, key: str) -> None:
        """Raises InvalidParameter, saying why, unless key can run here; reads no weights."""

    def get(self, key: str) -> DepthEstimator:
        """The estimator for key, built once per process and kept."""


@attrs.frozen
class SuppliedDepth:
    depth: np.ndarray  # HxW float32 in [0, 1], 0 = nearest
    warnings: tuple[str, ...] = ()  # what the user should know about their map (unknown values filled)


class SuppliedDepthReader(Protocol):
    name: str

    def read(self, path: Path, width: int, height: int, near: str) -> SuppliedDepth:
        """The user's own depth map resized to width x height; near is "white" or "black"."""


class Enhancer(Protocol):
    name: str

    def sharpen(self, image: np.ndarray, amount: float) -> np.ndarray:
        """Photo-mode sharpening and clarity; amount 0 returns the image unchanged."""


class PaintedStrokes(Protocol):
    """A painting's brush strokes, kept so that they can be drawn again at print size."""

    def coloured_as(self, painting: np.ndarray) -> PaintedStrokes:
        """The same strokes, each in the colour it shows in painting (HxWx3, the photo's size: the
        painting as finished, its colours moved by the post-processing); translucent washes, which
        show every wash under them and have no colour of their own there, as they are."""

    def photo_flat(self) -> np.ndarray:
        """HxWx3 float16 at the photo's size (in half precision, as the print keeps it: 69 MiB from a 12 MP
        photo): the strokes in their colours, in their order, without texture, made as the painting was
        (at the painter's working size, resized to the photo's)."""

    def photo_texture(self) -> np.ndarray:
        """HxWx3 float16 at the photo's size: what the paint's texture (an impasto's relief lit, a
        pastel's grain, a wash's pooled pigment and granulation) adds to the painting's flat strokes in
        their colours as painted (the painting less them)."""

    def print_rows(self, crop: tuple[int, int, int, int], out_size: tuple[int, int], first: int, last: int,
                   pixel_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows [first, last) of the same strokes drawn anew over the photo's crop (x, y, width,
        height) enlarged to out_size (width, height): flat in their colours, edges at that resolution,
        not enlarged; and the paint's texture made there, as fine as the print's pixels allow (pixel_mm:
        a print pixel's size on paper, for the size of a brush's bristles or a paper's tooth), not the
        photo-size one enlarged. A row depends on its place alone, so bands equal the same rows of the
        whole (but for a pixel here and there along an outline, where a drawing library rasterises a
        shape cut by the band's edge a little differently)."""


@attrs.frozen
class PrintTexture:
    """The paint's texture for some rows of a print (HxWx3, what it adds to the paint's flat colours):
    made at print size, and made at the painting's size and enlarged, as the enlarged rows carry it."""

    redrawn: np.ndarray
    enlarged: np.ndarray


@attrs.frozen
class PaintResult:
    image: np.ndarray  # HxWx3 float32 sRGB in [0, 1], the photo's size
    warnings: tuple[str, ...] = ()  # what the user should know about this painting (a LoRA left out)
    device: str | None = None  # where a learned painter ran (cpu, cuda, mps)
    strokes: PaintedStrokes | None = None  # a stroke painter's strokes, to be drawn again at print size


class Painter(Protocol):
    name: str

    def paint(
        self,
        image: np.ndarray,
        depth: np.ndarray,
        request: PaintRequest,
        noise: NoisePlan,
        on_progress: Callable[[float], None] | None = None,
        subject: np.ndarray | None = None,
    ) -> PaintResult:
        """The photo repainted at the image's size, the same for the same inputs and noise plan (its
        seeds, layers, edition and depth-weighted strength). depth is HxW in [0, 1], 0 = nearest.
        on_progress gets 0-1. subject (HxW bool, where the segmenter found people or the main thing;
        None where it did not run) is where the eye goes: a painter may give it more detail."""


class PostProcessor(Protocol):
    name: str

    def finish(self, image: np.ndarray, depth: np.ndarray, post: PostSettings, seed: int,
               print_enlargement: float = 1.0) -> np.ndarray:
        """Painterly post-processing (stroke texture, colour harmonisation, edge softening, canvas or
        paper texture), each step by its strength in post; the same for the same inputs and seed.
        print_enlargement: how much the print enlarges the image; a texture that would be enlarged
        with it may be left to finish_print_rows."""

    def print_context_rows(self, source_size: tuple[int, int], out_size: tuple[int, int]) -> int:
        """Rows of context above and below that finish_print_rows needs for a painting of source_size
        enlarged to out_size (both width, height)."""

    def sharpens_print(self, source_size: tuple[int, int], out_size: tuple[int, int], post: PostSettings) -> bool:
        """Whether finish_print_rows makes the stroke edges crisp for a painting of source_size enlarged
        to out_size (and so uses the strokes it is given)."""

    def finish_print_rows(self, rows: np.ndarray, top: int, keep: slice, source_size: tuple[int, int],
                          out_size: tuple[int, int], post: PostSettings, seed: int, dpi: int,
                          strokes: np.ndarray | None = None, texture: PrintTexture | None = None) -> np.ndarray:
        """The painting's finish at print resolution: rows (HxWx3, [0, 1]) are rows [top, top + H) of the
        painting (of source_size) enlarged to out_size, with print_context_rows of context each way where
        the image has them; returns rows[keep] with crisp stroke edges and the ground's texture at print
        resolution (dpi: the print's, so that a canvas thread has its size on paper). strokes, where the
        painter kept its strokes: for the same rows, the strokes drawn at print size minus the same
        strokes drawn at the painting's size and enlarged (what the enlargement blurred away), which puts
        the stroke edges back where the strokes run, before the rest is sharpened. texture, with the
        strokes: the paint's texture for the same rows, made at print size in place of the enlarged
        one (which is taken out before the sharpening, so that it is not sharpened). The arrays of strokes
        and of texture.enlarged are the caller's to give: the finish works in them.
        A row's result depends only on the rows within the context and on the seed, so bands made
        one by one equal the same rows of the whole."""


Size = tuple[int, int]  # (width, height) in pixels
Window = tuple[int, int, int, int]  # (left, top, right, bottom), half-open, output pixels


class Upscaler(Protocol):
    """Enlarges an image to print size one band of output rows at a time: a window is exactly that
    window of the whole-image result, so a print is never held whole."""

    name: str
    @property
    def device(self) -> str | None:
        """Where a learned model runs; None for a classical method."""

    def needed_source_rows(self, source_size: Size, out_size: Size, out_window: Window | None = None
                           ) -> tuple[int, int]:
        """Source rows [top, bottom) that upscale_region reads to produce out_window."""

    def upscale_region(self, source: np.ndarray, out_size: Size, out_window: Window | None = None, *,
                       source_top: int = 0, source_height: int | None = None,
                       on_progress: Callable[[float], None] | None = None) -> np.ndarray:
        """out_window of the upscale of the source (HxWx3 in [0, 1]) to out_size. source may be a band
        of full-width rows starting at source_top of an image source_height rows high, covering
        needed_source_rows(...)."""

    def release(self) -> None:
        """Drop what was kept from one band to the next (a model's tile outputs): the image is done."""


class Resampler(Protocol):
    """Resizes masks and colours (a pane's alpha, its filled colours) to print size exactly, one band of
    output rows at a time like an Upscaler: plain interpolation, no sharpening, no model."""

    def needed_source_rows(self, source_size: Size, out_size: Size, out_window: Window | None = None
                           ) -> tuple[int, int]:
        """Source rows [top, bottom) that upscale_region reads to produce out_window."""

    def upscale_region(self, source: np.ndarray, out_size: Size, out_window: Window | None = None, *,
                       source_top: int = 0, source_height: int | None = None,
                       on_progress: Callable[[float], None] | None = None) -> np.ndarray:
        """out_window of the resize of the source (HxWxC in [0, 1]) to out_size, as Upscaler.upscale_region."""

    def release(self) -> None:
        """Drop what was kept from one band to the next."""


class StripWriter(Protocol):
    """A file written from bands of rows, top to bottom; it appears under its name only once close()
    has had every row, and abort() (or any failure) leaves nothing."""

    def write_rows(self, rows: np.ndarray) -> None:
        """rows x width x channels float32 in [0, 1], read before it returns: the caller makes its next
        rows in the same memory."""

    def close(self) -> Path: ...

    def abort(self) -> None: ...


@attrs.frozen
class PrintFileSpec:
    """One print-size file: its size and kind (png8, png16, tiff, tiff16, cmyk-tiff, preview-jpeg,
    proof-jpeg); channels 1 (gray, PNG only), 3 (RGB) or 4 (RGBA)."""

    width: int
    height: int
    channels: int
    kind: str
    dpi: int
    cmyk_profile: str = ""  # "" = the system's default CMYK profile
    intent: str = "perceptual"
    ink_limit: int = 0  # percent; 0 = the profile's own
    # encoded while its rows come, where the writers' memory budget allows; False: encoded after its
    # last row (a job whose bands already hold much memory, the painterly finish)
    stream: bool = True


class LayerShaper(Protocol):
    """Image-guided work on the layer map: outlines onto the subject, printable shapes, filled backs.

    A membership is an HxW uint8 array of layer indices, 0 = front, count - 1 = back.
    """

    name: str

    def refine_membership(self, image: np.ndarray, membership: np.ndarray, count: int,
                          things: np.ndarray | None = None) -> np.ndarray:
        """Move each layer's outline onto the image's edges. membership may be smaller than the image
        (a depth map from a smaller working size): it is then upsampled edge-aware, never bilinearly.
        things (HxW bool like membership; None: none) are pixels of things placed whole on their pane,
        whose outlines already lie on the photo's edges: only their pixels near such an outline may
        change pane, so a thin part (a tail, a leg) is not lost to the pane behind. Returns a
        membership at the image's size."""

    def merge_small_features(self, membership: np.ndarray, count: int, min_feature_px: float,
                             things: np.ndarray | None = None) -> np.ndarray:
        """Make every layer's shapes at least min_feature_px wide: a part of a thing (things: HxW bool,
        the pixels of what the picture is of; None: nothing is) too thin to cut alone keeps its layer
        with a margin taken from the layers behind it; every other island or sliver narrower than that
        goes to the layer it touches most. 0 changes nothing."""

    def fill_behind(
        self, image: np.ndarray, known: np.ndarray, fillable: np.ndarray, reach_px: float | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Invent colours for the fillable pixels (HxW bool) within reach_px of the known ones (None:
        all of them) from the known pixels around them. Returns (colours, filled): the HxW bool mask of
        the pixels filled and their colours, N x 3 float16 in the order of image[filled] (the colours
        alone, which the panes keep until the print files are written: a photo-size copy of the image
        would double what the panes of a large photo hold; half precision is 11 bits, finer than an
        8-bit layer and within 1/2048 of a 16-bit one)."""


class OutlineTracer(Protocol):
    def svg_outline(self, alpha: np.ndarray, pixel_mm: float, *, title: str) -> str:
        """An SVG document, sized in millimetres, of the cutting line of a layer: where alpha
        crosses 0.5."""


class GuideDrawer(Protocol):
    def draw(self, guide: AssemblyGuide, thumbnails: list[np.ndarray]) -> np.ndarray:
        """The assembly guide as an RGB image: the layer order front to back with a thumbnail of
        each, the physical print size, and the spacer between each pair of panes."""


class UploadStore(Protocol):
    def save(self, source: Path, decoded: DecodedImage, *, original_name: str | None = None) -> Upload:
        """Keep the original file byte for byte (original_name: the user's name for it, default the
        source's). Nothing is left behind if this fails."""

    def get(self, upload_id: str) -> Upload:
        """Raises UploadNotFound."""

    def original_path(self, upload_id: str) -> Path: ...

    def all(self) -> list[Upload]:
        """Every stored upload, in no particular order."""

    def remove(self, upload_id: str) -> None:
        """Delete the upload's original and record; an upload already gone is no error."""


class WorkFiles(Protocol):
    """An attempt's files as it writes them, into a working folder of its own. Each takes the attempt's
    run key ("{job id}/{attempt id}", Job.run_key)."""

    def write_image(self, run_key: str, name: str, pixels: np.ndarray, bits: int) -> None:
        """Gray, RGB or RGBA float pixels in [0, 1] as an 8- or 16-bit PNG."""

    def write_json(self, run_key: str, name: str, data: dict) -> None: ...

    def write_text(self, run_key: str, name: str, text: str) -> None:
        """A text file (SVG, ...), UTF-8."""

    def write_animation(self, run_key: str, name: str, frames: Sequence[np.ndarray], frame_ms: int) -> None:
        """RGB frames in [0, 1], looping forever; the format follows the name (.gif or .webp). The
        frames may be made when asked for (parallax_frames_on_demand): each is asked for once, a GIF's
        palette frames first."""

    def write_zip(self, run_key: str, name: str, members: list[str]) -> None:
        """Bundle files the attempt already wrote into one zip."""

    def open_print_file(self, run_key: str, name: str, spec: PrintFileSpec) -> StripWriter:
        """A print-size file written band by band (see StripWriter)."""


class JobFolders(Protocol):
    """Where a job's files go once its attempt succeeds, and what is left of them."""

    def publish(self, run_key: str, destination: Path | None = None) -> Path:
        """Move the attempt's finished set to destination/{job id}/ (default: the outputs folder) by one
        rename; returns it. Raises StorageFailed when that folder exists."""

    def discard(self, key: str) -> None:
        """Remove what an unfinished attempt wrote (a run key), or every attempt of a job (a job id)."""

    def remove_published(self, output_dir: Path) -> None:
        """Delete a finished job's folder."""

    def published_bytes(self, output_dir: Path) -> int:
        """The bytes of the files in a finished job's folder; 0 when it is gone."""

    def in_store(self, output_dir: Path) -> bool:
        """Whether the folder is in the store's outputs, not a destination the user chose."""


class ColourProfiles(Protocol):
    def cmyk_profile_name(self, profile: str) -> str:
        """The description of a CMYK profile ("" = the default one), for the manifest. Raises
        InvalidParameter when it is missing or not a CMYK profile."""


class JobRepository(Protocol):
    def check_storage(self) -> None:
        """Raises StorageUnavailable when the store it opened is gone, replaced or can't be used."""

    def add(self, job: Job) -> None: ...

    def get(self, job_id: str) -> Job:
        """Raises JobNotFound."""

    def save(self, job: Job, *, expect: JobStatus | None = None) -> None:
        """Store the job. With expect, only if the stored job still has that status, else JobChanged:
        so a worker never overwrites a cancel that arrived while it ran. Expecting PROCESSING, also
        only while the stored job is on job.attempt_id: a cancelled run never writes over its retry."""

    def touch(self, job_id: str, attempt_id: str, now: datetime) -> bool:
        """Record a heartbeat of the process running this attempt of the job, touching nothing else;
        False (and nothing written) once the job is no longer processing on that attempt."""

    def delete(self, job_id: str, *, expect: JobStatus | None = None) -> None:
        """Raises JobNotFound. With expect, only if the stored job still has that status, else JobChanged."""

    def newest(self, *, limit: int = 50, offset: int = 0) -> list[Job]:
        """One page of the jobs, newest first."""

    def all(self) -> list[Job]:
        """Every job, in one read."""

    def count(self) -> int: ...

    def processing(self) -> list[Job]: ...


class WorkerLiveness(Protocol):
    def alive(self, worker: str) -> bool:
        """Whether the process recorded as a job's worker still runs; one that can't be checked from here
        (on another host) counts as alive, and its heartbeat tells."""


class TaskQueue(Protocol):
    def enqueue(self, job_id: str, lane: str) -> None:
        """Hand the job to a worker that takes that lane (domain.workers.lane_of); returns at once. A
        queue with one lane (one computer's) hands every job to its one worker."""


class WorkerRoster(Protocol):
    """The workers that said they are alive, so an operator can see who takes jobs."""

    def seen(self, worker: WorkerSeen) -> None:
        """Record this worker as alive at worker.seen_at."""

    def gone(self, name: str) -> None:
        """Forget a worker that stopped."""

    def seen_since(self, since: datetime) -> list[WorkerSeen]:
        """The workers seen at or after since, by name."""


class PresetRepository(Protocol):
    def list(self) -> list[Preset]:
        """Sorted by name."""

    def get(self, name: str) -> Preset:
        """Raises PresetNotFound."""

    def put(self, preset: Preset) -> None:
        """Create or replace."""

    def delete(self, name: str) -> None:
        """Raises PresetNotFound."""

    def last_used(self) -> RenderParams | None: ...

    def remember(self, params: RenderParams) -> None:
        """Keep the parameters of the latest submission, to prefill the form."""
