"""What the web form offers: the choices and numeric ranges, read from the domain's own definitions."""

from __future__ import annotations

from typing import Any

import msgspec

from rilievo.domain import params as domain
from rilievo.domain.params import RenderParams

from rilievo.application.ports import DepthEngines


class NumberRange(msgspec.Struct):
    # plain numbers: `int | float` would make the schema a oneOf that every integer matches twice
    min: float
    max: float | None
    default: float
    integer: bool


class FormOptions(msgspec.Struct):
    modes: list[str]
    styles: list[str]
    layers: list[str | int]
    near: list[str]
    dpis: list[int]
    print_sizes: list[str]  # the presets; any WIDTHxHEIGHT with in, mm or cm is accepted too
    formats: list[str]
    fits: list[str]
    intents: list[str]
    # "auto" (the best installed), "classical" and each installed depth model's key
    depth_engines: list[str]
    prompt_max_chars: int
    variations: NumberRange
    numbers: dict[str, NumberRange]
    defaults: dict[str, Any]


def number_ranges() -> dict[str, NumberRange]:
    defaults = RenderParams().to_dict()
    return {
        name: NumberRange(min=low, max=high, default=defaults[name], integer=integer)
        for name, (low, high, integer) in domain.numeric_ranges().items()
    }


def form_options(engines: DepthEngines | None = None) -> FormOptions:
    """The depth engines offered are those that can run here (without engines: "auto" alone)."""
    fewest, most = domain.VARIATIONS
    return FormOptions(
        modes=list(domain.MODES),
        styles=list(domain.STYLES),
        layers=list(domain.LAYER_CHOICES),
        near=list(domain.NEAR_CONVENTIONS),
        dpis=list(domain.DPIS),
        print_sizes=list(domain.PRINT_SIZES),
        formats=list(domain.FORMATS),
        fits=list(domain.FITS),
        intents=list(domain.INTENTS),
        depth_engines=engines.choices() if engines is not None else [domain.AUTO_DEPTH],
        prompt_max_chars=domain.PROMPT_MAX_CHARS,
        variations=NumberRange(min=fewest, max=most, default=fewest, integer=True),
        numbers=number_ranges(),
        defaults=RenderParams().to_dict(),
    )
