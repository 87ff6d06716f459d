"""Properties of filling behind and of the feather's reach (pure numpy)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rilievo.domain.fill import Boxed, FilledColours, box_around, fill_reach_px, filled_alpha, visibility
from rilievo.domain.layers import LayerPlan, layer_alphas, layer_rgba, stack_over

depth_maps = arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.integers(0, 255))
counts = st.sampled_from([2, 3, 4, 5])
feathers = st.integers(0, 10)


def alphas_of(depth8, count, feather):
    plan = LayerPlan.from_depth(depth8, count)
    return list(layer_alphas(plan.membership(depth8), plan.count, feather))


@settings(max_examples=80)
@given(depth_maps, counts, feathers, st.integers(0, 2**32 - 1), st.sampled_from([8, 16]))
def test_filling_every_hidden_pixel_leaves_the_straight_on_stack_unchanged(depth8, count, feather, seed, bits):
    rng = np.random.default_rng(seed)
    image = rng.random(depth8.shape + (3,), dtype=np.float32)
    alphas = alphas_of(depth8, count, feather)
    filled_layers = []
    for alpha, seen in visibility(alphas):
        hidden = seen == 0
        noise = rng.random(image.shape, dtype=np.float32)  # any colour at all may go there
        colours = np.where(hidden[..., None], noise, image)
        filled_layers.append(layer_rgba(colours, filled_alpha(alpha, seen, hidden)))
    scale = 2**bits - 1
    quantised = [np.round(layer * scale) / scale for layer in filled_layers]
    assert np.abs(stack_over(quantised) - np.round(image * scale) / scale).max() <= 1 / 255


@given(depth_maps, counts, feathers)
def test_fill_changes_only_pixels_the_nearer_layers_cover_fully(depth8, count, feather):
    alphas = alphas_of(depth8, count, feather)
    for alpha, seen in visibility(alphas):
        everywhere = np.ones(depth8.shape, dtype=bool)
        if np.any(seen > 0):
            with pytest.raises(ValueError):
                filled_alpha(alpha, seen, everywhere)
        filled = filled_alpha(alpha, seen, seen == 0)
        assert not np.any((filled != alpha) & (seen > 0))


@given(depth_maps, counts, feathers)
def test_filling_in_place_changes_neither_the_alphas_nor_what_the_next_layers_see(depth8, count, feather):
    """The panes fill each alpha in place as visibility hands it over: the layers behind see the same."""
    alphas = alphas_of(depth8, count, feather)
    copied = [(filled_alpha(alpha, seen, seen == 0), seen.copy()) for alpha, seen in visibility(alphas)]
    in_place = []
    for alpha, seen in visibility([alpha.copy() for alpha in alphas]):
        filled = filled_alpha(alpha, seen, seen == 0, in_place=True)
        assert filled is alpha
        in_place.append((filled, seen.copy()))
    for (alpha, seen), (alpha_in_place, seen_in_place) in zip(copied, in_place, strict=True):
        np.testing.assert_array_equal(alpha_in_place, alpha)
        np.testing.assert_array_equal(seen_in_place, seen)


def test_the_back_layer_s_alpha_is_an_opaque_constant_that_filling_in_place_leaves_as_it_is():
    membership = np.repeat(np.array([[0, 0, 1, 1, 2, 2]], dtype=np.uint8), 4, axis=0)
    *_, (back, seen) = visibility(layer_alphas(membership, 3, 1))
    assert back.strides == (0, 0) and back.shape == membership.shape and np.all(back == 1)
    assert filled_alpha(back, seen, seen == 0, in_place=True) is back


def test_the_front_layer_hides_nothing_and_the_back_layer_is_hidden_behind_opaque_fronts():
    membership = np.repeat(np.array([[0, 0, 0, 0, 1, 1, 1, 1]], dtype=np.uint8), 3, axis=0)
    alphas = list(layer_alphas(membership, 2, 0))
    (_, front), (_, back) = visibility(alphas)
    assert np.all(front == 1)
    np.testing.assert_array_equal(back == 0, membership == 0)


@given(feathers, st.integers(12, 40))
def test_an_edge_is_feathered_over_at_most_the_feather_radius(feather, edge):
    width = 60
    membership = np.repeat((np.arange(width) >= edge).astype(np.uint8)[None, :], 4, axis=0)
    front, _ = layer_alphas(membership, 2, feather)
    row = front[1]
    soft = np.flatnonzero((row > 0) & (row < 1))
    if soft.size:
        assert soft.min() >= edge - feather - 1 and soft.max() <= edge + feather
    assert np.all(row[: max(edge - feather - 1, 0)] == 1) and np.all(row[edge + feather + 1 :] == 0)


def test_the_fill_reach_is_the_sideways_shift_at_the_viewing_angle():
    assert fill_reach_px(10.0, 0.1, view_angle_deg=45) == pytest.approx(100.0)
    assert fill_reach_px(0.0, 0.1) == 0


@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_filled_colours_give_any_run_of_rows_of_the_image_with_the_fill_s_colours_on_it(height, width, seed):
    """FilledColours keeps only the fill's colours; any rows it gives equal those of the whole filled image."""
    rng = np.random.default_rng(seed)
    image = rng.random((height, width, 3), dtype=np.float32)
    filled = rng.random((height, width)) < 0.4
    colours = rng.random((int(filled.sum()), 3), dtype=np.float32)
    whole = image.copy()
    whole[filled] = colours
    layer = FilledColours(image, filled, colours)
    first, last = sorted(rng.integers(0, height + 1, 2))
    left, right = sorted(rng.integers(0, width + 1, 2))
    np.testing.assert_array_equal(layer[first:last], whole[first:last])
    np.testing.assert_array_equal(layer[first:last, 1:], whole[first:last, 1:])
    np.testing.assert_array_equal(layer[first:last, left:right], whole[first:last, left:right])
    np.testing.assert_array_equal(layer[:], whole)


