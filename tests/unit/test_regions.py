"""Regions: cropping renumbers the regions a crop keeps, in their old order, with their names."""

import numpy as np

from rilievo.domain.regions import Regions


def test_a_crop_keeps_the_regions_inside_it_renumbered_in_their_old_order_with_their_names():
    labels = np.array([[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 3, 3]], np.int32)
    regions = Regions(labels, ("sky", "", "face", "subject", "ground"))
    cropped = regions.cropped((slice(1, 3), slice(1, 4)))
    np.testing.assert_array_equal(cropped.labels, [[0, 1, 1], [2, 1, 1]])
    assert cropped.labels.dtype == np.int32 and cropped.names == ("face", "subject", "ground")


def test_a_crop_gives_the_same_labels_as_numbering_the_ids_it_holds_in_order():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 300, (120, 90)).astype(np.int32)
    labels[labels % 7 == 0] = 5  # some ids used nowhere in the crop
    labels[0, 0] = 299
    regions = Regions(np.unique(labels, return_inverse=True)[1].reshape(labels.shape).astype(np.int32),
                      tuple(f"r{i}" for i in range(len(np.unique(labels)))))
    window = (slice(10, 70), slice(5, 60))
    kept, expected = np.unique(regions.labels[window], return_inverse=True)
    cropped = regions.cropped(window)
    np.testing.assert_array_equal(cropped.labels, expected.reshape(cropped.labels.shape))
    assert cropped.names == tuple(regions.names[i] for i in kept)


def test_the_whole_picture_as_crop_gives_the_regions_unchanged():
    regions = Regions(np.array([[0, 1], [2, 1]], np.int32), ("a", "b", "c"))
    whole = regions.cropped((slice(0, 2), slice(0, 2)))
    np.testing.assert_array_equal(whole.labels, regions.labels)
    assert whole.names == regions.names
