"""Blur measured at edges (Zhuo and Sim, "Defocus map estimation from a single image", 2011): an edge
blurred by sigma loses gradient to a further blur of known size in a way that gives sigma back."""

from __future__ import annotations

import cv2
import numpy as np

MAX_BLUR_PX = 6.0  # beyond this the ratio says only "very blurred"
EPS = 1e-6


def edge_blur(gray: np.ndarray, reblur: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of a gray image in [0, 1]: the blur sigma in px where it is an edge (from the
    gradient's ratio before and after blurring by `reblur`), and where the edges are (Canny)."""
    ratio = _gradient(gray) / (_gradient(cv2.GaussianBlur(gray, (0, 0), reblur)) + EPS)
    sigma = np.minimum(reblur / np.sqrt(np.maximum(ratio * ratio - 1.0, 1e-3)), MAX_BLUR_PX)
    edges = cv2.Canny(np.round(gray * 255.0).astype(np.uint8), 10, 30, L2gradient=True) > 0
    return sigma, edges


def _gradient(gray: np.ndarray) -> np.ndarray:
    # Not cv2.magnitude: its result depends on the buffers' memory alignment in the last bit,
    # which would make the estimate non-deterministic.
    gx, gy = cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    return np.sqrt(gx * gx + gy * gy)
