"""Print sizes, exact pixel sizes, crop and pad layout, enlargement advice (pure)."""

import json
import math
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rilievo.domain.errors import InvalidParameter
from rilievo.domain.print_layout import (
    MAX_ENLARGEMENT,
    PRESET_NAMES,
    PrintPlan,
    Rect,
    advise_enlargement,
    crop_window,
    pad_placement,
    parse_print_size,
)

# (width, height) as written, in pixels, and the bleed per side, at 300 and 600 DPI.
EXPECTED_PX = {
    ("8x10", 300): (2400, 3000, 38), ("8x10", 600): (4800, 6000, 75),
    ("11x14", 300): (3300, 4200, 38), ("11x14", 600): (6600, 8400, 75),
    ("16x20", 300): (4800, 6000, 38), ("16x20", 600): (9600, 12000, 75),
    ("18x24", 300): (5400, 7200, 38), ("18x24", 600): (10800, 14400, 75),
    ("24x36", 300): (7200, 10800, 38), ("24x36", 600): (14400, 21600, 75),
    ("A4", 300): (2480, 3508, 35), ("A4", 600): (4961, 7016, 71),
    ("A3", 300): (3508, 4961, 35), ("A3", 600): (7016, 9921, 71),
    ("A2", 300): (4961, 7016, 35), ("A2", 600): (9921, 14031, 71),
}
PHOTOS = {"portrait": (3000, 4000), "landscape": (4000, 3000), "square": (3000, 3000)}

sides = st.integers(1, 6000)
photos = st.tuples(sides, sides)
targets = st.tuples(st.integers(1, 20000), st.integers(1, 20000))
presets = st.sampled_from(PRESET_NAMES)
dpis = st.sampled_from([300, 600])
fits = st.sampled_from(["crop", "pad"])


@st.composite
def photos_with_points(draw):
    width, height = draw(photos)
    point = (draw(st.floats(0, width)), draw(st.floats(0, height)))
    return (width, height), point


def inside(rect, width, height):
    return rect.x >= 0 and rect.y >= 0 and rect.x + rect.width <= width and rect.y + rect.height <= height


@pytest.mark.parametrize("bleed", [False, True])
@pytest.mark.parametrize("orientation", PHOTOS)
@pytest.mark.parametrize(("name", "dpi"), EXPECTED_PX)
def test_every_preset_has_its_exact_pixel_size(name, dpi, orientation, bleed):
    width, height, bleed_px = EXPECTED_PX[name, dpi]
    if orientation == "landscape":
        width, height = height, width
    plan = PrintPlan.for_photo(PHOTOS[orientation], name, dpi=dpi, bleed=bleed)
    assert plan.trim_px == (width, height)
    assert plan.bleed_px == (bleed_px if bleed else 0)
    assert plan.canvas_px == (width + 2 * plan.bleed_px, height + 2 * plan.bleed_px)


def test_the_sizes_print_shops_quote():
    assert PrintPlan.for_photo((2000, 3000), "24x36", dpi=600).trim_px == (14400, 21600)
    assert PrintPlan.for_photo((2000, 3000), "8x10").trim_px == (2400, 3000)
    assert PrintPlan.for_photo((2000, 3000), "A4").trim_px == (2480, 3508)
    assert PrintPlan.for_photo((2000, 3000), "8x10", bleed=True).canvas_px == (2476, 3076)


@given(photos, presets | st.sampled_from(["10x8", "30x20cm", "12x12"]))
def test_the_print_turns_to_follow_the_photo(photo, name):
    """Landscape photos get landscape prints, portrait ones portrait; a square photo keeps the size as written."""
    width, height = PrintPlan.for_photo(photo, name).trim_px
    written = parse_print_size(name)
    if photo[0] > photo[1]:
        assert width >= height
    elif photo[0] < photo[1]:
        assert width <= height
    else:
        assert (width > height) == (written.width_mm > written.height_mm)
    assert sorted((width, height)) == sorted(PrintPlan.for_photo((5, 5), name).trim_px)


