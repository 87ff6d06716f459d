"""Print-size jobs against fakes: the files' sizes, the layers stacking to the composite at print size,
pad borders, marks and white ink made band by band, and all-or-nothing files."""

import weakref
from pathlib import Path

import attrs
import numpy as np
import pytest

from rilievo.application.render import panes as panes_module
from rilievo.application.render import print_export
from rilievo.application.render.pipeline import seeds_of
from rilievo.application.render.print_export import BAND_ROWS, _texture_kept_in_strips, texture_kept
from rilievo.domain.job import JobStatus
from rilievo.domain.layers import stack_over
from rilievo.domain.params import RenderParams
from rilievo.domain.print_extras import marks_margin_px, mirrored, white_ink_mask, with_marks
from rilievo.domain.styles import STYLE_PRESETS
from tests.fakes import (FakeDepth, FakePainter, FakePost, FakeShaper, InMemoryJobFiles, decoded, make_fakes,
                         three_planes)

HEIGHT, WIDTH = 30, 60
LAYERS = ("Layer_1_front", "Layer_2_mid", "Layer_3_back")
PRINT = dict(print_size="2x1in", dpi=300)  # 600 x 300 px: two bands, 10x the photo


def photo() -> np.ndarray:
    return np.random.default_rng(1).random((HEIGHT, WIDTH, 3), dtype=np.float32)


@pytest.fixture
def fakes():
    return make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()))


def render(fakes, **params) -> dict:
    job = fakes.render_now.render(Path("photo.png"), RenderParams(**params))
    assert job.status is JobStatus.COMPLETED, job.error
    (files,) = fakes.files.published.values()
    return files


def test_print_files_have_the_print_size_and_the_manifest_says_so(fakes):
    files = render(fakes, **PRINT)
    assert files["composite_full.png"].shape == (300, 600, 3) and 300 > BAND_ROWS
    for name in LAYERS:
        assert files[f"{name}.png"].shape == (300, 600, 4)
        assert files[f"{name}_white.png"].shape == (300, 600)
    manifest = files["layer_manifest.json"]
    assert (manifest["width"], manifest["height"]) == (600, 300)
    assert manifest["print"]["canvas_px"] == [600, 300] and manifest["print"]["enlargement"] == 10
    assert manifest["print"]["engine"] == "fake-upscaler"
    # the depth map too (Lanczos-resampled); the previews stay at the photo's resolution
    assert files["depth_map.png"].shape == (300, 600)
    assert files["depth_preview.png"].shape[0] <= HEIGHT


def test_an_enlargement_past_four_times_is_a_warning_of_the_job_and_in_its_record(fakes):
    warnings = render(fakes, **PRINT)["params.json"]["warnings"]
    assert len(warnings) == 1 and "10" in warnings[0]
    (job,) = fakes.job_repository.jobs.values()
    assert list(job.warnings) == warnings


def test_the_original_size_is_not_upscaled(fakes):
    files = render(fakes)
    assert files["composite_full.png"].shape == (HEIGHT, WIDTH, 3)
    np.testing.assert_allclose(files["composite_full.png"], photo(), atol=0.5 / 65535)
    assert files["layer_manifest.json"]["print"]["engine"] is None
    assert files["params.json"]["warnings"] == []


@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_the_layers_stack_to_the_composite_at_print_size(fakes, fit):
    files = render(fakes, feather=3, fit=fit, print_size="3x2in", dpi=300)
    layers = [files[f"{name}.png"] for name in LAYERS]
    np.testing.assert_allclose(stack_over(layers), files["composite_full.png"], atol=2 / 255)


def test_pad_leaves_white_paper_around_the_photo(fakes):
    files = render(fakes, fit="pad", print_size="3x3in", dpi=300)  # a 2:1 photo on a square print
    composite = files["composite_full.png"]
    placement = files["layer_manifest.json"]["print"]["placement"]
    assert placement["width"] == 900 and placement["height"] == 450
    border = composite[: placement["y"]]
    assert border.min() == 1.0
    assert files["Layer_3_back.png"][: placement["y"], :, 3].min() == 1.0  # the back pane is the paper
    assert files["Layer_1_front.png"][: placement["y"], :, 3].max() == 0.0


