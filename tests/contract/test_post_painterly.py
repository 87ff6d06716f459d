"""The painterly post-processor: each step does what it says on synthetic images built to show it, and
the whole is deterministic, safe on tiny images and keeps to float32 in [0, 1]."""

import tracemalloc

import attrs
import cv2
import numpy as np
import pytest

from rilievo.adapters.post_painterly import PainterlyPostProcessor
from rilievo.application.ports import PrintTexture
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.styles import PostSettings

OFF = PostSettings(stroke_texture=0.0, harmonise=0.0, soften_edges=0.0, texture_strength=0.0)
ALL_ON = PostSettings(stroke_texture=1.0, harmonise=1.0, soften_edges=1.0, texture="canvas", texture_strength=1.0)


def finish(image, post, depth=None, seed=7):
    if depth is None:
        depth = np.full(image.shape[:2], 0.5, np.float32)
    return PainterlyPostProcessor().finish(image, depth, post, seed)


def random_image(height=64, width=80, seed=0):
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


def grey(height, width, level=0.5):
    return np.full((height, width, 3), level, np.float32)


def stripes(height=128, width=160, period=12.0, vertical=False):
    """Mid-grey sinusoidal stripes: edges running horizontally (or vertically)."""
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    wave = np.sin(2 * np.pi * (x if vertical else y) / period) + np.zeros((height, width), np.float32)
    return np.repeat((0.5 + 0.2 * wave)[..., None], 3, axis=2).astype(np.float32)


def lab(image):
    return cv2.cvtColor(image, cv2.COLOR_RGB2Lab)


def luma(image):
    return image @ np.array([0.2126, 0.7152, 0.0722], np.float32)


# --- the whole --------------------------------------------------------------------------------------


def test_the_name_is_painterly_post():
    assert PainterlyPostProcessor.name == "painterly-post"


def test_all_strengths_zero_returns_an_identical_image():
    image = random_image()
    out = finish(image, OFF)
    assert out.dtype == np.float32 and np.array_equal(out, image)
    assert out is not image


def test_the_inputs_are_left_untouched():
    image, depth = random_image(), np.random.default_rng(1).random((64, 80), dtype=np.float32)
    image_before, depth_before = image.copy(), depth.copy()
    PainterlyPostProcessor().finish(image, depth, ALL_ON, 0)
    assert np.array_equal(image, image_before) and np.array_equal(depth, depth_before)


def test_the_same_seed_gives_the_same_pixels():
    image = random_image()
    assert np.array_equal(finish(image, ALL_ON, seed=3), finish(image, ALL_ON, seed=3))


@pytest.mark.parametrize("texture", ["canvas", "paper"])
def test_another_seed_gives_another_texture(texture):
    image = grey(64, 80)
    post = attrs.evolve(OFF, stroke_texture=1.0, texture=texture, texture_strength=1.0)
    assert np.abs(finish(image, post, seed=3) - finish(image, post, seed=4)).mean() > 0.005


@pytest.mark.parametrize("texture", ["canvas", "paper"])
def test_output_is_float32_in_unit_range_with_the_input_shape(texture):
    image = random_image(51, 37)  # odd sizes
    depth = np.random.default_rng(1).random((51, 37), dtype=np.float32)
    out = PainterlyPostProcessor().finish(image, depth, attrs.evolve(ALL_ON, texture=texture), 0)
    assert out.shape == image.shape and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("shape", [(8, 8), (1, 1), (1, 9), (9, 1), (2, 3)])
@pytest.mark.parametrize("texture", ["canvas", "paper"])
def test_tiny_images_do_not_crash(shape, texture):
    image = random_image(*shape)
    out = finish(image, attrs.evolve(ALL_ON, texture=texture))
    assert out.shape == image.shape and np.isfinite(out).all()


