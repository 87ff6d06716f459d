"""Encoders fed float rows in order, for print-size PNG and tiled TIFF files.

PNG: Pillow cannot write 16-bit RGB(A) PNG, pypng filters and packs rows in Python (45-60 s at print
size, 210 s with alpha) and OpenCV and libvips want the whole image. Here each block of rows is
converted, filtered and deflated on a worker thread the way pigz does it: a block is a raw deflate
stream ended by a sync flush (byte-aligned, no final bit), so the blocks concatenate into one valid
zlib stream after one header, closed by an empty final block and the Adler-32 of the filtered bytes.

TIFF: tifffile writes pre-encoded tiles pulled from an iterator in one call; a thread runs that call
and is fed tiles that worker threads convert, difference (horizontal predictor) and deflate.

Rows are gathered into fixed blocks (a deflate block, a tile row) whatever the caller's strips, so the
bytes written depend on the pixels only, never on how the rows were split. Memory stays at a few
blocks whatever the image size. Deflate is ISA-L's (the `isal` package): on 16-bit print data it is 7 to
8 times as fast as zlib at level 1 and compresses a little better; on 8-bit data about 15% larger than
zlib level 6, at a thirtieth of the time. numpy and ISA-L release the GIL, so the workers overlap
(Pillow's LittleCMS transform holds it).
"""

from __future__ import annotations

import queue
import struct
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np
import tifffile
from isal import isal_zlib

Convert = Callable[[np.ndarray], np.ndarray]  # float rows x width x channels -> stored samples

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPE = {1: 0, 3: 2, 4: 6}  # samples -> PNG colour type (gray, RGB, RGBA)
FILTER_SUB = 1  # minus the byte one pixel to the left: cheap, and within 3% of Paeth on photos
BLOCK_BYTES = 4 << 20  # stored bytes per PNG job: large enough that the sync flushes cost nothing
_EMPTY_FINAL_BLOCK = b"\x03\x00"  # a fixed-Huffman block holding only end-of-block, with BFINAL set
_INCHES_PER_METRE = 1 / 0.0254

TIFF_TILE = 256
# Classic TIFF addresses 4 GiB; switch to BigTIFF with room left for deflate's worst-case growth
# (incompressible data grows by well under 1%) and the tile tables.
BIGTIFF_ABOVE_BYTES = 4_000_000_000


def needs_bigtiff(width: int, height: int, samples: int, bytes_per_sample: int) -> bool:
    return width * height * samples * bytes_per_sample > BIGTIFF_ABOVE_BYTES


class _RowBlocks:
    """Gathers rows into blocks of a fixed height and hands each full block (a copy) on."""

    def __init__(self, rows: int, width: int, channels: int, full: Callable[[np.ndarray], None]):
        self._buffer = np.empty((rows, width, channels), np.float32)
        self._filled = 0
        self._full = full

    def add(self, rows: np.ndarray) -> None:
        start = 0
        while start < len(rows):
            take = min(len(self._buffer) - self._filled, len(rows) - start)
            self._buffer[self._filled : self._filled + take] = rows[start : start + take]
            self._filled += take
            start += take
            if self._filled == len(self._buffer):
                self.flush()

    def flush(self) -> None:
        if self._filled:
            block, self._filled = self._buffer[: self._filled].copy(), 0
            self._full(block)


