"""Benchmark the pull engine; print one JSON object with figures, goals and verdicts.

    .venv/bin/python bench/pull.py [--contacts 100000] [--memory-contacts 1000000]
                                   [--changes 1000] [--repeat 3] [--quick]

Each phase uses its own emulator process (`python -m sfemulator --seed none`, N contacts loaded
through the control API with SystemModstamps spread over 30 days) and a fresh SQLite database
(`manage.py migrate` in a temp FORCEBRIDGE_VAR_DIR). The connection is made through the real
OAuth flow and the sync is the Contacts preset; every run happens in a worker subprocess that
reports its own peak RSS (VmHWM) and its helper's (ru_maxrss of its children).
1. Throughput: the first sync of --contacts records, timed in the worker, against bare
   simple-salesforce `query_all_iter` with the same SOQL over the same org, right after it;
   records/s and the ratio. This machine's speed drifts from minute to minute, so the pair is
   taken --repeat times (the database restored to its state before the first sync each time)
   and the pair with the median ratio is reported, every pair listed, with the worker's CPU
   seconds (all its threads), which the machine's drift moves less than its wall time, and
   those of the helper process that parses and prepares bulk pages (connections/page_process.py)
   as `helper_cpu_seconds`. API calls of the first
   run, and of an incremental run after --changes updates, from the emulator's counted usage.
2. Memory: the first sync of --memory-contacts records, while this process samples the PSS of
   the worker and of its helper every 50 ms (bench/process_memory.py): the peak of their sum
   at one instant (the goal; PSS counts the pages they share since the fork once), each one's
   own peak PSS, and their peak RSS for reference.
Goals: >= 5,000 records/s; pipeline <= 2.5x the bare fetch; API calls <= ceil(n/2000) + 5;
worker + helper peak PSS <= 300 MB. `--quick` (a few thousand records) checks the harness and the API
call goals; its timings mean little.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402 - after the path set-up above

from bench.process_memory import MemorySampler  # noqa: E402
from sfemulator.ports import free_port_pair  # noqa: E402

GOAL_RECORDS_PER_SECOND = 5_000
GOAL_RATIO = 2.5
GOAL_PEAK_PSS_MB = 300  # the worker's and its helper's PSS added up, at their peak
LOAD_CHUNK = 20_000
SYNC_NAME = "Contacts → people"
CALLBACK = "http://127.0.0.1:8000/admin/connections/connection/oauth/callback/"
Watch = Callable[[int], AbstractContextManager[Any]]


# -- the worker (a separate process running Django) -----------------------------------------------

def worker(step: str, sync_id: int | None) -> dict[str, Any]:
    """`setup`: connect + create the sync; `run`: run it. Reports the process's peak RSS."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from connections.client import SalesforceClient
    from mappings.transform import Transformer
    from syncs.cursor import build_soql
    from syncs.management.commands import setup_demo
    from syncs.models import Sync
    from syncs.pull import run_sync

    if step == "setup":
        url = os.environ["BENCH_EMULATOR_URL"]
        connection = setup_demo.demo_connection(url, os.environ["BENCH_AUTHORIZE_URL"])
        setup_demo.connect(connection, CALLBACK)
        client = SalesforceClient.for_connection(connection)
        sync = Sync(connection=connection, name=SYNC_NAME, sobject="Contact")
        sync.apply_preset(client.describe("Contact"))
        sync.full_clean()
        sync.save()
        fields = Transformer.for_mapping(sync.mapping(), client.describe).select()
        return {"sync_id": sync.pk, "soql": build_soql(fields, "Contact", [sync.filter])}
    started, cpu, helpers = time.perf_counter(), time.process_time(), children_cpu()
    if step == "resync-rest":  # "Resync all data" read through REST pages
        Sync.objects.filter(pk=sync_id).update(bulk_threshold=10**9)
    run = run_sync(int(sync_id or 0), trigger=Sync.Trigger.MANUAL, full=step == "resync-rest")
    seconds = time.perf_counter() - started
    return {"status": run.status, "error": run.error, "mode": run.mode, "seconds": seconds,
            "cpu_seconds": time.process_time() - cpu,
            "helper_cpu_seconds": children_cpu() - helpers,
            "helper_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                                        / 1024, 1),
            "fetched": run.fetched, "created": run.created, "updated": run.updated,
            "api_calls_by_client": run.api_calls, "peak_rss_mb": peak_rss_mb()}


