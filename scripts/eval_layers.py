"""Render every photo of a folder with `rilievo render --layers auto`, score the panes against subject
masks where there are any, and lay the pane overlays out on contact sheets.

Usage: python scripts/eval_layers.py PHOTOS_DIR [--masks DIR] [--depth-dir DIR] [--models DIR] [--out DIR] [--json]

Each photo (png, jpg, jpeg, tif, tiff, webp; not `*_mask`, `*_check` or `*_depth` files) is brought to
at most --max-side px on its long side and rendered by the real CLI in a subprocess, with classical
engines: its own temporary RILIEVO_STORAGE and an empty RILIEVO_MODELS (with --models DIR, that folder, so the
learned engines installed there run and the manifest names them). With --depth-dir, the depth map
`<name>_depth.png` or `<name>.png` found there (never the photo itself) goes in as `--depth` (white = near unless --near black).

The mask of a photo is `<name>_mask.png` beside it or in --masks, photo-sized: 255 subject, 0 background,
128 don't care; it is resized with the photo (nearest neighbour). Each pixel belongs to the front-most
pane that is opaque there (alpha >= 128). The scores are those of shared/eval/subjects/score.py:
- integrity: share of the subject on its majority pane (1.0 = the whole subject on one pane);
- separation: share of the background NOT on that pane; "in front" says whether the subject's pane is
  in front of the background's majority pane.

Writes `sheet_N.png` into --out (default ./eval_layers): per photo, the photo and the job's
layer_overlay.png side by side, with its name and scores. --keep-jobs keeps the rendered jobs there too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from rilievo.domain.previews import LAYER_TINTS

PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}
NOT_PHOTOS = ("_mask", "_check", "_depth")
TILE_HEIGHT = 300
CAPTION_HEIGHT = 44
LEGEND_HEIGHT = 36


@dataclass
class Result:
    name: str
    panes: int
    seconds: float
    integrity: float | None = None
    subject_pane: int | None = None
    separation: float | None = None
    background_pane: int | None = None
    subject_in_front: bool | None = None


def pane_owner(job_dir: Path) -> tuple[np.ndarray, int]:
    """Per pixel, the index (0 = front) of the front-most pane opaque there, `panes` where none is."""
    manifest = json.loads((job_dir / "layer_manifest.json").read_text())
    layers = sorted(manifest["layers"], key=lambda layer: layer["order"])
    owner = None
    for index in reversed(range(len(layers))):
        with Image.open(job_dir / layers[index]["file"]) as image:
            alpha = np.asarray(image.convert("RGBA"))[..., 3]
        if owner is None:
            owner = np.full(alpha.shape, len(layers), np.int16)
        owner[alpha >= 128] = index
    return owner, len(layers)


def score(owner: np.ndarray, panes: int, mask: np.ndarray) -> dict:
    """Integrity and separation of the subject (mask 255) against the background (mask 0)."""
    if owner.shape != mask.shape:
        raise ValueError(f"the panes are {owner.shape[::-1]}, the mask {mask.shape[::-1]}")
    subject, background = owner[mask == 255], owner[mask == 0]
    if subject.size == 0 or background.size == 0:
        raise ValueError("the mask needs both subject (255) and background (0) pixels")
    pane = int(np.bincount(subject, minlength=panes + 1).argmax())
    background_pane = int(np.bincount(background, minlength=panes + 1).argmax())
    return {
        "integrity": round(float((subject == pane).mean()), 3),
        "subject_pane": pane + 1,
        "separation": round(float((background != pane).mean()), 3),
        "background_pane": background_pane + 1,
        "subject_in_front": pane < background_pane,
    }


def find_photos(folder: Path) -> list[Path]:
    return sorted(
        path for path in folder.iterdir()
        if path.suffix.lower() in PHOTO_SUFFIXES and not path.stem.endswith(NOT_PHOTOS)
    )


def beside(photo: Path, folder: Path | None, suffixes: tuple[str, ...]) -> Path | None:
    """The first of `<stem><suffix>.png` in `folder` (default: the photo's own), never the photo."""
    for suffix in suffixes:
        candidate = (folder or photo.parent) / f"{photo.stem}{suffix}.png"
        if candidate.exists() and candidate.resolve() != photo.resolve():
            return candidate
    return None


def fit(image: Image.Image, max_side: int, resample: Image.Resampling) -> Image.Image:
    scale = max_side / max(image.size)
    if scale >= 1:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), resample)


