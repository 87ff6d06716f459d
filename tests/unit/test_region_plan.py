"""Properties of the region-aware layer plan: whole regions on panes, receding surfaces cut by depth."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rilievo.domain.errors import InvalidParameter
from rilievo.domain.layers import CUT_BY_DEPTH, LayerPlan, shortfall
from rilievo.domain.region_plan import NAMED_MIXED_STEP, plan_regions, regions_by_pane
from rilievo.domain.regions import Regions

counts = st.sampled_from([None, 2, 3, 4, 5])


@st.composite
def scenes(draw):
    """Rectangular blocks of regions on a grid, each at its own depth with a little noise, some with a
    gradient of their own, some named as things or surfaces; every region is one connected block."""
    rows, columns = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    cell = draw(st.integers(4, 12))
    regions = rows * columns
    levels = draw(st.lists(st.integers(0, 255), min_size=regions, max_size=regions))
    slopes = draw(st.lists(st.sampled_from([0, 0, 0, 4, 12]), min_size=regions, max_size=regions))
    seed = draw(st.integers(0, 2**16))
    labels = np.repeat(np.repeat(np.arange(regions, dtype=np.int32).reshape(rows, columns), cell, 0), cell, 1)
    y = np.indices(labels.shape)[0] % cell
    depth = np.asarray(levels, float)[labels] + np.asarray(slopes, float)[labels] * y
    depth += np.random.default_rng(seed).integers(-3, 4, labels.shape)
    names = draw(st.lists(st.sampled_from(["", "", "", "person", "subject", "wall", "sky", "backdrop", "floor"]),
                          min_size=regions, max_size=regions))
    return np.clip(depth, 0, 255).astype(np.uint8), Regions(labels, tuple(names))


def three_planes(noise: int = 0, size=(60, 90)) -> tuple[np.ndarray, Regions]:
    labels = np.zeros(size, np.int32)
    labels[:, size[1] // 3 :] = 1
    labels[:, 2 * size[1] // 3 :] = 2
    depth = np.choose(labels, [30, 120, 220]) + np.random.default_rng(0).integers(-noise, noise + 1, size)
    return np.clip(depth, 0, 255).astype(np.uint8), Regions(labels, ("", "", ""))


def floor_scene() -> tuple[np.ndarray, Regions, int]:
    """A floor receding from the bottom edge (near) to a far wall, and a box standing on it; returns
    the floor's depth where the box stands."""
    height, width = 120, 160
    rows = np.arange(height, dtype=float)[:, None] * np.ones((1, width))
    depth = 255 - 2 * rows
    labels = np.zeros((height, width), np.int32)
    labels[:40], depth[:40] = 1, 250
    labels[50:100, 60:100], depth[50:100, 60:100] = 2, 60
    return np.clip(depth, 0, 255).astype(np.uint8), Regions(labels, ("", "", "")), 255 - 2 * 100


@settings(max_examples=60, deadline=None)
@given(scenes(), counts)
def test_every_pixel_is_on_exactly_one_pane_and_coverage_counts_them(scene, count):
    """Membership gives every pixel one pane in 0..count-1; coverage is each pane's share of them."""
    depth8, regions = scene
    plan = plan_regions(depth8, regions, count)
    membership = plan.membership(depth8, regions.labels if plan.region_panes else None)
    assert membership.shape == depth8.shape and membership.max() < plan.count
    np.testing.assert_allclose(plan.coverage, np.bincount(membership.ravel(), minlength=plan.count) / depth8.size)


@settings(max_examples=300, deadline=None)
@given(scenes(), counts)
def test_every_pane_holds_at_least_one_pixel(scene, count):
    """No blank pane of glass: a wall sent behind the subject, or a floor sent before it, may empty the
    pane its depth gave it, and such a pane is dropped."""
    depth8, regions = scene
    plan = plan_regions(depth8, regions, count)
    membership = plan.membership(depth8, regions.labels if plan.region_panes else None)
    assert (np.bincount(membership.ravel(), minlength=plan.count) > 0).all()


@settings(max_examples=60, deadline=None)
@given(scenes(), counts)
def test_a_region_that_is_not_cut_by_depth_is_never_split_across_panes(scene, count):
    """Each region is on one pane whole, unless the plan cuts it by depth (a receding surface, or a
    region with a depth step inside it)."""
    depth8, regions = scene
    plan = plan_regions(depth8, regions, count)
    membership = plan.membership(depth8, regions.labels)
    for region in range(regions.count):
        panes = np.unique(membership[regions.labels == region])
        if region not in plan.cut_by_depth:
            assert panes.tolist() == [plan.region_panes[region]]


