"""Which torch device and precision the learned engines run on; shared by every torch adapter.

torch is imported inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
