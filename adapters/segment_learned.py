"""Learned segmentation: a panoptic model (EoMT trained on COCO panoptic) through transformers, from a
local folder. It finds whole objects (person, dog, cup, motorcycle...) and background surfaces (wall,
floor, sky, grass, table...), each named by its class.

The folder is what `rilievo models pull` writes (models/<key>/: config.json, model.safetensors and
preprocessor_config.json) or a Hugging Face cache snapshot; nothing is ever downloaded here
(local_files_only).

Preprocessing is done with OpenCV rather than the transformers image processor (which wants
torchvision). It follows EomtImageProcessor: the photo is resized so its long side is the model's input
side, padded with black on the bottom and right to the square the model was trained on, then
normalised with the model's mean and std. A photo that shrinks is resized with INTER_AREA (the
reference antialiases), so the input is close to, not bit-identical with, the reference processor's.

From the model's output to Regions, every pixel labelled:
1. each query's class is its most likely one; queries whose class is "no object", or whose class
   probability is under `score_threshold`, are dropped (the reference panoptic post-processing does
   the same, at 0.8);
2. each pixel goes to the kept query with the highest class probability x mask probability, at a
   working size of at most WORK_LONG_SIDE px (the masks are predicted at a quarter of the input side, so
   more is not sharper);
3. pixels no kept mask claims (mask probability under 0.5 for all; the reference leaves them void) are
   not given to an object: each connected area of them is an unnamed region of its own;
4. each connected piece smaller than `min_region_fraction` of the picture joins the neighbouring segment
   it shares the longest border with, so regions are objects, not specks (an object cut in two by a
   pole stays one region while both halves are large enough);
5. regions are numbered in the order they first appear (rows top to bottom), named by their class
   ("sky-other-merged" becomes "sky"; "" for unclaimed areas), and enlarged to the photo's size.
If no query passes the threshold, the photo is one unnamed region.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import structlog

from rilievo.adapters.photo_input import checked_rgb
from rilievo.adapters.torch_device import load_pretrained
from rilievo.domain.errors import SegmentationFailed
from rilievo.domain.regions import Regions

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_SIDE = 640  # for a model whose config names no input size
SCORE_THRESHOLD = 0.8
WORK_LONG_SIDE = 1024
MIN_REGION_FRACTION = 0.002  # of the picture's area: about 37 x 37 px of a 1024 x 683 working size
log = structlog.get_logger(__name__)



class LearnedSegmenter:
    """A transformers universal-segmentation model from model_dir, loaded once on first use and kept.

    name is key, by default the folder's name (a Hugging Face cache snapshot is named by a revision, so
    give the key). device None picks one (mps, then cuda, then cpu); half precision on a GPU, float32 on
    the CPU.
    """

    def __init__(self, model_dir: Path, device: str | None = None, *, key: str | None = None,
                 score_threshold: float = SCORE_THRESHOLD,
                 min_region_fraction: float = MIN_REGION_FRACTION) -> None:
        self.model_dir = Path(model_dir)
        self.name = key or self.model_dir.name
        if not (self.model_dir / "config.json").is_file():
            raise SegmentationFailed(
                f"no segmentation model in {self.model_dir} (config.json missing): "
                f"run `rilievo models pull {self.name}`"
            )
        self.score_threshold = score_threshold
        self.min_region_fraction = min_region_fraction
        self._requested_device = device
        self._model: Any = None
        self._device: str | None = None
        self._lock = threading.Lock()
        self.mean, self.std = _normalisation(self.model_dir)

    @property
    def device(self) -> str | None:
        """The device the model runs on, once loaded."""
        return self._device

    def load(self) -> None:
        """Load the weights now instead of on the first photo (a worker may want to fail early)."""
        self._loaded()

    def segment(self, image: np.ndarray) -> Regions:
        rgb = checked_rgb(image, SegmentationFailed, "segmentation")
        model = self._loaded()
        import torch

        started = time.perf_counter()
        height, width = rgb.shape[:2]
        side = _input_side(model.config)
        pixels, content = model_input(rgb, side, self.mean, self.std)
        batch = torch.from_numpy(pixels).to(device=self._device, dtype=next(model.parameters()).dtype)
        try:
            with torch.inference_mode():
                output = model(pixel_values=batch)
        except Exception as error:  # any library failure becomes ours, with the cause kept
            raise SegmentationFailed(f"segmentation model {self.name} failed: {error}") from error
        class_logits, mask_logits = _query_outputs(output)
        regions = regions_from_queries(
            class_logits, mask_logits, content_fraction=(content[0] / side, content[1] / side),
            size=(height, width), class_names=_class_names(model.config),
            score_threshold=self.score_threshold, min_region_fraction=self.min_region_fraction,
        )
        log.info("segment.learned", model=self.name, device=self._device, regions=regions.count,
                 seconds=round(time.perf_counter() - started, 3))
        return regions

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model, self._device = load_pretrained(
                    "AutoModelForUniversalSegmentation", self.model_dir, self._requested_device,
                    failure=SegmentationFailed, what="segmentation model")
            return self._model


def _normalisation(model_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std from preprocessor_config.json; ImageNet's when the folder has none."""
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    path = model_dir / "preprocessor_config.json"
    if path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SegmentationFailed(f"unreadable {path}: {error}") from error
        if saved.get("do_normalize") is False:
            mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
        else:
            mean, std = saved.get("image_mean", mean), saved.get("image_std", std)
    return np.asarray(mean, np.float32), np.asarray(std, np.float32)


