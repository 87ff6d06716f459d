"""The models Rilievo knows, where they live on disk, and how they get there.

Each model lives in models/<key>/: a transformers or diffusers folder (config files and weights), or,
for Real-ESRGAN, one release file inside that folder. Nothing is ever half-installed: a pull writes
into models/.partial/ and the folder is renamed into place only once its files are complete and
verified.

What is verified, honestly:

* Hugging Face files: huggingface_hub checks each file's size against what the hub reports. It also
  records each file's etag (in <folder>/.cache/huggingface/download/*.metadata); for LFS files, which
  all weight files are, the etag is the file's sha256, and the store compares the weights it
  received with it. A non-LFS etag (small text files) is a git hash and is not checked.
* Release files (Real-ESRGAN): Real-ESRGAN publishes no checksums. The sha256 and sizes pinned below
  are what many independent projects record for the official v0.1.0 / v0.2.5.0 release files; a
  download that does not match them is refused.
* The sha256 of every weight file is recorded (for job records) in <folder>/.rilievo-sha256.json,
  keyed by path, size and mtime, so it is computed once per file.

The Hugging Face cache. A hub model that is not in models/ but whose files are already in the user's
hub cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub: a snapshot folder
models--org--name/snapshots/<revision>/ holding every required file) counts as installed from there,
and the engines load it in place. Its weight files link to blobs named by their sha256 (LFS), so it is
verified like a download: `pull` hashes the weights and compares, and downloads only if they differ
or cannot be checked; a job's record does the same check when it hashes them. Nothing is written into
the hub cache: the hashes of its files are cached in models/.hub-sha256/.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, Protocol

import attrs
import structlog

from rilievo.domain.errors import RilievoError

DEPTH, DIFFUSION, CONTROLNET, UPSCALER = "depth", "diffusion", "controlnet", "upscaler"
SEGMENTATION = "segmentation"
KINDS = (DEPTH, DIFFUSION, CONTROLNET, UPSCALER, SEGMENTATION)
HASH_CACHE = ".rilievo-sha256.json"
HUB_HASH_CACHES = ".hub-sha256"
PARTIAL = ".partial"
HUB_METADATA = Path(".cache") / "huggingface" / "download"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt", ".ckpt")
CHUNK = 1 << 20
SHA256 = re.compile(r"[0-9a-f]{64}")
log = structlog.get_logger(__name__)

# (key, bytes done, bytes expected or None)
Progress = Callable[[str, int, "int | None"], None]


class ModelStoreError(RilievoError):
    """A model is unknown, or could not be downloaded or verified."""


class UnknownModel(ModelStoreError):
    pass


class ModelDownloadFailed(ModelStoreError):
    pass


class ModelsOffline(ModelDownloadFailed):
    """The download source could not be reached (no network, DNS, proxy)."""


@attrs.frozen
class ModelSpec:
    """One entry of the catalogue.

    required: glob patterns (relative to the model's folder) that must each match a file for the
    model to count as installed; "a|b" accepts either. patterns: what to fetch from the hub repo
    (allow_patterns), so fp16 duplicates, .bin copies, ONNX and Flax files are never downloaded.
    """

    key: str
    kind: str
    source: str  # a Hugging Face repo id, or an https URL of a single release file
    licence: str
    download_bytes: int  # approximate, for the listing and progress
    required: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    default: bool = False  # part of `rilievo models pull` without arguments
    sha256: str | None = None  # pinned, for release files
    description: str = ""

    @property
    def from_hub(self) -> bool:
        return not self.source.startswith(("https://", "http://"))

    @property
    def filename(self) -> str | None:
        """The single weights file of a release-file model."""
        return None if self.from_hub else self.source.rsplit("/", 1)[-1]


TRANSFORMERS_FILES = ("config.json", "preprocessor_config.json", "model.safetensors")
CONTROLNET_FILES = ("config.json", "diffusion_pytorch_model.safetensors")
# fp32 weights of the parts the pipeline loads; the safety checker (1.2 GB) is not loaded
# (safety_checker=None), and the repo's single-file checkpoints and fp16 copies are skipped.
SD15_FILES = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "tokenizer/*",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
    "feature_extractor/preprocessor_config.json",
)
SD15_REQUIRED = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/*.safetensors|text_encoder/*.bin",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "unet/config.json",
    "unet/*.safetensors|unet/*.bin",
    "vae/config.json",
    "vae/*.safetensors|vae/*.bin",
)

# Depth Anything V2 Base and Large are CC-BY-NC-4.0 (non-commercial): deliberately not listed.
CATALOGUE: tuple[ModelSpec, ...] = (
    ModelSpec(
        key="depth-anything-v2-small",
        kind=DEPTH,
        source="depth-anything/Depth-Anything-V2-Small-hf",
        licence="Apache-2.0",
        download_bytes=99_200_000,
        required=("config.json", "*.safetensors|*.bin"),
        patterns=TRANSFORMERS_FILES,
        default=True,
        description="Depth Anything V2 Small (25 M parameters): the default depth model",
    ),
    ModelSpec(
        key="dpt-hybrid-midas",
        kind=DEPTH,
        source="Intel/dpt-hybrid-midas",
        licence="Apache-2.0",
        download_bytes=490_000_000,
        required=("config.json", "*.safetensors|*.bin"),
        patterns=TRANSFORMERS_FILES,
        description="MiDaS v3 DPT-Hybrid: an alternative depth model",
    ),
    # EoMT-S: MIT (TU/e's code and weights) on a DINOv2 ViT-S (Apache-2.0). Mask2Former's COCO weights are
    # CC-BY-NC-4.0 (its MODEL_ZOO.md), so not listed. The repo also holds the original code's
    # pytorch_model.bin, which transformers cannot read: only the safetensors port counts.
    ModelSpec(
        key="eomt-small-coco-panoptic",
        kind=SEGMENTATION,
        source="tue-mps/coco_panoptic_eomt_small_640_2x",
        licence="MIT",
        download_bytes=96_000_000,
        required=("config.json", "*.safetensors"),
        patterns=TRANSFORMERS_FILES,
        default=True,
        description="EoMT-S panoptic (24 M parameters, COCO's 133 classes): whole objects and background "
                    "surfaces, named, for the layer plan",
    ),
    ModelSpec(
        key="sd15",
        kind=DIFFUSION,
        source="stable-diffusion-v1-5/stable-diffusion-v1-5",
        licence="CreativeML OpenRAIL-M",
        download_bytes=4_270_000_000,
        required=SD15_REQUIRED,
        patterns=SD15_FILES,
        default=True,
        description="Stable Diffusion 1.5 (fp32 UNet, VAE, text encoder): the painterly engine",
    ),
    ModelSpec(
        key="controlnet-depth",
        kind=CONTROLNET,
        source="lllyasviel/control_v11f1p_sd15_depth",
        licence="OpenRAIL",
        download_bytes=1_450_000_000,
        required=("config.json", "*.safetensors|*.bin"),
        patterns=CONTROLNET_FILES,
        default=True,
        description="ControlNet 1.1 depth for SD 1.5: keeps the layers' geometry",
    ),
    ModelSpec(
        key="controlnet-canny",
        kind=CONTROLNET,
        source="lllyasviel/control_v11p_sd15_canny",
        licence="OpenRAIL",
        download_bytes=1_450_000_000,
        required=("config.json", "*.safetensors|*.bin"),
        patterns=CONTROLNET_FILES,
        default=True,
        description="ControlNet 1.1 canny for SD 1.5: keeps the outlines",
    ),
    ModelSpec(
        key="realesrgan-x4plus",
        kind=UPSCALER,
        source="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth",
        licence="BSD-3-Clause",
        download_bytes=67_040_989,
        required=("RealESRGAN_x4plus.pth",),
        sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
        description="Real-ESRGAN x4plus (RRDB): best detail, slow on a CPU",
    ),
    ModelSpec(
        key="realesr-general-x4v3",
        kind=UPSCALER,
        source="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.5.0/realesr-general-x4v3.pth",
        licence="BSD-3-Clause",
        download_bytes=4_885_111,
        required=("realesr-general-x4v3.pth",),
        default=True,
        sha256="8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292",
        description="Real-ESRGAN general x4v3 (compact): fast print-size upscaling",
    ),
)

DEFAULT_PULL = tuple(spec.key for spec in CATALOGUE if spec.default)


class Downloader(Protocol):
    def __call__(self, spec: ModelSpec, destination: Path, progress: Callable[[int, int | None], None]) -> None:
        """Put the model's files into destination (an empty folder); raise on any failure."""


def hub_cache_of(environ: Mapping[str, str]) -> Path:
    """Where huggingface_hub keeps its downloads, by its own rules."""
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if environ.get(variable):
            return Path(environ[variable]).expanduser()
    home = environ.get("HF_HOME") or os.path.join(environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


class ModelStore:
    """Models on local disk under models_dir, or found in the Hugging Face cache hub_cache (None: not
    looked at). downloader fetches a model into an empty folder; the default one uses huggingface_hub
    or a streamed HTTP download."""

    def __init__(
        self,
        models_dir: Path,
        *,
        hub_cache: Path | None = None,
        downloader: Downloader | None = None,
        catalogue: tuple[ModelSpec, ...] = CATALOGUE,
    ) -> None:
        self.models_dir = Path(models_dir)
        self.hub_cache = Path(hub_cache) if hub_cache is not None else None
        self.catalogue = catalogue
        self._specs = {spec.key: spec for spec in catalogue}
        self._downloader = downloader or download

    def spec(self, key: str) -> ModelSpec:
        try:
            return self._specs[key]
        except KeyError:
            known = ", ".join(self._specs)
            raise UnknownModel(f"unknown model {key!r}; known models: {known}") from None

    def folder(self, key: str) -> Path:
        """The model's folder: models/<key>/ when complete there, else a complete snapshot in the
        Hugging Face cache, else models/<key>/ (where a pull puts it)."""
        return self.cached_snapshot(key) or self.own_folder(key)

    def own_folder(self, key: str) -> Path:
        return self.models_dir / self.spec(key).key

    def cached_snapshot(self, key: str) -> Path | None:
        """The Hugging Face cache's snapshot of the model, if models/<key>/ is not complete and the cache
        holds every required file (the revision of refs/main first, then the newest)."""
        spec = self.spec(key)
        own = self.own_folder(key)
        if self.hub_cache is None or not spec.from_hub or (own.is_dir() and not _missing(spec, own)):
            return None
        return _complete_snapshot(spec, self.hub_cache / ("models--" + spec.source.replace("/", "--")))

    def installed_from(self, key: str) -> str | None:
        """"models" (models/<key>/), "hub-cache" (the Hugging Face cache) or None (not installed)."""
        if self.cached_snapshot(key) is not None:
            return "hub-cache"
        return "models" if self.is_installed(key) else None

    def location(self, key: str) -> Path:
        """What an adapter loads: the folder, or the weights file of a single-file model."""
        spec = self.spec(key)
        folder = self.folder(key)
        return folder if spec.filename is None else folder / spec.filename

    def missing(self, key: str) -> list[str]:
        """The required patterns that match no file (empty: installed)."""
        return _missing(self.spec(key), self.folder(key))

    def is_installed(self, key: str) -> bool:
        return self.folder(key).is_dir() and not self.missing(key)

    def installed(self) -> list[str]:
        return [spec.key for spec in self.catalogue if self.is_installed(spec.key)]

    def disk_bytes(self, key: str) -> int:
        folder = self.folder(key)
        return sum(path.stat().st_size for path in _files(folder)) if folder.is_dir() else 0

    def weight_hashes(self, key: str) -> dict[str, str]:
        """sha256 of each weight file, by path relative to the model's folder. A copy in the Hugging
        Face cache whose weights differ from the hub's sha256 raises ModelStoreError."""
        snapshot = self.cached_snapshot(key)
        if snapshot is None:
            return file_hashes(self.folder(key))
        hashes = file_hashes(snapshot, cache_path=self._hub_hash_cache(key, snapshot))
        wrong = _blob_mismatches(snapshot, hashes)
        if wrong:
            raise ModelStoreError(
                f"{key} in the Hugging Face cache ({snapshot}) is damaged: {wrong[0]}; "
                f"`rilievo models pull {key}` downloads a good copy")
        return hashes

    def verified_in_hub_cache(self, key: str) -> Path | None:
        """The cache's snapshot, if it holds the model and every weight file there matches the sha256
        the hub gave it (its blob's name); else None."""
        snapshot = self.cached_snapshot(key)
        if snapshot is None:
            return None
        hashes = file_hashes(snapshot, cache_path=self._hub_hash_cache(key, snapshot))
        if not hashes or _blob_mismatches(snapshot, hashes):
            log.warning("models.hub_cache_unverified", key=key, snapshot=str(snapshot),
                        problems=_blob_mismatches(snapshot, hashes) or ["no weight files"])
            return None
        return snapshot

    def _hub_hash_cache(self, key: str, snapshot: Path) -> Path:
        return self.models_dir / HUB_HASH_CACHES / f"{key}@{snapshot.name}.json"

    def pull(self, key: str, progress: Progress | None = None) -> Path:
        """Download, verify and install a model; returns its location. A model already installed in
        models/ is downloaded again (an update); one in the Hugging Face cache is verified there and
        used as it is, unless it fails the check. On any failure nothing is left and the old copy stays."""
        spec = self.spec(key)
        if self.verified_in_hub_cache(key) is not None:
            return self.location(key)
        partial_root = self.models_dir / PARTIAL
        partial_root.mkdir(parents=True, exist_ok=True)
        staging = partial_root / f"{spec.key}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        report = (lambda done, total: progress(spec.key, done, total)) if progress else _ignore
        try:
            try:
                self._downloader(spec, staging, report)
            except ModelStoreError:
                raise
            except Exception as error:
                raise _download_error(spec, error) from error
            _verify(spec, staging)
            self._install(spec, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            _remove_if_empty(partial_root)
        return self.location(key)

    def _install(self, spec: ModelSpec, staging: Path) -> None:
        target = self.models_dir / spec.key
        previous = None
        if target.exists():
            previous = self.models_dir / PARTIAL / f"{spec.key}-old-{uuid.uuid4().hex[:8]}"
            target.rename(previous)
        try:
            staging.rename(target)
        except OSError:
            if previous is not None:
                previous.rename(target)
            raise
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)


def _ignore(done: int, total: int | None) -> None:
    pass


def _verify(spec: ModelSpec, folder: Path) -> None:
    """Refuse an incomplete or corrupt download; record the hashes of what was received."""
    missing = _missing(spec, folder)
    if missing:
        raise ModelDownloadFailed(
            f"download of {spec.key} from {spec.source} is incomplete: nothing matches {', '.join(missing)}"
        )
    hashes = file_hashes(folder)
    if spec.sha256 is not None:
        got = hashes.get(spec.filename or "")
        if got != spec.sha256:
            raise ModelDownloadFailed(
                f"{spec.filename} from {spec.source} has sha256 {got}, expected {spec.sha256}: refused"
            )
    for name, expected in _hub_etags(folder).items():
        if name in hashes and hashes[name] != expected:
            raise ModelDownloadFailed(
                f"{spec.key}/{name} has sha256 {hashes[name]}, but the hub says {expected}: refused"
            )


def _hub_etags(folder: Path) -> dict[str, str]:
    """The sha256 etags huggingface_hub recorded for the files it downloaded into folder."""
    root = folder / HUB_METADATA
    etags = {}
    for meta in root.rglob("*.metadata") if root.is_dir() else ():
        lines = meta.read_text(encoding="utf-8", errors="replace").splitlines()
        etag = lines[1].strip().strip('"').lower() if len(lines) > 1 else ""
        if SHA256.fullmatch(etag):
            etags[meta.relative_to(root).as_posix().removesuffix(".metadata")] = etag
    return etags


def file_hashes(folder: Path, *, cache_path: Path | None = None) -> dict[str, str]:
    """sha256 of every weight file under folder, cached by path, size and mtime in cache_path
    (default folder/.rilievo-sha256.json; a file that changes is hashed again)."""
    if not folder.is_dir():
        return {}
    cache_path = cache_path or folder / HASH_CACHE
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    hashes, fresh = {}, {}
    for path in sorted(_files(folder)):
        if path.suffix not in WEIGHT_SUFFIXES:
            continue
        name = path.relative_to(folder).as_posix()
        stat = path.stat()
        entry = cache.get(name)
        if not (isinstance(entry, dict) and entry.get("size") == stat.st_size
                and entry.get("mtime_ns") == stat.st_mtime_ns):
            entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256_of(path)}
        fresh[name] = entry
        hashes[name] = entry["sha256"]
    if fresh != cache:
        _write_json(cache_path, fresh)
    return hashes


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, data: dict) -> None:
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:  # a read-only models folder: hashes are then recomputed next time
        temporary.unlink(missing_ok=True)


