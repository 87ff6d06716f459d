"""Contract of the OpenCV layer shaper, on synthetic scenes whose true outlines are known."""

import cv2
import numpy as np
import pytest
from scipy import ndimage

from rilievo.adapters import layer_shaping
from rilievo.adapters.layer_shaping import OpenCVLayerShaper
from rilievo.domain.errors import InvalidParameter, LayersFailed
from rilievo.domain.layers import LayerPlan, quantize_depth


@pytest.fixture(scope="module")
def shaper():
    return OpenCVLayerShaper()


def blocks(height, width, cell, seed):
    """Random colour blocks of `cell` px: a texture with edges of its own."""
    rng = np.random.default_rng(seed)
    small = rng.random((max(1, height // cell), max(1, width // cell), 3)).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def textured(height, width, colour, seed):
    return 0.7 * np.float32(colour) + 0.3 * blocks(height, width, 7, seed)


def disc_scene(height=360, width=480):
    """A textured red disc on a textured blue-green background, and its true mask."""
    yy, xx = np.mgrid[:height, :width]
    disc = (yy - height / 2) ** 2 + (xx - width / 2) ** 2 < (0.3 * height) ** 2
    image = np.where(disc[..., None], textured(height, width, (0.8, 0.2, 0.1), 1),
                     textured(height, width, (0.1, 0.5, 0.6), 2))
    return image.astype(np.float32), disc


def three_layer_scene(height=360, width=480):
    """A box (middle layer) partly behind a disc (front) over a background (back)."""
    yy, xx = np.mgrid[:height, :width]
    box = (yy > 90) & (yy < 290) & (xx > 60) & (xx < 260)
    disc = (yy - 200) ** 2 + (xx - 300) ** 2 < 90**2
    truth = np.full((height, width), 2, np.uint8)
    truth[box] = 1
    truth[disc] = 0
    colours = [(0.85, 0.75, 0.1), (0.7, 0.1, 0.6), (0.15, 0.35, 0.8)]
    image = np.zeros((height, width, 3), np.float32)
    for index, colour in enumerate(colours):
        image[truth == index] = textured(height, width, colour, 10 + index)[truth == index]
    return image, truth


def estimator_like(truth, count, shift=(5, -3), sigma=3.0):
    """The layer map an estimator's depth would give: soft and a few px off."""
    depth = truth.astype(np.float32) / max(count - 1, 1)
    depth = cv2.GaussianBlur(depth, (0, 0), sigma)
    depth = cv2.warpAffine(depth, np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]), depth.shape[::-1],
                           borderMode=cv2.BORDER_REPLICATE)
    depth8 = quantize_depth(depth)
    return LayerPlan.from_depth(depth8, count).membership(depth8)


def outline(mask):
    padded = np.pad(mask, 1, mode="edge")
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def boundary_error(truth, membership, count):
    """Symmetric mean distance (px) between the outline pixels of the true and given layers."""
    distances = []
    for index in range(count):
        true_line, line = outline(truth == index), outline(membership == index)
        distances.append(ndimage.distance_transform_edt(~true_line)[line])
        distances.append(ndimage.distance_transform_edt(~line)[true_line])
    return float(np.concatenate(distances).mean())


def unprintable(membership, count, min_feature_px):
    """Pixels that no disc of the minimum feature lying inside their layer covers, give or take a
    pixel (scipy, independently of the adapter). The picture's edge does not bound a layer."""
    radius = min_feature_px / 2
    covered = np.zeros(membership.shape, bool)
    for index in range(count):
        inside = membership == index
        centres = ndimage.distance_transform_edt(inside) >= radius  # to the nearest other layer
        if centres.any():
            covered |= inside & (ndimage.distance_transform_edt(~centres) < radius + 1)
    return ~covered


def assert_only_corners_where_three_meet_are_left(merged, count, min_feature_px):
    """Where three regions, or two and the picture's edge, meet at a point (or nearly, as at a
    neck or a saddle), some region has a corner no disc fills: a few such pixels may stay."""
    pieces, _ = ndimage.label(unprintable(merged, count, min_feature_px), np.ones((3, 3)))
    reach = int(np.ceil(min_feature_px))
    height, width = merged.shape
    for piece in ndimage.find_objects(pieces):
        assert (pieces[piece] > 0).sum() <= min_feature_px**2 / 2, piece
        rows, cols = (slice(max(s.start - reach, 0), s.stop + reach) for s in piece)
        regions = sum(ndimage.label(merged[rows, cols] == index)[1] for index in range(count))
        at_edge = rows.start == 0 or cols.start == 0 or rows.stop >= height or cols.stop >= width
        assert at_edge or regions >= 3, piece


def test_name():
    assert OpenCVLayerShaper.name == "guided"


# --- refine_membership ------------------------------------------------------------------------


def test_refine_moves_a_shifted_blurred_outline_onto_the_object(shaper):
    image, disc = disc_scene()
    truth = np.where(disc, 0, 1).astype(np.uint8)
    membership = estimator_like(truth, 2)
    before = boundary_error(truth, membership, 2)
    refined = shaper.refine_membership(image, membership, 2)
    after = boundary_error(truth, refined, 2)
    assert before > 3.0  # the test scene really is off
    assert after < 1.0 and after < before / 4


def test_refine_with_three_layers_moves_every_outline(shaper):
    image, truth = three_layer_scene()
    membership = estimator_like(truth, 3, shift=(-4, 4))
    refined = shaper.refine_membership(image, membership, 3)
    for index in range(3):
        before = boundary_error(truth == index, membership == index, 2)
        after = boundary_error(truth == index, refined == index, 2)
        assert after < before / 2, index
    assert boundary_error(truth, refined, 3) < 1.0


def tailed_thing(height=240, width=360):
    """A motion-blurred scene and a thing on it: a red body with a 6 px tail of nearly the scene's own
    colour (a running cheetah's), the thing on layer 0 and the scene on layer 1, as the segmenter cut them."""
    scene = cv2.GaussianBlur(textured(height, width, (0.55, 0.4, 0.25), 3), (0, 0), 4)
    thing = np.zeros((height, width), bool)
    thing[90:170, 200:300] = True  # the body
    thing[117:123, 60:200] = True  # the tail
    image = scene.copy()
    image[90:170, 200:300] = textured(80, 100, (0.8, 0.3, 0.1), 4)
    image[117:123, 60:200] += 0.04
    return image.astype(np.float32), thing


def test_refinement_gives_a_thin_part_of_a_thing_to_the_scene_unless_told_it_is_a_thing(shaper):
    image, thing = tailed_thing()
    membership = np.where(thing, 0, 1).astype(np.uint8)
    tail = np.zeros_like(thing)
    tail[117:123, 60:200] = True
    blind = shaper.refine_membership(image, membership, 2)
    told = shaper.refine_membership(image, membership, 2, things=thing)
    assert (blind[tail] == 0).mean() < 0.5  # the scene is a real test: the guided filter loses the tail
    assert (told[119:121, 63:200] == 0).all()  # the tail's core: a thing's pixels more than 2 px inside it
    assert (told[100:160, 210:290] == 0).all()


def test_a_thing_s_outline_still_moves_onto_the_photo_s_edge(shaper):
    image, disc = disc_scene()
    grown = cv2.dilate(disc.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # 1 px out
    membership = np.where(grown, 0, 1).astype(np.uint8)
    refined = shaper.refine_membership(image, membership, 2, things=grown)
    truth = np.where(disc, 0, 1).astype(np.uint8)
    assert boundary_error(truth, refined, 2) < boundary_error(truth, membership, 2) / 2


def test_things_of_another_size_than_the_layer_map_are_refused_by_the_refinement(shaper):
    image, _ = disc_scene(40, 40)
    with pytest.raises(LayersFailed, match="things"):
        shaper.refine_membership(image, np.zeros((40, 40), np.uint8), 2, things=np.zeros((40, 41), bool))


@pytest.mark.parametrize("divisor", [2, 4])
def test_a_smaller_layer_map_is_upsampled_along_the_image_edges(shaper, divisor):
    image, truth = three_layer_scene()
    height, width = truth.shape
    small = estimator_like(truth, 3, shift=(0, 0), sigma=1.0)
    small = cv2.resize(small, (width // divisor, height // divisor), interpolation=cv2.INTER_NEAREST)
    refined = shaper.refine_membership(image, small, 3)
    assert refined.shape == (height, width)
    nearest = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
    one_hot = np.stack([(small == k).astype(np.float32) for k in range(3)], axis=-1)
    bilinear = cv2.resize(one_hot, (width, height), interpolation=cv2.INTER_LINEAR).argmax(axis=-1)
    ours = boundary_error(truth, refined, 3)
    assert ours < 0.6 * boundary_error(truth, nearest, 3)
    assert ours < 0.6 * boundary_error(truth, bilinear, 3)
    assert ours < 1.0


def test_refined_map_is_a_valid_layer_map_and_the_input_is_untouched(shaper):
    image, truth = three_layer_scene()
    membership = estimator_like(truth, 3)
    kept_image, kept_membership = image.copy(), membership.copy()
    refined = shaper.refine_membership(image, membership, 3)
    assert refined.dtype == np.uint8 and refined.shape == truth.shape
    assert set(np.unique(refined)) <= set(np.unique(membership))
    np.testing.assert_array_equal(image, kept_image)
    np.testing.assert_array_equal(membership, kept_membership)


def test_refine_is_deterministic(shaper):
    image, truth = three_layer_scene()
    membership = estimator_like(truth, 3)
    first = shaper.refine_membership(image, membership, 3)
    np.testing.assert_array_equal(first, OpenCVLayerShaper().refine_membership(image, membership, 3))


def test_on_a_uniform_image_outlines_stay_where_they_were(shaper):
    _, truth = three_layer_scene()
    membership = estimator_like(truth, 3)
    flat = np.full(truth.shape + (3,), 0.4, np.float32)
    refined = shaper.refine_membership(flat, membership, 3)
    assert boundary_error(membership, refined, 3) < 1.0
    assert np.mean(refined != membership) < 0.005


def test_refine_leaves_pixels_far_from_every_outline_alone(shaper):
    image, truth = three_layer_scene()
    membership = estimator_like(truth, 3)
    refined = shaper.refine_membership(image, membership, 3)
    changes = np.zeros(membership.shape, bool)
    for index in range(3):
        changes |= outline(membership == index)
    far = ndimage.distance_transform_edt(~changes) > 0.02 * max(membership.shape)
    np.testing.assert_array_equal(refined[far], membership[far])


def test_a_single_layer_map_comes_back_as_it_was(shaper):
    image, _ = disc_scene()
    membership = np.ones(image.shape[:2], np.uint8)
    np.testing.assert_array_equal(shaper.refine_membership(image, membership, 2), membership)
    small = np.zeros((90, 120), np.uint8)
    np.testing.assert_array_equal(shaper.refine_membership(image, small, 1), np.zeros(image.shape[:2]))


@pytest.mark.parametrize(
    "image, membership, count",
    [
        (np.zeros((40, 40, 3), np.float32), np.zeros((41, 40), np.uint8), 2),  # larger than the image
        (np.zeros((40, 40, 3), np.float32), np.full((40, 40), 3, np.uint8), 3),  # index out of range
        (np.zeros((40, 40, 3), np.float32), np.full((40, 40), -1, np.int16), 3),
        (np.zeros((40, 40), np.float32), np.zeros((40, 40), np.uint8), 2),  # not RGB
        (np.zeros((40, 40, 3), np.uint8), np.zeros((40, 40), np.uint8), 2),  # not float
    ],
    ids=["larger", "index", "negative", "grey", "uint8"],
)
def test_refine_rejects_malformed_input_with_a_rilievo_error(shaper, image, membership, count):
    with pytest.raises(LayersFailed, match="layer|image"):
        shaper.refine_membership(image, membership, count)


# --- merge_small_features ---------------------------------------------------------------------


def test_specks_vanish_into_the_layer_around_them(shaper):
    membership = np.full((120, 160), 2, np.uint8)
    membership[10:60, :] = 1
    membership[30, 40] = 0  # in layer 1
    membership[90:93, 100:103] = 0  # in layer 2
    membership[58:64, 120:126] = 0  # across the 1/2 outline, more in 2
    merged = shaper.merge_small_features(membership, 3, 8)
    expected = np.full((120, 160), 2, np.uint8)
    expected[10:60, :] = 1
    expected[58:64, 120:126] = 2  # whole, to the layer it shared more border with
    np.testing.assert_array_equal(merged, expected)


def leg_through_two_layers() -> np.ndarray:
    membership = np.full((120, 200), 2, np.uint8)
    membership[:, 100:] = 1
    membership[40:80, 20:60] = 0  # a body of the front layer
    membership[59:61, 60:180] = 0  # a 2 px leg (or sliver) from it, through layers 2 and 1
    return membership


def test_a_part_of_a_thing_too_thin_to_cut_alone_keeps_its_layer_with_a_margin_of_the_layers_behind(shaper):
    membership = leg_through_two_layers()
    merged = shaper.merge_small_features(membership, 3, 8, things=membership == 0)
    assert (merged[40:80, 20:60] == 0).all() and (merged[59:61, 60:180] == 0).all()  # body and leg stay
    assert (merged[55:65, 61:180] == 0).all()  # the leg with 4 px (the disc's radius) of margin either side
    np.testing.assert_array_equal(merged[:54], membership[:54])  # nothing farther off changes
    np.testing.assert_array_equal(merged[66:], membership[66:])
    assert unprintable(merged, 3, 8).sum() <= 2  # bar a pixel in each notch where the margin meets the body


def test_a_sliver_of_the_scene_goes_to_the_layer_it_runs_through_and_the_body_stays(shaper):
    membership = leg_through_two_layers()
    merged = shaper.merge_small_features(membership, 3, 8, things=np.zeros(membership.shape, bool))
    assert (merged[40:80, 24:56] == 0).all()  # the body, bar its corners, is untouched
    assert (merged == 0).sum() >= 0.97 * 40 * 40
    assert (merged[59:61, 100:180] == 1).all() and (merged[59:61, 64:96] == 2).all()
    np.testing.assert_array_equal(shaper.merge_small_features(membership, 3, 8), merged)  # no things known


def test_a_spike_of_a_thing_too_small_to_matter_goes_to_the_layer_behind_it(shaper):
    membership = np.full((100, 100), 1, np.uint8)
    membership[30:70, 20:60] = 0
    membership[49:51, 60:66] = 0  # 12 px, less than the disc's square (64)
    merged = shaper.merge_small_features(membership, 2, 8, things=membership == 0)
    assert (merged[49:51, 61:66] == 1).all()
    assert (merged[30:70, 24:56] == 0).all()


def test_a_thin_part_of_a_layer_behind_goes_to_the_layer_in_front_it_runs_through(shaper):
    membership = np.full((120, 200), 0, np.uint8)
    membership[40:80, 20:60] = 1  # a body of the back layer in the front one
    membership[59:61, 60:180] = 1  # a 2 px sliver from it: nothing lies behind it to take as a margin
    merged = shaper.merge_small_features(membership, 2, 8, things=membership == 1)
    assert (merged[59:61, 64:180] == 0).all() and (merged[40:80, 24:56] == 1).all()


def test_things_of_another_size_than_the_layer_map_are_refused(shaper):
    with pytest.raises(LayersFailed, match="things"):
        shaper.merge_small_features(np.zeros((40, 40), np.uint8), 2, 8, things=np.zeros((40, 41), bool))


def test_a_thin_gap_between_two_parts_of_a_layer_closes(shaper):
    membership = np.zeros((100, 100), np.uint8)
    membership[:, 49] = 1  # a 1 px cut through layer 0: nothing could hold it
    merged = shaper.merge_small_features(membership, 2, 6)
    np.testing.assert_array_equal(merged, np.zeros((100, 100), np.uint8))


@pytest.mark.parametrize(
    "minimum, width, kept",
    [(9, 2, False), (9, 8, False), (9, 9, True), (9, 12, True), (8.5, 8, False), (8.5, 9, True),
     (8, 6, False), (8, 7, True)],  # a disc centred on a pixel spans an odd number of pixels
)
def test_bars_narrower_than_the_minimum_go_and_others_stay(shaper, minimum, width, kept):
    membership = np.ones((120, 120), np.uint8)
    membership[20:100, 40 : 40 + width] = 0
    merged = shaper.merge_small_features(membership, 2, minimum)
    if kept:
        np.testing.assert_array_equal(merged[25:95], membership[25:95])  # all but the bar's ends
        assert (merged == 0).sum() >= 0.97 * (membership == 0).sum()
    else:
        assert not (merged == 0).any()


def test_a_disc_as_wide_as_the_minimum_is_kept_whole(shaper):
    yy, xx = np.mgrid[:80, :80]
    membership = np.where((yy - 40) ** 2 + (xx - 40) ** 2 <= 10**2, 0, 1).astype(np.uint8)
    np.testing.assert_array_equal(shaper.merge_small_features(membership, 2, 20), membership)


def printable_over_the_whole_picture(labels, min_feature_px):
    """The printable pixels with the distances taken over the whole picture, layer by layer."""
    radius, printable = min_feature_px / 2.0, np.zeros(labels.shape, bool)
    for index in np.unique(labels):
        inside = labels == index
        centres = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) >= radius
        if centres.any():
            reach = cv2.distanceTransform((~centres).astype(np.uint8), cv2.DIST_L2, 5)
            printable |= inside & (reach < radius + layer_shaping.EDGE_TOLERANCE_PX)
    return printable


@pytest.mark.parametrize("seed", range(40))
def test_the_printable_pixels_worked_out_around_each_layer_are_those_of_the_whole_picture(seed):
    rng = np.random.default_rng(seed)
    height, width = rng.integers(20, 160, 2)
    noise = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), float(rng.uniform(1, 8)))
    count = int(rng.integers(2, 6))
    labels = np.digitize(noise, np.quantile(noise, np.linspace(0, 1, count + 1)[1:-1])).astype(np.uint8)
    labels[rng.integers(0, height), rng.integers(0, width)] = count  # a one-pixel layer
    min_feature_px = float(rng.uniform(1, 20))
    np.testing.assert_array_equal(layer_shaping._printable(labels, min_feature_px),
                                  printable_over_the_whole_picture(labels, min_feature_px))


def test_nested_small_pieces_go_to_the_printable_layer_around_them(shaper):
    membership = np.full((80, 80), 2, np.uint8)
    membership[30:50, 38:42] = 1  # a 4 px sliver of layer 1 ...
    membership[39:41, 39:41] = 0  # ... holding a speck of layer 0
    merged = shaper.merge_small_features(membership, 3, 8)
    np.testing.assert_array_equal(merged, np.full((80, 80), 2, np.uint8))


def test_a_layer_made_only_of_small_features_ends_empty(shaper):
    rng = np.random.default_rng(3)
    membership = np.full((100, 100), 1, np.uint8)
    membership[:, 60:] = 2
    membership[rng.integers(0, 100, 40), rng.integers(0, 100, 40)] = 0
    merged = shaper.merge_small_features(membership, 3, 5)
    assert np.bincount(merged.ravel(), minlength=3)[0] == 0
    np.testing.assert_array_equal(merged[:, 2:58], membership[:, 2:58].clip(1))


@pytest.mark.parametrize("count, seed", [(2, 0), (2, 1), (3, 2), (3, 3), (4, 4)])
def test_blotchy_maps_become_printable_but_for_corners_where_regions_meet(shaper, count, seed):
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((150, 200)).astype(np.float32), (0, 0), 3)
    membership = np.digitize(noise, np.quantile(noise, np.linspace(0, 1, count + 1)[1:-1])).astype(np.uint8)
    before = unprintable(membership, count, 7).sum()
    assert before > 0.05 * membership.size
    merged = shaper.merge_small_features(membership, count, 7)
    assert_only_corners_where_three_meet_are_left(merged, count, 7)
    assert unprintable(merged, count, 7).sum() < 0.01 * before
    assert (merged != membership).sum() < 1.5 * before


