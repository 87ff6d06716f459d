"""Named sets of render parameters, and the parameters of the latest submission."""

from __future__ import annotations

import attrs

from rilievo.domain.errors import Conflict
from rilievo.domain.params import RenderParams
from rilievo.domain.presets import Preset

from .ports import PresetRepository


@attrs.frozen
class Presets:
    repository: PresetRepository

    def all(self) -> list[Preset]:
        return self.repository.list()

    def get(self, name: str) -> Preset:
        return self.repository.get(name)

    def create(self, preset: Preset) -> Preset:
        names = {existing.name for existing in self.repository.list()}
        if preset.name in names:
            raise Conflict(f"a preset named {preset.name!r} exists; use PUT to replace it")
        self.repository.put(preset)
        return preset

    def replace(self, preset: Preset) -> Preset:
        self.repository.put(preset)
        return preset

    def delete(self, name: str) -> None:
        self.repository.delete(name)

    def import_all(self, presets: list[Preset]) -> list[Preset]:
        """Every preset is validated before any is stored; same names are replaced."""
        for preset in presets:
            self.repository.put(preset)
        return presets

    def last_used_params(self) -> RenderParams:
        return self.repository.last_used() or RenderParams()
