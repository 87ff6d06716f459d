"""Print-size files written strip by strip, so a 14,400 x 21,600 image is never held whole.

    with open_writer(path, width, height, channels, "tiff16", dpi=600) as writer:
        for strip in strips:          # float32 rows x width x channels in [0, 1], top to bottom
            writer.write_rows(strip)

Each writer writes a hidden temporary file beside `path` and renames it onto `path` only when it is
closed with exactly `height` rows written. An error, too many rows, too few at close, or a writer
dropped unclosed removes the temporary file: a file at `path` is always complete.
"""

from __future__ import annotations

import errno
import os
import secrets
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from rilievo.domain.errors import InvalidParameter, RilievoError, StorageFull

from .print_colour import (
    CmykConversion,
    ProofSummary,
    over_white,
    profile_description,
    soft_proof,
    srgb_profile_bytes,
)
from .print_encoders import Convert, PngRowEncoder, TiffTileEncoder, needs_bigtiff

__all__ = ["KINDS", "PrintFileFailed", "needs_bigtiff", "open_writer"]

KINDS = ("png8", "png16", "tiff", "tiff16", "cmyk-tiff", "preview-jpeg", "proof-jpeg")
PREVIEW_LONG_SIDE = 2048
# ISA-L's default. Level 1 is as small on 16-bit data, whose low bytes are noise that no level
# compresses; level 3 was no smaller on photos.
DEFLATE_LEVEL = 2
JPEG_QUALITY = 90


class PrintFileFailed(RilievoError):
    """A print file could not be written (disk full, permissions, an encoder failure)."""


