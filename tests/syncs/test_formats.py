"""Each Data Pipelines format, from the typical-mapping presets, against the emulator."""

from __future__ import annotations

import datetime as dt

import pytest

from logs.models import RecordLog
from syncs.pull import run_sync
from tests.syncs.conftest import contacts
from workspace.models import Event, Object, Person, Relationship

pytestmark = pytest.mark.django_db


def ok(sync, trigger="manual"):
    run = run_sync(sync.pk, trigger=trigger)
    assert run is not None and run.status == "succeeded", run and run.error
    return run


def test_contacts_become_people_with_reserved_traits(emulator, make_sync):
    (cid,) = emulator.control.insert("Contact", {
        "FirstName": "Ann", "LastName": "Lee", "Email": "Ann@Example.com", "Phone": "555",
        "Title": "CEO", "Birthdate": "1990-01-02", "Department": "Ops"})
    sync = make_sync("Contact", fields=["FirstName", "LastName", "Name", "Email", "Phone",
                                        "Title", "CreatedDate", "Birthdate", "Department"],
                     renames={"Department": "department"}, convert_dates=True)
    run = ok(sync)
    person = Person.objects.get()
    assert (person.customer_id, person.email) == (cid, "ann@example.com")
    created = emulator.control.record("Contact", cid)["CreatedDate"]
    epoch = int(dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp())
    assert person.attributes == {
        "firstName": "Ann", "lastName": "Lee", "name": "Ann Lee", "email": "Ann@Example.com",
        "phone": "555", "title": "CEO", "CreatedDate": epoch, "created_at": epoch,
        "Birthdate": 631238400, "department": "Ops"}
    log = RecordLog.objects.get()
    assert (log.run_id, log.record_id, log.outcome, log.hub_ref) == (
        run.pk, cid, "created", f"person:{person.pk}")
    assert run.fetched == 1 and run.created == 1 and run.mode == "full"


def test_leads_are_people_identified_by_email(emulator, make_sync):
    emulator.control.insert("Lead", {"LastName": "Lo", "Company": "Acme",
                                     "Email": "lo@acme.io"})
    sync = make_sync("Lead", fields=["LastName", "Email", "Company"])
    ok(sync)
    person = Person.objects.get()
    assert person.customer_id is None and person.email == "lo@acme.io"
    assert person.attributes == {"lastName": "Lo", "email": "lo@acme.io", "Company": "Acme"}


def test_tasks_become_events_of_their_person(emulator, make_sync):
    (cid,) = emulator.control.insert("Contact", *contacts(1))
    (tid,) = emulator.control.insert("Task", {"Subject": "Call back", "WhoId": cid,
                                              "Status": "Completed"})
    emulator.control.insert("Task", {"Subject": "Nobody"})
    sync = make_sync("Task", fields=["Subject", "Status"])
    run = ok(sync)
    event = Event.objects.get()
    assert (event.source_id, event.name, event.person.customer_id) == (tid, "Call back", cid)
    assert event.properties == {"Subject": "Call back", "Status": "Completed"}
    assert event.timestamp is not None
    assert (run.created, run.skipped) == (1, 1)
    assert RecordLog.objects.get(outcome="skipped").error_code == "MISSING_IDENTIFIER"
    # A re-sync of a changed task updates the event, never duplicates it.
    emulator.control.update("Task", tid, {"Status": "Deferred"})
    ok(sync)
    assert Event.objects.get().properties["Status"] == "Deferred"


@pytest.mark.parametrize(("sobject", "row", "singular"), [
    ("Account", {"Name": "Acme", "Phone": "1", "Industry": "Energy"}, "Account"),
    ("Opportunity", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2030-01-01"},
     "Opportunity"),
    ("Campaign", {"Name": "Spring"}, "Campaign"),
])
def test_custom_object_presets(emulator, make_sync, sobject, row, singular):
    (oid,) = emulator.control.insert(sobject, row)
    sync = make_sync(sobject, fields=list(row))
    ok(sync)
    obj = Object.objects.select_related("type").get()
    assert (obj.type.singular, obj.object_id) == (singular, oid)
    assert obj.attributes["name"] == row["Name"]
    if sobject == "Account":
        assert obj.attributes == {"name": "Acme", "phone": "1", "Industry": "Energy"}
        assert obj.type.plural == "Accounts"


def test_account_contact_relations_relate_people_to_accounts(emulator, make_sync):
    (cid,) = emulator.control.insert("Contact", *contacts(1))
    (other,) = emulator.control.insert("Account", {"Name": "Other"})
    emulator.control.insert("AccountContactRelation", {"AccountId": other, "ContactId": cid,
                                                       "Roles": "Evaluator"})
    sync = make_sync("AccountContactRelation", fields=["IsActive", "Roles"])
    ok(sync)
    pairs = {(r.person.customer_id, r.object.object_id): r.attributes
             for r in Relationship.objects.select_related("person", "object")}
    assert pairs[(cid, other)] == {"IsActive": True, "Roles": "Evaluator"}
    assert [o.type.singular for o in Object.objects.all()] == ["Account"]


def test_relationship_person_through_a_parent_email(emulator, make_sync):
    (oid,) = emulator.control.insert("Opportunity", {"Name": "D", "StageName": "Prospecting",
                                                     "CloseDate": "2030-01-01"})
    (cid,) = emulator.control.insert("Contact", {"LastName": "X", "Email": "x@y.io"})
    emulator.control.insert("OpportunityContactRole", {"OpportunityId": oid, "ContactId": cid,
                                                       "Role": "Evaluator", "IsPrimary": True})
    sync = make_sync("OpportunityContactRole", fields=["Role", "IsPrimary"],
                     person_id_field="Contact.Email", person_match="email")
    ok(sync)
    rel = Relationship.objects.select_related("person", "object").get()
    assert (rel.person.email, rel.object.object_id) == ("x@y.io", oid)
    assert rel.attributes == {"Role": "Evaluator", "IsPrimary": True}
