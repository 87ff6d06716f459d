"""The JSON API under /api: thin handlers over the services."""

from __future__ import annotations

from litestar import Router, get

from rilievo.application.services import Services


@get("/health", sync_to_thread=False)
def health(services: Services) -> dict[str, str]:
    return {"status": "ok"}


api_router = Router(path="/api", route_handlers=[health])
