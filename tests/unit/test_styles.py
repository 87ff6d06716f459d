"""Style presets and the painting request built from the render parameters."""

import pytest

from rilievo.domain.params import STYLES, RenderParams
from rilievo.domain.styles import DEFAULT_NEGATIVE_PROMPT, STYLE_PRESETS, PaintRequest


def test_every_style_has_a_preset_named_after_it():
    assert set(STYLE_PRESETS) == set(STYLES)
    assert all(name == preset.name for name, preset in STYLE_PRESETS.items())


@pytest.mark.parametrize("style", STYLES)
def test_each_preset_keeps_its_settings_in_range(style):
    preset = STYLE_PRESETS[style]
    strokes, post = preset.strokes, preset.post
    assert 0 < strokes.smallest_brush <= strokes.largest_brush and strokes.levels >= 1
    assert 0 < strokes.opacity <= 1
    for strength in (post.stroke_texture, post.harmonise, post.soften_edges, post.texture_strength, post.print_crisp):
        assert 0 <= strength <= 1
    assert post.texture in ("canvas", "paper")
    assert preset.negative_prompt == DEFAULT_NEGATIVE_PROMPT


def test_the_request_carries_the_sliders_and_puts_the_users_words_first():
    params = RenderParams(mode="painterly", style="pastel-soft", painterliness=0.3, depth_influence=0.9,
                          brush_scale=5, prompt="  a quiet harbour  ")
    request = PaintRequest.from_params(params)
    assert request.style is STYLE_PRESETS["pastel-soft"]
    assert (request.painterliness, request.depth_influence, request.brush_scale) == (0.3, 0.9, 5)
    assert request.prompt == "a quiet harbour, " + STYLE_PRESETS["pastel-soft"].prompt
    assert PaintRequest.from_params(RenderParams(style="custom")).prompt == "painting"
