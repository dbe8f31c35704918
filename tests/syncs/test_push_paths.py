"""The write paths of an action: native upsert, Bulk API 2.0, converted leads, row locks,
headers, related accounts, and crashes or outages between the write and its log."""

from __future__ import annotations

import pytest
from django.db import transaction

from connections.bulk_api import _request
from logs.models import RecordLog
from syncs.models import SyncRun
from syncs.push import Push
from syncs.queue import claim
from tests.syncs.push_cast import hub_people, make_action, ok, push
from workspace.hub import HubWriter, Item, Ref
from workspace.models import ObjectType

pytestmark = pytest.mark.django_db

ROWS = [("firstName", "FirstName"), ("lastName", "LastName"), ("title", "Title")]
EXT = "Forcebridge_Id__c"


def by(emulator, field: str, sobject: str = "Contact") -> dict[str, dict]:
    return {r[field]: r for r in emulator.control.records(sobject) if r.get(field)}


def test_external_id_upsert_uses_no_query_and_dedupes_a_batch(emulator, connection):
    (existing,) = emulator.control.insert("Contact", {"LastName": "Old", EXT: "cust-1"})
    hub_people({"customer_id": "cust-1", "email": "a@x.io", "lastName": "New"},
               {"customer_id": "cust-2", "email": "b@x.io", "lastName": "Two"},
               {"customer_id": "CUST-2", "email": "c@x.io", "lastName": "Later"})
    action = make_action(connection, rows=ROWS, operation="upsert", allow_create=True,
                         matchers=[["customer_id", EXT]])
    emulator.control.clear_counters()
    run = ok(action)
    assert (run.created, run.updated, run.skipped) == (1, 1, 1)
    counters = emulator.control.counters()
    assert counters.get("query") is None and counters.get("composite") == 1, counters
    found = by(emulator, EXT)
    assert found["cust-1"]["Id"] == existing and found["cust-1"]["LastName"] == "New"
    assert found["CUST-2"]["LastName"] == "Later" and "cust-2" not in found
    skipped = RecordLog.objects.get(run=run, outcome="skipped")
    assert skipped.error_code == "DUPLICATE_IN_BATCH" and "DUPLICATE_VALUE" in skipped.message


def test_bulk_writes_every_record_with_its_own_result(emulator, connection):
    emulator.control.insert("Contact", *[{"LastName": f"L{i}", "Email": f"p{i}@x.io",
                                          "Title": "Keep", "FirstName": "F"}
                                         for i in range(6)])
    hub_people(*[{"email": f"p{i}@x.io", "lastName": f"N{i}"} for i in range(3)],
               {"email": "p3@x.io", "lastName": "N3", "title": None},
               {"email": "p4@x.io", "lastName": "N4", "firstName": "G", "title": "New"},
               {"email": "p5@x.io", "lastName": "N5", "accountId": "001000000000000AAA"})
    action = make_action(connection, rows=[*ROWS, ("accountId", "AccountId")],
                         batch_mode="bulk")
    emulator.control.clear_counters()
    run = ok(action)
    assert (run.updated, run.failed) == (5, 1), list(RecordLog.objects.filter(run=run).values_list(
        "outcome", "error_code", "message"))
    assert emulator.control.counters().get("composite") is None
    failed = RecordLog.objects.get(run=run, outcome="failed")
    assert failed.error_code and failed.record_id == by(emulator, "Email")["p5@x.io"]["Id"]
    found = by(emulator, "Email")
    # Absent attributes left alone; an explicit empty one cleared; rows never padded.
    assert [found[f"p{i}@x.io"]["Title"] for i in range(5)] == ["Keep"] * 3 + [None, "New"]
    assert [found[f"p{i}@x.io"]["FirstName"] for i in range(5)] == ["F"] * 4 + ["G"]
    assert found["p0@x.io"]["LastName"] == "N0" and found["p5@x.io"]["LastName"] == "L5"
    assert {log.record_id for log in RecordLog.objects.filter(run=run, outcome="updated")} == {
        found[f"p{i}@x.io"]["Id"] for i in range(5)}


def test_an_update_of_a_converted_lead_follows_it_to_its_contact(emulator, connection):
    (lead,) = emulator.control.insert("Lead", {"LastName": "L", "Company": "Co",
                                               "Email": "lead@x.io"})
    contact = emulator.control.convert_lead(lead)["contactId"]
    hub_people({"email": "lead@x.io", "lastName": "L", "title": "CEO"})
    run = ok(make_action(connection, "Lead", rows=ROWS))
    log = RecordLog.objects.get(run=run)
    assert (log.outcome, log.record_id) == ("updated", contact)
    assert f"lead {lead} was converted" in log.message
    assert emulator.control.record("Contact", contact)["Title"] == "CEO"


def test_locked_rows_are_sent_again_until_written(emulator, connection):
    ids = emulator.control.insert("Contact", *[{"LastName": f"L{i}", "Email": f"p{i}@x.io"}
                                               for i in range(4)])
    emulator.control.write_rules(locked_records={ids[1]: 6, ids[2]: 1})
    hub_people(*[{"email": f"p{i}@x.io", "lastName": f"N{i}"} for i in range(4)])
    run = ok(make_action(connection, rows=ROWS))
    assert (run.updated, run.failed) == (4, 0)
    assert {r["LastName"] for r in emulator.control.records("Contact")} == {
        f"N{i}" for i in range(4)}


