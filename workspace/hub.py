"""The one writer of the hub: bulk upserts of a page of records, outbox rows included.

`HubWriter(source)` is built once per run; each method takes one page of items (built by
`mappings.transform`), writes them with a handful of bulk statements and returns one `Result`
per item (deletions: workspace/deletions.py). Callers wrap a page in a transaction (with
their cursor and logs); every change writes its `Change` outbox row in that same transaction,
and the page holds the hub's write lock (`bulk.lock_hub`) until it commits.

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
from typing import Any, NamedTuple

from django.utils import timezone

from workspace.bulk import insert, lock_hub, select_in
from workspace.deletions import HubDeletions
from workspace.items import Item, Result
from workspace.models import Change, Event, Object, ObjectType, Person, Relationship, SourceRecord
from workspace.people import PersonIndex, PersonRow, Ref

__all__ = ["HubWriter", "Item", "Ref", "Result"]

Kind = SourceRecord.Kind
KINDS = (Kind.PERSON, Kind.OBJECT, Kind.RELATIONSHIP, Kind.EVENT)
LINK_COLUMNS = ["source", "record_id", "kind", "modstamp", "person", "object", "relationship",
                "event"]


class Link(NamedTuple):
    """What a source record produced before (a SourceRecord row, read as a tuple)."""

    kind: str
    target_id: int
    modstamp: str


def _diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [k for k, v in new.items() if k not in old or old[k] != v]


class HubWriter(HubDeletions):
    """Writes pages of items for one source ("sync:12").

    `force` rewrites unchanged records; `recheck` compares records already applied at the
    same SystemModstamp instead of skipping them (formula fields change without it).
    """

    def __init__(self, source: str, *, force: bool = False, recheck: bool = False) -> None:
        self.source = source
        self.force = force
        self.skip_seen = not (force or recheck)

    # -- shared steps --------------------------------------------------------------------------

    def _links(self, keys: Iterable[str]) -> dict[str, Link]:
        rows = select_in(SourceRecord.objects.filter(source=self.source),
                         ["record_id", "kind", "modstamp", *(f"{k}_id" for k in KINDS)],
                         record_id=keys)
        return {record_id: Link(kind, targets[KINDS.index(kind)], modstamp)
                for record_id, kind, modstamp, *targets in rows}

    def _split_seen(self, items: list[Item], links: dict[str, Link],
                    results: dict[str, Result]) -> list[Item]:
        """Skip records already applied at this SystemModstamp (the overlap window re-reads them)."""
        todo = []
        for item in items:
            link = links.get(item.key)
            if self.skip_seen and link and item.modstamp and link.modstamp == item.modstamp:
                results[item.key] = Result(item.key, "skipped", f"{link.kind}:{link.target_id}",
                                           message="already applied at this SystemModstamp")
            else:
                todo.append(item)
        return todo

    @staticmethod
    def _linked_person(links: dict[str, Link], item: Item) -> int | None:
        """The person this source record produced before (not an object it once produced,
        if its sync was switched from objects to people)."""
        link = links.get(item.key)
        return link.target_id if link and link.kind == Kind.PERSON else None

    def _save_links(self, entries: list[tuple[str, str, str, Any]]) -> None:
        # The target's id goes in its kind's column (person, object, relationship or event).
        empty = (None,) * len(KINDS)
        at = {kind: KINDS.index(kind) for kind in KINDS}
        rows = [(self.source, key, kind, stamp, *empty[:at[kind]], target.pk,
                 *empty[at[kind] + 1:]) for key, stamp, kind, target in entries]
        insert(SourceRecord, LINK_COLUMNS, rows, conflict=["source", "record_id"],
               update=LINK_COLUMNS[2:])

    def _outbox(self, entity: str, changes: list[tuple[int, str, list[str]]]) -> None:
        """Outbox rows; only an update names its fields (a creation or deletion is all of them)."""
        now = timezone.now()
        insert(Change, ["entity", "entity_id", "op", "fields", "origin", "created_at"],
               [(entity, pk, op, fields if op == "updated" else [], self.source, now)
                for pk, op, fields in changes])

    def _save_attributed(self, model: type, kind: str, creates: dict[str, Any],
                         updates: dict[int, tuple[Any, list[str]]]) -> None:
        """Save new and changed objects or relationships, with their outbox rows."""
        self._save(model, list(creates.values()), {pk: row for pk, (row, _) in updates.items()},
                   ["attributes", "deleted_at", "updated_at"])
        self._outbox(kind, [(row.pk, "created", []) for row in creates.values()]
                     + [(pk, "updated", sorted(set(f))) for pk, (_, f) in updates.items()])

    @staticmethod
    def _save(model: type, creates: list[Any], updates: dict[int, Any],
              fields: list[str]) -> None:
        """Insert new rows (their ids come back) and upsert changed ones on the primary key."""
        columns = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
        values = attrgetter(*columns)  # one C call per row; these models have several columns
        if creates:
            ids = insert(model, columns, [values(o) for o in creates], returning=True)
            for obj, pk in zip(creates, ids, strict=True):
                obj.pk = pk
        if updates:
            insert(model, ["id", *columns],
                   [(o.pk, *values(o)) for o in updates.values()],
                   conflict=["id"], update=fields)

    def _merge(self, row: Any, attributes: dict[str, Any], attr: str, now: datetime,
               extra: list[str]) -> list[str] | None:
        """Merge attributes into a row; the changed names, or None when nothing changed."""
        old = getattr(row, attr)
        changed = _diff(old, attributes) + extra
        if row.deleted_at is not None:
            row.deleted_at = None
            changed.append("deleted_at")
        if not changed and not self.force:
            return None
        setattr(row, attr, {**old, **attributes})
        row.updated_at = now
        return changed

    # -- people ----------------------------------------------------------------------------

    def people(self, items: list[Item]) -> list[Result]:
        """Identify: create or update people, graduating leads and refusing e-mail clashes."""
        lock_hub()
        results: dict[str, Result] = {}
        links = self._links(i.key for i in items)
        todo = [i for i in self._split_seen(items, links, results)
                if self._require(i, i.customer_id or i.email, "person identifier", results)]
        index = PersonIndex.load(
            customer_ids={i.customer_id for i in todo if i.customer_id},
            emails={i.email for i in todo if i.email},
            pks={self._linked_person(links, i) for i in todo} - {None})
        now = timezone.now()
        touched: dict[int, tuple[PersonRow, str, list[str]]] = {}
        entries = []
        for item in todo:
            person, problem = index.match(item.customer_id, item.email,
                                          self._linked_person(links, item))
            if problem:
                results[item.key] = Result(item.key, "conflict", error_code="DUPLICATE_EMAIL",
                                           message=problem)
                continue
            if person is None:
                person = index.add(PersonRow.new(now, customer_id=item.customer_id,
                                                 email=item.email or "",
                                                 attributes=item.attributes))
                touched[id(person)] = (person, "created", [])
                results[item.key] = Result(item.key, "created")
            else:
                took_over = item.customer_id is not None and person.customer_id is None
                extra = index.reidentify(person, item.customer_id, item.email)
                attributes = person.writable(item.attributes, item.customer_id, took_over)
                changed = self._merge(person, attributes, "attributes", now, extra)
                outcome = "unchanged" if changed is None else "updated"
                if changed is not None and id(person) not in touched:
                    touched[id(person)] = (person, "updated", changed)
                elif changed:
                    touched[id(person)][2].extend(c for c in changed
                                                  if c not in touched[id(person)][2])
                results[item.key] = Result(item.key, outcome, changed=changed or [])
            entries.append((item.key, item.modstamp, Kind.PERSON, person))
        self._save(Person, [p for p, op, _ in touched.values() if op == "created"],
                   {p.pk: p for p, op, _ in touched.values() if op == "updated"},
                   ["customer_id", "email", "attributes", "owned", "deleted_at", "updated_at"])
        self._outbox(Kind.PERSON, [(p.pk, op, f) for p, op, f in touched.values()])
        self._save_links(entries)
        for key, _, _, person in entries:
            results[key].ref = f"person:{person.pk}"
        return [results[i.key] for i in items]

    def _resolve_people(self, refs: set[Ref]) -> dict[Ref, PersonRow]:
        """The people references point at, creating a bare person for any not in the hub yet."""
        index = PersonIndex.load_refs(refs)
        found, created = {}, []
        now = timezone.now()
        for ref in refs:
            person = index.by_ref(ref)
            if person is None:
                person = index.add(index.stub(ref, now))
                created.append(person)
            found[ref] = person
        if created:
            self._save(Person, created, {}, [])
            self._outbox(Kind.PERSON, [(p.pk, "created", []) for p in created])
        return found

    # -- objects ---------------------------------------------------------------------------

    def _resolve_objects(self, object_type: ObjectType, ids: set[str],
                         create: bool = True) -> dict[str, Object]:
        found = {o.object_id: o for o in Object.objects.filter(type=object_type,
                                                               object_id__in=list(ids))}
        missing = [Object(type=object_type, object_id=oid) for oid in sorted(ids - set(found))]
        if missing and create:
            self._save(Object, missing, {}, [])
            self._outbox(Kind.OBJECT, [(o.pk, "created", []) for o in missing])
            found.update({o.object_id: o for o in missing})
        return found

    def objects(self, object_type: ObjectType, items: list[Item]) -> list[Result]:
        """Group: create or update objects of one type (and relate them to `person` if given)."""
        lock_hub()
        results: dict[str, Result] = {}
        todo = [i for i in self._split_seen(items, self._links(i.key for i in items), results)
                if self._require(i, i.object_id, "object id", results)]
        existing = self._resolve_objects(object_type, {i.object_id for i in todo}, create=False)
        now = timezone.now()
        creates: dict[str, Object] = {}
        updates: dict[int, tuple[Object, list[str]]] = {}
        entries = []
        for item in todo:
            obj = existing.get(item.object_id) or creates.get(item.object_id)
            if obj is None:
                obj = creates[item.object_id] = Object(
                    type=object_type, object_id=item.object_id, attributes=dict(item.attributes),
                    created_at=now, updated_at=now)
                results[item.key] = Result(item.key, "created")
            else:
                changed = self._merge(obj, item.attributes, "attributes", now, [])
                if changed is not None and obj.pk:
                    updates.setdefault(obj.pk, (obj, []))[1].extend(changed)
                results[item.key] = Result(item.key, "unchanged" if changed is None else "updated",
                                           changed=changed or [])
            entries.append((item.key, item.modstamp, Kind.OBJECT, obj))
        self._save_attributed(Object, Kind.OBJECT, creates, updates)
        self._save_links(entries)
        for key, _, _, obj in entries:
            results[key].ref = f"object:{obj.pk}"
        related = [i for i in todo if i.person is not None]
        if related:
            self._relate(object_type, related, {i.key: results[i.key] for i in related},
                         link=False)
        return [results[i.key] for i in items]

    # -- relationships -------------------------------------------------------------------------

    def relationships(self, object_type: ObjectType, items: list[Item]) -> list[Result]:
        """Group with both ids: relate a person to an object, with relationship attributes."""
        lock_hub()
        results: dict[str, Result] = {}
        todo = [i for i in self._split_seen(items, self._links(i.key for i in items), results)
                if self._require(i, i.person and i.person.value, "person id", results)
                and self._require(i, i.object_id, "object id", results)]
        self._relate(object_type, todo, results, link=True)
        return [results[i.key] for i in items]

    def _relate(self, object_type: ObjectType, todo: list[Item], results: dict[str, Result],
                *, link: bool) -> None:
        people = self._resolve_people({i.person for i in todo})
        objects = self._resolve_objects(object_type, {i.object_id for i in todo})
        pairs = {(people[i.person].pk, objects[i.object_id].pk) for i in todo}
        existing = {(r.person_id, r.object_id): r for r in Relationship.objects.filter(
            person_id__in={p for p, _ in pairs}, object_id__in={o for _, o in pairs})}
        now = timezone.now()
        creates: dict[tuple[int, int], Relationship] = {}
        updates: dict[int, tuple[Relationship, list[str]]] = {}
        entries = []
        for item in todo:
            pair = (people[item.person].pk, objects[item.object_id].pk)
            attributes = item.attributes if link else {}
            rel = existing.get(pair) or creates.get(pair)
            if rel is None:
                rel = creates[pair] = Relationship(person_id=pair[0], object_id=pair[1],
                                                   attributes=dict(attributes),
                                                   created_at=now, updated_at=now)
                outcome, changed = "created", []
            else:
                merged = self._merge(rel, attributes, "attributes", now, [])
                if merged is not None and rel.pk:
                    updates.setdefault(rel.pk, (rel, []))[1].extend(merged)
                outcome, changed = ("unchanged" if merged is None else "updated"), merged or []
            if link:
                results[item.key] = Result(item.key, outcome, changed=changed)
                entries.append((item.key, item.modstamp, Kind.RELATIONSHIP, rel))
        self._save_attributed(Relationship, Kind.RELATIONSHIP, creates, updates)
        if link:
            self._save_links(entries)
            for key, _, _, rel in entries:
                results[key].ref = f"relationship:{rel.pk}"

    # -- events ----------------------------------------------------------------------------

    def events(self, items: list[Item]) -> list[Result]:
        """Track: one event per source record, updated in place when the record changes."""
        lock_hub()
        results: dict[str, Result] = {}
        todo = [i for i in self._split_seen(items, self._links(i.key for i in items), results)
                if self._require(i, i.person and i.person.value, "person id", results)]
        people = self._resolve_people({i.person for i in todo})
        existing = {e.source_id: e for e in Event.objects.filter(
            source_id__in=[i.key for i in todo])}
        now = timezone.now()
        creates: dict[str, Event] = {}
        updates: dict[int, tuple[Event, list[str]]] = {}
        entries = []
        for item in todo:
            person = people[item.person]
            event = existing.get(item.key) or creates.get(item.key)
            if event is None:
                event = creates[item.key] = Event(
                    person_id=person.pk, name=item.name, timestamp=item.timestamp,
                    properties=dict(item.attributes), source_id=item.key,
                    created_at=now, updated_at=now)
                results[item.key] = Result(item.key, "created")
            else:
                extra = [name for name, old, new in (
                    ("person", event.person_id, person.pk), ("name", event.name, item.name),
                    ("timestamp", event.timestamp, item.timestamp)) if old != new]
                event.person_id, event.name, event.timestamp = person.pk, item.name, item.timestamp
                changed = self._merge(event, item.attributes, "properties", now, extra)
                if changed is not None:
                    updates[event.pk] = (event, changed)
                results[item.key] = Result(item.key, "unchanged" if changed is None else "updated",
                                           changed=changed or [])
            entries.append((item.key, item.modstamp, Kind.EVENT, event))
        self._save(Event, list(creates.values()), {pk: e for pk, (e, _) in updates.items()},
                   ["person", "name", "timestamp", "properties", "deleted_at", "updated_at"])
        self._outbox(Kind.EVENT, [(e.pk, "created", []) for e in creates.values()]
                     + [(pk, "updated", f) for pk, (_, f) in updates.items()])
        self._save_links(entries)
        for key, _, _, event in entries:
            results[key].ref = f"event:{event.pk}"
        return [results[i.key] for i in items]

    @staticmethod
    def _require(item: Item, value: object, what: str, results: dict[str, Result]) -> bool:
        if value:
            return True
        results[item.key] = Result(item.key, "skipped", error_code="MISSING_IDENTIFIER",
                                   message=f"the record has no {what}")
        return False
