"""Measure how well the layer outlines sit on the objects' outlines, with and without refinement.

Usage: python scripts/eval_layer_edges.py [--quick]

Synthetic scenes with known depth: 2-3 textured objects at distinct depths over a textured
background, drawn at twice the size and shrunk, so their outlines are anti-aliased like a photo's.
The "estimated" depth is the true one as a depth network would return it: computed at 518 px on
the long side, blurred there, a few pixels off, and brought back with bilinear resizing.
The layer plan comes from the estimated depth; the truth is that plan applied to the true depth.

The boundary error of a layer is the symmetric mean distance (px) between the outline pixels of its
true and estimated masks; "all" pools the outline pixels of every layer. The middle layers' large
errors before refinement are the thin rings a soft depth edge leaves in the middle depth range
around a near object seen against a far background. Then the time each method takes on a 12 MP
picture (median of 3 runs).
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from rilievo.adapters.layer_shaping import OpenCVLayerShaper
from rilievo.domain.layers import LayerPlan, quantize_depth

NETWORK_SIDE = 518


def texture(height: int, width: int, rng: np.random.Generator, cell: int, base: np.ndarray) -> np.ndarray:
    """Colour blocks of `cell` px plus finer noise around a base colour: a texture with inner edges."""
    blocks = rng.random((max(1, height // cell), max(1, width // cell), 3)).astype(np.float32)
    blocks = cv2.resize(blocks, (width, height), interpolation=cv2.INTER_NEAREST)
    fine = cv2.GaussianBlur(rng.random((height, width, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(0.6 * base + 0.25 * blocks + 0.3 * (fine - 0.5), 0.0, 1.0)


def shape_mask(kind: str, height: int, width: int, across: float, rng: np.random.Generator) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    centre = (int((across + rng.uniform(-0.05, 0.05)) * width), int(rng.uniform(0.35, 0.65) * height))
    size = int(rng.uniform(0.12, 0.22) * min(height, width))
    if kind == "disc":
        cv2.circle(mask, centre, size, 1, -1, cv2.LINE_8)
    elif kind == "box":
        cv2.rectangle(mask, (centre[0] - size, centre[1] - size // 2),
                      (centre[0] + size, centre[1] + size), 1, -1)
    elif kind == "ellipse":
        cv2.ellipse(mask, centre, (int(1.5 * size), size // 2), rng.uniform(0, 180), 0, 360, 1, -1)
    else:  # a star: concave corners and thin spikes
        angles = np.linspace(0, 2 * np.pi, 11)[:-1] + rng.uniform(0, np.pi)
        radii = np.where(np.arange(10) % 2 == 0, 1.3 * size, 0.55 * size)
        points = np.stack([centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)], 1)
        cv2.fillPoly(mask, [points.astype(np.int32)], 1)
    return mask.astype(bool)


def scene(height: int, width: int, seed: int, kinds: tuple[str, ...], supersample: int = 2):
    """(image, true depth in [0, 1], 0 = near), drawn `supersample` times larger and shrunk."""
    rng = np.random.default_rng(seed)
    big_h, big_w = supersample * height, supersample * width
    background = rng.uniform(0.2, 0.8, 3)
    image = texture(big_h, big_w, rng, 24, background)
    ramp = np.linspace(0.88, 0.92, big_h, dtype=np.float32)[::-1, None]
    depth = np.repeat(ramp, big_w, axis=1)
    depths = np.linspace(0.55, 0.1, len(kinds))
    for order, (kind, object_depth) in enumerate(zip(kinds, depths)):
        mask = shape_mask(kind, big_h, big_w, (order + 1) / (len(kinds) + 1), rng)
        colour = rng.uniform(0.1, 0.9, 3)
        while np.linalg.norm(colour - background) < 0.3:  # photos have low-contrast outlines too,
            colour = rng.uniform(0.1, 0.9, 3)  # but a scene made of them measures nothing
        image[mask] = texture(big_h, big_w, rng, 16, colour)[mask]
        depth[mask] = object_depth
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    depth = cv2.resize(depth, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
    return image, depth


def estimated(depth: np.ndarray, shift_px: tuple[float, float], seed: int) -> np.ndarray:
    """The true depth as a network would give it: at 518 px, soft, a few px off, resized back."""
    height, width = depth.shape
    scale = NETWORK_SIDE / max(height, width)
    small_size = (round(width * scale), round(height * scale))
    small = cv2.resize(depth, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 1.5)
    rng = np.random.default_rng(seed)
    wobble = cv2.GaussianBlur(rng.normal(0, 1, small.shape).astype(np.float32), (0, 0), 20)
    small = small + 0.02 * wobble / max(wobble.std(), 1e-6)
    out = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    shift = np.float32([[1, 0, shift_px[0]], [0, 1, shift_px[1]]])
    return cv2.warpAffine(out, shift, (width, height), borderMode=cv2.BORDER_REPLICATE)


def outline(mask: np.ndarray) -> np.ndarray:
    """Pixels of the mask with a 4-neighbour outside it (the picture's border does not count)."""
    padded = np.pad(mask, 1, mode="edge")
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def boundary_distances(truth: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Distances of each outline pixel of either mask to the other mask's outline (empty: none)."""
    true_line, line = outline(truth), outline(estimate)
    if not true_line.any() or not line.any():
        return np.array([np.inf]) if true_line.any() or line.any() else np.array([])
    to_truth = cv2.distanceTransform((~true_line).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    to_line = cv2.distanceTransform((~line).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.concatenate([to_truth[line], to_line[true_line]])


def errors(truth: np.ndarray, membership: np.ndarray, count: int) -> dict:
    """Mean boundary error of each layer; mean and median over the outline pixels of all layers;
    the share of pixels in the wrong layer."""
    per_layer = [boundary_distances(truth == k, membership == k) for k in range(count)]
    pooled = np.concatenate(per_layer)
    return {
        "layers": [float(d.mean()) if d.size else 0.0 for d in per_layer],
        "mean": float(pooled.mean()) if pooled.size else 0.0,
        "median": float(np.median(pooled)) if pooled.size else 0.0,
        "wrong": float(np.mean(truth != membership)),
    }


SCENES = (
    ("box, disc", (1200, 1600), ("box", "disc"), (4.0, -3.0)),
    ("ellipse, star, disc", (1200, 1600), ("ellipse", "star", "disc"), (-5.0, 2.0)),
    ("star, box", (1200, 1800), ("star", "box"), (3.0, 5.0)),
    ("box, disc, far off", (1200, 1600), ("box", "disc"), (9.0, -7.0)),
)


def edge_table(shaper: OpenCVLayerShaper) -> None:
    print("Boundary error in px (symmetric, outline pixels), before -> after refine_membership;")
    print("'before' is the layer map as cut from the estimated depth (nearest-neighbour enlarged);")
    print("middle layers start far off: a soft depth edge leaves a ring of them round near objects.")
    print(f"{'scene':<20} {'map':<9} {'per layer, front to back (mean)':<36} {'all: mean':>14} "
          f"{'median':>12} {'wrong px':>15} {'time':>6}")
    for seed, (name, (height, width), kinds, shift) in enumerate(SCENES):
        image, depth = scene(height, width, seed, kinds)
        count = len(kinds) + 1
        estimate8 = quantize_depth(estimated(depth, shift, seed))
        plan = LayerPlan.from_depth(estimate8, count)
        truth = plan.membership(quantize_depth(depth))
        for label, divisor in (("full", 1), ("1/4 size", 4)):
            small = cv2.resize(estimate8, (width // divisor, height // divisor), interpolation=cv2.INTER_AREA)
            membership = plan.membership(small)
            baseline = cv2.resize(membership, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
            start = time.perf_counter()
            refined = shaper.refine_membership(image, membership, count)
            elapsed = time.perf_counter() - start
            before, after = errors(truth, baseline, count), errors(truth, refined, count)
            layers = " ".join(f"{b:.1f}->{a:.1f}" for b, a in zip(before["layers"], after["layers"]))
            print(f"{name:<20} {label:<9} {layers:<36} {before['mean']:>6.1f} -> {after['mean']:<4.2f} "
                  f"{before['median']:>4.1f} -> {after['median']:<4.1f} "
                  f"{100 * before['wrong']:>5.2f}% -> {100 * after['wrong']:.2f}%{'':<2} {elapsed:>5.2f}s")


def timings(shaper: OpenCVLayerShaper, height: int = 3000, width: int = 4000) -> None:
    image, depth = scene(height, width, 7, ("box", "disc"), supersample=1)
    depth8 = quantize_depth(estimated(depth, (8.0, -6.0), 7))
    plan = LayerPlan.from_depth(depth8, 3)
    membership = plan.membership(depth8)
    min_feature = 1.5 / (25.4 / 300)  # the default 1.5 mm at 300 dpi
    refined = shaper.refine_membership(image, membership, 3)
    merged = shaper.merge_small_features(refined, 3, min_feature)
    known_back = merged == 2
    runs = {
        "refine_membership (3 layers)": lambda: shaper.refine_membership(image, membership, 3),
        "refine_membership (from 1/4 size)": lambda: shaper.refine_membership(
            image, membership[::4, ::4], 3),
        f"merge_small_features ({min_feature:.1f} px)": lambda: shaper.merge_small_features(
            refined, 3, min_feature),
        "fill_behind (back layer, reach None)": lambda: shaper.fill_behind(
            image, known_back, ~known_back, None),
        "fill_behind (mid layer, reach 60 px)": lambda: shaper.fill_behind(
            image, merged == 1, merged == 0, 60.0),
    }
    print(f"\nTimes at {width}x{height} ({width * height / 1e6:.0f} MP), median of 3 runs")
    for name, run in runs.items():
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
        print(f"{name:<40} {np.median(seconds):>6.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 12 MP timings")
    args = parser.parse_args(argv)
    shaper = OpenCVLayerShaper()
    edge_table(shaper)
    if not args.quick:
        timings(shaper)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
