"""Layer shaping with OpenCV: outlines moved onto the photo's edges, shapes made printable, and the
hidden parts of a pane filled in.

refine_membership
    A depth map from an estimator is soft and a few pixels off, and so is the layer map cut from it.
    Pixels far from every layer outline are sure and keep their layer; the band around the outlines
    is uncertain, like the unknown part of a trimap. Each layer's mask is passed through a colour
    guided filter (He et al., 2010) whose local linear colour models are fitted mostly on the sure
    pixels (the uncertain ones weigh BAND_WEIGHT), and an uncertain pixel goes to the layer with the
    largest filtered value. The models are fitted at about 1 MP and evaluated on the full-size photo
    (He & Sun's fast guided filter), only at the uncertain pixels, so an outline lands on the photo's
    own pixel edges. A second pass with half the band polishes what the first moved. A layer map
    smaller than the photo is first enlarged by nearest neighbour, with a band of at least
    BAND_PER_UPSCALE of its pixels, so the same step is the edge-aware upsampling.
merge_small_features
    What can be printed and cut of a layer is its opening by a disc of the minimum feature size:
    the part a disc of that diameter can sweep without leaving the layer. The rest (islands,
    slivers, spikes) goes, one connected piece at a time, to the other layer it shares the longest
    border with, and the check runs again until every layer is its own opening. Distance transforms
    make the cost the same for any disc size. The picture's edge does not cut a feature: a layer
    along the edge counts as going on beyond it (the frame covers the edge).
fill_behind
    Push-pull (Gortler et al., 1996) on a Gaussian pyramid: colour x weight and weight are halved in
    size until every pixel has some weight, then the normalised colours come back from coarse to
    fine wherever a finer level has too little weight of its own. Linear in the pixel count and
    blind to the hole's size; it continues the surrounding colours smoothly and does not invent
    texture, which suits pixels that show only at a glancing angle, beside a nearer pane's outline.
    (cv2.inpaint was not used: Telea and Navier-Stokes slow down with the hole's width and smear
    streaks across big holes.)
"""

from __future__ import annotations

import cv2
import numpy as np

from rilievo.adapters.guided import ColourGuide

# refine: how far a layer outline may be off: a share of the long side, at least MIN_BAND_PX and
# at least BAND_PER_UPSCALE pixels of a layer map smaller than the photo.
BAND_FRACTION = 0.01
MIN_BAND_PX = 6.0
BAND_PER_UPSCALE = 1.5
PASSES = (1.0, 0.5)  # the band of each pass, as a share of the first
RADIUS_PER_BAND = 2.0  # guided-filter window: reaches sure pixels on both sides of the band
GUIDE_EPS = 1e-3  # regularisation of the colour models (colours in 0..1)
BAND_WEIGHT = 0.05  # weight of the uncertain pixels in the fit: enough to keep thin shapes alive
WORK_LONG_SIDE = 1024  # the colour models are fitted at about this size

MAX_MERGE_PASSES = 16  # the passes after the first only look near what changed

FILL_GAIN = 4.0  # a pyramid pixel with a quarter of its footprint known counts as fully known


