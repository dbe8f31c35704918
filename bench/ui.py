"""Benchmark the operator's pages on a big log table; print one JSON object.

    .venv/bin/python bench/ui.py [--rows 1000000] [--repeat 5] [--quick]

1. A fresh SQLite database (`migrate` in a temp FORCEBRIDGE_VAR_DIR, production settings,
   `collectstatic` as `serve` runs it).
2. Seeds two connections, six syncs with 14 days of runs, two actions, 5,000 people and `--rows`
   record logs over those 14 days (both directions: a tenth hub → Salesforce, owned by the
   actions; every outcome, a few error codes), written with the
   engine's multi-row INSERT (workspace/sql_rows.py `insert`), 50,000 rows a transaction.
3. Times each page in this process through Django's test client as a logged-in operator (the
   server's time: routing, queries, template): the logs browser unfiltered, with each filter,
   with each kind of search, an older page, one record's history, and the dashboard. Each page
   is fetched once to warm up, then `--repeat` times; the median counts.
Goal: every page <= 300 ms. `--quick` (20,000 rows) checks the harness; its timings mean little.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MS = 300
CHUNK = 50_000
PEOPLE = 5_000
DAYS = 14
CODES = ["INVALID_EMAIL_ADDRESS", "DUPLICATE_VALUE", "REQUIRED_FIELD_MISSING",
         "FIELD_CUSTOM_VALIDATION_EXCEPTION", "UNABLE_TO_LOCK_ROW"]
# Outcomes and their shares of the logs (a steady org: mostly updates, a few failures).
OUTCOMES = [("updated", 50), ("created", 25), ("unchanged", 15), ("deleted", 4),
            ("conflict", 2), ("failed", 4)]


def set_up_django(scratch: Path) -> None:
    """Production settings on a fresh SQLite database in `scratch`, migrated."""
    from cryptography.fernet import Fernet

    os.environ.update({
        "DEBUG": "false", "FORCEBRIDGE_VAR_DIR": str(scratch),
        "SECRET_KEY": secrets.token_urlsafe(40), "ALLOWED_HOSTS": "testserver",
        "FORCEBRIDGE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings"})
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    call_command("migrate", "--noinput", verbosity=0)
    # Hashed static files as `serve` has them; the test environment records responses' context.
    call_command("collectstatic", "--noinput", verbosity=0)
    setup_test_environment()


def seed(rows: int, rng: random.Random) -> dict[str, Any]:
    """The cast and `rows` record logs; what the timed pages look for."""
    from django.db import transaction
    from django.utils import timezone

    from connections.models import Connection
    from logs.models import RecordLog
    from syncs.actions import Action
    from syncs.models import Sync, SyncRun
    from workspace.models import Person
    from workspace.sql_rows import insert

    now = timezone.now()
    start = now - dt.timedelta(days=DAYS)
    orgs = [Connection.objects.create(name=f"Org {i}") for i in (1, 2)]
    syncs = [Sync.objects.create(connection=orgs[i % 2], name=f"Sync {i}", sobject="Contact",
                                 person_id_field="Id") for i in range(6)]
    actions = [Action.objects.create(connection=org, name=f"Action {i}", sobject="Contact",
                                     matchers=[["email", "Email"]]) for i, org in enumerate(orgs)]
    runs = SyncRun.objects.bulk_create([
        SyncRun(sync=syncs[i % 6], trigger="schedule", started_at=start + dt.timedelta(hours=i),
                finished_at=start + dt.timedelta(hours=i, minutes=2), fetched=rows // 336,
                created=rows // 1000, updated=rows // 700, failed=rows // 8000,
                status="failed" if i % 17 == 0 else "succeeded")
        for i in range(DAYS * 24)])
    people = Person.objects.bulk_create([
        Person(customer_id=f"003{i:015d}", email=f"person{i}@example.com")
        for i in range(PEOPLE)])
    outcomes = [name for name, share in OUTCOMES for _ in range(share)]
    columns = ["created_at", "direction", "sync", "action", "run", "sobject", "record_id",
               "hub_ref", "outcome", "error_code", "message", "changed_fields"]
    step = (now - start) / rows
    written = 0
    while written < rows:
        batch = []
        for i in range(written, min(rows, written + CHUNK)):
            run = runs[min(len(runs) - 1, i * len(runs) // rows)]
            person = people[rng.randrange(PEOPLE)]
            outcome = rng.choice(outcomes)
            out = rng.random() < 0.1
            code = rng.choice(CODES) if outcome == "failed" else ""
            batch.append((start + step * i, "out" if out else "in",
                          None if out else run.sync_id, actions[i % 2].pk if out else None,
                          run.pk, "Contact",
                          person.customer_id, f"person:{person.pk}", outcome, code,
                          f"{code}: refused by Salesforce" if code else "",
                          ["Email", "Title"] if outcome == "updated" else []))
        with transaction.atomic():
            insert(RecordLog, columns, batch)
        written += len(batch)
    target = people[PEOPLE // 2]
    return {"connection": orgs[0].pk, "sync": syncs[1].pk, "action": actions[1].pk,
            "run": runs[len(runs) // 2].pk,
            "record_id": target.customer_id, "email": target.email,
            "hub_ref": f"person:{target.pk}", "since": (now - dt.timedelta(days=3)),
            "until": (now - dt.timedelta(days=2))}


def pages(cast: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every timed page: name → (URL, GET parameters)."""
    from django.urls import reverse

    logs = reverse("admin:logs_recordlog_browse")
    stamp = "%Y-%m-%dT%H:%M"
    return {
        "logs_unfiltered": (logs, {}),
        "logs_connection": (logs, {"connection": cast["connection"]}),
        "logs_sync": (logs, {"sync": cast["sync"]}),
        "logs_action": (logs, {"action": cast["action"]}),
        "logs_run": (logs, {"run": cast["run"]}),
        "logs_direction_out": (logs, {"direction": "out"}),
        "logs_outcome_failed": (logs, {"outcome": "failed"}),
        "logs_error_code": (logs, {"error_code": CODES[2]}),
        "logs_time_range": (logs, {"since": cast["since"].strftime(stamp),
                                   "until": cast["until"].strftime(stamp)}),
        "logs_filters_combined": (logs, {"sync": cast["sync"], "outcome": "failed",
                                         "since": cast["since"].strftime(stamp)}),
        "logs_search_salesforce_id": (logs, {"q": cast["record_id"]}),
        "logs_search_email": (logs, {"q": cast["email"]}),
        "logs_search_hub_ref": (logs, {"q": cast["hub_ref"]}),
        "logs_older_page": (logs, {"outcome": "updated", "before": "@older"}),
        "logs_action_older_page": (logs, {"action": cast["action"], "before": "@older"}),
        "record_history": (reverse("admin:logs_recordlog_history"),
                           {"record": cast["record_id"], "hub": cast["hub_ref"]}),
        "dashboard": (reverse("dashboard"), {}),
    }


