"""The built-in segmenter: whole subjects first, then a few large background regions. No downloads.

At a working size of about 512 px:

1. SLIC superpixels (scikit-image), with their mean Lab colour, texture and the edges between them;
   a faint picture (a faded painting, mist) with its contrast stretched first (_with_contrast).
2. Subjects. Each face (MediaPipe's BlazeFace, see adapters/faces.py) where MediaPipe's selfie
   segmentation model sees a person (adapters/person_mask.py) gives a person, cut out by GrabCut
   seeded from the model's answer and from the pose model's outline of the body below the face.
   Without a person, the salient subject:
   superpixels weakly connected to the picture's border and unlike what surrounds them
   (boundary-connectivity saliency, Zhu et al., CVPR 2014), cut out by GrabCut seeded from it.
   Where a subject fills the frame (a cat's face) before a blurred scene, saliency fails: then the
   sharp part of a picture with a clear blurred share is the subject (shallow depth of field).
   Where what either found is part of a whole set apart from the scene by its colour (a tuft on a
   bear's back, a cub's sharp face above its soft chest), the whole is the subject.
   Before both: on a plain ground (paper, a backdrop, an empty sky) each dense cluster of strokes,
   with the ground it encloses, is a subject (a dog drawn in pale fur on paper).
   U²-Net's small salient-object model (adapters/salient_object.py) outlines an animal or a thing
   whole; its cut, by GrabCut seeded from its answer, replaces the one from colour and focus unless
   that holds it and adds only what the model sees (see _holds), or saliency and focus found the same
   thing, and joins it where it does. What the people hold of its cut brings the rest of it to them
   (a tripod, a ball).
3. The background: superpixels merged greedily by colour, texture and the edge between them, and
   regions too small to matter absorbed by their closest neighbour (but an island beside a subject,
   unlike the one region around it, which the subject takes if it can: a man's legs below his coat);
   no region the salient-object model denies joins a subject (a person only where the model sees her).
   A region is named "sky",
   "ground"/"floor" or "wall" where its place, brightness and texture say so, and "backdrop" where
   it is mostly out of focus behind a subject.

Labels are enlarged to the photo's size; a subject's outline is snapped to the photo's edges there by
guided upsampling of its mask.
"""

from __future__ import annotations

import hashlib
import heapq
import threading

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from skimage.segmentation import find_boundaries, slic

from rilievo.adapters.edge_blur import edge_blur
from rilievo.adapters.faces import Face, find_faces, head_of, person_seed
from rilievo.adapters.person_mask import body_chance, person_chance
from rilievo.adapters.salient_object import salient_chance
from rilievo.adapters.guided import guided_upsample
from rilievo.domain.regions import Regions

WORK_SIDE = 512
SUPERPIXELS = 500
MIN_SUPERPIXEL_AREA = 300  # px: fewer superpixels in a small picture, as smaller ones measure only noise
GRABCUT_SIDE = 256
GRABCUT_ITERATIONS = 3
PERSON_FACE_CHANCE = 0.2  # the selfie model's answer seeds a person's cut where it gives this chance ...
PERSON_FACE_SHARE = 0.5  # ... to this share of the face's middle (a painted face scores 0 there)
PERSON_BLURRED_GAP = 2.5  # log2 units of fine detail below the face's: the scene blurred behind a person ...
PERSON_BLURRED_GAP_NEAR = 1.5  # ... and this many where it joins such scene, ...
NEAR_EXPOSED = (10.0, 95.0)  # ... in this L* range ...
NEAR_SOFT_EDGE = 4.0  # ... and joins it across boundaries this soft (Lab units per px)
PERSON_SURE, PERSON_SURELY_NOT = 0.9, 0.1  # the model's chances from which a pixel surely is, or is not, the person
MIN_SIDE = 16  # below this a photo is one region
FAINT_SPREAD = 20.0  # L* units between a picture's 2nd and 98th percentiles below which it is faint ...
STRETCHED_SPREAD = 40.0  # ... and is segmented with its contrast stretched to this spread ...
MAX_STRETCH = 3.0  # ... by at most this factor (a flat picture's noise stays noise)

# Boundary connectivity saliency (Zhu et al. 2014); Lab distances in Lab units.
COLOUR_SIGMA = 10.0
SPATIAL_SIGMA = 0.25  # of the picture's size
BOTTOM_BORDER_WEIGHT = 0.5  # subjects stand on the bottom edge; it says "background" less surely
SMOOTHNESS = 0.1
FOCUS_WEIGHT = 6.0  # Lab units per doubling of fine detail

SUBJECT_AREA = (0.004, 0.6)  # share of the picture a salient subject may cover
MIN_SUBJECT_CONTRAST = 0.18  # mean saliency inside the subject minus outside it (clutter around an object spreads it)
# The whole of a subject found in part, set apart by its colour (_coloured_whole)
WHOLE_HOLDS = 0.8  # share of the part found that it holds ...
WHOLE_MIN_GROWTH = 1.1  # ... and how much larger than it it is at least
WHOLE_FROM_BORDER = 30.0  # Lab units between its mean colour and the frame's upper border's ...
WHOLE_FROM_RING = 20.0  # ... and the ring just around it
WHOLE_ADDED_LIKE = 0.7  # what it adds is at most this share as far in colour from the part found as from the scene,
# or as far from the scene as the whole must be (a fruit's dark side, of which saliency found the lit side)
WHOLE_MAX_AREA = 0.85  # share of the picture
FILLING_AREA = (0.3, 0.9)  # share of the picture a subject filling the frame covers, ...
FILLING_FROM_REST = 25.0  # ... Lab units between its mean colour and the rest's ...
FILLING_FROM_RING = 15.0  # ... and the ring just around it ...
FILLING_MAX_TOP = 0.85  # ... and the share of the top edge it may take (the rest must show above it)
LEARNED_SEEDS = (0.1, 0.5, 0.9)  # the salient-object model's chance: surely not, probably not, probably, surely
LEARNED_REACH = 0.2  # GrabCut from its answer keeps only where it gives at least this ...
LEARNED_MIN_CONTRAST = 0.3  # ... and a cut this much surer inside than outside is a subject, ...
LEARNED_SURE = 0.25  # ... where the model is sure of this share of it (a desk in a cluttered office: none)
LEARNED_HELD = 0.8  # share of the model's subject that a cut from colour and focus holds to stand, ...
LEARNED_SPECK = 0.1  # ... where the model's subject is under this share of it ...
LEARNED_ADDED_SEEN = 0.6  # ... or the model sees this share of what it adds ...
UNSEEN = 0.05  # ... giving it at least this chance
AGREED_OVERLAP = 0.8  # intersection over union of the cuts from saliency and from focus that agree
DENIED = 0.2  # the model's mean chance over a region under which it denies the region is the subject's
HELD_BY_PEOPLE = 0.5  # share of a part of the model's subject the people hold, for all of it to join them
SPILL = 1.5  # a salient cut this much larger than the sharp part it holds spilled into the blurred scene
MAX_SUBJECT_TOP = 0.3  # share of the top edge (or of both side edges) a salient subject may touch ...
MAX_CUT_TOP = 0.4  # ... or this share for a thing only the top edge cuts (a ball hanging in from it)

# The subject of a shallow depth of field (_focused_subject); focus in log2 units of fine detail.
BLURRED = -1.0
FOCUS_BLURRED_SHARE = (0.1, 0.6)
FOCUS_SHARP_QUARTER = 1.0  # the sharpest quarter this far above the median: focus measured against it ...
FOCUS_MOST_BLURRED_SHARE = 0.75  # ... and all but it may be blurred
FOCUS_SURE = 1.0  # twice the median superpixel's detail: surely the subject (the sharpest quarter's, against it)
FOCUS_MAX_BLURRED_TOP = 0.5  # a blurred band along the top that nothing as detailed as the reference
# breaks (a head the top cuts does) is sky, mist or paper ...
FOCUS_MAX_BLURRED_ROW = 0.65  # ... and a smooth part low in the frame a floor or a table (its centre's row)
EXPOSED = (20.0, 90.0)  # L* range where a lack of fine detail means blur
FOCUS_SUBJECT_AREA = (0.1, 0.9)
FOCUS_MIN_CONTRAST = 1.5
FOCUS_SHARP = -0.5  # superpixels nearly as detailed as the median one, touching the cut, join it ...
FOCUS_MAX_JOIN = 1.25  # ... unless they would grow it by more than a quarter
FOCUS_MIN_SHAPES = 0.3  # the blurred part's soft shapes against the sharp part's (see _coarse_detail) ...
FOCUS_MIN_SHAPES_QUARTER = 0.4  # ... against the sharpest quarter, where plain surfaces pass for blur
SCENE_MIN_SHAPES = 0.8  # of the sure part's soft shapes: blurred scene in a cut from focus, not the subject's soft fur
BACKDROP_MIN_BLURRED = 0.6  # share of a background region that must be blurred, in a shallow depth of field
# A backdrop behind a subject found otherwise:
BACKDROP_DETAIL_GAP = 2.0  # log2 units of fine detail below the subject's sharp part: a backdrop ...
BACKDROP_MIN_SHAPES = 0.2  # ... that keeps this share of the subject's soft shapes (it is blurred, not plain)
BACKDROP_EDGE_BLUR = 0.4  # px: and whose edges are this much more blurred than the subject's ...
BACKDROP_MIN_EDGES = 30  # ... where it has this many edge pixels (fewer: blurred past having edges)

PAPER_BAND = 0.03  # of the short side: the band along the frame where a plain ground is sampled
PAPER_DELTA = 8.0  # Lab units from the fitted ground colour that are still the ground ...
INK_DELTA = 9.0  # ... and from which on a pixel is drawn (a line, a wash, a thing on a backdrop)
PAPER_MIN_BAND = 0.85  # share of the band, ...
PAPER_MIN_SHARE = 0.6  # ... and of the whole picture, that is the plain ground
PAPER_MAX_SHAPES = 0.5  # Lab units: the median soft shapes (see _soft_shapes) of the ground ...
PAPER_CLEARANCE = 24  # ... this many px from anything else, past the reach of a stroke's own contrast
INK_WINDOW = 0.03  # of the long side: the window in which strokes make up a drawn thing ...
INK_DENSITY = 0.08  # ... when they cover this share of it
INK_MAX_HOLE = 0.05  # unmarked ground enclosed by a drawn thing and smaller than this share is part of it
SOLID_INK = 0.8  # share of a drawn thing that is ink, from which on it is solid, not strokes
DRAWN_SUBJECT_AREA = (0.02, 0.8)

