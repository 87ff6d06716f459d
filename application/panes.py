"""The layers as physical panes: outlines on the subject, printable shapes, filled backs, cut outlines,
a guide and previews, all at the photo's resolution. The pane images themselves (the layer, white ink,
mirrored print files with marks) are made at print size by print_export from the PaneSource each pane
leaves here."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rilievo.domain.assembly import AssemblyGuide, panes_of
from rilievo.domain.fill import VIEW_ANGLE_DEG, fill_reach_px, visibility, with_fill
from rilievo.domain.layers import DEPTH_CONVENTION, LayerPlan, layer_alphas, layer_rgba
from rilievo.domain.parallax import FRAME_MS, downsample_rgba, parallax_frames
from rilievo.domain.previews import SeparationOverlay, downsample
from rilievo.domain.print_extras import marks_margin_px, mirrored

from .print_export import PaneSource

if TYPE_CHECKING:
    from .job_run import JobRun

OVERLAY, PARALLAX, GUIDE = "layer_overlay.png", "parallax.gif", "assembly_guide.png"


class PaneMaker:
    def __init__(self, run: JobRun, image: np.ndarray, preview_factor: int, *, pixel_mm: float,
                 print_px: tuple[int, int], print_pixel_mm: float):
        """pixel_mm: the size of one of the image's pixels on the print; print_px: the print's size in
        its own pixels, print_pixel_mm theirs (the marks are drawn at print size)."""
        self.run, self.image, self.factor = run, image, preview_factor
        self.params = run.job.params
        self.services = run.services
        self.pixel_mm, self.print_px, self.print_pixel_mm = pixel_mm, print_px, print_pixel_mm
        self.panes: list[PaneSource] = []  # for print_export

    def make(self, depth8: np.ndarray, plan: LayerPlan | None) -> dict:
        """The panes of the plan (None: layers off), which was made from this depth8."""
        params, shaper = self.params, self.services.shaper
        height, width = depth8.shape
        if plan is None:
            return self.manifest(LayerPlan(ranges=(), coverage=()), [], width, height, guide=None)
        membership = plan.membership(depth8)
        if params.refine_edges:
            membership = shaper.refine_membership(self.image, membership, plan.count)
            self.run.job = self.run.job.use_engine("edges", shaper.name)
        if self.min_feature_px > 0:
            membership = shaper.merge_small_features(membership, plan.count, self.min_feature_px)
        coverage = np.bincount(membership.ravel(), minlength=plan.count) / membership.size
        plan = LayerPlan(ranges=plan.ranges, coverage=tuple(float(share) for share in coverage))
        guide = AssemblyGuide.for_panes(
            panes_of(plan), width_px=self.print_px[0], height_px=self.print_px[1], dpi=params.dpi,
            frame_depth_mm=params.frame_depth_mm,
        )

        alphas = list(layer_alphas(membership, plan.count, params.feather))
        overlay = SeparationOverlay(downsample(self.image, self.factor))
        layers, thumbnails = [], []
        for index, (name, alpha, seen) in enumerate(zip(plan.layer_names(), alphas, visibility(alphas))):
            overlay.add(downsample(alpha, self.factor))
            colours, filled = self.fill(index, plan.count, membership, seen, guide)
            rgba = layer_rgba(self.image, alpha)
            if colours is not None:
                rgba = with_fill(rgba, seen, colours, filled)
            thumbnails.append(downsample_rgba(rgba, self.factor))
            pane = self.pane_files(name, rgba[..., 3], colours, filled, is_back=index == plan.count - 1)
            del rgba, colours  # a 12 MP photo's layer is 190 MB: one at a time
            layers.append({"filled_share": round(float(filled.mean()), 6), **pane})
            self.run.stage("layers", (index + 1) / (plan.count + 1))

        self.run.write_image(OVERLAY, overlay.pixels, 8)
        centres = [(r.lo + r.hi) / 2 for r in plan.ranges]
        self.run.write_animation(PARALLAX, parallax_frames(thumbnails, centres), FRAME_MS)
        self.run.write_image(GUIDE, self.services.guide_drawer.draw(guide, thumbnails), 8)
        return self.manifest(plan, layers, *self.print_px, guide)

    @property
    def min_feature_px(self) -> float:
        return self.params.min_feature_mm / self.pixel_mm

    def fill(self, index, count, membership, seen, guide) -> tuple[np.ndarray | None, np.ndarray]:
        """Colours for the layer's hidden part (None: nothing to fill) and the mask of the pixels
        filled; the back layer wholly, the others as far as a viewer at the view angle could see behind
        the panes in front."""
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
        colours, filled = self.services.shaper.fill_behind(self.image, known, fillable, reach)
        return (colours if filled.any() else None), filled

    def pane_files(self, name: str, alpha: np.ndarray, colours: np.ndarray | None, filled: np.ndarray, *,
                   is_back: bool) -> dict:
        """The pane's cut outline now; its images at print size later (self.panes). Returns the
        manifest's file names for it."""
        params = self.params
        pane = {"file": f"{name}.png", "white_ink_file": f"{name}_white.png" if params.white_ink else None,
                "print_file": f"{name}_print.png" if params.mirror or params.marks else None,
                "cut_file": f"{name}_cut.svg"}
        outline = mirrored(alpha) if params.mirror else alpha
        if params.marks:
            # the cut line on the print file's canvas: the marks margin, in this image's pixels
            outline = np.pad(outline, round(marks_margin_px(self.print_pixel_mm) * self.print_pixel_mm / self.pixel_mm))
        svg = self.services.tracer.svg_outline(outline, self.pixel_mm, title=name)
        self.run.write_text(pane["cut_file"], svg)
        # kept until the print files are written: half precision (11 bits, finer than 8-bit layers and
        # within 1/2048 of 16-bit ones) halves what the panes of a large photo hold meanwhile
        fill = colours.astype(np.float16) if colours is not None else None
        self.panes.append(PaneSource(name=name, alpha=alpha.astype(np.float16), fill=fill, filled=filled,
                                     is_back=is_back,
                                     white_ink_file=pane["white_ink_file"], print_file=pane["print_file"]))
        return pane

    def manifest(self, plan: LayerPlan, panes: list[dict], width: int, height: int,
                 guide: AssemblyGuide | None) -> dict:
        params, run = self.params, self.run
        manifest = plan.manifest(job_id=run.job.id, feather_px=params.feather, width=width, height=height)
        for layer, pane in zip(manifest["layers"], panes):
            layer.update(pane)
        has_layers = plan.count > 0
        manifest.update(
            depth_convention=DEPTH_CONVENTION,
            edges={"refined": has_layers and params.refine_edges,
                   "engine": run.job.engines.get("edges")},
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
