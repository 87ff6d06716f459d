"""The layers as physical panes: outlines on the subject, printable shapes, filled backs, cut outlines,
a guide and previews, all at the photo's resolution. The pane images themselves (the layer, white ink,
mirrored print files with marks) are made at print size by print_export from the PaneSource each pane
leaves here."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import attrs
import numpy as np

from rilievo.domain.assembly import AssemblyGuide, panes_of
from rilievo.domain.fill import (VIEW_ANGLE_DEG, Boxed, FilledColours, box_around, fill_reach_px, filled_alpha,
                                 visibility)
from rilievo.domain.layers import DEPTH_CONVENTION, LayerPlan, layer_alphas
from rilievo.domain.region_plan import regions_by_pane
from rilievo.domain.regions import SUBJECT_NAMES, Regions
from rilievo.domain.outputs import GUIDE, OVERLAY, PARALLAX
from rilievo.domain.parallax import FRAME_MS, downsample_layer, parallax_frames_on_demand
from rilievo.domain.params import RenderParams
from rilievo.domain.previews import SeparationOverlay, downsample, downsample_labels
from rilievo.domain.print_extras import marks_margin_px, mirrored

from ..ports import GuideDrawer, LayerShaper, OutlineTracer
from .files import RunFiles
from .print_export import PaneSource


@attrs.frozen
class Panes:
    manifest: dict  # layer_manifest.json, but for the print record
    sources: list[PaneSource]  # for print_export
    edges_engine: str | None  # the shaper that refined the outlines, if it did
    # the previews (overlay, parallax, guide), written in a thread of their own while the print files
    # are made: the print stage keeps one core busy, the previews' quantising and encoding the other
    previews: Future[None]
    warning: str | None = None  # why there are fewer panes than planned


class PaneMaker:
    def __init__(self, params: RenderParams, image: np.ndarray, preview_factor: int, *, regions: Regions | None,
                 shaper: LayerShaper, tracer: OutlineTracer, guide_drawer: GuideDrawer, files: RunFiles,
                 pixel_mm: float, print_px: tuple[int, int], print_pixel_mm: float):
        """regions: the crop's, which the layer plan was made from (None: layers off), let go of once
        the panes are planned (at 12 MP they are 48 MB); pixel_mm: the size of one of the image's pixels
        on the print; print_px: the print's size in its own pixels, print_pixel_mm theirs (the marks are
        drawn at print size)."""
        self.params, self.image, self.factor, self.regions = params, image, preview_factor, regions
        self.shaper, self.tracer, self.guide_drawer, self.files = shaper, tracer, guide_drawer, files
        self.pixel_mm, self.print_px, self.print_pixel_mm = pixel_mm, print_px, print_pixel_mm

    def make(self, job_id: str, depth8: np.ndarray, plan: LayerPlan | None, on_progress: Callable[[float], None]
             ) -> Panes:
        """The panes of the plan (None: layers off), which was made from this depth8 and the regions."""
        params, shaper, sources = self.params, self.shaper, []
        regions, self.regions = self.regions, None
        height, width = depth8.shape
        if plan is None or regions is None:
            empty = LayerPlan(ranges=(), coverage=())
            return Panes(self.manifest(job_id, empty, [], width, height, guide=None, edges=None), [], None,
                         done(None))
        membership = plan.membership(depth8, regions.labels if plan.region_panes else None)
        edges = None
        things = regions.named(SUBJECT_NAMES)
        if params.refine_edges:
            # the things placed whole: their outlines are the segmenter's, already on the photo's edges
            placed = things & ~np.isin(regions.labels, plan.cut_by_depth) if plan.region_panes else None
            membership = shaper.refine_membership(self.image, membership, plan.count, things=placed)
            edges = shaper.name
            del placed
        if self.min_feature_px > 0:
            membership = shaper.merge_small_features(membership, plan.count, self.min_feature_px, things=things)
        del things
        planned = plan.count
        plan, membership = plan.without_empty_panes(membership)
        warning = None
        if plan.count < planned:
            warning = (f"{planned - plan.count} of the {planned} planned panes would hold no pixel (a blank pane is "
                       f"nothing to cut), so it is {plan.count} layers")
        coverage = np.bincount(membership.ravel(), minlength=plan.count) / membership.size
        plan = attrs.evolve(plan, coverage=tuple(float(share) for share in coverage))
        found = regions_by_pane(membership, regions, plan)
        outlined = downsample_labels(regions.labels, self.factor).copy()
        del regions  # from here on, their outlines on the overlay are all the panes need of them
        guide = AssemblyGuide.for_panes(
            panes_of(plan), width_px=self.print_px[0], height_px=self.print_px[1], dpi=params.dpi,
            frame_depth_mm=params.frame_depth_mm,
        )

        overlay = SeparationOverlay(downsample(self.image, self.factor))
        layers, thumbnails = [], []
        # one layer's alpha at a time: those of a 12 MP photo are 48 MB each. Taken with next(), not
        # zip(): zip keeps its last result tuple for reuse, and with it a finished layer's alpha and seen
        seen_layers = visibility(layer_alphas(membership, plan.count, params.feather))
        for index, name in enumerate(plan.layer_names()):
            alpha, seen = next(seen_layers)
            overlay.add(downsample(alpha, self.factor))
            colours, filled = self.fill(index, plan.count, membership, seen, guide)
            if colours is not None:  # in place: the filled pixels are hidden, so the next layers' seen is the same
                alpha = filled_alpha(alpha, seen, filled, in_place=True)
            # the layer carries the composite's colours, the fill's where it filled: never made whole
            # as RGBA at the photo's size
            layer_colours = self.image if colours is None else FilledColours(self.image, filled, colours)
            thumbnails.append(downsample_layer(layer_colours, alpha, self.factor))
            pane, source = self.pane_files(name, alpha, colours, filled, is_back=index == plan.count - 1)
            layers.append({"filled_share": round(float(np.count_nonzero(filled) / filled.size), 6), **pane})
            del alpha, seen, colours, layer_colours, filled  # the source keeps what it needs of them
            sources.append(source)
            on_progress((index + 1) / (plan.count + 1))

        centres = [(r.lo + r.hi) / 2 for r in plan.ranges]
        previews = ThreadPoolExecutor(max_workers=1, thread_name_prefix="previews")
        written = previews.submit(self.write_previews, overlay, outlined, thumbnails, centres, guide)
        previews.shutdown(wait=False)  # its thread ends once the previews are written
        for layer, listed in zip(layers, found):
            layer["regions"] = listed
        return Panes(self.manifest(job_id, plan, layers, *self.print_px, guide, edges), sources, edges, written,
                     warning)

    def write_previews(self, overlay: SeparationOverlay, outlined: np.ndarray, thumbnails: list[np.ndarray],
                       centres: list[float], guide: AssemblyGuide) -> None:
        self.files.image(OVERLAY, overlay.finished(outlined), 8)
        self.files.image(GUIDE, self.guide_drawer.draw(guide, thumbnails), 8)
        frames = parallax_frames_on_demand(thumbnails, centres)  # from copies of its own
        # the list is handed over: emptied, the thumbnails (37 MB at 12 MP) go before the frames are
        # made, beside the print's bands
        thumbnails.clear()
        self.files.animation(PARALLAX, frames, FRAME_MS)

    @property
    def min_feature_px(self) -> float:
        return self.params.min_feature_mm / self.pixel_mm

    def fill(self, index, count, membership, seen, guide) -> tuple[np.ndarray | None, np.ndarray]:
        """Colours for the layer's hidden part (N x 3 for the N pixels filled, None: nothing to fill) and
        the mask of the pixels filled; the back layer wholly, the others as far as a viewer at the view
        angle could see behind the panes in front."""
        nothing = np.zeros(membership.shape, bool)
        if not self.params.fill_behind or index == 0:
            return None, nothing
        # Everything nobody sees straight on: including what carries a nearer object's colours (the
        # back layer is opaque everywhere) and the halo of its feathered edge.
        fillable = seen == 0
        known = (membership == index) & (seen == 1)
        if not fillable.any() or not known.any():
            return None, nothing
        gap_mm = sum(guide.spacers_mm[:index])
        # Known pixels begin a feather width past the nearer outline, hidden ones a feather width
        # before it: the reach spans both, plus the shift a viewer at an angle sees.
        reach = None if index == count - 1 else (
            fill_reach_px(gap_mm, self.pixel_mm) + 2 * self.params.feather + 2
        )
        colours, filled = self.shaper.fill_behind(self.image, known, fillable, reach)
        return (colours if filled.any() else None), filled

    def pane_files(self, name: str, alpha: np.ndarray, colours: np.ndarray | None, filled: np.ndarray, *,
                   is_back: bool) -> tuple[dict, PaneSource]:
        """The pane's cut outline now; its images at print size later, from the PaneSource. Returns the
        manifest's file names for it, and the source."""
        params = self.params
        cut_file = f"{name}_cut.svg"
        pane = {"file": f"{name}.png", "white_ink_file": f"{name}_white.png" if params.white_ink else None,
                "print_file": f"{name}_print.png" if params.mirror or params.marks else None,
                "cut_file": cut_file}
        outline = mirrored(alpha) if params.mirror else alpha
        if params.marks:
            # the cut line on the print file's canvas: the marks margin, in this image's pixels
            outline = np.pad(outline, round(marks_margin_px(self.print_pixel_mm) * self.print_pixel_mm / self.pixel_mm))
        svg = self.tracer.svg_outline(outline, self.pixel_mm, title=name)
        self.files.text(cut_file, svg)
        # kept until the print files are written: the filled pixels' colours alone (the others are the
        # composite's, the shaper gives them in half precision), the alpha and the fill mask as kept()
        kept_alpha, kept_filled = kept(alpha, filled)
        return pane, PaneSource(name=name, alpha=kept_alpha, fill=colours, filled=kept_filled, is_back=is_back,
                                white_ink_file=pane["white_ink_file"], print_file=pane["print_file"])

    def manifest(self, job_id: str, plan: LayerPlan, panes: list[dict], width: int, height: int,
                 guide: AssemblyGuide | None, edges: str | None) -> dict:
        params = self.params
        manifest = plan.manifest(job_id=job_id, feather_px=params.feather, width=width, height=height)
        for layer, pane in zip(manifest["layers"], panes):
            layer.update(pane)
        has_layers = plan.count > 0
        manifest.update(
            depth_convention=DEPTH_CONVENTION,
            edges={"refined": has_layers and params.refine_edges, "engine": edges},
            fill={"enabled": has_layers and params.fill_behind, "view_angle_deg": VIEW_ANGLE_DEG},
            min_feature={"mm": params.min_feature_mm, "px": round(self.min_feature_px, 3)},
            white_ink={"enabled": has_layers and params.white_ink, "choke_px": params.white_ink_choke},
            mirror=has_layers and params.mirror,
            marks={"enabled": has_layers and params.marks,
                   "margin_px": marks_margin_px(self.print_pixel_mm) if params.marks else 0},
            assembly=guide.to_manifest() if guide else None,
            previews={"overlay": OVERLAY if has_layers else None,
                      "parallax": PARALLAX if has_layers else None,
                      "assembly_guide": GUIDE if has_layers else None},
        )
        return manifest


def done(result) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


def kept(alpha: np.ndarray, filled: np.ndarray) -> tuple[np.ndarray | Boxed, np.ndarray | Boxed]:
    """A pane's alpha and fill mask as kept for the print files: an opaque alpha (the back pane's,
    filled wherever it is hidden) as a read-only constant that holds no memory; any other only within
    the box where the pane has anything, and the alpha in half precision (the front panes of a photo
    cover a part of it: at 12 MP each alpha was 24 MB and each mask 12 MB)."""
    if alpha.min() == 1.0:
        return np.broadcast_to(np.float16(1.0), alpha.shape), filled
    box = box_around((alpha > 0) | filled)
    return Boxed(alpha, box, np.float16), Boxed(filled, box)
