"""Later runs read only what changed: creates, updates, ties at the cursor, late records."""

from __future__ import annotations

import datetime as dt

import pytest

from syncs.pull import run_sync
from tests.syncs.conftest import contacts, hub_snapshot
from workspace.models import Person

pytestmark = pytest.mark.django_db
FROZEN = "2024-03-04T05:06:00.000Z"


def ok(sync, **kwargs):
    run = run_sync(sync.pk, **kwargs)
    assert run is not None and run.status == "succeeded", run and run.error
    return run


def test_incremental_runs_pick_up_creates_and_updates(emulator, make_sync):
    ids = emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", fields=["FirstName", "LastName", "Email"])
    ok(sync)
    emulator.control.clear_counters()
    emulator.control.update("Contact", ids[0], {"FirstName": "Changed"})
    (new,) = emulator.control.insert("Contact", *contacts(1, start=10))
    run = ok(sync)
    assert run.mode == "incremental"
    assert (run.created, run.updated) == (1, 1)
    assert Person.objects.get(customer_id=ids[0]).attributes["firstName"] == "Changed"
    assert Person.objects.filter(customer_id=new).exists()
    # describe is cached; getDeleted + one query page.
    assert sum(emulator.control.counters().get(k, 0) for k in ("query", "queryMore")) == 1
    idle = ok(sync)
    assert (idle.created, idle.updated) == (0, 0)


def test_ties_on_systemmodstamp_across_a_page_edge(emulator, make_sync, settings):
    """500 records share one SystemModstamp; pages of 200; a crash after the first page."""
    settings.FORCEBRIDGE_SYNC_OVERLAP_SECONDS = 0
    emulator.control.clock(freeze=FROZEN)
    emulator.control.insert("Contact", *contacts(500), load=True)
    sync = make_sync("Contact", fields=["LastName", "Email"], batch_size=200)
    # The second page call fails for good: the run stops with one page applied.
    emulator.control.faults(fail_next={"count": 50, "status": 503, "kinds": ["queryMore"]})
    failed = run_sync(sync.pk)
    assert failed.status == "failed" and failed.created == 200, failed.error
    sync.refresh_from_db()
    assert sync.cursor_modstamp == "2024-03-04T05:06:00.000+0000"
    emulator.control.clear_faults()
    emulator.control.clear_counters()
    resumed = ok(sync)
    assert resumed.created == 300 and Person.objects.count() == 500
    # Exactly the 300 records after the tie-broken cursor were read: 2 pages of 200.
    counters = emulator.control.counters()
    assert counters.get("query", 0) + counters.get("queryMore", 0) == 2
    # More records at the same instant after a finished run are still found.
    emulator.control.insert("Contact", *contacts(250, start=500), load=True)
    later = ok(sync)
    assert later.created == 250 and Person.objects.count() == 750


def test_a_record_made_visible_late_is_not_missed(emulator, make_sync):
    emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", fields=["LastName", "Email"])
    ok(sync)
    sync.refresh_from_db()
    cursor = sync.cursor_modstamp
    # A long transaction commits a record stamped before the cursor.
    (late,) = emulator.control.insert("Contact", *contacts(1, start=9))
    moment = dt.datetime.strptime(cursor, "%Y-%m-%dT%H:%M:%S.%f%z") - dt.timedelta(seconds=30)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    emulator.control.update("Contact", late, {"SystemModstamp": stamp}, raw=True)
    assert emulator.control.record("Contact", late)["SystemModstamp"] < cursor
    run = ok(sync)
    assert run.created == 1 and Person.objects.filter(customer_id=late).exists()
    # The overlap window re-read the three applied ones: counted as skipped, not logged.
    assert run.skipped == 3 and run.record_logs.count() == 1


def test_resync_rewrites_every_record(emulator, make_sync):
    emulator.control.insert("Contact", *contacts(4))
    sync = make_sync("Contact", fields=["LastName"])
    ok(sync)
    sync.fields = ["LastName", "FirstName"]
    sync.save()
    sync.resync()
    run = ok(sync)
    assert run.trigger == "resync" and run.updated == 4
    assert all("firstName" in p.attributes for p in Person.objects.all())
    sync.refresh_from_db()
    assert not sync.resync_pending and sync.cursor_modstamp
    before = hub_snapshot()
    assert ok(sync).updated == 0 and hub_snapshot() == before
