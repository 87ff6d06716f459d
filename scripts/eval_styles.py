"""A contact sheet of the four painterly styles, and the measures that tell them apart.

    .venv/bin/python scripts/eval_styles.py OUT_DIR [--only NAME ...] [--painterliness P] [--seed S]

Each photo (the eval photos by name, or skimage.data's astronaut, coffee, chelsea ...) is painted by
the classical painter in each style and finished by the style's painterly post-processing, as a render
does (classical depth). OUT_DIR/NAME.png shows photo | oil | watercolour | palette knife | pastel, and
below them a 1:1 crop of the middle of each, enlarged twice, where the strokes can be seen. The
figures (stdout and OUT_DIR/figures.csv), each on the painting's luminance or colour:

- sharpness: how hard the colour edges between strokes are: the 99th percentile of the chromaticity's
  gradient at sigma 0.7 over that at sigma 3 (about 4.3 for a step edge, 1 for a wash with no edges);
- flat: the share of pixels whose 5 x 5 neighbourhood varies by less than 1.5/255 in luminance
  (a knife's slab is flat inside; a brush's bristles and a pastel's grain are not);
- grain: luminance energy finer than sigma 1 over the photo's (the tooth of the paper through chalk);
- paper: the share of pixels showing the style's paper colour (within 0.06 in RGB), minus the photo's;
- oriented: oriented-gradient energy at the brush scale, over the photo's (stroke_energy below).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from rilievo.domain.images import REC709_LUMA

STYLES = ("oil-impressionist", "watercolor-loose", "palette-knife-thick", "pastel-soft")
SHEET_HEIGHT = 360
CROP = 200  # px of the painting, at its own resolution
PAPER_TOLERANCE = 0.06
FIELDS = ("photo", "style", "sharpness", "flat", "grain", "paper", "oriented")


def luminance(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image @ REC709_LUMA, dtype=np.float32)


def edge_sharpness(image: np.ndarray) -> float:
    """99th percentile of the chromaticity's gradient at sigma 0.7 over that at sigma 3: a step edge's
    gradient peak falls with the blur (sigma 3 / 0.7 = 4.3 times), a soft one's hardly."""
    chroma = image[..., :2] / np.maximum(image.sum(axis=2, keepdims=True), 0.05)

    def peak(sigma: float) -> float:
        blurred = cv2.GaussianBlur(np.ascontiguousarray(chroma, np.float32), (0, 0), sigma)
        gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
        return float(np.quantile(np.sqrt(gx**2 + gy**2).sum(axis=2), 0.99))

    return peak(0.7) / max(peak(3.0), 1e-9)


def flat_share(image: np.ndarray) -> float:
    """Share of pixels whose 5 x 5 luminance neighbourhood has a standard deviation under 1.5/255."""
    luma = luminance(image)
    mean = cv2.blur(luma, (5, 5))
    spread = np.sqrt(np.maximum(cv2.blur(luma * luma, (5, 5)) - mean * mean, 0.0))
    return float((spread < 1.5 / 255).mean())


def fine_energy(image: np.ndarray) -> float:
    luma = luminance(image)
    return float(((luma - cv2.GaussianBlur(luma, (0, 0), 1.0)) ** 2).mean())


def paper_share(image: np.ndarray, paper: tuple[float, float, float]) -> float:
    return float((np.abs(image - np.asarray(paper, np.float32)).max(axis=2) < PAPER_TOLERANCE).mean())


