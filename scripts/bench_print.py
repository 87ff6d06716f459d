"""Wall time and peak memory of photo-mode print jobs, next to libvips doing the resize and encode of the
composite alone.

    .venv/bin/python scripts/bench_print.py [--cases 8x10@300 24x36@300 24x36@600] [--layers 4]
        [--format png16] [--photo PATH]

Each job runs as `rilievo render` in its own process (classical engines, Lanczos upscaling, the
given layer count), and its peak RSS is that process's own (os.wait4). The reference is a libvips
(pyvips) pipeline in its own process: read the photo, crop it to the print's aspect, Lanczos-3 resize to
the print size, sharpen, and write a 16-bit PNG with DPI, as a streaming pipeline. The photo defaults
to a 4000 x 3000 px enlargement of scikit-image's coffee sample (a 12 MP camera's size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REFERENCE = r"""
import sys, pyvips
photo, out, width, height, dpi = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
image = pyvips.Image.new_from_file(photo, access="sequential")
scale = max(width / image.width, height / image.height)
image = image.resize(scale, kernel="lanczos3")
image = image.crop((image.width - width) // 2, (image.height - height) // 2, width, height)
image = image.sharpen().cast("ushort", shift=True).copy(xres=dpi / 25.4, yres=dpi / 25.4)
image.pngsave(out, compression=1, bitdepth=16)
"""
SIZES_IN = {"8x10": (10, 8), "24x36": (36, 24)}  # landscape, like the photo


def run_measured(command: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of one child process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:4]} failed: {text[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def default_photo(folder: Path) -> Path:
    import cv2
    import skimage.data

    path = folder / "photo.jpg"
    coffee = cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(path), cv2.resize(coffee, (4000, 3000), interpolation=cv2.INTER_CUBIC),
                [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=["8x10@300", "24x36@300", "24x36@600"])
    parser.add_argument("--layers", default="4")
    parser.add_argument("--format", default="png16")
    parser.add_argument("--photo", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        photo = args.photo or default_photo(folder)
        env = {**os.environ, "RILIEVO_STORAGE": str(folder / "storage"), "RILIEVO_MODELS": str(folder / "none")}
        print(f"photo {photo.name}; {args.layers} layers; format {args.format}", flush=True)
        print(f"{'print':>11}{'pixels':>16}{'job s':>8}{'job MiB':>9}{'vips s':>8}{'vips MiB':>9}{'time x':>8}",
              flush=True)
        for case in args.cases:
            size, dpi = case.split("@")
            width, height = (side * int(dpi) for side in SIZES_IN[size])
            job_s, job_mib, out = run_measured(
                [sys.executable, "-m", "rilievo.entrypoints.cli", "render", str(photo), "--print", size, "--dpi", dpi,
                 "--layers", args.layers, "--format", args.format, "--out", str(folder / "out"), "--json"], env)
            summary = json.loads(out)
            assert summary["status"] == "completed", summary
            vips_s, vips_mib, _ = run_measured(
                [sys.executable, "-c", REFERENCE, str(photo), str(folder / "vips.png"), str(width), str(height), dpi])
            print(f"{case:>11}{f'{width}x{height}':>16}{job_s:>8.1f}{job_mib:>9.0f}{vips_s:>8.1f}{vips_mib:>9.0f}"
                  f"{job_s / vips_s:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
