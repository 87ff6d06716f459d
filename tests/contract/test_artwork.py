"""Print-shop artwork: SVG cutting outlines that follow the layer's edges, and the assembly guide."""

import re
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from rilievo.adapters.artwork import GUIDE_WIDTH, PillowGuideDrawer, SvgOutlineTracer
from rilievo.domain.assembly import AssemblyGuide, PaneSpec
from rilievo.domain.layers import blur
from rilievo.domain.previews import LAYER_TINTS

SVG = "{http://www.w3.org/2000/svg}"
PIXEL_MM = 25.4 / 300


def ring_with_an_island(height=200, width=260):
    """A feathered disc with a square hole, a small disc standing in the hole, and a separate blob."""
    rows, columns = np.indices((height, width))
    radius = np.hypot(rows - 100, columns - 110)
    shape = (radius <= 80).astype(np.float32)
    shape[60:140, 70:150] = 0.0  # the hole
    shape[np.hypot(rows - 100, columns - 110) <= 18] = 1.0  # an island inside the hole
    shape[20:60, 200:240] = 1.0  # another piece
    return blur(shape, 3.0)


def parse_svg(text):
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    return root


def polygons_px(root, pixel_mm):
    """Every closed ring of every path, back in pixel coordinates (pixel centres at whole numbers)."""
    rings = []
    for path in root.iter(f"{SVG}path"):
        for ring in re.findall(r"M([^MZ]+)Z", path.get("d")):
            numbers = np.array([float(v) for v in re.split(r"[ ,]+", ring.strip())])
            rings.append(numbers.reshape(-1, 2) / pixel_mm - 0.5)
    return rings


def rasterised(rings, shape):
    """Even-odd fill of the rings at the pixel scale, 16x sub-pixel precision."""
    out = np.zeros(shape, np.uint8)
    shift = 4
    cv2.fillPoly(out, [np.rint(ring * (1 << shift)).astype(np.int32) for ring in rings], 1,
                 lineType=cv2.LINE_8, shift=shift)
    return out.astype(bool)


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize("pixel_mm", [25.4 / 300, 25.4 / 600])
def test_the_outline_follows_the_layer_edges_holes_included(pixel_mm):
    alpha = ring_with_an_island()
    root = parse_svg(SvgOutlineTracer().svg_outline(alpha, pixel_mm, title="Layer_1_front"))
    rings = polygons_px(root, pixel_mm)
    assert len(rings) == 4  # the ring's outside, its hole, the island, the blob
    assert iou(rasterised(rings, alpha.shape), alpha >= 0.5) > 0.98


def test_each_piece_is_one_path_with_its_holes():
    root = parse_svg(SvgOutlineTracer().svg_outline(ring_with_an_island(), PIXEL_MM, title="x"))
    rings_per_path = sorted(path.get("d").count("M") for path in root.iter(f"{SVG}path"))
    assert rings_per_path == [1, 1, 2]


def test_the_svg_is_sized_in_millimetres_for_a_cutter():
    alpha = ring_with_an_island(height=150, width=240)
    text = SvgOutlineTracer().svg_outline(alpha, PIXEL_MM, title="Layer <2> & mid")
    root = parse_svg(text)
    assert root.get("width") == "20.32mm" and root.get("height") == "12.7mm"
    assert root.get("viewBox") == "0 0 20.32 12.7"
    assert root.find(f"{SVG}title").text == "Layer <2> & mid"
    group = root.find(f"{SVG}g")
    assert group.get("fill") == "none" and group.get("fill-rule") == "evenodd"
    assert group.get("stroke") == "#ff0000" and float(group.get("stroke-width")) == 0.1
    numbers = re.findall(r"-?\d+(?:\.\d+)?", " ".join(p.get("d") for p in root.iter(f"{SVG}path")))
    assert numbers and all(len(n.partition(".")[2]) <= 2 for n in numbers)  # 0.01 mm
    coordinates = np.array([float(n) for n in numbers]).reshape(-1, 2)
    assert coordinates.min() >= 0 and np.all(coordinates.max(axis=0) <= [20.32, 12.7])


