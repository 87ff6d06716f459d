"""The layer plan: 2-5 contiguous depth ranges -> per-pixel layers -> feathered alpha.

A plan is made from the photo's regions (domain.region_plan: whole regions on panes) or, where there
are no regions, from the depth histogram alone (LayerPlan.from_depth: every pixel by its depth).
Depth here is the 8-bit map written to depth_map.png: 0 = nearest, 255 = farthest.
Layer 1 is the front pane, layer N the back pane, which is always fully opaque.
"""

from __future__ import annotations

from typing import Iterator

import attrs
import numpy as np

from .errors import InvalidParameter
from .params import LAYER_COUNTS

DEPTH_LEVELS = 256
DEPTH_CONVENTION = "0 = nearest, 255 = farthest"
# auto: more layers only while each one added removes at least this share of the depth spread still
# left inside the layers (a scene of k separate planes stops at k, a smooth ramp of depths at 3) ...
AUTO_NEXT_LAYER_GAIN = 0.5
# ... or until the layers are flat already (depth spread inside them, as a standard deviation in
# levels of 255) ...
AUTO_FLAT_LAYER_LEVELS = 6.0
# ... and no pane left almost empty.
AUTO_MIN_COVERAGE = 0.02
BLUR_STRIP_PIXELS = 1 << 20  # the feather blur works on strips of rows of about this many pixels
CUT_BY_DEPTH = -1  # LayerPlan.region_panes: a region cut by depth


def quantize_depth(depth: np.ndarray) -> np.ndarray:
    """Float depth in [0, 1] (0 = nearest) -> the uint8 levels the plan and depth_map.png use."""
    return np.rint(np.clip(depth, 0.0, 1.0) * (DEPTH_LEVELS - 1)).astype(np.uint8)


@attrs.frozen
class DepthRange:
    lo: int
    hi: int  # inclusive

    def __contains__(self, level: int) -> bool:
        return self.lo <= level <= self.hi


