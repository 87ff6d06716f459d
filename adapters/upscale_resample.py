"""Windowed separable filters whose every output pixel is computed from global coordinates only.

Shared by both upscalers (see adapters/upscale.py). A filter here is, per axis, a table of input
indices and weights for each output index: Lanczos-3 resampling, a Gaussian blur, a box min/max.
The table for output index i depends on (input length, output length, i) and never on the window
being computed; indices past an image edge are clamped to it (edge replicate) in global
coordinates. Applying a table is an elementwise multiply-add per tap, in tap order, so a pixel of a
window is bit-identical to the same pixel of the whole image (numpy's elementwise float32 ufuncs do
not depend on array length or alignment). This is why cv2.resize is not used: resizing a crop
shifts its pixel grid and its border handling, so a crop of a resize differs from a resize of a crop.
"""

from __future__ import annotations

import math

import numpy as np

from rilievo.domain.images import REC709_LUMA

LOBES = 3

Span = tuple[int, int]  # [start, stop) along one axis
Taps = tuple[np.ndarray, np.ndarray]  # (indices, weights), each (outputs, taps); indices global, clamped


def lanczos_taps(n_in: int, n_out: int, span: Span) -> Taps:
    """Lanczos-3 for output samples span of a resample of n_in samples to n_out, with exact
    pixel-centre mapping (output centre x + 0.5 sits at input (x + 0.5) * n_in / n_out). On a
    shrink the kernel is stretched by the ratio, which antialiases (as PIL and libvips do)."""
    ratio = n_in / n_out
    stretch = max(1.0, ratio)
    support = LOBES * stretch
    count = 2 * math.ceil(support) + 1
    centres = (np.arange(*span, dtype=np.float64) + 0.5) * ratio - 0.5
    first = np.floor(centres - support).astype(np.int64) + 1
    indices = first[:, None] + np.arange(count)[None, :]
    x = (indices - centres[:, None]) / stretch
    weights = np.where(np.abs(x) < LOBES, np.sinc(x) * np.sinc(x / LOBES), 0.0)
    weights[np.abs(weights) < 1e-9] = 0.0  # sinc's zeros come out as 1e-17: at 1:1 that would not be exact
    weights /= weights.sum(axis=1, keepdims=True)
    return np.clip(indices, 0, n_in - 1), weights.astype(np.float32)


