"""Times the streaming print writers at print size and reports each one's peak memory.

    .venv/bin/python scripts/bench_print_files.py [--scale 1] [--kinds png16,tiff16,cmyk-tiff] [--no-reference]

Writes a 14,400 x 21,600 (24 x 36 in at 600 DPI, times --scale) 16-bit RGB image from strips made
one at a time (a smooth gradient plus noise) as each kind, each in its own child process so that
peaks do not mix (VmHWM, read by the child itself). The reference is libvips doing a comparable job
in one sequential pipeline: lanczos3 enlargement of a 3,600 x 5,400 photo-like image to the same size,
encoded to the same formats (the writers spool the strips and encode with libvips too).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FULL_WIDTH, FULL_HEIGHT, DPI = 14_400, 21_600, 600
STRIP_ROWS = 256
NOISE = 0.004  # about 260 16-bit steps: the low bytes are noise, as in a real upscaled photo
SAMPLE_PHOTO = Path(__file__).resolve().parent.parent / "samples" / "coffee.jpg"


def strips(width: int, height: int, rows: int = STRIP_ROWS, seed: int = 0):
    """A smooth colour gradient plus Gaussian noise, float32 in [0, 1], made strip by strip."""
    x = (np.arange(width, dtype=np.float32) / width)[None, :]
    for top in range(0, height, rows):
        count = min(rows, height - top)
        rng = np.random.default_rng([seed, top])
        y = (np.arange(top, top + count, dtype=np.float32) / height)[:, None]
        strip = np.empty((count, width, 3), np.float32)
        strip[..., 0] = 0.15 + 0.7 * x * (1 - 0.3 * y)
        strip[..., 1] = 0.2 + 0.6 * y + 0.1 * np.sin(x * 12)
        strip[..., 2] = 0.5 + 0.4 * np.sin((x + y) * 5)
        strip += rng.standard_normal(strip.shape, dtype=np.float32) * NOISE
        yield np.clip(strip, 0.0, 1.0, out=strip)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(kind: str, width: int, height: int, folder: Path) -> dict:
    from rilievo.adapters.print_files import open_writer

    path = folder / f"bench.{kind}"
    started = time.perf_counter()
    with open_writer(path, width, height, 3, kind, DPI) as writer:
        for strip in strips(width, height):
            writer.write_rows(strip)
    return {"seconds": time.perf_counter() - started, "bytes": path.stat().st_size}


def run_generate_only(width: int, height: int) -> dict:
    started = time.perf_counter()
    for _ in strips(width, height):
        pass
    return {"seconds": time.perf_counter() - started, "bytes": 0}


def run_vips(kind: str, width: int, height: int, folder: Path) -> dict:
    import cv2
    import pyvips

    from rilievo.adapters.print_colour import default_cmyk_profile

    small_w, small_h = max(1, width // 4), max(1, height // 4)
    photo = cv2.cvtColor(cv2.imread(str(SAMPLE_PHOTO)), cv2.COLOR_BGR2RGB)
    photo = cv2.resize(photo, (small_w, small_h), interpolation=cv2.INTER_CUBIC).astype(np.uint16) * 257
    started = time.perf_counter()
    image = pyvips.Image.new_from_memory(photo.tobytes(), small_w, small_h, 3, "ushort")
    image = image.copy(interpretation="rgb16").resize(width / small_w, vscale=height / small_h, kernel="lanczos3")
    path = folder / f"vips.{kind}"
    if kind == "png16":
        image.pngsave(str(path), compression=2, filter="sub")  # the settings the writers use
    elif kind == "tiff16":
        image.tiffsave(str(path), tile=True, tile_width=256, tile_height=256, compression="deflate",
                       predictor="horizontal", xres=DPI / 25.4, yres=DPI / 25.4)
    else:
        cmyk = image.icc_transform(str(default_cmyk_profile()), intent="perceptual", depth=8, embedded=False)
        cmyk.tiffsave(str(path), tile=True, tile_width=256, tile_height=256, compression="deflate",
                      predictor="horizontal", xres=DPI / 25.4, yres=DPI / 25.4)
    return {"seconds": time.perf_counter() - started, "bytes": path.stat().st_size}


def child(args: argparse.Namespace) -> None:
    width, height = round(FULL_WIDTH * args.scale), round(FULL_HEIGHT * args.scale)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        if args.child == "generate":
            result = run_generate_only(width, height)
        elif args.child.startswith("vips:"):
            result = run_vips(args.child[5:], width, height, Path(folder))
        else:
            result = run_ours(args.child, width, height, Path(folder))
    print(json.dumps(result | {"peak_rss_mb": peak_rss_mb()}))


def measure(job: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", job, "--scale", str(args.scale)]
    if args.folder:
        command += ["--folder", args.folder]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{job} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 14,400 x 21,600 per side")
    parser.add_argument("--kinds", default="png16,tiff16,cmyk-tiff")
    parser.add_argument("--no-reference", action="store_true", help="skip the libvips reference")
    parser.add_argument("--folder", default=None, help="where to write the files (default: the system temp)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    width, height = round(FULL_WIDTH * args.scale), round(FULL_HEIGHT * args.scale)
    print(f"{width} x {height} RGB, {width * height / 1e6:.0f} MP, strips of {STRIP_ROWS} rows")
    base = measure("generate", args)
    print(f"{'making the strips only':<24} {base['seconds']:7.1f} s {base['peak_rss_mb']:7.0f} MB peak")
    for kind in args.kinds.split(","):
        ours = measure(kind, args)
        line = (
            f"{kind:<24} {ours['seconds']:7.1f} s {ours['peak_rss_mb']:7.0f} MB peak "
            f"{ours['bytes'] / 1e6:8.1f} MB file ({ours['seconds'] - base['seconds']:.1f} s beyond making the strips)"
        )
        if not args.no_reference:
            vips = measure(f"vips:{kind}", args)
            line += (
                f" | libvips {vips['seconds']:6.1f} s {vips['peak_rss_mb']:6.0f} MB peak "
                f"{vips['bytes'] / 1e6:7.1f} MB file | time ours/libvips {ours['seconds'] / vips['seconds']:.2f}"
            )
        print(line, flush=True)


if __name__ == "__main__":
    main()
