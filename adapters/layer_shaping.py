"""Layer shaping with OpenCV: outlines moved onto the photo's edges, shapes made printable, and the
hidden parts of a pane filled in.

refine_membership
    A depth map from an estimator is soft and a few pixels off, and so is the layer map cut from it.
    Pixels far from every layer outline are sure and keep their layer; the band around the outlines
    is uncertain, like the unknown part of a trimap. Each layer's mask is passed through a colour
    guided filter (He et al., 2010) whose local linear colour models are fitted mostly on the sure
    pixels (the uncertain ones weigh BAND_WEIGHT), and an uncertain pixel goes to the layer with the
    largest filtered value; where the photo is flat, its old layer wins (nothing to snap to, so the
    outline stays put). The models are fitted at about 1 MP and evaluated on the full-size photo
    (He & Sun's fast guided filter), only at the uncertain pixels, so an outline lands on the photo's
    own pixel edges. A second pass with half the band polishes what the first moved. A layer map
    smaller than the photo is first enlarged by nearest neighbour, with a band of at least
    BAND_PER_UPSCALE of its pixels, so the same step is the edge-aware upsampling. The pixels of things
    placed whole on their pane (the segmenter's cut, already on the photo's edges) are uncertain only
    within THING_BAND_FRACTION of the long side of the thing's outline: inside it the band would span
    a thin part (a tail) and the colour models, fitted on the scene around it, would hand it over.
merge_small_features
    What can be printed and cut of a layer is its opening by a disc of the minimum feature size:
    the part a disc of that diameter can sweep without leaving the layer. A maker keeps a part of a
    thing too thin to cut alone (a horse's legs or a cheetah's rump on a small print, a tail) and cuts
    around it with a margin of what lies behind: so first, each layer's unprintable part that is
    mostly of the things the picture is of, is attached to the layer's printable body, borders a
    layer behind it and covers at least a disc's square takes the pixels of the layers behind it
    within a disc's radius (a dilation by the disc is a shape the disc sweeps). Then each connected
    cluster of the rest (islands, slivers, spikes, the scene's twigs, and what the margins left too
    thin) goes whole to the other layer it shares the longest border with, and the check runs again
    near what moved, until nothing improves. Distance transforms make the cost the same for any
    disc size. Left over at the end: a few pixels at the points where three regions meet (or two
    and the picture's edge, or two at a saddle), where some region must have a corner that no disc
    fills. The picture's edge is not another layer: only other layers bound a disc, so a strip along
    the edge counts about twice its width, as if mirrored there (the frame covers the edge).
fill_behind
    Push-pull (Gortler et al., 1996) on a Gaussian pyramid: colour x weight and weight are halved in
    size until every pixel has some weight, then the normalised colours come back from coarse to
    fine wherever a finer level has too little weight of its own, each level relaxed a few steps
    towards the mean of its neighbours (a multigrid pass on Laplace's equation), so a hole in a
    gradient gets the gradient. Linear in the pixel count and blind to the hole's size; it
    continues the surrounding colours smoothly and invents no texture, which suits pixels that
    show only at a glancing angle, beside a nearer pane's outline. Known pixels within BLEED_PX of
    the fillable ones give no colour: on an outline they mix in the nearer layer's. (cv2.inpaint
    was not used: Telea and Navier-Stokes slow down with the hole's width and smear streaks
    across big holes.)
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from rilievo.adapters.guided import ColourGuide
from rilievo.domain.errors import InvalidParameter, LayersFailed
from rilievo.domain.fill import box_around
from rilievo.domain.images import per_pixel, pixel_items

# refine: how far a layer outline may be off: a share of the long side, at least MIN_BAND_PX and
# at least BAND_PER_UPSCALE pixels of a layer map smaller than the photo.
BAND_FRACTION = 0.01
MIN_BAND_PX = 6.0
BAND_PER_UPSCALE = 1.5
PASSES = (1.0, 0.5)  # the band of each pass, as a share of the first
RADIUS_PER_BAND = 2.0  # guided-filter window: reaches sure pixels on both sides of the band
GUIDE_EPS = 1e-3  # regularisation of the colour models (colours in 0..1)
FLAT_VARIANCE = 1e-4  # colour variance (per channel) below which the photo counts as flat
THING_BAND_FRACTION = 0.004  # a thing's outline is the segmenter's, already on the photo's edges ...
MIN_THING_BAND_PX = 2.0  # ... at about 1/256 of the long side: only this close to it may it move
BAND_WEIGHT = 0.2  # weight of the uncertain pixels in the fit: enough to keep thin shapes alive
WORK_LONG_SIDE = 1024  # the colour models are fitted at about this size

# merge: a pixel a disc covers give or take this much is printable (digital outlines are never
# quite unions of digital discs).
EDGE_TOLERANCE_PX = 1.0
MAX_MERGE_PASSES = 16  # the passes after the first only look near what moved

# fill
BLEED_PX = 2  # known pixels this close to a fillable one give no colour
FILL_GAIN = 2.0  # a pyramid pixel with half of its footprint known counts as fully known
RELAX_STEPS = 6  # Jacobi steps per pyramid level
FILL_STRIP_ROWS = 128  # the full-size step works on strips this tall
RELAX_STRIP_ROWS = 64  # the half-size levels' relaxation, in place, a strip this tall at a time
REACH_STRIP_ROWS = 512  # the fill's reach is worked out on strips this tall, and the rows within reach
PYRAMID_REACH = 4  # rows a strip of pyrDown's input reaches past the rows it gives (its filter reaches 2)
_NEIGHBOURS = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.float32) / 4


class OpenCVLayerShaper:
    name = "guided"

    def refine_membership(self, image: np.ndarray, membership: np.ndarray, count: int,
                          things: np.ndarray | None = None) -> np.ndarray:
        rgb = _checked_image(image)
        height, width = rgb.shape[:2]
        labels = _checked_membership(membership, count, (height, width))
        if things is not None and np.shape(things) != labels.shape:
            raise LayersFailed(f"things of {np.shape(things)} for a layer map of {labels.shape}")
        upscale = max(height / labels.shape[0], width / labels.shape[1])
        if labels.shape != (height, width):
            labels = cv2.resize(labels, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
            if things is not None:
                things = cv2.resize(things.astype(np.uint8), (width, height),
                                    interpolation=cv2.INTER_NEAREST_EXACT) > 0
        else:
            labels = labels.copy()
        band_px = max(BAND_FRACTION * max(height, width), BAND_PER_UPSCALE * upscale)
        kept = None
        if things is not None and things.any():
            thing_band = max(MIN_THING_BAND_PX, THING_BAND_FRACTION * max(height, width), BAND_PER_UPSCALE * upscale)
            kept = _farther_inside(things.astype(bool, copy=False), thing_band)
        for share in PASSES:
            _refine_band(rgb, labels, count, max(MIN_BAND_PX, share * band_px), kept)
        return labels

    def merge_small_features(self, membership: np.ndarray, count: int, min_feature_px: float,
                             things: np.ndarray | None = None) -> np.ndarray:
        labels = _checked_membership(membership, count, np.shape(membership)).copy()
        if things is not None and np.shape(things) != labels.shape:
            raise LayersFailed(f"things of {np.shape(things)} for a layer map of {labels.shape}")
        if not np.isfinite(min_feature_px) or min_feature_px < 0:
            raise InvalidParameter(f"the minimum feature must be a size in px >= 0, got {min_feature_px}")
        if min_feature_px == 0:
            return labels
        printable = _printable(labels, min_feature_px)
        if things is not None and things.any():
            grown = _thickened(labels, printable, count, min_feature_px, things.astype(bool, copy=False))
            _update_printable(labels, printable, grown, min_feature_px)
        unprintable = int((~printable).sum())
        for _ in range(MAX_MERGE_PASSES):
            if unprintable == 0:
                break
            if unprintable == labels.size:  # nothing in the picture is printable: keep its main layer
                labels[:] = np.bincount(labels.ravel()).argmax()
                break
            moved, before = _merge_pieces(labels, printable, count)
            _update_printable(labels, printable, moved, min_feature_px)
            remaining = int((~printable).sum())
            # Where three layers, or two and the picture's edge, meet at a point, a layer has a
            # corner there that no disc fills; moving those few pixels on would only swap them
            # back and forth. Stop when a pass no longer helps, undoing it if it made things worse.
            if remaining > unprintable:
                labels.ravel()[moved] = before
                _update_printable(labels, printable, moved, min_feature_px)
            if remaining >= unprintable:
                break
            unprintable = remaining
        return labels

    def fill_behind(
        self, image: np.ndarray, known: np.ndarray, fillable: np.ndarray, reach_px: float | None
    ) -> tuple[np.ndarray, np.ndarray]:
        rgb = _checked_image(image)
        known, fillable = (_checked_mask(mask, rgb.shape[:2]) for mask in (known, fillable))
        if reach_px is not None and not (reach_px >= 0):
            raise InvalidParameter(f"the fill's reach must be a distance in px >= 0, got {reach_px}")
        filled = fillable & ~known
        if not filled.any() or not known.any():
            return np.zeros((0, 3), np.float16), np.zeros_like(filled)
        sources = _sources(known, fillable)
        # The half-size fill needs only the sources: another thread makes it while this one works out
        # which pixels the reach takes in.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fill") as pool:
            half_size = pool.submit(_half_size_fill, rgb, sources)
            if reach_px is not None:
                filled = _within_reach(known, filled, reach_px)
            colour = half_size.result()
        if not filled.any():
            return np.zeros((0, 3), np.float16), filled
        return _push_pull(rgb, colour, sources, filled), filled


# --- refine -----------------------------------------------------------------------------------


def _refine_band(rgb: np.ndarray, labels: np.ndarray, count: int, band_px: float, kept: np.ndarray | None) -> None:
    """Re-decide, in place, the layer of the pixels within band_px of a layer outline, except the kept
    ones (None: none)."""
    height, width = labels.shape
    uncertain = _near_outline(labels, band_px)
    if kept is not None:
        uncertain &= ~kept
    where = np.flatnonzero(uncertain)
    present = np.flatnonzero(np.bincount(labels.ravel(), minlength=count))
    if where.size == 0 or present.size < 2:
        return
    scale = min(1.0, WORK_LONG_SIDE / max(height, width))
    work_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    sure = _shrunk_mask(~uncertain, work_size)
    models = ColourGuide(
        _shrunk(rgb, work_size),
        radius=max(1, round(RADIUS_PER_BAND * band_px * scale)),
        eps=GUIDE_EPS,
        weights=BAND_WEIGHT + (1.0 - BAND_WEIGHT) * sure,
    )
    at_band = _Sampler(where, (height, width), work_size)
    colours = rgb.reshape(-1, 3)[where]

    # Where the photo is flat there is nothing to snap to: the layer the pixel had keeps a bonus
    # that outweighs the filtered masks there and fades where the colours vary.
    flatness = at_band(FLAT_VARIANCE / (models.variance + FLAT_VARIANCE))
    before = labels.ravel()[where]
    choice = before.copy()
    best = np.full(where.size, -np.inf, np.float32)
    rest = np.ones(where.size, np.float32)  # the filtered masks sum to 1: the last layer's is the rest

    def filtered_mask(index: int) -> np.ndarray:
        """The layer's mask filtered by the guide, at the band's pixels."""
        a, b = models.coefficients(_shrunk_mask(labels == index, work_size))
        return np.einsum("nc,nc->n", at_band(a), colours) + at_band(b)

    # The layers' filtered masks are independent of each other: two at a time, on both cores (OpenCV
    # and NumPy let go of the interpreter while they work); taken in the order of the layers.
    filtered = [index for index in present if index < count - 1]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="refine") as pool:
        scores = dict(zip(filtered, pool.map(filtered_mask, filtered)))
    for index in present:
        if index < count - 1:
            score = scores.pop(index)
            rest -= score
        else:
            score = rest
        score = score + flatness * (before == index)
        better = score > best
        best[better] = score[better]
        choice[better] = index
    labels.ravel()[where] = choice


def _near_outline(labels: np.ndarray, band_px: float) -> np.ndarray:
    """Pixels within band_px of a place where the layer changes."""
    kernel = np.ones((3, 3), np.uint8)
    edge = cv2.dilate(labels, kernel) != cv2.erode(labels, kernel)
    if not edge.any():
        return edge
    return cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, 5) <= band_px


def _farther_inside(mask: np.ndarray, distance_px: float) -> np.ndarray:
    """The pixels of the mask farther than distance_px from any pixel outside it."""
    return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5) > distance_px


class _Sampler:
    """Bilinear samples of a small array at some pixels of the full-size grid, as cv2.resize
    would give them, without making the full-size array."""

    ROW = 4096  # remap wants a 2-D map: the pixels are laid out in rows of this length

    def __init__(self, where: np.ndarray, full: tuple[int, int], small: tuple[int, int]):
        rows, cols = np.divmod(where, full[1])
        self.count = where.size
        pad = (-where.size) % self.ROW
        self.map_x, self.map_y = (
            np.pad(((index + 0.5) * (size / full_size) - 0.5).astype(np.float32), (0, pad)).reshape(-1, self.ROW)
            for index, size, full_size in ((cols, small[0], full[1]), (rows, small[1], full[0]))
        )

    def __call__(self, array: np.ndarray) -> np.ndarray:
        sampled = cv2.remap(array, self.map_x, self.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return sampled.reshape(-1, *array.shape[2:])[: self.count]


def _shrunk(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if x.shape[1::-1] == size:
        return x
    return cv2.resize(x, size, interpolation=cv2.INTER_AREA)


def _shrunk_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The share of each small pixel that the mask covers (resized as uint8: faster, 1/255 steps)."""
    return _shrunk(mask.astype(np.uint8) * np.uint8(255), size).astype(np.float32) / 255.0


