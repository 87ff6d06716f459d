"""Waiting on processes that other tests start: polling a condition until it holds or time runs out."""

from __future__ import annotations

import time


def wait_until(condition, what: str = "the condition", *, timeout_s: float = 120.0, every_s: float = 0.1):
    """Calls condition() every every_s seconds until it returns something true, and returns that; fails
    the test, naming what it waited for, after timeout_s seconds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(every_s)
    raise AssertionError(f"waited {timeout_s} s for {what}")
