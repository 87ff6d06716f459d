"""Classical monocular depth: a few hand-weighted cues, no learned weights.

The photo is shrunk to a working size (~512 px long side) and four cues are computed there:

* position: lower in the frame is nearer (the ground plane recedes towards the horizon);
* subject: a foreground subject is cut out with GrabCut, seeded from a colour-contrast saliency
  map that favours sharp regions. The subject is pulled nearer and, as it stands on the ground,
  moves halfway from the position ramp towards the depth the prior gives to its base;
* defocus: blur measured at edges by re-blurring (Zhuo & Sim, 2011) and spread to flat areas.
  The in-focus plane is assumed to hold the subject, so blur beyond the sharpest regions means far.
  It counts in absolute pixels, so an all-in-focus photo gets no spurious contribution;
* haze: the dark-channel prior (He et al., 2009) marks bright, washed-out, low-contrast regions
  (sky, distant hills). Limited to the upper frame, where far scenery is, so that a pale floor or
  table in the foreground is not pushed back.

Then the regions of a segmenter (the classical one unless another is given) refine it: each subject
and person found stands as far as its base (contact), people come a little nearer, and a blurred
backdrop, or what a person stands before, goes behind; see _region_cues. A photo looking down on many
things laid out on a plain ground (coins on a cloth) is the exception: there lower is not nearer, and
its depth is its regions alone, the things at one depth before the ground (ground_seen_from_above).

The cues are summed with fixed weights, smoothed with a guided filter so that depth edges follow
image edges, stretched to span 0 (nearest) .. 1 (farthest) by percentiles, and brought back to
full resolution with a guided upsampling that uses the full-size photo as the guide.
"""

from __future__ import annotations

import cv2
import numpy as np

from rilievo.adapters.edge_blur import edge_blur
from rilievo.adapters.photo_input import checked_rgb
from rilievo.adapters.guided import guided_filter, guided_upsample
from rilievo.application.ports import Segmenter
from rilievo.domain.errors import DepthEstimationFailed
from rilievo.domain.regions import SUBJECT_NAMES, Regions, frame_border

WORK_SIDE = 512
SUBJECT_SIDE = 256  # GrabCut is the slowest step; a coarse mask is enough before guided smoothing

# Cue weights, in units of the position prior (which spans 0..1 from bottom to top).
SUBJECT_PULL = 0.1
SUBJECT_CONTACT = 0.5  # 1 = subject takes the depth of its base, 0 = plain position ramp
DEFOCUS_WEIGHT = 0.5
HAZE_WEIGHT = 0.2

# Region cues (see _region_cues), in the same units.
REGION_MIN_SIDE = 32
CONTACT_WEIGHT = 0.7  # how much of the height term inside a subject goes
CONTACT_LOWEST_ROW = 0.5  # of the height: a base higher than this is near the horizon, where the
# ground's depth changes fastest and the haze and blur of a far object say more than its height
CONTACT_MAX_SHARE = 0.3  # no contact cue for a region this large (of the picture), full under 0.2
PERSON_PULL = 0.1  # people nearer still
THING_RELIEF = 0.8  # share of its depth spread a subject or person the contact cue left keeps: one thing
BACKDROP_GAP = 0.1  # a blurred backdrop stands at least this far behind the farthest part of the subjects
SKY_BEHIND = 99  # percentile: the sky is flat, as far as its own far part and the rest's
BESIDE_NAMES = frozenset({"", "backdrop", "wall", "sky"})  # what a thing stands before (see _beside)
POCKET_SHARE = 0.9  # of a region's outline inside the frame that runs along a subject: seen past the subject

# A ground seen from above (see ground_seen_from_above)
FLAT_MAX_GROUND_REGIONS = 4
FLAT_MIN_THINGS = 8
FLAT_MIN_THING_SHARE = 0.002
FLAT_MIN_SIZE_RATIO = 0.5

