"""Look at the built-in segmenter's regions and measure how whole the subject comes out.

Usage: python scripts/eval_regions.py PHOTO_DIR [PHOTO_DIR ...] [--out DIR] [--per-sheet N]

For every photo (`*.png`, `*.jpg`; files ending in `_mask`, `_check` or `_depth` are skipped) the
classical segmenter is run at the photo's size and a tile is drawn: the region outlines on the photo,
named regions tinted (person red, subject orange, sky blue, ground/floor brown, wall grey) and their
names written at their centres; where a subject mask exists (`NAME_mask.png` beside the photo: 255
subject, 0 background, 128 don't care) its outline is drawn in green. Tiles go to contact sheets
`OUT/regions_N.png` (default OUT: /tmp/rilievo_regions).

With a mask it prints **coverage** (the share of the subject covered by the one region that covers
most of it) and **purity** (the share of that region, outside the don't-care band, that is subject).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from rilievo.adapters.segment_classical import ClassicalSegmenter
from rilievo.domain.regions import Regions

TILE_WIDTH = 640
TINTS = {  # BGR
    "person": (60, 60, 230),
    "subject": (0, 150, 255),
    "sky": (230, 160, 60),
    "ground": (40, 90, 150),
    "floor": (40, 90, 150),
    "wall": (160, 160, 160),
}
SKIPPED_SUFFIXES = ("_mask", "_check", "_depth")


def photos_in(folders: list[Path]) -> list[Path]:
    found = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".png", ".jpg", ".jpeg") and not path.stem.endswith(SKIPPED_SUFFIXES):
                found.append(path)
    return found


def load_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def subject_scores(labels: np.ndarray, mask: np.ndarray) -> dict:
    """Coverage and purity of the region that covers most of the subject (mask 255)."""
    subject = mask == 255
    counts = np.bincount(labels[subject], minlength=labels.max() + 1)
    best = int(counts.argmax())
    region = (labels == best) & (mask != 128)
    return {
        "region": best,
        "coverage": float(counts[best] / max(1, subject.sum())),
        "purity": float((region & subject).sum() / max(1, region.sum())),
    }


def tile(image: np.ndarray, regions: Regions, mask: np.ndarray | None, caption: str) -> np.ndarray:
    scale = TILE_WIDTH / image.shape[1]
    size = (TILE_WIDTH, max(1, round(image.shape[0] * scale)))
    bgr = cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2BGR)
    out = (bgr * 255).astype(np.float32)
    labels = cv2.resize(regions.labels, size, interpolation=cv2.INTER_NEAREST)
    for index, name in enumerate(regions.names):
        base = name.split()[0] if name else ""
        if base in TINTS:
            inside = labels == index
            out[inside] = 0.55 * out[inside] + 0.45 * np.float32(TINTS[base])
    out = out.astype(np.uint8)
    edges = (np.diff(labels, axis=0, prepend=labels[:1]) != 0) | (np.diff(labels, axis=1, prepend=labels[:, :1]) != 0)
    out[cv2.dilate(edges.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0] = (255, 255, 255)
    if mask is not None:
        small = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours((small == 255).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, (0, 255, 0), 1)
    for index, name in enumerate(regions.names):
        if name:
            rows, cols = np.nonzero(labels == index)
            if rows.size:
                at = (int(np.median(cols)) - 20, int(np.median(rows)))
                cv2.putText(out, name, at, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3)
                cv2.putText(out, name, at, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    banner = np.zeros((24, TILE_WIDTH, 3), np.uint8)
    cv2.putText(banner, caption, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return np.vstack([banner, out])


def sheets(tiles: list[np.ndarray], per_sheet: int, columns: int = 2) -> list[np.ndarray]:
    out = []
    for start in range(0, len(tiles), per_sheet):
        group = tiles[start : start + per_sheet]
        height = max(t.shape[0] for t in group)
        padded = [np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0))) for t in group]
        padded += [np.zeros_like(padded[0])] * (-len(padded) % columns)
        rows = [np.hstack(padded[i : i + columns]) for i in range(0, len(padded), columns)]
        out.append(np.vstack(rows))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp/rilievo_regions"))
    parser.add_argument("--per-sheet", type=int, default=4)
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.folders if not f.is_dir()]
    if missing:
        print(f"no such folder: {', '.join(missing)}", file=sys.stderr)
        return 1
    segmenter = ClassicalSegmenter()
    tiles, scored = [], []
    print(f"{'photo':<16} {'regions':>7} {'seconds':>7} {'coverage':>8} {'purity':>6}  names")
    for path in photos_in(args.folders):
        image = load_rgb(path)
        start = time.perf_counter()
        regions = segmenter.segment(image)
        seconds = time.perf_counter() - start
        mask_path = path.with_name(f"{path.stem}_mask.png")
        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE) if mask_path.exists() else None
        named = ", ".join(sorted({n for n in regions.names if n}))
        line = f"{path.stem:<16} {regions.count:>7} {seconds:>7.2f}"
        caption = f"{path.stem}  {regions.count} regions"
        if mask is not None:
            score = subject_scores(regions.labels, mask)
            scored.append(score)
            line += f" {score['coverage']:>8.2f} {score['purity']:>6.2f}"
            caption += f"  coverage {score['coverage']:.2f} purity {score['purity']:.2f}"
        else:
            line += f" {'':>8} {'':>6}"
        print(f"{line}  {named}")
        tiles.append(tile(image, regions, mask, caption))
    if scored:
        print(f"{'mean':<16} {'':>7} {'':>7} {np.mean([s['coverage'] for s in scored]):>8.2f} "
              f"{np.mean([s['purity'] for s in scored]):>6.2f}")
    args.out.mkdir(parents=True, exist_ok=True)
    for number, sheet in enumerate(sheets(tiles, args.per_sheet), start=1):
        cv2.imwrite(str(args.out / f"regions_{number}.png"), sheet)
    print(f"sheets in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
