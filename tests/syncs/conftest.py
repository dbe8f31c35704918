"""The cast of the pull tests: a sync made from the typical mapping, and a hub snapshot."""

from __future__ import annotations

from typing import Any

import pytest

from syncs.models import Sync
from workspace.models import Change, Event, Object, Person, Relationship, SourceRecord


@pytest.fixture
def make_sync(connection, sf_client):
    """`make_sync("Contact", fields=[...], ...)`: the preset, then the overrides, saved."""
    def build(sobject: str, **overrides: Any) -> Sync:
        sync = Sync(connection=connection, name=overrides.pop("name", f"{sobject} sync"),
                    sobject=sobject)
        sync.apply_preset(sf_client.describe(sobject))
        for key, value in overrides.items():
            setattr(sync, key, value)
        sync.full_clean()
        sync.save()
        return sync
    return build


def hub_snapshot() -> dict[str, Any]:
    """The hub without primary keys or timestamps: equal snapshots mean equal hubs."""
    people = {(p.customer_id, p.email, p.deleted_at is not None): p.attributes
              for p in Person.objects.all()}
    key = {p.pk: (p.customer_id, p.email) for p in Person.objects.all()}
    objects = {(o.type.singular, o.object_id, o.deleted_at is not None): o.attributes
               for o in Object.objects.select_related("type")}
    rels = {(key[r.person_id], r.object.object_id): r.attributes
            for r in Relationship.objects.select_related("object")}
    events = {e.source_id: (key[e.person_id], e.name, e.timestamp, e.properties)
              for e in Event.objects.all()}
    return {"people": people, "objects": objects, "relationships": rels, "events": events}


def contacts(count: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [{"FirstName": f"First{i}", "LastName": f"Last{i}", "Email": f"c{i}@example.com",
             **extra} for i in range(start, start + count)]


def wipe_hub() -> None:
    """Empty the hub (not the syncs) so a second sync can rebuild it from nothing."""
    for model in (SourceRecord, Event, Change, Relationship, Object, Person):
        model.objects.all().delete()


def pages(emulator: Any) -> int:
    """Query calls (first pages and queryMore) the emulator served since its counters cleared."""
    counters = emulator.control.counters()
    return counters.get("query", 0) + counters.get("queryMore", 0)
