"""The classical painterly engine: curved brush strokes of several sizes, no learned weights.

After Hertzmann, "Painterly Rendering with Curved Brush Strokes of Multiple Sizes" (SIGGRAPH 98):

1. The photo is shrunk to a working size (long side at most WORKING_LONG_SIDE, never enlarged); the
   painting is made there and enlarged back to the photo's size with Lanczos at the end. Brush sizes
   are relative to the long side, so the look does not depend on the photo's resolution.
2. The canvas starts as an underpainting: the photo blurred at the largest brush's scale.
3. Brushes go from the largest to the smallest. For each, a reference image is the photo blurred in
   proportion to the brush. Far pixels get a blurrier reference, and every stroke's radius is
   multiplied by 1 + DEPTH_BRUSH_GAIN * depth_influence * depth, so the background is painted with
   broader strokes and fewer details than the subject (grid points there are thinned to match).
4. Where the eye goes is a detail map (detail_map.py: 1 on faces, 0.8 on the subject the render
   passes, up to 0.5 where the photo is sharp and near; with neither, up to 0.8 on the scene's own
   sharpest, nearest tenth, its centre of interest). After the style's brushes (the background's)
   come DETAIL_LEVELS finer ones, each only where the map is high enough. On a grid of the brush's
   size, a cell gets a stroke where the canvas differs from the reference by more than a threshold on
   average, a threshold that falls where the map is high (the first brush paints every cell). The
   canvas compared is a plain twin of the painting, its strokes in their reference colours, so that
   colour jitter and edge effects never read as error and call for more strokes. A stroke starts at
   the cell's worst pixel (a randomised arg-max, so that flat cells do not line up on a lattice), takes the
   reference colour there plus a random jitter, and grows control points one radius apart along the
   edge direction (perpendicular to the Sobel gradient of the reference's luminance, through its
   structure tensor so that flat areas inherit the direction of nearby edges). A curvature filter
   blends each new direction with the previous one; a stroke stops at max_length points, at the
   image border, or where its colour would fit the reference worse than the canvas already does.
5. Strokes are drawn in a random order with cv2.polylines, as stroke ids into an id buffer; colours
   are gathered from the ids in one numpy step. Opaque styles draw a brush size in one batch;
   translucent ones in several, each composited with the style's opacity, so overlaps build up like
   glazes. Edge darkening pools pigment along the outline of each wash (a batch's strokes together);
   the impasto height map is a bead of paint inside each stroke (its distance to the stroke's outline
   in the id buffer), shaded as if lit from the top left.
6. The strokes are kept as drawn (ClassicalStrokes), so that a print can draw them again at its own
   resolution: the same id drawing at another scale, a band of rows at a time, each stroke flat in its
   colour, and the paint's texture made there too (the bead's relief from the distance to its outline
   at print size, its furrows and a pastel paper's tooth as big on paper as a real brush's and paper's).
   A wash's edge is where it dried, not its strokes' outline: its wetness is kept with its strokes
   (ClassicalWashes), and at print size it dries crisp there, with a thin line of pooled pigment.

brush_scale (1-5) multiplies every brush by 2 ** ((brush_scale - 3) / 2): half size at 1, double at 5.
painterliness (0.2-0.8) raises the error threshold and the reference blur, drops up to half of
the fine brush sizes, and past 0.5 the finest detail brush: more paint, less of the photo's detail.
Faces alone are painted at most as loosely as at 0.5: past it one more brush, 0.5's finest with its
threshold and blur, follows all the others where the detail map says face.
Each stroke's colour jitter comes from the noise plan's field where the stroke starts (its depth
layer's seed, a numbered edition's own seeds far away) times the plan's depth-weighted strength, so
the subject's strokes vary less than the background's; everything else random comes from one numpy
Generator seeded from the plan's seed. OpenCV's drawing, blurs and resizing are deterministic, so the
same inputs and plan give the same painting. The request's prompt is for the diffusion engine; this
one ignores it.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Callable, Iterator

import attrs
import cv2
import numpy as np

from rilievo.adapters.detail_map import detail_map
from rilievo.adapters.hashed_noise import lattice_noise
from rilievo.application.ports import PaintResult
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.images import REC709_LUMA
from rilievo.domain.noise import NoisePlan
from rilievo.domain.seeds import derive_seed
from rilievo.domain.styles import PaintRequest, StrokeSettings

WORKING_LONG_SIDE = 1536  # like the diffusion engine's working size: detail beyond this is repainted anyway
REFERENCE_LONG_SIDE = 1000  # StrokeSettings sizes are brush radii in pixels at this long side
DEPTH_BRUSH_GAIN = 1.5  # the farthest strokes are 2.5x as broad at full depth influence
MIN_RADIUS = 1.0  # px at the working size
MIN_CELL = 2  # px: the grid of the finest brush; one cell per pixel would mean a stroke per pixel

# painterliness, mapped to 0..1, moves these linearly from their first to their second value
THRESHOLD = (0.03, 0.14)  # mean RGB distance over a grid cell that calls for a stroke
REFERENCE_BLUR = (0.5, 1.0)  # reference blur sigma, in brush radii (Hertzmann's f_sigma)
DROPPED_FINE_LEVELS = 0.5  # share of the finer brush sizes left out at the most painterly
# where the eye goes (the detail map at 1: a face), the threshold falls to this share of its value ...
DETAIL_THRESHOLD = 0.35
# ... and this many finer brushes follow the background's finest, each painting only where the detail
# map reaches its share: 1/3 for the first (a sharp, near part of the scene), 2/3 for the second (a face,
# the segmenter's subject, a subjectless scene's centre of interest). Past the default painterliness
# (0.5) the finest goes, and the one left paints only where the second did: at the most painterly (0.8)
# only faces and the subject get it.
DETAIL_LEVELS = 2
# A face is painted at most as loosely as at this painterliness (the default), whatever the request:
# past it, one more brush follows all others where the detail map says face.
FACE_PAINTERLINESS = 0.5
FACES_ONLY = 0.9  # the detail map is 1 on faces, SUBJECT_DETAIL (0.8) on the rest of the subject
JITTER_GAIN = (0.5, 1.25)  # times the style's colour jitter: a faithful painting plays less with colour

UNDERPAINTING_BLUR = 2.0  # in largest-brush radii
TRANSLUCENT_BATCHES = 3  # glazes per brush size when opacity < 1
HAND_ANGLE = math.radians(-35.0)  # the stroke direction where the photo is flat (a right-handed diagonal)
HAND_ANGLE_JITTER = math.radians(25.0)
FLAT_TENSOR = 2e-3  # structure-tensor anisotropy at which the edge direction gets half the say
LIGHT = (np.array([-1.0, -1.0, 1.5]) / np.linalg.norm([-1.0, -1.0, 1.5])).astype(np.float32)  # from the top left
IMPASTO_THICKNESS = 0.5  # paint height at a stroke's middle, in brush radii
IMPASTO_RELIEF_BLUR = 1.5  # px: paint settles, its relief has no sharp steps
IMPASTO_SHADE = 0.35  # brightness change of a fully lit / shadowed slope at impasto 1
ANTIALIAS_SIGMA = 0.8  # id-buffer strokes are aliased; a touch of blur hides the stairs
SHIFT = 3  # sub-pixel bits of the control points for cv2's drawing
BRISTLE_PERIOD = 2.5  # px at the working size between the grooves a brush's bristles leave
BRISTLE_DEPTH = 0.12  # relief at bristles 1, in brush radii: a fine brush (a face's) leaves fine grooves
KNIFE_SLANT = 0.7  # in radii: how far one side of a knife slab runs past the other at its ends
KNIFE_OVERHANG = 0.3  # in radii: a slab reaches this far back past its stroke's first point
KNIFE_MIN_LENGTH = 0.8  # in radii, added at the far end: even a dab is a slab, longer than it is wide
KNIFE_THINNING = 0.6  # a knife slab ends this much thinner than it starts
KNIFE_ANTIALIAS_SIGMA = 0.5  # a knife leaves hard edges: less softening than a brush's
KNIFE_RELIEF_BLUR = 0.6  # px: a slab's relief keeps its step at the edges
GRANULATION = 0.4  # at edge_darkening 1 the paper's deepest hollows hold up to a fifth more pigment, its ridges a fifth less
POOLING = 1.0  # pigment at a wash's rim, at edge_darkening 1: up to this share more than the wash's own
LIGHTS_RAMP = 0.1  # luminance over which the lights turn from paint to bare paper
WASH_WANDER = 0.12  # std of the wash edge's wandering, in cover
WASH_EDGE = 0.45  # the blurred stroke cover at which a wash's edge dries
WASH_SOFTNESS = 0.25  # how wide that edge is, in cover
PASTEL_PRESSURE = (0.7, 1.0)  # range of a pastel stroke's pressure: roughly the share of the tooth it covers
PASTEL_FACE_BLEND = 0.7  # share of the tooth's bite rubbed away on a face (detail 1; none at detail 0.5 or less)
PASTEL_SOFTNESS = 0.2  # how gradually chalk gives way to bare paper across the tooth's heights
# The texture made again at print size, in mm on the print: what a real brush, knife or paper leaves
PRINT_BRISTLE_MM = 0.4  # between the grooves a brush's bristles leave (a few print px: 4.7 at 300 DPI)
PRINT_BRISTLE_SLOPE = 1.0  # the grooves' steepest slope at bristles 1
PRINT_SETTLE_MM = 0.06  # paint settles: its relief has no steps sharper than this
PRINT_KNIFE_SETTLE_MM = 0.04  # a knife's slab keeps its edges sharper
PRINT_TOOTH_MM = 0.25  # across the fine bumps of a pastel paper's tooth
PRINT_WASH_EDGE_MM = 0.05  # a wash dried on paper: its edge rises over this (a print px at least)
PRINT_RIM_MM = 0.15  # the pigment pooled just inside that edge falls off over this (to 1/e)
PRINT_RAGGED_MM = 0.08  # the edge creeps along the paper's hollows and stops short of its ridges by up to this
# a print band's washes are made a tile of about this many pixels at a time: each array a tile holds (3
# channels of float32) stays under the 128 KB past which glibc's malloc maps memory of its own, which
# the system maps and zeroes anew each time; in a print job, with its other threads' large arrays, it
# did so for each of these at 1024 columns a tile (16 s of system time more over a 24x36 print)
PRINT_TILE_PIXELS = 8192
COLOURED_STRIP_ROWS = 256  # rows of the photo whose strokes' colours coloured_as sums at a time
PRINT_FINEST = 2.5  # px: a coarse print's furrows and tooth no finer than its pixels can show (under 300 DPI)


@attrs.frozen
class _Level:
    radius: float  # px at the working size, before depth modulation
    threshold: float  # 0 = paint every cell; where the detail map is 1, DETAIL_THRESHOLD of it
    min_detail: float  # only cells whose mean detail reaches this get strokes
    blur_sigma: float
    jitter: float


@attrs.frozen
class _Plan:
    """The painting request turned into working-size numbers."""

    levels: tuple[_Level, ...]
    far_gain: float  # radius multiplier at depth 1 minus one
    underpainting_sigma: float
    strokes: StrokeSettings

    @classmethod
    def from_request(cls, request: PaintRequest, long_side: int) -> _Plan:
        strokes = request.style.strokes
        painterly = float(np.clip((request.painterliness - 0.2) / 0.6, 0.0, 1.0))
        scale = long_side / REFERENCE_LONG_SIDE * 2.0 ** ((request.brush_scale - 3) / 2)
        count = max(1, strokes.levels)
        largest = max(strokes.largest_brush, strokes.smallest_brush)
        smallest = min(strokes.largest_brush, strokes.smallest_brush)
        ratio = (smallest / largest) ** (1 / (count - 1)) if count > 1 else 0.5
        dropped = int(painterly * (count - 1) * DROPPED_FINE_LEVELS + 0.5)
        loose = count - dropped  # the background's brushes; the detail levels follow them
        let_go = round((DETAIL_LEVELS - 1) * max(0.0, 2.0 * painterly - 1.0))
        reach = [0.0] * loose + [(k + 1) / (DETAIL_LEVELS + 1) for k in range(let_go, DETAIL_LEVELS)]
        radii = [max(MIN_RADIUS, largest * scale * ratio**i) for i in range(len(reach))]
        threshold = _lerp(THRESHOLD, painterly)
        blur = _lerp(REFERENCE_BLUR, painterly)
        jitter = strokes.jitter * _lerp(JITTER_GAIN, painterly)
        levels = tuple(
            # on bare paper even the first brush paints only where the photo is not the paper's colour
            _Level(radius=radius, threshold=0.0 if i == 0 and strokes.paper is None else threshold, min_detail=needs,
                   blur_sigma=blur * radius, jitter=jitter)
            for i, (radius, needs) in enumerate(zip(radii, reach))
            if i < loose or radius < radii[i - 1]  # a detail level no finer than the one before is left out
        )
        if request.painterliness > FACE_PAINTERLINESS:
            # past it a face is still painted as there, last, with that finest brush and threshold
            face = _Plan.from_request(attrs.evolve(request, painterliness=FACE_PAINTERLINESS), long_side).levels[-1]
            if face.radius < levels[-1].radius or face.threshold < levels[-1].threshold:
                levels += (attrs.evolve(face, min_detail=FACES_ONLY),)
        return cls(levels=levels, far_gain=DEPTH_BRUSH_GAIN * request.depth_influence,
                   underpainting_sigma=UNDERPAINTING_BLUR * levels[0].radius, strokes=strokes)


class ClassicalPainter:
    name = "classical-strokes"
    device = None

    def __init__(self, working_long_side: int = WORKING_LONG_SIDE) -> None:
        self._working_long_side = working_long_side

    def paint(
        self,
        image: np.ndarray,
        depth: np.ndarray,
        request: PaintRequest,
        noise: NoisePlan,
        on_progress: Callable[[float], None] | None = None,
        subject: np.ndarray | None = None,
    ) -> PaintResult:
        rgb, depth = _validated(image, depth, noise.seed)
        height, width = rgb.shape[:2]
        work = _resized(rgb, self._working_long_side)
        shrink = depth.shape[0] * depth.shape[1] > work.shape[0] * work.shape[1]
        work_depth = cv2.resize(depth, (work.shape[1], work.shape[0]),
                                interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        del rgb, depth  # the photo's size (183 MiB at 12 MP): not to be held beside the painting made from them
        plan = _Plan.from_request(request, long_side=max(work.shape[:2]))
        rng = np.random.default_rng(derive_seed(noise.seed, self.name))
        jitter = _Jitter(noise.field(work_depth, 4), noise.strength(work_depth))

        radius_scale = 1.0 + plan.far_gain * work_depth
        work_subject = None
        if subject is not None:
            if np.shape(subject) != image.shape[:2]:
                raise InvalidParameter(f"the subject mask must be {image.shape[:2]}, got {np.shape(subject)}")
            work_subject = cv2.resize(np.asarray(subject, np.float32), (work.shape[1], work.shape[0]),
                                      interpolation=cv2.INTER_AREA)
        detail = detail_map(work, work_depth, request.depth_influence, work_subject)
        canvas = _Canvas.started(work, plan.underpainting_sigma, plan.strokes.paper)
        ground = _shrunk_ground(canvas.paint, plan.underpainting_sigma)
        tooth = _tooth(work.shape[:2], rng) if plan.strokes.grain > 0 or plan.strokes.edge_darkening > 0 else None
        batches: list[_Batch] = []
        for index, level in enumerate(plan.levels):
            reference = _reference(work, work_depth, level.blur_sigma, 1.0 + plan.far_gain)
            if plan.strokes.paper_lights > 0:
                reference = _lights_left(reference, plan.strokes)
            strokes = _place_strokes(canvas, reference, radius_scale, detail, level, plan.strokes, rng, jitter)
            batches += _render(canvas, strokes, level, plan.strokes, rng, tooth, detail)
            if on_progress is not None:
                on_progress((index + 1) / (len(plan.levels) + 1))

        painting = canvas = _finish(canvas.paint, canvas.relief, plan.strokes)
        if canvas.shape[:2] != (height, width):
            canvas = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_LANCZOS4)
        canvas = np.clip(canvas, 0.0, 1.0).astype(np.float32, copy=False)
        if on_progress is not None:
            on_progress(1.0)
        kept = _strokes_kept(batches, ground, work.shape[:2], (height, width), plan.strokes, detail,
                             derive_seed(noise.seed, self.name, "print tooth"), painting)
        return PaintResult(canvas, strokes=kept)


@attrs.define
class _Canvas:
    paint: np.ndarray  # what is seen
    # the same strokes in their reference colours, without jitter or edge effects: where the painting
    # still misses the photo, so that decoration does not read as error and call for more strokes
    plain: np.ndarray
    relief: np.ndarray  # impasto height, px

    @classmethod
    def started(cls, image: np.ndarray, sigma: float, paper: tuple[float, float, float] | None) -> _Canvas:
        """An underpainting (the photo blurred at the largest brush's scale), or bare paper."""
        if paper is None:
            ground = _blur(image, sigma)
        else:
            ground = np.empty_like(image)
            ground[:] = np.asarray(paper, np.float32)
        return cls(paint=ground, plain=ground.copy(), relief=np.zeros(image.shape[:2], np.float32))


@attrs.frozen
class _Strokes:
    points: np.ndarray  # N x max(2, max_length) x 2 (x, y), float
    lengths: np.ndarray  # N: control points in use, at least 2 (a dot is a point drawn twice)
    radii: np.ndarray  # N
    colours: np.ndarray  # N x 3, as painted
    plain_colours: np.ndarray  # N x 3, the reference's at each start


@attrs.frozen
class _Batch:
    """Strokes painted together (one id buffer), as drawn: their shapes at the working size, their
    colours as painted, the batch's opacity, how far each reaches (to find those a band meets), and
    what their texture is made from: the brush's radius (the impasto bead's), a pastel stroke's
    pressure, and a wash's wetness (where it dried)."""

    points: np.ndarray  # n x max(2, max_length) x 2 (x, y), float; a stroke's unused points repeat its last
    lengths: np.ndarray  # n
    radii: np.ndarray  # n
    corners: np.ndarray | None  # n x 4 x 2: a knife's slabs, drawn in place of the centre lines
    colours: np.ndarray  # n x 3
    opacity: float
    reach: np.ndarray  # n x 4: left, top, right, bottom
    brush_radius: float  # px at the working size, before depth modulation
    pressure: np.ndarray | None  # n: a pastel stroke's (None: not chalk)
    # a wash's, at the working size, in half precision: its strokes' cover bled together and wandering,
    # less the cover at which it dried (None: not a wash); the wash's edge is where it crosses 0
    wetness: np.ndarray | None = None

    @classmethod
    def of(cls, strokes: _Strokes, batch: np.ndarray, slabs: np.ndarray | None, opacity: float,
           brush_radius: float, pressure: np.ndarray | None) -> _Batch:
        points, radii = strokes.points[batch], strokes.radii[batch]
        corners = None if slabs is None else slabs[batch]
        outline = corners if corners is not None else points
        pad = 0.0 if corners is not None else radii[:, None]
        reach = np.concatenate([outline.min(axis=1) - pad, outline.max(axis=1) + pad], axis=1)
        return cls(points=points, lengths=strokes.lengths[batch], radii=radii, corners=corners,
                   colours=strokes.colours[batch], opacity=opacity, reach=reach, brush_radius=brush_radius,
                   pressure=pressure)

    def meeting(self, scale: np.ndarray, offset: np.ndarray, width: int, top: int, bottom: int) -> np.ndarray:
        """The strokes that, drawn at scale and offset, touch columns [0, width) of rows [top, bottom)."""
        low = self.reach[:, :2] * scale + offset - 2.0  # a drawn line's rounding reaches a pixel further
        high = self.reach[:, 2:] * scale + offset + 2.0
        return np.flatnonzero((high[:, 0] >= 0) & (low[:, 0] < width) & (high[:, 1] >= top) & (low[:, 1] < bottom))


def _stroke_ids(batch: _Batch, shape: tuple[int, int], scale: np.ndarray | tuple = (1.0, 1.0),
                offset: np.ndarray | tuple = (0.0, 0.0), chosen: np.ndarray | None = None) -> np.ndarray:
    """An id buffer of the batch's strokes (1 + their place in it, 0 where none; chosen ones, or all)
    drawn at scale and offset (x' = x * scale + offset), later over earlier: the painting's at scale 1."""
    chosen = np.arange(len(batch.radii)) if chosen is None else chosen
    scale, offset = np.asarray(scale, np.float64), np.asarray(offset, np.float64)
    ids = np.zeros(shape, np.int32)
    # plain lists: these loops run once per stroke, numpy scalar indexing would dominate them
    if batch.corners is not None:
        corners = np.rint((batch.corners[chosen] * scale + offset) * (1 << SHIFT)).astype(np.int32)
        for stroke_id, slab in zip((chosen + 1).tolist(), corners):
            cv2.fillConvexPoly(ids, slab, stroke_id, lineType=cv2.LINE_8, shift=SHIFT)
        return ids
    points = np.rint((batch.points[chosen] * scale + offset) * (1 << SHIFT)).astype(np.int32)
    thickness = np.maximum(1, np.rint(2.0 * batch.radii[chosen] * math.sqrt(scale[0] * scale[1]))).astype(np.int64)
    for stroke_id, line, length, width in zip((chosen + 1).tolist(), points, batch.lengths[chosen].tolist(),
                                              thickness.tolist()):
        cv2.polylines(ids, [line[:length]], False, stroke_id, thickness=width, lineType=cv2.LINE_8, shift=SHIFT)
    return ids


@attrs.frozen
class _Texture:
    """What a painting's texture is made from at any scale: the strokes as painted (their colours as
    painted, whatever colours they are drawn flat in), the style's settings, the detail map at the
    working size (where the eye goes the paint is brushed smooth and chalk rubbed in), the seed of a
    print's tooth, and the painting itself at the working size (whose texture is the photo's)."""

    batches: tuple[_Batch, ...]
    settings: StrokeSettings
    detail: np.ndarray
    seed: int
    painting: np.ndarray


class ClassicalStrokes:
    """A painting's strokes, batch by batch in the order they were painted, drawn flat (each in its
    colour, with its batch's opacity, on the ground blurred as the underpainting, no texture) at any
    scale: at the working size for the photo's, at print size a band at a time; and the paint's
    texture (the impasto's relief lit, a pastel's grain), the painting's own at the photo's size, made
    anew at print size."""

    def __init__(self, batches: tuple[_Batch, ...], ground: np.ndarray, work_size: tuple[int, int],
                 photo_size: tuple[int, int], antialias: float, texture: _Texture) -> None:
        self._batches, self._ground, self._antialias = batches, ground, antialias
        self._work_size, self._photo_size = work_size, photo_size
        self._texture = texture

    def coloured_as(self, painting: np.ndarray) -> ClassicalStrokes:
        """The same strokes, each in the mean colour it shows in the painting (the finished one, at the
        photo's size) inside its outline, where it shows at all: the post-processing's colours, and
        chalk's mixed with the paper it lets through."""
        height = self._photo_size[1]
        ids = self._photo_ids()
        count = sum(len(batch.radii) for batch in self._batches)
        # summed a strip of rows at a time: the photo's inner pixels and their colours whole were 300 MiB at 12 MP
        seen, sums = np.zeros(count + 1), np.zeros((3, count + 1))
        for top in range(0, height, COLOURED_STRIP_ROWS):
            rows = slice(top, min(height, top + COLOURED_STRIP_ROWS))
            context = slice(max(0, top - 1), min(height, rows.stop + 1))  # the outline reads a row each way
            strip = ids[rows]
            inner = (strip > 0) & ~_outlines(ids[context])[rows.start - context.start :][: len(strip)]
            inside, pixels = strip[inner], np.asarray(painting[rows], np.float32)[inner]
            seen += np.bincount(inside, minlength=count + 1)
            for channel in range(3):
                sums[channel] += np.bincount(inside, weights=pixels[:, channel], minlength=count + 1)
        seen = seen[1:]
        means = sums[:, 1:].T / np.maximum(seen, 1)[:, None]
        batches, first = [], 0
        for batch in self._batches:
            count = len(batch.radii)
            shown = (seen[first:first + count] > 0)[:, None]
            batches.append(attrs.evolve(batch, colours=np.where(shown, means[first:first + count], batch.colours)
                                        .astype(np.float32)))
            first += count
        return ClassicalStrokes(tuple(batches), self._ground, self._work_size, self._photo_size, self._antialias,
                                self._texture)

    def _photo_ids(self) -> np.ndarray:
        """An id buffer of all the strokes at the photo's size (1 + their place in the painting's order)."""
        width, height = self._photo_size
        scale = np.array(self._photo_size) / np.array(self._work_size)
        ids = np.zeros((height, width), np.int32)
        first = 0
        for batch in self._batches:  # opaque strokes (washes are not kept): the last drawn is the one seen
            drawn = _stroke_ids(batch, (height, width), scale, 0.5 * scale - 0.5)
            painted = drawn > 0
            drawn += first
            np.copyto(ids, drawn, where=painted)
            first += len(batch.radii)
        return ids

    def photo_flat(self) -> np.ndarray:
        return self._photo_sized(self._work_flat(self._batches))

    def photo_texture(self) -> np.ndarray:
        return self._photo_sized(self._texture.painting, less=self._work_flat(self._texture.batches))

    def _photo_sized(self, image: np.ndarray, less: np.ndarray | None = None) -> np.ndarray:
        """image, of the working size, resized to the photo's and clipped to 0..1, less `less` resized
        alike: in half precision, made a channel at a time (cv2.resize makes each channel as it makes the
        three), so that from a 12 MP photo no more than two channels in single precision (46 MiB each) are
        held beside it, not two images (137 MiB each)."""
        width, height = self._photo_size
        sized = np.empty((height, width, 3), np.float16)
        for channel in range(3):
            values = self._channel_at_photo_size(image[..., channel])
            if less is not None:
                values -= self._channel_at_photo_size(less[..., channel])
            sized[..., channel] = values
        return sized

    def _channel_at_photo_size(self, channel: np.ndarray) -> np.ndarray:
        channel = np.ascontiguousarray(channel)  # a copy: clipped in place below
        if self._work_size != self._photo_size:
            channel = cv2.resize(channel, self._photo_size, interpolation=cv2.INTER_LANCZOS4)
        return np.clip(channel, 0.0, 1.0, out=channel)

    def print_rows(self, crop: tuple[int, int, int, int], out_size: tuple[int, int], first: int, last: int,
                   pixel_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """The strokes drawn at print size, flat in their colours, and the paint's texture made there:
        a bead's relief from the distance to its outline at print size, furrowed by bristles about
        PRINT_BRISTLE_MM apart, settled over PRINT_SETTLE_MM; a knife slab's plane; the relief lit as
        in the painting; chalk (in its colours as painted) broken by a tooth PRINT_TOOTH_MM across.
        Each batch's strokes are drawn once, over the rows that reach whatever its texture reads (the
        distance to a bead's outline), so that bands equal the whole."""
        settings = self._texture.settings
        knife, chalk = settings.shape == "knife", settings.grain > 0
        width, height = out_size
        scale, offset = self._placed(crop, out_size)
        size = math.sqrt(scale[0] * scale[1])  # print px per working px
        settle = (PRINT_KNIFE_SETTLE_MM if knife else PRINT_SETTLE_MM) / pixel_mm
        reach = max(_reach(self._antialias), _reach(settle) + 1)  # the shading's Sobel reads a row further
        top, bottom = max(0, first - reach), min(height, last + reach)
        flat = self._ground_rows(scale, offset, width, top, bottom)
        # chalk's grain mixes its colour with what is under it: the strokes as painted, with it and without
        chalky, plain = (flat.copy(), flat.copy()) if chalk else (None, None)
        relief = np.zeros((bottom - top, width), np.float32)
        detail = _resampled_rows(self._texture.detail, self._work_size, scale, offset, np.arange(width), top, bottom)
        tooth_cell = max(PRINT_FINEST, PRINT_TOOTH_MM / pixel_mm)
        tooth = _print_tooth(top, bottom - top, width, tooth_cell, self._texture.seed) if chalk else None
        period = max(PRINT_FINEST, PRINT_BRISTLE_MM / pixel_mm)
        wear = _bristle_wear(top, bottom - top, width, period, self._texture.seed) if settings.bristles > 0 else None
        for batch, as_painted in zip(self._batches, self._texture.batches):
            # a bead's relief reads the distance to its outline up to the brush's radius (a stroke broadened
            # far away has no grooves deeper inside): the rows that far away are drawn too
            deepest = 0 if knife or settings.impasto <= 0 else math.ceil(batch.brush_radius * size)
            above, below = min(top, deepest + 2), min(height - bottom, deepest + 2)
            chosen = batch.meeting(scale, offset, width, top - above, bottom + below)
            if chosen.size == 0:
                continue
            drawn = _stroke_ids(batch, (bottom - top + above + below, width), scale,
                                offset - np.array([0.0, top - above]), chosen)
            ids = drawn[above : above + bottom - top]
            painted = ids > 0
            opacity = np.float32(batch.opacity)
            _laid(flat, _palette(batch.colours)[ids], painted * opacity)
            if chalk:
                colours = _palette(as_painted.colours)[ids]
                cover = _chalk_cover(batch, ids, scale, offset, self._work_size, top, settings.grain, tooth, detail)
                _laid(chalky, colours.copy(), cover * opacity)
                _laid(plain, colours, painted * opacity)
            if settings.impasto <= 0:
                continue
            if knife:
                corners = np.rint((batch.corners * scale + offset - np.array([0.0, top])) * (1 << SHIFT)) / (1 << SHIFT)
                ridge = _knife_relief(ids, corners, IMPASTO_THICKNESS * batch.brush_radius * size)
            else:
                distance = _outline_distance(drawn, drawn > 0, cv2.DIST_MASK_PRECISE)[above : above + bottom - top]
                np.minimum(distance, np.float32(deepest), out=distance)
                ridge = _bead(distance, batch.brush_radius * size)
                if wear is not None:
                    depth = settings.bristles * PRINT_BRISTLE_SLOPE * period / (2.0 * np.pi)
                    ridge += _print_grooves(distance, ids, detail, period, wear, depth)
            # fresh paint sits on the old, as in the painting (in place: these arrays are tens of MB)
            np.multiply(relief, np.float32(0.3), out=relief, where=painted)
            relief += ridge
        flat = cv2.GaussianBlur(flat, (0, 0), self._antialias)
        textured, untextured = flat, flat
        if chalk:
            textured, untextured = (cv2.GaussianBlur(image, (0, 0), self._antialias) for image in (chalky, plain))
        if settings.impasto > 0:
            textured = textured * _shading(relief, settle, settings.impasto)[..., None]
        rows = slice(first - top, last - top)
        return np.clip(flat[rows], 0.0, 1.0), textured[rows] - untextured[rows]

    def _placed(self, crop: tuple[int, int, int, int], out_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Scale and offset from the working size to the photo's crop enlarged to out_size: pixel centres
        line up as in a resize, x_out + 0.5 = (x_photo - crop_x + 0.5) * enlargement, and the same from
        the working size to the photo's."""
        x, y, width, height = crop
        enlargement = np.array([out_size[0] / width, out_size[1] / height])
        scale = np.array(self._photo_size) / np.array(self._work_size) * enlargement
        return scale, 0.5 * scale - 0.5 - np.array([x, y]) * enlargement

    def _work_flat(self, batches: tuple[_Batch, ...]) -> np.ndarray:
        """The batches drawn flat at the working size, as the painting was."""
        width, height = self._work_size
        return self._drawn(batches, np.ones(2), np.zeros(2), width, height, 0, height)

    def _drawn(self, batches: tuple[_Batch, ...], scale: np.ndarray, offset: np.ndarray, width: int, height: int,
               first: int, last: int) -> np.ndarray:
        reach = _reach(self._antialias)
        top, bottom = max(0, first - reach), min(height, last + reach)
        flat = self._ground_rows(scale, offset, width, top, bottom)
        for batch in batches:
            chosen = batch.meeting(scale, offset, width, top, bottom)
            if chosen.size == 0:
                continue
            ids = _stroke_ids(batch, (bottom - top, width), scale, offset - np.array([0.0, top]), chosen)
            _laid(flat, _palette(batch.colours)[ids], (ids > 0).astype(np.float32) * np.float32(batch.opacity))
        flat = cv2.GaussianBlur(flat, (0, 0), self._antialias)
        return flat[first - top : last - top]

    def _ground_rows(self, scale: np.ndarray, offset: np.ndarray, width: int, top: int, bottom: int) -> np.ndarray:
        return _resampled_rows(self._ground, self._work_size, scale, offset, np.arange(width), top, bottom)


class ClassicalWashes(ClassicalStrokes):
    """A watercolour's washes, batch by batch: each batch's strokes bled together (their colours, drawn
    again at any scale) and its wetness (where the wash dried). Drawn flat, each wash in its colours
    over the paper up to where it dried, no pigment pooled nor granulated: at the working size for the
    photo's, its edge as soft as the painting's; at print size the edge dried crisp, and the texture made
    there at paper scale: pigment pooled in a line PRINT_RIM_MM wide just inside the edge, granulation
    in the hollows of a paper whose grain is PRINT_TOOTH_MM across, and the edge itself ragged by that
    grain. The wash's inside stays as soft as in the painting: its colours are the strokes' bled
    together at the working size, only resampled."""

    def coloured_as(self, painting: np.ndarray) -> ClassicalWashes:
        """The washes as they are: a translucent wash shows every wash under it, it has no colour of its
        own to take from the painting; the post-processing's smooth colour moves come with the enlarged
        painting."""
        return self

    def print_rows(self, crop: tuple[int, int, int, int], out_size: tuple[int, int], first: int, last: int,
                   pixel_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """The washes at print size: each dried where its wetness crosses 0 (found within a print
        pixel or so from the wetness and its slope, resampled), the edge rising over PRINT_WASH_EDGE_MM
        and following the paper's grain by PRINT_RAGGED_MM; flat in their colours, and the texture
        (what pooled pigment and granulation add) made there. Every step reads its own pixel but the
        anti-aliasing, so bands equal the whole."""
        settings = self._texture.settings
        width, height = out_size
        scale, offset = self._placed(crop, out_size)
        reach = _reach(self._antialias)
        top, bottom = max(0, first - reach), min(height, last + reach)
        flat = self._ground_rows(scale, offset, width, top, bottom)
        pooled = flat.copy()
        paper = np.asarray(settings.paper, np.float32)
        tooth = _print_tooth(top, bottom - top, width, max(PRINT_FINEST, PRINT_TOOTH_MM / pixel_mm), self._texture.seed)
        # the edge creeps along the paper's hollows and stops short of its ridges
        edge_wander = PRINT_RAGGED_MM / pixel_mm
        ragged = tooth * 2.0
        ragged -= 1.0
        ragged *= np.float32(edge_wander)
        granulation = tooth - 0.5
        granulation *= np.float32(settings.edge_darkening * GRANULATION)
        del tooth
        rise, rim_width = max(1.0, PRINT_WASH_EDGE_MM / pixel_mm), max(1.0, PRINT_RIM_MM / pixel_mm)
        washes = [_WashRows.read(batch, _bleed(settings, batch.brush_radius), self._work_size, scale, offset, top,
                                 bottom) for batch in self._batches]
        # a tile of columns at a time: a wash that does not reach it is passed over, and its arrays are small
        tile_width = max(1, PRINT_TILE_PIXELS // (bottom - top))
        with _opencv_alone():
            for start in range(0, width, tile_width):
                tile = slice(start, min(width, start + tile_width))
                reads = washes[0].reads(np.arange(tile.start, tile.stop))  # every wash reads the same rows
                for wash, batch in zip(washes, self._batches):
                    if not wash.may_reach(tile, 0.5 * rise + edge_wander):
                        continue
                    # in place, as far as it goes: a tile's few arrays come and go some 200,000 times in a print
                    inside, slope = wash.wetness(reads)
                    np.maximum(slope, 1e-6, out=slope)
                    inside /= slope  # print px from the edge, inside the wash
                    inside += ragged[:, tile]
                    if inside.max() <= -0.5 * rise:
                        continue
                    cover = np.divide(inside, rise, out=slope)
                    cover += 0.5
                    np.clip(cover, 0.0, 1.0, out=cover)
                    cover *= np.float32(batch.opacity)
                    colours = wash.colours(reads)
                    # the pigment pooled where the wash dried, as the painter pools it (see _render), and granulated
                    pigment = np.maximum(inside, 0.0)
                    np.negative(pigment, out=pigment)
                    pigment /= rim_width
                    np.exp(pigment, out=pigment)
                    pigment *= np.float32(settings.edge_darkening * POOLING)
                    pigment += granulation[:, tile]
                    absorbed = colours / paper
                    np.subtract(1.0, absorbed, out=absorbed)
                    np.clip(absorbed, 0.0, 1.0, out=absorbed)
                    absorbed *= pigment[..., None]
                    absorbed += 1.0
                    np.divide(colours, absorbed, out=absorbed)
                    _laid(pooled[:, tile], absorbed, cover)
                    _laid(flat[:, tile], colours, cover)
        for image in (flat, pooled):  # in place: each fresh band-sized array is memory mapped and faulted in anew
            cv2.GaussianBlur(image, (0, 0), self._antialias, dst=image)
        rows = slice(first - top, last - top)
        return np.clip(flat[rows], 0.0, 1.0), pooled[rows] - flat[rows]

    def _work_flat(self, batches: tuple[_Batch, ...]) -> np.ndarray:
        """The washes at the working size, each up to where it dried as in the painting."""
        width, height = self._work_size
        flat = self._ground_rows(np.ones(2), np.zeros(2), width, 0, height)
        for batch in batches:
            self._lay_as_painted(flat, batch)
        return cv2.GaussianBlur(flat, (0, 0), self._antialias)

    def _lay_as_painted(self, flat: np.ndarray, batch: _Batch) -> None:
        """Lays a wash over flat (the working size), in place, up to where it dried as in the painting.
        Its working-size arrays (some 60 MiB) go when it is laid, not held through the resize to the
        photo's size."""
        width, height = self._work_size
        wash = _WashRows.read(batch, _bleed(self._texture.settings, batch.brush_radius), self._work_size,
                              np.ones(2), np.zeros(2), 0, height)
        reads = wash.reads(np.arange(width))
        wetness, _ = wash.wetness(reads)
        cover = np.clip(wetness / WASH_SOFTNESS + 0.5, 0.0, 1.0) * np.float32(batch.opacity)
        _laid(flat, wash.colours(reads), cover)


def _read_rows(scale: np.ndarray, offset: np.ndarray, work_height: int, top: int, bottom: int) -> tuple[int, int]:
    """The working rows that rows [top, bottom), drawn at scale and offset, read (bilinearly)."""
    first = max(0, math.floor((top - offset[1]) / scale[1]) - 1)
    return first, min(work_height, math.ceil((bottom - offset[1]) / scale[1]) + 2)


class _WashRows:
    """The working rows of a wash that rows [top, bottom), drawn at scale and offset from the working
    size, read, made once for all their columns: its wetness and the wetness's slope (from central
    differences, with one row more each way where the painting has one), and its colours, when first
    asked (its strokes' bled together over bleed working px as the painter bleeds them, from those rows
    and the rows the bleeding reads for them)."""

    def __init__(self, batch: _Batch, bleed: float, work_size: tuple[int, int], scale: np.ndarray,
                 offset: np.ndarray, top: int, bottom: int, first: int, last: int, wet: np.ndarray) -> None:
        self._batch, self._bleed, self._work_size, self._scale = batch, bleed, work_size, scale
        self._top, self._bottom, self._first, self._last, self._wet = top, bottom, first, last, wet
        self._placed = offset + np.array([0.0, first * scale[1]])  # the offset that draws these rows
        # each working column's wettest and steepest, over these rows: what bounds how near the wash comes
        self._wettest = wet[..., 0].max(axis=0)
        self._steepest = np.hypot(np.abs(wet[..., 1]).max(axis=0) / scale[0], np.abs(wet[..., 2]).max(axis=0) / scale[1])

    @classmethod
    def read(cls, batch: _Batch, bleed: float, work_size: tuple[int, int], scale: np.ndarray, offset: np.ndarray,
             top: int, bottom: int) -> _WashRows:
        work_height = work_size[1]
        first, last = _read_rows(scale, offset, work_height, top, bottom)
        lower, upper = max(0, first - 1), min(work_height, last + 1)
        wetness = batch.wetness[lower:upper].astype(np.float32)
        across, down = (cv2.Sobel(wetness, cv2.CV_32F, dx, 1 - dx, ksize=1, scale=0.5) for dx in (1, 0))
        wet = np.dstack([wetness, across, down])[first - lower : last - lower]
        return cls(batch, bleed, work_size, scale, offset, top, bottom, first, last, wet)

    def may_reach(self, columns: slice, beyond: float) -> bool:
        """Whether the wash may come within beyond print px of these columns' pixels: false only where
        the working cells they read are all dry, so far from the edge that their wettest over the
        steepest slope (with a margin for rounding) is further."""
        reads = (np.array([columns.start, columns.stop - 1]) - self._placed[0]) / self._scale[0]
        # the cells either side of the first and last columns' reads, a cell more each way
        left, right = np.clip(np.floor(reads).astype(int) + [-1, 2], 0, self._work_size[0] - 1)
        cells = slice(left, right + 1)
        wettest, steepest = float(self._wettest[cells].max()), float(self._steepest[cells].max())
        return wettest >= 0.0 or wettest / max(1.01 * steepest, 1e-6) > -beyond - 0.5

    def reads(self, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where these columns of the rows read these working rows (maps for cv2.remap)."""
        rows_read = (self._work_size[0], self._last - self._first)
        return _read_maps(rows_read, rows_read, self._scale, self._placed, columns, self._top, self._bottom)

    def wetness(self, reads: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The wash's wetness where reads read (0 where it dried) and how steeply it changes there, per
        px drawn."""
        wet = _remapped(self._wet, reads)
        across, down = wet[..., 1] / np.float32(self._scale[0]), wet[..., 2] / np.float32(self._scale[1])
        return np.ascontiguousarray(wet[..., 0]), np.hypot(across, down, out=across)

    def colours(self, reads: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        return _remapped(self._bled, reads)

    @functools.cached_property
    def _bled(self) -> np.ndarray:
        work_width, work_height = self._work_size
        first, last = self._first, self._last
        bleed_reach = _reach(self._bleed)
        above, below = min(first, bleed_reach), min(work_height - last, bleed_reach)
        chosen = self._batch.meeting(np.ones(2), np.zeros(2), work_width, first - above, last + below)
        ids = _stroke_ids(self._batch, (last - first + above + below, work_width), (1.0, 1.0),
                          (0.0, float(above - first)), chosen)
        spread = cv2.GaussianBlur((ids > 0).astype(np.float32), (0, 0), self._bleed)[above : above + last - first]
        colours = cv2.GaussianBlur(_palette(self._batch.colours)[ids], (0, 0), self._bleed)[above : above + last - first]
        colours /= np.maximum(spread, 1e-3)[..., None]
        return colours


def _resampled_rows(image: np.ndarray, work_size: tuple[int, int], scale: np.ndarray, offset: np.ndarray,
                    columns: np.ndarray, top: int, bottom: int) -> np.ndarray:
    """Columns of rows [top, bottom) of image (of the working size, or shrunk from it: the ground) drawn
    at scale and offset from the working size: interpolated bilinearly."""
    image_height, image_width = image.shape[:2]
    return _remapped(image, _read_maps((image_width, image_height), work_size, scale, offset, columns, top, bottom))


def _read_maps(image_size: tuple[int, int], work_size: tuple[int, int], scale: np.ndarray, offset: np.ndarray,
               columns: np.ndarray, top: int, bottom: int) -> tuple[np.ndarray, np.ndarray]:
    """Where columns of rows [top, bottom), drawn at scale and offset from the working size, read an
    image of image_size (the working size, or shrunk from it): maps for cv2.remap."""
    shrink = np.array(image_size) / np.array(work_size)
    read_columns = ((columns - offset[0]) / scale[0] + 0.5) * shrink[0] - 0.5
    rows = ((np.arange(top, bottom) - offset[1]) / scale[1] + 0.5) * shrink[1] - 0.5
    map_x = np.broadcast_to(read_columns.astype(np.float32), (bottom - top, len(columns)))
    map_y = np.broadcast_to(rows.astype(np.float32)[:, None], (bottom - top, len(columns)))
    return np.ascontiguousarray(map_x), np.ascontiguousarray(map_y)


def _remapped(image: np.ndarray, reads: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """image interpolated bilinearly where reads read."""
    return cv2.remap(image, *reads, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@contextlib.contextmanager
def _opencv_alone() -> Iterator[None]:
    """OpenCV on this thread alone: its calls on a few thousand pixels are too small to share, its
    pool's threads would spin idle around each (CPU time spent for no time saved)."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(threads)


def _laid(under: np.ndarray, colours: np.ndarray, alpha: np.ndarray) -> None:
    """Lays colours over under with alpha (HxW), in place; colours is used up (these are tens of MB)."""
    colours -= under
    colours *= alpha[..., None]
    under += colours


def _print_grooves(distance: np.ndarray, ids: np.ndarray, detail: np.ndarray, period: float, wear: np.ndarray,
                   depth: float) -> np.ndarray:
    """The bristles' furrows at print size, depth deep at most: as _grooves, but two ripples of
    periods that are no multiple of one another (period and 1.618 times it), so that the furrows come
    unevenly spaced and deep, as a real brush's do, and worn away along their length where wear is."""
    phase = ids.astype(np.float32) * np.float32(2.0 * np.pi * 0.618034)  # single precision: twice as fast
    across = distance * np.float32(2.0 * np.pi / period)
    grooves = np.sin(across + phase)
    grooves += np.float32(0.5) * np.sin(across * np.float32(1.0 / 1.618034) + 2.0 * phase)
    grooves *= np.minimum(distance, 1.0) * (1.0 - detail) * wear
    grooves *= np.float32(depth / 1.5)  # the two ripples reach 1.5 together
    return grooves


def _bristle_wear(top: int, height: int, width: int, period: float, seed: int) -> np.ndarray:
    """How deep a brush's furrows run along a stroke, 0 to 1: smooth noise of a print pixel's row and
    column and the seed, 8 furrows across, so that they fade and come back as real ones do."""
    wear = lattice_noise(top, height, width, 8.0 * period, derive_seed(seed, "bristle wear"))
    wear *= np.float32(0.5)
    wear += np.float32(0.6)
    return np.clip(wear, 0.0, 1.0, out=wear)


def _chalk_cover(batch: _Batch, ids: np.ndarray, scale: np.ndarray, offset: np.ndarray,
                 work_size: tuple[int, int], top: int, grain: float, tooth: np.ndarray, detail: np.ndarray
                 ) -> np.ndarray:
    """How much of the paper the batch's chalk covers in rows [top, top + len(ids)) at print size, as the
    painter has it: each stroke's pressure, less towards its edges (its cover blurred, at the working
    size, where that blur is a few px), against the tooth there, rubbed in on a face."""
    sigma = max(1.0, 0.4 * batch.brush_radius)
    work_width, work_height = work_size
    # the working rows the band's rows read, and those the blur reads for them
    first, last = _read_rows(scale, offset, work_height, top, top + len(ids))
    blur_reach = _reach(sigma)
    above, below = min(first, blur_reach), min(work_height - last, blur_reach)
    chosen = batch.meeting(np.ones(2), np.zeros(2), work_width, first - above, last + below)
    cover = (_stroke_ids(batch, (last - first + above + below, work_width), (1.0, 1.0),
                         (0.0, float(above - first)), chosen) > 0).astype(np.float32)
    cover = cv2.GaussianBlur(cover, (0, 0), sigma)[above : above + last - first]
    pressed = _resampled_rows(cover, (work_width, last - first), scale, offset + np.array([0.0, first * scale[1]]),
                              np.arange(ids.shape[1]), top, top + len(ids))
    pressed *= _palette(batch.pressure[:, None])[ids][..., 0]
    bite = grain * tooth * (1.0 - PASTEL_FACE_BLEND * np.clip(2.0 * detail - 1.0, 0.0, 1.0))
    return np.clip((pressed - bite) / PASTEL_SOFTNESS, 0.0, 1.0) * (ids > 0)


def _print_tooth(top: int, height: int, width: int, cell: float, seed: int) -> np.ndarray:
    """A pastel paper's tooth at print size, 0 on a ridge to 1 in a hollow, as _tooth: fine noise cell
    px across over coarser, spread evenly over 0..1, a function of the print pixel and the seed."""
    noise = lattice_noise(top, height, width, cell, derive_seed(seed, "tooth", "fine"))
    noise += 0.6 * lattice_noise(top, height, width, 3.75 * cell, derive_seed(seed, "tooth", "coarse"))
    noise *= np.float32(_tooth_scale(cell, seed))
    # in place: a band's arrays are the print's width (6 MB at 300 DPI), each a fresh mapping faulted in
    noise *= 0.8
    np.tanh(noise, out=noise)
    noise += 1.0
    noise *= 0.5
    return noise


@functools.lru_cache(maxsize=8)
def _tooth_scale(cell: float, seed: int) -> float:
    """1 / the print tooth's noise std, measured on its first rows and columns: the same for every band."""
    side = max(256, round(40 * cell))
    noise = lattice_noise(0, side, side, cell, derive_seed(seed, "tooth", "fine"))
    noise += 0.6 * lattice_noise(0, side, side, 3.75 * cell, derive_seed(seed, "tooth", "coarse"))
    return 1.0 / max(float(noise.std()), 1e-6)


def _reach(sigma: float) -> int:
    """How far cv2's Gaussian blur of a float image, its kernel sized from sigma, reads: 4 sigma."""
    return int(math.ceil(4.0 * sigma))


def _strokes_kept(batches: list[_Batch], ground: np.ndarray, work_shape: tuple[int, int],
                  shape: tuple[int, int], settings: StrokeSettings, detail: np.ndarray, seed: int,
                  painting: np.ndarray) -> ClassicalStrokes:
    """The strokes, to be drawn again at print size: a wash's with where it dried."""
    antialias = KNIFE_ANTIALIAS_SIGMA if settings.shape == "knife" else ANTIALIAS_SIGMA
    texture = _Texture(tuple(batches), settings, detail, seed, painting)
    kind = ClassicalWashes if settings.wet_edges > 0 else ClassicalStrokes
    return kind(tuple(batches), ground, work_shape[::-1], shape[::-1], antialias, texture)


def _bleed(settings: StrokeSettings, radius: float) -> float:
    """How far (a Gaussian's sigma, working px) a wash's strokes bleed together, wet into wet."""
    return max(1.0, settings.wet_edges * radius)


def _shrunk_ground(ground: np.ndarray, sigma: float) -> np.ndarray:
    """The ground, blurred by sigma (or flat paper), kept at a size that loses nothing of it."""
    factor = max(1, int(sigma // 4))
    height, width = ground.shape[:2]
    return cv2.resize(ground, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)


def _validated(image: np.ndarray, depth: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    image, depth = np.asarray(image), np.asarray(depth)
    if image.ndim != 3 or image.shape[2] != 3:
        raise InvalidParameter(f"expected an HxWx3 RGB image, got shape {image.shape}")
    if depth.ndim != 2:
        raise InvalidParameter(f"expected an HxW depth map, got shape {depth.shape}")
    if min(image.shape[:2]) < 1 or min(depth.shape) < 1:
        raise InvalidParameter("the image and its depth map must not be empty")
    if not np.issubdtype(image.dtype, np.floating):
        raise InvalidParameter(f"expected a float image in [0, 1], got {image.dtype}")
    if not np.isfinite(image).all() or not np.isfinite(depth).all():
        raise InvalidParameter("the image or its depth map contains NaN or infinite values")
    if seed < 0:
        raise InvalidParameter(f"seed must be a non-negative integer, got {seed}")
    return np.clip(image, 0.0, 1.0, dtype=np.float32), np.clip(depth, 0.0, 1.0, dtype=np.float32)


def _resized(image: np.ndarray, long_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    factor = long_side / max(height, width)
    if factor >= 1.0:
        return image
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _reference(image: np.ndarray, depth: np.ndarray, sigma: float, far_scale: float) -> np.ndarray:
    """The photo blurred with the brush: sigma where near, sigma * far_scale where far."""
    near = _blur(image, sigma)
    if far_scale <= 1.0:
        return near
    far = _blur(image, sigma * far_scale)
    return near + depth[..., None] * (far - near)


def _lights_left(reference: np.ndarray, settings: StrokeSettings) -> np.ndarray:
    """A watercolourist's lights are the paper left bare: above the style's luminance the reference
    turns to the paper's colour, over a short ramp, so no wash is laid there."""
    ramp = np.clip((reference @ REC709_LUMA - settings.paper_lights) / LIGHTS_RAMP, 0.0, 1.0)[..., None]
    return reference + ramp * (np.asarray(settings.paper, np.float32) - reference)


def _place_strokes(
    canvas: _Canvas,
    reference: np.ndarray,
    radius_scale: np.ndarray,
    detail: np.ndarray,
    level: _Level,
    settings: StrokeSettings,
    rng: np.random.Generator,
    jitter: _Jitter,
) -> _Strokes:
    error = np.linalg.norm(canvas.plain - reference, axis=2)
    starts = _grid_starts(error, detail, level, rng)
    xs, ys = starts[:, 0], starts[:, 1]
    scale = radius_scale[ys, xs]
    # a stroke scale times broader covers scale^2 times the area: keep that share of the grid points
    keep = rng.random(len(starts)) * scale**2 < 1.0
    starts, scale = starts[keep], scale[keep]
    xs, ys = starts[:, 0], starts[:, 1]
    radii = (level.radius * scale).astype(np.float32)
    colours = reference[ys, xs]
    tangent, confidence = _edge_directions(reference, level.radius)
    # the first brush paints a bare canvas (the underpainting does not count): its strokes run full length
    fits = None if level.threshold == 0 else canvas.plain
    points, lengths = _trace(starts.astype(np.float32), radii, colours, reference, fits, tangent, confidence,
                             settings, rng)
    painted = jitter.applied(colours, xs, ys, level.jitter, settings.chalk, rng)
    return _Strokes(points=points, lengths=lengths, radii=radii, colours=painted, plain_colours=colours)


def _grid_starts(error: np.ndarray, detail: np.ndarray, level: _Level, rng: np.random.Generator) -> np.ndarray:
    """One start (x, y) per grid cell whose mean detail reaches the level's and whose mean error
    passes the threshold there (lower where the detail is high): its worst pixel."""
    height, width = error.shape
    cell = max(MIN_CELL, int(round(level.radius)))
    rows, cols = -(-height // cell), -(-width // cell)

    def blocked(values: np.ndarray) -> np.ndarray:
        padded = np.pad(values, ((0, rows * cell - height), (0, cols * cell - width)), mode="edge")
        return padded.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3).reshape(rows, cols, cell * cell)

    blocks = blocked(error)
    cell_detail = blocked(detail).mean(axis=2)
    chosen = cell_detail >= level.min_detail
    if level.threshold > 0:
        chosen &= blocks.mean(axis=2) > level.threshold * (1.0 - (1.0 - DETAIL_THRESHOLD) * cell_detail)
    cell_rows, cell_cols = np.nonzero(chosen)
    candidates = blocks[cell_rows, cell_cols]
    # randomised arg-max: the worst pixel where error varies, a random one where the cell is flat
    worst = np.argmax(candidates * (1.0 + 0.5 * rng.random(candidates.shape, dtype=np.float32))
                      + 1e-4 * rng.random(candidates.shape, dtype=np.float32), axis=1)
    ys = np.minimum(cell_rows * cell + worst // cell, height - 1)
    xs = np.minimum(cell_cols * cell + worst % cell, width - 1)
    return np.stack([xs, ys], axis=1).astype(np.intp)


@attrs.frozen
class _Jitter:
    """Each stroke's colour jitter, read from the noise plan's field at the stroke's start: its
    layer's seed, its edition's, and scaled by the depth-weighted strength (calmer on the subject)."""

    field: np.ndarray  # 4 x H x W standard normal: value, then red, green, blue
    strength: np.ndarray  # H x W

    def applied(self, colours: np.ndarray, xs: np.ndarray, ys: np.ndarray, amount: float, chalk: float,
                rng: np.random.Generator) -> np.ndarray:
        scale = (amount * self.strength[ys, xs])[:, None]
        value = self.field[0, ys, xs][:, None] * scale
        hue = self.field[1:, ys, xs].T * (0.35 * scale)
        jittered = colours + value + hue
        if chalk > 0:
            # pastel: each mark takes a random share of white, lighter and less saturated
            jittered += rng.random((len(colours), 1)) * chalk * (1.0 - jittered)
        return np.clip(jittered, 0.0, 1.0).astype(np.float32)


def _edge_directions(reference: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the edges (perpendicular to the luminance gradient) and how much to trust them."""
    luma = reference @ REC709_LUMA
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3)
    rho = max(1.0, 0.5 * radius)
    jxx, jxy, jyy = (_blur(g, rho) for g in (gx * gx, gx * gy, gy * gy))
    anisotropy = np.sqrt((jxx - jyy) ** 2 + 4.0 * jxy**2)
    gradient_angle = 0.5 * np.arctan2(2.0 * jxy, jxx - jyy)
    # the edge runs perpendicular to the gradient: (-sin, cos) of the gradient's angle
    tangent = np.stack([-np.sin(gradient_angle), np.cos(gradient_angle)], axis=2).astype(np.float32)
    confidence = (anisotropy / (anisotropy + FLAT_TENSOR)).astype(np.float32)
    return tangent, confidence


def _trace(
    starts: np.ndarray,
    radii: np.ndarray,
    colours: np.ndarray,
    reference: np.ndarray,
    canvas: np.ndarray | None,
    tangent: np.ndarray,
    confidence: np.ndarray,
    settings: StrokeSettings,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """All strokes of a brush size grown together, one control point per step. A stroke stops where
    its colour fits the reference worse than the canvas does (never, with no canvas). Returns the
    control points and how many of them each stroke uses."""
    height, width = reference.shape[:2]
    count, length = len(starts), max(1, settings.max_length)
    min_length = max(2, length // 4)
    curvature = float(np.clip(settings.curvature, 0.0, 1.0))
    # two columns at least: a stroke that never moves is its start drawn twice, a dot
    points = np.repeat(starts[:, None], max(2, length), axis=1)
    angle = HAND_ANGLE + rng.uniform(-HAND_ANGLE_JITTER, HAND_ANGLE_JITTER, count)
    previous = np.stack([np.cos(angle), np.sin(angle)], axis=1).astype(np.float32)
    position = starts.copy()
    alive = np.ones(count, bool)
    lengths = np.full(count, 2, np.intp)
    for step in range(1, length):
        xs = np.clip(np.rint(position[:, 0]).astype(np.intp), 0, width - 1)
        ys = np.clip(np.rint(position[:, 1]).astype(np.intp), 0, height - 1)
        if canvas is not None and step >= min_length:
            here = reference[ys, xs]
            fits_canvas = np.linalg.norm(here - canvas[ys, xs], axis=1)
            fits_stroke = np.linalg.norm(here - colours, axis=1)
            alive &= fits_canvas >= fits_stroke
        along = tangent[ys, xs]
        along *= np.where(np.sum(along * previous, axis=1) < 0, -1.0, 1.0).astype(np.float32)[:, None]
        trust = confidence[ys, xs][:, None]
        direction = trust * along + (1.0 - trust) * previous
        if step > 1:
            direction = curvature * direction + (1.0 - curvature) * previous
        direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-6)
        moved = position + radii[:, None] * direction
        inside = (moved[:, 0] >= 0) & (moved[:, 0] <= width - 1) & (moved[:, 1] >= 0) & (moved[:, 1] <= height - 1)
        alive &= inside
        position = np.where(alive[:, None], moved, position)
        previous = np.where(alive[:, None], direction, previous)
        points[:, step] = position
        lengths[alive] = step + 1
        if not alive.any():
            break
    return points, lengths


def _render(canvas: _Canvas, strokes: _Strokes, level: _Level, settings: StrokeSettings,
            rng: np.random.Generator, tooth: np.ndarray | None, detail: np.ndarray) -> list[_Batch]:
    """Paints the strokes onto the canvas; returns them as drawn, batch by batch, to be drawn again."""
    count = len(strokes.radii)
    if count == 0:
        return []
    opacity = float(np.clip(settings.opacity, 0.0, 1.0))
    order = rng.permutation(count)
    batches = 1 if opacity >= 1.0 else TRANSLUCENT_BATCHES
    knife = settings.shape == "knife"
    # drawn per stroke whatever the batch, so that one seed gives one painting however strokes are batched
    chalk = tooth is not None and settings.grain > 0
    pressure = rng.uniform(*PASTEL_PRESSURE, count).astype(np.float32) if chalk else None
    slabs = _slab_corners(strokes, rng) if knife else None
    drawn = []
    for batch in np.array_split(order, batches):
        if len(batch) == 0:
            continue
        kept = _Batch.of(strokes, batch, slabs, opacity, level.radius, None if pressure is None else pressure[batch])
        ids = _stroke_ids(kept, canvas.paint.shape[:2])
        painted = ids > 0
        layer = _palette(strokes.colours[batch])[ids]
        plain = _palette(strokes.plain_colours[batch])[ids]
        cover = painted.astype(np.float32)
        if settings.wet_edges > 0:
            # wet into wet: neighbouring strokes of one wash bleed together, and the wash dries to a
            # soft, wandering edge a little inside the strokes, so paper shows between washes
            sigma = _bleed(settings, level.radius)
            soft = _blur(cover, sigma)
            spread = np.maximum(soft, 1e-3)[..., None]
            layer = _blur(layer, sigma) / spread
            plain = _blur(plain, sigma) / spread
            wander = _blur(rng.standard_normal(cover.shape, dtype=np.float32), sigma)
            wander *= WASH_WANDER / max(float(wander.std()), 1e-6)
            # the edge wanders where a wash is; far from any, where its colour is undefined, paper stays bare
            wander *= np.minimum(soft / WASH_EDGE, 1.0)
            wetness = soft + wander - WASH_EDGE
            cover = np.clip(wetness / WASH_SOFTNESS + 0.5, 0.0, 1.0)
            kept = attrs.evolve(kept, wetness=wetness.astype(np.float16))  # for a print, to dry there again
        drawn.append(kept)
        # the plain twin takes the stroke's full cover: bare paper between grains is decoration, not error
        canvas.plain += (opacity * cover)[..., None] * (plain - canvas.plain)
        if chalk:
            # chalk catches on the paper's ridges and skips its hollows, the more so where a stroke is light
            # and towards its edges, where the stick presses less
            pressed = _palette(pressure[batch, None])[ids][..., 0] * _blur(cover, max(1.0, 0.4 * level.radius))
            # on a face the pastellist rubs the chalk into the tooth, so the paper does not break its features
            bite = settings.grain * tooth * (1.0 - PASTEL_FACE_BLEND * np.clip(2.0 * detail - 1.0, 0.0, 1.0))
            cover = np.clip((pressed - bite) / PASTEL_SOFTNESS, 0.0, 1.0) * painted
        alpha = (opacity * cover)[..., None]
        if settings.edge_darkening > 0:
            # pigment pools where a wash dries against bare paper, not between wet strokes of one wash:
            # just inside the wash's edge, where it covers more than its surroundings do on average
            sigma = max(1.0, 0.3 * level.radius)
            rim = np.clip(4.0 * (cover - _blur(cover, sigma)), 0.0, 1.0)
            # more pigment there: the wash lets through less of the paper's light, its transmittance T (its
            # colour over the paper's) becoming T / (1 + k (1 - T)), k up to POOLING: the coloured channels
            # darken most, so the rim is a little deeper and more saturated than the wash, a pale wash's rim
            # stays pale and a dark one's keeps at least 1 / (1 + k) of its light, never turning black
            paper = np.asarray(settings.paper or (1.0, 1.0, 1.0), np.float32)
            absorbed = np.clip(1.0 - layer / paper, 0.0, 1.0)
            # and pigment settles in the paper's hollows (granulation), a little less on its ridges
            absorbed *= (settings.edge_darkening * (POOLING * rim + GRANULATION * (tooth - 0.5)))[..., None]
            absorbed += 1.0
            layer /= absorbed
        canvas.paint += alpha * (layer - canvas.paint)
        if settings.impasto > 0:
            if knife:
                ridge = _knife_relief(ids, np.rint(kept.corners * (1 << SHIFT)) / (1 << SHIFT),  # where they were drawn
                                      IMPASTO_THICKNESS * level.radius)
            else:
                distance = _outline_distance(ids, painted, cv2.DIST_MASK_3)
                ridge = _bead(distance, level.radius)
                if settings.bristles > 0:
                    ridge += (settings.bristles * BRISTLE_DEPTH * level.radius) * _grooves(
                        distance, ids, detail, BRISTLE_PERIOD)
            # fresh paint sits on the old: the new paint replaces most of the relief below it
            canvas.relief = np.where(painted, 0.3 * canvas.relief + ridge, canvas.relief).astype(np.float32)
    return drawn


def _outline_distance(ids: np.ndarray, painted: np.ndarray, mask: int) -> np.ndarray:
    """Each painted pixel's distance to its stroke's outline (mask: cv2's distance transform mask, the
    painter's fast one or the exact one at print size)."""
    inside = (painted & ~_outlines(ids)).astype(np.uint8)
    return cv2.distanceTransform(inside, cv2.DIST_L2, mask)


def _bead(distance: np.ndarray, radius: float) -> np.ndarray:
    """A brush stroke's relief: a rounded bead of paint, its height rising with the distance to the
    stroke's outline (radius: the brush's, in the distance's px)."""
    ridge = np.minimum(distance / max(radius, 1.0), 1.0)
    return ridge * (2.0 - ridge) * (IMPASTO_THICKNESS * radius)


def _grooves(distance: np.ndarray, ids: np.ndarray, detail: np.ndarray, period: float) -> np.ndarray:
    """The furrows a brush's bristles leave along a stroke, -1 to 1, period px apart: the distance to
    the outline's contours run parallel to it, so a ripple of the distance is a set of grooves that
    follow the stroke's curve. Where the eye goes (the detail map) the paint is brushed smooth: no
    grooves on a face."""
    phase = ids * np.float32(2.0 * np.pi * 0.618034)  # each stroke its own (golden-ratio spaced) phase
    grooves = np.sin(distance * np.float32(2.0 * np.pi / period) + phase)
    grooves *= np.minimum(distance, 1.0) * (1.0 - detail)
    return grooves


def _slab_corners(strokes: _Strokes, rng: np.random.Generator) -> np.ndarray:
    """N x 4 x 2 corners (x, y) of each knife stroke: a flat slab laid straight from
    the stroke's first control point to its last, a brush diameter wide, its ends cut at a slant."""
    count = len(strokes.radii)
    first = strokes.points[:, 0]
    last = strokes.points[np.arange(count), strokes.lengths - 1]
    along = last - first
    span = np.linalg.norm(along, axis=1)
    angle = HAND_ANGLE + rng.uniform(-HAND_ANGLE_JITTER, HAND_ANGLE_JITTER, count)
    along = np.where((span > 1e-3)[:, None], along / np.maximum(span, 1e-3)[:, None],
                     np.stack([np.cos(angle), np.sin(angle)], axis=1))
    across = np.stack([-along[:, 1], along[:, 0]], axis=1)
    radius = strokes.radii[:, None]
    # the knife's edge meets the stroke at a slant: one side runs on past the end by `slant` radii
    slant = rng.uniform(-KNIFE_SLANT, KNIFE_SLANT, (count, 1)) * radius
    half = KNIFE_OVERHANG * radius
    start, end = first - half * along, last + (half + KNIFE_MIN_LENGTH * radius) * along
    return np.stack([start + radius * across + slant * along, end + radius * across + slant * along,
                     end - radius * across - slant * along, start - radius * across - slant * along], axis=1)


def _knife_relief(ids: np.ndarray, corners: np.ndarray, thick: float) -> np.ndarray:
    """A knife stroke's relief: a flat slab (corners: where each was drawn, in px of ids), thick at
    most, where the knife set down, and thinning along its drag, so that each slab is one tilted plane,
    lit evenly, with a step at its edges."""
    height, width = ids.shape
    start = corners[:, [0, 3]].mean(axis=1)
    end = corners[:, [1, 2]].mean(axis=1)
    along = end - start
    along /= np.maximum(np.linalg.norm(along, axis=1, keepdims=True), 1e-3) ** 2
    # height = thick * (1 - KNIFE_THINNING * t), t the share of the way along the slab: a plane a + b.x + c.y
    slope = -thick * KNIFE_THINNING * along
    offset = thick - (slope * start).sum(axis=1)
    ys, xs = np.indices((height, width), dtype=np.float32)
    plane = _palette(np.column_stack([offset, slope]))[ids]
    return plane[..., 0] + plane[..., 1] * xs + plane[..., 2] * ys


def _palette(values: np.ndarray) -> np.ndarray:
    """Values (colours, or any per-stroke row) by stroke id: id 0 (no stroke) first, all zero."""
    return np.concatenate([np.zeros((1, values.shape[1]), np.float32), values.astype(np.float32)])


def _tooth(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The pastel paper's tooth, 0 on a ridge to 1 in a hollow: noise a pixel or two across, spread
    evenly over 0..1 (through the normal's CDF) so that a stroke's pressure is the share it covers."""
    scale = max(shape) / REFERENCE_LONG_SIDE
    noise = cv2.GaussianBlur(rng.standard_normal(shape, dtype=np.float32), (0, 0), max(0.7, 0.8 * scale))
    noise += 0.6 * _blur(rng.standard_normal(shape, dtype=np.float32), 3.0 * scale)
    noise /= max(float(noise.std()), 1e-6)
    return (0.5 * (1.0 + np.tanh(0.8 * noise))).astype(np.float32)  # ~ the normal's CDF, cheaper than erf


def _outlines(ids: np.ndarray) -> np.ndarray:
    """Pixels whose 4-neighbourhood holds another stroke (or bare canvas)."""
    edge = np.zeros(ids.shape, bool)
    edge[1:] |= ids[1:] != ids[:-1]
    edge[:-1] |= ids[:-1] != ids[1:]
    edge[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    edge[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    return edge


def _finish(canvas: np.ndarray, height_map: np.ndarray, settings: StrokeSettings) -> np.ndarray:
    knife = settings.shape == "knife"
    canvas = cv2.GaussianBlur(canvas, (0, 0), KNIFE_ANTIALIAS_SIGMA if knife else ANTIALIAS_SIGMA)
    if settings.impasto <= 0:
        return canvas
    settle = KNIFE_RELIEF_BLUR if knife else IMPASTO_RELIEF_BLUR
    return canvas * _shading(height_map, settle, settings.impasto)[..., None]


def _shading(height_map: np.ndarray, settle: float, impasto: float) -> np.ndarray:
    """How the paint's relief (height in px), settled (blurred by settle px), lit from the top left
    changes its brightness: a factor, 1 where it is flat."""
    relief = cv2.GaussianBlur(height_map, (0, 0), settle)
    gx = cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(relief, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    # normal (-gx, -gy, 1) / |.|, dotted with the light, minus what a flat surface gets
    shade = (-gx * LIGHT[0] - gy * LIGHT[1] + LIGHT[2]) / np.sqrt(gx * gx + gy * gy + 1.0) - LIGHT[2]
    return 1.0 + impasto * IMPASTO_SHADE * shade


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones are made on a reduced copy, which looks the same and is far faster."""
    if sigma < 0.3:
        return image.copy()
    factor = int(sigma // 4)
    if factor <= 1:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _lerp(span: tuple[float, float], t: float) -> float:
    return span[0] + (span[1] - span[0]) * t
