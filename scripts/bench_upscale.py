"""Time the upscalers on this machine: seconds per output megapixel and peak memory.

Real-ESRGAN runs with random weights (none can be downloaded here) in the full-size architectures:
realesr-general-x4v3 (SRVGGNetCompact: 64 features, 32 convolutions, PReLU) and RealESRGAN_x4plus
(RRDBNet: 64 filters, 23 blocks). Timing does not depend on the weights' values. Each case runs in
its own process, so its peak RSS is its own: `base` is the peak after the imports, the model load
and a warm-up on a small image, `peak` the peak after the timed runs.

Cases (median of --runs):
  general-x4v3     256x256 -> 1024x1024, one 256 px tile (the whole image)
  x4plus           256x256 -> 1024x1024, one 256 px tile
  lanczos-band     a 14,400 x 512 band of a 3,600 x 5,400 -> 14,400 x 21,600 upscale
  general-x4v3-bands   4 consecutive 512-row bands of that print (tile cache on): what a print costs
                       per megapixel, tile overlaps and band borders included (not run by default)

    .venv/bin/python scripts/bench_upscale.py [--cases general-x4v3 x4plus lanczos-band] [--runs 3]
        [--device cpu] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CASES = ("general-x4v3", "x4plus", "lanczos-band", "general-x4v3-bands")
DEFAULT_CASES = ("general-x4v3", "x4plus", "lanczos-band")
PRINT_SOURCE, PRINT_OUT, BAND = (3600, 5400), (14400, 21600), 512


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_weights(case: str, folder: Path) -> Path:
    import torch
    from spandrel.architectures.Compact import Compact
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(0)
    if case.startswith("general-x4v3"):
        model, key = Compact(num_feat=64, num_conv=32, upscale=4, act_type="prelu"), "realesr-general-x4v3"
    else:
        model, key = ESRGAN(num_filters=64, num_blocks=23, scale=4), "realesrgan-x4plus"
    path = folder / key / f"{key}.pth"
    path.parent.mkdir(parents=True)
    torch.save(model.state_dict(), path)
    return path


def run_case(case: str, runs: int, device: str | None) -> dict:
    """One case in this process; returns its figures."""
    from rilievo.adapters.upscale import LanczosUpscaler
    from rilievo.adapters.upscale_esrgan import RealEsrganUpscaler

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as root:
        if case == "lanczos-band":
            upscaler = LanczosUpscaler()
            source = rng.random((PRINT_SOURCE[1], PRINT_SOURCE[0], 3), dtype=np.float32)
            windows = [(0, 10_240, PRINT_OUT[0], 10_240 + BAND)]
            out_size = PRINT_OUT
        else:
            upscaler = RealEsrganUpscaler(random_weights(case, Path(root)), device=device)
            upscaler.load()
            upscaler.upscale_region(rng.random((64, 64, 3), dtype=np.float32), (256, 256))  # warm-up
            if case == "general-x4v3-bands":
                source = rng.random((PRINT_SOURCE[1], PRINT_SOURCE[0], 3), dtype=np.float32)
                windows = [(0, top, PRINT_OUT[0], top + BAND) for top in range(0, 4 * BAND, BAND)]
                out_size, runs = PRINT_OUT, 1
            else:
                source = rng.random((256, 256, 3), dtype=np.float32)
                windows, out_size = [None], (1024, 1024)
        base = peak_rss_mib()
        times = []
        for _ in range(runs):
            upscaler.release()  # every run computes its tiles
            started = time.perf_counter()
            pixels = 0
            for window in windows:
                rows = upscaler.needed_source_rows(PRINT_SOURCE if window else (256, 256), out_size, window)
                band = source[rows[0]:rows[1]]
                out = upscaler.upscale_region(band, out_size, window, source_top=rows[0], source_height=source.shape[0])
                pixels += out.shape[0] * out.shape[1]
            times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    return {"case": case, "name": upscaler.name, "output_mp": pixels / 1e6, "seconds": seconds,
            "s_per_mp": seconds / (pixels / 1e6), "runs": [round(t, 2) for t in times],
            "base_rss_mib": round(base), "peak_rss_mib": round(peak_rss_mib())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(DEFAULT_CASES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", help="torch device (default: mps, cuda, then cpu)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--one", choices=CASES, help=argparse.SUPPRESS)  # a child process's case
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.one:
        print(json.dumps(run_case(args.one, args.runs, args.device)))
        return
    print(f"{'case':20} {'upscaler':32} {'out MP':>7} {'s/run':>7} {'s/MP':>7} {'base MiB':>9} {'peak MiB':>9}  runs")
    for case in args.cases:
        command = [sys.executable, __file__, "--one", case, "--runs", str(args.runs)]
        command += ["--device", args.device] if args.device else []
        command += ["--threads", str(args.threads)] if args.threads else []
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        print(f"{case:20} {result['name']:32} {result['output_mp']:7.2f} {result['seconds']:7.2f} "
              f"{result['s_per_mp']:7.2f} {result['base_rss_mib']:9} {result['peak_rss_mib']:9}  {result['runs']}")


if __name__ == "__main__":
    main()
