"""Wall time and peak memory of print jobs (photo mode; painterly with --mode painterly), next to a
plain libvips pipeline doing the same resize, sharpen, layer masks and 16-bit PNG encodes.

    .venv/bin/python scripts/bench_print.py [--cases 24x36@300 24x36@600] [--layers 4] [--repeat 3]
        [--format png16] [--photo PATH] [--size 741x497] [--own-size 4000x3000] [--learned]
        [--mode painterly [--style oil-impressionist]] [--no-reference]

Both sides get the same photo (default: samples/coffee.jpg resized to --size) and the same depth map
(a smooth slope with a nearer ellipse, given to Rilievo with --depth), and each runs in its own process
whose peak RSS is its own (os.wait4). Rilievo: `rilievo render` (Lanczos upscaling, the given layer
count). The reference, one streaming pyvips pipeline per file: the photo resized to cover the print
(Lanczos-3), cropped and sharpened, as a 16-bit PNG with DPI; the depth resized to an 8-bit PNG; for
each layer the depth band's mask resized and joined to the composite as a 16-bit RGBA PNG. Same PNG
settings as Rilievo's (zlib level 2, Sub filter). --own-size also times a job on a photo of that size
with no print (its own size). --learned installs a tiny random Real-ESRGAN (realesr-general-x4v3's
architecture with 8 features and 4 convolutions; the real one has 64 and 32) in the job's models
folder, so the job upscales with the learned upscaler on the CPU. --mode painterly paints the photo first
(the classical painter, --style's preset, default oil-impressionist) and finishes the print at print
size; the reference still only resizes the photo, so --no-reference leaves it out (its columns show
0). A painterly print from a 12 MP photo, the job alone:

    .venv/bin/python scripts/bench_print.py --size 4240x2828 --mode painterly --no-reference --repeat 1

Each figure is the median of --repeat runs: the machine is shared, and
the spread is printed too. CPU seconds (user + system, the child's own) move less with the machine's
load than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "coffee.jpg"
REFERENCE = r"""
import sys, pyvips
photo, depth, out, width, height, dpi, layers = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
res = dpi / 25.4

