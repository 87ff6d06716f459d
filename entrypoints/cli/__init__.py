"""The `rilievo` command line: thin, every decision is in the use cases."""

from .main import main

__all__ = ["main"]
