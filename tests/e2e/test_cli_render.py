"""`rilievo render` end to end: a real process, real adapters, real files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest
import tifffile
from PIL import Image

from rilievo.adapters.image_io import read_png, write_png
from rilievo.adapters.sql_jobs import SqlJobRepository, open_sqlite
from rilievo.domain.job import JobStatus
from rilievo.domain.layers import stack_over
from tests.api.api_helpers import bomb_png_bytes
from tests.subprocess_env import rilievo_env

pytestmark = pytest.mark.slow


def rilievo(storage: Path, *args: str | Path) -> subprocess.CompletedProcess:
    env = rilievo_env(storage)
    command = [sys.executable, "-m", "rilievo.entrypoints.cli", "render", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def render_json(storage: Path, *args: str | Path) -> dict:
    result = rilievo(storage, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def layer_files(folder: Path) -> list[Path]:
    """The layers themselves, front to back (not their white-ink or print files)."""
    layers = [path for path in folder.glob("Layer_*.png") if re.fullmatch(r"Layer_\d_(front|mid|back)\.png", path.name)]
    return sorted(layers, key=lambda path: int(path.name.split("_")[1]))


def storage_entries(storage: Path) -> list[str]:
    """What a job left behind, the job and queue databases aside."""
    return sorted(
        str(path.relative_to(storage)) for path in storage.rglob("*") if ".sqlite3" not in path.name
    )


def test_a_real_photograph_becomes_a_layered_folder(tmp_path, coffee):
    storage = tmp_path / "storage"
    summary = render_json(storage, coffee)

    assert set(summary) == {"job_id", "status", "mode", "engines", "output_dir", "files", "layer_count", "seconds",
                            "warnings"}
    assert summary["warnings"] == []
    assert summary["status"] == "completed" and summary["mode"] == "photo"
    assert summary["engines"]["depth"] == "classical" and "edges" in summary["engines"]
    folder = Path(summary["output_dir"])
    assert folder == (storage / "outputs" / summary["job_id"]).resolve()
    layers = layer_files(folder)
    assert 2 <= len(layers) == summary["layer_count"] <= 5
    assert sorted(p.name for p in folder.iterdir()) == sorted(summary["files"])
    assert {"composite_full.png", "depth_map.png", "layer_manifest.json", "params.json"} <= set(summary["files"])

    manifest = json.loads((folder / "layer_manifest.json").read_text())
    assert manifest["job_id"] == summary["job_id"] and manifest["layer_count"] == len(layers)
    assert (manifest["width"], manifest["height"]) == (600, 400)
    assert manifest["depth_convention"] == "0 = nearest, 255 = farthest"
    assert [layer["file"] for layer in manifest["layers"]] == [p.name for p in layers]
    assert abs(sum(layer["coverage"] for layer in manifest["layers"]) - 1) < 1e-4
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "layer_manifest.schema.json").read_text())
    jsonschema.validate(manifest, schema)
    for layer in manifest["layers"]:
        white = read_png(folder / layer["white_ink_file"])
        assert white.shape == (400, 600) and np.all(white <= read_png(folder / layer["file"])[..., 3] + 1e-6)
        assert "<svg" in (folder / layer["cut_file"]).read_text()
    with Image.open(folder / "parallax.gif") as parallax:
        assert parallax.n_frames > 1
    with Image.open(folder / "assembly_guide.png") as guide:
        assert guide.width >= 800
    assert len(manifest["assembly"]["spacers_mm"]) == len(layers) - 1

    composite = read_png(folder / "composite_full.png")
    stacked = stack_over([read_png(path) for path in layers])
    assert np.abs(stacked - composite).max() <= 1 / 255
    assert read_png(layers[-1])[..., 3].min() == 1.0
    np.testing.assert_allclose(composite, np.asarray(Image.open(coffee)) / 255, atol=0.5 / 255)  # unmodified

    job = SqlJobRepository(open_sqlite(storage / "rilievo.sqlite3")).get(summary["job_id"])
    assert job.status is JobStatus.COMPLETED and job.output_dir == str(folder)
    assert set(job.outputs) == set(summary["files"])
    assert storage_entries(storage / "jobs") == []  # the working folder was published whole


def test_without_json_the_command_shows_its_stages_and_where_the_files_are(tmp_path, coffee):
    result = rilievo(tmp_path / "storage", coffee, "--layers", "2", "--out", tmp_path / "prints")
    assert result.returncode == 0, result.stderr
    for stage in ("ingest", "depth", "post-process", "layers", "export"):
        assert stage in result.stderr
    assert "2 layers in " + str((tmp_path / "prints").resolve()) in result.stdout
    assert "depth: classical" in result.stdout
    assert "No learned weights installed for depth: the classical engines ran." in result.stdout
    assert "rilievo models pull" in result.stdout


def synthetic_scene(height: int = 240, width: int = 360):
    """Three objects at known depths, each a column of the frame, with the cues a camera would give:
    the far one hazy and soft, the near one sharp, saturated and low in the frame."""
    rng = np.random.default_rng(7)
    texture = rng.random((height, width, 1)).astype(np.float32)
    image = np.empty((height, width, 3), dtype=np.float32)
    depth = np.empty((height, width), dtype=np.float32)
    columns = [slice(0, 120), slice(120, 240), slice(240, 360)]
    for column, colour, distance in zip(columns, ([0.8, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.8]),
                                        (0.15, 0.5, 0.85)):
        image[:, column] = np.array(colour, dtype=np.float32) * (0.6 + 0.4 * texture[:, column])
        depth[:, column] = distance
    return image, depth


def street_scene(height: int = 360, width: int = 540):
    """Sky, a receding ground and three objects standing on it at three depths, with the cues a camera
    gives: the far one small, high, hazy and soft; the near one low, sharp and saturated."""
    rng = np.random.default_rng(3)
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = [0.70, 0.80, 0.92]
    tone = 0.35 + 0.25 * rng.random((height, width), dtype=np.float32)
    ground = np.stack([tone * 0.9, tone * 0.7, tone * 0.45], axis=-1)
    image[int(0.4 * height):] = ground[int(0.4 * height):]
    objects = {}
    for name, rows, columns, colour, blur, haze in [
        ("far", slice(50, 145), slice(330, 470), [0.3, 0.3, 0.45], 2.5, 0.55),
        ("mid", slice(130, 240), slice(60, 200), [0.15, 0.55, 0.2], 1.0, 0.2),
        ("near", slice(210, 360), slice(250, 420), [0.85, 0.15, 0.1], 0.0, 0.0),
    ]:
        texture = 0.55 + 0.45 * (rng.random((height, width, 1)) > 0.5)
        surface = haze * np.array([0.72, 0.8, 0.9]) + (1 - haze) * np.array(colour) * texture
        if blur:
            surface = cv2.GaussianBlur(surface.astype(np.float32), (0, 0), blur)
        image[rows, columns] = surface[rows, columns]
        objects[name] = (rows, columns)
    return np.clip(image, 0, 1), objects


def test_the_classical_layers_isolate_three_objects_at_three_depths(tmp_path):
    image, objects = street_scene()
    photo = tmp_path / "street.png"
    write_png(photo, image, 8)
    summary = render_json(tmp_path / "storage", photo, "--layers", "3", "--feather", "0")
    assert summary["engines"]["depth"] == "classical"
    layers = [read_png(path)[..., 3] for path in layer_files(Path(summary["output_dir"]))]
    depth = read_png(Path(summary["output_dir"]) / "depth_map.png")
    own_layer = {"near": layers[0], "mid": layers[1] * (1 - layers[0]), "far": layers[2] * (1 - layers[1]) * (1 - layers[0])}
    for name, (rows, columns) in objects.items():
        assert own_layer[name][rows, columns].mean() >= 0.9, name
    assert depth[objects["near"]].mean() < depth[objects["mid"]].mean() < depth[objects["far"]].mean()


def test_a_supplied_depth_map_isolates_three_objects_in_three_layers(tmp_path):
    image, depth = synthetic_scene()
    photo, depth_file = tmp_path / "scene.png", tmp_path / "scene_depth.png"
    write_png(photo, image, 8)
    # White = near, at half the photo's size: Rilievo resizes it to the photo.
    write_png(depth_file, 1.0 - depth[::2, ::2], 16)
    summary = render_json(tmp_path / "storage", photo, "--depth", depth_file, "--feather", "0", "--no-fill")
    assert summary["engines"]["depth"] == "supplied" and summary["layer_count"] == 3
    layers = layer_files(Path(summary["output_dir"]))
    for layer, column in zip(layers[:2], (slice(0, 120), slice(120, 240))):
        alpha = read_png(layer)[..., 3]
        assert alpha[:, column].min() == 1.0 and alpha.sum() == alpha[:, column].sum()
    depth_map = read_png(Path(summary["output_dir"]) / "depth_map.png")
    assert depth_map[:, :120].mean() < depth_map[:, 120:240].mean() < depth_map[:, 240:].mean()


def test_near_black_inverts_a_supplied_depth_map(tmp_path):
    image, depth = synthetic_scene()
    photo, depth_file = tmp_path / "scene.png", tmp_path / "scene_depth.png"
    write_png(photo, image, 8)
    write_png(depth_file, depth, 8)  # black = near
    summary = render_json(tmp_path / "storage", photo, "--depth", depth_file, "--near", "black")
    depth_map = read_png(Path(summary["output_dir"]) / "depth_map.png")
    assert depth_map[:, :120].mean() < depth_map[:, 240:].mean()


def test_sharpening_is_recorded_as_an_engine(tmp_path, coffee):
    summary = render_json(tmp_path / "storage", coffee, "--sharpen", "0.5", "--layers", "off")
    assert summary["engines"]["post-process"] == "unsharp" and summary["layer_count"] == 0
    manifest = json.loads((Path(summary["output_dir"]) / "layer_manifest.json").read_text())
    assert manifest["layers"] == []


def test_the_same_photo_and_seed_give_identical_files(tmp_path, coffee):
    first = render_json(tmp_path / "storage", coffee, "--seed", "7")
    second = render_json(tmp_path / "storage", coffee, "--seed", "7")
    for name in first["files"]:
        if name.endswith(".png"):
            a = (Path(first["output_dir"]) / name).read_bytes()
            assert a == (Path(second["output_dir"]) / name).read_bytes(), name


def truncated_jpeg(path: Path, coffee: Path) -> None:
    data = coffee.read_bytes()
    path.write_bytes(data[: len(data) // 2])


REFUSED_INPUTS = {
    "not an image": (lambda path, coffee: path.write_text("hello, I am a text file"), [], "not an image"),
    "truncated": (truncated_jpeg, [], "truncated"),
    "empty": (lambda path, coffee: path.write_bytes(b""), [], "empty"),
    "decompression bomb": (lambda path, coffee: path.write_bytes(bomb_png_bytes()), [], "3600.0 megapixels"),
    "damaged TIFF": (lambda path, coffee: path.write_bytes(b"II*\x00" + bytes(200)), [], "damaged TIFF"),
    "too many pixels": (lambda path, coffee: path.write_bytes(coffee.read_bytes()), ["--max-pixels", "100000"],
                        "megapixel"),
    "missing file": (lambda path, coffee: None, [], "photo.jpg"),
    "feather out of range": (lambda path, coffee: path.write_bytes(coffee.read_bytes()), ["--feather", "11"],
                             "feather"),
    "layer count out of range": (lambda path, coffee: path.write_bytes(coffee.read_bytes()), ["--layers", "7"],
                                 "layers"),
    "sharpen out of range": (lambda path, coffee: path.write_bytes(coffee.read_bytes()), ["--sharpen", "2"],
                             "sharpen"),
    "negative seed": (lambda path, coffee: path.write_bytes(coffee.read_bytes()), ["--seed", "-1"], "seed"),
}


@pytest.mark.parametrize("kind", REFUSED_INPUTS)
def test_refused_input_gets_one_clear_line_and_leaves_nothing_behind(tmp_path, coffee, kind):
    make, extra, words = REFUSED_INPUTS[kind]
    photo = tmp_path / "photo.jpg"
    make(photo, coffee)
    storage = tmp_path / "storage"
    result = rilievo(storage, photo, *extra)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rilievo: error: ") and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert storage_entries(storage) == [] or storage_entries(storage) == ["uploads"]
    if (storage / "rilievo.sqlite3").exists():
        assert SqlJobRepository(open_sqlite(storage / "rilievo.sqlite3")).all() == []


def test_a_refused_supplied_depth_map_leaves_no_job(tmp_path, coffee):
    bad_depth = tmp_path / "depth.png"
    bad_depth.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = rilievo(tmp_path / "storage", coffee, "--depth", bad_depth, "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["status"] == "refused"
    assert SqlJobRepository(open_sqlite(tmp_path / "storage" / "rilievo.sqlite3")).all() == []


def test_a_rotated_sixteen_bit_tiff_gives_upright_sixteen_bit_files(tmp_path):
    rng = np.random.default_rng(5)
    stored = (rng.random((60, 90, 3)) * 65535).astype(np.uint16)
    stored[:10, :10] = 65535  # a white marker in the stored top-left corner
    photo = tmp_path / "scan.tif"
    tifffile.imwrite(photo, stored, photometric="rgb", extratags=[(274, "H", 1, 6, True)])  # rotate 90° cw
    summary = render_json(tmp_path / "storage", photo, "--layers", "2")
    composite = read_png(Path(summary["output_dir"]) / "composite_full.png")
    assert composite.shape == (90, 60, 3)
    assert composite[:10, -10:].min() == 1.0  # the marker is now top-right
    upright = np.rot90(stored, -1).astype(np.float64) / 65535
    np.testing.assert_allclose(composite, upright, atol=0.6 / 65535)  # 16-bit precision survived
    params = json.loads((Path(summary["output_dir"]) / "params.json").read_text())
    assert params["source"]["bit_depth"] == 16 and params["source"]["format"] == "TIFF"


def test_painterly_mode_paints_the_photo_and_layers_it_reproducibly(tmp_path, coffee):
    runs = [render_json(tmp_path / "storage", coffee, "--mode", "painterly", "--style", "oil-impressionist",
                        "--seed", str(seed), "--out", tmp_path / f"run{index}")
            for index, seed in enumerate((7, 7, 8))]
    first, again, other = (Path(run["output_dir"]) for run in runs)
    assert runs[0]["engines"]["paint"] == "classical-strokes"
    assert runs[0]["engines"]["post-process"] == "painterly-post"
    painted = read_png(first / "composite_full.png")
    photo = np.asarray(Image.open(coffee), dtype=np.float32) / 255
    assert painted.shape == photo.shape and np.abs(painted - photo).mean() > 0.02
    assert 2 <= runs[0]["layer_count"] <= 5
    layers = [read_png(path) for path in layer_files(first)]
    assert np.abs(stack_over(layers) - painted).max() <= 1 / 255  # the layers are of the painting
    assert (first / "composite_full.png").read_bytes() == (again / "composite_full.png").read_bytes()
    assert (first / "composite_full.png").read_bytes() != (other / "composite_full.png").read_bytes()
    record = json.loads((first / "params.json").read_text())
    assert record["mode"] == "painterly" and {"paint", "post", "layers", "edition"} <= set(record["seeds"])


def test_a_replayed_job_gives_the_identical_files(tmp_path, coffee):
    storage = tmp_path / "storage"
    first = render_json(storage, coffee, "--mode", "painterly", "--style", "watercolor-loose", "--seed", "3",
                        "--layers", "3")
    replay = render_json(storage, "--replay", first["job_id"])
    assert replay["job_id"] != first["job_id"] and replay["engines"] == first["engines"]
    for name in ("composite_full.png", "depth_map.png", "Layer_1_front.png", "Layer_3_back.png"):
        assert (Path(first["output_dir"]) / name).read_bytes() == (Path(replay["output_dir"]) / name).read_bytes()


def test_replay_needs_a_known_job_and_no_photo(tmp_path, coffee):
    assert rilievo(tmp_path / "storage", "--replay", "0123456789abcdef").returncode == 2
    both = rilievo(tmp_path / "storage", coffee, "--replay", "0123456789abcdef")
    assert both.returncode == 2 and "either a PHOTO or --replay" in both.stderr


def test_the_job_record_names_the_library_versions(tmp_path, coffee):
    summary = render_json(tmp_path / "storage", coffee, "--layers", "off")
    runtime = json.loads((Path(summary["output_dir"]) / "params.json").read_text())["runtime"]
    assert runtime["numpy"] == np.__version__ and runtime["python"].count(".") == 2
    assert {"rilievo", "pillow", "opencv-python-headless"} <= set(runtime)


def png_info(path: Path) -> dict:
    import png

    width, height, _, info = png.Reader(filename=str(path)).read()
    chunks = [kind for kind, _ in png.Reader(filename=str(path)).chunks()]
    return {"size": (width, height), "icc_profile": b"iCCP" in chunks, **info}


def test_a_print_size_job_writes_print_files_that_a_print_shop_can_open(tmp_path, coffee):
    summary = render_json(tmp_path / "storage", coffee, "--print", "4x3in", "--dpi", "300", "--format", "cmyk-tiff",
                          "--layers", "3", "--intent", "relative", "--bleed")
    folder = Path(summary["output_dir"])
    canvas = (1200 + 2 * 38, 900 + 2 * 38)  # 4 x 3 in at 300 DPI, 0.125 in of bleed on every side
    composite = png_info(folder / "composite_full.png")
    assert composite["size"] == canvas and composite["bitdepth"] == 16 and not composite["alpha"]
    assert round(composite["physical"].x * 0.0254) == 300 and composite["icc_profile"]
    for layer in layer_files(folder):
        info = png_info(layer)
        assert info["size"] == canvas and info["alpha"] and round(info["physical"].x * 0.0254) == 300
    with tifffile.TiffFile(folder / "composite_full.cmyk.tif") as tiff:
        page = tiff.pages[0]
        assert (page.imagewidth, page.imagelength, page.samplesperpixel) == (*canvas, 4)
        assert page.photometric == tifffile.PHOTOMETRIC.SEPARATED
        assert page.tags["XResolution"].value == (300, 1) and page.tags["ResolutionUnit"].value == 2
        profile = page.tags["InterColorProfile"].value
    manifest = json.loads((folder / "layer_manifest.json").read_text())
    assert manifest["print"]["cmyk"]["profile"] == "Artifex CMYK SWOP Profile"
    assert b"Artifex CMYK SWOP" in bytes(profile)
    assert manifest["print"]["canvas_px"] == list(canvas) and manifest["print"]["engine"] == "lanczos"
    assert {"soft_proof.jpg", "composite_preview.jpg"} <= set(summary["files"])
    assert summary["engines"]["upscale"] == "lanczos"
    # the layers, made at print size band by band, stack back into the print-size composite
    layers = [png_pixels(path) for path in layer_files(folder)]
    np.testing.assert_allclose(stack_over(layers), png_pixels(folder / "composite_full.png"), atol=2 / 255)


def png_pixels(path: Path) -> np.ndarray:
    """A PNG's pixels in [0, 1], read with pypng (Pillow reads 16-bit RGB as 8-bit)."""
    import png

    width, height, rows, info = png.Reader(filename=str(path)).read()
    values = np.vstack([np.asarray(row, np.float32) for row in rows]).reshape(height, width, info["planes"])
    return values / (2 ** info["bitdepth"] - 1)


def test_a_big_enlargement_is_announced_with_the_size_the_photo_supports(tmp_path, coffee):
    result = rilievo(tmp_path / "storage", coffee, "--print", "8x10", "--dpi", "300", "--layers", "off")
    assert result.returncode == 0, result.stderr
    assert "Warning: " in result.stdout and "300 DPI" in result.stdout


def test_an_unknown_print_size_is_refused_in_one_line(tmp_path, coffee):
    result = rilievo(tmp_path / "storage", coffee, "--print", "huge")
    assert result.returncode == 2 and "print_size must be" in result.stderr
    assert result.stderr.count("\n") == 1
