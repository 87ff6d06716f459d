"""The layer plan of a photo's regions: whole regions on panes, cut where the scene has its depth steps.

A maker cuts around whole things (a person, a cup, a tree) and puts each on its own card; a floor or a
table that recedes through several cards is cut where an object stands on it, so that the cut hides
behind the object. The plan does the same with the photo's regions and its 8-bit depth (0 = near):

1. Each region gets its depth (its median) and is tested for a *receding surface*: a plane fitted to
   its depth explains most of it (RECEDING_FIT), the plane's depth spans RECEDING_SPREAD levels or more,
   the region is at least RECEDING_MIN_SHARE of the picture, wider across its slope than along it
   (a floor, a road, a table, a wall seen askew; a standing person whose depth the estimator made a
   gradient is taller along its slope than across it) and runs out of the frame somewhere nearer
   than its mean depth (a floor comes towards the viewer past the frame; a ball cut by the top of the
   frame does not). A region named as a thing ("person", "face") is never a surface, nor one named
   upright (UPRIGHT_NAMES: a wall, the sky, a backdrop, which the estimator's depth may make a gradient
   but which nothing stands on; placed whole, such a region goes behind the main thing's card, see
   6.), and a surface nothing stands on (nothing is just above it at its depth there, within
   CONTACT_STEP) is one more region.
   An unnamed region with a depth step inside it (MIXED_STEP levels between samples a band apart, both
   a band inside the region, along a line MIXED_LINE of its size long) holds things at different
   depths that the segmenter joined: it is cut by the plan's depth ranges rather than put whole on a
   pane it only partly belongs to. An
   upright region is cut only for a cliff, as a thing is (see 6.): the estimator's depth down a
   plain wall steps where its cues meet, and a maker never cuts a wall into bands.
2. The depth step across each boundary between two regions is measured STEP_BAND_FRACTION of the
   picture either side of it (estimated depth is soft at edges). Adjacent regions with a step under
   SAME_STEP levels and medians within SAME_SPREAD belong together and are merged into one group,
   weakest steps first: the parts of one object. So do the parts of one named thing that the segmenter
   found apart (two macaws side by side, each a part of the subject) whose medians are within
   SAME_SPREAD. Regions cut by depth are never merged.
3. Each group is one atom at its median depth, weighing its pixel count; each mixed region adds its
   pixels' depths. The split of the atoms' depths into panes is the multi-level Otsu of
   layers._plan / layers._auto_plan on that histogram, so the cuts fall in the gaps between groups and
   auto picks the count the scene's gaps support.
4. A receding surface follows the things standing on it: it is cut at its contact depth with the
   largest thing of each pane standing on it (the depth of the surface just below that thing), so the
   surface in front of a thing is on the thing's pane and each cut hides behind a thing; the surface
   behind the last thing goes on the pane of its own depth there, at least one further back. The main
   thing's card (see 6.) is the exception: the surface before the main thing (nearer than their contact)
   is one more atom of 3., a foreground, so that the split puts it on a pane before the card where it
   can (the maker's three cards of a thing on a floor: the floor before it, the thing, the rest).
5. Fewer panes than wanted (the count asked, 2 for auto): the merges of 2. are undone, weakest first
   (SAME_STEP halved, then 0); when even that falls short (a subject on the backdrop it stands on),
   the receding surfaces count as regions of their own, placed whole, and the same again. The plan
   with the most panes wins, the first of equals.
6. Named things. The segmenter's names are trusted: a region named as a thing ("person", "subject")
   is never a surface, never cut for a depth step inside it short of a cliff (NAMED_MIXED_STEP, which
   no thing holds: there the segmenter took two things for one), never joined to a region of another
   name, and the largest one gets a pane to itself where a split can give it one: the maker's card for the
   subject, with its surroundings on the panes around it. Where no split can, because a scrap too
   small for a pane of its own (SCRAPS: a strip of floor at the frame's bottom) is nearer than the
   subject, such scraps may share its card. (What belongs to the subject but is not in
   its region, a helmet held beside a person, goes by its own depth.) A region cut for a depth step
   inside it puts nothing on that card: what its depth would put there goes on the pane behind (the
   depth map bleeds from a person into the wall beside her).
"""