def render(photo: Path, depth: Path | None, near: str, work: Path, models: Path | None) -> tuple[Path, float]:
    """Run the CLI on one photo; the job folder and its time."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RILIEVO_")}
    if models is None:
        models = work / "no-models"
        models.mkdir(parents=True, exist_ok=True)
    env |= {"RILIEVO_STORAGE": str(work / "storage"), "RILIEVO_MODELS": str(models)}
    command = [sys.executable, "-m", "rilievo.entrypoints.cli", "render", str(photo), "--layers", "auto",
               "--out", str(work / "jobs"), "--json"]
    if depth is not None:
        command += ["--depth", str(depth), "--near", near]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"rilievo render {photo.name} failed: {done.stderr.strip().splitlines()[-1:]}")
    answer = json.loads(done.stdout)
    return Path(answer["output_dir"]), float(answer["seconds"])


def evaluate(photo: Path, args: argparse.Namespace, work: Path) -> tuple[Result, Image.Image, Image.Image]:
    """Render one photo, score it if it has a mask; the result, the photo and its overlay."""
    folder = work / photo.stem
    folder.mkdir(parents=True)
    with Image.open(photo) as opened:
        image = fit(ImageOps.exif_transpose(opened).convert("RGB"), args.max_side, Image.Resampling.LANCZOS)
    small = folder / f"{photo.stem}.png"
    image.save(small)
    depth = beside(photo, args.depth_dir, ("_depth", "")) if args.depth_dir else None
    if depth is not None:
        with Image.open(depth) as opened:
            opened.convert("L").resize(image.size, Image.Resampling.BILINEAR).save(folder / "depth.png")
        depth = folder / "depth.png"
    job_dir, seconds = render(small, depth, args.near, folder, args.models)
    owner, panes = pane_owner(job_dir)
    result = Result(photo.stem, panes, seconds)
    mask_path = beside(photo, args.masks, ("_mask",))
    if mask_path is not None:
        with Image.open(mask_path) as opened:
            mask = np.asarray(opened.convert("L").resize(image.size, Image.Resampling.NEAREST))
        for key, value in score(owner, panes, mask).items():
            setattr(result, key, value)
    with Image.open(job_dir / "layer_overlay.png") as opened:
        overlay = opened.convert("RGB")
    if args.keep_jobs:
        job_dir.rename(args.out / "jobs" / photo.stem)
    return result, image, overlay


def caption(result: Result) -> str:
    line = f"{result.name}: {result.panes} panes"
    if result.integrity is not None:
        line += (f" | integrity {result.integrity:.2f} on pane {result.subject_pane}"
                 f" | separation {result.separation:.2f}, background on {result.background_pane}"
                 f"{'' if result.subject_in_front else ' (subject NOT in front)'}")
    return line


def tile(result: Result, photo: Image.Image, overlay: Image.Image, width: int) -> Image.Image:
    """The photo and its overlay side by side over a caption, `width` px wide."""
    half = (width - 8) // 2
    out = Image.new("RGB", (width, TILE_HEIGHT + CAPTION_HEIGHT), "white")
    for x, picture in ((0, photo), (half + 8, overlay)):
        picture = picture.copy()
        picture.thumbnail((half, TILE_HEIGHT), Image.Resampling.LANCZOS)
        out.paste(picture, (x + (half - picture.width) // 2, (TILE_HEIGHT - picture.height) // 2))
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=17)
    draw.text((6, TILE_HEIGHT + 4), caption(result), fill="black", font=font)
    return out


def legend(draw: ImageDraw.ImageDraw) -> None:
    """The overlay's colour of each pane, front (1) to back."""
    font = ImageFont.load_default(size=17)
    draw.text((12, 10), "overlay, pane 1 = front:", fill="black", font=font)
    for index, tint in enumerate(LAYER_TINTS):
        x = 230 + 70 * index
        draw.rectangle((x, 8, x + 26, 30), fill=tuple(round(255 * c) for c in tint))
        draw.text((x + 32, 10), str(index + 1), fill="black", font=font)