@settings(max_examples=30, deadline=None)
@given(scenes(), counts)
def test_the_plan_is_deterministic(scene, count):
    """The same depth and regions give the same plan, also from copies."""
    depth8, regions = scene
    again = Regions(regions.labels.copy(), regions.names)
    assert plan_regions(depth8, regions, count) == plan_regions(depth8.copy(), again, count)


@pytest.mark.parametrize("noise", [0, 6])
def test_three_planes_split_into_exactly_their_three_panes_with_auto(noise):
    depth8, regions = three_planes(noise)
    plan = plan_regions(depth8, regions)
    assert plan.count == 3 and plan.region_panes == (0, 1, 2) and plan.cut_by_depth == ()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=2, max_size=5, unique=True), st.integers(2, 5))
def test_an_explicit_count_gives_that_many_panes_when_the_regions_have_that_many_depths(steps, count):
    """Regions at n distinct depths: any count up to n gives that many panes, each region whole. The
    depths are a few levels apart at least (SAME_SPREAD): neighbours closer than that are one thing."""
    levels = [25 * step for step in steps]
    labels = np.repeat(np.arange(len(levels), dtype=np.int32), 12)[None, :].repeat(10, 0)
    depth8 = np.asarray(levels, np.uint8)[labels]
    plan = plan_regions(depth8, Regions(labels, ("",) * len(levels)), count)
    assert plan.count == min(count, len(levels))
    assert all(share > 0 for share in plan.coverage)
    # the nearest region is in front, the farthest at the back
    assert plan.region_panes[int(np.argmin(levels))] == 0
    assert plan.region_panes[int(np.argmax(levels))] == plan.count - 1


def test_more_panes_asked_than_the_scene_has_depths_says_so():
    depth8, regions = three_planes()
    plan = plan_regions(depth8, regions, 5)
    assert plan.count == 3
    assert shortfall(depth8, plan, 5) == (
        "the scene has only 3 separate depths of whole regions, so it is 3 layers instead of 5"
    )


def test_parts_of_one_object_at_one_depth_end_on_one_pane():
    """A subject cut into three regions (head, body, legs) at nearly one depth, in front of a far
    background: two panes, the subject's three regions together in front."""
    labels = np.zeros((90, 90), np.int32)
    labels[10:30, 35:55], labels[30:60, 30:60], labels[60:90, 35:55] = 1, 2, 3
    depth8 = np.full(labels.shape, 200, np.uint8)
    depth8[labels == 1], depth8[labels == 2], depth8[labels == 3] = 40, 48, 56
    plan = plan_regions(depth8, Regions(labels, ("",) * 4))
    assert plan.count == 2
    assert plan.region_panes == (1, 0, 0, 0)


def test_a_receding_floor_is_cut_at_the_depth_where_an_object_stands_on_it():
    depth8, regions, contact = floor_scene()
    plan = plan_regions(depth8, regions)
    floor, box = 0, 2
    assert plan.count == 2
    assert plan.cut_by_depth == (floor,)
    assert plan.region_cuts[floor][plan.region_panes[box]] == contact
    membership = plan.membership(depth8, regions.labels)
    # the floor right under the box is on the box's pane, the floor just behind the box is not
    assert membership[100, 80] == membership[70, 80] == plan.region_panes[box]
    assert membership[99, 40] > plan.region_panes[box]


def test_the_floor_before_the_subject_goes_on_the_pane_in_front_of_its_card():
    """The subject stands on a floor behind a nearer thing: the floor before the subject's feet goes on
    the nearer thing's pane, a foreground before the subject's card, which holds the subject alone."""
    depth8, regions, contact = floor_scene()
    labels = regions.labels.copy()
    labels[60:, 5:25], depth8[60:, 5:25] = 3, 15  # a post nearer than the subject
    regions = Regions(labels, ("", "", "subject", ""))
    plan = plan_regions(depth8, regions, 3)
    floor, subject, post = 0, 2, 3
    assert plan.cut_by_depth == (floor,)
    assert plan.region_panes[post] == 0 and plan.region_panes[subject] == 1
    membership = plan.membership(depth8, labels)
    assert membership[110, 80] == membership[101, 80] == 0  # the floor before the subject's feet
    assert not (membership[labels == floor] == 1).any()
    assert membership[99, 40] == 2  # the floor behind the subject


