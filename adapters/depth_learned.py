"""Learned monocular depth: Depth Anything V2 or DPT (MiDaS) through transformers, from a local folder.

The folder is what `rilievo models pull` writes (models/<key>/: config.json, model.safetensors and
usually preprocessor_config.json); nothing is ever downloaded here (local_files_only).

Preprocessing is done with OpenCV rather than the transformers image processor, which in
transformers 5 wants torchvision. It follows DPTImageProcessor (the processor both model families
ship with): resize keeping the aspect ratio to about `size` with sides a multiple of
`ensure_multiple_of`, then normalise with the model's mean and std. One deliberate difference: a
photo that shrinks is resized with INTER_AREA (PIL's bicubic antialiases on shrink, OpenCV's does
not), so the input is a close but not bit-identical match to the reference processor's.

Both families predict relative inverse depth (disparity: larger = nearer), without a scale or a
shift. It is stretched by its 1st..99th percentiles and flipped, so 0 = nearest and 1 = farthest,
then brought back to the photo's size.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from rilievo.adapters.photo_input import checked_rgb
from rilievo.adapters.torch_device import load_pretrained
from rilievo.domain.errors import DepthEstimationFailed

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Depth Anything's own processor values, used when a folder has no preprocessor_config.json.
DEFAULT_PREPROCESS = {
    "size": {"height": 518, "width": 518},
    "keep_aspect_ratio": True,
    "ensure_multiple_of": 14,
    "image_mean": IMAGENET_MEAN,
    "image_std": IMAGENET_STD,
}
PERCENTILES = (1.0, 99.0)
EPS = 1e-6  # relative: disparity comes in no particular scale


class LearnedDepth:
    """A transformers depth model from model_dir, loaded once on first use and kept.

    name is key, by default the folder's name (models/<key>/ gives the catalogue key, e.g.
    "depth-anything-v2-small"; a Hugging Face cache snapshot is named by a revision, so give the key).
    device None picks one (mps, then cuda, then cpu); half precision on a GPU, float32 on the CPU.
    """

    def __init__(self, model_dir: Path, device: str | None = None, *, key: str | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.name = key or self.model_dir.name
        if not (self.model_dir / "config.json").is_file():
            raise DepthEstimationFailed(
                f"no depth model in {self.model_dir} (config.json missing): "
                f"run `rilievo models pull {self.name}`"
            )
        self._requested_device = device
        self._model: Any = None
        self._device: str | None = None
        self._lock = threading.Lock()
        self.preprocess = _preprocess_settings(self.model_dir)

    @property
    def device(self) -> str | None:
        """The device the model runs on, once loaded."""
        return self._device

    def load(self) -> None:
        """Load the weights now instead of on the first estimate (a worker may want to fail early)."""
        self._loaded()

    def estimate(self, image: np.ndarray) -> np.ndarray:
        rgb = checked_rgb(image, DepthEstimationFailed, "depth")
        model = self._loaded()
        import torch

        height, width = rgb.shape[:2]
        pixels = _model_input(rgb, self.preprocess)
        dtype = next(model.parameters()).dtype
        batch = torch.from_numpy(pixels).to(device=self._device, dtype=dtype)
        try:
            with torch.inference_mode():
                output = model(pixel_values=batch)
        except Exception as error:  # any library failure becomes ours, with the cause kept
            raise DepthEstimationFailed(f"depth model {self.name} failed: {error}") from error
        disparity = _disparity_map(output)
        return _to_depth(disparity, width, height)

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model, self._device = load_pretrained(
                    "AutoModelForDepthEstimation", self.model_dir, self._requested_device,
                    failure=DepthEstimationFailed, what="depth model")
            return self._model


def _preprocess_settings(model_dir: Path) -> dict:
    path = model_dir / "preprocessor_config.json"
    if not path.is_file():
        return dict(DEFAULT_PREPROCESS)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DepthEstimationFailed(f"unreadable {path}: {error}") from error
    settings = {key: saved.get(key, value) for key, value in DEFAULT_PREPROCESS.items()}
    if saved.get("do_normalize") is False:
        settings["image_mean"], settings["image_std"] = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    if saved.get("do_pad") and saved.get("size_divisor"):
        settings["ensure_multiple_of"] = _lcm(settings["ensure_multiple_of"] or 1, saved["size_divisor"])
    if saved.get("do_resize") is False:
        settings["size"] = None
    return settings


def input_size(height: int, width: int, settings: dict) -> tuple[int, int]:
    """(height, width) the model sees, as DPTImageProcessor computes it (keep_aspect_ratio takes
    the scale closer to 1 for both sides; each side rounds to a multiple, at least one multiple)."""
    multiple = int(settings.get("ensure_multiple_of") or 1)
    size = settings.get("size")
    if size is None:
        target_h, target_w, keep = height, width, True
    elif isinstance(size, int):
        target_h, target_w, keep = size, size, settings["keep_aspect_ratio"]
    elif "shortest_edge" in size:
        scale = size["shortest_edge"] / min(height, width)
        target_h, target_w, keep = height * scale, width * scale, False
    else:
        target_h, target_w, keep = size["height"], size["width"], settings["keep_aspect_ratio"]
    scale_h, scale_w = target_h / height, target_w / width
    if keep:
        if abs(1 - scale_w) < abs(1 - scale_h):
            scale_h = scale_w
        else:
            scale_w = scale_h
    return _multiple(scale_h * height, multiple), _multiple(scale_w * width, multiple)


def _multiple(value: float, multiple: int) -> int:
    return max(multiple, int(round(value / multiple)) * multiple)


def _model_input(rgb: np.ndarray, settings: dict) -> np.ndarray:
    """1x3xHxW float32, resized and normalised."""
    height, width = rgb.shape[:2]
    new_h, new_w = input_size(height, width, settings)
    if (new_h, new_w) != (height, width):
        shrinking = new_h * new_w < height * width
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
        rgb = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    mean = np.asarray(settings["image_mean"], np.float32)
    std = np.asarray(settings["image_std"], np.float32)
    normalised = (np.clip(rgb, 0.0, 1.0) - mean) / std
    return np.ascontiguousarray(normalised.transpose(2, 0, 1)[None], dtype=np.float32)


def _disparity_map(output: Any) -> np.ndarray:
    predicted = getattr(output, "predicted_depth", None)
    if predicted is None:
        raise DepthEstimationFailed("the depth model returned no predicted_depth")
    disparity = predicted.detach().float().cpu().numpy()
    while disparity.ndim > 2 and disparity.shape[0] == 1:
        disparity = disparity[0]
    if disparity.ndim != 2 or min(disparity.shape) < 1:
        raise DepthEstimationFailed(
            f"the depth model returned shape {tuple(predicted.shape)}, expected (1, H, W)"
        )
    if not np.isfinite(disparity).all():
        raise DepthEstimationFailed("the depth model returned NaN or infinite values")
    return disparity


def _to_depth(disparity: np.ndarray, width: int, height: int) -> np.ndarray:
    """Relative disparity (larger = nearer) to depth in [0, 1] (0 = nearest) at width x height."""
    low, high = np.percentile(disparity, PERCENTILES)
    if not high - low > EPS * max(abs(high), abs(low)):  # flat: everything at one distance
        return np.full((height, width), 0.5, np.float32)
    nearness = np.clip((disparity - low) / (high - low), 0.0, 1.0)
    depth = (1.0 - nearness).astype(np.float32)
    if depth.shape != (height, width):
        depth = cv2.resize(depth, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(depth, 0.0, 1.0).astype(np.float32, copy=False)


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)
