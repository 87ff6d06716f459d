"""A TensorFlow Lite model shipped in adapters/weights, run on the CPU by LiteRT (`ai-edge-litert`)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).with_name("weights")


class LiteModel:
    """Loaded on first use, once per process; one call at a time (LiteRT's interpreter is not safe to
    share between threads)."""

    def __init__(self, filename: str):
        self.path = WEIGHTS / filename
        self._interpreter = None
        self._lock = threading.Lock()

    @property
    def input_size(self) -> tuple[int, int]:
        """(rows, columns) of the model's input picture."""
        with self._lock:
            rows, cols = self._loaded().get_input_details()[0]["shape"][1:3]
        return int(rows), int(cols)

    def run(self, picture: np.ndarray) -> list[np.ndarray]:
        """The model's outputs (copies, without the batch axis) for one picture of its input size."""
        with self._lock:
            interpreter = self._loaded()
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], picture[None].astype(np.float32))
            interpreter.invoke()
            return [interpreter.get_tensor(output["index"])[0].copy() for output in interpreter.get_output_details()]

    def _loaded(self):
        if self._interpreter is None:
            from ai_edge_litert.interpreter import Interpreter

            with _quiet_stderr():  # LiteRT's native code announces its XNNPACK delegate on stderr
                interpreter = Interpreter(model_path=str(self.path), num_threads=1)
                interpreter.allocate_tensors()
            self._interpreter = interpreter
        return self._interpreter


@contextlib.contextmanager
def _quiet_stderr():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
