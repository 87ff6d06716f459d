"""He et al.'s guided filter (ECCV 2010 / PAMI 2013), on box filters so its cost does not depend on
the radius: a grey-guide version, its fast low-resolution upsampling, and a colour-guide version
whose guide statistics are computed once and reused for several inputs (one per layer).

All arrays are float32; borders are reflected.
"""

from __future__ import annotations

import cv2
import numpy as np


def box_mean(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over the (2 radius + 1)^2 window around each pixel."""
    size = (2 * radius + 1, 2 * radius + 1)
    return cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Grey guide: src smoothed, its edges snapped to guide's."""
    a, b = guided_coefficients(guide, src, radius, eps)
    return a * guide + b


def guided_coefficients(
    guide: np.ndarray, src: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Box-averaged a, b of the local linear model src ~ a * guide + b (grey guide)."""

    def mean(x):
        return box_mean(x, radius)

    mean_i, mean_p = mean(guide), mean(src)
    cov_ip = mean(guide * src) - mean_i * mean_p
    var_i = mean(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return mean(a), mean(b)


def guided_upsample(
    guide_small: np.ndarray, src_small: np.ndarray, guide_full: np.ndarray,
    radius: int = 2, eps: float = 1e-3,
) -> np.ndarray:
    """Fast guided filter upsampling (He & Sun, 2015): fit the linear model at low resolution,
    interpolate its coefficients and apply them to the full-resolution guide."""
    height, width = guide_full.shape
    a, b = guided_coefficients(guide_small, src_small, radius=radius, eps=eps)
    a = cv2.resize(a, (width, height), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(b, (width, height), interpolation=cv2.INTER_LINEAR)
    np.multiply(a, guide_full, out=a)  # in the enlarged coefficients: no more full-size arrays
    return np.add(a, b, out=a)


class ColourGuide:
    """A colour (HxWx3) guide with its local statistics, for filtering several inputs with it.

    Optional per-pixel weights turn each window's least-squares fit into a weighted one, so that
    pixels known to be unreliable (weight ~0) get their value from the model fitted on the others.
    """

    def __init__(self, guide: np.ndarray, radius: int, eps: float, weights: np.ndarray | None = None):
        self.guide = np.asarray(guide, dtype=np.float32)
        self.radius = radius
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float32)
        if self.weights is not None:
            self._total = np.maximum(box_mean(self.weights, radius), 1e-6)
        channels = [self.guide[..., c] for c in range(3)]
        self.mean_i = [self._wmean(ch) for ch in channels]
        var = {}
        for i in range(3):
            for j in range(i, 3):
                var[i, j] = self._wmean(channels[i] * channels[j]) - self.mean_i[i] * self.mean_i[j]
        self.variance = (var[0, 0] + var[1, 1] + var[2, 2]) / 3.0  # of the guide, per channel
        self._inverse = _symmetric_inverse(
            var[0, 0] + eps, var[0, 1], var[0, 2], var[1, 1] + eps, var[1, 2], var[2, 2] + eps
        )

    def coefficients(self, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Box-averaged a (HxWx3), b (HxW) of the local linear model src ~ a . guide + b."""
        src = np.asarray(src, dtype=np.float32)
        mean_p = self._wmean(src)
        cov = [self._wmean(self.guide[..., c] * src) - self.mean_i[c] * mean_p for c in range(3)]
        inv = self._inverse
        a = [
            inv[0][0] * cov[0] + inv[0][1] * cov[1] + inv[0][2] * cov[2],
            inv[0][1] * cov[0] + inv[1][1] * cov[1] + inv[1][2] * cov[2],
            inv[0][2] * cov[0] + inv[1][2] * cov[1] + inv[2][2] * cov[2],
        ]
        b = mean_p - a[0] * self.mean_i[0] - a[1] * self.mean_i[1] - a[2] * self.mean_i[2]
        return np.dstack([box_mean(x, self.radius) for x in a]), box_mean(b, self.radius)

    def _wmean(self, x: np.ndarray) -> np.ndarray:
        if self.weights is None:
            return box_mean(x, self.radius)
        return box_mean(self.weights * x, self.radius) / self._total


def _symmetric_inverse(a, b, c, d, e, f):
    """Per-pixel inverse of the symmetric 3x3 matrix [[a, b, c], [b, d, e], [c, e, f]], by cofactors."""
    co_a = d * f - e * e
    co_b = c * e - b * f
    co_c = b * e - c * d
    det = a * co_a + b * co_b + c * co_c
    upper = {
        (0, 0): co_a, (0, 1): co_b, (0, 2): co_c,
        (1, 1): a * f - c * c, (1, 2): b * c - a * e, (2, 2): a * d - b * b,
    }
    inverse = {key: value / det for key, value in upper.items()}
    return [[inverse[min(i, j), max(i, j)] for j in range(3)] for i in range(3)]
