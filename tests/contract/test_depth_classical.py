"""Contract of the classical depth estimator, on synthetic scenes and a bundled real photo."""

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from rilievo.adapters.depth_classical import ClassicalDepth
from rilievo.domain.errors import DepthEstimationFailed
from rilievo.domain.regions import Regions
from tests.scenes import cloudy_sky

HAZE = np.array([0.75, 0.8, 0.9], np.float32)


def blocks(height, width, cell, seed):
    """Random colour blocks of `cell` px: a texture with sharp edges."""
    rng = np.random.default_rng(seed)
    small = rng.random((max(1, height // cell), max(1, width // cell), 3)).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def object_scene(height=300, width=400):
    """A sharp, saturated textured box in front of a blurred, hazy, low-contrast background."""
    background = 0.4 * cv2.GaussianBlur(blocks(height, width, 6, 0), (0, 0), 4) + 0.6 * HAZE
    box = np.zeros((height, width), bool)
    box[height // 3 : 3 * height // 4, width // 3 : 2 * width // 3] = True
    image = background.copy()
    image[box] = blocks(height, width, 5, 1)[box] * np.array([0.9, 0.3, 0.2], np.float32)
    return image, box


def ground_scene(height=300, width=400, horizon=100):
    """A checkered ground plane in perspective below a pale blue sky."""
    image = np.empty((height, width, 3), np.float32)
    image[:horizon] = np.linspace(0.6, 0.9, horizon)[:, None, None] * np.array([0.6, 0.75, 1.0])
    distance = 200.0 / np.arange(1, height - horizon + 1)[:, None]
    across = (np.arange(width) - width / 2)[None, :] * distance / 200.0
    checks = (np.floor(2 * distance) + np.floor(2 * across)) % 2
    image[horizon:] = (0.25 + 0.35 * checks)[..., None] * np.array([0.5, 0.8, 0.3])
    return image


@pytest.fixture(scope="module")
def estimator():
    return ClassicalDepth()


@pytest.fixture(scope="module")
def object_depth(estimator):
    image, box = object_scene()
    return estimator.estimate(image), box


def test_name():
    assert ClassicalDepth.name == "classical"


@pytest.mark.parametrize("shape", [(300, 200), (200, 300), (8, 8), (9, 31), (31, 9), (600, 1100)])
def test_output_is_hxw_float32_spanning_0_to_1(estimator, shape):
    image = cv2.resize(object_scene()[0], shape[::-1], interpolation=cv2.INTER_AREA)
    depth = estimator.estimate(image)
    assert depth.shape == shape
    assert depth.dtype == np.float32
    assert np.isfinite(depth).all()
    assert depth.min() == pytest.approx(0.0, abs=1e-6)
    assert depth.max() == pytest.approx(1.0, abs=1e-6)


def test_deterministic_and_input_untouched(estimator):
    image, _ = object_scene()
    before = image.copy()
    first = estimator.estimate(image)
    second = ClassicalDepth().estimate(image)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(image, before)


def test_sharp_foreground_object_is_nearer_than_blurred_hazy_background(object_depth):
    depth, box = object_depth
    assert depth[box].mean() < depth[~box].mean() - 0.2


def test_depth_edge_follows_object_edge_at_full_resolution(estimator):
    image, box = object_scene()
    big = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
    big_box = cv2.resize(box.astype(np.uint8), None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
    depth = estimator.estimate(big)
    kernel = np.ones((7, 7), np.uint8)
    inner_ring = big_box.astype(bool) & ~cv2.erode(big_box, kernel).astype(bool)
    outer_ring = cv2.dilate(big_box, kernel).astype(bool) & ~big_box.astype(bool)
    assert depth[inner_ring].mean() < depth[outer_ring].mean() - 0.1


def test_ground_plane_bottom_is_nearer_than_sky(estimator):
    depth = estimator.estimate(ground_scene())
    bottom, horizon, sky = depth[-30:].mean(), depth[100:130].mean(), depth[:30].mean()
    assert bottom < horizon < sky


def test_lower_flat_rectangle_is_nearer(estimator):
    image = np.full((300, 400, 3), 0.5, np.float32)
    image[220:280, 50:150] = (0.9, 0.1, 0.1)
    image[120:180, 150:250] = (0.1, 0.8, 0.2)
    image[30:90, 250:350] = (0.1, 0.2, 0.9)
    depth = estimator.estimate(image)
    corners = ((220, 50), (120, 150), (30, 250))
    low, middle, high = (depth[r : r + 60, c : c + 100].mean() for r, c in corners)
    assert low < middle < high


def test_flat_grey_image_still_gives_a_full_range_map(estimator):
    depth = estimator.estimate(np.full((64, 48, 3), 0.3, np.float32))
    assert depth.min() == 0.0 and depth.max() == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(7, 7), (7, 500), (500, 7), (0, 0)])
def test_too_small_image_is_rejected(estimator, shape):
    with pytest.raises(DepthEstimationFailed, match="at least 8x8"):
        estimator.estimate(np.zeros(shape + (3,), np.float32))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((32, 32), np.float32),
        np.zeros((32, 32, 4), np.float32),
        np.zeros((32, 32, 3), np.uint8),
        np.full((32, 32, 3), np.nan, np.float32),
    ],
    ids=["grey", "rgba", "uint8", "nan"],
)
def test_malformed_image_is_rejected(estimator, image):
    with pytest.raises(DepthEstimationFailed):
        estimator.estimate(image)


def test_real_photo_flower_in_front_of_defocused_leaves(estimator):
    """scikit-learn ships two photos; in this one a sharp dahlia stands before blurred leaves."""
    spec = importlib.util.find_spec("sklearn")  # located, not imported: importing is slow
    path = Path(spec.origin).parent / "datasets" / "images" / "flower.jpg"
    photo = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    depth = estimator.estimate(photo)
    height, width = depth.shape
    flower = depth[int(0.35 * height) : int(0.65 * height), int(0.3 * width) : int(0.5 * width)]
    leaves_above = depth[: int(0.15 * height)]
    assert flower.mean() < leaves_above.mean() - 0.3


# --- region cues: the depth follows the segmenter's subjects -------------------------------------


class GivenRegions:
    """A segmenter that returns fixed regions, whatever the photo."""

    name = "given"
    device = None

    def __init__(self, labels, names):
        self.regions = Regions(np.asarray(labels, np.int32), tuple(names))

    def segment(self, image):
        return self.regions


def standing_scene(height=300, width=400):
    """A plain wall above a floor, and a tall post standing on the floor; the post's mask."""
    image = np.empty((height, width, 3), np.float32)
    image[: height // 2] = (0.7, 0.7, 0.65)
    image[height // 2 :] = (0.45, 0.35, 0.25)
    post = np.zeros((height, width), bool)
    post[60:250, 180:220] = True
    image[post] = (0.2, 0.3, 0.7)
    return image, post


def test_a_subject_standing_on_the_floor_is_as_near_at_its_top_as_at_its_base():
    image, post = standing_scene()
    labels = np.where(post, 1, 0)
    plain = ClassicalDepth(GivenRegions(labels, ("", ""))).estimate(image)
    with_subject = ClassicalDepth(GivenRegions(labels, ("", "subject"))).estimate(image)
    top, base = (slice(65, 80), slice(185, 215)), (slice(235, 248), slice(185, 215))
    assert plain[top].mean() - plain[base].mean() > 0.2  # each pixel as far as its height says
    assert with_subject[top].mean() - with_subject[base].mean() < 0.5 * (plain[top].mean() - plain[base].mean())


def test_a_subject_hanging_high_in_the_frame_is_one_thing_at_about_one_depth():
    # No floor under it to stand on (its base is in the upper half), so the contact cue leaves it; a
    # hoop and its net, a lamp: its pixels' heights alone would spread it over much of the depth range
    image, _ = standing_scene()
    hanging = np.zeros(image.shape[:2], bool)
    hanging[10:140, 150:250] = True
    image[hanging] = (0.2, 0.3, 0.7)
    labels = np.where(hanging, 1, 0)
    plain = ClassicalDepth(GivenRegions(labels, ("", ""))).estimate(image)
    with_subject = ClassicalDepth(GivenRegions(labels, ("", "subject"))).estimate(image)
    inner = np.zeros_like(hanging)
    inner[20:130, 160:240] = True  # clear of the smoothed outline

    def spread(depth):
        return np.subtract(*np.percentile(depth[inner], [95, 5]))

    assert spread(plain) > 0.15
    assert spread(with_subject) < 0.9 * spread(plain)


def test_a_person_is_in_front_of_the_wall_around_them():
    image, post = standing_scene()
    labels = np.where(post, 1, 0)
    depth = ClassicalDepth(GivenRegions(labels, ("", "person"))).estimate(image)
    beside = np.zeros_like(post)
    beside[60:140, 120:170] = beside[60:140, 230:280] = True
    assert depth[post].mean() < depth[beside].mean() - 0.1


def test_a_blurred_backdrop_low_in_the_frame_stands_behind_the_subject():
    # A subject filling the left of the frame and a backdrop to its right reaching the bottom, where
    # the position cue alone puts the backdrop's lower part in front of the subject's upper part.
    height, width = 300, 400
    image = np.full((height, width, 3), 0.5, np.float32)
    labels = np.zeros((height, width), np.int32)
    labels[:, :260] = 1
    plain = ClassicalDepth(GivenRegions(labels, ("", ""))).estimate(image)  # the position cue alone
    depth = ClassicalDepth(GivenRegions(labels, ("backdrop", "subject"))).estimate(image)
    rows, cols = np.indices(labels.shape)
    subject, low_backdrop = labels == 1, (rows > 200) & (cols > 280)  # clear of the smoothed outline
    assert plain[low_backdrop].mean() < np.median(plain[subject])
    assert depth[low_backdrop].min() > np.percentile(depth[subject], 75)


@pytest.mark.parametrize("name", ["", "wall"])
def test_what_a_person_stands_before_reaching_the_frames_bottom_beside_them_stands_behind_them(name):
    # A portrait cut by the frame's bottom with a dark backdrop beside the shoulders, its own region down
    # to the bottom: the position cue put it as near as the person (the black backdrop beside the
    # astronaut went to the front pane, before her).
    height, width = 300, 400
    image = np.full((height, width, 3), 0.5, np.float32)
    labels = np.zeros((height, width), np.int32)
    labels[:, :250] = 2
    labels[120:, 250:] = 1  # beside the person, from the shoulders down to the bottom
    depth = ClassicalDepth(GivenRegions(labels, ("", name, "person"))).estimate(image)
    rows, cols = np.indices(labels.shape)
    person, low_beside = labels == 2, (rows > 200) & (cols > 280)
    assert depth[low_beside].min() > np.percentile(depth[person], 75)


def test_the_backdrop_seen_between_a_subjects_legs_cut_by_the_frame_stands_behind_it():
    # a horse's silhouette cut by the frame's bottom across its legs: the backdrop between and beside
    # the legs is pieces of its own that only the horse and the frame enclose, which the position cue
    # put as near as the legs (on the horse's pane, before the backdrop above)
    height, width = 300, 400
    image = np.full((height, width, 3), 0.9, np.float32)
    labels = np.zeros((height, width), np.int32)
    labels[60:180, 60:340] = 3  # the body
    labels[:60, 290:340] = 3  # the neck, out of the frame's top
    labels[180:, 60:110] = labels[180:, 290:340] = 3  # the legs, down to the frame's bottom
    labels[180:, 110:290] = 1  # the backdrop between the legs ...
    labels[:, 340:] = 2  # ... and before the chest and the front legs, out to the frame's right
    depth = ClassicalDepth(GivenRegions(labels, ("", "", "", "subject"))).estimate(image)
    horse = labels == 3
    for pocket in (1, 2):
        assert np.median(depth[labels == pocket]) > np.percentile(depth[horse], 75), pocket


def test_the_table_under_a_group_of_things_reaching_the_frames_bottom_keeps_its_depth():
    # the segmenter took a table of things for one subject that reaches the bottom on the right; the
    # table's edge under it on the left is enclosed by the subject and the frame, but lies under it
    height, width = 300, 400
    image = np.full((height, width, 3), 0.5, np.float32)
    labels = np.zeros((height, width), np.int32)
    labels[80:250, :] = 2
    labels[250:, 220:] = 2
    labels[250:, :220] = 1  # the table's edge
    depth = ClassicalDepth(GivenRegions(labels, ("", "", "subject"))).estimate(image)
    assert np.median(depth[labels == 1]) < np.median(depth[labels == 2])


def test_a_table_reaching_lower_than_a_seated_person_keeps_its_depth():
    height, width = 300, 400
    image = np.full((height, width, 3), 0.5, np.float32)
    labels = np.zeros((height, width), np.int32)
    labels[40:200, 120:280] = 2  # the person, down to the table's edge
    labels[200:, :] = 1  # the table, down to the frame's bottom
    depth = ClassicalDepth(GivenRegions(labels, ("", "", "person"))).estimate(image)
    assert np.median(depth[labels == 1]) < np.median(depth[labels == 2])


def laid_out_scene(upper_radius, height=300, width=400):
    """Discs laid out in three rows on a grey cloth lit from the top left, seen from above: the cloth
    is two regions split by its light ("wall" and unnamed), each disc one region; the upper row's discs
    of `upper_radius`, the others of radius 20. The image, the labels and their names."""
    rows, cols = np.indices((height, width))
    shade = (0.75 - 0.3 * (rows / height + cols / width) / 2).astype(np.float32)
    image = np.repeat(shade[..., None], 3, axis=2)
    labels = np.where(rows + cols < (height + width) / 2, 0, 1).astype(np.int32)
    names = ["wall", ""]
    for row, radius in ((60, upper_radius), (150, 20), (240, 20)):
        for col in (60, 150, 250, 340):
            disc = (rows - row) ** 2 + (cols - col) ** 2 <= radius**2
            image[disc] = (0.8, 0.6, 0.3)
            labels[disc] = len(names)
            names.append("subject" if col == 150 else "")
    return image, labels, tuple(names)


def test_things_laid_out_on_a_plain_ground_seen_from_above_lie_at_one_depth_before_it():
    # coins on a cloth: lower in the frame is not nearer there, and the position cue cut the coins and
    # the cloth into bands, one row of coins per pane
    image, labels, names = laid_out_scene(upper_radius=20)
    depth = ClassicalDepth(GivenRegions(labels, names)).estimate(image)
    things = labels >= 2
    inner = cv2.erode(things.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    cloth = cv2.erode((~things).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    medians = [np.median(depth[labels == thing]) for thing in range(2, labels.max() + 1)]
    assert np.ptp(medians) < 0.01
    assert depth[inner].max() < depth[cloth].min() - 0.5


def test_things_that_shrink_towards_the_top_recede_as_the_position_cue_says():
    # a crowd or a field of flowers seen across, not down: the things far up the frame are smaller
    image, labels, names = laid_out_scene(upper_radius=11)
    depth = ClassicalDepth(GivenRegions(labels, names)).estimate(image)
    upper_row, lower_row = np.median(depth[labels == 3]), np.median(depth[labels == 11])
    assert upper_row > lower_row + 0.3


def test_the_classical_segmenter_is_used_by_default_and_pulls_a_drawn_figure_together(estimator):
    image, post = standing_scene()
    plain = ClassicalDepth(GivenRegions(np.zeros(post.shape), ("",))).estimate(image)
    depth = estimator.estimate(image)
    top, base = (slice(65, 80), slice(185, 215)), (slice(235, 248), slice(185, 215))
    assert depth[top].mean() - depth[base].mean() < plain[top].mean() - plain[base].mean() - 0.1


def test_regions_of_another_size_are_rejected():
    image, _ = standing_scene()
    with pytest.raises(DepthEstimationFailed, match="labels of"):
        ClassicalDepth(GivenRegions(np.zeros((10, 10)), ("",))).estimate(image)


def test_a_silhouette_covering_a_third_of_the_picture_gets_a_depth_with_it_nearer(estimator):
    # its saliency is flat-topped: 70 % of the pixels or fewer lie under its top value, which once
    # left GrabCut without one subject sample and failed the job
    height, width, share = 240, 320, 0.35
    image = np.ones((height, width, 3), np.float32)
    axes = (round(width * np.sqrt(share / np.pi) * 1.1), round(height * np.sqrt(share / np.pi) / 1.1))
    cv2.ellipse(image, (width // 2, height // 2), axes, 0, 0, 360, (0.0, 0.0, 0.0), -1)
    inside = image[..., 0] == 0

    depth = estimator.estimate(image)

    assert inside.mean() >= share - 0.05
    assert np.median(depth[inside]) < np.median(depth[~inside])


def test_the_sky_clouds_and_all_is_one_flat_plane_behind_everything_else(estimator):
    # The position cue made the sky by the horizon as near as the hills below it.
    image, _, _, ground = cloudy_sky()
    depth = estimator.estimate(image)
    sky = cv2.erode((~ground).astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)  # off the soft edge
    low, high = np.percentile(depth[sky], (1, 99))
    assert high - low < 0.05
    assert low > np.percentile(depth[ground], 99)
