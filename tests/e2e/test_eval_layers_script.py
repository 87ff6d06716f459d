"""scripts/eval_layers.py end to end: it renders a folder with the real CLI, scores, draws a sheet."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "eval_layers.py"


def run_script(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_scores_a_downscaled_photo_against_its_mask_and_writes_a_contact_sheet(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    rows, columns = np.indices((240, 320))
    image = np.zeros((240, 320, 3), np.uint8)
    image[...] = np.where(rows[..., None] < 120, [150, 190, 230], [90, 120, 60])  # sky over grass
    box = (rows > 100) & (rows < 220) & (columns > 120) & (columns < 200)
    image[box] = [220, 40, 30]
    Image.fromarray(image).save(photos / "box.png")
    mask = np.where(box, 255, 0).astype(np.uint8)
    Image.fromarray(mask).save(photos / "box_mask.png")
    Image.fromarray(image).save(photos / "plain.jpg")  # no mask: rendered, not scored

    result = run_script(photos, "--max-side", "160", "--out", tmp_path / "out", "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    box_result, plain_result = report["photos"]
    assert box_result["name"] == "box" and 2 <= box_result["panes"] <= 5
    assert 0.0 < box_result["integrity"] <= 1.0 and 0.0 <= box_result["separation"] <= 1.0
    assert plain_result["integrity"] is None
    assert report["mean"]["scored"] == 1 and report["mean"]["integrity"] == box_result["integrity"]
    with Image.open(report["sheets"][0]) as sheet:
        assert sheet.format == "PNG" and sheet.width > 1000


def test_a_folder_without_photos_is_refused_in_one_line(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a_mask.png")  # a mask is no photo

    result = run_script(tmp_path, "--out", tmp_path / "out")

    assert result.returncode == 1
    assert result.stderr.strip() == f"no photos in {tmp_path}"
    assert not (tmp_path / "out").exists()


def test_the_mask_script_writes_each_photo_mirrored_darker_warmer_and_smaller_with_its_mask(tmp_path):
    made = subprocess.run([sys.executable, str(SCRIPT.with_name("make_subject_masks.py")), str(tmp_path), "--only", "coffee",
                           "--variants"], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    photo = np.asarray(Image.open(tmp_path / "coffee.png"), np.float32)
    mask = np.asarray(Image.open(tmp_path / "coffee_mask.png"))
    varied = {tag: (np.asarray(Image.open(tmp_path / f"coffee_{tag}.png"), np.float32),
                    np.asarray(Image.open(tmp_path / f"coffee_{tag}_mask.png")))
              for tag in ("mirror", "dark", "warm", "low")}
    np.testing.assert_array_equal(varied["mirror"][0], photo[:, ::-1])
    np.testing.assert_array_equal(varied["mirror"][1], mask[:, ::-1])
    assert varied["dark"][0].mean() < 0.8 * photo.mean()
    red_over_blue = lambda image: image[..., 0].mean() / image[..., 2].mean()  # noqa: E731
    assert red_over_blue(varied["warm"][0]) > 1.1 * red_over_blue(photo)
    assert max(varied["low"][0].shape[:2]) == 360 and varied["low"][1].shape == varied["low"][0].shape[:2]
    assert set(np.unique(varied["low"][1])) <= {0, 128, 255}