def stroke_energy(image: np.ndarray, brush_px: float) -> float:
    """Oriented-gradient energy at the brush scale: the luminance band-passed between sigma 1 and the
    brush's radius, its structure tensor summed over a brush's width, and the energy that has a
    direction (the tensor's eigenvalue difference, zero for isotropic noise), per pixel."""
    luma = luminance(image)
    band = cv2.GaussianBlur(luma, (0, 0), 1.0) - cv2.GaussianBlur(luma, (0, 0), max(1.5, brush_px))
    gx = cv2.Sobel(band, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(band, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jxy, jyy = (cv2.GaussianBlur(g, (0, 0), max(1.0, brush_px)) for g in (gx * gx, gx * gy, gy * gy))
    return float(np.sqrt((jxx - jyy) ** 2 + 4.0 * jxy**2).mean())


def style_figures(photo: np.ndarray, painting: np.ndarray, paper: tuple[float, float, float] | None,
                  brush_px: float) -> dict:
    return {
        "sharpness": edge_sharpness(painting),
        "flat": flat_share(painting),
        "grain": fine_energy(painting) / max(fine_energy(photo), 1e-9),
        "paper": None if paper is None else paper_share(painting, paper) - paper_share(photo, paper),
        "oriented": stroke_energy(painting, brush_px) / max(stroke_energy(photo, brush_px), 1e-9),
    }


def brush_px(style: str, long_side: int) -> float:
    """The style's middle brush radius at this image's size."""
    from rilievo.domain.styles import STYLE_PRESETS

    strokes = STYLE_PRESETS[style].strokes
    return float(np.sqrt(strokes.largest_brush * strokes.smallest_brush)) * long_side / 1000


def painted(photo: np.ndarray, depth: np.ndarray, style: str, painterliness: float, seed: int) -> np.ndarray:
    from rilievo.adapters.paint_classical import ClassicalPainter
    from rilievo.adapters.post_painterly import PainterlyPostProcessor
    from rilievo.domain.noise import NoisePlan
    from rilievo.domain.styles import STYLE_PRESETS, PaintRequest

    preset = STYLE_PRESETS[style]
    request = PaintRequest(style=preset, painterliness=painterliness, depth_influence=0.6, brush_scale=3, prompt="")
    painting = ClassicalPainter().paint(photo, depth, request, NoisePlan.single(seed)).image
    return PainterlyPostProcessor().finish(painting, depth, preset.post, seed)


def contact_sheet(photo: np.ndarray, paintings: list[np.ndarray]) -> np.ndarray:
    images = [photo, *paintings]
    scale = SHEET_HEIGHT / photo.shape[0]
    row = np.hstack([cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for image in images])
    height, width = photo.shape[:2]
    top, left = max(0, height // 2 - CROP // 2), max(0, width // 2 - CROP // 2)
    crops = [cv2.resize(image[top : top + CROP, left : left + CROP], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
             for image in images]
    crops_row = np.hstack(crops)
    width = max(row.shape[1], crops_row.shape[1])
    pad = lambda image: np.pad(image, ((0, 4), (0, width - image.shape[1]), (0, 0)), constant_values=1.0)  # noqa: E731
    return np.vstack([pad(row), pad(crops_row)])


def load(name: str) -> np.ndarray:
    path = Path("/work/shared/eval/photos") / f"{name}.jpg"
    if path.exists():
        return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    import skimage.data

    return getattr(skimage.data, name)().astype(np.float32) / 255


def main() -> None:
    from rilievo.adapters.depth_classical import ClassicalDepth
    from rilievo.domain.styles import STYLE_PRESETS

    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", nargs="+", default=["astronaut", "photo01"])
    parser.add_argument("--painterliness", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'photo':<11}{'style':<21}" + "".join(f"{field:>10}" for field in FIELDS[2:]))
    for name in args.only:
        photo = load(name)
        depth = ClassicalDepth().estimate(photo)
        paintings = []
        for style in STYLES:
            painting = painted(photo, depth, style, args.painterliness, args.seed)
            paintings.append(painting)
            paper = STYLE_PRESETS[style].strokes.paper
            row = {"photo": name, "style": style,
                   **style_figures(photo, painting, paper, brush_px(style, max(photo.shape[:2])))}
            rows.append(row)
            print(f"{name:<11}{style:<21}" + "".join(
                f"{'' if row[field] is None else format(row[field], '.3f'):>10}" for field in FIELDS[2:]), flush=True)
        sheet = contact_sheet(photo, paintings)
        cv2.imwrite(str(args.out / f"{name}.png"), cv2.cvtColor(np.round(sheet * 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    with open(args.out / "figures.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, FIELDS)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
