"""The filesystem store under storage/: uploads/{id}/, jobs/{id}/ (work in progress), outputs/{id}/."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import attrs
import cv2
import numpy as np
from PIL import Image

from rilievo.application.ports import PrintFileSpec, StripWriter
from rilievo.domain.errors import RilievoError, StorageFull, UploadNotFound
from rilievo.domain.images import DecodedImage
from rilievo.domain.upload import Upload, new_upload_id

from .image_io import write_bytes_atomic, write_json_atomic, write_png
from .print_colour import CmykConversion
from .print_files import open_writer

SUFFIX_OF_FORMAT = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}
ANIMATION_SUFFIXES = (".gif", ".webp")
WEBP_QUALITY = 80
# The GIF's palette is made from every other pixel of its frames, across and down, once they are larger
# than this: a small one keeps every colour it has.
PALETTE_STEP, PALETTE_SUBSAMPLED_PX = 2, 256 * 256
UPLOAD_RECORD = "upload.json"


class StorageFailed(RilievoError):
    pass


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A full disk named as such, with the file that didn't fit."""
    try:
        yield
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise StorageFull(f"the disk is full: writing {path} failed") from error
        raise


def _partial(folder: Path) -> Path:
    """A hidden sibling that becomes `folder` by one rename once it is complete."""
    return folder.with_name(f".{folder.name}.partial-{uuid.uuid4().hex[:8]}")