def _files(folder: Path):
    """Regular files under folder, without huggingface_hub's bookkeeping or our hash cache."""
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).parts
        if relative[0] in (".cache", HASH_CACHE) or not path.is_file():
            continue
        yield path


def _missing(spec: ModelSpec, folder: Path) -> list[str]:
    return [pattern for pattern in spec.required if not _matches_any(folder, pattern)]


def _matches_any(folder: Path, pattern: str) -> bool:
    return any(
        any(path.is_file() for path in folder.glob(alternative)) for alternative in pattern.split("|")
    )


def _complete_snapshot(spec: ModelSpec, repo: Path) -> Path | None:
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    try:
        main = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        main = ""
    candidates = sorted((path for path in snapshots.iterdir() if path.is_dir()),
                        key=lambda path: (path.name == main, path.stat().st_mtime), reverse=True)
    return next((path for path in candidates if not _missing(spec, path)), None)


def _blob_mismatches(snapshot: Path, hashes: dict[str, str]) -> list[str]:
    """The weight files of a hub-cache snapshot that differ from, or cannot be checked against, the
    sha256 the hub gave them: each links to blobs/<sha256> (LFS files, which all weights are)."""
    problems = []
    for name, digest in hashes.items():
        blob = (snapshot / name).resolve().name
        if not SHA256.fullmatch(blob):
            problems.append(f"{name} has no hub sha256 to check against (not a link to an LFS blob)")
        elif blob != digest:
            problems.append(f"{name} has sha256 {digest}, but the hub says {blob}")
    return problems


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


