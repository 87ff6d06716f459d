"""Painterly style presets: what each style means to the stroke painter, to the diffusion engine (its
prompts) and to the post-processing, and the painting request built from the render parameters."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import attrs

from .params import RenderParams

DEFAULT_NEGATIVE_PROMPT = "photorealistic, photo, camera, lens"


@attrs.frozen
class StrokeSettings:
    """How the classical painter lays its strokes (sizes are in pixels at a 1000 px long side and
    scale with the image)."""

    largest_brush: float = 16.0
    smallest_brush: float = 2.0
    levels: int = 3  # brush sizes, coarse to fine
    max_length: int = 12  # control points of a curved stroke
    curvature: float = 1.0  # how closely a stroke follows the image's edges (0 = straight)
    opacity: float = 1.0
    jitter: float = 0.05  # random colour jitter per stroke
    edge_darkening: float = 0.0  # watercolour-like pooling at stroke edges
    impasto: float = 0.0  # thickness shading, for palette knife and oil
    chalk: float = 0.0  # up to this share of white mixed into each stroke: pastel's lighter, softer marks
    # the ground: None paints over an underpainting (the photo blurred), a colour starts on bare paper
    # that shows wherever no stroke lands (watercolour's white, pastel's toned sheet)
    paper: tuple[float, float, float] | None = None
    paper_lights: float = 0.0  # with a paper: the photo's luminance above which it is left bare (0: never)
    shape: str = "brush"  # "brush": a curved stroke with round ends; "knife": a flat straight slab, angular ends
    wet_edges: float = 0.0  # watercolour: each wash's outline blurred by this many brush radii, wet into wet
    grain: float = 0.0  # pastel: how much the paper's tooth breaks a stroke (its hollows stay bare)
    bristles: float = 0.0  # oil: grooves the bristles leave in the paint, along the stroke


@attrs.frozen
class PostSettings:
    """The painterly post-processing defaults of a style; each step can be 0 (off)."""

    stroke_texture: float = 0.0  # directional brush-stroke simulation
    harmonise: float = 0.0  # colour harmonisation in LAB, towards the style's palette
    soften_edges: float = 0.0  # selective edge softening, stronger far away
    texture: str = "canvas"  # "canvas" or "paper"
    texture_strength: float = 0.0
    # at print size, how far stroke edges spread by the enlargement are made crisp again (watercolour
    # keeps some of its softness)
    print_crisp: float = 1.0


@attrs.frozen
class StylePreset:
    name: str
    prompt: str
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    strokes: StrokeSettings = StrokeSettings()
    post: PostSettings = PostSettings()
    lora: str | None = None  # a file under models/loras/, for the diffusion engine


@attrs.frozen
class PaintRequest:
    """Everything a painter needs besides the image, its depth and the seed."""

    style: StylePreset
    painterliness: float  # 0.2-0.8: how much of the photo's detail gives way to paint
    depth_influence: float  # 0-1: how much depth changes the brush (and the depth ControlNet weight)
    brush_scale: int  # 1-5
    prompt: str  # the style's prompt, with the user's own text added

    @classmethod
    def from_params(cls, params: RenderParams) -> PaintRequest:
        style = STYLE_PRESETS[params.style]
        prompt = ", ".join(part for part in (params.prompt.strip(), style.prompt) if part)
        return cls(style=style, painterliness=params.painterliness, depth_influence=params.depth_influence,
                   brush_scale=params.brush_scale, prompt=prompt)


# Every name in params.STYLES has an entry; values tuned on test photos (see the painter's tests).
STYLE_PRESETS: Mapping[str, StylePreset] = MappingProxyType({
    "oil-impressionist": StylePreset(
        "oil-impressionist", "impressionist oil painting, visible brush strokes",
        strokes=StrokeSettings(largest_brush=14.0, smallest_brush=3.0, levels=3, max_length=10, curvature=0.8,
                               opacity=1.0, jitter=0.04, impasto=0.6, bristles=0.6),
        post=PostSettings(stroke_texture=0.45, harmonise=0.3, soften_edges=0.3, texture="canvas",
                          texture_strength=0.4),
    ),
    "watercolor-loose": StylePreset(
        "watercolor-loose", "loose watercolor painting, soft washes, paper texture",
        strokes=StrokeSettings(largest_brush=24.0, smallest_brush=6.0, levels=3, max_length=8, curvature=0.6,
                               opacity=0.75, jitter=0.03, edge_darkening=0.7, paper=(0.97, 0.96, 0.93),
                               wet_edges=0.3, paper_lights=0.72),
        post=PostSettings(stroke_texture=0.0, harmonise=0.4, soften_edges=0.3, texture="paper",
                          texture_strength=0.6, print_crisp=0.4),
    ),
    "palette-knife-thick": StylePreset(
        "palette-knife-thick", "thick palette knife oil painting, impasto",
        strokes=StrokeSettings(largest_brush=20.0, smallest_brush=5.0, levels=3, max_length=4, curvature=0.1,
                               opacity=1.0, jitter=0.04, impasto=0.9, shape="knife"),
        post=PostSettings(stroke_texture=0.0, harmonise=0.35, soften_edges=0.0, texture="canvas",
                          texture_strength=0.2),
    ),
    "pastel-soft": StylePreset(
        "pastel-soft", "soft pastel drawing, gentle colours, paper grain",
        strokes=StrokeSettings(largest_brush=10.0, smallest_brush=3.0, levels=3, max_length=10, curvature=0.4,
                               opacity=1.0, jitter=0.05, chalk=0.2, paper=(0.72, 0.66, 0.57), grain=0.9),
        post=PostSettings(stroke_texture=0.0, harmonise=0.4, soften_edges=0.2, texture="paper",
                          texture_strength=0.6),
    ),
    "custom": StylePreset(
        "custom", "painting",
        post=PostSettings(stroke_texture=0.25, harmonise=0.2, soften_edges=0.25, texture="canvas",
                          texture_strength=0.25),
    ),
})
