"""Two syncs writing the hub at once never create the same person twice."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from tests.waiting import wait_until
from workspace.hub import HubWriter, Item, Ref
from workspace.models import ObjectType, Person, Relationship

STAMP = "2024-01-01T00:00:00.000+0000"


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND datname = current_database()")
        return cursor.fetchone()[0] > 0


def _wait_until_blocked() -> None:
    """Until the second writer waits for the first (PostgreSQL shows it; SQLite cannot)."""
    if connection.vendor == "postgresql":
        assert wait_until(_someone_waits_for_a_lock, 20), "the second writer never waited"
    else:
        time.sleep(0.5)  # SQLite: its BEGIN IMMEDIATE simply waits for the first to commit


@pytest.mark.django_db(transaction=True)
def test_a_page_that_needs_a_person_another_page_is_creating_waits_and_finds_it():
    account = ObjectType.objects.create(singular="Account", plural="Accounts")
    written, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def contacts_page() -> None:  # the Contacts sync, mid-page: the person is not committed yet
        try:
            with transaction.atomic():
                HubWriter("sync:1").people([Item("003A", STAMP, {"lastName": "A"},
                                                 customer_id="003A", email="a@x.io")])
                written.set()
                release.wait(30)
        finally:
            connection.close()

    def relations_page() -> None:  # the AccountContactRelation sync needs that person
        try:
            with transaction.atomic():
                outcome["results"] = HubWriter("sync:2").relationships(account, [
                    Item("07kB", STAMP, {"Roles": "Buyer"}, person=Ref("id", "003A"),
                         object_id="001X")])
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = error
        finally:
            connection.close()

    first = threading.Thread(target=contacts_page)
    first.start()
    assert written.wait(30)
    second = threading.Thread(target=relations_page)
    second.start()
    try:
        _wait_until_blocked()
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert "error" not in outcome, outcome.get("error")
    person = Person.objects.get(customer_id="003A")
    assert person.attributes == {"lastName": "A"}
    assert Relationship.objects.get().person_id == person.pk
