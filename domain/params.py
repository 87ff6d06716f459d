"""Render parameters, their valid ranges and their defaults (from the product spec)."""

from __future__ import annotations

import math
import re
from typing import Any, Literal, Mapping

import attrs

from .errors import InvalidParameter
from .print_layout import DPIS, FITS, ORIGINAL, PRESET_NAMES, parse_print_size

STYLES = ("oil-impressionist", "watercolor-loose", "palette-knife-thick", "pastel-soft", "custom")
MODES = ("photo", "painterly")
NEAR_CONVENTIONS = ("white", "black")
LAYER_COUNTS = (2, 3, 4, 5)
LAYER_CHOICES = ("auto", "off", *LAYER_COUNTS)
VARIATIONS = (1, 3)

# The print sizes offered as choices; any WIDTHxHEIGHT[in|mm|cm] is accepted too (print_layout parses it).
PRINT_SIZES = (ORIGINAL, *PRESET_NAMES)
# composite_full.png (16-bit) is always written; the format chosen is written beside it.
FORMATS = ("png16", "tiff", "tiff16", "cmyk-tiff")
INTENTS = ("perceptual", "relative")  # CMYK rendering intent; relative colorimetric with black-point compensation
PROMPT_MAX_CHARS = 500
PATH_MAX_CHARS = 4096
MIN_INK_LIMIT = 150  # percent: below this a CMYK print cannot reach a useful black
# The depth engine a job asks for: "auto" (the best one installed), "classical", or an installed depth
# model's key; whether that model is installed is checked when the job is submitted.
AUTO_DEPTH, CLASSICAL_DEPTH = "auto", "classical"
ENGINE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

LayerChoice = Literal["auto", "off", 2, 3, 4, 5]


def _fail(name: str, expected: str, value: object) -> InvalidParameter:
    return InvalidParameter(f"{name} must be {expected}, got {value!r}")


