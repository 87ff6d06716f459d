"""Measures the classical painter on the eval photos and skimage's astronaut and chelsea: how close the
painting stays to the photo, how much it still differs, and which of the subject's edges survive.

    .venv/bin/python scripts/eval_painter.py OUT_DIR [--before BEFORE_DIR] [--subject] [--cache DIR]
                                             [--only NAME ...] [--painterliness P] [--style S]

Each photo is painted with the default request (oil-impressionist, painterliness 0.5, depth influence 0.6,
brush scale 3, seed 0; --style and --painterliness change those) and saved as OUT_DIR/NAME.png; the
figures go to OUT_DIR/figures.csv and stdout:
- ssim8: SSIM of painting vs photo at 1/8 scale (skimage.metrics.structural_similarity, colour);
- mad: mean absolute difference, in 1/255 (>= 4 at the default painterliness: still a painting);
- recall_subject / recall_face: the share of the photo's Canny edges inside the subject mask / the face
  boxes that the painting's Canny edges meet within 2 px (blank where the photo has no subject / face).
The subject mask is the found faces and the classical segmenter's regions named "person" or "subject".
Depth (classical engine) and masks are cached in --cache so that a later run measures the same inputs;
--subject hands the subject mask to the painter, as a render with layers does. With --before, a run
made earlier (another version of the painter) is read back and OUT_DIR/sheets/NAME.png shows photo |
before | after with a crop of the largest face (or the subject) below, enlarged up to twice.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import cv2
import numpy as np

from rilievo.adapters.depth_classical import ClassicalDepth
from rilievo.adapters.faces import find_faces
from rilievo.adapters.paint_classical import ClassicalPainter
from rilievo.adapters.segment_classical import ClassicalSegmenter
from rilievo.domain.noise import NoisePlan
from rilievo.domain.styles import STYLE_PRESETS, PaintRequest

PHOTOS = Path("/work/shared/eval/photos")
EDGE_TOLERANCE_PX = 2
SUBJECT_NAMES = ("person", "subject", "face")
SHEET_HEIGHT = 420
FIELDS = ("photo", "seconds", "ssim8", "mad", "recall_subject", "recall_face")


def photos(only: list[str] | None) -> dict[str, np.ndarray]:
    import skimage.data

    found = {path.stem: path for path in sorted(PHOTOS.glob("*.jpg"))}
    chosen = {}
    for name in only or [*found, "astronaut", "chelsea"]:
        if name in found:
            chosen[name] = np.asarray(cv2.cvtColor(cv2.imread(str(found[name])), cv2.COLOR_BGR2RGB), np.float32) / 255
        else:
            chosen[name] = getattr(skimage.data, name)().astype(np.float32) / 255
    return chosen


def inputs(name: str, photo: np.ndarray, cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Depth, subject mask and face mask, made once and cached."""
    files = [cache / f"{name}_{part}.png" for part in ("depth", "subject", "faces")]
    if not all(path.exists() for path in files):
        cache.mkdir(parents=True, exist_ok=True)
        depth = ClassicalDepth().estimate(photo)
        faces = np.zeros(photo.shape[:2], bool)
        for face in find_faces(photo):
            faces[face.row : face.row + face.size, face.col : face.col + face.size] = True
        regions = ClassicalSegmenter().segment(photo)
        named = [index for index, region in enumerate(regions.names) if region in SUBJECT_NAMES]
        subject = np.isin(regions.labels, named) | faces
        for path, array in zip(files, (depth, subject, faces)):
            cv2.imwrite(str(path), np.round(np.asarray(array, np.float32) * 255).astype(np.uint8))
    depth, subject, faces = (cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) for path in files)
    return depth.astype(np.float32) / 255, subject > 127, faces > 127


def edge_recall(photo: np.ndarray, painting: np.ndarray, mask: np.ndarray) -> float | None:
    from skimage.feature import canny

    wanted = canny(photo.mean(axis=2), sigma=2.0) & mask
    if wanted.sum() < 20:
        return None
    painted = canny(painting.mean(axis=2), sigma=2.0).astype(np.uint8)
    size = 2 * EDGE_TOLERANCE_PX + 1
    near = cv2.dilate(painted, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0
    return float((wanted & near).sum() / wanted.sum())


def figures(photo: np.ndarray, painting: np.ndarray, subject: np.ndarray, faces: np.ndarray) -> dict:
    from skimage.metrics import structural_similarity

    small = [cv2.resize(image, None, fx=1 / 8, fy=1 / 8, interpolation=cv2.INTER_AREA) for image in (photo, painting)]
    return {
        "ssim8": structural_similarity(*small, channel_axis=2, data_range=1.0),
        "mad": float(np.abs(photo - painting).mean() * 255),
        "recall_subject": edge_recall(photo, painting, subject),
        "recall_face": edge_recall(photo, painting, faces),
    }


def crop_box(subject: np.ndarray, faces: np.ndarray) -> tuple[slice, slice] | None:
    """The largest face box, else the subject's bounding box, with a margin; None without either."""
    if faces.any():
        _, labels, stats, _ = cv2.connectedComponentsWithStats(faces.astype(np.uint8))
        rows, cols = np.nonzero(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])))
    elif subject.any():
        rows, cols = np.nonzero(subject)
    else:
        return None
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    pad = (bottom - top) // 4
    return (slice(max(0, top - pad), bottom + pad), slice(max(0, left - pad), right + pad))


