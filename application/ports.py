"""What the use cases need from the outside world. Adapters implement these; tests fake them.

Images cross these ports as numpy arrays: HxWx3 float32 sRGB in [0, 1]; depth as HxW float32 in
[0, 1] with 0 = nearest.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from rilievo.domain.images import DecodedImage
from rilievo.domain.job import Job
from rilievo.domain.upload import Upload

Clock = Callable[[], datetime]


class ImageDecoder(Protocol):
    def decode(self, path: Path) -> DecodedImage:
        """Validate and decode a photo, oriented and in sRGB. Raises ImageRejected."""


class DepthEstimator(Protocol):
    name: str

    def estimate(self, image: np.ndarray) -> np.ndarray:
        """HxW float32 in [0, 1], 0 = nearest. Raises DepthEstimationFailed."""


class SuppliedDepthReader(Protocol):
    name: str

    def read(self, path: Path, width: int, height: int, near: str) -> np.ndarray:
        """The user's own depth map resized to width x height, 0 = nearest; near is "white" or "black"."""


class Enhancer(Protocol):
    name: str

    def sharpen(self, image: np.ndarray, amount: float) -> np.ndarray:
        """Photo-mode sharpening and clarity; amount 0 returns the image unchanged."""


class UploadStore(Protocol):
    def save(self, source: Path, decoded: DecodedImage) -> Upload:
        """Keep the original file byte for byte. Nothing is left behind if this fails."""

    def get(self, upload_id: str) -> Upload:
        """Raises UploadNotFound."""

    def original_path(self, upload_id: str) -> Path: ...


class JobFiles(Protocol):
    """A job's files: written into a private working folder, published whole when the job succeeds."""

    def write_image(self, job_id: str, name: str, pixels: np.ndarray, bits: int) -> None:
        """Gray, RGB or RGBA float pixels in [0, 1] as an 8- or 16-bit PNG."""

    def write_json(self, job_id: str, name: str, data: dict) -> None: ...

    def publish(self, job_id: str, destination: Path | None = None) -> Path:
        """Move the finished set to destination/{job_id}/ (default: the outputs folder); returns it."""

    def discard(self, job_id: str) -> None:
        """Remove whatever an unfinished job wrote."""


class JobRepository(Protocol):
    def add(self, job: Job) -> None: ...

    def get(self, job_id: str) -> Job:
        """Raises JobNotFound."""

    def save(self, job: Job) -> None: ...

    def list(self, *, limit: int = 50, offset: int = 0) -> list[Job]:
        """Newest first."""