SURROUNDED_SHARE = 0.75  # of a region's outline along a person (or a subject in focus), for it to take it
SEEN_PAST_TOP = 0.2  # of a region's outline along the scene that reaches the frame's top, ...
SEEN_PAST_ALIKE = 15.0  # ... looking like it to these Lab units: the scene seen past a subject, not a part of it
HUG_SHARE = 0.25  # of a background region's outline that runs along a subject, for it to join
HUG_ROUNDS = 5
CUT_HUG_SHARE = 0.5  # a region the frame cuts joins if this much of its outline runs along the subject, ...
CUT_HUG_FRAME = 0.25  # ... the frame takes at most this share of its whole border, it lies lower, ...
CUT_HUG_APART = 0.25  # ... and this share of its outline runs along other regions ...
CUT_HUG_CONTRAST = 10.0  # ... that it differs from by this many Lab units
HANG_SHARE = 0.1  # a region this much of whose outline runs along the subject joins if it is an island ...
HANG_IN_ONE = 0.9  # ... lying, for this share of the rest of its outline, in one other region ...
HANG_CONTRAST = 20.0  # ... that it differs from by this many Lab units, ...
HANG_MAX_GROWTH = 2.0  # ... and is at most this many times the subject's size (legs below a coat)

SKY_ABOVE = 0.5  # of a sky-coloured region's upper outline that is sky (or the frame's top; things before a
# low cloud hide the rest of its top): it is sky too ...
SKY_BORDER = 0.15  # ... and the sky this share of its whole outline, ...
SKY_SOFT_EDGE = 8.0  # ... with a mean edge strength (Lab units per px) along it under this, ...
SKY_MIN_SHARE = 0.003  # ... where this share of the picture shows of it ...
SKY_MAX_ROW = 0.6  # ... and its centre is above this row

MERGE_COST = 1.0  # greedy merging of background regions stops above this cost
MIN_REGION_SHARE = 0.004  # smaller background regions are absorbed by their closest neighbour, ...
KEPT_APART_COST = 2.0  # ... unless they lie beside a subject, in one other region that costs this much to merge with


class ClassicalSegmenter:
    name = "classical-regions"
    device = None

    def segment(self, image: np.ndarray) -> Regions:
        rgb = _checked(image)
        height, width = rgb.shape[:2]
        if min(height, width) < MIN_SIDE:
            return Regions.whole(height, width)
        small = _with_contrast(np.clip(np.nan_to_num(_downscale(rgb, WORK_SIDE)), 0.0, 1.0))
        found = _found_once(small)
        if found is None:  # nothing to tell apart (noise, a flat picture)
            return Regions.whole(height, width)
        return _enlarged(*found, small, rgb)


# A render segments the same working image twice: the classical depth segments its shrunk photo, then
# the layer plan the photo, which shrinks to the same pixels. The last result is kept (one per
# process, a megabyte at most), so the second costs only its enlargement.
_last_found: tuple[tuple, tuple | None] | None = None
_last_found_lock = threading.Lock()


def _found_once(small: np.ndarray) -> tuple[np.ndarray, list[str], list[np.ndarray]] | None:
    """_found, or what it gave for this very working image last time."""
    global _last_found
    key = (small.shape, hashlib.blake2b(small.tobytes(), digest_size=16).digest())
    with _last_found_lock:
        if _last_found is not None and _last_found[0] == key:
            return _last_found[1]
    found = _found(small)
    with _last_found_lock:
        _last_found = (key, found)
    return found


def _found(small: np.ndarray) -> tuple[np.ndarray, list[str], list[np.ndarray]] | None:
    """The region labels and names at the working size, and the subjects' masks; None where there is
    nothing to tell apart."""
    count = min(SUPERPIXELS, small.shape[0] * small.shape[1] // MIN_SUPERPIXEL_AREA)
    superpixels = slic(small, n_segments=max(count, 2), compactness=10, start_label=0, convert2lab=True)
    _, superpixels = np.unique(superpixels, return_inverse=True)
    superpixels = superpixels.reshape(small.shape[:2]).astype(np.int32)
    if superpixels.max() == 0:
        return None
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab)
    graph = _Graph(superpixels, lab, _edges(lab))
    focus = _focus(graph)
    subject_chance = salient_chance(small)
    subjects, names, by_focus = _subjects(small, graph, focus, subject_chance)
    merged = _background(graph, subjects)
    subjects, names = _completed(subjects, names, merged, lab, focus[graph.labels], by_focus, subject_chance)
    merged = _islands_left_absorbed(merged, subjects)
    labels, background_names = _named_background(graph, merged, subjects)
    background_names = _backdrops(graph, labels, background_names, subjects, focus, by_focus)
    labels, names = _with_subjects(labels, background_names, subjects, names)
    return labels, names, subjects


# --- the superpixel graph ---------------------------------------------------------------------


class _Graph:
    """Superpixels (or regions) with their mean Lab colour, texture, area and border contact, and
    for each adjacent pair the length of their shared boundary and the summed edge strength on it."""

    def __init__(self, labels: np.ndarray, lab: np.ndarray, edges: np.ndarray):
        self.labels = labels
        self.lab_image = lab
        self.edge_image = edges
        count = int(labels.max()) + 1
        flat = labels.ravel()
        self.area = np.bincount(flat, minlength=count).astype(np.float64)
        self.lab_sum = np.stack([np.bincount(flat, lab[..., c].ravel(), count) for c in range(3)], 1)
        self.lab_sq = np.stack([np.bincount(flat, lab[..., c].ravel() ** 2, count) for c in range(3)], 1)
        height, width = labels.shape
        rows, cols = np.indices(labels.shape)
        self.centroid = np.stack([np.bincount(flat, rows.ravel() / height, count),
                                  np.bincount(flat, cols.ravel() / width, count)], 1) / self.area[:, None]
        border = np.zeros(count)
        for line, weight in ((labels[0], 1.0), (labels[:, 0], 1.0), (labels[:, -1], 1.0),
                             (labels[-1], BOTTOM_BORDER_WEIGHT)):
            border += weight * np.bincount(line, minlength=count)
        self.border = border
        self.pairs, self.length, self.edge_sum = _adjacency(labels, edges)

    @property
    def mean(self) -> np.ndarray:
        return self.lab_sum / self.area[:, None]

    @property
    def spread(self) -> np.ndarray:
        """Standard deviation of L: a measure of texture."""
        variance = self.lab_sq[:, 0] / self.area - self.mean[:, 0] ** 2
        return np.sqrt(np.maximum(variance, 0.0))


