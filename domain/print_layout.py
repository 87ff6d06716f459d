"""Print sizes and how a photo is laid out on the print: exact pixel sizes, bleed, crop or pad, how far
the photo is enlarged, and where the subject is that a crop is kept on.

Sizes are held in millimetres whatever unit the user wrote. A side in pixels is round(inches * dpi),
half up, so 8x10 at 300 DPI is exactly 2400 x 3000 and A4 is 2480 x 3508, as print shops expect.
Rectangles are whole pixels, (x, y) the top-left corner: the renderer slices the photo with `crop` and
resizes that slice onto `placement` on the canvas, the same two steps for "crop" and "pad".
"""

from __future__ import annotations

import math
import re
from typing import Any

import attrs
import numpy as np

from .errors import InvalidParameter

MM_PER_INCH = 25.4
# params.py imports this module (print_size is parsed here), so these live here and params reuses them.
DPIS = (300, 600)
FITS = ("crop", "pad")
ORIGINAL = "original"
# (width, height) as written, portrait; a print turns to follow its photo.
INCH_PRESETS = {"8x10": (8, 10), "11x14": (11, 14), "16x20": (16, 20), "18x24": (18, 24), "24x36": (24, 36)}
ISO_PRESETS = {"A4": (210, 297), "A3": (297, 420), "A2": (420, 594)}
PRESET_NAMES = (*INCH_PRESETS, *ISO_PRESETS)
# US shops ask for 1/8 in of bleed on every side, metric ones for 3 mm.
BLEED_INCH_MM = 0.125 * MM_PER_INCH
BLEED_METRIC_MM = 3.0
# Below 1 cm a side is a typo, not a print; above 2 m no printer takes it (and 600 DPI is 47,000 px).
MIN_SIDE_MM = 10.0
MAX_SIDE_MM = 2000.0
# Past 4x even a good upscaler invents detail that shows at viewing distance.
MAX_ENLARGEMENT = 4.0
ADVICE_DPI = 300

_UNIT_MM = {"in": MM_PER_INCH, "inch": MM_PER_INCH, "inches": MM_PER_INCH, "mm": 1.0, "cm": 10.0}
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_CUSTOM = re.compile(rf"({_NUMBER})\s*[x×*]\s*({_NUMBER})\s*([a-z]*)", re.IGNORECASE)
_SIZE_HELP = (f"a preset ({', '.join(PRESET_NAMES)}, {ORIGINAL}) or WIDTHxHEIGHT with a unit "
              "(e.g. 12x18in, 30x40cm, 300x400mm; no unit means inches)")


@attrs.frozen
class PrintSize:
    name: str  # what the user sees and params store: "8x10", "A4", "30x40cm", "original"
    width_mm: float | None  # None only for "original": the photo's own pixels decide
    height_mm: float | None
    metric: bool = False  # written in mm, cm or ISO: bleed is 3 mm rather than 1/8 in

    @property
    def is_original(self) -> bool:
        return self.width_mm is None

    @property
    def sides_mm(self) -> tuple[float, float]:
        """(width, height) in mm; "original" has none until a PrintPlan resolves it at a DPI."""
        if self.width_mm is None or self.height_mm is None:
            raise ValueError(f"print size {self.name!r} has no size in mm")
        return self.width_mm, self.height_mm

    @property
    def bleed_mm(self) -> float:
        return BLEED_METRIC_MM if self.metric else BLEED_INCH_MM

    def oriented_for(self, photo_width: int, photo_height: int) -> PrintSize:
        """The print's long side along the photo's long side; a square photo keeps the size as written.
        The name stays the preset's: "8x10" names the paper, either way round."""
        if self.is_original or photo_width == photo_height:
            return self
        width_mm, height_mm = self.sides_mm
        if (photo_width > photo_height) != (width_mm > height_mm):
            return attrs.evolve(self, width_mm=self.height_mm, height_mm=self.width_mm)
        return self


