"""OPTIONS answers that list every method of a path.

Litestar 2 writes a path's OPTIONS answer when the path's first handler is registered and never
updates it (litestar#4169, fixed only in v3): OPTIONS /api/jobs said POST but not GET. This puts the
path's whole method list in the Allow header instead.
"""

from __future__ import annotations

from litestar.routes import HTTPRoute

from .security import ASGIApp, Receive, Scope, Send


class AllowEveryMethod:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = methods_of_path(scope) if scope["type"] == "http" and scope["method"] == "OPTIONS" else None
        if not allowed:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted(allowed)).encode()

        async def send_allow(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [header for header in message.get("headers", []) if header[0].lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await self.app(scope, receive, send_allow)


def methods_of_path(scope: Scope) -> set[str] | None:
    template = scope.get("path_template")
    return next(
        (route.methods for route in scope["app"].routes
         if isinstance(route, HTTPRoute) and route.path_format == template),
        None,
    )
