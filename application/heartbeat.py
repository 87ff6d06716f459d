"""A running attempt's sign of life, so a hung or vanished process can be told apart from a live one."""

from __future__ import annotations

import threading

import structlog

from .ports import Clock, JobRepository

log = structlog.get_logger(__name__)

HEARTBEAT_EVERY_S = 10.0


class Heartbeat:
    """Touches the job every few seconds from a background thread while the block runs: a long
    stage (a diffusion pass, a print-size upscale) reports no progress for minutes. It stops beating once
    the job has left this attempt (cancelled, deleted, retried); the run itself stops at its next
    progress report, whose write is refused."""

    def __init__(self, jobs: JobRepository, job_id: str, attempt_id: str, clock: Clock,
                 every_s: float = HEARTBEAT_EVERY_S):
        self.jobs, self.job_id, self.attempt_id, self.clock, self.every_s = jobs, job_id, attempt_id, clock, every_s
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
            try:
                current = self.jobs.touch(self.job_id, self.attempt_id, self.clock())
            except Exception as error:  # a full disk, a busy database: the next beat tries again
                log.warning("job.heartbeat_failed", job_id=self.job_id, error=str(error))
                continue
            if not current:
                return
