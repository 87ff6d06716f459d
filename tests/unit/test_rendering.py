"""Taking in photos and rendering jobs (ingest, create, run an attempt) against fakes of every port."""

import time
from pathlib import Path

import attrs

import numpy as np
import pytest

from rilievo.domain.errors import (
    DepthEstimationFailed,
    IllegalTransition,
    JobChanged,
    StorageFull,
    ImageRejected,
    UploadNotFound,
)
from rilievo.domain.job import JobStatus
from rilievo.domain.layers import stack_over
from rilievo.domain.noise import SUBJECT_CALM
from rilievo.domain.params import RenderParams
from rilievo.domain.seeds import derive_seed
from rilievo.application.ports import PaintResult
from tests.fakes import FakeDepth, FakeSuppliedDepth, decoded, make_fakes, three_planes

HEIGHT, WIDTH = 30, 60


def photo() -> np.ndarray:
    return np.random.default_rng(1).random((HEIGHT, WIDTH, 3), dtype=np.float32)


@pytest.fixture
def fakes():
    return make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(three_planes()))


def published(fakes) -> dict:
    (files,) = fakes.files.published.values()
    return files


def test_ingest_keeps_the_upload(fakes):
    upload = fakes.uploads.ingest(Path("photo.png"))
    assert fakes.upload_store.get(upload.id).width == WIDTH


def test_a_refused_image_stores_nothing(fakes):
    with pytest.raises(ImageRejected):
        fakes.uploads.ingest(Path("notes.txt"))
    assert fakes.upload_store.uploads == {}


def test_a_job_for_an_unknown_upload_is_refused_and_not_recorded(fakes):
    with pytest.raises(UploadNotFound):
        fakes.jobs.create("nope", RenderParams())
    assert fakes.job_repository.jobs == {}


def test_painterly_mode_paints_then_finishes_with_the_style_and_derived_seeds(fakes):
    job = fakes.render_now.render(Path("photo.png"), RenderParams(mode="painterly", style="watercolor-loose", seed=7,
                                                          prompt="a harbour at dusk"))
    assert job.status is JobStatus.COMPLETED
    assert job.engines["paint"] == "fake-painter" and job.engines["post-process"] == "fake-post"
    (request, noise), = fakes.pipeline.painter.calls
    (post, post_seed), = fakes.pipeline.post.calls
    assert request.style.name == "watercolor-loose" and request.prompt.startswith("a harbour at dusk, ")
    assert post == request.style.post
    assert (noise.seed, post_seed) == (derive_seed(7, "paint"), derive_seed(7, "post"))
    assert noise.edition == 0 and noise.subject_calm == pytest.approx(SUBJECT_CALM * 0.6)  # default influence
    # the noise follows the layers the panes are cut into, one seed each
    files = published(fakes)
    layer_count = len(files["layer_manifest.json"]["layers"])
    assert len(noise.layer_seeds) == layer_count >= 2
    np.testing.assert_allclose(files["composite_full.png"], 1 - np.round(photo() * 255) / 255, atol=1 / 255)
    seeds = files["params.json"]["seeds"]
    assert (seeds["paint"], seeds["post"]) == (noise.seed, post_seed)
    assert seeds["layers"] == list(noise.layer_seeds) and seeds["edition"] == 0


def test_a_numbered_edition_paints_with_its_own_seeds(fakes):
    fakes.render_now.render(Path("photo.png"), RenderParams(mode="painterly", seed=7, edition=3, layers=2))
    (_, noise), = fakes.pipeline.painter.calls
    assert noise.edition == 3 and len(noise.layer_seeds) == 2
    assert noise.edition_seeds == tuple(derive_seed(s, "edition", 3) for s in noise.layer_seeds)
    seeds = published(fakes)["params.json"]["seeds"]
    assert seeds["edition"] == 3 and seeds["edition_seeds"] == list(noise.edition_seeds)


