"""A Bulk API 2.0 first run and a REST first run give the same hub; REST stays within budget."""

from __future__ import annotations

import math

import pytest

from syncs.pull import run_sync
from tests.syncs.conftest import hub_snapshot, pages, wipe_hub

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
