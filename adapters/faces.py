"""Frontal faces with scikit-image's LBP cascade (shipped inside scikit-image, no download), and a
body-shaped GrabCut seed for the person each face belongs to."""

from __future__ import annotations

import attrs
import cv2
import numpy as np

DETECT_SIDE = 384
MIN_FACE_PX = 20
# The cascade fires on textures (leaves, bricks, wheels) with a few overlapping windows; a real face
# gathers many. Skin colour rules out the rest.
MIN_NEIGHBOURS = 10
# A face the frame cuts at the top or a side (a close crop of a portrait) lacks the forehead or cheek
# the cascade looks for: the search runs on the picture with its edge rows and columns repeated this
# far (a share of its short side) above and to both sides.
EDGE_PAD = 0.25
MIN_SKIN_SHARE = 0.5
SKIN_CR, SKIN_CB = (135, 180), (85, 135)  # YCrCb ranges of skin under ordinary light (Chai & Ngan, 1999)


@attrs.frozen
class Face:
    row: int
    col: int
    size: int  # the square box's side, px

    @property
    def centre(self) -> tuple[float, float]:
        return self.row + self.size / 2, self.col + self.size / 2


_cascade = None


def _detector():
    global _cascade
    if _cascade is None:  # loading parses an XML file; once per process
        import skimage.data
        from skimage.feature import Cascade

        _cascade = Cascade(skimage.data.lbp_frontal_face_cascade_filename())
    return _cascade


def find_faces(image: np.ndarray) -> list[Face]:
    """Frontal faces in an HxWx3 float RGB image, in its pixels, largest first. The search runs at
    DETECT_SIDE px at most: faces under MIN_FACE_PX there (about 5 % of the long side) are not found."""
    scale = min(1.0, DETECT_SIDE / max(image.shape[:2]))
    rgb = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    height, width = rgb.shape[:2]
    if min(height, width) < 2 * MIN_FACE_PX:
        return []
    pad = round(EDGE_PAD * min(height, width))
    padded = cv2.copyMakeBorder(rgb, pad, 0, pad, pad, cv2.BORDER_REPLICATE)
    # in whole 8-bit steps, as a photo's own values are: the cascade compares neighbouring pixels,
    # and float noise from a resize or a colour conversion would decide between equal ones
    gray = np.round(cv2.cvtColor(padded, cv2.COLOR_RGB2GRAY) * 255.0).astype(np.float64)
    found = _detector().detect_multi_scale(
        img=gray, scale_factor=1.1, step_ratio=1, min_size=(MIN_FACE_PX, MIN_FACE_PX),
        max_size=(min(height, width), min(height, width)), min_neighbor_number=MIN_NEIGHBOURS,
    )
    skin = _skin(padded)
    faces: list[Face] = []
    # one box per face, the tightest: the cascade's larger windows take in hair and wall, and a box a
    # third too large seeds the wall as part of the person
    for box in sorted(found, key=lambda box: box["width"]):
        face = Face(int(box["r"]) - pad, int(box["c"]) - pad, int(box["width"]))
        row, col = face.centre
        if not (0 <= row < height and 0 <= col < width):
            continue  # more of it in the repeated edge than in the picture
        inner = face.size // 4  # the middle of the box: cheeks, nose, eyes; no hair or background
        core = skin[pad + face.row + inner : pad + face.row + face.size - inner,
                    pad + face.col + inner : pad + face.col + face.size - inner]
        if core.size and core.mean() >= MIN_SKIN_SHARE and not any(_same_face(kept, face) for kept in faces):
            faces.append(face)
    return sorted((Face(round(f.row / scale), round(f.col / scale), round(f.size / scale)) for f in faces),
                  key=lambda f: (-f.size, f.row, f.col))


def _same_face(a: Face, b: Face) -> bool:
    """Two boxes around one face: each one's centre inside the other."""
    def inside(point: tuple[float, float], box: Face) -> bool:
        return box.row <= point[0] < box.row + box.size and box.col <= point[1] < box.col + box.size

    return inside(a.centre, b) and inside(b.centre, a)


def _skin(rgb: np.ndarray) -> np.ndarray:
    ycc = cv2.cvtColor(np.round(rgb * 255).astype(np.uint8), cv2.COLOR_RGB2YCrCb)
    cr, cb = ycc[..., 1], ycc[..., 2]
    return (cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1])


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
    head = (below >= -1.0) & (below <= 0.6) & (across < 0.85)
    mask[body | head] = cv2.GC_PR_FGD
    core = ((np.abs(below) < 0.3) & (across < 0.3)) | ((below > -0.8) & (below < 0.3) & (across < 0.45))
    torso = (below > 1.4) & (below < 3.0) & (across < 0.6)
    mask[core | torso] = cv2.GC_FGD
    return mask
