"""The Litestar application: the JSON API under /api, the web form at /, one error format."""

from __future__ import annotations

import tempfile
from http import HTTPStatus
from pathlib import Path

import structlog
from litestar import Litestar, MediaType, Request, Response
from litestar.di import Provide
from litestar.exceptions import ClientException, HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from rilievo.application.services import Services
from rilievo.domain.errors import (
    Conflict,
    IllegalTransition,
    ImageRejected,
    InvalidParameter,
    NotFound,
    RilievoError,
    StorageFull,
    StorageUnavailable,
)

from .api import api_router
from .bootstrap import DEFAULT_MAX_UPLOAD_MB
from .http_requests import BODY_IDLE_TIMEOUT_S, BODY_TIMEOUT_S, JsonRequest, RequestHandling, request_id_of
from .http_uploads import DISK_FULL, no_room
from .options_allow import AllowEveryMethod
from .security import HostNames, SecurityMiddleware
from .web import web_router

log = structlog.get_logger(__name__)

HERE = Path(__file__).resolve().parent
MEGABYTE = 1024 * 1024

STATUS_OF_ERROR: list[tuple[type[RilievoError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (IllegalTransition, 409),
    (ImageRejected, 422),
    (InvalidParameter, 422),
    (StorageFull, 507),
    (StorageUnavailable, 503),
]


def error_response(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    """Every refusal has the same body: {error: a short code, detail: one line a user can act on}."""
    return Response({"error": error, "detail": detail}, status_code=status, media_type=MediaType.JSON,
                    headers=headers)


def snake_case(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def error_code(error: Exception) -> str:
    """validation, not_found, image_rejected, ...; generic HTTP errors by their status phrase."""
    if isinstance(error, HTTPException) and type(error) in (HTTPException, ClientException):
        return HTTPStatus(error.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    return snake_case(type(error).__name__.removesuffix("Exception"))


def rilievo_error(request: Request, error: RilievoError) -> Response:
    status = next((code for kind, code in STATUS_OF_ERROR if isinstance(error, kind)), 400)
    return error_response(status, error_code(error), str(error))


def http_error(request: Request, error: HTTPException) -> Response:
    detail = error.detail
    extra = getattr(error, "extra", None)
    if extra and isinstance(extra, list):
        problems = [f"{item.get('key') or 'body'}: {item.get('message')}" for item in extra if isinstance(item, dict)]
        detail = "; ".join(problems) or detail
    # the exception's own headers stay (a 405's Allow, say)
    return error_response(error.status_code, error_code(error), str(detail), headers=error.headers)


def unexpected_error(request: Request, error: Exception) -> Response:
    """A bug or a broken storage: the traceback goes to the log, the client gets the request id to
    find it there."""
    request_id = request_id_of(request.scope)
    log.error("http.unexpected_error", request_id=request_id, method=request.method, path=request.url.path,
              exc_info=error)
    return error_response(500, "internal_error",
                          f"an unexpected error stopped this request; the server log has the details "
                          f"under request id {request_id}")


def os_error(request: Request, error: OSError) -> Response:
    if error.errno in DISK_FULL:
        return rilievo_error(request, no_room())
    return unexpected_error(request, error)


def create_app(services: Services, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * MEGABYTE,
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
        dependencies={"services": Provide(lambda: services, sync_to_thread=False, use_cache=True),
                      "incoming": Provide(lambda: incoming, sync_to_thread=False, use_cache=True)},
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
