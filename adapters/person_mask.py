"""Where people are: two of MediaPipe's models, shipped with Rilievo (adapters/weights/, Apache-2.0), run
on the CPU by LiteRT. No download.

- The selfie segmentation model (250 KB) sees the whole picture. It was trained on people near the
  camera (video calls, selfies): it outlines a person with their clothes and what they hold, turned
  away or in profile, but it fades out down the legs of a person seen whole, and it also answers for
  animals and things close to the lens.
- The pose model (6.4 MB) sees one person, from a square set by their face, and outlines their body
  down to the feet (the segmentation MediaPipe's pose landmarker gives with its landmarks).

So the segmenter asks about people only where it found a face (see segment_classical._person).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.special import expit

from rilievo.adapters.faces import Face
from rilievo.adapters.litert import LiteModel

SELFIE = LiteModel("selfie_segmentation.tflite")
POSE = LiteModel("pose_landmark_full.tflite")
BODY_SIDE = 9.0  # face sizes: the side of the square the pose model sees, a standing person's height ...
HEAD_ROOM = 1.5  # ... from this many face sizes above the face's centre
POSE_PRESENT = 0.5  # the pose model's own score from which it sees a person in that square


def person_chance(image: np.ndarray) -> np.ndarray:
    """HxWx3 float RGB in [0, 1] -> HxW float32 in [0, 1]: how likely each pixel is part of a person,
    by the selfie model. It sees the picture squeezed to its 256 x 256 input, as MediaPipe feeds it."""
    height, width = image.shape[:2]
    rows, cols = SELFIE.input_size
    squeezed = cv2.resize(np.asarray(image, np.float32), (cols, rows), interpolation=cv2.INTER_AREA)
    chance = SELFIE.run(np.clip(squeezed, 0.0, 1.0))[0][..., 0]
    return cv2.resize(chance, (width, height), interpolation=cv2.INTER_LINEAR)


def body_chance(image: np.ndarray, face: Face) -> np.ndarray:
    """HxWx3 float RGB in [0, 1] -> HxW float32 in [0, 1]: the pose model's outline of the person whose
    face this is, from a square BODY_SIDE face sizes wide centred on the face, its top HEAD_ROOM above
    it (black past the picture's edge, as MediaPipe pads); zero where the model sees no person there."""
    picture = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
    height, width = picture.shape[:2]
    side = POSE.input_size[0]
    scale = side / (BODY_SIDE * face.size)
    top, left = face.centre[0] - HEAD_ROOM * face.size, face.centre[1] - BODY_SIDE * face.size / 2
    to_square = np.float32([[scale, 0, -left * scale], [0, scale, -top * scale]])
    # shrunk first with area averaging (an affine warp samples and would alias), then shifted into the square
    shrunk = cv2.resize(picture, (max(1, round(width * scale)), max(1, round(height * scale))),
                        interpolation=cv2.INTER_AREA)
    shift = np.float32([[1, 0, to_square[0, 2]], [0, 1, to_square[1, 2]]])
    square = cv2.warpAffine(shrunk, shift, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    outputs = POSE.run(square)
    present = next(output for output in outputs if output.size == 1)
    if float(present.ravel()[0]) < POSE_PRESENT:
        return np.zeros((height, width), np.float32)
    logits = next(output for output in outputs if output.shape[:2] == (side, side))[..., 0]
    return cv2.warpAffine(expit(logits).astype(np.float32), to_square, (width, height),
                          flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