def write_sheets(tiles: list[Image.Image], out: Path, per_sheet: int, columns: int = 2) -> list[Path]:
    paths = []
    for start in range(0, len(tiles), per_sheet):
        chunk = tiles[start : start + per_sheet]
        width, height = chunk[0].size
        rows = (len(chunk) + columns - 1) // columns
        sheet = Image.new("RGB", (columns * width + (columns + 1) * 12,
                                  LEGEND_HEIGHT + rows * height + (rows + 1) * 12), (200, 200, 200))
        legend(ImageDraw.Draw(sheet))
        for index, picture in enumerate(chunk):
            row, column = divmod(index, columns)
            sheet.paste(picture, (12 + column * (width + 12), LEGEND_HEIGHT + 12 + row * (height + 12)))
        path = out / f"sheet_{start // per_sheet + 1}.png"
        sheet.save(path)
        paths.append(path)
    return paths


def mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 3) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos_dir", type=Path)
    parser.add_argument("--masks", type=Path, help="folder of <name>_mask.png (default: beside the photos)")
    parser.add_argument("--depth-dir", type=Path, help="folder of depth maps <name>.png or <name>_depth.png")
    parser.add_argument("--models", type=Path, help="a models folder: learned engines installed there run")
    parser.add_argument("--near", choices=("white", "black"), default="white", help="for --depth-dir")
    parser.add_argument("--max-side", type=int, default=800, help="long side of the rendered photos, px")
    parser.add_argument("--out", type=Path, default=Path("eval_layers"), help="where the sheets go")
    parser.add_argument("--per-sheet", type=int, default=6)
    parser.add_argument("--keep-jobs", action="store_true", help="keep the rendered jobs in OUT/jobs/")
    parser.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    args = parser.parse_args(argv)

    for label, folder in (("photos", args.photos_dir), ("masks", args.masks), ("depth", args.depth_dir)):
        if folder is not None and not folder.is_dir():
            print(f"no such {label} folder: {folder}", file=sys.stderr)
            return 1
    photos = find_photos(args.photos_dir)
    if not photos:
        print(f"no photos in {args.photos_dir}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    if args.keep_jobs:
        (args.out / "jobs").mkdir(exist_ok=True)

    results, tiles = [], []
    if not args.json:
        print(f"{'photo':<18} {'panes':>5} {'integrity':>9} {'pane':>4} {'separation':>10} {'bg pane':>7} "
              f"{'in front':>8} {'time (s)':>8}")
    with tempfile.TemporaryDirectory(prefix="rilievo-eval-") as temporary:
        for photo in photos:
            try:
                result, image, overlay = evaluate(photo, args, Path(temporary))
            except (RuntimeError, ValueError, OSError) as error:
                print(f"{photo.name}: {error}", file=sys.stderr)
                return 1
            results.append(result)
            tiles.append(tile(result, image, overlay, 2 * 560 + 8))
            if not args.json:
                scored = result.integrity is not None
                print(f"{result.name:<18} {result.panes:>5} "
                      + (f"{result.integrity:>9.3f} {result.subject_pane:>4} {result.separation:>10.3f} "
                         f"{result.background_pane:>7} {'yes' if result.subject_in_front else 'NO':>8}"
                         if scored else f"{'-':>9} {'':>4} {'-':>10} {'':>7} {'':>8}")
                      + f" {result.seconds:>8.1f}", flush=True)
    sheets = write_sheets(tiles, args.out, args.per_sheet)
    scored = [r for r in results if r.integrity is not None]
    summary = {"integrity": mean([r.integrity for r in scored]),
               "separation": mean([r.separation for r in scored]),
               "subject_in_front": sum(bool(r.subject_in_front) for r in scored), "scored": len(scored)}
    if args.json:
        print(json.dumps({"photos": [asdict(r) for r in results], "mean": summary,
                          "sheets": [str(path) for path in sheets]}))
    else:
        if scored:
            print(f"{'mean':<18} {'':>5} {summary['integrity']:>9.3f} {'':>4} {summary['separation']:>10.3f} "
                  f"{'':>7} {summary['subject_in_front']:>4}/{len(scored):<3}")
        print("sheets: " + ", ".join(str(path) for path in sheets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
