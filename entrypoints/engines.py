"""Which engine each stage runs: chosen from the models installed and the packages importable, and the
adapters built for that choice. Deciding reads only the models folder (the web process needs no torch)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from rilievo.adapters.model_store import DEPTH, ModelStore
from rilievo.application.ports import DepthEstimator, Painter, Segmenter, Upscaler
from rilievo.domain.errors import InvalidParameter
from rilievo.domain.params import AUTO_DEPTH, CLASSICAL_DEPTH

if TYPE_CHECKING:
    from .settings import Settings

DEPTH_PREFERENCE = ("depth-anything-v2-small", "dpt-hybrid-midas")
PAINT_MODELS = ("sd15", "controlnet-depth", "controlnet-canny")
# The compact model first: it is 30x faster on a CPU and part of the default pull.
UPSCALE_PREFERENCE = ("realesr-general-x4v3", "realesrgan-x4plus")
SEGMENT_PREFERENCE = ("eomt-small-coco-panoptic",)
# what each stage falls back to without weights
FALLBACK_ENGINES = {"depth": "classical", "paint": "classical-strokes", "upscale": "lanczos"}


def engine_choice(store: ModelStore, *, has_package: Callable[[str], bool] | None = None) -> dict[str, str]:
    """The engine each stage uses with the models installed now: a model key, or the classical
    fallback ("classical", "classical-strokes", "lanczos"); paint needs SD 1.5 and both ControlNets.
    Installed weights without the learned extra's packages (torch, ...) fall back too."""
    has = has_package or _importable
    torch = has("torch")
    depth_ok = depth_models_usable(has)
    paint_ok = depth_ok and has("diffusers")
    depth = next((key for key in DEPTH_PREFERENCE if depth_ok and store.is_installed(key)), "classical")
    paint = "stable-diffusion" if paint_ok and all(store.is_installed(key) for key in PAINT_MODELS) \
        else "classical-strokes"
    upscale = next((key for key in UPSCALE_PREFERENCE if torch and store.is_installed(key)), "lanczos")
    return {"depth": depth, "paint": paint, "upscale": upscale}


def depth_models_usable(has_package: Callable[[str], bool] | None = None) -> bool:
    """Whether the learned depth models can run here: torch and transformers are installed."""
    has = has_package or _importable
    return has("torch") and has("transformers")


def _importable(package: str) -> bool:
    """Without importing it (torch takes seconds)."""
    return importlib.util.find_spec(package) is not None


def choose_depth_estimator(store: ModelStore, engine: str) -> DepthEstimator:
    """The learned depth model named engine (a catalogue key), else the classical estimator."""
    if engine == CLASSICAL_DEPTH:
        from rilievo.adapters.depth_classical import ClassicalDepth

        return ClassicalDepth()
    from rilievo.adapters.depth_learned import LearnedDepth

    return LearnedDepth(store.folder(engine), key=engine)  # loads on first use, then keeps the model


class DepthEngineChoice:
    """The depth engines a job may name: "auto" (the estimator bootstrap chose), "classical" and each
    installed depth model, when torch and transformers are there too. Deciding reads only the models
    folder (the web process needs no torch); estimators are built on first use and kept, so each model
    loads once per process. auto is None where no job runs (the web process): it only checks."""

    def __init__(self, store: ModelStore, auto: DepthEstimator | None, *, learned: bool) -> None:
        self.store = store
        self.learned = learned
        self._built: dict[str, DepthEstimator] = {AUTO_DEPTH: auto, auto.name: auto} if auto is not None else {}
        self._lock = threading.Lock()

    def models(self) -> list[str]:
        """The catalogue's depth models."""
        return [spec.key for spec in self.store.catalogue if spec.kind == DEPTH]

    def choices(self) -> list[str]:
        installed = [key for key in self.models() if self.learned and self.store.is_installed(key)]
        return [AUTO_DEPTH, CLASSICAL_DEPTH, *installed]

    def check(self, key: str) -> None:
        if key in (AUTO_DEPTH, CLASSICAL_DEPTH):
            return
        if key not in self.models():
            raise InvalidParameter(f"depth_engine {key!r} is unknown; the depth engines are "
                                   f"{', '.join([AUTO_DEPTH, CLASSICAL_DEPTH, *self.models()])}")
        if not self.store.is_installed(key):
            raise InvalidParameter(f"depth_engine {key!r} cannot run: its weights are not installed "
                                   f"(`rilievo models pull {key}` downloads them)")
        if not self.learned:
            raise InvalidParameter(f"depth_engine {key!r} cannot run: torch and transformers are not installed "
                                   "(`scripts/setup learned` adds them)")

    def get(self, key: str) -> DepthEstimator:
        self.check(key)
        with self._lock:
            if key not in self._built:
                self._built[key] = choose_depth_estimator(self.store, key)
            return self._built[key]


