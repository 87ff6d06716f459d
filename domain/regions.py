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
        """The regions inside a crop, renumbered 0 .. count-1 in their old order (names kept); the
        regions themselves when the crop is the whole picture. Renumbered through a lookup table of
        the ids present (np.unique sorts every pixel: 1 s and 300 MB at 12 MP)."""
        labels = self.labels[slices]
        present = np.bincount(labels.ravel(), minlength=self.count) > 0
        if labels.shape == self.labels.shape and present.all():
            return self
        renumbered = np.cumsum(present, dtype=np.int32) - 1
        return Regions(renumbered[labels], tuple(name for name, kept in zip(self.names, present) if kept))


def frame_border(array: np.ndarray) -> np.ndarray:
    """The values along the frame's border of a 2-D array, each pixel once: the top and bottom rows,
    then the left and right columns between them."""
    return np.concatenate([array[0], array[-1], array[1:-1, 0], array[1:-1, -1]])
