"""The loop's memory follows the hub: a merged-away person's exchanged fields become the
survivor's, and those of a record removed from the hub stay until no action has its removal
left to pass, then are pruned (syncs/exchanges.py)."""

from __future__ import annotations

import pytest
from django.db import transaction

from syncs.exchanges import FieldExchange
from syncs.tasks import prune_logs
from tests.syncs.push_cast import hub_people, make_action, ok
from tests.syncs.test_loop import pull
from workspace.hub import HubWriter
from workspace.models import Change, Person

pytestmark = pytest.mark.django_db


def test_a_merged_away_persons_exchanged_fields_follow_the_merge(emulator, connection,
                                                                 make_sync):
    (contact,) = emulator.control.insert("Contact", {"LastName": "Lee",
                                                     "Email": "pat@acme.io"})
    (lead,) = emulator.control.insert("Lead", {"LastName": "Lee", "Title": "Intern",
                                               "Company": "Acme", "Email": "pat@acme.io"})
    make_action(connection, "Contact", rows=[("lastName", "LastName"), ("title", "Title")],
                matchers=[["customer_id", "Id"]])
    hub_people({"customer_id": contact})  # the older person: the contact's id, no e-mail
    holder = Person.objects.get()
    pull(make_sync("Lead", fields=["LastName", "Title", "Company", "Email"]))
    merged_away = Person.objects.get(email="pat@acme.io").pk
    assert set(FieldExchange.objects.filter(record_id=lead).values_list(
        "hub_id", flat=True)) == {merged_away}

    pull(make_sync("Contact", fields=["LastName", "Title", "Email"]))  # one human: merged

    assert list(Person.objects.values_list("pk", flat=True)) == [holder.pk]
    assert set(FieldExchange.objects.values_list("hub_id", flat=True)) == {holder.pk}
    assert FieldExchange.objects.filter(record_id=lead).count() == 2


def test_a_removed_records_links_wait_for_every_action_then_go(emulator, connection):
    emulator.control.insert("Contact", {"LastName": "a", "Email": "a@x.io"},
                            {"LastName": "b", "Email": "b@x.io"})
    hub_people({"email": "a@x.io", "lastName": "A"}, {"email": "b@x.io", "lastName": "B"})
    update = make_action(connection, name="update", rows=[("lastName", "LastName")])
    # A delete action of Contacts (disabled: it passes no change) makes the one-way update
    # keep its links.
    make_action(connection, name="delete", operation="delete", enabled=False)
    assert ok(update).updated == 2
    a = Person.objects.get(email="a@x.io").pk
    assert FieldExchange.objects.filter(hub_id=a).count() == 1
    source = list(Person.objects.get(pk=a).sources.values_list("record_id", flat=True))
    with transaction.atomic():
        HubWriter("api:test").delete(source)
    assert not Person.objects.filter(pk=a).exists()

    assert prune_logs() == 0  # the update action has yet to pass the removal
    assert FieldExchange.objects.filter(hub_id=a).exists()
    assert ok(update).fetched == 0  # it passes it (no delete action: nothing is deleted)
    assert not Change.objects.filter(processed_at__isnull=True).exists()

    assert prune_logs() >= 1
    assert not FieldExchange.objects.filter(hub_id=a).exists()
    assert FieldExchange.objects.count() == 1  # b's link is kept


def test_a_one_way_action_keeps_no_links_without_a_delete_action(emulator, connection):
    """Only a delete action reads a one-way action's links: without one, none are written
    (they cost a fifth of an upsert's time)."""
    emulator.control.insert("Contact", {"LastName": "a", "Email": "a@x.io"})
    hub_people({"email": "a@x.io", "lastName": "A"})
    update = make_action(connection, name="update", rows=[("lastName", "LastName")])
    assert ok(update).updated == 1
    assert not FieldExchange.objects.exists()
