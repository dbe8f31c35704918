"""Conflicts of the two-way loop: a field changed in Salesforce and in the hub since the two
sides last exchanged it (syncs/exchanges.py).

The connection's policy names the winner: Salesforce (the default: the single source of
truth), the hub, or the newest change: Salesforce's LastModifiedDate against the time the
hub changed that field (`HubTimes`; a tie goes to Salesforce). Whichever run finds a
conflict (a pull or a push) logs it as a record log of outcome "conflict", code
FIELD_CONFLICT, naming the field, both values and the winner; the winner's value then ends
on both sides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from connections.models import Connection
from mappings.values import parse_datetime
from workspace.items import Outcome, Result
from workspace.models import Change, Object, Person

Policy = Connection.ConflictPolicy
SALESFORCE, HUB = "Salesforce", "the hub"
CODE = "FIELD_CONFLICT"


class HubTimes:
    """When the hub changed each field of some of its rows (people or objects).

    Every hub change has its outbox row naming the attributes it changed (workspace/outbox.py),
    so a field's time is that of its latest change. A row's `updated_at` would date a field by
    the last change of any other field. Where no outbox row names the field (its change was
    pruned with the record logs, so is older than their retention; or came with a merge of
    people) the row's `updated_at` stands in: never earlier than the field's change. Read on
    first use only (two queries, through `change_entity_idx`): conflicts are rare, and only
    "newest wins" asks.
    """

    def __init__(self, entity: str, ids: Iterable[int]) -> None:
        self.entity = entity
        self.ids = set(ids)
        self.changed: dict[tuple[int, str], dt.datetime] | None = None
        self.updated: dict[int, dt.datetime] = {}

    def at(self, pk: int, attribute: str) -> dt.datetime | None:
        if self.changed is None:
            self.changed = {}
            for entity_id, fields, at in Change.objects.filter(
                    entity=self.entity, entity_id__in=list(self.ids), op=Change.Op.UPDATED,
            ).order_by("id").values_list("entity_id", "fields", "created_at"):
                for name in fields:  # oldest first: the latest change stays
                    self.changed[(entity_id, name)] = at
            model = Person if self.entity == "person" else Object
            self.updated = dict(model.objects.filter(pk__in=self.ids).values_list(
                "pk", "updated_at"))
        return self.changed.get((pk, attribute)) or self.updated.get(pk)


def winner(policy: str, salesforce_at: Any, times: HubTimes, pk: int, attribute: str) -> str:
    """Who wins a conflict on the hub row `pk`'s `attribute` under `policy`: SALESFORCE or
    HUB."""
    if policy == Policy.HUB:
        return HUB
    if policy == Policy.NEWEST:
        sf_time = salesforce_at if isinstance(salesforce_at, dt.datetime) else \
            parse_datetime(str(salesforce_at or ""))
        hub_at = times.at(pk, attribute)
        if hub_at is not None and (sf_time is None or hub_at > sf_time):
            return HUB
    return SALESFORCE


def conflict(record_id: str, ref: str, field: str, *, salesforce: Any, hub: Any, last: Any,
             won: str, policy: str) -> Result:
    """The record log of one conflict."""
    rule = Policy(policy).label.lower()
    kept = salesforce if won == SALESFORCE else hub
    return Result(record_id, Outcome.CONFLICT, ref, changed=[field], error_code=CODE,
                  message=f"{field} changed on both sides since {last!r} was exchanged: "
                  f"Salesforce has {salesforce!r}, the hub has {hub!r}; {won} wins ({rule}), "
                  f"both sides keep {kept!r}")
