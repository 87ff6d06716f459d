"""Times the classical painter for every style at a few photo sizes and reports peak memory.

    .venv/bin/python scripts/bench_painter.py [--megapixels 1 4 12] [--repeats 1] [--seed 0]

The photo is skimage's coffee enlarged to each size (needs the dev extras), with a top-to-bottom depth
ramp. Peak RSS is the process's high-water mark so far, so it only grows down the table; the sizes
run smallest first, so each row's figure is what that size needed at most.
"""

import argparse
import resource
import time

import cv2
import numpy as np

from rilievo.adapters.paint_classical import ClassicalPainter
from rilievo.domain.noise import NoisePlan
from rilievo.domain.styles import STYLE_PRESETS, PaintRequest


def sample_photo(megapixels: float) -> np.ndarray:
    import skimage.data

    photo = skimage.data.coffee().astype(np.float32) / 255.0
    scale = (megapixels * 1e6 / (photo.shape[0] * photo.shape[1])) ** 0.5
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    return cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC).clip(0.0, 1.0)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, nargs="+", default=[1, 4, 12])
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    painter = ClassicalPainter()
    print(f"cv2 threads: {cv2.getNumThreads()}")
    print(f"{'style':<22}{'size':>12}{'MP':>7}{'seconds':>10}{'s/MP':>8}{'peak RSS MiB':>14}")
    for megapixels in sorted(args.megapixels):
        photo = sample_photo(megapixels)
        height, width = photo.shape[:2]
        depth = np.repeat(np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None], width, axis=1)
        for name, style in STYLE_PRESETS.items():
            request = PaintRequest(style=style, painterliness=0.5, depth_influence=0.6, brush_scale=3, prompt="")
            best = float("inf")
            for _ in range(args.repeats):
                started = time.perf_counter()
                painter.paint(photo, depth, request, NoisePlan.single(args.seed)).image
                best = min(best, time.perf_counter() - started)
            actual = height * width / 1e6
            print(f"{name:<22}{f'{width}x{height}':>12}{actual:>7.1f}{best:>10.2f}{best / actual:>8.2f}"
                  f"{peak_rss_mib():>14.0f}")


if __name__ == "__main__":
    main()
