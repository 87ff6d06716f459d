"""Real-ESRGAN upscaling through spandrel: tiled, seam-blended, staged to any output size, by windows.

Implements the Upscaler contract described in adapters/upscale.py. The weights file (.pth or
.safetensors: RRDBNet such as RealESRGAN_x4plus / x2plus, or SRVGGNetCompact such as
realesr-general-x4v3) is loaded once, on first use, on MPS/CUDA/CPU (torch_device.py), in half
precision on a GPU.

Staged passes. The model (x4 or x2) runs once when the target enlargement f (the larger of the two
axes) is at most 2 x its scale, twice otherwise; libvips' resize (upscale_resample.py: Lanczos-3 to
shrink, bicubic to enlarge) then brings the blended tiles to the exact output size on each axis (by a
factor between 1/4 and 2 for x4).
3000 -> 14,400 px (f = 4.8) with an x4 model is one pass to 12,000 and a x1.2 resize: a second pass
would compute 16 x 16 = 256 times the source's pixels (48,000 px wide, then shrunk 3.3x) to refine
detail that a x1.2 resize barely softens. An x2 model does take two passes there.

Tiling. Each pass covers its input with `tile` px tiles at a fixed stride on a grid anchored to the
full image, neighbours overlapping by `overlap` px. A tile runs with `pad` px of extra context on
each side (cropped off afterwards: Real-ESRGAN's own tiling stops there and cuts tiles edge to
edge), and across each overlap two tiles cross-fade by a raised cosine (upscale_tiles.py), so no
cut line remains. Memory is bounded by the tile: a 256 px tile of an x4 model is a 1024 px output.

Windows. A window runs exactly the tiles that meet it (pass by pass, backwards through the stages),
on the same tile inputs as the whole-image run, accumulated in the same order, so it equals the
same window of the whole-image result whatever the model's receptive field: bit for bit on the CPU
(tests/contract/test_upscale.py). On a GPU the same shapes should pick the same kernels; allow
half-precision rounding (1e-3) there. Consecutive bands share tiles at their borders; recent tile
outputs are kept in an LRU cache keyed by the tile's input bytes, so they are not recomputed.
"""

from __future__ import annotations

import hashlib
import math
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rilievo.adapters.upscale import (
    Progress,
    Size,
    UpscaleFailed,
    Window,
    checked_request,
    checked_window,
    report,
)
from rilievo.adapters.upscale_resample import resample_region, resample_source
from rilievo.adapters.upscale_tiles import Span, TileCache, grid, ramp, touching
from rilievo.domain.errors import InvalidParameter

MAX_FINAL_ENLARGEMENT = 2.0
MAX_PASSES = 2
CACHE_BYTES = 1 << 30


