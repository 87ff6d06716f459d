"""The photo the estimators accept: checked, clipped, and not copied when there is nothing to change."""

import numpy as np
import pytest

from rilievo.adapters.photo_input import checked_rgb
from rilievo.domain.errors import DepthEstimationFailed


def test_a_photo_in_range_comes_back_as_a_read_only_view_of_itself():
    photo = np.random.default_rng(1).random((80, 90, 3), dtype=np.float32)
    checked = checked_rgb(photo, DepthEstimationFailed, "depth")
    assert np.shares_memory(checked, photo) and not checked.flags.writeable
    np.testing.assert_array_equal(checked, photo)


def test_values_out_of_range_are_clipped_in_a_copy():
    photo = np.linspace(-0.5, 1.5, 80 * 90 * 3, dtype=np.float64).reshape(80, 90, 3)
    checked = checked_rgb(photo, DepthEstimationFailed, "depth")
    assert checked.dtype == np.float32 and checked.min() == 0.0 and checked.max() == 1.0
    assert photo.min() == -0.5  # the photo itself untouched


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_values_are_refused(bad):
    photo = np.full((80, 90, 3), 0.5, np.float32)
    photo[40, 45, 1] = bad
    with pytest.raises(DepthEstimationFailed, match="NaN or infinite"):
        checked_rgb(photo, DepthEstimationFailed, "depth")
