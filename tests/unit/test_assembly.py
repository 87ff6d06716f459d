"""The physical piece: print size and spacers between the panes."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rilievo.domain.assembly import PANE_THICKNESS_MM, AssemblyGuide, PaneSpec, panes_of
from rilievo.domain.layers import LayerPlan


@st.composite
def pane_lists(draw):
    """2-5 contiguous depth ranges tiling 0..255, front to back, as a layer plan makes them."""
    count = draw(st.integers(2, 5))
    ends = sorted(draw(st.sets(st.integers(0, 254), min_size=count - 1, max_size=count - 1)))
    starts = [0, *(end + 1 for end in ends)]
    stops = [*ends, 255]
    ranges = zip(starts, stops)
    return [PaneSpec(f"Layer_{i}", f"Layer_{i}.png", depth_range) for i, depth_range in enumerate(ranges, 1)]


frame_depths = st.floats(5.0, 200.0)


def guide_for(panes, frame_depth_mm=30.0, width_px=3000, height_px=2000, dpi=300):
    return AssemblyGuide.for_panes(
        panes, width_px=width_px, height_px=height_px, dpi=dpi, frame_depth_mm=frame_depth_mm
    )


@given(pane_lists(), frame_depths)
def test_spacers_fill_what_the_panes_leave_of_the_frame(panes, frame_depth):
    """Spacers are never negative and add up to the frame depth less the panes' thickness."""
    guide = guide_for(panes, frame_depth)
    free = frame_depth - len(panes) * PANE_THICKNESS_MM
    assert len(guide.spacers_mm) == len(panes) - 1
    assert all(spacer >= 0 for spacer in guide.spacers_mm)
    if free > 0:
        assert sum(guide.spacers_mm) == pytest.approx(free)
        assert guide.warning == ""
    else:
        assert all(spacer == 0 for spacer in guide.spacers_mm)
        assert "too shallow" in guide.warning


@given(pane_lists(), frame_depths)
def test_a_bigger_depth_gap_gets_a_bigger_spacer(panes, frame_depth):
    """Spacers keep the order of the gaps between the depth-range centres."""
    assume(frame_depth > len(panes) * PANE_THICKNESS_MM)
    guide = guide_for(panes, frame_depth)
    centres = [pane.depth_centre for pane in panes]
    gaps = np.diff(centres)
    for i in range(len(gaps)):
        for j in range(len(gaps)):
            if gaps[i] > gaps[j]:
                assert guide.spacers_mm[i] > guide.spacers_mm[j]
            if gaps[i] == gaps[j]:
                assert guide.spacers_mm[i] == pytest.approx(guide.spacers_mm[j])


@given(st.integers(1, 30_000), st.integers(1, 30_000), st.sampled_from([300, 600]))
def test_the_print_size_is_the_pixels_at_the_dpi(width, height, dpi):
    """width_mm = px / dpi * 25.4, and the same for the height."""
    guide = guide_for(panes_of_three(), width_px=width, height_px=height, dpi=dpi)
    assert guide.width_mm == pytest.approx(width / dpi * 25.4)
    assert guide.height_mm == pytest.approx(height / dpi * 25.4)
    assert guide.width_in == pytest.approx(width / dpi)


@given(pane_lists(), frame_depths)
def test_the_manifest_rounds_the_spacers_without_losing_depth(panes, frame_depth):
    """To 0.1 mm, the manifest's spacers still add up to the depth they share out."""
    manifest = guide_for(panes, frame_depth).to_manifest()
    spacers = manifest["spacers_mm"]
    free = max(0.0, frame_depth - len(panes) * PANE_THICKNESS_MM)
    assert sum(spacers) == pytest.approx(round(free, 1), abs=1e-6)
    assert all(round(spacer, 1) == spacer for spacer in spacers)
    fronts = [pane["front_face_mm"] for pane in manifest["panes"]]
    assert fronts[0] == 0 and all(np.diff(fronts) >= PANE_THICKNESS_MM - 1e-9)


def panes_of_three():
    return [
        PaneSpec("Layer_1_front", "Layer_1_front.png", (0, 59)),
        PaneSpec("Layer_2_mid", "Layer_2_mid.png", (60, 139)),
        PaneSpec("Layer_3_back", "Layer_3_back.png", (140, 255)),
    ]


def test_three_panes_in_a_thirty_millimetre_frame():
    guide = guide_for(panes_of_three(), 30.0)
    # Centres 29.5, 99.5, 197.5: gaps 70 and 98 share 30 - 3 x 2 = 24 mm.
    assert guide.spacers_mm == pytest.approx((24 * 70 / 168, 24 * 98 / 168))
    manifest = guide.to_manifest()
    assert manifest["spacers_mm"] == [10.0, 14.0]
    assert manifest["print_size_mm"] == [254.0, 169.3]
    assert manifest["print_size_in"] == [10.0, 6.67]
    assert [pane["front_face_mm"] for pane in manifest["panes"]] == [0.0, 12.0, 28.0]
    assert manifest["panes"][1] | {"front_face_mm": None} == {
        "order": 2, "name": "Layer_2_mid", "file": "Layer_2_mid.png", "depth_range": [60, 139],
        "front_face_mm": None,
    }
    assert manifest["warning"] is None


def test_a_frame_too_shallow_for_the_panes_gets_no_spacers_and_a_warning():
    guide = guide_for(panes_of_three(), 6.0)
    assert guide.spacers_mm == (0.0, 0.0)
    assert "too shallow" in guide.warning and "6 mm" in guide.warning
    assert guide.to_manifest()["warning"] == guide.warning


def test_the_panes_of_a_layer_plan_are_named_as_in_its_manifest():
    depth8 = np.repeat(np.array([[10, 10, 120, 120, 240, 240]], np.uint8), 3, axis=0)
    plan = LayerPlan.from_depth(depth8, 3)
    panes = panes_of(plan)
    manifest = plan.manifest(job_id="j", feather_px=2, width=6, height=3)
    assert [(p.name, p.file, list(p.depth_range)) for p in panes] == [
        (layer["name"], layer["file"], layer["depth_range"]) for layer in manifest["layers"]
    ]


def test_panes_out_of_order_are_refused():
    with pytest.raises(ValueError, match="front to back"):
        guide_for(panes_of_three()[::-1])


def test_a_single_pane_needs_no_spacer():
    guide = guide_for(panes_of_three()[:1])
    assert guide.spacers_mm == () and guide.warning == ""
