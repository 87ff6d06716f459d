"""Images as the rest of Rilievo sees them, whatever file they came from."""

import attrs
import numpy as np

from .errors import ImageRejected
from .previews import PREVIEW_MAX_SIDE, preview_factor

# The smallest side a photo may have: depth estimation needs 8 px on each side. The previews shrink
# both sides by one whole factor, so the short side must also be at least 1/PREVIEW_MAX_SIDE of the long.
MIN_SIDE_PX = 8
# A supplied depth map may be any size, but it must have the photo's shape: its sides may be off the
# photo's, scaled, by this many of its own pixels (rounding when it was resized) ...
DEPTH_ROUNDING_PX = 1.0
# ... or its aspect ratio by this share (a depth tool that pads or rounds to a multiple of 14 px).
DEPTH_ASPECT_TOLERANCE = 0.01
# Luminance from sRGB values, Rec. 709 weights (float32, so a product keeps the image's dtype).
REC709_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
REC709_LUMA.flags.writeable = False


@attrs.frozen(eq=False)
class DecodedImage:
    pixels: np.ndarray  # HxWx3 float32 sRGB in [0,1], upright, alpha already flattened
    bit_depth: int  # 8 or 16, the precision the pixels carry
    format: str  # "JPEG" | "PNG" | "TIFF" | "WEBP"
    width: int
    height: int
    had_alpha: bool
    # what the colours were converted from to sRGB (an ICC profile's name, a PNG's gAMA/cHRM); None if
    # sRGB or untagged
    converted_from: str | None


def size_problem(width: int, height: int) -> str | None:
    """Why Rilievo cannot process a picture of this size ("WxH px, too small: ..."), or None."""
    short, long = sorted((width, height))
    need = max(MIN_SIDE_PX, preview_factor(width, height))
    if short >= need:
        return None
    if need == MIN_SIDE_PX:
        return f"{width}x{height} px, too small: Rilievo needs at least {MIN_SIDE_PX} px on each side"
    return (f"{width}x{height} px, too narrow: with a side of {long} px the other needs at least {need} px "
            f"(1/{PREVIEW_MAX_SIDE} of it)")


def check_depth_fits(photo: tuple[int, int], depth: tuple[int, int]) -> None:
    """Refuses a depth map (width, height) whose shape is not the photo's: it would be stretched."""
    (photo_w, photo_h), (depth_w, depth_h) = photo, depth
    # The scales at which each of the depth map's sides matches the photo's, give or take the rounding.
    low = max((depth_w - DEPTH_ROUNDING_PX) / photo_w, (depth_h - DEPTH_ROUNDING_PX) / photo_h)
    high = min((depth_w + DEPTH_ROUNDING_PX) / photo_w, (depth_h + DEPTH_ROUNDING_PX) / photo_h)
    aspect_off = abs((depth_w / depth_h) / (photo_w / photo_h) - 1.0)
    if low <= high or aspect_off <= DEPTH_ASPECT_TOLERANCE:
        return
    turned = " (it is turned a quarter turn)" if abs((depth_h / depth_w) / (photo_w / photo_h) - 1.0) <= (
        DEPTH_ASPECT_TOLERANCE) else ""
    raise ImageRejected(
        f"the depth map is {depth_w}x{depth_h} px and the photo {photo_w}x{photo_h} px: their shapes differ"
        f"{turned}, so the depth would be stretched; rotate or crop the depth map to the photo's shape"
    )


def per_pixel(operation: np.ufunc, colours: np.ndarray, weight: np.ndarray, out: np.ndarray | None = None
              ) -> np.ndarray:
    """operation(colours, weight[..., None]) for colours HxWxC and one weight per pixel (HxW), into out
    (a new array if None; colours itself will do). The same numbers, made a channel at a time: numpy
    broadcasting a weight over the last axis runs its inner loop over one pixel's C values, four to
    five times slower on a band of a 12 MP photo."""
    if out is None:
        out = np.empty(colours.shape, np.result_type(colours, weight))
    for channel in range(colours.shape[-1]):
        operation(colours[..., channel], weight, out=out[..., channel])
    return out


def pixel_items(values: np.ndarray) -> np.ndarray:
    """An ...xC array, contiguous along its last axis, viewed as one item of C values per pixel (the
    last axis gone): numpy gathers and scatters those by a mask about ten times faster than runs of
    C values."""
    return values.view(np.dtype((np.void, values.shape[-1] * values.itemsize)))[..., 0]