# --- merge ------------------------------------------------------------------------------------


def _printable(labels: np.ndarray, min_feature_px: float) -> np.ndarray:
    """Each layer's opening by a disc of the minimum feature: a pixel is printable if a disc of that
    diameter, centred on a pixel and wholly inside the pixel's layer, covers it (give or take
    EDGE_TOLERANCE_PX). So a bar survives from ceil(min_feature_px) pixels wide, or one less where
    that is even: a disc centred on a pixel spans an odd number of them. Worked out in the box around
    each layer with a pixel of the others around it: the nearest pixel of another layer and the
    nearest centre of a disc are inside it, so the distances are those of the whole picture."""
    radius = min_feature_px / 2.0
    height, width = labels.shape
    printable = np.zeros(labels.shape, bool)
    for index in np.flatnonzero(np.bincount(labels.ravel())):
        inside = labels == index
        rows, columns = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
        box = (slice(max(rows[0] - 1, 0), min(rows[-1] + 2, height)),
               slice(max(columns[0] - 1, 0), min(columns[-1] + 2, width)))  # none past the picture's edge
        inside = inside[box]
        # Distance to the nearest pixel of another layer (the picture's edge is not one).
        centres = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) >= radius
        if centres.any():
            reach = cv2.distanceTransform((~centres).astype(np.uint8), cv2.DIST_L2, 5)
            printable[box] |= inside & (reach < radius + EDGE_TOLERANCE_PX)
    return printable


