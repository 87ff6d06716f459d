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

Window = tuple[int, int, int, int]  # (left, top, right, bottom)


def to_vips(pixels: np.ndarray) -> pyvips.Image:
    """HxW or HxWxC float32 -> a libvips float image sharing nothing with the array."""
    array = np.ascontiguousarray(pixels, np.float32)
    bands = 1 if array.ndim == 2 else array.shape[2]
    return pyvips.Image.new_from_memory(array.tobytes(), array.shape[1], array.shape[0], bands, "float")


def to_array(image: pyvips.Image) -> np.ndarray:
    """A libvips float image, computed now, as HxWxC float32."""
    data = image.cast("float").write_to_memory()
    return np.frombuffer(data, np.float32).reshape(image.height, image.width, image.bands).copy()


def whole(part: np.ndarray, origin: tuple[int, int], size: tuple[int, int]) -> pyvips.Image:
    """The part of an image (its top-left at origin) as the whole size-sized image, edges replicated."""
    return to_vips(part).embed(origin[0], origin[1], size[0], size[1], extend="copy")


def resized(image: pyvips.Image, out_size: tuple[int, int]) -> pyvips.Image:
    """The whole image at out_size exactly (libvips' resize: Lanczos-3 to shrink, bicubic to enlarge)."""
    width, height = out_size
    if (width, height) == (image.width, image.height):
        return image
    # gap=0: a pure Lanczos reduce when shrinking, no box pre-shrink
    out = image.resize(width / image.width, vscale=height / image.height, kernel="lanczos3", gap=0.0)
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


def gaussian(image: pyvips.Image, sigma: tuple[float, float]) -> pyvips.Image:
    """A separable Gaussian blur with its own sigma on each axis, edges replicated."""
    out = image
    for axis, s in enumerate(sigma):
        radius = max(1, math.ceil(3 * s))
        offsets = np.arange(-radius, radius + 1)
        kernel = np.exp(-0.5 * (offsets / s) ** 2)
        mask = pyvips.Image.new_from_list([list(kernel / kernel.sum())])
        out = out.conv(mask if axis == 0 else mask.rot90(), precision="float")
    return out


def local_range(image: pyvips.Image, halo: tuple[int, int]) -> tuple[pyvips.Image, pyvips.Image]:
    """The min and max of a one-band image over +-halo (x, y) pixels, edges replicated."""
    wide, tall = 2 * halo[0] + 1, 2 * halo[1] + 1
    low = image.rank(wide, 1, 0).rank(1, tall, 0)
    high = image.rank(wide, 1, wide - 1).rank(1, tall, tall - 1)
    return low, high


def sharpened(image: pyvips.Image, sigma: tuple[float, float], amount: float, halo: tuple[int, int]
              ) -> pyvips.Image:
    """Unsharp mask on luminance, clipped to [0, 1]. The luminance boost amount * (luma - blurred luma)
    is limited so that the sharpened luminance stays within the luminance range of the unsharpened
    image over +-halo (x, y) pixels: edges get steeper, but no ring brighter or darker than what is
    already next to them appears. The same change goes to all three channels (hue is kept)."""
    luma = luminance(image)
    low, high = local_range(luma, halo)
    boosted = luma + amount * (luma - gaussian(luma, sigma))
    limited = boosted.maxpair(low).minpair(high)
    return (image + (limited - luma)).clamp(min=0.0, max=1.0)


def sharpen_margin(sigma: tuple[float, float], halo: tuple[int, int]) -> tuple[int, int]:
    """How far (x, y) beyond a region sharpened reads."""
    return tuple(max(max(1, math.ceil(3 * s)), h) for s, h in zip(sigma, halo))
