"""/api/jobs: submit render jobs, follow them, fetch their files, cancel, retry and delete them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from litestar import Router, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import File

from rilievo.domain.outputs import RESULT_STEM
from rilievo.application.jobs import Jobs
from rilievo.domain.errors import Conflict, FileNotFound
from rilievo.domain.job import JobStatus

from ..settings import JSON_BODY_LIMIT
from .errors import BODY_ERRORS_ARE_422, errors
from .schemas import (
    JobPage,
    JobRequest,
    JobView,
    SubmittedBatch,
    result_formats,
)

MAX_PAGE = 100
MAX_OFFSET = 2**53  # SQLite integers are 64-bit, and JSON Schema numbers are exact only up to 2**53

MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".zip": "application/zip",
}


class FileDownloadOperation(Operation):
    """What a file download answers, which Litestar 2 gets wrong for File responses: it declares an
    empty media type and a Last-Modified in ISO date-time (it is an HTTP date)."""

    def __init__(self, **fields: Any):
        binary = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
        any_json = OpenAPIMediaType(schema=Schema())  # the manifest, params.json…: each has its own shape
        text = Schema(type=OpenAPIType.STRING)
        media_types = sorted({*MEDIA_TYPES.values(), "application/octet-stream"})
        ok = OpenAPIResponse(
            description="The file, shown in the browser or, with download=true or for SVG, as an attachment.",
            content={kind: any_json if kind == "application/json" else binary for kind in media_types},
            headers={
                name: OpenAPIHeader(schema=text, description=description)
                for name, description in [
                    ("content-length", "File size in bytes"),
                    ("last-modified", "When the file was written, as an HTTP date"),
                    ("etag", "Entity tag"),
                    ("content-disposition", "inline or attachment, with the file's name"),
                ]
            },
        )
        super().__init__(**{**fields, "responses": {**(fields.get("responses") or {}), "200": ok}})


SHOWN_INLINE = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "application/json"}


def file_response(path: Path, *, download: bool) -> File:
    if not path.is_file():
        raise FileNotFound(f"{path.name} is no longer on disk")
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    # SVG can carry scripts: always a download, never rendered by the app's own origin.
    shown = media_type in SHOWN_INLINE
    return File(
        path,
        filename=path.name,
        media_type=media_type,
        content_disposition_type="inline" if shown and not download else "attachment",
    )


@post("/", status_code=202, sync_to_thread=True, exception_handlers=BODY_ERRORS_ARE_422,
      responses=errors(400, 403, 404, 413, 422, 507), request_max_body_size=JSON_BODY_LIMIT)
def submit_jobs(jobs: NamedDependency[Jobs], data: JSONBody[JobRequest]) -> SubmittedBatch:
    batch = jobs.submit(
        data.upload_id,
        data.render_params(),
        variations=data.variations,
        depth_upload_id=data.depth_upload_id,
    )
    return SubmittedBatch.of(batch)


@get("/", sync_to_thread=True, responses=errors(400))
def list_jobs(
    jobs: NamedDependency[Jobs],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
) -> JobPage:
    page, total = jobs.page(limit=limit, offset=offset)
    return JobPage([JobView.of(job) for job in page], total=total, limit=limit, offset=offset)


@get("/{job_id:str}", sync_to_thread=True, responses=errors(400, 404))
def get_job(jobs: NamedDependency[Jobs], job_id: FromPath[str]) -> JobView:
    return JobView.of(jobs.get(job_id))


@delete("/{job_id:str}", status_code=204, sync_to_thread=True, responses=errors(400, 403, 404, 409))
def delete_job(jobs: NamedDependency[Jobs], job_id: FromPath[str]) -> None:
    jobs.delete(job_id)


@post("/{job_id:str}/cancel", status_code=200, sync_to_thread=True, responses=errors(400, 403, 404, 409))
def cancel_job(jobs: NamedDependency[Jobs], job_id: FromPath[str]) -> JobView:
    return JobView.of(jobs.cancel(job_id))


@post("/{job_id:str}/retry", status_code=202, sync_to_thread=True, responses=errors(400, 403, 404, 409))
def retry_job(jobs: NamedDependency[Jobs], job_id: FromPath[str]) -> JobView:
    return JobView.of(jobs.retry(job_id))


@get("/{job_id:str}/result", sync_to_thread=True, responses=errors(400, 404, 409),
     operation_class=FileDownloadOperation)
def job_result(
    jobs: NamedDependency[Jobs],
    job_id: FromPath[str],
    image_format: Annotated[str, QueryParameter(name="format")] = "png",
    download: FromQuery[bool] = False,
) -> File:
    job = jobs.get(job_id)
    if job.status is not JobStatus.COMPLETED:
        raise Conflict(f"job {job_id} is {job.status}; its result exists once it has completed")
    available = result_formats(job)
    if image_format not in available:
        raise FileNotFound(
            f"job {job_id} has no {image_format!r} result; available: {', '.join(available)}"
        )
    return file_response(jobs.file(job_id, f"{RESULT_STEM}.{image_format}"), download=download)


@get("/{job_id:str}/files/{name:str}", sync_to_thread=True, responses=errors(400, 404),
     operation_class=FileDownloadOperation)
def job_file(
    jobs: NamedDependency[Jobs],
    job_id: FromPath[str],
    name: FromPath[str],
    download: FromQuery[bool] = False,
) -> File:
    return file_response(jobs.file(job_id, name), download=download)


jobs_router = Router(
    path="/jobs",
    tags=["jobs"],
    route_handlers=[
        submit_jobs, list_jobs, get_job, delete_job, cancel_job, retry_job, job_result, job_file,
    ],
)
