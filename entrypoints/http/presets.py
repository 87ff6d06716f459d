"""/api/presets: named sets of render parameters; export to and import from one JSON file."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, JSONBody

from rilievo.application.presets import Presets
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.presets import Preset

from ..settings import JSON_BODY_LIMIT, MAX_JSON_DEPTH
from .errors import BODY_ERRORS_ARE_422, errors
from .requests import too_deep
from .schemas import (
    ImportedPresets,
    PresetBody,
    PresetList,
    PresetReplacement,
    PresetView,
)
from .uploads import received_field

EXPORT_FILE_NAME = "rilievo-presets.json"
TOO_DEEP = object()
# Static paths win over /presets/{name} for every method: a preset of these names could not be reached.
ROUTE_NAMES = frozenset({"export", "import"})


def unreserved(preset: Preset) -> Preset:
    if preset.name in ROUTE_NAMES:
        raise InvalidParameter(f"preset name {preset.name!r} is reserved by the API; choose another")
    return preset


def presets_of_file(document: Any) -> list[Preset]:
    """Every preset of an export, all checked before the caller stores any."""
    if not isinstance(document, dict) or set(document) != {"presets"} or not isinstance(
        document["presets"], list
    ):
        raise InvalidParameter('a presets file is a JSON object {"presets": [...]} and nothing else')
    presets = []
    for index, item in enumerate(document["presets"]):
        try:
            presets.append(unreserved(Preset.from_mapping(item)))
        except InvalidParameter as error:
            raise InvalidParameter(f"presets[{index}]: {error}") from None
    names = [preset.name for preset in presets]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise InvalidParameter(f"the presets file names {duplicates[0]!r} more than once")
    return presets


async def uploaded_json(request: Request) -> Any:
    """The body itself, or the multipart field `file` that a browser's file input sends."""
    if request.content_type[0] == "multipart/form-data":
        raw = await received_field(request)
        if raw is None:
            raise ValidationException("the multipart field 'file' with the presets file is missing")
    else:
        raw = await request.body()
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise InvalidParameter(f"the presets file is not valid JSON: {error}") from None
    except RecursionError:
        document = TOO_DEEP
    if document is TOO_DEEP or too_deep(document):
        raise InvalidParameter(f"the presets file nests deeper than {MAX_JSON_DEPTH} levels")
    return document


class PresetsFileOperation(Operation):
    """The handler reads its body itself (JSON or a file upload), so the schema says so here."""

    def __init__(self, **fields: Any):
        file_field = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        body = RequestBody(
            required=True,
            content={
                "application/json": OpenAPIMediaType(
                    schema=Reference(ref="#/components/schemas/PresetList")
                ),
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT, properties={"file": file_field}, required=["file"]
                    )
                ),
            },
        )
        super().__init__(**{**fields, "request_body": body})


@get("/", sync_to_thread=True)
def list_presets(presets: NamedDependency[Presets]) -> PresetList:
    return PresetList.of(presets.all())


@post("/", status_code=201, sync_to_thread=True, exception_handlers=BODY_ERRORS_ARE_422,
      responses=errors(400, 403, 409, 413, 422), request_max_body_size=JSON_BODY_LIMIT)
def create_preset(presets: NamedDependency[Presets], data: JSONBody[PresetBody]) -> PresetView:
    preset = unreserved(Preset.from_mapping({"name": data.name, "params": data.params}))
    return PresetView.of(presets.create(preset))


@get("/export", sync_to_thread=True)
def export_presets(presets: NamedDependency[Presets]) -> Response[PresetList]:
    return Response(
        PresetList.of(presets.all()),
        headers={"Content-Disposition": f'attachment; filename="{EXPORT_FILE_NAME}"'},
    )


@post("/import", status_code=200, operation_class=PresetsFileOperation,
      responses=errors(400, 403, 409, 413, 422), request_max_body_size=JSON_BODY_LIMIT)
async def import_presets(presets: NamedDependency[Presets], request: Request) -> ImportedPresets:
    imported = await sync_to_thread(presets.import_all, presets_of_file(await uploaded_json(request)))
    return ImportedPresets([preset.name for preset in imported])


@get("/{name:str}", sync_to_thread=True, responses=errors(400, 404, 405))
def get_preset(presets: NamedDependency[Presets], name: FromPath[str]) -> PresetView:
    return PresetView.of(presets.get(name))


@put("/{name:str}", sync_to_thread=True, exception_handlers=BODY_ERRORS_ARE_422,
     responses=errors(400, 403, 404, 405, 413, 422), request_max_body_size=JSON_BODY_LIMIT)
def replace_preset(
    presets: NamedDependency[Presets], name: FromPath[str], data: JSONBody[PresetReplacement]
) -> PresetView:
    if data.name is not None and data.name != name:
        raise InvalidParameter(f"the body names preset {data.name!r} but the path names {name!r}")
    preset = unreserved(Preset.from_mapping({"name": name, "params": data.params}))
    return PresetView.of(presets.replace(preset))


@delete("/{name:str}", status_code=204, sync_to_thread=True, responses=errors(400, 403, 404, 405))
def delete_preset(presets: NamedDependency[Presets], name: FromPath[str]) -> None:
    presets.delete(name)


presets_router = Router(
    path="/presets",
    tags=["presets"],
    route_handlers=[
        list_presets, create_preset, export_presets, import_presets, get_preset, replace_preset,
        delete_preset,
    ],
)
