"""The layers as physical panes: outlines on the subject, printable shapes, filled backs, and the
files a print shop needs (white ink, mirrored print files with marks, cut outlines, a guide)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rilievo.domain.assembly import AssemblyGuide, panes_of
from rilievo.domain.fill import VIEW_ANGLE_DEG, fill_reach_px, visibility, with_fill
from rilievo.domain.layers import DEPTH_CONVENTION, LayerPlan, layer_alphas, layer_rgba
from rilievo.domain.parallax import FRAME_MS, downsample_rgba, parallax_frames
from rilievo.domain.previews import SeparationOverlay, downsample
from rilievo.domain.print_extras import marks_margin_px, mirrored, white_ink_mask, with_marks

if TYPE_CHECKING:
    from .job_run import JobRun

OVERLAY, PARALLAX, GUIDE = "layer_overlay.png", "parallax.gif", "assembly_guide.png"


class PaneMaker:
    def __init__(self, run: JobRun, image: np.ndarray, bits: int, preview_factor: int):
        self.run, self.image, self.bits, self.factor = run, image, bits, preview_factor
        self.params = run.job.params
        self.services = run.services

    def make(self, depth8: np.ndarray) -> dict:
        params, shaper = self.params, self.services.shaper
        height, width = depth8.shape
        if params.layer_count == 0:
            return self.manifest(LayerPlan(ranges=(), coverage=()), [], width, height, guide=None)
        plan = LayerPlan.from_depth(depth8, params.layer_count)
        membership = plan.membership(depth8)
        if params.refine_edges:
            membership = shaper.refine_membership(self.image, membership, plan.count)
            self.run.job = self.run.job.use_engine("edges", shaper.name)
        if self.min_feature_px > 0:
            membership = shaper.merge_small_features(membership, plan.count, self.min_feature_px)
        coverage = np.bincount(membership.ravel(), minlength=plan.count) / membership.size
        plan = LayerPlan(ranges=plan.ranges, coverage=tuple(float(share) for share in coverage))
        guide = AssemblyGuide.for_panes(
            panes_of(plan), width_px=width, height_px=height, dpi=params.dpi,
            frame_depth_mm=params.frame_depth_mm,
        )

        alphas = list(layer_alphas(membership, plan.count, params.feather))
        overlay = SeparationOverlay(downsample(self.image, self.factor))
        layers, thumbnails = [], []
        for index, (name, alpha, seen) in enumerate(zip(plan.layer_names(), alphas, visibility(alphas))):
            overlay.add(downsample(alpha, self.factor))
            rgba, filled_share = self.filled_layer(index, plan.count, layer_rgba(self.image, alpha),
                                                   membership, seen, guide)
            layers.append({"filled_share": round(filled_share, 6), **self.write_pane(name, rgba)})
            thumbnails.append(downsample_rgba(rgba, self.factor))
            self.run.stage("layers", (index + 1) / (plan.count + 1))

        self.run.write_image(OVERLAY, overlay.pixels, 8)
        centres = [(r.lo + r.hi) / 2 for r in plan.ranges]
        self.run.write_animation(PARALLAX, parallax_frames(thumbnails, centres), FRAME_MS)
        self.run.write_image(GUIDE, self.services.guide_drawer.draw(guide, thumbnails), 8)
        return self.manifest(plan, layers, width, height, guide)

    @property
    def min_feature_px(self) -> float:
        return self.params.min_feature_mm / self.params.pixel_mm

    def filled_layer(self, index, count, rgba, membership, seen, guide) -> tuple[np.ndarray, float]:
        """The layer with its hidden part filled in; the back layer wholly, the others as far as a
        viewer at the view angle could see behind the panes in front of them."""
        if not self.params.fill_behind or index == 0:
            return rgba, 0.0
        # Everything nobody sees straight on: including what carries a nearer object's colours (the
        # back layer is opaque everywhere) and the halo of its feathered edge.
        fillable = seen == 0
        known = (membership == index) & (seen == 1)
        if not fillable.any() or not known.any():
            return rgba, 0.0
        gap_mm = sum(guide.spacers_mm[:index])
        # Known pixels begin a feather width past the nearer outline, hidden ones a feather width
        # before it: the reach spans both, plus the shift a viewer at an angle sees.
        reach = None if index == count - 1 else (
            fill_reach_px(gap_mm, self.params.pixel_mm) + 2 * self.params.feather + 2
        )
        colours, filled = self.services.shaper.fill_behind(self.image, known, fillable, reach)
        return with_fill(rgba, seen, colours, filled), float(filled.mean())

    def write_pane(self, name: str, rgba: np.ndarray) -> dict:
        """The layer as the panes are printed: its own file, then what the print shop needs."""
        params, run = self.params, self.run
        run.write_image(f"{name}.png", rgba, self.bits)
        pane = {"white_ink_file": None, "print_file": None, "cut_file": f"{name}_cut.svg"}
        to_print = mirrored(rgba) if params.mirror else rgba
        white = white_ink_mask(to_print[..., 3], params.white_ink_choke) if params.white_ink else None
        outline = to_print[..., 3]
        if params.marks:
            # Every separation of the pane (colour, white ink, cut line) on the same canvas, so they
            # register; the marks print in both inks but are never traced as cut lines.
            margin = marks_margin_px(params.pixel_mm)
            to_print = with_marks(to_print, margin, params.pixel_mm)
            white = with_marks(white, margin, params.pixel_mm) if white is not None else None
            outline = np.pad(outline, margin)
        run.write_text(pane["cut_file"], self.services.tracer.svg_outline(outline, params.pixel_mm, title=name))
        if params.mirror or params.marks:
            pane["print_file"] = f"{name}_print.png"
            run.write_image(pane["print_file"], to_print, self.bits)
        if white is not None:
            pane["white_ink_file"] = f"{name}_white.png"
            run.write_image(pane["white_ink_file"], white, 8)
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
                   "margin_px": marks_margin_px(params.pixel_mm) if params.marks else 0},
            assembly=guide.to_manifest() if guide else None,
            previews={"overlay": OVERLAY if has_layers else None,
                      "parallax": PARALLAX if has_layers else None,
                      "assembly_guide": GUIDE if has_layers else None},
        )
        return manifest