from __future__ import annotations

import attrs
import numpy as np

from .errors import InvalidParameter
from .layers import (
    AUTO_MIN_COVERAGE,
    DEPTH_LEVELS,
    CUT_BY_DEPTH,
    LayerPlan,
    _auto_plan,
    _plan,
)
from .params import LAYER_COUNTS
from .regions import Regions, frame_border

WORK_PIXELS = 300_000  # fits and boundary steps on a regular sample of about this many pixels
RECEDING_FIT = 0.8  # share of a region's depth variance a plane must explain
RECEDING_SPREAD = 40  # levels between the 10th and 90th percentile of the region's depth
RECEDING_MIN_SHARE = 0.02
SURFACE_NAMES = frozenset(
    {"", "backdrop", "floor", "ground", "road", "table", "sky", "wall", "water", "grass", "ceiling"}
)
UPRIGHT_NAMES = frozenset({"wall", "sky", "backdrop", "ceiling"})  # nothing stands on them: never cut at contacts
STEP_BAND_FRACTION = 0.01  # of the long side, at least one sample
SAME_STEP = 12  # levels: adjacent regions this close across their boundary are one thing ...
SAME_SPREAD = 24  # ... when their depths (medians) are this close too
# A region with a depth step inside it (samples a band apart differing by MIXED_STEP levels, along a
# line at least MIXED_LINE of the region's size long) holds more than one thing: it is cut by depth.
MIXED_STEP = 24
# ... and a region named as a thing or an upright surface only for a cliff this high: neither holds
# one, so the segmenter took two things for one (the built-in depth's softer steps inside a person,
# or its gradient down a wall, do not count).
NAMED_MIXED_STEP = 96
CONTACT_STEP = 16  # levels: a thing stands on the surface below it when their depths meet this closely ...
STANDING_BASE = 0.25  # ... along its base: the lowest quarter of its height
MIXED_LINE = 0.25
SCRAPS = AUTO_MIN_COVERAGE  # of the atoms' pixels: too small for a pane of its own in auto