def test_with_auto_the_floor_before_a_subject_on_the_front_card_gets_a_pane_of_its_own_in_front():
    """The maker's three cards of a thing standing on a floor: the floor before it, the thing alone, the
    floor behind it with the wall."""
    depth8, regions, contact = floor_scene()
    regions = Regions(regions.labels, ("", "", "subject"))
    plan = plan_regions(depth8, regions)
    floor, subject = 0, 2
    assert plan.count == 3 and plan.region_panes[subject] == 1
    membership = plan.membership(depth8, regions.labels)
    assert membership[110, 80] == membership[101, 80] == 0
    assert (membership[regions.labels == subject] == 1).all()
    assert not (membership[regions.labels == floor] == 1).any()
    assert membership[99, 40] == membership[10, 10] == 2


def test_a_smooth_region_cut_by_depth_is_a_receding_surface_wider_across_its_slope():
    """A subject whose estimated depth is a top-to-bottom gradient (taller than wide) stays whole;
    the floor it stands on, with the same gradient but wider than tall, is cut by depth."""
    rows = np.arange(80, dtype=float)[:, None] * np.ones((1, 120))
    labels = np.ones((80, 120), np.int32)  # a flat far wall
    labels[:60, 50:70] = 0  # the standing subject
    labels[60:, :] = 2  # the floor
    depth8 = np.select([labels == 0, labels == 2], [100 + (59 - rows), 100 - 2.5 * (rows - 60)], 240)
    plan = plan_regions(depth8.astype(np.uint8), Regions(labels, ("",) * 3))
    assert plan.count == 2 and plan.cut_by_depth == (2,)
    membership = plan.membership(depth8.astype(np.uint8), labels)
    assert len(np.unique(membership[labels == 0])) == 1


def test_a_thing_wider_than_tall_with_a_depth_gradient_stays_whole_when_it_ends_inside_the_frame():
    """A car or a ball whose estimated depth is a top-to-bottom gradient, with something small standing
    on its top: unlike a floor it does not run out of the frame on its near side, so it is no surface."""
    rows = np.arange(90, dtype=float)[:, None] * np.ones((1, 160))
    labels = np.zeros((90, 160), np.int32)  # a flat far wall
    labels[30:70, 20:140] = 1  # the wide thing, far at its top, nearer at its base
    labels[22:30, 70:90] = 2  # a small thing on it
    labels[75:] = 3  # a near ledge along the bottom
    depth8 = np.select([labels == 1, labels == 2, labels == 3], [200 - 2.5 * (rows - 30), 200, 30], 240)
    depth8 = depth8.astype(np.uint8)
    plan = plan_regions(depth8, Regions(labels, ("",) * 4))
    assert 1 not in plan.cut_by_depth
    assert len(np.unique(plan.membership(depth8, labels)[labels == 1])) == 1


def test_a_region_joining_things_at_different_depths_is_cut_by_depth():
    """The segmenter joined the two sides of a depth step into one region: the plan cuts it where the
    depth steps instead of putting both things on one pane."""
    depth8, regions = three_planes()
    joined = regions.labels.copy()
    joined[:30] = 0  # region 0 now reaches across all three planes
    plan = plan_regions(depth8, Regions(joined, ("", "", "")), 3)
    assert plan.cut_by_depth == (0,)
    membership = plan.membership(depth8, joined)
    assert (membership == plan.membership(depth8, regions.labels)).all()


def person_across_a_step(step: int) -> tuple[np.ndarray, Regions]:
    """A person (region 0: the left half and the top rows) over a depth with a step of `step` levels
    between the left and the right half; the wall (region 1) is the rest of the right half."""
    labels = np.zeros((60, 90), np.int32)
    labels[20:, 45:] = 1
    depth = np.where(np.arange(90)[None, :] < 45, 40, 40 + step) * np.ones((60, 1))
    return depth.astype(np.uint8), Regions(labels, ("person", ""))


def test_a_region_named_as_a_thing_stays_whole_with_a_depth_step_inside_it():
    """The segmenter says region 0 is a person: the plan trusts it over a depth map with a step inside."""
    depth8, regions = person_across_a_step(NAMED_MIXED_STEP - 10)
    plan = plan_regions(depth8, regions, 2)
    assert plan.cut_by_depth == ()
    assert len(np.unique(plan.membership(depth8, regions.labels)[regions.labels == 0])) == 1


