"""The filesystem store under storage/: uploads/{id}/, jobs/{id}/ (work in progress), outputs/{id}/."""

from __future__ import annotations

import errno
import json
import os
import shutil
import uuid
import zipfile
from datetime import datetime
from pathlib import Path

import attrs
import numpy as np

from rilievo.domain.errors import RilievoError, UploadNotFound
from rilievo.domain.images import DecodedImage
from rilievo.domain.upload import Upload, new_upload_id

from .image_io import write_json_atomic, write_png

SUFFIX_OF_FORMAT = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}
UPLOAD_RECORD = "upload.json"


class StorageFailed(RilievoError):
    pass


def _partial(folder: Path) -> Path:
    """A hidden sibling that becomes `folder` by one rename once it is complete."""
    return folder.with_name(f".{folder.name}.partial-{uuid.uuid4().hex[:8]}")


def _move_folder(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise StorageFailed(f"{target} already exists; refusing to overwrite it")
    try:
        os.rename(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        staging = _partial(target)  # another filesystem: copy beside the target, then rename
        try:
            shutil.copytree(source, staging)
            os.rename(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(source)


class FilesystemUploads:
    def __init__(self, root: Path):
        self.folder = root / "uploads"

    def save(self, source: Path, decoded: DecodedImage, *, original_name: str | None = None) -> Upload:
        upload = Upload(
            id=new_upload_id(),
            original_name=original_name or source.name,
            format=decoded.format,
            width=decoded.width,
            height=decoded.height,
            bytes=source.stat().st_size,
            created_at=datetime.now().astimezone(),
        )
        final = self.folder / upload.id
        staging = _partial(final)
        staging.mkdir(parents=True)
        try:
            shutil.copyfile(source, staging / self._original_name(upload))
            record = attrs.asdict(upload) | {"created_at": upload.created_at.isoformat()}
            write_json_atomic(staging / UPLOAD_RECORD, record)
            _move_folder(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return upload

    def get(self, upload_id: str) -> Upload:
        record_path = self._folder_of(upload_id) / UPLOAD_RECORD
        try:
            record = json.loads(record_path.read_text())
        except FileNotFoundError:
            raise UploadNotFound(f"no upload with id {upload_id!r}") from None
        record["created_at"] = datetime.fromisoformat(record["created_at"])
        return Upload(**record)

    def original_path(self, upload_id: str) -> Path:
        return self._folder_of(upload_id) / self._original_name(self.get(upload_id))

    def _folder_of(self, upload_id: str) -> Path:
        if not upload_id.isalnum():  # ids become folder names: never let one climb out
            raise UploadNotFound(f"no upload with id {upload_id!r}")
        return self.folder / upload_id

    @staticmethod
    def _original_name(upload: Upload) -> str:
        return "original" + SUFFIX_OF_FORMAT.get(upload.format, "")


class FilesystemJobFiles:
    def __init__(self, root: Path):
        self.work = root / "jobs"
        self.outputs = root / "outputs"

    def _folder(self, job_id: str) -> Path:
        if not job_id.isalnum():
            raise StorageFailed(f"invalid job id {job_id!r}")
        folder = self.work / job_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def write_image(self, job_id: str, name: str, pixels: np.ndarray, bits: int) -> None:
        write_png(self._folder(job_id) / name, pixels, bits)

    def write_json(self, job_id: str, name: str, data: dict) -> None:
        write_json_atomic(self._folder(job_id) / name, data)

    def write_zip(self, job_id: str, name: str, members: list[str]) -> None:
        folder = self._folder(job_id)
        staging = folder / f".{name}.partial"
        # PNGs are compressed already: storing them is as small and much faster.
        with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_STORED) as archive:
            for member in members:
                archive.write(folder / member, arcname=member)
        os.replace(staging, folder / name)

    def publish(self, job_id: str, destination: Path | None = None) -> Path:
        target = (destination or self.outputs) / job_id
        _move_folder(self._folder(job_id), target)
        return target.resolve()

    def discard(self, job_id: str) -> None:
        if job_id.isalnum():
            shutil.rmtree(self.work / job_id, ignore_errors=True)

    def remove_published(self, output_dir: Path) -> None:
        shutil.rmtree(output_dir, ignore_errors=True)
