"""An accepted input file: the original, stored unmodified, and what ingest learned about it."""

import uuid
from datetime import datetime

import attrs


def new_upload_id() -> str:
    return uuid.uuid4().hex[:16]


@attrs.frozen
class Upload:
    id: str
    original_name: str
    format: str
    width: int
    height: int
    bytes: int
    created_at: datetime
