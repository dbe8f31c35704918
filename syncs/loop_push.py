"""The push's side of the two-way loop: which fields a batch may write to Salesforce.

Built once per run by the planner (syncs/planner.py), for the action's connection and object.
The loop is two-way when a sync of the same connection pulls the action's object; otherwise
the action is one-way (the hub is the source of truth, a reconcile restores what differs) and
only rule 2's values from the org apply. Either way what Salesforce accepted is remembered.
1. `load(steps)`: one query reads every exchanged field of the batch's hub rows on this
   connection (none when no sync reads from it: then nothing came from its org).
2. A hub value is no hub change, and is never written, when it is the last value exchanged
   for the field through this link, or a value that came from this org through any link (a
   contact's value is not echoed into its lead): the newest exchanges of the field all saw
   the hub hold it, and one was a pull (`org_values`; a value set again by the inbound API
   after an exchange saw another one is a hub change). `trim(step)` leaves such fields out
   where no query is made (the Id, Salesforce's own upsert) and says whether what is left
   needs one: a field changed in the hub since it was exchanged may have changed in
   Salesforce too, so such records take the planner's matcher query.
3. `keep(step, row, differing)`, for each field whose value differs from Salesforce's:
   - no hub change: not written (Salesforce changed since; the pull brings that in);
   - Salesforce's value is the last exchanged one: the hub's change is written;
   - both changed: a conflict, logged; the policy decides, in `settle()` once the batch's
     matches are known (when the newest change wins, one query dates the hub's changes of
     those fields: syncs/conflicts.py). The hub wins: written. Salesforce wins: not
     written, and the hub's value is remembered as seen, so the next pull writes
     Salesforce's value into the hub without finding the conflict again.
4. `remember(steps)`, in the batch's transaction: the fields Salesforce accepted, as written
   (one-way actions too when the connection has a delete action of the object: the link
   outlives the record logs, for it); the links of records deleted are forgotten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from logs.models import RecordLog
from mappings.outbound import Outbound, Refused, differing
from mappings.values import dotted_value
from syncs.actions import Action
from syncs.conflicts import HUB, HubTimes, Policy, conflict, winner
from syncs.exchanges import ExchangeBook, Known, Linked, hub_key
from syncs.models import Sync
from workspace.items import Outcome, Result
from workspace.sql_rows import json_text

if TYPE_CHECKING:
    from syncs.planner import Step

# How the push engine marks an update sent on to a converted lead's contact (syncs/push.py).
CONVERTED = "was converted: written to contact"


class Disputed(NamedTuple):
    """A field the hub and Salesforce both changed since it was exchanged, to settle."""

    step: Step
    hub_id: int
    target: str
    salesforce: Any
    hub: Any
    last: Known
    salesforce_at: Any


def org_values(links: list[Linked]) -> set[tuple[int, str, str]]:
    """(hub id, attribute, JSON value) of the hub values that came from the org: the newest
    exchanges of the field, through any of the org's links, all saw the hub hold that value,
    and one of them was a pull. Any exchange since that saw the hub hold another value means
    the hub changed it: a value the inbound API sets again is a hub change, even if some link
    pulled the same value before."""
    fields: dict[tuple[int, str], list[tuple[Any, str, str]]] = {}
    for link in links:
        known = link.known
        fields.setdefault((known.hub_id, known.attribute), []).append(
            (link.at, json_text(known.hub_value), link.direction))
    found = set()
    for (hub_id, attribute), seen in fields.items():
        seen.sort(reverse=True)  # newest first
        value = seen[0][1]
        for _, held, direction in seen:
            if held != value:
                break
            if direction == RecordLog.Direction.IN:
                found.add((hub_id, attribute, value))
                break
    return found


class PushLoop:
    """The loop's rules for one action's batches."""

    def __init__(self, action: Action, outbound: Outbound) -> None:
        self.book = ExchangeBook(action.connection_id, action.sobject, RecordLog.Direction.OUT)
        syncs = Sync.objects.filter(connection_id=action.connection_id)
        self.two_way = syncs.filter(sobject=action.sobject).exists()
        # One-way, the links are read only by a delete action of the object (the Salesforce
        # id of a hub row removed for good, after its logs are pruned): kept only for one.
        # Keeping them for every push cost a fifth of an upsert's time (bench/push.py).
        self.keeps = self.two_way or Action.objects.filter(
            connection_id=action.connection_id, sobject=action.sobject,
            operation=Action.Operation.DELETE).exists()
        # With no sync on the connection no value came from its org, and nothing is read back.
        self.pulls = syncs.exists()
        self.policy = action.connection.conflict_policy
        self.entity = "person" if action.entity == Action.Entity.PEOPLE else "object"
        self.outbound = outbound
        # Salesforce field → hub attribute, for the fields a link remembers (not lookups).
        self.sources = {row.target: row.source for row in outbound.rows
                        if "." not in row.target and row.source}
        self.own: dict[int, dict[tuple[str, str], Known]] = {}  # this object's links
        self.pulled: set[tuple[int, str, str]] = set()  # (hub id, attribute, JSON) pulled
        self.disputed: list[Disputed] = []  # conflicts `keep` found, for `settle`
        self.seen: list[Known] = []
        self.found: list[Result] = []

    def select(self, described: dict) -> list[str]:
        """Fields the matcher query reads besides the mapped ones."""
        names = {f["name"] for f in described["fields"]}
        return ["LastModifiedDate"] if self.policy == Policy.NEWEST \
            and "LastModifiedDate" in names else []

    def load(self, steps: list[Step]) -> None:
        ids = {key[1] for key in map(hub_key, (step.ref for step in steps)) if key}
        self.own = {}
        links = self.book.by_hub(self.entity, ids) if self.pulls else []
        for link in links:
            known = link.known
            if link.sobject == self.book.sobject and self.two_way:
                self.own.setdefault(known.hub_id, {})[(known.record_id[:15], known.field)] = \
                    known
        self.pulled = org_values(links)

    def linked(self, step: Step) -> bool:
        """Whether the hub row has exchanged fields on this connection."""
        key = hub_key(step.ref)
        return key is not None and (key[1] in self.own or any(
            (key[1], source, json_text(step.record.get(source))) in self.pulled
            for source in self.sources.values()))

    def same(self, target: str, one: Any, other: Any) -> bool:
        """Two values of a Salesforce field are equal, read the way a value to send is."""
        try:
            one = None if one in (None, "") else self.outbound.convert(target, one)
        except Refused:
            return one == other
        return not differing(self.outbound, {target: one}, {target: other})

    def _unchanged(self, hub_id: int, target: str, step: Step, last: Known | None) -> bool:
        """The hub's value of a field is no hub change (see the module's rule 2)."""
        source = self.sources[target]
        hub = step.record.get(source)
        if last is not None:
            if last.attribute == source and hub == last.hub_value:
                return True
            if last.attribute != source and self.same(target, step.values[target], last.value):
                return True
        return (hub_id, source, json_text(hub)) in self.pulled

    def trim(self, step: Step) -> bool:
        """Leave out the fields that are no hub change; whether the rest needs a lookup."""
        key = hub_key(step.ref)
        if key is None:
            return False
        own = {field: known for (_, field), known in self.own.get(key[1], {}).items()}
        if own and not step.sf_id:  # the linked record, named in the log
            step.sf_id = next(iter(own.values())).record_id
        lookup = False
        for target in [t for t in step.values if t in self.sources]:
            if self._unchanged(key[1], target, step, own.get(target)):
                del step.values[target]
            elif target in own:
                lookup = True
        return lookup

    def keep(self, step: Step, row: dict[str, Any], changed: list[str]) -> list[str]:
        """Of the fields whose value differs from Salesforce's, those to write."""
        key = hub_key(step.ref)
        if key is None:
            return changed
        own = self.own.get(key[1], {})
        kept = []
        for target in changed:
            last = own.get((step.sf_id[:15], target))
            if target not in self.sources:
                kept.append(target)
                continue
            if self._unchanged(key[1], target, step, last):
                continue
            kept.append(target)
            salesforce = dotted_value(row, target)
            if last is not None and not self.same(target, last.value, salesforce):
                # Both changed: written unless `settle` (with the batch's others) decides not.
                self.disputed.append(Disputed(step, key[1], target, salesforce,
                                              step.record.get(self.sources[target]), last,
                                              row.get("LastModifiedDate")))
        return kept

    def settle(self) -> list[Step]:
        """Decide the conflicts `keep` found under the policy (one query dates the hub's
        changes of their fields, when the newest change wins): a field Salesforce keeps is
        not written, and the hub's value is remembered as seen. The steps decided."""
        disputed, self.disputed = self.disputed, []
        times = HubTimes(self.entity, {one.hub_id for one in disputed})
        for step, hub_id, target, salesforce, hub, last, salesforce_at in disputed:
            source = self.sources[target]
            won = winner(self.policy, salesforce_at, times, hub_id, source)
            self.found.append(conflict(step.sf_id, step.ref, target, salesforce=salesforce,
                                       hub=hub, last=last.value, won=won, policy=self.policy))
            if won != HUB:
                del step.values[target]
                self.seen.append(last._replace(attribute=source, hub_value=hub))
        return [one.step for one in disputed]

    def conflicts(self) -> list[Result]:
        """The conflicts found since the last call."""
        found, self.found = self.found, []
        return found

    def remember(self, steps: list[Step]) -> None:
        """Remember what Salesforce accepted (inside the batch's transaction)."""
        rows, seen, self.seen = [], self.seen, []
        gone = []
        if not self.keeps:
            return
        for step in steps:
            result, key = step.result, hub_key(step.ref)
            if result is None or key is None or not step.sf_id or CONVERTED in result.message:
                continue
            if result.outcome == Outcome.DELETED:
                gone.append(step.sf_id)
            elif result.outcome in (Outcome.CREATED, Outcome.UPDATED):
                rows += [Known(step.sf_id, target, *key, self.sources[target], value,
                               step.record.get(self.sources[target]))
                         for target, value in step.values.items() if target in self.sources]
        self.book.save(list({(row[0], row[1]): row for row in seen + rows}.values()))
        self.book.forget(gone)