def test_zero_minimum_changes_nothing(shaper):
    rng = np.random.default_rng(0)
    membership = rng.integers(0, 3, (50, 60)).astype(np.uint8)
    merged = shaper.merge_small_features(membership, 3, 0)
    np.testing.assert_array_equal(merged, membership)


def test_merging_never_invents_a_layer_and_leaves_the_input_alone(shaper):
    rng = np.random.default_rng(1)
    membership = np.where(rng.random((60, 80)) < 0.5, 1, 3).astype(np.uint8)
    kept = membership.copy()
    merged = shaper.merge_small_features(membership, 4, 4)
    assert merged.dtype == np.uint8 and merged.shape == membership.shape
    assert set(np.unique(merged)) <= {1, 3}
    np.testing.assert_array_equal(membership, kept)


def test_a_picture_too_small_for_any_feature_keeps_its_main_layer(shaper):
    membership = np.array([[0, 1, 1], [1, 1, 0], [1, 1, 1]], np.uint8)
    np.testing.assert_array_equal(shaper.merge_small_features(membership, 2, 50), np.ones((3, 3)))


@pytest.mark.parametrize("minimum", [-1, float("nan"), float("inf")])
def test_merge_rejects_a_minimum_that_is_no_size(shaper, minimum):
    with pytest.raises(InvalidParameter, match="minimum feature"):
        shaper.merge_small_features(np.zeros((5, 5), np.uint8), 1, minimum)


