"""Previews and the layer-separation overlay."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rilievo.domain.layers import layer_alphas
from rilievo.domain.previews import (
    LAYER_TINTS,
    TINT_STRENGTH,
    SeparationOverlay,
    downsample,
    preview_factor,
)


@given(st.integers(1, 30_000), st.integers(1, 30_000), st.integers(64, 2048))
def test_the_preview_factor_is_the_smallest_that_fits(width, height, max_side):
    factor = preview_factor(width, height, max_side)
    assert max(width, height) / factor <= max_side
    assert factor == 1 or max(width, height) / (factor - 1) > max_side


def test_downsampling_averages_blocks():
    image = np.arange(4 * 6, dtype=np.float32).reshape(4, 6, 1)
    small = downsample(image, 2)
    assert small.shape == (2, 3, 1)
    assert small[0, 0, 0] == np.mean([0, 1, 6, 7])


def test_each_layer_gets_its_own_tint_and_the_overlay_keeps_the_image_visible():
    image = np.full((4, 9, 3), 0.5, dtype=np.float32)
    membership = np.repeat(np.array([[0, 0, 0, 1, 1, 1, 2, 2, 2]]), 4, axis=0)
    overlay = SeparationOverlay(image)
    for alpha in layer_alphas(membership, 3, feather_px=0):
        overlay.add(alpha)
    for layer, column in enumerate((1, 4, 7)):
        expected = 0.5 * (1 - TINT_STRENGTH) + np.array(LAYER_TINTS[layer]) * TINT_STRENGTH
        np.testing.assert_allclose(overlay.pixels[2, column], expected, atol=1e-6)


def test_feathered_layers_blend_tints_with_weights_summing_to_one():
    image = np.zeros((8, 40, 3), dtype=np.float32)
    membership = np.repeat((np.arange(40) >= 20).astype(int)[None, :], 8, axis=0)
    overlay = SeparationOverlay(image)
    for alpha in layer_alphas(membership, 2, feather_px=6):
        overlay.add(alpha)
    tints = np.asarray(LAYER_TINTS[:2]) * TINT_STRENGTH
    # On a black image the overlay goes from the front tint to the back tint, monotonically.
    green = overlay.pixels[4, :, 1]
    np.testing.assert_allclose(green[[0, -1]], tints[:, 1], atol=1e-6)
    assert np.all(np.diff(green) >= -1e-6) and 0 < np.count_nonzero(np.diff(green)) < 39
    np.testing.assert_allclose(overlay.uncovered, 0, atol=1e-6)


def test_a_finished_overlay_is_the_outlined_one_and_lets_go_of_its_arrays():
    image = np.random.default_rng(2).random((6, 8, 3)).astype(np.float32)
    labels = np.zeros((6, 8), np.int32)
    labels[:, 4:] = 1
    outlined, finished = SeparationOverlay(image), SeparationOverlay(image)
    for overlay in (outlined, finished):
        overlay.add(np.full((6, 8), 0.5, np.float32))
    outlined.outline(labels)
    np.testing.assert_array_equal(finished.finished(labels), outlined.pixels)
    assert not any(hasattr(finished, name) for name in ("pixels", "image", "uncovered"))
