"""Measure the classical depth estimator against real photos with measured depth.

Usage: python scripts/eval_depth.py [EVAL_DIR]   (default: ../shared/eval/depth next to the repo)

For each pair the score is Spearman's rank correlation between the estimated depth and the true
depth over the valid pixels (1.0 = same depth order). The baseline is the "lower in the frame is
nearer" prior: depth = 1 - row/H.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from scipy.stats import spearmanr

from rilievo.adapters.depth_classical import ClassicalDepth

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "depth"


def load_photo(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def load_truth(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """True depth *order* (larger = farther) and the mask of valid pixels."""
    disparity = folder / "disparity_x256.png"
    if disparity.exists():
        raw = cv2.imread(str(disparity), cv2.IMREAD_UNCHANGED).astype(np.float64)
        return -raw, raw > 0  # depth ∝ 1/disparity: negating keeps the rank order
    raw = cv2.imread(str(folder / "depth_mm.png"), cv2.IMREAD_UNCHANGED).astype(np.float64)
    return raw, raw > 0


def position_baseline(height: int, width: int) -> np.ndarray:
    rows = np.arange(height, dtype=np.float64)[:, None] / height
    return np.broadcast_to(1.0 - rows, (height, width))


def spearman(estimate: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    return float(spearmanr(estimate[valid], truth[valid]).statistic)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval_dir", nargs="?", type=Path, default=DEFAULT_EVAL_DIR)
    args = parser.parse_args(argv)

    if not args.eval_dir.is_dir():
        print(f"no such folder: {args.eval_dir}", file=sys.stderr)
        return 1
    pairs = sorted(p for p in args.eval_dir.iterdir() if (p / "image.png").exists())
    if not pairs:
        print(f"no image pairs found in {args.eval_dir}", file=sys.stderr)
        return 1

    estimator = ClassicalDepth()
    print(f"{'pair':<12} {'baseline':>9} {'ours':>7} {'time (s)':>9}")
    baselines, ours = [], []
    for folder in pairs:
        image = load_photo(folder / "image.png")
        truth, valid = load_truth(folder)
        start = time.perf_counter()
        depth = estimator.estimate(image)
        elapsed = time.perf_counter() - start
        baselines.append(spearman(position_baseline(*truth.shape), truth, valid))
        ours.append(spearman(depth, truth, valid))
        print(f"{folder.name:<12} {baselines[-1]:>9.3f} {ours[-1]:>7.3f} {elapsed:>9.2f}")
    print(f"{'mean':<12} {np.mean(baselines):>9.3f} {np.mean(ours):>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
