import numpy as np
import pytest

from rilievo.adapters.enhance import ClassicalEnhancer
from rilievo.domain.errors import InvalidParameter


def edge(width=120, height=80):
    """Dark left half, light right half, slightly warm."""
    image = np.empty((height, width, 3), np.float32)
    image[:, : width // 2] = [0.35, 0.3, 0.25]
    image[:, width // 2 :] = [0.65, 0.6, 0.55]
    return image


def contrast_across_the_edge(image):
    middle = image.shape[1] // 2
    return image[:, middle : middle + 3].mean() - image[:, middle - 3 : middle].mean()


def test_amount_zero_returns_an_identical_image():
    image = np.random.default_rng(0).random((20, 30, 3), dtype=np.float32)
    assert np.array_equal(ClassicalEnhancer().sharpen(image, 0.0), image)


def test_full_amount_increases_contrast_at_an_edge():
    image = edge()
    sharpened = ClassicalEnhancer().sharpen(image, 1.0)
    assert contrast_across_the_edge(sharpened) > contrast_across_the_edge(image) * 1.2


def test_more_amount_sharpens_more():
    enhancer = ClassicalEnhancer()
    gentle, strong = enhancer.sharpen(edge(), 0.3), enhancer.sharpen(edge(), 1.0)
    assert contrast_across_the_edge(strong) > contrast_across_the_edge(gentle)


def test_output_stays_in_unit_range():
    image = np.zeros((40, 40, 3), np.float32)
    image[:, 20:] = 1.0  # a black/white edge would overshoot without clipping
    sharpened = ClassicalEnhancer().sharpen(image, 1.0)
    assert sharpened.dtype == np.float32
    assert sharpened.min() >= 0.0 and sharpened.max() <= 1.0


def test_flat_gray_image_stays_flat():
    image = np.full((50, 70, 3), 0.4, np.float32)
    assert np.allclose(ClassicalEnhancer().sharpen(image, 1.0), 0.4, atol=1e-6)


def test_sharpening_does_not_shift_colour():
    image, sharpened = edge(), ClassicalEnhancer().sharpen(edge(), 1.0)
    # Every channel moves by the same amount, so channel differences (the colour) are kept.
    assert np.allclose(sharpened[..., 0] - sharpened[..., 2], image[..., 0] - image[..., 2], atol=1e-6)


@pytest.mark.parametrize("amount", [-0.1, 1.5])
def test_amount_outside_zero_to_one_is_refused(amount):
    with pytest.raises(InvalidParameter):
        ClassicalEnhancer().sharpen(edge(), amount)
