"""Filling behind: which pixels of a layer nobody sees straight on, and giving them colours.

Seen straight on, layer i shows with weight a_i * prod_{j<i}(1 - a_j). Where the nearer layers
together are fully opaque that product is exactly 0, so those pixels of layer i can take any colour
and any alpha without changing the stacked picture: that is where the hidden background is filled
in, for when the piece is looked at from an angle.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

# Looking at the assembled piece up to this far off straight, no gap behind a pane shows.
VIEW_ANGLE_DEG = 35.0


def visibility(alphas: list[np.ndarray]) -> Iterator[np.ndarray]:
    """For each layer, front to back: how much of it the nearer layers let through (0 = hidden)."""
    uncovered: np.ndarray = np.ones(alphas[0].shape, dtype=np.float32)
    for alpha in alphas:
        yield uncovered
        uncovered = uncovered * (1.0 - alpha)


def fill_reach_px(gap_mm: float, pixel_mm: float, view_angle_deg: float = VIEW_ANGLE_DEG) -> float:
    """How far behind a nearer pane a layer must be filled: the sideways shift between two panes
    gap_mm apart, seen at the view angle."""
    return gap_mm * math.tan(math.radians(view_angle_deg)) / pixel_mm


def with_fill(
    rgba: np.ndarray, seen: np.ndarray, colours: np.ndarray, filled: np.ndarray
) -> np.ndarray:
    """The layer with the filled pixels given their colours and made opaque; only pixels that are
    hidden (seen == 0) may change, so the straight-on stack stays exactly the same."""
    if np.any(filled & (seen > 0)):
        raise ValueError("fill may only change pixels the nearer layers hide completely")
    out = rgba.copy()
    out[filled, :3] = colours[filled]
    out[filled, 3] = 1.0
    return out