@attrs.frozen
class LayerPlan:
    ranges: tuple[DepthRange, ...]
    coverage: tuple[float, ...]  # share of the pixels each layer owns
    # A plan of regions (empty: a plan of depths alone): per region id, the pane it is on whole, or
    # CUT_BY_DEPTH where it is cut by depth; then its cuts, the last depth level of each pane but the back.
    region_panes: tuple[int, ...] = ()
    region_cuts: tuple[tuple[int, ...], ...] = ()

    @classmethod
    def from_depth(cls, depth8: np.ndarray, count: int | None = None) -> LayerPlan:
        """Split the depth histogram into `count` ranges (None = pick 2-5 from the distribution).

        A flat depth map (one level) has nothing to split: one pane, whatever the count; so has auto when
        no split leaves every layer AUTO_MIN_COVERAGE of the picture. shortfall() says why."""
        if count is not None and count not in LAYER_COUNTS:
            raise InvalidParameter(f"layer count must be one of {', '.join(map(str, LAYER_COUNTS))}, got {count}")
        histogram = np.bincount(depth8.ravel(), minlength=DEPTH_LEVELS).astype(np.float64)
        if np.count_nonzero(histogram) <= 1:
            return cls.single()
        if count is None:
            return _auto_plan(histogram)
        plan = _plan(histogram, count)
        assert plan is not None  # only a level kept alone can make a split impossible
        return plan

    @classmethod
    def single(cls) -> LayerPlan:
        """One opaque pane holding every depth."""
        return cls(ranges=(DepthRange(0, DEPTH_LEVELS - 1),), coverage=(1.0,))

    @property
    def count(self) -> int:
        return len(self.ranges)

    def layer_of_level(self) -> np.ndarray:
        """Lookup table: depth level (0-255) -> layer index (0 = front)."""
        lookup = np.empty(DEPTH_LEVELS, dtype=np.uint8)
        for index, depth_range in enumerate(self.ranges):
            lookup[depth_range.lo : depth_range.hi + 1] = index
        return lookup

    def membership(self, depth8: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """HxW layer index of every pixel (0 = front): each pixel belongs to exactly one layer. A plan of
        regions needs the region labels it was made from."""
        if not self.region_panes:
            return self.layer_of_level()[depth8]
        if labels is None or labels.shape != depth8.shape:
            raise ValueError("a plan of regions needs the region labels of the depth map it cuts")
        membership = np.asarray(self.region_panes, np.int16)[labels]
        for region in self.cut_by_depth:
            where = labels == region
            membership[where] = np.searchsorted(np.asarray(self.region_cuts[region], np.int16), depth8[where])
        return membership.astype(np.uint8)

    def without_empty_panes(self, membership: np.ndarray) -> tuple[LayerPlan, np.ndarray]:
        """The plan without the panes no pixel of `membership` (each pixel's pane) is on, and the
        membership renumbered to match: a blank pane of glass is nothing a maker would cut. Each removed
        pane's depths, and the regions placed whole on it, go to the kept pane before it (the first kept
        pane takes those in front of it); the pixels keep their order."""
        occupied = np.bincount(membership.ravel(), minlength=self.count)[: self.count] > 0
        keep = [int(pane) for pane in np.flatnonzero(occupied)]
        if len(keep) == self.count or not keep:
            return self, membership
        new_index = np.maximum(np.cumsum(occupied) - 1, 0)
        ends = [self.ranges[after].lo - 1 for after in keep[1:]] + [DEPTH_LEVELS - 1]
        ranges = tuple(DepthRange(0 if new == 0 else self.ranges[old].lo, end)
                       for new, (old, end) in enumerate(zip(keep, ends)))
        panes = tuple(pane if pane == CUT_BY_DEPTH else int(new_index[pane]) for pane in self.region_panes)
        cuts = tuple(tuple(cut[old] for old in keep[:-1]) if cut else cut for cut in self.region_cuts)
        kept = LayerPlan(ranges=ranges, coverage=tuple(self.coverage[old] for old in keep), region_panes=panes,
                         region_cuts=cuts)
        return kept, new_index.astype(membership.dtype)[membership]

    @property
    def cut_by_depth(self) -> tuple[int, ...]:
        """The regions cut by depth, not placed whole: receding surfaces, and regions with a depth step
        inside them (the segmenter joined things at different depths)."""
        return tuple(region for region, pane in enumerate(self.region_panes) if pane == CUT_BY_DEPTH)

    def regions_on(self, index: int) -> tuple[int, ...]:
        """The regions placed whole on pane `index`."""
        return tuple(region for region, pane in enumerate(self.region_panes) if pane == index)

    def layer_names(self) -> list[str]:
        return [layer_name(order, self.count) for order in range(1, self.count + 1)]

    def manifest(self, *, job_id: str, feather_px: int, width: int, height: int) -> dict:
        layers = []
        for order, (name, depth_range, coverage) in enumerate(
            zip(self.layer_names(), self.ranges, self.coverage), start=1
        ):
            position = layer_position(order, self.count)
            layers.append(
                {
                    "name": name,
                    "file": f"{name}.png",
                    "order": order,
                    "depth_range": [depth_range.lo, depth_range.hi],
                    "coverage": round(coverage, 6),
                    "description": (
                        f"{position} layer: depth {depth_range.lo}-{depth_range.hi} of 255, "
                        f"{coverage:.0%} of the picture"
                    ),
                }
            )
        return {
            "job_id": job_id,
            "layer_count": self.count,
            "depth_convention": DEPTH_CONVENTION,
            "feather_px": feather_px,
            "width": width,
            "height": height,
            "layers": layers,
        }


def shortfall(depth8: np.ndarray, plan: LayerPlan, requested: int | None) -> str | None:
    """Why the plan has fewer layers than asked (None when it has them), for the job's warnings."""
    asked = "auto's 2-5" if requested is None else str(requested)
    if requested is not None and 1 < plan.count < requested:
        return (f"the scene has only {plan.count} separate depths of whole regions, so it is {plan.count} "
                f"layers instead of {asked}")
    if plan.count != 1:
        return None
    if np.ptp(depth8) == 0:
        return f"the depth map is flat (one depth everywhere), so the picture is one layer instead of {asked}"
    return (f"no depth plane besides the main one covers {AUTO_MIN_COVERAGE:.0%} of the picture, so it is one "
            f"layer instead of {asked}; ask for a number of layers to split it anyway")


def layer_position(order: int, count: int) -> str:
    if order == count:
        return "back"  # the one opaque pane, also when it is the only one
    return "front" if order == 1 else "mid"


def layer_name(order: int, count: int) -> str:
    return f"Layer_{order}_{layer_position(order, count)}"


def _auto_plan(histogram: np.ndarray, alone: int | None = None, scraps: float = 0.0) -> LayerPlan:
    total_spread = _spread(histogram, 0, DEPTH_LEVELS - 1)
    plans = [_plan(histogram, count, alone, scraps) for count in LAYER_COUNTS]
    usable = [plan for plan in plans if plan is not None and min(plan.coverage) >= AUTO_MIN_COVERAGE]
    if not usable:
        return LayerPlan.single()
    left = [1.0 - _separability(plan, histogram, total_spread) for plan in usable]
    keep = 1.0 - AUTO_NEXT_LAYER_GAIN
    for index, (plan, here) in enumerate(zip(usable, left)):
        # Looking further than one layer ahead: two close pairs of planes gain little from a third
        # layer but a lot from a fourth.
        later = left[index + 1 :]
        flat = here * total_spread / histogram.sum() <= AUTO_FLAT_LAYER_LEVELS**2
        if flat or all(there > keep ** (step + 1) * here for step, there in enumerate(later)):
            return plan
    return usable[-1]


def _separability(plan: LayerPlan, histogram: np.ndarray, total_spread: float) -> float:
    within = sum(_spread(histogram, r.lo, r.hi) for r in plan.ranges)
    return 1.0 - within / total_spread


def _spread(histogram: np.ndarray, lo: int, hi: int) -> float:
    """Sum of squared deviations from the mean of the depth levels lo..hi."""
    levels = np.arange(lo, hi + 1, dtype=np.float64)
    weights = histogram[lo : hi + 1]
    n = weights.sum()
    if n == 0:
        return 0.0
    mean = (weights * levels).sum() / n
    return float((weights * (levels - mean) ** 2).sum())


def _plan(histogram: np.ndarray, count: int, alone: int | None = None, scraps: float = 0.0) -> LayerPlan | None:
    """The best split into `count` ranges; with `alone`, one whose range holding that level holds no
    other occupied level but scraps, levels holding at most that share of the histogram (None where
    there is none)."""
    ends, cost = _optimal_ends(histogram, count, alone, scraps)
    if not np.isfinite(cost):
        return None
    ends = _centre_in_gaps(histogram, ends)
    starts = [0, *(end + 1 for end in ends[:-1])]
    ranges = tuple(DepthRange(lo, hi) for lo, hi in zip(starts, ends))
    total = histogram.sum()
    coverage = tuple(
        float(histogram[r.lo : r.hi + 1].sum() / total) if total else 0.0 for r in ranges
    )
    return LayerPlan(ranges=ranges, coverage=coverage)


def _optimal_ends(histogram: np.ndarray, count: int, alone: int | None = None, scraps: float = 0.0
                  ) -> tuple[list[int], float]:
    """Multi-level Otsu by dynamic programming: the split of 0..255 into `count` non-empty runs of
    levels with the least within-run squared deviation (no run holding `alone` and another level
    holding more than `scraps` of the histogram). Returns the last level of each run, and the split's
    cost (inf: no such split)."""
    cost = _run_costs(histogram)  # cost[a, b]: spread of the run a..b (inf where a > b)
    if alone is not None:
        counted = (histogram > scraps * histogram.sum()) | (np.arange(DEPTH_LEVELS) == alone)
        occupied = np.concatenate([[0], np.cumsum(counted)])
        start, end = np.meshgrid(np.arange(DEPTH_LEVELS), np.arange(DEPTH_LEVELS), indexing="ij")
        shared = (start <= alone) & (alone <= end) & (occupied[end + 1] - occupied[start] > 1)
        cost = np.where(shared, np.inf, cost)
    best = cost[0]  # best[b]: least cost of levels 0..b split into k runs
    first_level = np.zeros((count, DEPTH_LEVELS), dtype=int)
    for k in range(1, count):
        # A new run starting at level a >= k follows k runs over 0..a-1.
        totals = np.full((DEPTH_LEVELS, DEPTH_LEVELS), np.inf)
        totals[k:] = best[k - 1 : -1, None] + cost[k:]
        # argmin keeps the first of equal splits, so the plan is the same on every machine.
        first_level[k] = np.argmin(totals, axis=0)
        best = totals[first_level[k], np.arange(DEPTH_LEVELS)]
    ends = [DEPTH_LEVELS - 1]
    for k in range(count - 1, 0, -1):
        ends.append(int(first_level[k, ends[-1]]) - 1)
    return ends[::-1], float(best[-1])


def _run_costs(histogram: np.ndarray) -> np.ndarray:
    levels = np.arange(DEPTH_LEVELS, dtype=np.float64)
    n, s1, s2 = (
        np.concatenate([[0.0], np.cumsum(histogram * levels**power)]) for power in (0, 1, 2)
    )
    start, end = np.meshgrid(np.arange(DEPTH_LEVELS), np.arange(DEPTH_LEVELS), indexing="ij")
    count = n[end + 1] - n[start]
    total = s1[end + 1] - s1[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_part = np.where(count > 0, total**2 / count, 0.0)
    cost = np.maximum(s2[end + 1] - s2[start] - mean_part, 0.0)
    return np.where(start <= end, cost, np.inf)


def _centre_in_gaps(histogram: np.ndarray, ends: list[int]) -> list[int]:
    """Equal-cost splits inside an empty stretch of the histogram: put the boundary mid-valley."""
    occupied = np.flatnonzero(histogram)
    centred = list(ends)
    for i, end in enumerate(centred[:-1]):
        lo = centred[i - 1] + 1 if i else 0
        below = occupied[(occupied >= lo) & (occupied <= end)]
        above = occupied[(occupied > end) & (occupied <= centred[i + 1])]
        if below.size and above.size:
            centred[i] = int((below[-1] + above[0]) // 2)
    return centred


def layer_alphas(membership: np.ndarray, count: int, feather_px: float) -> Iterator[np.ndarray]:
    """Alpha of each layer, front to back, one at a time (HxW float32 in [0, 1]); the back layer's,
    opaque everywhere, as a read-only constant that holds no memory (48 MB at 12 MP).

    The soft share of layer i is the blurred hard mask, s_i = blur(M_i); blur is linear, so the shares
    sum to 1 at every pixel. Stacking with "over" shows layer i with weight a_i * prod_{j<i}(1 - a_j);
    choosing a_i = s_i / sum_{j>=i} s_j makes that weight exactly s_i, and the back layer opaque.
    With tail_i = blur(membership >= i) we have s_i = tail_i - tail_{i+1}: two blurs per layer (tail_i is
    made again rather than kept from the layer before: kept, it was a third photo-size map, 48 MB at
    12 MP, beside the layer's alpha and visibility through its fill, at the job's peak; a blur takes
    0.13 s of CPU there).
    """
    if count < 1:
        return
    for index in range(count - 1):
        tail = np.ones(membership.shape, dtype=np.float32) if index == 0 else blur(membership > index - 1, feather_px)
        next_tail = blur(membership > index, feather_px)
        alpha = np.subtract(tail, next_tail)
        np.maximum(alpha, 0.0, out=alpha)
        np.divide(alpha, tail, out=alpha, where=tail > 1e-6)
        alpha[tail <= 1e-6] = 0.0
        np.clip(alpha, 0.0, 1.0, out=alpha)
        del tail, next_tail  # neither held while the layer is worked on
        yield alpha
        del alpha  # not held while the next one is made
    yield np.broadcast_to(np.float32(1.0), membership.shape)


def blur(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """The mask smoothed over feather px (see smoothed), its plateaus snapped: alpha away from an edge
    is exactly 0 or 1, as on the hard mask (the taps sum to 1 only up to rounding). A true/false mask is
    smoothed only in the box around its edges, with the rows and columns the blur reaches: outside it
    every pixel sees one value around it and takes what a uniform mask of that value gives."""
    if feather_px <= 0 or mask.dtype != bool:
        return _snapped(smoothed(mask, feather_px), feather_px)
    radius = int(np.ceil(feather_px))
    uniform_true = _snapped(smoothed(np.ones((1, 1), bool), feather_px), feather_px)[0, 0]
    out = np.multiply(mask, uniform_true, dtype=np.float32)  # a uniform false mask gives 0
    rows, columns = _around_edges(mask, radius)
    if rows.stop > rows.start:
        height, width = mask.shape
        top, left = max(rows.start - radius, 0), max(columns.start - radius, 0)
        reached = smoothed(mask[top : min(rows.stop + radius, height), left : min(columns.stop + radius, width)],
                           feather_px)
        out[rows, columns] = _snapped(reached[rows.start - top : rows.stop - top,
                                              columns.start - left : columns.stop - left], feather_px)
    return out


def _snapped(blurred: np.ndarray, feather_px: float) -> np.ndarray:
    if feather_px > 0:
        blurred[blurred > 1 - 1e-6] = 1.0
        blurred[blurred < 1e-6] = 0.0
    return blurred


def _around_edges(mask: np.ndarray, reach: int) -> tuple[slice, slice]:
    """The box of the pixels within reach (across or down) of two neighbours that differ: empty if
    none do."""
    across, down = mask[:, 1:] != mask[:, :-1], mask[1:] != mask[:-1]
    rows = np.flatnonzero(across.any(axis=1) | np.pad(down.any(axis=1), (0, 1)) | np.pad(down.any(axis=1), (1, 0)))
    columns = np.flatnonzero(down.any(axis=0) | np.pad(across.any(axis=0), (0, 1)) | np.pad(across.any(axis=0), (1, 0)))
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    height, width = mask.shape
    return (slice(max(int(rows[0]) - reach, 0), min(int(rows[-1]) + 1 + reach, height)),
            slice(max(int(columns[0]) - reach, 0), min(int(columns[-1]) + 1 + reach, width)))


def smoothed(values: np.ndarray, feather_px: float) -> np.ndarray:
    """Separable Gaussian cut at the feather radius (sigma = feather / 3, so the cut is at 3 sigma),
    with edge padding, numpy only: an edge softens over at most feather px on either side. Made in
    strips of rows through buffers used again for each strip, so no photo-size temporary is made
    beside the result (each pixel's sum is the same as done whole, tap by tap in the same order)."""
    if feather_px <= 0:
        return values.astype(np.float32)
    radius = int(np.ceil(feather_px))
    sigma = radius / 3.0
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    height, width = values.shape[:2]
    trailing = values.shape[2:]
    out = np.empty(values.shape, np.float32)
    rows = max(1, min(height, BLUR_STRIP_PIXELS // max(1, width)))
    tall = np.empty((rows + 2 * radius, width, *trailing), np.float32)  # the strip with the rows it reaches
    wide = np.empty((rows, width + 2 * radius, *trailing), np.float32)  # the strip blurred down the columns
    term = np.empty((rows, width, *trailing), np.float32)
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        count = bottom - top
        # the rows the strip reaches, the edge rows repeated past the picture
        tall[: count + 2 * radius] = values[np.clip(np.arange(top - radius, bottom + radius), 0, height - 1)]
        _accumulate(tall[: count + 2 * radius], taps, wide[:count, radius : radius + width], term[:count], axis=0)
        wide[:count, :radius] = wide[:count, radius : radius + 1]
        wide[:count, radius + width :] = wide[:count, radius + width - 1 : radius + width]
        _accumulate(wide[:count], taps, out[top:bottom], term[:count], axis=1)
    return out


def _accumulate(padded: np.ndarray, taps: np.ndarray, out: np.ndarray, term: np.ndarray, axis: int) -> None:
    """out = sum over the taps of weight x padded shifted along axis, added tap by tap from zero."""
    length = out.shape[axis]
    out[...] = 0.0
    window = [slice(None)] * padded.ndim
    for offset, weight in enumerate(taps):
        window[axis] = slice(offset, offset + length)
        np.multiply(padded[tuple(window)], weight, out=term)
        out += term


def layer_rgba(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Every layer carries the composite's own colours, so any stack of them reproduces it exactly."""
    rgb = np.where(alpha[..., None] > 0, image, 0.0)
    return np.concatenate([rgb, alpha[..., None]], axis=-1).astype(np.float32)


def stack_over(layers_front_to_back: list[np.ndarray]) -> np.ndarray:
    """Composite RGBA layers back to front with alpha "over"; returns RGB."""
    back = layers_front_to_back[-1]
    out = back[..., :3] * back[..., 3:4]
    for layer in reversed(layers_front_to_back[:-1]):
        alpha = layer[..., 3:4]
        out = layer[..., :3] * alpha + out * (1.0 - alpha)
    return out
