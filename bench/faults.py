"""Benchmark recovery from faults with real processes; print one JSON object with verdicts.

    .venv/bin/python bench/faults.py [--contacts 30000] [--bulk-contacts 200000] [--quick]

Each phase has its own emulator and SQLite database (bench/pull.py's `Phase`) and runs real
django-q2 clusters (`manage.py qcluster`, ORM broker) in process groups of their own.
1. Kill: a cluster runs the Contacts sync (REST pages, slowed by emulator latency); once a
   third of the records are in, the cluster's whole process group gets SIGKILL (a lost
   machine). A second cluster starts and "Sync now" is pressed once. Measured: seconds from
   the kill to a finished run with every contact in the hub, with default settings
   (claim expiry 120 s, dispatcher every 60 s). Goal <= 150 s.
2. Broker flush: three syncs are requested and dispatched, then every queued task is deleted
   (the broker lost them). A cluster starts. Measured: seconds from the flush until every
   sync has run again. Goal <= 150 s.
3. Bulk resume: a Bulk API first run of --bulk-contacts is killed at half; the rerun (a
   `sync_now --wait`) goes on with the same job. Measured: records and Bulk API calls of the
   rerun against a fresh run. Goal: the rerun reads at most half the results a fresh run does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pull import CALLBACK, Phase  # noqa: E402 - after the path set-up above

GOAL_KILL_SECONDS = 150
GOAL_FLUSH_SECONDS = 150


# -- the worker (a separate process running Django) -----------------------------------------------

def worker(step: str, arg: str) -> dict[str, Any]:
    """`setup NAMES`: connect, create the syncs (`bulk:` and `slow:` prefixes);
    `request IDS`: press Sync now; `dispatch`: hand out due syncs; `flush`: lose every queued
    task; `state IDS`: the runs and the hub's size."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django_q.models import OrmQ

    from connections.client import SalesforceClient
    from syncs.management.commands import setup_demo
    from syncs.models import Sync, SyncRun
    from syncs.tasks import dispatch
    from workspace.models import Object, Person

    if step == "setup":
        connection = setup_demo.demo_connection(os.environ["BENCH_EMULATOR_URL"],
                                                os.environ["BENCH_AUTHORIZE_URL"])
        setup_demo.connect(connection, CALLBACK)
        client = SalesforceClient.for_connection(connection)
        ids = []
        for name in arg.split(","):
            how, _, sobject = name.rpartition(":")
            # "bulk:" reads with a Bulk API job; "slow:" with small REST pages (easy to kill).
            sync = Sync(connection=connection, name=name, sobject=sobject, enabled=True,
                        bulk_threshold=0 if how == "bulk" else None, schedule_kind="daily",
                        batch_size=200 if how == "slow" else 2000)
            sync.apply_preset(client.describe(sobject))
            sync.full_clean()
            sync.save()
            ids.append(sync.pk)
        Sync.objects.update(next_run_at=None)  # nothing due until asked
        return {"ids": ids}
    if step == "request":
        for sync in Sync.objects.filter(pk__in=arg.split(",")):
            sync.request_run()
        return {}
    if step == "dispatch":
        return {"dispatched": dispatch()}
    if step == "flush":
        return {"flushed": OrmQ.objects.all().delete()[0]}
    runs = [{"sync": r.sync_id, "status": r.status, "fetched": r.fetched, "error": r.error,
             "started": r.started_at.timestamp(),
             "finished": r.finished_at.timestamp() if r.finished_at else None}
            for r in SyncRun.objects.filter(sync__in=arg.split(",")).order_by("pk")]
    return {"runs": runs, "people": Person.objects.count(), "objects": Object.objects.count(),
            "now": time.time()}


# -- the parent --------------------------------------------------------------------------------