def test_pad_leaves_paper_left_and_right_of_a_photo_narrower_than_the_print(fakes):
    """Bands only write the paper around the placement once: the columns beside it hold it on every row."""
    files = render(fakes, fit="pad", print_size="3x1in", dpi=300, feather=3)  # a 2:1 photo on a 3:1 print
    placement = files["layer_manifest.json"]["print"]["placement"]
    left, right = placement["x"], placement["x"] + placement["width"]
    assert (left, right) == (150, 750) and placement["height"] == 300
    beside = np.r_[0:left, right:900]
    assert files["composite_full.png"][:, beside].min() == 1.0
    np.testing.assert_array_equal(files["Layer_3_back.png"][:, beside], 1.0)  # opaque white paper
    np.testing.assert_array_equal(files["Layer_1_front.png"][:, beside], 0.0)  # clear
    np.testing.assert_allclose(stack_over([files[f"{name}.png"] for name in LAYERS]), files["composite_full.png"],
                               atol=2 / 255)


def test_bands_make_the_same_white_ink_and_marks_as_the_whole_layer(fakes):
    files = render(fakes, white_ink_choke=2, mirror=True, marks=True, **PRINT)
    for name in LAYERS:
        layer = files[f"{name}.png"]
        margin = marks_margin_px(25.4 / 300)
        expected_white = with_marks(mirrored(white_ink_mask(layer[..., 3], 2)), margin, 25.4 / 300)
        np.testing.assert_allclose(files[f"{name}_white.png"], expected_white, atol=0.5 / 255)
        np.testing.assert_allclose(files[f"{name}_print.png"], with_marks(mirrored(layer), margin, 25.4 / 300),
                                   atol=0.5 / 255)


def test_a_cmyk_job_writes_the_cmyk_file_and_a_soft_proof(fakes):
    files = render(fakes, format="cmyk-tiff", intent="relative", ink_limit=280, **PRINT)
    assert files["composite_full.cmyk.tif"].shape == (300, 600, 3)
    assert "soft_proof.jpg" in files and "composite_preview.jpg" in files
    cmyk = files["layer_manifest.json"]["print"]["cmyk"]
    assert cmyk == {"profile": "fake CMYK profile default", "profile_path": None, "intent": "relative",
                    "black_point_compensation": True, "ink_limit": 280}


class FailingFiles(InMemoryJobFiles):
    """One print file fails when it is given its band number `band` (0 = the first)."""

    def __init__(self, name: str, band: int, error: BaseException):
        super().__init__()
        self.failing, self.band, self.error = name, band, error
        self.writers = []

    def open_print_file(self, job_id, name, spec):
        writer = super().open_print_file(job_id, name, spec)
        if name == self.failing:
            def fail(rows, _original=writer.write_rows):
                if len(writer.bands) == self.band:
                    raise self.error
                _original(rows)
            writer.write_rows = fail
        self.writers.append(writer)
        return writer


@pytest.mark.parametrize("files, reason", [
    (FailingFiles("Layer_2_mid.png", 1, OSError(28, "No space left on device")), "the disk is full"),
    (FailingFiles("composite_full.png", 0, MemoryError()), "MemoryError"),
])
def test_a_disk_or_memory_running_out_during_export_fails_the_job_and_leaves_no_file(files, reason):
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), files=files)
    job = fakes.render_now.render(Path("photo.png"), RenderParams(**PRINT))
    assert job.status is JobStatus.FAILED and reason in job.error
    assert files.published == {} and files.discarded and all(writer.aborted for writer in files.writers)


def test_the_upscalers_let_go_of_what_they_kept_once_the_print_is_written(fakes):
    render(fakes, **PRINT)
    assert fakes.pipeline.upscaler.released == 1 and fakes.pipeline.resampler.released == 1


def test_the_filled_pixels_carry_the_fill_s_colours_at_print_size(fakes):
    """The panes keep only the filled pixels' colours; at print size the back layer still shows them
    where the nearer panes hide it, and the photo's own colours where it is seen."""
    files = render(fakes, **PRINT)
    back = files["Layer_3_back.png"]
    fill = np.asarray(FakeShaper.FILL_COLOUR, np.float32)
    assert np.abs(back[:, 20:130, :3] - fill).max() <= 1 / 255  # hidden behind the front pane (photo columns 0-15)
    np.testing.assert_allclose(back[:, 450:, :3], files["composite_full.png"][:, 450:], atol=1 / 255)


