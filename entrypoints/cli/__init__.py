"""The `rilievo` command line: thin, every decision is in the services."""

from .main import main

__all__ = ["main"]
