"""The environment of every rilievo process a test starts (serve, worker, the CLI)."""

from __future__ import annotations

import os
from pathlib import Path

ISOLATING = ("RILIEVO_STORAGE", "RILIEVO_MODELS", "HF_HOME", "HF_HUB_CACHE")


def rilievo_env(storage: Path, **variables: str) -> dict[str, str]:
    """This process's environment with the test's own storage, and, unless the test names its own, an
    empty models folder and an empty Hugging Face cache: a developer's real weights never take part."""
    storage = Path(storage)
    return {
        **os.environ,
        "RILIEVO_STORAGE": str(storage),
        "RILIEVO_MODELS": str(storage / "no-models"),
        "HF_HOME": str(storage / "no-hf-home"),
        "HF_HUB_CACHE": str(storage / "no-hf-home" / "hub"),
        **variables,
    }
