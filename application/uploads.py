"""Taking in photos and depth maps: validated, then kept byte for byte."""

from __future__ import annotations

from pathlib import Path

import attrs
import structlog

from rilievo.domain.images import check_depth_fits
from rilievo.domain.upload import Upload

from .ports import ImageDecoder, JobRepository, UploadStore

log = structlog.get_logger(__name__)


@attrs.frozen
class Uploads:
    decoder: ImageDecoder
    store: UploadStore
    jobs: JobRepository  # only to tell whether the storage can take a job at all

    def ingest(self, path: Path, *, original_name: str | None = None) -> Upload:
        """Validate a photo (or a depth map) and keep its original. Raises ImageRejected, or
        StorageUnavailable when the storage can't take it."""
        self.jobs.check_storage()  # never keep an upload no job could be recorded for
        decoded = self.decoder.decode(path)
        upload = self.store.save(path, decoded, original_name=original_name)
        log.info("upload.stored", upload_id=upload.id, format=upload.format, width=upload.width,
                 height=upload.height)
        return upload

    def ingest_photo_and_depth(self, photo: Path, depth_map: Path | None) -> tuple[Upload, Upload | None]:
        """A photo and, if given, the user's depth map for it. Both are checked before either is stored, so
        a refused depth map leaves nothing behind. Raises ImageRejected or InvalidParameter."""
        decoded_photo = self.decoder.decode(photo)
        decoded_depth = self.decoder.decode(depth_map) if depth_map is not None else None
        if decoded_depth is not None:
            check_depth_fits((decoded_photo.width, decoded_photo.height), (decoded_depth.width, decoded_depth.height))
        upload = self.store.save(photo, decoded_photo)
        depth_upload = self.store.save(depth_map, decoded_depth) if depth_map is not None and decoded_depth is not None else None
        return upload, depth_upload

    def get(self, upload_id: str) -> Upload:
        return self.store.get(upload_id)
