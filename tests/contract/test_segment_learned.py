"""Contract of the learned segmenter, on a tiny random EoMT built offline and on forged model outputs."""

import json
import time
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import cv2  # noqa: E402

from rilievo.adapters.model_store import ModelStore  # noqa: E402
from rilievo.adapters.segment_learned import (  # noqa: E402
    LearnedSegmenter,
    merge_fragments,
    model_input,
    region_name,
)
from rilievo.domain.errors import SegmentationFailed  # noqa: E402
from tests.contract.test_model_store import in_hub_cache  # noqa: E402

KEY = "eomt-small-coco-panoptic"
TINY_LABELS = {0: "person", 1: "cup", 2: "sky-other-merged"}


def tiny_eomt(folder):
    """EoMT with the real model's layout (ViT, registers, queries in the last blocks, upscaled mask head)
    at toy size: a 32 px input, 8 px patches, 6 queries, COCO-style names."""
    from transformers import EomtConfig, EomtForUniversalSegmentation

    torch.manual_seed(0)
    config = EomtConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8,
        num_queries=6, num_blocks=1, num_register_tokens=2, num_labels=len(TINY_LABELS),
        id2label=TINY_LABELS, label2id={name: index for index, name in TINY_LABELS.items()},
    )
    EomtForUniversalSegmentation(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "do_normalize": True, "do_pad": True, "do_resize": True, "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225], "size": {"longest_edge": 32, "shortest_edge": 32},
        "image_processor_type": "EomtImageProcessor",
    }))
    return folder


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_eomt(tmp_path_factory.mktemp("models") / KEY)


@pytest.fixture(scope="module")
def segmenter(model_dir):
    """Every query the random model does not call "no object" is kept, so the whole path runs."""
    return LearnedSegmenter(model_dir, device="cpu", score_threshold=0.0, min_region_fraction=0.01)


def photo(height, width, seed=0):
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


def assert_every_pixel_in_one_region(regions, shape):
    assert regions.labels.shape == shape and regions.labels.dtype == np.int32
    assert set(np.unique(regions.labels).tolist()) == set(range(regions.count))


# --- the tiny random model ------------------------------------------------------------------------


def test_name_is_the_model_folder(model_dir):
    assert LearnedSegmenter(model_dir).name == KEY


@pytest.mark.parametrize("shape", [(90, 130), (130, 90), (8, 8), (9, 31), (300, 200), (1200, 1500)])
def test_every_pixel_is_in_exactly_one_region_at_the_photo_size(segmenter, shape):
    regions = segmenter.segment(photo(*shape))
    assert_every_pixel_in_one_region(regions, shape)


def test_the_tiny_model_finds_several_regions_named_from_its_labels(segmenter):
    regions = segmenter.segment(photo(120, 160, seed=2))
    assert regions.count >= 2
    assert set(regions.names) <= {"person", "cup", "sky", ""} and set(regions.names) - {""}


def test_same_photo_gives_the_same_regions_across_instances(segmenter, model_dir):
    image = photo(120, 160, seed=3)
    first = segmenter.segment(image)
    again = segmenter.segment(image)
    other = LearnedSegmenter(model_dir, device="cpu", score_threshold=0.0, min_region_fraction=0.01).segment(image)
    for regions in (again, other):
        assert np.array_equal(first.labels, regions.labels) and first.names == regions.names


def test_runs_on_the_cpu_in_float32_when_asked_and_says_so(model_dir):
    segmenter = LearnedSegmenter(model_dir, device="cpu")
    assert segmenter.device is None  # nothing loaded at construction
    segmenter.segment(photo(40, 60))
    assert segmenter.device == "cpu"
    assert next(segmenter._model.parameters()).dtype == torch.float32


def test_a_model_in_the_hugging_face_cache_loads_in_place_named_by_its_key(tmp_path):
    source = ModelStore(tmp_path).spec(KEY).source
    snapshot = tmp_path / "hub" / f"models--{source.replace('/', '--')}" / "snapshots" / ("e" * 40)
    in_hub_cache(tiny_eomt(snapshot))
    store = ModelStore(tmp_path / "models", hub_cache=tmp_path / "hub")
    assert store.is_installed(KEY) and store.folder(KEY) == snapshot
    assert (snapshot / "model.safetensors").is_symlink()
    segmenter = LearnedSegmenter(store.folder(KEY), device="cpu", key=KEY, score_threshold=0.0)
    assert segmenter.name == KEY
    assert_every_pixel_in_one_region(segmenter.segment(photo(40, 60)), (40, 60))


