""""Resync all data" reads Salesforce once: it marks what it sees and removes what it did not,
instead of reading every Id again; a resync resumed after a crash keeps its marks."""

from __future__ import annotations

import math

import pytest

from syncs import queue
from syncs.models import Sync
from syncs.pull import run_sync
from tests.syncs.conftest import contacts, pull_with, stopping_after
from workspace.models import Person

pytestmark = pytest.mark.django_db


def ok(sync, **options):
    run = run_sync(sync.pk, **options)
    assert run is not None and run.status == "succeeded", run and run.error
    return run


def test_a_rest_resync_costs_a_query_page_per_2000_records_and_three_calls(emulator, make_sync):
    count = 5000
    ids = emulator.control.insert("Contact", *contacts(count), load=True)
    sync = make_sync("Contact", fields=["LastName"], bulk_threshold=10**9)
    ok(sync)
    emulator.control.delete("Contact", ids[0], hard=True)
    emulator.control.clear_counters()

    run = ok(sync, full=True)

    # getDeleted, COUNT() and the pages; reading every Id again would add three more pages.
    assert run.api_calls <= math.ceil(count / 2000) + 3
    assert (run.mode, run.deleted, run.updated) == ("full", 1, count - 1)
    assert Person.objects.count() == count - 1


def test_a_resync_keeps_records_that_only_left_the_filter(emulator, make_sync):
    left, purged, kept = emulator.control.insert("Contact", *contacts(3, Department="Sales"))
    sync = make_sync("Contact", fields=["LastName"], filter="Department = 'Sales'")
    ok(sync)
    emulator.control.update("Contact", left, {"Department": "Support"})
    emulator.control.delete("Contact", purged, hard=True)

    run = ok(sync, full=True)

    assert run.deleted == 1
    assert set(Person.objects.values_list("customer_id", flat=True)) == {left, kept}


def test_a_resync_resumed_after_a_crash_keeps_what_it_saw(emulator, make_sync):
    ids = emulator.control.insert("Contact", *contacts(1000), load=True)
    sync = make_sync("Contact", fields=["LastName"], batch_size=200, bulk_threshold=10**9)
    ok(sync)
    emulator.control.delete("Contact", ids[-1], hard=True)  # the resync must remove it
    sync.resync()
    sync.refresh_from_db()
    held = queue.claim(sync)
    held.take_request()
    stopping = pull_with(applier=stopping_after(2))
    crashed = stopping(sync, held, Sync.Trigger.RESYNC, start_over=True).run()
    assert crashed.status == "failed"
    held.release()

    resumed = ok(sync)  # the scheduler's next run goes on with the resync

    assert resumed.trigger == "resync" and resumed.deleted == 1
    assert resumed.fetched + 400 >= 999  # it went on from the cursor, not from the start
    assert Person.objects.count() == 999
    sync.refresh_from_db()
    assert not sync.resync_pending and sync.resync_started_at is None
    assert sync.refreshed_at == resumed.started_at
