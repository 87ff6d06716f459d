"""The worker process: takes queued jobs and runs them, one at a time, with models loaded once."""

from __future__ import annotations

import structlog

from rilievo.adapters.huey_queue import this_worker, worker_alive

from .bootstrap import Settings, attach_worker, bootstrap
from .cleanup_cli import start_periodic_cleanup

log = structlog.get_logger(__name__)


def run_worker(settings: Settings) -> None:
    """Consume until SIGINT (stop now) or SIGTERM (finish the running job first)."""
    worker_id = this_worker()
    services = bootstrap(settings, worker_id=worker_id)
    queue = services.queue
    attach_worker(services, queue)
    recovered = services.recover_orphans(worker_alive)
    log.info("worker.started", worker=worker_id, storage=str(settings.storage_dir),
             recovered=[job.id for job in recovered])
    stop_cleanup = start_periodic_cleanup(services, settings)
    try:
        queue.consume()
    finally:
        stop_cleanup()
        released = services.release_jobs_of(worker_id)
        log.info("worker.stopped", worker=worker_id, released=[job.id for job in released])