def _update_printable(labels: np.ndarray, printable: np.ndarray, changed: np.ndarray, min_feature_px: float) -> None:
    """Recompute, in place, the printable pixels that a change of the given pixels can affect (those
    within a disc's diameter of one), tile by tile, with a margin that makes each tile exact."""
    height, width = labels.shape
    margin = int(np.ceil(min_feature_px + EDGE_TOLERANCE_PX)) + 2
    tile = max(256, 2 * margin)
    rows, cols = np.divmod(changed, width)
    touched = set()
    for row_offset in (-margin, margin):
        for col_offset in (-margin, margin):
            tile_rows = np.clip(rows + row_offset, 0, height - 1) // tile
            tile_cols = np.clip(cols + col_offset, 0, width - 1) // tile
            touched.update(zip(tile_rows.tolist(), tile_cols.tolist()))
    if len(touched) * tile * tile >= labels.size // 2:
        printable[:] = _printable(labels, min_feature_px)
        return
    for tile_row, tile_col in touched:
        top, left = tile_row * tile, tile_col * tile
        bottom, right = min(top + tile, height), min(left + tile, width)
        y0, x0 = max(top - margin, 0), max(left - margin, 0)
        window = _printable(labels[y0 : min(bottom + margin, height), x0 : min(right + margin, width)],
                            min_feature_px)
        printable[top:bottom, left:right] = window[top - y0 : bottom - y0, left - x0 : right - x0]