def test_filled_colours_refuse_a_count_that_is_not_the_filled_pixels():
    filled = np.zeros((4, 5), bool)
    filled[1, 2] = True
    with pytest.raises(ValueError, match="2 fill colours for 1 filled pixels"):
        FilledColours(np.zeros((4, 5, 3), np.float32), filled, np.zeros((2, 3), np.float32))


def test_a_boxed_array_gives_every_run_of_rows_and_columns_as_the_whole_array_does():
    rng = np.random.default_rng(5)
    array = np.zeros((30, 40), np.float32)
    array[7:19, 11:33] = rng.random((12, 22), dtype=np.float32)
    boxed = Boxed(array, box_around(array > 0))
    assert boxed.inside.shape == (12, 22)
    for rows, columns in [(slice(0, 30), slice(0, 40)), (slice(0, 8), slice(30, 40)), (slice(18, 25), slice(0, 12)),
                          (slice(20, 30), slice(None)), (slice(9, 10), slice(12, 13))]:
        np.testing.assert_array_equal(boxed[rows, columns], array[rows, columns])
    np.testing.assert_array_equal(boxed[3:17], array[3:17])
    np.testing.assert_array_equal(boxed.count_per_row(), np.count_nonzero(array, axis=1))
    assert Boxed(array, box_around(np.zeros((30, 40), bool)))[0:30].sum() == 0


def test_filled_colours_are_the_same_from_a_boxed_fill_mask():
    rng = np.random.default_rng(6)
    image = rng.random((20, 30, 3), dtype=np.float32)
    filled = np.zeros((20, 30), bool)
    filled[5:12, 8:20] = rng.random((7, 12)) > 0.4
    colours = rng.random((np.count_nonzero(filled), 3), dtype=np.float32)
    whole, boxed = FilledColours(image, filled, colours), FilledColours(image, Boxed(filled, box_around(filled)), colours)
    for key in (slice(0, 20), slice(6, 9), (slice(4, 13), slice(10, 25))):
        np.testing.assert_array_equal(boxed[key], whole[key])


def test_between_two_layers_the_alphas_hold_nothing_but_the_layer_handed_out():
    """The blur's tail for the next layer is made again, not held through the layer's work (its fill):
    held, it was a third photo-size map beside the alpha and the visibility, 48 MB at 12 MP."""
    import tracemalloc

    membership = np.zeros((400, 500), np.uint8)
    membership[:, 150:] = 1
    membership[100:300, 300:] = 2
    membership[:, 450:] = 3
    whole = list(layer_alphas(membership, 4, 3.0))
    tracemalloc.start()
    alphas = layer_alphas(membership, 4, 3.0)
    for index in range(3):
        alpha = next(alphas)
        held = tracemalloc.get_traced_memory()[0]
        np.testing.assert_array_equal(alpha, whole[index])
        assert held < 1.5 * alpha.nbytes, f"layer {index}: {held} bytes held for an alpha of {alpha.nbytes}"
        del alpha
    tracemalloc.stop()
