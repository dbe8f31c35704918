"""The steps every write of the hub shares, whatever it writes (people, objects, events...).

A `PageWrite` is one call of the writer: it takes the hub's write lock, skips the records
already applied, keeps a `Result` per item and saves each record's source link at the end. An
`Upserts` collects one model's new and changed rows of that call and saves them with a handful
of multi-row statements, with their outbox rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from django.utils import timezone

from workspace.items import Item, Result
from workspace.lock import lock_hub
from workspace.models import SourceRecord
from workspace.outbox import Outbox
from workspace.sql_rows import insert, select_in

Kind = SourceRecord.Kind
KINDS = (Kind.PERSON, Kind.OBJECT, Kind.RELATIONSHIP, Kind.EVENT)
LINK_COLUMNS = ["source", "record_id", "seen_at", "kind", "modstamp", "person", "object",
                "relationship", "event"]


class Link(NamedTuple):
    """What a source record produced before (a SourceRecord row, read as a tuple)."""

    kind: str
    target_id: int
    modstamp: str


def save_rows(model: type, creates: list[Any], updates: dict[int, Any],
              fields: list[str]) -> None:
    """Insert new rows (their ids come back) and upsert changed ones on the primary key."""
    columns = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    values = attrgetter(*columns)  # one C call per row; these models have several columns
    if creates:
        ids = insert(model, columns, [values(o) for o in creates], returning=True)
        for obj, pk in zip(creates, ids, strict=True):
            obj.pk = pk
    if updates:
        insert(model, ["id", *columns], [(o.pk, *values(o)) for o in updates.values()],
               conflict=["id"], update=fields)


def mark_seen(source: str, record_ids: list[str], now: datetime) -> None:
    """Note that a run read these records of `source` (a resync removes what it did not)."""
    SourceRecord.objects.filter(source=source, record_id__in=record_ids).update(seen_at=now)


class PageWrite:
    """One page of items written for one source: results, links read and links to save.

    1. Take the hub's write lock (held until the caller's transaction ends).
    2. Read what these records produced before.
    3. `todo`: skip records already applied at their SystemModstamp, and those missing an id.
    4. The writer reports each item's outcome and the row it produced (`applied`).
    5. `finish`: save the source links, give each result its hub reference.
    """

    def __init__(self, source: str, items: list[Item], *, skip_seen: bool) -> None:
        lock_hub()
        self.source = source
        self.items = items
        self.skip_seen = skip_seen
        self.results: dict[str, Result] = {}
        self.now = timezone.now()
        self.links = self._read_links(i.key for i in items)
        self.entries: list[tuple[str, str, str, Any]] = []

    def _read_links(self, keys: Iterable[str]) -> dict[str, Link]:
        rows = select_in(SourceRecord.objects.filter(source=self.source),
                         ["record_id", "kind", "modstamp", *(f"{k}_id" for k in KINDS)],
                         record_id=keys)
        return {record_id: Link(kind, targets[KINDS.index(kind)], modstamp)
                for record_id, kind, modstamp, *targets in rows}

    def todo(self, *required: tuple[str, Callable[[Item], object]]) -> list[Item]:
        """The items to write: not already applied, with every (what, value) required."""
        todo = []
        for item in self.items:
            link = self.links.get(item.key)
            if self.skip_seen and link and item.modstamp and link.modstamp == item.modstamp:
                # The overlap window of an incremental run re-reads records it applied.
                self.results[item.key] = Result(
                    item.key, "skipped", f"{link.kind}:{link.target_id}",
                    message="already applied at this SystemModstamp")
                continue
            for what, value in required:
                if not value(item):
                    self.results[item.key] = Result(item.key, "skipped",
                                                    error_code="MISSING_IDENTIFIER",
                                                    message=f"the record has no {what}")
                    break
            else:
                todo.append(item)
        return todo

    def linked_person(self, item: Item) -> int | None:
        """The person this source record produced before (not an object it once produced,
        if its sync was switched from objects to people)."""
        link = self.links.get(item.key)
        return link.target_id if link and link.kind == Kind.PERSON else None

    def applied(self, item: Item, kind: str, row: Any, *, created: bool = False,
                changed: list[str] | None = None) -> None:
        """What writing an item did to the row it produced: created it, or merged into it
        (`changed`, `Upserts.merge`'s answer: None when nothing changed)."""
        if created:
            self.results[item.key] = Result(item.key, "created")
        else:
            self.results[item.key] = Result(item.key,
                                            "unchanged" if changed is None else "updated",
                                            changed=changed or [])
        self.entries.append((item.key, item.modstamp, kind, row))

    def finish(self) -> list[Result]:
        """Save the source links (rows have their ids by now); the results in item order."""
        # The target's id goes in its kind's column (person, object, relationship or event).
        empty = (None,) * len(KINDS)
        at = {kind: KINDS.index(kind) for kind in KINDS}
        now = self.now
        rows = [(self.source, key, now, kind, stamp, *empty[:at[kind]], target.pk,
                 *empty[at[kind] + 1:]) for key, stamp, kind, target in self.entries]
        insert(SourceRecord, LINK_COLUMNS, rows, conflict=["source", "record_id"],
               update=LINK_COLUMNS[2:])
        applied = {key for key, _, _, _ in self.entries}
        seen_only = [item.key for item in self.items if item.key not in applied]
        if seen_only:  # read but not applied (skipped, refused): still seen by this run
            mark_seen(self.source, seen_only, now)
        for key, _, kind, target in self.entries:
            result = self.results[key]
            result.ref = f"{kind}:{target.pk}"
            result.attributes = getattr(target, "attributes", None)
        return [self.results[i.key] for i in self.items]


class Upserts:
    """One model's rows that a page creates or changes, saved together with their outbox rows.

    `fields` are the columns an update rewrites; `attr` the JSON column records merge into;
    `found` the rows already in the hub, by the key the writer matches records on.
    """

    def __init__(self, model: type, kind: str, fields: list[str], outbox: Outbox, *,
                 now: datetime, force: bool, attr: str = "attributes",
                 found: dict[Any, Any] | None = None) -> None:
        self.found = found or {}
        self.model = model
        self.kind = kind
        self.fields = fields
        self.outbox = outbox
        self.now = now
        self.force = force
        self.attr = attr
        self.creates: dict[Any, Any] = {}
        self.updates: dict[int, tuple[Any, list[str]]] = {}

    def get(self, key: Any) -> Any:
        """The row for this key: found in the hub, or created earlier in this page."""
        return self.found.get(key) or self.creates.get(key)

    def create(self, key: Any, row: Any) -> Any:
        self.creates[key] = row
        return row

    def merge(self, row: Any, attributes: dict[str, Any],
              extra: list[str] | None = None) -> list[str] | None:
        """Merge attributes into a row; the changed names, or None when nothing changed.

        A row saved before is queued for update; one created in this page is saved whole.
        """
        old = getattr(row, self.attr)
        changed = [k for k, v in attributes.items() if k not in old or old[k] != v]
        if extra:
            changed += extra
        if row.deleted_at is not None:
            row.deleted_at = None
            changed.append("deleted_at")
        if not changed and not self.force:
            return None
        setattr(row, self.attr, {**old, **attributes})
        row.updated_at = self.now
        if row.pk is not None:
            names = self.updates.setdefault(row.pk, (row, []))[1]
            names.extend(c for c in changed if c not in names)
        return changed

    def save(self) -> None:
        created = list(self.creates.values())
        save_rows(self.model, created, {pk: row for pk, (row, _) in self.updates.items()},
                  self.fields)
        self.outbox.add(self.kind, [(row.pk, "created", []) for row in created]
                        + [(pk, "updated", names) for pk, (_, names) in self.updates.items()])
