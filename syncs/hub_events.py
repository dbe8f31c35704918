"""Hub events as an events action reads them, and the record of each one it wrote.

An event reads as a flat dict: `name`, `timestamp` (ISO-8601, so a date or datetime field
takes it as it is), `source_id` (its unique key: a good external id), `hub_id`, each property
as `properties.X`, and its person as `person.X` (attributes, plus `person.email`,
`person.customer_id`, `person.hub_id`) with `person.salesforce_id`: the Contact (else Lead) the
person came from through this connection's syncs — for `WhoId`. A timestamp or Salesforce id
that is not known is absent (the field is left alone), not empty (which would clear it).
Events the action already wrote (`WrittenEvent`) and those marked deleted are not read; an
action's event names, when given, filter what is read.
"""

from __future__ import annotations

from typing import Any

from mappings.values import canonical_datetime
from syncs.actions import Action, WrittenEvent
from syncs.hub_records import HubRecords
from workspace.items import Outcome, Result
from workspace.models import Event, SourceRecord

# Key prefixes of what a Task's WhoId takes, the most wanted first: Contact, then Lead.
WHO_PREFIXES = ("003", "00Q")


class HubEvents(HubRecords):
    """Reads the events one events action writes (by id, or all of them in id order)."""

    def __init__(self, action: Action, sources: set[str]) -> None:
        super().__init__(action, sources)
        self.people = False
        self.kind = "event"
        self.model = Event

    def queryset(self, *, segmented: bool = True) -> Any:
        # Segments are over people or objects: an events action is never limited by one.
        rows = Event.objects.filter(deleted_at__isnull=True).exclude(
            written_by__action=self.action).select_related("person")
        return rows.filter(name__in=self.action.names) if self.action.names else rows

    def _records(self, rows: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        salesforce = self._salesforce_ids({row.person_id for row in rows})
        records = []
        for row in rows:
            person = row.person
            record: dict[str, Any] = {"name": row.name, "hub_id": row.pk,
                                      "source_id": row.source_id}
            # What is not known is absent, not empty: absent leaves a field alone.
            if row.timestamp:
                record["timestamp"] = canonical_datetime(row.timestamp)
            record.update((f"properties.{key}", value)
                          for key, value in (row.properties or {}).items())
            record.update((f"person.{key}", value)
                          for key, value in (person.attributes or {}).items())
            record["person.email"] = (person.attributes or {}).get("email") or person.email \
                or None
            record["person.customer_id"] = person.customer_id
            record["person.hub_id"] = person.pk
            if person.pk in salesforce:
                record["person.salesforce_id"] = salesforce[person.pk]
            records.append((f"event:{row.pk}", record))
        return records

    def _salesforce_ids(self, people: set[int]) -> dict[int, str]:
        """Each person's Contact (else Lead) id in this org, from this connection's syncs."""
        found: dict[int, str] = {}
        links = SourceRecord.objects.filter(person_id__in=people, source__in=self.sources,
                                            kind=SourceRecord.Kind.PERSON)
        for person, record_id in links.order_by("id").values_list("person_id", "record_id"):
            rank = WHO_PREFIXES.index(record_id[:3]) if record_id[:3] in WHO_PREFIXES else None
            held = found.get(person)
            if rank is not None and (held is None or rank <= WHO_PREFIXES.index(held[:3])):
                found[person] = record_id
        return found


def hub_for(action: Action, sources: set[str]) -> HubRecords:
    """What the action reads from the hub: its events (an events action) or its records."""
    return (HubEvents if action.entity == Action.Entity.EVENTS else HubRecords)(action, sources)


def remember_written(action: Action, results: list[Result]) -> None:
    """A `WrittenEvent` for each event written (inside the transaction of its record log)."""
    rows = [WrittenEvent(action=action, event_id=int(result.ref.partition(":")[2]),
                         record_id=result.key)
            for result in results if result.ref.startswith("event:") and result.key
            and result.outcome in (Outcome.CREATED, Outcome.UPDATED)]
    WrittenEvent.objects.bulk_create(rows, ignore_conflicts=True)
