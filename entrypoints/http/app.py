"""The Litestar application: the JSON API under /api, the web form at /, one error format."""

from __future__ import annotations

import tempfile
from pathlib import Path

from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from rilievo.domain.errors import RilievoError

from ..bootstrap import WebSide
from ..settings import BODY_IDLE_TIMEOUT_S, BODY_TIMEOUT_S, DEFAULT_MAX_UPLOAD_MB, MEGABYTE
from .api import api_router
from .errors import error_response, http_error, os_error, rilievo_error, unexpected_error
from .options_allow import AllowEveryMethod
from .requests import JsonRequest, RequestHandling
from .security import HostNames, SecurityMiddleware
from .web import web_router

HERE = Path(__file__).resolve().parent


def provide(value: object) -> Provide:
    return Provide(lambda: value, sync_to_thread=False, use_cache=True)


def create_app(web: WebSide, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * MEGABYTE,
               host: str = "127.0.0.1", incoming: Path | None = None, body_timeout_s: float = BODY_TIMEOUT_S,
               body_idle_timeout_s: float = BODY_IDLE_TIMEOUT_S, debug: bool = False) -> Litestar:
    """host: the address served, which decides the Host names answered; incoming: where uploads are
    received (the storage's temp folder; the system's if not given)."""
    incoming = incoming or Path(tempfile.gettempdir()) / "rilievo-incoming"
    def too_large(request: Request, error: HTTPException) -> Response:
        limit = request.route_handler.resolve_request_max_body_size() or max_upload_bytes
        what = "upload" if limit == max_upload_bytes else "request body"
        return error_response(413, "too_large", f"the {what} is larger than the limit of {limit / MEGABYTE:.4g} MB")

    app = Litestar(
        route_handlers=[
            api_router,
            web_router,
            create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False),
        ],
        dependencies={"uploads": provide(web.uploads), "jobs": provide(web.jobs), "presets": provide(web.presets),
                      "installed": provide(web.installed), "health": provide(web.health),
                      "incoming": provide(incoming)},
        exception_handlers={RilievoError: rilievo_error, HTTPException: http_error, 413: too_large,
                            OSError: os_error, Exception: unexpected_error},
        request_class=JsonRequest,
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(title="Rilievo", version="0.1.0", path="/schema"),
        request_max_body_size=max_upload_bytes,
        middleware=[AllowEveryMethod],
        debug=debug,
    )
    # Around Litestar's own handler, not as route middleware: unknown paths and methods are covered too.
    app.asgi_handler = SecurityMiddleware(
        RequestHandling(app.asgi_handler, body_timeout_s=body_timeout_s, body_idle_timeout_s=body_idle_timeout_s),
        HostNames(host),
    )
    return app