def test_a_smaller_depth_map_is_stretched_to_the_image():
    image = random_image(40, 60)
    out = PainterlyPostProcessor().finish(image, np.zeros((10, 15), np.float32), ALL_ON, 1)
    assert out.shape == image.shape


@pytest.mark.parametrize("field", ["stroke_texture", "harmonise", "soften_edges", "texture_strength"])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_strengths_outside_zero_to_one_are_refused(field, value):
    with pytest.raises(InvalidParameter, match=field):
        finish(random_image(8, 8), attrs.evolve(OFF, **{field: value}))


def test_an_unknown_texture_is_refused():
    with pytest.raises(InvalidParameter, match="texture"):
        finish(random_image(8, 8), attrs.evolve(OFF, texture="linen", texture_strength=0.5))


def test_a_depth_of_another_dimension_is_refused():
    with pytest.raises(InvalidParameter, match="depth"):
        PainterlyPostProcessor().finish(random_image(8, 8), np.zeros((8, 8, 3), np.float32), OFF, 0)


# --- 1. stroke texture ------------------------------------------------------------------------------


def across_over_along(detail, vertical_edges):
    """Gradient energy across the edges over that along them."""
    along_x = np.diff(detail, axis=1) ** 2
    along_y = np.diff(detail, axis=0) ** 2
    return along_x.mean() / along_y.mean() if vertical_edges else along_y.mean() / along_x.mean()


@pytest.mark.parametrize("vertical", [False, True])
def test_strokes_run_along_the_edges(vertical):
    image = stripes(vertical=vertical)
    detail = luma(finish(image, attrs.evolve(OFF, stroke_texture=1.0))) - luma(image)
    assert detail.std() > 0.005  # something was added
    assert across_over_along(detail, vertical) > 8.0


def test_strokes_brush_a_flat_area_without_changing_its_brightness():
    image = grey(96, 96)
    out = finish(image, attrs.evolve(OFF, stroke_texture=1.0))
    assert 0.005 < (out - image).std() < 0.08
    assert abs(out.mean() - image.mean()) < 0.005


def test_more_stroke_texture_adds_more_detail():
    image = grey(96, 96)
    gentle = finish(image, attrs.evolve(OFF, stroke_texture=0.3)) - image
    strong = finish(image, attrs.evolve(OFF, stroke_texture=1.0)) - image
    assert strong.std() > 2.5 * gentle.std()


# --- 2. harmonise -----------------------------------------------------------------------------------