def test_a_fill_away_from_the_left_edge_lands_on_its_own_columns_at_print_size():
    """Near on the right: the middle pane is filled behind it, from photo column 40 (print column 400) on."""
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()[:, ::-1].copy()))
    files = render(fakes, **PRINT)
    mid, composite = files["Layer_2_mid.png"], files["composite_full.png"]
    fill = np.asarray(FakeShaper.FILL_COLOUR, np.float32)
    hidden = mid[:, 480:, :3]  # well inside what the near pane hides and the fill's reach covers
    assert (np.abs(hidden - fill).max(axis=-1) <= 1 / 255).mean() > 0.5
    np.testing.assert_allclose(mid[:, 230:370, :3], composite[:, 230:370], atol=1 / 255)  # its own part


class HalvingPost(FakePost):
    """A print finish that visibly changes the composite: half as bright."""

    def finish_print_rows(self, rows, top, keep, source_size, out_size, post, seed, dpi, strokes=None,
                          texture=None):
        return super().finish_print_rows(rows, top, keep, source_size, out_size, post, seed, dpi,
                                         strokes, texture) * np.float32(0.5)


class SpecRecordingFiles(InMemoryJobFiles):
    def __init__(self):
        super().__init__()
        self.specs = {}

    def open_print_file(self, job_id, name, spec):
        self.specs[name] = spec
        return super().open_print_file(job_id, name, spec)


@pytest.mark.parametrize("mode, streamed", [("photo", True), ("painterly", False)])
def test_a_painterly_print_asks_for_its_files_spooled_a_photo_print_streamed(mode, streamed):
    # the painterly finish holds the photo-size strokes and its buffers through the bands; libvips'
    # buffers for files streamed beside them took a watercolour print from 12 MP past 1 GB
    files = SpecRecordingFiles()
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), files=files)
    render(fakes, mode=mode, **PRINT)
    assert len(files.specs) > 3
    assert {spec.stream for spec in files.specs.values()} == {streamed}


def test_in_painterly_mode_each_band_of_the_composite_is_finished_with_its_context_rows(fakes):
    render(fakes, mode="painterly", style="pastel-soft", seed=7, **PRINT)  # 300 rows: bands of 128, 128, 44
    calls = fakes.pipeline.post.print_calls
    # rows made (the band and 2 rows of context each way where the image has them), first row, rows kept
    assert [(made, top, (keep.start, keep.stop)) for made, top, keep, *_ in calls] == [
        (130, 0, (0, 128)), (132, 126, (2, 130)), (46, 254, (2, 46))]
    assert all((source, size, dpi) == ((WIDTH, HEIGHT), (600, 300), 300) for *_, source, size, _, _, dpi in calls)
    params = RenderParams(mode="painterly", style="pastel-soft", seed=7)
    assert all(post == STYLE_PRESETS["pastel-soft"].post and seed == seeds_of(params)["post"]
               for *_, post, seed, _ in calls)


@pytest.mark.parametrize(("size", "enlargement"), [(PRINT, 10.0), ({}, 1.0)])  # to 600 x 300 px; its own pixels
def test_the_photo_size_finish_is_told_how_much_the_print_enlarges_the_painting(fakes, size, enlargement):
    render(fakes, mode="painterly", **size)
    assert fakes.pipeline.post.enlargements == [enlargement]


def test_photo_mode_has_no_print_finish(fakes):
    render(fakes, **PRINT)
    assert fakes.pipeline.post.print_calls == []


def test_the_layers_stack_to_the_print_finished_composite():
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), post=HalvingPost())
    files = render(fakes, mode="painterly", feather=3, print_size="3x2in", dpi=300)
    assert files["composite_full.png"].max() <= 0.5 + 1e-3  # the finish reached the composite
    layers = [files[f"{name}.png"] for name in LAYERS]
    np.testing.assert_allclose(stack_over(layers), files["composite_full.png"], atol=2 / 255)


class TrackedPainter(FakePainter):
    """Keeps a weak reference to the painting it returns (the photo's size: 137 MiB at 12 MP)."""

    def paint(self, image, depth, request, noise, on_progress=None, subject=None):
        result = super().paint(image, depth, request, noise, on_progress, subject)
        self.painting = weakref.ref(result.image)
        return result


