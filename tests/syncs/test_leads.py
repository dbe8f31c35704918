"""Leads identified by e-mail graduate to contacts; duplicate e-mails are never merged."""

from __future__ import annotations

import pytest

from logs.models import RecordLog
from syncs.pull import run_sync
from workspace.models import Person

pytestmark = pytest.mark.django_db


def ok(sync):
    run = run_sync(sync.pk)
    assert run.status == "succeeded", run.error
    return run


def test_a_converted_lead_becomes_the_contact_person(emulator, make_sync):
    (lead,) = emulator.control.insert("Lead", {"FirstName": "Pat", "LastName": "Lee",
                                               "Company": "Acme", "Email": "Pat@Acme.io"})
    leads = make_sync("Lead", fields=["FirstName", "LastName", "Email", "Company"])
    contacts = make_sync("Contact", fields=["FirstName", "LastName", "Email"])
    ok(leads)
    assert Person.objects.get().customer_id is None
    converted = emulator.control.convert_lead(lead)
    run = ok(contacts)
    assert run.updated == 1 and run.created == 0
    person = Person.objects.get()
    assert person.customer_id == converted["contactId"]
    assert person.email == "pat@acme.io"
    assert person.attributes["Company"] == "Acme"  # kept from the lead
    ok(leads)  # the converted lead changed; it still lands on the same person
    assert Person.objects.count() == 1


@pytest.mark.parametrize("first", ["Lead", "Contact"])
def test_a_lead_writes_only_what_its_contact_does_not_give_whichever_syncs_first(
        emulator, make_sync, first):
    (lead,) = emulator.control.insert("Lead", {"FirstName": "Patricia", "LastName": "Lee",
                                               "Title": "Intern", "Company": "Acme",
                                               "Email": "pat@acme.io"})
    emulator.control.insert("Contact", {"FirstName": "Pat", "LastName": "Lee",
                                        "Email": "pat@acme.io"})
    syncs = {"Lead": make_sync("Lead", fields=["FirstName", "LastName", "Title", "Company",
                                                "Email"]),
             "Contact": make_sync("Contact", fields=["FirstName", "LastName", "Title",
                                                     "Email"])}
    ok(syncs[first])
    ok(syncs["Contact" if first == "Lead" else "Lead"])
    person = Person.objects.get()
    assert person.customer_id is not None
    # The contact's values win, its empty Title included; what only the lead has is added.
    assert person.attributes["firstName"] == "Pat" and person.attributes["title"] is None
    assert person.attributes["Company"] == "Acme"
    # Later the lead changes: what only it gives still follows, what the contact gives not.
    emulator.control.clock(advance=180)
    emulator.control.update("Lead", lead, {"Company": "Globex", "FirstName": "Trish"})
    ok(syncs["Lead"])
    person.refresh_from_db()
    assert person.attributes["Company"] == "Globex" and person.attributes["firstName"] == "Pat"


def test_two_contacts_with_one_email_are_logged_as_a_conflict(emulator, make_sync):
    first, second = emulator.control.insert(
        "Contact", {"LastName": "A", "Email": "shared@x.io"},
        {"LastName": "B", "Email": "Shared@X.io"})
    sync = make_sync("Contact", fields=["LastName", "Email"])
    run = ok(sync)
    assert (run.created, run.conflicts) == (1, 1)
    assert Person.objects.get().customer_id == first
    log = RecordLog.objects.get(outcome="conflict")
    assert log.record_id == second and first in log.message and second in log.message
    assert log.error_code == "DUPLICATE_EMAIL"


def test_retry_failed_records_reads_a_runs_refused_records_again(emulator, make_sync,
                                                                 django_capture_on_commit_callbacks):
    first, second = emulator.control.insert(
        "Contact", {"LastName": "A", "Email": "shared@x.io"},
        {"LastName": "B", "Email": "shared@x.io"})
    sync = make_sync("Contact", fields=["LastName", "Email"])
    refused = ok(sync)
    assert refused.failed_record_ids() == [second]
    # The operator settles it in the hub (the first contact's person takes another e-mail).
    Person.objects.filter(customer_id=first).update(email="a@elsewhere.io")

    with django_capture_on_commit_callbacks(execute=False):
        assert refused.retry_failed() == 1
    sync.refresh_from_db()
    assert (sync.run_requested, sync.retry_ids) == ("retry", [second])
    retried = ok(sync)

    assert retried.trigger == "retry" and retried.created == 1 and retried.conflicts == 0
    assert Person.objects.get(email="shared@x.io").customer_id == second
    sync.refresh_from_db()
    assert sync.retry_ids == []
