"""What keeps a local app local: other sites can't make the user's browser change anything here, and
what it serves is never run as a page of its own.

- Cross-site requests that change something (POST, PUT, PATCH, DELETE) are refused with 403. A browser
  says where a request comes from (Sec-Fetch-Site, Origin), and the app never allows another origin
  (there is no CORS), so a page elsewhere can neither post a form here nor read an answer. Clients
  that are not browsers (curl, scripts) send neither header and are let through.
- Every response says: don't guess content types, don't frame this, send no referrer; pages may load
  scripts, styles and images only from the app itself.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
     b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
]


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
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] in UNSAFE_METHODS and is_cross_site(headers, scope.get("scheme", "http")):
            await refuse(send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def refuse(send: Send) -> None:
    body = json.dumps({"error": "cross_site_request",
                       "detail": "requests from other sites may not change anything in Rilievo"}).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
