"""What a print shop needs beyond the layer itself: the white underbase, second-surface mirroring, and
crop and registration marks.

Layers are printed on clear glass or acrylic. Colour inks are translucent there, so a layer goes down
over a white underbase (the white-ink mask); printed on the back face of the pane (second surface) it
is mirrored. Marks sit on a transparent margin, at the same place on every layer, so the panes of one
piece line up.
"""

from __future__ import annotations

import math

import numpy as np

# Erosion works through the image in bands of rows, so a print-size alpha (hundreds of megapixels)
# needs only a few band-sized buffers beside the result.
CHOKE_BAND_ROWS = 512

MARKS_MARGIN_MM = 10.0
MARK_LINE_MM = 0.25
MARK_LENGTH_MM = 5.0
# Crop marks stop short of the trim corner, so a cut slightly outside the line never shows them.
CROP_MARK_OFFSET_MM = 3.0
REGISTRATION_RADIUS_MM = 1.5

Patch = tuple[int, int, np.ndarray]  # top, left, bool mask: a mark's pixels on the canvas


def white_ink_mask(alpha: np.ndarray, choke_px: int) -> np.ndarray:
    """HxW float32 in [0, 1]: the white underbase of a layer, its alpha choked (eroded) by choke_px.

    The erosion is a grey-level min filter over a digital disc of radius choke_px + 0.5 (0: the alpha
    itself; 1: a 3x3 square), so the white stays inside the colour and never peeks out past its edges.
    Beyond the image the alpha is taken to continue as it is at the border: the edge of the image is
    the edge of the pane, not an edge of the colour, and a full-bleed layer keeps its white to the edge.
    """
    if alpha.ndim != 2:
        raise ValueError(f"alpha must be an HxW array, got shape {alpha.shape}")
    if isinstance(choke_px, bool) or not isinstance(choke_px, (int, np.integer)) or choke_px < 0:
        raise ValueError(f"choke_px must be a whole number of pixels >= 0, got {choke_px!r}")
    alpha = np.clip(alpha, 0.0, 1.0).astype(np.float32, copy=False)
    radius = int(choke_px)
    if radius == 0:
        return alpha.copy()
    out = np.empty_like(alpha)
    height = alpha.shape[0]
    for top in range(0, height, CHOKE_BAND_ROWS):
        bottom = min(top + CHOKE_BAND_ROWS, height)
        out[top:bottom] = _eroded_band(alpha, top, bottom, radius)
    return out


def _disc_half_widths(radius: int) -> list[int]:
    """For each row offset -r..r of the disc of radius r + 0.5, how far it reaches left and right."""
    limit = radius * (radius + 1)  # dy^2 + dx^2 <= (r + 0.5)^2, in whole numbers
    return [math.isqrt(limit - dy * dy) for dy in range(-radius, radius + 1)]


def _eroded_band(alpha: np.ndarray, top: int, bottom: int, radius: int) -> np.ndarray:
    """Rows top..bottom of the eroded alpha: a min over each disc row, taken as a horizontal min of
    that row's half-width, so radius 3 costs 13 array passes instead of 37."""
    height, width = alpha.shape
    rows = np.clip(np.arange(top - radius, bottom + radius), 0, height - 1)
    padded = np.pad(alpha[rows], ((0, 0), (radius, radius)), mode="edge")
    horizontal = [padded[:, radius : radius + width]]
    for reach in range(1, radius + 1):
        left = padded[:, radius - reach : radius - reach + width]
        right = padded[:, radius + reach : radius + reach + width]
        horizontal.append(np.minimum(horizontal[-1], np.minimum(left, right)))
    band = bottom - top
    half_widths = _disc_half_widths(radius)
    out = horizontal[half_widths[0]][0:band].copy()
    for offset, reach in enumerate(half_widths[1:], start=1):
        np.minimum(out, horizontal[reach][offset : offset + band], out=out)
    return out


def mirrored(pixels: np.ndarray) -> np.ndarray:
    """Left-right flip, for printing on the back face of the pane (second surface)."""
    return np.ascontiguousarray(pixels[:, ::-1])


def marks_margin_px(pixel_mm: float) -> int:
    """The transparent margin, in pixels, that holds the marks at their full size (about 10 mm)."""
    if not pixel_mm > 0:
        raise ValueError(f"pixel_mm must be > 0, got {pixel_mm!r}")
    return math.ceil(MARKS_MARGIN_MM / pixel_mm - 1e-9)