def fitted(image):
    scale = max(width / image.width, height / image.height)
    image = image.resize(scale, kernel="lanczos3")
    return image.crop((image.width - width) // 2, (image.height - height) // 2, width, height)

def composite():
    image = fitted(pyvips.Image.new_from_file(photo, access="sequential"))
    return image.sharpen().cast("ushort", shift=True).copy(interpretation="rgb16", xres=res, yres=res)

def png(image, name, bits):
    image.pngsave(f"{out}/{name}", compression=2, filter="sub", bitdepth=bits)

png(composite(), "composite.png", 16)
depth_map = pyvips.Image.new_from_file(depth, access="sequential")
png(fitted(depth_map).copy(xres=res, yres=res), "depth.png", 8)
for k in range(layers):
    near = pyvips.Image.new_from_file(depth, access="sequential")
    mask = ((near >= 255 * k // layers) & (near <= 255 * (k + 1) // layers)).cast("float")
    alpha = (fitted(mask).clamp(min=0, max=255) * 257).cast("ushort")
    png(composite().bandjoin(alpha).copy(interpretation="rgb16"), f"layer{k}.png", 16)
"""
SIZES_IN = {"8x10": (10, 8), "24x36": (36, 24)}  # landscape, like the photo


def run_measured(command: list[str], env: dict | None = None) -> tuple[float, float, str, float]:
    """(seconds, peak RSS in MiB, stdout, CPU seconds) of one child process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(), err.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:4]} failed: {text[-2000:]} {problem[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text, usage.ru_utime + usage.ru_stime


def inputs(folder: Path, size: tuple[int, int], photo: Path | None) -> tuple[Path, Path]:
    """The photo at size (unless one is given) and its depth map: 255 = near."""
    import cv2
    import numpy as np

    if photo is None:
        photo = folder / f"photo-{size[0]}x{size[1]}.jpg"
        image = cv2.resize(cv2.imread(str(SAMPLE)), size, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(photo), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    height, width = cv2.imread(str(photo)).shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    depth = 0.6 * y / height + 0.1 * np.sin(x / width * 6)
    inside = ((x - 0.45 * width) / (0.22 * width)) ** 2 + ((y - 0.55 * height) / (0.3 * height)) ** 2 < 1
    depth[inside] = 0.95
    path = folder / f"depth-{width}x{height}.png"
    cv2.imwrite(str(path), np.rint(np.clip(depth, 0, 1) * 255).astype(np.uint8))
    return photo, path


TINY_UPSCALER = r"""
import sys, torch
from spandrel.architectures.Compact import Compact
torch.manual_seed(0)
torch.save({"params": Compact(num_feat=8, num_conv=4, upscale=4).state_dict()}, sys.argv[1])
"""


def tiny_learned_upscaler(models: Path) -> None:
    """A random, tiny realesr-general-x4v3 in the release file's layout: the job picks it up as installed.
    Made in a child process: torch in this one would count in every later child's peak RSS (a child's
    peak includes the copy of its parent it starts as)."""
    path = models / "realesr-general-x4v3" / "realesr-general-x4v3.pth"
    path.parent.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", TINY_UPSCALER, str(path)], check=True)


def median_of(runs: list[tuple[float, float, str, float]]) -> tuple[float, float, float, float, float]:
    """(median s, min s, max s, median MiB, median CPU s)."""
    seconds = [run[0] for run in runs]
    return (statistics.median(seconds), min(seconds), max(seconds), statistics.median(run[1] for run in runs),
            statistics.median(run[3] for run in runs))


def ratio(job: float, reference: float) -> str:
    return f"{job / reference:.2f}" if reference else "-"


def render(photo: Path, depth: Path, folder: Path, env: dict, extra: list[str]) -> tuple[float, float, str, float]:
    out = folder / f"out-{time.monotonic_ns()}"
    run = run_measured([sys.executable, "-m", "rilievo.entrypoints.cli", "render", str(photo), "--depth", str(depth),
                        "--out", str(out), "--json", *extra], env)
    summary = json.loads(run[2])
    assert summary["status"] == "completed", summary
    subprocess.run(["rm", "-rf", str(out)], check=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=["24x36@300"])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", default="png16")
    parser.add_argument("--photo", type=Path)
    parser.add_argument("--size", default="741x497")
    parser.add_argument("--own-size", default="", help="e.g. 4000x3000: also a job at that photo's own size")
    parser.add_argument("--learned", action="store_true", help="upscale with a tiny random Real-ESRGAN on the CPU")
    parser.add_argument("--mode", choices=["photo", "painterly"], default="photo")
    parser.add_argument("--style", default="oil-impressionist", help="the painterly preset (with --mode painterly)")
    parser.add_argument("--no-reference", action="store_true", help="time the job alone, not the libvips pipeline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        photo, depth = inputs(folder, tuple(map(int, args.size.split("x"))), args.photo)
        models = folder / "models"
        models.mkdir()
        if args.learned:
            tiny_learned_upscaler(models)
        env = {**os.environ, "RILIEVO_STORAGE": str(folder / "storage"), "RILIEVO_MODELS": str(models)}
        upscaler = "tiny Real-ESRGAN" if args.learned else "Lanczos"
        print(f"photo {args.size}; {args.mode}{f' ({args.style})' if args.mode == 'painterly' else ''}; {args.layers} layers; format {args.format}; {upscaler}; median of {args.repeat} "
              f"(min-max); the machine is shared with other work", flush=True)
        print(f"{'print':>10}{'pixels':>13}{'job s':>20}{'job MiB':>9}{'vips s':>20}{'vips MiB':>9}{'ratio':>7}"
              f"{'job CPU s':>11}{'vips CPU s':>11}{'CPU ratio':>10}", flush=True)
        for case in args.cases:
            size, dpi = case.split("@")
            width, height = (side * int(dpi) for side in SIZES_IN[size])
            options = ["--print", size, "--dpi", dpi, "--layers", str(args.layers), "--format", args.format,
                       "--mode", args.mode]
            if args.mode == "painterly":
                options += ["--style", args.style]
            jobs, references = [], []
            for _ in range(args.repeat):
                jobs.append(render(photo, depth, folder, env, options))
                if args.no_reference:
                    references.append((0.0, 0.0, "", 0.0))
                    continue
                reference_out = folder / "reference"
                reference_out.mkdir(exist_ok=True)
                references.append(run_measured([sys.executable, "-c", REFERENCE, str(photo), str(depth),
                                                str(reference_out), str(width), str(height), dpi, str(args.layers)]))
                subprocess.run(["rm", "-rf", str(reference_out)], check=True)
            job, vips = median_of(jobs), median_of(references)
            engine = json.loads(jobs[0][2])["engines"].get("upscale")
            print(f"{case:>10}{f'{width}x{height}':>13}{f'{job[0]:.1f} ({job[1]:.1f}-{job[2]:.1f})':>20}{job[3]:>9.0f}"
                  f"{f'{vips[0]:.1f} ({vips[1]:.1f}-{vips[2]:.1f})':>20}{vips[3]:>9.0f}{ratio(job[0], vips[0]):>7}"
                  f"{job[4]:>11.1f}{vips[4]:>11.1f}{ratio(job[4], vips[4]):>10}  upscaler {engine}", flush=True)
        if args.own_size:
            big, big_depth = inputs(folder, tuple(map(int, args.own_size.split("x"))), None)
            job = median_of([render(big, big_depth, folder, env, ["--layers", str(args.layers)])
                             for _ in range(args.repeat)])
            print(f"{'own size':>10}{args.own_size:>13}{f'{job[0]:.1f} ({job[1]:.1f}-{job[2]:.1f})':>20}{job[3]:>9.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
