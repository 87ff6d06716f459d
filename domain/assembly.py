"""The physical piece: print size, and how far apart to mount the panes in a frame of a given depth."""

from __future__ import annotations

import attrs


@attrs.frozen
class PaneSpec:
    name: str
    file: str
    depth_range: tuple[int, int]  # on the 0 (nearest) - 255 (farthest) scale


@attrs.frozen
class AssemblyGuide:
    panes: tuple[PaneSpec, ...]  # front to back
    width_mm: float
    height_mm: float
    dpi: int
    frame_depth_mm: float
    spacers_mm: tuple[float, ...]  # between pane i and pane i + 1, front to back
