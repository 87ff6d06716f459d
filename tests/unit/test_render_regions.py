"""The render plans its panes from the photo's regions, through the use cases on fakes."""

from pathlib import Path

import numpy as np
import pytest

from rilievo.domain.params import RenderParams
from tests.fakes import FakeDepth, FakePainter, FakeSegmenter, decoded, make_fakes

HEIGHT, WIDTH = 60, 90


def scene() -> tuple[np.ndarray, np.ndarray]:
    """A far wall (region 0), a box on the left at a middle depth (2), and a standing subject (1)
    whose estimated depth runs from her feet (near) to her head (as far as the box): a depth band would
    cut her at the box's depth."""
    labels = np.zeros((HEIGHT, WIDTH), np.int32)
    labels[10:60, 50:70] = 1
    labels[30:60, 5:35] = 2
    rows = np.arange(HEIGHT, dtype=np.float32)[:, None] * np.ones((1, WIDTH), np.float32)
    depth = np.full((HEIGHT, WIDTH), 0.85, np.float32)
    depth[labels == 1] = (0.5 - 0.3 * (rows - 10) / 50)[labels == 1]
    depth[labels == 2] = 0.4
    return depth, labels


def render(segmenter: FakeSegmenter, **params) -> tuple[dict, list[np.ndarray], object]:
    depth, _ = scene()
    pixels = np.random.default_rng(2).random((HEIGHT, WIDTH, 3), dtype=np.float32)
    fakes = make_fakes({"photo.png": decoded(pixels)}, depth=FakeDepth(depth), segmenter=segmenter)
    job = fakes.render_now.render(Path("photo.png"), RenderParams(feather=0, **params))
    (files,) = fakes.files.published.values()
    manifest = files["layer_manifest.json"]
    alphas = [files[layer["file"]][..., 3] for layer in manifest["layers"]]
    return files, alphas, job


def owner(alphas: list[np.ndarray]) -> np.ndarray:
    """The front-most opaque pane of each pixel."""
    out = np.full(alphas[0].shape, len(alphas) - 1)
    for index in reversed(range(len(alphas) - 1)):
        out[alphas[index] >= 0.5] = index
    return out


@pytest.mark.parametrize("layers", ["auto", 3])
def test_the_subject_region_is_whole_on_one_pane_where_a_depth_band_would_cut_it(layers):
    _, labels = scene()
    _, alphas, _ = render(FakeSegmenter(labels), layers=layers)
    panes = owner(alphas)
    assert len(np.unique(panes[labels == 1])) == 1
    assert len(np.unique(panes[labels == 2])) == 1
    _, whole_alphas, _ = render(FakeSegmenter(), layers=layers)  # no regions: by depth alone
    assert len(np.unique(owner(whole_alphas)[labels == 1])) > 1


def test_the_manifest_lists_the_regions_of_each_pane_and_the_record_names_the_segmenter():
    _, labels = scene()
    names = ("wall", "person", "")
    files, alphas, job = render(FakeSegmenter(labels, names))
    panes = owner(alphas)
    listed = {entry["id"]: (index, entry) for index, layer in enumerate(files["layer_manifest.json"]["layers"])
              for entry in layer["regions"]}
    for region in range(3):
        index, entry = listed[region]
        assert entry["name"] == (names[region] or None) and not entry["cut_by_depth"]
        assert entry["share"] == pytest.approx((labels == region).mean(), abs=1e-4)
        assert (panes[labels == region] == index).all()
    assert files["params.json"]["engines"]["regions"] == "fake-regions"
    assert job.engines["regions"] == "fake-regions"


def test_the_photo_is_segmented_once_and_without_layers_only_for_a_painting():
    _, labels = scene()
    segmenter = FakeSegmenter(labels)
    render(segmenter)
    assert segmenter.calls == [(HEIGHT, WIDTH)]
    files, _, job = render(segmenter, layers="off")
    assert segmenter.calls == [(HEIGHT, WIDTH)] and "regions" not in job.engines
    files, _, job = render(segmenter, layers="off", mode="painterly")
    assert segmenter.calls == [(HEIGHT, WIDTH)] * 2 and job.engines["regions"] == "fake-regions"
    assert files["layer_manifest.json"]["layers"] == []


