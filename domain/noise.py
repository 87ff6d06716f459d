"""Where a painting's randomness comes from, pixel by pixel: the noise plan both painterly engines follow.

- Per-layer seeds: each depth layer of the job's layer plan draws its noise from its own seed (the
  painting's seed and the layer's index, through derive_seed), so that the noise over one layer never
  depends on what the other layers hold.
- Numbered editions: print n of an edition (n >= 1) mixes noise from seeds of its own into the layers'
  noise, weighted by depth: none on the nearest pixels, EDITION_JITTER of the variance at the farthest.
  The prints of an edition differ a little in the background and not on the subject; edition 0 is a
  plain print.
- Depth-weighted strength: how much of the painting's strength (painterliness) a pixel gets. At full
  depth influence the nearest pixels get 1 - SUBJECT_CALM of it and the farthest all of it: more
  freedom far away, the subject kept closer to the photo.

The noise is standard normal, drawn with numpy's PCG64 from those seeds: the same on every machine and
device, which a torch generator on the GPU would not promise.
"""

from __future__ import annotations

import attrs
import numpy as np

from .layers import DEPTH_LEVELS, LayerPlan
from .seeds import derive_seed

SUBJECT_CALM = 0.5
EDITION_JITTER = 0.35
MAX_EDITION = 9999


def _unit_interval(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be from 0 to 1, got {value}")


@attrs.frozen
class NoisePlan:
    seed: int  # the painting's seed: everything random beyond the noise field derives from it
    layer_seeds: tuple[int, ...]  # one per depth layer, front first
    layer_starts: tuple[int, ...] = ()  # 8-bit depth level where each layer after the front begins
    edition: int = 0  # the print's number in a numbered edition; 0 = not an edition
    subject_calm: float = attrs.field(default=0.0, validator=_unit_interval)

    def __attrs_post_init__(self) -> None:
        if len(self.layer_starts) != len(self.layer_seeds) - 1:
            raise ValueError("a noise plan needs one seed per layer and one start per layer after the front")
        if not 0 <= self.edition <= MAX_EDITION:
            raise ValueError(f"edition must be from 0 to {MAX_EDITION}, got {self.edition}")

    @classmethod
    def single(cls, seed: int) -> NoisePlan:
        """One layer, not an edition, the same strength everywhere."""
        return cls(seed=seed, layer_seeds=(derive_seed(seed, "layer", 0),))

    @classmethod
    def for_painting(cls, seed: int, *, layer_plan: LayerPlan | None, edition: int = 0,
                     depth_influence: float = 0.0) -> NoisePlan:
        """layer_plan None (layers off) paints as one layer."""
        ranges = layer_plan.ranges if layer_plan is not None and layer_plan.count else ()
        count = max(1, len(ranges))
        return cls(
            seed=seed,
            layer_seeds=tuple(derive_seed(seed, "layer", index) for index in range(count)),
            layer_starts=tuple(depth_range.lo for depth_range in ranges[1:]),
            edition=edition,
            subject_calm=SUBJECT_CALM * depth_influence,
        )

    @property
    def edition_seeds(self) -> tuple[int, ...]:
        if not self.edition:
            return ()
        return tuple(derive_seed(seed, "edition", self.edition) for seed in self.layer_seeds)

    def layer_index(self, depth: np.ndarray) -> np.ndarray:
        """HxW index of the layer each pixel's depth (0-1, 0 = near) falls in."""
        levels = np.rint(np.clip(depth, 0.0, 1.0) * (DEPTH_LEVELS - 1))
        return np.searchsorted(np.asarray(self.layer_starts, np.float64), levels, side="right")

    def strength(self, depth: np.ndarray) -> np.ndarray:
        """HxW share (0-1) of the painting's strength each pixel gets."""
        return (1.0 - self.subject_calm * (1.0 - np.clip(depth, 0.0, 1.0))).astype(np.float32)

    def edition_share(self, depth: np.ndarray) -> np.ndarray:
        """HxW share of the noise variance an edition's own seeds provide (all 0 for edition 0)."""
        if not self.edition:
            return np.zeros(depth.shape, np.float32)
        return (EDITION_JITTER * np.clip(depth, 0.0, 1.0)).astype(np.float32)

    def field(self, depth: np.ndarray, channels: int) -> np.ndarray:
        """channels x H x W float32 standard normal noise at the depth map's size, each pixel's from
        its layer's seed, mixed with the edition's (the mix keeps unit variance)."""
        shape = (channels, *depth.shape)
        layer = self.layer_index(depth)
        noise = _by_layer(self.layer_seeds, layer, shape)
        if self.edition:
            share = self.edition_share(depth)
            noise = np.sqrt(1.0 - share) * noise + np.sqrt(share) * _by_layer(self.edition_seeds, layer, shape)
        return noise.astype(np.float32)

    def to_dict(self) -> dict:
        return {
            "layers": list(self.layer_seeds),
            "layer_starts": list(self.layer_starts),
            "edition": self.edition,
            "edition_seeds": list(self.edition_seeds),
            "edition_jitter": EDITION_JITTER if self.edition else 0.0,
            "subject_calm": round(self.subject_calm, 6),
        }


def _by_layer(seeds: tuple[int, ...], layer: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Each layer's pixels take their values from the full field drawn with that layer's seed, so a
    pixel's noise depends on its seed and position only, not on where the layer boundaries fall."""
    noise = np.empty(shape, np.float32)
    for index, seed in enumerate(seeds):
        where = layer == index
        if where.any():
            drawn = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
            noise[:, where] = drawn[:, where]
    return noise


def steps_held(strength: np.ndarray, steps: int) -> np.ndarray:
    """For a step-wise sampler running `steps` steps: how many of the first steps each pixel is held at
    the photo (re-noised to the sampler's noise level) before it is painted freely. A pixel with
    strength s is painted for the last s * steps of them; at least the last step is always free."""
    held = np.floor((1.0 - np.clip(strength, 0.0, 1.0)) * steps + 1e-6).astype(np.int32)
    return np.minimum(held, max(0, steps - 1)) if steps > 0 else held

