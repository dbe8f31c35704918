"""One human is one person whichever order the Contacts, Leads, account-contacts and task
syncs run in (a placeholder made for a contact id merges with the lead holding its e-mail)."""

from __future__ import annotations

import itertools

import pytest

from logs.models import RecordLog
from syncs.models import Sync
from syncs.pull import run_sync, split_people
from workspace.models import Event, Person, Relationship

pytestmark = pytest.mark.django_db

SYNCS = {
    "Contact": {"fields": ["FirstName", "LastName", "Email"]},
    "Lead": {"fields": ["FirstName", "LastName", "Email", "Company"]},
    "AccountContactRelation": {"fields": ["Roles"]},
    "Task": {"fields": ["Subject"]},
}


def ok(sync) -> None:
    run = run_sync(sync.pk)
    assert run.status == "succeeded", run.error
    assert run.conflicts == 0, list(RecordLog.objects.filter(run=run, outcome="conflict")
                                    .values_list("message", flat=True))


@pytest.mark.parametrize("order", list(itertools.permutations(SYNCS)),
                         ids=lambda order: ">".join(order))
def test_a_converted_lead_ends_as_one_person_in_every_order(emulator, make_sync, order):
    (lead,) = emulator.control.insert("Lead", {"FirstName": "Pat", "LastName": "Lee",
                                               "Company": "Acme", "Email": "pat@acme.io"})
    syncs = {name: make_sync(name, **options) for name, options in SYNCS.items()}
    ok(syncs["Lead"])  # the lead is in the hub first: the case that split people before
    converted = emulator.control.convert_lead(lead)
    emulator.control.insert("Task", {"Subject": "Call", "WhoId": converted["contactId"]})
    emulator.control.clock(advance=180)

    for name in order:
        ok(syncs[name])

    person = Person.objects.get()
    assert (person.customer_id, person.email) == (converted["contactId"], "pat@acme.io")
    assert person.attributes["Company"] == "Acme" and person.attributes["firstName"] == "Pat"
    assert Relationship.objects.get().person_id == person.pk
    assert Event.objects.get().person_id == person.pk
    for name in order:  # a second round changes nothing and splits nobody
        ok(syncs[name])
    assert Person.objects.count() == 1


def test_the_merge_keeps_the_older_hub_id_and_is_logged(emulator, make_sync):
    (lead,) = emulator.control.insert("Lead", {"LastName": "Lee", "Company": "Acme",
                                               "Email": "pat@acme.io"})
    leads = make_sync("Lead", **SYNCS["Lead"])
    ok(leads)
    lead_person = Person.objects.get()
    converted = emulator.control.convert_lead(lead)
    ok(make_sync("AccountContactRelation", **SYNCS["AccountContactRelation"]))
    assert Person.objects.count() == 2  # the relationship made a bare person for the contact
    contacts = make_sync("Contact", **SYNCS["Contact"])

    ok(contacts)

    person = Person.objects.get()
    assert person.pk == lead_person.pk and person.customer_id == converted["contactId"]
    log = RecordLog.objects.get(sync=contacts, record_id=converted["contactId"])
    assert log.outcome == "updated"
    assert log.message.startswith(f"merged hub person #{lead_person.pk + 1} into "
                                  f"#{lead_person.pk}")


def test_the_next_contacts_run_repairs_a_human_split_before_merging_existed(emulator,
                                                                           make_sync):
    (lead,) = emulator.control.insert("Lead", {"LastName": "Lee", "Company": "Acme",
                                               "Email": "pat@acme.io"})
    ok(make_sync("Lead", **SYNCS["Lead"]))
    converted = emulator.control.convert_lead(lead)
    emulator.control.clock(advance=300)
    relations = make_sync("AccountContactRelation", **SYNCS["AccountContactRelation"])
    ok(relations)
    relations.refresh_from_db()
    # As an older Forcebridge left it: the contacts sync read past the contact, refused it
    # (the lead held its e-mail) and kept the bare person the relationship sync made.
    contacts = make_sync("Contact", **SYNCS["Contact"])
    Sync.objects.filter(pk=contacts.pk).update(
        cursor_modstamp=relations.cursor_seen_at, cursor_id="003000000000000AAA",
        cursor_seen_at=relations.cursor_seen_at, deleted_since=relations.deleted_since)
    RecordLog.objects.create(
        sync=contacts, sobject="Contact", record_id=converted["contactId"], outcome="conflict",
        error_code="DUPLICATE_EMAIL", message=(
            f"{converted['contactId']} has the e-mail pat@acme.io, which already belongs to a "
            "person identified by e-mail only (hub person #1); not merged"))
    assert Person.objects.count() == 2

    run = run_sync(contacts.pk)  # nothing changed in Salesforce: the refused record is re-read

    assert run.status == "succeeded" and run.mode == "incremental", run.error
    person = Person.objects.get()
    assert person.customer_id == converted["contactId"] and person.email == "pat@acme.io"
    assert Relationship.objects.get().person_id == person.pk
    assert split_people(contacts) == []  # repaired once: not read again
