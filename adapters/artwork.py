"""Artwork for the print shop: cutting outlines as SVG (OpenCV contours) and the assembly guide
picture (Pillow)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rilievo.domain.assembly import AssemblyGuide
from rilievo.domain.previews import LAYER_TINTS

CUT_STROKE = "#ff0000"  # the usual "cut" colour for laser and vinyl cutters
CUT_STROKE_MM = 0.1  # hairline


class SvgOutlineTracer:
    """The cutting line of a layer: the outlines of alpha >= 0.5, holes included.

    Each outline runs through the centres of the outermost kept pixels (OpenCV's border following),
    so the cut sits half a pixel inside the coloured area on every side (0.04 mm at 300 dpi: well
    within a cutter's kerf). Each piece is one path with its holes; fill-rule evenodd keeps the holes
    holes if a program fills the paths.
    """

    def __init__(self, tolerance_px: float = 0.5):
        # Douglas-Peucker removes the staircase of pixel edges, but never strays more than this.
        self.tolerance_px = tolerance_px

    def svg_outline(self, alpha: np.ndarray, pixel_mm: float, *, title: str) -> str:
        if alpha.ndim != 2:
            raise ValueError(f"alpha must be an HxW array, got shape {alpha.shape}")
        if not pixel_mm > 0:
            raise ValueError(f"pixel_mm must be > 0, got {pixel_mm!r}")
        height, width = alpha.shape
        mask = np.ascontiguousarray(alpha >= 0.5, dtype=np.uint8)
        contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        paths = []
        if hierarchy is not None:
            links = hierarchy[0]
            for index, (_, _, first_child, parent) in enumerate(links):
                if parent != -1:
                    continue
                rings = [contours[index]]
                child = first_child
                while child != -1:
                    rings.append(contours[child])
                    child = links[child][0]
                data = " ".join(filter(None, (self._ring(ring, pixel_mm) for ring in rings)))
                if data:
                    paths.append(data)
        width_mm, height_mm = _mm(width * pixel_mm), _mm(height * pixel_mm)
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width_mm}mm" '
            f'height="{height_mm}mm" viewBox="0 0 {width_mm} {height_mm}">',
            f"  <title>{escape(title)}</title>",
            f'  <g fill="none" stroke="{CUT_STROKE}" stroke-width="{CUT_STROKE_MM}" '
            'fill-rule="evenodd" stroke-linejoin="round">',
            *(f"    <path d={quoteattr(data)}/>" for data in paths),
            "  </g>",
            "</svg>",
            "",
        ]
        return "\n".join(lines)

    def _ring(self, contour: np.ndarray, pixel_mm: float) -> str:
        if self.tolerance_px > 0 and len(contour) > 3:
            contour = cv2.approxPolyDP(contour, self.tolerance_px, closed=True)
        points = contour.reshape(-1, 2)
        if len(points) < 2:  # a lone pixel: nothing a cutter could follow
            return ""
        # Pixel (x, y) covers [x, x + 1) x [y, y + 1) on the print: its centre is at (x + 0.5) pixels.
        mm = (points + 0.5) * pixel_mm
        coordinates = " ".join(f"{_mm(x)},{_mm(y)}" for x, y in mm)
        return f"M{coordinates}Z"


def _mm(value: float) -> str:
    """Millimetres to 0.01 mm, without trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# The guide is drawn at a fixed width; heights follow from the content.
GUIDE_WIDTH = 1600
_PAD = 56
_INK = (34, 34, 40)
_MUTED = (105, 105, 115)
_WARNING = (190, 30, 30)
_PAPER = (255, 255, 255)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


class PillowGuideDrawer:
    """assembly_guide.png: the print size, a side view of the panes with the spacers, and each pane's
    thumbnail in its layer tint, front (the viewer's side) first."""

    def draw(self, guide: AssemblyGuide, thumbnails: list[np.ndarray]) -> np.ndarray:
        if len(thumbnails) != len(guide.panes):
            raise ValueError(f"got {len(thumbnails)} thumbnails for {len(guide.panes)} panes")
        canvas = Image.new("RGB", (GUIDE_WIDTH, 4000), _PAPER)
        draw = ImageDraw.Draw(canvas)
        y = _PAD
        y = self._header(draw, guide, y)
        y = self._side_view(draw, guide, y + 24)
        y = self._thumbnails(canvas, draw, guide, thumbnails, y + 40)
        note = ("Spacers are measured face to face: from the back of one pane to the front of the next. "
                "Print each pane's file at the size above.")
        draw.text((_PAD, y + 24), note, font=_font(20), fill=_MUTED)
        height = y + 24 + 20 + _PAD
        return np.asarray(canvas.crop((0, 0, GUIDE_WIDTH, height)), dtype=np.float32) / 255.0

    def _header(self, draw: ImageDraw.ImageDraw, guide: AssemblyGuide, y: int) -> int:
        draw.text((_PAD, y), "Assembly guide", font=_font(48), fill=_INK)
        y += 70
        size = (
            f"Print size {guide.width_mm:.1f} x {guide.height_mm:.1f} mm "
            f"({guide.width_in:.2f} x {guide.height_in:.2f} in) at {guide.dpi} dpi"
        )
        draw.text((_PAD, y), size, font=_font(30), fill=_INK)
        y += 44
        count = len(guide.panes)
        stack = (
            f"{count} pane{'s' if count != 1 else ''} of {guide.pane_thickness_mm:g} mm in a frame "
            f"{guide.frame_depth_mm:g} mm deep. Pane 1 goes at the front, nearest the viewer."
        )
        draw.text((_PAD, y), stack, font=_font(26), fill=_MUTED)
        y += 40
        if guide.warning:
            draw.text((_PAD, y), f"Warning: {guide.warning}", font=_font(26), fill=_WARNING)
            y += 40
        return y

    def _side_view(self, draw: ImageDraw.ImageDraw, guide: AssemblyGuide, y: int) -> int:
        draw.text((_PAD, y), "Side view", font=_font(30), fill=_INK)
        y += 56
        label_font = _font(22)
        eye_x = _PAD + 40
        left = _PAD + 150  # the front of the frame
        right = GUIDE_WIDTH - _PAD - 20
        fronts = guide.pane_fronts_mm()
        stack_mm = fronts[-1] + guide.pane_thickness_mm
        scale = (right - left) / max(guide.frame_depth_mm, stack_mm)
        pane_top, pane_bottom = y + 40, y + 280
        middle = (pane_top + pane_bottom) // 2

        # The viewer: an eye looking into the frame.
        draw.ellipse((eye_x - 30, middle - 16, eye_x + 30, middle + 16), outline=_INK, width=3)
        draw.ellipse((eye_x - 9, middle - 9, eye_x + 9, middle + 9), fill=_INK)
        _arrow(draw, eye_x + 45, left - 20, middle, _MUTED)
        draw.text((eye_x, pane_bottom + 10), "viewer", font=label_font, fill=_MUTED, anchor="ma")

        frame_right = left + round(guide.frame_depth_mm * scale)
        draw.rectangle((left, pane_top - 16, frame_right, pane_bottom + 16), outline=_MUTED, width=2)
        thickness_px = max(3, round(guide.pane_thickness_mm * scale))
        for order, front_mm in enumerate(fronts, start=1):
            x = left + round(front_mm * scale)
            tint = _tint(order - 1)
            draw.rectangle((x, pane_top, x + thickness_px, pane_bottom), fill=tint, outline=_INK)
            draw.text((x + thickness_px / 2, pane_top - 20), str(order), font=_font(26), fill=_INK,
                      anchor="md")

        # Spacer dimensions below the panes; a label that would run into one already placed goes
        # down a row, so narrow spacers never overlap.
        row_y = pane_bottom + 40
        rows_end: list[float] = []  # per row: where its last label ends
        for index, spacer in enumerate(guide.spacers_rounded_mm()):
            start = left + round(fronts[index] * scale) + thickness_px
            end = left + round(fronts[index + 1] * scale)
            text = f"{spacer:.1f} mm"
            half = draw.textlength(text, font=label_font) / 2 + 6
            centre = (start + end) / 2
            row = next((r for r, last in enumerate(rows_end) if centre - half >= last), len(rows_end))
            if row == len(rows_end):
                rows_end.append(0.0)
            rows_end[row] = centre + half
            line_y = row_y + 44 * row
            _dimension(draw, start, end, line_y)
            draw.text((centre, line_y + 8), text, font=label_font, fill=_INK, anchor="ma")
        total_y = row_y + 44 * max(1, len(rows_end)) + 12
        _dimension(draw, left, frame_right, total_y)
        draw.text(((left + frame_right) / 2, total_y + 8), f"frame depth {guide.frame_depth_mm:g} mm",
                  font=label_font, fill=_MUTED, anchor="ma")
        return total_y + 40

    def _thumbnails(
        self, canvas: Image.Image, draw: ImageDraw.ImageDraw, guide: AssemblyGuide,
        thumbnails: list[np.ndarray], y: int,
    ) -> int:
        draw.text((_PAD, y), "Panes, front to back", font=_font(30), fill=_INK)
        y += 56
        count = len(guide.panes)
        gap = 28
        cell = (GUIDE_WIDTH - 2 * _PAD - (count - 1) * gap) // count
        box_height = min(cell, 360)
        border = 6
        # The figures printed are the manifest's, so the guide and layer_manifest.json agree.
        fronts = [pane["front_face_mm"] for pane in guide.to_manifest()["panes"]]
        for index, (pane, pixels) in enumerate(zip(guide.panes, thumbnails)):
            x = _PAD + index * (cell + gap)
            picture = _thumbnail(pixels, cell - 2 * border, box_height - 2 * border)
            # Centre the picture in its cell, framed in the pane's tint (as in the side view).
            left = x + (cell - picture.width) // 2
            top = y + (box_height - picture.height) // 2
            draw.rectangle((left - border, top - border, left + picture.width + border - 1,
                            top + picture.height + border - 1), fill=_tint(index))
            canvas.paste(picture, (left, top))
            caption_y = y + box_height + 14
            draw.text((x, caption_y), f"{index + 1}. {pane.name}", font=_font(24), fill=_INK)
            lo, hi = pane.depth_range
            draw.text((x, caption_y + 34), f"depth {lo}-{hi} of 255", font=_font(20), fill=_MUTED)
            draw.text((x, caption_y + 62), f"front face at {fronts[index]:.1f} mm", font=_font(20),
                      fill=_MUTED)
        return y + box_height + 14 + 90


def _tint(index: int) -> tuple[int, int, int]:
    return tuple(round(channel * 255) for channel in LAYER_TINTS[index % len(LAYER_TINTS)])


def _thumbnail(pixels: np.ndarray, max_width: int, max_height: int) -> Image.Image:
    """An RGB picture fitting the box; RGBA shows its transparent parts over a checkerboard."""
    pixels = np.clip(np.asarray(pixels, dtype=np.float32), 0.0, 1.0)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    if pixels.shape[2] == 4:
        rows, columns = np.indices(pixels.shape[:2])
        checker = np.where(((rows // 8 + columns // 8) % 2)[..., None] == 0, 0.92, 0.75)
        alpha = pixels[..., 3:4]
        pixels = pixels[..., :3] * alpha + checker * (1.0 - alpha)
    picture = Image.fromarray(np.rint(pixels[..., :3] * 255).astype(np.uint8), "RGB")
    ratio = min(max_width / picture.width, max_height / picture.height)
    size = (max(1, round(picture.width * ratio)), max(1, round(picture.height * ratio)))
    return picture.resize(size, Image.Resampling.LANCZOS)


def _arrow(draw: ImageDraw.ImageDraw, x0: float, x1: float, y: float, colour) -> None:
    draw.line((x0, y, x1, y), fill=colour, width=3)
    draw.polygon([(x1, y), (x1 - 14, y - 8), (x1 - 14, y + 8)], fill=colour)


def _dimension(draw: ImageDraw.ImageDraw, x0: float, x1: float, y: float) -> None:
    """A dimension line with end ticks, as on a technical drawing."""
    draw.line((x0, y, x1, y), fill=_INK, width=2)
    for x in (x0, x1):
        draw.line((x, y - 8, x, y + 8), fill=_INK, width=2)
