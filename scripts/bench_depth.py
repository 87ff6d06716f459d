"""Time Depth-Anything-V2-Small on this machine, with random weights (none can be downloaded here).

The architecture is rebuilt from the values of depth-anything/Depth-Anything-V2-Small-hf's
config.json as we know them (DINOv2-S backbone: hidden 384, 12 layers, 6 heads, MLP 1536, patch 14,
features from layers 3/6/9/12; DPT neck 48/96/192/384, fusion 64, head 32). Timing does not depend
on the weights' values, so random ones time the same as the real ones, up to that approximation.

It times the whole adapter (OpenCV preprocessing, the forward pass, the inversion and the resize
back) through LearnedDepth, after one warm-up run, and prints the median of 3.

    .venv/bin/python scripts/bench_depth.py [--device cpu] [--threads N] [--photo 3000x2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

from rilievo.adapters.depth_learned import DEFAULT_PREPROCESS, LearnedDepth, input_size


def small_config() -> DepthAnythingConfig:
    backbone = Dinov2Config(
        hidden_size=384, num_hidden_layers=12, num_attention_heads=6, mlp_ratio=4, patch_size=14,
        image_size=518, layerscale_value=1.0, out_indices=[3, 6, 9, 12], reshape_hidden_states=False,
        apply_layernorm=True,
    )
    return DepthAnythingConfig(
        backbone_config=backbone, patch_size=14, reassemble_hidden_size=384,
        reassemble_factors=[4, 2, 1, 0.5], neck_hidden_sizes=[48, 96, 192, 384], fusion_hidden_size=64,
        head_hidden_size=32, head_in_index=-1, depth_estimation_type="relative",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--photo", default="518x518", metavar="WxH", help="input photo size (default 518x518)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = (int(side) for side in args.photo.lower().split("x"))
    torch.manual_seed(0)
    model = DepthAnythingForDepthEstimation(small_config())
    parameters = sum(p.numel() for p in model.parameters())
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "depth-anything-v2-small"
        model.save_pretrained(folder)
        del model
        depth = LearnedDepth(folder, device=args.device)
        photo = np.random.default_rng(0).random((height, width, 3), dtype=np.float32)
        started = time.perf_counter()
        depth.load()
        load_s = time.perf_counter() - started
        depth.estimate(photo)  # warm-up
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            depth.estimate(photo)
            times.append(time.perf_counter() - started)
    model_h, model_w = input_size(height, width, DEFAULT_PREPROCESS)
    print(f"Depth-Anything-V2-Small (random weights, {parameters / 1e6:.1f} M parameters) on {args.device}, "
          f"{torch.get_num_threads()} threads: photo {width}x{height} -> model input {model_w}x{model_h}")
    print(f"load {load_s:.2f} s; estimate median of {args.runs}: {statistics.median(times):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
