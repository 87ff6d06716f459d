"""The worker process: takes queued jobs and runs them, one at a time, with models loaded once; and
cleans up the storage at start and then every hour when RILIEVO_KEEP_DAYS or RILIEVO_STORAGE_BUDGET
is set."""

from __future__ import annotations

import threading
from typing import Callable

import structlog

from rilievo.adapters.liveness import this_worker
from rilievo.application.cleanup import Cleanup

from .bootstrap import attach_worker, open_stores, work_side
from .settings import CLEANUP_EVERY_S, CLEANUP_STOP_WAIT_S, Settings

log = structlog.get_logger(__name__)


def run_worker(settings: Settings) -> None:
    """Consume until SIGINT (stop now) or SIGTERM (finish the running job first)."""
    worker_id = this_worker()
    stores = open_stores(settings)
    work = work_side(settings, stores, worker_id=worker_id)
    queue = stores.queue
    attach_worker(work, queue)
    recovered = work.recovery.recover_orphans()
    log.info("worker.started", worker=worker_id, storage=str(settings.storage_dir),
             recovered=[job.id for job in recovered])
    stop_cleanup = start_periodic_cleanup(work.cleanup, settings)
    try:
        queue.consume()
    finally:
        stop_cleanup()
        released = work.recovery.release_jobs_of(worker_id)
        log.info("worker.stopped", worker=worker_id, released=[job.id for job in released])


def start_periodic_cleanup(cleanup: Cleanup, settings: Settings, *,
                           every_s: float = CLEANUP_EVERY_S) -> Callable[[], None]:
    """With keep_days or storage_budget set, clean up now and then every every_s seconds on a daemon thread,
    beside the jobs; returns the function that stops it. With neither set, does nothing."""
    if settings.keep_days is None and settings.storage_budget is None:
        return lambda: None
    stop = threading.Event()

    def clean_up_until_stopped() -> None:
        while True:
            try:
                cleanup.clean_up(older_than_days=settings.keep_days, budget_bytes=settings.storage_budget)
            except Exception:  # a failed cleanup must not stop the worker; the next hour tries again
                log.exception("storage.cleanup_failed")
            if stop.wait(every_s):
                return

    thread = threading.Thread(target=clean_up_until_stopped, name="storage-cleanup", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(CLEANUP_STOP_WAIT_S)

    return halt
