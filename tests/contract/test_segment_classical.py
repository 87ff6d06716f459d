import numpy as np

from rilievo.adapters.segment_classical import ClassicalSegmenter
from rilievo.domain.regions import Regions


def test_every_pixel_gets_one_region_at_the_photo_size():
    rng = np.random.default_rng(0)
    image = rng.random((123, 301, 3), dtype=np.float32)
    regions = ClassicalSegmenter().segment(image)
    assert regions.labels.shape == (123, 301)
    assert set(np.unique(regions.labels)) == set(range(regions.count))


def test_two_flat_colours_become_two_regions_split_at_their_border():
    image = np.zeros((80, 120, 3), np.float32)
    image[:, 60:] = (0.9, 0.2, 0.1)
    regions = ClassicalSegmenter().segment(image)
    assert regions.count == 2
    assert regions.labels[:, :58].max() == regions.labels[:, :58].min()
    assert regions.labels[:, 62:].max() == regions.labels[:, 62:].min()
    assert regions.labels[0, 0] != regions.labels[0, -1]


def test_a_crop_keeps_only_the_regions_inside_it_renumbered():
    labels = np.array([[0, 0, 1, 1], [2, 2, 3, 3]], np.int32)
    regions = Regions(labels, ("a", "b", "c", "d"))
    inside = regions.cropped((slice(0, 2), slice(2, 4)))
    assert inside.labels.tolist() == [[0, 0], [1, 1]]
    assert inside.names == ("b", "d")
