"""The one error body of the API, and its declaration in the OpenAPI schema of each operation."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec


JSON_BODY_LIMIT = 1024 * 1024  # job requests and presets: a thousand times what a real one takes
MAX_JSON_DEPTH = 32  # a presets file nests 4 levels deep; Python's decoders give up near 1,000


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


def too_deep(value: Any) -> bool:
    """Whether a decoded JSON value nests deeper than MAX_JSON_DEPTH, checked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The refusals an operation can answer with, all in the shape of ErrorBody; any of them can find
    the storage unusable (503)."""
    return {
        code: ResponseSpec(data_container=ErrorBody, description=WHEN[code], generate_examples=False)
        for code in sorted({*codes, 503})
    }
