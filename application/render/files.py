"""What a render writes: the files of one attempt, in its own working folder."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..ports import PrintFileSpec, StripWriter, WorkFiles


class RunFiles:
    """The working folder of one attempt at a job (its run key), and the names written there in order:
    what the job's outputs will be once the folder is published."""

    def __init__(self, files: WorkFiles, run_key: str):
        self._files, self.run_key = files, run_key
        self.names: list[str] = []

    def image(self, name: str, pixels: np.ndarray, bits: int) -> None:
        self._files.write_image(self.run_key, name, pixels, bits)
        self.names.append(name)

    def text(self, name: str, text: str) -> None:
        self._files.write_text(self.run_key, name, text)
        self.names.append(name)

    def animation(self, name: str, frames: Sequence[np.ndarray], frame_ms: int) -> None:
        self._files.write_animation(self.run_key, name, frames, frame_ms)
        self.names.append(name)

    def json(self, name: str, data: dict) -> None:
        self._files.write_json(self.run_key, name, data)
        self.names.append(name)

    def zip(self, name: str, members: list[str]) -> None:
        self._files.write_zip(self.run_key, name, members)
        self.names.append(name)

    def print_file(self, name: str, spec: PrintFileSpec) -> StripWriter:
        """A print-size file written band by band; it counts as written once the job completes."""
        writer = self._files.open_print_file(self.run_key, name, spec)
        self.names.append(name)
        return writer

    def outputs(self, published: Path) -> dict[str, str]:
        return {name: str(published / name) for name in self.names}