def test_a_region_named_as_a_thing_is_cut_where_a_depth_cliff_runs_through_it():
    """A cliff no thing holds (a supplied depth map's step from near to far): the segmenter took two
    things for one, and the depth decides."""
    depth8, regions = person_across_a_step(NAMED_MIXED_STEP + 10)
    plan = plan_regions(depth8, regions, 2)
    panes = plan.membership(depth8, regions.labels)
    assert (panes[depth8 == 40] == 0).all() and (panes[depth8 > 40] == 1).all()


@pytest.mark.parametrize("name", ["subject", ""])
def test_a_region_whose_outline_lies_a_pixel_past_the_depth_maps_edge_stays_whole(name):
    """A thing before a far wall, its region a pixel larger all round than the near part of the depth
    map (an outline and a depth edge never match exactly): the far rim is no step through the thing."""
    height, width = 120, 160
    rows, cols = np.indices((height, width))
    thing = (np.abs(rows - 60) < 40) & (np.abs(cols - 80) < 50)
    region = (np.abs(rows - 60) < 42) & (np.abs(cols - 80) < 52)
    depth = np.where(thing, 30, 230).astype(np.uint8)
    regions = Regions(region.astype(np.int32), ("wall", name))
    plan = plan_regions(depth, regions, None)
    assert plan.cut_by_depth == ()
    panes = plan.membership(depth, regions.labels)
    assert len(np.unique(panes[region])) == 1 and panes[0, 0] > panes[60, 80]


def test_a_region_named_as_a_thing_is_never_a_receding_surface():
    depth8, regions, _ = floor_scene()
    named = Regions(regions.labels, ("person", "", ""))
    plan = plan_regions(depth8, named, 3)
    assert plan.region_panes[0] != CUT_BY_DEPTH
    assert len(np.unique(plan.membership(depth8, named.labels)[named.labels == 0])) == 1


def test_without_regions_the_plan_is_the_depth_histograms():
    depth8, _ = three_planes(noise=6)
    whole = Regions.whole(*depth8.shape)
    assert plan_regions(depth8, whole, 3) == LayerPlan.from_depth(depth8, 3)
    assert plan_regions(depth8, whole) == LayerPlan.from_depth(depth8)


def test_a_plan_of_regions_cannot_cut_without_its_labels():
    depth8, regions = three_planes()
    with pytest.raises(ValueError, match="region labels"):
        plan_regions(depth8, regions).membership(depth8)


def test_bad_counts_and_mismatched_regions_are_refused():
    depth8, regions = three_planes()
    with pytest.raises(InvalidParameter, match="layer count must be one of"):
        plan_regions(depth8, regions, 7)
    with pytest.raises(ValueError, match="regions of"):
        plan_regions(depth8[:10], regions)


def test_the_manifest_lists_each_panes_regions_largest_first_with_their_names():
    depth8, regions, _ = floor_scene()
    named = Regions(regions.labels, ("", "wall", "box"))
    plan = plan_regions(depth8, named)
    membership = plan.membership(depth8, named.labels)
    listed = regions_by_pane(membership, named, plan)
    assert len(listed) == plan.count
    box = next(entry for pane in listed for entry in pane if entry["id"] == 2)
    assert box == {"id": 2, "name": "box", "description": box["description"],
                   "share": round(40 * 50 / depth8.size, 4), "cut_by_depth": False}
    floors = [entry for pane in listed for entry in pane if entry["id"] == 0]
    assert len(floors) > 1 and all(entry["cut_by_depth"] and entry["name"] is None for entry in floors)
    for pane in listed:
        assert [entry["share"] for entry in pane] == sorted((entry["share"] for entry in pane), reverse=True)


def test_a_receding_surface_nothing_stands_on_stays_whole():
    """A sky whose estimated depth is a gradient, above a building: nothing stands on the sky, so it is
    not cut; it goes whole on the back pane."""
    rows = np.arange(80, dtype=float)[:, None] * np.ones((1, 120))
    labels = np.ones((80, 120), np.int32)
    labels[:40] = 0  # the sky, from far (top) to nearer
    depth8 = np.where(labels == 0, 250 - 1.5 * rows, 60).astype(np.uint8)
    plan = plan_regions(depth8, Regions(labels, ("", "")))
    assert plan.cut_by_depth == () and plan.region_panes == (1, 0)