def gaussian_taps(n: int, sigma: float, span: Span) -> Taps:
    radius = max(1, math.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    indices = np.arange(*span)[:, None] + offsets[None, :]
    weights = np.broadcast_to(kernel.astype(np.float32), indices.shape)
    return np.clip(indices, 0, n - 1), weights


def box_taps(n: int, radius: int, span: Span) -> Taps:
    indices = np.arange(*span)[:, None] + np.arange(-radius, radius + 1)[None, :]
    return np.clip(indices, 0, n - 1), np.ones(indices.shape, np.float32)


def reach(taps: Taps) -> Span:
    """The input samples a table reads: [first, last + 1)."""
    indices = taps[0]
    return int(indices.min()), int(indices.max()) + 1


def weighted_sum(image: np.ndarray, origin: int, taps: Taps, axis: int) -> np.ndarray:
    """Apply a table along axis 0 or 1 of image, whose first sample along that axis is global
    index origin."""
    indices, weights = taps
    shape = [1] * image.ndim
    shape[axis] = indices.shape[0]
    out = None
    for k in range(indices.shape[1]):
        term = np.take(image, indices[:, k] - origin, axis=axis)
        term *= weights[:, k].reshape(shape)
        if out is None:
            out = term
        else:
            out += term
    return out


def extreme(image: np.ndarray, origin: int, taps: Taps, axis: int, reduce: np.ufunc) -> np.ndarray:
    """np.minimum or np.maximum over a table's taps (its weights are ignored)."""
    indices = taps[0]
    out = np.take(image, indices[:, 0] - origin, axis=axis)
    for k in range(1, indices.shape[1]):
        reduce(out, np.take(image, indices[:, k] - origin, axis=axis), out=out)
    return out


def resample_source(in_size: tuple[int, int], out_size: tuple[int, int], region: tuple[int, int, int, int]
                    ) -> tuple[int, int, int, int]:
    """The input rectangle (left, top, right, bottom) that resample_region reads for region."""
    left, top, right, bottom = region
    x0, x1 = reach(lanczos_taps(in_size[0], out_size[0], (left, right)))
    y0, y1 = reach(lanczos_taps(in_size[1], out_size[1], (top, bottom)))
    return x0, y0, x1, y1


def resample_region(source: np.ndarray, source_origin: tuple[int, int], in_size: tuple[int, int],
                    out_size: tuple[int, int], region: tuple[int, int, int, int]) -> np.ndarray:
    """Pixels region (left, top, right, bottom) of the Lanczos-3 resample of an in_size (w, h) image
    to out_size; source holds the input from source_origin (x, y) on, covering resample_source(...).
    Not clipped: Lanczos rings slightly past the input's range."""
    left, top, right, bottom = region
    (in_w, in_h), (out_w, out_h) = in_size, out_size
    columns = lanczos_taps(in_w, out_w, (left, right))
    rows = lanczos_taps(in_h, out_h, (top, bottom))
    ox, oy = source_origin
    image = np.asarray(source, np.float32)
    # Filter first along the axis that grows less: fewer samples go through the second pass. The
    # choice depends on the full sizes only, so every window of one image takes the same order.
    if out_h * in_w <= in_h * out_w:
        return weighted_sum(weighted_sum(image, oy, rows, 0), ox, columns, 1)
    return weighted_sum(weighted_sum(image, ox, columns, 1), oy, rows, 0)


def sharpen_region(image: np.ndarray, origin: tuple[int, int], size: tuple[int, int],
                   region: tuple[int, int, int, int], sigma: tuple[float, float], amount: float,
                   halo: tuple[int, int]) -> np.ndarray:
    """Unsharp mask on luminance for pixels region of an image of size (w, h), clipped to [0, 1].

    image (values in [0, 1]) starts at global origin (x, y) and must reach sharpen_margin(...)
    beyond region wherever the image continues. The luminance boost amount * (luma - blurred luma)
    is limited so that the sharpened luminance stays within the luminance range of the unsharpened
    image over +-halo (x, y) pixels: edges get steeper, but no ring brighter or darker than what
    is already next to them appears. The same change goes to all three channels (hue is kept).
    """
    left, top, right, bottom = region
    width, height = size
    ox, oy = origin
    luma = luminance(image)
    # Columns of the vertical pass: all those the horizontal pass reads.
    blur_cols = gaussian_taps(width, sigma[0], (left, right))
    box_cols = box_taps(width, halo[0], (left, right))
    wide = (min(reach(blur_cols)[0], reach(box_cols)[0]), max(reach(blur_cols)[1], reach(box_cols)[1]))
    band = luma[:, wide[0] - ox: wide[1] - ox]
    blurred = weighted_sum(weighted_sum(band, oy, gaussian_taps(height, sigma[1], (top, bottom)), 0),
                           wide[0], blur_cols, 1)
    box_rows = box_taps(height, halo[1], (top, bottom))
    low = extreme(extreme(band, oy, box_rows, 0, np.minimum), wide[0], box_cols, 1, np.minimum)
    high = extreme(extreme(band, oy, box_rows, 0, np.maximum), wide[0], box_cols, 1, np.maximum)
    centre = luma[top - oy: bottom - oy, left - ox: right - ox]
    sharpened = np.clip(centre + amount * (centre - blurred), low, high)
    out = image[top - oy: bottom - oy, left - ox: right - ox] + (sharpened - centre)[..., None]
    return np.clip(out, 0.0, 1.0, out=out)


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 709 weights on the sRGB values, elementwise (a matmul's sums may depend on the array size)."""
    r, g, b = REC709_LUMA
    return image[..., 0] * r + image[..., 1] * g + image[..., 2] * b


def sharpen_margin(sigma: tuple[float, float], halo: tuple[int, int]) -> tuple[int, int]:
    """How far (x, y) beyond a region sharpen_region reads."""
    return tuple(max(max(1, math.ceil(3 * s)), h) for s, h in zip(sigma, halo))