def _adjacency(labels: np.ndarray, edges: np.ndarray):
    """Adjacent label pairs (a < b), their boundary length and the summed edge strength along it."""
    count = int(labels.max()) + 1
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
    strength = np.concatenate([np.maximum(edges[:, :-1], edges[:, 1:]).ravel(),
                               np.maximum(edges[:-1, :], edges[1:, :]).ravel()])
    differ = a != b
    low, high = np.minimum(a, b)[differ], np.maximum(a, b)[differ]
    keys, inverse, length = np.unique(low.astype(np.int64) * count + high, return_inverse=True, return_counts=True)
    edge_sum = np.bincount(inverse, strength[differ], len(keys))
    return np.stack([keys // count, keys % count], 1), length.astype(np.float64), edge_sum


def _edges(lab: np.ndarray) -> np.ndarray:
    """Colour gradient magnitude in Lab units per pixel, lightly smoothed."""
    smooth = cv2.GaussianBlur(lab, (0, 0), 1.0)
    total = np.zeros(lab.shape[:2], np.float32)
    for c in range(3):
        gx = cv2.Sobel(smooth[..., c], cv2.CV_32F, 1, 0, ksize=3) / 8
        gy = cv2.Sobel(smooth[..., c], cv2.CV_32F, 0, 1, ksize=3) / 8
        total += gx * gx + gy * gy
    return np.sqrt(total)


# --- subjects ---------------------------------------------------------------------------------


def _subjects(small: np.ndarray, graph: _Graph, focus: np.ndarray,
              subject_chance: np.ndarray) -> tuple[list[np.ndarray], list[str], bool]:
    """Bool masks at the working size, disjoint, with their names, and whether they were found as
    the sharp part of a shallow depth of field. `subject_chance`: the salient-object model's answer."""
    people = []
    taken = np.zeros(small.shape[:2], bool)
    faces = find_faces(small)
    chance = person_chance(small) if faces else None
    for face in faces:
        centre = int(face.centre[0]), int(face.centre[1])
        # a face inside a person already cut out (one of a group the first cut took whole) adds what its
        # own cut holds of its head and hair to that person
        holder = next((index for index, person in enumerate(people) if person[centre]), None)
        person = _tidy(_person(small, face, chance, graph, focus) & ~taken)
        if holder is not None:
            person &= head_of(face, *small.shape[:2])
            people[holder] |= person
        elif person.any():
            people.append(person)
        taken |= person
    if people:
        people = _with_what_they_hold(people, _learned_subject(small, subject_chance), subject_chance)
        return people, ["person"] * len(people), False
    drawn = _drawn_subjects(graph.lab_image)
    if drawn:
        return drawn, ["subject"] * len(drawn), False
    subject = _salient_subject(small, graph, focus)
    focused = _focused_subject(small, graph, focus)
    # Saliency picks out the eyes of a face filling the frame: the sharp whole wins over a small part of it
    inside = (subject & focused).sum()
    by_focus = bool(focused.any()) and inside >= 0.8 * subject.sum() and subject.sum() < 0.5 * focused.sum()
    # ... and a cut from saliency that holds the sharp whole and as much again spilled into the blurred
    # floor around it, coloured like the thing standing on it: what of it is blurred is not the subject
    # (GrabCut from focus, by colour too, may have lost fur of the floor's colour that saliency kept)
    if not by_focus and focused.any() and inside >= 0.8 * focused.sum() and subject.sum() > SPILL * focused.sum():
        detail = focus[graph.labels]
        subject = _tidy(subject & (detail > np.median(detail[focused]) - BACKDROP_DETAIL_GAP))
    found = focused if by_focus else subject
    # where saliency and focus found the same thing, it stands whole against the model below: the model
    # sees the lit top of a tower at dusk, and hardly its dark foot
    agreed = not by_focus and _overlap(subject, focused) >= AGREED_OVERLAP
    whole = _coloured_whole(small, graph, found) if found.any() else _filling_the_frame(small, graph)
    if whole is not None:
        found, by_focus, agreed = whole, False, False
    # The salient-object model outlines an animal or a thing whole where colour and focus split it or
    # join it to its background. The model's subject joins the cut from them where that holds it and
    # either it is a speck of that cut (the eyes of a cat's face filling the frame) or the model sees
    # most of what the cut adds (the shaded foot of a tower, a cat's cheek), if only faintly: the cut
    # stands, with what it missed of the model's subject (a running cheetah's tail); else the model's
    # subject stands, with what of that cut the model sees (a macaw's body below its head)
    learned = _learned_subject(small, subject_chance)
    if learned.any():
        kept = found if agreed or _holds(found, learned, subject_chance) else found & (subject_chance >= UNSEEN)
        found = learned | kept
    parts = _parts(found)
    return parts, ["subject"] * len(parts), by_focus


def _with_what_they_hold(people: list[np.ndarray], learned: np.ndarray, chance: np.ndarray) -> list[np.ndarray]:
    """The people with the rest of each part of the salient-object model's subject they hold at least
    HELD_BY_PEOPLE of, where the model leans to it (0.5: not the edge of a flag beside an astronaut's
    arm, nor the grass a tripod's legs enclose), each pixel to the nearest of them: the tripod a
    cameraman stands at, the ball at a player's foot, the back of a coach's dark suit the selfie model
    lost against the dark crowd."""
    held = _union(people, learned.shape)
    count, parts = cv2.connectedComponents(learned.astype(np.uint8), connectivity=8)
    joining = np.zeros(learned.shape, bool)
    for label in range(1, count):
        part = parts == label
        if (part & held).sum() >= HELD_BY_PEOPLE * part.sum():
            joining |= part & ~held & (chance >= LEARNED_SEEDS[1])
    if not joining.any():
        return people
    distances = [cv2.distanceTransform((~person).astype(np.uint8), cv2.DIST_L2, 5) for person in people]
    nearest = np.argmin(np.stack(distances), axis=0)
    return [person | (joining & (nearest == index)) for index, person in enumerate(people)]


def _coloured_whole(small: np.ndarray, graph: _Graph, found: np.ndarray) -> np.ndarray | None:
    """The whole of a subject of which saliency or focus found a part (a tuft on a bear's back that
    stands out of its fur, a cub's sharp face above its soft ears and chest), where the whole is set
    apart from the scene by its colour: the largest part of a GrabCut seeded with the superpixels along
    the frame's top and the upper halves of its sides as background (but the part's own), those along
    the rest of the frame as probably background, or as background where they look more like one along
    the top than like the part (the grass a bear stands in, beside its legs), and all else as probably
    subject. None where that cut holds too little of the part, adds too little to it or adds what looks
    like the scene more than like the part without being plainly unlike the scene (a fruit's dark side
    is far from its lit side and from the wall), is not set apart in colour from the frame's upper
    border and from the ring just around it, or does not stand clear of the frame."""
    labels = graph.labels
    half = labels.shape[0] // 2
    border = np.setdiff1d(np.concatenate([labels[0], labels[:half, 0], labels[:half, -1]]), labels[found])
    lower = np.setdiff1d(np.concatenate([labels[-1], labels[half:, 0], labels[half:, -1]]), labels[found])
    seed = np.full(len(graph.area), cv2.GC_PR_FGD, np.uint8)
    seed[np.concatenate([labels[-1], labels[:, 0], labels[:, -1]])] = cv2.GC_PR_BGD
    seed[border] = cv2.GC_BGD
    top = np.setdiff1d(labels[0], labels[found])
    if top.size and lower.size:
        from_scene = _nearest_colour(graph.mean[lower], graph.mean[top])
        from_part = _nearest_colour(graph.mean[lower], graph.mean[np.unique(labels[found])])
        seed[lower[(from_scene < SEEN_PAST_ALIKE) & (from_scene < from_part)]] = cv2.GC_BGD
    parts = _parts(_tidy(_grabcut(small, seed[labels])))
    if not parts:
        return None
    whole = parts[0]
    if (whole & found).sum() < WHOLE_HOLDS * found.sum() or whole.sum() < WHOLE_MIN_GROWTH * found.sum():
        return None
    lab = graph.lab_image
    scene = np.isin(labels, border) & ~whole
    ring = _ring(whole, 4)
    if not scene.any() or not ring.any():
        return None
    colour, scene_colour = lab[whole].mean(axis=0), lab[scene].mean(axis=0)
    set_apart = (np.linalg.norm(colour - scene_colour) >= WHOLE_FROM_BORDER
                 and np.linalg.norm(colour - lab[ring].mean(axis=0)) >= WHOLE_FROM_RING)
    added = lab[whole & ~found].mean(axis=0)  # the rest of the thing looks like the part found ...
    added_from_scene = np.linalg.norm(added - scene_colour)
    like_the_part = (np.linalg.norm(added - lab[found].mean(axis=0)) <= WHOLE_ADDED_LIKE * added_from_scene
                     or added_from_scene >= WHOLE_FROM_BORDER)  # ... or is plainly not the scene
    sized = SUBJECT_AREA[0] < whole.mean() < WHOLE_MAX_AREA
    return whole if set_apart and like_the_part and sized and _stands_clear(whole) else None


def _filling_the_frame(small: np.ndarray, graph: _Graph) -> np.ndarray | None:
    """A subject filling most of the frame, where neither saliency nor focus found any of it (a bear
    seen close, a horse's silhouette cropped by the frame): boundary connectivity takes what touches
    the frame this much for background. The largest part of a GrabCut seeded with the superpixels along
    the frame as probably background and all else as probably subject, where it covers a large share
    of the picture but not all of it, is set apart in colour from the rest and from the ring just
    around it, and leaves the rest showing along the top and down one side (a cut across the whole top
    with a floor left below is the room, and one down both sides is the floor), and what it leaves is
    one scene (see _one_scene). None otherwise."""
    labels = graph.labels
    seed = np.full(len(graph.area), cv2.GC_PR_FGD, np.uint8)
    seed[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = cv2.GC_PR_BGD
    parts = _parts(_tidy(_grabcut(small, seed[labels])))
    if not parts:
        return None
    whole = parts[0]
    if not FILLING_AREA[0] < whole.mean() < FILLING_AREA[1]:
        return None
    lab = graph.lab_image
    colour = lab[whole].mean(axis=0)
    from_rest = float(np.linalg.norm(colour - lab[~whole].mean(axis=0)))
    set_apart = (from_rest >= FILLING_FROM_REST
                 and np.linalg.norm(colour - lab[_ring(whole, 4)].mean(axis=0)) >= FILLING_FROM_RING)
    clear = whole[0].mean() <= FILLING_MAX_TOP and min(whole[:, 0].mean(), whole[:, -1].mean()) <= MAX_SUBJECT_TOP
    return whole if set_apart and clear and _one_scene(lab, ~whole, from_rest) else None


def _one_scene(lab: np.ndarray, rest: np.ndarray, thing_from_rest: float) -> bool:
    """Whether the pieces the rest of the picture falls into are nearer each other in colour than the
    thing between them is to the rest (`thing_from_rest`, Lab units): the scene seen around one thing,
    not two things beside a third."""
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
    large = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= 0.01 * rest.size]
    means = np.array([lab[pieces == i].mean(axis=0) for i in large])
    if len(means) < 2:
        return True
    return np.linalg.norm(means[:, None] - means[None], axis=2).max() < thing_from_rest


def _nearest_colour(colours: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Per colour, its Lab distance to the nearest of `among`."""
    return np.linalg.norm(colours[:, None] - among[None], axis=2).min(axis=1)


def _person(small: np.ndarray, face: Face, chance: np.ndarray, graph: _Graph, focus: np.ndarray) -> np.ndarray:
    """The person whose face this is, cut out by GrabCut seeded with the selfie model's answer (sure
    where it is sure and at the face's middle, probable where it leans, surely not where it and the
    body-shaped seed below the face agree, or where the scene is surely blurred against the face,
    beside and below the head: see _blurred_against; a plain cap filling a box above the face may pass
    for blur), less the scene joined to that blur, the part of the cut holding the face; nothing where
    the model sees no person at the face (a face the detector found in a pattern, or painted). Where the
    selfie model sees any person at all, its answer is raised to the pose model's outline of this one:
    the legs and shoes it fades out on stay with the person, and the legs the pose model draws in the
    grass below a person the frame cuts do not."""
    inner = face.size // 4
    middle = (slice(max(0, face.row + inner), face.row + face.size - inner),
              slice(max(0, face.col + inner), face.col + face.size - inner))
    if chance[middle].size == 0 or (chance[middle] > PERSON_FACE_CHANCE).mean() < PERSON_FACE_SHARE:
        return np.zeros(small.shape[:2], bool)
    chance = np.maximum(chance, np.where(chance >= PERSON_SURELY_NOT, body_chance(small, face), 0.0))
    body = person_seed(face, *small.shape[:2])
    # the model is surer of some people than of others (of one close to the camera than of one of a
    # group): it leans to this one where it gives at least half of what it gives the face
    leaning = 0.5 * min(1.0, float(chance[middle].mean()) / PERSON_SURE)
    seed = np.select([chance >= PERSON_SURE, chance >= leaning, (chance < PERSON_SURELY_NOT) & (body == cv2.GC_BGD)],
                     [cv2.GC_FGD, cv2.GC_PR_FGD, cv2.GC_BGD], cv2.GC_PR_BGD).astype(np.uint8)
    blurred, spread = _blurred_against(graph, focus, middle)
    cap_and_face = (slice(max(0, face.row - face.size), face.row + face.size),
                    slice(max(0, face.col), face.col + face.size))
    blurred[cap_and_face] = spread[cap_and_face] = False
    seed[blurred] = cv2.GC_BGD
    seed[middle] = cv2.GC_FGD  # the detector's face, which the model leans to
    _, parts = cv2.connectedComponents((_grabcut(small, seed) & ~spread).astype(np.uint8), connectivity=8)
    found = np.bincount(parts[middle].ravel(), minlength=2)
    found[0] = 0
    return parts == int(np.argmax(found)) if found.any() else np.zeros(small.shape[:2], bool)


def _blurred_against(graph: _Graph, focus: np.ndarray, face: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, whether it is surely blurred against the face's middle: PERSON_BLURRED_GAP log2
    units of fine detail below it, in light that shows detail, keeping BACKDROP_MIN_SHAPES of its soft
    shapes (a plain shirt has neither fine detail nor soft shapes; a blurred crowd keeps its shapes);
    and whether it is that or scene joined to it: PERSON_BLURRED_GAP_NEAR units below, across soft
    boundaries (the crowd's darker, smoother parts). The selfie model takes a crowd behind a sharp
    coach for people: it is no part of him."""
    lightness, shapes, on_face = graph.mean[:, 0], _coarse_detail(graph), graph.labels[face]
    gap, face_shapes = np.median(focus[on_face]) - focus, np.median(shapes[on_face])
    sure = ((lightness > EXPOSED[0]) & (lightness < EXPOSED[1]) & (gap > PERSON_BLURRED_GAP)
            & (shapes >= BACKDROP_MIN_SHAPES * face_shapes))
    near = (lightness > NEAR_EXPOSED[0]) & (lightness < NEAR_EXPOSED[1]) & (gap > PERSON_BLURRED_GAP_NEAR)
    return sure[graph.labels], _grown(graph, sure, near)[graph.labels]


def _grown(graph: _Graph, sure: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Per superpixel, `sure` and the `near` ones joined to it through `near` ones across soft
    boundaries (a blurred scene's; the sharp outline of a dark suit against it stops it)."""
    a, b = graph.pairs.T
    either = sure | near
    joined = (graph.edge_sum / graph.length < NEAR_SOFT_EDGE) & either[a] & either[b]
    count = len(graph.area)
    _, component = connected_components(coo_matrix((np.ones(joined.sum()), (a[joined], b[joined])),
                                                   shape=(count, count)), directed=False)
    return either & np.isin(component, component[sure])


def _drawn_subjects(lab: np.ndarray) -> list[np.ndarray]:
    """Things drawn or set on a plain ground (paper, a studio backdrop, an empty sky), each a bool
    mask at the working size; none where the picture is not mostly such a ground.

    Saliency sees the dark faces of two dogs drawn on paper, not their pale fur, which is the paper's
    colour between the strokes. Here the ground is a smooth colour field fitted to the frame's edge
    (paper darkens and yellows across a sheet), and a drawn thing is where strokes lie densely, with
    the small patches of ground they enclose."""
    distance, band = _from_plain_ground(lab)
    if distance is None:
        return []
    height, width = distance.shape
    ground = distance < PAPER_DELTA
    if ground[band].mean() < PAPER_MIN_BAND or ground.mean() < PAPER_MIN_SHARE:
        return []
    # Paper and a studio backdrop are plain away from the strokes; a ground streaked by a blur (a
    # cheetah running past) keeps the scene's soft shapes, and its dark streaks are no drawing
    clear = cv2.erode(ground.astype(np.uint8), np.ones((2 * PAPER_CLEARANCE + 1,) * 2, np.uint8)) > 0
    if clear.any() and np.median(_soft_shapes(lab[..., 0])[clear]) > PAPER_MAX_SHAPES:
        return []
    window = max(3, round(INK_WINDOW * max(height, width)))
    ink = distance > INK_DELTA
    density = cv2.blur(ink.astype(np.float32), (window, window))
    # each cluster of strokes on its own, so that a signature beside a figure stays apart from it
    count, clusters = cv2.connectedComponents((density > INK_DENSITY).astype(np.uint8), connectivity=8)
    subjects: list[np.ndarray] = []
    taken = np.zeros((height, width), bool)
    for index in range(1, count):
        drawn = _drawn_thing(clusters == index, ink, window) & ~taken
        if drawn.mean() >= DRAWN_SUBJECT_AREA[0]:
            subjects.append(drawn)
            taken |= drawn
    if not subjects or taken.mean() > DRAWN_SUBJECT_AREA[1]:
        return []
    return sorted(subjects, key=lambda mask: -mask.sum())


def _drawn_thing(cluster: np.ndarray, ink: np.ndarray, window: int) -> np.ndarray:
    """The outline of one cluster of dense strokes: closed over the gaps between its strokes, the
    density's reach past the outermost stroke (about 0.4 windows) taken back but not the strokes, the
    small patches of ground it encloses filled; a solid thing (a silhouette) along its own ink."""
    def disc(size: int) -> np.ndarray:
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))

    closed = cv2.morphologyEx(cluster.astype(np.uint8), cv2.MORPH_CLOSE, disc(window))
    drawn = _holes_filled((cv2.erode(closed, disc(2 * round(0.4 * window) + 1)) > 0) | (ink & (closed > 0)))
    if (ink & drawn).sum() < SOLID_INK * drawn.sum():
        return drawn
    # a highlight across a solid thing is narrower than a sixth of the window
    outline = cv2.morphologyEx((ink & drawn).astype(np.uint8), cv2.MORPH_CLOSE, disc(2 * (window // 6) + 1))
    return _holes_filled(outline > 0) & drawn


def _holes_filled(mask: np.ndarray) -> np.ndarray:
    """The mask with the holes smaller than INK_MAX_HOLE of the picture filled."""
    _, holes, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    return mask | np.isin(holes, np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < INK_MAX_HOLE * mask.size))


def _from_plain_ground(lab: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Per pixel, the Lab distance from a smooth (quadratic) colour field fitted to the band along
    the frame and refitted to the pixels close to it, and that band; None where no field fits."""
    height, width = lab.shape[:2]
    smooth = cv2.GaussianBlur(lab, (0, 0), 1.0).reshape(-1, 3)
    rows, cols = np.mgrid[0:height, 0:width]
    y, x = (rows / height - 0.5).ravel(), (cols / width - 0.5).ravel()
    basis = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], 1)
    band = np.zeros((height, width), bool)
    depth = max(2, round(PAPER_BAND * min(height, width)))
    band[:depth], band[-depth:], band[:, :depth], band[:, -depth:] = True, True, True, True
    chosen = band.ravel()
    distance = None
    for _ in range(3):
        if chosen.sum() < basis.shape[1] * 10:
            return None, band
        coefficients, *_ = np.linalg.lstsq(basis[chosen], smooth[chosen], rcond=None)
        distance = np.linalg.norm(smooth - basis @ coefficients, axis=1)
        chosen = distance < PAPER_DELTA
    return distance.reshape(height, width), band


def saliency(graph: _Graph, focus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per superpixel, 0..1: how likely it belongs to the subject, and how surely it is background
    by its connection to the picture's border (boundary connectivity, Zhu et al. 2014)."""
    count = len(graph.area)
    mean = np.column_stack([graph.mean, FOCUS_WEIGHT * focus])
    a, b = graph.pairs[:, 0], graph.pairs[:, 1]
    step = np.linalg.norm(mean[a] - mean[b], axis=1)
    # Steps as small as the usual one between neighbours cost nothing, so that a textured
    # background stays connected to the border across its own texture.
    cost = np.maximum(step - np.median(step), 0.0)
    adjacency = coo_matrix((cost + 1e-3, (a, b)), shape=(count, count)).tocsr()
    geodesic = dijkstra(adjacency, directed=False)
    similar = np.exp(-(geodesic**2) / (2 * COLOUR_SIGMA**2))
    unit = graph.area.mean()
    span = similar @ (graph.area / unit)
    border_length = similar @ (graph.border / np.sqrt(unit))
    connectivity = border_length / np.sqrt(span)
    background = 1.0 - np.exp(-(connectivity**2) / 2.0)
    appearance = np.linalg.norm(mean[:, None] - mean[None], axis=2)
    distance = np.linalg.norm(graph.centroid[:, None] - graph.centroid[None], axis=2)
    spatial = np.exp(-(distance**2) / (2 * SPATIAL_SIGMA**2))
    contrast = (appearance * spatial) @ background
    foreground = contrast / max(contrast.max(), 1e-6)
    # Least-squares optimisation of Zhu et al.: background-like superpixels towards 0, contrasting
    # ones towards 1, neighbours of similar colour alike.
    similarity = np.exp(-(step**2) / (2 * COLOUR_SIGMA**2)) + SMOOTHNESS
    weights = coo_matrix((similarity, (a, b)), shape=(count, count)).toarray()
    weights = weights + weights.T
    system = np.diag(background + foreground + weights.sum(1)) - weights
    salient = np.clip(np.linalg.solve(system, foreground), 0.0, 1.0)
    return salient, background


def _focus(graph: _Graph) -> np.ndarray:
    """Per superpixel, log2 of its fine detail relative to the median superpixel's, in -3..3: a sharp
    subject before a blurred background stands out by it even where their colours are alike."""
    lightness = graph.lab_image[..., 0]
    detail = cv2.GaussianBlur(np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), 1.0)), (0, 0), 2.0)
    per_superpixel = np.bincount(graph.labels.ravel(), detail.ravel(), len(graph.area)) / graph.area
    return np.clip(np.log2((per_superpixel + 0.05) / (np.median(per_superpixel) + 0.05)), -3.0, 3.0)


def _salient_subject(small: np.ndarray, graph: _Graph, focus: np.ndarray) -> np.ndarray:
    """The salient subject as a bool mask at the working size; all False when there is none.

    GrabCut is seeded from the saliency; where part of the picture is clearly out of focus (or
    flat), sharp superpixels count as probably subject and the blurred ones as surely background."""
    height, width = small.shape[:2]
    salient, background = saliency(graph, focus)
    if np.ptp(salient) < 0.2:
        return np.zeros((height, width), bool)
    salient = (salient - salient.min()) / np.ptp(salient)
    blurred_share = graph.area[focus < BLURRED].sum() / graph.area.sum()
    by_focus = 0.15 < blurred_share < 0.85
    sharp = by_focus & (focus > 0.5) & (salient > 0.15)
    seed = np.full(len(graph.area), cv2.GC_PR_BGD, np.uint8)
    # border-connected and dull in the upper part: a wall or sky (the lower part may be a support)
    upper = graph.centroid[:, 0] < 0.5
    seed[((salient < 0.1) | ((background > 0.95) & (salient < 0.3) & upper)) & ~sharp] = cv2.GC_BGD
    if by_focus:
        seed[(focus < -1.0) & (salient < 0.4) & (background > 0.8) & upper] = cv2.GC_BGD
    seed[(salient > 0.4) | sharp] = cv2.GC_PR_FGD
    seed[salient > 0.8] = cv2.GC_FGD
    subject = _tidy(_grabcut(small, seed[graph.labels]))
    share = subject.mean()
    score = salient[graph.labels]
    contrast = score[subject].mean() - score[~subject].mean() if 0 < share < 1 else 0.0
    if not SUBJECT_AREA[0] < share < SUBJECT_AREA[1] or contrast < MIN_SUBJECT_CONTRAST:
        return np.zeros((height, width), bool)
    return subject if _stands_clear(subject) else np.zeros((height, width), bool)


def _holds(cut: np.ndarray, learned: np.ndarray, chance: np.ndarray) -> bool:
    """Whether a cut from colour and focus holds the model's subject and adds to it only what the model
    sees (see _subjects)."""
    if (learned & cut).sum() < LEARNED_HELD * learned.sum():
        return False
    added = cut & ~learned
    return (learned.sum() < LEARNED_SPECK * cut.sum() or not added.any()
            or (chance[added] >= UNSEEN).mean() >= LEARNED_ADDED_SEEN)


def _learned_subject(small: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """The salient-object model's subject as a bool mask at the working size, cut out by GrabCut seeded
    from its answer (the model sees the picture at 320 px: GrabCut puts its outline on the edges), no
    farther than it reaches; all False where it sees no subject, is sure of too little of it, or sees
    nearly everything."""
    surely_not, probably_not, surely = LEARNED_SEEDS
    if not (chance >= probably_not).any():
        return np.zeros(small.shape[:2], bool)
    seed = np.select([chance < surely_not, chance < probably_not, chance < surely],
                     [cv2.GC_BGD, cv2.GC_PR_BGD, cv2.GC_PR_FGD], cv2.GC_FGD).astype(np.uint8)
    subject = _tidy(_grabcut(small, seed) & (chance >= LEARNED_REACH))
    share = subject.mean()
    if not SUBJECT_AREA[0] < share < FILLING_AREA[1]:
        return np.zeros(small.shape[:2], bool)
    contrast = chance[subject].mean() - chance[~subject].mean()
    sure = (chance[subject] >= surely).mean()
    return subject if contrast >= LEARNED_MIN_CONTRAST and sure >= LEARNED_SURE else np.zeros(small.shape[:2], bool)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (0 where both are empty)."""
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 0.0


def _stands_clear(subject: np.ndarray, cut_top: bool = False) -> bool:
    """Whether a subject stands clear of the frame's top and sides: one spread along the top or down
    both sides of the frame is more likely background taken for it (a row of trees, a sky, which run
    on to a side). `cut_top`: MAX_CUT_TOP of the top whatever other edges it touches."""
    only_top = not (subject[-1].any() or subject[:, 0].any() or subject[:, -1].any())
    top = MAX_CUT_TOP if only_top or cut_top else MAX_SUBJECT_TOP
    return subject[0].mean() <= top and min(subject[:, 0].mean(), subject[:, -1].mean()) <= MAX_SUBJECT_TOP


def _focused_subject(small: np.ndarray, graph: _Graph, focus: np.ndarray) -> np.ndarray:
    """The subject of a shallow depth of field, as a bool mask at the working size; all False when
    the picture is not one.

    A cat's face filling the frame touches every border, so boundary connectivity takes it for
    background and finds at most its eyes. Where a clear share of the picture is blurred, and the
    blur is neither a band of sky or paper along the top nor a floor below, the sharp rest is the
    subject: GrabCut seeded with the blurred superpixels as background and all that is not clearly
    blurred as probably subject. Focus is measured against the median superpixel's; where that finds
    nothing and the sharpest quarter stands out (a flower before its blurred bed, where the median
    superpixel is itself out of focus), against the sharpest quarter's, with more of the picture blurred.
    Where that too finds nothing, the blur may be a plain dim wall reaching the top (an animal before
    its pen's wall, or behind a head filling the frame): the sharp part is still the subject if it stands
    clear of the frame's top and sides, with only the sharpest superpixels sure (fur against the wall
    sharpens the superpixels above a head)."""
    subject = _sharp_before_blur(small, graph, focus, FOCUS_BLURRED_SHARE[1], FOCUS_SURE, FOCUS_MIN_SHAPES)
    if subject.any():
        return subject
    sharp_quarter = _weighted_percentile(focus, graph.area, 0.75)
    against_quarter = sharp_quarter >= FOCUS_SHARP_QUARTER
    reference = focus - sharp_quarter if against_quarter else focus
    if against_quarter:
        subject = _sharp_before_blur(small, graph, reference, FOCUS_MOST_BLURRED_SHARE, 0.0, FOCUS_MIN_SHAPES_QUARTER)
        if subject.any():
            return subject
    # Against the median superpixel, the subject is most of the picture and its fur is that superpixel:
    # the wall along it, sharpened by the hairs, passes for sharp, so no sharp piece joins
    subject = _sharp_before_blur(small, graph, reference, FOCUS_MOST_BLURRED_SHARE, FOCUS_SURE, 0.0,
                                 plain_wall=True, joins=against_quarter)
    return subject if _stands_clear(subject, cut_top=True) else np.zeros(small.shape[:2], bool)


def _sharp_before_blur(small: np.ndarray, graph: _Graph, focus: np.ndarray, most_blurred: float,
                       sure: float, min_shapes: float, plain_wall: bool = False, joins: bool = True) -> np.ndarray:
    """_focused_subject with focus measured against a reference superpixel's (0), at most `most_blurred`
    of the picture blurred, with at least `min_shapes` of the sharp part's soft shapes and not along
    the top; superpixels sharper than `sure` are surely subject. `plain_wall`: the blur may be a plain
    wall reaching the top, so neither the soft shapes nor the top are checked, a wall in deep shadow
    counts where the blur lies, and no sharp piece running to the top joins. `joins`: whether sharp
    pieces touching the cut join it."""
    lightness = graph.mean[:, 0]
    # Shadows and blown highlights have no detail whatever the focus: they say nothing about blur.
    blurred = (focus < BLURRED) & (lightness > EXPOSED[0]) & (lightness < EXPOSED[1])
    blurred_share = graph.area[blurred].sum() / graph.area.sum()
    if not FOCUS_BLURRED_SHARE[0] < blurred_share < most_blurred:
        return np.zeros(small.shape[:2], bool)
    # where the blur lies: a plain wall in deep shadow counts here, as what is not the sharp thing
    smooth = focus < BLURRED if plain_wall else blurred
    blurred_row = np.average(graph.centroid[smooth, 0], weights=graph.area[smooth])
    if blurred_row > FOCUS_MAX_BLURRED_ROW:
        return np.zeros(small.shape[:2], bool)
    if not plain_wall:
        top = graph.labels[0]
        if (blurred[top].mean() > FOCUS_MAX_BLURRED_TOP
                and _longest_run(focus[top] < 0.0) > FOCUS_MAX_BLURRED_TOP):
            return np.zeros(small.shape[:2], bool)
        # Blur takes the fine detail of a scene and keeps its soft shapes; a plain wall or floor has neither
        shapes = _coarse_detail(graph)
        if np.median(shapes[blurred]) < min_shapes * np.median(shapes[~blurred]):
            return np.zeros(small.shape[:2], bool)
    seed = np.full(len(graph.area), cv2.GC_PR_BGD, np.uint8)
    seed[focus > -0.5] = cv2.GC_PR_FGD
    seed[focus > sure] = cv2.GC_FGD
    seed[blurred & (focus < 1.5 * BLURRED)] = cv2.GC_BGD
    subject = _without_blurred_scene(graph, focus, _tidy(_grabcut(small, seed[graph.labels])), sure)
    share = subject.mean()
    if not FOCUS_SUBJECT_AREA[0] < share < FOCUS_SUBJECT_AREA[1]:
        return np.zeros(small.shape[:2], bool)
    per_pixel = focus[graph.labels]
    if per_pixel[subject].mean() - per_pixel[~subject].mean() < FOCUS_MIN_CONTRAST:
        return np.zeros(small.shape[:2], bool)
    if not joins:
        return subject
    # GrabCut goes by colour: the in-focus fur of a far cheek, coloured like the room behind, is
    # still subject where it joins the rest; a join that swallows much more is the scene, not a cheek
    sharp = (focus > FOCUS_SHARP)[graph.labels]
    _, pieces = cv2.connectedComponents((sharp & ~subject).astype(np.uint8), connectivity=4)
    touching = np.unique(pieces[_ring(subject) & (pieces > 0)])
    if plain_wall:  # a piece that runs to the top is the plain wall, sharpened by the fur against it
        touching = np.setdiff1d(touching, pieces[0])
    joined = _tidy(subject | np.isin(pieces, touching))
    return joined if joined.sum() <= FOCUS_MAX_JOIN * subject.sum() else subject


def _without_blurred_scene(graph: _Graph, focus: np.ndarray, subject: np.ndarray, sure: float) -> np.ndarray:
    """The cut less the blurred scene GrabCut took with it by colour (the leaves below a squirrel on its
    branch): superpixels BACKDROP_DETAIL_GAP of fine detail below the cut's sure part, keeping
    SCENE_MIN_SHAPES of its soft shapes (blur keeps the leaves' light and dark shapes; the subject's own
    fur out of focus is smooth) and coloured more like the scene outside the cut than like its sure part."""
    inside = np.bincount(graph.labels[subject], minlength=len(graph.area)) > 0.5 * graph.area
    sharp = inside & (focus > sure)
    if not sharp.any() or inside.all():
        return subject
    blurred = (focus < np.median(focus[sharp]) - BACKDROP_DETAIL_GAP) & (graph.mean[:, 0] > EXPOSED[0])
    shapes = _coarse_detail(graph)
    indices = np.flatnonzero(inside & blurred & (shapes >= SCENE_MIN_SHAPES * np.median(shapes[sharp])))
    colours = graph.mean[indices]
    nearer_scene = _nearest_colour(colours, graph.mean[~inside]) < _nearest_colour(colours, graph.mean[sharp])
    return _tidy(subject & ~np.isin(graph.labels, indices[nearer_scene]))


def _longest_run(line: np.ndarray) -> float:
    """The longest unbroken run of True in a bool line, as a share of its length."""
    padded = np.concatenate([[False], line, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return float((edges[1::2] - edges[::2]).max() / line.size) if edges.size else 0.0


def _weighted_percentile(values: np.ndarray, weights: np.ndarray, share: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, share * cumulative[-1])])


def _coarse_detail(graph: _Graph) -> np.ndarray:
    """Per superpixel, the mean of _soft_shapes."""
    band = cv2.GaussianBlur(_soft_shapes(graph.lab_image[..., 0]), (0, 0), 4.0)
    return np.bincount(graph.labels.ravel(), band.ravel(), len(graph.area)) / graph.area


def _soft_shapes(lightness: np.ndarray) -> np.ndarray:
    """Per pixel, the band-pass of L between 2 and 8 px: shapes that survive a blur."""
    return np.abs(cv2.GaussianBlur(lightness, (0, 0), 2.0) - cv2.GaussianBlur(lightness, (0, 0), 8.0))


def _grabcut(small: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """GrabCut from a seed mask (cv2.GC_* values), run at GRABCUT_SIDE px (its time grows much faster
    than the pixel count) and brought back to the size of `small` snapped to its edges."""
    height, width = small.shape[:2]
    reduced = _downscale(small, GRABCUT_SIDE)
    size = reduced.shape[1], reduced.shape[0]
    mask = cv2.resize(seed, size, interpolation=cv2.INTER_NEAREST)
    if not np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).any() or not np.isin(mask, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        return np.zeros((height, width), bool)
    cv2.setRNGSeed(0)  # GrabCut initialises its colour models with k-means
    cv2.grabCut(np.round(reduced * 255).astype(np.uint8), mask, None, np.zeros((1, 65)), np.zeros((1, 65)),
                GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    cut = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    if size == (width, height):
        return cut > 0.5
    guide = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    return guided_upsample(cv2.resize(guide, size, interpolation=cv2.INTER_AREA), cut, guide) > 0.5


def _tidy(mask: np.ndarray) -> np.ndarray:
    """Drop specks and fill holes under 0.3 % of the picture."""
    minimum = 0.003 * mask.size
    out = mask.copy()
    for value in (True, False):
        count, labels, stats, _ = cv2.connectedComponentsWithStats((out == value).astype(np.uint8), connectivity=4)
        small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < minimum)
        small = small[small > 0] if value else small
        out[np.isin(labels, small) & (out == value)] = not value
    return out


def _parts(subject: np.ndarray) -> list[np.ndarray]:
    """The connected parts of a subject mask, each at least 0.3 % of the picture, largest first."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(subject.astype(np.uint8), connectivity=8)
    order = sorted(range(1, count), key=lambda i: -stats[i, cv2.CC_STAT_AREA])
    return [labels == i for i in order if stats[i, cv2.CC_STAT_AREA] >= 0.003 * subject.size]


# --- the background ---------------------------------------------------------------------------


def _background(graph: _Graph, subjects: list[np.ndarray]) -> np.ndarray:
    """Labels of the merged background regions at the working size, -1 on the subjects."""
    covered = _union(subjects, graph.labels.shape)
    if covered.all():
        return np.full(graph.labels.shape, -1, np.int32)
    pieces = graph.labels
    if covered.any():
        # superpixels straddling a subject's outline lose the subject's part; what is left may fall apart
        pieces = _connected_pieces(np.where(covered, -1, pieces))
        pieces = np.where(covered, pieces.max() + 1, pieces)  # the subjects: one label, never merged
    excluded = int(pieces.max()) if covered.any() else None
    merged = _merge(_Graph(pieces, graph.lab_image, graph.edge_image), excluded=excluded)
    return np.where(covered, -1, merged).astype(np.int32)


def _islands_left_absorbed(background: np.ndarray, subjects: list[np.ndarray]) -> np.ndarray:
    """The background labels with the small islands _merge kept for a subject to take, and none took,
    joined to the region around them."""
    covered = _union(subjects, background.shape)
    valid = background >= 0
    area = np.bincount(background[valid])
    out = background.copy()
    for region in np.flatnonzero((area > 0) & (area < MIN_REGION_SHARE * background.size)):
        island = background == region
        left, around = island & ~covered, _ring(island) & valid & ~covered
        if left.any() and around.any():
            out[left] = np.bincount(background[around]).argmax()
    return out


def _completed(subjects: list[np.ndarray], names: list[str], background: np.ndarray, lab: np.ndarray,
               detail: np.ndarray, by_focus: bool, subject_chance: np.ndarray):
    """Subjects grown by the regions GrabCut missed: background regions they enclose (the inside of
    a saucer's rim, the collar under a chin), that touch them and look like them, or that wrap
    around them (a saucer under a cup), as long as those do not run out of the frame and are not the
    scene seen past the subject (see _seen_past); parts whose
    convex hulls overlap are joined, and so are parts that take the same region. A person, or a
    subject found by its focus, takes only what it surrounds (SURROUNDED_SHARE of the region's outline
    along it) and is not blurred against it (BACKDROP_DETAIL_GAP below its median detail): a hull holds
    the scene beside a head or a trunk, and beside a subject in focus lies the blurred scene, pieces of
    which would hug it or look like it (the flowers of its bed) or show between it and its branch.
    No region the salient-object model denies (`subject_chance`, DENIED) joins a subject, where the model
    is sure of some subject and, for a person, sees her: the garage floor between a motorcycle's wheels,
    the leaves between two macaws, the grass a tripod's legs enclose."""
    if not subjects:
        return subjects, names
    height, width = background.shape
    hulls = [_hull(subject) for subject in subjects]
    joined: list[tuple[np.ndarray, np.ndarray, str]] = []
    for subject, hull, name in sorted(zip(subjects, hulls, names), key=lambda t: -t[0].sum()):
        for index, (other, other_hull, other_name) in enumerate(joined):
            if (hull & other).sum() > 0.1 * subject.sum() or (other_hull & subject).sum() > 0.1 * subject.sum():
                joined[index] = (other | subject, _hull(other | subject), other_name)
                break
        else:
            joined.append((subject, hull, name))
    border = np.zeros((height, width), bool)
    border[0], border[-1], border[:, 0], border[:, -1] = True, True, True, True
    count = int(background.max()) + 1
    area = np.bincount(background[background >= 0], minlength=count)
    on_border = np.bincount(background[border & (background >= 0)], minlength=count)
    valid = background >= 0
    mean = np.stack([np.bincount(background[valid], lab[..., c][valid], count) for c in range(3)], 1)
    mean /= np.maximum(area, 1)[:, None]
    outline = find_boundaries(background, connectivity=1, mode="thick") & valid  # a 4-neighbour of another label
    outline_length = np.bincount(background[outline], minlength=count)
    # a model sure of nothing in the picture (a cluttered office) denies nothing
    sees_a_subject = (subject_chance >= LEARNED_SEEDS[2]).mean() >= SUBJECT_AREA[0]
    denied = sees_a_subject & (np.bincount(background[valid], subject_chance[valid], minlength=count)
                               < DENIED * np.maximum(area, 1))
    grown = []
    for subject, hull, name in joined:
        inside = np.bincount(background[hull & valid], minlength=count)
        enclosed = (inside >= 0.75 * area) & (on_border == 0) & (area > 0)
        seen_past = _seen_past(background, lab, np.flatnonzero(enclosed))
        enclosed[seen_past] = False
        touching = np.bincount(background[_ring(subject) & valid], minlength=count) > 0
        spread = np.sqrt(lab[subject].var(axis=0).sum())
        distance = np.linalg.norm((mean - lab[subject].mean(axis=0)) * (1.0, 1.5, 1.5), axis=1)
        alike = touching & (on_border == 0) & (distance < 14.0 + 0.5 * spread) & (not by_focus)
        alike[seen_past] = False
        # the model denies a region of a person only where it sees that person (of two men walking past
        # a bus it sees the bus)
        if name != "person" or subject_chance[subject].mean() >= LEARNED_SEEDS[1]:
            enclosed &= ~denied
            alike &= ~denied
        if name == "person" or by_focus:
            # a person's hull holds the scene beside the head and between the arms and legs (a flag, the
            # grass between a tripod's legs), and the hull of a sharp tree on its bank the lake and the
            # mountain behind it; such a subject takes only what it surrounds
            surrounded = np.isin(np.arange(count), _surrounded(subject, background, np.flatnonzero(enclosed | alike)))
            subject_detail = np.median(detail[subject])
            for region in np.flatnonzero(surrounded):
                surrounded[region] = _nearly_as_sharp(detail[background == region], subject_detail)
            enclosed &= surrounded
            alike &= surrounded
        subject = subject | np.isin(background, np.flatnonzero(enclosed | alike))
        # what wraps around an object is its support (a saucer, a plate); around a person, the scene
        for _ in range(HUG_ROUNDS if name == "subject" and not by_focus else 0):
            hugged = _hugging(subject, background, outline, outline_length, on_border, area, mean, detail)
            hugged[seen_past] = False
            hugged &= ~denied
            if not hugged.any():
                break
            subject = subject | np.isin(background, np.flatnonzero(hugged))
        for index, (other, other_name) in enumerate(grown):
            if (other & subject).any():  # both took the same region: two parts of one thing
                grown[index] = (other | subject, other_name)
                break
        else:
            grown.append((subject, name))
    return [g for g, _ in grown], [n for _, n in grown]


def _surrounded(subject: np.ndarray, background: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Those of the candidate regions that run along the subject for SURROUNDED_SHARE of their outline."""
    kept = [region for region in candidates
            if (ring := _ring(background == region))[subject].sum() >= SURROUNDED_SHARE * ring.sum()]
    return np.array(kept, dtype=np.int64)


def _seen_past(background: np.ndarray, lab: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Those of the regions a subject's hull encloses that are the scene reaching the frame's top, seen
    past the subject: they border it along SEEN_PAST_TOP of their outline and look like it there (within
    SEEN_PAST_ALIKE Lab units): the lake between a pagoda and the trees, under the hazy shore. Not the
    inside of a saucer's rim, nor a motorcycle's black seat under the shelves it stands before."""
    reaching_top = np.isin(background, background[0][background[0] >= 0])
    seen = []
    for region in candidates:
        inside = background == region
        ring = _ring(inside)
        along = ring & reaching_top
        if along.sum() < SEEN_PAST_TOP * ring.sum():
            continue
        if np.linalg.norm(lab[inside].mean(axis=0) - lab[along].mean(axis=0)) < SEEN_PAST_ALIKE:
            seen.append(region)
    return np.array(seen, dtype=np.int64)


def _ring(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """The pixels within `width` (across or diagonally) of the mask, outside it."""
    side = 2 * width + 1
    return cv2.dilate(mask.astype(np.uint8), np.ones((side, side), np.uint8)).astype(bool) & ~mask


def _hugging(subject: np.ndarray, background: np.ndarray, outline: np.ndarray, outline_length: np.ndarray,
             on_border: np.ndarray, area: np.ndarray, mean: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """Per background region, whether it wraps around the subject: a good part of its outline runs
    along the subject (a saucer's rim on both sides of a cup), it is smaller than the subject and
    nearly as sharp (`detail`: log2 fine detail per pixel; a support lies in the thing's focus, and the
    blurred scene beside a butterfly's wing, once the wing's rim has joined, runs along it too).
    Where the frame cuts it (a saucer cropped by the picture's edge), most of its outline must run
    along the subject and little of its border along the frame, its centre must lie lower than the
    subject's, and it must be set apart from the scene around it: a support has its own rim; what
    the subject and the frame alone enclose (the ground between a tripod's legs), the blurred scene
    beside it, or what looks like its neighbours is the scene seen past the subject."""
    near = cv2.dilate(subject.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    against = np.bincount(background[outline & near & ~subject], minlength=len(area))
    length = np.maximum(outline_length, 1)
    rows = np.broadcast_to(np.arange(background.shape[0], dtype=np.float64)[:, None], background.shape)
    valid = background >= 0
    centre_row = np.bincount(background[valid], rows[valid], len(area)) / np.maximum(area, 1)
    beside = (area > 0) & ~np.isin(np.arange(len(area)), np.unique(background[subject]))  # none under the subject
    eligible = beside & (area < subject.sum())
    uncut = (against >= HUG_SHARE * length) & (on_border == 0)
    cut = ((against >= CUT_HUG_SHARE * length) & (on_border > 0) & (centre_row > rows[subject].mean())
           & (on_border <= CUT_HUG_FRAME * (length + on_border)) & eligible)
    subject_detail = np.median(detail[subject])
    hugging = (uncut | cut) & eligible
    for region in np.flatnonzero(hugging):
        mask = background == region
        hugging[region] = (_nearly_as_sharp(detail[mask], subject_detail)
                           and (not cut[region] or _set_apart(mask, near, background, mean, region,
                                                              outline_length[region])))
    # an island hanging from the subject into one region of the scene: a man's legs below his coat,
    # in the field he stands in
    hanging = ((against >= HANG_SHARE * length) & (on_border == 0) & ~hugging & beside
               & (area <= HANG_MAX_GROWTH * subject.sum()))
    for region in np.flatnonzero(hanging):
        mask = background == region
        hugging[region] = _nearly_as_sharp(detail[mask], subject_detail) and _an_island(mask, near, background, mean,
                                                                                         region)
    return hugging


def _nearly_as_sharp(region_detail: np.ndarray, subject_detail: float) -> bool:
    """Whether a region's median fine detail is within BACKDROP_DETAIL_GAP of the subject's: not the
    blurred scene."""
    return bool(np.median(region_detail) >= subject_detail - BACKDROP_DETAIL_GAP)


def _set_apart(region: np.ndarray, near: np.ndarray, background: np.ndarray, mean: np.ndarray, index: int,
               outline_length: int) -> bool:
    """Whether a region borders other background regions (away from the subject) along enough of its
    outline, and differs from them in colour (boundary-weighted), in light that shows its colour (not
    the shadow a thing casts)."""
    neighbours = _neighbours_away(region, near, background, len(mean))
    if neighbours.sum() < CUT_HUG_APART * outline_length:
        return False
    distance = np.linalg.norm(mean - mean[index], axis=1)
    return _lit(mean[index]) and float((neighbours * distance).sum() / neighbours.sum()) >= CUT_HUG_CONTRAST


def _an_island(region: np.ndarray, near: np.ndarray, background: np.ndarray, mean: np.ndarray, index: int) -> bool:
    """Whether a region lies, away from the subject, in one other background region (HANG_IN_ONE of its
    outline there), set apart from it by its colour in light that shows it (not a shadow the subject
    casts on its ground)."""
    neighbours = _neighbours_away(region, near, background, len(mean))
    if not neighbours.any():
        return False
    around = int(neighbours.argmax())
    return (_lit(mean[index]) and neighbours[around] >= HANG_IN_ONE * neighbours.sum()
            and float(np.linalg.norm(mean[around] - mean[index])) >= HANG_CONTRAST)


def _neighbours_away(region: np.ndarray, near: np.ndarray, background: np.ndarray, count: int) -> np.ndarray:
    """Per background region, how many pixels of it border the region away from the subject (`near`)."""
    ring = _ring(region) & ~near & (background >= 0)
    return np.bincount(background[ring], minlength=count)


def _lit(colour: np.ndarray) -> bool:
    """Whether a region's mean Lab colour is in light that shows its colour: a shadow's is no rim of its own."""
    return bool(EXPOSED[0] <= colour[0] <= EXPOSED[1])


def _hull(mask: np.ndarray) -> np.ndarray:
    out = np.zeros(mask.shape, np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if contours:
        cv2.fillPoly(out, [cv2.convexHull(np.concatenate(contours))], 1)
    return out.astype(bool)


def _union(masks: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, bool)
    for mask in masks:
        out |= mask
    return out


def _named_background(graph: _Graph, background: np.ndarray, subjects: list[np.ndarray]):
    """The background labels made compact, with subject pixels given the label of the nearest
    background region, and the regions' names."""
    covered = _union(subjects, background.shape)
    if covered.all():
        return np.zeros(background.shape, np.int32), [""]
    filled = _fill_from_nearest(np.where(covered, -1, background), covered | (background < 0))
    _, compact = np.unique(filled, return_inverse=True)
    labels = compact.reshape(filled.shape).astype(np.int32)
    count = int(labels.max()) + 1
    # named by what shows of them: the pixels under a subject (one more label here) would lend a
    # plain wall the subject's texture
    shown = np.where(covered, count, labels)
    return labels, _background_names(_Graph(shown, graph.lab_image, graph.edge_image), covered)[:count]


def _connected_pieces(labels: np.ndarray) -> np.ndarray:
    """Relabel so that each label is one 4-connected piece; -1 (the subjects) stays -1."""
    out = np.zeros(labels.shape, np.int32)
    next_label = 1
    for value in np.unique(labels):
        if value < 0:
            continue
        count, parts = cv2.connectedComponents((labels == value).astype(np.uint8), connectivity=4)
        inside = parts > 0
        out[inside] = parts[inside] + next_label - 1
        next_label += count - 1
    out[labels < 0] = 0
    return out - 1  # subject pixels -1, pieces 0 ..


def _merge(graph: _Graph, excluded: int | None) -> np.ndarray:
    """Greedy agglomerative merging of the labels of `graph` (but the excluded one):
    the cheapest adjacent pair merges first, while the cost is under MERGE_COST; then regions under
    MIN_REGION_SHARE are absorbed by their cheapest neighbour."""
    labels = graph.labels
    count = int(labels.max()) + 1
    if count <= 1:
        return labels
    parent = np.arange(count)
    beside_subject = np.zeros(count, bool)
    if excluded is not None and len(graph.pairs):
        beside_subject[graph.pairs[(graph.pairs == excluded).any(axis=1)].ravel()] = True
        beside_subject[excluded] = False
    area = graph.area.copy()
    lab_sum, lab_sq = graph.lab_sum.copy(), graph.lab_sq.copy()
    inner_edge = np.bincount(labels.ravel(), graph.edge_image.ravel(), count)
    neighbours: list[dict[int, list[float]]] = [{} for _ in range(count)]
    for (a, b), length, edge_sum in zip(graph.pairs, graph.length, graph.edge_sum):
        if excluded in (a, b):
            continue
        neighbours[a][b] = neighbours[b][a] = [length, edge_sum]

    def cost(a: int, b: int) -> float:
        # Differences count relative to the texture inside the two regions: the colours of two
        # patches of foliage differ more than those of two patches of sky, and so do the edges.
        mean_a, mean_b = lab_sum[a] / area[a], lab_sum[b] / area[b]
        spread_a = np.sqrt(max((lab_sq[a] / area[a] - mean_a**2).sum(), 0.0))
        spread_b = np.sqrt(max((lab_sq[b] / area[b] - mean_b**2).sum(), 0.0))
        colour = np.linalg.norm((mean_a - mean_b) * (1.0, 1.5, 1.5)) / (14.0 + 0.5 * (spread_a + spread_b))
        texture = abs(spread_a - spread_b) / 15.0
        length, edge_sum = neighbours[a][b]
        inside = 0.5 * (inner_edge[a] / area[a] + inner_edge[b] / area[b])
        edge = max(edge_sum / length - inside, 0.0) / 6.0
        return colour + texture + edge

    def union(a: int, b: int) -> None:
        parent[b] = a
        beside_subject[a] |= beside_subject[b]
        area[a] += area[b]
        inner_edge[a] += inner_edge[b] + neighbours[a].get(b, [0.0, 0.0])[1]
        lab_sum[a] += lab_sum[b]
        lab_sq[a] += lab_sq[b]
        for n, (length, edge_sum) in neighbours[b].items():
            del neighbours[n][b]
            if n == a:
                continue
            joined = neighbours[a].setdefault(n, [0.0, 0.0])
            joined[0] += length
            joined[1] += edge_sum
            neighbours[n][a] = joined
        neighbours[b] = {}

    heap = [(cost(a, b), a, b) for a in range(count) for b in neighbours[a] if a < b]
    heapq.heapify(heap)
    while heap:
        value, a, b = heapq.heappop(heap)
        if value > MERGE_COST:
            break
        if parent[a] != a or parent[b] != b or b not in neighbours[a]:
            continue
        current = cost(a, b)
        if current > value + 1e-9:  # one of them grew since: requeue with its new cost
            heapq.heappush(heap, (current, a, b))
            continue
        union(a, b)
        for n in neighbours[a]:
            heapq.heappush(heap, (cost(min(a, n), max(a, n)), min(a, n), max(a, n)))

    def cheapest(region: int) -> tuple[float, int]:
        return min((cost(min(region, n), max(region, n)), n) for n in neighbours[region])

    # a small region (not a sliver) beside a subject, an island in one other region and unlike it, is
    # kept for the subject to take (a man's legs below his coat, in the field he stands in: see _hugging)
    minimum = MIN_REGION_SHARE * graph.labels.size
    kept = set()
    while True:
        roots = [r for r in range(count) if parent[r] == r and neighbours[r] and r not in kept]
        small = [r for r in roots if area[r] < minimum]
        if not small:
            break
        smallest = min(small, key=lambda r: area[r])
        closest_cost, closest = cheapest(smallest)
        if (beside_subject[smallest] and len(neighbours[smallest]) == 1 and area[smallest] >= minimum / 4
                and closest_cost > KEPT_APART_COST):
            kept.add(smallest)
            continue
        union(closest, smallest)

    root = np.arange(count)
    for i in range(count):
        while parent[root[i]] != root[i]:
            root[i] = parent[root[i]]
    return root[labels].astype(np.int32)


def _fill_from_nearest(labels: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Labels with the hole pixels given the label of the nearest pixel outside the holes."""
    if not holes.any():
        return labels
    _, nearest = cv2.distanceTransformWithLabels(holes.astype(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    outside = ~holes
    by_index = np.zeros(nearest.max() + 1, np.int32)
    by_index[nearest[outside]] = labels[outside]
    return by_index[nearest]


def _background_names(graph: _Graph, covered: np.ndarray) -> list[str]:
    """'sky', 'ground'/'floor' or 'wall' where a region's place, brightness and texture say so."""
    labels = graph.labels
    height, width = labels.shape
    count = int(labels.max()) + 1
    visible = np.bincount(labels[~covered], minlength=count) / labels.size
    top = np.bincount(labels[0], minlength=count) / width
    bottom = np.bincount(labels[-1], minlength=count) / width
    lowest_top = np.array([np.argmax((labels == i).any(1)) / height for i in range(count)])
    mean, spread = graph.mean, graph.spread
    chroma = np.hypot(mean[:, 1], mean[:, 2])
    names = [""] * count
    # plain and light in the upper part of the frame; where the sky begins, blue or grey too (what
    # grows from it may be a sunset's or the sun's glow)
    candidates = (spread < 12) & (mean[:, 0] > 55) & (visible >= SKY_MIN_SHARE) & (graph.centroid[:, 0] < SKY_MAX_ROW)
    # the sky along the top of the frame, in one piece or several (clouds, gaps between palm fronds)
    along_top = candidates & ((mean[:, 2] < -5) | (chroma < 12)) & (top > 0) & (graph.centroid[:, 0] < 0.4)
    if top[along_top].sum() > 0.25 and visible[along_top].sum() >= 0.03:
        names = ["sky" if at_top else name for at_top, name in zip(along_top, names)]
    names = _sky_grown(graph, names, candidates)
    outdoors = "sky" in names
    for i in range(count):
        if names[i] or visible[i] < 0.03:
            continue
        if bottom[i] > 0.4 and graph.centroid[i, 0] > 0.6 and lowest_top[i] > 0.3:
            names[i] = "ground" if outdoors else "floor"
        elif not outdoors and visible[i] > 0.1 and spread[i] < 10 and graph.centroid[i, 0] < 0.6:
            names[i] = "wall"
    return names


def _sky_grown(graph: _Graph, names: list[str], candidates: np.ndarray) -> list[str]:
    """The names with "sky" for each candidate region (plain and light, in the upper part of the
    frame) under the sky and fading into it: what lies just above its upper outline is sky, another
    candidate (a cloud's lighter core above its rim) or the frame's top for SKY_ABOVE of it, the sky
    takes SKY_BORDER of its outline, and the edge between them is soft (a cloud's, not a snowy peak's).
    The clouds of a sky are regions of their own, and those that do not touch the top of the frame
    were taken for things before the horizon (the lower sky cut into a band of its own)."""
    if "sky" not in names:
        return names
    names, count = list(names), len(names)
    labels = graph.labels
    below, above = labels[1:].ravel(), labels[:-1].ravel()
    differ = below != above
    below, above = below[differ], above[differ]
    frame_top = np.bincount(labels[0], minlength=count)
    upper_outline = np.bincount(below, minlength=count) + frame_top
    first, second = graph.pairs[:, 0], graph.pairs[:, 1]
    outline = np.bincount(first, graph.length, count) + np.bincount(second, graph.length, count)

    def along_sky(values: np.ndarray, sky: np.ndarray) -> np.ndarray:
        return (np.bincount(first[sky[second]], values[sky[second]], count)
                + np.bincount(second[sky[first]], values[sky[first]], count))

    while True:
        sky = np.array([name == "sky" for name in names])
        bordering, edge = along_sky(graph.length, sky), along_sky(graph.edge_sum, sky)
        under_sky = np.bincount(below[(sky | candidates)[above]], minlength=count) + frame_top
        grown = (candidates & np.array([not name for name in names])
                 & (under_sky >= SKY_ABOVE * np.maximum(upper_outline, 1))
                 & (bordering >= SKY_BORDER * outline) & (edge < SKY_SOFT_EDGE * bordering))
        if not grown.any():
            return names
        for i in np.flatnonzero(grown):
            names[i] = "sky"


def _backdrops(graph: _Graph, labels: np.ndarray, names: list[str], subjects: list[np.ndarray],
               focus: np.ndarray, by_focus: bool) -> list[str]:
    """The names with 'backdrop' for each background region but the sky that is out of focus behind
    the subjects. Where they were found as the sharp part of a shallow depth of field, that is a
    region mostly blurred against the median superpixel or 2 log2 units of fine detail below the
    subjects' sharp part (their 75th percentile: where the median superpixel is itself out of focus,
    nothing is blurred against it). Else (a subject found by its colour, a person) a region whose fine
    detail is a quarter or less of the subjects' sharp part, that keeps a share of their soft shapes
    (a plain wall or floor has neither) and whose own edges, away from the subjects, are blurred more
    than theirs, or hardly there: fine detail alone takes a plain shaded surface, such as a chair's
    back, for blur, but its outline is sharp. The sharp subject is taken to be in front: blur beyond
    the focal plane is by far the commoner in photos."""
    if not subjects:
        return names
    subject = _union(subjects, labels.shape)
    detail = focus[graph.labels]
    if by_focus:
        soft = (detail < BLURRED) | (detail < np.percentile(detail[subject], 75) - BACKDROP_DETAIL_GAP)
        blurred = np.bincount(labels[~subject & soft], minlength=len(names))
        area = np.bincount(labels[~subject], minlength=len(names))
        return ["backdrop" if name != "sky" and area[i] and blurred[i] >= BACKDROP_MIN_BLURRED * area[i] else name
                for i, name in enumerate(names)]
    shapes = _coarse_detail(graph)[graph.labels]
    blur_px, edges = edge_blur(graph.lab_image[..., 0] / 100.0)
    beside_subject = cv2.dilate(subject.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    sharp_part = np.percentile(detail[subject], 75)
    subject_shapes = np.median(shapes[subject])
    subject_blur = np.median(blur_px[edges & subject]) if (edges & subject).any() else 0.0
    out = list(names)
    for i, name in enumerate(names):
        inside = ~subject & (labels == i)
        if name == "sky" or not inside.any():
            continue
        own_edges = inside & edges & ~beside_subject
        soft_edges = (own_edges.sum() < BACKDROP_MIN_EDGES
                      or np.median(blur_px[own_edges]) >= subject_blur + BACKDROP_EDGE_BLUR)
        if (soft_edges and np.median(detail[inside]) <= sharp_part - BACKDROP_DETAIL_GAP
                and np.median(shapes[inside]) >= BACKDROP_MIN_SHAPES * subject_shapes):
            out[i] = "backdrop"
    return out


# --- assembling -------------------------------------------------------------------------------


def _with_subjects(labels, background_names, subjects, subject_names):
    """Subjects painted over the background labels, as the last region ids."""
    out = labels.copy()
    names = list(background_names)
    for subject, name in zip(subjects, subject_names):
        out[subject] = len(names)
        names.append(name)
    return out, names


def _enlarged(labels: np.ndarray, names: list[str], subjects: list[np.ndarray], small: np.ndarray,
              rgb: np.ndarray) -> Regions:
    height, width = rgb.shape[:2]
    if labels.shape != (height, width):
        first_subject = len(names) - len(subjects)
        background = np.where(labels >= first_subject, -1, labels)
        background = _fill_from_nearest(background, background < 0)
        full = cv2.resize(background, (width, height), interpolation=cv2.INTER_NEAREST)
        if subjects:
            guide_small = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
            guide_full = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            for index, subject in enumerate(subjects):
                soft = guided_upsample(guide_small, subject.astype(np.float32), guide_full, radius=2, eps=1e-3)
                full[soft > 0.5] = first_subject + index
        labels = full
    # ids made compact by a lookup table: np.unique on a 12 MP label image takes seconds
    used = np.flatnonzero(np.bincount(labels.ravel(), minlength=len(names)))
    table = np.zeros(len(names), np.int32)
    table[used] = np.arange(len(used), dtype=np.int32)
    return Regions(table[labels], tuple(names[i] for i in used))


def _checked(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"expected an HxWx3 float RGB image in [0, 1], got {image.dtype} {image.shape}")
    return image.astype(np.float32, copy=False)  # clipped once shrunk: cheaper than at full size


def _with_contrast(small: np.ndarray) -> np.ndarray:
    """The working image, its contrast stretched where it is too faint for the colour distances, which
    are in absolute Lab units (a faded painting on silk, a misty valley): else every edge in it is
    weaker than the merging's threshold, one region is left and the panes are bands of depth."""
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab)
    low, high = np.percentile(lab[..., 0], (2, 98))
    if high - low >= FAINT_SPREAD:
        return small
    gain = min(STRETCHED_SPREAD / max(high - low, 1e-3), MAX_STRETCH)
    lightness = np.median(lab[..., 0])
    lab[..., 0] = lightness + gain * (lab[..., 0] - lightness)
    lab[..., 1:] *= gain
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0.0, 1.0)


def _downscale(rgb: np.ndarray, long_side: int) -> np.ndarray:
    scale = long_side / max(rgb.shape[:2])
    if scale >= 1.0:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
