"""Images as the rest of Rilievo sees them, whatever file they came from."""

import attrs
import numpy as np


@attrs.frozen(eq=False)
class DecodedImage:
    pixels: np.ndarray  # HxWx3 float32 sRGB in [0,1], upright, alpha already flattened
    bit_depth: int  # 8 or 16, the precision the pixels carry
    format: str  # "JPEG" | "PNG" | "TIFF" | "WEBP"
    width: int
    height: int
    had_alpha: bool
    converted_from: str | None  # name of the ICC profile converted from; None if sRGB or untagged
