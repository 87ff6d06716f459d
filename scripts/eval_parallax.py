"""Measure how far each layer moves in the parallax preview of a synthetic three-plane scene.

Usage: python scripts/eval_parallax.py [--frames 24] [--max-shift 16] [--pivot back|middle]

The scene: a textured background (depth 220), a textured card in the middle (128) and a textured
disc in front (30). Its layers are built as the pipeline builds them (LayerPlan, layer_alphas,
layer_rgba); being synthetic, the colours hidden behind nearer objects are known, which stands in for
the fill-behind step. The measurement never looks at the offsets the animation used: it takes a patch
of each layer's own texture from the frame at one end of the sway and finds where it lands in the frame
at the other end, by sum-of-squared-differences search (sub-pixel by a parabola through the best
three) and, as a second opinion, by OpenCV's phase correlation. A correct parallax moves the front
more than the middle more than the back; with pivot "back" the back stays still.
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np

from rilievo.domain.layers import LayerPlan, layer_alphas, layer_rgba, quantize_depth
from rilievo.domain.parallax import FRAMES, PIVOTS, layer_offsets, parallax_frames

HEIGHT, WIDTH = 480, 640
DEPTHS = {"front": 30, "mid": 128, "back": 220}  # on the 0 (near) - 255 (far) scale
# Patches of each layer's texture that no nearer layer covers at either end of the sway
# (rows, columns), for a front-to-back shift up to about 20 px.
PATCHES = {
    "front": (slice(190, 290), slice(130, 230)),
    "mid": (slice(150, 370), slice(310, 410)),
    "back": (slice(40, 440), slice(450, 590)),
}


def texture(seed: int, tint: tuple[float, float, float]) -> np.ndarray:
    """Smooth random texture in one hue: enough detail to be tracked, distinct from the others."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((HEIGHT, WIDTH)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    return (0.25 + 0.75 * noise[..., None] * np.asarray(tint, dtype=np.float32)).astype(np.float32)


def scene() -> tuple[list[np.ndarray], list[float], np.ndarray]:
    """Front-to-back RGBA layers, their depth centres, and the layer membership."""
    rows, columns = np.indices((HEIGHT, WIDTH))
    front_mask = (rows - 240) ** 2 + (columns - 180) ** 2 <= 90**2
    mid_mask = (rows >= 120) & (rows < 400) & (columns >= 260) & (columns < 430) & ~front_mask
    depth = np.full((HEIGHT, WIDTH), DEPTHS["back"], dtype=np.float32)
    depth[mid_mask] = DEPTHS["mid"]
    depth[front_mask] = DEPTHS["front"]
    depth += np.random.default_rng(7).integers(-4, 5, depth.shape)
    depth8 = quantize_depth(depth / 255.0)
    plan = LayerPlan.from_depth(depth8, 3)
    membership = plan.membership(depth8)
    planes = [texture(1, (1.0, 0.3, 0.2)), texture(2, (0.3, 1.0, 0.4)), texture(3, (0.3, 0.5, 1.0))]
    layers = [
        layer_rgba(plane, alpha)
        for plane, alpha in zip(planes, layer_alphas(membership, plan.count, feather_px=2))
    ]
    centres = [(r.lo + r.hi) / 2 for r in plan.ranges]
    return layers, centres, membership


def ssd_shift(before: np.ndarray, after: np.ndarray, patch: tuple[slice, slice], reach: int) -> float:
    """Horizontal shift of the patch from `before` to `after`: least sum of squared differences."""
    rows, columns = patch
    template = before[rows, columns]
    costs = []
    for shift in range(-reach, reach + 1):
        moved = after[rows, columns.start + shift : columns.stop + shift]
        costs.append(float(((moved - template) ** 2).sum()))
    best = int(np.argmin(costs))
    if 0 < best < len(costs) - 1:  # parabola through the best three
        left, centre, right = costs[best - 1 : best + 2]
        denominator = left - 2 * centre + right
        return best - reach + (0.5 * (left - right) / denominator if denominator > 0 else 0.0)
    return float(best - reach)


def phase_shift(before: np.ndarray, after: np.ndarray, patch: tuple[slice, slice]) -> float:
    rows, columns = patch
    gray = [cv2.cvtColor(np.ascontiguousarray(f[rows, columns]), cv2.COLOR_RGB2GRAY) for f in (before, after)]
    window = cv2.createHanningWindow(gray[0].shape[::-1], cv2.CV_32F)
    (dx, _), _ = cv2.phaseCorrelate(gray[0].astype(np.float64), gray[1].astype(np.float64),
                                     window.astype(np.float64))
    return float(dx)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=FRAMES)
    parser.add_argument("--max-shift", type=float, default=16.0, help="front vs back, pixels")
    parser.add_argument("--pivot", choices=PIVOTS, default="back")
    args = parser.parse_args(argv)
    if args.frames % 4:
        print("--frames must be a multiple of 4 (the ends of the sway fall on frames)", file=sys.stderr)
        return 1

    layers, centres, _ = scene()
    started = time.perf_counter()
    frames = parallax_frames(layers, centres, args.frames, args.max_shift, args.pivot)
    seconds = time.perf_counter() - started
    right_end, left_end = args.frames // 4, 3 * args.frames // 4
    expected = np.subtract(
        layer_offsets(centres, right_end, args.frames, args.max_shift, args.pivot),
        layer_offsets(centres, left_end, args.frames, args.max_shift, args.pivot),
    )
    reach = int(np.ceil(args.max_shift * 2)) + 4

    print(f"{args.frames} frames of {WIDTH}x{HEIGHT} in {seconds:.2f} s, "
          f"max shift {args.max_shift:g} px, pivot {args.pivot}")
    print(f"motion from frame {left_end} (left end) to frame {right_end} (right end), pixels:")
    print(f"{'layer':6} {'depth':>6} {'expected':>9} {'SSD':>8} {'phase':>8}")
    measured = []
    for (name, patch), centre, want in zip(PATCHES.items(), centres, expected):
        ssd = ssd_shift(frames[left_end], frames[right_end], patch, reach)
        phase = phase_shift(frames[left_end], frames[right_end], patch)
        measured.append(ssd)
        print(f"{name:6} {centre:6.1f} {want:9.2f} {ssd:8.2f} {phase:8.2f}")
    # Signed, in the direction of the sway: with pivot "middle" the back moves the other way.
    ordered = measured[0] > measured[1] > measured[2]
    close = np.allclose(measured, expected, atol=0.5)
    print(f"front moves more than mid more than back: {'yes' if ordered else 'NO'}; "
          f"within 0.5 px of expected: {'yes' if close else 'NO'}")
    return 0 if ordered and close else 1


if __name__ == "__main__":
    sys.exit(main())
