"""`rilievo render` with awkward inputs: photos too small, depth maps flat, of another shape or in floats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from rilievo.adapters.image_io import read_png
from rilievo.adapters.sql_jobs import SqlJobRepository, open_sqlite
from tests.e2e.test_cli_render import layer_files, render_json, rilievo, storage_entries

pytestmark = pytest.mark.slow


def assert_refused_leaving_nothing(result, storage: Path, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rilievo: error: "), result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert storage_entries(storage) == [] or storage_entries(storage) == ["uploads"]
    if (storage / "rilievo.sqlite3").exists():
        assert SqlJobRepository(open_sqlite(storage / "rilievo.sqlite3")).all() == []


@pytest.mark.parametrize(("width", "height"), [(1, 1), (1, 5000), (5000, 2)])
def test_a_photo_too_small_to_process_is_refused_with_exit_2_and_nothing_stored(tmp_path, width, height):
    photo = tmp_path / "tiny.png"
    Image.new("RGB", (width, height), (90, 120, 150)).save(photo)
    storage = tmp_path / "storage"
    assert_refused_leaving_nothing(rilievo(storage, photo), storage, f"{width}x{height} px", "too small")


def test_a_depth_map_of_another_shape_is_refused_with_both_sizes_and_nothing_stored(tmp_path, coffee):
    depth = tmp_path / "portrait.png"  # coffee is 600x400
    Image.fromarray(np.tile(np.linspace(0, 255, 400).astype(np.uint8), (600, 1))).save(depth)
    storage = tmp_path / "storage"
    result = rilievo(storage, coffee, "--depth", depth)
    assert_refused_leaving_nothing(result, storage, "depth map is 400x600 px and the photo 600x400 px")


@pytest.mark.parametrize("layers", ["auto", "3"])
def test_a_flat_depth_map_gives_one_opaque_layer_and_a_warning(tmp_path, coffee, layers):
    depth = tmp_path / "constant.png"
    Image.new("L", (600, 400), 128).save(depth)
    summary = render_json(tmp_path / "storage", coffee, "--depth", depth, "--layers", layers)
    assert summary["status"] == "completed" and summary["layer_count"] == 1
    asked = "auto's 2-5" if layers == "auto" else "3"
    assert summary["warnings"] == [
        f"the depth map is flat (one depth everywhere), so the picture is one layer instead of {asked}"]
    folder = Path(summary["output_dir"])
    (layer,) = layer_files(folder)
    assert layer.name == "Layer_1_back.png" and (read_png(layer)[..., 3] == 1).all()
    manifest = json.loads((folder / "layer_manifest.json").read_text())
    assert [entry["coverage"] for entry in manifest["layers"]] == [1.0]


def test_the_flat_depth_warning_is_printed_without_json(tmp_path, coffee):
    depth = tmp_path / "constant.png"
    Image.new("L", (600, 400), 200).save(depth)
    result = rilievo(tmp_path / "storage", coffee, "--depth", depth)
    assert result.returncode == 0, result.stderr
    assert "Warning: the depth map is flat (one depth everywhere)" in result.stdout


def test_a_float_depth_map_in_metres_with_unknown_values_is_used_and_its_gaps_reported(tmp_path):
    """Near on the left (1 m), far on the right (9 m); a band of NaN where the sensor saw nothing. The
    photo shows what the depth says, a red thing on the left before a blue one: the panes follow whole
    regions of the photo, so the photo's parts must be where the depth has them."""
    noise = np.random.default_rng(5).random((400, 600, 1))
    pixels = np.where(np.arange(600)[None, :, None] < 300, [200, 60, 40], [40, 90, 200]) * (0.8 + 0.2 * noise)
    photo = tmp_path / "two.png"
    Image.fromarray(pixels.astype(np.uint8)).save(photo)
    metres = np.tile(np.where(np.arange(600) < 300, 1.0, 9.0).astype(np.float32), (400, 1))
    metres[:, 290:310] = np.nan
    depth = tmp_path / "depth.tif"
    tifffile.imwrite(depth, metres)
    # the edge refinement puts the outline on the photo's edge, where a region's outline may be a few px off
    summary = render_json(tmp_path / "storage", photo, "--depth", depth, "--near", "black",
                          "--feather", "0", "--min-feature", "0")
    assert summary["layer_count"] == 2
    assert summary["warnings"] == ["the depth map has 8000 unknown values (NaN or infinite, 3.3% of it): they "
                                   "took the depth of the nearest known pixel"]
    front, back = layer_files(Path(summary["output_dir"]))
    alpha = read_png(front)[..., 3]
    assert alpha[:, :300].min() == 1.0 and alpha[:, 300:].max() == 0.0
