"""Settings written as text, in RILIEVO_* variables or on the command line: parsed, or refused in one
line that names the setting."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from rilievo.domain.errors import InvalidParameter

Value = TypeVar("Value")


def finite_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def whole_number_above_zero(text: str) -> int:
    number = finite_number(text)
    if number is None or number < 1 or number != int(number):
        raise InvalidParameter(f"a whole number above 0 is needed, got {text!r}")
    return int(number)


def from_environment(environ: Mapping[str, str], variable: str, parse: Callable[[str], Value],
                     default: Value) -> Value:
    """The variable's value parsed (unset or blank: the default); InvalidParameter names the variable."""
    text = environ.get(variable, "").strip()
    try:
        return parse(text) if text else default
    except InvalidParameter as error:
        raise InvalidParameter(f"{variable}: {error}") from None


def as_argument(parse: Callable[[str], Value]) -> Callable[[str], Value]:
    """argparse reports only its own error types as a usage error."""
    def convert(text: str) -> Value:
        try:
            return parse(text)
        except InvalidParameter as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    convert.__name__ = parse.__name__
    return convert
