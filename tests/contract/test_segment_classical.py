"""Contract of the classical segmenter, on drawn scenes and scikit-image's sample photos."""

import cv2
import numpy as np
import pytest
import skimage.data

from rilievo.adapters.faces import find_faces
from rilievo.adapters.segment_classical import ClassicalSegmenter
from rilievo.domain.regions import Regions


def blocks(height, width, cell, seed):
    """Random colour blocks of `cell` px: a texture with sharp edges."""
    rng = np.random.default_rng(seed)
    small = rng.random((max(1, height // cell), max(1, width // cell), 3)).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def disc_scene(height=300, width=400, scale=1):
    """A textured orange disc in front of a blurred, many-coloured background; the disc mask."""
    h, w = height, width
    background = 0.3 * cv2.GaussianBlur(blocks(h, w, 8, 2), (0, 0), 3) + 0.5 * np.float32([0.3, 0.5, 0.4])
    rows, cols = np.indices((h, w))
    disc = np.hypot(rows - 0.47 * h, cols - 0.55 * w) < 0.23 * h
    image = background.copy()
    image[disc] = (0.8 * np.float32([0.9, 0.6, 0.1]) + 0.2 * blocks(h, w, 5, 3))[disc]
    if scale != 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        disc = cv2.resize(disc.astype(np.uint8), None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) > 0
    return image, disc


def region_of(regions, mask):
    """The region that covers most of mask, its coverage of mask and the share of it inside mask."""
    index = int(np.bincount(regions.labels[mask], minlength=regions.count).argmax())
    region = regions.labels == index
    return index, (region & mask).sum() / mask.sum(), (region & mask).sum() / region.sum()


@pytest.fixture(scope="module")
def segmenter():
    return ClassicalSegmenter()


@pytest.fixture(scope="module")
def astronaut_regions(segmenter):
    return segmenter.segment(skimage.data.astronaut().astype(np.float32) / 255.0)


@pytest.mark.parametrize("shape", [(123, 301), (8, 8), (9, 31), (600, 1100)])
def test_every_pixel_gets_one_region_at_the_photo_size(segmenter, shape):
    rng = np.random.default_rng(0)
    image = cv2.resize(rng.random((40, 60, 3), dtype=np.float32), shape[::-1], interpolation=cv2.INTER_LINEAR)
    regions = segmenter.segment(image)
    assert regions.labels.shape == shape
    assert set(np.unique(regions.labels)) == set(range(regions.count))


def test_two_flat_colours_become_two_regions_split_at_their_border(segmenter):
    image = np.zeros((80, 120, 3), np.float32)
    image[:, 60:] = (0.9, 0.2, 0.1)
    regions = segmenter.segment(image)
    assert regions.count == 2
    assert regions.labels[:, :58].max() == regions.labels[:, :58].min()
    assert regions.labels[:, 62:].max() == regions.labels[:, 62:].min()
    assert regions.labels[0, 0] != regions.labels[0, -1]


def test_a_disc_before_a_background_is_one_region_named_subject(segmenter):
    image, disc = disc_scene()
    regions = segmenter.segment(image)
    index, coverage, purity = region_of(regions, disc)
    assert regions.names[index] == "subject"
    assert coverage > 0.95
    assert purity > 0.85


def test_a_large_photo_keeps_the_subject_whole_with_its_outline_on_the_photo_edge(segmenter):
    image, disc = disc_scene(scale=4)  # 1600 x 1200, segmented at a third of that
    regions = segmenter.segment(image)
    index, coverage, _ = region_of(regions, disc)
    assert coverage > 0.95
    ring = cv2.dilate(disc.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool) & ~disc
    inner = disc & ~cv2.erode(disc.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
    assert (regions.labels[inner] == index).mean() > 0.85
    assert (regions.labels[ring] == index).mean() < 0.35  # GrabCut takes a little background, not a band


def test_the_astronaut_is_one_region_named_person_from_her_face_to_her_suit(astronaut_regions):
    labels = astronaut_regions.labels
    face, hair, suit, badge = labels[120, 220], labels[55, 200], labels[420, 100], labels[420, 180]
    assert astronaut_regions.names[face] == "person"
    assert face == hair == suit == badge
    assert labels[20, 480] != face  # the backdrop beside the shuttle
    assert labels[250, 20] != face  # the flag


def test_the_face_detector_finds_the_astronauts_face_and_no_cats(segmenter):
    faces = find_faces(skimage.data.astronaut().astype(np.float32) / 255.0)
    assert len(faces) == 1
    row, col = faces[0].centre
    assert 90 < row < 150 and 190 < col < 250
    assert find_faces(skimage.data.chelsea().astype(np.float32) / 255.0) == []


def test_sky_above_ground_are_named(segmenter):
    height, width, horizon = 300, 400, 120
    image = np.empty((height, width, 3), np.float32)
    image[:horizon] = np.linspace(0.75, 0.95, horizon)[:, None, None] * np.float32([0.55, 0.7, 1.0])
    image[horizon:] = 0.35 * np.float32([0.6, 0.5, 0.3]) + 0.1 * cv2.GaussianBlur(blocks(height, width, 4, 5), (0, 0), 1)[horizon:]
    regions = segmenter.segment(image)
    assert regions.names[regions.labels[10, 200]] == "sky"
    assert regions.names[regions.labels[290, 200]] == "ground"


def test_same_photo_same_regions(segmenter, astronaut_regions):
    again = ClassicalSegmenter().segment(skimage.data.astronaut().astype(np.float32) / 255.0)
    np.testing.assert_array_equal(again.labels, astronaut_regions.labels)
    assert again.names == astronaut_regions.names


def test_the_input_is_left_untouched(segmenter):
    image, _ = disc_scene()
    before = image.copy()
    segmenter.segment(image)
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("image", [np.zeros((32, 32), np.float32), np.zeros((32, 32, 3), np.uint8)], ids=["grey", "uint8"])
def test_malformed_image_is_rejected(segmenter, image):
    with pytest.raises(ValueError, match="HxWx3 float"):
        segmenter.segment(image)


def test_a_crop_keeps_only_the_regions_inside_it_renumbered():
    labels = np.array([[0, 0, 1, 1], [2, 2, 3, 3]], np.int32)
    regions = Regions(labels, ("a", "b", "c", "d"))
    inside = regions.cropped((slice(0, 2), slice(2, 4)))
    assert inside.labels.tolist() == [[0, 0], [1, 1]]
    assert inside.names == ("b", "d")
