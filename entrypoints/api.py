"""The JSON API under /api: thin handlers over the services."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from litestar import Router, get, post
from litestar.di import NamedDependency
from litestar.params import MultipartBody

from rilievo.application.services import Services

from .api_jobs import jobs_router
from .api_errors import errors
from .api_models import API_ROOT, Health, LastUsedParams, UploadForm, UploadInfo
from .api_options import FormOptions, form_options
from .api_presets import presets_router


@get("/health", sync_to_thread=True, responses=errors())
def health(services: NamedDependency[Services]) -> Health:
    services.check_storage()
    return Health(status="ok")


def safe_file_name(name: str | None) -> str:
    """The sender's file name, kept for error messages, reduced to characters safe in a path."""
    kept = re.sub(r"[^A-Za-z0-9._ -]", "_", Path(name or "").name)[-100:].lstrip(".")
    return kept or "upload"


@post("/upload", status_code=201, sync_to_thread=True, tags=["uploads"], responses=errors(400, 403, 413, 422, 507))
def upload_photo(services: NamedDependency[Services], data: MultipartBody[UploadForm]) -> UploadInfo:
    # The services take a path; Litestar keeps small uploads in memory, so write one out.
    with tempfile.TemporaryDirectory(prefix="rilievo-upload-") as folder:
        copy = Path(folder) / safe_file_name(data.file.filename)
        with copy.open("wb") as target:
            shutil.copyfileobj(data.file.file, target)
        upload = services.ingest(copy, original_name=data.file.filename or None)
    return UploadInfo.of(upload)


@get("/options", sync_to_thread=False, tags=["form"])
def options(services: NamedDependency[Services]) -> FormOptions:
    return form_options(services)


@get("/settings/last-used", sync_to_thread=True, tags=["form"])
def last_used(services: NamedDependency[Services]) -> LastUsedParams:
    return LastUsedParams(params=services.last_used_params().to_dict())


api_router = Router(
    path=API_ROOT,
    route_handlers=[health, upload_photo, options, last_used, jobs_router, presets_router],
)