def test_original_keeps_the_photos_own_pixels():
    plan = PrintPlan.for_photo((1234, 567), "original", dpi=600, fit="pad")
    assert plan.trim_px == plan.canvas_px == (1234, 567)
    assert plan.crop == plan.placement == Rect(0, 0, 1234, 567)
    assert plan.scale == (1.0, 1.0) and not plan.advice.needs_warning
    assert plan.to_dict()["width_mm"] == round(1234 * 25.4 / 600, 3)


def test_original_has_nothing_to_fill_a_bleed():
    with pytest.raises(InvalidParameter, match="bleed"):
        PrintPlan.for_photo((100, 100), "original", bleed=True)


@pytest.mark.parametrize(("keyword", "value"), [("dpi", 72), ("dpi", True), ("fit", "stretch"), ("bleed", "yes")])
def test_other_dpis_fits_and_bleeds_are_refused(keyword, value):
    with pytest.raises(InvalidParameter, match=keyword):
        PrintPlan.for_photo((100, 100), "8x10", **{keyword: value})


@pytest.mark.parametrize(("text", "name", "width_mm", "height_mm"), [
    ("8x10", "8x10", 203.2, 254.0),
    ("8X10in", "8x10", 203.2, 254.0),
    (" 12 x 18 ", "12x18", 304.8, 457.2),
    ("12x18in", "12x18", 304.8, 457.2),
    ("8.50×11", "8.5x11", 215.9, 279.4),
    ("30x40cm", "30x40cm", 300.0, 400.0),
    ("300x400MM", "300x400mm", 300.0, 400.0),
    ("a4", "A4", 210.0, 297.0),
    ("A2", "A2", 420.0, 594.0),
    ("Original", "original", None, None),
])
def test_print_sizes_are_read_in_any_unit_and_named_one_way(text, name, width_mm, height_mm):
    size = parse_print_size(text)
    assert size.name == name
    assert size.width_mm == pytest.approx(width_mm) and size.height_mm == pytest.approx(height_mm)


@given(st.sampled_from([("in", 25.4), ("", 25.4), ("mm", 1.0), ("cm", 10.0)]), st.data())
def test_a_custom_size_round_trips_through_its_name(unit, data):
    """Any size within the limits parses to its millimetres, and its name parses back to the same size."""
    suffix, mm = unit
    in_unit = st.floats(10 / mm, 2000 / mm).map(lambda v: round(v, 2)).filter(lambda v: 10 <= v * mm <= 2000)
    width, height = data.draw(in_unit), data.draw(in_unit)
    size = parse_print_size(f"{width}x{height}{suffix}")
    assert size.width_mm == width * mm and size.height_mm == height * mm
    assert size.metric == (mm != 25.4)
    assert parse_print_size(size.name) == size


@given(presets)
def test_preset_names_round_trip(name):
    """A preset's name parses to itself, whatever its case."""
    assert parse_print_size(name.lower()).name == name
    assert parse_print_size(parse_print_size(name).name) == parse_print_size(name)


@pytest.mark.parametrize(("text", "reason"), [
    ("0x10", "greater than 0"), ("-8x10", "greater than 0"), ("8x0cm", "greater than 0"),
    ("300x400", "at most 2000 mm"), ("201x10cm", "at most 2000 mm"), ("5x5mm", "at least 10 mm"),
    ("", "a preset"), ("8x", "a preset"), ("8x10x12", "a preset"), ("12x18ft", "a preset"),
    ("A5", "a preset"), ("1e3x10", "a preset"), ("nanxnan", "a preset"), ("8 by 10", "a preset"),
    (None, "a preset"), (8, "a preset"),
])
def test_nonsense_sizes_are_refused_in_one_line(text, reason):
    with pytest.raises(InvalidParameter, match=reason) as refused:
        parse_print_size(text)
    assert "\n" not in str(refused.value) and str(refused.value).startswith("print_size")