def test_with_layers_off_the_painting_is_one_noise_layer(fakes):
    fakes.render_now.render(Path("photo.png"), RenderParams(mode="painterly", seed=7, layers="off"))
    (_, noise), = fakes.pipeline.painter.calls
    assert len(noise.layer_seeds) == 1 and noise.layer_starts == ()


def test_photo_mode_never_paints(fakes):
    job = fakes.render_now.render(Path("photo.png"), RenderParams())
    assert fakes.pipeline.painter.calls == [] and fakes.pipeline.post.calls == [] and "paint" not in job.engines


def test_painterly_progress_goes_through_the_paint_stage(fakes):
    seen = []
    fakes.render_now.render(Path("photo.png"), RenderParams(mode="painterly"), on_progress=seen.append)
    stages = list(dict.fromkeys(job.stage for job in seen if job.stage))
    assert stages == ["ingest", "depth", "paint", "post-process", "layers", "upscale", "export"]
    progress = [job.progress for job in seen]
    assert progress == sorted(progress)


LAYERS = ("Layer_1_front", "Layer_2_mid", "Layer_3_back")


def test_a_photo_mode_job_writes_composite_depth_layers_manifest_and_params(fakes):
    job = fakes.render_now.render(Path("photo.png"), RenderParams())
    assert job.status is JobStatus.COMPLETED
    files = published(fakes)
    per_layer = {f"{name}{suffix}" for name in LAYERS for suffix in (".png", "_white.png", "_cut.svg")}
    assert set(files) == per_layer | {
        "composite_full.png", "composite_preview.jpg", "preview.png", "depth_map.png", "depth_preview.png",
        "layer_overlay.png",
        "parallax.gif", "assembly_guide.png", "layer_manifest.json", "params.json", "layers.zip"}
    assert set(files["layers.zip"]) == per_layer | {"layer_manifest.json", "assembly_guide.png"}
    assert set(job.outputs) == set(files)
    assert dict(job.engines) == {"depth": "fake-depth", "regions": "fake-regions", "edges": "fake-shaper"}
    manifest = files["layer_manifest.json"]
    assert manifest["layer_count"] == 3 and manifest["job_id"] == job.id
    assert [layer["coverage"] for layer in manifest["layers"]] == pytest.approx([1 / 3] * 3)
    assert files["params.json"]["params"] == RenderParams().to_dict()


def test_the_depth_map_uses_zero_for_nearest(fakes):
    fakes.render_now.render(Path("photo.png"), RenderParams())
    depth = published(fakes)["depth_map.png"]
    assert depth[:, :20].max() < depth[:, 40:].min()


def test_the_layers_stack_back_into_the_composite(fakes):
    fakes.render_now.render(Path("photo.png"), RenderParams(feather=3))
    files = published(fakes)
    layers = [files[f"{name}.png"] for name in LAYERS]
    assert np.abs(stack_over(layers) - files["composite_full.png"]).max() <= 1 / 255


def test_the_planned_layers_isolate_objects_at_three_depths(fakes):
    fakes.render_now.render(Path("photo.png"), RenderParams(feather=0, fill_behind=False))
    files = published(fakes)
    for name, columns in [("Layer_1_front.png", slice(0, 20)), ("Layer_2_mid.png", slice(20, 40))]:
        alpha = files[name][..., 3]
        assert (alpha[:, columns] == 1).all() and alpha.sum() == HEIGHT * 20


def five_planes() -> np.ndarray:
    """A depth map of five bands across, nearest on the left."""
    return np.repeat(np.linspace(0.1, 0.9, 5, dtype=np.float32), WIDTH // 5)[None].repeat(HEIGHT, axis=0)


def test_a_user_layer_count_is_honoured_and_off_writes_no_layers():
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(five_planes()))
    job = fakes.render_now.render(Path("photo.png"), RenderParams(layers=5))
    assert published(fakes)["layer_manifest.json"]["layer_count"] == 5 and job.warnings == ()
    fakes.files.published.clear()
    fakes.render_now.render(Path("photo.png"), RenderParams(layers="off"))
    assert not any(name.startswith("Layer_") for name in published(fakes))