def _number_in(low: float, high: float):
    def check(instance: object, attribute: attrs.Attribute, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(attribute.name, f"a number from {low} to {high}", value)
        if not low <= value <= high:
            raise _fail(attribute.name, f"from {low} to {high}", value)

    return check


def _integer_in(low: int, high: int | None):
    def check(instance: object, attribute: attrs.Attribute, value: object) -> None:
        expected = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(attribute.name, expected, value)
        if value < low or (high is not None and value > high):
            raise _fail(attribute.name, expected, value)

    return check


def _text_up_to(limit: int):
    def check(instance: object, attribute: attrs.Attribute, value: object) -> None:
        if not isinstance(value, str) or len(value) > limit:
            raise _fail(attribute.name, f"text of at most {limit} characters", value)

    return check


def _flag(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if not isinstance(value, bool):
        raise _fail(attribute.name, "true or false", value)


def _engine_name(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if not isinstance(value, str) or not ENGINE_NAME.fullmatch(value):
        raise _fail(attribute.name, f"{AUTO_DEPTH}, {CLASSICAL_DEPTH} or a depth model's key such as "
                                    "depth-anything-v2-small", value)


def _one_of(choices: tuple):
    def check(instance: object, attribute: attrs.Attribute, value: object) -> None:
        if isinstance(value, bool) or value not in choices:
            raise _fail(attribute.name, "one of " + ", ".join(map(str, choices)), value)

    return check


def _number_field(default: float, low: float, high: float):
    return attrs.field(default=default, validator=_number_in(low, high),
                       metadata={"range": (low, high), "integer": False})


def _integer_field(default: int, low: int, high: int | None):
    return attrs.field(default=default, validator=_integer_in(low, high),
                       metadata={"range": (low, high), "integer": True})


@attrs.frozen(kw_only=True)
class RenderParams:
    mode: str = attrs.field(default="photo", validator=_one_of(MODES))
    seed: int = _integer_field(42, 0, 2**63 - 1)
    layers: LayerChoice = attrs.field(default="auto", validator=_one_of(LAYER_CHOICES))
    feather: int = _integer_field(2, 0, 10)
    sharpen: float = _number_field(0.0, 0.0, 1.0)
    near: str = attrs.field(default="white", validator=_one_of(NEAR_CONVENTIONS))
    dpi: int = attrs.field(default=300, validator=_one_of(DPIS))
    painterliness: float = _number_field(0.5, 0.2, 0.8)
    depth_influence: float = _number_field(0.6, 0.0, 1.0)
    brush_scale: int = _integer_field(3, 1, 5)
    edition: int = _integer_field(0, 0, 9999)  # print n of a numbered edition varies a little; 0 = none
    style: str = attrs.field(default="oil-impressionist", validator=_one_of(STYLES))
    prompt: str = attrs.field(default="", validator=_text_up_to(PROMPT_MAX_CHARS))
    depth_engine: str = attrs.field(default=AUTO_DEPTH, validator=_engine_name)
    # Print output: the size (a preset, "original" = the photo's own pixels at the DPI, or WIDTHxHEIGHT
    # with in, mm or cm), how the photo fits it, the file format and, for CMYK, the conversion.
    print_size: str = attrs.field(default=ORIGINAL, converter=lambda text: parse_print_size(text).name)
    fit: str = attrs.field(default="crop", validator=_one_of(FITS))
    bleed: bool = attrs.field(default=False, validator=_flag)
    format: str = attrs.field(default="png16", validator=_one_of(FORMATS))
    cmyk_profile: str = attrs.field(default="", validator=_text_up_to(PATH_MAX_CHARS))  # "" = the system's SWOP
    intent: str = attrs.field(default="perceptual", validator=_one_of(INTENTS))
    ink_limit: int = _integer_field(0, 0, 400)  # total ink in percent; 0 = the profile's own
    # The layers as physical panes: edges, fill, printable shapes, print-shop files.
    refine_edges: bool = attrs.field(default=True, validator=_flag)
    fill_behind: bool = attrs.field(default=True, validator=_flag)
    min_feature_mm: float = _number_field(1.5, 0.0, 10.0)
    white_ink: bool = attrs.field(default=True, validator=_flag)
    white_ink_choke: int = _integer_field(0, 0, 3)
    mirror: bool = attrs.field(default=False, validator=_flag)
    marks: bool = attrs.field(default=False, validator=_flag)
    frame_depth_mm: float = _number_field(30.0, 5.0, 200.0)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RenderParams:
        """The one door for untrusted input (CLI flags, JSON bodies): unknown names are refused."""
        known = {field.name for field in attrs.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidParameter(
                f"unknown parameter {unknown[0]!r}; known parameters: {', '.join(sorted(known))}"
            )
        return cls(**values)

    def __attrs_post_init__(self) -> None:
        if self.bleed and self.print_size == ORIGINAL:
            raise InvalidParameter("bleed needs a print size: 'original' prints the photo's own pixels, "
                                   "with nothing to fill a bleed")
        if 0 < self.ink_limit < MIN_INK_LIMIT:
            raise InvalidParameter(f"ink_limit must be 0 (the profile's own) or from {MIN_INK_LIMIT} to 400 "
                                   f"percent, got {self.ink_limit}")

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @property
    def pixel_mm(self) -> float:
        """The size of one pixel on the print: the photo's own pixels at the chosen DPI."""
        return 25.4 / self.dpi

    @property
    def layer_count(self) -> int | None:
        """The requested count, or None for auto; 0 when layers are switched off."""
        if self.layers == "off":
            return 0
        if self.layers == "auto":
            return None
        return int(self.layers)


def numeric_ranges() -> dict[str, tuple[float, float | None, bool]]:
    """Each numeric parameter's (lowest, highest, whole numbers only)."""
    return {
        field.name: (*field.metadata["range"], field.metadata["integer"])
        for field in attrs.fields(RenderParams)
        if "range" in field.metadata
    }


def validate_variations(count: object) -> int:
    low, high = VARIATIONS
    if isinstance(count, bool) or not isinstance(count, int) or not low <= count <= high:
        raise _fail("variations", f"an integer from {low} to {high}", count)
    return count
