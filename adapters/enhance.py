"""Optional sharpening for photo mode: unsharp masking plus a little local contrast."""

import cv2
import numpy as np

from rilievo.domain.errors import InvalidParameter
from rilievo.domain.images import REC709_LUMA

_DETAIL_GAIN = 1.0  # classic unsharp mask at full amount
_CLARITY_GAIN = 0.25  # large-radius unsharp mask, kept gentle to avoid halos


class ClassicalEnhancer:
    name = "unsharp"

    def sharpen(self, image: np.ndarray, amount: float) -> np.ndarray:
        """Sharpens an HxWx3 (or HxW) float image in [0,1]; amount 0 returns it unchanged."""
        if not 0.0 <= amount <= 1.0:
            raise InvalidParameter(f"sharpening amount must be between 0 and 1, not {amount}")
        image = np.asarray(image, dtype=np.float32)
        if amount == 0:
            return image.copy()
        luma = image @ REC709_LUMA if image.ndim == 3 else image
        short_side = min(luma.shape)
        detail = luma - _blur(luma, sigma=max(1.0, short_side / 1500))
        local = luma - _blur(luma, sigma=max(4.0, short_side / 40))
        boost = amount * (_DETAIL_GAIN * detail + _CLARITY_GAIN * local)
        # The same change on every channel alters brightness only, never hue.
        sharpened = image + (boost[..., None] if image.ndim == 3 else boost)
        return np.clip(sharpened, 0.0, 1.0, out=sharpened)


def _blur(luma: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; large radii are blurred on a reduced copy, which looks the same and is far faster."""
    factor = int(sigma // 4)
    if factor <= 1:
        return cv2.GaussianBlur(luma, (0, 0), sigma)
    height, width = luma.shape
    small_size = (max(1, width // factor), max(1, height // factor))
    small = cv2.resize(luma, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
