"""The worker-liveness adapter: a worker on this host is judged by its pid; one it can't check counts as
alive, so that its heartbeat decides."""

import socket
import subprocess
import sys

from rilievo.adapters.liveness import HostProcesses, this_worker


def test_this_process_is_alive():
    assert HostProcesses().alive(this_worker())


def test_a_process_that_has_exited_is_not():
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    assert not HostProcesses().alive(f"{socket.gethostname()}:{finished.stdout.strip()}")


def test_a_worker_on_another_host_or_of_an_unknown_form_counts_as_alive():
    assert HostProcesses().alive("another-host.example:1")
    assert HostProcesses().alive(f"{socket.gethostname()}:not-a-pid")
