"""Actions writing hub people to Salesforce: matchers, operations, values, logs, API calls."""

from __future__ import annotations

import pytest

from logs.models import RecordLog
from tests.syncs.push_cast import hub_people, make_action, ok
from workspace.models import Change

pytestmark = pytest.mark.django_db

ROWS = [("firstName", "FirstName"), ("lastName", "LastName"), ("title", "Title")]


def contacts_by_email(emulator) -> dict[str, dict]:
    return {r["Email"]: r for r in emulator.control.records("Contact") if r.get("Email")}


def outcomes(run) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for log in RecordLog.objects.filter(run=run).order_by("id"):
        found.setdefault(log.outcome, []).append(log.hub_ref)
    return found


def test_update_only_by_email_writes_what_differs_and_skips_the_rest(emulator, connection):
    emulator.control.insert("Contact", {"LastName": "Old", "Email": "ann@x.io", "Title": "CEO"},
                            {"LastName": "Same", "FirstName": "Bo", "Email": "bo@x.io"})
    hub_people({"email": "Ann@X.io", "firstName": "Ann", "lastName": "Lee", "title": "CEO"},
               {"email": "bo@x.io", "firstName": "Bo", "lastName": "Same"},
               {"email": "cy@x.io", "lastName": "New"})
    action = make_action(connection, rows=ROWS)
    emulator.control.clear_counters()
    run = ok(action)
    assert (run.fetched, run.updated, run.skipped, run.created, run.failed) == (3, 1, 2, 0, 0)
    found = contacts_by_email(emulator)
    assert (found["ann@x.io"]["FirstName"], found["ann@x.io"]["LastName"]) == ("Ann", "Lee")
    assert "cy@x.io" not in found
    log = RecordLog.objects.get(run=run, outcome="updated")
    assert log.direction == "out" and log.action_id == action.pk and log.sync_id is None
    assert log.record_id == found["ann@x.io"]["Id"] and log.changed_fields == ["FirstName",
                                                                             "LastName"]
    skipped = RecordLog.objects.get(run=run, outcome="skipped")
    assert skipped.error_code == "NO_MATCH" and "update only" in skipped.message
    assert RecordLog.objects.get(run=run, outcome="unchanged").record_id == found["bo@x.io"]["Id"]
    counters = emulator.control.counters()
    assert counters.get("query") == 1 and counters.get("composite") == 1, counters
    assert run.api_calls <= 4 and run.direction == "out" and run.action_id == action.pk
    # Every change passed: the position moved and the rows are processed.
    action.refresh_from_db()
    assert action.outbox_position == Change.objects.order_by("-id").first().pk
    assert not Change.objects.filter(processed_at__isnull=True).exists()


def test_a_reconcile_of_what_salesforce_already_has_writes_nothing(emulator, connection):
    hub_people({"email": "ann@x.io", "firstName": "Ann", "lastName": "Lee"})
    action = make_action(connection, rows=ROWS, allow_create=True)
    assert ok(action).created == 1
    emulator.control.clear_counters()
    run = ok(action, full=True)
    assert (run.fetched, run.skipped, run.created, run.updated) == (1, 1, 0, 0)
    assert run.total == 1 and ok(action).total == 0  # nothing to drain: a total of 0
    assert emulator.control.counters().get("composite") is None
    assert len(emulator.control.records("Contact")) == 1