def children_cpu() -> float:
    """CPU seconds of the worker's ended children: the helper that prepares bulk pages."""
    times = os.times()
    return times.children_user + times.children_system


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("VmHWM missing from /proc status")


# -- the parent: emulator, database, timings --------------------------------------------------------

class Phase:
    """One emulator process and one fresh database in a scratch directory."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        port = free_port_pair()
        self.url, self.authorize_url = f"https://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
        self.ca_path = scratch / "sfemulator" / "ca.pem"
        self.database = scratch / "bench.sqlite3"
        # Production settings: with DEBUG on, Django would keep the text of every query.
        self.env = {**os.environ, "DEBUG": "false", "FORCEBRIDGE_VAR_DIR": str(scratch),
                    "SECRET_KEY": secrets.token_urlsafe(40), "ALLOWED_HOSTS": "127.0.0.1",
                    "FORCEBRIDGE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                    "DATABASE_URL": f"sqlite:///{self.database}",
                    "SALESFORCE_CA_BUNDLE": str(self.ca_path), "LOG_LEVEL": "WARNING",
                    "BENCH_EMULATOR_URL": self.url, "BENCH_AUTHORIZE_URL": self.authorize_url}
        self.env.pop("REDIS_URL", None)
        self.emulator = subprocess.Popen(  # noqa: S603 - our own argv
            [sys.executable, "-m", "sfemulator", "--seed", "none", "--port", str(port),
             "--http-port", str(port + 1), "--data-dir", str(scratch / "sfemulator")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port, self.emulator)
        from sfemulator import ControlClient

        self.control = ControlClient(self.url, self.ca_path)

    def close(self) -> None:
        self.emulator.terminate()
        self.emulator.wait(timeout=30)

    def load_contacts(self, count: int) -> float:
        """Load `count` contacts (SystemModstamps spread over 30 days, in id order)."""
        started = time.perf_counter()
        rng = random.Random(42)
        end = datetime.now(UTC) - timedelta(minutes=10)
        step = timedelta(days=30) / max(count, 1)
        for first in range(0, count, LOAD_CHUNK):
            rows = [contact(i, end - (count - i) * step, rng)
                    for i in range(first, min(count, first + LOAD_CHUNK))]
            self.control.insert("Contact", *rows, load=True)
        return time.perf_counter() - started

    def keep_database(self) -> None:
        """Copy the migrated, connected database (no process has it open) to restore later."""
        shutil.copyfile(self.database, self.scratch / "kept.sqlite3")

    def restore_database(self) -> None:
        for leftover in ("-wal", "-shm"):
            Path(f"{self.database}{leftover}").unlink(missing_ok=True)
        shutil.copyfile(self.scratch / "kept.sqlite3", self.database)

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,  # noqa: S603
                       check=True, capture_output=True, timeout=600)

    def work(self, step: str, sync_id: int | None = None, *,
             watch: Watch | None = None) -> dict[str, Any]:
        argv = [__file__, "--worker", step]
        if sync_id is not None:
            argv += ["--sync-id", str(sync_id)]
        return self.worker_json(argv, f"worker {step}", watch=watch)

    def worker_json(self, argv: list[str], what: str, *, env: dict[str, str] | None = None,
                    timeout: int = 3600, watch: Watch | None = None) -> dict[str, Any]:
        """Run `python *argv` in this phase's environment (or `env`); the JSON object its last
        line printed. Every bench's workers answer this way. `watch(pid)`, if given, is a
        context held while the worker runs (`MemorySampler.watching`)."""
        with subprocess.Popen([sys.executable, *argv], cwd=ROOT,  # noqa: S603 - our own argv
                              env=env or self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) as process:
            try:
                with watch(process.pid) if watch else nullcontext():
                    stdout, stderr = process.communicate(timeout=timeout)
            except BaseException:  # a timeout, or the watcher's error: stop the worker now
                process.kill()
                raise
        if process.returncode:
            raise RuntimeError(f"{what} failed:\n{stderr[-3000:]}")
        return json.loads(stdout.strip().splitlines()[-1])

    def daily_used(self) -> int:
        return int(self.control.usage()["daily_used"])

    def counted(self, step: str, sync_id: int, *, watch: Watch | None = None) -> dict[str, Any]:
        before = self.daily_used()
        result = self.work(step, sync_id, watch=watch)
        result["api_calls"] = self.daily_used() - before
        if result["status"] != "succeeded":
            raise RuntimeError(f"the run {result['status']}: {result['error']}")
        return result


def contact(i: int, stamp: datetime, rng: random.Random) -> dict[str, Any]:
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"
    return {"FirstName": f"First{i}", "LastName": rng.choice(["Smith", "O'Brien", "Müller",
                                                              "García", "Nguyen"]) + str(i),
            "Email": f"person{i}@example.com", "Phone": f"+1 555 {i:07d}",
            "Title": rng.choice(["CEO", "CTO", "Buyer", None]), "MailingCity": "Lyon",
            "LeadSource": rng.choice(["Web", "Phone Inquiry", None]),
            "CreatedDate": text, "LastModifiedDate": text, "SystemModstamp": text}


def bare_salesforce(phase: Phase) -> Any:
    """simple-salesforce on its own, with an uncounted control session (the bare baseline)."""
    import requests
    from simple_salesforce import Salesforce

    token = phase.control.session()
    session = requests.Session()
    session.trust_env = False
    session.verify = str(phase.ca_path)
    return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                      version="61.0", session=session)


def bare_fetch(phase: Phase, soql: str) -> tuple[int, float]:
    """simple-salesforce query_all_iter over the same SOQL."""
    sf = bare_salesforce(phase)
    started = time.perf_counter()
    received = sum(1 for _ in sf.query_all_iter(soql))
    return received, time.perf_counter() - started


def throughput(scratch: Path, contacts: int, changes: int, repeat: int) -> dict[str, Any]:
    """`repeat` first syncs, each on the same freshly connected database and each followed by
    the bare fetch, so every ratio compares two timings taken seconds apart; then one
    incremental run."""
    phase = Phase(scratch)
    pairs = []
    try:
        load_seconds = phase.load_contacts(contacts)
        phase.manage("migrate", "--noinput")
        setup = phase.work("setup")
        phase.keep_database()
        for attempt in range(repeat):
            if attempt:
                phase.restore_database()
            first = phase.counted("run", setup["sync_id"])
            received, bare_seconds = bare_fetch(phase, setup["soql"])
            pairs.append((first, received, bare_seconds))
        ids = [r["Id"] for r in phase.control.records("Contact")[:changes]]
        for record_id in ids:
            phase.control.update("Contact", record_id, {"Title": "Changed"})
        incremental = phase.counted("run", setup["sync_id"])
        resync = phase.counted("resync-rest", setup["sync_id"])
    finally:
        phase.close()
    ratios = [first["seconds"] / bare if bare else math.inf for first, _, bare in pairs]
    # The pair whose ratio is the median stands for the run (an odd `repeat` has one).
    first, received, bare_seconds = pairs[ratios.index(sorted(ratios)[len(ratios) // 2])]
    ratio = sorted(ratios)[len(ratios) // 2]
    rate = contacts / first["seconds"] if first["seconds"] else 0.0
    first_budget = math.ceil(contacts / 2000) + 5
    incremental_budget = math.ceil(changes / 2000) + 5
    return {
        "contacts": contacts, "load_seconds": round(load_seconds, 2),
        "first_sync": {"mode": first["mode"], "seconds": round(first["seconds"], 2),
                       "cpu_seconds": round(first["cpu_seconds"], 2),
                       "helper_cpu_seconds": round(first["helper_cpu_seconds"], 2),
                       "fetched": first["fetched"], "created": first["created"],
                       "records_per_second": round(rate), "api_calls": first["api_calls"],
                       "worker_peak_rss_mb": first["peak_rss_mb"],
                       "helper_peak_rss_mb": first["helper_peak_rss_mb"]},
        "bare_fetch": {"records": received, "seconds": round(bare_seconds, 2),
                       "records_per_second": round(received / bare_seconds) if bare_seconds
                       else None},
        "pipeline_to_bare_ratio": round(ratio, 2),
        "pairs": [{"first_sync_seconds": round(f["seconds"], 2), "bare_seconds": round(b, 2),
                   "ratio": round(r, 2), "first_sync_cpu_seconds": round(f["cpu_seconds"], 2),
                   "helper_cpu_seconds": round(f["helper_cpu_seconds"], 2)}
                  for (f, _, b), r in zip(pairs, ratios, strict=True)],
        "incremental": {"changes": changes, "fetched": incremental["fetched"],
                        "updated": incremental["updated"], "mode": incremental["mode"],
                        "seconds": round(incremental["seconds"], 2),
                        "api_calls": incremental["api_calls"]},
        "resync_rest": {"mode": resync["mode"], "fetched": resync["fetched"],
                        "seconds": round(resync["seconds"], 2),
                        "api_calls": resync["api_calls"],
                        "first_sync_api_calls": first["api_calls"]},
        "goals": {"records_per_second": GOAL_RECORDS_PER_SECOND, "ratio": GOAL_RATIO,
                  "first_sync_api_calls": first_budget,
                  "incremental_api_calls": incremental_budget,
                  "resync_rest_api_calls": math.ceil(contacts / 2000) + 3},
        "pass": {
            "all_records": all(f["fetched"] == contacts == got and f["created"] == contacts
                               for f, got, _ in pairs),
            "records_per_second": rate >= GOAL_RECORDS_PER_SECOND,
            "ratio": ratio <= GOAL_RATIO,
            "first_sync_api_calls": all(f["api_calls"] <= first_budget for f, _, _ in pairs),
            "incremental_api_calls": incremental["api_calls"] <= incremental_budget,
            "incremental_changes": incremental["updated"] == changes,
            "resync_rest_api_calls": resync["fetched"] == contacts
            and resync["api_calls"] <= math.ceil(contacts / 2000) + 3,
        },
    }


def memory(scratch: Path, contacts: int) -> dict[str, Any]:
    """The first sync of `contacts`, the memory of its worker and helper sampled meanwhile."""
    phase, sampler = Phase(scratch), MemorySampler()
    try:
        phase.load_contacts(contacts)
        phase.manage("migrate", "--noinput")
        setup = phase.work("setup")
        first = phase.counted("run", setup["sync_id"], watch=sampler.watching)
    finally:
        phase.close()
    pss = sampler.figures()
    return {"contacts": contacts, "mode": first["mode"], "seconds": round(first["seconds"], 1),
            "fetched": first["fetched"], "api_calls": first["api_calls"], **pss,
            "worker_peak_rss_mb": first["peak_rss_mb"],
            "helper_peak_rss_mb": first["helper_peak_rss_mb"],
            "goal_peak_pss_mb": GOAL_PEAK_PSS_MB,
            "pass": first["fetched"] == contacts
            and pss["worker_and_helper_peak_pss_mb"] <= GOAL_PEAK_PSS_MB}


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the emulator did not listen on {port} (exit code {process.poll()})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--memory-contacts", type=int, default=1_000_000,
                        help="0 skips the memory phase")
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="first syncs (each with its bare fetch); the median ratio counts")
    parser.add_argument("--quick", action="store_true",
                        help="3,000 / 5,000 contacts and 300 changes: the harness and API calls")
    parser.add_argument("--worker", choices=["setup", "run", "resync-rest"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--sync-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.sync_id)))
        return 0
    if args.quick:
        args.contacts, args.memory_contacts, args.changes, args.repeat = 3_000, 5_000, 300, 1
    with tempfile.TemporaryDirectory(prefix="forcebridge-bench-") as scratch:
        speed = throughput(Path(scratch, "throughput"), args.contacts, args.changes,
                           max(1, args.repeat))
        # --memory-contacts 0 skips the memory phase (a quicker throughput-only run).
        peak = (memory(Path(scratch, "memory"), args.memory_contacts)
                if args.memory_contacts else None)
    report = {"quick": args.quick, "cpu_count": os.cpu_count(), "throughput": speed,
              "memory": peak,
              "pass": all(speed["pass"].values()) and (peak is None or peak["pass"])}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