def _input_side(config: Any) -> int:
    """The square the model takes: EoMT's position embeddings fix it (config.image_size)."""
    size = getattr(config, "image_size", None) or DEFAULT_SIDE
    return int(size if isinstance(size, int) else max(size))


def model_input(rgb: np.ndarray, side: int, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """1x3xSIDExSIDE float32 (the photo, long side = side, padded black at the bottom and right, then
    normalised) and the (height, width) the photo covers in it."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas = np.zeros((side, side, 3), np.float32)
    canvas[:new_h, :new_w] = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    normalised = (canvas - mean) / std
    return np.ascontiguousarray(normalised.transpose(2, 0, 1)[None], dtype=np.float32), (new_h, new_w)


def _query_outputs(output: Any) -> tuple[np.ndarray, np.ndarray]:
    """(queries, classes + 1) class logits and (queries, h, w) mask logits, float32, checked."""
    classes = getattr(output, "class_queries_logits", None)
    masks = getattr(output, "masks_queries_logits", None)
    if classes is None or masks is None:
        raise SegmentationFailed("the segmentation model returned no class_queries_logits / masks_queries_logits")
    classes = classes.detach().float().cpu().numpy()
    masks = masks.detach().float().cpu().numpy()
    if classes.ndim != 3 or masks.ndim != 4 or classes.shape[:2] != masks.shape[:2] or classes.shape[0] != 1 \
            or classes.shape[2] < 2 or min(masks.shape[2:]) < 1:
        raise SegmentationFailed(f"the segmentation model returned shapes {classes.shape} and {masks.shape}, "
                                 "expected (1, Q, classes + 1) and (1, Q, H, W)")
    if not (np.isfinite(classes).all() and np.isfinite(masks).all()):
        raise SegmentationFailed("the segmentation model returned NaN or infinite values")
    return classes[0], masks[0]


def _class_names(config: Any) -> dict[int, str]:
    return {int(index): str(name) for index, name in (getattr(config, "id2label", None) or {}).items()}


def region_name(label: str) -> str:
    """COCO panoptic names its merged background classes "sky-other-merged", "door-stuff": the word is kept."""
    return re.sub(r"(-(merged|other|stuff))+$", "", label)


def regions_from_queries(class_logits: np.ndarray, mask_logits: np.ndarray, *, content_fraction: tuple[float, float],
                         size: tuple[int, int], class_names: dict[int, str], score_threshold: float = SCORE_THRESHOLD,
                         min_region_fraction: float = MIN_REGION_FRACTION) -> Regions:
    """Regions at size (height, width) from one photo's queries: class_logits (Q, classes + 1, the last
    "no object"), mask_logits (Q, h, w) over the padded square, of which the photo covers
    content_fraction (of its height, of its width)."""
    height, width = size
    probabilities = _softmax(class_logits)
    best = probabilities.argmax(axis=1)
    scores = probabilities.max(axis=1)
    kept = np.flatnonzero((best != class_logits.shape[1] - 1) & (scores >= score_threshold))
    if kept.size == 0:
        return Regions.whole(height, width)
    work_h, work_w = _work_size(height, width)
    owner, claimed = _owners(mask_logits[kept], scores[kept], content_fraction, (work_h, work_w))
    unclaimed_count, unclaimed = cv2.connectedComponents((~claimed).astype(np.uint8), connectivity=4)
    owner[~claimed] = kept.size + unclaimed[~claimed] - 1
    segment_names = [region_name(class_names.get(int(best[query]), "")) for query in kept]
    segment_names += [""] * (unclaimed_count - 1)
    owner = merge_fragments(owner, max(1, round(min_region_fraction * work_h * work_w)))
    present, first_seen = np.unique(owner, return_index=True)
    order = present[np.argsort(first_seen)]
    renumber = np.zeros(len(segment_names), np.int32)
    renumber[order] = np.arange(order.size, dtype=np.int32)
    names = tuple(segment_names[segment] for segment in order)
    rows = np.arange(height) * work_h // height  # nearest enlargement: work <= photo, so every id survives
    cols = np.arange(width) * work_w // width
    return Regions(np.ascontiguousarray(renumber[owner][rows[:, None], cols[None, :]]), names)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _work_size(height: int, width: int) -> tuple[int, int]:
    scale = min(1.0, WORK_LONG_SIDE / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _owners(mask_logits: np.ndarray, scores: np.ndarray, content_fraction: tuple[float, float],
            work: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per working pixel, the index of the query with the highest score x mask probability, and whether
    any query's mask claims it (probability >= 0.5). The masks are mapped straight from the photo's part
    of the padded square to the working size (one affine resample, no crop rounding); queries are taken
    one at a time to keep memory at a few working images."""
    work_h, work_w = work
    mask_h, mask_w = mask_logits.shape[1:]
    scale_y = content_fraction[0] * mask_h / work_h
    scale_x = content_fraction[1] * mask_w / work_w
    # work pixel centre (x + 0.5) -> mask coordinate (x + 0.5) * scale - 0.5
    to_mask = np.float32([[scale_x, 0, 0.5 * scale_x - 0.5], [0, scale_y, 0.5 * scale_y - 0.5]])
    best = np.full(work, -1.0, np.float32)
    owner = np.zeros(work, np.int32)
    claimed = np.zeros(work, bool)
    for index, (logits, score) in enumerate(zip(mask_logits, scores)):
        sampled = cv2.warpAffine(np.ascontiguousarray(logits, np.float32), to_mask, (work_w, work_h),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        claimed |= sampled >= 0.0  # sigmoid >= 0.5
        value = score * 0.5 * (1.0 + np.tanh(0.5 * sampled))  # score x sigmoid, without overflow
        better = value > best
        best[better] = value[better]
        owner[better] = index
    return owner, claimed


def merge_fragments(labels: np.ndarray, min_pixels: int) -> np.ndarray:
    """labels with every 4-connected piece smaller than min_pixels given to the neighbouring label it
    shares the longest border with (smallest pieces first; a piece among pieces waits for its neighbours).
    If every piece is small, the largest stays."""
    labels = labels.astype(np.int32, copy=True)
    pieces = []  # (area, crop, mask within the crop)
    for label in np.unique(labels):
        count, components, stats, _ = cv2.connectedComponentsWithStats(
            (labels == label).astype(np.uint8), connectivity=4)
        for component in range(1, count):
            x, y, w, h, area = stats[component]
            if area < min_pixels:
                crop = (slice(max(0, y - 1), y + h + 1), slice(max(0, x - 1), x + w + 1))
                pieces.append((int(area), crop, components[crop] == component))
    if not pieces:
        return labels
    pieces.sort(key=lambda piece: piece[0])
    if sum(area for area, _, _ in pieces) == labels.size:
        pieces.pop()  # all small: keep the largest as it is
    for _, crop, mask in pieces:
        labels[crop][mask] = -1
    ring_kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))  # 4-connected, like the pieces
    while pieces:
        waiting = []
        for area, crop, mask in pieces:
            ring = cv2.dilate(mask.astype(np.uint8), ring_kernel).astype(bool) & ~mask
            around = labels[crop][ring]
            around = around[around >= 0]
            if around.size:
                labels[crop][mask] = np.bincount(around).argmax()
            else:
                waiting.append((area, crop, mask))
        if len(waiting) == len(pieces):  # unreachable while one label remains; never loop forever
            raise RuntimeError("fragments with no labelled neighbour")
        pieces = waiting
    return labels
