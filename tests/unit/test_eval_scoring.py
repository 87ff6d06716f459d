"""The subject scores of scripts/eval_layers.py, as shared/eval/subjects/score.py defines them."""

import json

import numpy as np
import pytest
from PIL import Image

from scripts.eval_layers import beside, pane_owner, score

SUBJECT, BACKGROUND, DONT_CARE = 255, 0, 128


def test_a_subject_whole_on_the_front_pane_scores_full_integrity_and_separation():
    owner = np.array([[0, 0, 1, 1]], np.int16)
    mask = np.array([[SUBJECT, SUBJECT, BACKGROUND, BACKGROUND]], np.uint8)
    assert score(owner, 2, mask) == {"integrity": 1.0, "subject_pane": 1, "separation": 1.0,
                                     "background_pane": 2, "subject_in_front": True}


def test_integrity_is_the_share_of_the_subject_on_its_majority_pane():
    owner = np.array([[0, 1, 1, 1, 2, 2]], np.int16)
    mask = np.array([[SUBJECT] * 4 + [BACKGROUND] * 2], np.uint8)
    result = score(owner, 3, mask)
    assert (result["integrity"], result["subject_pane"]) == (0.75, 2)


def test_separation_counts_the_background_left_on_the_subject_pane_and_dont_care_counts_nowhere():
    owner = np.array([[0, 0, 0, 1, 1, 1, 0, 0]], np.int16)
    mask = np.array([[SUBJECT, SUBJECT, BACKGROUND, BACKGROUND, BACKGROUND, BACKGROUND,
                      DONT_CARE, DONT_CARE]], np.uint8)
    result = score(owner, 2, mask)
    assert (result["integrity"], result["separation"], result["background_pane"]) == (1.0, 0.75, 2)


def test_a_subject_behind_the_background_is_not_in_front():
    owner = np.array([[1, 1, 0, 0, 0]], np.int16)
    mask = np.array([[SUBJECT, SUBJECT, BACKGROUND, BACKGROUND, BACKGROUND]], np.uint8)
    assert score(owner, 2, mask)["subject_in_front"] is False


def test_a_mask_of_another_size_is_refused():
    with pytest.raises(ValueError, match="mask"):
        score(np.zeros((2, 3), np.int16), 2, np.zeros((3, 2), np.uint8))


def test_a_pixel_belongs_to_the_front_most_pane_opaque_there(tmp_path):
    alphas = {"Layer_1_front.png": [[255, 127, 0]], "Layer_2_back.png": [[255, 255, 128]]}
    for name, alpha in alphas.items():
        rgba = np.zeros((1, 3, 4), np.uint8)
        rgba[..., 3] = alpha
        Image.fromarray(rgba, "RGBA").save(tmp_path / name)
    layers = [{"file": "Layer_2_back.png", "order": 2}, {"file": "Layer_1_front.png", "order": 1}]
    (tmp_path / "layer_manifest.json").write_text(json.dumps({"layers": layers}))
    owner, panes = pane_owner(tmp_path)
    assert panes == 2
    assert owner.tolist() == [[0, 1, 1]]


def test_a_pixel_no_pane_covers_belongs_to_none(tmp_path):
    Image.fromarray(np.zeros((1, 2, 4), np.uint8), "RGBA").save(tmp_path / "Layer_1_front.png")
    (tmp_path / "layer_manifest.json").write_text(
        json.dumps({"layers": [{"file": "Layer_1_front.png", "order": 1}]}))
    owner, panes = pane_owner(tmp_path)
    assert owner.tolist() == [[panes, panes]]


def test_a_depth_folder_that_is_the_photo_folder_gives_the_depth_map_not_the_photo(tmp_path):
    photo = tmp_path / "bike.png"
    photo.write_bytes(b"photo")
    assert beside(photo, tmp_path, ("_depth", "")) is None
    (tmp_path / "bike_depth.png").write_bytes(b"depth")
    assert beside(photo, tmp_path, ("_depth", "")) == tmp_path / "bike_depth.png"
