"""Contract of the shipped salient-object model (adapters/salient_object.py, U²-Net's u2netp) on
scikit-image's photos: an espresso cup on its saucer, a rocket between its launch towers."""

import hashlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import skimage.data

from rilievo.adapters.salient_object import WEIGHTS, salient_chance


@pytest.fixture(scope="module")
def coffee_chance():
    return salient_chance(skimage.data.coffee().astype(np.float32) / 255.0)


@pytest.fixture(scope="module")
def rocket_chance():
    return salient_chance(skimage.data.rocket().astype(np.float32) / 255.0)


def test_the_model_ships_with_the_package_unchanged():
    digest = hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    assert digest == "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"


def test_the_cup_its_saucer_and_the_spoon_are_one_subject(coffee_chance):
    for row, col in ((100, 250), (320, 250), (280, 100), (270, 335)):  # coffee, saucer front and left, spoon
        assert coffee_chance[row, col] > 0.9


def test_the_table_around_the_saucer_is_not(coffee_chance):
    for row, col in ((20, 560), (380, 20), (200, 560), (390, 500)):
        assert coffee_chance[row, col] < 0.1


def test_the_rocket_is_the_subject_and_its_towers_and_the_sky_are_not(rocket_chance):
    assert rocket_chance[250, 322] > 0.9
    for row, col in ((300, 40), (200, 600), (300, 200), (60, 320)):  # left, right and near towers, sky
        assert rocket_chance[row, col] < 0.1


def test_a_plain_grey_picture_holds_no_subject():
    assert salient_chance(np.full((90, 160, 3), 0.5, np.float32)).max() < 0.1


@pytest.mark.parametrize("shape", [(37, 300, 3), (512, 341, 3), (1, 1, 3)])
def test_the_answer_has_the_pictures_size_and_lies_in_zero_to_one(shape):
    chance = salient_chance(np.random.default_rng(0).random(shape, dtype=np.float32))
    assert chance.shape == shape[:2] and chance.dtype == np.float32
    assert 0.0 <= chance.min() and chance.max() <= 1.0


def test_the_same_picture_gives_the_same_answer(coffee_chance):
    again = salient_chance(skimage.data.coffee().astype(np.float32) / 255.0)
    assert np.array_equal(again, coffee_chance)


def test_the_model_s_layer_buffers_are_let_go_of_after_each_answer():
    # a cv2.dnn.Net keeps about 250 MB of layer buffers as long as it lives: kept between answers, it
    # held them through the rest of every render. Measured in a process of its own, after three answers.
    script = textwrap.dedent("""
        from pathlib import Path
        import numpy as np
        from rilievo.adapters.salient_object import salient_chance

        def rss_mib():
            status = Path("/proc/self/status").read_text().splitlines()
            return int(next(line.split()[1] for line in status if line.startswith("VmRSS"))) / 1024

        picture = np.random.default_rng(0).random((341, 512, 3), dtype=np.float32)
        before = rss_mib()
        for _ in range(3):
            salient_chance(picture)
        print(rss_mib() - before)
    """)
    grown = float(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout)
    assert grown < 150
