"""Polling for something another process or thread does, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """True as soon as `condition()` holds, False if it still does not after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def settled(read: Callable[[], int], reached: int, quiet: float, timeout: float = 30) -> int:
    """`read()` once it has reached `reached` and `quiet` more seconds have passed.

    For what another thread counts late (the emulator counts a call after its latency, when the
    client may have given up on it long before): waiting for the count makes a slow machine
    harmless, and the quiet time gives a call that should not have been made the time to show.
    """
    assert wait_until(lambda: read() >= reached, timeout), f"{read()} < {reached} after {timeout} s"
    time.sleep(quiet)
    return read()