def test_the_overlay_outlines_the_regions():
    _, labels = scene()
    outlined, _, _ = render(FakeSegmenter(labels))
    plain, _, _ = render(FakeSegmenter())
    differs = np.any(np.abs(outlined["layer_overlay.png"] - plain["layer_overlay.png"]) > 1e-6, axis=-1)
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    assert differs[edge].all()


def test_the_painter_gets_the_subject_in_the_photos_pixels_when_the_print_crops_it():
    depth, labels = scene()
    painter = FakePainter()
    pixels = np.random.default_rng(2).random((HEIGHT, WIDTH, 3), dtype=np.float32)
    fakes = make_fakes({"photo.png": decoded(pixels)}, depth=FakeDepth(depth), painter=painter,
                       segmenter=FakeSegmenter(labels, ("wall", "person", "")))
    fakes.render_now.render(Path("photo.png"), RenderParams(mode="painterly", print_size="1x1in", feather=0))
    (subject,) = painter.subjects
    assert subject.shape == (HEIGHT, WIDTH)  # the whole photo is painted, the square print crops it
    assert subject[labels == 1].all() and not subject[labels != 1].any()


def test_without_layers_the_painter_still_gets_the_subject():
    # a painting alone, no panes: its subject is still what the painter paints with the finest brushes
    depth, labels = scene()
    painter = FakePainter()
    pixels = np.random.default_rng(2).random((HEIGHT, WIDTH, 3), dtype=np.float32)
    fakes = make_fakes({"photo.png": decoded(pixels)}, depth=FakeDepth(depth), painter=painter,
                       segmenter=FakeSegmenter(labels, ("wall", "person", "")))
    fakes.render_now.render(Path("photo.png"), RenderParams(mode="painterly", layers="off"))
    (subject,) = painter.subjects
    assert subject[labels == 1].all() and not subject[labels != 1].any()


def test_the_small_feature_merge_is_told_which_pixels_are_the_things_the_picture_is_of():
    depth, labels = scene()
    pixels = np.random.default_rng(2).random((HEIGHT, WIDTH, 3), dtype=np.float32)
    fakes = make_fakes({"photo.png": decoded(pixels)}, depth=FakeDepth(depth),
                       segmenter=FakeSegmenter(labels, ("wall", "person", "")))
    fakes.render_now.render(Path("photo.png"), RenderParams(min_feature_mm=1.5))
    (merge,) = [call for call in fakes.pipeline.shaper.calls if call[0] == "merge"]
    np.testing.assert_array_equal(merge[3], labels == 1)  # the person; not the wall, nor the unnamed box


def test_the_refinement_is_told_which_things_are_placed_whole_on_their_pane():
    depth, labels = scene()
    pixels = np.random.default_rng(2).random((HEIGHT, WIDTH, 3), dtype=np.float32)
    fakes = make_fakes({"photo.png": decoded(pixels)}, depth=FakeDepth(depth),
                       segmenter=FakeSegmenter(labels, ("wall", "person", "")))
    fakes.render_now.render(Path("photo.png"), RenderParams(refine_edges=True))
    (refine,) = [call for call in fakes.pipeline.shaper.calls if call[0] == "refine"]
    np.testing.assert_array_equal(refine[2], labels == 1)  # the person, whom the plan put whole on a pane



def test_a_thing_the_plan_cuts_by_depth_is_not_among_the_things_placed_whole():
    depth, labels = scene()
    rows = np.arange(HEIGHT)[:, None] * np.ones((1, WIDTH), int)
    person = labels == 1
    depth[person & (rows < 35)] = 0.85  # a step inside her region: the segmenter joined two things
    depth[person & (rows >= 35)] = 0.1
    pixels = np.random.default_rng(2).random((HEIGHT, WIDTH, 3), dtype=np.float32)
    fakes = make_fakes({"photo.png": decoded(pixels)}, depth=FakeDepth(depth),
                       segmenter=FakeSegmenter(labels, ("wall", "person", "")))
    fakes.render_now.render(Path("photo.png"), RenderParams(refine_edges=True))
    (refine,) = [call for call in fakes.pipeline.shaper.calls if call[0] == "refine"]
    assert not refine[2].any()
