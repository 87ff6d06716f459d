"""The worker process: takes queued jobs of its lane and runs them, one at a time, with models loaded once;
says every 20 s that it is alive (for /api/health); and cleans up the storage at start and then every hour
when RILIEVO_KEEP_DAYS or RILIEVO_STORAGE_BUDGET is set. `--concurrency N` runs N such processes under one
that restarts any that dies; `serve` runs one the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable

import structlog

from rilievo.adapters.liveness import this_worker
from rilievo.application.cleanup import Cleanup
from rilievo.application.ports import Clock, WorkerRoster
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.workers import DIFFUSION, STANDARD, WorkerSeen

from .bootstrap import attach_worker, open_stores, work_side
from .logs import configure_logging
from .settings import CLEANUP_EVERY_S, CLEANUP_STOP_WAIT_S, WORKER_STOP_TIMEOUT_S, Settings

log = structlog.get_logger(__name__)

PRESENT_EVERY_S = 20.0  # /api/health lists the workers seen in the last minute
EXIT_REFUSED = 2  # as the command line's (cli/refusal.py): a child that refuses is not restarted


def lane_for(*, gpu: bool, diffusion_on_cpu: bool) -> str:
    """--gpu: this machine paints with Stable Diffusion fast, take the painterly jobs (checked: a GPU is
    there); --diffusion-on-cpu: take them anyway, knowing a painting may take an hour. Else every other job."""
    if gpu:
        check_gpu()
        return DIFFUSION
    return DIFFUSION if diffusion_on_cpu else STANDARD


def check_gpu() -> None:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise InvalidParameter("--gpu: torch is not installed here (`scripts/setup learned` installs it)")
    from rilievo.adapters.torch_device import pick_device

    if pick_device() == "cpu":
        raise InvalidParameter("--gpu: torch finds no CUDA or Apple GPU on this machine; start the worker "
                               "without --gpu, or with --diffusion-on-cpu to paint on this CPU anyway")


def run_worker(settings: Settings, *, lane: str = STANDARD, log_level: str = "warning") -> None:
    """Consume the lane until SIGINT (stop now) or SIGTERM (finish the running job first)."""
    worker_id = this_worker()
    configure_logging(log_level, worker=worker_id)
    stores = open_stores(settings, migrate=False)  # a worker checks the schema; `serve`/`migrate` make it
    work = work_side(settings, stores, worker_id=worker_id)
    queue = stores.queue
    attach_worker(work, queue)
    stop_presence = start_presence(stores.roster, worker_id, lane, stores.clock)
    recovered = work.recovery.recover_orphans()
    log.info("worker.started", lane=lane, storage=str(settings.storage_dir), queue=settings.shown_queue(),
             database=settings.shown_database(), recovered=[job.id for job in recovered])
    stop_cleanup = start_periodic_cleanup(work.cleanup, settings)
    try:
        queue.consume(lane=lane)
    finally:
        stop_cleanup()
        released = work.recovery.release_jobs_of(worker_id)
        stop_presence()
        log.info("worker.stopped", released=[job.id for job in released])


def start_presence(roster: WorkerRoster, worker_id: str, lane: str, clock: Clock,
                   every_s: float = PRESENT_EVERY_S) -> Callable[[], None]:
    """Say now, then every every_s seconds on a daemon thread, that this worker is alive; returns the
    function that stops it and takes the worker off the roster."""
    started, stop = clock(), threading.Event()

    def say_alive() -> None:
        roster.seen(WorkerSeen(name=worker_id, lane=lane, started_at=started, seen_at=clock()))

    say_alive()

    def keep_saying() -> None:
        while not stop.wait(every_s):
            try:
                say_alive()
            except Exception as error:  # a busy or restarting database: the next beat tries again
                log.warning("worker.presence_failed", error=str(error))

    thread = threading.Thread(target=keep_saying, name="worker-presence", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join()
        try:
            roster.gone(worker_id)
        except Exception as error:
            log.warning("worker.presence_failed", error=str(error))

    return halt


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


class WorkerProcess:
    """A `rilievo worker` in a child process, restarted if it dies: jobs the dead one left behind are found
    by the new one when it starts. One that refuses to start (a bad setting) is not restarted: refused is
    set instead."""

    def __init__(self, settings: Settings, log_level: str, options: tuple[str, ...] = ()):
        self.command = [sys.executable, "-m", "rilievo.entrypoints.cli", "--log-level", log_level, "worker",
                        *options]
        self.environment = {
            **os.environ,
            "RILIEVO_STORAGE": str(settings.storage_dir),
            "RILIEVO_MODELS": str(settings.models_dir),
            "RILIEVO_MAX_PIXELS": str(settings.max_pixels),
        }
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.refused = threading.Event()
        self.watcher = threading.Thread(target=self._watch, name="worker-watcher", daemon=True)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.environment)
        if not self.watcher.is_alive():
            self.watcher.start()

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            if self.process is None or self.process.poll() is None:
                continue
            if self.stopping.is_set():
                return
            if self.process.returncode == EXIT_REFUSED:
                self.refused.set()
                return
            log.warning("worker.died", exit_status=self.process.returncode, action="restarting")
            self.start()

    def signal(self, how: signal.Signals) -> None:
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)

    def stop(self) -> None:
        """SIGINT: the worker stops at once and hands its unfinished job back to the queue."""
        self.signal(signal.SIGINT)
        if self.process is None:
            return
        try:
            self.process.wait(WORKER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_workers(settings: Settings, count: int, *, log_level: str, options: tuple[str, ...]) -> int:
    """count worker processes, each restarted if it dies, until SIGINT (each stops now and hands its job
    back) or SIGTERM (each finishes its running job first: what `docker stop` sends). Returns the exit
    status: 2 when the workers refused to start."""
    open_stores(settings, migrate=False)  # a bad setting is refused once, here, before any child starts
    workers = [WorkerProcess(settings, log_level, options) for _ in range(count)]
    stopping: list[signal.Signals] = []
    previous = {how: signal.signal(how, lambda number, _frame: stopping.append(signal.Signals(number)))
                for how in (signal.SIGINT, signal.SIGTERM)}
    try:
        for worker in workers:
            worker.start()
        while not stopping and not any(worker.refused.is_set() for worker in workers):
            time.sleep(0.2)
        how = stopping[0] if stopping else signal.SIGINT
        for worker in workers:
            worker.signal(how)
        for worker in workers:
            if worker.process is not None:
                worker.process.wait()
    finally:
        for how, handler in previous.items():
            signal.signal(how, handler)
    return EXIT_REFUSED if any(worker.refused.is_set() for worker in workers) else 0