def test_allow_create_creates_once_with_the_matcher_value(emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Lee"}, {"email": "bo@x.io", "lastName": "Bo"})
    action = make_action(connection, rows=ROWS, allow_create=True)
    assert ok(action).created == 2
    hub_people({"email": "ann@x.io", "lastName": "Lee-Smith"})
    run = ok(action)
    assert (run.created, run.updated) == (0, 1)
    found = contacts_by_email(emulator)
    assert len(found) == 2 and found["ann@x.io"]["LastName"] == "Lee-Smith"


def test_several_matches_fail_with_the_candidates_and_are_not_written(emulator, connection):
    ids = emulator.control.insert("Contact", {"LastName": "A", "Email": "dup@x.io"},
                                  {"LastName": "B", "Email": "dup@x.io"})
    hub_people({"email": "dup@x.io", "lastName": "C"})
    run = ok(make_action(connection, rows=ROWS))
    log = RecordLog.objects.get(run=run)
    assert (log.outcome, log.error_code) == ("failed", "MULTIPLE_MATCHES")
    assert all(i in log.message for i in ids)
    assert {r["LastName"] for r in emulator.control.records("Contact")} == {"A", "B"}


@pytest.mark.parametrize("value", ["o'brien@x.io", "back\\slash@x.io", "zoë@x.io",
                                   'quote"d@x.io'])
def test_matcher_values_with_quotes_backslashes_and_unicode(emulator, connection, value):
    emulator.control.insert("Contact", {"LastName": "Old", "Email": value})
    hub_people({"email": value, "lastName": "New"})
    run = ok(make_action(connection, rows=ROWS))
    assert run.updated == 1, RecordLog.objects.filter(run=run).values_list("message", flat=True)
    assert contacts_by_email(emulator)[value]["LastName"] == "New"


def test_and_needs_every_matcher_or_needs_one(emulator, connection):
    emulator.control.insert("Contact", {"LastName": "Lee", "FirstName": "Ann", "Email": "a@x.io"})
    hub_people({"email": "a@x.io", "firstName": "Ann", "lastName": "Lee", "title": "CTO"},
               {"email": "other@x.io", "firstName": "Ann", "lastName": "Lee", "title": "CFO"})
    both = [["email", "Email"], ["lastName", "LastName"]]
    either = make_action(connection, name="or", rows=ROWS, matchers=both, matcher_operator="or")
    every = make_action(connection, name="and", rows=ROWS, matchers=both,
                        matcher_operator="and")
    # OR: both people match the one contact (by last name); only the later one is written.
    run = ok(either)
    assert run.updated == 1
    duplicate = RecordLog.objects.get(run=run, error_code="DUPLICATE_IN_BATCH")
    assert duplicate.outcome == "skipped" and "the later one is written" in duplicate.message
    assert contacts_by_email(emulator)["a@x.io"]["Title"] == "CFO"
    # AND: only the person whose e-mail and last name both match.
    run = ok(every, full=True)
    assert (run.updated, run.skipped) == (1, 1)
    assert contacts_by_email(emulator)["a@x.io"]["Title"] == "CTO"


def test_id_matcher_updates_with_no_query_while_draining(emulator, connection):
    (cid,) = emulator.control.insert("Contact", {"LastName": "Old"})
    hub_people({"customer_id": cid, "email": "a@x.io", "lastName": "New"})
    action = make_action(connection, rows=ROWS, matchers=[["customer_id", "Id"]])
    emulator.control.clear_counters()
    assert ok(action).updated == 1
    assert emulator.control.counters().get("query") is None
    assert emulator.control.record("Contact", cid)["LastName"] == "New"


def test_a_bad_value_fails_its_record_only(emulator, connection):
    emulator.control.insert("Contact", *[{"LastName": f"L{i}", "Email": f"p{i}@x.io"}
                                         for i in range(3)])
    hub_people({"email": "p0@x.io", "birthday": "not a date", "lastName": "A"},
               {"email": "p1@x.io", "title": "x" * 300, "lastName": "B"},
               {"email": "p2@x.io", "birthday": 631238400, "lastName": "C"})
    action = make_action(connection, rows=[*ROWS, ("birthday", "Birthdate")])
    run = ok(action)
    assert (run.updated, run.failed) == (1, 2)
    failed = {log.message for log in RecordLog.objects.filter(run=run, outcome="failed")}
    assert any("Birthdate: 'not a date' is not a date" in m for m in failed)
    assert any("Title:" in m and "at most 128" in m for m in failed)
    assert contacts_by_email(emulator)["p2@x.io"]["Birthdate"] == "1990-01-02"


def test_absent_attributes_are_left_alone_and_empty_ones_cleared(emulator, connection):
    emulator.control.insert("Contact", {"LastName": "L", "Email": "a@x.io", "Title": "CEO",
                                        "FirstName": "Ann"})
    hub_people({"email": "a@x.io", "lastName": "M", "firstName": None})
    run = ok(make_action(connection, rows=ROWS))
    assert run.updated == 1
    record = contacts_by_email(emulator)["a@x.io"]
    assert (record["LastName"], record["Title"], record["FirstName"]) == ("M", "CEO", None)


def test_changes_pulled_from_the_same_org_are_not_pushed_back(emulator, connection):
    emulator.control.insert("Contact", {"LastName": "L", "Email": "a@x.io"})
    action = make_action(connection, rows=ROWS)
    from syncs.models import Sync

    sync = Sync.objects.create(connection=connection, name="pull", sobject="Contact",
                               data_format="person", person_id_field="Id")
    hub_people({"email": "a@x.io", "lastName": "From SF"}, origin=sync.source)
    run = ok(action)
    assert run.fetched == 0 and emulator.control.records("Contact")[0]["LastName"] == "L"
    action.refresh_from_db()
    assert action.outbox_position == Change.objects.order_by("-id").first().pk
