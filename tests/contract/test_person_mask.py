"""Contract of the shipped person segmentation model (adapters/person_mask.py), on scikit-image's astronaut."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import skimage.data

from rilievo.adapters.person_mask import MODEL, person_chance


@pytest.fixture(scope="module")
def astronaut_chance():
    return person_chance(skimage.data.astronaut().astype(np.float32) / 255.0)


def test_the_model_ships_with_the_package_unchanged():
    digest = hashlib.sha256(MODEL.path.read_bytes()).hexdigest()
    assert digest == "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"


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
