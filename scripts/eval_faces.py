"""Do faces stay faces? Portraits painted in every style at painterliness 0.2, 0.5 and 0.8.

    .venv/bin/python scripts/eval_faces.py [--out DIR]

The portraits: skimage's astronaut, and PORTRAITS faces of skimage's Labeled Faces in the Wild subset
(25 x 25 px gray crops) enlarged to 150 px, tinted a skin tone and set on a photographic background
(skimage's coffee, brick, grass ... enlarged to 480 x 360), a head and shoulders in the upper middle.
A face counts as kept when the face detector (adapters/faces.py) finds one in the painting whose centre lies within a fifth
of the photo's face box of that box's centre. At the default painterliness (0.5) the figures of
scripts/eval_painter.py are given too, for the default style and every other: SSIM at 1/8 scale,
mean absolute difference (/255) and the edge recall inside the face box. With --out each portrait's
photo and its four paintings at 0.5 are saved as one row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from rilievo.adapters.faces import find_faces
from rilievo.adapters.paint_classical import ClassicalPainter
from rilievo.domain.noise import NoisePlan
from rilievo.domain.styles import STYLE_PRESETS, PaintRequest
from eval_painter import figures  # beside this script
from eval_styles import STYLES

PORTRAITS = 6
LFW_FACES = (0, 1, 2, 3, 5, 6)  # faces of the subset the LBP cascade (the detector until December 2026) found once enlarged and tinted
BACKGROUNDS = ("coffee", "brick", "grass", "gravel", "rocket", "chelsea")
SKIN = np.array([1.0, 0.78, 0.64], np.float32)
FACE_PX, SIZE = 150, (360, 480)  # (width, height) of the portrait
PAINTERLINESS = (0.2, 0.5, 0.8)


def portraits() -> dict[str, np.ndarray]:
    import skimage.data

    built = {"astronaut": skimage.data.astronaut().astype(np.float32) / 255}
    faces = skimage.data.lfw_subset()
    for index, background in zip(LFW_FACES[:PORTRAITS], BACKGROUNDS):
        scene = getattr(skimage.data, background)().astype(np.float32) / 255
        scene = scene if scene.ndim == 3 else np.repeat(scene[..., None], 3, axis=2)
        canvas = cv2.resize(scene[..., :3], SIZE, interpolation=cv2.INTER_CUBIC).clip(0, 1)
        face = cv2.resize(faces[index].astype(np.float32), (FACE_PX, FACE_PX), interpolation=cv2.INTER_CUBIC)
        top, left = SIZE[1] // 4, (SIZE[0] - FACE_PX) // 2
        # shoulders: a dark jacket below the head, as wide as two heads
        cv2.ellipse(canvas, (SIZE[0] // 2, SIZE[1]), (FACE_PX, SIZE[1] - top - FACE_PX), 0, 180, 360,
                    (0.15, 0.17, 0.22), -1)
        canvas[top : top + FACE_PX, left : left + FACE_PX] = (0.15 + 0.85 * face.clip(0, 1))[..., None] * SKIN
        built[f"lfw{index:02d}"] = canvas
    return built


def kept(photo_face, painting: np.ndarray) -> bool:
    found = find_faces(painting)
    if not found:
        return False
    (row, col), size = photo_face.centre, photo_face.size
    return any(abs(f.centre[0] - row) < 0.2 * size and abs(f.centre[1] - col) < 0.2 * size for f in found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    painter = ClassicalPainter()
    photos = portraits()
    counts = {(style, p): 0 for style in STYLES for p in PAINTERLINESS}
    rows: dict[str, list[dict]] = {style: [] for style in STYLES}
    sheets = []
    usable = 0
    for name, photo in photos.items():
        found = find_faces(photo)
        if not found:
            print(f"{name}: no face found in the photo, left out")
            continue
        usable += 1
        face = found[0]
        box = np.zeros(photo.shape[:2], bool)
        box[face.row : face.row + face.size, face.col : face.col + face.size] = True
        depth = np.zeros(photo.shape[:2], np.float32)
        row_images = [photo]
        for style in STYLES:
            for painterliness in PAINTERLINESS:
                request = PaintRequest(style=STYLE_PRESETS[style], painterliness=painterliness, depth_influence=0.6,
                                       brush_scale=3, prompt="")
                painting = painter.paint(photo, depth, request, NoisePlan.single(0)).image
                counts[style, painterliness] += kept(face, painting)
                if painterliness == 0.5:
                    rows[style].append(figures(photo, painting, box, box))
                    row_images.append(painting)
        if args.out:
            height = 320
            sheets.append(np.hstack([cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height),
                                                interpolation=cv2.INTER_AREA) for image in row_images]))
    print(f"faces kept in place, of {usable} portraits (painterliness 0.2 / 0.5 / 0.8), and at 0.5 the means "
          "of SSIM 1/8, mean abs. difference /255, face edge recall:")
    for style in STYLES:
        kept_counts = " / ".join(str(counts[style, p]) for p in PAINTERLINESS)
        means = {key: np.mean([row[key] for row in rows[style] if row[key] is not None]) for key in
                 ("ssim8", "mad", "recall_face")}
        mad_min = min(row["mad"] for row in rows[style])
        print(f"{style:<21} {kept_counts:<12} ssim8 {means['ssim8']:.3f}  mad {means['mad']:.1f} (least {mad_min:.1f})"
              f"  face recall {means['recall_face']:.3f}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        width = max(sheet.shape[1] for sheet in sheets)
        board = np.vstack([np.pad(sheet, ((0, 0), (0, width - sheet.shape[1]), (0, 0))) for sheet in sheets])
        cv2.imwrite(str(args.out / "portraits.png"),
                    cv2.cvtColor(np.round(board * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