def mark_patches(height: int, width: int, margin_px: int, pixel_mm: float) -> list[Patch]:
    """The marks on the (height + 2 margin) x (width + 2 margin) canvas, as small patches.

    Crop marks continue the four trim lines outward from each corner of the image area; a registration
    mark (circle and cross) sits in the middle of each side's margin. The geometry is laid out in
    continuous canvas coordinates and symmetric about the canvas centre, so the marks of a mirrored
    layer fall exactly where they were. Smaller margins than marks_margin_px shrink the marks to fit;
    the lines stay MARK_LINE_MM thick, in whole pixels (at least one; one more where a line runs along
    a pixel boundary, as the crop marks on the trim lines do).
    """
    if height < 1 or width < 1:
        raise ValueError(f"the image must have at least one pixel, got {width}x{height}")
    if margin_px < 1:
        raise ValueError(f"margin_px must be >= 1, got {margin_px!r}")
    if not pixel_mm > 0:
        raise ValueError(f"pixel_mm must be > 0, got {pixel_mm!r}")
    m = float(margin_px)
    scale = min(1.0, m * pixel_mm / MARKS_MARGIN_MM)
    half_line = max(1, round(MARK_LINE_MM / pixel_mm)) / 2
    offset = CROP_MARK_OFFSET_MM * scale / pixel_mm
    length = MARK_LENGTH_MM * scale / pixel_mm
    arm = length / 2
    radius = REGISTRATION_RADIUS_MM * scale / pixel_mm
    canvas_h, canvas_w = height + 2 * margin_px, width + 2 * margin_px
    left, right, top, bottom = m, m + width, m, m + height  # the trim lines

    patches = []
    for x in (left, right):
        outward = -1 if x == left else 1
        x_near, x_far = x + outward * offset, x + outward * (offset + length)
        for y in (top, bottom):
            downward = -1 if y == top else 1
            y_near, y_far = y + downward * offset, y + downward * (offset + length)
            patches.append(_rectangle(y - half_line, y + half_line, min(x_near, x_far), max(x_near, x_far)))
            patches.append(_rectangle(min(y_near, y_far), max(y_near, y_far), x - half_line, x + half_line))
    centres = [
        (m / 2, canvas_w / 2),
        (canvas_h - m / 2, canvas_w / 2),
        (canvas_h / 2, m / 2),
        (canvas_h / 2, canvas_w - m / 2),
    ]
    for cy, cx in centres:
        patches.append(_rectangle(cy - half_line, cy + half_line, cx - arm, cx + arm))
        patches.append(_rectangle(cy - arm, cy + arm, cx - half_line, cx + half_line))
        patches.append(_ring(cy, cx, radius, half_line))
    image_area = (margin_px, margin_px, margin_px + height, margin_px + width)
    kept = (_outside(_clipped(patch, canvas_h, canvas_w), image_area) for patch in patches)
    return [patch for patch in kept if patch[2].any()]


def _pixel_span(low: float, high: float) -> tuple[int, int]:
    """The first and one-past-last pixel whose centre (i + 0.5) lies in [low, high]."""
    first = math.ceil(low - 0.5 - 1e-9)
    last = math.floor(high - 0.5 + 1e-9)
    return first, max(first, last + 1)


def _rectangle(y0: float, y1: float, x0: float, x1: float) -> Patch:
    (top, bottom), (left, right) = _pixel_span(y0, y1), _pixel_span(x0, x1)
    return top, left, np.ones((bottom - top, right - left), dtype=bool)


def _ring(cy: float, cx: float, radius: float, half_line: float) -> Patch:
    (top, bottom) = _pixel_span(cy - radius - half_line, cy + radius + half_line)
    (left, right) = _pixel_span(cx - radius - half_line, cx + radius + half_line)
    ys = np.arange(top, bottom)[:, None] + 0.5 - cy
    xs = np.arange(left, right)[None, :] + 0.5 - cx
    return top, left, np.abs(np.hypot(ys, xs) - radius) <= half_line + 1e-9


def _clipped(patch: Patch, height: int, width: int) -> Patch:
    top, left, mask = patch
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + mask.shape[0], height), min(left + mask.shape[1], width)
    return y0, x0, mask[y0 - top : max(y0, y1) - top, x0 - left : max(x0, x1) - left]


def _outside(patch: Patch, area: tuple[int, int, int, int]) -> Patch:
    """Marks never cover the image, however small the margin."""
    top, left, mask = patch
    area_top, area_left, area_bottom, area_right = area
    y0, y1 = max(top, area_top), min(top + mask.shape[0], area_bottom)
    x0, x1 = max(left, area_left), min(left + mask.shape[1], area_right)
    if y0 < y1 and x0 < x1:
        mask = mask.copy()
        mask[y0 - top : y1 - top, x0 - left : x1 - left] = False
    return top, left, mask


def with_marks(pixels: np.ndarray, margin_px: int, pixel_mm: float) -> np.ndarray:
    """The layer on a canvas margin_px larger on every side, transparent there, with the marks.

    pixels: HxWx4 RGBA (marks in opaque black) or an HxW ink coverage such as the white-ink mask
    (marks at full coverage, so the white separation registers with the colour). Float or integer
    dtypes; the canvas keeps the dtype. The image area is copied unchanged.
    """
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 4)):
        raise ValueError(f"pixels must be HxWx4 RGBA or an HxW mask, got shape {pixels.shape}")
    height, width = pixels.shape[:2]
    patches = mark_patches(height, width, margin_px, pixel_mm)
    full = np.iinfo(pixels.dtype).max if np.issubdtype(pixels.dtype, np.integer) else 1.0
    canvas = np.zeros((height + 2 * margin_px, width + 2 * margin_px, *pixels.shape[2:]), pixels.dtype)
    canvas[margin_px : margin_px + height, margin_px : margin_px + width] = pixels
    mark = np.array([0, 0, 0, full] if pixels.ndim == 3 else full, dtype=pixels.dtype)
    for top, left, mask in patches:
        region = canvas[top : top + mask.shape[0], left : left + mask.shape[1]]
        region[mask] = mark
    return canvas
