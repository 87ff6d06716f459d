"""Upscaling to print size, one band of output rows at a time: the port's contract and the Lanczos fallback.

Two adapters share one interface: LanczosUpscaler here (classical, no weights) and
RealEsrganUpscaler in adapters/upscale_esrgan.py (Real-ESRGAN through spandrel). A print is up to
14,400 x 21,600 px, too big to hold whole, so the caller asks for a window of the output (in
practice a band of full-width rows) and gets exactly the pixels that a whole-image upscale would
have there. The port, for application/ports.py:

    Size = tuple[int, int]                  # (width, height) in pixels
    Window = tuple[int, int, int, int]      # (left, top, right, bottom), half-open, output pixels

    class Upscaler(Protocol):
        name: str                           # "lanczos" or "realesrgan:<model key>", for the job record

        def needed_source_rows(self, source_size: Size, out_size: Size,
                               out_window: Window | None = None) -> tuple[int, int]:
            '''Source rows [top, bottom) that upscale_region reads to produce out_window.'''

        def upscale_region(self, source: np.ndarray, out_size: Size, out_window: Window | None = None,
                           *, source_top: int = 0, source_height: int | None = None,
                           on_progress: Callable[[float], None] | None = None) -> np.ndarray:
            '''out_window (default: all) of the upscale of the source image to out_size, as an
            (bottom - top) x (right - left) x 3 float32 array in [0, 1] (sRGB, like the source).
            source is HxWx3 float in [0, 1]: the whole image, or a band of its full-width rows
            starting at row source_top of an image source_height rows high, which must cover
            needed_source_rows(...). on_progress gets rising fractions in [0, 1] (per model tile)
            and ends with 1.0; an exception raised in it stops the upscale (a cancel).
            Raises InvalidParameter for a bad request, UpscaleFailed when a model fails.'''

Why this shape: the caller slices the source band itself (the source may come from a file or be
the product of an earlier stage), while the adapter alone knows how much context its filters and
tiles need, so needed_source_rows is asked first. Every pixel is computed in global coordinates
(the full source and output sizes), which is what makes any window equal the same window of the
whole image: bit-identical for Lanczos (libvips computes every pixel from global coordinates); for
Real-ESRGAN see upscale_esrgan.py.

A band loop:

    for top in range(0, out_h, band):
        window = (0, top, out_w, min(out_h, top + band))
        rows = upscaler.needed_source_rows((src_w, src_h), (out_w, out_h), window)
        strip = upscaler.upscale_region(source[slice(*rows)], (out_w, out_h), window,
                                        source_top=rows[0], source_height=src_h)
"""

from __future__ import annotations

import bisect
import math
from typing import Callable

import attrs
import numpy as np

from rilievo.adapters.upscale_resample import (
    crop,
    resample_source,
    SHARPEN_REACH,
    resized,
    sharpened,
    to_array,
    whole,
)
from rilievo.domain.errors import InvalidParameter, RilievoError

Size = tuple[int, int]
Window = tuple[int, int, int, int]
Progress = Callable[[float], None]

MIN_SIDE = 4
# Unsharp mask of the Lanczos fallback: the amount grows with the enlargement's octaves, up to a cap
# (its radius and halo limit are in upscale_resample.sharpened).
AMOUNT_PER_OCTAVE = 0.35
MAX_AMOUNT = 0.8


class UpscaleFailed(RilievoError):
    """An upscaling model cannot be loaded or failed while running."""


@attrs.frozen(eq=False)
class Request:
    """An upscale_region call, checked: source is float32 in [0, 1]."""

    source: np.ndarray
    source_top: int
    source_size: Size
    out_size: Size
    window: Window

    def require_rows(self, needed: tuple[int, int]) -> None:
        have = (self.source_top, self.source_top + self.source.shape[0])
        if needed[0] < have[0] or needed[1] > have[1]:
            raise InvalidParameter(
                f"output rows {self.window[1]}..{self.window[3]} need source rows {needed[0]}..{needed[1]}, "
                f"but the source band holds rows {have[0]}..{have[1]}"
            )


def checked_request(source: np.ndarray, out_size: Size, out_window: Window | None, source_top: int,
                    source_height: int | None, *, rgb_only: bool = True) -> Request:
    """rgb_only=False: any number of channels (a resampler's masks)."""
    image = np.asarray(source)
    if image.ndim != 3 or (image.shape[2] != 3 if rgb_only else image.shape[2] < 1):
        raise InvalidParameter(f"expected an HxWx{3 if rgb_only else 'C'} image, got shape {image.shape}")
    if not np.issubdtype(image.dtype, np.floating):
        raise InvalidParameter(f"expected a float image in [0, 1], got {image.dtype}")
    band_h, width = image.shape[:2]
    height = band_h if source_height is None else int(source_height)
    if source_top < 0 or source_top + band_h > height:
        raise InvalidParameter(f"a band of {band_h} rows at row {source_top} does not fit a {height}-row source")
    source_size = (width, height)
    if min(source_size) < MIN_SIDE:
        raise InvalidParameter(f"source is {width}x{height} px; upscaling needs at least {MIN_SIDE}x{MIN_SIDE}")
    window = checked_window(out_size, out_window)
    rgb = image.astype(np.float32, copy=False)
    if not np.isfinite(rgb).all():
        raise InvalidParameter("image contains NaN or infinite values")
    return Request(np.clip(rgb, 0.0, 1.0), int(source_top), source_size, checked_size(out_size), window)