def sheet(images: list[np.ndarray], box: tuple[slice, slice] | None) -> np.ndarray:
    scale = SHEET_HEIGHT / images[0].shape[0]
    row = np.hstack([cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for image in images])
    if box is None:
        return row
    crops = [image[box] for image in images]
    crop_scale = min(2.0, row.shape[1] / len(crops) / crops[0].shape[1])
    crops = np.hstack([cv2.resize(c, None, fx=crop_scale, fy=crop_scale, interpolation=cv2.INTER_NEAREST) for c in crops])
    width = max(row.shape[1], crops.shape[1])
    pad = lambda image: np.pad(image, ((0, 0), (0, width - image.shape[1]), (0, 0)))  # noqa: E731
    return np.vstack([pad(row), pad(crops)])


def read_before(folder: Path) -> dict[str, dict]:
    with open(folder / "figures.csv") as file:
        return {row["photo"]: row for row in csv.DictReader(file)}


def shown(value) -> str:
    return "" if value in (None, "") else f"{float(value):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--before", type=Path)
    parser.add_argument("--cache", type=Path, help="default: OUT_DIR/../inputs")
    parser.add_argument("--only", nargs="+")
    parser.add_argument("--painterliness", type=float, default=0.5)
    parser.add_argument("--style", default="oil-impressionist", choices=sorted(STYLE_PRESETS))
    parser.add_argument("--subject", action="store_true", help="give the painter the subject mask, as a render with layers does")
    args = parser.parse_args()
    args.cache = args.cache or args.out.parent / "inputs"
    args.out.mkdir(parents=True, exist_ok=True)
    painter = ClassicalPainter()
    request = PaintRequest(style=STYLE_PRESETS[args.style], painterliness=args.painterliness,
                           depth_influence=0.6, brush_scale=3, prompt="")
    before = read_before(args.before) if args.before else {}
    rows = []
    print(f"{'photo':<11}{'s':>6}{'ssim8':>7}{'mad':>7}{'rec_subj':>9}{'rec_face':>9}   before: ssim8 mad rec_subj rec_face")
    for name, photo in photos(args.only).items():
        depth, subject, faces = inputs(name, photo, args.cache)
        started = time.perf_counter()
        painting = painter.paint(photo, depth, request, NoisePlan.single(0), subject=subject if args.subject else None).image
        row = {"photo": name, "seconds": time.perf_counter() - started, **figures(photo, painting, subject, faces)}
        rows.append(row)
        cv2.imwrite(str(args.out / f"{name}.png"), cv2.cvtColor(np.round(painting * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
        old = before.get(name, {})
        print(f"{name:<11}" + "".join(f"{shown(row[key]):>{w}}" for key, w in
                                       (("seconds", 6), ("ssim8", 7), ("mad", 7), ("recall_subject", 9), ("recall_face", 9)))
              + "   " + " ".join(shown(old.get(key)) for key in FIELDS[2:]), flush=True)
        if args.before:
            earlier = cv2.imread(str(args.before / f"{name}.png"))[..., ::-1].astype(np.float32) / 255
            images = [photo, earlier, painting]
            (args.out / "sheets").mkdir(exist_ok=True)
            board = sheet(images, crop_box(subject, faces))
            cv2.imwrite(str(args.out / "sheets" / f"{name}.png"),
                        cv2.cvtColor(np.round(board * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    with open(args.out / "figures.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    for key in FIELDS[2:]:
        values = [row[key] for row in rows if row[key] is not None]
        old = [float(before[row["photo"]][key]) for row in rows if before.get(row["photo"], {}).get(key)]
        print(f"mean {key}: {np.mean(values):.3f} over {len(values)}" + (f" (before {np.mean(old):.3f} over {len(old)})" if old else ""))


if __name__ == "__main__":
    main()
