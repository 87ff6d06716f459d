"""Filling behind: which pixels of a layer nobody sees straight on, and giving them colours.

Seen straight on, layer i shows with weight a_i * prod_{j<i}(1 - a_j). Where the nearer layers
together are fully opaque that product is exactly 0, so those pixels of layer i can take any colour
and any alpha without changing the stacked picture: that is where the hidden background is filled
in, for when the piece is looked at from an angle.
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator

import numpy as np

from .images import pixel_items

# Looking at the assembled piece up to this far off straight, no gap behind a pane shows.
VIEW_ANGLE_DEG = 35.0


def visibility(alphas: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each layer's alpha, front to back, with how much of it the nearer layers let through (0 =
    hidden). Takes the alphas one at a time, so they need not all be held at once."""
    uncovered: np.ndarray | None = None
    for alpha in alphas:
        if uncovered is None:
            uncovered = np.ones(alpha.shape, dtype=np.float32)
        yield alpha, uncovered
        through = np.subtract(1.0, alpha, dtype=np.float32)
        uncovered = np.multiply(through, uncovered, out=through)
        del alpha, through  # neither held while the next alpha is made


def fill_reach_px(gap_mm: float, pixel_mm: float, view_angle_deg: float = VIEW_ANGLE_DEG) -> float:
    """How far behind a nearer pane a layer must be filled: the sideways shift between two panes
    gap_mm apart, seen at the view angle."""
    return gap_mm * math.tan(math.radians(view_angle_deg)) / pixel_mm


def filled_alpha(alpha: np.ndarray, seen: np.ndarray, filled: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """The layer's alpha with its filled pixels made opaque (in_place: in alpha itself, which is
    returned). The filled pixels take the fill's colours and the others keep the composite's; only
    pixels that are hidden (seen == 0) may be filled, so the straight-on stack stays exactly the same."""
    if np.any(filled & (seen > 0)):
        raise ValueError("fill may only change pixels the nearer layers hide completely")
    if in_place and not alpha.flags.writeable and alpha.min() == 1.0:
        return alpha  # the back layer's opaque constant: nothing to make opaque
    out = alpha if in_place else alpha.copy()
    out[filled] = 1.0
    return out


class FilledColours:
    """A layer's colours: the image's, with the fill's on the filled pixels. Only the fill's colours are
    kept (N x 3, in the order of image[filled]); rows are made on demand, a run at a time, as
    image[rows] or image[rows, columns] (float32), so no photo-size copy of the image is held."""

    def __init__(self, image: np.ndarray, filled: np.ndarray | Boxed, colours: np.ndarray):
        per_row = filled.count_per_row() if isinstance(filled, Boxed) else np.count_nonzero(filled, axis=1)
        if filled.shape != image.shape[:2] or colours.shape != (per_row.sum(), 3):
            raise ValueError(f"{colours.shape[0]} fill colours for {per_row.sum()} filled pixels "
                             f"of a mask of {filled.shape} on an image of {image.shape}")
        self.image, self.filled, self.colours = image, filled, colours
        self.shape = image.shape
        # where each row's filled pixels begin in colours
        self.starts = np.concatenate([[0], np.cumsum(per_row)])

    def colours_of_rows(self, first: int, last: int) -> np.ndarray:
        """The fill's colours of the filled pixels of rows first:last, in the order of image[first:last][filled]
        (K x 3 float32, a new array)."""
        return self.colours[self.starts[first] : self.starts[last]].astype(np.float32)

    def __getitem__(self, key) -> np.ndarray:
        rows, columns = key if isinstance(key, tuple) else (key, slice(None))
        first, last, step = rows.indices(self.shape[0])
        if step != 1:
            raise ValueError("FilledColours gives runs of rows")
        out = np.array(self.image[first:last, columns], np.float32)
        filled, colours = self.filled[first:last], self.colours[self.starts[first] : self.starts[last]]
        inside = filled[:, columns]
        if np.count_nonzero(inside) < len(colours):  # the rows have filled pixels outside these columns
            within = np.zeros(filled.shape, bool)
            within[:, columns] = True
            colours = colours[within[filled]]
        # each pixel's three values as one item: numpy scatters those ten times faster than runs of three
        pixel_items(out)[inside] = pixel_items(colours.astype(np.float32))
        return out


class Boxed:
    """An HxW array that is 0 (False) outside a box of rows and columns, holding only the box: a
    pane's alpha and fill mask, most panes covering part of the photo. Gives runs of rows, whole or
    of some columns (boxed[rows], boxed[rows, columns], slices), as new arrays."""

    def __init__(self, array: np.ndarray, box: tuple[slice, slice], dtype: type | None = None):
        self.shape = array.shape
        self.rows, self.columns = (slice(*part.indices(size)[:2]) for part, size in zip(box, array.shape))
        self.inside = np.array(array[self.rows, self.columns], dtype or array.dtype)
        self.dtype = self.inside.dtype

    def count_per_row(self) -> np.ndarray:
        """How many of each row's values are not 0."""
        counts = np.zeros(self.shape[0], np.int64)
        counts[self.rows] = np.count_nonzero(self.inside, axis=1)
        return counts

    def __getitem__(self, key) -> np.ndarray:
        rows, columns = key if isinstance(key, tuple) else (key, slice(None))
        (first, last, row_step), (left, right, column_step) = rows.indices(self.shape[0]), columns.indices(self.shape[1])
        if row_step != 1 or column_step != 1:
            raise ValueError("Boxed gives runs of rows and columns")
        out = np.zeros((max(last - first, 0), max(right - left, 0)), self.dtype)
        top, bottom = max(first, self.rows.start), min(last, self.rows.stop)
        start, stop = max(left, self.columns.start), min(right, self.columns.stop)
        if top < bottom and start < stop:
            out[top - first : bottom - first, start - left : stop - left] = self.inside[
                top - self.rows.start : bottom - self.rows.start, start - self.columns.start : stop - self.columns.start]
        return out


def box_around(where: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of the smallest box around the True pixels of an HxW mask (empty if none)."""
    rows, columns = np.flatnonzero(where.any(axis=1)), np.flatnonzero(where.any(axis=0))
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1)
