"""The per-pixel helpers of domain.images: the same numbers as numpy's broadcasting and boolean indexing."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rilievo.domain.images import per_pixel, pixel_items


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_a_weight_per_pixel_gives_the_numbers_of_broadcasting_it(height, width, channels, seed):
    rng = np.random.default_rng(seed)
    colours = rng.random((height, width, channels), dtype=np.float32) * 2 - 0.5
    weight = rng.random((height, width), dtype=np.float32)
    for operation in (np.multiply, np.divide):
        want = operation(colours, weight[..., None])
        np.testing.assert_array_equal(per_pixel(operation, colours, weight), want)
        in_place = colours.copy()
        assert per_pixel(operation, in_place, weight, out=in_place) is in_place
        np.testing.assert_array_equal(in_place, want)
    mask = weight > 0.5
    assert per_pixel(np.multiply, colours, mask).dtype == np.float32
    np.testing.assert_array_equal(per_pixel(np.multiply, colours, mask), colours * mask[..., None])


def test_a_weight_per_pixel_writes_into_a_strided_view():
    """The layer bands take the colours into the first three channels of an RGBA band."""
    rng = np.random.default_rng(0)
    rgb, visible = rng.random((5, 7, 3), dtype=np.float32), rng.random((5, 7)) > 0.3
    band = np.full((5, 7, 4), 9.0, np.float32)
    per_pixel(np.multiply, rgb, visible, out=band[..., :3])
    np.testing.assert_array_equal(band[..., :3], rgb * visible[..., None])
    assert (band[..., 3] == 9.0).all()


@given(st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_pixel_items_gather_and_scatter_as_a_boolean_index_of_the_pixels_does(height, width, seed):
    rng = np.random.default_rng(seed)
    image = rng.random((height, width, 3), dtype=np.float32)
    mask = rng.random((height, width)) < 0.4
    gathered = pixel_items(image)[mask]
    np.testing.assert_array_equal(gathered.view(np.float32).reshape(-1, 3), image[mask])
    colours = rng.random((int(mask.sum()), 3), dtype=np.float32)
    want, got = image.copy(), image.copy()
    want[mask] = colours
    pixel_items(got)[mask] = pixel_items(colours)
    np.testing.assert_array_equal(got, want)
