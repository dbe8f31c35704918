"""Runs are kept FORCEBRIDGE_RUN_RETENTION_DAYS (90 by default, never fewer than the record
logs' retention) and pruned daily, except running runs, each owner's latest run and runs
whose record logs are still there."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connections.models import Connection
from logs.models import RecordLog
from syncs.actions import Action
from syncs.models import Sync, SyncRun
from syncs.tasks import prune_logs

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)


def sync_named(name: str) -> Sync:
    org, _ = Connection.objects.get_or_create(name="Org")
    return Sync.objects.create(connection=org, name=name, sobject="Contact",
                               person_id_field="Id")


def run(owner: Sync | Action, days_ago: float, status: str = "succeeded",
        now: dt.datetime = NOW) -> SyncRun:
    """A run of `owner` started `days_ago` before `now`, finished a minute later (unless
    running)."""
    started = now - dt.timedelta(days=days_ago)
    finished = None if status == "running" else started + dt.timedelta(minutes=1)
    kind = "action" if isinstance(owner, Action) else "sync"
    return SyncRun.objects.create(**{kind: owner}, trigger="schedule", status=status,
                                  direction="out" if kind == "action" else "in",
                                  started_at=started, finished_at=finished)


def kept_ids() -> set[int]:
    return set(SyncRun.objects.values_list("pk", flat=True))


def test_prune_keeps_running_runs_latest_runs_and_runs_with_logs_and_deletes_the_rest():
    contacts, leads, lone, ties = (sync_named(n) for n in ("Contacts", "Leads", "Lone", "Ties"))
    action = Action.objects.create(connection=contacts.connection, name="People → Contacts",
                                   sobject="Contact", matchers=[["email", "Email"]])
    gone = [run(contacts, 200), run(contacts, 100, "failed"), run(leads, 300),
            run(action, 150)]
    running = run(contacts, 200, "running")       # a worker may still be on it
    logged = run(contacts, 120)                   # its log is younger than the retention
    log = RecordLog.objects.create(run=logged, sync=contacts, sobject="Contact",
                                   record_id="003A", outcome="created",
                                   created_at=NOW - dt.timedelta(days=10))
    young = run(contacts, 10)
    leads_latest = run(leads, 200)                # every run of Leads is old: its newest stays
    lone_only = run(lone, 400)
    named = run(action, 120)                      # the action's page links it as "last run"
    Action.objects.filter(pk=action.pk).update(last_run_id=named.pk)
    action_latest = run(action, 100)
    tied = {run(ties, 200).pk, run(ties, 200).pk}  # the same start: either is the latest
    SyncRun.objects.filter(pk__in=tied).update(started_at=NOW - dt.timedelta(days=200))

    assert SyncRun.prune(days=90, now=NOW) == len(gone) + 1

    kept = kept_ids()
    assert len(kept & tied) == 1
    assert kept - tied == {running.pk, logged.pk, young.pk, leads_latest.pk, lone_only.pk,
                           named.pk, action_latest.pk}
    log.refresh_from_db()
    assert log.run_id == logged.pk
    assert SyncRun.prune(days=90, now=NOW) == 0


def test_a_run_whose_logs_were_pruned_goes_with_them():
    sync = sync_named("Contacts")
    old = run(sync, 120)
    RecordLog.objects.create(run=old, sync=sync, sobject="Contact", record_id="003A",
                             outcome="created", created_at=NOW - dt.timedelta(days=120))
    run(sync, 1)
    assert SyncRun.prune(days=90, now=NOW) == 0
    assert RecordLog.prune(days=30, now=NOW) == 1
    assert SyncRun.prune(days=90, now=NOW) == 1
    assert not SyncRun.objects.filter(pk=old.pk).exists()


def test_prune_deletes_a_batch_per_statement():
    sync = sync_named("Contacts")
    for days in range(100, 105):
        run(sync, days)
    latest = run(sync, 1)
    with CaptureQueriesContext(connection) as queries:
        assert SyncRun.prune(days=90, now=NOW, batch=2) == 5
    deletes = [q["sql"] for q in queries
               if q["sql"].startswith('DELETE FROM "syncs_syncrun"')]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert kept_ids() == {latest.pk}


def test_the_daily_task_prunes_runs_after_the_logs_and_says_how_many(settings, caplog):
    assert settings.FORCEBRIDGE_RUN_RETENTION_DAYS == 90  # config/settings.py's default
    now = timezone.now()
    sync = sync_named("Contacts")
    old = run(sync, 91, now=now)
    # Older than the log retention (30 days), younger than the run retention: both kept...
    recent = run(sync, 60, now=now)
    RecordLog.objects.create(run=old, sync=sync, sobject="Contact", record_id="003A",
                             outcome="created", created_at=now - dt.timedelta(days=91))
    with caplog.at_level(logging.INFO, logger="syncs.tasks"):
        assert prune_logs() == 2  # ...the log, then its run
    assert kept_ids() == {recent.pk}
    assert ("pruned 1 record logs, 0 processed outbox rows, 0 inbound messageIds, "
            "0 exchanged fields of removed hub rows and 1 runs") in caplog.text