class CopyingPost(FakePost):
    """A finish that makes the finished painting anew, as the real one does; records, for each band of
    the print, whether the painter's own painting was still held then."""

    def __init__(self, painter):
        super().__init__()
        self.painter, self.painting_held = painter, []

    def finish(self, image, depth, post, seed, print_enlargement=1.0):
        return super().finish(image, depth, post, seed, print_enlargement).copy()

    def finish_print_rows(self, rows, top, keep, source_size, out_size, post, seed, dpi, strokes=None,
                          texture=None):
        self.painting_held.append(self.painter.painting() is not None)
        return super().finish_print_rows(rows, top, keep, source_size, out_size, post, seed, dpi, strokes, texture)


def test_the_painters_own_painting_is_let_go_once_finished_not_held_through_the_print_files():
    painter = TrackedPainter()
    post = CopyingPost(painter)
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), painter=painter, post=post)
    render(fakes, mode="painterly", **PRINT)
    assert post.painting_held == [False, False, False]


class FlatStrokes:
    """Kept strokes that draw a flat 0.25 at any size and 0.75 at the photo's, with a texture of 0.1 at
    any size and -0.2 at the photo's; records what it is asked."""

    def __init__(self):
        self.painting, self.asked = None, []

    def coloured_as(self, painting):
        self.painting = painting.copy()
        return self

    def photo_flat(self):
        return np.full((*self.painting.shape[:2], 3), 0.75, np.float16)

    def print_rows(self, crop, out_size, first, last, pixel_mm):
        self.asked.append((crop, out_size, first, last, pixel_mm))
        return (np.full((last - first, out_size[0], 3), 0.25, np.float32),
                np.full((last - first, out_size[0], 3), 0.1, np.float32))

    def photo_texture(self):
        return np.full((*self.painting.shape[:2], 3), -0.2, np.float16)


class StrokePainter(FakePainter):
    def __init__(self):
        super().__init__()
        self.strokes = FlatStrokes()

    def paint(self, image, depth, request, noise, on_progress=None, subject=None):
        return attrs.evolve(super().paint(image, depth, request, noise, on_progress, subject), strokes=self.strokes)


class StrokesPost(FakePost):
    def finish_print_rows(self, rows, top, keep, source_size, out_size, post, seed, dpi, strokes=None,
                          texture=None):
        self.strokes_given = [*getattr(self, "strokes_given", []), strokes]
        self.textures_given = [*getattr(self, "textures_given", []), texture]
        return super().finish_print_rows(rows, top, keep, source_size, out_size, post, seed, dpi, strokes, texture)


def test_the_painters_strokes_drawn_at_print_size_go_to_the_finish_less_the_painting_enlarged():
    painter, post = StrokePainter(), StrokesPost()
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), painter=painter, post=post)
    render(fakes, mode="painterly", **PRINT)
    # coloured as the finished painting (the fake painter inverts, the fake finish leaves it)
    np.testing.assert_allclose(painter.strokes.painting, 1.0 - photo(), atol=1e-6)
    # each band's rows with their context, over the whole crop at the print's size (a pixel 25.4 / 300 mm)
    assert painter.strokes.asked == [((0, 0, WIDTH, HEIGHT), (600, 300), first, first + made, 25.4 / 300)
                                     for made, first, *_ in post.print_calls]
    assert all(strokes.shape == (made, 600, 3) and np.allclose(strokes, 0.25 - 0.75)
               for strokes, (made, *_) in zip(post.strokes_given, post.print_calls))


def test_the_paints_texture_made_at_print_size_goes_to_the_finish_with_the_photo_sizes_enlarged():
    painter, post = StrokePainter(), StrokesPost()
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), painter=painter, post=post)
    render(fakes, mode="painterly", **PRINT)
    # the photo's texture came through the resampler (which keeps 0..1) whole, its sign too (in half
    # precision); a flat texture has no detail the finish could have softened: all of it is taken out
    assert all(texture.redrawn.shape == texture.enlarged.shape == (made, 600, 3)
               and np.allclose(texture.redrawn, 0.1) and np.allclose(texture.enlarged, -0.2, atol=3e-4)
               for texture, (made, *_) in zip(post.textures_given, post.print_calls))


def test_a_painting_not_enlarged_has_no_strokes_to_draw_again():
    painter, post = StrokePainter(), StrokesPost()
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), painter=painter, post=post)
    render(fakes, mode="painterly")
    assert painter.strokes.asked == [] and post.strokes_given == [None] and post.textures_given == [None]


