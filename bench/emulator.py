"""Benchmark the Salesforce emulator; print one JSON object with figures, goals and verdicts.

    .venv/bin/python bench/emulator.py [--contacts 100000] [--memory-contacts 1000000] [--quick]

1. Throughput: an in-process emulator seeded with `--contacts`; simple-salesforce's
   `query_all_iter` reads every contact and the records it receives per second are timed.
2. Memory: `python -m sfemulator --seed N` in its own process; its peak RSS (VmHWM) is read
   from /proc after seeding and again after a query over all contacts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script from anywhere: the repository root holds the sfemulator package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402 - after the path set-up above
from simple_salesforce import Salesforce  # noqa: E402

from sfemulator import ControlClient, Emulator  # noqa: E402
from sfemulator.ports import free_port  # noqa: E402

API_VERSION = "59.0"
QUERY = (
    "SELECT Id, FirstName, LastName, Email, Phone, Title, AccountId, SystemModstamp FROM Contact"
)
GOAL_RECORDS_PER_SECOND = 20_000
GOAL_PEAK_RSS_MB = 1536
READY_TIMEOUT = 900


def client(base_url: str, ca_path: str | Path, token: dict[str, Any]) -> Salesforce:
    """simple-salesforce in direct mode, trusting only the emulator's CA."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override `verify`
    session.verify = str(ca_path)
    return Salesforce(
        instance_url=token["instance_url"],
        session_id=token["access_token"],
        version=API_VERSION,
        session=session,
    )


def measure_throughput(contacts: int, data_dir: Path) -> dict[str, Any]:
    """Seed in process, then time a full `query_all_iter` over the contacts."""
    started = time.perf_counter()
    with Emulator.running(seed=contacts, data_dir=data_dir, http_port=None) as emulator:
        seeded = time.perf_counter() - started
        sf = client(emulator.base_url, emulator.ca_path, emulator.control.session())
        started = time.perf_counter()
        received = sum(1 for _ in sf.query_all_iter(QUERY))
        elapsed = time.perf_counter() - started
    rate = received / elapsed if elapsed else 0.0
    return {
        "contacts": contacts,
        "seed_seconds": round(seeded, 2),
        "records_received": received,
        "query_seconds": round(elapsed, 3),
        "records_per_second": round(rate),
        "goal_records_per_second": GOAL_RECORDS_PER_SECOND,
        "pass": received == contacts and rate >= GOAL_RECORDS_PER_SECOND,
    }


def measure_memory(contacts: int, data_dir: Path) -> dict[str, Any]:
    """Seed a separate emulator process and read its peak RSS after seeding and a query."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "sfemulator",
        "--seed",
        str(contacts),
        "--port",
        str(port),
        "--http-port",
        "0",
        "--data-dir",
        str(data_dir),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        banner = _wait_ready(process)
        seeded = time.perf_counter() - started
        after_seed = _peak_rss_mb(process.pid)
        token = ControlClient(banner["API base (instance_url)"], banner["CA certificate"]).session()
        sf = client(banner["API base (instance_url)"], banner["CA certificate"], token)
        started = time.perf_counter()
        received = sum(1 for _ in sf.query_all_iter(QUERY))
        queried = time.perf_counter() - started
        after_query = _peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "contacts": contacts,
        "seed_seconds": round(seeded, 2),
        "records_received": received,
        "query_seconds": round(queried, 2),
        "peak_rss_mb_after_seed": after_seed,
        "peak_rss_mb_after_query": after_query,
        "goal_peak_rss_mb": GOAL_PEAK_RSS_MB,
        "pass": received == contacts and after_query <= GOAL_PEAK_RSS_MB,
    }


def _wait_ready(process: subprocess.Popen[str]) -> dict[str, str]:
    """Read the start-up banner (`  Label:  value` lines after `sfemulator ready`)."""
    assert process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    banner: dict[str, str] = {}
    ready = False
    for line in process.stdout:
        if time.monotonic() > deadline:
            break
        if line.startswith("sfemulator ready"):
            ready = True
        elif ready and ":" in line:
            label, _, value = line.strip().partition(":")
            banner[label.strip()] = value.strip()
            if label.strip() == "Records":
                return banner
    raise RuntimeError(f"emulator did not become ready (exit code {process.poll()})")


def _peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("VmHWM missing from /proc status")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--memory-contacts", type=int, default=1_000_000)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5,000 / 20,000 contacts: checks the harness, not the goals",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.contacts, args.memory_contacts = 5_000, 20_000
    with tempfile.TemporaryDirectory(prefix="sfemulator-bench-") as scratch:
        throughput = measure_throughput(args.contacts, Path(scratch, "throughput"))
        memory = measure_memory(args.memory_contacts, Path(scratch, "memory"))
    report = {
        "quick": args.quick,
        "cpu_count": os.cpu_count(),
        "throughput": throughput,
        "memory": memory,
        "pass": throughput["pass"] and memory["pass"],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
