"""The memory of a worker process and of the helpers it forks, sampled from /proc while it runs.

A worker that forks a helper (connections/page_process.py) shares its pages with it until one
of them writes them: RSS counts those pages in both, and the worker's own peak (VmHWM) leaves
the helper out. PSS (proportional set size) divides each shared page among the processes that
map it, so the worker's PSS plus its helpers' PSS, read at one instant, is what they hold.

1. `MemorySampler.watching(pid)` reads /proc/PID/smaps_rollup of the worker and of each of its
   descendants (found through /proc/PID/task/*/children) every `interval` seconds, on a thread
   of the caller's process: nothing runs in the measured one. It keeps the peak of the sum (and
   the split at that instant) and each side's own peak; peaks shorter than `interval` may be
   missed, which the kernel's exact high-water marks (VmHWM, ru_maxrss) bound from above.
2. A process that ended between being listed and being read has no memory left to count
   (ENOENT, ESRCH). Anything else (no permission, a kernel without smaps_rollup or the
   children list) stops the bench with the reason: never a silent 0. The first sample is read
   before `watching` yields, so such an error comes at once, not after the run.
3. A sampling that never read the worker is an error too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENDED = (FileNotFoundError, ProcessLookupError)  # the process (or thread) is gone


@dataclass(frozen=True)
class Usage:
    """Kilobytes from one read of smaps_rollup (or several processes' added up)."""

    pss_kb: int = 0
    rss_kb: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.pss_kb + other.pss_kb, self.rss_kb + other.rss_kb)


def usage(pid: int) -> Usage | None:
    """The process's PSS and RSS now; None if it has ended (or no longer has memory)."""
    path = Path(f"/proc/{pid}/smaps_rollup")
    try:
        text = path.read_text()
    except ENDED:
        return None
    if not text:  # an exiting process whose memory is already released
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines()[1:] if ":" in line)
    if "Pss" not in fields or "Rss" not in fields:
        raise RuntimeError(f"{path} has no Pss or Rss line: {text[:300]!r}")
    return Usage(kilobytes(fields["Pss"]), kilobytes(fields["Rss"]))


def kilobytes(value: str) -> int:
    number, unit = value.split()
    if unit != "kB":
        raise RuntimeError(f"smaps_rollup counts in {unit!r}, not kB")
    return int(number)


def descendants(pid: int) -> list[int]:
    """The process's children (of every one of its threads) and theirs, now."""
    try:
        threads = [path.name for path in Path(f"/proc/{pid}/task").iterdir()]
    except ENDED:
        return []
    found = []
    for thread in threads:
        try:
            children = Path(f"/proc/{pid}/task/{thread}/children").read_text().split()
        except ENDED:  # the thread (or the process) ended meanwhile
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def mb(kilobytes: int) -> float:
    return round(kilobytes / 1024, 1)


class MemorySampler:
    """Peaks of a worker's and its descendants' PSS (and RSS), read every `interval` seconds."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.samples = 0
        self.helper_pids: set[int] = set()
        self.peak_sum: tuple[Usage, Usage] | None = None  # (worker, helpers) at the peak
        self.worker_peak, self.helper_peak = Usage(), Usage()
        self._error: BaseException | None = None

    @contextmanager
    def watching(self, pid: int) -> Iterator[MemorySampler]:
        """Sample `pid` and its descendants until the block ends; raise what sampling met."""
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if not Path(f"/proc/{pid}").exists():
            raise RuntimeError(f"pid {pid} is not running: its memory cannot be read")
        if not children.exists():
            raise RuntimeError(f"{children} is missing (a kernel without CONFIG_PROC_CHILDREN?):"
                               " the worker's helpers cannot be found")
        self.sample(pid)
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(pid, stop), daemon=True,
                                  name="bench-memory-sampler")
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
        if self._error is not None:
            raise RuntimeError(f"sampling the memory of pid {pid} failed: {self._error}") \
                from self._error
        if not self.samples:
            raise RuntimeError(f"the memory of pid {pid} was never read")

    def _run(self, pid: int, stop: threading.Event) -> None:
        try:
            while not stop.wait(self.interval):
                self.sample(pid)
        except Exception as error:  # noqa: BLE001 - raised again by `watching` in the caller
            self._error = error

    def sample(self, pid: int) -> None:
        """One read of the worker, then of its descendants (a few milliseconds apart)."""
        worker = usage(pid)
        if worker is None:
            return
        helpers = Usage()
        for child in descendants(pid):
            child_usage = usage(child)
            if child_usage is not None:
                helpers += child_usage
                self.helper_pids.add(child)
        self.samples += 1
        if self.peak_sum is None or (worker + helpers).pss_kb > sum(
                side.pss_kb for side in self.peak_sum):
            self.peak_sum = (worker, helpers)
        self.worker_peak = Usage(max(self.worker_peak.pss_kb, worker.pss_kb),
                                 max(self.worker_peak.rss_kb, worker.rss_kb))
        self.helper_peak = Usage(max(self.helper_peak.pss_kb, helpers.pss_kb),
                                 max(self.helper_peak.rss_kb, helpers.rss_kb))

    def figures(self) -> dict[str, Any]:
        """The peaks in MB: the summed PSS (the goal's figure) first."""
        if self.peak_sum is None:
            raise RuntimeError("no memory sample was taken")
        worker, helpers = self.peak_sum
        return {"worker_and_helper_peak_pss_mb": mb((worker + helpers).pss_kb),
                "at_that_peak": {"worker_pss_mb": mb(worker.pss_kb),
                                 "helper_pss_mb": mb(helpers.pss_kb),
                                 "worker_rss_mb": mb(worker.rss_kb),
                                 "helper_rss_mb": mb(helpers.rss_kb)},
                "worker_peak_pss_mb": mb(self.worker_peak.pss_kb),
                "helper_peak_pss_mb": mb(self.helper_peak.pss_kb),
                "worker_sampled_peak_rss_mb": mb(self.worker_peak.rss_kb),
                "helper_sampled_peak_rss_mb": mb(self.helper_peak.rss_kb),
                "helper_processes": len(self.helper_pids), "samples": self.samples,
                "sample_interval_ms": round(self.interval * 1000)}