def parse_print_size(text: object) -> PrintSize:
    """User text -> PrintSize. Names are normalised ("a4" -> "A4", "12x18in" -> "12x18", "30 X 40 CM" ->
    "30x40cm"), so parsing a PrintSize's name gives the same PrintSize back."""
    if not isinstance(text, str):
        raise InvalidParameter(f"print_size must be {_SIZE_HELP}, got {text!r}")
    cleaned = text.strip()
    if cleaned.lower() == ORIGINAL:
        return PrintSize(ORIGINAL, None, None)
    if cleaned.upper() in ISO_PRESETS:
        iso_width, iso_height = ISO_PRESETS[cleaned.upper()]
        return PrintSize(cleaned.upper(), float(iso_width), float(iso_height), metric=True)
    match = _CUSTOM.fullmatch(cleaned)
    unit = (match.group(3).lower() or "in") if match else None
    if match is None or unit not in _UNIT_MM:
        raise InvalidParameter(f"print_size must be {_SIZE_HELP}, got {text!r}")
    width, height = float(match.group(1)), float(match.group(2))
    width_mm, height_mm = width * _UNIT_MM[unit], height * _UNIT_MM[unit]
    if min(width_mm, height_mm) <= 0:
        raise InvalidParameter(f"print_size sides must be greater than 0, got {text!r}")
    if min(width_mm, height_mm) < MIN_SIDE_MM:
        raise InvalidParameter(f"print_size sides must be at least {MIN_SIDE_MM:g} mm (about "
                               f"{MIN_SIDE_MM / MM_PER_INCH:.1f} in), got {text!r}")
    if max(width_mm, height_mm) > MAX_SIDE_MM:
        raise InvalidParameter(f"print_size sides must be at most {MAX_SIDE_MM:g} mm (about "
                               f"{MAX_SIDE_MM / MM_PER_INCH:.1f} in; no unit means inches), got {text!r}")
    metric = _UNIT_MM[unit] != MM_PER_INCH
    name = f"{_number(width)}x{_number(height)}{unit if metric else ''}"
    return PrintSize(name, width_mm, height_mm, metric=metric)


def _number(value: float) -> str:
    """Shortest text that parses back to the same float, so names round-trip exactly."""
    return str(int(value)) if value.is_integer() else repr(value)


def pixels(length_mm: float, dpi: int) -> int:
    """round(inches * dpi), half up; the 1e-6 snap keeps 24 in (609.599... mm) at 14400 px at 600 DPI."""
    return math.floor(round(length_mm / MM_PER_INCH * dpi, 6) + 0.5)


