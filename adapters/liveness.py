"""Which worker process this is, and whether the one recorded on a job still runs: by its pid, on this host."""

from __future__ import annotations

import os
import socket


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class HostProcesses:
    """Tells a worker named by this_worker() alive by its pid on this host; a worker on another host (or a
    name not of that form) can't be checked from here and counts as alive: its heartbeat tells."""

    def alive(self, worker: str) -> bool:
        host, _, pid = worker.rpartition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return True
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
