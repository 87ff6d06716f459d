"""Regions: the photo split into parts that belong together (an object, a part of one, a background
surface). The layer plan puts whole regions on panes; region ids are stable for a job."""

from __future__ import annotations

import attrs
import numpy as np

SUBJECT_NAMES = ("person", "face", "subject")  # the names of what a picture is of, where the eye goes


@attrs.frozen(eq=False)
class Regions:
    labels: np.ndarray  # HxW int32: every pixel's region, 0 .. count-1, each id used
    names: tuple[str, ...]  # per region, what it is where the segmenter can tell ("face", "person"), else ""

    def __attrs_post_init__(self) -> None:
        if self.labels.ndim != 2 or self.labels.dtype != np.int32:
            raise ValueError(f"region labels must be an HxW int32 array, got {self.labels.dtype} {self.labels.shape}")
        if len(self.names) != int(self.labels.max()) + 1:
            raise ValueError(f"{len(self.names)} region names for {int(self.labels.max()) + 1} regions")

    @property
    def count(self) -> int:
        return len(self.names)

    @classmethod
    def whole(cls, height: int, width: int) -> Regions:
        """One region covering the picture."""
        return cls(np.zeros((height, width), np.int32), ("",))

    def named(self, names: tuple[str, ...]) -> np.ndarray:
        """HxW bool: the pixels of the regions with one of these names."""
        return np.isin(self.labels, [index for index, name in enumerate(self.names) if name in names])

    def cropped(self, slices: tuple[slice, slice]) -> Regions:
        """The regions inside a crop, renumbered 0 .. count-1 in their old order (names kept)."""
        labels = self.labels[slices]
        kept, compact = np.unique(labels, return_inverse=True)
        return Regions(compact.reshape(labels.shape).astype(np.int32), tuple(self.names[i] for i in kept))
