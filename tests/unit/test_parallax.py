"""The parallax preview: nearer layers move more, measured on the frames themselves."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rilievo.domain.layers import LayerPlan, layer_alphas, layer_rgba, stack_over
from rilievo.domain import parallax
from rilievo.domain.parallax import downsample_layer, parallax_frames_on_demand, layer_offsets, parallax_frames

HEIGHT, WIDTH = 72, 160
RED, GREEN, YELLOW = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 1.0, 0.0)
BACKGROUND = (0.2, 0.2, 0.6)


def three_plane_scene():
    """A red square in front (depth 20), a green one in the middle (128) and a yellow patch painted
    on the back (235), each colour found in one layer only, apart so none hides another."""
    depth8 = np.full((HEIGHT, WIDTH), 235, np.uint8)
    image = np.empty((HEIGHT, WIDTH, 3), np.float32)
    image[:] = BACKGROUND
    image[20:40, 110:130] = YELLOW  # on the back
    depth8[20:44, 20:44], image[20:44, 20:44] = 20, RED
    depth8[24:48, 64:88], image[24:48, 64:88] = 128, GREEN
    plan = LayerPlan.from_depth(depth8, 3)
    alphas = layer_alphas(plan.membership(depth8), plan.count, feather_px=0)
    layers = [layer_rgba(image, alpha) for alpha in alphas]
    # What the back pane shows behind the nearer ones (the fill-behind step), known for this scene.
    layers[2][20:44, 20:44, :3] = BACKGROUND
    layers[2][24:48, 64:88, :3] = BACKGROUND
    centres = [(r.lo + r.hi) / 2 for r in plan.ranges]
    return layers, centres


def centroid_x(frame, colour):
    """Where the pixels of one colour sit, on average (numpy only: the measurement knows nothing of
    the offsets the animation used)."""
    match = np.all(np.abs(frame - np.asarray(colour, np.float32)) < 0.02, axis=-1)
    assert match.sum() > 100, f"no {colour} object in the frame"
    return np.nonzero(match)[1].mean()


def test_the_front_moves_more_than_the_middle_and_the_back_stays():
    layers, centres = three_plane_scene()
    frames = parallax_frames(layers, centres, frames=24, max_shift_px=8)
    right, left = frames[6], frames[18]  # the two ends of the sway
    moved = [centroid_x(right, colour) - centroid_x(left, colour) for colour in (RED, GREEN, YELLOW)]
    front, mid, back = moved
    assert front > mid > abs(back)
    assert front == pytest.approx(16, abs=0.5)  # twice the amplitude, end to end
    assert mid == pytest.approx(16 * (centres[2] - centres[1]) / (centres[2] - centres[0]), abs=1)
    assert back == pytest.approx(0, abs=0.01)


def test_with_the_pivot_in_the_middle_the_back_moves_the_other_way():
    layers, centres = three_plane_scene()
    frames = parallax_frames(layers, centres, frames=8, max_shift_px=8, pivot="middle")
    front, back = (centroid_x(frames[2], colour) - centroid_x(frames[6], colour) for colour in (RED, YELLOW))
    assert front > 0 > back
    assert front - back == pytest.approx(16, abs=0.5)


def test_frames_are_the_requested_count_of_rgb_images_of_the_layers_size():
    layers, centres = three_plane_scene()
    frames = parallax_frames(layers, centres, frames=12)
    assert len(frames) == 12
    assert all(frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.float32 for frame in frames)
    assert all(frame.min() >= 0 and frame.max() <= 1 for frame in frames)


def test_the_loop_starts_from_the_picture_itself():
    layers, centres = three_plane_scene()
    first = parallax_frames(layers, centres, frames=8)[0]
    np.testing.assert_allclose(first, stack_over(layers), atol=1e-6)


def test_the_sway_is_a_sine_loop():
    layers, centres = three_plane_scene()
    frames = parallax_frames(layers, centres, frames=8, max_shift_px=6)
    # Frames 1 and 3 are the same point of the sway going out and coming back.
    np.testing.assert_allclose(frames[1], frames[3], atol=1e-6)
    np.testing.assert_allclose(frames[0], frames[4], atol=1e-6)


@given(
    # layer centres are midpoints of 8-bit depth ranges: multiples of half a level
    st.lists(st.integers(0, 510), min_size=2, max_size=5, unique=True).map(lambda xs: sorted(x / 2 for x in xs)),
    st.integers(0, 47),
    st.floats(0.5, 40),
)
def test_offsets_grow_with_nearness_and_the_back_pivot_stays_still(centres, frame, max_shift):
    """Offsets are proportional to (back - depth); the back never moves; front minus back follows
    the sine of the sway."""
    offsets = layer_offsets(centres, frame, 48, max_shift)
    sway = max_shift * np.sin(2 * np.pi * frame / 48)
    assert offsets[-1] == 0
    assert offsets[0] - offsets[-1] == pytest.approx(sway, abs=1e-9)
    for offset, centre in zip(offsets, centres):
        assert offset == pytest.approx(sway * (centres[-1] - centre) / (centres[-1] - centres[0]), abs=1e-9)


def test_a_layer_slides_without_wrapping_round():
    # A front layer covering everything, dark except a white last column: a wrap-around (np.roll)
    # would bring the white in at the left edge.
    front = np.zeros((10, 40, 4), np.float32)
    front[..., 3] = 1.0
    front[:, -1, :3] = 1.0
    back = np.ones((10, 40, 4), np.float32)
    frames = parallax_frames([front, back], [10, 240], frames=4, max_shift_px=5.5)
    shifted_right, shifted_left = frames[1], frames[3]
    assert np.all(shifted_right == 0)  # the dark first column repeats at the left; no white wraps in
    assert np.all(shifted_left[:, -5:] == 1)  # the white last column repeats at the right
    assert np.all(shifted_left[:, :-7] == 0)


def test_sub_pixel_shifts_move_smoothly():
    front = np.zeros((4, 40, 4), np.float32)
    front[:, 20, :] = 1.0  # one opaque white column
    back = np.concatenate([np.zeros((4, 40, 3)), np.ones((4, 40, 1))], axis=-1).astype(np.float32)
    frame = parallax_frames([front, back], [0, 255], frames=4, max_shift_px=0.5)[1]
    np.testing.assert_allclose(frame[0, 20:22, 0], [0.5, 0.5], atol=1e-6)


def test_preview_sized_layers_only():
    big = np.zeros((10, 1025, 4), np.float32)
    with pytest.raises(ValueError, match="downsample"):
        parallax_frames([big, big], [0, 255])
    with pytest.raises(ValueError, match="depth centres"):
        parallax_frames([big[:, :10]], [0, 255])


def test_downsampling_a_layer_keeps_its_edge_colours():
    rgb, alpha = np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.float32)
    rgb[:, :1], alpha[:, :1] = 1.0, 1.0  # a white column beside transparent ones
    small = downsample_layer(rgb, alpha, 2)
    np.testing.assert_allclose(small[:, 0], [[1.0, 1.0, 1.0, 0.5]] * 2)
    np.testing.assert_allclose(small[:, 1], 0)


@pytest.mark.parametrize("factor", [1, 2, 3, 7])
def test_a_layer_downsampled_strip_by_strip_is_the_whole_layer_box_averaged(monkeypatch, factor):
    """Premultiplied box averages of layer_rgba's layer, however few rows each strip holds."""
    rng = np.random.default_rng(factor)
    rgb = rng.random((45, 38, 3), dtype=np.float32)
    alpha = np.where(rng.random((45, 38)) < 0.3, 0.0, rng.random((45, 38))).astype(np.float32)
    monkeypatch.setattr(parallax, "STRIP_PIXELS", 1)  # one row of blocks a strip
    small = downsample_layer(rgb, alpha, factor)
    rgba = layer_rgba(rgb, alpha)
    height, width = 45 // factor * factor, 38 // factor * factor
    premultiplied = rgba[:height, :width].copy()
    premultiplied[..., :3] *= premultiplied[..., 3:]
    means = premultiplied.reshape(height // factor, factor, width // factor, factor, 4).mean(axis=(1, 3))
    expected = means.copy()
    covered = means[..., 3] > 0
    expected[..., :3] = np.where(covered[..., None], means[..., :3] / np.where(covered, means[..., 3], 1)[..., None], 0)
    assert small.shape == expected.shape and small.dtype == np.float32
    np.testing.assert_allclose(small, np.clip(expected, 0, 1), atol=1e-6)


@pytest.mark.parametrize("box", [(slice(10, 23), slice(5, 17)), (slice(0, 2), slice(36, 38)), (slice(0, 0), slice(0, 0))])
def test_a_layer_covering_part_of_the_picture_downsamples_the_same_as_worked_out_whole(monkeypatch, box):
    rng = np.random.default_rng(9)
    rgb, alpha = rng.random((45, 38, 3), dtype=np.float32), np.zeros((45, 38), np.float32)
    alpha[box] = rng.random((45, 38), dtype=np.float32)[box]
    small = downsample_layer(rgb, alpha, 3)
    monkeypatch.setattr(parallax, "box_around", lambda mask: (slice(0, mask.shape[0]), slice(0, mask.shape[1])))
    np.testing.assert_array_equal(small, downsample_layer(rgb, alpha, 3))


def test_frames_made_on_demand_are_the_listed_frames_and_bad_layers_are_refused_at_once():
    layers, centres = three_plane_scene()
    frames = parallax_frames_on_demand(layers, centres, frames=6, max_shift_px=4)
    listed = parallax_frames(layers, centres, frames=6, max_shift_px=4)
    assert len(frames) == 6
    for index in [3, 0, 5, 1, 4, 2, 3]:  # in any order, and again: each frame is made from the layers alone
        np.testing.assert_array_equal(frames[index], listed[index])
    with pytest.raises(ValueError, match="depth centres"):
        parallax_frames_on_demand(layers, centres[:2])
