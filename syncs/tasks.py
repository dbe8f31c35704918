"""django-q2 tasks of the pull side: run one sync, re-find due syncs, prune old logs.

Task functions are module-level and take primitive ids. The database is the queue of record:
`dispatch` runs every minute from a django-q2 Schedule and enqueues every due sync, so a
wake-up lost by the broker only delays a run; the claim in `run_sync` makes duplicates harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db.models import F, Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from logs.models import RecordLog
from syncs import conf
from syncs.models import Sync
from syncs.pull import run_sync

logger = logging.getLogger(__name__)

DISPATCH_SCHEDULE = "Forcebridge: dispatch due syncs"
PRUNE_SCHEDULE = "Forcebridge: prune record logs"
# A dispatched sync is not dispatched again for this long unless its run releases it first.
DISPATCH_LEASE = dt.timedelta(minutes=10)


def enqueue_run(sync_id: int, trigger: str = Sync.Trigger.SCHEDULE) -> str:
    return async_task("syncs.tasks.run_sync_task", sync_id, trigger,
                      task_name=f"sync {sync_id} ({trigger})")


def run_sync_task(sync_id: int, trigger: str = Sync.Trigger.SCHEDULE) -> dict[str, Any]:
    """The worker side of a wake-up: run the sync if nobody else is running it."""
    run = run_sync(sync_id, trigger=trigger)
    if run is None:
        return {"sync": sync_id, "ran": False}
    return {"sync": sync_id, "ran": True, "run": run.pk, "status": run.status,
            **{name: getattr(run, name) for name in run.COUNTERS}, "api_calls": run.api_calls}


def dispatch(now: dt.datetime | None = None) -> int:
    """Enqueue every due sync once; how many were enqueued.

    1. Enabled syncs never scheduled get their first due time (the start time, or now).
    2. Each due, unclaimed sync is leased with a conditional UPDATE (so two dispatchers do not
       both enqueue it) and a run task is enqueued.
    """
    now = now or timezone.now()
    Sync.objects.filter(enabled=True, next_run_at__isnull=True).filter(
        Q(start_at__isnull=True) | Q(start_at__lte=now)).update(next_run_at=now)
    Sync.objects.filter(enabled=True, next_run_at__isnull=True).update(next_run_at=F("start_at"))
    enqueued = 0
    for sync_id, due_at, requested in Sync.due(now).values_list("pk", "next_run_at",
                                                              "run_requested"):
        leased = Sync.objects.filter(pk=sync_id, next_run_at=due_at).update(
            next_run_at=now + DISPATCH_LEASE)
        if leased:
            enqueue_run(sync_id, requested or Sync.Trigger.SCHEDULE)
            enqueued += 1
    return enqueued


def prune_logs() -> int:
    deleted = RecordLog.prune()
    logger.info("pruned %d record logs", deleted)
    return deleted


def ensure_schedules(**kwargs: Any) -> None:
    """Create (or correct) the two periodic schedules; run after every migrate."""
    Schedule.objects.update_or_create(name=DISPATCH_SCHEDULE, defaults={
        "func": "syncs.tasks.dispatch", "schedule_type": Schedule.MINUTES,
        "minutes": max(1, conf.get("FORCEBRIDGE_DISPATCH_SECONDS") // 60), "repeats": -1})
    Schedule.objects.update_or_create(name=PRUNE_SCHEDULE, defaults={
        "func": "syncs.tasks.prune_logs", "schedule_type": Schedule.DAILY, "repeats": -1})
