"""Painterly post-processing on OpenCV and numpy: the finishing touches after a painter has repainted
the photo. Four steps, in this order, each skipped when its strength is 0:

1. stroke texture: line integral convolution of seeded noise along the image's edge direction (from
   the structure tensor), a subtle luminance modulation that makes flat areas look brushed;
2. harmonise: the a/b channels of LAB pulled towards a small palette found by k-means, L kept;
3. soften edges: an edge-aware (self-guided) blur that grows with depth, the near subject untouched;
4. texture: a woven canvas or a fibrous paper relief, embossed as if lit from the top left.

At print size (finish_print_rows, band by band as the print files are written) the enlarged painting's
stroke edges are put back where the painter's strokes, drawn again at print size, run (where the painter
kept its strokes), its paint's texture made there put in for the enlarged one, the edges made crisp
again (a halo-free unsharp mask at the scale of the enlargement), and the ground gets a grain at print
resolution, so a 24x36 print shows strokes, not enlarged blur. Past a
1.5x enlargement the canvas or paper relief is made there too, its threads _PRINT_THREAD_MM apart on
paper, and the painting's own (which would be enlarged with it) is left out.

Sizes are relative to the image's long side, so a 12 MP print and its 1 MP preview look alike.
Everything random comes from numpy Generators seeded through derive_seed; the OpenCV calls are
deterministic, so the same inputs and seed give the same pixels.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from rilievo.adapters.guided import guided_coefficients, guided_upsample
from rilievo.adapters.hashed_noise import INDEX_OFFSET, hashed_uniform, lattice_noise
from rilievo.application.ports import PrintTexture
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.images import REC709_LUMA
from rilievo.domain.print_layout import MM_PER_INCH
from rilievo.domain.seeds import derive_seed
from rilievo.domain.styles import PostSettings

_TEXTURES = ("canvas", "paper")
_BAND_PIXELS = 1 << 20  # rows are processed in bands of about a megapixel where temporaries add up

# Stroke texture.
_STROKE_AMPLITUDE = 0.045  # std of the relative luminance change at full strength
_STROKE_WORK_SIDE = 2048  # the streaks are a few pixels wide, so larger images are brushed at this size
_STROKE_STEPS = 8  # LIC samples each way along the stroke
_STROKE_STEP = 1.5  # px at a 1000 px long side, so a stroke is about 2 * 8 * 1.5 = 24 px long there
_TENSOR_SIGMA = 10.0  # px at a 1000 px long side: how far an edge's direction carries into flat areas

# Harmonisation.
_PALETTE_SIZE = 7
_PALETTE_SAMPLES = 20_000
_KMEANS_ITERATIONS = 25

# Edge softening: two edge-aware blurs, the wider one reached only far away at full strength.
_SOFT_RADIUS = 0.004  # of the long side
_SOFT_EPS = (0.004, 0.012)  # variance below which detail is smoothed; edges above it survive
_SOFT_NEAR, _SOFT_FAR = 0.1, 0.9  # depth ramp: nothing nearer than NEAR, the full blur beyond FAR

# Canvas and paper texture.
_TEXTURE_AMPLITUDE = 0.05  # std of the relative luminance change at full strength
_THREAD_PERIOD = 0.003  # of the long side, at the painting's own size
_PRINT_THREAD_MM = 0.5  # on a print: a fine linen's threads; the paper's grain alike
_MIN_THREAD_PERIOD = 3.0  # px
_PRINT_RELIEF_FROM = 1.5  # enlargement past which the relief is made at print resolution, not enlarged
_RELIEF_HEIGHT_SHADE = 0.4  # how much of the height itself shows (hollows hold shadow), the slope's 1
_FIBRE_WEIGHT = 0.6  # the paper's fibres' std, the tooth's 1
_FIBRE_TURN = 0.87  # a strand's heading turns by up to half this each step (std 0.25 rad)

# At print size.
_PAINTED_LONG_SIDE = 1536  # the classical painter's working size: its strokes are this sharp at most
_CRISP_SMOOTH = 0.8  # the smoothing before, in edge radii
_CRISP_SIGMA = 1.0  # the unsharp mask's blur, in edge radii
_CRISP_RANGE = 2  # the neighbourhood whose range holds the sharpened value, in edge radii
_CRISP_GAIN = 10.0  # how much steeper an edge gets before the neighbourhood range holds it
_PRINT_GRAIN = 0.03  # std of the relative luminance change of the print grain at texture strength 1
_PRINT_GRAIN_SIGMA = 0.8  # print px


class PainterlyPostProcessor:
    name = "painterly-post"

    def finish(self, image: np.ndarray, depth: np.ndarray, post: PostSettings, seed: int,
               print_enlargement: float = 1.0) -> np.ndarray:
        image, depth = _checked(image, depth, post, seed)
        # each step works in place on this copy: at 12 MP the image is 137 MiB, and a step that made
        # its own would hold three beside the caller's
        out = image.copy()
        if post.stroke_texture > 0:
            stroke_texture(out, post.stroke_texture, derive_seed(seed, "post", "strokes"))
        if post.harmonise > 0:
            harmonise(out, post.harmonise, derive_seed(seed, "post", "palette"))
        if post.soften_edges > 0:
            soften_edges(out, depth, post.soften_edges)
        # enlarged to a print, the relief's threads would be enlarged too: finish_print_rows makes it there
        if post.texture_strength > 0 and print_enlargement <= _PRINT_RELIEF_FROM:
            apply_texture(out, post.texture, post.texture_strength, derive_seed(seed, "post", "texture"))
        return out

    def print_context_rows(self, source_size: tuple[int, int], out_size: tuple[int, int]) -> int:
        return _print_context(_edge_radius(source_size, out_size))

    def sharpens_print(self, source_size: tuple[int, int], out_size: tuple[int, int], post: PostSettings) -> bool:
        return _edge_radius(source_size, out_size) >= 1 and post.print_crisp > 0

    def finish_print_rows(self, rows: np.ndarray, top: int, keep: slice, source_size: tuple[int, int],
                          out_size: tuple[int, int], post: PostSettings, seed: int, dpi: int,
                          strokes: np.ndarray | None = None, texture: PrintTexture | None = None) -> np.ndarray:
        rows = np.asarray(rows, np.float32)
        if rows.ndim != 3 or rows.shape[2] != 3:
            raise InvalidParameter(f"print rows must be an HxWx3 array, not one of shape {rows.shape}")
        if seed < 0:
            raise InvalidParameter(f"seed must be a non-negative integer, not {seed}")
        if dpi <= 0:
            raise InvalidParameter(f"dpi must be a positive number, not {dpi}")
        for field in ("print_crisp", "texture_strength"):
            if not 0.0 <= getattr(post, field) <= 1.0:
                raise InvalidParameter(f"{field} must be between 0 and 1, not {getattr(post, field)}")
        if post.texture not in _TEXTURES:
            raise InvalidParameter(f"texture must be one of {', '.join(_TEXTURES)}, not {post.texture!r}")
        radius = _edge_radius(source_size, out_size)
        if self.sharpens_print(source_size, out_size, post):
            # made in the arrays of strokes and texture, which are the caller's to give (22 MB each a band)
            if texture is not None:
                # the paint's own texture, enlarged, is not to be sharpened
                rows = np.subtract(rows, texture.enlarged, out=texture.enlarged)
            if strokes is not None:
                rows = redrawn_edges(rows, strokes, radius)
            # the painting's edges where no strokes were redrawn are still the enlarged ones
            out = crisp_edges(rows, radius)  # blended towards in place: these arrays are 22 MB a band at 300 DPI
            out -= rows
            out *= np.float32(post.print_crisp)
            out += rows
            if texture is not None:
                out += texture.redrawn
                np.clip(out, 0.0, 1.0, out=out)
        else:
            out = rows.copy()
        out = out[keep]
        if post.texture_strength > 0:
            grain = _print_grain(rows.shape[:2], top, derive_seed(seed, "post", "print-grain"))[keep]
            grain *= np.float32(_PRINT_GRAIN * post.texture_strength)
            if _enlargement(source_size, out_size) > _PRINT_RELIEF_FROM:
                period = max(_MIN_THREAD_PERIOD, _PRINT_THREAD_MM * dpi / MM_PER_INCH)
                first = top + (keep.start or 0)
                shading = texture_shading(post.texture, first, out.shape[0], out.shape[1], period,
                                          derive_seed(seed, "post", "texture"))
                shading *= np.float32(_TEXTURE_AMPLITUDE * post.texture_strength)
                grain += shading
                del shading
            _modulate(out, grain)
        return np.ascontiguousarray(out)


def _checked(image, depth, post: PostSettings, seed: int) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image, dtype=np.float32)
    depth = np.asarray(depth, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidParameter(f"image must be a non-empty HxWx3 array, not one of shape {image.shape}")
    if depth.ndim != 2 or depth.size == 0:
        raise InvalidParameter(f"depth must be a non-empty HxW array, not one of shape {depth.shape}")
    for field in ("stroke_texture", "harmonise", "soften_edges", "texture_strength"):
        value = getattr(post, field)
        if not 0.0 <= value <= 1.0:
            raise InvalidParameter(f"{field} must be between 0 and 1, not {value}")
    if post.texture not in _TEXTURES:
        raise InvalidParameter(f"texture must be one of {', '.join(_TEXTURES)}, not {post.texture!r}")
    if seed < 0:
        raise InvalidParameter(f"seed must be a non-negative integer, not {seed}")
    height, width = image.shape[:2]
    if depth.shape != (height, width):
        # A depth map from a smaller working size: its values only steer blur amounts, so bilinear is fine.
        depth = cv2.resize(depth, (width, height), interpolation=cv2.INTER_LINEAR)
    # not clipped to 0..1 here: the softening's ramp, which reads it, clips within that range (a copy
    # of a 12 MP depth held through the finish is 46 MiB)
    return image, depth


# --- 1. directional brush strokes -------------------------------------------------------------------


def stroke_texture(image: np.ndarray, strength: float, seed: int) -> None:
    """Modulates luminance by streaks of seeded noise smeared along the edges' direction, in place."""
    height, width = image.shape[:2]
    rng = np.random.default_rng(seed)
    scale = min(1.0, _STROKE_WORK_SIDE / max(height, width))
    work_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    luma = image @ REC709_LUMA
    if scale < 1.0:
        luma = cv2.resize(luma, work_size, interpolation=cv2.INTER_AREA)
    px_per_unit = max(work_size) / 1000.0  # work pixels per pixel at a 1000 px long side
    tangent = _stroke_directions(luma, px_per_unit, rng)
    noise = _bristle_noise(luma.shape, px_per_unit, rng)
    streaks = _line_integral(noise, tangent, step=max(1.0, _STROKE_STEP * px_per_unit))
    # Only the streaks' own scale, not slow drifts of the smeared noise, should show as brushwork.
    streaks -= cv2.GaussianBlur(streaks, (0, 0), max(2.0, 8.0 * px_per_unit), borderType=cv2.BORDER_REFLECT)
    streaks *= _STROKE_AMPLITUDE * strength / max(float(streaks.std()), 1e-6)
    if scale < 1.0:
        streaks = cv2.resize(streaks, (width, height), interpolation=cv2.INTER_LINEAR)
    _modulate(image, streaks)


