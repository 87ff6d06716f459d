"""`rilievo serve`: the web app under uvicorn plus one worker process, started and stopped together."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import h11
import structlog
import uvicorn
from litestar import Litestar
from uvicorn.protocols.http.h11_impl import H11Protocol

from rilievo.domain.errors import InvalidParameter

from ..bootstrap import web_side
from ..worker import WorkerProcess
from ..settings import HEADER_TIMEOUT_S, KEEP_ALIVE_S, MAX_CONNECTIONS, MEGABYTE, Settings
from .app import create_app
from .uploads import remove_stale_uploads

log = structlog.get_logger(__name__)
BUSY_BODY = b'{"error":"service_unavailable","detail":"too many open connections; try again shortly"}'
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n%s" % (len(BUSY_BODY), BUSY_BODY))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 with what it lacks against slow or piling-up clients. While no request is
    being handled and the client owes data (a request head: nothing at all, or a header a byte at a
    time; or the rest of a body the app has already answered, a 413 say), it has HEADER_TIMEOUT_S to
    send it, then the connection is closed. A connection over MAX_CONNECTIONS gets a 503 and is closed
    at once. The app's own deadline covers a body it reads."""

    wait_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            log.warning("http.too_many_connections", limit=MAX_CONNECTIONS)
            transport.write(BUSY)
            transport.close()
            return
        self.wait_timer = self.loop.call_later(HEADER_TIMEOUT_S, self.client_too_slow)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.waiting_on_client():
            self.stop_wait_timer()
        elif self.wait_timer is None:  # a next request on a kept-alive connection has begun
            self.wait_timer = self.loop.call_later(HEADER_TIMEOUT_S, self.client_too_slow)

    def waiting_on_client(self) -> bool:
        return self.conn.their_state is h11.IDLE or self.conn.our_state is h11.DONE

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_wait_timer()
        super().connection_lost(exc)

    def stop_wait_timer(self) -> None:
        if self.wait_timer is not None:
            self.wait_timer.cancel()
            self.wait_timer = None

    def client_too_slow(self) -> None:
        self.wait_timer = None
        if self.waiting_on_client() and not self.transport.is_closing():
            self.transport.close()


def check_port_free(host: str, port: int) -> None:
    """Refuses, before anything starts, an address that can't be listened on."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise InvalidParameter(f"cannot listen on --host {host}: {error.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise InvalidParameter(f"port {port} is in use on {host} (another Rilievo, or another "
                                           "program): stop it or choose another with --port") from None
                raise InvalidParameter(f"cannot listen on {host} port {port}: {error.strerror}") from None


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


def web_app(settings: Settings, *, host: str) -> Litestar:
    """The web side of `rilievo serve`: the stores and the use cases the app serves; no engine is built or
    imported here, the worker process has them."""
    web = web_side(settings)  # applies the database migrations before anything else runs
    incoming = settings.storage_dir / "tmp"
    remove_stale_uploads(incoming)
    return create_app(web, max_upload_bytes=int(settings.max_upload_mb * MEGABYTE), host=host, incoming=incoming)


def serve(settings: Settings, *, host: str, port: int, log_level: str, with_worker: bool = True) -> None:
    check_port_free(host, port)
    if warning := exposure_warning(host):
        print(warning, file=sys.stderr, flush=True)
    app = web_app(settings, host=host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False,
                                           http=GuardedH11Protocol, timeout_keep_alive=KEEP_ALIVE_S))
    worker = WorkerProcess(settings, log_level) if with_worker else None
    if worker is not None:
        worker.start()
    url = f"http://{host}:{port}/"
    threading.Thread(target=announce_when_listening, args=(server, url), daemon=True).start()
    # uvicorn shuts down gracefully on SIGTERM too, then raises it again: with the default handler the
    # process died there, before stopping its worker (`systemctl stop`, `docker stop`, `kill` left the
    # worker running alone). As an exception it unwinds through the `finally` below.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully and re-raises the signal it caught
    finally:
        signal.signal(signal.SIGTERM, previous)
        if worker is not None:
            worker.stop()
        print("Rilievo stopped.", flush=True)


def _exit_on_sigterm(number: int, frame: object) -> None:
    raise SystemExit(128 + number)
