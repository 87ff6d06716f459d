"""Faces with MediaPipe's full-range BlazeFace detector (shipped in adapters/weights, Apache-2.0, run on the
CPU by LiteRT; no download), and a body-shaped GrabCut seed for the person each face belongs to.

The detector finds faces turned to the side and up to about five metres away, in photos, in
greyscale and in paintings; it is a single-shot detector with one anchor per cell of a 48 x 48 grid
over its 192 x 192 input, decoded as MediaPipe's face detection graph does (box centre and size
relative to the anchor, sigmoid score, overlapping boxes suppressed)."""

from __future__ import annotations

import attrs
import cv2
import numpy as np
from scipy.special import expit

from rilievo.adapters.litert import LiteModel

MODEL = LiteModel("face_detection_full_range_sparse.tflite")
GRID = 48  # anchors across and down the model's input, one per cell
MIN_SCORE = 0.6  # MediaPipe's own threshold for this model
MIN_SCORE_MIRRORED = 0.75  # with the edges mirrored: mirrored objects make face-like symmetries (a red stapler at 0.64)
MAX_OVERLAP = 0.3  # intersection over union above which two boxes are one face
MIN_FACE_PX = 8  # at the model's input: smaller boxes are not faces it can tell
EDGE_PAD = 0.25  # of the short side: how much of the picture is mirrored beyond its edges for a cut face


@attrs.frozen
class Face:
    row: int
    col: int
    size: int  # the square box's side, px

    @property
    def centre(self) -> tuple[float, float]:
        return self.row + self.size / 2, self.col + self.size / 2


def find_faces(image: np.ndarray) -> list[Face]:
    """Faces in an HxWx3 float RGB image, in its pixels, largest first. The picture is letterboxed to
    the model's square input: faces under about 5 % of its long side are not found. A face the frame
    cuts at the top or a side (a close crop of a portrait) lacks the forehead or cheek the detector
    looks for: where none is found, the search runs again on the picture with EDGE_PAD of it mirrored
    above and to both sides, and keeps the faces centred inside the picture that it is surer of."""
    height, width = image.shape[:2]
    faces = _detected(np.asarray(image, np.float32), 0, MIN_SCORE)
    if not faces:
        pad = round(EDGE_PAD * min(height, width))
        faces = [face for face in _detected(np.asarray(image, np.float32), pad, MIN_SCORE_MIRRORED)
                 if 0 <= face.centre[0] < height and 0 <= face.centre[1] < width]
    return sorted(faces, key=lambda f: (-f.size, f.row, f.col))


def _detected(image: np.ndarray, pad: int, min_score: float) -> list[Face]:
    """The detector's faces of at least `min_score` in `image` with `pad` px of it mirrored above and to
    both sides, in the image's own pixels."""
    padded = cv2.copyMakeBorder(image, pad, 0, pad, pad, cv2.BORDER_REFLECT) if pad else image
    height, width = padded.shape[:2]
    side = max(height, width)
    rows, _ = MODEL.input_size
    # shrunk first, then letterboxed: a photo-size square of black bars would be megabytes for nothing
    fitted = cv2.resize(padded, (max(1, round(width * rows / side)), max(1, round(height * rows / side))),
                        interpolation=cv2.INTER_AREA)
    bar_rows, bar_cols = rows - fitted.shape[0], rows - fitted.shape[1]
    picture = cv2.copyMakeBorder(fitted, bar_rows // 2, bar_rows - bar_rows // 2, bar_cols // 2,
                                 bar_cols - bar_cols // 2, cv2.BORDER_CONSTANT, value=(0.0, 0.0, 0.0))
    top, left = bar_rows // 2 * side / rows, bar_cols // 2 * side / rows  # the bars, in the padded picture's px
    boxes, scores = MODEL.run(np.clip(picture, 0.0, 1.0) * 2.0 - 1.0)
    chance = expit(scores[:, 0])
    cells = (np.arange(GRID * GRID) % GRID + 0.5) / GRID, (np.arange(GRID * GRID) // GRID + 0.5) / GRID
    kept: list[np.ndarray] = []
    for index in np.argsort(-chance, kind="stable"):
        if chance[index] < min_score:
            break
        centre_x, centre_y = boxes[index, 0] / rows + cells[0][index], boxes[index, 1] / rows + cells[1][index]
        box_w, box_h = boxes[index, 2] / rows, boxes[index, 3] / rows
        box = np.array([centre_y - box_h / 2, centre_x - box_w / 2, centre_y + box_h / 2, centre_x + box_w / 2])
        if min(box_w, box_h) * rows >= MIN_FACE_PX and all(_overlap(box, other) <= MAX_OVERLAP for other in kept):
            kept.append(box)
    faces = []
    for y0, x0, y1, x1 in kept:
        size = max(y1 - y0, x1 - x0) * side
        row = (y0 + y1) / 2 * side - top - pad - size / 2
        col = (x0 + x1) / 2 * side - left - pad - size / 2
        faces.append(Face(round(row), round(col), round(size)))
    return faces


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes (top, left, bottom, right)."""
    rows = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    cols = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = rows * cols
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def head_of(face: Face, height: int, width: int) -> np.ndarray:
    """Where the head whose face this is may be, hair and all, as a bool mask: a face height above its
    centre to 0.6 below, 0.85 face widths to either side."""
    cy, cx = face.centre
    rows, cols = np.indices((height, width), dtype=np.float32)
    below, across = (rows - cy) / face.size, np.abs(cols - cx) / face.size
    return (below >= -1.0) & (below <= 0.6) & (across < 0.85)


def person_seed(face: Face, height: int, width: int) -> np.ndarray:
    """A GrabCut mask for the person whose face this is: the face and the top of the head (a cap the
    colour of the wall behind it) are surely person; the hair around it, a neck and a torso below it
    probably; a body widening down to the bottom of the frame maybe; far to the sides and well above
    the head surely not."""
    size = face.size
    cy, cx = face.centre
    rows, cols = np.indices((height, width), dtype=np.float32)
    across = np.abs(cols - cx) / size  # in face widths
    below = (rows - cy) / size  # in face heights, positive under the face's centre
    mask = np.full((height, width), cv2.GC_PR_BGD, np.uint8)
    cone = 0.9 + 0.6 * np.maximum(below, 0.0)  # shoulders and body widen under the head
    # beside the head and the neck, more than a face width out, is surely the scene: in a close
    # portrait, whose face's cone reaches past the frame, it is the only sure background there is
    beside_head = (below < 0.5) & (across > 1.05)
    mask[(across > np.minimum(cone + 0.3, 2.8)) | (below < -1.3) | beside_head] = cv2.GC_BGD
    body = (below > 0) & (across < cone)
    head = head_of(face, height, width)
    mask[body | head] = cv2.GC_PR_FGD
    core = ((np.abs(below) < 0.3) & (across < 0.3)) | ((below > -0.8) & (below < 0.3) & (across < 0.45))
    torso = (below > 1.4) & (below < 3.0) & (across < 0.6)
    mask[core | torso] = cv2.GC_FGD
    return mask