def open_writer(
    path: Path,
    width: int,
    height: int,
    channels: int,
    kind: str,
    dpi: float,
    *,
    icc_profile: bytes | None = None,
    cmyk: CmykConversion | None = None,
    preview_long_side: int = PREVIEW_LONG_SIDE,
    level: int = DEFLATE_LEVEL,
    workers: int | None = None,
) -> AtomicStripWriter:
    """A writer of one `kind` (see KINDS) for strips of `channels` (3 RGB, 4 RGBA) float values.

    icc_profile: the RGB profile embedded in png8, png16, tiff, tiff16 and preview-jpeg; default sRGB.
    cmyk: profile, intent and ink limit for cmyk-tiff and proof-jpeg; default the system's SWOP profile.
    level: ISA-L deflate level 0-3 for PNG and TIFF; workers: encoding threads (default up to 4).
    """
    if kind not in KINDS:
        raise InvalidParameter(f"print file kind must be one of {', '.join(KINDS)}, not {kind!r}")
    for name, value in (("width", width), ("height", height), ("preview_long_side", preview_long_side)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameter(f"{name} must be a whole number of pixels >= 1, not {value!r}")
    if channels not in (3, 4) and not (channels == 1 and kind.startswith("png")):
        raise InvalidParameter(f"strips must have 3 (RGB) or 4 (RGBA) channels (1, gray, for PNG), not {channels!r}")
    if not dpi > 0:
        raise InvalidParameter(f"dpi must be positive, not {dpi!r}")
    if isinstance(level, bool) or level not in range(4):
        raise InvalidParameter(f"compression level must be 0-3 (ISA-L's levels), not {level!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise InvalidParameter(f"workers must be a whole number >= 1, not {workers!r}")
    geometry = dict(path=Path(path), width=width, height=height, channels=channels, dpi=dpi)
    icc = icc_profile if icc_profile is not None else srgb_profile_bytes()
    if kind == "preview-jpeg":
        return PreviewJpegWriter(**geometry, long_side=preview_long_side, icc_profile=icc)
    if kind == "proof-jpeg":
        conversion = cmyk or CmykConversion.from_profile()
        return ProofJpegWriter(**geometry, long_side=preview_long_side, conversion=conversion)
    encoding = dict(level=level, workers=workers or min(4, os.cpu_count() or 1))
    if kind == "cmyk-tiff":
        conversion = cmyk or CmykConversion.from_profile()
        return TiffWriter(
            **geometry, **encoding, samples=4, dtype=np.uint8, photometric="separated",
            icc_profile=conversion.profile_bytes, convert=conversion.to_cmyk,
        )
    dtype = np.uint16 if kind.endswith("16") else np.uint8
    convert = partial(_quantized, dtype=dtype)
    if kind.startswith("png"):
        bits = 8 * np.dtype(dtype).itemsize
        return PngWriter(**geometry, **encoding, bits=bits, icc_profile=icc, convert=convert)
    return TiffWriter(
        **geometry, **encoding, samples=channels, dtype=dtype, photometric="rgb", icc_profile=icc, convert=convert
    )


class AtomicStripWriter:
    """Row accounting, strip checks and the temporary file's life; subclasses encode.

    States: open -> complete (the temporary file is finished) -> closed (renamed onto `path`);
    open or complete -> failed (the temporary file is removed).
    """

    def __init__(self, path: Path, width: int, height: int, channels: int, dpi: float):
        self.path, self.width, self.height, self.channels, self.dpi = path, width, height, channels, dpi
        self.rows_written = 0
        self._state = "open"
        self._temporary = path.with_name(f".{path.name}.partial-{secrets.token_hex(4)}")
        # What a dropped writer must release. It holds no reference to the writer, so the writer can be
        # collected, and the finalizer then stops the encoder and removes the temporary file.
        self._on_drop: list[Callable[[], None]] = []
        self._cleanup = weakref.finalize(self, _release, self._on_drop, self._temporary)
        with self._failing_cleanly():
            self._start()

    def write_rows(self, rows: np.ndarray) -> None:
        self._require("open")
        with self._failing_cleanly():
            self._check(rows)
            self._write(rows)
        self.rows_written += len(rows)

    def close(self) -> Path:
        self._complete()
        return self._publish()

    def abort(self) -> None:
        if self._state in ("open", "complete"):
            self._fail()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            self.abort()
        elif self._state == "open":
            self.close()

    def _complete(self) -> None:
        self._require("open")
        with self._failing_cleanly():
            if self.rows_written != self.height:
                raise ValueError(f"{self.path.name}: closed after {self.rows_written} of {self.height} rows")
            self._finish()
        self._state = "complete"

    def _publish(self) -> Path:
        self._require("complete")
        with self._failing_cleanly():
            os.replace(self._temporary, self.path)
        self._state = "closed"
        self._cleanup.detach()
        return self.path

    def _fail(self) -> None:
        self._state = "failed"
        self._cleanup()  # runs _release once

    @contextmanager
    def _failing_cleanly(self) -> Iterator[None]:
        try:
            yield
        except BaseException as e:
            self._fail()
            if isinstance(e, (RilievoError, ValueError)) or not isinstance(e, Exception):
                raise
            if isinstance(e, OSError) and e.errno == errno.ENOSPC:
                raise StorageFull(f"the disk is full: writing {self.path} failed") from e
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
            raise PrintFileFailed(f"writing {self.path.name} failed: {reason}") from e

    def _require(self, state: str) -> None:
        if self._state != state:
            raise ValueError(f"{self.path.name}: the writer is {self._state}, not {state}")

    def _check(self, rows: np.ndarray) -> None:
        if not isinstance(rows, np.ndarray) or rows.ndim != 3 or rows.shape[1:] != (self.width, self.channels):
            shape = getattr(rows, "shape", type(rows).__name__)
            raise ValueError(
                f"{self.path.name}: strips must be rows x {self.width} x {self.channels}, not {shape}"
            )
        if rows.dtype.kind != "f" or not np.isfinite(rows).all():
            raise ValueError(f"{self.path.name}: strips must hold finite floats in [0, 1]")
        if self.rows_written + len(rows) > self.height:
            raise ValueError(
                f"{self.path.name}: {self.rows_written} + {len(rows)} rows is more than the image's {self.height}"
            )

    # Subclasses: _start opens the temporary file and registers in _on_drop what releases it; _write
    # encodes rows; _finish completes and closes the temporary file.
    def _start(self) -> None: ...

    def _write(self, rows: np.ndarray) -> None: ...

    def _finish(self) -> None: ...


def _release(on_drop: list[Callable[[], None]], temporary: Path) -> None:
    try:
        for release in reversed(on_drop):
            release()
    finally:
        temporary.unlink(missing_ok=True)


def _quantized(rows: np.ndarray, dtype: type) -> np.ndarray:
    return np.rint(np.clip(rows, 0.0, 1.0) * np.iinfo(dtype).max).astype(dtype)


class PngWriter(AtomicStripWriter):
    """8- or 16-bit RGB(A) PNG with pHYs (DPI) and the ICC profile in iCCP."""

    def __init__(self, *, bits: int, icc_profile: bytes, convert: Convert, level: int, workers: int, **geometry):
        self.bits, self.icc_profile = bits, icc_profile
        self._encoding = dict(convert=convert, level=level, workers=workers)
        super().__init__(**geometry)

    def _start(self) -> None:
        self._file = open(self._temporary, "xb")
        self._on_drop.append(self._file.close)
        self._encoder = PngRowEncoder(
            self._file,
            width=self.width,
            height=self.height,
            channels=self.channels,
            bits=self.bits,
            dpi=self.dpi,
            icc_profile=self.icc_profile,
            profile_name=profile_description(self.icc_profile),
            **self._encoding,
        )
        self._on_drop.append(self._encoder.cancel)

    def _write(self, rows: np.ndarray) -> None:
        self._encoder.write(rows)

    def _finish(self) -> None:
        self._encoder.finish()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


class TiffWriter(AtomicStripWriter):
    """Tiled TIFF: 8- or 16-bit RGB(A) with alpha as an unassociated extra sample, or 8-bit CMYK."""

    def __init__(
        self, *, samples: int, dtype: type, photometric: str, icc_profile: bytes, convert: Convert,
        level: int, workers: int, **geometry,
    ):
        self.samples, self.dtype, self.photometric, self.icc_profile = samples, dtype, photometric, icc_profile
        self._encoding = dict(convert=convert, level=level, workers=workers)
        super().__init__(**geometry)

    def _start(self) -> None:
        self._temporary.touch(exist_ok=False)  # claims the name before the encoder's thread opens it
        self._encoder = TiffTileEncoder(
            self._temporary,
            width=self.width,
            height=self.height,
            channels=self.channels,
            samples=self.samples,
            dtype=self.dtype,
            photometric=self.photometric,
            dpi=self.dpi,
            icc_profile=self.icc_profile,
            **self._encoding,
        )
        self._on_drop.append(self._encoder.cancel)

    def _write(self, rows: np.ndarray) -> None:
        self._encoder.write(rows)

    def _finish(self) -> None:
        self._encoder.finish()
        with open(self._temporary, "rb+") as f:
            os.fsync(f.fileno())


# ---- previews --------------------------------------------------------------------------------------


class PreviewGatherer:
    """Shrinks strips as they pass by a whole factor (block means), keeping only the small image."""

    def __init__(self, width: int, height: int, channels: int, long_side: int = PREVIEW_LONG_SIDE):
        self.factor = max(1, -(-max(width, height) // long_side))
        self.width, self.channels = width, channels
        self._carry = np.empty((0, width, channels), np.float32)  # fewer than `factor` rows
        self._shrunk: list[np.ndarray] = []

    def add(self, rows: np.ndarray) -> None:
        rows = np.concatenate([self._carry, rows.astype(np.float32, copy=False)])
        whole = len(rows) - len(rows) % self.factor
        if whole:
            blocks = rows[:whole].reshape(-1, self.factor, self.width, self.channels)
            self._shrunk.append(self._shrink_columns(blocks.mean(axis=1)))
        self._carry = rows[whole:].copy()

    def result(self) -> np.ndarray:
        """The shrunk image; the last block of rows (and of columns) may be narrower than the factor."""
        if len(self._carry):
            self._shrunk.append(self._shrink_columns(self._carry.mean(axis=0, keepdims=True)))
            self._carry = self._carry[:0]
        return np.concatenate(self._shrunk)

    def _shrink_columns(self, rows: np.ndarray) -> np.ndarray:
        whole = self.width - self.width % self.factor
        out = rows[:, :whole].reshape(len(rows), -1, self.factor, self.channels).mean(axis=2)
        if whole < self.width:
            out = np.concatenate([out, rows[:, whole:].mean(axis=1, keepdims=True)], axis=1)
        return out


class PreviewJpegWriter(AtomicStripWriter):
    """An 8-bit sRGB JPEG whose long side is at most `long_side`; transparency shows white paper."""

    def __init__(self, *, long_side: int, icc_profile: bytes, **geometry):
        self.long_side, self.icc_profile = long_side, icc_profile
        super().__init__(**geometry)

    def _start(self) -> None:
        self._gatherer = PreviewGatherer(self.width, self.height, self.channels, self.long_side)
        self._temporary.touch(exist_ok=False)

    def _write(self, rows: np.ndarray) -> None:
        self._gatherer.add(rows)

    def _finish(self) -> None:
        rgb = np.rint(np.clip(self._image(), 0.0, 1.0) * 255).astype(np.uint8)
        preview_dpi = self.dpi / self._gatherer.factor
        with open(self._temporary, "wb") as f:
            Image.fromarray(rgb, "RGB").save(
                f,
                format="JPEG",
                quality=JPEG_QUALITY,
                dpi=(preview_dpi, preview_dpi),
                icc_profile=self.icc_profile,
            )
            f.flush()
            os.fsync(f.fileno())

    def _image(self) -> np.ndarray:
        return over_white(self._gatherer.result())


class ProofJpegWriter(PreviewJpegWriter):
    """The soft proof: the preview as the CMYK print will look, out-of-gamut areas hatched in magenta.

    After close(), `summary` holds the profile's name, the ΔE threshold and the share out of gamut.
    """

    def __init__(self, *, long_side: int, conversion: CmykConversion, **geometry):
        self.conversion = conversion
        self.summary: ProofSummary | None = None
        super().__init__(long_side=long_side, icc_profile=srgb_profile_bytes(), **geometry)

    def _image(self) -> np.ndarray:
        proof, _, self.summary = soft_proof(self._gatherer.result(), self.conversion)
        return proof