def test_headers_of_the_action_go_with_every_write(emulator, connection):
    emulator.control.write_rules(duplicate_rules=[{"sobject": "Lead", "fields": ["LastName"]}])
    emulator.control.insert("Lead", {"LastName": "Same", "Company": "Co", "Email": "o@x.io"})
    hub_people({"email": "n@x.io", "lastName": "Same", "company": "Co"})
    rows = [*ROWS, ("company", "Company")]
    blocked = ok(make_action(connection, "Lead", name="blocked", rows=rows, allow_create=True))
    assert RecordLog.objects.get(run=blocked).error_code == "DUPLICATES_DETECTED"
    allowed = make_action(connection, "Lead", name="allowed", rows=rows, allow_create=True,
                          duplicate_allow_save=True)
    assert ok(allowed, full=True).created == 1
    received = emulator.control.received_headers()[-1]
    assert "allowSave=true" in str(received) and "FALSE" in str(received).upper()


def test_contact_account_from_the_persons_related_account(emulator, connection, make_sync):
    salesforce_account, ext_account = emulator.control.insert(
        "Account", {"Name": "Pulled"}, {"Name": "Keyed", EXT: "acme-1"})
    accounts = make_sync("Account", fields=["Name"])
    assert ok_sync(accounts)
    emulator.control.insert("Contact", {"LastName": "A", "Email": "a@x.io"},
                            {"LastName": "B", "Email": "b@x.io"})
    hub_people({"email": "a@x.io", "lastName": "A"}, {"email": "b@x.io", "lastName": "B"})
    account_type = ObjectType.objects.get(singular="Account")
    with transaction.atomic():
        HubWriter("api:test").relationships(account_type, [
            Item("r1", "", {}, object_id=salesforce_account, person=Ref("email", "a@x.io")),
            Item("r2", "", {}, object_id="acme-1", person=Ref("email", "b@x.io"))])
    by_id = make_action(connection, name="by id", rows=[("related:Account", "AccountId")])
    by_ext = make_action(connection, name="by ext", rows=[
        ("related:Account.object_id", f"Account.{EXT}")])
    assert ok(by_id).updated == 1
    assert ok(by_ext, full=True).updated == 1
    found = by(emulator, "Email")
    assert found["a@x.io"]["AccountId"] == salesforce_account
    assert found["b@x.io"]["AccountId"] == ext_account


def ok_sync(sync) -> bool:
    from syncs.pull import run_sync

    return run_sync(sync.pk).status == "succeeded"


class CrashBeforeLogging(Push):
    """A run whose process dies after Salesforce answered and before the batch commits."""

    def apply(self, run, records, *, compare, commit, gone=()):
        steps = self.parts.planner.plan(records, compare=compare)
        self.parts.write(steps)
        raise SystemExit("worker killed")


def test_a_crash_after_the_write_and_before_the_log_creates_nothing_twice(emulator,
                                                                         connection):
    hub_people({"email": "a@x.io", "lastName": "A"}, {"email": "b@x.io", "lastName": "B"})
    action = make_action(connection, rows=ROWS, allow_create=True)
    held = claim(action)
    with pytest.raises(SystemExit):
        CrashBeforeLogging(action, held, "manual", reconcile=False).run()
    held.release()
    assert len(emulator.control.records("Contact")) == 2
    SyncRun.objects.filter(status="running").update(status="failed")
    run = ok(action)
    assert (run.created, run.skipped) == (0, 2)
    assert len(emulator.control.records("Contact")) == 2


def test_a_change_made_during_an_outage_is_delivered_once_it_recovers(emulator, connection):
    hub_people({"email": "a@x.io", "lastName": "A"})
    action = make_action(connection, rows=ROWS, allow_create=True)
    emulator.control.faults(fail_next={"count": 100, "status": 503, "kinds": ["composite"]})
    assert push(action).status == "failed"
    assert emulator.control.records("Contact") == []
    emulator.control.clear_faults()
    run = ok(action)
    assert run.created == 1 and len(emulator.control.records("Contact")) == 1
    assert ok(action).fetched == 0


def test_bulk_rows_found_locked_are_sent_again_in_smaller_jobs(emulator, connection,
                                                               sf_client):
    ids = emulator.control.insert("Contact", *[{"LastName": f"L{i}", "Email": f"p{i}@x.io"}
                                               for i in range(5)])
    # Locked for the first job only, for the first two, and until cleared.
    emulator.control.write_rules(locked_records={ids[1]: 1, ids[2]: 2, ids[3]: None})
    hub_people(*[{"email": f"p{i}@x.io", "lastName": f"N{i}"} for i in range(5)])
    action = make_action(connection, rows=ROWS, batch_mode="bulk")
    emulator.control.clear_counters()
    run = ok(action)
    assert (run.updated, run.failed) == (4, 1)
    names = {r["Id"]: r["LastName"] for r in emulator.control.records("Contact")}
    assert [names[i] for i in ids] == ["N0", "N1", "N2", "L3", "N4"]
    failed = RecordLog.objects.get(run=run, outcome="failed")
    assert (failed.record_id, failed.error_code) == (ids[3], "UNABLE_TO_LOCK_ROW")
    assert "still locked after 3 resends" in failed.message
    assert {log.record_id for log in RecordLog.objects.filter(run=run, outcome="updated")} == {
        ids[0], ids[1], ids[2], ids[4]}
    # Jobs: all 5 rows; the 3 locked in one job; the 2 still locked a job each; the last.
    jobs = sf_client.bulk_api.json(lambda sf: _request(sf, "GET", "ingest"))["records"]
    assert [job["object"] for job in jobs] == ["Contact"] * 5
    assert emulator.control.counters().get("composite") is None
