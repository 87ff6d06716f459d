"""Print-size files written strip by strip and encoded by libvips, so a 14,400 x 21,600 image is never
held in memory.

    with open_writer(path, width, height, channels, "tiff16", dpi=600) as writer:
        for strip in strips:          # float32 rows x width x channels in [0, 1], top to bottom
            writer.write_rows(strip)

Strips are quantised to 8- or 16-bit samples as they come and handed to libvips, which encodes them on
a thread of its own while the caller makes the next ones: libvips reads them as an uncompressed TIFF
streamed from memory (a custom source), so the files of a job encode side by side, on every core
given, while their rows are made. A writer holds only the last strip written until its encoder has
read it: write_rows waits for the encoder to read the one before, so memory stays bounded (libvips'
own buffers hold some LIBVIPS_ROWS_HELD rows per file, its tile heights set lower below). Once the
files streaming at once would hold more than STREAMING_BUDGET_BYTES, a file opened next is spooled
instead: the same TIFF, written to a hidden file beside `path` and encoded once its last row is in.
The encoded file is written under a hidden temporary name and renamed onto `path` only when the
writer is closed with exactly `height` rows written. An error, too many rows, too few at close, or a
writer dropped unclosed stops the encoder and removes the temporary file: a file at `path` is always
complete. The JPEG previews keep only block means of the rows as they come, in memory, and are
encoded after the last.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import struct
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pyvips

from rilievo.domain.errors import InvalidParameter, RilievoError, StorageFull

from .print_colour import CmykConversion, ProofSummary, over_white, soft_proof, srgb_profile_bytes

__all__ = ["KINDS", "PrintFileFailed", "needs_bigtiff", "open_writer"]

KINDS = ("png8", "png16", "tiff", "tiff16", "cmyk-tiff", "preview-jpeg", "proof-jpeg")
PREVIEW_LONG_SIDE = 2048
# zlib's level for PNG and TIFF: 16-bit print data's low bytes are noise that no level compresses,
# and level 2 with the Sub filter (PNG) or the horizontal predictor (TIFF) is within a few percent of
# level 6's size at half its time.
DEFLATE_LEVEL = 2
PNG_FILTER = "sub"
JPEG_QUALITY = 90
TIFF_TILE = 256
# Classic TIFF addresses 4 GiB; switch to BigTIFF with room left for deflate's worst-case growth
# (incompressible data grows by well under 1%) and the tile tables.
BIGTIFF_ABOVE_BYTES = 4_000_000_000
NEARLY_FULL_BYTES = 1 << 20  # a write that fails with less room than this left failed for want of room
MM_PER_INCH = 25.4

Encode = Callable[[pyvips.Image, Path], object]  # the streamed image -> the file at the path; returns extras


class PrintFileFailed(RilievoError):
    """A print file could not be written (disk full, permissions, an encoder failure)."""


def needs_bigtiff(width: int, height: int, samples: int, bytes_per_sample: int) -> bool:
    return width * height * samples * bytes_per_sample > BIGTIFF_ABOVE_BYTES


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
    stream: bool = True,
) -> AtomicStripWriter:
    """A writer of one `kind` (see KINDS) for strips of `channels` (3 RGB, 4 RGBA) float values.

    icc_profile: the RGB profile embedded in png8, png16, tiff, tiff16 and preview-jpeg; default sRGB.
    cmyk: profile, intent and ink limit for cmyk-tiff and proof-jpeg; default the system's SWOP profile.
    level: zlib's deflate level 1-9 for PNG and TIFF.
    stream: encode while the rows come where STREAMING_BUDGET_BYTES allows; False: spool and encode after.
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
    if isinstance(level, bool) or level not in range(1, 10):
        raise InvalidParameter(f"compression level must be 1-9 (zlib's levels), not {level!r}")
    icc = icc_profile if icc_profile is not None else srgb_profile_bytes()
    bits = 8 if kind in ("png8", "tiff") else 16
    if kind in ("cmyk-tiff", "proof-jpeg"):
        conversion = cmyk or CmykConversion.from_profile()
    if kind.startswith("png"):
        encode: Encode = partial(_png, bits=bits, icc=icc if channels > 1 else None, level=level)
    elif kind in ("tiff", "tiff16"):
        encode = partial(_tiff, icc=icc, level=level)
    elif kind == "cmyk-tiff":
        encode = partial(_cmyk_tiff, conversion=conversion, level=level)
    else:
        factor = max(1, -(-max(width, height) // preview_long_side))
        proof = conversion if kind == "proof-jpeg" else None
        encode = partial(_jpeg, icc=icc, proof=proof)
        return AtomicStripWriter(Path(path), width, height, channels, dpi, bits=bits, encode=encode, shrink=factor)
    return AtomicStripWriter(Path(path), width, height, channels, dpi, bits=bits, encode=encode, stream=stream)


class AtomicStripWriter:
    """Row accounting, strip checks, the spool and the temporary file's life; libvips encodes.

    States: open -> complete (the temporary file is finished) -> closed (renamed onto `path`);
    open or complete -> failed (the spool and the temporary file are removed).
    After close(), `summary` holds what the encoder reported (the soft proof's ProofSummary), or None.
    """

    def __init__(self, path: Path, width: int, height: int, channels: int, dpi: float, *, bits: int,
                 encode: Encode, shrink: int = 0, stream: bool = True):
        """shrink: keep only block means of shrink x shrink pixels, in memory (a preview), not a spool.
        stream: encode while the rows come where the streaming budget allows; False: spool."""
        self.path, self.width, self.height, self.channels, self.dpi = path, width, height, channels, dpi
        self.dtype = np.uint16 if bits == 16 else np.uint8
        self.rows_written = 0
        self.summary: ProofSummary | None = None
        self._encode = encode
        self._state = "open"
        self._temporary = path.with_name(f".{path.name}.partial-{secrets.token_hex(4)}")
        self._encoding = _Encoding()
        # What a dropped writer must release. It holds no reference to the writer, so the writer can be
        # collected, and the finalizer then stops the encoder, waits for it and removes the file.
        self._cleanup = weakref.finalize(self, _release, self._encoding, self._temporary)
        with self._failing_cleanly():
            if shrink:
                self._store: _Stream | _Spool | _Shrunk = _Shrunk(width, channels, self.dtype, shrink)
            elif stream and _STREAMING.take(held := LIBVIPS_ROWS_HELD * width * channels * np.dtype(self.dtype).itemsize):
                self._store = _Stream(width, height, channels, self.dtype, held)
            else:
                self._store = _Spool(path.with_name(f".{path.name}.spool-{secrets.token_hex(4)}"), width, height,
                                     channels, self.dtype)
            self._encoding.store = self._store
            if self._store.streams:
                self._start_encoding()

    def write_rows(self, rows: np.ndarray) -> None:
        self._require("open")
        with self._failing_cleanly():
            self._check(rows)
            self._store.add(_quantized(rows, self.dtype))
            if self.rows_written + len(rows) == self.height and not self._store.streams:
                self._start_encoding()
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

    def _start_encoding(self) -> None:
        image, factor = self._store.image()
        resolution = self.dpi / factor / MM_PER_INCH
        image = image.copy(interpretation=_interpretation(self.channels, self.dtype), xres=resolution, yres=resolution)
        self._encoding.start(self._encode, image, self._temporary)

    def _complete(self) -> None:
        self._require("open")
        with self._failing_cleanly():
            if self.rows_written != self.height:
                raise ValueError(f"{self.path.name}: closed after {self.rows_written} of {self.height} rows")
            self.summary = self._encoding.result()
            self._store.close()
            with open(self._temporary, "rb+") as f:
                os.fsync(f.fileno())
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
            full = isinstance(e, Exception) and _out_of_space(e, self.path.parent)  # before the partial file goes
            self._fail()
            if isinstance(e, (RilievoError, ValueError)) or not isinstance(e, Exception):
                raise
            if full:
                raise StorageFull(f"the disk is full: writing {self.path} failed") from e
            reason = e.strerror if isinstance(e, OSError) and e.strerror else " ".join(str(e).split())
            raise PrintFileFailed(f"writing {self.path.name} failed: {reason or type(e).__name__}") from e

    def _require(self, state: str) -> None:
        if self._state != state:
            raise ValueError(f"{self.path.name}: the writer is {self._state}, not {state}")

    def _check(self, rows: np.ndarray) -> None:
        if not isinstance(rows, np.ndarray) or rows.ndim != 3 or rows.shape[1:] != (self.width, self.channels):
            shape = getattr(rows, "shape", type(rows).__name__)
            raise ValueError(
                f"{self.path.name}: strips must be rows x {self.width} x {self.channels}, not {shape}"
            )
        # min and max are NaN or infinite if any sample is, and make no band-size temporary
        if rows.dtype.kind != "f" or not (rows.size == 0 or np.isfinite(rows.min()) and np.isfinite(rows.max())):
            raise ValueError(f"{self.path.name}: strips must hold finite floats in [0, 1]")
        if self.rows_written + len(rows) > self.height:
            raise ValueError(
                f"{self.path.name}: {self.rows_written} + {len(rows)} rows is more than the image's {self.height}"
            )


def _out_of_space(error: Exception, folder: Path) -> bool:
    """libvips keeps one error text for all its threads, and an encoder failing beside another may get
    its error without the system's reason: a write that failed while the folder has next to no room left
    is taken for a full disk too."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC or "No space left" in str(error):
        return True
    if not isinstance(error, pyvips.Error):
        return False
    try:
        return shutil.disk_usage(folder).free < NEARLY_FULL_BYTES
    except OSError:
        return False


class _Encoding:
    """The encoder's thread: libvips releases the GIL, so files encode side by side."""

    def __init__(self) -> None:
        self.store: _Stream | _Spool | _Shrunk | None = None
        self._thread: threading.Thread | None = None
        self._outcome: tuple[bool, object] | None = None

    def start(self, encode: Encode, image: pyvips.Image, path: Path) -> None:
        def run() -> None:
            try:
                self._outcome = (True, encode(image, path))
            except BaseException as e:  # handed to the caller of result(), and to a writer waiting to add rows
                self._outcome = (False, e)
                self.store.stop(e)

        self._thread = threading.Thread(target=run, name=f"encode {path.name}", daemon=True)
        self._thread.start()

    def result(self) -> object:
        self.wait()
        ok, value = self._outcome
        if not ok:
            raise value
        return value

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()


def _release(encoding: _Encoding, temporary: Path) -> None:
    try:
        if encoding.store is not None:
            encoding.store.close()
        encoding.wait()
    finally:
        temporary.unlink(missing_ok=True)


class _Stream:
    """The samples as an uncompressed, stripped BigTIFF that libvips reads front to back (a custom
    source) while the rows come: the header, then the samples as they were added. Only the header can
    be read again; rows the encoder has read are let go."""

    streams = True

    def __init__(self, width: int, height: int, channels: int, dtype: type, held: int):
        """held: what this stream took of the streaming budget, given back when it is closed."""
        self._budget_held = held
        self._header = _tiff_header(width, height, channels, np.dtype(dtype).itemsize)
        row_bytes = width * channels * np.dtype(dtype).itemsize
        self._size = len(self._header) + height * row_bytes
        self._held: deque[memoryview] = deque()  # the samples added and not read yet, in order
        self._held_from = self._added_to = len(self._header)  # the offsets the held samples span
        self._position = 0  # the reader's
        self._closed = False
        self._error: BaseException | None = None  # the encoder's, once it failed
        self._changed = threading.Condition()
        self._source = pyvips.SourceCustom()
        self._source.on_read(self._read)
        self._source.on_seek(self._seek)

    def add(self, values: np.ndarray) -> None:
        """Waits until the encoder has read what was added before; raises its error if it failed."""
        with self._changed:
            self._changed.wait_for(lambda: not self._held or self._error)
            if self._error is not None:
                raise self._error
            self._held.append(memoryview(values).cast("B"))
            self._added_to += values.nbytes
            self._changed.notify_all()

    def image(self) -> tuple[pyvips.Image, int]:
        return pyvips.Image.tiffload_source(self._source, access="sequential"), 1

    def stop(self, error: BaseException) -> None:
        """The encoder failed: a writer waiting to add rows gets its error."""
        with self._changed:
            self._error = error
            self._changed.notify_all()

    def close(self) -> None:
        """The writer is done, or failed: then the encoder reads the end of the file (and fails, the file
        cut short). Gives back the streaming budget."""
        with self._changed:
            self._closed = True
            self._held.clear()
            self._changed.notify_all()
            _STREAMING.give(self._budget_held)
            self._budget_held = 0

    def _read(self, length: int) -> memoryview | bytes | None:
        with self._changed:
            if self._position < len(self._header):
                piece = self._header[self._position : self._position + length]
            else:
                self._changed.wait_for(lambda: self._added_to > self._position or self._closed
                                       or self._position >= self._size)
                if self._closed or self._position >= self._size:
                    return None
                self._let_go_of_read()  # what came while it waited, before a forward seek's position
                chunk = self._held[0]
                start = self._position - self._held_from
                piece = chunk[start : start + length]
            self._position += len(piece)
            self._let_go_of_read()
            return piece

    def _seek(self, offset: int, whence: int) -> int:
        with self._changed:
            position = offset + (0, self._position, self._size)[whence]
            if len(self._header) <= position < self._held_from:
                return -1  # samples read are let go of
            self._position = position  # libtiff seeks to the end for the size, and back: let go of nothing here
            return position

    def _let_go_of_read(self) -> None:
        while self._held and self._held_from + len(self._held[0]) <= self._position:
            self._held_from += len(self._held.popleft())
            self._changed.notify_all()


STRIP_ROWS = 64
# libvips sizes a pipeline's buffers by its tile height (128 rows by default): a file encoded while its
# rows come held 790-1,120 of them by libvips' own count (the reader's line cache, 3 x 128, the writer's
# two buffers of 128, the threads' strips). libvips takes these heights only as command-line options;
# set lower, a file holds 211-280 rows by that count (widths of 1,000 to 14,400 px), the bytes written
# are the same, and the upscaler's resize and sharpening take the same CPU time (16-row tiles cost them
# 9 % more).
LIBVIPS_TILE_HEIGHT = 32
LIBVIPS_FATSTRIP_HEIGHT = 4
# The files opened once this budget is taken are spooled to disk and encoded after their last row.
STREAMING_BUDGET_BYTES = 400 * 2**20


def _libvips() -> ctypes.CDLL | None:
    """The libvips library pyvips loaded (found among the process's mappings: Linux only), or None."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    paths = {line.split(maxsplit=5)[5] for line in maps.splitlines() if line.count(" ") >= 5 and "/libvips" in line}
    library = next((path for path in sorted(paths) if Path(path).name.startswith("libvips") and ".so" in path), None)
    return ctypes.CDLL(library) if library else None


def _set_libvips_strip_heights(tile_height: int, fatstrip_height: int) -> bool:
    """libvips' tile and strip heights, for every pipeline of the process, through its own command-line
    options (its GOption group). False where libvips could not be reached."""
    try:
        vips = _libvips()
        if vips is None:
            return False
        vips.g_option_context_new.restype = vips.g_option_group_new.restype = ctypes.c_void_p
        context = ctypes.c_void_p(vips.g_option_context_new(None))
        group = ctypes.c_void_p(vips.g_option_group_new(b"vips", b"", b"", None, None))
        vips.vips_add_option_entries(group)
        vips.g_option_context_set_main_group(context, group)  # the context owns the group
        options = [b"rilievo", b"--vips-tile-height=%d" % tile_height, b"--vips-fatstrip-height=%d" % fatstrip_height]
        argv = ctypes.cast((ctypes.c_char_p * (len(options) + 1))(*options, None), ctypes.POINTER(ctypes.c_char_p))
        error = ctypes.c_void_p()
        parsed = vips.g_option_context_parse(context, ctypes.byref(ctypes.c_int(len(options))), ctypes.byref(argv),
                                             ctypes.byref(error))
        vips.g_option_context_free(context)
        return bool(parsed)
    except (OSError, AttributeError):  # another build of libvips, without these symbols
        return False


# How many of a streamed file's rows the budget counts for libvips' buffers; where the heights could not be
# set, the 900 counted for its defaults.
LIBVIPS_ROWS_HELD = 300 if _set_libvips_strip_heights(LIBVIPS_TILE_HEIGHT, LIBVIPS_FATSTRIP_HEIGHT) else 900


class _Budget:
    def __init__(self, total: int):
        self._left = total
        self._lock = threading.Lock()

    def take(self, amount: int) -> bool:
        with self._lock:
            if amount > self._left:
                return False
            self._left -= amount
            return True

    def give(self, amount: int) -> None:
        with self._lock:
            self._left += amount


_STREAMING = _Budget(STREAMING_BUDGET_BYTES)


class _Spool:
    """The samples in the same uncompressed BigTIFF as a stream's, in a hidden file beside the print
    file, which libvips reads strip by strip once the last row is in."""

    streams = False

    def __init__(self, path: Path, width: int, height: int, channels: int, dtype: type):
        self.path = path
        self._file = open(path, "xb")
        self._file.write(_tiff_header(width, height, channels, np.dtype(dtype).itemsize))

    def add(self, values: np.ndarray) -> None:
        self._file.write(values.data)

    def image(self) -> tuple[pyvips.Image, int]:
        self._file.close()
        return pyvips.Image.tiffload(str(self.path), access="sequential"), 1

    def stop(self, error: BaseException) -> None:
        pass  # every row is in before the encoder starts

    def close(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


_SHORT, _LONG, _LONG8 = 3, 4, 16  # TIFF field types


def _tiff_header(width: int, height: int, channels: int, sample_bytes: int) -> bytes:
    """A little-endian BigTIFF header and its one directory, for pixels (interleaved, top to bottom) that
    follow it directly: whatever their size, strip offsets are known in advance."""
    strips = -(-height // STRIP_ROWS)
    row_bytes = width * channels * sample_bytes
    entries = [
        (256, _LONG, 1, width), (257, _LONG, 1, height), (258, _SHORT, channels, [8 * sample_bytes] * channels),
        (259, _SHORT, 1, 1), (262, _SHORT, 1, 1 if channels == 1 else 2), (273, _LONG8, strips, None),
        (277, _SHORT, 1, channels), (278, _LONG, 1, STRIP_ROWS), (279, _LONG8, strips, None),
        (284, _SHORT, 1, 1),
    ] + ([(338, _SHORT, 1, 2)] if channels == 4 else [])  # unassociated alpha
    directory_end = 16 + 8 + 20 * len(entries) + 8
    data = directory_end + 16 * strips  # after the offsets' and the byte counts' tables
    offsets = [data + i * STRIP_ROWS * row_bytes for i in range(strips)]
    counts = [min(STRIP_ROWS, height - i * STRIP_ROWS) * row_bytes for i in range(strips)]
    tables = {273: (directory_end, offsets), 279: (directory_end + 8 * strips, counts)}
    head = struct.pack("<2sHHHQ", b"II", 43, 8, 0, 16) + struct.pack("<Q", len(entries))
    for tag, kind, count, value in entries:
        if tag in tables:
            field = struct.pack("<Q", tables[tag][0]) if count > 1 else struct.pack("<Q", tables[tag][1][0])
        else:
            values = value if isinstance(value, list) else [value]
            field = struct.pack(f"<{len(values)}{'H' if kind == _SHORT else 'I'}", *values).ljust(8, b"\0")
        head += struct.pack("<HHQ", tag, kind, count) + field
    head += struct.pack("<Q", 0)  # no next directory
    return head + struct.pack(f"<{strips}Q", *offsets) + struct.pack(f"<{strips}Q", *counts)


class _Shrunk:
    """Block means of factor x factor pixels (libvips' shrink), made as the rows come: rows gather
    until they fill whole blocks, so the result does not depend on how the strips were cut. The last
    block of rows (and of columns) may be narrower. Encoded once the last row is in."""

    streams = False

    def __init__(self, width: int, channels: int, dtype: type, factor: int):
        self.width, self.channels, self.dtype, self.factor = width, channels, dtype, factor
        self._carry = np.empty((0, width, channels), dtype)
        self._parts: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        rows = np.concatenate([self._carry, values])
        whole = len(rows) - len(rows) % self.factor
        if whole:
            self._parts.append(self._shrunk(rows[:whole]))
        self._carry = rows[whole:].copy()

    def image(self) -> tuple[pyvips.Image, int]:
        if len(self._carry):
            self._parts.append(self._shrunk(self._carry))
        small = np.ascontiguousarray(np.concatenate(self._parts))
        height, width = small.shape[:2]
        return pyvips.Image.new_from_memory(small.data, width, height, self.channels, _format(self.dtype)), self.factor

    def _shrunk(self, rows: np.ndarray) -> np.ndarray:
        rows = np.ascontiguousarray(rows)
        image = pyvips.Image.new_from_memory(rows.data, self.width, len(rows), self.channels, _format(self.dtype))
        if self.factor > 1:
            image = image.shrink(self.factor, self.factor, ceil=True)
        return np.ndarray((image.height, image.width, self.channels), self.dtype, image.write_to_memory())

    def stop(self, error: BaseException) -> None:
        pass  # every row is in before the encoder starts

    def close(self) -> None:
        self._parts.clear()


def _format(dtype: type) -> str:
    return "ushort" if dtype == np.uint16 else "uchar"


def _quantized(rows: np.ndarray, dtype: type) -> np.ndarray:
    """Rounded to the nearest sample value (halves to even, as np.rint), clipped to the sample range: one
    pass in OpenCV, whose saturating conversion does both (a band is tens of MB)."""
    flat = rows.reshape(len(rows), rows.shape[1] * rows.shape[2])  # one channel, so the scale applies to every sample
    depth = cv2.CV_16U if dtype == np.uint16 else cv2.CV_8U
    return cv2.multiply(flat, float(np.iinfo(dtype).max), dtype=depth).reshape(rows.shape)


def _interpretation(channels: int, dtype: type) -> str:
    if channels == 1:
        return "grey16" if dtype == np.uint16 else "b-w"
    return "rgb16" if dtype == np.uint16 else "srgb"


def _with_profile(image: pyvips.Image, icc: bytes | None) -> pyvips.Image:
    image = image.copy()
    if icc is not None:
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    return image


# ---- the encoders ----------------------------------------------------------------------------------


def _png(image: pyvips.Image, path: Path, *, bits: int, icc: bytes | None, level: int) -> None:
    """8- or 16-bit gray, RGB or RGBA PNG with pHYs (DPI) and the ICC profile in iCCP."""
    _with_profile(image, icc).pngsave(str(path), compression=level, filter=PNG_FILTER, bitdepth=bits)


def _tiff_options(image: pyvips.Image, level: int) -> dict:
    samples, size = image.bands, 2 if image.format == "ushort" else 1
    return dict(compression="deflate", predictor="horizontal", level=level, tile=True, tile_width=TIFF_TILE,
                tile_height=TIFF_TILE, bigtiff=needs_bigtiff(image.width, image.height, samples, size),
                resunit="inch")


def _tiff(image: pyvips.Image, path: Path, *, icc: bytes, level: int) -> None:
    """Tiled deflate TIFF, 8- or 16-bit RGB(A), alpha as an unassociated extra sample."""
    _with_profile(image, icc).tiffsave(str(path), **_tiff_options(image, level))


def _cmyk_tiff(image: pyvips.Image, path: Path, *, conversion: CmykConversion, level: int) -> None:
    """Tiled deflate 8-bit CMYK TIFF (over white paper), with the print profile embedded."""
    cmyk = conversion.cmyk_image(image)
    cmyk = _with_profile(cmyk, conversion.profile_bytes)
    cmyk.tiffsave(str(path), **_tiff_options(cmyk, level))


def _jpeg(small: pyvips.Image, path: Path, *, icc: bytes, proof: CmykConversion | None) -> ProofSummary | None:
    """An 8-bit sRGB JPEG of the shrunk image, transparency shown as white paper. With proof: the soft
    proof, out-of-gamut areas hatched in magenta, and its summary returned."""
    resolution = small.xres
    small = over_white(small)
    summary = None
    if proof is not None:
        marked, _, summary = soft_proof(small, proof)
        values = np.rint(np.clip(marked, 0.0, 1.0) * 255).astype(np.uint8)
        small = pyvips.Image.new_from_memory(values.tobytes(), values.shape[1], values.shape[0], 3, "uchar")
        icc = srgb_profile_bytes()
    else:
        small = (small.cast("float") * (255 / 65535)).rint().cast("uchar")
    small = _with_profile(small.copy(interpretation="srgb", xres=resolution, yres=resolution), icc)
    small.set_type(pyvips.GValue.gstr_type, "resolution-unit", "in")
    small.jpegsave(str(path), Q=JPEG_QUALITY)
    return summary
