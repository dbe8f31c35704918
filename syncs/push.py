"""The push engine: one run of one action, from the hub to Salesforce.

`run_action(action_id)` claims the action (syncs/queue.py; None if another worker holds it),
then `Push.run()`:
1. builds the parts from describe: the planner (values, matchers; syncs/planner.py) and the
   batch writer (collections or Bulk API 2.0; syncs/writes.py);
2. a reconcile (`--full`, "Resync", its schedule) writes every hub record the action covers;
3. drains the outbox from the action's position (syncs/drain.py), batch by batch; a delete
   action also takes the hub's deletions (those removed for good: syncs/hub_deletions.py);
   an action limited by segments reads only their members (syncs/hub_records.py);
4. then writes the records that entered its segments since its last run, and logs (or
   clears, or deletes) those that left them (syncs/membership.py);
5. each batch: plan (one matcher query per 200 records, or none), write, then in one
   transaction the record logs, the run's counters (its total: what it processed plus
   what its step, counted when it starts, still expects) and the new outbox position. A crash
   before that commit re-plans the batch on the next run, and its matcher query finds what was
   already written, so nothing is created twice.
QuotaExhausted stops the run as "deferred" with the position kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from connections.client import SalesforceClient
from connections.errors import Transient
from logs.models import RecordLog
from syncs.actions import Action
from syncs.cursor import id_in
from syncs.drain import Drain, connection_sources
from syncs.hub_deletions import deleted_for_good
from syncs.hub_events import hub_for, remember_written
from syncs.membership import ENTERED, LEFT, LEFT_SEGMENT, Membership, leaving_steps, mark
from syncs.models import SyncRun
from syncs.planner import Planner, Step
from syncs.queue import Claim, Trigger, claim
from syncs.runs import run_held
from syncs.writes import BatchWriter, error_code
from workspace.items import COUNTER_OF, Outcome
from workspace.models import Change

# Hub records per batch: sObject Collections send them 200 a call; a bulk batch is one job.
BATCH = 2000
BULK_BATCH = 10_000
# What Salesforce answers a delete of a record that is gone: in the recycle bin, or purged
# (or never there) — INVALID_CROSS_REFERENCE_KEY from collections and Bulk API 2.0, NOT_FOUND
# from a REST record URL. The deletion is done, not failed (see ../shared/SALESFORCE.md).
ALREADY_DELETED = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"})


def run_action(action_id: int, *, trigger: str = Trigger.CHANGE, full: bool = False,
               wanted: Q | None = None) -> SyncRun | None:
    """Run one action now, in this process; None when it is unknown or already running (or,
    for a worker's wake-up, no longer `wanted`: syncs/queue.py).

    A reconcile (every record) is run when asked (`full`, a resync request) or when the
    schedule came due; otherwise the run drains the changes.
    """
    action = Action.objects.filter(pk=action_id).select_related("connection",
                                                               "object_type").first()
    held = claim(action, wanted) if action is not None else None
    if held is None:
        return None
    push, reconcile = None, full
    try:
        requested = held.take_request()
        if requested and (trigger == Trigger.CHANGE or (trigger == Trigger.SCHEDULE
                                                         and requested != Trigger.CHANGE)):
            trigger = requested  # a scheduled reconcile covers the changes it was asked for
        reconcile = full or trigger in (Trigger.RESYNC, Trigger.SCHEDULE)
        push = Push(action, held, Trigger.RESYNC if full else trigger, reconcile=reconcile)
        return push.run()
    finally:
        # A change drain keeps the reconcile schedule's next slot.
        held.release(deferred=push is not None and push.deferred,
                     scheduled=reconcile or trigger != Trigger.CHANGE)


class Push:
    """One run of one action: builds the parts, writes the batches, closes the run."""

    def __init__(self, action: Action, held: Claim, trigger: str, *, reconcile: bool) -> None:
        self.action = action
        self.claim = held
        self.trigger = trigger
        self.reconcile = reconcile
        self.deferred = False
        # What the run's current step still expects to process (`expect`).
        self.expected: int | None = 0

    def run(self) -> SyncRun:
        run = SyncRun.objects.create(action=self.action, trigger=self.trigger,
                                     direction=RecordLog.Direction.OUT,
                                     mode="reconcile" if self.reconcile else "changes")
        self.deferred = run_held(self.claim, run, self.action.connection,
                                 lambda client: self.execute(run, client), known=(KeyError,),
                                 resumes="The run resumes from its outbox position.")
        return run

    def execute(self, run: SyncRun, client: SalesforceClient) -> None:
        """The steps of a run, top to bottom."""
        action = self.action
        self.action.full_clean(exclude=["connection", "object_type"])
        sources = connection_sources(action)
        planner = Planner(action, client.describe, lambda soql: _all_rows(client, soql))
        bulk_from = {Action.BatchMode.AUTO: action.bulk_threshold, Action.BatchMode.BULK: 1,
                     Action.BatchMode.COLLECTIONS: None}[action.batch_mode]
        writer = BatchWriter(client, action.sobject, action.headers(), bulk_from=bulk_from,
                             external_id_field=planner.external_id)
        batch = BATCH if bulk_from is None else BULK_BATCH
        hub = hub_for(action, sources)
        drain = Drain(action, self.claim, sources)
        self.parts = Parts(client, planner, writer)
        self.hub, self.members = hub, Membership(action, hub)
        self.members.forget()
        if self.reconcile:
            self.expect(run, hub.queryset().count())
            # The changes made before the reconcile starts are covered by it.
            covered = Change.objects.order_by("-id").values_list("id", flat=True).first()
            for records in hub.every(batch):
                self.reached(len(records))
                self.apply(run, records, compare=True, commit=self.claim.renew)
            if covered is not None and covered > drain.position:
                with transaction.atomic():
                    drain.advance(covered)
        self.expect(run, drain.pending(batch))
        while True:
            read = drain.read(batch)
            if read.last_id is None:
                break
            last = read.last_id
            records = hub.load(read.ids)
            gone = deleted_for_good(action, hub, read.deleted)
            self.reached(len(read.ids))
            self.apply(run, records, compare=False, commit=lambda last=last: drain.advance(last),
                       gone=gone)
        if hub.limited:
            self.expect(run, self.members.entering().count())
        for ids in self.members.entered(batch):
            self.reached(len(ids))
            self.apply(run, hub.load(ids), compare=False, commit=self.claim.renew,
                       note=ENTERED)
        if hub.limited:
            self.expect(run, self.members.leaving().count())
        for ids in self.members.left(batch):
            self.leave(run, ids)

    def expect(self, run: SyncRun, count: int | None) -> None:
        """A step of the run (reconcile, drain, entered, left) starts with `count` records to
        process: the run's total (its progress bar's) is what it processed plus what the
        current step still expects, each batch taking what it read off (`reached`). So a
        drain of N records shows N from its start and ends with N processed; what a step
        counted but did not reach is dropped when the next one starts. None: not known (the
        run's total too, until a later step counts again)."""
        self.expected = count
        SyncRun.objects.filter(pk=run.pk).update(
            total=None if count is None else F("fetched") + count)

    def reached(self, count: int) -> None:
        """A batch of `count` of the records the current step expects is being processed (its
        `record` writes the total without them)."""
        if self.expected is not None:
            self.expected = max(self.expected - count, 0)

    def apply(self, run: SyncRun, records: list[tuple[str, dict[str, Any]]], *,
              compare: bool, commit: Any, gone: Sequence[Step] = (), note: str = "") -> None:
        """Plan and write one batch (and the deletions `gone` already planned), then log it,
        count it and `commit()` in one transaction (with the membership of the records not
        failed, for an action limited by segments); `note` starts each log's message."""
        steps = self.parts.planner.plan(records, compare=compare) if records else []
        steps += gone
        self.parts.write(steps)
        if note:
            mark(steps, note)
        # A record whose write failed is no member yet: entering, it is retried next run.
        failed = {step.ref for step in steps
                  if step.result is not None and step.result.outcome == Outcome.FAILED}
        ids = [record["hub_id"] for ref, record in records if ref not in failed]
        lost = [record["hub_id"] for ref, record in records if ref in failed]

        def done() -> None:
            commit()
            self.members.add(ids, lost)

        self.record(run, steps, done)

    def leave(self, run: SyncRun, ids: list[int]) -> None:
        """Records that left the segments: logged, cleared or deleted; their rows removed."""
        self.reached(len(ids))
        records = self.hub.load(ids, segmented=False)
        steps = leaving_steps(self.parts.planner, records, self.action.on_leave)
        self.parts.write(steps)
        mark(steps, LEFT, LEFT_SEGMENT)
        self.record(run, steps, lambda: (self.claim.renew(), self.members.remove(ids)))

    def record(self, run: SyncRun, steps: list[Step], commit: Any) -> None:
        """Log and count the steps' results and `commit()`, in one transaction (the total:
        what was processed and what is still expected)."""
        results = [step.result for step in steps] + self.parts.planner.loop.conflicts()
        counts = Counter(COUNTER_OF[result.outcome] for result in results)
        counts["fetched"] = len(steps)
        with transaction.atomic():
            # Both read the row as it was: the total is the new fetched plus what is left.
            SyncRun.objects.filter(pk=run.pk).update(
                total=None if self.expected is None else
                F("fetched") + len(steps) + self.expected,
                **{name: F(name) + value for name, value in counts.items()})
            RecordLog.write(results, direction=RecordLog.Direction.OUT,
                            sobject=self.action.sobject, run_id=run.pk,
                            action_id=self.action.pk)
            if self.action.entity == Action.Entity.EVENTS:
                remember_written(self.action, results)
            self.parts.planner.loop.remember(steps)
            commit()


class Parts:
    """What writing a planned batch takes: the client, the planner and the writer."""

    def __init__(self, client: SalesforceClient, planner: Planner, writer: BatchWriter) -> None:
        self.client = client
        self.planner = planner
        self.writer = writer

    def write(self, steps: list[Step]) -> None:
        """Send each operation's steps and give every step its result."""
        for operation in ("create", "update", "upsert", "delete"):
            todo = [step for step in steps if step.result is None and step.op == operation]
            if operation == "delete":
                todo = [step for step in todo if self.of_the_object(step)]
            if not todo:
                continue
            try:
                answers = self.writer.write(operation, [
                    step.body(self.planner.external_id) for step in todo])
            except Transient as error:
                if operation != "create":
                    raise
                self.unknown_creates(todo, error)
                continue
            for step, answer in zip(todo, answers, strict=True):
                settle(step, answer)
            if operation == "update":
                self.follow_converted(todo)

    def of_the_object(self, step: Step) -> bool:
        """Whether a record to delete is one of the action's object: a collection delete takes
        ids of any object, so an id of another one (a wrong attribute) fails instead."""
        prefix = self.planner.described.get("keyPrefix") or ""
        if not prefix or step.sf_id[:3] == prefix:
            return True
        step.done(Outcome.FAILED, code="NOT_THIS_OBJECT", message=(
            f"{step.sf_id!r} is not the id of a {self.planner.sobject} (its ids start with "
            f"{prefix}); nothing was deleted"))
        return False

    def unknown_creates(self, steps: list[Step], error: Transient) -> None:
        """Creates whose outcome is unknown (a time-out or 5xx after sending): look them up
        through their matchers first; only those still missing are created, once more."""
        if not self.planner.matchers.pairs:
            for step in steps:
                step.done(Outcome.FAILED, code="OUTCOME_UNKNOWN", message=f"{error}; not sent "
                          "again without matchers to check it, so no duplicate is made")
            return
        for step in steps:
            step.op = ""
        self.planner.resolve(steps)
        again = [step for step in steps if step.result is None and step.op == "create"]
        # Failing again stops the run with its position kept: the next run looks them up
        # once more, so each is created once, when Salesforce answers.
        answers = self.writer.write("create", [step.body(None) for step in again])
        for step, answer in zip(again, answers, strict=True):
            settle(step, answer)
        updates = [step for step in steps if step.result is None and step.op == "update"]
        for step, answer in zip(updates, self.writer.write("update", [
                step.body(None) for step in updates]), strict=True):
            settle(step, answer)

    def follow_converted(self, steps: list[Step]) -> None:
        """Updates refused because the lead was converted go to its converted contact."""
        converted = [step for step in steps if step.result.error_code
                     == "CANNOT_UPDATE_CONVERTED_LEAD"]
        if not converted or self.planner.sobject != "Lead":
            return
        ids = id_in([step.sf_id for step in converted if step.sf_id.isalnum()])
        contacts = {str(row["Id"])[:15]: row.get("ConvertedContactId") for row in _all_rows(
            self.client, f"SELECT Id, ConvertedContactId FROM Lead WHERE {ids}")}
        fields = {f["name"] for f in self.client.describe("Contact")["fields"]
                  if f.get("updateable")}
        writer = BatchWriter(self.client, "Contact", self.writer.headers, bulk_from=None)
        follow = [(step, contacts.get(step.sf_id[:15])) for step in converted]
        follow = [(step, contact) for step, contact in follow if contact]
        answers = writer.write("update", [{"Id": contact, **{k: v for k, v in step.values.items()
                                                            if k in fields}}
                                          for step, contact in follow])
        for (step, contact), answer in zip(follow, answers, strict=True):
            lead = step.sf_id
            step.sf_id = contact
            settle(step, answer)
            step.result.message = f"lead {lead} was converted: written to contact {contact}" \
                + (f"; {step.result.message}" if step.result.message else "")


def settle(step: Step, answer: dict[str, Any]) -> None:
    """A step's result from Salesforce's answer for its record."""
    step.sf_id = str(answer.get("id") or step.sf_id or "")
    if answer.get("success"):
        created = step.op == "create" or (step.op == "upsert" and answer.get("created"))
        outcome = {"delete": Outcome.DELETED}.get(step.op, Outcome.CREATED if created
                                                  else Outcome.UPDATED)
        step.done(outcome, changed=sorted(step.values) if step.op != "delete" else [])
        return
    errors = answer.get("errors") or [{}]
    code = error_code(answer) or "FAILED"
    if step.op == "delete" and code in ALREADY_DELETED:
        step.done(Outcome.SKIPPED, code=code, message=f"already deleted in Salesforce "
                  f"({code}: {errors[0].get('message', '')}); nothing to do")
        return
    text = "; ".join(f"{e.get('message', '')}" + (f" (fields: {', '.join(e['fields'])})"
                                                   if e.get("fields") else "")
                     for e in errors)
    step.done(Outcome.FAILED, code=code, message=f"{step.op} refused: {text}",
              changed=sorted(step.values))


def _all_rows(client: SalesforceClient, soql: str) -> list[dict[str, Any]]:
    return [row for page in client.query_pages(soql) for row in page]
