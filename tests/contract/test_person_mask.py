"""Contract of the shipped person models (adapters/person_mask.py): the selfie segmentation model on
scikit-image's astronaut, the pose model on its cameraman."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import skimage.data

from rilievo.adapters.faces import Face
from rilievo.adapters.person_mask import POSE, SELFIE, body_chance, person_chance


@pytest.fixture(scope="module")
def astronaut_chance():
    return person_chance(skimage.data.astronaut().astype(np.float32) / 255.0)


@pytest.fixture(scope="module")
def cameraman():
    return np.repeat(skimage.data.camera()[..., None], 3, axis=2).astype(np.float32) / 255.0


CAMERAMAN_FACE = Face(row=120, col=196, size=81)  # what adapters/faces.py finds


@pytest.mark.parametrize(("model", "digest"), [
    (SELFIE, "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"),
    (POSE, "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
])
def test_the_models_ship_with_the_package_unchanged(model, digest):
    assert hashlib.sha256(model.path.read_bytes()).hexdigest() == digest


def test_the_astronaut_her_suit_and_the_helmet_she_holds_are_a_person(astronaut_chance):
    for row, col in ((120, 220), (55, 200), (420, 100), (430, 420)):  # face, hair, suit, helmet
        assert astronaut_chance[row, col] > 0.5


def test_the_flag_and_the_backdrop_beside_the_shuttle_are_not(astronaut_chance):
    assert astronaut_chance[250, 20] < 0.5 and astronaut_chance[20, 480] < 0.5


def test_a_plain_grey_picture_holds_no_person():
    assert person_chance(np.full((90, 160, 3), 0.5, np.float32)).max() < 0.5


@pytest.mark.parametrize("shape", [(37, 300, 3), (512, 341, 3), (1, 1, 3)])
def test_the_answer_has_the_pictures_size_and_lies_in_zero_to_one(shape):
    chance = person_chance(np.random.default_rng(0).random(shape, dtype=np.float32))
    assert chance.shape == shape[:2] and chance.dtype == np.float32
    assert 0.0 <= chance.min() and chance.max() <= 1.0


def test_the_same_picture_gives_the_same_answer(astronaut_chance):
    again = person_chance(skimage.data.astronaut().astype(np.float32) / 255.0)
    assert np.array_equal(again, astronaut_chance)


def test_loading_the_model_prints_nothing():
    # LiteRT's native code announces its CPU delegate on stderr; a CLI user should not see it
    code = "import numpy as np; from rilievo.adapters.person_mask import person_chance; person_chance(np.zeros((8, 8, 3), np.float32))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout == "" and run.stderr == ""


def test_the_pose_model_outlines_the_cameraman_from_his_hair_down_to_his_trousers(cameraman):
    body = body_chance(cameraman, CAMERAMAN_FACE)
    for row, col in ((75, 210), (150, 230), (250, 150), (470, 120)):  # hair, face, coat, trousers
        assert body[row, col] > 0.5


def test_the_pose_model_leaves_out_the_sky_the_grass_and_his_tripod(cameraman):
    body = body_chance(cameraman, CAMERAMAN_FACE)
    for row, col in ((50, 420), (470, 400), (350, 330), (480, 290)):  # sky, grass, tripod's head and leg
        assert body[row, col] < 0.5


def test_the_pose_model_sees_no_person_at_a_face_put_on_a_cat():
    cat = skimage.data.chelsea().astype(np.float32) / 255.0
    assert not body_chance(cat, Face(row=100, col=200, size=60)).any()


@pytest.mark.parametrize("face", [Face(row=0, col=0, size=4), Face(row=-30, col=250, size=200), Face(row=60, col=100, size=40)])
def test_the_pose_models_answer_has_the_pictures_size_and_lies_in_zero_to_one(face):
    picture = np.random.default_rng(1).random((200, 300, 3), dtype=np.float32)
    body = body_chance(picture, face)
    assert body.shape == (200, 300) and body.dtype == np.float32
    assert 0.0 <= body.min() and body.max() <= 1.0
