"""A depth map the user supplies themselves (a phone's portrait mode, another depth tool)."""

from pathlib import Path

import cv2
import numpy as np

from rilievo.adapters.image_io import PillowImageDecoder
from rilievo.application.ports import SuppliedDepth
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.images import check_depth_fits

# Half the finest step a 16-bit depth map can hold: a smaller spread is resampling noise, not depth.
_FLAT = 0.5 / 65535


class SuppliedDepthReader:
    name = "supplied"

    def __init__(self, decoder: PillowImageDecoder | None = None):
        self.decoder = decoder or PillowImageDecoder()

    def read(self, path: Path, width: int, height: int, near: str) -> SuppliedDepth:
        """HxW float32 depth in [0,1] at width x height: 0 is the nearest point, 1 the farthest; and what
        the user should know about their map.

        Raises ImageRejected for a map whose shape is not the photo's (it would be stretched)."""
        if near not in ("white", "black"):
            raise InvalidParameter(f'near must be "white" or "black", not {near!r}')
        if width < 1 or height < 1:
            raise InvalidParameter(f"depth size must be positive, not {width}x{height}")
        values, unknown = self.decoder.decode_data(Path(path))
        check_depth_fits((width, height), values.shape[::-1])
        warnings = []
        if unknown:
            warnings.append(
                f"the depth map has {unknown} unknown values (NaN or infinite, {unknown / values.size:.1%} of it): "
                "they took the depth of the nearest known pixel"
            )
        depth = _resize(values, width, height)
        depth = 1.0 - depth if near == "white" else depth
        return SuppliedDepth(_stretch(depth), tuple(warnings))


def _resize(values: np.ndarray, width: int, height: int) -> np.ndarray:
    source_height, source_width = values.shape
    if (source_width, source_height) == (width, height):
        return values
    shrinking = width <= source_width and height <= source_height
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    resized = cv2.resize(values, (width, height), interpolation=interpolation)
    return np.clip(resized, 0.0, 1.0)  # cubic overshoots near edges


def _stretch(depth: np.ndarray) -> np.ndarray:
    """Spans [0,1]; a constant map becomes a single plane at 0."""
    low, high = float(depth.min()), float(depth.max())
    if high - low < _FLAT:
        return np.zeros_like(depth, dtype=np.float32)
    return ((depth - low) / (high - low)).astype(np.float32)
