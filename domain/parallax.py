"""A parallax preview: the stacked panes seen from a camera swaying side to side, as a looping animation.

The camera fixates the back pane (the pivot): the back layer stays put and every other layer slides
in proportion to how much nearer it is, so the front layer moves most. With the back still, its edges
never come into view; a sliding layer whose alpha reaches the image border carries its border pixels
along (edge replication), never wraps around.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .fill import FilledColours, box_around
from .images import per_pixel
from .previews import PREVIEW_MAX_SIDE, block_mean

FRAMES = 24
FRAME_MS = 80  # 24 frames at 80 ms: one sway in about two seconds
# Relative shift of the front layer against the back at the ends of the sway, as a share of the width.
MAX_SHIFT_FRACTION = 0.025
PIVOTS = ("back", "middle")
STRIP_PIXELS = 1 << 20  # downsample_layer works on strips of about this many full-size pixels


def layer_offsets(
    depth_centres: Sequence[float], frame: int, frames: int, max_shift_px: float, pivot: str = "back"
) -> list[float]:
    """Horizontal shift in pixels of each layer in one frame (positive = to the right).

    The camera follows a sine, sin(2 pi frame / frames), so the loop joins without a jolt. Each
    layer's shift is proportional to its nearness, (pivot depth - its depth centre) / (back - front),
    so front and back always differ by max_shift_px * sin(...), whichever pivot. pivot "back" keeps
    the back layer still; "middle" moves the front and the back in opposite directions.
    """
    if pivot not in PIVOTS:
        raise ValueError(f"pivot must be one of {', '.join(PIVOTS)}, got {pivot!r}")
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    centres = [float(centre) for centre in depth_centres]
    front, back = min(centres), max(centres)
    span = back - front
    if span == 0:
        return [0.0] * len(centres)
    pivot_depth = back if pivot == "back" else (front + back) / 2
    sway = max_shift_px * math.sin(2 * math.pi * frame / frames)
    return [sway * (pivot_depth - centre) / span for centre in centres]


def default_max_shift_px(width: int) -> float:
    return MAX_SHIFT_FRACTION * width


def parallax_frames(
    layers_rgba_small: list[np.ndarray],
    depth_centres: Sequence[float],
    frames: int = FRAMES,
    max_shift_px: float | None = None,
    pivot: str = "back",
) -> list[np.ndarray]:
    """The frames of parallax_frames_on_demand, as a list."""
    return list(parallax_frames_on_demand(layers_rgba_small, depth_centres, frames, max_shift_px, pivot))


def parallax_frames_on_demand(
    layers_rgba_small: list[np.ndarray],
    depth_centres: Sequence[float],
    frames: int = FRAMES,
    max_shift_px: float | None = None,
    pivot: str = "back",
) -> ParallaxFrames:
    """HxWx3 float32 frames, each made when it is asked for, in any order (the inputs are checked at
    once), of the layers (front to back, RGBA as layer_rgba makes them, at preview size) shifted by
    layer_offsets and stacked with "over" onto the back layer.

    max_shift_px defaults to MAX_SHIFT_FRACTION of the width. Shifts are sub-pixel: each layer is
    interpolated linearly, premultiplied, between its two nearest whole-pixel positions, so the slow
    ends of the sway move smoothly.
    """
    if not layers_rgba_small:
        raise ValueError("parallax needs at least one layer")
    if len(layers_rgba_small) != len(depth_centres):
        raise ValueError(
            f"got {len(layers_rgba_small)} layers but {len(depth_centres)} depth centres"
        )
    shape = layers_rgba_small[0].shape
    if len(shape) != 3 or shape[2] != 4 or any(layer.shape != shape for layer in layers_rgba_small):
        raise ValueError("layers must be HxWx4 RGBA arrays of one size")
    if max(shape[:2]) > PREVIEW_MAX_SIDE:
        raise ValueError(
            f"parallax works on previews (at most {PREVIEW_MAX_SIDE} px a side), got "
            f"{shape[1]}x{shape[0]}: downsample the layers first"
        )
    if max_shift_px is None:
        max_shift_px = default_max_shift_px(shape[1])
    # Channels first (4 x H x W): every step below then runs over contiguous rows.
    premultiplied = [
        np.ascontiguousarray(_premultiplied(layer).transpose(2, 0, 1)) for layer in layers_rgba_small
    ]
    return ParallaxFrames(premultiplied, depth_centres, frames, max_shift_px, pivot)


class ParallaxFrames(Sequence[np.ndarray]):
    """The frames, each made when asked for through the same few buffers (a fresh array for every
    shifted layer costs page faults over all of it); only the frame handed out is new. It holds its own
    premultiplied copies of the layers (channels first: every step runs over contiguous rows)."""

    def __init__(self, premultiplied: list[np.ndarray], depth_centres: Sequence[float], frames: int, shift: float,
                 pivot: str):
        self.premultiplied, self.depth_centres, self.frames, self.shift, self.pivot = (
            premultiplied, depth_centres, frames, shift, pivot)
        shape = premultiplied[0].shape
        self._shifted, self._scratch = np.empty(shape, np.float32), np.empty(shape, np.float32)
        self._stack, self._through = np.empty((3, *shape[1:]), np.float32), np.empty(shape[1:], np.float32)

    def __len__(self) -> int:
        return self.frames

    def __getitem__(self, frame):  # one frame by its index (Sequence's slices are not needed here)
        if not -self.frames <= frame < self.frames:
            raise IndexError(f"frame {frame} of {self.frames}")
        frame %= self.frames
        premultiplied, stack = self.premultiplied, self._stack
        offsets = layer_offsets(self.depth_centres, frame, self.frames, self.shift, self.pivot)
        # back to front: the back layer, then each nearer one "over" it
        for index in reversed(range(len(premultiplied))):
            layer = _shifted(premultiplied[index], offsets[index], self._shifted, self._scratch)
            if index == len(premultiplied) - 1:
                stack[...] = layer[:3]
            else:
                stack *= np.subtract(1.0, layer[3], out=self._through)
                stack += layer[:3]
        np.clip(stack, 0.0, 1.0, out=stack)
        return np.ascontiguousarray(stack.transpose(1, 2, 0))


def downsample_layer(rgb: np.ndarray | FilledColours, alpha: np.ndarray, factor: int) -> np.ndarray:
    """A layer, given as its colours (HxWx3, or FilledColours) and alpha (HxW), as layer_rgba would make
    it and then box-averaged to HxWx4 without dark fringes: the premultiplied colour is averaged, then
    divided.

    (Averaging the straight colours of layer_rgba would mix in the zeros of its transparent pixels.)
    Made a strip of blocks at a time: the layer of a large photo is never held whole as RGBA; only the
    blocks of the box where the alpha has anything are worked out (the others are 0).
    """
    if factor == 1:
        colours = rgb[0 : alpha.shape[0]]
        return np.concatenate([np.where(alpha[..., None] > 0, colours, 0.0), alpha[..., None]], axis=-1).astype(
            np.float32
        )
    rows, columns = alpha.shape[0] // factor, alpha.shape[1] // factor
    small = np.zeros((rows, columns, 4), np.float32)
    box_rows, box_columns = box_around(alpha[: rows * factor, : columns * factor] > 0)
    first, last = box_rows.start // factor, -(-box_rows.stop // factor)
    left, right = box_columns.start // factor, -(-box_columns.stop // factor)
    strip = max(1, STRIP_PIXELS // (factor * factor * max(right - left, 1)))
    for top in range(first, last, strip):
        bottom = min(top + strip, last)
        window = (slice(top * factor, bottom * factor), slice(left * factor, right * factor))
        weight = np.asarray(alpha[window], np.float32)
        colours = rgb[window]
        # FilledColours' rows are a new array: premultiplied in place
        premultiplied = per_pixel(np.multiply, colours, weight, out=colours if isinstance(rgb, FilledColours) else None)
        small[top:bottom, left:right, :3] = block_mean(premultiplied, factor)
        small[top:bottom, left:right, 3] = block_mean(weight, factor)
        del colours, premultiplied
    alpha_small = small[..., 3:4]
    with np.errstate(invalid="ignore", divide="ignore"):
        small[..., :3] = np.where(alpha_small > 0, small[..., :3] / alpha_small, 0.0)
    return np.clip(small, 0.0, 1.0)


def _premultiplied(rgba: np.ndarray) -> np.ndarray:
    out = rgba.astype(np.float32, copy=True)
    out[..., :3] *= out[..., 3:4]
    return out


def _shifted(premultiplied: np.ndarray, offset: float, out: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """The (C x H x W) layer moved right by offset pixels, in out (scratch: another array of its shape);
    columns that come in from outside repeat the border. An offset of 0 gives the layer itself."""
    if offset == 0:
        return premultiplied
    whole = math.floor(offset)
    fraction = offset - whole
    _shifted_whole(premultiplied, whole, out)
    if fraction < 1e-6:
        return out
    out *= 1.0 - fraction
    scratch = _shifted_whole(premultiplied, whole + 1, scratch)
    scratch *= fraction
    out += scratch
    return out


def _shifted_whole(image: np.ndarray, shift: int, out: np.ndarray) -> np.ndarray:
    width = image.shape[-1]
    shift = max(-width, min(width, shift))
    if shift >= 0:
        out[..., shift:] = image[..., : width - shift]
        out[..., :shift] = image[..., :1]
    else:
        out[..., : width + shift] = image[..., -shift:]
        out[..., width + shift :] = image[..., -1:]
    return out


