"""Free local ports for starting an emulator (or a server beside it) from a test or a benchmark.

A port found free may be taken by another process before it is bound again; callers start
their server at once and a clash shows as a failed start, never as a wrong result.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_pair() -> int:
    """A free port whose successor is free too (the emulator's consent page uses port + 1)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports on 127.0.0.1")