def test_more_layers_asked_than_the_scene_has_depths_cut_no_blank_pane_and_say_so(fakes):
    job = fakes.render_now.render(Path("photo.png"), RenderParams(layers=5))
    manifest = published(fakes)["layer_manifest.json"]
    assert manifest["layer_count"] == 3 and all(layer["coverage"] > 0 for layer in manifest["layers"])
    assert job.warnings == ("2 of the 5 planned panes would hold no pixel (a blank pane is nothing to cut), so "
                            "it is 3 layers",)


def test_progress_goes_through_the_stages_in_order(fakes):
    seen = []
    fakes.render_now.render(Path("photo.png"), RenderParams(), on_progress=lambda job: seen.append(job))
    stages = [job.stage for job in seen if job.stage]
    assert list(dict.fromkeys(stages)) == ["ingest", "depth", "post-process", "layers", "upscale", "export"]
    progress = [job.progress for job in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_a_supplied_depth_map_replaces_the_estimator():
    supplied = FakeSuppliedDepth(three_planes()[:, ::-1].copy())
    estimator = FakeDepth(three_planes())
    fakes = make_fakes({"photo.png": decoded(photo()), "depth.png": decoded(photo())},
                             depth=estimator, supplied_depth=supplied)
    job = fakes.render_now.render(Path("photo.png"), RenderParams(near="black"), depth_map=Path("depth.png"))
    assert job.engines["depth"] == "supplied" and estimator.calls == 0
    assert supplied.calls == [("original-depth.png", WIDTH, HEIGHT, "black")]


def test_sharpening_runs_only_when_asked(fakes):
    job = fakes.render_now.render(Path("photo.png"), RenderParams())
    assert fakes.pipeline.enhancer.amounts == [] and "post-process" not in job.engines
    job = fakes.render_now.render(Path("photo.png"), RenderParams(sharpen=0.7))
    assert fakes.pipeline.enhancer.amounts == [0.7] and job.engines["post-process"] == "fake-sharpen"


def test_sixteen_bit_photos_give_sixteen_bit_files():
    fakes = make_fakes({"photo.png": decoded(photo(), bit_depth=16)}, depth=FakeDepth(three_planes()))
    fakes.render_now.render(Path("photo.png"), RenderParams())
    assert published(fakes)["params.json"]["source"]["bit_depth"] == 16


def test_a_depth_failure_fails_the_job_with_its_reason_and_publishes_nothing():
    fakes = make_fakes({"photo.png": decoded(photo())},
                             depth=FakeDepth(error=DepthEstimationFailed("image too small")))
    job = fakes.render_now.render(Path("photo.png"), RenderParams())
    assert job.status is JobStatus.FAILED and job.error == "image too small"
    assert fakes.files.published == {} and fakes.files.working == {}
    assert fakes.job_repository.get(job.id).status is JobStatus.FAILED


def test_an_unexpected_crash_never_leaves_the_job_processing():
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(error=ZeroDivisionError("x")))
    job = fakes.render_now.render(Path("photo.png"), RenderParams())
    assert job.status is JobStatus.FAILED and job.error.startswith("internal error: ZeroDivisionError")


def test_an_interrupted_job_is_marked_failed_before_the_interrupt_goes_on():
    fakes = make_fakes({"photo.png": decoded(photo())}, depth=FakeDepth(error=KeyboardInterrupt()))
    upload = fakes.uploads.ingest(Path("photo.png"))
    job = fakes.jobs.create(upload.id, RenderParams())
    with pytest.raises(KeyboardInterrupt):
        fakes.runner.run(job.id)
    assert fakes.job_repository.get(job.id).status is JobStatus.FAILED
    assert fakes.job_repository.get(job.id).error == "interrupted"


def test_a_finished_job_cannot_run_again(fakes):
    job = fakes.render_now.render(Path("photo.png"), RenderParams())
    with pytest.raises(IllegalTransition):
        fakes.runner.run(job.id)


