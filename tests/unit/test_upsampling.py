"""Edge-aware enlargement of the depth map: sharp where the photo has an edge, bilinear where flat."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rilievo.domain.upsampling import joint_bilateral_rows

SCALE = 4


def edge_scene(height=24, width=48):
    """A photo dark on the left and light on the right, and a depth map stepping at the same column;
    the guide is the photo enlarged with its edge kept sharp."""
    photo = np.full((height, width, 3), 0.2, np.float32)
    photo[:, width // 2 :] = 0.8
    depth = np.zeros((height, width), np.float32)
    depth[:, width // 2 :] = 1.0
    guide = np.repeat(np.repeat(photo, SCALE, axis=0), SCALE, axis=1)
    return photo, depth, guide


def transition_width(row: np.ndarray) -> int:
    return int(np.argmax(row > 0.9)) - int(np.argmax(row > 0.1))


def test_the_depth_edge_stays_as_sharp_as_the_photo_edge():
    photo, depth, guide = edge_scene()
    out_size = (guide.shape[1], guide.shape[0])
    rows = np.arange(guide.shape[0])
    enlarged = joint_bilateral_rows(depth, photo, guide, rows, out_size)
    flat = joint_bilateral_rows(depth, photo, np.full_like(guide, 0.5), rows, out_size)  # no edge to follow
    middle = guide.shape[0] // 2
    # the step falls between columns 95 and 96, on the photo's edge; bilinear spreads it over 4 columns
    assert transition_width(enlarged[middle]) <= 1 < 3 <= transition_width(flat[middle])
    assert enlarged[middle, 95] < 0.01 and enlarged[middle, 96] > 0.99


def test_a_band_of_rows_equals_the_same_rows_of_the_whole():
    photo, depth, guide = edge_scene()
    rng = np.random.default_rng(0)
    depth = rng.random(depth.shape, dtype=np.float32)
    out_size = (guide.shape[1], guide.shape[0])
    whole = joint_bilateral_rows(depth, photo, guide, np.arange(guide.shape[0]), out_size)
    band = joint_bilateral_rows(depth, photo, guide[37:61], np.arange(37, 61), out_size)
    np.testing.assert_array_equal(band, whole[37:61])


class AskedRows:
    """An 8-bit map whose rows are made floats when sliced, as the print export gives the depth;
    records the rows asked for."""

    def __init__(self, map8):
        self.map8, self.shape, self.asked = map8, map8.shape, []

    def __getitem__(self, rows):
        self.asked.append((rows.start, rows.stop))
        return self.map8[rows].astype(np.float32) / np.float32(255.0)


def test_a_band_takes_only_the_map_rows_it_reads_and_equals_the_map_given_whole():
    photo, depth, guide = edge_scene()
    depth8 = np.random.default_rng(0).integers(0, 256, depth.shape, dtype=np.uint8)
    out_size = (guide.shape[1], guide.shape[0])
    asked = AskedRows(depth8)
    band = joint_bilateral_rows(asked, photo, guide[37:61], np.arange(37, 61), out_size)
    whole = joint_bilateral_rows(depth8.astype(np.float32) / np.float32(255.0), photo, guide[37:61],
                                 np.arange(37, 61), out_size)
    np.testing.assert_array_equal(band, whole)
    # output rows 37-60 at 4x sit between the map's rows 8 and 15 (8.875 to 14.625)
    assert asked.asked == [(8, 16)]


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, (6, 5), elements=st.floats(0, 1, width=32)),
       arrays(np.float32, (6, 5, 3), elements=st.floats(0, 1, width=32)),
       st.integers(5, 17), st.integers(6, 19))
def test_every_output_is_a_weighted_mean_of_its_neighbours(depth, photo, out_width, out_height):
    guide = np.random.default_rng(1).random((out_height, out_width, 3), dtype=np.float32)
    out = joint_bilateral_rows(depth, photo, guide, np.arange(out_height), (out_width, out_height))
    assert out.shape == (out_height, out_width)
    assert out.min() >= depth.min() - 1e-5 and out.max() <= depth.max() + 1e-5


def test_the_guide_must_match_the_rows():
    photo, depth, guide = edge_scene()
    with pytest.raises(ValueError, match="guide"):
        joint_bilateral_rows(depth, photo, guide[:3], np.arange(4), (guide.shape[1], guide.shape[0]))


def test_it_is_the_full_joint_bilateral_result_within_the_edge_step():
    """Bilinear where the map's 2 x 2 neighbourhood spans at most EDGE_STEP, bilateral elsewhere:
    nowhere further than EDGE_STEP from the bilateral weights at every pixel."""
    from rilievo.domain.upsampling import EDGE_STEP, _bilateral, source_positions

    photo, depth, guide = edge_scene()
    y, x = np.mgrid[0 : depth.shape[0], 0 : depth.shape[1]]
    depth = (depth * 0.5 + 0.3 * np.sin(x / 7.0) * np.cos(y / 5.0) + 0.2).astype(np.float32)  # slopes and a step
    out_size = (guide.shape[1], guide.shape[0])
    rows = np.arange(guide.shape[0])
    fast = joint_bilateral_rows(depth, photo, guide, rows, out_size)
    ys = np.clip(source_positions(np.repeat(rows, out_size[0]).astype(float), depth.shape[0], out_size[1]), 0, 23)
    xs = np.clip(source_positions(np.tile(np.arange(out_size[0]), len(rows)).astype(float), 48, out_size[0]), 0, 47)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    full = _bilateral(depth, photo, guide.reshape(-1, 3), (y0, np.minimum(y0 + 1, 23), (ys - y0).astype(np.float32)),
                      (x0, np.minimum(x0 + 1, 47), (xs - x0).astype(np.float32)), 0.1).reshape(fast.shape)
    assert np.abs(fast - full).max() <= EDGE_STEP + 1e-6
    assert 0 < np.mean(fast != full) < 1  # both kinds of pixel are in the scene