@given(st.text(alphabet=st.characters(blacklist_categories=["Nd"])))
def test_text_without_numbers_is_refused_unless_it_names_a_size(text):
    """Only presets and "original" need no digits; anything else without a number is refused."""
    assume(text.strip().upper() not in {"A4", "A3", "A2", "ORIGINAL"})
    with pytest.raises(InvalidParameter):
        parse_print_size(text)


@given(st.floats(2000.01, 1e6) | st.floats(-1e6, 9.99), st.sampled_from([("mm", 1.0), ("cm", 10.0), ("", 25.4)]))
def test_sides_out_of_range_are_refused(side_mm, unit):
    """Below 10 mm or above 2000 mm a side, in any unit, is refused (the other side, 254 mm, is fine)."""
    suffix, mm = unit
    with pytest.raises(InvalidParameter, match="print_size sides"):
        parse_print_size(f"{254 / mm:.6f}x{side_mm / mm:.6f}{suffix}")


@given(photos_with_points(), targets, st.booleans())
def test_the_crop_window_is_the_largest_inside_the_photo_with_the_prints_aspect(photo_and_point, target, use_point):
    """Inside the photo, one side spanning the photo, the other within one pixel of the print's aspect."""
    (width, height), point = photo_and_point
    crop = crop_window((width, height), target, point if use_point else None)
    assert inside(crop, width, height) and crop.width >= 1 and crop.height >= 1
    assert crop.width == width or crop.height == height
    aspect = Fraction(*target)
    assert abs(crop.width - crop.height * aspect) <= 1 or abs(crop.height - crop.width / aspect) <= 1


@given(photos_with_points(), targets)
def test_the_crop_keeps_the_point_of_interest_in_and_as_central_as_it_can(photo_and_point, target):
    """The point is inside the window; off-centre by more than half a pixel only where the window meets the photo's edge."""
    (width, height), (px, py) = photo_and_point
    crop = crop_window((width, height), target, (px, py))
    assert crop.x <= px <= crop.x + crop.width and crop.y <= py <= crop.y + crop.height
    for start, length, point, limit in ((crop.x, crop.width, px, width), (crop.y, crop.height, py, height)):
        off = start + length / 2 - point
        assert abs(off) <= 0.5 or (off > 0 and start == 0) or (off < 0 and start + length == limit)


@given(photos, targets)
def test_without_a_point_the_crop_is_centred(photo, target):
    crop = crop_window(photo, target)
    assert abs(crop.x - (photo[0] - crop.width) / 2) <= 0.5
    assert abs(crop.y - (photo[1] - crop.height) / 2) <= 0.5


def test_points_outside_the_photo_are_clamped_and_non_finite_ones_refused():
    assert crop_window((100, 50), (1, 1), (-30.0, 99.0)) == Rect(0, 0, 50, 50)
    with pytest.raises(ValueError, match="finite"):
        crop_window((100, 50), (1, 1), (math.nan, 0.0))


@given(photos, targets)
def test_pad_shows_the_whole_photo_centred_and_as_large_as_fits(photo, area):
    """Inside the area, spanning it one way, centred, with the photo's aspect within one pixel."""
    place = pad_placement(photo, area)
    assert inside(place, *area) and place.width >= 1 and place.height >= 1
    assert place.width == area[0] or place.height == area[1]
    assert abs(place.x - (area[0] - place.width) / 2) <= 0.5 and abs(place.y - (area[1] - place.height) / 2) <= 0.5
    aspect = Fraction(*photo)
    assert abs(place.width - place.height * aspect) <= 1 or abs(place.height - place.width / aspect) <= 1


@given(photos, presets, dpis, st.booleans())
def test_a_padded_plan_places_the_whole_photo_inside_the_trim(photo, name, dpi, bleed):
    """The borders, not the photo, run into the bleed, so trimming never cuts the picture."""
    plan = PrintPlan.for_photo(photo, name, dpi=dpi, fit="pad", bleed=bleed)
    assert plan.crop == Rect(0, 0, *photo)
    trim = Rect(plan.bleed_px, plan.bleed_px, *plan.trim_px)
    place = plan.placement
    assert trim.x <= place.x and place.x + place.width <= trim.x + trim.width
    assert trim.y <= place.y and place.y + place.height <= trim.y + trim.height