def checked_size(out_size: Size) -> Size:
    try:
        width, height = (int(side) for side in out_size)
        whole = (width, height) == tuple(out_size)
    except (TypeError, ValueError):
        whole = False
    if not whole or min(width, height) < 1:
        raise InvalidParameter(f"output size must be two positive whole numbers (width, height), not {out_size}")
    return width, height


def checked_window(out_size: Size, out_window: Window | None) -> Window:
    width, height = checked_size(out_size)
    if out_window is None:
        return 0, 0, width, height
    left, top, right, bottom = (int(v) for v in out_window)
    if not (0 <= left < right <= width and 0 <= top < bottom <= height):
        raise InvalidParameter(f"output window {tuple(out_window)} is empty or outside the {width}x{height} output")
    return left, top, right, bottom


def report(on_progress: Progress | None, fraction: float) -> None:
    if on_progress is not None:
        on_progress(min(1.0, max(0.0, fraction)))


class LanczosUpscaler:
    """libvips' resize (Lanczos-3 to shrink, its bicubic interpolator to enlarge, exact pixel-centre
    mapping), then a halo-limited unsharp mask on luminance whose radius and amount follow the
    enlargement (none when shrinking), all in one lazy libvips pipeline per window.

    sharpening scales the amount (0 turns it off, 1 is the default). A window is bit-identical to
    the same window of the whole-image result.
    """

    name = "lanczos"
    device = None

    def __init__(self, sharpening: float = 1.0) -> None:
        if not 0.0 <= sharpening <= 2.0:
            raise InvalidParameter(f"sharpening must be between 0 and 2, not {sharpening}")
        self.sharpening = sharpening

    def release(self) -> None:
        """Nothing is kept between bands."""

    def needed_source_rows(self, source_size: Size, out_size: Size, out_window: Window | None = None
                           ) -> tuple[int, int]:
        _, top, _, bottom = resample_source(source_size, out_size, checked_window(out_size, out_window))
        if self._amount(source_size, out_size) is None:
            return top, bottom
        return max(0, top - SHARPEN_REACH), min(source_size[1], bottom + SHARPEN_REACH)

    def upscale_region(self, source: np.ndarray, out_size: Size, out_window: Window | None = None, *,
                       source_top: int = 0, source_height: int | None = None,
                       on_progress: Progress | None = None) -> np.ndarray:
        # without sharpening (a resampler) any channels; the unsharp mask works on RGB
        request = checked_request(source, out_size, out_window, source_top, source_height,
                                  rgb_only=self.sharpening > 0)
        request.require_rows(self.needed_source_rows(request.source_size, request.out_size, request.window))
        image = whole(request.source, (0, request.source_top), request.source_size)
        amount = self._amount(request.source_size, request.out_size)
        if amount is None:
            out = self._resized(image, request)
        else:
            out = to_array(crop(sharpened(image, request.out_size, amount), request.window))
        report(on_progress, 1.0)
        return out

    @staticmethod
    def _resized(image, request: Request) -> np.ndarray:
        """The plain resize of the window, computed only over the columns whose input is not all zero:
        a pane's alpha is zero over much of the print, and the resize of zeros is exactly zero."""
        left, top, right, bottom = request.window
        columns = np.flatnonzero(request.source.any(axis=(0, 2)))
        first = last = left
        if columns.size:
            in_width, out_width = request.source_size[0], request.out_size[0]

            def reach(x: int) -> tuple[int, int]:  # the input columns that output column x reads
                return resample_source((in_width, 1), (out_width, 1), (x, 0, x + 1, 1))[0::2]

            first = bisect.bisect_left(range(left, right), True, key=lambda x: reach(x)[1] > columns[0]) + left
            last = bisect.bisect_left(range(left, right), True, key=lambda x: reach(x)[0] > columns[-1]) + left
        plain = resized(image, request.out_size).clamp(min=0.0, max=1.0)
        if (first, last) == (left, right):
            return to_array(crop(plain, request.window))
        out = np.zeros((bottom - top, right - left, request.source.shape[2]), np.float32)
        if first < last:
            out[:, first - left : last - left] = to_array(crop(plain, (first, top, last, bottom)))
        return out

    def _amount(self, source_size: Size, out_size: Size) -> float | None:
        """The unsharp mask's amount, or None for none."""
        scale_x, scale_y = out_size[0] / source_size[0], out_size[1] / source_size[1]
        octaves = math.log2(math.sqrt(scale_x * scale_y))
        amount = self.sharpening * min(MAX_AMOUNT, AMOUNT_PER_OCTAVE * octaves)
        return amount if amount > 0 else None
