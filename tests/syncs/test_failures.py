"""Crashes, quota exhaustion, expired sessions and query timeouts mid-run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from connections.models import Connection
from syncs.pull import run_sync
from tests.syncs.conftest import contacts, hub_snapshot, pages, wipe_hub
from workspace.models import Person, SourceRecord

pytestmark = pytest.mark.django_db
FIELDS = ["FirstName", "LastName", "Email", "DoNotCall", "CreatedDate"]


def test_a_crash_mid_run_then_a_rerun_gives_the_clean_hub(emulator, make_sync):
    emulator.control.insert("Contact", *contacts(1000), load=True)
    emulator.control.insert("Contact", {"LastName": "Dup", "Email": "c5@example.com"})
    clean = make_sync("Contact", name="clean", fields=FIELDS, batch_size=200)
    assert run_sync(clean.pk).status == "succeeded"
    expected = hub_snapshot()
    wipe_hub()
    crashing = make_sync("Contact", name="crashing", fields=FIELDS, batch_size=200)
    # The second page (the first queryMore) fails past every retry: the worker gives up mid-run.
    emulator.control.faults(fail_next={"count": 50, "status": 500, "kinds": ["queryMore"]})
    first = run_sync(crashing.pk)
    assert first.status == "failed" and "UNKNOWN_EXCEPTION" in first.error
    assert first.created == 200  # the first page, applied before queryMore kept failing
    emulator.control.clear_faults()
    second = run_sync(crashing.pk)
    assert second.status == "succeeded", second.error
    assert hub_snapshot() == expected


def test_a_record_purged_while_a_first_run_was_interrupted_leaves_the_hub(emulator, make_sync):
    emulator.control.clock(freeze="2024-03-04T05:06:00Z")
    emulator.control.insert("Contact", *contacts(1000), load=True)
    sync = make_sync("Contact", fields=FIELDS, batch_size=200)
    emulator.control.faults(fail_next={"count": 50, "status": 500, "kinds": ["queryMore"]})
    assert run_sync(sync.pk).status == "failed"
    emulator.control.clear_faults()
    applied = SourceRecord.objects.filter(source=sync.source).values_list("record_id", flat=True)
    purged = applied[0]
    emulator.control.delete("Contact", purged, hard=True)
    emulator.control.clock(advance=120)  # getDeleted lists a deletion once its minute is over
    resumed = run_sync(sync.pk)
    assert resumed.status == "succeeded", resumed.error
    assert not SourceRecord.objects.filter(source=sync.source, record_id=purged).exists()
    assert Person.objects.count() == 999
    assert resumed.deleted == 1


def test_quota_exhaustion_defers_and_the_next_run_resumes(emulator, make_sync, settings):
    # A frozen clock and no overlap, so the resumed run's reads can be counted exactly.
    settings.FORCEBRIDGE_SYNC_OVERLAP_SECONDS = 0
    emulator.control.clock(freeze="2024-03-04T05:06:00Z")
    emulator.control.insert("Contact", *contacts(1000), load=True)
    sync = make_sync("Contact", fields=FIELDS, batch_size=200)
    # Let the org's whole limit be usable, so the run stops mid-scan rather than before it.
    Connection.objects.filter(pk=sync.connection_id).update(daily_budget_percent=100)
    emulator.control.clear_counters()
    emulator.control.faults(limit_after=6)
    run = run_sync(sync.pk)
    assert run.status == "deferred", run.error
    # The client stops on the org's REQUEST_LIMIT_EXCEEDED or, seeing the usage header reach
    # the limit, just before it; either way the run is deferred, not failed.
    assert "REQUEST_LIMIT_EXCEEDED" in run.error or "budget is spent" in run.error
    assert 0 < run.created < 1000
    sync.refresh_from_db()
    assert sync.last_status == "deferred" and sync.cursor_modstamp
    assert sync.next_run_at is not None and sync.claimed_at is None
    emulator.control.faults(limit_after=None)
    # A day later the recorded usage no longer counts against the budget.
    Connection.objects.filter(pk=sync.connection_id).update(
        api_usage_at=timezone.now() - dt.timedelta(hours=25))
    emulator.control.clear_counters()
    resumed = run_sync(sync.pk)
    assert resumed.status == "succeeded", resumed.error
    assert Person.objects.count() == 1000
    assert resumed.created == 1000 - run.created
    assert pages(emulator) <= (1000 - run.created) // 200 + 2


def test_a_session_expiring_mid_run_is_refreshed(emulator, make_sync):
    emulator.control.insert("Contact", *contacts(600), load=True)
    sync = make_sync("Contact", fields=FIELDS, batch_size=200)
    emulator.control.expire_sessions()
    emulator.control.faults(fail_next={"count": 1, "status": 401,
                                       "error_code": "INVALID_SESSION_ID",
                                       "message": "Session expired or invalid",
                                       "kinds": ["queryMore"]})
    run = run_sync(sync.pk)
    assert run.status == "succeeded", run.error
    assert run.created == 600


def test_query_timeout_splits_the_window(emulator, make_sync):
    emulator.control.insert("Contact", *contacts(300), load=True)
    sync = make_sync("Contact", fields=FIELDS)
    assert run_sync(sync.pk).created == 300
    emulator.control.insert("Contact", *contacts(50, start=300), load=True)
    emulator.control.faults(fail_next={"count": 2, "status": 400, "error_code": "QUERY_TIMEOUT",
                                       "message": "Your query request was running for too long.",
                                       "kinds": ["query"]})
    run = run_sync(sync.pk)
    assert run.status == "succeeded", run.error
    assert run.created == 50 and Person.objects.count() == 350
    assert emulator.control.counters()["query"] >= 4  # two refused, then the split windows
