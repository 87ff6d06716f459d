"""The physical piece: print size, and how far apart to mount the panes in a frame of a given depth."""

from __future__ import annotations

from typing import Sequence

import attrs

from .layers import LayerPlan

MM_PER_INCH = 25.4
# Typical glass or acrylic for a stacked picture is 2 mm (picture glass 2 mm, acrylic 2-3 mm); shadow
# box card is thinner, so 2 mm errs on the side of spacers that fit.
PANE_THICKNESS_MM = 2.0


@attrs.frozen
class PaneSpec:
    name: str
    file: str
    depth_range: tuple[int, int]  # on the 0 (nearest) - 255 (farthest) scale

    @property
    def depth_centre(self) -> float:
        return (self.depth_range[0] + self.depth_range[1]) / 2


def panes_of(plan: LayerPlan) -> tuple[PaneSpec, ...]:
    """The panes of a layer plan, front to back, named and filed as in its manifest."""
    return tuple(
        PaneSpec(name=name, file=f"{name}.png", depth_range=(r.lo, r.hi))
        for name, r in zip(plan.layer_names(), plan.ranges)
    )


@attrs.frozen
class AssemblyGuide:
    panes: tuple[PaneSpec, ...]  # front to back
    width_mm: float
    height_mm: float
    dpi: int
    frame_depth_mm: float
    spacers_mm: tuple[float, ...]  # between pane i and pane i + 1, front to back
    pane_thickness_mm: float = PANE_THICKNESS_MM
    warning: str = ""  # empty when the panes fit the frame

    @classmethod
    def for_panes(
        cls,
        panes: Sequence[PaneSpec],
        *,
        width_px: int,
        height_px: int,
        dpi: int,
        frame_depth_mm: float,
        pane_thickness_mm: float = PANE_THICKNESS_MM,
    ) -> AssemblyGuide:
        """Spacers share the depth the panes leave free in the frame, in proportion to the gaps between
        the centres of the panes' depth ranges: the panes sit as far apart as their layers are in the
        photo. A spacer is the gap from the back face of one pane to the front face of the next, so
        the stack (panes and spacers) fills the frame. A frame too shallow for the panes gets no
        spacers and a warning.
        """
        panes = tuple(panes)
        if not panes:
            raise ValueError("an assembly needs at least one pane")
        if width_px < 1 or height_px < 1:
            raise ValueError(f"the image must have at least one pixel, got {width_px}x{height_px}")
        if dpi <= 0 or frame_depth_mm <= 0 or pane_thickness_mm < 0:
            raise ValueError("dpi and frame depth must be > 0 and pane thickness >= 0")
        centres = [pane.depth_centre for pane in panes]
        gaps = [after - before for before, after in zip(centres, centres[1:])]
        if any(gap < 0 for gap in gaps):
            raise ValueError("panes must be listed front to back (depth ranges from near to far)")

        free_mm = frame_depth_mm - len(panes) * pane_thickness_mm
        warning = ""
        spacers: tuple[float, ...]
        if not gaps:
            spacers = ()
        elif free_mm <= 0:
            spacers = (0.0,) * len(gaps)
            warning = (
                f"The frame is too shallow: {len(panes)} panes of {pane_thickness_mm:g} mm take "
                f"{len(panes) * pane_thickness_mm:g} mm of its {frame_depth_mm:g} mm, leaving no room "
                "for spacers. Use a deeper frame or fewer layers."
            )
        else:
            total_gap = sum(gaps)
            shares = [gap / total_gap for gap in gaps] if total_gap else [1 / len(gaps)] * len(gaps)
            spacers = tuple(free_mm * share for share in shares)
        return cls(
            panes=panes,
            width_mm=width_px / dpi * MM_PER_INCH,
            height_mm=height_px / dpi * MM_PER_INCH,
            dpi=dpi,
            frame_depth_mm=float(frame_depth_mm),
            spacers_mm=spacers,
            pane_thickness_mm=float(pane_thickness_mm),
            warning=warning,
        )

    @property
    def width_in(self) -> float:
        return self.width_mm / MM_PER_INCH

    @property
    def height_in(self) -> float:
        return self.height_mm / MM_PER_INCH

    def pane_fronts_mm(self) -> list[float]:
        """How far behind the front of the frame each pane's front face sits."""
        fronts = [0.0]
        for spacer in self.spacers_mm:
            fronts.append(fronts[-1] + self.pane_thickness_mm + spacer)
        return fronts

    def spacers_rounded_mm(self) -> list[float]:
        """The spacers to 0.1 mm, as printed on the guide and in the manifest: still summing to the
        depth they share out."""
        return _rounded_keeping_total(self.spacers_mm, 0.1)

    def to_manifest(self) -> dict:
        spacers = self.spacers_rounded_mm()
        fronts = [0.0]
        for spacer in spacers:
            fronts.append(round(fronts[-1] + self.pane_thickness_mm + spacer, 1))
        return {
            "print_size_mm": [round(self.width_mm, 1), round(self.height_mm, 1)],
            "print_size_in": [round(self.width_in, 2), round(self.height_in, 2)],
            "dpi": self.dpi,
            "frame_depth_mm": self.frame_depth_mm,
            "pane_thickness_mm": self.pane_thickness_mm,
            "spacer_rule": "gap between panes proportional to the gap between their depth-range centres",
            "panes": [
                {
                    "order": order,
                    "name": pane.name,
                    "file": pane.file,
                    "depth_range": list(pane.depth_range),
                    "front_face_mm": front,
                }
                for order, (pane, front) in enumerate(zip(self.panes, fronts), start=1)
            ],
            "spacers_mm": spacers,
            "warning": self.warning or None,
        }


def _rounded_keeping_total(values: Sequence[float], step: float) -> list[float]:
    """Round to multiples of step so the rounded values still add up to the rounded total (largest
    remainder), so a spacer list printed to 0.1 mm sums to the depth it shares out."""
    if not values:
        return []
    units = [value / step for value in values]
    floors = [int(unit // 1) for unit in units]
    missing = round(sum(units)) - sum(floors)
    by_remainder = sorted(range(len(units)), key=lambda i: units[i] - floors[i], reverse=True)
    for i in by_remainder[: max(0, missing)]:
        floors[i] += 1
    return [round(count * step, 10) for count in floors]
