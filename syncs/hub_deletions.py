"""Hub records deleted for good, on their way to a delete action: the Salesforce id to delete.

A hub record marked deleted (`deleted_at`) is still read like any other, so its matchers find
its Salesforce record. One removed from the hub (a hard deletion) cannot be read any more,
and its source links went with it; two things still say which Salesforce record of the
action's object it was:
1. its link's exchanged fields (syncs/exchanges.py): every push (and every pull in a loop)
   keeps them, they have no foreign key to the hub, outlive the record logs, and are pruned
   only once every action has passed the removal; the record exchanged last is deleted;
2. else the record logs: the record it was last written to (by any action of this
   connection, of the action's object type for objects) or read from (by a sync of this
   connection), as long as they are kept.
With neither (never exchanged) the deletion is logged as skipped, naming why: nothing is
guessed. A link row does not say which object type its hub object was, so an objects action
trusts the links only when its type is the only one this connection exchanges with that
Salesforce object.

"Gone for good" is decided by existence, whatever the action's segments: a record that still
exists (outside the segments, of another object type, marked deleted) is not gone. An action
limited by segments deletes a gone record only if it was a member (its `ActionMember` row).
A Salesforce id that a source link now ties to a live hub row is never deleted: the hub
record was merged into that row (workspace/merge.py), not deleted.
"""

from __future__ import annotations

from django.db.models import Q

from logs.models import RecordLog
from syncs.actions import Action, ActionMember
from syncs.exchanges import ExchangeBook
from syncs.hub_records import HubRecords
from syncs.models import Sync
from syncs.planner import Step
from workspace.items import Outcome
from workspace.models import SourceRecord

# The outcomes whose log names a Salesforce record that existed.
EXISTED = (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)


def deleted_for_good(action: Action, hub: HubRecords, ids: list[int]) -> list[Step]:
    """A delete step for each hub id deleted in the hub that no longer exists, or a skipped
    one when no Salesforce id of it is known (or it is now another hub row's)."""
    ids = list(dict.fromkeys(ids))
    existing = set(hub.model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    ids = [pk for pk in ids if pk not in existing]
    if ids and hub.limited:
        members = set(ActionMember.objects.filter(action_id=action.pk, entity_id__in=ids)
                      .values_list("entity_id", flat=True))
        ids = [pk for pk in ids if pk in members]
    refs = [f"{hub.kind}:{pk}" for pk in ids]
    if not refs:
        return []
    known: dict[str, str] = {}
    for ref, record_id in _logs(action, refs).order_by("id").values_list("hub_ref",
                                                                          "record_id"):
        known[ref] = record_id  # the latest wins
    known.update(_links(action, hub.kind, ids))
    merged = set(SourceRecord.objects.filter(record_id__in=set(known.values())).filter(
        Q(person__isnull=False) | Q(object__isnull=False)).values_list("record_id", flat=True))
    steps = []
    for ref in refs:
        step = Step(ref, {}, {})
        if known.get(ref) in merged:
            step.done(Outcome.SKIPPED, code="MERGED", message=(
                f"removed from the hub, but {action.sobject} {known[ref]} now belongs to "
                "another hub record (the two were merged), so nothing was deleted"))
        elif ref in known:
            step.sf_id, step.op = known[ref], "delete"
        else:
            step.done(Outcome.SKIPPED, code="NO_SALESFORCE_ID", message=(
                f"deleted from the hub; no {action.sobject} record of it is known to this "
                "connection (never written or read, or only by a Forcebridge that kept no "
                "links, and those logs were pruned), so nothing was deleted"))
        steps.append(step)
    return steps


def _links(action: Action, kind: str, ids: list[int]) -> dict[str, str]:
    """The record of the action's object each hub row last exchanged a field with, by
    reference; none for objects when another object type exchanges that object too."""
    if action.entity == Action.Entity.OBJECTS and _shared(action):
        return {}
    book = ExchangeBook(action.connection_id, action.sobject, RecordLog.Direction.OUT)
    latest: dict[int, tuple] = {}
    for link in book.by_hub(kind, ids):
        pk = link.known.hub_id
        if link.sobject == action.sobject and (pk not in latest or link.at > latest[pk][0]):
            latest[pk] = (link.at, link.known.record_id)
    return {f"{kind}:{pk}": record_id for pk, (_, record_id) in latest.items()}


def _shared(action: Action) -> bool:
    """Whether a sync or an action of this connection exchanges the action's object with hub
    objects of another type."""
    other = {"connection_id": action.connection_id, "sobject": action.sobject}
    return Sync.objects.filter(**other).exclude(object_type_id=action.object_type_id).exists() \
        or Action.objects.filter(**other, entity=Action.Entity.OBJECTS).exclude(
            object_type_id=action.object_type_id).exists()


def _logs(action: Action, refs: list[str]):
    """The logs naming a Salesforce record of the action's object for these references."""
    ours = Q(action__connection_id=action.connection_id)
    pulled = Q(sync__connection_id=action.connection_id)
    if action.entity == Action.Entity.OBJECTS:
        ours &= Q(action__object_type_id=action.object_type_id)
        pulled &= Q(sync__object_type_id=action.object_type_id)
    return RecordLog.objects.filter(ours | pulled, hub_ref__in=refs, sobject=action.sobject,
                                    outcome__in=EXISTED).exclude(record_id="")
