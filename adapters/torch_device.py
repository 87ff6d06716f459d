"""Which torch device and precision the learned engines run on; shared by every torch adapter.

torch is imported inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rilievo.domain.errors import RilievoError

if TYPE_CHECKING:
    import torch


def pick_device(requested: str | None = None) -> str:
    """requested wins when given ("cpu", "cuda", "cuda:1", "mps"); else Apple's GPU, then CUDA, then
    the CPU (a machine has one or the other, so the order only matters in tests)."""
    if requested:
        return requested
    import torch

    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def pick_dtype(device: str) -> torch.dtype:
    """Half precision where a GPU runs it fast; float32 on the CPU, where half is slow or unsupported."""
    import torch

    return torch.float16 if device.split(":")[0] in ("cuda", "mps") else torch.float32


def load_pretrained(auto_class: str, model_dir: Path, requested_device: str | None, *,
                    failure: type[RilievoError], what: str) -> tuple[Any, str]:
    """A transformers model (auto_class names its Auto* class) from a local folder, on the device and in
    the precision picked here, in eval mode; any failure to load raises `failure` naming `what` and the folder."""
    try:
        import transformers

        device = pick_device(requested_device)
        model = getattr(transformers, auto_class).from_pretrained(
            model_dir, local_files_only=True, dtype=pick_dtype(device)
        )
        model.to(device)
        model.eval()
    except Exception as error:  # missing weights, a broken config, an unknown architecture...
        raise failure(f"cannot load the {what} in {model_dir}: {type(error).__name__}: {error}") from error
    return model, device
