"""What one batch of hub records becomes in Salesforce: a step per record.

`Planner.plan` maps each record's values (checked against describe: a refused value fails
that record only), then decides its operation:
1. create: nothing to find;
2. upsert on an external id with creating allowed: Salesforce's own upsert, no query;
3. update or delete by `Id` while draining changes: the id is the matcher, no query;
4. otherwise one SOQL IN query per 200 records finds the candidates, reading the mapped
   fields too: 0 → create if allowed, else skipped (update only); 1 → update only what
   differs (nothing: "unchanged"), or delete; several → failed with the candidate ids.
The two-way loop (syncs/loop_push.py) narrows this for records linked before: of what
differs only what changed in the hub since the last exchange is written (or what won a
conflict), and where 2 or 3 would make no query, a linked record with such a change takes
the query of 4 (Salesforce may have changed it too); one with none is "unchanged".
Two records of one batch that would write the same Salesforce record (or external id) are
not both sent: Salesforce would fail both with DUPLICATE_VALUE. The last one goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mappings.mapping import FieldRow
from mappings.matchers import Matchers
from mappings.outbound import Outbound, differing
from syncs.actions import Action
from syncs.loop_push import PushLoop
from workspace.items import Outcome, Result

Query = Callable[[str], list[dict[str, Any]]]
UNCHANGED_IN_HUB = ("nothing to write changed in the hub since it was last exchanged with "
                    "Salesforce (what came from Salesforce is not written back)")


@dataclass(slots=True)
class Step:
    """One hub record's way to Salesforce: its values, matcher values, operation, result."""

    ref: str
    values: dict[str, Any]
    match: dict[str, Any]
    op: str = ""
    sf_id: str = ""
    note: str = ""
    result: Result | None = None
    record: dict[str, Any] = field(default_factory=dict)  # the hub record

    def done(self, outcome: str, *, code: str = "", message: str = "",
             changed: list[str] | None = None) -> None:
        self.result = Result(self.sf_id, outcome, self.ref, changed=changed or [],
                             error_code=code, message=message)

    def body(self, external_id: str | None) -> dict[str, Any]:
        """What the writer sends for this step."""
        if self.op == "delete":
            return {"Id": self.sf_id}
        if self.op == "update":
            return {"Id": self.sf_id, **self.values}
        if self.op == "upsert" and external_id:
            return {**self.values, external_id: self.match[external_id]}
        return dict(self.values)


