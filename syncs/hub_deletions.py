"""Hub records deleted for good, on their way to a delete action: the Salesforce id to delete.

A hub record marked deleted (`deleted_at`) is still read like any other, so its matchers find
its Salesforce record. One removed from the hub (a hard deletion) cannot be read any more: the
record logs say which Salesforce record of the action's object it was last written to (by any
action of this connection) or read from (by a sync of this connection), and that one is
deleted by its Id. With no such log (never exchanged, or its logs pruned) the deletion is
logged as skipped, naming why: nothing is guessed.
"""

from __future__ import annotations

from django.db.models import Q

from logs.models import RecordLog
from syncs.actions import Action
from syncs.planner import Step
from workspace.items import Outcome

# The outcomes whose log names a Salesforce record that existed.
EXISTED = (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)


def deleted_for_good(action: Action, kind: str, ids: list[int], read: set[str]) -> list[Step]:
    """A delete step for each hub id deleted in the hub that could not be read (`read`: the
    references that were), or a skipped one when no Salesforce id of it is known."""
    refs = [f"{kind}:{pk}" for pk in dict.fromkeys(ids) if f"{kind}:{pk}" not in read]
    if not refs:
        return []
    known: dict[str, str] = {}
    logs = RecordLog.objects.filter(
        Q(action__connection_id=action.connection_id) | Q(sync__connection_id=action.connection_id),
        hub_ref__in=refs, sobject=action.sobject, outcome__in=EXISTED).exclude(record_id="")
    for ref, record_id in logs.order_by("id").values_list("hub_ref", "record_id"):
        known[ref] = record_id  # the latest wins
    steps = []
    for ref in refs:
        step = Step(ref, {}, {})
        if ref in known:
            step.sf_id, step.op = known[ref], "delete"
        else:
            step.done(Outcome.SKIPPED, code="NO_SALESFORCE_ID", message=(
                f"deleted from the hub; no {action.sobject} record of it is known to this "
                "connection's record logs (never written or read, or the logs were pruned), "
                "so nothing was deleted"))
        steps.append(step)
    return steps
