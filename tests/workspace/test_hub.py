"""The hub writer: identity rules, outbox rows, dedupe by SystemModstamp, deletions."""

from __future__ import annotations

import pytest

from workspace.hub import HubWriter, Item, Ref
from workspace.models import Change, Event, Object, ObjectType, Person, Relationship, SourceRecord

pytestmark = pytest.mark.django_db

T1 = "2024-01-01T00:00:00.000+0000"
T2 = "2024-01-02T00:00:00.000+0000"


def person(key, stamp=T1, cid=None, email=None, **attrs):
    return Item(key, stamp, attrs, customer_id=cid, email=email)


def test_people_are_created_updated_and_left_alone():
    hub = HubWriter("sync:1")
    first = hub.people([person("003A", cid="003A", email="a@x.io", firstName="Ann")])
    assert [r.outcome for r in first] == ["created"]
    assert first[0].ref == f"person:{Person.objects.get().pk}"
    assert Person.objects.filter(owned__isnull=True).count() == 1  # NULL, not JSON null
    again = hub.people([person("003A", cid="003A", email="a@x.io", firstName="Ann")])
    assert again[0].outcome == "skipped"  # same SystemModstamp: the overlap re-read it
    same = hub.people([person("003A", T2, cid="003A", email="a@x.io", firstName="Ann")])
    assert same[0].outcome == "unchanged"
    changed = hub.people([person("003A", "2024-01-03T00:00:00.000+0000", cid="003A",
                                 email="a@x.io", firstName="Anna", title="CEO")])
    assert changed[0].outcome == "updated"
    assert changed[0].changed == ["firstName", "title"]
    assert Person.objects.get().attributes == {"firstName": "Anna", "title": "CEO"}
    # Only an update names its fields: every attribute of a creation is new.
    assert list(Change.objects.order_by("id").values_list("op", "fields")) == [
        ("created", []), ("updated", ["firstName", "title"])]
    assert set(Change.objects.values_list("origin", flat=True)) == {"sync:1"}


def test_force_rewrites_every_record():
    HubWriter("sync:1").people([person("003A", cid="003A", name="A")])
    results = HubWriter("sync:1", force=True).people([person("003A", cid="003A", name="A")])
    assert results[0].outcome == "updated"


def test_a_lead_by_email_graduates_to_the_contact():
    leads, contacts = HubWriter("sync:leads"), HubWriter("sync:contacts")
    leads.people([person("00QL", email="pat@x.io", firstName="Pat", company="Acme")])
    result = contacts.people([person("003C", cid="003C", email="pat@x.io", lastName="Lee")])
    assert result[0].outcome == "updated"
    assert "customer_id" in result[0].changed
    only = Person.objects.get()
    assert only.customer_id == "003C"
    assert only.attributes == {"firstName": "Pat", "company": "Acme", "lastName": "Lee"}
    # The lead changing later still lands on the same person (through its source link).
    leads.people([person("00QL", T2, email="pat@x.io", rating="Hot")])
    assert Person.objects.get().attributes["rating"] == "Hot"


def test_two_contacts_sharing_an_email_are_not_merged():
    hub = HubWriter("sync:1")
    results = hub.people([person("003A", cid="003A", email="same@x.io"),
                          person("003B", cid="003B", email="SAME@x.io".lower())])
    assert [r.outcome for r in results] == ["created", "conflict"]
    assert "003B" in results[1].message and "003A" in results[1].message
    assert results[1].error_code == "DUPLICATE_EMAIL"
    assert Person.objects.count() == 1


def test_relationships_and_events_resolve_or_create_people_and_objects():
    account = ObjectType.objects.create(singular="Account", plural="Accounts")
    HubWriter("sync:leads").people([person("00QL", email="lead@x.io")])
    hub = HubWriter("sync:rel")
    out = hub.relationships(account, [
        Item("07k1", T1, {"IsActive": True}, object_id="001A", person=Ref("id", "003A")),
        Item("07k2", T1, {"IsActive": False}, object_id="001A", person=Ref("email", "lead@x.io")),
    ])
    assert [r.outcome for r in out] == ["created", "created"]
    assert Object.objects.get().object_id == "001A"
    assert Person.objects.filter(customer_id="003A").exists()  # a stub person
    assert Relationship.objects.count() == 2
    events = HubWriter("sync:tasks").events([
        Item("00T1", T1, {"Status": "Open"}, person=Ref("id", "00QL"), name="Call")])
    assert events[0].outcome == "created"
    # WhoId 00QL is a lead identified by e-mail: its source link finds the person.
    assert Event.objects.get().person.email == "lead@x.io"


def test_delete_removes_or_marks_and_keeps_shared_people():
    HubWriter("sync:leads").people([person("00QL", email="p@x.io")])
    HubWriter("sync:contacts").people([person("003C", cid="003C", email="p@x.io")])
    out = HubWriter("sync:leads").delete(["00QL", "00Qunknown"])
    assert [(r.key, r.outcome) for r in out] == [("00QL", "deleted")]
    assert Person.objects.count() == 1  # still the contact's person
    marked = HubWriter("sync:contacts").delete(["003C"], mark=True)
    assert marked[0].outcome == "deleted"
    assert Person.objects.get().deleted_at is not None
    assert HubWriter("sync:contacts").delete(["003C"], mark=True) == []
    HubWriter("sync:contacts").delete(["003C"])
    assert not Person.objects.exists() and not SourceRecord.objects.exists()
    assert Change.objects.filter(op="deleted").count() == 2


def test_a_record_that_once_produced_an_object_is_not_taken_for_a_person_id():
    """A sync switched from objects to people: its old links name objects, not people."""
    accounts = ObjectType.objects.create(singular="Account", plural="Accounts")
    hub = HubWriter("sync:9")
    hub.objects(accounts, [Item("001A", T1, {"Name": "Acme"}, object_id="001A")])
    bystander = Person.objects.create(pk=Object.objects.get().pk, email="someone@x.io")
    (result,) = hub.people([person("001A", T2, email="acme@x.io", name="Acme")])
    assert result.outcome == "created"
    bystander.refresh_from_db()
    assert bystander.email == "someone@x.io" and bystander.attributes == {}
