"""A worker's sign of life for the job it runs, so a hung or vanished worker can be told apart."""

from __future__ import annotations

import threading

from .ports import Clock, JobRepository

HEARTBEAT_EVERY_S = 10.0


class Heartbeat:
    """Touches the job every few seconds from a background thread while the block runs: a long
    stage (a diffusion pass, a print-size upscale) reports no progress for minutes."""

    def __init__(self, jobs: JobRepository, job_id: str, clock: Clock, every_s: float = HEARTBEAT_EVERY_S):
        self.jobs, self.job_id, self.clock, self.every_s = jobs, job_id, clock, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s):
            self.jobs.touch(self.job_id, self.clock())
