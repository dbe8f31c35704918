"""django-q2 tasks of the pull side: run one sync, re-find due syncs, prune old logs.

Task functions are module-level and take primitive ids. The database is the queue of record:
`dispatch` runs every minute from a django-q2 Schedule and enqueues every due sync, so a
wake-up lost by the broker only delays a run; the claim in `run_sync` makes duplicates harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django_q.models import Schedule

from logs.models import RecordLog, retention_days
from syncs import conf, queue
from syncs.models import Sync
from syncs.pull import run_sync
from workspace.models import Change

logger = logging.getLogger(__name__)

DISPATCH_SCHEDULE = "Forcebridge: dispatch due syncs"
PRUNE_SCHEDULE = "Forcebridge: prune record logs"


def run_sync_task(sync_id: int, trigger: str = queue.Trigger.SCHEDULE) -> dict[str, Any]:
    """The worker side of a wake-up: run the sync if nobody else is running it.

    An operator's request that finds the sync held does not simply wait for the next
    dispatcher pass: `queue.await_holder` watches the claim for a few heartbeats and, if its
    holder stopped, waits for the claim to expire, so "Sync now" after a crash starts as soon
    as it can (a live holder's release runs the request instead).
    """
    run = run_sync(sync_id, trigger=trigger)
    if run is None and trigger != queue.Trigger.SCHEDULE:
        sync = Sync.objects.filter(pk=sync_id).first()
        if sync is not None and sync.run_requested and queue.await_holder(sync):
            run = run_sync(sync_id, trigger=trigger)
    if run is None:
        return {"sync": sync_id, "ran": False}
    return {"sync": sync_id, "ran": True, "run": run.pk, "status": run.status,
            **{name: getattr(run, name) for name in run.COUNTERS}, "api_calls": run.api_calls}


def dispatch(now: dt.datetime | None = None) -> int:
    """Enqueue every due sync once (syncs/queue.py `dispatch`); how many were enqueued."""
    return queue.dispatch(Sync, now)


def prune_logs() -> int:
    """Delete record logs and processed outbox rows older than the log retention."""
    deleted = RecordLog.prune()
    changes = Change.prune(days=retention_days())
    logger.info("pruned %d record logs and %d processed outbox rows", deleted, changes)
    return deleted + changes


def ensure_schedules(**kwargs: Any) -> None:
    """Create (or correct) the two periodic schedules; run after every migrate."""
    Schedule.objects.update_or_create(name=DISPATCH_SCHEDULE, defaults={
        "func": "syncs.tasks.dispatch", "schedule_type": Schedule.MINUTES,
        "minutes": max(1, conf.get("FORCEBRIDGE_DISPATCH_SECONDS") // 60), "repeats": -1})
    Schedule.objects.update_or_create(name=PRUNE_SCHEDULE, defaults={
        "func": "syncs.tasks.prune_logs", "schedule_type": Schedule.DAILY, "repeats": -1})
