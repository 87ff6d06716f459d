"""Properties of the layer plan and its alpha math (pure numpy, no I/O)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rilievo.domain.errors import InvalidParameter
from rilievo.domain.layers import (
    DepthRange,
    LayerPlan,
    blur,
    layer_alphas,
    layer_name,
    layer_rgba,
    quantize_depth,
    shortfall,
    smoothed,
    stack_over,
)

depth_maps = arrays(
    np.uint8,
    st.tuples(st.integers(1, 24), st.integers(1, 24)),
    elements=st.integers(0, 255),
)
counts = st.sampled_from([2, 3, 4, 5])
feathers = st.integers(0, 10)


def clustered_depth(levels, size=(60, 90), noise=6, seed=0):
    rng = np.random.default_rng(seed)
    depth = np.zeros(size, dtype=np.int32)
    columns = np.array_split(np.arange(size[1]), len(levels))
    for level, cols in zip(levels, columns):
        depth[:, cols] = level
    return np.clip(depth + rng.integers(-noise, noise + 1, size), 0, 255).astype(np.uint8)


@given(depth_maps, counts)
def test_ranges_are_ordered_contiguous_and_cover_every_level(depth8, count):
    """The ranges tile 0..255 in order, without gaps or overlaps, each at least one level wide."""
    plan = LayerPlan.from_depth(depth8, count)
    assert plan.count == (1 if np.ptp(depth8) == 0 else count)
    assert plan.ranges[0].lo == 0 and plan.ranges[-1].hi == 255
    for before, after in zip(plan.ranges, plan.ranges[1:]):
        assert after.lo == before.hi + 1
    assert all(r.lo <= r.hi for r in plan.ranges)


@given(depth_maps, counts)
def test_every_pixel_belongs_to_exactly_the_range_holding_its_depth(depth8, count):
    """Membership is the one range that contains the pixel's depth; coverage counts those pixels."""
    plan = LayerPlan.from_depth(depth8, count)
    membership = plan.membership(depth8)
    for index, depth_range in enumerate(plan.ranges):
        inside = (depth8 >= depth_range.lo) & (depth8 <= depth_range.hi)
        np.testing.assert_array_equal(membership == index, inside)
        assert plan.coverage[index] == inside.mean()
    assert abs(sum(plan.coverage) - 1.0) < 1e-9


@given(depth_maps, counts | st.none())
def test_the_same_depth_gives_the_same_plan(depth8, count):
    """Planning is a pure function of the depth map and the count."""
    assert LayerPlan.from_depth(depth8.copy(), count) == LayerPlan.from_depth(depth8, count)


@settings(max_examples=60)
@given(depth_maps, counts, feathers, st.integers(0, 2**32 - 1), st.sampled_from([8, 16]))
def test_stacking_the_layers_reproduces_the_composite(depth8, count, feather, seed, bits):
    """Layers quantised as the PNG writer stores them, stacked back to front, give the composite within 1/255."""
    image = np.random.default_rng(seed).random(depth8.shape + (3,), dtype=np.float32)
    plan = LayerPlan.from_depth(depth8, count)
    scale = 2**bits - 1
    layers = [
        np.round(layer_rgba(image, alpha) * scale) / scale
        for alpha in layer_alphas(plan.membership(depth8), plan.count, feather)
    ]
    assert len(layers) == plan.count
    composite = np.round(image * scale) / scale
    assert np.abs(stack_over(layers) - composite).max() <= 1 / 255


@given(depth_maps, counts, feathers)
def test_alpha_stays_in_range_and_the_back_layer_is_opaque(depth8, count, feather):
    """Every alpha is in [0, 1]; the back pane has no holes."""
    plan = LayerPlan.from_depth(depth8, count)
    alphas = list(layer_alphas(plan.membership(depth8), plan.count, feather))
    for alpha in alphas:
        assert alpha.dtype == np.float32
        assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert (alphas[-1] == 1.0).all()


@given(depth_maps, counts, feathers)
def test_each_layer_shows_with_the_weight_of_its_blurred_mask(depth8, count, feather):
    """Seen through the panes in front of it, layer i shows exactly blur(its own mask); the weights sum to 1."""
    plan = LayerPlan.from_depth(depth8, count)
    membership = plan.membership(depth8)
    through = np.ones(depth8.shape, dtype=np.float64)
    total = np.zeros(depth8.shape, dtype=np.float64)
    for index, alpha in enumerate(layer_alphas(membership, plan.count, feather)):
        visible = alpha * through
        expected = blur((membership == index).astype(np.float32), feather)
        np.testing.assert_allclose(visible, expected, atol=1e-4)
        total += visible
        through *= 1.0 - alpha
    np.testing.assert_allclose(total, 1.0, atol=1e-4)


