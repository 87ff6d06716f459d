"""Where people are: MediaPipe's selfie segmentation model, shipped with Rilievo (adapters/weights/,
Apache-2.0, 250 KB), run on the CPU by LiteRT (`ai-edge-litert`). No download.

The model was trained on people near the camera (video calls, selfies): it outlines a person with
their clothes and what they hold, in profile or from behind, where the face cascade sees only a
frontal face. It also answers for animals and things close to the lens, so the segmenter asks it only
about a person whose face it found (see segment_classical._person).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

import cv2
import numpy as np

MODEL = Path(__file__).with_name("weights") / "selfie_segmentation.tflite"

_interpreter = None
_lock = threading.Lock()  # one interpreter per process; LiteRT's is not safe to share between threads


def person_chance(image: np.ndarray) -> np.ndarray:
    """HxWx3 float RGB in [0, 1] -> HxW float32 in [0, 1]: how likely each pixel is part of a person.
    The model sees the picture squeezed to its 256 x 256 input, as MediaPipe feeds it."""
    height, width = image.shape[:2]
    with _lock:
        interpreter = _loaded()
        given, answer = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        side_rows, side_cols = given["shape"][1:3]
        squeezed = cv2.resize(np.asarray(image, np.float32), (int(side_cols), int(side_rows)),
                              interpolation=cv2.INTER_AREA)
        interpreter.set_tensor(given["index"], np.clip(squeezed, 0.0, 1.0)[None])
        interpreter.invoke()
        chance = interpreter.get_tensor(answer["index"])[0, ..., 0].copy()
    return cv2.resize(chance, (width, height), interpolation=cv2.INTER_LINEAR)


def _loaded():
    global _interpreter
    if _interpreter is None:
        from ai_edge_litert.interpreter import Interpreter

        with _quiet_stderr():  # LiteRT's native code announces its XNNPACK delegate on stderr
            _interpreter = Interpreter(model_path=str(MODEL), num_threads=1)
            _interpreter.allocate_tensors()
    return _interpreter


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
