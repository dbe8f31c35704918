"""The one writer of the hub: bulk upserts of a page of records, outbox rows included.

`HubWriter(source)` is built once per run; each method takes one page of items (built by
`mappings.transform`), writes them with a handful of bulk statements and returns one `Result`
per item. Callers wrap a page in a transaction (with their cursor and logs); every change
writes its `Change` outbox row (`workspace.outbox`) in that same transaction, and the page
holds the hub's write lock (`workspace.lock`) until it commits. The writer is composed: the
steps every kind of record shares are `workspace.upserts`, deletions `workspace.removal`.

People are matched in this order: by customer id, by the person this source record produced
before, then by e-mail. A record with a customer id that finds a person with the same e-mail
and no customer id takes that person over (a lead graduating to a contact); one that finds a
person with the same e-mail and *another* customer id is a conflict and is not applied. Once
a person has a customer id, records identified by e-mail alone write only the attributes no
record with a customer id gave it (`PersonRow.writable`), so the hub does not depend on which
sync ran last.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.utils import timezone

from workspace.items import Item, Result
from workspace.merge import merge_people
from workspace.models import Event, Object, ObjectType, Person, Relationship, SourceRecord
from workspace.outbox import Outbox
from workspace.people import PersonIndex, PersonRow, Ref
from workspace.removal import Removal
from workspace.upserts import PageWrite, Upserts, mark_seen, save_rows

__all__ = ["HubWriter", "Item", "Ref", "Result"]

Kind = SourceRecord.Kind
# The columns an update rewrites, per model.
PERSON_FIELDS = ["customer_id", "email", "attributes", "owned", "deleted_at", "updated_at"]
ATTRIBUTED_FIELDS = ["attributes", "deleted_at", "updated_at"]
EVENT_FIELDS = ["person", "name", "timestamp", "properties", "deleted_at", "updated_at"]

object_id = attrgetter("object_id")


def person_id(item: Item) -> str | None:
    return item.person and item.person.value


class HubWriter:
    """Writes pages of items for one source ("sync:12").

    `force` rewrites unchanged records; `recheck` compares records already applied at the
    same SystemModstamp instead of skipping them (formula fields change without it).
    """

    def __init__(self, source: str, *, force: bool = False, recheck: bool = False) -> None:
        self.source = source
        self.force = force
        self.skip_seen = not (force or recheck)
        self.outbox = Outbox(source)
        self.removal = Removal(source, self.outbox)

    def delete(self, record_ids: Iterable[str], *, mark: bool = False) -> list[Result]:
        """Remove (or mark deleted) what these source records produced (`Removal.delete`)."""
        return self.removal.delete(record_ids, mark=mark)

    def seen(self, record_ids: list[str]) -> None:
        """Records read but not written (refused by the transform): seen all the same."""
        if record_ids:
            mark_seen(self.source, record_ids, timezone.now())

    def _page(self, items: list[Item]) -> PageWrite:
        return PageWrite(self.source, items, skip_seen=self.skip_seen)

    def _upserts(self, model: type, kind: str, fields: list[str], now: datetime,
                 **options: Any) -> Upserts:
        return Upserts(model, kind, fields, self.outbox, now=now, force=self.force, **options)

    # -- people ----------------------------------------------------------------------------

    def people(self, items: list[Item]) -> list[Result]:
        """Identify: create or update people, graduating leads and refusing e-mail clashes."""
        page = self._page(items)
        todo = page.todo(("person identifier", lambda i: i.customer_id or i.email))
        index = PersonIndex.load(
            customer_ids={i.customer_id for i in todo if i.customer_id},
            emails={i.email for i in todo if i.email},
            pks={page.linked_person(i) for i in todo} - {None})
        people = self._upserts(Person, Kind.PERSON, PERSON_FIELDS, page.now)
        for item in todo:
            person, problem = index.match(item.customer_id, item.email, page.linked_person(item))
            if problem:
                page.results[item.key] = Result(item.key, "conflict",
                                                error_code="DUPLICATE_EMAIL", message=problem)
                continue
            lead = index.mergeable(item.customer_id, item.email, person)
            merged = ""
            if lead is not None:
                person, merged = merge_people(index, person, lead)
            if person is None:
                person = index.add(PersonRow.new(page.now, customer_id=item.customer_id,
                                                 email=item.email or "",
                                                 attributes=item.attributes))
                people.create(id(person), person)
                page.applied(item, Kind.PERSON, person, created=True)
            else:
                took_over = item.customer_id is not None and person.customer_id is None \
                    or bool(merged)
                extra = index.reidentify(person, item.customer_id, item.email)
                if merged:
                    extra = [*dict.fromkeys([*extra, "customer_id", "email"])]
                attributes = person.writable(item.attributes, item.customer_id, took_over)
                page.applied(item, Kind.PERSON, person,
                             changed=people.merge(person, attributes, extra))
                page.results[item.key].message = merged
        people.save()
        return page.finish()

    def _resolve_people(self, refs: set[Ref], now: datetime) -> dict[Ref, PersonRow]:
        """The people references point at, creating a bare person for any not in the hub yet."""
        index = PersonIndex.load_refs(refs)
        found, created = {}, []
        for ref in refs:
            person = index.by_ref(ref)
            if person is None:
                person = index.add(index.stub(ref, now))
                created.append(person)
            found[ref] = person
        if created:
            save_rows(Person, created, {}, [])
            self.outbox.add(Kind.PERSON, [(p.pk, "created", []) for p in created])
        return found

    # -- objects ---------------------------------------------------------------------------

    def _resolve_objects(self, object_type: ObjectType, ids: set[str],
                         create: bool = True) -> dict[str, Object]:
        found = {o.object_id: o for o in Object.objects.filter(type=object_type,
                                                               object_id__in=list(ids))}
        missing = [Object(type=object_type, object_id=oid) for oid in sorted(ids - set(found))]
        if missing and create:
            save_rows(Object, missing, {}, [])
            self.outbox.add(Kind.OBJECT, [(o.pk, "created", []) for o in missing])
            found.update({o.object_id: o for o in missing})
        return found

    def objects(self, object_type: ObjectType, items: list[Item]) -> list[Result]:
        """Group: create or update objects of one type (and relate them to `person` if given)."""
        page = self._page(items)
        todo = page.todo(("object id", object_id))
        objects = self._upserts(Object, Kind.OBJECT, ATTRIBUTED_FIELDS, page.now,
                                found=self._resolve_objects(object_type, set(map(object_id, todo)),
                                                            create=False))
        for item in todo:
            obj = objects.get(item.object_id)
            if obj is None:
                obj = objects.create(item.object_id, Object(
                    type=object_type, object_id=item.object_id, attributes=dict(item.attributes),
                    created_at=page.now, updated_at=page.now))
                page.applied(item, Kind.OBJECT, obj, created=True)
            else:
                page.applied(item, Kind.OBJECT, obj,
                             changed=objects.merge(obj, item.attributes))
        objects.save()
        results = page.finish()
        related = [i for i in todo if i.person is not None]
        if related:
            self._relate(object_type, related, page.now)
        return results

    # -- relationships -------------------------------------------------------------------------

    def relationships(self, object_type: ObjectType, items: list[Item]) -> list[Result]:
        """Group with both ids: relate a person to an object, with relationship attributes."""
        page = self._page(items)
        todo = page.todo(("person id", person_id), ("object id", object_id))
        self._relate(object_type, todo, page.now, page)
        return page.finish()

    def _relate(self, object_type: ObjectType, todo: list[Item], now: datetime,
                page: PageWrite | None = None) -> None:
        """Relate each item's person to its object, creating either if missing.

        With a `page`, the items are relationship records: their attributes go on the
        relationship, and their outcomes and links on the page. Without, they are objects
        that name a person, and the relationship is bare.
        """
        people = self._resolve_people({i.person for i in todo}, now)
        objects = self._resolve_objects(object_type, set(map(object_id, todo)))
        pairs = {(people[i.person].pk, objects[i.object_id].pk) for i in todo}
        existing = {(r.person_id, r.object_id): r for r in Relationship.objects.filter(
            person_id__in={p for p, _ in pairs}, object_id__in={o for _, o in pairs})}
        relationships = self._upserts(Relationship, Kind.RELATIONSHIP, ATTRIBUTED_FIELDS, now,
                                      found=existing)
        for item in todo:
            pair = (people[item.person].pk, objects[item.object_id].pk)
            attributes = item.attributes if page is not None else {}
            rel = relationships.get(pair)
            created = rel is None
            if created:
                rel = relationships.create(pair, Relationship(
                    person_id=pair[0], object_id=pair[1], attributes=dict(attributes),
                    created_at=now, updated_at=now))
                changed = None
            else:
                changed = relationships.merge(rel, attributes)
            if page is not None:
                page.applied(item, Kind.RELATIONSHIP, rel, created=created, changed=changed)
        relationships.save()

    # -- events ----------------------------------------------------------------------------

    def events(self, items: list[Item]) -> list[Result]:
        """Track: one event per source record, updated in place when the record changes."""
        page = self._page(items)
        todo = page.todo(("person id", person_id))
        people = self._resolve_people({i.person for i in todo}, page.now)
        existing = {e.source_id: e for e in Event.objects.filter(
            source_id__in=[i.key for i in todo])}
        events = self._upserts(Event, Kind.EVENT, EVENT_FIELDS, page.now, attr="properties",
                               found=existing)
        for item in todo:
            person = people[item.person]
            event = events.get(item.key)
            if event is None:
                event = events.create(item.key, Event(
                    person_id=person.pk, name=item.name, timestamp=item.timestamp,
                    properties=dict(item.attributes), source_id=item.key,
                    created_at=page.now, updated_at=page.now))
                page.applied(item, Kind.EVENT, event, created=True)
                continue
            extra = [name for name, old, new in (
                ("person", event.person_id, person.pk), ("name", event.name, item.name),
                ("timestamp", event.timestamp, item.timestamp)) if old != new]
            event.person_id, event.name, event.timestamp = person.pk, item.name, item.timestamp
            page.applied(item, Kind.EVENT, event,
                         changed=events.merge(event, item.attributes, extra))
        events.save()
        return page.finish()