DEFOCUS_RAMP_PX = (1.0, 3.0)  # blur beyond the sharpest regions that counts as none .. full
SMOOTH_RADIUS = 0.02  # of the long side
SMOOTH_EPS = 1e-2  # guided-filter regularisation: larger = less image texture copied into depth
EPS = 1e-6


class ClassicalDepth:
    """Depth from position, subject, defocus and haze cues, then per region of the segmenter: a
    subject or person as near as its base, people nearer. 0 = nearest, 1 = farthest."""

    name = "classical"
    device = None

    def __init__(self, segmenter: Segmenter | None = None):
        self._segmenter = segmenter  # None: the classical segmenter, built on first use

    def estimate(self, image: np.ndarray) -> np.ndarray:
        rgb = checked_rgb(image, DepthEstimationFailed, "depth")
        small = _downscale(rgb, WORK_SIDE)
        gray_small = _gray(small)
        regions = self._regions(small) if min(small.shape[:2]) >= REGION_MIN_SIDE else None
        ground = None if regions is None else ground_seen_from_above(regions)
        if ground is not None:
            # things laid on it lie at one height just before it: no cue applies, and the regions'
            # outlines already follow the photo's edges
            depth = ground.astype(np.float32)
        else:
            depth = _combine_cues(small, gray_small)
            if regions is not None:
                depth = _region_cues(depth, regions)
            depth = guided_filter(gray_small, depth, radius=_scaled(small, SMOOTH_RADIUS), eps=SMOOTH_EPS)
            depth = _stretch(depth)
        return _upsampled(gray_small, depth, _gray(rgb))

    def _regions(self, small: np.ndarray) -> Regions:
        if self._segmenter is None:
            from rilievo.adapters.segment_classical import ClassicalSegmenter

            self._segmenter = ClassicalSegmenter()
        regions = self._segmenter.segment(small)
        if regions.labels.shape != small.shape[:2]:
            raise DepthEstimationFailed(f"the segmenter gave labels of {regions.labels.shape}, not {small.shape[:2]}")
        return regions


def _combine_cues(rgb: np.ndarray, gray: np.ndarray) -> np.ndarray:
    prior = _position_prior(*gray.shape)
    defocus = _defocus(gray)
    subject = _subject_mask(rgb, _saliency(rgb) * (1.0 - defocus))
    base = prior + SUBJECT_CONTACT * (_ground_contact(prior, subject) - prior)
    soft_subject = cv2.GaussianBlur(subject, (0, 0), _scaled(rgb, 0.005))
    return (
        base
        - SUBJECT_PULL * soft_subject
        + DEFOCUS_WEIGHT * defocus
        + HAZE_WEIGHT * _haze(rgb) * prior
    )


# --- cues -------------------------------------------------------------------------------------


def _position_prior(height: int, width: int) -> np.ndarray:
    """1 at the top row (far), 0 at the bottom row (near)."""
    rows = np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None]
    return np.repeat(rows, width, axis=1)


