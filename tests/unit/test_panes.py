"""The layers as panes, through the fakes on fakes: fill, white ink, print files, the manifest."""

import json
import weakref
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from rilievo.application.render import panes as panes_module
from rilievo.domain.layers import layer_alphas, stack_over
from rilievo.domain.params import RenderParams
from tests.fakes import FakeDepth, FakeShaper, decoded, make_fakes, three_planes

HEIGHT, WIDTH = 30, 60
LAYERS = ("Layer_1_front", "Layer_2_mid", "Layer_3_back")
SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "layer_manifest.schema.json").read_text())


@pytest.fixture
def fakes():
    pixels = np.random.default_rng(1).random((HEIGHT, WIDTH, 3), dtype=np.float32)
    return make_fakes({"photo.png": decoded(pixels)}, depth=FakeDepth(three_planes()))


def render(fakes, **params) -> dict:
    fakes.files.published.clear()
    fakes.render_now.render(Path("photo.png"), RenderParams(**params))
    (files,) = fakes.files.published.values()
    return files


def magenta(layer: np.ndarray) -> np.ndarray:
    return np.all(layer[..., :3] == FakeShaper.FILL_COLOUR, axis=-1) & (layer[..., 3] == 1)


def test_hidden_parts_are_filled_and_the_straight_on_stack_is_unchanged(fakes):
    files = render(fakes, feather=2)
    layers = [files[f"{name}.png"] for name in LAYERS]
    assert np.abs(stack_over(layers) - files["composite_full.png"]).max() <= 1 / 255
    front, mid, back = layers
    assert not magenta(front).any()
    # the back layer is filled wherever the nearer two hide it, out of reach of their feathered edges
    assert magenta(back)[:, :15].all() and not magenta(back)[:, 40:].any()
    assert magenta(mid)[:, :15].any() and not magenta(mid)[:, 20:].any()
    shares = [layer["filled_share"] for layer in files["layer_manifest.json"]["layers"]]
    assert shares[0] == 0 and 0 < shares[1] <= shares[2]


def test_a_finished_layer_s_alpha_is_let_go_of_before_the_next_layer_is_filled(fakes, monkeypatch):
    """At 12 MP an alpha and its visibility are 48 MB each: only the layer being made holds them."""
    made = []

    def recorded(membership, count, feather):
        for alpha in layer_alphas(membership, count, feather):
            made.append(weakref.ref(alpha))
            yield alpha

    earlier_alive = []
    fill_behind = fakes.pipeline.shaper.fill_behind

    def fill(image, known, fillable, reach_px):
        earlier_alive.append(sum(ref() is not None for ref in made[:-1]))
        return fill_behind(image, known, fillable, reach_px)

    monkeypatch.setattr(panes_module, "layer_alphas", recorded)
    monkeypatch.setattr(fakes.pipeline.shaper, "fill_behind", fill)
    render(fakes)
    assert earlier_alive == [0, 0]  # the mid and back layers' fills


def test_the_regions_are_let_go_of_once_the_panes_are_planned(fakes, monkeypatch):
    """Their labels are 48 MB at 12 MP; the fills and the print files come after."""
    planned = []
    regions_by_pane = panes_module.regions_by_pane

    def recorded(membership, regions, plan):
        planned.append(weakref.ref(regions.labels))
        return regions_by_pane(membership, regions, plan)

    alive_at_fill = []
    fill_behind = fakes.pipeline.shaper.fill_behind

    def fill(image, known, fillable, reach_px):
        alive_at_fill.append(planned[0]() is not None)
        return fill_behind(image, known, fillable, reach_px)

    monkeypatch.setattr(panes_module, "regions_by_pane", recorded)
    monkeypatch.setattr(fakes.pipeline.shaper, "fill_behind", fill)
    render(fakes)
    assert alive_at_fill == [False, False]


def test_the_back_pane_s_opaque_alpha_is_kept_as_a_constant_and_the_others_in_their_box_in_half_precision():
    back, nothing = np.ones((4, 6), np.float32), np.zeros((4, 6), bool)
    alpha, filled = panes_module.kept(back, nothing)
    assert alpha.shape == (4, 6) and alpha.strides == (0, 0) and np.all(alpha == 1) and filled is nothing
    front = np.zeros((4, 6), np.float32)
    front[1:3, 2:4] = 0.25
    hidden = np.zeros((4, 6), bool)
    hidden[2, 4] = True
    front[hidden] = 1.0
    alpha, filled = panes_module.kept(front, hidden)
    assert alpha.inside.shape == filled.inside.shape == (2, 3) and alpha.dtype == np.float16
    np.testing.assert_array_equal(alpha[0:4, 0:6], front)
    np.testing.assert_array_equal(filled[0:4], hidden)


def test_without_fill_the_layers_carry_only_their_own_pixels(fakes):
    files = render(fakes, fill_behind=False)
    assert not any(magenta(files[f"{name}.png"]).any() for name in LAYERS)
    assert not any(call[0] == "fill" for call in fakes.pipeline.shaper.calls)


def test_the_fill_reaches_behind_middle_panes_only_as_far_as_a_viewer_could_see(fakes):
    render(fakes, frame_depth_mm=30, dpi=300)
    reaches = [call[1] for call in fakes.pipeline.shaper.calls if call[0] == "fill"]
    assert reaches[-1] is None  # the back pane: all of it
    assert reaches[0] > 0