def _stroke_directions(luma: np.ndarray, px_per_unit: float, rng: np.random.Generator) -> np.ndarray:
    """HxWx2 unit vectors along the edges (perpendicular to the structure tensor's main axis).

    Where there is no structure at all a smooth seeded direction field takes over, so a flat sky is
    brushed in gently turning strokes rather than in one ruler-straight direction.
    """
    height, width = luma.shape
    smooth = cv2.GaussianBlur(luma, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    sigma = max(1.5, _TENSOR_SIGMA * px_per_unit)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    del gx, gy, smooth
    # A weak random tensor, small next to any real edge, decides the direction only where none is.
    angle = _smooth_noise((height, width), cell=max(4.0, 150.0 * px_per_unit), rng=rng) * np.float32(np.pi)
    weak = np.float32(0.05 * float((jxx + jyy).mean()) + 1e-8)
    cos, sin = np.cos(angle), np.sin(angle)
    jxx += weak * cos * cos
    jxy += weak * cos * sin
    jyy += weak * sin * sin
    gradient_angle = 0.5 * np.arctan2(2.0 * jxy, jxx - jyy)
    return np.dstack([-np.sin(gradient_angle), np.cos(gradient_angle)]).astype(np.float32)


def _bristle_noise(shape: tuple[int, int], px_per_unit: float, rng: np.random.Generator) -> np.ndarray:
    """Fine grain (the bristles' streaks) over coarser blotches (one stroke loaded more than the next)."""
    fine = rng.standard_normal(shape, dtype=np.float32)
    if px_per_unit > 1.0:
        fine = cv2.GaussianBlur(fine, (0, 0), 0.5 * px_per_unit, borderType=cv2.BORDER_REFLECT)
        fine /= max(float(fine.std()), 1e-6)
    coarse = _smooth_noise(shape, cell=max(2.0, 4.0 * px_per_unit), rng=rng)
    coarse /= max(float(coarse.std()), 1e-6)
    fine += 0.8 * coarse
    return fine


def _line_integral(noise: np.ndarray, tangent: np.ndarray, step: float) -> np.ndarray:
    """Line integral convolution: each pixel averages the noise along the stream line through it,
    followed both ways for _STROKE_STEPS steps with a Hann taper (Cabral & Leedom, 1993)."""
    height, width = noise.shape
    field = np.dstack([tangent, noise])  # one remap per step fetches the direction and the noise together
    weights = np.hanning(2 * _STROKE_STEPS + 3)[_STROKE_STEPS + 1:-1].astype(np.float32)  # 1 at the centre
    total = noise * weights[0]
    weight_sum = float(weights[0])
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    for sign in (1.0, -1.0):
        x, y = grid_x.copy(), grid_y.copy()
        dx, dy = sign * tangent[..., 0], sign * tangent[..., 1]
        for k in range(1, _STROKE_STEPS + 1):
            x += step * dx
            y += step * dy
            sample = cv2.remap(field, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            # The tensor gives an axis, not a heading: keep going the way we came.
            flip = np.where(sample[..., 0] * dx + sample[..., 1] * dy < 0, np.float32(-1), np.float32(1))
            dx, dy = sample[..., 0] * flip, sample[..., 1] * flip
            total += weights[k] * sample[..., 2]
            weight_sum += float(weights[k])
    total /= weight_sum
    return total


# --- 2. colour harmonisation ------------------------------------------------------------------------


def harmonise(image: np.ndarray, strength: float, seed: int) -> None:
    """Pulls each pixel's a/b towards the palette colours near it, in place; L (lightness) is kept."""
    height, width = image.shape[:2]
    rng = np.random.default_rng(seed)
    pixels = image.reshape(-1, 3)
    count = min(_PALETTE_SAMPLES, pixels.shape[0])
    picks = rng.choice(pixels.shape[0], size=count, replace=False)
    sample_ab = cv2.cvtColor(pixels[picks][None], cv2.COLOR_RGB2Lab)[0, :, 1:]
    palette = _kmeans(sample_ab, _PALETTE_SIZE, rng)
    temperature = _palette_temperature(palette)
    rows = max(1, _BAND_PIXELS // width)
    for top in range(0, height, rows):
        lab = cv2.cvtColor(image[top : top + rows], cv2.COLOR_RGB2Lab)
        a, b = np.ascontiguousarray(lab[..., 1]), np.ascontiguousarray(lab[..., 2])  # strided views are slow
        target_a, target_b = _soft_palette_colour(a, b, palette, temperature)
        lab[..., 1] = a + strength * (target_a - a)
        lab[..., 2] = b + strength * (target_b - b)
        band = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        image[top : top + rows] = np.clip(band, 0.0, 1.0, out=band)


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding; fewer centres when the points allow no more."""
    points = points.astype(np.float64)
    centres = [points[rng.integers(points.shape[0])]]
    nearest = ((points - centres[0]) ** 2).sum(axis=1)
    while len(centres) < k and nearest.sum() > 1e-9:
        chosen = points[rng.choice(points.shape[0], p=nearest / nearest.sum())]
        centres.append(chosen)
        nearest = np.minimum(nearest, ((points - chosen) ** 2).sum(axis=1))
    centres = np.array(centres)
    for _ in range(_KMEANS_ITERATIONS):
        labels = ((points[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        moved = np.array([
            points[labels == i].mean(axis=0) if np.any(labels == i) else centres[i] for i in range(len(centres))
        ])
        if np.allclose(moved, centres, atol=1e-3):
            break
        centres = moved
    return centres.astype(np.float32)


def _palette_temperature(palette: np.ndarray) -> float:
    """Softness of the pull (in a/b units): a quarter of the typical gap between palette colours, so a
    smooth gradient crossing from one colour's pull to the next does not band."""
    if len(palette) < 2:
        return 1.0
    gaps = np.sqrt(((palette[:, None] - palette[None]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    return max(1.0, 0.25 * float(np.median(gaps.min(axis=1))))


def _soft_palette_colour(
    a: np.ndarray, b: np.ndarray, palette: np.ndarray, temperature: float
) -> tuple[np.ndarray, np.ndarray]:
    """The softmax-weighted mix of palette colours for each a/b: about the nearest one, blended near ties."""
    distances = np.empty((len(palette), *a.shape), np.float32)
    for k, (centre_a, centre_b) in enumerate(palette):
        np.subtract(a, centre_a, out=distances[k])
        distances[k] *= distances[k]
        offset = b - centre_b
        offset *= offset
        distances[k] += offset
    distances -= distances.min(axis=0)  # the nearest colour gets weight exp(0) = 1: no underflow
    distances *= np.float32(-0.5 / temperature**2)
    weights = np.exp(distances, out=distances)
    total = weights.sum(axis=0)
    target_a = np.tensordot(palette[:, 0], weights, axes=1) / total
    target_b = np.tensordot(palette[:, 1], weights, axes=1) / total
    return target_a.astype(np.float32), target_b.astype(np.float32)


# --- 3. selective edge softening --------------------------------------------------------------------


def soften_edges(image: np.ndarray, depth: np.ndarray, strength: float) -> None:
    """Blends towards an edge-aware blur that widens with depth, in place: none up to _SOFT_NEAR, the
    light blur half way to _SOFT_FAR, the wide one beyond, each times strength."""
    height, width = image.shape[:2]
    radius = max(1, round(_SOFT_RADIUS * max(height, width)))
    rows = max(1, _BAND_PIXELS // width)
    for c in range(3):  # one channel at a time keeps a 12 MP image's temporaries small
        channel = np.ascontiguousarray(image[..., c])
        light = _self_guided(channel, radius, _SOFT_EPS[0])
        wide = _self_guided(channel, 3 * radius, _SOFT_EPS[1])
        # blended a band of rows at a time, the blurs' shares made there: each photo-size array is 46 MiB
        # at 12 MP, and the blurs already hold four
        for top in range(0, height, rows):
            band = slice(top, top + rows)
            amount = _softening(depth[band], strength)
            wide[band] -= light[band]
            wide[band] *= np.maximum(amount - 1.0, 0.0)
            light[band] -= channel[band]
            light[band] *= np.minimum(amount, 1.0)
            light[band] += channel[band]
            light[band] += wide[band]
        image[..., c] = np.clip(light, 0.0, 1.0, out=light)


def _softening(depth: np.ndarray, strength: float) -> np.ndarray:
    """How far towards the blurs: 0 up to _SOFT_NEAR, 1 (the light one) half way to _SOFT_FAR, 2 (the
    wide one) beyond, times strength (a smoothstep)."""
    ramp = np.clip((depth - _SOFT_NEAR) / (_SOFT_FAR - _SOFT_NEAR), 0.0, 1.0)
    return ramp * ramp * (3.0 - 2.0 * ramp) * (2.0 * strength)


def _self_guided(channel: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """The channel filtered with itself as the guide: texture below eps in variance is smoothed, strong
    edges kept. Wide radii are fitted on a reduced copy (He & Sun's fast guided filter)."""
    height, width = channel.shape
    factor = max(1, radius // 3)
    if factor == 1:
        a, b = guided_coefficients(channel, channel, radius, eps)
        return a * channel + b
    small = cv2.resize(channel, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
    return guided_upsample(small, small, channel, radius=max(1, radius // factor), eps=eps)


# --- 4. canvas and paper texture --------------------------------------------------------------------


def apply_texture(image: np.ndarray, kind: str, strength: float, seed: int) -> None:
    """Multiplies luminance by the shading of a canvas or paper relief lit from the top left, in place,
    its threads or grain _THREAD_PERIOD of the long side apart (the painting's own size)."""
    height, width = image.shape[:2]
    period = max(_MIN_THREAD_PERIOD, _THREAD_PERIOD * max(height, width))
    shading = texture_shading(kind, 0, height, width, period, seed)
    shading *= np.float32(_TEXTURE_AMPLITUDE * strength)
    _modulate(image, shading)


def texture_shading(kind: str, top: int, height: int, width: int, period: float, seed: int) -> np.ndarray:
    """Shading (zero mean, unit std) of a canvas or paper relief at rows [top, top + height) and
    columns [0, width), lit from the top left and above: the slope along the light's direction, plus a
    little of the height itself (hollows hold shadow). It depends on each pixel's row and column, the
    period and the seed alone, so that a band of a print is shaded as the same rows of the whole: its
    scales are measured once on a fixed patch of the same relief, not on the rows asked for."""
    slope_scale, height_scale, mean, std = _shading_scales(kind, period, seed)
    slope, relief = _slope_and_height(kind, top, height, width, period, seed)
    slope *= np.float32(slope_scale / std)
    slope += np.float32(height_scale / std) * relief
    slope -= np.float32(mean / std)
    return slope


@functools.lru_cache(maxsize=16)
def _shading_scales(kind: str, period: float, seed: int) -> tuple[float, float, float, float]:
    """The slope's and the height's scales that make each of unit std, then the mean and std of
    their sum, measured on the relief's first rows and columns."""
    side = _statistics_side(period)
    slope, relief = _slope_and_height(kind, 0, side, side, period, seed)
    slope_scale = 1.0 / max(float(slope.std()), 1e-6)
    height_scale = _RELIEF_HEIGHT_SHADE / max(float(relief.std()), 1e-6)
    shading = slope_scale * slope + height_scale * relief
    return slope_scale, height_scale, float(shading.mean()), max(float(shading.std()), 1e-6)


def _statistics_side(period: float) -> int:
    return max(256, int(24 * period))  # a few dozen threads, a few strands of fibre each way


def _slope_and_height(kind: str, top: int, height: int, width: int, period: float, seed: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    relief = (_canvas_relief if kind == "canvas" else _paper_relief)(top - 1, height + 2, width, period, seed)
    slope = cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    slope += cv2.Sobel(relief, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    return slope[1:-1], relief[1:-1]  # the rows whose slope had both neighbours


def _canvas_relief(top: int, height: int, width: int, period: float, seed: int) -> np.ndarray:
    """Plain weave: warp and weft threads one period apart, each passing over and under the other in
    turn, the threads wobbling and swelling a little as real ones do."""

    def scaled(cell: float, purpose: str, gain: float, offset: np.ndarray | float) -> np.ndarray:
        """offset + gain * noise, made in place: at print size each array is tens of MB."""
        values = lattice_noise(top, height, width, cell, derive_seed(seed, "canvas", purpose))
        values *= np.float32(gain)
        values += offset
        return values

    # the threads' phases (warp across, weft down), wobbling; cos is +-1 on a thread's centre, the sign
    # alternating from one thread to the next
    cu = scaled(8.0 * period, "warp", 0.12, np.arange(width, dtype=np.float32)[None, :] / np.float32(period))
    cv = scaled(8.0 * period, "weft", 0.12, np.arange(top, top + height, dtype=np.float32)[:, None] / np.float32(period))
    for phase in (cu, cv):
        phase *= np.float32(np.pi)
        np.cos(phase, out=phase)
    crossing = cu * cv  # > 0 where the warp lies on top (plain weave: thread + crossing index even)
    warp, weft = cu, cv
    warp *= warp
    weft *= weft
    crossing *= 0.5
    crossing += 0.5
    warp *= crossing  # the warp shows where it lies on top ...
    np.subtract(1.0, crossing, out=crossing)
    weft *= crossing  # ... the weft elsewhere
    del crossing
    warp *= scaled(3.0 * period, "warp thickness", 0.25, 1.0)  # threads swell and thin
    weft *= scaled(3.0 * period, "weft thickness", 0.25, 1.0)
    warp += weft
    del weft
    warp += scaled(max(1.0, 0.5 * period), "slubs", 0.15, 0.0)  # slubs and fuzz
    return warp


def _paper_relief(top: int, height: int, width: int, grain: float, seed: int) -> np.ndarray:
    """Multi-octave noise (the pulp's tooth) with fibres: short, gently curved raised strands."""
    tooth_scale, fibre_scale = _paper_scales(grain, seed)
    tooth, fibres = _paper_parts(top, height, width, grain, seed)
    tooth *= np.float32(tooth_scale)
    tooth += np.float32(fibre_scale) * fibres
    return tooth


@functools.lru_cache(maxsize=16)
def _paper_scales(grain: float, seed: int) -> tuple[float, float]:
    """The tooth at unit std, the fibres at _FIBRE_WEIGHT, measured on the paper's first rows and columns."""
    side = _statistics_side(grain)
    tooth, fibres = _paper_parts(0, side, side, grain, seed)
    return 1.0 / max(float(tooth.std()), 1e-6), _FIBRE_WEIGHT / max(float(fibres.std()), 1e-6)


def _paper_parts(top: int, height: int, width: int, grain: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    tooth = np.zeros((height, width), np.float32)
    cell = 0.5 * grain
    for octave in range(4):
        tooth += np.float32(0.5**octave) * lattice_noise(top, height, width, cell,
                                                          derive_seed(seed, "paper", "tooth", octave))
        cell *= 2.0
    return tooth, _fibres(top, height, width, grain, derive_seed(seed, "paper", "fibres"))


def _fibres(top: int, height: int, width: int, grain: float, seed: int) -> np.ndarray:
    """Raised strands about 8 grains long and a quarter of one thick, as many as would cover 60 % of
    the paper, half of them fainter. Each square tile a strand long holds the same number of strands,
    drawn from a hash of the tile's row and column and the strand's number, so that the strands that
    cross a band of rows are those of the tiles around it, whichever band it is."""
    length = 8.0 * grain
    per_tile = max(2, round(0.6 * length / grain))  # 0.6 of a tile's area over a strand's (length x grain)
    points = 6
    sigma = max(0.6, 0.3 * grain)
    blur_reach = _blur_reach_of(sigma)
    first, last = top - blur_reach, top + height + blur_reach  # the rows the blur reads
    # a strand ends at most a length from its start: the tiles whose strands can reach those rows
    tile_rows = np.arange(math.floor((first - length) / length), math.floor((last + length) / length) + 1)
    tile_cols = np.arange(math.ceil(width / length))
    rows, cols, number = (grid.reshape(-1) for grid in np.meshgrid(tile_rows, tile_cols, np.arange(per_tile),
                                                                   indexing="ij"))
    counter = ((rows + INDEX_OFFSET).astype(np.uint64) * np.uint64(1 << 24) + cols.astype(np.uint64)) \
        * np.uint64(per_tile) + number.astype(np.uint64)

    def uniform(*purpose: str | int) -> np.ndarray:
        return hashed_uniform(counter, derive_seed(seed, *purpose)).astype(np.float64) + 0.5  # in [0, 1)

    start = np.stack([(cols + uniform("x")) * length, (rows + uniform("y")) * length], axis=1)
    turns = np.stack([uniform("turn", step) - 0.5 for step in range(points)], axis=1)
    heading = 2.0 * np.pi * uniform("heading")[:, None] + np.cumsum(_FIBRE_TURN * turns, axis=1)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=-1) * (length / points)
    strands = start[:, None, :] + np.cumsum(steps, axis=1)
    # drawn into a buffer that holds every strand whole: a line clipped at its border could be drawn
    # a pixel off further along
    margin = int(np.ceil(length)) + 2
    buffer_top = math.floor(tile_rows[0] * length) - margin
    buffer_height = math.ceil((tile_rows[-1] + 1) * length) + margin - buffer_top
    strands = (np.floor(strands + 0.5) - np.array([-margin, buffer_top])).astype(np.int32)  # rounded where they lie
    fibres = np.zeros((buffer_height, math.ceil(len(tile_cols) * length) + 2 * margin), np.float32)
    thickness = max(1, round(0.25 * grain))
    fainter = number >= per_tile // 2
    cv2.polylines(fibres, list(strands[~fainter]), False, 1.0, thickness, cv2.LINE_8)
    cv2.polylines(fibres, list(strands[fainter]), False, 0.6, thickness, cv2.LINE_8)
    fibres = _gaussian(fibres[first - buffer_top:last - buffer_top, margin:margin + width], sigma)
    return np.ascontiguousarray(fibres[blur_reach:blur_reach + height])


# --- 5. at print size -------------------------------------------------------------------------------


def _enlargement(source_size: tuple[int, int], out_size: tuple[int, int]) -> float:
    return max(out_size[0] / max(source_size[0], 1), out_size[1] / max(source_size[1], 1))


def _edge_radius(source_size: tuple[int, int], out_size: tuple[int, int]) -> int:
    """Half the enlargement from the painting's own resolution (the image's, but the painter works at
    up to _PAINTED_LONG_SIDE px) to the print: about half the width a stroke's edge is spread over."""
    painted = min(max(source_size), _PAINTED_LONG_SIDE)
    return int(0.5 * max(out_size) / max(painted, 1))


def _print_context(radius: int) -> int:
    """Rows the print finish reads each way: the neighbourhood range that holds the redrawn strokes,
    the smoothing, then the wider of the unsharp mask's blur and the neighbourhood range on its result;
    the grain's blur on its own."""
    crisp = _blur_reach_of(_CRISP_SMOOTH * radius) + max(_CRISP_RANGE * radius, _blur_reach_of(_CRISP_SIGMA * radius))
    crisp += _CRISP_RANGE * radius  # the range that holds the strokes redrawn before
    return max(crisp if radius >= 1 else 0, _blur_reach_of(_PRINT_GRAIN_SIGMA))


def _blur_reach_of(sigma: float) -> int:
    return int(np.ceil(3.0 * sigma))


def crisp_edges(image: np.ndarray, radius: int) -> np.ndarray:
    """Steepens edges spread over about 2 * radius px back towards steps, without a halo: an unsharp
    mask at the radius's scale, held within each pixel's neighbourhood range (its minimum and maximum
    over _CRISP_RANGE radii). It works on the image smoothed a little first, so that the stairs of the
    painter's pixels, enlarged, are not sharpened into jagged outlines. A ramp (a gradient in the sky)
    has no curvature and stays as it is."""
    base = _gaussian(image, _CRISP_SMOOTH * radius)
    sharp = _gaussian(base, _CRISP_SIGMA * radius)
    np.subtract(base, sharp, out=sharp)  # in place, as what follows: each array is a band's size
    sharp *= np.float32(_CRISP_GAIN)
    sharp += base
    reach = _CRISP_RANGE * radius
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1))  # a square: fast
    np.maximum(sharp, cv2.erode(base, kernel, borderType=cv2.BORDER_REFLECT), out=sharp)
    np.minimum(sharp, cv2.dilate(base, kernel, borderType=cv2.BORDER_REFLECT), out=sharp)
    return sharp


def redrawn_edges(rows: np.ndarray, strokes: np.ndarray, radius: int) -> np.ndarray:
    """The rows with the strokes' edges drawn at print size: plus what the enlargement blurred away
    (strokes), shortened where it would leave each pixel's neighbourhood range in the enlarged painting
    (over _CRISP_RANGE radii, channel by channel), so that where the painting's colours are not the
    strokes' own (the post-processing moved them, chalk lets the paper through) an edge still goes from
    one side's colour to the other's, with no halo. Each pixel's three channels are shortened alike, so
    that no channel reaches its end before the others and tints the edge. Made in the array of strokes."""
    reach = _CRISP_RANGE * radius
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1))
    held = rows + strokes
    # one bound at a time: each of these arrays is a band's size (22 MB)
    np.maximum(held, cv2.erode(rows, kernel, borderType=cv2.BORDER_REFLECT), out=held)
    np.minimum(held, cv2.dilate(rows, kernel, borderType=cv2.BORDER_REFLECT), out=held)
    # the share of its step each channel kept; no step (0 / 0) has no say
    held -= rows
    with np.errstate(divide="ignore", invalid="ignore"):
        held /= strokes
    share = np.fmin(np.fmin(held[..., 0], held[..., 1]), held[..., 2])
    del held
    strokes *= np.nan_to_num(share, nan=1.0)[..., None]
    strokes += rows
    return strokes


def _gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur whose kernel reaches _blur_reach_of(sigma) px: the context rows count on it."""
    reach = _blur_reach_of(sigma)
    return cv2.GaussianBlur(image, (2 * reach + 1, 2 * reach + 1), sigma, borderType=cv2.BORDER_REFLECT)


def _print_grain(shape: tuple[int, int], top: int, seed: int) -> np.ndarray:
    """Zero-mean, unit-std grain a print pixel or two across, a function of each pixel's row (from
    `top`) and column and of the seed alone (a counter-based hash, SplitMix64), so that any band of
    rows gets the same grain as the same rows of the whole."""
    height, width = shape
    index = (np.arange(top, top + height, dtype=np.uint64)[:, None] * np.uint64(width)
             + np.arange(width, dtype=np.uint64)[None, :])
    noise = hashed_uniform(index, seed)
    noise = _gaussian(noise, _PRINT_GRAIN_SIGMA)
    # the blur's std of uniform noise (1/sqrt(12)) over a Gaussian of this sigma: fixed, not measured per band
    noise *= np.float32(np.sqrt(12.0) * 2.0 * np.sqrt(np.pi) * _PRINT_GRAIN_SIGMA)
    return noise


# --- shared -----------------------------------------------------------------------------------------


def _smooth_noise(shape: tuple[int, int], cell: float, rng: np.random.Generator) -> np.ndarray:
    """Band-limited noise with features about cell pixels across: white noise on a coarse grid,
    upsampled bicubically. Roughly unit variance, float32."""
    height, width = shape
    grid_h, grid_w = max(2, int(np.ceil(height / cell)) + 1), max(2, int(np.ceil(width / cell)) + 1)
    coarse = rng.standard_normal((grid_h, grid_w), dtype=np.float32)
    if cell <= 1.0:
        return coarse[:height, :width].copy()
    # Resize the whole grid, then crop: every grid cell spans exactly cell pixels in both directions.
    full = cv2.resize(coarse, (round(grid_w * cell), round(grid_h * cell)), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(full[:height, :width])


def _modulate(image: np.ndarray, relative: np.ndarray) -> None:
    """Scales each pixel's three channels by 1 + relative, in place: a brightness change that keeps the hue."""
    image *= (1.0 + relative)[..., None]
    np.clip(image, 0.0, 1.0, out=image)