@given(photos_with_points(), presets, dpis, st.booleans())
def test_a_cropped_plan_fills_the_canvas_bleed_included(photo_and_point, name, dpi, bleed):
    photo, point = photo_and_point
    plan = PrintPlan.for_photo(photo, name, dpi=dpi, bleed=bleed, point_of_interest=point)
    assert plan.placement == Rect(0, 0, *plan.canvas_px)
    assert plan.crop == crop_window(photo, plan.canvas_px, point)
    assert plan.advice.factor == max(plan.scale)


@given(photos, fits)
def test_the_largest_supported_preset_is_the_last_one_within_4x(photo, fit):
    """Every preset up to the advised one enlarges the photo at most 4x at 300 DPI, every larger one more."""
    order = sorted(PRESET_NAMES, key=lambda n: math.prod(PrintPlan.for_photo((1, 1), n).trim_px))
    factors = [PrintPlan.for_photo(photo, n, fit=fit).advice.factor for n in order]
    advice = advise_enlargement(photo, 1.0, fit=fit)
    supported = order.index(advice.largest_preset) + 1 if advice.largest_preset else 0
    assert all(f <= MAX_ENLARGEMENT for f in factors[:supported])
    assert all(f > MAX_ENLARGEMENT for f in factors[supported:])
    assert advice.max_size_in == pytest.approx((photo[0] * 4 / 300, photo[1] * 4 / 300))


@given(photos, presets, dpis, fits)
def test_the_warning_comes_exactly_past_4x(photo, name, dpi, fit):
    plan = PrintPlan.for_photo(photo, name, dpi=dpi, fit=fit)
    assert plan.advice.needs_warning == (plan.advice.factor > 4.0)
    assert (plan.advice.warning is None) == (not plan.advice.needs_warning)
    assert plan.to_dict()["warning"] == plan.advice.warning


def test_the_warning_says_how_large_the_photo_can_go():
    small = PrintPlan.for_photo((600, 480), "16x20")
    assert small.advice.factor == pytest.approx(10.0)
    assert "supports up to about 8 x 6.4 in at 300 DPI" in small.advice.warning
    assert "smaller than every preset" in small.advice.warning
    exactly_4x = PrintPlan.for_photo((1500, 1200), "16x20")
    assert exactly_4x.advice.factor == 4.0 and exactly_4x.advice.warning is None
    medium = PrintPlan.for_photo((1500, 1200), "24x36")
    assert medium.advice.largest_preset == "16x20" and "largest preset 16x20" in medium.advice.warning
    assert PrintPlan.for_photo((3000, 2400), "24x36").advice.largest_preset == "24x36"


def test_the_plan_records_itself_for_the_manifest():
    plan = PrintPlan.for_photo((4000, 3000), "A3", dpi=600, fit="pad", bleed=True)
    record = json.loads(json.dumps(plan.to_dict()))
    assert record["print_size"] == "A3" and record["orientation"] == "landscape"
    assert record["dpi"] == 600 and record["fit"] == "pad" and record["bleed_mm"] == 3.0
    assert record["trim_px"] == [9921, 7016] and record["canvas_px"] == [9921 + 142, 7016 + 142]
    assert record["crop"] == {"x": 0, "y": 0, "width": 4000, "height": 3000}
    # 4000 x 3000 fills the trim's height: 7016 * 4 / 3 = 9354.7 -> 9355 wide, (9921 - 9355) // 2 = 283 in
    assert record["placement"] == {"x": 71 + 283, "y": 71, "width": 9355, "height": 7016}
    assert record["enlargement"] == pytest.approx(9355 / 4000, abs=1e-4) and record["warning"] is None
