"""How every `rilievo` command ends: its exit codes, and a refusal in one line on stderr (and as one JSON
object on stdout for --json)."""

from __future__ import annotations

import json
import sys

EXIT_OK = 0
EXIT_FAILED = 1  # the work was tried and failed: a job, a download
EXIT_REFUSED = 2  # nothing was tried: a bad flag, setting or input


def print_error(message: str) -> None:
    print(f"rilievo: error: {message}", file=sys.stderr)


def refuse(message: str, *, as_json: bool = False) -> int:
    print_error(message)
    if as_json:
        print(json.dumps({"status": "refused", "error": message}))
    return EXIT_REFUSED