# --- downloading ----------------------------------------------------------------------------------


def download(spec: ModelSpec, destination: Path, progress: Callable[[int, int | None], None]) -> None:
    """The real downloader: huggingface_hub for hub repos, a streamed HTTP GET for release files."""
    if spec.from_hub:
        _download_from_hub(spec, destination, progress)
    else:
        _download_file(spec.source, destination / (spec.filename or "weights"), progress)


def _download_from_hub(spec: ModelSpec, destination: Path, progress: Callable[[int, int | None], None]) -> None:
    """snapshot_download into destination. Its own progress bars count files; the bytes reported
    here are what has landed in the folder so far, polled, against the catalogue's approximate size."""
    from huggingface_hub import snapshot_download

    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.5):
            progress(_bytes_under(destination), spec.download_bytes)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        snapshot_download(spec.source, local_dir=destination, allow_patterns=list(spec.patterns))
    finally:
        done.set()
        watcher.join()
    progress(_bytes_under(destination), spec.download_bytes)


def _bytes_under(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:  # a temporary file renamed while we looked
            pass
    return total


def _download_file(url: str, target: Path, progress: Callable[[int, int | None], None]) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "rilievo"})
    with urllib.request.urlopen(request, timeout=60) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        with target.open("wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                progress(done, total)
    if total is not None and done != total:
        raise ModelDownloadFailed(f"{url} ended after {done} of {total} bytes")


NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    urllib.error.URLError,
    ConnectionError,
    socket.gaierror,
    socket.timeout,
    TimeoutError,
)
# huggingface_hub and its HTTP client raise these; matched by name so that no import is needed
# (httpx ships vendored under other module names in some versions).
NETWORK_ERROR_NAMES = {
    "LocalEntryNotFoundError", "OfflineModeIsEnabled", "ConnectError", "ConnectTimeout",
    "ReadTimeout", "NetworkError", "TransportError", "ProxyError", "SSLError",
}


def _download_error(spec: ModelSpec, error: BaseException) -> ModelDownloadFailed:
    where = "huggingface.co" if spec.from_hub else spec.source.split("/")[2]
    if _is_network_error(error):
        return ModelsOffline(f"cannot reach {where} to download {spec.key} (offline?): {_root_cause(error)}")
    return ModelDownloadFailed(f"download of {spec.key} from {spec.source} failed: {type(error).__name__}: {error}")


def _is_network_error(error: BaseException) -> bool:
    seen = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, urllib.error.HTTPError):  # the server answered: not offline
            return False
        if isinstance(current, NETWORK_ERRORS) or type(current).__name__ in NETWORK_ERROR_NAMES:
            return True
        current = current.__cause__ or current.__context__
    return False


def _root_cause(error: BaseException) -> str:
    while (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__
    return str(error).splitlines()[0] if str(error) else type(error).__name__
