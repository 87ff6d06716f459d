"""The photo an estimator accepts (depth, segmentation), checked the same way by every engine."""

import numpy as np

from rilievo.domain.errors import RilievoError
from rilievo.domain.images import MIN_SIDE_PX


def checked_rgb(image: np.ndarray, failure: type[RilievoError], purpose: str) -> np.ndarray:
    """HxWx3 float32 clipped to [0, 1]; raises `failure` for any other shape, size or dtype, naming the
    `purpose` ("depth", "segmentation") in the size message. A float32 photo already in [0, 1] (what
    the decoder gives) comes back as a read-only view of itself: at 12 MP a copy is 137 MB."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise failure(f"expected an HxWx3 RGB image, got shape {image.shape}")
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE_PX:
        raise failure(f"image is {width}x{height} px; {purpose} needs at least {MIN_SIDE_PX}x{MIN_SIDE_PX} px")
    if not np.issubdtype(image.dtype, np.floating):
        raise failure(f"expected a float image in [0, 1], got {image.dtype}")
    rgb = image.astype(np.float32, copy=False)
    lowest, highest = rgb.min(), rgb.max()  # NaN if any value is, and no photo-size temporary
    if not (np.isfinite(lowest) and np.isfinite(highest)):
        raise failure("image contains NaN or infinite values")
    if lowest < 0.0 or highest > 1.0:
        return np.clip(rgb, 0.0, 1.0)
    unchanged = rgb.view()
    unchanged.flags.writeable = False
    return unchanged