def test_a_subject_on_the_backdrop_it_stands_on_still_gets_a_pane_of_its_own():
    """The only thing in the picture stands on a receding backdrop: rather than one pane, the backdrop
    goes whole behind the subject."""
    rows = np.arange(80, dtype=float)[:, None] * np.ones((1, 120))
    labels = np.zeros((80, 120), np.int32)
    labels[10:50, 50:70] = 1  # the subject, standing on the backdrop below it
    depth8 = np.where(labels == 0, 250 - 2 * rows, 40).astype(np.uint8)
    plan = plan_regions(depth8, Regions(labels, ("", "")))
    assert plan.count == 2 and plan.region_panes == (1, 0) and plan.cut_by_depth == ()


def test_the_named_subject_gets_a_pane_of_its_own_and_is_not_joined_to_its_backdrop():
    """A person in front of a wall whose depth runs smoothly into hers, and a floor further forward:
    the person is not joined to the wall, and her pane holds nothing else."""
    labels = np.zeros((90, 120), np.int32)  # the wall
    labels[20:70, 50:70] = 1  # the person
    labels[70:, :] = 2  # a table top in front, at about the person's depth
    depth8 = np.full(labels.shape, 150, np.uint8)
    depth8[labels == 1], depth8[labels == 2] = 140, 120
    unnamed = plan_regions(depth8, Regions(labels, ("", "", "")))
    assert len({unnamed.region_panes[0], unnamed.region_panes[1]}) == 1  # one thing, as far as depth tells
    plan = plan_regions(depth8, Regions(labels, ("wall", "person", "")))
    person = plan.region_panes[1]
    assert person not in (plan.region_panes[0], plan.region_panes[2])
    assert plan.region_panes[2] < person < plan.region_panes[0]  # the table in front, the wall behind


def test_the_subject_keeps_its_card_when_a_scrap_too_small_for_a_pane_lies_nearer():
    """Two men walking before a bus: a strip of pavement at the frame's bottom, 1 % of the picture, is
    nearer than the men, and the pavement in front of them a little farther. No pane may be that
    small, so no plan gave the men a card of their own and they shared one with the pavement; the
    strip shares theirs instead, and the pavement goes behind them."""
    labels = np.zeros((100, 100), np.int32)  # the bus and the buildings
    labels[60:90, :] = 1  # the pavement in front of the men
    labels[20:85, 30:60] = 2  # the men
    labels[90:, :] = 3  # a strip at the bottom, nearer still
    labels[90:, 10:] = 1
    depth8 = np.full(labels.shape, 200, np.uint8)
    depth8[labels == 1], depth8[labels == 2], depth8[labels == 3] = 51, 43, 36
    plan = plan_regions(depth8, Regions(labels, ("", "floor", "person", "")))
    men = plan.region_panes[2]
    assert men not in (plan.region_panes[0], plan.region_panes[1])
    assert plan.region_panes[1] > men and plan.region_panes[0] > men


def test_two_parts_of_the_subject_apart_at_about_one_depth_share_its_card_and_parts_far_apart_do_not():
    """Two macaws side by side before blurred leaves: the segmenter found the subject as two parts that
    do not touch, the larger a little farther (its depth kept more of the position cue). The largest
    part's own card had put the other on a pane of its own in front; one far back stays apart."""
    labels = np.zeros((90, 160), np.int32)  # the leaves, receding upwards
    labels[30:, 20:70] = 1  # the nearer macaw
    labels[20:, 90:150] = 2  # the larger, a little farther
    labels[5:20, 75:85] = 3  # a third part of the subject, far back
    rows = np.arange(90, dtype=float)[:, None] * np.ones((1, 160))
    depth8 = np.clip(250 - rows, 0, 255).astype(np.uint8)
    depth8[labels == 1], depth8[labels == 2], depth8[labels == 3] = 34, 44, 200
    plan = plan_regions(depth8, Regions(labels, ("", "subject", "subject", "subject")))
    assert plan.region_panes[1] == plan.region_panes[2]
    assert plan.region_panes[3] != plan.region_panes[1]
    assert plan.region_panes[0] > plan.region_panes[1]  # the leaves behind


def test_a_region_cut_by_depth_puts_nothing_on_the_main_things_card():
    """A wall joined by the segmenter across a depth step, whose depth bleeds from the person into it
    next to her: the bled edge goes on the pane behind hers, not on her card."""
    labels = np.zeros((90, 120), np.int32)  # the wall: a near part low left, far elsewhere
    labels[20:80, 50:70] = 1  # the person
    depth8 = np.full(labels.shape, 200, np.uint8)
    depth8[60:, :30] = 20  # something near the segmenter joined to the wall
    depth8[labels == 1] = 100
    depth8[20:80, 45:50] = depth8[20:80, 70:75] = 100  # the bleed beside her
    plan = plan_regions(depth8, Regions(labels, ("", "person")), 3)
    assert plan.cut_by_depth == (0,)
    membership = plan.membership(depth8, labels)
    person = plan.region_panes[1]
    assert (membership[labels == 1] == person).all()
    assert not (membership[labels == 0] == person).any()
    assert (membership[20:80, 45:50] == person + 1).all()


