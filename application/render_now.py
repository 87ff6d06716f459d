"""What the command line does: a photo (or an earlier job) rendered here and now, in this process."""

from __future__ import annotations

from pathlib import Path

import attrs

from rilievo.domain.job import Job
from rilievo.domain.params import RenderParams

from .jobs import Jobs
from .runner import ProgressListener, Runner
from .uploads import Uploads


@attrs.frozen
class RenderNow:
    uploads: Uploads
    jobs: Jobs
    runner: Runner

    def render(
        self,
        photo: Path,
        params: RenderParams,
        *,
        depth_map: Path | None = None,
        destination: Path | None = None,
        on_progress: ProgressListener | None = None,
    ) -> Job:
        """Ingest, create and run in one go."""
        self.jobs.check_print_profile(params)
        upload, depth_upload = self.uploads.ingest_photo_and_depth(photo, depth_map)
        job = self.jobs.create(upload.id, params, depth_upload_id=depth_upload.id if depth_upload else None)
        return self.runner.run(job.id, destination=destination, on_progress=on_progress)

    def replay(
        self,
        job_id: str,
        *,
        destination: Path | None = None,
        on_progress: ProgressListener | None = None,
    ) -> Job:
        """Run an earlier job again as a new job (see Jobs.replay)."""
        job = self.jobs.replay(job_id)
        return self.runner.run(job.id, destination=destination, on_progress=on_progress)
