"""Every setting and limit of Rilievo's processes: the RILIEVO_* variables (parsed, or refused in one line
that names the setting), the same settings written on the command line, and the fixed limits the web
server and the worker hold clients and themselves to."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import SplitResult, urlsplit

import attrs

from rilievo.adapters.model_store import ModelStore, hub_cache_of
from rilievo.domain.cleanup import parse_size
from rilievo.domain.errors import InvalidParameter

Value = TypeVar("Value")

DEFAULT_MAX_PIXELS = 150_000_000
DEFAULT_MAX_UPLOAD_MB = 300  # a large 16-bit TIFF from a camera fits comfortably
DEFAULT_DIFFUSION_STEPS = 30
DEFAULT_DIFFUSION_SIZE = 768
MEGABYTE = 1024 * 1024

# The web server (`rilievo serve`): what a client may take or send.
HEADER_TIMEOUT_S = 10  # from the connection (or the first byte of a next request) to the end of its head
KEEP_ALIVE_S = 5  # an idle connection between two requests
MAX_CONNECTIONS = 64  # a browser opens at most 6 per site
# A local upload of the 300 MB limit takes a second or two; these leave room for a slow network.
BODY_TIMEOUT_S = 60.0  # the whole body
BODY_IDLE_TIMEOUT_S = 10.0  # between two pieces of it
JSON_BODY_LIMIT = 1024 * 1024  # job requests and presets: a thousand times what a real one takes
MAX_JSON_DEPTH = 32  # a presets file nests 4 levels deep; Python's decoders give up near 1,000
MAX_FORM_PARTS = 16  # the upload form sends one; a few extra fields are ignored
WORKER_STOP_TIMEOUT_S = 10  # `serve` waits this long for its worker to stop, then kills it

# The worker's storage cleanup (RILIEVO_KEEP_DAYS, RILIEVO_STORAGE_BUDGET).
CLEANUP_EVERY_S = 3600.0
CLEANUP_STOP_WAIT_S = 60.0  # a stopping worker lets a cleanup under way finish its removals, at most this long


@attrs.frozen
class Settings:
    storage_dir: Path
    models_dir: Path
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB  # the web app refuses larger request bodies with a 413
    immediate_queue: bool = False  # run queued jobs in the submitting process (tests)
    diffusion_steps: int = DEFAULT_DIFFUSION_STEPS  # denoising steps the Stable Diffusion painter runs
    diffusion_size: int = DEFAULT_DIFFUSION_SIZE  # its working size: the long side, 768-1024 for SD 1.5
    keep_days: float | None = None  # the worker removes finished jobs older than this
    storage_budget: int | None = None  # bytes: the worker removes the oldest finished jobs beyond it
    hub_cache: Path | None = None  # the Hugging Face cache, where installed models are also looked for
    queue_url: str | None = None  # redis://...: the queue on Redis (a shop's workers); None: SQLite in storage
    database_url: str | None = None  # postgresql+psycopg://...: jobs and presets in PostgreSQL; None: SQLite

    @classmethod
    def from_environment(cls) -> Settings:
        environ = os.environ
        return cls(
            storage_dir=Path(environ.get("RILIEVO_STORAGE", "storage")).resolve(),
            models_dir=Path(environ.get("RILIEVO_MODELS", "models")).resolve(),
            max_pixels=from_environment(environ, "RILIEVO_MAX_PIXELS", whole_number_above_zero,
                                        DEFAULT_MAX_PIXELS),
            max_upload_mb=upload_limit_of(environ),
            diffusion_steps=from_environment(environ, "RILIEVO_DIFFUSION_STEPS", whole_number_above_zero,
                                             DEFAULT_DIFFUSION_STEPS),
            diffusion_size=from_environment(environ, "RILIEVO_DIFFUSION_SIZE", whole_number_above_zero,
                                            DEFAULT_DIFFUSION_SIZE),
            hub_cache=hub_cache_of(environ),
            queue_url=from_environment(environ, "RILIEVO_QUEUE", parse_queue_url, None),
            database_url=from_environment(environ, "RILIEVO_DATABASE", parse_database_url, None),
            **cleanup_settings(environ),
        )

    def model_store(self) -> ModelStore:
        return ModelStore(self.models_dir, hub_cache=self.hub_cache)

    @property
    def database_path(self) -> Path:
        return self.storage_dir / "rilievo.sqlite3"

    @property
    def queue_path(self) -> Path:
        return self.storage_dir / "queue.sqlite3"

    def shown_queue(self) -> str:
        """Where the queue is, as it may be shown: no credentials."""
        if self.queue_url is None:
            return "sqlite"
        parsed = urlsplit(self.queue_url)
        return f"{parsed.scheme}://{parsed.hostname or 'localhost'}:{parsed.port or 6379}{parsed.path or '/0'}"

    def shown_database(self) -> str:
        """Where the jobs are kept, as it may be shown: no credentials."""
        if self.database_url is None:
            return "sqlite"
        parsed = urlsplit(self.database_url)
        return f"postgresql://{parsed.hostname or 'localhost'}:{parsed.port or 5432}{parsed.path}"


def parse_queue_url(text: str) -> str:
    """A Redis URL; the password it may hold never appears in the refusal."""
    parsed = urlsplit(text)
    if parsed.scheme not in ("redis", "rediss") or not parsed.hostname:
        raise InvalidParameter(f"a Redis URL such as redis://host:6379/0 is needed (unset: the SQLite queue in "
                               f"the storage folder), got {_shown_start(parsed)}")
    _port_of(parsed)
    return text


def parse_database_url(text: str) -> str:
    """A PostgreSQL URL, taken by SQLAlchemy's psycopg 3 driver; the password never appears in the refusal."""
    parsed = urlsplit(text)
    if parsed.scheme not in ("postgresql", "postgresql+psycopg", "postgres") or not parsed.path.strip("/"):
        raise InvalidParameter("a PostgreSQL URL such as postgresql+psycopg://rilievo:PASSWORD@host:5432/rilievo "
                               f"is needed (unset: the SQLite database in the storage folder), got {_shown_start(parsed)}")
    _port_of(parsed)
    return "postgresql+psycopg" + text[len(parsed.scheme):]


