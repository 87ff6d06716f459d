"""What keeps a local app local: only requests addressed to this computer are answered, other sites
can't make the user's browser change anything here, and what it serves is never run as a page of its
own.

- DNS rebinding: a page on attacker.example can point its own name at 127.0.0.1 and then talk to this
  app as "same origin". Its requests still say `Host: attacker.example`, so only the names this app
  is reached by are answered (localhost, 127.0.0.1, [::1], and the --host given); any other gets 421.
- Cross-site requests that change something (POST, PUT, PATCH, DELETE) are refused with 403. A browser
  says where a request comes from (Sec-Fetch-Site, Origin), and the app never allows another origin
  (there is no CORS), so a page elsewhere can neither post a form here nor read an answer. Clients
  that are not browsers (curl, scripts) send neither header and are let through.
- Every response says: don't guess content types, don't frame this, send no referrer; pages may load
  scripts, styles and images only from the app itself.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Any, Awaitable, Callable, Iterator
from urllib.parse import urlsplit

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
     b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
]


class HostNames:
    """The names a request may give in its Host header: the loopback names, the --host the app
    listens on, and, when it listens on every interface, any IP address and this computer's name.
    DNS rebinding needs a name the attacker controls, so an address typed as digits is never one."""

    def __init__(self, listen_host: str = "127.0.0.1"):
        names = set(LOOPBACK_NAMES)
        self.any_address = listen_host in WILDCARD_HOSTS
        if self.any_address:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        else:
            names.add(bracketed(listen_host.lower()))
        self.names = frozenset(names)

    def allows(self, host: str) -> bool:
        name = host_name(host)
        if name in self.names:
            return True
        return self.any_address and is_ip_address(name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.names))


def bracketed(host: str) -> str:
    """An IPv6 address as a Host header writes it: [::1]."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def host_name(host: str) -> str:
    """The Host header without its port, lower-case: "[::1]:8000" → "[::1]"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def is_cross_site(headers: dict[bytes, bytes], scheme: str) -> bool:
    """Whether the browser says the request comes from another site or origin than this app."""
    site = headers.get(b"sec-fetch-site", b"").decode("latin-1")
    if site in ("cross-site", "same-site"):
        return True
    origin = headers.get(b"origin", b"").decode("latin-1")
    if not origin:
        return False
    if origin == "null":  # sandboxed frames, file:// pages
        return True
    parts = urlsplit(origin)
    return (parts.scheme, parts.netloc) != (scheme, headers.get(b"host", b"").decode("latin-1"))


class SecurityMiddleware:
    """Wraps the whole application, so it covers every path: the page, the API, static files, the
    schema, and the answers for unknown paths and methods."""

    def __init__(self, app: ASGIApp, hosts: HostNames):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        # HTTP/1.0 may leave Host out; browsers, which DNS rebinding works through, always send it
        if host and not self.hosts.allows(host):
            names = ", ".join(self.hosts)
            await refuse(send, 421, "unknown_host",
                         f"this Rilievo answers only to {names}, not to the host name {host_name(host)!r}")
            return
        if scope["method"] in UNSAFE_METHODS and is_cross_site(headers, scope.get("scheme", "http")):
            await refuse(send, 403, "cross_site_request",
                         "requests from other sites may not change anything in Rilievo")
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def refuse(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