class HeldRows(np.ndarray):
    """An array that keeps a weak reference to every array made from it (its copies, its rows' copies)."""

    made: list = []

    def __array_finalize__(self, obj):
        HeldRows.made.append(weakref.ref(self))


def photo_size_rows_held() -> int:
    """Rows of the photo-size strokes (in half precision, as the print export keeps them) still held."""
    arrays = (ref() for ref in HeldRows.made)
    return sum(len(array) for array in arrays if array is not None and array.base is None
               and array.dtype == np.float16)


class HeldStrokes(FlatStrokes):
    def photo_flat(self):
        return super().photo_flat().view(HeldRows)

    def photo_texture(self):
        return super().photo_texture().view(HeldRows)


class RowsHeldPost(FakePost):
    """Records, at each band of the print, how many rows of the photo-size strokes are still held."""

    def __init__(self):
        super().__init__()
        self.rows_held = []

    def finish_print_rows(self, rows, top, keep, source_size, out_size, post, seed, dpi, strokes=None,
                          texture=None):
        self.rows_held.append(photo_size_rows_held())
        return super().finish_print_rows(rows, top, keep, source_size, out_size, post, seed, dpi, strokes, texture)


def test_the_photo_size_strokes_are_let_go_as_the_bands_pass_them(monkeypatch):
    """Their flat colours and texture, from a 12 MP photo, are 137 MiB: held to the print's end they were
    its peak. In strips of 4 rows, the 30-row photo's rows above those the third band reads are let go."""
    monkeypatch.setattr(print_export, "PASSED_STRIP_ROWS", 4, raising=False)
    monkeypatch.setattr(HeldRows, "made", [])
    painter, post = StrokePainter(), RowsHeldPost()
    painter.strokes = HeldStrokes()
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), painter=painter, post=post)
    render(fakes, mode="painterly", print_size="2x1.3in", dpi=300)  # 390 rows: bands of 128, 128, 128, 6
    first, *_, last = post.rows_held
    assert first == 2 * HEIGHT  # the flat colours and the texture, every row
    assert post.rows_held == sorted(post.rows_held, reverse=True) and last <= 2 * 8


class PlainPost(StrokesPost):
    def sharpens_print(self, source_size, out_size, post):
        return False  # a small enlargement, or a style with no crisp print finish


def test_no_strokes_are_drawn_again_for_a_finish_that_would_not_use_them():
    painter, post = StrokePainter(), PlainPost()
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), painter=painter, post=post)
    render(fakes, mode="painterly", **PRINT)
    assert painter.strokes.asked == [] and set(map(type, post.strokes_given)) == {type(None)}


class WideContextPost(FakePost):
    def print_context_rows(self, source_size, out_size):
        return 20  # two of the photo's rows at 10x: a row out of place shows


def test_the_finished_bands_carry_the_rows_of_the_whole_enlargement():
    """The context rows one band made are used again by the next: still every row in its place."""
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), post=WideContextPost())
    painterly = render(fakes, mode="painterly", **PRINT)["composite_full.png"]  # the fake painter inverts
    photo_mode = render(make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes())),
                        **PRINT)["composite_full.png"]
    np.testing.assert_allclose(painterly, 1.0 - photo_mode, atol=1 / 65535)


def test_a_last_band_shorter_than_the_context_is_made_of_the_rows_carried_from_the_band_before():
    """390 rows: bands of 128, 128, 128 and 6, the last one's rows all made with the band before."""
    size = dict(print_size="2.6x1.3in", dpi=300)
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()), post=WideContextPost())
    painterly = render(fakes, mode="painterly", **size)["composite_full.png"]
    photo_mode = render(make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes())),
                        **size)["composite_full.png"]
    assert painterly.shape == (390, 780, 3)
    np.testing.assert_allclose(painterly, 1.0 - photo_mode, atol=1 / 65535)


