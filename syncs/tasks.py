"""django-q2 tasks: run one sync or action, re-find due syncs and actions, prune old logs and runs.

Task functions are module-level and take primitive ids. The database is the queue of record:
`dispatch` runs every minute from a django-q2 Schedule and enqueues every due sync, so a
wake-up lost by the broker only delays a run; the claim in `run_sync` makes duplicates harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone
from django_q.models import Schedule

from logs.models import RecordLog, retention_days
from syncs import conf, queue
from syncs.actions import Action
from syncs.drain import connection_sources, mark_processed
from syncs.exchanges import FieldExchange
from syncs.models import Sync, SyncRun
from syncs.pull import run_sync
from syncs.push import run_action
from workspace.models import Change, InboundMessage

logger = logging.getLogger(__name__)

DISPATCH_SCHEDULE = "Forcebridge: dispatch due syncs"
PRUNE_SCHEDULE = "Forcebridge: prune record logs"


def run_sync_task(sync_id: int, trigger: str = queue.Trigger.SCHEDULE,
                  lease: dt.datetime | None = None) -> dict[str, Any]:
    """The worker side of a wake-up: run the sync if nobody else is running it and the
    wake-up's request or leased slot is still there (`queue.wanted`).

    An operator's request that finds the sync held does not simply wait for the next
    dispatcher pass: `queue.await_holder` watches the claim for a few heartbeats and, if its
    holder stopped, waits for the claim to expire, so "Sync now" after a crash starts as soon
    as it can (a live holder's release runs the request instead).
    """
    run = run_sync(sync_id, trigger=trigger, wanted=queue.wanted(lease))
    if run is None and trigger != queue.Trigger.SCHEDULE:
        sync = Sync.objects.filter(pk=sync_id).first()
        if sync is not None and sync.run_requested and queue.await_holder(sync):
            run = run_sync(sync_id, trigger=trigger, wanted=queue.wanted(lease))
    if run is None:
        return {"sync": sync_id, "ran": False}
    return {"sync": sync_id, "ran": True, "run": run.pk, "status": run.status,
            **{name: getattr(run, name) for name in run.COUNTERS}, "api_calls": run.api_calls}


def run_action_task(action_id: int, trigger: str = queue.Trigger.CHANGE,
                    lease: dt.datetime | None = None) -> dict[str, Any]:
    """The worker side of an action's wake-up: run it if nobody else is running it and the
    wake-up's request or leased slot is still there (a request made meanwhile stays queued:
    the holder's release enqueues it again)."""
    run = run_action(action_id, trigger=trigger, wanted=queue.wanted(lease))
    if run is None:
        return {"action": action_id, "ran": False}
    return {"action": action_id, "ran": True, "run": run.pk, "status": run.status,
            **{name: getattr(run, name) for name in run.COUNTERS}, "api_calls": run.api_calls}


def wake_actions(origin: str) -> int:
    """After hub changes from `origin` commit: ask every enabled action that may write them
    for a run (not those of the org the changes came from: no echo, unless limited by
    segments: the changes may move records in or out of them); how many were asked.

    The request is written only where none is pending, so a burst of commits enqueues one
    run per action; a change committed while an action runs is drained by the run its
    release enqueues.
    """
    actions = Action.objects.filter(enabled=True, run_requested="")
    if origin.startswith("sync:") and origin[5:].isdigit():
        # An action limited by segments is woken too: its drain passes the changes as
        # echoes; only its segments' entries and exits act.
        echoes = Action.objects.filter(connection__syncs__pk=int(origin[5:]),
                                       segments__isnull=True)
        actions = actions.exclude(pk__in=echoes.values("pk"))
    woken = 0
    for pk in actions.values_list("pk", flat=True):
        if Action.objects.filter(pk=pk, run_requested="").update(
                run_requested=queue.Trigger.CHANGE):
            queue.enqueue(Action, pk, queue.Trigger.CHANGE)
            woken += 1
    return woken


def dispatch(now: dt.datetime | None = None) -> int:
    """Enqueue every due sync and action once (syncs/queue.py `dispatch`), and every idle
    action with changes to write that no wake-up reached; how many were enqueued."""
    return queue.dispatch(Sync, now) + queue.dispatch(Action, now) + undrained_actions()


def undrained_actions() -> int:
    """The safety net of wake-ups: request a run of each enabled, idle action that has
    changes to write (and wake it again when its request has waited half a claim expiry: the
    broker lost the wake-up); move past changes that are only echoes of its own org (an
    action limited by segments runs for them instead: they may move its members); then
    mark what every action has passed as processed. No wake-up moves `next_run_at`: that is
    the reconcile schedule's."""
    woken = 0
    stale = timezone.now() - queue.claim_expiry() / 2
    for action in Action.objects.filter(enabled=True, claimed_at__isnull=True):
        pending = Change.objects.filter(processed_at__isnull=True, id__gt=action.outbox_position)
        last = pending.order_by("-id").values_list("id", flat=True).first()
        if last is None:
            continue
        # Its own org's changes may move records in or out of the segments it is limited by.
        own = {action.source} if action.segments.exists() else set()
        wanted = pending.exclude(origin__in=own or connection_sources(action) | {action.source})
        if not wanted.exists():
            Action.objects.filter(pk=action.pk, claimed_at__isnull=True,
                                  outbox_position=action.outbox_position).update(
                outbox_position=last)
        elif not action.run_requested:
            action.request_run(queue.Trigger.CHANGE)
            woken += 1
        elif action.run_requested == queue.Trigger.CHANGE and wanted.filter(
                created_at__lt=stale).exists():
            queue.enqueue(Action, action.pk, queue.Trigger.CHANGE)
            woken += 1
    mark_processed()
    return woken


def prune_logs() -> int:
    """Delete record logs, processed outbox rows and the inbound API's remembered messageIds
    older than the log retention, the exchanged fields of hub rows removed for good whose
    removal every action has passed, then runs older than the run retention (logs first: a
    run is kept while any of its logs is)."""
    deleted = RecordLog.prune()
    changes = Change.prune(days=retention_days())
    message_ids = InboundMessage.prune(days=retention_days())
    links = FieldExchange.prune()
    runs = SyncRun.prune()
    logger.info("pruned %d record logs, %d processed outbox rows, %d inbound messageIds, "
                "%d exchanged fields of removed hub rows and %d runs",
                deleted, changes, message_ids, links, runs)
    return deleted + changes + message_ids + links + runs


def ensure_schedules(**kwargs: Any) -> None:
    """Create (or correct) the two periodic schedules; run after every migrate."""
    Schedule.objects.update_or_create(name=DISPATCH_SCHEDULE, defaults={
        "func": "syncs.tasks.dispatch", "schedule_type": Schedule.MINUTES,
        "minutes": max(1, conf.get("FORCEBRIDGE_DISPATCH_SECONDS") // 60), "repeats": -1})
    Schedule.objects.update_or_create(name=PRUNE_SCHEDULE, defaults={
        "func": "syncs.tasks.prune_logs", "schedule_type": Schedule.DAILY, "repeats": -1})
