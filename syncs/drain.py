"""The hub's outbox as actions drain it: each action keeps its own position.

An action reads the changes after `outbox_position` (the last `Change.id` it passed), in id
order, and moves its position in the transaction that logs what it wrote, through its claim.
A change is marked processed once every enabled action has passed it, so `Change.prune` can
delete it. Changes that came from a sync of the action's own connection are passed without
being written: they are what the pull read from that org (no echo). Deletions cross over only
when the action's operation is delete; their ids are also listed apart (`Batch.deleted`), as
a record deleted for good can no longer be read (syncs/hub_deletions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Min
from django.utils import timezone

from syncs.actions import Action
from syncs.models import Sync
from syncs.queue import Claim
from workspace.models import Change

# Outbox rows a drain reads ahead to count what it will write (its progress bar's total);
# past them the total is not known (the bar shows done and rate), not read twice.
PENDING_CAP = 200_000


@dataclass
class Batch:
    """The changes of one read: the hub ids to write (those deleted in the hub also in
    `deleted`), what was passed, the last id read."""

    ids: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    echoes: int = 0
    last_id: int | None = None


def connection_sources(action: Action) -> set[str]:
    """The origins of the changes that came from the action's own org (its syncs)."""
    return {f"sync:{pk}" for pk in Sync.objects.filter(
        connection_id=action.connection_id).values_list("pk", flat=True)}


class Drain:
    """One action's reading of the outbox during one run."""

    def __init__(self, action: Action, claim: Claim, sources: set[str]) -> None:
        self.action = action
        self.claim = claim
        self.position = action.outbox_position
        self.own = sources | {action.source}
        self.entity = {Action.Entity.PEOPLE: "person", Action.Entity.EVENTS: "event"}.get(
            action.entity, "object")
        self.deletes = action.operation == Action.Operation.DELETE
        self.mapped = {row.source for row in action.field_rows()} | {
            attribute for attribute, _ in action.matcher_set().pairs}

    def read(self, limit: int) -> Batch:
        """The next changes after the position, at most `limit` rows (none: `last_id` None)."""
        return self._read(self.position, limit)

    def pending(self, limit: int) -> int | None:
        """How many hub records the changes now after the position give this action to write,
        read as the drain will read them (`limit` rows at a time; a record changed twice in
        one read counts once, as it is written once; echoes and changes of attributes it does
        not write do not count): the total of a drain's progress bar. None (not known) past
        `PENDING_CAP` outbox rows: a backlog of millions is not read twice. The run's claim
        beats between reads."""
        after, count, read = self.position, 0, 0
        while (batch := self._read(after, limit)).last_id is not None:
            count += len(batch.ids)
            read += limit
            if read >= PENDING_CAP:
                return None
            after = batch.last_id
            self.claim.beat()
        return count

    def _read(self, after: int, limit: int) -> Batch:
        rows = list(Change.objects.filter(processed_at__isnull=True, id__gt=after)
                    .order_by("id").values_list("id", "entity", "entity_id", "op", "fields",
                                                "origin")[:limit])
        batch = Batch(last_id=rows[-1][0] if rows else None)
        wanted: dict[int, None] = {}
        for _, entity, entity_id, op, fields, origin in rows:
            if entity != self.entity or (op == Change.Op.DELETED and not self.deletes):
                continue
            if origin in self.own:
                batch.echoes += 1
                continue
            if op == Change.Op.UPDATED and fields and self.entity != "event" \
                    and not self.mapped.intersection(fields) \
                    and not any(source.startswith("related:") for source in self.mapped):
                continue  # only attributes this action does not write changed
            wanted[entity_id] = None
            if op == Change.Op.DELETED:
                batch.deleted.append(entity_id)
        batch.ids = list(wanted)
        return batch

    def advance(self, last_id: int) -> None:
        """Move the position past `last_id` (inside the batch's transaction)."""
        self.position = last_id
        self.claim.renew(outbox_position=last_id)
        mark_processed()


def mark_processed() -> int:
    """Mark the changes every enabled action has passed (all, when none is enabled)."""
    passed = Action.objects.filter(enabled=True).aggregate(low=Min("outbox_position"))["low"]
    pending = Change.objects.filter(processed_at__isnull=True)
    if passed is not None:
        pending = pending.filter(id__lte=passed)
    return pending.update(processed_at=timezone.now())
