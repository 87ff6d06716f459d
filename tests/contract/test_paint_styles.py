"""The four painterly styles differ in the ways a viewer names them: watercolour's soft washes with the
paper's white left in the lights, a palette knife's flat slabs with hard edges, pastel's grainy chalk on
toned paper, oil's directional brushwork. Each style is painted and finished as a render does (the
classical painter, then the style's post-processing) on two of scikit-image's photos, at 320 px; the
measures are scripts/eval_styles.py's."""

import cv2
import numpy as np
import pytest
import skimage.data

from rilievo.domain.styles import STYLE_PRESETS
from scripts.eval_styles import STYLES, fine_energy, flat_share, painted, paper_share, stroke_energy

PHOTOS = ("astronaut", "coffee")
WATERCOLOUR, KNIFE, PASTEL, OIL = "watercolor-loose", "palette-knife-thick", "pastel-soft", "oil-impressionist"


def photo(name, size=320):
    image = getattr(skimage.data, name)().astype(np.float32) / 255
    scale = size / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def paintings():
    out = {}
    for name in PHOTOS:
        image = photo(name)
        depth = np.tile(np.linspace(1, 0, image.shape[0], dtype=np.float32)[:, None], (1, image.shape[1]))
        out[name] = (image, {style: painted(image, depth, style, 0.5, 1) for style in STYLES})
    return out


def test_watercolour_leaves_the_papers_white_in_the_lights(paintings):
    image, styles = paintings["astronaut"]  # a light grey wall behind her
    white = STYLE_PRESETS[WATERCOLOUR].strokes.paper
    shown = {style: paper_share(painting, white) - paper_share(image, white) for style, painting in styles.items()}
    # measured: 0.042 more of the picture is bare paper in watercolour, none more in the others
    assert shown[WATERCOLOUR] > 0.025, shown
    assert all(shown[style] < 0.005 for style in (OIL, KNIFE, PASTEL)), shown


@pytest.mark.parametrize("name", PHOTOS)
def test_watercolour_washes_are_the_softest(name, paintings):
    _, styles = paintings[name]
    fine = {style: fine_energy(painting) for style, painting in styles.items()}
    # measured (over the photo's): watercolour 0.126 / 0.091, the others at least 0.255 / 0.171
    assert all(fine[WATERCOLOUR] < 0.8 * fine[style] for style in (OIL, KNIFE, PASTEL)), fine


@pytest.mark.parametrize("name", PHOTOS)
def test_the_palette_knife_lays_flat_slabs_with_hard_edges(name, paintings):
    _, styles = paintings[name]
    flat = {style: flat_share(painting) for style, painting in styles.items()}
    fine = {style: fine_energy(painting) for style, painting in styles.items()}
    # measured: flat share 0.093 / 0.140 against at most 0.074 / 0.048 (the astronaut's watercolour
    # 0.074 since its granulation; the knife's 0.098 before her face's box moved with the face search);
    # fine energy 0.67 / 0.36 of the photo's against the oil's 0.26 / 0.17 and the watercolour's
    # 0.13 / 0.09: flat inside, steps between
    assert all(flat[KNIFE] > 1.2 * flat[style] for style in (OIL, WATERCOLOUR, PASTEL)), flat
    assert all(fine[KNIFE] > 1.4 * fine[style] for style in (OIL, WATERCOLOUR)), fine


@pytest.mark.parametrize("name", PHOTOS)
def test_pastel_is_grainy_chalk_on_toned_paper(name, paintings):
    _, styles = paintings[name]
    tone = STYLE_PRESETS[PASTEL].strokes.paper
    flat = {style: flat_share(painting) for style, painting in styles.items()}
    fine = {style: fine_energy(painting) for style, painting in styles.items()}
    toned = {style: paper_share(painting, tone) for style, painting in styles.items()}
    # measured: no flat pixel at all (the grain is everywhere), fine energy 0.48 / 0.41 of the photo's
    # against the oil's 0.26 / 0.19, and more of the paper's tone showing than in any other style
    assert flat[PASTEL] < 0.01, flat
    assert fine[PASTEL] > 1.4 * max(fine[OIL], fine[WATERCOLOUR]), fine
    assert all(toned[PASTEL] > toned[style] for style in (OIL, WATERCOLOUR, KNIFE)), toned


@pytest.mark.parametrize("name", PHOTOS)
def test_oil_brushwork_carries_more_oriented_texture_than_washes(name, paintings):
    image, styles = paintings[name]
    radius = 8.0 * max(image.shape[:2]) / 1000
    energy = {style: stroke_energy(painting, radius) for style, painting in styles.items()}
    # measured (over the photo's): oil 0.336 / 0.340, watercolour 0.152 / 0.125
    assert energy[OIL] > 1.2 * energy[WATERCOLOUR], energy