class RealEsrganUpscaler:
    """A Real-ESRGAN weights file, loaded once on first use and kept.

    name is "realesrgan:<key>", key defaulting to the file's folder (models/<key>/<file>, as the
    model store lays them out). device None picks one (mps, cuda, cpu). tile, overlap and pad are
    in the model's input pixels; cache_bytes bounds the tile outputs kept between calls (0: none).
    """

    def __init__(self, weights: Path, *, key: str | None = None, device: str | None = None,
                 tile: int = 256, overlap: int = 16, pad: int = 16, cache_bytes: int = CACHE_BYTES) -> None:
        self.weights = Path(weights)
        key = key or self.weights.parent.name
        if not self.weights.is_file():
            raise UpscaleFailed(f"no upscaling model at {self.weights}: run `rilievo models pull {key}`")
        if not (tile >= 16 and 0 < overlap <= tile // 2 and pad >= 0):
            raise InvalidParameter(
                f"tiling needs tile >= 16, 0 < overlap <= tile / 2 and pad >= 0, not {tile}, {overlap}, {pad}")
        self.name = f"realesrgan:{key}"
        self.tile, self.overlap, self.pad = tile, overlap, pad
        self._requested_device = device
        self._device: str | None = None
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache = TileCache(cache_bytes)

    @property
    def device(self) -> str | None:
        """The device the model runs on, once loaded."""
        return self._device

    @property
    def scale(self) -> int:
        return self._loaded().scale

    def load(self) -> None:
        """Load the weights now instead of on first use (a worker may want to fail early)."""
        self._loaded()

    def release(self) -> None:
        """Forget the tile outputs kept for the next band: up to cache_bytes, not to be held between
        images."""
        self._cache.clear()

    def needed_source_rows(self, source_size: Size, out_size: Size, out_window: Window | None = None
                           ) -> tuple[int, int]:
        regions, _ = self._plan(source_size, out_size, checked_window(out_size, out_window))
        return regions[0][1], regions[0][3]

    def upscale_region(self, source: np.ndarray, out_size: Size, out_window: Window | None = None, *,
                       source_top: int = 0, source_height: int | None = None,
                       on_progress: Progress | None = None) -> np.ndarray:
        request = checked_request(source, out_size, out_window, source_top, source_height)
        regions, sizes = self._plan(request.source_size, request.out_size, request.window)
        request.require_rows((regions[0][1], regions[0][3]))
        tiles = [self._tiles(sizes[k], regions[k + 1]) for k in range(len(sizes) - 1)]
        total, done = sum(len(rows) * len(columns) for rows, columns in tiles), 0

        def tick() -> None:
            nonlocal done
            done += 1
            report(on_progress, done / (total + 1))  # the last step is the final resample

        image, origin = request.source, (0, request.source_top)
        for k in range(len(sizes) - 1):
            image = self._run_pass(k, image, origin, sizes[k], regions[k + 1], tick)
            origin = regions[k + 1][:2]
        if sizes[-1] != request.out_size:
            image = resample_region(image, origin, sizes[-1], request.out_size, request.window)
            np.clip(image, 0.0, 1.0, out=image)
        report(on_progress, 1.0)
        return np.ascontiguousarray(image, dtype=np.float32)

    def _plan(self, source_size: Size, out_size: Size, window: Window) -> tuple[list[Window], list[Size]]:
        """The image size at each level (the source, then after each pass) and the region of each
        level the window needs (the last level's region is what the final resample reads)."""
        scale = self.scale
        enlargement = max(out_size[0] / source_size[0], out_size[1] / source_size[1])
        passes = 1
        while passes < MAX_PASSES and enlargement / scale**passes > MAX_FINAL_ENLARGEMENT:
            passes += 1
        sizes = [(source_size[0] * scale**k, source_size[1] * scale**k) for k in range(passes + 1)]
        regions = [window if sizes[-1] == out_size else resample_source(sizes[-1], out_size, window)]
        pad = self._pad()
        for in_size in reversed(sizes[:-1]):
            rows, columns = self._tiles(in_size, regions[0])
            grid_x, grid_y = self._grid(in_size[0]), self._grid(in_size[1])
            regions.insert(0, (max(0, grid_x[columns[0]][0] - pad), max(0, grid_y[rows[0]][0] - pad),
                               min(in_size[0], grid_x[columns[-1]][1] + pad),
                               min(in_size[1], grid_y[rows[-1]][1] + pad)))
        return regions, sizes

    def _align(self) -> int:
        """Tiles start at multiples of this: a pixel-unshuffle model (RealESRGAN_x2plus) computes the
        same thing for a shifted input only when the shift is a multiple of its factor."""
        return max(1, self._loaded().size_requirements.multiple_of)

    def _pad(self) -> int:
        return math.ceil(self.pad / self._align()) * self._align()

    def _grid(self, n: int) -> list[Span]:
        return grid(n, self.tile, self.overlap, self._align())

    def _tiles(self, in_size: Size, out_region: Window) -> tuple[list[int], list[int]]:
        """Row and column indices of the tiles of a pass over in_size that meet out_region."""
        left, top, right, bottom = out_region
        return (touching(self._grid(in_size[1]), (top, bottom), self.scale),
                touching(self._grid(in_size[0]), (left, right), self.scale))

    def _run_pass(self, index: int, image: np.ndarray, origin: tuple[int, int], in_size: Size,
                  region: Window, tick: Callable[[], None]) -> np.ndarray:
        """Pixels region of model pass index over an in_size image; image starts at global origin."""
        scale, pad = self.scale, self._pad()
        left, top, right, bottom = region
        grid_x, grid_y = self._grid(in_size[0]), self._grid(in_size[1])
        total = np.zeros((bottom - top, right - left, 3), np.float32)
        weight = np.zeros((bottom - top, right - left, 1), np.float32)
        rows, columns = self._tiles(in_size, region)
        for iy in rows:
            (y0, y1), ramp_y = grid_y[iy], ramp(grid_y, iy, scale)
            for ix in columns:
                (x0, x1), ramp_x = grid_x[ix], ramp(grid_x, ix, scale)
                px0, py0 = max(0, x0 - pad), max(0, y0 - pad)
                px1, py1 = min(in_size[0], x1 + pad), min(in_size[1], y1 + pad)
                tile = image[py0 - origin[1]: py1 - origin[1], px0 - origin[0]: px1 - origin[0]]
                out = self._core(index, (x0 - px0, y0 - py0, x1 - px0, y1 - py0), tile)
                # The tile's core, in output pixels, cut to the region.
                cx0, cx1 = max(x0 * scale, left), min(x1 * scale, right)
                cy0, cy1 = max(y0 * scale, top), min(y1 * scale, bottom)
                core = out[cy0 - y0 * scale: cy1 - y0 * scale, cx0 - x0 * scale: cx1 - x0 * scale]
                blend = (ramp_y[cy0 - y0 * scale: cy1 - y0 * scale, None]
                         * ramp_x[None, cx0 - x0 * scale: cx1 - x0 * scale])[..., None]
                total[cy0 - top: cy1 - top, cx0 - left: cx1 - left] += core.astype(np.float32) * blend
                weight[cy0 - top: cy1 - top, cx0 - left: cx1 - left] += blend
                tick()
        return total / weight

    def _core(self, index: int, core: Window, tile: np.ndarray) -> np.ndarray:
        """The model's output for tile (the core plus its context), cut to the core (given in the
        tile's pixels): HxWx3 in the model's dtype (float16 on a GPU). Cached: a tile's output
        depends on its input alone."""
        tile = np.ascontiguousarray(tile, dtype=np.float32)
        key = (index, core, hashlib.blake2b(tile.tobytes(), digest_size=16).digest())
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        model = self._loaded()
        import torch

        try:
            batch = torch.from_numpy(tile.transpose(2, 0, 1)[None].copy()).to(self._device, model.dtype)
            with torch.inference_mode():
                out = model(batch)[0].permute(1, 2, 0).cpu().numpy()
        except Exception as error:  # any library failure becomes ours, with the cause kept
            raise UpscaleFailed(
                f"upscaling model {self.name} failed on a {tile.shape[1]}x{tile.shape[0]} tile: {error}") from error
        scale = self.scale
        out = np.ascontiguousarray(out[core[1] * scale: core[3] * scale, core[0] * scale: core[2] * scale])
        self._cache.put(key, out)
        return out

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model, self._device = _load(self.weights, self._requested_device)
            return self._model


def _load(weights: Path, requested_device: str | None) -> tuple[Any, str]:
    try:
        import spandrel
        import torch

        from rilievo.adapters.torch_device import pick_device, pick_dtype

        device = pick_device(requested_device)
        model = spandrel.ModelLoader(device=device).load_from_file(weights)
    except Exception as error:  # a missing spandrel, a corrupt file, an unknown architecture...
        raise UpscaleFailed(f"cannot load the upscaling model {weights}: {type(error).__name__}: {error}") from error
    if not isinstance(model, spandrel.ImageModelDescriptor) or model.scale < 2 or (
            model.input_channels, model.output_channels) != (3, 3):
        raise UpscaleFailed(f"{weights} holds {model.architecture.name}, not an RGB super-resolution model")
    dtype = pick_dtype(device)
    if dtype == torch.float16 and not model.supports_half:
        dtype = torch.float32
    model.to(dtype)
    model.eval()
    return model, device