@given(depth_maps, counts)
def test_without_feather_each_pixel_is_visible_in_its_own_layer_only(depth8, count):
    """Feather 0 gives hard masks: each pane but the (opaque) back one is exactly its own pixels."""
    plan = LayerPlan.from_depth(depth8, count)
    membership = plan.membership(depth8)
    alphas = list(layer_alphas(membership, plan.count, 0))
    for index, alpha in enumerate(alphas[:-1]):
        np.testing.assert_array_equal(alpha, (membership == index).astype(np.float32))


@given(depth_maps, counts, st.lists(st.integers(0, 4), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_dropping_the_panes_no_pixel_is_on_keeps_every_pixel_and_region_in_front_to_back_order(
        depth8, count, emptied, seed):
    """Whatever panes a later step empties, the plan without them has one pane per pane still used, each
    pixel on the same pane as before counted among them, and every region placed whole on a pane it has."""
    plan = LayerPlan.from_depth(depth8, count)
    membership = plan.membership(depth8)
    plan = LayerPlan(ranges=plan.ranges, coverage=plan.coverage,
                     region_panes=tuple(np.random.default_rng(seed).integers(0, plan.count, 6).tolist()),
                     region_cuts=((),) * 6)
    emptied = [pane for pane in emptied if pane < plan.count]
    used_elsewhere = np.isin(membership, emptied)
    remaining = [pane for pane in range(plan.count) if pane not in emptied and (membership == pane).any()]
    if not remaining:
        return
    membership[used_elsewhere] = remaining[0]  # a merge moved them to a pane still in use
    kept, renumbered = plan.without_empty_panes(membership)
    used = np.unique(membership)
    assert kept.count == used.size and np.array_equal(np.unique(renumbered), np.arange(kept.count))
    assert np.array_equal(renumbered, np.searchsorted(used, membership))
    assert kept.ranges[0].lo == 0 and kept.ranges[-1].hi == 255
    assert all(after.lo == before.hi + 1 for before, after in zip(kept.ranges, kept.ranges[1:]))
    assert all(0 <= pane < kept.count for pane in kept.region_panes)


def test_three_separated_depth_clusters_give_three_layers_split_in_the_valleys():
    depth8 = clustered_depth([30, 128, 220])
    plan = LayerPlan.from_depth(depth8)
    assert plan.count == 3
    assert [r.hi for r in plan.ranges[:2]] == [(36 + 122) // 2, (134 + 214) // 2]
    membership = plan.membership(depth8)
    for index, cols in enumerate(np.array_split(np.arange(90), 3)):
        assert (membership[:, cols] == index).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(0, 2**32 - 1))
def test_auto_finds_as_many_layers_as_the_scene_has_planes(planes, seed):
    """Planes at well separated depths (at least 40 levels apart, noise +-6) give one layer each."""
    rng = np.random.default_rng(seed)
    gaps = rng.integers(40, 60, size=planes - 1)
    start = int(rng.integers(10, 255 - 10 - int(gaps.sum()) + 1))
    levels = [start, *(start + np.cumsum(gaps))]
    plan = LayerPlan.from_depth(clustered_depth(levels, seed=seed))
    assert plan.count == planes


def test_two_clusters_give_two_layers_and_a_user_count_is_honoured():
    depth8 = clustered_depth([40, 200])
    assert LayerPlan.from_depth(depth8).count == 2
    assert LayerPlan.from_depth(depth8, 4).count == 4


def test_auto_never_leaves_a_pane_almost_empty():
    depth8 = clustered_depth([30, 128, 220], size=(100, 100))
    depth8[:1, :1] = 0  # a speck far from the rest must not get its own layer
    plan = LayerPlan.from_depth(depth8)
    assert min(plan.coverage) >= 0.02


@given(depth_maps, counts | st.none())
def test_auto_never_makes_a_layer_under_2_percent(depth8, count):
    """Auto leaves no pane almost empty, down to a single pane; any flat map is one pane."""
    plan = LayerPlan.from_depth(depth8, count)
    if count is None:
        assert min(plan.coverage) >= 0.02
    if np.ptp(depth8) == 0:
        assert plan == LayerPlan.single()


@pytest.mark.parametrize("count", [None, 2, 5])
@pytest.mark.parametrize("size", [(1, 1), (8, 8), (300, 200)])
def test_a_flat_depth_map_is_one_opaque_pane_and_the_shortfall_says_so(size, count):
    depth8 = np.full(size, 77, dtype=np.uint8)
    plan = LayerPlan.from_depth(depth8, count)
    assert plan.ranges == (DepthRange(0, 255),) and plan.coverage == (1.0,)
    assert plan.layer_names() == ["Layer_1_back"]
    (alpha,) = layer_alphas(plan.membership(depth8), plan.count, 2)
    assert (alpha == 1).all()
    asked = "auto's 2-5" if count is None else str(count)
    assert shortfall(depth8, plan, count) == (
        f"the depth map is flat (one depth everywhere), so the picture is one layer instead of {asked}")


def test_auto_gives_one_pane_when_the_only_other_plane_is_a_speck():
    depth8 = np.full((100, 100), 120, dtype=np.uint8)
    depth8[:1, :5] = 10  # 0.05 % of the picture
    plan = LayerPlan.from_depth(depth8)
    assert plan.count == 1
    assert "covers 2% of the picture" in shortfall(depth8, plan, None)
    assert LayerPlan.from_depth(depth8, 2).count == 2  # asked for: split anyway
    assert shortfall(depth8, LayerPlan.from_depth(depth8, 2), 2) is None


def test_an_unknown_layer_count_is_refused_with_the_choices():
    with pytest.raises(InvalidParameter, match="layer count must be one of 2, 3, 4, 5, got 7"):
        LayerPlan.from_depth(np.zeros((8, 8), np.uint8), 7)


def test_layer_names_run_front_to_back():
    assert [layer_name(order, 4) for order in range(1, 5)] == [
        "Layer_1_front", "Layer_2_mid", "Layer_3_mid", "Layer_4_back"]
    assert [layer_name(order, 2) for order in (1, 2)] == ["Layer_1_front", "Layer_2_back"]


def test_the_manifest_describes_each_layer():
    depth8 = clustered_depth([30, 220])
    plan = LayerPlan.from_depth(depth8)
    manifest = plan.manifest(job_id="abc", feather_px=2, width=90, height=60)
    assert manifest["layer_count"] == 2
    assert manifest["depth_convention"] == "0 = nearest, 255 = farthest"
    assert [layer["name"] for layer in manifest["layers"]] == ["Layer_1_front", "Layer_2_back"]
    assert manifest["layers"][0]["depth_range"][0] == 0
    assert manifest["layers"][1]["depth_range"][1] == 255
    assert abs(sum(layer["coverage"] for layer in manifest["layers"]) - 1) < 1e-5


@given(arrays(np.float32, (5, 7), elements=st.floats(-1, 2, width=32)))
def test_quantized_depth_uses_the_full_0_255_scale(depth):
    """Depth in [0, 1] maps onto 0..255; values outside are clipped."""
    depth8 = quantize_depth(depth)
    assert depth8.dtype == np.uint8
    np.testing.assert_array_equal(depth8, np.rint(np.clip(depth, 0, 1) * 255))


@given(arrays(np.float32, (9, 11), elements=st.floats(0, 1, width=32)), feathers)
def test_blur_keeps_constants_and_the_mean_range(mask, feather):
    """The feather blur is a normalised average: it never leaves [min, max] of its input."""
    blurred = blur(mask, feather)
    assert blurred.min() >= mask.min() - 1e-5 and blurred.max() <= mask.max() + 1e-5
    np.testing.assert_allclose(blur(np.ones_like(mask), feather), 1.0, atol=1e-6)


@pytest.mark.parametrize("feather", [0.5, 2, 2.5, 6])
def test_a_true_false_mask_blurred_in_the_box_around_its_edges_is_the_whole_blur_to_the_bit(feather):
    """Outside the box around the mask's edges the blur takes each pixel's plateau; inside, it is
    worked out from the rows and columns the blur reaches: every pixel the same as blurring the whole."""
    rng = np.random.default_rng(3)
    half_plane, dot, blobs = (np.zeros((120, 200), bool) for _ in range(3))
    half_plane[60:, :70] = True  # uniform but different values on either side of the edges' box
    dot[40, 100] = True
    blobs[30:90, 50:160] = rng.random((60, 110)) < 0.3
    for mask in (half_plane, dot, ~dot, blobs, np.zeros((7, 9), bool), np.ones((7, 9), bool), np.eye(5, dtype=bool)):
        whole = smoothed(mask, feather)
        whole[whole > 1 - 1e-6], whole[whole < 1e-6] = 1.0, 0.0
        np.testing.assert_array_equal(blur(mask, feather).view(np.uint32), whole.view(np.uint32))
