"""The photo an estimator accepts (depth, segmentation), checked the same way by every engine."""

import numpy as np

from rilievo.domain.errors import RilievoError
from rilievo.domain.images import MIN_SIDE_PX


def checked_rgb(image: np.ndarray, failure: type[RilievoError], purpose: str) -> np.ndarray:
    """HxWx3 float32 clipped to [0, 1]; raises `failure` for any other shape, size or dtype, naming the
    `purpose` ("depth", "segmentation") in the size message."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise failure(f"expected an HxWx3 RGB image, got shape {image.shape}")
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE_PX:
        raise failure(f"image is {width}x{height} px; {purpose} needs at least {MIN_SIDE_PX}x{MIN_SIDE_PX} px")
    if not np.issubdtype(image.dtype, np.floating):
        raise failure(f"expected a float image in [0, 1], got {image.dtype}")
    rgb = image.astype(np.float32, copy=False)
    if not np.isfinite(rgb).all():
        raise failure("image contains NaN or infinite values")
    return np.clip(rgb, 0.0, 1.0)
