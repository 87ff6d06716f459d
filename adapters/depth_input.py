"""The photo a depth engine accepts, checked the same way by the classical and the learned engine."""

import numpy as np

from rilievo.domain.errors import DepthEstimationFailed
from rilievo.domain.images import MIN_SIDE_PX


def checked_rgb(image: np.ndarray) -> np.ndarray:
    """HxWx3 float32 clipped to [0, 1]; raises DepthEstimationFailed for any other shape, size or dtype."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise DepthEstimationFailed(f"expected an HxWx3 RGB image, got shape {image.shape}")
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE_PX:
        raise DepthEstimationFailed(
            f"image is {width}x{height} px; depth needs at least {MIN_SIDE_PX}x{MIN_SIDE_PX} px"
        )
    if not np.issubdtype(image.dtype, np.floating):
        raise DepthEstimationFailed(f"expected a float image in [0, 1], got {image.dtype}")
    rgb = image.astype(np.float32, copy=False)
    if not np.isfinite(rgb).all():
        raise DepthEstimationFailed("image contains NaN or infinite values")
    return np.clip(rgb, 0.0, 1.0)
