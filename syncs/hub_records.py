"""Hub records as an action reads them: flat dicts of attributes and identifiers.

A person reads as its attributes plus `customer_id`, `email` (the attribute as Salesforce had
it, else the normalised address) and `hub_id`; an object as its attributes plus `object_id`
and `hub_id`. A source `related:Account` is the Salesforce id of the person's related Account
object when that object came from Salesforce through this connection (for `AccountId`), and
`related:Account.object_id` is the related object's hub id (for an external-id lookup such
as `Account.Ext__c`). Each record is keyed by its hub reference (`person:12`). A delete
action also reads the records marked deleted (`deleted_at`): deleting is what it does to them.

An action limited by segments covers only their members (several segments: a member of any
of them): `queryset()` adds the segments' conditions to the one query, so a reconcile and a
drained change alike pass over every record outside them. The conditions are read with one
"now" per run (within the last N days).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from syncs.actions import Action
from workspace.models import Object, Person, Relationship, SourceRecord

RELATED = "related:"


class HubRecords:
    """Reads the hub records one action writes, by id or all of them in id order."""

    def __init__(self, action: Action, sources: set[str]) -> None:
        self.action = action
        self.people = action.entity == Action.Entity.PEOPLE
        self.kind = "person" if self.people else "object"
        self.model: Any = Person if self.people else Object
        # The sources of this connection's syncs: what "came from Salesforce" here.
        self.sources = sources
        self.related = sorted({row.source[len(RELATED):].partition(".")[0]
                               for row in action.field_rows()
                               if row.source.startswith(RELATED)})

        self.segments = list(action.segments.all()) if action.pk else []
        problem = action.segments_problem(self.segments)
        if problem:
            raise ValidationError({"segments": problem})
        self.now = time.time()

    @property
    def limited(self) -> bool:
        """Whether the action is limited by segments (none: it covers every record)."""
        return bool(self.segments)

    def covered(self) -> Q:
        """The condition of the segments' members (any of them), on Person or Object."""
        union = Q()
        for segment in self.segments:
            union |= segment.q(now=self.now)
        return union

    def queryset(self, *, segmented: bool = True) -> Any:
        """The records the action covers: live ones, and marked deleted ones for a delete action
        (`segmented` False: whatever its segments)."""
        live = {} if self.action.operation == Action.Operation.DELETE else {
            "deleted_at__isnull": True}
        if self.people:
            rows = Person.objects.filter(**live)
        else:
            rows = Object.objects.filter(**live, type_id=self.action.object_type_id)
        return rows.filter(self.covered()) if segmented and self.segments else rows

    def load(self, ids: list[int], *, segmented: bool = True) -> list[tuple[str, dict[str, Any]]]:
        """(hub reference, record) of the ids that still exist and are covered, in id order."""
        rows = list(self.queryset(segmented=segmented).filter(pk__in=ids).order_by("pk"))
        return self._records(rows)

    def every(self, chunk: int) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """Every covered record, `chunk` at a time (a reconcile)."""
        after = 0
        while True:
            rows = list(self.queryset().filter(pk__gt=after).order_by("pk")[:chunk])
            if not rows:
                return
            after = rows[-1].pk
            yield self._records(rows)

    def _records(self, rows: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        related = self._related([row.pk for row in rows]) if self.people and self.related else {}
        records = []
        for row in rows:
            record = dict(row.attributes or {})
            record["hub_id"] = row.pk
            if self.people:
                record["customer_id"] = row.customer_id
                if not record.get("email"):
                    record["email"] = row.email or None
                record.update(related.get(row.pk, {}))
            else:
                record["object_id"] = row.object_id
            records.append((f"{self.kind}:{row.pk}", record))
        return records

    def _related(self, people: list[int]) -> dict[int, dict[str, Any]]:
        """`related:T` and `related:T.object_id` of each person (its oldest relationship to an
        object of each type T the rows name)."""
        links = list(Relationship.objects.filter(
            person_id__in=people, object__type__singular__in=self.related,
            object__deleted_at__isnull=True).order_by("pk").values_list(
            "person_id", "object_id", "object__object_id", "object__type__singular"))
        salesforce = dict(SourceRecord.objects.filter(
            object_id__in=[link[1] for link in links], source__in=self.sources,
            kind=SourceRecord.Kind.OBJECT).values_list("object_id", "record_id"))
        found: dict[int, dict[str, Any]] = {}
        for person, obj, object_id, singular in links:
            values = found.setdefault(person, {})
            values.setdefault(f"{RELATED}{singular}.object_id", object_id)
            if obj in salesforce:
                values.setdefault(f"{RELATED}{singular}", salesforce[obj])
        return found
