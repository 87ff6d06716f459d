"""`rilievo serve`: the web app under uvicorn plus one worker process, started and stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import structlog
import uvicorn

from .bootstrap import Settings, bootstrap
from .http_app import MEGABYTE, create_app

log = structlog.get_logger(__name__)
WORKER_STOP_TIMEOUT_S = 10


class WorkerProcess:
    """The Huey consumer in a child process, restarted if it dies while the app runs: jobs the dead
    one left behind are found by the new one when it starts."""

    def __init__(self, settings: Settings, log_level: str):
        self.command = [sys.executable, "-m", "rilievo.entrypoints.cli", "--log-level", log_level, "worker"]
        self.environment = {
            **os.environ,
            "RILIEVO_STORAGE": str(settings.storage_dir),
            "RILIEVO_MODELS": str(settings.models_dir),
            "RILIEVO_MAX_PIXELS": str(settings.max_pixels),
        }
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.watcher = threading.Thread(target=self._watch, name="worker-watcher", daemon=True)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.environment)
        if not self.watcher.is_alive():
            self.watcher.start()

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            if self.process is not None and self.process.poll() is not None:
                log.warning("worker.died", exit_status=self.process.returncode, action="restarting")
                self.start()

    def stop(self) -> None:
        """SIGINT: the worker stops at once and hands its unfinished job back to the queue."""
        self.stopping.set()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(WORKER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def announce_when_listening(server: uvicorn.Server, url: str) -> None:
    while not server.started and not server.should_exit:
        time.sleep(0.05)
    if server.started:
        print(f"Rilievo is running at {url}  (Ctrl-C stops it)", flush=True)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def exposure_warning(host: str) -> str | None:
    """A line for the terminal when the app listens beyond this computer."""
    if host in LOOPBACK:
        return None
    return (f"Warning: listening on {host}, not only on this computer: anyone who can reach it on the "
            "network can upload photos, start jobs and download results. Rilievo has no accounts or "
            "passwords; use --host 127.0.0.1 (the default) unless you mean to share it.")


def serve(settings: Settings, *, host: str, port: int, log_level: str, with_worker: bool = True) -> None:
    if warning := exposure_warning(host):
        print(warning, file=sys.stderr, flush=True)
    services = bootstrap(settings)  # applies the database migrations before anything else runs
    app = create_app(services, max_upload_bytes=int(settings.max_upload_mb * MEGABYTE))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False))
    worker = WorkerProcess(settings, log_level) if with_worker else None
    if worker is not None:
        worker.start()
    url = f"http://{host}:{port}/"
    threading.Thread(target=announce_when_listening, args=(server, url), daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully and re-raises the signal it caught
    finally:
        if worker is not None:
            worker.stop()
    print("Rilievo stopped.", flush=True)
