"""The cast of the pull tests: a hub snapshot and contacts to load (`make_sync` is shared, in
tests/salesforce_fixtures.py)."""

from __future__ import annotations

from typing import Any

from syncs.applier import PageApplier
from syncs.pull import Pull
from syncs.scans import Scanner
from workspace.models import Change, Event, Object, Person, Relationship, SourceRecord


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


class Stopped(Exception):
    """Stands for a worker that stopped mid-run."""


def pull_with(*, applier: type[PageApplier] | None = None,
              scanner: type[Scanner] | None = None) -> type[Pull]:
    """A `Pull` whose page applier or scanner is a test's variant (a subclass)."""

    class Variant(Pull):
        def applier(self, run, mapping, transformer):
            built = super().applier(run, mapping, transformer)
            built.__class__ = applier or type(built)
            return built

        def scanner(self, client, fields, page_applier):
            built = super().scanner(client, fields, page_applier)
            built.__class__ = scanner or type(built)
            return built

    return Variant


def stopping_after(pages: int) -> type[PageApplier]:
    """An applier that raises `Stopped` instead of applying page number `pages` + 1."""

    class StopsAfter(PageApplier):
        applied = 0

        def apply(self, page, **options):
            if StopsAfter.applied == pages:
                raise Stopped("the worker stopped")
            StopsAfter.applied += 1
            return super().apply(page, **options)

    return StopsAfter
