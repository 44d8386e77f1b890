"""Waiting for something to happen, never for a fixed time.

A fixed sleep is either too short on a busy machine (a flaky test) or too long on an
idle one (a slow suite); polling the condition itself is neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: How often the condition is polled, in seconds.
POLL = 0.02


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Return as soon as ``condition()`` is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting until {what}")
        time.sleep(POLL)
