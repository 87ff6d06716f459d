"""Resampling and halo-limited sharpening on libvips, by windows of the whole-image result.

Shared by both upscalers (see adapters/upscale.py). Each call builds a lazy libvips pipeline over the
whole image (the rows the caller holds, embedded at their place with the edges replicated), and
asks for one window of its output: libvips computes every output pixel from global coordinates and
only the pixels that window needs, so a window is bit-identical to the same window of the whole
image, as long as the caller holds the input that the window reads (resample_source says which).

libvips' resize shrinks with Lanczos-3 (its reduce) and enlarges with its bicubic interpolator
(libvips ignores the kernel when enlarging), both mapping pixel centres exactly, with edge replicate.
"""

from __future__ import annotations

import math

import numpy as np
import pyvips

from rilievo.domain.images import REC709_LUMA

LOBES = 3
ENLARGE_REACH = 2  # the bicubic interpolator reads 2 px on each side of a sample position
# libvips' reduce reads up to 4 px past 3 lobes (its mask is a whole number of taps, placed on rounded
# positions), and where the other axis enlarges, the bicubic step reads 2 more shrunk pixels on this
# one too; measured over many sizes (tests/contract/test_upscale.py)
SHRINK_SLACK = 5
SLACK = 1  # rounding of the sample positions
SIGMA = 0.5  # the unsharp mask's blur, in source pixels
HALO = 1  # the sharpening stays within the luminance range over +-HALO source pixels
SHARPEN_REACH = max(HALO, math.ceil(3 * SIGMA))  # source rows the sharpening reads past the resize's

Window = tuple[int, int, int, int]  # (left, top, right, bottom)


def to_vips(pixels: np.ndarray) -> pyvips.Image:
    """HxW or HxWxC float32 -> a libvips float image sharing nothing with the array."""
    array = np.ascontiguousarray(pixels, np.float32)
    bands = 1 if array.ndim == 2 else array.shape[2]
    return pyvips.Image.new_from_memory(array.tobytes(), array.shape[1], array.shape[0], bands, "float")


def to_array(image: pyvips.Image) -> np.ndarray:
    """A libvips float image, computed now, as HxWxC float32 (writable: it owns libvips' output buffer)."""
    data = image.cast("float").write_to_memory()
    return np.frombuffer(data, np.float32).reshape(image.height, image.width, image.bands)


def whole(part: np.ndarray, origin: tuple[int, int], size: tuple[int, int]) -> pyvips.Image:
    """The part of an image (its top-left at origin) as the whole size-sized image, edges replicated."""
    return to_vips(part).embed(origin[0], origin[1], size[0], size[1], extend="copy")


def resized(image: pyvips.Image, out_size: tuple[int, int], kernel: str = "lanczos3") -> pyvips.Image:
    """The whole image at out_size exactly (libvips' resize: Lanczos-3 to shrink, bicubic to enlarge;
    kernel "linear": bilinear both ways)."""
    width, height = out_size
    if (width, height) == (image.width, image.height):
        return image
    # gap=0: a pure Lanczos reduce when shrinking, no box pre-shrink
    out = image.resize(width / image.width, vscale=height / image.height, kernel=kernel, gap=0.0)
    if (out.width, out.height) != (width, height):  # float rounding of the scale: never more than 1 px
        out = out.embed(0, 0, width, height, extend="copy")
    return out


def _reach(n_in: int, n_out: int, start: int, stop: int) -> tuple[int, int]:
    ratio = n_in / n_out
    if ratio == 1:
        return start, stop
    support = (LOBES + ENLARGE_REACH) * ratio + SHRINK_SLACK if ratio > 1 else ENLARGE_REACH
    first = math.floor((start + 0.5) * ratio - 0.5 - support) - SLACK
    last = math.ceil((stop - 0.5) * ratio - 0.5 + support) + SLACK
    return max(0, first), min(n_in, last + 1)


def resample_source(in_size: tuple[int, int], out_size: tuple[int, int], region: Window) -> Window:
    """The input rectangle (left, top, right, bottom) that resample_region reads for region."""
    left, top, right, bottom = region
    x0, x1 = _reach(in_size[0], out_size[0], left, right)
    y0, y1 = _reach(in_size[1], out_size[1], top, bottom)
    return x0, y0, x1, y1


def resample_region(source: np.ndarray, source_origin: tuple[int, int], in_size: tuple[int, int],
                    out_size: tuple[int, int], region: Window) -> np.ndarray:
    """Pixels region of the resize of an in_size (w, h) image to out_size; source holds the input from
    source_origin (x, y) on, covering resample_source(...). Clipped to [0, 1]."""
    image = resized(whole(source, source_origin, in_size), out_size).clamp(min=0.0, max=1.0)
    return to_array(crop(image, region))


def crop(image: pyvips.Image, region: Window) -> pyvips.Image:
    left, top, right, bottom = region
    return image.crop(left, top, right - left, bottom - top)


def luminance(image: pyvips.Image) -> pyvips.Image:
    """Rec. 709 weights on the sRGB values."""
    return image.recomb([list(REC709_LUMA)])


def gaussian(image: pyvips.Image, sigma: float) -> pyvips.Image:
    """A separable Gaussian blur, edges replicated."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    mask = pyvips.Image.new_from_list([list(kernel / kernel.sum())])
    return image.conv(mask, precision="float").conv(mask.rot90(), precision="float")


def sharpened(source: pyvips.Image, out_size: tuple[int, int], amount: float) -> pyvips.Image:
    """The source (whole, RGB in [0, 1]) resized to out_size with an unsharp mask on luminance, clipped
    to [0, 1].

    Both halves are made at the source's size and resized with the image, which costs two more bands
    of the resize instead of full-size filters. The detail is the source's luminance minus its blur
    (SIGMA source pixels: what interpolation softens, not the new pixels' own grain); resizing is
    linear, so this is the enlarged luminance minus the enlarged blur. The halo limit: the sharpened
    luminance stays within the range of the source's luminance over +-HALO source pixels (min and
    max maps enlarged bilinearly, so they never overshoot): edges get steeper, but no ring brighter or
    darker than what is already next to them appears, and the resize's own ringing is cut too. The
    same change goes to all three channels (hue is kept)."""
    luma = luminance(source)
    detail = luma - gaussian(luma, SIGMA)
    window = 2 * HALO + 1
    bounds = luma.rank(window, window, 0).bandjoin(luma.rank(window, window, window * window - 1))
    up = resized(source.bandjoin(detail), out_size)
    low, high = resized(bounds, out_size, kernel="linear").bandsplit()
    rgb = up.extract_band(0, n=3).clamp(min=0.0, max=1.0)
    plain = luminance(rgb)
    limited = (plain + amount * up.extract_band(3)).maxpair(low).minpair(high)
    return (rgb + (limited - plain)).clamp(min=0.0, max=1.0)
