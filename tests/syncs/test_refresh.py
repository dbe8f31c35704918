"""Formula fields change without touching SystemModstamp: a periodic refresh re-reads them."""

from __future__ import annotations

import datetime as dt

import pytest

from logs.models import RecordLog
from syncs.models import Sync
from syncs.pull import run_sync
from tests.syncs.conftest import contacts
from workspace.models import Change, Person

pytestmark = pytest.mark.django_db
FIELDS = ["LastName", "Email", "Days_Since_Created__c"]
DAY = 24 * 3600
ONE_DAY = dt.timedelta(days=1)
THREE_DAYS = 3 * ONE_DAY


def ok(sync):
    run = run_sync(sync.pk)
    assert run is not None and run.status == "succeeded", run and run.error
    return run


def days_since_created() -> set:
    return {p.attributes["Days_Since_Created__c"] for p in Person.objects.all()}


@pytest.mark.parametrize("bulk_threshold", [None, 0], ids=["rest", "bulk"])
def test_a_refresh_updates_formula_values_incremental_runs_miss(emulator, make_sync,
                                                                 bulk_threshold):
    emulator.control.clock(freeze="2024-03-04T05:06:00Z")
    emulator.control.insert("Contact", *contacts(300), load=True)
    sync = make_sync("Contact", fields=FIELDS, batch_size=200, bulk_threshold=bulk_threshold)
    first = ok(sync)
    assert first.created == 300 and days_since_created() == {0.0}
    sync.refresh_from_db()
    assert sync.refreshed_at == first.started_at

    emulator.control.clock(advance=3 * DAY)
    idle = ok(sync)  # nothing changed a SystemModstamp: the formula values go stale
    assert (idle.mode, idle.created, idle.updated) == ("incremental", 0, 0)
    assert days_since_created() == {0.0}

    # Three days pass here too: a refresh every day is due.
    Sync.objects.filter(pk=sync.pk).update(refresh_days=1,
                                           refreshed_at=first.started_at - THREE_DAYS)
    Change.objects.all().delete()
    refresh = ok(sync)
    assert refresh.mode == ("refresh-bulk" if bulk_threshold == 0 else "refresh")
    assert (refresh.fetched, refresh.updated, refresh.created) == (300, 300, 0)
    assert days_since_created() == {3.0}
    assert list(Change.objects.values_list("op", "fields").distinct()) == [
        ("updated", ["Days_Since_Created__c"])]
    assert Change.objects.count() == 300

    again = ok(sync)  # refreshed today: back to reading only what changed
    assert (again.mode, again.updated) == ("incremental", 0)
    sync.refresh_from_db()
    assert sync.refreshed_at == refresh.started_at and not sync.refresh_modstamp


def test_a_refresh_logs_only_what_changed(emulator, make_sync):
    emulator.control.clock(freeze="2024-03-04T05:06:00Z")
    ids = emulator.control.insert("Contact", *contacts(5), load=True)
    sync = make_sync("Contact", fields=["LastName", "Email"], refresh_days=7)
    first = ok(sync)
    emulator.control.clock(advance=8 * DAY)
    Sync.objects.filter(pk=sync.pk).update(refreshed_at=first.started_at - 8 * ONE_DAY)
    emulator.control.update("Contact", ids[0], {"LastName": "Renamed"})
    emulator.control.delete("Contact", ids[1])
    run = ok(sync)
    assert run.mode == "refresh" and (run.updated, run.deleted) == (1, 1)
    # Only the records that changed are in the logs, not those found as they were.
    assert sorted(RecordLog.objects.filter(run=run).values_list("record_id", "outcome")) == \
        sorted([(ids[0], "updated"), (ids[1], "deleted")])
    assert Person.objects.count() == 4


def test_an_interrupted_refresh_resumes_where_it_stopped_while_changes_keep_arriving(
        emulator, make_sync, settings):
    # No overlap and a whole minute (Salesforce's time comes to the minute): each pass reads
    # exactly what it must.
    settings.FORCEBRIDGE_SYNC_OVERLAP_SECONDS = 0
    emulator.control.clock(freeze="2024-03-04T05:06:00Z")
    ids = emulator.control.insert("Contact", *contacts(1000), load=True)
    sync = make_sync("Contact", fields=FIELDS, batch_size=200, refresh_days=1)
    first = ok(sync)
    sync.refresh_from_db()
    cursor = (sync.cursor_modstamp, sync.cursor_id)
    Sync.objects.filter(pk=sync.pk).update(refreshed_at=first.started_at - THREE_DAYS)
    emulator.control.clock(advance=120)
    emulator.control.update("Contact", ids[500], {"LastName": "Changed"})
    # The change comes in one page; the refresh's first page works, its second never does.
    emulator.control.faults(fail_next={"count": 50, "status": 503, "kinds": ["queryMore"]})
    stopped = run_sync(sync.pk)
    assert stopped.status == "failed" and stopped.mode == "refresh"
    assert Person.objects.get(customer_id=ids[500]).attributes["lastName"] == "Changed"
    sync.refresh_from_db()
    assert sync.refresh_modstamp and (sync.cursor_modstamp, sync.cursor_id) > cursor
    emulator.control.clear_faults()
    resumed = ok(sync)
    assert resumed.mode == "refresh"
    assert resumed.fetched == 800  # the refresh went on from its 200th record
    sync.refresh_from_db()
    assert not sync.refresh_modstamp and sync.refreshed_at == resumed.started_at
    assert ok(sync).mode == "incremental"


def test_an_unfinished_first_run_resumes_as_itself_not_as_a_refresh(emulator, make_sync,
                                                                    settings):
    settings.FORCEBRIDGE_SYNC_OVERLAP_SECONDS = 0
    emulator.control.clock(freeze="2024-03-04T05:06:00Z")
    emulator.control.insert("Contact", *contacts(1000), load=True)
    sync = make_sync("Contact", fields=FIELDS, batch_size=200, refresh_days=1)
    emulator.control.faults(fail_next={"count": 50, "status": 503, "kinds": ["queryMore"]})
    assert run_sync(sync.pk).status == "failed"
    emulator.control.clear_faults()
    resumed = ok(sync)
    assert (resumed.mode, resumed.fetched, resumed.created) == ("incremental", 800, 800)
