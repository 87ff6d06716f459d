"""Edge-aware enlargement of a map (the depth) with the enlarged photo as its guide.

Joint bilateral upsampling (Kopf et al., SIGGRAPH 2007) over the 2 x 2 source pixels around each
output pixel: each weighs by its bilinear share times how close its photo colour is to the output
pixel's colour in the enlarged photo. Where the photo is flat this is bilinear interpolation; at an
edge of the photo each output pixel takes the map's value from its own side of the edge, so the
map's edges stay as sharp as the enlarged photo's instead of spreading over the enlargement factor.

Any weighted mean of four values lies within their range, so where the map's 2 x 2 neighbourhood
spans no more than EDGE_STEP the bilateral weights cannot move the result by more than that from the
bilinear one: there (almost everywhere in a depth map) the output is plain separable bilinear
interpolation, and the colour weights are computed only for the output pixels between map values
that step. That keeps the enlargement's cost near a resize's.
Output rows can be made a band at a time: every row depends only on its own 2 x 2 neighbourhoods.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

COLOUR_SIGMA = 0.1  # sRGB distance (0-1 per channel) at which a neighbour's weight falls to e^-0.5
MIN_WEIGHT = 1e-6  # where no neighbour's colour is close, bilinear interpolation takes over
EDGE_STEP = 0.02  # about 5 levels of the 8-bit depth file: a slope, not an edge between layers


def source_positions(indices: np.ndarray, source_length: int, target_length: int) -> np.ndarray:
    """Where output pixels sample the source, pixel centres aligned (as cv2.resize and PIL)."""
    return (indices + 0.5) * (source_length / target_length) - 0.5


class MapRows(Protocol):
    """A map whose rows are made when sliced (values[first:last]), so that it is never held whole as floats."""

    shape: tuple[int, ...]

    def __getitem__(self, rows: slice) -> np.ndarray: ...


def joint_bilateral_rows(values: np.ndarray | MapRows, photo: np.ndarray, guide: np.ndarray, rows: np.ndarray,
                         out_size: tuple[int, int], colour_sigma: float = COLOUR_SIGMA) -> np.ndarray:
    """Output rows `rows` (indices into out_size's height) of `values` (HxW; only the rows these read are
    taken from it) enlarged to out_size (width, height), guided by `guide` (len(rows) x width x 3: those
    rows of the enlarged photo) and `photo` (HxWx3, the photo at the values' size). Returns len(rows) x
    width float32."""
    height, width = values.shape[:2]
    out_width, out_height = out_size
    if guide.shape[:2] != (len(rows), out_width):
        raise ValueError(f"the guide must be {len(rows)} x {out_width}, got {guide.shape[:2]}")
    ys = np.clip(source_positions(np.asarray(rows, np.float64), height, out_height), 0, height - 1)
    xs = np.clip(source_positions(np.arange(out_width, dtype=np.float64), width, out_width), 0, width - 1)
    y0 = np.floor(ys).astype(np.intp)
    x0 = np.floor(xs).astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    fy, fx = (ys - y0).astype(np.float32)[:, None], (xs - x0).astype(np.float32)[None, :]
    # the source rows these output rows read, from `first` on (made once a band)
    first, last = (int(y0.min()), int(y0.max()) + 2) if y0.size else (0, 0)
    near = np.asarray(values[first:last], np.float32)
    upper, lower = near[y0 - first], near[y1 - first]
    column = upper + fy * (lower - upper)  # rows x source width
    out = column[:, x0] + fx * (column[:, x1] - column[:, x0])
    # the 2 x 2 ranges of those rows, not of the whole
    step = _cell_range(near)[y0[:, None] - first, x0[None, :]] > EDGE_STEP
    at_rows, at_columns = np.nonzero(step)
    if len(at_rows):
        out[at_rows, at_columns] = _bilateral(
            near, photo[first:last], np.asarray(guide, np.float32)[at_rows, at_columns],
            (y0[at_rows] - first, y1[at_rows] - first, fy[at_rows, 0]),
            (x0[at_columns], x1[at_columns], fx[0, at_columns]), colour_sigma)
    return out


def _cell_range(values: np.ndarray) -> np.ndarray:
    """max - min of each 2 x 2 neighbourhood, indexed by its top-left pixel (edges replicated)."""
    below = np.concatenate([values[1:], values[-1:]])
    high, low = np.maximum(values, below), np.minimum(values, below)
    high = np.maximum(high, np.concatenate([high[:, 1:], high[:, -1:]], axis=1))
    low = np.minimum(low, np.concatenate([low[:, 1:], low[:, -1:]], axis=1))
    return high - low


def _bilateral(values, photo, guide, ys, xs, colour_sigma) -> np.ndarray:
    """The joint bilateral result at the given pixels: guide is N x 3, ys and xs (index 0, index 1,
    fraction), each of length N."""
    (y0, y1, fy), (x0, x1, fx) = ys, xs
    total = np.zeros(len(guide), np.float32)
    weights = np.zeros(len(guide), np.float32)
    scale = np.float32(-0.5 / colour_sigma**2)
    for y_index, y_share in ((y0, 1 - fy), (y1, fy)):
        for x_index, x_share in ((x0, 1 - fx), (x1, fx)):
            colour = photo[y_index, x_index]
            distance = np.sum(np.square(colour - guide, dtype=np.float32), axis=-1)
            weight = y_share * x_share * (np.exp(distance * scale) + MIN_WEIGHT)
            total += weight * values[y_index, x_index]
            weights += weight
    return total / weights
