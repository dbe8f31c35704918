"""Benchmark the two-way loop's cost; print one JSON object with figures, goals and verdicts.

    .venv/bin/python bench/loop.py [--contacts 20000] [--changes 500] [--quick]

Two phases, each with its own emulator process (`--seed none`, N contacts as bench/pull.py
loads them) and a fresh SQLite database; every run happens in a worker subprocess:
- one_way: the Contacts preset sync alone (no action: the pull remembers nothing);
- two_way: the same sync plus an update action people → Contact by Id writing back four of
  its fields, so every pull also reads and writes the exchanged fields (syncs/exchanges.py).
Each phase times the first sync (wall and worker CPU seconds) and an incremental run after
--changes contacts changed in Salesforce. The two-way phase then changes --changes people in
the hub and times the push, the pull that reads those writes back (no record may be updated)
and a second push (it must write nothing: 0 Salesforce write calls).
Goals: the two-way first sync costs at most 1.5x the one-way CPU seconds; the read-back pull
updates nothing; the second push makes no write call. `--quick` (3,000 contacts, 300 changes)
checks the harness; its timings mean little.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pull import CALLBACK, Phase  # noqa: E402 - after the path set-up above

GOAL_CPU_RATIO = 1.5
ROWS = [("firstName", "FirstName"), ("lastName", "LastName"), ("phone", "Phone"),
        ("title", "Title")]
WRITES = ("composite", "bulk", "sobject-create", "sobject-update", "sobject-upsert")


# -- the worker (a separate process running Django) -----------------------------------------------

def worker(step: str, argument: str) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if step == "setup":
        return setup(argument == "two_way")
    if step == "hub":
        return hub_changes(int(argument))
    started, cpu = time.perf_counter(), time.process_time()
    if step == "pull":
        from syncs.models import Sync
        from syncs.pull import run_sync

        run = run_sync(Sync.objects.get().pk, trigger=Sync.Trigger.MANUAL)
    else:
        from syncs.actions import Action
        from syncs.push import run_action

        run = run_action(Action.objects.get().pk)
    from syncs.exchanges import FieldExchange

    return {"status": run.status, "error": run.error, "mode": run.mode,
            "seconds": round(time.perf_counter() - started, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2), "fetched": run.fetched,
            "created": run.created, "updated": run.updated, "conflicts": run.conflicts,
            "exchange_rows": FieldExchange.objects.count()}


def setup(two_way: bool) -> dict[str, Any]:
    from connections.client import SalesforceClient
    from mappings.mapping import FieldRow
    from syncs.actions import Action
    from syncs.management.commands import setup_demo
    from syncs.models import Sync

    connection = setup_demo.demo_connection(os.environ["BENCH_EMULATOR_URL"],
                                            os.environ["BENCH_AUTHORIZE_URL"])
    setup_demo.connect(connection, CALLBACK)
    sync = Sync(connection=connection, name="Contacts → people", sobject="Contact")
    sync.apply_preset(SalesforceClient.for_connection(connection).describe("Contact"))
    sync.full_clean()
    sync.save()
    if two_way:
        action = Action(connection=connection, name="People → Contacts", sobject="Contact",
                        matchers=[["customer_id", "Id"]], schedule_kind="daily")
        action.full_clean()
        action.save()
        action.replace_rows([FieldRow(*row) for row in ROWS])
    return {"sync_id": sync.pk}


def hub_changes(count: int) -> dict[str, Any]:
    """New titles for `count` people, as the inbound API would write them."""
    from django.db import transaction

    from workspace.hub import HubWriter, Item
    from workspace.models import Person

    people = Person.objects.order_by("pk").values_list("customer_id", "email")[:count]
    items = [Item(f"api-{cid}", "", {"title": f"Hub {cid}"}, customer_id=cid, email=email)
             for cid, email in people]
    with transaction.atomic():
        HubWriter("api:bench").people(items)
    return {"changed": len(items)}


# -- the parent -------------------------------------------------------------------------------------

class LoopPhase(Phase):
    def step(self, step: str, argument: str = "") -> dict[str, Any]:
        return self.worker_json([__file__, "--worker", step, "--argument", argument],
                                f"worker {step}")

    def timed(self, step: str) -> dict[str, Any]:
        counters = self.control.counters()
        result = self.step(step)
        after = self.control.counters()
        result["write_calls"] = sum(after.get(n, 0) - counters.get(n, 0) for n in WRITES)
        if result["status"] != "succeeded":
            raise RuntimeError(f"the {step} run {result['status']}: {result['error']}")
        return result


def phase(scratch: Path, mode: str, contacts: int, changes: int) -> dict[str, Any]:
    run = LoopPhase(scratch / mode)
    try:
        run.load_contacts(contacts)
        run.manage("migrate", "--noinput")
        run.step("setup", mode)
        figures = {"first_sync": run.timed("pull")}
        ids = [r["Id"] for r in run.control.records("Contact")[:changes]]
        run.control.clock(advance=60)
        for record_id in ids:
            run.control.update("Contact", record_id, {"Title": f"SF {record_id}"})
        figures["incremental"] = run.timed("pull")
        if mode == "two_way":
            run.step("hub", str(changes))
            figures["push"] = run.timed("push")
            run.control.clock(advance=60)
            figures["read_back"] = run.timed("pull")
            figures["second_push"] = run.timed("push")
        return figures
    finally:
        run.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker")
    parser.add_argument("--argument", default="")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.argument)))
        return 0
    if args.quick:
        args.contacts, args.changes = 3_000, 300
    with tempfile.TemporaryDirectory(prefix="forcebridge-loop-bench-") as scratch:
        one = phase(Path(scratch), "one_way", args.contacts, args.changes)
        two = phase(Path(scratch), "two_way", args.contacts, args.changes)
    ratio = two["first_sync"]["cpu_seconds"] / max(one["first_sync"]["cpu_seconds"], 0.01)
    report = {
        "contacts": args.contacts, "changes": args.changes, "quick": args.quick,
        "one_way": one, "two_way": two, "first_sync_cpu_ratio": round(ratio, 2),
        "goals": {"first_sync_cpu_ratio": GOAL_CPU_RATIO, "read_back_updated": 0,
                  "second_push_write_calls": 0},
        "pass": {"first_sync_cpu_ratio": ratio <= GOAL_CPU_RATIO,
                 "push_wrote_the_changes": two["push"]["updated"] == args.changes,
                 "read_back_updated": two["read_back"]["updated"] == 0,
                 "second_push_write_calls": two["second_push"]["write_calls"] == 0},
    }
    report["pass"]["all"] = all(report["pass"].values())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