# --- fill_behind ------------------------------------------------------------------------------


def gradient(height=200, width=300):
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    return np.dstack([xx / width, yy / height, 0.5 + 0.3 * (xx - yy) / (width + height)]).astype(np.float32)


def filled_image(shaper, image, known, fillable, reach):
    """The image with the fill's colours on the pixels it filled, and the mask of those pixels."""
    colours, filled = shaper.fill_behind(image, known, fillable, reach)
    assert colours.dtype == np.float16 and colours.shape == (filled.sum(), 3)
    rgb = image.copy()
    rgb[filled] = colours
    return rgb, filled


def disc_mask(shape, centre, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def test_a_hole_in_a_smooth_gradient_is_filled_close_to_the_gradient(shaper):
    image = gradient()
    hole = disc_mask(image.shape[:2], (100, 150), 30)
    damaged = image.copy()
    damaged[hole] = (1.0, 0.0, 1.0)
    rgb, filled = filled_image(shaper, damaged, ~hole, hole, None)
    np.testing.assert_array_equal(filled, hole)
    error = np.abs(rgb[hole] - image[hole])
    assert error.mean() < 0.01 and error.max() < 0.03


def test_the_mixed_colours_on_a_hole_s_outline_do_not_bleed_into_the_fill(shaper):
    image = np.full((120, 160, 3), (0.2, 0.6, 0.3), np.float32)
    hole = disc_mask(image.shape[:2], (60, 80), 25)
    rim = disc_mask(image.shape[:2], (60, 80), 26.5) & ~hole
    image[rim] = (1.0, 0.0, 1.0)  # what an anti-aliased front outline leaves on the layer behind
    rgb, filled = filled_image(shaper, image, ~hole, hole, None)
    assert np.abs(rgb[filled] - (0.2, 0.6, 0.3)).max() < 0.02
    np.testing.assert_array_equal(rgb[rim], image[rim])


def test_only_fillable_pixels_within_reach_change_and_the_rest_is_bit_identical(shaper):
    image = blocks(200, 300, 9, 4)
    known = np.zeros((200, 300), bool)
    known[:, :100] = True
    fillable = np.zeros((200, 300), bool)
    fillable[50:150, 80:250] = True  # overlaps known pixels, which must not change
    rgb, filled = filled_image(shaper, image, known, fillable, 40.0)
    reach = ndimage.distance_transform_edt(~known) <= 40.0
    np.testing.assert_array_equal(filled, fillable & ~known & reach)
    np.testing.assert_array_equal(rgb[~filled], image[~filled])
    assert np.all(rgb[filled] != image[filled])  # the fill is not the hidden pixels' own colour


def test_reach_limits_how_far_the_fill_goes_and_not_its_colours(shaper):
    image = gradient()
    known = ~disc_mask(image.shape[:2], (100, 150), 60)
    everything, filled_all = filled_image(shaper, image, known, ~known, None)
    near, filled_near = filled_image(shaper, image, known, ~known, 15.0)
    assert filled_all.sum() > filled_near.sum() > 0
    assert (ndimage.distance_transform_edt(~known)[filled_near] <= 15.0).all()
    np.testing.assert_array_equal(near[filled_near], everything[filled_near])
    assert not shaper.fill_behind(image, known, ~known, 0.0)[1].any()


def test_a_big_hole_is_filled_whole_from_a_little_known_background(shaper):
    image = gradient()
    known = np.zeros(image.shape[:2], bool)
    known[:, :20] = True  # a strip at the left edge is all that is known
    rgb, filled = filled_image(shaper, image, known, ~known, None)
    np.testing.assert_array_equal(filled, ~known)
    assert np.isfinite(rgb).all()
    low, high = image[known].min(axis=0), image[known].max(axis=0)
    assert ((rgb[filled] >= low - 1e-4) & (rgb[filled] <= high + 1e-4)).all()


def test_the_fill_comes_out_the_same_in_strips_as_whole(shaper, monkeypatch):
    import rilievo.adapters.layer_shaping as module

    image = gradient(700, 300)
    hole = disc_mask(image.shape[:2], (350, 150), 120) | disc_mask(image.shape[:2], (80, 60), 30)
    monkeypatch.setattr(module, "FILL_STRIP_ROWS", 64)
    in_strips, filled = filled_image(shaper, image, ~hole, hole, None)
    monkeypatch.setattr(module, "FILL_STRIP_ROWS", 10_000)
    whole, _ = filled_image(shaper, image, ~hole, hole, None)
    np.testing.assert_allclose(in_strips, whole, atol=1e-6)
    assert np.abs(in_strips[filled] - image[filled]).mean() < 0.02


def test_each_strip_relaxes_only_around_its_own_holes_and_comes_out_as_whole(shaper, monkeypatch):
    """Holes far apart in columns and rows: each strip works on the columns of its own holes (and on
    strips of the pyramid's first level), and the fill is the same as done in one piece."""
    import rilievo.adapters.layer_shaping as module

    image = blocks(400, 500, 7, 11)
    hole = disc_mask(image.shape[:2], (60, 40), 25) | disc_mask(image.shape[:2], (330, 450), 35)
    hole[200:205, 240:260] = True
    monkeypatch.setattr(module, "FILL_STRIP_ROWS", 32)
    in_strips, filled = filled_image(shaper, image, ~hole, hole, None)
    monkeypatch.setattr(module, "FILL_STRIP_ROWS", 10_000)
    whole, _ = filled_image(shaper, image, ~hole, hole, None)
    np.testing.assert_allclose(in_strips, whole, atol=1e-6)
    np.testing.assert_array_equal(in_strips[~filled], image[~filled])


def test_nothing_known_fills_nothing(shaper):
    image = gradient(40, 50)
    nothing = np.zeros((40, 50), bool)
    colours, filled = shaper.fill_behind(image, nothing, ~nothing, None)
    assert not filled.any() and colours.shape == (0, 3)


def test_fill_leaves_its_input_alone(shaper):
    image = gradient(60, 80)
    kept = image.copy()
    hole = disc_mask((60, 80), (30, 40), 10)
    shaper.fill_behind(image, ~hole, hole, None)
    np.testing.assert_array_equal(image, kept)


def test_fill_rejects_masks_of_another_size(shaper):
    image = gradient(40, 50)
    with pytest.raises(LayersFailed, match="masks"):
        shaper.fill_behind(image, np.ones((40, 49), bool), np.zeros((40, 50), bool), None)


@pytest.mark.parametrize("reach", [-1.0, float("nan")])
def test_fill_rejects_a_reach_that_is_no_distance(shaper, reach):
    image = gradient(40, 50)
    with pytest.raises(InvalidParameter, match="reach"):
        shaper.fill_behind(image, np.ones((40, 50), bool), np.zeros((40, 50), bool), reach)


@pytest.mark.parametrize("count", [0, 256])
def test_a_layer_count_out_of_range_is_refused_with_a_rilievo_error(shaper, count):
    with pytest.raises(InvalidParameter, match="layer count must be 1-255"):
        shaper.merge_small_features(np.zeros((5, 5), np.uint8), count, 1)


def relaxed_whole(fixed, free, colour):
    """The relaxation with a second colour array for the whole image: what _relaxed must give."""
    spare = np.empty_like(colour)
    for _ in range(layer_shaping.RELAX_STEPS):
        cv2.filter2D(colour, -1, layer_shaping._NEIGHBOURS, dst=spare, borderType=cv2.BORDER_REPLICATE)
        spare *= free[..., None]
        cv2.add(spare, fixed, dst=spare)
        colour, spare = spare, colour
    return colour


@pytest.mark.parametrize("height, width", [(1, 1), (2, 3), (63, 40), (64, 41), (65, 40), (129, 7), (200, 77)])
def test_the_relaxation_in_strips_is_the_relaxation_done_whole_to_the_bit(height, width):
    rng = np.random.default_rng(height * width)
    fixed, colour = rng.random((2, height, width, 3), np.float32)
    free = rng.random((height, width), np.float32)
    np.testing.assert_array_equal(layer_shaping._relaxed(fixed, free, colour.copy()),
                                  relaxed_whole(fixed, free, colour.copy()))


def test_the_relaxation_makes_no_second_colour_array():
    """It works in place, a strip of rows at a time: at the half size of a 12 MP photo a second colour
    array was 34 MB, at the job's peak."""
    import tracemalloc

    rng = np.random.default_rng(1)
    fixed, colour = rng.random((2, 1000, 1000, 3), np.float32)
    free = rng.random((1000, 1000), np.float32)
    tracemalloc.start()
    layer_shaping._relaxed(fixed, free, colour)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < colour.nbytes / 4, f"{peak / 2**20:.1f} MiB made for a colour array of {colour.nbytes / 2**20:.1f}"


def known_blobs(height, width, seed, threshold=0.5):
    noise = np.random.default_rng(seed).random((height, width)).astype(np.float32)
    return cv2.GaussianBlur(noise, (0, 0), 9) > threshold


@pytest.mark.parametrize("reach", [0.0, 1.0, 7.5, 40.0, 1000.0])
def test_the_reach_in_strips_takes_in_the_pixels_the_whole_distance_map_does(reach):
    everywhere = np.ones((1300, 220), bool)
    for known in (known_blobs(1300, 220, 4), np.random.default_rng(5).random((1300, 220)) < 0.0005,
                  np.zeros((700, 90), bool)):
        whole = cv2.distanceTransform((~known).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= reach
        np.testing.assert_array_equal(layer_shaping._within_reach(known, everywhere[: len(known), : known.shape[1]],
                                                                  reach), whole)


@pytest.mark.parametrize("reach", [0.0, 1.0, 7.5])
def test_the_reach_in_the_wanted_pixels_box_takes_in_the_wanted_pixels_the_whole_distance_map_does(reach):
    """Worked out only in the box around the wanted pixels (and the rows and columns within reach of
    it): those the whole map takes in, and no others."""
    known = known_blobs(1300, 600, 4)
    wanted = ~known & known_blobs(1300, 600, 7, threshold=0.52)
    wanted[:300] = wanted[:, :150] = wanted[:, 500:] = False  # a box within the picture
    whole = cv2.distanceTransform((~known).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= reach
    assert wanted.any() and (wanted & ~whole).any()
    np.testing.assert_array_equal(layer_shaping._within_reach(known, wanted, reach), wanted & whole)


def test_the_reach_makes_no_photo_size_distance_map():
    """Only a strip's distances at a time (and the mask made): the whole map, in float32, was 48 MB at
    12 MP, while the half-size fill was made beside it."""
    import tracemalloc

    known = known_blobs(3000, 1000, 6)
    wanted = np.ones_like(known)
    tracemalloc.start()
    layer_shaping._within_reach(known, wanted, 10.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    distances_nbytes = known.size * 4
    assert peak < 0.8 * distances_nbytes, (f"{peak / 2**20:.1f} MiB made; the whole map of distances is "
                                          f"{distances_nbytes / 2**20:.1f}")