class Planner:
    """Plans batches of one action; `query(soql)` returns every row of a SOQL query."""

    def __init__(self, action: Action, describe: Callable[[str], dict], query: Query) -> None:
        self.action = action
        self.sobject = action.sobject
        self.described = describe(action.sobject)
        self.matchers: Matchers = action.matcher_set()
        self.outbound = Outbound(action.outbound_rows(), describe, action.sobject)
        self.keys = Outbound([FieldRow(attribute, name) for attribute, name
                              in self.matchers.pairs], describe, action.sobject)
        self.query = query
        self.loop = PushLoop(action, self.outbound)
        self.select = [*self.outbound.fields, *self.loop.select(self.described)]
        fields = self.matchers.fields
        native = (action.operation == Action.Operation.UPSERT and action.allow_create
                  and len(fields) == 1 and self.keys.fields[fields[0]].get("externalId"))
        # The external-id field of Salesforce's own upsert (None: matched some other way).
        self.external_id = fields[0] if native else None

    def plan(self, records: list[tuple[str, dict[str, Any]]], *, compare: bool) -> list[Step]:
        """A step per record; those with a result need no write. `compare`: look records up
        even when the Id alone would do (a reconcile writes nothing that is already equal)."""
        steps = [self.prepare(ref, record) for ref, record in records]
        live = [step for step in steps if step.result is None]
        self.loop.load(live)
        operation = self.action.operation
        quick = self.external_id or (self.matchers.by_id_only and not compare
                                     and operation != Action.Operation.UPSERT)
        if quick and operation not in (Action.Operation.CREATE, Action.Operation.DELETE):
            self.quick_linked(live)
            live = [step for step in live if step.op == "" and step.result is None]
        if operation == Action.Operation.CREATE:
            for step in live:
                step.op = "create"
        elif self.external_id:
            for step in live:
                if step.match:
                    step.op = "upsert"
                else:
                    step.done(Outcome.SKIPPED, code="NO_MATCHER_VALUE",
                              message=f"no value for the external id {self.external_id}")
        elif self.matchers.by_id_only and not compare and operation != Action.Operation.UPSERT:
            for step in live:
                step.sf_id = str(step.match.get("Id") or "")
                if step.sf_id:
                    step.op = operation
                else:
                    step.done(Outcome.SKIPPED, code="NO_MATCHER_VALUE", message="no Id")
        else:
            self.resolve(live)
        self.dedupe(steps)
        self.check_creates(steps)
        return steps

    def quick_linked(self, steps: list[Step]) -> None:
        """Records with exchanged fields where no query would be made: what did not change in
        the hub is left out, and those whose other fields may have changed in Salesforce too
        are looked up (syncs/loop_push.py)."""
        linked = [step for step in steps if self.loop.linked(step)]
        lookup = [step for step in linked if self.loop.trim(step)]
        for step in linked:
            if not step.values and step not in lookup:
                step.done(Outcome.UNCHANGED, message=UNCHANGED_IN_HUB)
        if lookup:
            self.resolve(lookup)

    def prepare(self, ref: str, record: dict[str, Any]) -> Step:
        values, problems = self.outbound.values(record)
        match, refused = self.keys.values(record)
        step = Step(ref, values, {k: v for k, v in match.items() if v not in (None, "")},
                    record=record)
        problems += refused
        if problems:
            step.done(Outcome.FAILED, code="INVALID_VALUE",
                      message="; ".join(str(problem) for problem in problems))
        return step

    def resolve(self, steps: list[Step]) -> None:
        """Find each step's Salesforce record with the matcher queries, then decide."""
        usable = [step for step in steps if self.matchers.usable(step.match)]
        for step in steps:
            if not self.matchers.usable(step.match):
                self.no_match(step, "the record has no value for its matchers")
        rows: list[dict[str, Any]] = []
        for soql in self.matchers.soql(self.sobject, self.select,
                                       [step.match for step in usable]):
            rows.extend(self.query(soql))
        found = self.matchers.match([step.match for step in usable], rows, self.keys.types)
        for step, candidates in zip(usable, found, strict=True):
            if not candidates:
                self.no_match(step, "no match")
            elif len(candidates) > 1:
                ids = ", ".join(str(row["Id"]) for row in candidates[:10])
                step.done(Outcome.FAILED, code="MULTIPLE_MATCHES",
                          message=f"{len(candidates)} {self.sobject} records match: {ids}")
            else:
                self.matched(step, candidates[0])
        for step in self.loop.settle():  # the conflicts found, decided together
            if not step.values:
                step.done(Outcome.UNCHANGED, message=UNCHANGED_IN_HUB)

    def matched(self, step: Step, row: dict[str, Any]) -> None:
        step.sf_id = str(row["Id"])
        if self.action.operation == Action.Operation.DELETE:
            step.op = "delete"
            return
        changed = differing(self.outbound, step.values, row)
        if not changed:
            step.done(Outcome.UNCHANGED, message="Salesforce already has these values")
            return
        changed = self.loop.keep(step, row, changed)
        if not changed:
            step.done(Outcome.UNCHANGED, message=UNCHANGED_IN_HUB)
            return
        step.values = {name: step.values[name] for name in changed}
        step.op = "update"

    def no_match(self, step: Step, why: str) -> None:
        if self.action.creates and self.action.operation != Action.Operation.DELETE:
            step.op = "create"
            step.values = self.outbound.values(step.record)[0]  # whole, even if trimmed
            # A created record carries its matcher values, so the next batch finds it.
            step.values = {**{k: v for k, v in step.match.items() if k != "Id"}, **step.values}
        else:
            step.done(Outcome.SKIPPED, code="NO_MATCH", message=f"{why}: nothing to delete"
                      if self.action.operation == Action.Operation.DELETE
                      else f"{why} (update only)")

    def dedupe(self, steps: list[Step]) -> None:
        """Of the steps writing one Salesforce record (or external id), only the last goes."""
        last: dict[str, Step] = {}
        for step in steps:
            if step.result is not None or step.op == "create":
                continue
            key = (str(step.match.get(self.external_id, "")).casefold() if step.op == "upsert"
                   else step.sf_id[:15])
            earlier = last.get(key)
            if earlier is not None:
                what = (f"the same {self.external_id} {step.match[self.external_id]!r}"
                        if step.op == "upsert" else f"the same {self.sobject} {step.sf_id}")
                earlier.done(Outcome.SKIPPED, code="DUPLICATE_IN_BATCH",
                             message=f"{step.ref} writes {what} in this batch (Salesforce "
                             "would fail both with DUPLICATE_VALUE); the later one is written")
            last[key] = step

    def check_creates(self, steps: list[Step]) -> None:
        """Creates missing a required field fail before sending, naming the fields."""
        for step in steps:
            if step.result is None and step.op == "create":
                missing = self.outbound.missing_on_create(step.values, self.described)
                if missing:
                    step.done(Outcome.FAILED, code="REQUIRED_FIELD_MISSING",
                              message="; ".join(str(problem) for problem in missing))
