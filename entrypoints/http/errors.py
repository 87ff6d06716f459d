"""The one error body of the API: what each exception becomes, and its declaration in the OpenAPI schema
of each operation."""

from __future__ import annotations

from http import HTTPStatus

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

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

from .requests import request_id_of
from .uploads import DISK_FULL, no_room

log = structlog.get_logger(__name__)


class ErrorBody(msgspec.Struct):
    error: str  # a short code: validation, not_found, conflict, image_rejected, too_large, cross_site_request…
    detail: str  # one line a user can act on


WHEN = {
    400: "The request is malformed: a query, path or form field of the wrong type or range.",
    403: "A cross-site request: only pages served by this Rilievo may change its data.",
    404: "No such upload, job, preset or file.",
    405: "The preset names `export` and `import` are the paths of other operations, which take other methods.",
    409: "The job or preset is not in a state that allows this.",
    413: "The request body is larger than its limit: the upload limit for photos, 1 MB for JSON.",
    422: "The body or an image was understood but refused: a parameter out of range, not an image…",
    503: "The storage can't be used: its folder was removed or replaced, or it is read-only.",
    507: "The disk that holds the storage is full: no room for this upload or job.",
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The refusals an operation can answer with, all in the shape of ErrorBody; any of them can find
    the storage unusable (503)."""
    return {
        code: ResponseSpec(data_container=ErrorBody, description=WHEN[code], generate_examples=False)
        for code in sorted({*codes, 503})
    }


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


def unprocessable_body(request: Request, error: ValidationException) -> Response:
    """A JSON body that parses but has unknown, missing or mistyped fields is a 422, like a bad value."""
    return http_error(request, ValidationException(detail=error.detail, extra=error.extra, status_code=422))


BODY_ERRORS_ARE_422 = {ValidationException: unprocessable_body}
