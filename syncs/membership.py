"""Who is in an action's segments, and what entering or leaving them does.

An action limited by segments keeps an `ActionMember` row per hub record it covered when it
last ran. Each push run compares the segments' members with those rows, in SQL, a chunk of
ids at a time (never a query per record):
1. members without a row entered: they are written like a change, their logs saying so (a
   change that made them enter is written by the drain first, which records them, so
   nothing is written twice);
2. rows whose record is no longer a member left: each is logged (outcome skipped, code
   LEFT_SEGMENT, hub → Salesforce) or, when the action's `on_leave` says so, its Salesforce
   record (found by the matchers) has its mapped fields cleared or is deleted; the log then
   has that write's outcome, with LEFT_SEGMENT as its code unless it failed.
Membership changes without a hub change (time passing under "within the last N days", a
segment's conditions edited) are found the same way, on the next run. A record deleted from
the hub simply loses its row: deletions are not leavings.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, OuterRef, QuerySet

from connections.external_id import account_key
from mappings.mapping import Transform
from syncs.actions import Action, ActionMember
from syncs.hub_records import HubRecords
from syncs.planner import Planner, Step
from workspace.items import Outcome

LEFT_SEGMENT = "LEFT_SEGMENT"
LEFT = "left the action's segments"
ENTERED = "entered the action's segments"


class Membership:
    """One run's view of an action's `ActionMember` rows against its segments."""

    def __init__(self, action: Action, hub: HubRecords) -> None:
        self.action = action
        self.hub = hub
        self.rows = ActionMember.objects.filter(action_id=action.pk)
        # Records whose write failed in this run: no members yet, retried on the next run
        # (not again by this run's entries).
        self.failed: set[int] = set()

    def forget(self) -> None:
        """An action no longer limited by segments keeps no rows."""
        if not self.hub.limited:
            self.rows.delete()

    def add(self, ids: list[int], failed: list[int]) -> None:
        """Record these hub records as members (inside the batch's transaction); those whose
        write `failed` are not."""
        self.failed.update(failed)
        if self.hub.limited and ids:
            ActionMember.objects.bulk_create(
                [ActionMember(action_id=self.action.pk, entity_id=pk) for pk in ids],
                ignore_conflicts=True)

    def remove(self, ids: list[int]) -> None:
        self.rows.filter(entity_id__in=ids).delete()

    def entering(self) -> QuerySet:
        """The members without a row (the action must be limited by segments)."""
        known = ActionMember.objects.filter(action_id=self.action.pk, entity_id=OuterRef("pk"))
        return self.hub.queryset().filter(~Exists(known))

    def leaving(self) -> QuerySet:
        """The rows whose record is no longer a member."""
        member = self.hub.queryset().filter(pk=OuterRef("entity_id"))
        return self.rows.filter(~Exists(member))

    def entered(self, chunk: int) -> Iterator[list[int]]:
        """Ids of members without a row, `chunk` at a time, in id order."""
        if not self.hub.limited:
            return
        for ids in _chunks(self.entering().order_by("pk"), "pk", chunk):
            ids = [pk for pk in ids if pk not in self.failed]
            if ids:
                yield ids

    def left(self, chunk: int) -> Iterator[list[int]]:
        """Ids of rows whose record is no longer a member, `chunk` at a time."""
        if not self.hub.limited:
            return
        yield from _chunks(self.leaving().order_by("entity_id"), "entity_id", chunk)


def _chunks(rows: object, column: str, chunk: int) -> Iterator[list[int]]:
    """The `column` values of `rows`, `chunk` at a time (each chunk one query from the last)."""
    after = None
    while True:
        page = rows if after is None else rows.filter(**{f"{column}__gt": after})
        ids = list(page.values_list(column, flat=True)[:chunk])
        if not ids:
            return
        after = ids[-1]
        yield ids


def leaving_steps(planner: Planner, records: list[tuple[str, dict]], on_leave: str) -> list[Step]:
    """A step per record that left; the steps to write have an operation, the rest a result.

    1. Nothing: each is logged as skipped, no Salesforce call.
    2. Clear or delete: the matchers find the Salesforce record (one query per 200), as for an
       update; clearing sends null for each mapped field that can be emptied (not a matcher,
       not a lookup, nillable and updateable) and differs; deleting deletes the record.
    3. No record found: skipped (nothing is ever created for a record that left).
    """
    steps = []
    for ref, record in records:
        match, refused = planner.keys.values(record)
        step = Step(ref, {}, {k: v for k, v in match.items() if v not in (None, "")})
        if on_leave == Action.OnLeave.NOTHING:
            step.done(Outcome.SKIPPED, code=LEFT_SEGMENT, message=LEFT)
        elif refused:
            step.done(Outcome.FAILED, code="INVALID_VALUE", message=f"{LEFT}; its matcher "
                      "values: " + "; ".join(str(problem) for problem in refused))
        elif on_leave == Action.OnLeave.CLEAR:
            step.values = dict.fromkeys(clearable(planner))
        steps.append(step)
    live = [step for step in steps if step.result is None]
    if live:
        planner.resolve(live)
    for step in live:
        if step.op == "create":
            step.op = ""
            step.done(Outcome.SKIPPED, code=LEFT_SEGMENT,
                      message=f"{LEFT}; no Salesforce record to {on_leave}")
        elif on_leave == Action.OnLeave.DELETE and step.sf_id and (
                step.result is None or step.result.outcome == Outcome.UNCHANGED):
            step.result, step.op = None, "delete"
    return steps


def clearable(planner: Planner) -> list[str]:
    """The mapped fields a leaving clears: not matchers, lookups or constants; nillable and
    updateable in describe. Never the connection's External ID for accounts: it keys the
    account to its hub object (connections/external_id.py), leaving or not."""
    matchers = set(planner.matchers.fields)
    key = account_key(planner.action.connection).lower() if planner.sobject == "Account" else ""
    return [row.target for row in planner.outbound.rows
            if row.transform != Transform.CONSTANT and row.target not in matchers
            and "." not in row.target and (not key or row.target.lower() != key)
            and planner.outbound.fields[row.target].get("nillable", True)
            and planner.outbound.fields[row.target].get("updateable", True)]


def mark(steps: list[Step], note: str, code: str = "") -> None:
    """Every log of these steps starts with `note` (entered, left); unless Salesforce
    refused the write, it takes `code` too (LEFT_SEGMENT)."""
    for step in steps:
        result = step.result
        if result is None:
            continue
        if code and result.outcome != Outcome.FAILED:
            result.error_code = code
        if not result.message.startswith(note):
            result.message = f"{note}; {result.message}" if result.message else note