def test_an_empty_layer_has_an_outline_with_nothing_to_cut():
    root = parse_svg(SvgOutlineTracer().svg_outline(np.zeros((20, 30), np.float32), PIXEL_MM, title="x"))
    assert list(root.iter(f"{SVG}path")) == []


def test_exact_pixel_outlines_without_simplification():
    alpha = (ring_with_an_island() >= 0.5).astype(np.float32)
    root = parse_svg(SvgOutlineTracer(tolerance_px=0).svg_outline(alpha, PIXEL_MM, title="x"))
    assert iou(rasterised(polygons_px(root, PIXEL_MM), alpha.shape), alpha >= 0.5) > 0.995


def guide(count, frame_depth_mm=30.0):
    edges = np.linspace(0, 256, count + 1).astype(int)
    panes = [
        PaneSpec(f"Layer_{i + 1}", f"Layer_{i + 1}.png", (int(edges[i]), int(edges[i + 1]) - 1))
        for i in range(count)
    ]
    return AssemblyGuide.for_panes(panes, width_px=1800, height_px=1200, dpi=300, frame_depth_mm=frame_depth_mm)


def thumbnails(count):
    """Grey noise, so no thumbnail pixel can pass for a layer tint."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(count):
        grey = np.repeat(rng.random((120, 180, 1)), 3, axis=-1)
        rgba = np.concatenate([grey, np.ones((120, 180, 1))], axis=-1)
        rgba[:, : 30 * i, 3] = 0.0  # transparent parts show a checkerboard
        out.append(rgba.astype(np.float32))
    return out


def tint_pixels(picture, tint):
    return np.all(np.abs(picture * 255 - np.asarray(tint) * 255) <= 1.5, axis=-1)


@pytest.mark.parametrize("count", [2, 3, 5])
def test_the_guide_shows_every_pane_in_its_tint(count):
    picture = PillowGuideDrawer().draw(guide(count), thumbnails(count))
    assert picture.ndim == 3 and picture.shape[1:] == (GUIDE_WIDTH, 3) and picture.dtype == np.float32
    assert 600 < picture.shape[0] < 2000
    assert 0 <= picture.min() and picture.max() <= 1
    # Each pane appears twice in its layer's tint: in the side view and framing its thumbnail.
    for index in range(count):
        tinted = tint_pixels(picture, LAYER_TINTS[index])
        rows = np.nonzero(tinted.any(axis=1))[0]
        assert tinted.sum() > 2000
        assert rows.max() - rows.min() > 300  # both the diagram and the thumbnail row
    for index in range(count, len(LAYER_TINTS)):
        assert tint_pixels(picture, LAYER_TINTS[index]).sum() == 0


def test_the_thumbnails_are_drawn_side_by_side_front_first():
    count = 3
    picture = PillowGuideDrawer().draw(guide(count), thumbnails(count))
    lower = picture[picture.shape[0] // 2 :]
    lefts = [np.nonzero(tint_pixels(lower, LAYER_TINTS[i]).any(axis=0))[0].min() for i in range(count)]
    assert lefts == sorted(lefts)
    # Inside each tinted frame: the picture (noisy, not a flat fill).
    for index in range(count):
        rows, columns = np.nonzero(tint_pixels(lower, LAYER_TINTS[index]))
        inside = lower[rows.min() + 10 : rows.max() - 10, columns.min() + 10 : columns.max() - 10]
        assert inside.std() > 0.1


def test_a_shallow_frame_shows_its_warning_in_red():
    roomy = PillowGuideDrawer().draw(guide(3, 30.0), thumbnails(3))
    shallow = PillowGuideDrawer().draw(guide(3, 5.0), thumbnails(3))
    def warning_red(picture):  # the warning's colour, (190, 30, 30), anti-aliased
        red, green, blue = np.moveaxis(picture, -1, 0)
        return np.sum((red > 0.6) & (green < 0.2) & (blue < 0.2))

    assert warning_red(roomy) == 0 and warning_red(shallow) > 500


def test_the_guide_needs_a_thumbnail_per_pane():
    with pytest.raises(ValueError, match="thumbnails"):
        PillowGuideDrawer().draw(guide(3), thumbnails(2))
