"""The JSON API under /api: thin handlers over the use cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from rilievo.application.health import Health as HealthCheck
from rilievo.application.presets import Presets
from rilievo.application.uploads import Uploads

from ..bootstrap import Installed
from .errors import errors
from .jobs import jobs_router
from .options import FormOptions, form_options
from .presets import presets_router
from .schemas import API_ROOT, Health, LastUsedParams, UploadInfo
from .uploads import FIELD, received_file


@get("/health", sync_to_thread=True, responses=errors())
def health(health: NamedDependency[HealthCheck]) -> Health:
    return Health.of(health.check())


class UploadOperation(Operation):
    """The handler reads the multipart body itself, as it arrives, so the schema says what it takes."""

    def __init__(self, **fields: Any):
        form = Schema(type=OpenAPIType.OBJECT, required=[FIELD],
                      properties={FIELD: Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)})
        body = RequestBody(required=True, content={"multipart/form-data": OpenAPIMediaType(schema=form)})
        super().__init__(**{**fields, "request_body": body})


@post("/upload", status_code=201, tags=["uploads"], operation_class=UploadOperation,
      responses=errors(400, 403, 413, 422, 507))
async def upload_photo(uploads: NamedDependency[Uploads], incoming: NamedDependency[Path],
                       request: Request) -> UploadInfo:
    async with received_file(request, incoming) as photo:
        upload = await sync_to_thread(uploads.ingest, photo.path, original_name=photo.filename or None)
    return UploadInfo.of(upload)


@get("/options", sync_to_thread=False, tags=["form"])
def options(installed: NamedDependency[Installed]) -> FormOptions:
    return form_options(installed.depth_engines)


@get("/settings/last-used", sync_to_thread=True, tags=["form"])
def last_used(presets: NamedDependency[Presets]) -> LastUsedParams:
    return LastUsedParams(params=presets.last_used_params().to_dict())


api_router = Router(
    path=API_ROOT,
    route_handlers=[health, upload_photo, options, last_used, jobs_router, presets_router],
)