class OpenCVLayerShaper:
    name = "guided"

    def refine_membership(self, image: np.ndarray, membership: np.ndarray, count: int) -> np.ndarray:
        rgb = _checked_image(image)
        height, width = rgb.shape[:2]
        labels = _checked_membership(membership, count, (height, width))
        upscale = max(height / labels.shape[0], width / labels.shape[1])
        if labels.shape != (height, width):
            labels = cv2.resize(labels, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
        else:
            labels = labels.copy()
        band_px = max(BAND_FRACTION * max(height, width), BAND_PER_UPSCALE * upscale)
        for share in PASSES:
            _refine_band(rgb, labels, count, max(MIN_BAND_PX, share * band_px))
        return labels

    def merge_small_features(self, membership: np.ndarray, count: int, min_feature_px: float) -> np.ndarray:
        labels = _checked_membership(membership, count, np.shape(membership)).copy()
        if not np.isfinite(min_feature_px) or min_feature_px < 0:
            raise ValueError(f"minimum feature must be a size in px >= 0, got {min_feature_px}")
        if min_feature_px == 0 or labels.size == 0:
            return labels
        printable = _printable(labels, min_feature_px)
        unprintable, stalled = int((~printable).sum()), 0
        for _ in range(MAX_MERGE_PASSES):
            if unprintable == 0:
                break
            if unprintable == labels.size:  # nothing in the picture is printable: keep its main layer
                labels[:] = np.bincount(labels.ravel()).argmax()
                break
            changed = _merge_pieces(labels, printable, count)
            if changed.size == 0:
                break
            _update_printable(labels, printable, changed, min_feature_px)
            # Where three layers meet, one of them must have a corner, and a disc cannot fill a
            # corner: those few pixels would move round and round. Stop once nothing improves.
            remaining = int((~printable).sum())
            stalled = stalled + 1 if remaining >= unprintable else 0
            unprintable = remaining
            if stalled == 2:
                break
        return labels

    def fill_behind(
        self, image: np.ndarray, known: np.ndarray, fillable: np.ndarray, reach_px: float | None
    ) -> tuple[np.ndarray, np.ndarray]:
        image = np.asarray(image)
        rgb = _checked_image(image)
        known, fillable = (_checked_mask(mask, rgb.shape[:2]) for mask in (known, fillable))
        if reach_px is not None and not (reach_px >= 0):
            raise ValueError(f"reach must be None or a distance in px >= 0, got {reach_px}")
        filled = fillable & ~known
        if reach_px is not None and filled.any():
            to_known = cv2.distanceTransform((~known).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
            filled &= to_known <= reach_px
        out = image.copy()
        if not filled.any() or not known.any():
            return out, np.zeros_like(filled)
        out[filled] = _push_pull(rgb, known, filled)
        return out, filled


# --- refine -----------------------------------------------------------------------------------


def _refine_band(rgb: np.ndarray, labels: np.ndarray, count: int, band_px: float) -> None:
    """Re-decide, in place, the layer of the pixels within band_px of a layer outline."""
    height, width = labels.shape
    uncertain = _near_outline(labels, band_px)
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

    best = np.full(where.size, -np.inf, np.float32)
    choice = labels.ravel()[where]
    rest = np.ones(where.size, np.float32)  # the filtered masks sum to 1: the last layer's is the rest
    for index in present:
        if index < count - 1:
            a, b = models.coefficients(_shrunk_mask(labels == index, work_size))
            score = np.einsum("nc,nc->n", at_band(a), colours) + at_band(b)
            rest -= score
        else:
            score = rest
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
    diameter, centred on a pixel and wholly inside the pixel's layer, covers it."""
    radius = min_feature_px / 2.0
    centres = np.zeros(labels.shape, bool)
    for index in np.flatnonzero(np.bincount(labels.ravel())):
        inside = (labels == index).astype(np.uint8)
        # Distance to the nearest pixel of another layer (the picture's edge is not one).
        centres |= cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) >= radius
    if not centres.any():
        return centres
    # Discs of different layers never overlap: every pixel closer than radius to a centre is in
    # the centre's layer.
    return cv2.distanceTransform((~centres).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) < radius


def _update_printable(labels: np.ndarray, printable: np.ndarray, changed: np.ndarray, min_feature_px: float) -> None:
    """Recompute, in place, the printable pixels that a change of the given pixels can affect: those
    closer than the minimum feature to one. Done in tiles, with a margin that makes each exact."""
    height, width = labels.shape
    margin = int(np.ceil(min_feature_px)) + 2
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


def _merge_pieces(labels: np.ndarray, printable: np.ndarray, count: int) -> np.ndarray:
    """Move, in place, the unprintable pixels to a printable layer; returns the flat indices moved.

    A connected unprintable piece of one layer (an island, a sliver, a spike) goes whole to the
    other layer whose printable pixels it borders most. A cluster mixing pieces of several layers
    (a speck inside a sliver, fingers of two layers interleaved) is split between the printable
    layers around it, each pixel to the nearest: moving pieces of it one by one would swap them.
    """
    small = ~printable
    total, clusters = cv2.connectedComponents(small.astype(np.uint8), connectivity=8)
    where = np.flatnonzero(small)
    cluster, layer = clusters.ravel()[where], labels.ravel()[where]
    lowest, highest = np.full(total, 255, np.uint8), np.zeros(total, np.uint8)
    np.minimum.at(lowest, cluster, layer)
    np.maximum.at(highest, cluster, layer)
    single = lowest == highest

    contacts = _contacts(labels, printable, clusters, where, total, count)
    target = np.where(single & contacts.any(axis=1), contacts.argmax(axis=1), -1)
    new = target[cluster]
    mixed = ~single[cluster]
    if mixed.any():
        new[mixed] = _nearest_printable_layer(labels, printable, where[mixed])
    moved = (new >= 0) & (new != layer)
    labels.ravel()[where[moved]] = new[moved]
    return where[moved]


def _nearest_printable_layer(labels: np.ndarray, printable: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """The layer of the printable pixel nearest to each of the given (unprintable) pixels. Those
    lie within the bounding box of the pixels and one more row and column: the way there crosses
    only unprintable pixels, which are in the same cluster."""
    height, width = labels.shape
    rows, cols = np.divmod(pixels, width)
    top, left = max(rows.min() - 2, 0), max(cols.min() - 2, 0)
    bottom, right = min(rows.max() + 3, height), min(cols.max() + 3, width)
    window = printable[top:bottom, left:right]
    if not window.any():
        return np.full(pixels.size, -1)
    _, nearest = cv2.distanceTransformWithLabels(
        (~window).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # The labels number the printable pixels from 1 in raster order.
    layer_of = np.concatenate([[-1], labels[top:bottom, left:right][window]])
    return layer_of[nearest[rows - top, cols - left]]


def _contacts(labels, printable, pieces, where, total, count) -> np.ndarray:
    """(piece 0..total-1, layer) -> how many printable pixels of that layer, other than the
    touching pixel's own, border the piece (4-way). Piece 0 (the printable pixels) counts nothing."""
    height, width = labels.shape
    flat_labels, flat_printable, flat_pieces = labels.ravel(), printable.ravel(), pieces.ravel()
    rows, cols = np.divmod(where, width)
    counts = np.zeros(total * count, np.int64)
    for step, valid in ((-width, rows > 0), (width, rows < height - 1), (-1, cols > 0), (1, cols < width - 1)):
        source = where[valid]
        neighbour = source + step
        touching = flat_printable[neighbour] & (flat_labels[neighbour] != flat_labels[source])
        keys = flat_pieces[source[touching]].astype(np.int64) * count + flat_labels[neighbour[touching]]
        counts += np.bincount(keys, minlength=counts.size)
    contacts = counts.reshape(total, count)
    contacts[0] = 0
    return contacts


# --- fill -------------------------------------------------------------------------------------


def _push_pull(rgb: np.ndarray, known: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Colours (N x 3) for the wanted unknown pixels, from the known ones: smooth in between."""
    weight = known.astype(np.float32)
    levels = [(rgb * weight[..., None], weight)]
    while min(weight.shape) > 1 and not (weight > 0).all():
        premultiplied, weight = (cv2.pyrDown(x) for x in levels[-1])
        levels.append((premultiplied, weight))
    colour = None
    for premultiplied, weight in reversed(levels[1:]):
        own = premultiplied / np.maximum(weight, 1e-12)[..., None]
        if colour is None:
            colour = own
            continue
        coarse = cv2.pyrUp(colour, dstsize=weight.shape[::-1])
        trust = np.minimum(weight * FILL_GAIN, 1.0)[..., None]
        colour = trust * own + (1.0 - trust) * coarse
    # At full size a wanted pixel has no weight of its own: its colour is all from the level above.
    full = cv2.pyrUp(colour, dstsize=known.shape[::-1]) if colour is not None else rgb
    return full[wanted]


# --- checks -----------------------------------------------------------------------------------


def _checked_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {image.shape}")
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"expected a float image in [0, 1], got {image.dtype}")
    return image.astype(np.float32, copy=False)


def _checked_membership(membership: np.ndarray, count: int, size: tuple[int, ...]) -> np.ndarray:
    membership = np.asarray(membership)
    if membership.ndim != 2 or membership.shape[0] > size[0] or membership.shape[1] > size[1]:
        raise ValueError(f"expected an HxW layer map no larger than {size}, got shape {membership.shape}")
    if membership.size == 0:
        raise ValueError("the layer map is empty")
    if not 1 <= count <= 255:
        raise ValueError(f"layer count must be 1-255, got {count}")
    if not np.issubdtype(membership.dtype, np.integer) or membership.min() < 0 or membership.max() >= count:
        raise ValueError(f"layer map must hold layer indices 0-{count - 1}")
    return membership.astype(np.uint8, copy=False)


def _checked_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != size or mask.dtype != bool:
        raise ValueError(f"expected an HxW bool mask of shape {size}, got {mask.dtype} {mask.shape}")
    return mask
