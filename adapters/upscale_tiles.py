"""Tile geometry for model upscaling: a grid anchored to the full image, blend weights, a tile cache.

Pure numpy, shared by model upscalers (adapters/upscale_esrgan.py). Everything here depends on the
full image's size and a tile's place in the grid, never on the window being computed, which is
what lets a window of a tiled upscale equal the same window of the whole one.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Hashable

import numpy as np

Span = tuple[int, int]  # [start, stop) along one axis
# Share of an overlap across which two tiles cross-fade; the rest of it, nearest each tile's own
# edge where the tile's missing context shows most, is left wholly to the other tile.
BLEND_FRACTION = 0.5


def grid(n: int, tile: int, overlap: int, align: int = 1) -> list[Span]:
    """Tiles covering n samples at a fixed stride, neighbours overlapping by exactly overlap
    (rounded up to a multiple of align, at most half a tile), each starting at a multiple of align;
    the last one may be shorter. No sample lies in more than two tiles."""
    units, tile_units = math.ceil(n / align), max(1, tile // align)
    overlap_units = min(math.ceil(overlap / align), tile_units // 2)
    if units <= tile_units:
        return [(0, n)]
    stride = tile_units - overlap_units
    count = math.ceil((units - overlap_units) / stride)
    return [(i * stride * align, min(n, (i * stride + tile_units) * align)) for i in range(count)]


def touching(tiles: list[Span], out_span: Span, scale: int) -> list[int]:
    """Indices of the tiles whose output (scale x their span) meets out_span."""
    return [i for i, (start, stop) in enumerate(tiles) if start * scale < out_span[1] and out_span[0] < stop * scale]


def ramp(tiles: list[Span], i: int, scale: int) -> np.ndarray:
    """Blend weights of tile i along one axis, in output pixels: across each overlap with a
    neighbour the weight falls from 1 to 0 by a raised cosine (sin^2) while the neighbour's rises,
    so the two always sum to 1."""
    start, stop = tiles[i]
    centres = np.arange((stop - start) * scale) + 0.5
    weights = np.ones(centres.shape)
    if i > 0:
        weights *= _rise(centres, (tiles[i - 1][1] - start) * scale)
    if i < len(tiles) - 1:
        weights *= _rise(centres[::-1], (stop - tiles[i + 1][0]) * scale)
    return weights.astype(np.float32)


def _rise(position: np.ndarray, width: int) -> np.ndarray:
    """0 -> 1 across the central BLEND_FRACTION of an overlap width pixels wide, starting at 0."""
    margin = width * (1 - BLEND_FRACTION) / 2
    t = np.clip((position - margin) / (width * BLEND_FRACTION), 0.0, 1.0)
    return np.sin(0.5 * np.pi * t) ** 2


class TileCache:
    """Least-recently-used tile outputs, up to capacity bytes (0: keeps nothing)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> np.ndarray | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: np.ndarray) -> None:
        if value.nbytes > self.capacity:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._bytes += value.nbytes
            while self._bytes > self.capacity:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
