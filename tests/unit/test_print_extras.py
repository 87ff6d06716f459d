"""White underbase, second-surface mirroring, crop and registration marks (pure numpy)."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rilievo.domain.print_extras import (
    MARK_LENGTH_MM,
    MARKS_MARGIN_MM,
    mark_patches,
    marks_margin_px,
    mirrored,
    white_ink_mask,
    with_marks,
)

alphas = arrays(
    np.float32,
    st.tuples(st.integers(1, 20), st.integers(1, 20)),
    elements=st.floats(0, 1, width=32),
)
chokes = st.integers(0, 3)
PIXEL_MM_300_DPI = 25.4 / 300


def brute_force_erosion(alpha, radius):
    height, width = alpha.shape
    padded = np.pad(alpha, radius, mode="edge")
    out = np.full_like(alpha, np.inf)
    for dy, dx in itertools.product(range(-radius, radius + 1), repeat=2):
        if dy * dy + dx * dx <= (radius + 0.5) ** 2:
            out = np.minimum(out, padded[radius + dy : radius + dy + height, radius + dx : radius + dx + width])
    return out


@given(alphas, chokes)
def test_the_white_stays_inside_the_colour(alpha, choke):
    """The underbase is never more than the alpha, and stays in [0, 1]."""
    white = white_ink_mask(alpha, choke)
    assert white.shape == alpha.shape and white.dtype == np.float32
    assert np.all(white <= alpha) and np.all((white >= 0) & (white <= 1))


@given(alphas, st.integers(0, 2))
def test_more_choke_never_gives_more_white(alpha, choke):
    """Pointwise, a larger choke gives an underbase no larger than a smaller one."""
    assert np.all(white_ink_mask(alpha, choke + 1) <= white_ink_mask(alpha, choke))


@given(alphas)
def test_no_choke_is_the_alpha_itself(alpha):
    """Choke 0 puts white exactly where the colour is."""
    np.testing.assert_array_equal(white_ink_mask(alpha, 0), alpha)


@pytest.mark.parametrize("choke", [1, 2, 3])
def test_the_choke_is_a_min_filter_over_a_disc_with_the_border_continued(choke, monkeypatch):
    rng = np.random.default_rng(choke)
    alpha = rng.random((37, 41)).astype(np.float32)
    # Bands of a few rows, so the seams between bands are exercised too.
    monkeypatch.setattr("rilievo.domain.print_extras.CHOKE_BAND_ROWS", 5)
    np.testing.assert_array_equal(white_ink_mask(alpha, choke), brute_force_erosion(alpha, choke))


def test_a_choke_pulls_the_white_back_from_the_edge_by_that_many_pixels():
    alpha = np.zeros((30, 30), np.float32)
    alpha[5:25, 5:25] = 1.0
    white = white_ink_mask(alpha, 2)
    np.testing.assert_array_equal(np.argwhere(white == 1).min(axis=0), [7, 7])
    np.testing.assert_array_equal(np.argwhere(white == 1).max(axis=0), [22, 22])
    # A full-bleed layer keeps its white up to the pane's edge.
    np.testing.assert_array_equal(white_ink_mask(np.ones((9, 9), np.float32), 3), 1)


@pytest.mark.parametrize("choke", [-1, 1.5, True])
def test_a_choke_must_be_a_whole_number_of_pixels(choke):
    with pytest.raises(ValueError):
        white_ink_mask(np.ones((4, 4), np.float32), choke)


def test_mirroring_flips_left_and_right_only():
    rgba = np.random.default_rng(0).random((5, 7, 4)).astype(np.float32)
    flipped = mirrored(rgba)
    np.testing.assert_array_equal(flipped[:, 0], rgba[:, -1])
    np.testing.assert_array_equal(flipped[2], rgba[2, ::-1])
    np.testing.assert_array_equal(mirrored(flipped), rgba)
    np.testing.assert_array_equal(mirrored(rgba[..., 3]), rgba[:, ::-1, 3])


def marks_of(canvas):
    return (canvas[..., 3] == 1) & np.all(canvas[..., :3] == 0, axis=-1)


def test_marks_go_on_a_transparent_margin_around_the_unchanged_image():
    rgba = np.random.default_rng(1).random((300, 420, 4)).astype(np.float32)
    margin = marks_margin_px(PIXEL_MM_300_DPI)
    canvas = with_marks(rgba, margin, PIXEL_MM_300_DPI)
    assert canvas.shape == (300 + 2 * margin, 420 + 2 * margin, 4)
    np.testing.assert_array_equal(canvas[margin:-margin, margin:-margin], rgba)
    margin_area = np.ones(canvas.shape[:2], bool)
    margin_area[margin:-margin, margin:-margin] = False
    painted = canvas[..., 3] > 0
    # Everything painted in the margin is a mark in opaque black; the rest is fully transparent.
    assert np.array_equal(painted & margin_area, marks_of(canvas) & margin_area)
    assert np.all(canvas[margin_area & ~painted] == 0)
    assert 0.003 < painted[margin_area].mean() < 0.05


def test_every_layer_gets_its_marks_in_the_same_places():
    rng = np.random.default_rng(2)
    margin = marks_margin_px(PIXEL_MM_300_DPI)
    layers = [rng.random((200, 260, 4)).astype(np.float32) for _ in range(3)]
    layers[1][..., 3] = 0  # an empty layer still carries the marks
    marks = [marks_of(with_marks(layer, margin, PIXEL_MM_300_DPI)) for layer in layers]
    outside = np.ones_like(marks[0])
    outside[margin:-margin, margin:-margin] = False
    for other in marks[1:]:
        np.testing.assert_array_equal(other & outside, marks[0] & outside)


def test_crop_marks_continue_the_trim_lines_and_registration_marks_centre_each_margin():
    height, width = 200, 260
    margin = marks_margin_px(PIXEL_MM_300_DPI)
    marks = marks_of(with_marks(np.zeros((height, width, 4), np.float32), margin, PIXEL_MM_300_DPI))
    length_px = MARK_LENGTH_MM / PIXEL_MM_300_DPI
    # The top-left crop mark: a horizontal line on the top trim line, left of the image.
    row = marks[margin - 1, :margin]
    assert abs(row.sum() - length_px) <= 2 and not row[-10:].any()
    # and a vertical one on the left trim line, above it.
    column = marks[:margin, margin]
    assert abs(column.sum() - length_px) <= 2 and not column[-10:].any()
    # Registration marks: each symmetric about the middle of its side's margin.
    # (Away from the corners: crop marks are as thick on the image's side of a trim line as outside.)
    top = marks[:margin, margin + 10 : margin + width - 10]
    left = marks[margin + 10 : margin + height - 10, :margin]
    for mark in (top, left):
        assert mark.any()
        np.testing.assert_array_equal(mark, mark[::-1, ::-1])


def test_marks_are_at_least_a_pixel_wide_and_about_a_quarter_millimetre():
    for dpi in (300, 600):
        pixel_mm = 25.4 / dpi
        margin = marks_margin_px(pixel_mm)
        assert margin * pixel_mm == pytest.approx(MARKS_MARGIN_MM, abs=pixel_mm)
        marks = marks_of(with_marks(np.zeros((400, 400, 4), np.float32), margin, pixel_mm))
        line = marks[:margin, margin]  # the top-left vertical crop mark, across its width
        thickness = marks[margin // 2, margin - 8 : margin + 8].sum()
        assert line.any() and 0.2 <= thickness * pixel_mm <= 0.4


def test_marks_survive_mirroring_unchanged():
    rgba = np.random.default_rng(3).random((121, 200, 4)).astype(np.float32)
    margin = marks_margin_px(PIXEL_MM_300_DPI)
    np.testing.assert_array_equal(
        with_marks(mirrored(rgba), margin, PIXEL_MM_300_DPI),
        mirrored(with_marks(rgba, margin, PIXEL_MM_300_DPI)),
    )


def test_a_white_ink_mask_gets_the_same_marks_at_full_coverage():
    alpha = np.random.default_rng(4).random((80, 90, 4)).astype(np.float32)
    margin = marks_margin_px(PIXEL_MM_300_DPI)
    colour = with_marks(alpha, margin, PIXEL_MM_300_DPI)
    white = with_marks(white_ink_mask(alpha[..., 3], 1), margin, PIXEL_MM_300_DPI)
    outside = np.ones(white.shape, bool)
    outside[margin:-margin, margin:-margin] = False
    np.testing.assert_array_equal((white == 1) & outside, marks_of(colour) & outside)


def test_integer_pixels_keep_their_dtype_and_get_marks_at_full_scale():
    rgba = np.full((50, 60, 4), 1000, np.uint16)
    canvas = with_marks(rgba, 30, PIXEL_MM_300_DPI)
    assert canvas.dtype == np.uint16
    assert set(np.unique(canvas[..., 3])) == {0, 1000, 65535}


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 130))
def test_marks_never_cover_the_image_however_small_the_margin(height, width, margin):
    for top, left, mask in mark_patches(height, width, margin, PIXEL_MM_300_DPI):
        rows, columns = np.nonzero(mask)
        rows, columns = rows + top, columns + left
        inside = (rows >= margin) & (rows < margin + height) & (columns >= margin) & (columns < margin + width)
        assert not inside.any()
        assert rows.min() >= 0 and columns.min() >= 0
        assert rows.max() < height + 2 * margin and columns.max() < width + 2 * margin