# ---- PNG -------------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def png_header(
    width: int, height: int, samples: int, bits: int, dpi: float, icc_profile: bytes, profile_name: str
) -> bytes:
    """Signature, IHDR, pHYs (DPI as pixels per metre) and iCCP (not for gray: masks such as white ink
    carry no colour, and an RGB profile is invalid on them)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bits, COLOUR_TYPE[samples], 0, 0, 0)
    per_metre = round(dpi * _INCHES_PER_METRE)
    phys = struct.pack(">IIB", per_metre, per_metre, 1)
    # iCCP: a Latin-1 name of 1-79 characters, a NUL, compression method 0, the deflated profile.
    name = profile_name.encode("latin-1", "replace")[:79].strip() or b"ICC profile"
    iccp = name + b"\x00\x00" + zlib.compress(icc_profile, 9)  # a few kB: stdlib zlib is fine
    header = PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"pHYs", phys)
    return header if samples == 1 else header + _chunk(b"iCCP", iccp)


def sub_filtered(values: np.ndarray) -> np.ndarray:
    """N x W x C uint8 or uint16 -> N x (1 + W*C*bytes) scanlines with the Sub filter (type byte first)."""
    count = values.shape[0]
    pixel_bytes = values.shape[2] * values.itemsize
    raw = values.astype(">u2" if values.itemsize == 2 else np.uint8, copy=False).view(np.uint8).reshape(count, -1)
    out = np.empty((count, raw.shape[1] + 1), np.uint8)
    out[:, 0] = FILTER_SUB
    out[:, 1 : 1 + pixel_bytes] = raw[:, :pixel_bytes]
    np.subtract(raw[:, pixel_bytes:], raw[:, :-pixel_bytes], out=out[:, 1 + pixel_bytes :])  # wraps mod 256
    return out


def _png_block(rows: np.ndarray, convert: Convert, level: int) -> tuple[bytes, bytes]:
    """(filtered bytes, their raw deflate stream ended by a sync flush); runs on a worker thread."""
    filtered = sub_filtered(convert(rows)).tobytes()
    compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)
    return filtered, compressor.compress(filtered) + compressor.flush(isal_zlib.Z_SYNC_FLUSH)


class PngRowEncoder:
    """Writes a PNG to an open binary file from float rows given in order; `finish` after the last."""

    def __init__(
        self,
        file: BinaryIO,
        *,
        width: int,
        height: int,
        channels: int,
        bits: int,
        dpi: float,
        icc_profile: bytes,
        profile_name: str,
        convert: Convert,
        level: int,
        workers: int,
    ):
        if channels not in COLOUR_TYPE or bits not in (8, 16):
            raise ValueError(f"PNG rows must be gray, RGB or RGBA of 8 or 16 bits, not {channels} x {bits}")
        self._file, self._convert, self._level = file, convert, level
        rows_per_block = max(1, BLOCK_BYTES // (width * channels * bits // 8))
        self._blocks = _RowBlocks(rows_per_block, width, channels, self._submit)
        self._adler = zlib.adler32(b"")
        self._pending: deque[Future] = deque()
        self._max_pending = 2 * workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="png-deflate")
        file.write(png_header(width, height, channels, bits, dpi, icc_profile, profile_name))
        file.write(_chunk(b"IDAT", isal_zlib.compress(b"", level)[:2]))  # the zlib header alone

    def write(self, rows: np.ndarray) -> None:
        self._blocks.add(rows)

    def finish(self) -> None:
        self._blocks.flush()
        while self._pending:
            self._write_oldest()
        self._pool.shutdown()
        trailer = _EMPTY_FINAL_BLOCK + struct.pack(">I", self._adler)
        self._file.write(_chunk(b"IDAT", trailer) + _chunk(b"IEND", b""))

    def cancel(self) -> None:
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, block: np.ndarray) -> None:
        self._pending.append(self._pool.submit(_png_block, block, self._convert, self._level))
        while len(self._pending) > self._max_pending:
            self._write_oldest()

    def _write_oldest(self) -> None:
        filtered, deflated = self._pending.popleft().result()
        self._adler = zlib.adler32(filtered, self._adler)
        self._file.write(_chunk(b"IDAT", deflated))


# ---- TIFF ------------------------------------------------------------------------------------------

_END, _CANCEL = object(), object()


class _Cancelled(Exception):
    pass


class _PullBridge:
    """Runs `consume(iterator)` on a thread and feeds the iterator with items pushed from this one."""

    def __init__(self, consume: Callable[[Iterator], None], *, name: str, capacity: int):
        self._queue: queue.Queue = queue.Queue(maxsize=capacity)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(consume,), name=name, daemon=True)
        self._thread.start()

    def push(self, item) -> None:
        if not self._offer(item):
            self._raise_if_failed()
            raise RuntimeError("the encoder stopped before the last tile")

    def finish(self) -> None:
        self._offer(_END)  # the encoder may be done already: it takes no more items than it needs
        self._thread.join()
        self._raise_if_failed()

    def cancel(self) -> None:
        self._offer(_CANCEL)
        self._thread.join()

    def _offer(self, item) -> bool:
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _items(self) -> Iterator:
        while (item := self._queue.get()) is not _END:
            if item is _CANCEL:
                raise _Cancelled
            yield item

    def _run(self, consume: Callable[[Iterator], None]) -> None:
        try:
            consume(self._items())
        except _Cancelled:
            pass
        except BaseException as e:  # handed to the pushing thread
            self._error = e

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error


def _tiff_tile(tile: np.ndarray, convert: Convert, level: int) -> bytes:
    """A float tile -> its stored samples, zero-padded to a full tile, differenced, deflated (zlib)."""
    values = convert(tile)
    if values.shape[:2] != (TIFF_TILE, TIFF_TILE):
        padded = np.zeros((TIFF_TILE, TIFF_TILE, values.shape[2]), values.dtype)
        padded[: values.shape[0], : values.shape[1]] = values
        values = padded
    differenced = values.copy()
    differenced[:, 1:] -= values[:, :-1]  # TIFF predictor 2, per sample; unsigned wrap-around
    return isal_zlib.compress(differenced.astype(differenced.dtype.newbyteorder("<"), copy=False).tobytes(), level)


def _write_tiff(path: Path, futures: Iterator[Future], **options) -> None:
    (height, width, samples), dtype = options["shape"], np.dtype(options["dtype"])
    bigtiff = needs_bigtiff(width, height, samples, dtype.itemsize)
    with tifffile.TiffWriter(path, byteorder="<", bigtiff=bigtiff) as tiff:
        tiff.write((future.result() for future in futures), **options)


class TiffTileEncoder:
    """A tiled TIFF (deflate, horizontal predictor, DPI, ICC profile) from float rows given in order."""

    def __init__(
        self,
        path: Path,
        *,
        width: int,
        height: int,
        channels: int,
        samples: int,
        dtype: type,
        photometric: str,
        dpi: float,
        icc_profile: bytes,
        convert: Convert,
        level: int,
        workers: int,
    ):
        self._width, self._convert, self._level = width, convert, level
        self._blocks = _RowBlocks(TIFF_TILE, width, channels, self._submit)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tiff-deflate")
        options = dict(
            shape=(height, width, samples),
            dtype=dtype,
            tile=(TIFF_TILE, TIFF_TILE),
            photometric=photometric,
            planarconfig="contig",
            extrasamples=("unassalpha",) if photometric == "rgb" and samples == 4 else None,
            compression="zlib",  # tells tifffile what the tiles hold; it writes them as they are
            predictor=True,
            resolution=(dpi, dpi),
            resolutionunit="INCH",
            iccprofile=icc_profile,
            extratags=[(332, "H", 1, 1, True)] if photometric == "separated" else None,  # InkSet: CMYK
            metadata=None,
        )
        # Two tile rows in flight: a queue holds futures whose tiles the workers are encoding.
        capacity = 2 * -(-width // TIFF_TILE)
        self._bridge = _PullBridge(
            partial(_write_tiff, path, **options), name=f"tiff:{path.name}", capacity=capacity
        )

    def write(self, rows: np.ndarray) -> None:
        self._blocks.add(rows)

    def finish(self) -> None:
        self._blocks.flush()
        self._bridge.finish()
        self._pool.shutdown()

    def cancel(self) -> None:
        self._bridge.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, tile_row: np.ndarray) -> None:
        for x in range(0, self._width, TIFF_TILE):
            tile = tile_row[:, x : x + TIFF_TILE]
            self._bridge.push(self._pool.submit(_tiff_tile, tile, self._convert, self._level))