def test_the_tiny_model_is_quick_on_a_cpu(segmenter):
    started = time.perf_counter()
    segmenter.segment(photo(480, 640, seed=5))
    assert time.perf_counter() - started < 5.0


# --- loading and input errors ---------------------------------------------------------------------


def test_a_missing_folder_is_refused_with_the_pull_command(tmp_path):
    with pytest.raises(SegmentationFailed, match=f"models pull {KEY}"):
        LearnedSegmenter(tmp_path / KEY)


def test_a_folder_without_weights_fails_clearly(model_dir, tmp_path):
    broken = tmp_path / KEY
    broken.mkdir()
    (broken / "config.json").write_text((model_dir / "config.json").read_text())
    with pytest.raises(SegmentationFailed, match="cannot load the segmentation model"):
        LearnedSegmenter(broken).segment(photo(32, 32))


def test_a_garbled_config_fails_clearly(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(SegmentationFailed, match="cannot load the segmentation model"):
        LearnedSegmenter(tmp_path).load()


def test_a_garbled_preprocessor_config_fails_clearly(model_dir, tmp_path):
    (tmp_path / "config.json").write_text((model_dir / "config.json").read_text())
    (tmp_path / "preprocessor_config.json").write_text("{")
    with pytest.raises(SegmentationFailed, match="unreadable"):
        LearnedSegmenter(tmp_path)


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.float32), np.zeros((10, 10, 4), np.float32),
                                 np.zeros((4, 40, 3), np.float32), np.zeros((10, 10, 3), np.uint8),
                                 np.full((10, 10, 3), np.nan, np.float32)])
def test_bad_images_are_refused(model_dir, bad):
    with pytest.raises(SegmentationFailed):
        LearnedSegmenter(model_dir).segment(bad)


# --- forged model outputs: what the post-processing makes of known queries -------------------------

SIDE, MASK = 64, 16  # input square and mask grid of the forged model
FORGED_LABELS = {0: "person", 1: "cup", 2: "sky-other-merged", 3: "floor-other-merged", 4: "dog"}


class ForgedQueries(torch.nn.Module):
    """Stands in for a panoptic model. Each query is (class, class logit, mask) with the mask a function of
    the photo's own coordinates (y, x in [0, 1]); the padded part of the square is masked out."""

    def __init__(self, queries, content):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.config = SimpleNamespace(image_size=SIDE, id2label=FORGED_LABELS)
        self.queries, self.content = queries, content
        self.seen = []

    def forward(self, pixel_values):
        self.seen.append(tuple(pixel_values.shape))
        centres = (np.arange(MASK) + 0.5) * SIDE / MASK
        y = (centres / self.content[0])[:, None] * np.ones(MASK)
        x = np.ones(MASK)[:, None] * (centres / self.content[1])
        classes = np.zeros((len(self.queries), len(FORGED_LABELS) + 1), np.float32)
        masks = np.empty((len(self.queries), MASK, MASK), np.float32)
        for index, (label, logit, inside) in enumerate(self.queries):
            classes[index, label] = logit
            masks[index] = np.where(inside(y, x) & (y < 1) & (x < 1), 10.0, -10.0)
        return SimpleNamespace(class_queries_logits=torch.from_numpy(classes)[None],
                               masks_queries_logits=torch.from_numpy(masks)[None])


NO_OBJECT = len(FORGED_LABELS)
SCENE = [  # a 100 x 200 photo: sky above, floor below, a person standing on the floor
    (2, 10.0, lambda y, x: y < 0.4),
    (3, 10.0, lambda y, x: y > 0.7),
    (0, 12.0, lambda y, x: (x > 0.4) & (x < 0.6) & (y > 0.2)),
    (4, 0.5, lambda y, x: x < 0.3),  # a dog it is unsure of: under the threshold, dropped
    (NO_OBJECT, 10.0, lambda y, x: x > 0.8),  # "no object": dropped
]


@pytest.fixture
def forged(monkeypatch, model_dir):
    """A segmenter whose model is whatever the test sets; counts the loads."""
    calls = SimpleNamespace(count=0, model=None, kwargs=None)

    def loading(*args, **kwargs):
        calls.count += 1
        calls.kwargs = kwargs
        return calls.model

    monkeypatch.setattr(transformers.AutoModelForUniversalSegmentation, "from_pretrained", loading)
    calls.segmenter = LearnedSegmenter(model_dir, device="cpu")
    return calls


