"""The render command's options come from the domain's parameter definitions: one per RenderParams field,
with the field's default, the domain's choices and its ranges."""

from __future__ import annotations

import argparse

import attrs
import pytest

from rilievo.domain import params as domain
from rilievo.domain.params import RenderParams
from rilievo.entrypoints.cli.main import build_parser
from rilievo.entrypoints.cli.render import render_params


def render_actions() -> dict[str, argparse.Action]:
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    return {action.dest: action for action in commands.choices["render"]._actions}


def test_every_render_parameter_is_an_option_with_the_domains_default():
    actions = render_actions()
    for field in attrs.fields(RenderParams):
        assert actions[field.name].default == field.default, field.name


def test_the_options_alone_make_the_default_parameters():
    args = build_parser().parse_args(["render", "photo.jpg"])
    assert render_params(args) == RenderParams()


@pytest.mark.parametrize(("name", "choices"), [
    ("mode", domain.MODES), ("near", domain.NEAR_CONVENTIONS), ("dpi", domain.DPIS), ("fit", domain.FITS),
    ("format", domain.FORMATS), ("intent", domain.INTENTS), ("style", domain.STYLES),
])
def test_closed_choices_are_the_domains(name, choices):
    assert tuple(render_actions()[name].choices) == choices


def test_numeric_options_parse_to_the_domains_number_kind_and_show_its_range():
    actions = render_actions()
    for name, (low, high, integer) in domain.numeric_ranges().items():
        assert actions[name].type is (int if integer else float), name
    assert actions["painterliness"].metavar == "0.2..0.8"
    assert actions["brush_scale"].metavar == "1..5"
    assert actions["layers"].metavar == "auto|off|2|3|4|5"


def test_help_names_the_ranges_and_defaults_the_domain_holds():
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    text = " ".join(commands.choices["render"].format_help().split())
    assert "alpha feather, 0-10 px" in text
    assert "total ink limit for CMYK, 150-400 (default 0: the profile's own)" in text
    assert "inside depth of the frame, for the suggested spacers (default 30)" in text
    assert "8x10, 11x14, 16x20, 18x24, 24x36 (inches), A4, A3, A2, or WIDTHxHEIGHT" in text