def _move_folder(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise StorageFailed(f"{target} already exists; refusing to overwrite it")
    try:
        os.rename(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        staging = _partial(target)  # another filesystem: copy beside the target, then rename
        try:
            shutil.copytree(source, staging)
            os.rename(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(source)


class FilesystemUploads:
    def __init__(self, root: Path):
        self.folder = root / "uploads"

    def save(self, source: Path, decoded: DecodedImage, *, original_name: str | None = None) -> Upload:
        upload = Upload(
            id=new_upload_id(),
            original_name=original_name or source.name,
            format=decoded.format,
            width=decoded.width,
            height=decoded.height,
            bytes=source.stat().st_size,
            created_at=datetime.now().astimezone(),
        )
        final = self.folder / upload.id
        staging = _partial(final)
        staging.mkdir(parents=True)
        try:
            with _writing(final):
                shutil.copyfile(source, staging / self._original_name(upload))
                record = attrs.asdict(upload) | {"created_at": upload.created_at.isoformat()}
                write_json_atomic(staging / UPLOAD_RECORD, record)
                _move_folder(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return upload

    def get(self, upload_id: str) -> Upload:
        record_path = self._folder_of(upload_id) / UPLOAD_RECORD
        try:
            record = json.loads(record_path.read_text())
        except FileNotFoundError:
            raise UploadNotFound(f"no upload with id {upload_id!r}") from None
        record["created_at"] = datetime.fromisoformat(record["created_at"])
        return Upload(**record)

    def original_path(self, upload_id: str) -> Path:
        return self._folder_of(upload_id) / self._original_name(self.get(upload_id))

    def all(self) -> list[Upload]:
        uploads = []
        for folder in self.folder.glob("*"):
            if folder.name.isalnum():  # not a .partial staging folder
                try:
                    uploads.append(self.get(folder.name))
                except UploadNotFound:
                    continue  # being removed meanwhile
        return uploads

    def remove(self, upload_id: str) -> None:
        shutil.rmtree(self._folder_of(upload_id), ignore_errors=True)

    def _folder_of(self, upload_id: str) -> Path:
        if not upload_id.isalnum():  # ids become folder names: never let one climb out
            raise UploadNotFound(f"no upload with id {upload_id!r}")
        return self.folder / upload_id

    @staticmethod
    def _original_name(upload: Upload) -> str:
        return "original" + SUFFIX_OF_FORMAT.get(upload.format, "")


class FilesystemJobFiles:
    """Each attempt works in jobs/{job id}/{attempt id}/; publishing renames that folder into place."""

    def __init__(self, root: Path):
        self.work = root / "jobs"
        self.outputs = root / "outputs"

    def _work_folder(self, key: str) -> Path:
        """jobs/{job id} for a job id, jobs/{job id}/{attempt id} for a run key; ids never climb out."""
        parts = key.split("/")
        if not (1 <= len(parts) <= 2 and all(part.isalnum() for part in parts)):
            raise StorageFailed(f"invalid job id {key!r}")
        return self.work.joinpath(*parts)

    def _folder(self, run_key: str) -> Path:
        folder = self._work_folder(run_key)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def write_image(self, run_key: str, name: str, pixels: np.ndarray, bits: int) -> None:
        path = self._folder(run_key) / name
        with _writing(path):
            write_png(path, pixels, bits)

    def write_json(self, run_key: str, name: str, data: dict) -> None:
        path = self._folder(run_key) / name
        with _writing(path):
            write_json_atomic(path, data)

    def write_text(self, run_key: str, name: str, text: str) -> None:
        path = self._folder(run_key) / name
        with _writing(path):
            write_bytes_atomic(path, text.encode("utf-8"))

    def write_animation(self, run_key: str, name: str, frames: Sequence[np.ndarray], frame_ms: int) -> None:
        suffix = Path(name).suffix.lower()
        if suffix not in ANIMATION_SUFFIXES:
            raise ValueError(f"an animation is written as .gif or .webp, not {name!r}")
        data = _encode_animation(frames, frame_ms, suffix)  # in memory: a failure writes nothing
        path = self._folder(run_key) / name
        with _writing(path):
            write_bytes_atomic(path, data)

    def write_zip(self, run_key: str, name: str, members: list[str]) -> None:
        folder = self._folder(run_key)
        staging = folder / f".{name}.partial"
        # PNGs are compressed already: storing them is as small and much faster.
        try:
            with _writing(folder / name), zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_STORED) as archive:
                for member in members:
                    archive.write(folder / member, arcname=member)
            os.replace(staging, folder / name)
        finally:
            staging.unlink(missing_ok=True)

    def open_print_file(self, run_key: str, name: str, spec: PrintFileSpec) -> StripWriter:
        cmyk = _cmyk(spec) if spec.kind in ("cmyk-tiff", "proof-jpeg") else None
        return open_writer(self._folder(run_key) / name, spec.width, spec.height, spec.channels, spec.kind, spec.dpi,
                           cmyk=cmyk, stream=spec.stream)

    def cmyk_profile_name(self, profile: str) -> str:
        return CmykConversion.from_profile(Path(profile) if profile else None).description

    def publish(self, run_key: str, destination: Path | None = None) -> Path:
        folder = self._folder(run_key)
        target = (destination or self.outputs) / run_key.split("/")[0]
        with _writing(target):
            _move_folder(folder, target)
        _remove_if_empty(folder.parent)
        return target.resolve()

    def discard(self, key: str) -> None:
        try:
            folder = self._work_folder(key)
        except StorageFailed:
            return
        shutil.rmtree(folder, ignore_errors=True)
        if folder.parent != self.work:
            _remove_if_empty(folder.parent)

    def remove_published(self, output_dir: Path) -> None:
        shutil.rmtree(output_dir, ignore_errors=True)

    def published_bytes(self, output_dir: Path) -> int:
        total = 0
        for folder, _, names in os.walk(output_dir):  # never into a linked folder
            for name in names:
                try:
                    total += os.lstat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    continue
        return total

    def in_store(self, output_dir: Path) -> bool:
        return Path(output_dir).resolve().parent == self.outputs.resolve()


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (another attempt's folder), or gone


def _encode_animation(frames: Sequence[np.ndarray], frame_ms: int, suffix: str) -> bytes:
    """RGB float frames -> a looping GIF or lossy WebP. Each frame is made 8-bit as it is taken, so only
    one float frame is held at a time; a GIF's frames take the palette of a few of them (taken first)
    as they come, so only those few are held in RGB beside the palette's (a third the size)."""
    if isinstance(frame_ms, bool) or not isinstance(frame_ms, int) or frame_ms < 1:
        raise ValueError(f"frame_ms must be a whole number of milliseconds >= 1, got {frame_ms!r}")
    if not len(frames):
        raise ValueError("an animation needs at least one frame")
    shape = None  # the first frame's

    def eight_bit(index: int) -> Image.Image:
        nonlocal shape
        frame = frames[index]
        shape = shape or frame.shape
        if len(shape) != 3 or shape[2] != 3 or frame.shape != shape:
            raise ValueError("animation frames must be HxWx3 RGB arrays of one size")
        # one saturating OpenCV pass, rounding halves to even as np.rint: no frame-size float temporaries
        return Image.fromarray(cv2.multiply(frame.reshape(shape[0], -1), 255.0, dtype=cv2.CV_8U).reshape(shape), "RGB")

    buffer = io.BytesIO()
    if suffix == ".gif":
        # One palette for every frame, without dithering: a per-frame palette or dither pattern makes
        # the still parts of a parallax loop shimmer.
        picked = {index: eight_bit(index) for index in _palette_frames(len(frames))}
        palette = _shared_palette(list(picked.values()))
        images = [(picked.pop(index) if index in picked else eight_bit(index)).quantize(palette=palette,
                                                                               dither=Image.Dither.NONE)
                  for index in range(len(frames))]
        images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                       duration=frame_ms, loop=0, optimize=False, disposal=1)
    else:
        images = [eight_bit(index) for index in range(len(frames))]
        images[0].save(buffer, format="WEBP", save_all=True, append_images=images[1:],
                       duration=frame_ms, loop=0, quality=WEBP_QUALITY, lossless=False)
    return buffer.getvalue()


def _palette_frames(count: int) -> list[int]:
    """The frames the shared palette is made from: four spread over the loop."""
    return list(range(0, count, max(1, count // 4)))[:4]


def _shared_palette(picks: list[Image.Image]) -> Image.Image:
    """A 256-colour palette (median cut) from a few frames side by side, of a large frame every
    PALETTE_STEP-th pixel across and down: a quarter of the pixels to sort, much the same colours (the
    12 MP photo's 848 x 565 frames: 0.27 s of CPU on the whole frames, 0.10 s on these)."""
    step = PALETTE_STEP if picks[0].width * picks[0].height > PALETTE_SUBSAMPLED_PX else 1
    sheet = np.concatenate([np.asarray(image)[::step, ::step] for image in picks], axis=1)
    return Image.fromarray(sheet, "RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                  dither=Image.Dither.NONE)


def _cmyk(spec: PrintFileSpec) -> CmykConversion:
    return CmykConversion.from_profile(Path(spec.cmyk_profile) if spec.cmyk_profile else None,
                                       intent=spec.intent, ink_limit=spec.ink_limit or None)