def plan_regions(depth8: np.ndarray, regions: Regions, count: int | None = None) -> LayerPlan:
    """The plan of `count` panes (None = auto, 2-5) placing whole regions; see the module's notes.

    Regions.whole (no segmentation) plans every pixel by its depth, as LayerPlan.from_depth."""
    if count is not None and count not in LAYER_COUNTS:
        raise InvalidParameter(f"layer count must be one of {', '.join(map(str, LAYER_COUNTS))}, got {count}")
    if regions.labels.shape != depth8.shape:
        raise ValueError(f"regions of {regions.labels.shape} for a depth map of {depth8.shape}")
    if regions.count == 1 or np.ptp(depth8) == 0:
        return LayerPlan.from_depth(depth8, count)
    facts = _RegionFacts(depth8, regions)
    wanted = count or 2
    best = (LayerPlan(ranges=(), coverage=()), np.arange(regions.count), True)
    for cut_surfaces in (True, False):
        facts.cut_surfaces(cut_surfaces)
        for same_step in (SAME_STEP, SAME_STEP // 2, SAME_STEP // 4, 0):
            groups = facts.groups(same_step)
            histogram = facts.atoms(groups)
            plan = _split_around(histogram, count, facts.main_thing_level(groups)) or _split(histogram, count)
            if plan.count > best[0].count:
                best = (plan, groups, cut_surfaces)
            if plan.count >= wanted:
                break
        if best[0].count >= wanted:
            break
    plan, groups, cut_surfaces = best
    facts.cut_surfaces(cut_surfaces)
    return facts.placed(plan, groups)


def _split(histogram: np.ndarray, count: int | None) -> LayerPlan:
    """The panes of the atoms' depth histogram: auto, or `count` as far as it has that many depths."""
    depths = int(np.count_nonzero(histogram))
    if depths <= 1:
        return LayerPlan.single()
    plan = _auto_plan(histogram) if count is None else _plan(histogram, min(count, depths))
    assert plan is not None  # only a depth kept alone can make a split impossible
    return plan


def _split_around(histogram: np.ndarray, count: int | None, alone: int | None) -> LayerPlan | None:
    """As _split, with the depth `alone` on a pane of its own; None where no split gives it one. Where
    none does, scraps too small for a pane (a strip of floor at the frame's bottom) may share it."""
    depths = int(np.count_nonzero(histogram))
    if alone is None or depths <= 1:
        return None
    for scraps in (0.0, SCRAPS):
        plan = (_auto_plan(histogram, alone, scraps) if count is None
                else _plan(histogram, min(count, depths), alone, scraps))
        if plan is not None and plan.count > 1:
            return plan
    return None


class _RegionFacts:
    """What the plan knows of each region: depth histogram, size, surface or not, boundary steps."""

    def __init__(self, depth8: np.ndarray, regions: Regions):
        self.depth8, self.labels, self.count = depth8, regions.labels, regions.count
        self.histograms = np.bincount(
            (regions.labels.astype(np.int64) * DEPTH_LEVELS + depth8).ravel(), minlength=self.count * DEPTH_LEVELS
        ).reshape(self.count, DEPTH_LEVELS)
        self.sizes = self.histograms.sum(axis=1)
        stride = max(1, int(np.ceil(np.sqrt(depth8.size / WORK_PIXELS))))
        labels, depth = regions.labels[::stride, ::stride], depth8[::stride, ::stride].astype(np.float64)
        named = np.array([name not in SURFACE_NAMES for name in regions.names])
        self.names, self.named = regions.names, named
        band = max(1, round(STEP_BAND_FRACTION * max(depth8.shape) / stride))
        self.upright = upright = np.array([name in UPRIGHT_NAMES for name in regions.names])
        receding = _receding(labels, depth, self.count, self.histograms, depth8.size) & ~named & ~upright
        mixed = np.where(named | upright, _mixed(labels, depth, self.count, band, NAMED_MIXED_STEP),
                         _mixed(labels, depth, self.count, band, MIXED_STEP))
        self.pairs, self.steps = _boundary_steps(labels, depth, band)
        self.contacts = _contacts(labels, depth, band)
        # A surface is cut only where things stand on it; with nothing on it, it is one more region.
        stood_on = np.zeros(self.count, bool)
        for thing, under in self.contacts:
            stood_on[under] |= not (receding[thing] or mixed[thing])
        self.surfaces, self.mixed = receding & stood_on & ~mixed, mixed
        self.cut_surfaces(True)

    def cut_surfaces(self, cut: bool) -> None:
        """Whether receding surfaces are cut where things stand on them, or count as regions of their own."""
        self.receding = self.surfaces if cut else np.zeros(self.count, bool)
        self.by_depth = self.receding | self.mixed

    def groups(self, same_step: int) -> np.ndarray:
        """Per region, its group's id (a region id): adjacent regions that are one thing share one."""
        parent = np.arange(self.count)
        histograms = self.histograms.astype(np.int64).copy()

        def root(region: int) -> int:
            while parent[region] != region:
                parent[region] = parent[parent[region]]
                region = parent[region]
            return region

        for (a, b), step in zip(self.pairs, self.steps):  # weakest steps first
            if step >= same_step or self.by_depth[a] or self.by_depth[b]:
                continue
            ra, rb = root(a), root(b)
            if not self.joinable(ra, rb):
                continue
            if ra == rb or abs(_median(histograms[ra]) - _median(histograms[rb])) > SAME_SPREAD:
                continue
            keep, gone = (ra, rb) if self.named[ra] or (not self.named[rb] and ra < rb) else (rb, ra)
            parent[gone] = keep
            histograms[keep] += histograms[gone]
        if same_step:
            # Parts of one thing the segmenter found apart (two macaws side by side, each its own part of
            # the subject) at about one depth are one group, nearest first, each joining the group before
            # it where their medians are within SAME_SPREAD
            things = sorted({root(int(region)) for region in np.flatnonzero(self.named & ~self.by_depth)},
                            key=lambda group: (self.names[group], _median(histograms[group])))
            for before, after in zip(things, things[1:]):
                ra, rb = root(before), root(after)
                if (self.names[ra] == self.names[rb]
                        and abs(_median(histograms[ra]) - _median(histograms[rb])) <= SAME_SPREAD):
                    parent[rb] = ra
                    histograms[ra] += histograms[rb]
        return np.array([root(region) for region in range(self.count)])

    def joinable(self, ra: int, rb: int) -> bool:
        """Whether two groups (by their root regions) may be joined: a named thing only with one of its
        own name (a person is not joined to the wall behind, however smooth the depth between them)."""
        return not (self.named[ra] or self.named[rb]) or self.names[ra] == self.names[rb]

    def main_thing(self) -> int | None:
        """The largest region named as a thing and placed whole (None: there is none)."""
        things = np.flatnonzero(self.named & ~self.by_depth)
        return None if things.size == 0 else int(things[np.argmax(self.sizes[things])])

    def main_thing_level(self, groups: np.ndarray) -> int | None:
        """The depth of the group holding the main thing (None: none is named), which gets a pane of its
        own where the plan can give it one: a maker's card for the subject."""
        largest = self.main_thing()
        if largest is None:
            return None
        members = (groups == groups[largest]) & ~self.by_depth
        return _median(self.histograms[members].sum(axis=0))

    def atoms(self, groups: np.ndarray) -> np.ndarray:
        """The depth histogram the panes are planned on: each group as its size at its median depth,
        each mixed region as its pixels' depths. Receding surfaces follow the things on them."""
        histogram = self.histograms[self.by_depth & ~self.receding].sum(axis=0).astype(np.float64)
        for group in np.unique(groups[~self.by_depth]):
            members = (groups == group) & ~self.by_depth
            histogram[_median(self.histograms[members].sum(axis=0))] += self.sizes[members].sum()
        for level, size in self.foregrounds(groups).values():
            histogram[level] += size
        return histogram

    def foregrounds(self, groups: np.ndarray) -> dict[int, tuple[int, int]]:
        """Per receding surface the main thing stands on, the part of it before the thing (nearer than
        their contact) as one more atom, its median depth and its size: a foreground of its own, which the
        split puts before the main thing's card where it can."""
        main = self.main_thing()
        if main is None:
            return {}
        contacts: dict[int, tuple[int, float]] = {}
        for (thing, under), (contact, length) in self.contacts.items():
            if groups[thing] == groups[main] and self.receding[under] and length > contacts.get(under, (0, 0.0))[0]:
                contacts[under] = (length, contact)
        parts = {}
        for under, (_, contact) in contacts.items():
            before = self.histograms[under].copy()
            before[int(contact):] = 0
            if before.any():
                parts[under] = (_median(before), int(before.sum()))
        return parts

    def placed(self, plan: LayerPlan, groups: np.ndarray) -> LayerPlan:
        """The plan with every region on the pane of its group's depth; mixed regions cut at the plan's
        depth ranges, receding surfaces where things stand on them (whole where nothing does)."""
        lookup = plan.layer_of_level()
        panes = [CUT_BY_DEPTH] * self.count
        for group in np.unique(groups):
            members = np.flatnonzero((groups == group) & ~self.by_depth)
            if members.size:
                pane = int(lookup[_median(self.histograms[members].sum(axis=0))])
                for member in members:
                    panes[member] = pane
        cuts: list[tuple[int, ...]] = [()] * self.count
        main = self.main_thing()
        foregrounds = self.foregrounds(groups)
        if main is not None and panes[main] + 1 < plan.count:
            # a wall, the sky or a backdrop stands behind the subject, whatever the depth map's gradient says
            for region in map(int, np.flatnonzero(self.upright & ~self.by_depth)):
                panes[region] = max(panes[region], panes[main] + 1)
        for region in map(int, np.flatnonzero(self.by_depth)):
            if not self.receding[region]:
                cuts[region] = _skipping(tuple(r.hi for r in plan.ranges[:-1]), None if main is None else panes[main])
            elif (surface := self.surface_cuts(region, lookup, panes)) is not None:
                front = int(lookup[foregrounds[region][0]]) if region in foregrounds else None
                cuts[region] = surface if main is None else _in_front_of(surface, panes[main], front)
            else:
                panes[region] = int(lookup[_median(self.histograms[region])])
        placed = LayerPlan(ranges=plan.ranges, coverage=plan.coverage, region_panes=tuple(panes),
                           region_cuts=tuple(cuts))
        # a wall sent behind the subject may empty the pane its depth gave it
        placed, membership = placed.without_empty_panes(placed.membership(self.depth8, self.labels))
        coverage = np.bincount(membership.ravel(), minlength=placed.count)[: placed.count] / membership.size
        return attrs.evolve(placed, coverage=tuple(float(share) for share in coverage))

    def surface_cuts(self, surface: int, lookup: np.ndarray, panes: list[int]) -> tuple[int, ...] | None:
        """A receding surface's cuts (the last depth level of each pane but the back; -1: none of it),
        at its contact depth with the largest thing of each pane standing on it, nearest first: the
        surface in front of a thing is on the thing's pane, the surface behind the last thing on the
        pane of its own depth there, at least one further back. None when nothing stands on it."""
        count = int(lookup.max()) + 1
        standing: dict[int, tuple[int, int, float]] = {}
        for (thing, under), (contact, length) in self.contacts.items():
            pane = panes[thing]
            if under == surface and pane != CUT_BY_DEPTH and (length, -thing) > standing.get(pane, (0, 0, 0))[:2]:
                standing[pane] = (length, -thing, contact)
        accepted: list[tuple[int, int]] = []
        for pane in sorted(standing):
            contact = int(standing[pane][2])
            if not accepted or contact > accepted[-1][1]:
                accepted.append((pane, contact))
        if not accepted:
            return None
        cuts = [-1] * (count - 1)
        for (pane, contact), after in zip(accepted, [*accepted[1:], None]):
            last = after[0] if after else count - 1
            for between in range(pane, min(last, count - 1)):
                cuts[between] = contact
        pane, contact = accepted[-1]
        beyond = self.histograms[surface].copy()
        beyond[: contact + 1] = 0
        if pane < count - 1 and beyond.any():
            farthest = min(count - 1, max(pane + 1, int(lookup[_median(beyond)])))
            for behind in range(farthest, count - 1):
                cuts[behind] = DEPTH_LEVELS - 1
        return tuple(cuts)


def _skipping(cuts: tuple[int, ...], pane: int | None) -> tuple[int, ...]:
    """A mixed region's cuts with nothing of it on `pane` (the main thing's card): what depth alone
    would put there, the edge of the wall where the depth map bleeds from the person into it, goes
    on the pane behind. The back pane is never skipped."""
    if pane is None or pane >= len(cuts):
        return cuts
    skipped = list(cuts)
    skipped[pane] = skipped[pane - 1] if pane > 0 else -1
    return tuple(skipped)


def _in_front_of(cuts: tuple[int, ...], pane: int, front: int | None) -> tuple[int, ...]:
    """A receding surface's cuts with nothing of it on `pane` (the main thing's card) where a pane lies
    in front: what of it the cuts put there goes on the pane `front` (of the depth of the surface before
    the thing; None: the pane just in front) and those up to the card, a foreground before the card,
    which holds the thing alone."""
    if pane == 0 or pane >= len(cuts):
        return cuts
    moved = list(cuts)
    for before in range(pane - 1 if front is None else min(front, pane - 1), pane):
        moved[before] = max(moved[before], moved[pane])
    return tuple(moved)


def _median(histogram: np.ndarray) -> int:
    cumulative = np.cumsum(histogram)
    return int(np.searchsorted(cumulative, cumulative[-1] / 2))


def _percentile(histograms: np.ndarray, share: float) -> np.ndarray:
    cumulative = np.cumsum(histograms, axis=1)
    return (cumulative < share * cumulative[:, -1:]).sum(axis=1)


def _receding(labels: np.ndarray, depth: np.ndarray, count: int, histograms: np.ndarray, pixels: int) -> np.ndarray:
    """Per region, whether it is a receding surface (module notes, 1.), from a least-squares plane
    depth = a x + b y + c fitted to each region at once through sums of products."""
    height, width = labels.shape
    y, x = np.mgrid[0:height, 0:width].astype(np.float64) / max(height, width)
    flat = labels.ravel()

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(flat, weights=values.ravel(), minlength=count)

    n = np.maximum(total(np.ones_like(x)), 1)
    mx, my, md = total(x) / n, total(y) / n, total(depth) / n
    cx, cy, cd = x - mx[labels], y - my[labels], depth - md[labels]
    sxx, syy, sxy = total(cx * cx), total(cy * cy), total(cx * cy)
    sxd, syd, sdd = total(cx * cd), total(cy * cd), total(cd * cd)
    determinant = sxx * syy - sxy**2
    ok = determinant > 1e-12 * np.maximum(sxx * syy, 1e-30)
    safe = np.where(ok, determinant, 1.0)
    a = np.where(ok, (syy * sxd - sxy * syd) / safe, 0.0)
    b = np.where(ok, (sxx * syd - sxy * sxd) / safe, 0.0)
    explained = np.where(sdd > 0, (a * sxd + b * syd) / np.where(sdd > 0, sdd, 1.0), 0.0)
    # extent of the region along its slope and across it (coordinate variance in those directions)
    norm = np.hypot(a, b)
    ux, uy = np.where(norm > 0, a / np.where(norm > 0, norm, 1), 0), np.where(norm > 0, b / np.where(norm > 0, norm, 1), 0)
    along = ux * ux * sxx + 2 * ux * uy * sxy + uy * uy * syy
    across = uy * uy * sxx - 2 * ux * uy * sxy + ux * ux * syy
    spread = _percentile(histograms, 0.9) - _percentile(histograms, 0.1)
    share = histograms.sum(axis=1) / pixels
    return (ok & (explained >= RECEDING_FIT) & (spread >= RECEDING_SPREAD) & (share >= RECEDING_MIN_SHARE)
            & (across >= along) & _running_out_nearer(labels, depth, count, md))


def _running_out_nearer(labels: np.ndarray, depth: np.ndarray, count: int, mean_depth: np.ndarray) -> np.ndarray:
    """Per region, whether it runs out of the frame somewhere nearer than its mean: a floor, a road or
    a table comes towards the viewer past the frame's edge (a table's near part may be hidden behind a
    cup, but it still meets a side of the frame at its nearer depths). A thing wider than tall whose
    depth the estimator made a gradient ends inside the frame (a car), or is cut by the frame only
    where it is far (a ball cut by the top of the frame)."""
    edge, edge_depth = frame_border(labels), frame_border(depth)
    nearest_on_edge = np.full(count, np.inf)
    np.minimum.at(nearest_on_edge, edge, edge_depth)
    return nearest_on_edge <= mean_depth


def _boundary_steps(labels: np.ndarray, depth: np.ndarray, band: int):
    """Every pair of adjacent regions (a < b), weakest step first, with the depth step across their
    boundary: the median of |depth on a's side - depth on b's side| over sample pairs `band` apart
    across it."""
    firsts, seconds, depth_firsts, depth_seconds = [], [], [], []
    for axis in (0, 1):
        size = labels.shape[axis]
        shift = min(band, size - 1)
        if shift <= 0:
            continue
        near = [slice(None)] * 2
        far = [slice(None)] * 2
        near[axis], far[axis] = slice(0, size - shift), slice(shift, size)
        # only across a boundary: the two samples differ and so do their direct neighbours on that line
        la, lb = labels[tuple(near)], labels[tuple(far)]
        across = la != lb
        firsts.append(la[across])
        seconds.append(lb[across])
        depth_firsts.append(depth[tuple(near)][across])
        depth_seconds.append(depth[tuple(far)][across])
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    depth_first, depth_second = np.concatenate(depth_firsts), np.concatenate(depth_seconds)
    swap = first > second
    a, b = np.where(swap, second, first), np.where(swap, first, second)
    depth_a, depth_b = np.where(swap, depth_second, depth_first), np.where(swap, depth_first, depth_second)
    if a.size == 0:
        return [], np.zeros(0)
    key = a.astype(np.int64) * (int(labels.max()) + 1) + b
    signed = depth_a - depth_b
    order = np.lexsort((signed, key))
    key, signed, a, b = key[order], signed[order], a[order], b[order]
    _, starts, lengths = np.unique(key, return_index=True, return_counts=True)
    steps = np.abs(signed[starts + lengths // 2])
    pairs = list(zip(a[starts].tolist(), b[starts].tolist()))
    by_step = sorted(range(len(pairs)), key=lambda i: (steps[i], pairs[i]))
    return [pairs[i] for i in by_step], steps[by_step]


def _contacts(labels: np.ndarray, depth: np.ndarray, band: int) -> dict[tuple[int, int], tuple[float, int]]:
    """Where a region stands on another (is just above it in the picture, `band` samples up, at about
    the same depth: within CONTACT_STEP; a thing in front of a wall is above the wall too, but nearer),
    along the lowest STANDING_BASE of its height (a person's shoulders above the wall beside them are no
    base):
    for each such (thing, under) pair, the median depth of `under` along that contact line and the
    line's length."""
    band = min(band, labels.shape[0] - 1)
    if band <= 0:
        return {}
    upper, lower = labels[:-band], labels[band:]
    count = int(labels.max()) + 1
    rows = np.broadcast_to(np.arange(labels.shape[0])[:, None], labels.shape)
    top, bottom = np.full(count, labels.shape[0]), np.zeros(count, np.int64)
    np.minimum.at(top, labels.ravel(), rows.ravel())
    np.maximum.at(bottom, labels.ravel(), rows.ravel())
    # a thing stands on what is under its base, not on a wall beside its shoulders
    base = bottom - STANDING_BASE * (bottom - top)
    on = ((upper != lower) & (np.abs(depth[:-band] - depth[band:]) < CONTACT_STEP)
          & (rows[:-band] >= base[upper]))
    thing, under, depth_under = upper[on], lower[on], depth[band:][on]
    if thing.size == 0:
        return {}
    key = thing.astype(np.int64) * count + under
    order = np.lexsort((depth_under, key))
    key, thing, under, depth_under = key[order], thing[order], under[order], depth_under[order]
    _, starts, lengths = np.unique(key, return_index=True, return_counts=True)
    return {(int(thing[s]), int(under[s])): (float(depth_under[s + n // 2]), int(n))
            for s, n in zip(starts, lengths)}


LISTED_MIN_SHARE = 0.001  # the manifest lists a pane's regions that cover this share of the picture ...
LISTED_MAX = 24  # ... the largest this many of them


def regions_by_pane(membership: np.ndarray, regions: Regions, plan: LayerPlan) -> list[list[dict]]:
    """For the manifest, per pane (front first): the regions on it, largest first, each with its id,
    its name (None where unknown), a description for people ("subject in the middle", "region at the
    top left": its name and where the whole region lies), the share of the picture it covers on this
    pane and whether it is cut by depth (else it is placed whole, up to the outlines' refinement)."""
    if regions.labels.shape != membership.shape:
        raise ValueError(f"regions of {regions.labels.shape} for a membership of {membership.shape}")
    shares = np.bincount(
        (regions.labels.astype(np.int64) * plan.count + membership).ravel(), minlength=regions.count * plan.count
    ).reshape(regions.count, plan.count) / membership.size
    by_depth = set(plan.cut_by_depth)
    descriptions = _descriptions(regions)
    listed = []
    for pane in range(plan.count):
        order = sorted(np.flatnonzero(shares[:, pane] >= LISTED_MIN_SHARE), key=lambda r: (-shares[r, pane], r))
        listed.append([{"id": int(region), "name": regions.names[region] or None,
                        "description": descriptions[region],
                        "share": round(float(shares[region, pane]), 4), "cut_by_depth": int(region) in by_depth}
                       for region in order[:LISTED_MAX]])
    return listed


SPREAD_OUT = 0.4  # of the picture: a region this large lies "across the picture", not in one part of it
PLACES = (("at the top left", "at the top", "at the top right"),
          ("on the left", "in the middle", "on the right"),
          ("at the bottom left", "at the bottom", "at the bottom right"))


def _descriptions(regions: Regions) -> list[str]:
    """Per region, its name ("region" where it has none) and where it lies: in which third of the
    picture's height and width its centre falls, or across the picture for a large background region.
    Measured on a regular sample of about WORK_PIXELS pixels (a listed region has hundreds there)."""
    stride = max(1, int(np.ceil(np.sqrt(regions.labels.size / WORK_PIXELS))))
    sample = regions.labels[::stride, ::stride]
    height, width = sample.shape
    sizes = np.bincount(sample.ravel(), minlength=regions.count)
    counted = np.maximum(sizes, 1)
    # each row's (column's) pixels per region, weighted by its place: no index array of the picture's size
    rows = np.stack([np.bincount(row, minlength=regions.count) for row in sample]).T @ np.arange(height)
    cols = np.stack([np.bincount(col, minlength=regions.count) for col in sample.T]).T @ np.arange(width)
    row_third = np.minimum(rows / counted * 3 // height, 2).astype(int)
    col_third = np.minimum(cols / counted * 3 // width, 2).astype(int)
    return [
        f"{name or 'region'} "
        + ("across the picture" if size >= SPREAD_OUT * sample.size and name in SURFACE_NAMES else PLACES[row][col])
        for name, size, row, col in zip(regions.names, sizes, row_third, col_third)
    ]


def _mixed(labels: np.ndarray, depth: np.ndarray, count: int, band: int, step: int) -> np.ndarray:
    """Per region, whether a depth step runs through it (the segmenter joined things at different
    depths): `step` levels or more between samples `band` apart inside it, along a line at least
    MIXED_LINE of the square root of its area long. Both samples lie a band inside the region: an
    outline a pixel or two off the depth map's edge is no step through the region."""
    steps = np.zeros(count)
    for axis in (0, 1):
        size = labels.shape[axis]
        shift = min(band, (size - 1) // 3)
        if shift <= 0:
            continue
        before, near, far, after = (_along(axis, k * shift, size - 3 * shift + k * shift) for k in range(4))
        inside = (labels[near] == labels[far]) & (labels[before] == labels[near]) & (labels[far] == labels[after])
        jump = np.abs(depth[near] - depth[far]) >= step
        steps += np.bincount(labels[near][inside & jump], minlength=count)
    area = np.bincount(labels.ravel(), minlength=count)
    return steps / band >= MIXED_LINE * np.sqrt(area)


def _along(axis: int, start: int, stop: int) -> tuple[slice, ...]:
    """The index of rows (axis 0) or columns (axis 1) start..stop of a 2-D array."""
    index = [slice(None)] * 2
    index[axis] = slice(start, stop)
    return tuple(index)