def learned_segmenter(store: ModelStore, *, device: str | None = None,
                      has_package: Callable[[str], bool] | None = None) -> Segmenter | None:
    """The learned segmenter when its weights are installed and torch and transformers are there, else None
    (the caller runs the classical one). Reads only the models folder; the model loads on first use."""
    if not depth_models_usable(has_package):  # the same packages as the learned depth models
        return None
    key = next((key for key in SEGMENT_PREFERENCE if store.is_installed(key)), None)
    if key is None:
        return None
    from rilievo.adapters.segment_learned import LearnedSegmenter

    return LearnedSegmenter(store.folder(key), device=device, key=key)


def choose_painter(store: ModelStore, engine: str, settings: Settings) -> Painter:
    """Stable Diffusion + the two ControlNets when engine_choice picked them, else the stroke painter."""
    if engine != "stable-diffusion":
        from rilievo.adapters.paint_classical import ClassicalPainter

        return ClassicalPainter()
    from rilievo.adapters.paint_diffusion import DiffusionPainter

    # loads on the first painting, then keeps the pipeline
    return DiffusionPainter(*(store.folder(key) for key in PAINT_MODELS), loras_dir=settings.models_dir / "loras",
                            steps=settings.diffusion_steps, working_long_side=settings.diffusion_size)


def choose_upscaler(store: ModelStore, engine: str) -> Upscaler:
    """Real-ESRGAN when engine_choice picked one of its weight files, else Lanczos with sharpening."""
    if engine == "lanczos":
        from rilievo.adapters.upscale import LanczosUpscaler

        return LanczosUpscaler()
    from rilievo.adapters.upscale_esrgan import RealEsrganUpscaler

    return RealEsrganUpscaler(store.location(engine), key=engine)  # loads on first use, then keeps it


class WeightsRecord(Mapping[str, list]):
    """What the job record says about the weights of each learned engine that may run, by the name a job
    records for it ("depth-anything-v2-small", "stable-diffusion", "realesrgan:<key>"): the catalogue
    key, source, where it was installed from and the sha256 of each weight file. Computed when a job
    first asks (the web process never does), then kept; the store caches the hashes on disk too."""

    def __init__(self, store: ModelStore, keys: Mapping[str, list[str]]) -> None:
        self.store = store
        self._keys = dict(keys)
        self._records: dict[str, list[dict]] = {}

    def __getitem__(self, engine: str) -> list[dict]:
        if engine not in self._records:
            self._records[engine] = [
                {"key": key, "source": self.store.spec(key).source, "installed_from": self.store.installed_from(key),
                 "weights": self.store.weight_hashes(key)}
                for key in self._keys[engine]
            ]
        return self._records[engine]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def models_record(store: ModelStore, engines: Mapping[str, str], *, painter: Painter,
                  upscaler: Upscaler) -> WeightsRecord:
    """The weights behind each learned engine a worker may run: every depth model (a job may
    choose any that is installed, even one pulled after start), and the painter and upscaler when they
    are the learned ones engine_choice picked (not a stand-in handed to bootstrap)."""
    keys = {spec.key: [spec.key] for spec in store.catalogue if spec.kind == DEPTH}
    if painter.name == engines["paint"] == "stable-diffusion":
        keys[painter.name] = list(PAINT_MODELS)
    if upscaler.name == f"realesrgan:{engines['upscale']}":
        keys[upscaler.name] = [engines["upscale"]]
    return WeightsRecord(store, keys)
