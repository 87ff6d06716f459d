"""Where people are: MediaPipe's selfie segmentation model, shipped with Rilievo (adapters/weights/,
Apache-2.0, 250 KB), run on the CPU by LiteRT. No download.

The model was trained on people near the camera (video calls, selfies): it outlines a person with
their clothes and what they hold, turned away or in profile. It also answers for animals and things
close to the lens, so the segmenter asks it only about a person whose face it found (see
segment_classical._person).
"""

from __future__ import annotations

import cv2
import numpy as np

from rilievo.adapters.litert import LiteModel

MODEL = LiteModel("selfie_segmentation.tflite")


def person_chance(image: np.ndarray) -> np.ndarray:
    """HxWx3 float RGB in [0, 1] -> HxW float32 in [0, 1]: how likely each pixel is part of a person.
    The model sees the picture squeezed to its 256 x 256 input, as MediaPipe feeds it."""
    height, width = image.shape[:2]
    rows, cols = MODEL.input_size
    squeezed = cv2.resize(np.asarray(image, np.float32), (cols, rows), interpolation=cv2.INTER_AREA)
    chance = MODEL.run(np.clip(squeezed, 0.0, 1.0))[0][..., 0]
    return cv2.resize(chance, (width, height), interpolation=cv2.INTER_LINEAR)
