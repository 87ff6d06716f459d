import pytest

from rilievo.domain.errors import InvalidParameter
from rilievo.domain.params import RenderParams, validate_variations


def test_defaults_follow_the_product_spec():
    params = RenderParams()
    assert (params.painterliness, params.depth_influence, params.brush_scale, params.seed) == (0.5, 0.6, 3, 42)
    assert (params.layers, params.feather, params.dpi, params.style) == ("auto", 2, 300, "oil-impressionist")


@pytest.mark.parametrize(
    "name, value",
    [
        ("painterliness", 0.2), ("painterliness", 0.8), ("depth_influence", 0.0), ("depth_influence", 1),
        ("brush_scale", 1), ("brush_scale", 5), ("seed", 0), ("layers", 2), ("layers", 5),
        ("layers", "off"), ("feather", 0), ("feather", 10), ("dpi", 600), ("sharpen", 1.0),
        ("style", "custom"), ("near", "black"),
    ],
)
def test_values_at_the_ends_of_each_range_are_accepted(name, value):
    assert getattr(RenderParams.from_mapping({name: value}), name) == value


@pytest.mark.parametrize(
    "name, value",
    [
        ("painterliness", 0.19), ("painterliness", 0.81), ("depth_influence", -0.1),
        ("depth_influence", float("nan")), ("brush_scale", 0), ("brush_scale", 2.5), ("seed", -1),
        ("seed", "42"), ("layers", 1), ("layers", 6), ("layers", True), ("feather", 11),
        ("feather", -1), ("dpi", 72), ("sharpen", 1.5), ("style", "cubist"), ("near", "grey"),
        ("mode", "video"),
    ],
)
def test_values_outside_their_range_are_refused_with_the_name_in_the_message(name, value):
    with pytest.raises(InvalidParameter, match=name):
        RenderParams.from_mapping({name: value})


def test_unknown_parameters_are_refused():
    with pytest.raises(InvalidParameter, match="unknown parameter 'colour'"):
        RenderParams.from_mapping({"colour": "red"})


def test_params_round_trip_through_a_dict():
    params = RenderParams(layers=4, feather=3, sharpen=0.4, seed=7)
    assert RenderParams.from_mapping(params.to_dict()) == params


@pytest.mark.parametrize("count", [1, 2, 3])
def test_one_to_three_variations_are_allowed(count):
    assert validate_variations(count) == count


@pytest.mark.parametrize("count", [0, 4, True, 1.0])
def test_other_variation_counts_are_refused(count):
    with pytest.raises(InvalidParameter):
        validate_variations(count)