def test_a_wall_under_a_persons_outstretched_arms_is_not_a_floor_she_stands_on():
    """The estimator's depth makes the wall behind a person a gradient down the picture, meeting her
    depth just below her arms: she stands on the floor at her base, not on the wall beside her, so the
    wall is not cut there and goes behind her, not onto her card."""
    rows = np.arange(100, dtype=float)[:, None] * np.ones((1, 120))
    labels = np.zeros((100, 120), np.int32)  # the wall
    labels[10:100, 50:70] = 1  # head, torso and legs down to the frame
    labels[60:70, 25:95] = 1  # arms held out
    labels[80:, 100:] = 2  # a box near the camera
    depth8 = np.where(labels == 0, 255 - 1.2 * rows, 170)  # the wall meets her depth below the arms
    depth8[labels == 2] = 30
    plan = plan_regions(depth8.astype(np.uint8), Regions(labels, ("", "person", "")))
    membership = plan.membership(depth8.astype(np.uint8), labels)
    assert plan.cut_by_depth == ()
    assert (membership[labels == 0] > plan.region_panes[1]).all()


@pytest.mark.parametrize("name", ["wall", "sky", "backdrop", "ceiling"])
def test_an_upright_surface_with_a_soft_depth_step_inside_it_stays_whole(name):
    """The estimator's depth down a plain wall behind a still life steps where its cues meet: nothing
    stands on a wall, so it is not cut into bands there (short of a cliff); it goes whole behind the
    object in front of it."""
    labels = np.zeros((60, 90), np.int32)  # the wall
    labels[25:55, 35:55] = 1  # an object before it
    depth8 = np.where(np.arange(60)[:, None] < 30, 200, 200 - (NAMED_MIXED_STEP - 30)) * np.ones((1, 90))
    depth8[labels == 1] = 20
    depth8 = depth8.astype(np.uint8)
    plan = plan_regions(depth8, Regions(labels, (name, "subject")), 3)
    membership = plan.membership(depth8, labels)
    assert plan.cut_by_depth == ()
    assert len(np.unique(membership[labels == 0])) == 1
    assert (membership[labels == 0] > membership[labels == 1].max()).all()


def test_each_listed_region_is_described_by_its_name_and_where_it_lies():
    labels = np.zeros((90, 120), np.int32)  # a wall across the picture
    labels[5:25, 85:115] = 1  # something unnamed at the top right
    labels[35:60, 45:75] = 2  # the subject in the middle
    labels[30:88, 30:40] = 2  # ... reaching down to the floor
    labels[70:, :35] = 3  # a stool at the bottom left
    regions = Regions(labels, ("wall", "", "subject", "stool"))
    depth8 = np.choose(labels, [200, 150, 40, 90]).astype(np.uint8)
    plan = plan_regions(depth8, regions)
    listed = regions_by_pane(plan.membership(depth8, labels), regions, plan)
    described = {entry["id"]: entry["description"] for pane in listed for entry in pane}
    assert described == {0: "wall across the picture", 1: "region at the top right",
                         2: "subject in the middle", 3: "stool at the bottom left"}


def test_a_large_thing_is_described_where_it_is_and_a_large_background_region_as_across_the_picture():
    labels = np.zeros((90, 120), np.int32)
    labels[10:, 20:100] = 1  # a person filling most of the frame
    labels[:, :20] = 2  # a strip of wall on the left
    regions = Regions(labels, ("", "person", "wall"))
    depth8 = np.choose(labels, [200, 40, 200]).astype(np.uint8)
    plan = plan_regions(depth8, regions)
    listed = regions_by_pane(plan.membership(depth8, labels), regions, plan)
    described = {entry["id"]: entry["description"] for pane in listed for entry in pane}
    assert described[1] == "person in the middle"
    big_wall = Regions(np.where(labels == 1, 1, 0).astype(np.int32), ("wall", "person"))
    listed = regions_by_pane(plan.membership(depth8, big_wall.labels), big_wall, plan)
    assert {entry["description"] for pane in listed for entry in pane if entry["id"] == 0} == {"wall across the picture"}
