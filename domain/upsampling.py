"""Edge-aware enlargement of a map (the depth) with the enlarged photo as its guide.

Joint bilateral upsampling (Kopf et al., SIGGRAPH 2007) over the 2 x 2 source pixels around each
output pixel: each weighs by its bilinear share times how close its photo colour is to the output
pixel's colour in the enlarged photo. Where the photo is flat this is bilinear interpolation; at an
edge of the photo each output pixel takes the map's value from its own side of the edge, so the
map's edges stay as sharp as the enlarged photo's instead of spreading over the enlargement factor.
Output rows can be made a band at a time: every row depends only on its own 2 x 2 neighbourhoods.
"""

from __future__ import annotations

import numpy as np

COLOUR_SIGMA = 0.1  # sRGB distance (0-1 per channel) at which a neighbour's weight falls to e^-0.5
MIN_WEIGHT = 1e-6  # where no neighbour's colour is close, bilinear interpolation takes over


def source_positions(indices: np.ndarray, source_length: int, target_length: int) -> np.ndarray:
    """Where output pixels sample the source, pixel centres aligned (as cv2.resize and PIL)."""
    return (indices + 0.5) * (source_length / target_length) - 0.5


def joint_bilateral_rows(values: np.ndarray, photo: np.ndarray, guide: np.ndarray, rows: np.ndarray,
                         out_size: tuple[int, int], colour_sigma: float = COLOUR_SIGMA) -> np.ndarray:
    """Output rows `rows` (indices into out_size's height) of `values` (HxW) enlarged to out_size
    (width, height), guided by `guide` (len(rows) x width x 3: those rows of the enlarged photo) and
    `photo` (HxWx3, the photo at the values' size). Returns len(rows) x width float32."""
    height, width = values.shape
    out_width, out_height = out_size
    if guide.shape[:2] != (len(rows), out_width):
        raise ValueError(f"the guide must be {len(rows)} x {out_width}, got {guide.shape[:2]}")
    ys = np.clip(source_positions(np.asarray(rows, np.float64), height, out_height), 0, height - 1)
    xs = np.clip(source_positions(np.arange(out_width, dtype=np.float64), width, out_width), 0, width - 1)
    y0 = np.floor(ys).astype(np.intp)
    x0 = np.floor(xs).astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    fy, fx = (ys - y0).astype(np.float32)[:, None], (xs - x0).astype(np.float32)[None, :]
    guide = np.asarray(guide, np.float32)
    total = np.zeros(guide.shape[:2], np.float32)
    weights = np.zeros(guide.shape[:2], np.float32)
    scale = np.float32(-0.5 / colour_sigma**2)
    for y_index, y_share in ((y0, 1 - fy), (y1, fy)):
        for x_index, x_share in ((x0, 1 - fx), (x1, fx)):
            colour = photo[y_index[:, None], x_index[None, :]]
            distance = np.sum(np.square(colour - guide, dtype=np.float32), axis=-1)
            weight = y_share * x_share * (np.exp(distance * scale) + MIN_WEIGHT)
            total += weight * values[y_index[:, None], x_index[None, :]]
            weights += weight
    return total / weights