def timed(client: Any, url: str, params: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Median server time of a page (after one warm-up request) and its status."""
    response = client.get(url, params, secure=True)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url, params, secure=True)
        times.append((time.perf_counter() - began) * 1000)
    return {"ms": round(statistics.median(times), 1), "status": response.status_code}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20,000 rows: the harness only")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeat = 20_000, 2
    with tempfile.TemporaryDirectory(prefix="forcebridge-ui-bench-") as scratch:
        set_up_django(Path(scratch))
        from django.contrib.auth.models import User
        from django.test import Client

        began = time.perf_counter()
        cast = seed(args.rows, random.Random(13))
        seeded = time.perf_counter() - began
        client = Client()
        client.force_login(User.objects.create_superuser("bench", "bench@example.com", "x"))
        results = {}
        for name, (url, params) in pages(cast).items():
            if params.get("before") == "@older":
                # A page deep in the filter: where the first page of it ends, ten pages on.
                response = client.get(url, {k: v for k, v in params.items() if k != "before"},
                                      secure=True)
                for _ in range(10):
                    older = response.context["page"].older
                    response = client.get(url, {**params, "before": str(older)}, secure=True)
                params = {**params, "before": str(older)}
            results[name] = timed(client, url, params, args.repeat)
    report = {
        "rows": args.rows,
        "quick": args.quick,
        "seed_seconds": round(seeded, 1),
        "goal_ms": GOAL_MS,
        "pages": results,
        "pass": {name: page["ms"] <= GOAL_MS and page["status"] == 200
                 for name, page in results.items()},
    }
    report["pass"]["all"] = all(report["pass"].values())
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
