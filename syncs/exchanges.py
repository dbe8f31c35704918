"""The two-way loop's memory: per linked record and field, the last value exchanged.

A link is one Salesforce record of one connection (object and id) and the hub row it stands
for (a person or an object). For each field of a link one `FieldExchange` row keeps what the
two sides last agreed on: `value`, Salesforce's value as Salesforce spells it, and `hub_value`,
the hub's value of `attribute`. A pull writes the rows of the fields it read (the value read),
a push those of the fields it wrote (the value written, once Salesforce accepted it).
Against them each side tells its own changes from the other's:
- a pulled value equal to `value` is no Salesforce change (nothing new, or our own write read
  back): the hub is not rewritten with it (no ping-pong);
- a hub value equal to `hub_value` is no hub change (it came from Salesforce, or was sent
  already): it is not written to Salesforce (no echo, no newer Salesforce value overwritten);
- both changed: a conflict, settled by the connection's policy (syncs/conflicts.py).

A row per (link, field), so a write rewrites only the fields it exchanged. `ExchangeBook`
reads a page's or a batch's rows with one query and writes the changed ones with one
multi-row upsert; nothing here runs a query per record. The model lives in `syncs`, not in
`workspace`: the hub writer never needs it, the engines write it in their page's (or batch's)
transaction, next to the record logs.

The rows are also the durable link of a hub row to its Salesforce records: every push keeps
them (a one-way action only when its connection has a delete action of the object, which
reads them), and they outlive the record logs and the hub row itself (no
foreign key), so a delete action finds what to delete (syncs/hub_deletions.py). They follow
a merge of people to the survivor (`follow_merge`), go when Salesforce or a delete action
deletes their record (`forget`), and those of a hub row removed for good go once no action
has its removal left to pass (`FieldExchange.prune`): nothing outlives both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from connections.models import Connection
from logs.models import RecordLog
from workspace.models import Change, Object, Person
from workspace.sql_rows import PRUNE_BATCH, delete_in_batches, insert, select_in


class FieldExchange(models.Model):
    """The last value of one field of one linked record exchanged with Salesforce, and when."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE,
                                   related_name="+")
    sobject = models.CharField("Salesforce object", max_length=80)
    record_id = models.CharField("Salesforce id", max_length=18)
    field = models.CharField("Salesforce field", max_length=80)
    # The hub row of the link ("person" or "object" and its id); no foreign key, so the hub
    # writer's set-based deletes never wait on this table.
    entity = models.CharField(max_length=12)
    hub_id = models.BigIntegerField()
    attribute = models.CharField("hub attribute", max_length=255)
    value = models.JSONField("Salesforce value", null=True, blank=True)
    hub_value = models.JSONField("hub value", null=True, blank=True)
    direction = models.CharField(max_length=3, choices=RecordLog.Direction.choices)
    exchanged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A Salesforce id names one record of one org: (id, connection, field) is the key.
            # The id leads, so a page's `record_id IN (...)` (by_records) is an index range,
            # never a walk over every row of the connection.
            models.UniqueConstraint(fields=["record_id", "connection", "field"],
                                    name="field_exchange_unique"),
        ]
        indexes = [
            # ExchangeBook.by_hub: a push batch's links, by hub row.
            models.Index(fields=["connection", "entity", "hub_id"],
                         name="field_exchange_hub_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sobject} {self.record_id}.{self.field}"

    @classmethod
    def prune(cls, batch: int = PRUNE_BATCH) -> int:
        """Delete the rows of hub rows removed for good once every action has passed their
        removal (no unprocessed change names them); how many went.

        Until then a delete action may still need them to find the record to delete, however
        old the removal (a paused cluster, a deferred run). The daily log pruning runs this.
        """
        total = 0
        for entity, model in (("person", Person), ("object", Object)):
            pending = Change.objects.filter(processed_at__isnull=True, entity=entity,
                                            entity_id=OuterRef("hub_id"))
            gone = cls.objects.filter(entity=entity).exclude(
                Exists(model.objects.filter(pk=OuterRef("hub_id")))).exclude(Exists(pending))
            total += delete_in_batches(gone, batch)
        return total


class Known(NamedTuple):
    """One exchanged field as read back."""

    record_id: str
    field: str
    entity: str
    hub_id: int
    attribute: str
    value: Any
    hub_value: Any


class Linked(NamedTuple):
    """One exchanged field of a hub row's link, with which way and when it last went."""

    sobject: str
    direction: str
    at: Any
    known: Known


COLUMNS = ["connection", "sobject", "record_id", "field", "entity", "hub_id", "attribute",
           "value", "hub_value", "direction", "exchanged_at"]
READ = ["record_id", "field", "entity", "hub_id", "attribute", "value", "hub_value"]


def hub_key(ref: str) -> tuple[str, int] | None:
    """("person", 12) from a hub reference "person:12"; None for another kind of row."""
    kind, _, pk = ref.partition(":")
    return (kind, int(pk)) if kind in ("person", "object") and pk.isdigit() else None


class ExchangeBook:
    """The exchanged fields of one connection's links to one Salesforce object."""

    def __init__(self, connection_id: int, sobject: str, direction: str) -> None:
        self.connection_id = connection_id
        self.sobject = sobject
        self.direction = direction

    def _rows(self) -> models.QuerySet:
        return FieldExchange.objects.filter(connection_id=self.connection_id)

    def by_records(self, record_ids: Iterable[str]) -> tuple[dict[tuple[str, str], Known],
                                                             set[tuple[str, str]]]:
        """The rows of these Salesforce records, by (record id, field), and the keys of those
        a push wrote last; one query."""
        ids = list(record_ids)
        known, sent = {}, set()
        for direction, *row in select_in(self._rows(), ["direction", *READ], record_id=ids) \
                if ids else ():
            key = (row[0], row[1])
            known[key] = Known(*row)
            if direction == RecordLog.Direction.OUT:
                sent.add(key)
        return known, sent

    def by_hub(self, entity: str, hub_ids: Iterable[int]) -> list[Linked]:
        """Every exchanged field of this connection's links to these hub rows, whatever their
        object (a value pulled through one object came from the org too); one query."""
        ids = list(hub_ids)
        if not ids:
            return []
        return [Linked(sobject, direction, at, Known(*row))
                for sobject, direction, at, *row in select_in(
                    self._rows().filter(entity=entity),
                    ["sobject", "direction", "exchanged_at", *READ], hub_id=ids)]

    def save(self, rows: list[tuple]) -> None:
        """Upsert these rows (`Known`s, or tuples in its order; one per record and field)
        inside the caller's transaction, stamped now."""
        if not rows:
            return
        head, tail = (self.connection_id, self.sobject), (self.direction, timezone.now())
        insert(FieldExchange, COLUMNS, [(*head, *row, *tail) for row in rows],
               conflict=["record_id", "connection", "field"], update=COLUMNS[1:])

    def forget(self, record_ids: Iterable[str]) -> None:
        """Drop the rows of records deleted in Salesforce (the link is gone)."""
        ids = list(record_ids)
        for start in range(0, len(ids), 1000):
            self._rows().filter(record_id__in=ids[start:start + 1000]).delete()


def follow_merge(sender: Any, *, gone: int, survivor: int, **kwargs: Any) -> None:
    """A person merged into another (workspace/merge.py): the merged-away one's links are the
    survivor's now (its source records moved too), and so are their exchanged fields.
    The connections are named so the UPDATE finds the rows through the hub-row index."""
    connections = list(Connection.objects.values_list("pk", flat=True))
    FieldExchange.objects.filter(connection_id__in=connections, entity="person",
                                 hub_id=gone).update(hub_id=survivor)