def _shown_start(parsed: SplitResult) -> str:
    return f"one starting {parsed.scheme}:" if parsed.scheme else "one with no scheme"


def _port_of(parsed: SplitResult) -> int | None:
    try:
        return parsed.port
    except ValueError:
        raise InvalidParameter(f"the port of host {parsed.hostname!r} is not a number") from None


def upload_limit_of(environ: Mapping[str, str]) -> float:
    return from_environment(environ, "RILIEVO_MAX_UPLOAD_MB", parse_megabytes, DEFAULT_MAX_UPLOAD_MB)


def cleanup_settings(environ: Mapping[str, str]) -> dict:
    """Settings' keep_days and storage_budget from RILIEVO_KEEP_DAYS and RILIEVO_STORAGE_BUDGET (unset or
    empty: None). Raises InvalidParameter."""
    return {
        "keep_days": from_environment(environ, "RILIEVO_KEEP_DAYS", parse_days, None),
        "storage_budget": from_environment(environ, "RILIEVO_STORAGE_BUDGET", parse_size, None),
    }


# --- settings written as text ----------------------------------------------------------------------


def finite_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def whole_number_above_zero(text: str) -> int:
    number = finite_number(text)
    if number is None or number < 1 or number != int(number):
        raise InvalidParameter(f"a whole number above 0 is needed, got {text!r}")
    return int(number)


def parse_megabytes(text: str) -> float:
    megabytes = finite_number(text)
    if megabytes is None or megabytes <= 0:
        raise InvalidParameter(f"a size in MB > 0 such as 300 or 0.5 is needed, got {text!r}")
    return megabytes


def parse_days(text: str) -> float:
    days = finite_number(text)
    if days is None or days < 0:
        raise InvalidParameter(f"a number of days >= 0 such as 30 or 0.5 is needed, got {text!r}")
    return days


def from_environment(environ: Mapping[str, str], variable: str, parse: Callable[[str], Value],
                     default: Value) -> Value:
    """The variable's value parsed (unset or blank: the default); InvalidParameter names the variable."""
    text = environ.get(variable, "").strip()
    try:
        return parse(text) if text else default
    except InvalidParameter as error:
        raise InvalidParameter(f"{variable}: {error}") from None


def as_argument(parse: Callable[[str], Value]) -> Callable[[str], Value]:
    """argparse reports only its own error types as a usage error."""
    def convert(text: str) -> Value:
        try:
            return parse(text)
        except InvalidParameter as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    convert.__name__ = parse.__name__
    return convert