class Faults(Phase):
    """A phase that can start and kill clusters and ask the worker about the database."""

    def __init__(self, scratch: Path, **env: str) -> None:
        super().__init__(scratch)
        self.env.update(env)
        self.clusters: list[subprocess.Popen] = []

    def ask(self, step: str, arg: str = "") -> dict[str, Any]:
        return self.worker_json([__file__, "--worker", step, "--arg", arg], f"worker {step}",
                                timeout=600)

    def start_cluster(self) -> subprocess.Popen:
        cluster = subprocess.Popen(  # noqa: S603 - our own argv
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.clusters.append(cluster)
        return cluster

    @staticmethod
    def kill(cluster: subprocess.Popen) -> None:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(30)

    def wait(self, ids: str, done: Any, timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.ask("state", ids)
            if done(state):
                return state
            time.sleep(1)
        raise RuntimeError(f"{what}: not within {timeout:.0f} s: {state}")

    def close(self) -> None:
        for cluster in self.clusters:
            if cluster.poll() is None:
                self.kill(cluster)
        super().close()


def kill_phase(scratch: Path, contacts: int) -> dict[str, Any]:
    phase = Faults(scratch)
    try:
        phase.load_contacts(contacts)
        phase.manage("migrate", "--noinput")
        (sync_id,) = phase.ask("setup", "slow:Contact")["ids"]
        ids = str(sync_id)
        phase.control.faults(latency_ms=150)
        first = phase.start_cluster()
        phase.ask("request", ids)
        phase.wait(ids, lambda s: s["runs"] and s["runs"][-1]["fetched"] >= contacts // 3,
                   300, "the first run reaching a third")
        phase.kill(first)
        killed = time.time()
        phase.control.faults(latency_ms=0)
        phase.start_cluster()
        phase.ask("request", ids)  # the operator presses Sync now once
        state = phase.wait(ids, lambda s: any(r["status"] == "succeeded" for r in s["runs"])
                           and s["people"] == contacts, 900, "the sync completing")
    finally:
        phase.close()
    dead = state["runs"][0]
    done = next(r for r in state["runs"][1:] if r["status"] == "succeeded")
    seconds = done["finished"] - killed
    return {"contacts": contacts, "seconds_from_kill_to_completed_sync": round(seconds, 1),
            "dead_run": {"status": dead["status"], "error": dead["error"]},
            "goal_seconds": GOAL_KILL_SECONDS,
            "pass": seconds <= GOAL_KILL_SECONDS and dead["status"] == "failed"}


def flush_phase(scratch: Path) -> dict[str, Any]:
    phase = Faults(scratch)
    try:
        phase.load_contacts(500)
        phase.manage("migrate", "--noinput")
        ids = ",".join(map(str, phase.ask("setup", "Contact,Lead,Account")["ids"]))
        phase.ask("request", ids)
        dispatched = phase.ask("dispatch")["dispatched"]
        flushed = phase.ask("flush")["flushed"]
        lost = time.time()
        phase.start_cluster()
        count = len(ids.split(","))
        state = phase.wait(ids, lambda s: len({r["sync"] for r in s["runs"]
                                               if r["status"] == "succeeded"}) == count,
                           600, "every sync running again")
    finally:
        phase.close()
    seconds = max(min(r["finished"] for r in state["runs"] if r["sync"] == sync
                      and r["status"] == "succeeded") for sync in {r["sync"] for r in state["runs"]})
    seconds -= lost
    return {"syncs": count, "dispatched": dispatched, "tasks_flushed": flushed,
            "seconds_from_flush_to_every_sync_run": round(seconds, 1),
            "goal_seconds": GOAL_FLUSH_SECONDS, "pass": seconds <= GOAL_FLUSH_SECONDS}


def bulk_phase(scratch: Path, contacts: int) -> dict[str, Any]:
    # A short claim expiry: this phase measures the reading saved, not the wait.
    phase = Faults(scratch, FORCEBRIDGE_SYNC_CLAIM_TIMEOUT="10")
    try:
        phase.load_contacts(contacts)
        phase.manage("migrate", "--noinput")
        (sync_id,) = phase.ask("setup", "bulk:Contact")["ids"]
        ids = str(sync_id)
        phase.keep_database()
        before = phase.control.counters().get("bulk", 0)
        phase.manage("sync_now", ids)  # a fresh run, for comparison
        fresh_calls = phase.control.counters().get("bulk", 0) - before
        fresh = phase.ask("state", ids)["runs"][-1]
        phase.restore_database()
        worker = subprocess.Popen(  # noqa: S603 - our own argv
            [sys.executable, "manage.py", "sync_now", ids], cwd=ROOT, env=phase.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        phase.clusters.append(worker)
        phase.wait(ids, lambda s: s["runs"] and s["runs"][-1]["fetched"] >= contacts // 2,
                   600, "the bulk run reaching half")
        phase.kill(worker)
        killed = phase.ask("state", ids)["runs"][-1]
        before = phase.control.counters().get("bulk", 0)
        rerun = subprocess.run([sys.executable, "manage.py", "sync_now", ids, "--wait", "300"],  # noqa: S603
                               cwd=ROOT, env=phase.env, capture_output=True, text=True,
                               timeout=900)
        if rerun.returncode:
            raise RuntimeError(f"the rerun failed:\n{rerun.stdout[-2000:]}{rerun.stderr[-2000:]}")
        rerun_calls = phase.control.counters().get("bulk", 0) - before
        state = phase.ask("state", ids)
    finally:
        phase.close()
    rerun = state["runs"][-1]
    return {"contacts": contacts,
            "fresh_run": {"fetched": fresh["fetched"], "bulk_api_calls": fresh_calls},
            "killed_after": killed["fetched"],
            "rerun": {"status": rerun["status"], "fetched": rerun["fetched"],
                      "bulk_api_calls": rerun_calls},
            "hub_people": state["people"],
            "pass": rerun["status"] == "succeeded" and state["people"] == contacts
            and 0 < killed["fetched"] < contacts and rerun["fetched"] * 2 <= fresh["fetched"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=30_000)
    parser.add_argument("--bulk-contacts", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="smaller data; the harness")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--arg", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.arg)))
        return 0
    if args.quick:
        args.contacts, args.bulk_contacts = 6_000, 60_000
    with tempfile.TemporaryDirectory(prefix="forcebridge-faults-") as scratch:
        report = {"bulk_resume": bulk_phase(Path(scratch, "bulk"), args.bulk_contacts),
                  "kill": kill_phase(Path(scratch, "kill"), args.contacts),
                  "broker_flush": flush_phase(Path(scratch, "flush"))}
    report["pass"] = all(part["pass"] for part in report.values())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
