"""Named presets: a set of render parameters a user saved under a name."""

from __future__ import annotations

import re
from typing import Any, Mapping

import attrs

from .errors import InvalidParameter
from .params import RenderParams

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _\-]{0,63}")


def valid_preset_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidParameter(
            f"preset name must be 1-64 letters, digits, spaces, '-' or '_', starting with a letter "
            f"or digit; got {name!r}"
        )
    return name


@attrs.frozen
class Preset:
    name: str = attrs.field(converter=valid_preset_name)
    params: RenderParams

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Preset:
        if not isinstance(data, Mapping) or set(data) != {"name", "params"}:
            raise InvalidParameter("a preset is an object with exactly the fields 'name' and 'params'")
        if not isinstance(data["params"], Mapping):
            raise InvalidParameter("a preset's params must be an object")
        return cls(name=data["name"], params=RenderParams.from_mapping(data["params"]))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.params.to_dict()}