@pytest.mark.parametrize("params", [{}, {**PRINT, "white_ink_choke": 2}, {**PRINT, "mirror": True, "marks": True}])
def test_panes_kept_in_their_boxes_make_the_same_print_files_as_panes_kept_whole(monkeypatch, params):
    """Near at the top, far at the bottom: the front panes hold rows at the top only, and the bands
    below them are made without resizing them."""
    depth = np.tile(np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None], (1, WIDTH))

    def files() -> dict:
        return render(make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(depth)), **params)

    boxed = files()
    monkeypatch.setattr(panes_module, "kept", lambda alpha, filled: (np.asarray(alpha, np.float16), filled))
    whole = files()
    layers = [name for name in boxed if name.startswith("Layer_") and name.endswith(".png")]
    assert len(layers) >= 4 and boxed.keys() == whole.keys()
    for name in layers + ["composite_full.png"]:
        np.testing.assert_array_equal(boxed[name], whole[name], err_msg=name)


def test_a_print_wider_than_the_band_pixels_is_made_in_shorter_bands_with_the_same_files(monkeypatch):
    """Each file's encoder holds its few hundred rows while the bands are made: a wide print's bands
    hold fewer rows, and the files do not change with them."""
    params = {**PRINT, "white_ink_choke": 2, "mirror": True, "marks": True}
    tall = render(make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes())), **params)
    monkeypatch.setattr(print_export, "BAND_PIXELS", 600 * 32)
    write_band, made_in = print_export.PrintExport.write_band, []

    def counted(export, top, bottom, *rest):
        made_in.append(bottom - top)
        write_band(export, top, bottom, *rest)

    monkeypatch.setattr(print_export.PrintExport, "write_band", counted)
    short = render(make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes())), **params)
    assert made_in[:-1] == [32] * 9 and made_in[-1] == 300 - 9 * 32
    names = [name for name in tall if name.endswith(".png")]
    assert len(names) >= 10 and tall.keys() == short.keys()
    for name in names:
        np.testing.assert_array_equal(short[name], tall[name], err_msg=name)


def test_the_share_of_the_paints_texture_kept_is_what_the_finished_painting_holds_of_it():
    """Where the finish softened the painting (far away) only what the finished painting holds of the
    enlarged texture is to be taken out of it."""
    rng = np.random.default_rng(0)
    flat = np.full((120, 160, 3), 0.5, np.float32)
    texture = np.repeat(0.05 * rng.standard_normal((120, 160, 1), dtype=np.float32), 3, axis=2)
    finished = flat + texture
    finished[:, 80:] = flat[:, 80:] + 0.3 * texture[:, 80:] + 0.1  # softened, its colours moved
    kept = texture_kept(finished, flat, texture)[..., 0]
    assert kept.shape == (120, 160)
    np.testing.assert_allclose(np.median(kept[:, :60]), 1.0, atol=0.02)
    np.testing.assert_allclose(np.median(kept[:, 100:]), 0.3, atol=0.02)
    assert texture_kept(flat, flat, np.zeros_like(flat)).min() == 1.0  # no texture to judge by: all of it


def test_the_share_of_the_texture_kept_made_in_strips_is_the_same_as_made_whole():
    rng = np.random.default_rng(1)
    flat = np.full((600, 90, 3), 0.4, np.float32)
    texture = 0.05 * rng.standard_normal((600, 90, 3), dtype=np.float32)
    finished = flat + texture * np.linspace(1.0, 0.2, 600, dtype=np.float32)[:, None, None]
    whole = texture_kept(finished, flat, texture.astype(np.float16).astype(np.float32))
    strips = _texture_kept_in_strips(finished, flat, texture.astype(np.float16))
    np.testing.assert_allclose(strips.astype(np.float32), whole, atol=1e-3)  # half precision


def test_at_the_photos_own_size_a_filled_layer_takes_the_fill_where_it_filled_and_the_composite_elsewhere(fakes):
    """At the photo's own size the fill's colours are put on the filled pixels alone: there the back
    layer shows them, everywhere else the composite's colours."""
    files = render(fakes)
    back, composite = files["Layer_3_back.png"], files["composite_full.png"]
    assert back.shape[:2] == composite.shape[:2] == (HEIGHT, WIDTH)
    fill = np.asarray(FakeShaper.FILL_COLOUR, np.float32)
    is_fill = np.all(back[..., :3] == fill, axis=-1)
    assert is_fill[:, 2:13].all()  # hidden behind the front pane (photo columns 0-19)
    # the layer is 8-bit (so is the photo), the composite 16-bit
    np.testing.assert_allclose(back[~is_fill][:, :3], composite[~is_fill], atol=0.5 / 255 + 1e-6, rtol=0)
    assert not is_fill[:, 45:].any() and np.all(back[..., 3] == 1.0)  # the far third is seen
