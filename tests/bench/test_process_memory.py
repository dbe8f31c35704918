"""bench/process_memory.py: a worker's and its forked helper's memory, sampled from /proc.

A real process forks a real helper; they share 80 MB written before the fork, and the helper
writes 30 MB of its own. RSS counts the shared 80 MB in both, PSS once.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.process_memory import MemorySampler, usage

WORKER = """
import os, sys
shared = b"s" * (80 << 20)
ready_out, ready_in = os.pipe()
pid = os.fork()
if pid == 0:
    own = b"o" * (30 << 20)
    os.write(ready_in, b"1")
    sys.stdin.read()
    os._exit(0)
os.read(ready_out, 1)
print("ready", flush=True)
sys.stdin.read()
os.waitpid(pid, 0)
"""


def test_the_sum_of_pss_counts_pages_shared_after_the_fork_once():
    sampler = MemorySampler()
    with subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as worker:
        assert worker.stdout.readline() == "ready\n"
        with sampler.watching(worker.pid):
            pass  # the first sample is taken before the block starts
        worker.stdin.close()
    assert worker.returncode == 0
    figures = sampler.figures()
    at_peak = figures["at_that_peak"]
    assert figures["helper_processes"] == 1 and figures["samples"] >= 1
    # 80 MB shared + 30 MB the helper's own + two interpreters' private pages.
    assert 110 <= figures["worker_and_helper_peak_pss_mb"] < 150, figures
    assert at_peak["worker_rss_mb"] >= 80 and at_peak["helper_rss_mb"] >= 110, figures
    # RSS added up counts the shared 80 MB twice.
    assert at_peak["worker_rss_mb"] + at_peak["helper_rss_mb"] \
        - figures["worker_and_helper_peak_pss_mb"] > 70, figures
    assert figures["helper_peak_pss_mb"] >= 70 and figures["worker_peak_pss_mb"] >= 40, figures


def test_a_process_that_is_not_running_is_an_error_not_a_zero():
    with subprocess.Popen([sys.executable, "-c", "pass"]) as gone:
        pass  # waited for (reaped) on leaving
    assert usage(gone.pid) is None
    with pytest.raises(RuntimeError, match=f"pid {gone.pid} is not running"), \
            MemorySampler().watching(gone.pid):
        pass
    with pytest.raises(RuntimeError, match="no memory sample"):
        MemorySampler().figures()