def test_refinement_and_small_feature_merging_are_asked_for_with_the_print_scale(fakes):
    render(fakes, min_feature_mm=1.5, dpi=600)
    assert any(call[:2] == ("refine", 3) for call in fakes.pipeline.shaper.calls)
    (merge,) = [call for call in fakes.pipeline.shaper.calls if call[0] == "merge"]
    assert merge[2] == pytest.approx(1.5 / 25.4 * 600)
    fakes.pipeline.shaper.calls.clear()
    render(fakes, refine_edges=False, min_feature_mm=0)
    assert fakes.pipeline.shaper.calls == [call for call in fakes.pipeline.shaper.calls if call[0] == "fill"]


def test_white_ink_sits_inside_each_layer(fakes):
    files = render(fakes, white_ink_choke=2)
    for name in LAYERS:
        white, alpha = files[f"{name}_white.png"], files[f"{name}.png"][..., 3]
        assert white.shape == alpha.shape and np.all(white <= alpha + 1 / 255)
    assert np.all(files["Layer_1_front_white.png"][:, :16] == 1)
    assert "Layer_1_front_white.png" not in render(fakes, white_ink=False)


def test_mirror_and_marks_make_print_files_and_the_layer_files_stay_exact(fakes):
    plain = render(fakes)
    files = render(fakes, mirror=True, marks=True)
    manifest = files["layer_manifest.json"]
    margin = manifest["marks"]["margin_px"]
    for name, layer in zip(LAYERS, manifest["layers"]):
        np.testing.assert_array_equal(files[f"{name}.png"], plain[f"{name}.png"])
        printed = files[layer["print_file"]]
        assert printed.shape == (HEIGHT + 2 * margin, WIDTH + 2 * margin, 4)
        inside = printed[margin:-margin, margin:-margin]
        np.testing.assert_allclose(inside, files[f"{name}.png"][:, ::-1], atol=1e-6)
        assert files[layer["white_ink_file"]].shape == printed.shape[:2]
    assert "Layer_1_front_print.png" not in plain


def test_the_manifest_follows_its_schema_with_layers_on_and_off(fakes):
    for params in ({}, {"mirror": True, "marks": True, "white_ink": False}, {"layers": "off"}):
        manifest = render(fakes, **params)["layer_manifest.json"]
        jsonschema.validate(manifest, SCHEMA)
    assert manifest["layer_count"] == 0 and manifest["previews"]["parallax"] is None


def test_the_assembly_guide_gets_the_spacers_for_the_frame_depth(fakes):
    files = render(fakes, frame_depth_mm=40)
    assembly = files["layer_manifest.json"]["assembly"]
    (guide,) = fakes.pipeline.guide_drawer.guides[-1:]
    assert len(guide.spacers_mm) == 2 and assembly["frame_depth_mm"] == 40
    assert len(files["parallax.gif"]) >= 12


def ramp_fakes(width: int, height: int, depth: np.ndarray | None = None):
    pixels = np.random.default_rng(2).random((height, width, 3), dtype=np.float32)
    if depth is None:  # near at the top, far at the bottom
        depth = np.tile(np.linspace(0, 1, height, dtype=np.float32)[:, None], (1, width))
    return make_fakes({"photo.png": decoded(pixels)}, depth=FakeDepth(depth))


def test_a_cropped_print_paints_its_noise_by_the_layers_the_panes_are_cut_into():
    """A 300x600 ramp cropped to 8x10's shape keeps the near end: the noise and the panes split the crop alike."""
    fakes = ramp_fakes(300, 600)
    fakes.render_now.render(Path("photo.png"), RenderParams(mode="painterly", print_size="40x50mm", fit="crop"))
    (_, noise), = fakes.pipeline.painter.calls
    (files,) = fakes.files.published.values()
    manifest = files["layer_manifest.json"]
    assert manifest["print"]["crop"]["height"] < 600  # the crop did cut part of the depth away
    assert list(noise.layer_starts) == [layer["depth_range"][0] for layer in manifest["layers"][1:]]
    assert len(noise.layer_seeds) == manifest["layer_count"]


@pytest.mark.parametrize("layers", ["auto", 3])
def test_a_flat_depth_map_gives_one_opaque_pane_and_says_so(layers):
    fakes = ramp_fakes(WIDTH, HEIGHT, np.full((HEIGHT, WIDTH), 0.4, np.float32))
    fakes.render_now.render(Path("photo.png"), RenderParams(layers=layers))
    (files,) = fakes.files.published.values()
    manifest = files["layer_manifest.json"]
    jsonschema.validate(manifest, SCHEMA)
    assert manifest["layer_count"] == 1 and manifest["layers"][0]["name"] == "Layer_1_back"
    assert manifest["layers"][0]["coverage"] == 1.0 and (files["Layer_1_back.png"][..., 3] == 1).all()
    asked = "auto's 2-5" if layers == "auto" else "3"
    assert files["params.json"]["warnings"] == [
        f"the depth map is flat (one depth everywhere), so the picture is one layer instead of {asked}"]


def test_a_photo_with_depth_keeps_its_warnings_empty(fakes):
    assert render(fakes)["params.json"]["warnings"] == []