def _thickened(labels: np.ndarray, printable: np.ndarray, count: int, min_feature_px: float,
               things: np.ndarray) -> np.ndarray:
    """Keep, in place, the parts of a thing too thin to cut alone on their layer, with a margin of the
    layers behind them: within each cluster of unprintable pixels, a layer's pixels that are mostly
    of things, border the layer's printable body and a printable layer behind it, and cover at least
    min_feature_px squared take every pixel of a layer behind them within the disc's radius (the
    scene's own slivers, a twig against the sky, merge as before). Returns the flat indices that
    changed layer."""
    total, clusters, where, contacts = _unprintable_clusters(labels, printable, count)
    pieces = clusters.ravel()[where].astype(np.int64) * count + labels.ravel()[where]
    size = np.bincount(pieces, minlength=total * count).reshape(total, count)
    behind = np.flip(np.cumsum(np.flip(contacts, axis=1), axis=1), axis=1) - contacts  # of the layers behind
    of_things = np.bincount(pieces, things.ravel()[where], minlength=total * count).reshape(total, count)
    kept = (size >= min_feature_px**2) & (2 * of_things >= size) & (contacts > 0) & (behind > 0)
    if not kept.any():
        return np.zeros(0, np.int64)
    radius = min_feature_px / 2.0
    reach = int(np.ceil(radius)) + 1
    flat, changed = labels.ravel(), []
    for own in np.flatnonzero(kept.any(axis=0)):  # front to back: a nearer layer's margin comes first
        keep = where[kept.ravel()[pieces] & (labels.ravel()[where] == own)]
        rows, columns = np.divmod(keep, labels.shape[1])
        top, left = max(rows.min() - reach, 0), max(columns.min() - reach, 0)
        bottom, right = min(rows.max() + reach + 1, labels.shape[0]), min(columns.max() + reach + 1, labels.shape[1])
        away = np.ones((bottom - top, right - left), np.uint8)
        away[rows - top, columns - left] = 0
        margin = cv2.distanceTransform(away, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= radius
        margin &= labels[top:bottom, left:right] > own
        margin_rows, margin_columns = np.nonzero(margin)
        taken = (margin_rows + top) * labels.shape[1] + margin_columns + left
        flat[taken] = own
        changed.append(taken)
    return np.concatenate(changed)


def _merge_pieces(labels: np.ndarray, printable: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Move, in place, each connected cluster of unprintable pixels to the printable layer it
    borders most; returns the flat indices moved and the layers they had.

    A cluster of one layer (an island, a sliver, a spike) goes to another layer, whatever it
    touches of its own. A cluster mixing layers (a speck inside a sliver, fingers of two layers
    interleaved) goes whole to whichever printable layer surrounds it most: moving its parts one
    by one would only swap them.
    """
    total, clusters, where, contacts = _unprintable_clusters(labels, printable, count)
    cluster, layer = clusters.ravel()[where], labels.ravel()[where]
    lowest, highest = np.full(total, 255, np.uint8), np.zeros(total, np.uint8)
    np.minimum.at(lowest, cluster, layer)
    np.maximum.at(highest, cluster, layer)
    single = lowest == highest
    contacts[np.flatnonzero(single), lowest[single]] = 0  # a piece of one layer leaves it
    target = np.where(contacts.any(axis=1), contacts.argmax(axis=1), -1)
    new = target[cluster]
    moved = (new >= 0) & (new != layer)
    labels.ravel()[where[moved]] = new[moved]
    return where[moved], layer[moved]


def _unprintable_clusters(labels: np.ndarray, printable: np.ndarray, count: int):
    """The connected clusters of unprintable pixels (8-way; 0 is the printable pixels): their count
    with 0, the cluster map, the flat indices of the unprintable pixels and the contacts (_contacts)."""
    small = ~printable
    total, clusters = cv2.connectedComponents(small.astype(np.uint8), connectivity=8)
    where = np.flatnonzero(small)
    return total, clusters, where, _contacts(labels, printable, clusters, where, total, count)


def _contacts(labels, printable, clusters, where, total, count) -> np.ndarray:
    """(cluster 0..total-1, layer) -> how many printable pixels of that layer border the cluster
    (4-way). Cluster 0 (the printable pixels) counts nothing."""
    height, width = labels.shape
    flat_labels, flat_printable, flat_clusters = labels.ravel(), printable.ravel(), clusters.ravel()
    rows, cols = np.divmod(where, width)
    counts = np.zeros(total * count, np.int64)
    for step, valid in ((-width, rows > 0), (width, rows < height - 1), (-1, cols > 0), (1, cols < width - 1)):
        source = where[valid]
        neighbour = source[flat_printable[source + step]] + step
        keys = flat_clusters[neighbour - step].astype(np.int64) * count + flat_labels[neighbour]
        counts += np.bincount(keys, minlength=counts.size)
    contacts = counts.reshape(total, count)
    contacts[0] = 0
    return contacts


# --- fill -------------------------------------------------------------------------------------


def _within_reach(known: np.ndarray, wanted: np.ndarray, reach_px: float) -> np.ndarray:
    """The wanted pixels within reach_px of a known one (the exact Euclidean distance), worked out in
    the box around the wanted ones, a strip of REACH_STRIP_ROWS at a time, with the rows and columns
    within reach around it: wherever a pixel is within reach its nearest known pixel is among those, so
    its distance comes out as over the whole map, and a pixel beyond reach stays beyond it. No
    photo-size map of distances is made (48 MB at 12 MP, with the distance transform's own buffers
    beside it, while the half-size fill is made), nor one outside the wanted pixels' box."""
    height, width = known.shape
    margin = math.floor(reach_px) + 1
    rows, columns = box_around(wanted)
    left, right = max(columns.start - margin, 0), min(columns.stop + margin, width)
    inner = slice(columns.start - left, columns.stop - left)
    within = np.zeros(known.shape, bool)
    for top in range(rows.start, rows.stop, REACH_STRIP_ROWS):
        bottom = min(top + REACH_STRIP_ROWS, rows.stop)
        first, last = max(top - margin, 0), min(bottom + margin, height)
        distances = cv2.distanceTransform((~known[first:last, left:right]).astype(np.uint8), cv2.DIST_L2,
                                          cv2.DIST_MASK_PRECISE)
        np.less_equal(distances[top - first : bottom - first, inner], reach_px, out=within[top:bottom, columns])
    return np.logical_and(wanted, within, out=within)


def _sources(known: np.ndarray, fillable: np.ndarray) -> np.ndarray:
    """The known pixels to take colours from: not those on the fillable pixels' outline, whose
    colours are a mix with the nearer layer's (anti-aliasing, an outline a pixel off)."""
    size = 2 * BLEED_PX + 1
    near = cv2.dilate(fillable.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    sources = known & ~near.astype(bool)
    return sources if sources.any() else known


def _push_pull(rgb: np.ndarray, colour: np.ndarray, known: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Colours for the wanted unknown pixels from the known ones, given colour, _half_size_fill's of
    them (N x 3 float16, in the order of rgb[wanted]: made in half precision as they are found, the
    back pane's are most of the photo).

    Each level's colours are relaxed a few times towards the mean of their four neighbours (a
    multigrid pass on Laplace's equation), which takes off the corners push-pull leaves and makes
    the fill of a gradient follow the gradient. At full size a pixel is known or not, and only the
    box around each strip's wanted pixels matters: it is enlarged and relaxed in strips (bounded
    memory, the same buffers for every strip), each with rows and columns enough around it to come
    out as if done whole.
    """
    height, width = known.shape
    wanted_rows = np.flatnonzero(wanted.any(axis=1))
    margin = RELAX_STEPS + 1
    out = np.empty((np.count_nonzero(wanted), 3), np.float16)
    done = 0  # strips top to bottom, each in raster order: together, the order of rgb[wanted]
    buffers = _StripBuffers(FILL_STRIP_ROWS + 2 * margin, width)
    for top in range(wanted_rows[0], wanted_rows[-1] + 1, FILL_STRIP_ROWS):
        bottom = min(top + FILL_STRIP_ROWS, wanted_rows[-1] + 1)
        strip_wanted = wanted[top:bottom]
        strip_cols = np.flatnonzero(strip_wanted.any(axis=0))
        if strip_cols.size == 0:
            continue
        cols = slice(max(strip_cols[0] - margin, 0), min(strip_cols[-1] + margin + 1, width))
        first, last = max(top - margin, 0), min(bottom + margin, height)
        coarse_first, coarse_last = max(first // 2 - 1, 0), min((last + 1) // 2 + 1, colour.shape[0])
        enlarged = cv2.resize(colour[coarse_first:coarse_last], (width, 2 * (coarse_last - coarse_first)),
                              interpolation=cv2.INTER_LINEAR)
        start, spare = buffers.take(last - first, cols.stop - cols.start)
        start[...] = enlarged[first - 2 * coarse_first : last - 2 * coarse_first, cols]
        del enlarged
        relaxed = _relaxed_around(rgb[first:last, cols], known[first:last, cols], start, spare)
        found = pixel_items(relaxed[top - first : bottom - first])[strip_wanted[:, cols]]
        # OpenCV's conversion to half precision, ten times numpy's: the same numbers
        cv2.multiply(found.view(np.float32).reshape(-1, 3), 1.0, dst=out[done : done + len(found)], dtype=cv2.CV_16F)
        done += len(found)
    return out


class _StripBuffers:
    """Arrays for the fill's strips, made once for the widest and tallest strip and used again: a fresh
    array for each strip costs page faults over the whole of it every time."""

    def __init__(self, rows: int, width: int):
        self._start = np.empty((rows, width, 3), np.float32)
        self._spare = np.empty((rows, width, 3), np.float32)

    def take(self, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
        """Two contiguous arrays rows x columns x 3."""
        return _window(self._start, rows, columns), _window(self._spare, rows, columns)


def _window(buffer: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """A contiguous rows x columns array in the buffer's memory."""
    size = rows * columns * buffer.shape[2]
    return buffer.reshape(-1)[:size].reshape(rows, columns, buffer.shape[2])


def _half_size_fill(rgb: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Push-pull down to where every pixel has some weight, and back up to half size."""
    levels = [_halved(rgb, known)]
    while levels[-1][1].size > 1 and not (levels[-1][1] > 0).all():
        levels.append(tuple(cv2.pyrDown(x) for x in levels[-1]))
    colour = None
    while levels:  # coarse to fine, each level let go of once used
        own, weight = levels.pop()  # the premultiplied colours, made the level's own colours in place
        share = np.maximum(weight, 1e-12)  # one array in turn the divisor, the trust and the free share
        per_pixel(np.divide, own, share, out=own)
        np.minimum(np.multiply(weight, FILL_GAIN, out=share), 1.0, out=share)  # the trust
        del weight
        colour = own.copy() if colour is None else cv2.pyrUp(colour, dstsize=own.shape[1::-1])
        per_pixel(np.multiply, own, share, out=own)
        colour = _relaxed(own, np.subtract(1.0, share, out=share), colour)
        del own, share
    return colour


def _halved(rgb: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first push-pull level: pyrDown of colour x weight and of weight (the known pixels weigh 1),
    made in strips of rows, so neither is made at full size. A strip reaches PYRAMID_REACH rows past
    the rows it gives, so each comes out as pyrDown of the whole gives it."""
    height, width = known.shape
    half_height, half_width = (height + 1) // 2, (width + 1) // 2
    premultiplied = np.empty((half_height, half_width, 3), np.float32)
    weight = np.empty((half_height, half_width), np.float32)
    step = max(1, FILL_STRIP_ROWS // 2)  # output rows per strip
    # each strip's colour x weight, in one buffer for all: a fresh array a strip costs its page faults
    weighted = np.empty((2 * step + 2 * PYRAMID_REACH, width, 3), np.float32)
    for top in range(0, half_height, step):
        bottom = min(top + step, half_height)
        first, last = max(2 * top - PYRAMID_REACH, 0), min(2 * bottom + PYRAMID_REACH, height)
        strip_weight = known[first:last].astype(np.float32)
        size = (half_width, (last - first + 1) // 2)
        inner = slice(top - first // 2, bottom - first // 2)
        weight[top:bottom] = cv2.pyrDown(strip_weight, dstsize=size)[inner]
        strip = per_pixel(np.multiply, rgb[first:last], strip_weight, out=weighted[: last - first])
        premultiplied[top:bottom] = cv2.pyrDown(strip, dstsize=size)[inner]
    return premultiplied, weight


def _relaxed(fixed: np.ndarray, free: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """RELAX_STEPS Jacobi steps of colour = fixed + free * (mean of the four neighbours). A contiguous
    colour array is worked on in place (the callers hand over one they no longer need), a strip of
    RELAX_STRIP_ROWS at a time: each strip is filtered with the rows around it as they were before the
    step (the one above kept aside, being written over already), so it comes out as filtered whole, and
    no second colour array is made (34 MB at the half size of a 12 MP photo, at the job's peak)."""
    colour = np.ascontiguousarray(colour)
    height = colour.shape[0]
    window = np.empty((min(RELAX_STRIP_ROWS, height) + 2, *colour.shape[1:]), colour.dtype)
    filtered = np.empty_like(window)
    for _ in range(RELAX_STEPS):
        above = None  # the row above the next strip, as it was before this step
        for top in range(0, height, RELAX_STRIP_ROWS):
            bottom, first = min(top + RELAX_STRIP_ROWS, height), top if above is None else top - 1
            last = min(bottom + 1, height)
            if above is not None:
                window[0] = above
            window[top - first : last - first] = colour[top:last]
            cv2.filter2D(window[: last - first], -1, _NEIGHBOURS, dst=filtered[: last - first],
                         borderType=cv2.BORDER_REPLICATE)
            above = window[bottom - 1 - first].copy()
            strip = filtered[top - first : bottom - first]
            per_pixel(np.multiply, strip, free[top:bottom], out=strip)
            cv2.add(strip, fixed[top:bottom], dst=colour[top:bottom])
    return colour


def _relaxed_around(rgb: np.ndarray, known: np.ndarray, colour: np.ndarray, spare: np.ndarray) -> np.ndarray:
    """_relaxed where each pixel is known (its colour stays rgb's) or free: the same numbers, by copying
    the known pixels back after each step rather than weighing every pixel. colour and spare are
    contiguous, worked on in place; returns the one holding the result."""
    known = known.view(np.uint8)
    for _ in range(RELAX_STEPS):
        cv2.filter2D(colour, -1, _NEIGHBOURS, dst=spare, borderType=cv2.BORDER_REPLICATE)
        cv2.copyTo(rgb, known, dst=spare)
        colour, spare = spare, colour
    return colour


# --- checks -----------------------------------------------------------------------------------


def _checked_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise LayersFailed(f"layers are shaped on an RGB image (height x width x 3), not one of shape {image.shape}")
    if not np.issubdtype(image.dtype, np.floating):
        raise LayersFailed(f"layers are shaped on an image of floats in [0, 1], not of {image.dtype}")
    return image.astype(np.float32, copy=False)


def _checked_membership(membership: np.ndarray, count: int, size: tuple[int, ...]) -> np.ndarray:
    membership = np.asarray(membership)
    if membership.ndim != 2 or membership.shape[0] > size[0] or membership.shape[1] > size[1]:
        raise LayersFailed(f"the layer map of shape {membership.shape} does not fit the image of {size[:2]}: "
                           "it must be height x width and no larger")
    if membership.size == 0:
        raise LayersFailed("the layer map is empty")
    if not 1 <= count <= 255:
        raise InvalidParameter(f"the layer count must be 1-255, got {count}")
    if not np.issubdtype(membership.dtype, np.integer) or membership.min() < 0 or membership.max() >= count:
        raise LayersFailed(f"the layer map must hold layer numbers 0-{count - 1} for {count} layers")
    return membership.astype(np.uint8, copy=False)


def _checked_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != size or mask.dtype != bool:
        raise LayersFailed(f"the fill's masks must be true/false of shape {size}, not {mask.dtype} of {mask.shape}")
    return mask