def scattered_colours(seed=0):
    """Twelve colours, each a patch with its own noise: many scattered hues for a 7-colour palette."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.2, 0.8, (12, 3)).astype(np.float32)
    image = np.repeat(np.repeat(base.reshape(3, 4, 3), 24, axis=0), 24, axis=1)
    image = image + rng.normal(0.0, 0.04, image.shape).astype(np.float32)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def spread_around_centres(image, k=7):
    """Mean squared a/b distance to the nearest of k centres that k-means fits to the image itself."""
    ab = lab(image)[..., 1:].reshape(-1, 2).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-3)
    cv2.setRNGSeed(0)
    compactness, _, _ = cv2.kmeans(ab, k, None, criteria, 5, cv2.KMEANS_PP_CENTERS)
    return compactness / len(ab)


def test_harmonising_gathers_colours_around_a_few_centres():
    image = scattered_colours()
    spreads = [spread_around_centres(finish(image, attrs.evolve(OFF, harmonise=s))) for s in (0.0, 0.5, 1.0)]
    assert spreads[0] > spreads[1] > spreads[2]
    assert spreads[2] < 0.4 * spreads[0]


def test_harmonising_keeps_lightness():
    image = scattered_colours()
    change = np.abs(lab(finish(image, attrs.evolve(OFF, harmonise=1.0)))[..., 0] - lab(image)[..., 0])
    assert change.mean() < 0.5 and np.percentile(change, 99) < 3.0  # L runs 0-100; gamut clipping only


def test_harmonising_a_single_colour_image_leaves_it_alone():
    image = grey(20, 30, 0.3) * np.array([1.0, 0.8, 0.6], np.float32)
    assert np.allclose(finish(image, attrs.evolve(OFF, harmonise=1.0)), image, atol=2e-3)


# --- 3. soften edges --------------------------------------------------------------------------------


def fine_texture(height=96, width=192, seed=0):
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (height, width)).astype(np.float32), (0, 0), 0.7)
    noise *= 0.06 / noise.std()
    return np.repeat((0.5 + noise)[..., None], 3, axis=2)


def high_frequency_energy(image):
    y = luma(image)
    return float(((y - cv2.GaussianBlur(y, (0, 0), 2.0)) ** 2).mean())


def left_to_right_depth(height, width):
    return np.repeat(np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :], height, axis=0)


def test_far_regions_lose_more_detail_than_near_ones():
    image = fine_texture()
    height, width = image.shape[:2]
    out = finish(image, attrs.evolve(OFF, soften_edges=1.0), depth=left_to_right_depth(height, width))
    near, far = slice(0, width // 5), slice(width - width // 5, width)
    assert high_frequency_energy(out[:, near]) > 0.9 * high_frequency_energy(image[:, near])
    assert high_frequency_energy(out[:, far]) < 0.3 * high_frequency_energy(image[:, far])


def test_more_softening_softens_more():
    image = fine_texture()
    depth = np.ones(image.shape[:2], np.float32)
    energies = [high_frequency_energy(finish(image, attrs.evolve(OFF, soften_edges=s), depth=depth))
                for s in (0.25, 0.5, 1.0)]
    assert energies[0] > energies[1] > energies[2]


def test_a_near_subject_keeps_its_crisp_outline():
    image = fine_texture(128, 128)
    depth = np.ones((128, 128), np.float32)
    image[32:96, 32:96] = [0.9, 0.2, 0.1]  # a red square in front of a textured far wall
    depth[32:96, 32:96] = 0.0
    out = finish(image, attrs.evolve(OFF, soften_edges=1.0), depth=depth)
    assert np.array_equal(out[32:96, 32:96], image[32:96, 32:96])
    # The wall right next to the subject is smoothed but does not take on its red.
    assert np.abs(out[32:96, 28:32, 0] - 0.5).mean() < 0.1


# --- 4. canvas and paper texture ----------------------------------------------------------------------


def axis_spectrum_peak(image):
    """(frequency in cycles per pixel, prominence) of the strongest component varying along x; the
    prominence is its power over the median power of the frequencies within 30 % of it, so a line in
    the spectrum stands out and a broad hump (however strong) does not."""
    y = luma(image) - luma(image).mean()
    power = np.abs(np.fft.rfft2(y)) ** 2
    band = power[:3].sum(axis=0) + power[-2:].sum(axis=0)  # |ky| <= 2
    band[:4] = 0.0  # the slow drifts
    peak = int(band.argmax())
    around = np.concatenate([band[int(0.7 * peak) : peak - 3], band[peak + 4 : int(1.3 * peak) + 1]])
    return peak / y.shape[1], band[peak] / np.median(around)


def test_canvas_has_a_thread_period_of_about_three_thousandths_of_the_long_side():
    image = grey(640, 1600)  # 1600 * 0.003 = 4.8 px threads
    frequency, prominence = axis_spectrum_peak(finish(image, attrs.evolve(OFF, texture_strength=1.0)))
    assert frequency == pytest.approx(1 / 4.8, rel=0.05)
    assert prominence > 100


def test_a_small_image_gets_threads_at_least_three_pixels_apart():
    frequency, _ = axis_spectrum_peak(finish(grey(100, 200), attrs.evolve(OFF, texture_strength=1.0)))
    assert frequency == pytest.approx(1 / 3, rel=0.05)


def test_paper_has_no_thread_period():
    image = grey(640, 1600)
    _, prominence = axis_spectrum_peak(finish(image, attrs.evolve(OFF, texture="paper", texture_strength=1.0)))
    assert prominence < 10


@pytest.mark.parametrize("texture", ["canvas", "paper"])
def test_texture_strength_scales_the_relief_and_keeps_brightness(texture):
    image = random_image(120, 160) * 0.6 + 0.2
    effects = []
    for strength in (0.25, 0.5, 1.0):
        out = finish(image, attrs.evolve(OFF, texture=texture, texture_strength=strength))
        assert abs(out.mean() - image.mean()) < 0.003
        effects.append((out - image).std())
    assert 0 < effects[0] < effects[1] < effects[2]
    assert effects[2] == pytest.approx(4 * effects[0], rel=0.1)


# --- at print size ----------------------------------------------------------------------------------

SOURCE_SIZE, PRINT_SIZE = (100, 1536), (600, 9216)  # enlarged 6 times: stroke edges spread over ~6 px, radius 3
GRAINY = PostSettings(texture="paper", texture_strength=0.6)


def print_rows(rows, top=0, keep=None, post=GRAINY, seed=3, size=PRINT_SIZE, dpi=300):
    keep = slice(0, rows.shape[0]) if keep is None else keep
    return PainterlyPostProcessor().finish_print_rows(rows, top, keep, SOURCE_SIZE, size, post, seed, dpi)


def soft_step(height=40, width=600, blur=3.0):
    """A painted edge enlarged: dark left, light right, spread over a few pixels as an enlargement does."""
    step = np.where(np.arange(width) < width // 2, 0.2, 0.8).astype(np.float32)
    step = cv2.GaussianBlur(step[None, :].repeat(height, axis=0), (0, 0), blur)
    return np.repeat(step[..., None], 3, axis=2)


def rise_width(profile):
    """Pixels over which the profile climbs from 10 % to 90 % of its range."""
    low, high = profile.min(), profile.max()
    return int(np.sum((profile > low + 0.1 * (high - low)) & (profile < low + 0.9 * (high - low))))


def test_print_finish_makes_an_enlarged_stroke_edge_crisp_without_a_halo():
    rows = soft_step()
    out = print_rows(rows, post=OFF)
    # measured: the 10-90 % rise goes from 8 px to 2 px (6 px at print_crisp 0.4, watercolour's)
    assert rise_width(out[20, :, 0]) <= 0.4 * rise_width(rows[20, :, 0])
    assert out.min() >= rows.min() - 1e-6 and out.max() <= rows.max() + 1e-6


def test_print_finish_leaves_a_smooth_ramp_alone():
    ramp = np.repeat(np.linspace(0.2, 0.8, 600, dtype=np.float32)[None, :, None], 3, axis=2).repeat(40, axis=0)
    np.testing.assert_allclose(print_rows(ramp, post=OFF)[:, 20:-20], ramp[:, 20:-20], atol=1e-5)


def test_print_finish_adds_the_grounds_grain_at_print_resolution():
    flat = grey(64, 600)
    out = print_rows(flat)
    fine = luma(out) - cv2.GaussianBlur(luma(out), (0, 0), 3.0)
    # measured: std 0.0085 of relative luminance at texture strength 0.6, no change in the mean
    assert fine.std() > 0.005
    assert abs(float(out.mean()) - 0.5) < 0.002
    np.testing.assert_allclose(print_rows(flat, post=attrs.evolve(GRAINY, texture_strength=0.0)), flat, atol=1e-6)


@pytest.mark.parametrize("texture", ["paper", "canvas"])
def test_print_finish_made_in_bands_equals_the_whole(texture):
    rows = random_image(300, 600, seed=4)
    rows = cv2.resize(cv2.resize(rows, (100, 50)), (600, 300), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    post = attrs.evolve(GRAINY, texture=texture)
    finisher = PainterlyPostProcessor()
    whole = print_rows(rows, post=post)
    context = finisher.print_context_rows(SOURCE_SIZE, PRINT_SIZE)
    assert context > 0
    bands = []
    for top in range(0, 300, 64):
        bottom = min(300, top + 64)
        first, last = max(0, top - context), min(300, bottom + context)
        bands.append(print_rows(rows[first:last], top=first, keep=slice(top - first, bottom - first), post=post))
    np.testing.assert_array_equal(np.vstack(bands), whole)


@pytest.mark.parametrize("dpi", [300, 600])
def test_an_enlarged_paintings_canvas_is_woven_at_print_resolution_with_threads_half_a_millimetre_apart(dpi):
    canvas = attrs.evolve(OFF, texture="canvas", texture_strength=1.0)
    frequency, prominence = axis_spectrum_peak(print_rows(grey(256, 1200), post=canvas, dpi=dpi))
    assert frequency == pytest.approx(25.4 / (0.5 * dpi), rel=0.05)  # 5.9 px at 300 DPI, 11.8 px at 600
    assert prominence > 100


def test_an_enlarged_paintings_paper_has_fibres_at_print_resolution_and_no_thread_period():
    paper = attrs.evolve(OFF, texture="paper", texture_strength=1.0)
    out = print_rows(grey(256, 1200), post=paper)
    grain_only = print_rows(grey(256, 1200), post=paper, size=(150, 2304))  # enlarged 1.5 times: no relief here
    # measured: 0.058 of relative luminance with the relief at print resolution, 0.030 without
    assert luma(out).std() / 0.5 > 1.5 * luma(grain_only).std() / 0.5
    assert axis_spectrum_peak(out)[1] < 10
    assert abs(float(out.mean()) - 0.5) < 0.003


@pytest.mark.parametrize(("enlargement", "relief"), [(1.0, True), (1.5, True), (1.6, False), (8.0, False)])
def test_the_painting_carries_its_own_relief_only_when_the_print_does_not_enlarge_it_much(enlargement, relief):
    image = grey(160, 240)
    post = attrs.evolve(OFF, texture="canvas", texture_strength=1.0)
    out = PainterlyPostProcessor().finish(image, np.zeros((160, 240), np.float32), post, 7,
                                          print_enlargement=enlargement)
    assert bool(luma(out).std() > 0.01) is relief


def test_print_finish_is_the_same_for_the_same_seed_and_another_for_another():
    rows = soft_step()
    assert np.array_equal(print_rows(rows, seed=5), print_rows(rows, seed=5))
    assert not np.array_equal(print_rows(rows, seed=5), print_rows(rows, seed=6))


def test_print_finish_refuses_rows_that_are_not_rgb():
    with pytest.raises(InvalidParameter, match="HxWx3"):
        print_rows(np.zeros((4, 5), np.float32))


def test_print_crispness_follows_the_style():
    rows = soft_step()
    softer = print_rows(rows, post=attrs.evolve(OFF, print_crisp=0.4))
    none = print_rows(rows, post=attrs.evolve(OFF, print_crisp=0.0))
    assert rise_width(print_rows(rows, post=OFF)[20, :, 0]) < rise_width(softer[20, :, 0]) < rise_width(rows[20, :, 0])
    np.testing.assert_array_equal(none, rows)
    with pytest.raises(InvalidParameter, match="print_crisp"):
        print_rows(rows, post=attrs.evolve(OFF, print_crisp=1.5))


def test_print_finish_puts_the_edge_where_the_strokes_drawn_at_print_size_have_it_in_the_paintings_colours():
    """The painting's edge (enlarged, spread over ~6 px) between two colours; the strokes, drawn again at
    print size in more saturated colours, step 3 px right of its middle (where the enlarged photo-size
    pixels had it is not where the stroke's outline runs): the result steps there, and every pixel is a
    mix of the painting's two colours, hardly tinted by the strokes' own."""
    width = 600
    left, right = np.float32([0.5, 0.3, 0.2]), np.float32([0.3, 0.5, 0.4])
    mix = (soft_step(width=width)[..., :1] - 0.2) / 0.6
    rows = left + mix * (right - left)
    flat_left, flat_right = np.float32([0.7, 0.2, 0.1]), np.float32([0.2, 0.6, 0.5])
    step = (np.arange(width) >= width // 2 + 3).astype(np.float32)[None, :, None]
    strokes = (flat_left + step * (flat_right - flat_left)) - (flat_left + mix * (flat_right - flat_left))
    finisher = PainterlyPostProcessor()
    out = finisher.finish_print_rows(rows, 0, slice(0, 40), SOURCE_SIZE, PRINT_SIZE, OFF, 3, 300, strokes)[20]
    share = (out - left) @ (right - left) / float((right - left) @ (right - left))
    # measured: half way at 303 (300 sharpened alone), 10-90 % rise 1 px, at most 0.025 off the mix
    assert np.argmax(share >= 0.5) == width // 2 + 3
    assert rise_width(share) <= 2
    assert np.abs(out - (left + share[:, None] * (right - left))).max() < 0.03
    assert share.min() >= -1e-4 and share.max() <= 1 + 1e-4


def test_print_finish_puts_the_paints_texture_made_at_print_size_in_place_of_the_enlarged_one_unsharpened():
    """A flat colour carrying the paint's texture enlarged (a soft bump, which the finish would sharpen
    into a plateau), and the texture made at print size (fine grooves): the bump goes, the grooves come
    as they are."""
    height, width = 40, 600
    bump = cv2.GaussianBlur(np.pad(np.full((1, 60), 0.1, np.float32), ((0, 0), (270, 270))), (0, 0), 8.0)
    enlarged = np.repeat(np.repeat(bump[..., None], 3, axis=2), height, axis=0)
    grooves = 0.05 * np.sin(np.arange(width, dtype=np.float32) * np.float32(2 * np.pi / 4.7))
    redrawn = np.repeat(np.repeat(grooves[None, :, None], 3, axis=2), height, axis=0)
    out = PainterlyPostProcessor().finish_print_rows(0.5 + enlarged, 0, slice(0, height), SOURCE_SIZE, PRINT_SIZE,
                                                     OFF, 3, 300, texture=PrintTexture(redrawn, enlarged))
    np.testing.assert_allclose(out, 0.5 + redrawn, atol=1e-5)


@pytest.mark.parametrize(("out_size", "crisp", "sharpens"), [
    ((150, 2304), 1.0, False),  # enlarged 1.5 times: edges spread over under 2 px, nothing to make crisp
    (PRINT_SIZE, 1.0, True),
    (PRINT_SIZE, 0.0, False),  # a style with no crisp print finish
])
def test_the_print_finish_says_whether_it_makes_stroke_edges_crisp(out_size, crisp, sharpens):
    post = attrs.evolve(OFF, print_crisp=crisp)
    assert PainterlyPostProcessor().sharpens_print(SOURCE_SIZE, out_size, post) is sharpens


@pytest.mark.parametrize(("step", "images_at_most"), [("soften_edges", 6.2), ("harmonise", 8.3)])
def test_a_step_works_in_the_finishs_own_copy_with_no_second_image_beside_it(step, images_at_most):
    """Measured on 400 x 600 (tracemalloc sees numpy's arrays): softening peaked at 7.0 images' worth and
    harmonising at 8.8 when each made its result anew, 5.3 and 7.5-7.8 in place (at 12 MP an image is
    137 MiB)."""
    image = random_image(400, 600)
    tracemalloc.start()
    try:
        finish(image, attrs.evolve(OFF, **{step: 1.0}), depth=np.ones((400, 600), np.float32))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < images_at_most * image.nbytes