def test_objects_and_surfaces_become_named_regions_where_their_masks_are(forged):
    forged.model = ForgedQueries(SCENE, content=(32, 64))
    regions = forged.segmenter.segment(photo(100, 200))
    assert forged.model.seen == [(1, 3, SIDE, SIDE)]
    name_at = {where: regions.names[regions.labels[where]] for where in [(5, 20), (95, 20), (60, 100), (30, 100)]}
    assert name_at == {(5, 20): "sky", (95, 20): "floor", (60, 100): "person", (30, 100): "person"}
    assert "dog" not in regions.names  # below the threshold
    assert regions.labels[5, 190] == regions.labels[5, 20]  # "no object" is not a region: the sky is there


def test_ground_no_mask_claims_is_left_unnamed_one_region_per_area(forged):
    forged.model = ForgedQueries(SCENE, content=(32, 64))
    regions = forged.segmenter.segment(photo(100, 200))
    left, right = regions.labels[55, 20], regions.labels[55, 180]  # between sky and floor, beside the person
    assert regions.names[left] == regions.names[right] == ""
    assert left != right  # two separate areas are two regions
    assert sorted(regions.names) == ["", "", "floor", "person", "sky"]


def test_regions_are_numbered_in_the_order_they_first_appear(forged):
    forged.model = ForgedQueries(SCENE, content=(32, 64))
    regions = forged.segmenter.segment(photo(100, 200))
    assert regions.names[0] == "sky" and regions.labels[0, 0] == 0
    _, first = np.unique(regions.labels, return_index=True)
    assert np.all(np.diff(first) > 0)


def test_a_speck_joins_the_region_around_it(forged, model_dir):
    def cup(y, x):  # one mask cell, 0.8 % of the photo
        return (y > 0.85) & (y < 0.95) & (x > 0.05) & (x < 0.1)

    floor = (3, 10.0, lambda y, x: (y > 0.7) & ~cup(y, x))  # a panoptic model's masks do not overlap
    forged.model = ForgedQueries([SCENE[0], floor, SCENE[2], (1, 12.0, cup)], content=(32, 64))
    assert "cup" in forged.segmenter.segment(photo(100, 200)).names  # kept at the default 0.2 %
    regions = LearnedSegmenter(model_dir, device="cpu", min_region_fraction=0.01).segment(photo(100, 200))
    assert "cup" not in regions.names
    assert regions.names[regions.labels[94, 15]] == "floor"


def test_an_object_cut_in_two_stays_one_region(forged):
    person = (0, 12.0, lambda y, x: (x > 0.3) & (x < 0.7) & (y > 0.2))
    pole = (4, 14.0, lambda y, x: (x > 0.45) & (x < 0.55))  # surer, so in front, cutting the person in two
    forged.model = ForgedQueries([SCENE[0], SCENE[1], person, pole], content=(32, 64))
    regions = forged.segmenter.segment(photo(100, 200))
    assert regions.labels[60, 70] == regions.labels[60, 130]
    assert regions.names[regions.labels[60, 70]] == "person" and regions.names[regions.labels[60, 100]] == "dog"


def test_a_tall_photo_is_mapped_through_its_part_of_the_square(forged):
    forged.model = ForgedQueries(SCENE, content=(64, 32))
    regions = forged.segmenter.segment(photo(200, 100))
    assert forged.model.seen == [(1, 3, SIDE, SIDE)]
    assert regions.names[regions.labels[10, 10]] == "sky" and regions.names[regions.labels[190, 10]] == "floor"
    assert regions.names[regions.labels[120, 50]] == "person"


def test_nothing_above_the_threshold_leaves_one_unnamed_region(forged):
    forged.model = ForgedQueries([(0, 0.5, lambda y, x: y < 2), (NO_OBJECT, 10.0, lambda y, x: y < 2)], (32, 64))
    regions = forged.segmenter.segment(photo(100, 200))
    assert regions.count == 1 and regions.names == ("",)


def test_the_model_loads_once_from_local_files_only(forged):
    forged.model = ForgedQueries(SCENE, content=(32, 64))
    for seed in range(3):
        forged.segmenter.segment(photo(100, 200, seed))
    assert forged.count == 1
    assert forged.kwargs["local_files_only"] is True and forged.kwargs["dtype"] == torch.float32