def test_results_go_to_the_chosen_destination(fakes):
    job = fakes.render_now.render(Path("photo.png"), RenderParams(), destination=Path("/prints"))
    assert job.output_dir == "/prints/" + job.id


def test_a_painters_warnings_and_device_reach_the_job_and_its_record():
    class WarningPainter:
        name, device = "fussy-painter", "cuda:0"

        def paint(self, image, depth, request, noise, on_progress=None, subject=None):
            return PaintResult(image, warnings=("LoRA 'x' not found; painting without it",), device=self.device)

    fakes = make_fakes({"photo.png": decoded(photo())}, painter=WarningPainter())
    job = fakes.render_now.render(Path("photo.png"), RenderParams(mode="painterly"))
    assert job.status is JobStatus.COMPLETED and fakes.jobs.get(job.id).warnings == job.warnings
    assert job.warnings == ("LoRA 'x' not found; painting without it",)
    (files,) = fakes.files.published.values()
    assert files["params.json"]["warnings"] == list(job.warnings)
    assert files["params.json"]["devices"] == {"paint": "cuda:0"}


def test_a_retried_job_starts_without_the_warnings_of_its_earlier_run():
    fakes = make_fakes({"photo.png": decoded(photo())})
    job = fakes.render_now.render(Path("photo.png"), RenderParams(print_size="8x10"))
    assert job.warnings
    stored = fakes.jobs.get(job.id)
    fakes.job_repository.save(attrs.evolve(stored, status=JobStatus.FAILED))
    assert fakes.jobs.retry(job.id).warnings == ()


def test_the_previews_written_beside_the_print_files_are_done_before_a_failed_attempt_is_discarded(fakes):
    """The previews are written in a thread while the print files are made: a print file that fails
    fails the job only once the previews are written, so nothing is left in the discarded folder."""
    write_animation, discard, events = fakes.files.write_animation, fakes.files.discard, []

    def slow_animation(*args):
        time.sleep(0.3)
        write_animation(*args)
        events.append("previews written")

    def full_disk(*args):
        raise StorageFull("the disk is full")

    def discarded(key):
        discard(key)
        events.append("discarded")

    fakes.files.write_animation, fakes.files.open_print_file = slow_animation, full_disk
    fakes.files.discard = discarded
    job = fakes.render_now.render(Path("photo.png"), RenderParams(layers=3))
    assert job.status is JobStatus.FAILED and job.error == "the disk is full"
    assert events[:2] == ["previews written", "discarded"]
    assert fakes.files.working == {} and fakes.files.published == {}


def test_a_preview_that_fails_fails_the_job(fakes):
    def full_disk(*args):
        raise StorageFull("the disk is full: the parallax preview")

    fakes.files.write_animation = full_disk
    job = fakes.render_now.render(Path("photo.png"), RenderParams(layers=3))
    assert job.status is JobStatus.FAILED and job.error == "the disk is full: the parallax preview"
    assert fakes.files.working == {} and fakes.files.published == {}


def test_a_job_cancelled_while_its_previews_are_written_is_discarded_only_once_they_are(fakes):
    """The run stops at the first progress report after the panes (the job was cancelled): the previews'
    thread still writes into the attempt's folder, so the folder goes only after it."""
    write_animation, discard, events = fakes.files.write_animation, fakes.files.discard, []

    def slow_animation(*args):
        time.sleep(0.3)
        write_animation(*args)
        events.append("previews written")

    def discarded(key):
        discard(key)
        events.append("discarded")

    def cancelled_at_upscale(job):
        if job.stage == "upscale":
            raise JobChanged("the job was cancelled")

    fakes.files.write_animation, fakes.files.discard = slow_animation, discarded
    fakes.render_now.render(Path("photo.png"), RenderParams(layers=3), on_progress=cancelled_at_upscale)
    assert events[:2] == ["previews written", "discarded"]
    assert fakes.files.working == {} and fakes.files.published == {}
