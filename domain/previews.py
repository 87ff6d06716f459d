"""Small images for looking at a job: a downscaled preview and the layer-separation overlay (each pane
in its own tint, the regions the panes were planned from outlined)."""

from __future__ import annotations

import math

import numpy as np

PREVIEW_MAX_SIDE = 1024
# One colour per layer, front to back; chosen to stay distinct for the common colour blindnesses.
LAYER_TINTS = (
    (0.90, 0.32, 0.20),
    (0.95, 0.75, 0.10),
    (0.10, 0.65, 0.55),
    (0.25, 0.45, 0.95),
    (0.70, 0.35, 0.80),
)
TINT_STRENGTH = 0.55
# Region outlines: lines this dark, over this much of the tinted pixel.
OUTLINE_SHADE = 0.05
OUTLINE_STRENGTH = 0.7


def preview_factor(width: int, height: int, max_side: int = PREVIEW_MAX_SIDE) -> int:
    """The smallest whole-number reduction that brings the longer side to max_side or less."""
    return max(1, math.ceil(max(width, height) / max_side))


def downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Box-average factor x factor blocks (the few edge pixels that do not fill a block are dropped)."""
    if factor == 1:
        return image
    return block_mean(image, factor)


def block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """The float32 mean of each whole factor x factor block of an HxW or HxWxC array. Sums strided
    rows, then strided columns: numpy's mean over the axes of a blocked view is several times slower."""
    height, width = image.shape[0] // factor, image.shape[1] // factor
    rows = image[0 : height * factor : factor, : width * factor].astype(np.float32)
    for offset in range(1, factor):
        rows += image[offset : height * factor : factor, : width * factor]
    out = rows[:, 0::factor].copy()
    for offset in range(1, factor):
        out += rows[:, offset::factor]
    out *= np.float32(1.0 / (factor * factor))
    return out


class SeparationOverlay:
    """The image with each layer tinted in its own colour, fed one layer alpha at a time (front first).

    Layer i shows through the stack with weight a_i * prod_{j<i}(1 - a_j); the tints are mixed with
    exactly those weights, so feathered edges blend the two neighbouring colours.
    """

    def __init__(self, image: np.ndarray):
        self.image = image
        self.pixels = np.zeros_like(image, dtype=np.float32)
        self.uncovered = np.ones(image.shape[:2], dtype=np.float32)
        self.count = 0

    def add(self, alpha: np.ndarray) -> None:
        weight = (alpha * self.uncovered)[..., None]
        tint = np.asarray(LAYER_TINTS[self.count % len(LAYER_TINTS)], dtype=np.float32)
        self.pixels += weight * (self.image * (1 - TINT_STRENGTH) + tint * TINT_STRENGTH)
        self.uncovered *= 1.0 - alpha
        self.count += 1

    def outline(self, labels: np.ndarray) -> None:
        """Draw the outlines of the regions (HxW labels at the overlay's size) as thin dark lines."""
        edge = np.zeros(labels.shape, bool)
        edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
        edge[1:, :] |= labels[1:, :] != labels[:-1, :]
        self.pixels[edge] = self.pixels[edge] * (1 - OUTLINE_STRENGTH) + np.float32(OUTLINE_SHADE) * OUTLINE_STRENGTH

    def finished(self, labels: np.ndarray) -> np.ndarray:
        """The overlay with the regions' outlines drawn (see outline). The overlay is done: it lets go
        of its arrays (made in a thread beside the print files, the rest of the previews need them no
        more)."""
        self.outline(labels)
        pixels = self.pixels
        del self.pixels, self.image, self.uncovered
        return pixels


def downsample_labels(labels: np.ndarray, factor: int) -> np.ndarray:
    """Labels at downsample()'s size: one per block, its top-left one (labels cannot be averaged)."""
    height, width = labels.shape[0] // factor * factor, labels.shape[1] // factor * factor
    return labels[:height:factor, :width:factor]