def test_a_model_output_of_the_wrong_shape_fails_clearly(forged):
    class Wrong(ForgedQueries):
        def forward(self, pixel_values):
            return SimpleNamespace(class_queries_logits=torch.ones(1, 3, 6), masks_queries_logits=torch.ones(1, 4, 8))

    forged.model = Wrong(SCENE, content=(32, 64))
    with pytest.raises(SegmentationFailed, match="shapes"):
        forged.segmenter.segment(photo(32, 32))


def test_a_model_without_query_outputs_fails_clearly(forged):
    class Depthish(ForgedQueries):
        def forward(self, pixel_values):
            return SimpleNamespace(predicted_depth=torch.ones(1, 8, 8))

    forged.model = Depthish(SCENE, content=(32, 64))
    with pytest.raises(SegmentationFailed, match="class_queries_logits"):
        forged.segmenter.segment(photo(32, 32))


# --- the parts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("label, name", [("sky-other-merged", "sky"), ("wall-other-merged", "wall"),
                                         ("door-stuff", "door"), ("tree-merged", "tree"), ("water-other", "water"),
                                         ("floor-wood", "floor-wood"), ("person", "person"),
                                         ("dining table", "dining table")])
def test_region_names_drop_cocos_merge_suffixes(label, name):
    assert region_name(label) == name


def test_model_input_keeps_the_aspect_and_pads_black_at_the_bottom_and_right():
    mean, std = np.full(3, 0.5, np.float32), np.full(3, 0.25, np.float32)
    pixels, content = model_input(np.ones((50, 100, 3), np.float32), 64, mean, std)
    assert pixels.shape == (1, 3, 64, 64) and content == (32, 64)
    assert np.allclose(pixels[0, :, :32], 2.0) and np.allclose(pixels[0, :, 32:], -2.0)


def test_the_folder_normalisation_matches_the_transformers_processor(model_dir):
    """Same numbers as EomtImageProcessor on a photo already at the model's size (no resampling)."""
    from transformers import EomtImageProcessor

    image = photo(32, 32, seed=4)
    reference = EomtImageProcessor.from_pretrained(model_dir)(
        images=(image * 255).round().astype(np.uint8), return_tensors="pt")["pixel_values"].numpy()
    segmenter = LearnedSegmenter(model_dir)
    ours, _ = model_input((image * 255).round() / 255, 32, segmenter.mean, segmenter.std)
    assert np.allclose(ours, reference, atol=1e-5)


def test_merge_gives_a_speck_to_the_label_it_shares_most_border_with():
    labels = np.zeros((20, 20), np.int32)
    labels[:, 10:] = 1
    labels[5:8, 9:12] = 2  # 3 x 3 speck: 1 column in 0, 2 columns in 1
    merged = merge_fragments(labels, min_pixels=20)
    assert (merged[5:8, 9:12] == 1).all()
    assert set(np.unique(merged).tolist()) == {0, 1}


def test_merge_leaves_the_largest_piece_when_all_are_small():
    labels = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 1]], np.int32)
    assert (merge_fragments(labels, min_pixels=100) == 0).all()


@settings(max_examples=60, deadline=None)
@given(arrays(np.int32, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.integers(0, 4)),
       st.integers(1, 30))
def test_after_merging_every_piece_is_big_enough_or_the_only_one(labels, min_pixels):
    """Every 4-connected piece of the result has min_pixels or more, unless the picture is one piece; big
    pieces of the input keep their label; no label is invented."""
    merged = merge_fragments(labels, min_pixels)
    assert set(np.unique(merged).tolist()) <= set(np.unique(labels).tolist())
    pieces = []
    for label in np.unique(merged):
        count, components, stats, _ = cv2.connectedComponentsWithStats((merged == label).astype(np.uint8),
                                                                        connectivity=4)
        pieces += [stats[index, cv2.CC_STAT_AREA] for index in range(1, count)]
    assert len(pieces) == 1 or min(pieces) >= min_pixels
    for label in np.unique(labels):
        count, components, stats, _ = cv2.connectedComponentsWithStats((labels == label).astype(np.uint8),
                                                                        connectivity=4)
        for index in range(1, count):
            if stats[index, cv2.CC_STAT_AREA] >= min_pixels:
                assert (merged[components == index] == label).all()
