"""The push engine: one run of one action, from the hub to Salesforce.

`run_action(action_id)` claims the action (syncs/queue.py; None if another worker holds it),
then `Push.run()`:
1. builds the parts from describe: the planner (values, matchers; syncs/planner.py) and the
   batch writer (collections or Bulk API 2.0; syncs/writes.py);
2. a reconcile (`--full`, "Resync", its schedule) writes every hub record the action covers;
3. drains the outbox from the action's position (syncs/drain.py), batch by batch;
4. each batch: plan (one matcher query per 200 records, or none), write, then in one
   transaction the record logs, the run's counters and the new outbox position. A crash
   before that commit re-plans the batch on the next run, and its matcher query finds what was
   already written, so nothing is created twice.
QuotaExhausted stops the run as "deferred" with the position kept.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import F

from connections.client import SalesforceClient
from connections.errors import Transient
from logs.models import RecordLog
from syncs.actions import Action
from syncs.cursor import id_in
from syncs.drain import Drain, connection_sources
from syncs.hub_records import HubRecords
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


def run_action(action_id: int, *, trigger: str = Trigger.CHANGE,
               full: bool = False) -> SyncRun | None:
    """Run one action now, in this process; None when it is unknown or already running.

    A reconcile (every record) is run when asked (`full`, a resync request) or when the
    schedule came due; otherwise the run drains the changes.
    """
    action = Action.objects.filter(pk=action_id).select_related("connection",
                                                               "object_type").first()
    held = claim(action) if action is not None else None
    if held is None:
        return None
    push = None
    try:
        requested = held.take_request()
        if requested and trigger in (Trigger.SCHEDULE, Trigger.CHANGE):
            trigger = requested
        reconcile = full or trigger in (Trigger.RESYNC, Trigger.SCHEDULE)
        push = Push(action, held, Trigger.RESYNC if full else trigger, reconcile=reconcile)
        return push.run()
    finally:
        held.release(deferred=push is not None and push.deferred)


class Push:
    """One run of one action: builds the parts, writes the batches, closes the run."""

    def __init__(self, action: Action, held: Claim, trigger: str, *, reconcile: bool) -> None:
        self.action = action
        self.claim = held
        self.trigger = trigger
        self.reconcile = reconcile
        self.deferred = False

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
        hub = HubRecords(action, sources)
        drain = Drain(action, self.claim, sources)
        self.parts = Parts(client, planner, writer)
        if self.reconcile:
            # The changes made before the reconcile starts are covered by it.
            covered = Change.objects.order_by("-id").values_list("id", flat=True).first()
            for records in hub.every(batch):
                self.apply(run, records, compare=True, commit=self.claim.renew)
            if covered is not None and covered > drain.position:
                with transaction.atomic():
                    drain.advance(covered)
        while True:
            read = drain.read(batch)
            if read.last_id is None:
                break
            last = read.last_id
            self.apply(run, hub.load(read.ids), compare=False,
                       commit=lambda last=last: drain.advance(last))

    def apply(self, run: SyncRun, records: list[tuple[str, dict[str, Any]]], *,
              compare: bool, commit: Any) -> None:
        """Plan and write one batch, then log it, count it and `commit()` in one transaction."""
        steps = self.parts.planner.plan(records, compare=compare) if records else []
        self.parts.write(steps)
        results = [step.result for step in steps] + self.parts.planner.loop.conflicts()
        counts = Counter(COUNTER_OF[result.outcome] for result in results)
        counts["fetched"] = len(steps)
        with transaction.atomic():
            SyncRun.objects.filter(pk=run.pk).update(**{
                name: F(name) + value for name, value in counts.items()})
            RecordLog.write(results, direction=RecordLog.Direction.OUT,
                            sobject=self.action.sobject, run_id=run.pk,
                            action_id=self.action.pk)
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
    text = "; ".join(f"{e.get('message', '')}" + (f" (fields: {', '.join(e['fields'])})"
                                                   if e.get("fields") else "")
                     for e in errors)
    step.done(Outcome.FAILED, code=error_code(answer) or "FAILED",
              message=f"{step.op} refused: {text}", changed=sorted(step.values))


def _all_rows(client: SalesforceClient, soql: str) -> list[dict[str, Any]]:
    return [row for page in client.query_pages(soql) for row in page]
