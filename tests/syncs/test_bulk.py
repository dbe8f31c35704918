"""A Bulk API 2.0 first run and a REST first run give the same hub; REST stays within budget."""

from __future__ import annotations

import math

import pytest

from syncs import queue
from syncs.models import Sync
from syncs.pull import run_sync
from tests.syncs.conftest import hub_snapshot, pages, pull_with, stopping_after, wipe_hub
from workspace.models import Person

pytestmark = pytest.mark.django_db
FIELDS = ["FirstName", "LastName", "Email", "DoNotCall", "HasOptedOutOfEmail", "Birthdate",
          "CreatedDate", "Account.Name", "Account.NumberOfEmployees", "Days_Since_Created__c",
          "Description"]


def rows(emulator, count: int) -> None:
    (aid,) = emulator.control.insert("Account", {"Name": "Acme, \"Inc\"", "NumberOfEmployees": 7})
    emulator.control.insert("Contact", *[
        {"FirstName": f"F{i}", "LastName": f"L{i}", "Email": f"p{i}@x.io",
         "DoNotCall": i % 2 == 0, "Birthdate": f"1990-01-0{1 + i % 9}" if i % 3 else None,
         "AccountId": aid if i % 4 else None,
         "Description": "line one\nline, two" if i % 5 == 0 else None}
        for i in range(count)], load=True)


@pytest.mark.parametrize("convert", [False, True])
def test_bulk_and_rest_first_runs_give_identical_hubs(emulator, make_sync, convert):
    rows(emulator, 450)
    rest = make_sync("Contact", name="rest", fields=FIELDS, convert_dates=convert,
                     bulk_threshold=10**9)
    run = run_sync(rest.pk)
    assert (run.status, run.mode, run.created) == ("succeeded", "full", 450), run.error
    expected = hub_snapshot()
    wipe_hub()
    bulk = make_sync("Contact", name="bulk", fields=FIELDS, convert_dates=convert,
                     bulk_threshold=100)
    run = run_sync(bulk.pk)
    assert (run.status, run.mode, run.created) == ("succeeded", "bulk", 450), run.error
    assert hub_snapshot() == expected
    bulk.refresh_from_db()
    assert bulk.cursor_modstamp  # later runs go on incrementally over REST
    emulator.control.insert("Contact", {"LastName": "New"})
    later = run_sync(bulk.pk)
    assert (later.mode, later.created) == ("incremental", 1)


def test_rest_first_run_api_calls_stay_within_budget(emulator, make_sync):
    count = 4500
    emulator.control.insert("Contact", *[{"LastName": f"L{i}"} for i in range(count)],
                            load=True)
    sync = make_sync("Contact", fields=["LastName", "Email"])
    emulator.control.clear_counters()
    run = run_sync(sync.pk)
    assert run.created == count
    assert run.api_calls <= math.ceil(count / 2000) + 5
    assert pages(emulator) == math.ceil(count / 2000) + 1  # the pages and one COUNT()


def test_a_bulk_run_that_stopped_goes_on_with_the_same_job(emulator, make_sync, settings):
    settings.SALESFORCE_BULK_QUERY_PAGE_RECORDS = 500
    rows(emulator, 2000)
    sync = make_sync("Contact", fields=["LastName", "Email"], bulk_threshold=0, batch_size=200)
    # Each results page of 500 is cut into 200 + 200 + 100: stop after two results pages.
    stopping = pull_with(applier=stopping_after(6))
    run = stopping(sync, queue.claim(sync), Sync.Trigger.SCHEDULE).run()
    assert run.status == "failed" and "the worker stopped" in run.error
    Sync.objects.filter(pk=sync.pk).update(claimed_at=None, claim_token="")
    sync.refresh_from_db()
    assert sync.bulk_state["locator"] != "null" and sync.bulk_state["job"]
    emulator.control.clear_counters()

    resumed = run_sync(sync.pk)

    assert resumed.status == "succeeded", resumed.error
    assert resumed.fetched == 1000  # only the two results pages not yet applied
    # The job's state, one poll and the two results pages; a new job would add its creation,
    # its polls and all four results pages.
    assert emulator.control.counters()["bulk"] == 4
    assert Person.objects.count() == 2000
    sync.refresh_from_db()
    assert sync.bulk_state == {} and sync.cursor_modstamp


def test_a_bulk_job_that_is_gone_is_started_again(emulator, make_sync, settings):
    rows(emulator, 300)
    sync = make_sync("Contact", fields=["LastName"], bulk_threshold=0)
    Sync.objects.filter(pk=sync.pk).update(bulk_state={
        "query": "0" * 16, "job": "750000000000000AAA", "locator": "MTAw", "tail": ["", ""]})
    run = run_sync(sync.pk)
    assert (run.status, run.created) == ("succeeded", 300), run.error