@attrs.frozen
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Rows, columns: `photo[rect.slices]` is the part of the photo inside."""
        return slice(self.y, self.y + self.height), slice(self.x, self.x + self.width)

    def to_dict(self) -> dict[str, int]:
        return attrs.asdict(self)


def crop_window(photo: tuple[int, int], target: tuple[int, int],
                point: tuple[float, float] | None = None) -> Rect:
    """The largest window of the photo with the target's aspect (to the nearest pixel), centred on the
    point of interest (photo pixels; clamped into the photo) or on the photo, then moved as little as
    needed to stay inside it: a subject near the edge stays in the print, and no border ever shows."""
    (photo_w, photo_h), (target_w, target_h) = photo, target
    if photo_w * target_h >= photo_h * target_w:  # the photo is wider than the print: use its full height
        width, height = _scaled(photo_h, target_w, target_h, photo_w), photo_h
    else:
        width, height = photo_w, _scaled(photo_w, target_h, target_w, photo_h)
    if point is None:
        centre_x, centre_y = photo_w / 2, photo_h / 2
    else:
        if not all(math.isfinite(v) for v in point):
            raise ValueError(f"the point of interest must be finite, got {point!r}")
        centre_x, centre_y = min(max(point[0], 0.0), photo_w), min(max(point[1], 0.0), photo_h)
    x = min(max(math.floor(centre_x - width / 2 + 0.5), 0), photo_w - width)
    y = min(max(math.floor(centre_y - height / 2 + 0.5), 0), photo_h - height)
    return Rect(x, y, width, height)


def pad_placement(photo: tuple[int, int], area: tuple[int, int]) -> Rect:
    """The largest rectangle with the photo's aspect (to the nearest pixel) centred in the area: all of
    the photo shows, with borders on two opposite sides."""
    (photo_w, photo_h), (area_w, area_h) = photo, area
    if photo_w * area_h >= photo_h * area_w:
        width, height = area_w, _scaled(area_w, photo_h, photo_w, area_h)
    else:
        width, height = _scaled(area_h, photo_w, photo_h, area_w), area_h
    return Rect((area_w - width) // 2, (area_h - height) // 2, width, height)


def _scaled(length: int, numerator: int, denominator: int, limit: int) -> int:
    """round(length * numerator / denominator), half up, in whole numbers (exact), kept in 1..limit."""
    return min(limit, max(1, (2 * length * numerator + denominator) // (2 * denominator)))


@attrs.frozen
class EnlargementAdvice:
    factor: float  # print pixels per photo pixel, along the axis enlarged most
    largest_preset: str | None  # the biggest preset the photo fills at 300 DPI within 4x; None: not even 8x10
    max_size_in: tuple[float, float]  # the photo's own aspect at 4x and 300 DPI, (width, height)

    @property
    def needs_warning(self) -> bool:
        return self.factor > MAX_ENLARGEMENT

    @property
    def warning(self) -> str | None:
        if not self.needs_warning:
            return None
        width, height = (_about(side) for side in self.max_size_in)
        preset = f"largest preset {self.largest_preset}" if self.largest_preset else "smaller than every preset"
        return (f"the print enlarges the photo {self.factor:.1f}x (more than {MAX_ENLARGEMENT:g}x), so fine "
                f"detail will look soft; this photo supports up to about {width} x {height} in at "
                f"{ADVICE_DPI} DPI ({preset})")


def _about(inches: float) -> str:
    return f"{inches:.1f}".removesuffix(".0")


def advise_enlargement(photo: tuple[int, int], factor: float, *, fit: str = "crop") -> EnlargementAdvice:
    """The presets form a chain (each is at least as large as the one before on both sides, by area:
    8x10, A4, 11x14, A3, 16x20, A2, 18x24, 24x36), so the largest one within 4x is well defined."""
    supported = None
    for name in sorted(PRESET_NAMES, key=_preset_area):
        _, _, crop, placement = _layout(photo, parse_print_size(name), ADVICE_DPI, fit, False, None)
        if _enlargement(crop, placement) <= MAX_ENLARGEMENT:
            supported = name
    limit = MAX_ENLARGEMENT / ADVICE_DPI
    return EnlargementAdvice(factor, supported, (photo[0] * limit, photo[1] * limit))


def _preset_area(name: str) -> float:
    width_mm, height_mm = parse_print_size(name).sides_mm
    return width_mm * height_mm


@attrs.frozen(kw_only=True)
class PrintPlan:
    size: PrintSize  # oriented to the photo; "original" resolved to the photo's size at this DPI
    dpi: int
    fit: str
    bleed_px: int  # added on every side of the trim; 0 without bleed
    trim_px: tuple[int, int]  # (width, height) of the print once trimmed
    crop: Rect  # the part of the photo used, in photo pixels
    placement: Rect  # where the crop lands, resized, on the canvas (bleed included); all of it for "crop"
    advice: EnlargementAdvice

    @classmethod
    def for_photo(cls, photo: tuple[int, int], size: PrintSize | str, *, dpi: int = 300, fit: str = "crop",
                  bleed: bool = False, point_of_interest: tuple[float, float] | None = None) -> PrintPlan:
        """photo: (width, height) in pixels. point_of_interest: the nearest subject's centroid in photo
        pixels (from the depth map), where a "crop" is centred; "pad" shows the whole photo anyway."""
        if any(isinstance(side, bool) or not isinstance(side, int) or side < 1 for side in photo):
            raise ValueError(f"the photo size must be two whole numbers >= 1, got {photo!r}")
        size = parse_print_size(size) if isinstance(size, str) else size
        if isinstance(dpi, bool) or dpi not in DPIS:
            raise InvalidParameter(f"dpi must be one of {', '.join(map(str, DPIS))}, got {dpi!r}")
        if fit not in FITS:
            raise InvalidParameter(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
        if not isinstance(bleed, bool):
            raise InvalidParameter(f"bleed must be true or false, got {bleed!r}")
        if size.is_original and bleed:
            raise InvalidParameter("bleed needs a print size: 'original' prints the photo's own pixels, "
                                   "with nothing to fill a bleed")
        oriented, bleed_px, crop, placement = _layout(photo, size, dpi, fit, bleed, point_of_interest)
        if oriented.is_original:
            oriented = attrs.evolve(oriented, width_mm=photo[0] * MM_PER_INCH / dpi,
                                    height_mm=photo[1] * MM_PER_INCH / dpi)
        trim = (pixels(oriented.sides_mm[0], dpi), pixels(oriented.sides_mm[1], dpi))
        advice = advise_enlargement(photo, _enlargement(crop, placement), fit=fit)
        return cls(size=oriented, dpi=dpi, fit=fit, bleed_px=bleed_px, trim_px=trim, crop=crop,
                   placement=placement, advice=advice)

    @property
    def canvas_px(self) -> tuple[int, int]:
        """(width, height) of the output file: the trim plus the bleed on every side."""
        return self.trim_px[0] + 2 * self.bleed_px, self.trim_px[1] + 2 * self.bleed_px

    @property
    def scale(self) -> tuple[float, float]:
        """Print pixels per photo pixel along x and y; the crop's whole pixels make them differ by less
        than one pixel over the crop."""
        return self.placement.width / self.crop.width, self.placement.height / self.crop.height

    def to_dict(self) -> dict[str, Any]:
        width, height = self.trim_px
        return {
            "print_size": self.size.name,
            "width_mm": round(self.size.sides_mm[0], 3),
            "height_mm": round(self.size.sides_mm[1], 3),
            "orientation": "landscape" if width > height else "portrait" if width < height else "square",
            "dpi": self.dpi,
            "fit": self.fit,
            "bleed_mm": round(self.size.bleed_mm, 3) if self.bleed_px else 0.0,
            "bleed_px": self.bleed_px,
            "trim_px": list(self.trim_px),
            "canvas_px": list(self.canvas_px),
            "crop": self.crop.to_dict(),
            "placement": self.placement.to_dict(),
            "scale": [round(axis, 6) for axis in self.scale],
            "enlargement": round(self.advice.factor, 4),
            "largest_preset_at_300dpi": self.advice.largest_preset,
            "max_size_in_at_300dpi": [round(side, 2) for side in self.advice.max_size_in],
            "warning": self.advice.warning,
        }


def _layout(photo: tuple[int, int], size: PrintSize, dpi: int, fit: str, bleed: bool,
            point: tuple[float, float] | None) -> tuple[PrintSize, int, Rect, Rect]:
    """(oriented size, bleed px, crop, placement): the geometry both the plan and the advice use."""
    whole = Rect(0, 0, *photo)
    if size.is_original:
        return size, 0, whole, whole
    oriented = size.oriented_for(*photo)
    trim = (pixels(oriented.sides_mm[0], dpi), pixels(oriented.sides_mm[1], dpi))
    bleed_px = pixels(oriented.bleed_mm, dpi) if bleed else 0
    canvas = (trim[0] + 2 * bleed_px, trim[1] + 2 * bleed_px)
    if fit == "crop":  # the photo fills the bleed too, so a slightly-off cut shows no white edge
        return oriented, bleed_px, crop_window(photo, canvas, point), Rect(0, 0, *canvas)
    inner = pad_placement(photo, trim)  # the whole photo inside the trim, borders out to the bleed
    return oriented, bleed_px, whole, attrs.evolve(inner, x=inner.x + bleed_px, y=inner.y + bleed_px)


NEAREST_SHARE = 10  # percent of the pixels, the nearest, that make "the subject" a crop is kept on


def nearest_subject(depth8: np.ndarray) -> tuple[float, float]:
    """The centre (x, y) of the nearest NEAREST_SHARE percent of the pixels (0 = nearest)."""
    ys, xs = np.nonzero(depth8 <= np.percentile(depth8, NEAREST_SHARE))
    return float(xs.mean()), float(ys.mean())


def _enlargement(crop: Rect, placement: Rect) -> float:
    return max(placement.width / crop.width, placement.height / crop.height)
