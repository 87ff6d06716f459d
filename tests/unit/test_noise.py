"""The noise plan: per-layer seeds, numbered editions and depth-weighted strength."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rilievo.domain.layers import DepthRange, LayerPlan
from rilievo.domain.noise import EDITION_JITTER, SUBJECT_CALM, NoisePlan, steps_held
from rilievo.domain.seeds import derive_seed

SEEDS = st.integers(0, 2**32 - 1)


def plan_of(*starts: int) -> LayerPlan:
    """A layer plan whose layers after the front begin at these 8-bit levels."""
    ends = [*(s - 1 for s in starts), 255]
    los = [0, *starts]
    return LayerPlan(ranges=tuple(DepthRange(lo, hi) for lo, hi in zip(los, ends)), coverage=(0.0,) * len(los))


def ramp(height=8, width=256) -> np.ndarray:
    return np.tile(np.arange(width, dtype=np.float32) / (width - 1), (height, 1))


@given(SEEDS, st.lists(st.integers(1, 254), min_size=1, max_size=4, unique=True).map(sorted))
def test_each_layer_gets_its_own_seed_from_the_painting_seed(seed, starts):
    noise = NoisePlan.for_painting(seed, layer_plan=plan_of(*starts))
    assert noise.layer_seeds == tuple(derive_seed(seed, "layer", i) for i in range(len(starts) + 1))
    assert len(set(noise.layer_seeds)) == len(noise.layer_seeds)
    assert noise.layer_starts == tuple(starts)


@given(st.lists(st.integers(1, 254), min_size=1, max_size=4, unique=True).map(sorted))
def test_a_pixel_belongs_to_the_layer_whose_depth_range_holds_it(starts):
    layer_plan = plan_of(*starts)
    noise = NoisePlan.for_painting(1, layer_plan=layer_plan)
    levels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(noise.layer_index(levels.astype(np.float32) / 255.0),
                                  layer_plan.membership(levels))


@settings(max_examples=30)
@given(SEEDS, st.integers(1, 254))
def test_a_layers_noise_depends_on_its_own_seed_only(seed, start):
    depth = ramp()
    near = depth * 255 < start - 0.5
    first = NoisePlan.for_painting(seed, layer_plan=plan_of(start))
    changed_back = NoisePlan(seed=seed, layer_seeds=(first.layer_seeds[0], first.layer_seeds[1] + 1),
                             layer_starts=first.layer_starts)
    a, b = first.field(depth, 2), changed_back.field(depth, 2)
    np.testing.assert_array_equal(a[:, near], b[:, near])
    assert not np.any(a[:, ~near] == b[:, ~near])


def test_where_the_layer_boundaries_fall_changes_no_pixels_noise_within_a_layer():
    depth = ramp()
    seed = derive_seed(5, "layer", 0)
    one = NoisePlan(seed=5, layer_seeds=(seed, 11), layer_starts=(100,)).field(depth, 1)
    other = NoisePlan(seed=5, layer_seeds=(seed, 12), layer_starts=(200,)).field(depth, 1)
    front_in_both = depth * 255 < 99.5
    np.testing.assert_array_equal(one[:, front_in_both], other[:, front_in_both])


def test_the_field_is_standard_normal_and_reproducible():
    depth = np.random.default_rng(0).random((200, 300), dtype=np.float32)
    noise = NoisePlan.for_painting(9, layer_plan=plan_of(60, 180), edition=4)
    field = noise.field(depth, 4)
    assert field.shape == (4, 200, 300) and field.dtype == np.float32
    assert abs(field.mean()) < 0.01 and abs(field.std() - 1.0) < 0.01
    np.testing.assert_array_equal(field, noise.field(depth, 4))


@settings(max_examples=30)
@given(SEEDS, st.integers(1, 9999), st.integers(1, 9999))
def test_prints_of_an_edition_differ_far_away_and_not_on_the_subject(seed, edition, other):
    if edition == other:
        other = edition - 1 if edition > 1 else edition + 1
    depth = ramp(4, 64)
    first = NoisePlan.for_painting(seed, layer_plan=None, edition=edition).field(depth, 1)
    second = NoisePlan.for_painting(seed, layer_plan=None, edition=other).field(depth, 1)
    plain = NoisePlan.for_painting(seed, layer_plan=None).field(depth, 1)
    np.testing.assert_array_equal(first[:, depth == 0], second[:, depth == 0])
    np.testing.assert_array_equal(first[:, depth == 0], plain[:, depth == 0])
    assert not np.any(first[:, depth == 1] == second[:, depth == 1])


def test_an_edition_keeps_most_of_the_plain_prints_noise_even_far_away():
    depth = np.ones((300, 300), np.float32)
    plain = NoisePlan.for_painting(3, layer_plan=None).field(depth, 1).ravel()
    edition = NoisePlan.for_painting(3, layer_plan=None, edition=1).field(depth, 1).ravel()
    correlation = np.corrcoef(plain, edition)[0, 1]
    assert correlation == pytest.approx(np.sqrt(1 - EDITION_JITTER), abs=0.01)
    assert edition.std() == pytest.approx(1.0, abs=0.01)


def test_edition_zero_is_a_plain_print():
    noise = NoisePlan.for_painting(3, layer_plan=None, edition=0)
    assert noise.edition_seeds == () and not noise.edition_share(ramp()).any()
    assert noise.to_dict()["edition_jitter"] == 0.0


@given(st.floats(0, 1))
def test_depth_weighted_strength_is_full_far_away_and_calmer_on_the_subject(influence):
    noise = NoisePlan.for_painting(1, layer_plan=None, depth_influence=influence)
    strength = noise.strength(np.array([0.0, 0.5, 1.0], np.float32))
    assert strength[2] == pytest.approx(1.0)
    assert strength[0] == pytest.approx(1.0 - SUBJECT_CALM * influence, abs=1e-6)
    assert strength[0] <= strength[1] <= strength[2]


def test_without_depth_influence_the_strength_is_the_same_everywhere():
    assert np.all(NoisePlan.for_painting(1, layer_plan=None).strength(ramp()) == 1.0)


@given(st.integers(1, 60), st.floats(0, 1))
def test_a_pixel_is_held_for_the_share_of_steps_its_strength_leaves_out(steps, strength):
    held = int(steps_held(np.array([strength], np.float32), steps)[0])
    assert 0 <= held <= steps - 1  # the last step always paints
    assert held == min(steps - 1, int(np.floor((1 - np.float32(strength)) * steps + 1e-6)))


def test_full_strength_holds_nothing_and_half_holds_half():
    assert steps_held(np.array([1.0, 0.5], np.float32), 30).tolist() == [0, 15]


@pytest.mark.parametrize("bad", [dict(edition=-1), dict(edition=10_000), dict(subject_calm=1.5)])
def test_out_of_range_plans_are_refused(bad):
    with pytest.raises(ValueError):
        NoisePlan(**{"seed": 1, "layer_seeds": (1,), **bad})


def test_a_plan_needs_a_start_for_every_layer_after_the_front():
    with pytest.raises(ValueError, match="one seed per layer"):
        NoisePlan(seed=1, layer_seeds=(1, 2), layer_starts=())
