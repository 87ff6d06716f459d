"""Multipart bodies read as they arrive. The photo goes once, straight from the socket, into a file in
the storage's own temp folder (never the system's, which may be small); no field is decoded as text,
so a photo sent without a file name (`curl -F "file=<photo.jpg"`) or an extra binary field is fine."""

from __future__ import annotations

import errno
import re
import shutil
import tempfile
import time
from contextlib import aclosing, asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import unquote

from litestar import Request
from litestar.concurrency import sync_to_thread
from litestar.exceptions import ClientException
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser, parse_options_header

from rilievo.domain.errors import StorageFull

from ..settings import MAX_FORM_PARTS

FIELD = "file"
STALE_AFTER_S = 3600  # an upload still arriving is far younger: its body must come within a minute
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def no_room(received: int | None = None) -> StorageFull:
    so_far = "" if received is None else f" ({received / 1024 / 1024:.3g} MB received)"
    return StorageFull(f"the disk is full: not enough free space in the storage folder for this upload{so_far}; "
                       "free some (rilievo cleanup) and send it again")


@dataclass(frozen=True)
class ReceivedFile:
    path: Path
    filename: str | None  # as the sender named it, if it did


def safe_file_name(name: str | None) -> str:
    """The sender's file name, kept for error messages, reduced to characters safe in a path."""
    kept = re.sub(r"[^A-Za-z0-9._ -]", "_", Path(name or "").name)[-100:].lstrip(".")
    return kept or "upload"


def filename_of(segment: MultipartSegment) -> str | None:
    """filename="…", or the RFC 5987 form filename*=UTF-8''… that the multipart parser leaves out."""
    if segment.filename:
        return segment.filename
    disposition = segment.header("Content-Disposition", "")
    if found := re.search(r"filename\*\s*=\s*([\w-]+)'[^']*'([^;\s]+)", disposition):
        encoding = "utf-8" if found[1].lower() == "utf-8" else "latin-1"
        return unquote(found[2], encoding=encoding, errors="replace") or None
    return None


async def multipart_events(request: Request) -> AsyncIterator[MultipartSegment | bytes | None]:
    """The parser's events for the request body: a segment's headers, its data, None at its end."""
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    if media_type != "multipart/form-data" or not options.get("boundary"):
        raise ClientException(f"send a multipart/form-data body with the field {FIELD!r}")
    try:
        with PushMultipartParser(options["boundary"].encode("latin-1"), max_segment_count=MAX_FORM_PARTS) as parser:
            async for chunk in request.stream():  # ends with b"": the end of input
                for event in parser.parse(chunk):
                    yield event
                if parser.closed:
                    break
    except ParserLimitReached:
        raise ClientException(f"the form has more than {MAX_FORM_PARTS} fields") from None
    except ParserError as error:
        raise ClientException(f"the multipart body is malformed: {error}") from None


@asynccontextmanager
async def received_file(request: Request, folder: Path) -> AsyncIterator[ReceivedFile]:
    """The field `file` in a file of its own under `folder`, removed when the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    announced = request.content_length
    if announced is not None and announced > shutil.disk_usage(folder).free:
        raise no_room()
    work = Path(tempfile.mkdtemp(prefix="upload-", dir=folder))
    try:
        received = await receive_into(request, work)
        if received is None:
            raise ClientException(f"the multipart field {FIELD!r} with the photo is missing")
        yield received
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def receive_into(request: Request, folder: Path) -> ReceivedFile | None:
    received, target, size = None, None, 0
    try:
        async with aclosing(multipart_events(request)) as events:
            async for event in events:
                if isinstance(event, MultipartSegment):
                    if event.name == FIELD and received is None:
                        received = ReceivedFile(folder / safe_file_name(filename_of(event)), filename_of(event))
                        target = received.path.open("wb")
                elif event is None:
                    if target is not None:
                        await sync_to_thread(target.close)  # flushes: the disk may be full here too
                        target = None
                elif target is not None:
                    await sync_to_thread(target.write, event)
                    size += len(event)
    except OSError as error:
        if error.errno in DISK_FULL:
            raise no_room(size) from None
        raise
    finally:
        if target is not None:
            with suppress(OSError):
                target.close()
    return received


def remove_stale_uploads(folder: Path) -> None:
    """What a server killed in the middle of an upload left behind (they are removed otherwise)."""
    for work in folder.glob("upload-*"):
        with suppress(OSError):
            if time.time() - work.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(work)


async def received_field(request: Request, field: str = FIELD) -> bytes | None:
    """One field's bytes, held in memory: for small bodies (the route limits their size)."""
    value, current = None, None
    async with aclosing(multipart_events(request)) as events:
        async for event in events:
            if isinstance(event, MultipartSegment):
                current = bytearray() if event.name == field and value is None else None
            elif event is None:
                if current is not None:
                    value = bytes(current)
                current = None
            elif current is not None:
                current += event
    return value
