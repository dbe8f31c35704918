"""Leads and contacts in the two-way loop: the contact's fields stay the contact's, and no
value pulled from the org is pushed into the other object (workspace/people.py
`PersonRow.writable`, syncs/loop_push.py)."""

from __future__ import annotations

import pytest

from logs.models import RecordLog
from tests.syncs.push_cast import hub_people, make_action, ok
from tests.syncs.test_loop import BY_ID, pull, writes
from workspace.models import Person

pytestmark = pytest.mark.django_db

PEOPLE_ROWS = [("firstName", "FirstName"), ("lastName", "LastName"), ("title", "Title")]


@pytest.mark.parametrize("first", ["Lead", "Contact"])
def test_field_ownership_holds_with_pushes_in_the_loop(emulator, connection, make_sync, first):
    (lead,) = emulator.control.insert("Lead", {"FirstName": "Patricia", "LastName": "Lee",
                                               "Title": "Intern", "Company": "Acme",
                                               "Email": "pat@acme.io"})
    (contact,) = emulator.control.insert("Contact", {"FirstName": "Pat", "LastName": "Lee",
                                                     "Email": "pat@acme.io"})
    syncs = {"Lead": make_sync("Lead", fields=["FirstName", "LastName", "Title", "Company",
                                                "Email"]),
             "Contact": make_sync("Contact", fields=["FirstName", "LastName", "Title",
                                                     "Email"])}
    order = [syncs[first], syncs["Contact" if first == "Lead" else "Lead"]]
    to_contacts = make_action(connection, "Contact", name="contacts", rows=PEOPLE_ROWS,
                              matchers=BY_ID)
    to_leads = make_action(connection, "Lead", name="leads",
                           rows=[*PEOPLE_ROWS, ("Company", "Company")])
    for sync in order:
        pull(sync)
    person = Person.objects.get()
    assert (person.customer_id, person.attributes["firstName"]) == (contact, "Pat")
    assert person.attributes["title"] is None and person.attributes["Company"] == "Acme"

    # The hub changes the last name: both objects get it, and only it.
    hub_people({"customer_id": contact, "email": "pat@acme.io", "lastName": "Lee-Smith"})
    for action in (to_contacts, to_leads):
        run = ok(action)
        assert run.updated == 1, list(RecordLog.objects.filter(run=run).values_list(
            "outcome", "message"))
        assert RecordLog.objects.get(run=run).changed_fields == ["LastName"]
    record = emulator.control.record("Contact", contact)
    assert (record["FirstName"], record["LastName"], record["Title"]) == ("Pat", "Lee-Smith",
                                                                          None)
    record = emulator.control.record("Lead", lead)
    assert (record["FirstName"], record["LastName"], record["Title"], record["Company"]) == (
        "Patricia", "Lee-Smith", "Intern", "Acme")

    # Another round reads both writes back: the hub is not rewritten, nothing is written.
    emulator.control.clock(advance=120)
    attributes = Person.objects.get().attributes
    emulator.control.clear_counters()
    for sync in order:
        assert pull(sync).updated == 0
    for action in (to_contacts, to_leads):
        assert ok(action).fetched == 0
        assert ok(action, full=True).updated == 0
    assert writes(emulator) == 0 and Person.objects.get().attributes == attributes

    # The lead changes: what only it gives follows into the hub, what the contact owns not;
    # and neither object receives the other's values.
    emulator.control.update("Lead", lead, {"Company": "Globex", "Title": "Boss"})
    pull(syncs["Lead"])
    person = Person.objects.get()
    assert person.attributes["Company"] == "Globex" and person.attributes["title"] is None
    emulator.control.clear_counters()
    for action in (to_contacts, to_leads):
        assert ok(action, full=True).updated == 0
    assert writes(emulator) == 0
    assert emulator.control.record("Lead", lead)["Title"] == "Boss"
    assert emulator.control.record("Contact", contact)["Title"] is None


def test_a_hub_value_another_link_pulled_long_ago_is_still_a_hub_change(emulator, connection,
                                                                        make_sync):
    (contact,) = emulator.control.insert("Contact", {"LastName": "Lee", "Title": "VP",
                                                     "Email": "pat@acme.io"})
    emulator.control.insert("Lead", {"LastName": "Lee", "Title": "Intern", "Company": "Acme",
                                     "Email": "pat@acme.io"})
    contacts = make_sync("Contact", fields=["LastName", "Title", "Email"])
    leads = make_sync("Lead", fields=["LastName", "Title", "Company", "Email"])
    to_contacts = make_action(connection, "Contact", rows=PEOPLE_ROWS, matchers=BY_ID)
    pull(contacts)
    pull(leads)  # the lead's link remembers the hub's title then: "VP" (the contact's)
    hub_people({"customer_id": contact, "email": "pat@acme.io", "title": "CRO"})
    assert ok(to_contacts).updated == 1
    assert emulator.control.record("Contact", contact)["Title"] == "CRO"

    # The inbound API sets the title back to "VP": a hub change, whatever a link pulled before
    # the contact was written "CRO".
    hub_people({"customer_id": contact, "email": "pat@acme.io", "title": "VP"})
    run = ok(to_contacts)

    assert run.updated == 1, list(RecordLog.objects.filter(run=run).values_list("message",
                                                                                  flat=True))
    assert emulator.control.record("Contact", contact)["Title"] == "VP"
