"""The workers of a shop's deployment: which lane of the queue a job waits in, and a worker's last sign of life."""

from __future__ import annotations

from datetime import datetime

import attrs

from .params import RenderParams

STANDARD = "standard"  # any worker runs it in reasonable time
DIFFUSION = "diffusion"  # a painterly job: the Stable Diffusion painter, minutes on a GPU, an hour on a CPU
LANES = (STANDARD, DIFFUSION)


def lane_of(params: RenderParams) -> str:
    """Painterly jobs wait for a worker that can paint them fast; every other job for any worker."""
    return DIFFUSION if params.mode == "painterly" else STANDARD


@attrs.frozen
class WorkerSeen:
    name: str  # "host:pid", as recorded on the jobs it runs
    lane: str  # the lane of the queue it takes jobs from
    started_at: datetime
    seen_at: datetime
