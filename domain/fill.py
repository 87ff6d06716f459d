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
    out = alpha if in_place else alpha.copy()
    out[filled] = 1.0
    return out


class FilledColours:
    """A layer's colours: the image's, with the fill's on the filled pixels. Only the fill's colours are
    kept (N x 3, in the order of image[filled]); rows are made on demand, a run at a time, as
    image[rows] or image[rows, columns] (float32), so no photo-size copy of the image is held."""

    def __init__(self, image: np.ndarray, filled: np.ndarray, colours: np.ndarray):
        if filled.shape != image.shape[:2] or colours.shape != (np.count_nonzero(filled), 3):
            raise ValueError(f"{colours.shape[0]} fill colours for {np.count_nonzero(filled)} filled pixels "
                             f"of a mask of {filled.shape} on an image of {image.shape}")
        self.image, self.filled, self.colours = image, filled, colours
        self.shape = image.shape
        # where each row's filled pixels begin in colours
        self.starts = np.concatenate([[0], np.cumsum(np.count_nonzero(filled, axis=1))])

    def __getitem__(self, key) -> np.ndarray:
        rows, columns = key if isinstance(key, tuple) else (key, slice(None))
        first, last, step = rows.indices(self.shape[0])
        if step != 1:
            raise ValueError("FilledColours gives runs of rows")
        out = np.array(self.image[first:last, columns], np.float32)
        filled, colours = self.filled[first:last], self.colours[self.starts[first] : self.starts[last]]
        if not (isinstance(columns, slice) and columns.indices(self.shape[1]) == (0, self.shape[1], 1)):
            # the filled pixels of these columns, among those of the whole rows
            within = np.zeros(filled.shape, bool)
            within[:, columns] = True
            colours = colours[within[filled]]
        out[filled[:, columns]] = colours
        return out