def _defocus(gray: np.ndarray) -> np.ndarray:
    """0 where as sharp as the sharpest regions, rising to 1 for clearly defocused regions."""
    # Measured at half the working size: strongly blurred backgrounds have no edges left to
    # measure at full size, and small blur differences there are mostly noise anyway.
    height, width = gray.shape
    half_size = (max(1, width // 2), max(1, height // 2))
    half = cv2.resize(gray, half_size, interpolation=cv2.INTER_AREA)
    blur_px, confidence = (cv2.resize(x, (width, height)) for x in _edge_blur(half))
    blur_px *= 2.0
    sure = confidence > 0.5
    excess = blur_px - (np.percentile(blur_px[sure], 5) if sure.any() else blur_px.min())
    low, high = DEFOCUS_RAMP_PX
    return (np.clip((excess - low) / (high - low), 0.0, 1.0) * confidence).astype(np.float32)


def _edge_blur(gray: np.ndarray, reblur: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Blur sigma (px) at edges from the gradient ratio before/after re-blurring, spread to all
    pixels by normalised convolution; confidence is the local edge density (0..1)."""
    sigma, at_edges = edge_blur(gray, reblur)
    edges = at_edges.astype(np.float32)
    spread = _scaled(gray, 1 / 16)
    weight = cv2.GaussianBlur(edges, (0, 0), spread)
    blur = cv2.GaussianBlur(sigma * edges, (0, 0), spread) / (weight + EPS)
    confidence = np.clip(weight / (np.percentile(weight, 50) + EPS), 0.0, 1.0)
    return blur, confidence


def _haze(rgb: np.ndarray) -> np.ndarray:
    """Dark channel of the image relative to the airlight: ~1 in haze and sky, ~0 in clear,
    saturated or dark regions."""
    patch = 2 * _scaled(rgb, 0.01) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (patch, patch))
    dark = cv2.erode(rgb.min(axis=2), kernel)
    airlight = np.percentile(rgb.max(axis=2), 99.9)
    return np.clip(dark / max(airlight, 0.1), 0.0, 1.0)


def _saliency(rgb: np.ndarray) -> np.ndarray:
    """Frequency-tuned colour contrast (Achanta et al., 2009), 0..1."""
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (0, 0), _scaled(rgb, 0.006)), cv2.COLOR_RGB2Lab)
    distance = np.linalg.norm(lab - lab.reshape(-1, 3).mean(axis=0), axis=2)
    return np.clip(distance / (np.percentile(distance, 99) + EPS), 0.0, 1.0)


def _subject_mask(rgb: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    """GrabCut seeded with the salient pixels as foreground and the top and side borders as
    background (a subject rarely touches the top; the bottom is left free since subjects stand
    on it). Returns a 0/1 float mask at the size of rgb, all zero if no plausible subject."""
    height, width = saliency.shape
    small = _downscale(rgb, SUBJECT_SIDE)
    h, w = small.shape[:2]
    if min(h, w) < 32 or np.ptp(saliency) < 0.1:
        return np.zeros((height, width), np.float32)
    seed = cv2.resize(saliency, (w, h), interpolation=cv2.INTER_AREA)
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    # at or above: a silhouette covering a third of the picture has a flat-topped saliency
    mask[seed >= np.percentile(seed, 70)] = cv2.GC_PR_FGD
    mask[seed >= np.percentile(seed, 95)] = cv2.GC_FGD
    border = max(2, round(0.02 * min(h, w)))
    mask[:border] = mask[:, :border] = mask[:, -border:] = cv2.GC_BGD
    if not np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).any() or not np.isin(mask, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        return np.zeros((height, width), np.float32)  # GrabCut needs samples of both
    cv2.setRNGSeed(0)  # GrabCut initialises its colour models with k-means
    cv2.grabCut(_to_u8(small), mask, None, np.zeros((1, 65)), np.zeros((1, 65)), 3,
                cv2.GC_INIT_WITH_MASK)
    subject = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    if not 0.005 < subject.mean() < 0.7:
        return np.zeros((height, width), np.float32)
    return cv2.resize(subject, (width, height), interpolation=cv2.INTER_NEAREST)


def _ground_contact(prior: np.ndarray, subject: np.ndarray) -> np.ndarray:
    """The prior, except that each subject blob takes the prior's value at its lowest row."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(subject.astype(np.uint8))
    base_rows = stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT] - 1
    return np.where(labels > 0, prior[base_rows, 0][labels], prior)


def _region_cues(depth: np.ndarray, regions: Regions) -> np.ndarray:
    """Depth adjusted for each subject and person the segmenter found:

    * contact: its rows count as high as its base, not each its own height, in the position term
      (the haze, blur and pull the other cues gave it stay); fully under 20 % of the picture, fading
      to nothing at CONTACT_MAX_SHARE; only for a base in the lower part of the frame;
    * people are pulled nearer by PERSON_PULL;
    * the sky is one far plane behind everything else (at the SKY_BEHIND percentile of its own depth
      and of the rest's, the farther): the position cue made its lower part, by the horizon, as near
      as the hills below it;
    * one thing, at about one depth: a subject or person the contact cue left alone (hanging high in
      the frame, or too large) keeps THING_RELIEF of its depth spread about its median, so that the
      haze cue on a net's white strands does not send half of it back;
    * defocus, per region: a backdrop (a background region mostly out of focus behind a sharp
      subject) stands at least BACKDROP_GAP behind the subjects' far part (their 90th percentile),
      where the blur cue alone, measured at edges, left blurred blobs low in the frame in front;
    * what a person stands before (see _beside) stands BACKDROP_GAP behind the person's far part: in a
      portrait cut by the frame's bottom the position cue put a backdrop beside the shoulders as near
      as the person; so do the pockets beside a subject (the backdrop between a horse's legs).

    Tried and left out, measured on cones, tum_office and the subject masks: flattening every region
    inside the frame towards its base (tum_office 0.538 to 0.564, cones 0.929 to 0.915); putting a
    subject in front of the regions around it (subject AUC 0.786 to 0.795, but the test street
    scene's far object then left the back pane of today's depth-band layer plan).
    """
    labels = regions.labels
    height = labels.shape[0]
    out = depth.copy()
    prior = _position_prior(*labels.shape)
    share = np.bincount(labels.ravel(), minlength=regions.count) / labels.size
    for index, name in enumerate(regions.names):
        if name not in SUBJECT_NAMES or share[index] == 0:
            continue
        inside = labels == index
        lowest = int(np.flatnonzero(inside.any(axis=1))[-1])
        contact = CONTACT_WEIGHT * np.clip((CONTACT_MAX_SHARE - share[index]) / 0.1, 0.0, 1.0)
        if lowest < CONTACT_LOWEST_ROW * height:
            contact = 0.0
        out[inside] -= contact * (prior[inside] - prior[lowest, 0])
        if name == "person":
            out[inside] -= PERSON_PULL
        # what the contact cue did not flatten (a thing hanging high, or too large for it) is drawn together
        relief = THING_RELIEF + (1.0 - THING_RELIEF) * contact / CONTACT_WEIGHT
        middle = np.median(out[inside])
        out[inside] = middle + relief * (out[inside] - middle)
    sky = regions.named(("sky",))
    if sky.any() and not sky.all():
        out[sky] = max(np.percentile(out[sky], SKY_BEHIND), np.percentile(out[~sky], SKY_BEHIND))
    things, backdrop = regions.named(SUBJECT_NAMES), regions.named(("backdrop",))
    if things.any() and backdrop.any():
        behind = np.percentile(out[things], 90) + BACKDROP_GAP
        out[backdrop] = np.maximum(out[backdrop], behind)
    for index, name in enumerate(regions.names):
        if name in SUBJECT_NAMES and share[index]:
            thing = labels == index
            beside = _beside(labels, thing, regions.names, pockets_only=name == "subject")
            if beside.any():
                out[beside] = np.maximum(out[beside], np.percentile(out[thing], 90) + BACKDROP_GAP)
    return out


def ground_seen_from_above(regions: Regions) -> np.ndarray | None:
    """The ground of a picture looking down on things laid out on it (coins on a cloth, a flat lay of
    objects on a table, pictures hung on a wall), as a bool mask; None where the picture is not one.

    There lower in the frame is not nearer, and the position cue would cut the ground and its things
    into bands. The picture is one where the frame's border is all ground, held by at most
    FLAT_MAX_GROUND_REGIONS regions named as no thing (a plain ground that its light divides), and the
    ground holds at least FLAT_MIN_THINGS separate things, each FLAT_MIN_THING_SHARE of the picture
    or more, as large in the upper half of the frame as in the lower (FLAT_MIN_SIZE_RATIO: a scene
    receding from the viewer, a crowd or a field of flowers, shrinks its things towards the top)."""
    labels = regions.labels
    held = np.unique(frame_border(labels))
    if held.size > FLAT_MAX_GROUND_REGIONS or any(regions.names[region] in SUBJECT_NAMES for region in held):
        return None
    ground = np.isin(labels, held)
    _, _, stats, centroids = cv2.connectedComponentsWithStats((~ground).astype(np.uint8), connectivity=8)
    things = stats[1:, cv2.CC_STAT_AREA] >= FLAT_MIN_THING_SHARE * labels.size
    if things.sum() < FLAT_MIN_THINGS:
        return None
    sizes, rows = stats[1:, cv2.CC_STAT_AREA][things], centroids[1:, 1][things]
    upper, lower = sizes[rows < labels.shape[0] / 2], sizes[rows >= labels.shape[0] / 2]
    if upper.size == 0 or lower.size == 0 or np.median(upper) < FLAT_MIN_SIZE_RATIO * np.median(lower):
        return None
    return ground


def _beside(labels: np.ndarray, thing: np.ndarray, names: tuple[str, ...], pockets_only: bool) -> np.ndarray:
    """The regions a person or a subject stands before: those that border it, are not named as a thing
    or a surface things stand on, and reach no lower in the frame than it (what reaches lower, a floor
    or a table before a seated person, may be nearer). For a subject, only the pockets beside it:
    regions that it and the frame alone enclose, with the subject more at their sides than above
    them (the backdrop seen between a horse's legs, not the table's edge under a group of things);
    what else borders a subject found by saliency may be a thing in front of it (the segmenter may
    take a table of things for one subject)."""
    lowest = int(np.flatnonzero(thing.any(axis=1))[-1])
    ring = cv2.dilate(thing.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~thing
    out = np.zeros(labels.shape, bool)
    for region in np.unique(labels[ring]):
        if names[region] not in BESIDE_NAMES:
            continue
        inside = labels == region
        if int(np.flatnonzero(inside.any(axis=1))[-1]) > lowest:
            continue
        if pockets_only:
            outline = cv2.dilate(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~inside
            under = (inside[1:] & thing[:-1]).sum()  # the thing just above: the ground before it
            at_side = (inside[:, 1:] & thing[:, :-1]).sum() + (inside[:, :-1] & thing[:, 1:]).sum()
            if thing[outline].mean() < POCKET_SHARE or at_side <= under:
                continue
        out |= inside
    return out


# --- image helpers ----------------------------------------------------------------------------


def _upsampled(guide_small: np.ndarray, depth_small: np.ndarray, guide_full: np.ndarray) -> np.ndarray:
    if guide_full.shape == depth_small.shape:
        return _final_range(depth_small)
    return _final_range(guided_upsample(guide_small, depth_small, guide_full))


def _stretch(depth: np.ndarray) -> np.ndarray:
    low, high = np.percentile(depth, (1, 99))
    return np.clip((depth - low) / max(high - low, EPS), 0.0, 1.0).astype(np.float32)


def _final_range(depth: np.ndarray) -> np.ndarray:
    """The depth stretched to 0..1, in place (it is the caller's to give up)."""
    low, high = float(depth.min()), float(depth.max())
    depth = np.subtract(depth, low, out=depth)
    return np.divide(depth, max(high - low, EPS), out=depth)


def _downscale(rgb: np.ndarray, long_side: int) -> np.ndarray:
    scale = long_side / max(rgb.shape[:2])
    if scale >= 1.0:
        return rgb
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _to_u8(image: np.ndarray) -> np.ndarray:
    return np.round(image * 255.0).astype(np.uint8)


def _scaled(image: np.ndarray, fraction: float) -> int:
    """A length in px that is `fraction` of the image's long side, at least 1."""
    return max(1, round(fraction * max(image.shape[:2])))
