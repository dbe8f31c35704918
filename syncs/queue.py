"""The run queue: when a runnable row (a sync; an action next) is due, and who runs it.

A runnable row is its own queue entry, and the database is the queue of record; the broker only
carries wake-ups. The rules this module keeps:
1. A run starts by claiming its row: a conditional UPDATE that must touch exactly one row and
   writes a fresh token. Every later write of the run is conditional on that token.
2. A live run renews its claim (the heartbeat, `claimed_at`) with every page and at least every
   `HEARTBEAT` seconds while it waits. A claim not renewed for the claim expiry belongs to a
   worker that stopped: whoever takes it (or the dispatcher's `reap`) closes the runs it left
   open, so no run shows "running" once its claim is gone.
3. "Sync now" and "Resync" are remembered in `run_requested` and never dropped: a request made
   while the row is held runs as soon as the claim is released or expires, and one made of a
   disabled row (the initial import's one-off runs) runs once.
4. Releasing gives the claim back with the next due time, whatever happened to the run. A
   run that was not the scheduled one (an action draining hub changes) keeps the schedule's
   slot: changes wake an action through `run_requested` alone, never through `next_run_at`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from django.db import OperationalError, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from syncs import conf, schedule

logger = logging.getLogger(__name__)

# Seconds between heartbeats while a run waits (pages renew the claim anyway).
HEARTBEAT = 10
# Closing a run retries a locked database this many times, doubling the wait from 0.5 s.
CLOSE_ATTEMPTS = 6


class Trigger(models.TextChoices):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    RESYNC = "resync"
    RETRY = "retry", "retry failed records"
    CHANGE = "change", "Hub change"  # an action woken by changes in the hub's outbox


class Status(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEFERRED = "deferred", "Deferred (API quota)"


class LostClaim(Exception):
    """Another worker took the row over (our claim expired): stop without writing."""


class Runnable(models.Model):
    """The queue's columns and schedule, shared by every kind of runnable row.

    A subclass names the dotted task that runs one of its rows (`TASK`), and its runs are
    `row.runs` with `status`, `error`, `started_at` and `finished_at`.
    """

    TASK: ClassVar[str]
    Trigger = Trigger

    enabled = models.BooleanField(default=True)
    schedule_kind = models.CharField("schedule", max_length=8, choices=schedule.CHOICES,
                                     default=schedule.HOURLY)
    every_minutes = models.PositiveIntegerField(default=15)
    cron = models.CharField("cron expression", max_length=100, blank=True)
    start_at = models.DateTimeField("start time", null=True, blank=True)

    # The queue: due time, an operator's request, and who holds the row (last renewal, token).
    next_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    run_requested = models.CharField(max_length=8, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    claim_token = models.CharField(max_length=36, blank=True, editable=False)

    # The latest run, copied here so lists need no join.
    last_status = models.CharField(max_length=10, blank=True, editable=False)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_run_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def schedule_next(self, after: dt.datetime | None = None) -> dt.datetime:
        return schedule.next_run(self.schedule_kind, after=after or timezone.now(),
                                 start=self.start_at, every_minutes=self.every_minutes,
                                 cron=self.cron)

    def request_run(self, trigger: str = Trigger.MANUAL, **fields: Any) -> None:
        """Mark the row due now and wake a worker once the request is committed (`fields` are
        written with the request, e.g. a resync's flag). A CHANGE request (hub changes to
        drain) leaves `next_run_at`, the schedule's slot, alone."""
        with transaction.atomic():
            values: dict[str, Any] = {"run_requested": trigger, **fields}
            if trigger != Trigger.CHANGE:
                values["next_run_at"] = timezone.now()
            type(self).objects.filter(pk=self.pk).update(**values)
            for name, value in values.items():
                setattr(self, name, value)
            transaction.on_commit(lambda: enqueue(type(self), self.pk, trigger))

    def claim_expires_at(self) -> dt.datetime | None:
        """When a claim held now expires if its holder does not renew it (None: not held)."""
        return self.claimed_at + claim_expiry() if self.claimed_at else None


def await_holder(row: Runnable, *, poll: float = 1.0) -> bool:
    """Wait while another worker holds `row`; True once it may be claimed.

    1. Watch the claim for three heartbeats: released → True; renewed → its run is alive, and
       its release wakes a worker for any request made meanwhile → False.
    2. Not renewed: its worker stopped; sleep until the claim expires → True.
    """
    model = type(row)
    seen = model.objects.filter(pk=row.pk).values_list("claimed_at", flat=True).first()
    deadline = time.monotonic() + 3 * HEARTBEAT
    while time.monotonic() < deadline:
        if seen is None:
            return True
        time.sleep(poll)
        now = model.objects.filter(pk=row.pk).values_list("claimed_at", flat=True).first()
        if now != seen:
            return now is None
    wait = (seen + claim_expiry() - timezone.now()).total_seconds()
    time.sleep(max(0.0, wait) + poll)
    return True


def waiting_for(row: Runnable, now: dt.datetime | None = None) -> str:
    """What a request made now waits for ("" when the row is free and starts within seconds)."""
    now = now or timezone.now()
    if not claim_live(row, now):
        return ""
    # A live run renews its claim every `HEARTBEAT` seconds at most: three missed, it stopped.
    if now - row.claimed_at > dt.timedelta(seconds=3 * HEARTBEAT):
        expires = row.claim_expires_at()
        return (f"queued: starts when the stopped worker's claim expires at "
                f"{expires.astimezone(dt.UTC):%H:%M:%S} UTC")
    return "queued: starts when the current run ends"


def claim_live(row: Runnable, now: dt.datetime | None = None) -> bool:
    """Whether a worker holds the row and renewed its claim within the claim expiry."""
    expires = row.claim_expires_at()
    return expires is not None and expires > (now or timezone.now())


def claim_expiry() -> dt.timedelta:
    return dt.timedelta(seconds=conf.get("FORCEBRIDGE_SYNC_CLAIM_TIMEOUT"))


def claimable(now: dt.datetime) -> Q:
    """Rows no live worker holds: never claimed, released, or expired."""
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_expiry())


def enqueue(model: type[Runnable], pk: int, trigger: str = Trigger.SCHEDULE,
            lease: dt.datetime | None = None) -> str:
    """Wake a worker for `pk`: a request's wake-up, or the dispatcher's for the due slot it
    leased (`lease`, the `next_run_at` it wrote). See `wanted`. A request's wake-up carries
    no lease, so a worker of the previous version still takes it during a rolling upgrade
    (a scheduled wake-up it queued, without a lease, claims nothing here: the dispatcher
    sends the slot again one lease later)."""
    leased = () if lease is None else (lease,)
    return async_task(model.TASK, pk, trigger, *leased,
                      task_name=f"{model._meta.model_name} {pk} ({trigger})")


def wanted(lease: dt.datetime | None) -> Q:
    """What a wake-up still finds to do when a worker takes it: a request not yet taken, or
    the due slot the dispatcher leased for it. A duplicate wake-up (a request's and the
    dispatcher's for the same run, or a lease sent again while the first wake-up waited for a
    busy worker) finds neither once a run answered it, and claims nothing: no second run."""
    requested = ~Q(run_requested="")
    return requested | Q(next_run_at=lease) if lease is not None else requested


class Claim:
    """One run's hold on its row: renew it, close the run, release it."""

    def __init__(self, row: Runnable, token: str) -> None:
        self.row = row
        self.token = token
        self.renewed = time.monotonic()

    @property
    def held(self) -> models.QuerySet:
        return type(self.row).objects.filter(pk=self.row.pk, claim_token=self.token)

    def take_request(self) -> str:
        """The operator's request that this run answers ("" if none), cleared."""
        requested = self.row.run_requested
        if requested:
            # Only the request read: one made since (while we held the row) stays queued.
            self.held.filter(run_requested=requested).update(run_requested="")
        self.row.run_requested = ""
        return requested

    def renew(self, **values: Any) -> None:
        """Write `values` and the heartbeat while the claim is ours, else raise LostClaim.

        Inside a page's transaction this is what rolls the page back when the claim was lost.
        """
        if not self.held.update(claimed_at=timezone.now(), **values):
            raise LostClaim(f"{self.row._meta.verbose_name} {self.row.pk} was claimed by "
                            "another worker")
        self.renewed = time.monotonic()

    def beat(self) -> None:
        """A heartbeat while the run waits: renew at most every `HEARTBEAT` seconds."""
        if time.monotonic() - self.renewed >= HEARTBEAT:
            self.renew()

    def start(self, run: models.Model) -> None:
        self.renew(last_status=Status.RUNNING, last_run_at=run.started_at, last_run_id=run.pk)

    def close(self, run: Any, status: str, error: str, *, api_calls: int) -> None:
        """Close the run (its counts as the pages saved them) and copy its status onto the row
        (unless the claim was lost: the row's status then belongs to its new holder). Retries
        a locked database with back-off."""
        _retry_locked(lambda: _close(self, run, status, error, api_calls))

    def release(self, *, deferred: bool = False, scheduled: bool = True) -> None:
        """Give the claim back with the next due time: now if asked again meanwhile (hub
        changes excepted: they only wake a worker), the quota retry if deferred, the slot it
        had if this run was not the scheduled one (`scheduled` False: a change drain), else
        the schedule's next slot (none while disabled)."""
        row = self.row
        fresh = type(row).objects.filter(pk=row.pk).values(
            "run_requested", "enabled", "next_run_at").first()
        if fresh is None:
            return
        stop: dict[str, Any] = {}
        if fresh["run_requested"] and fresh["run_requested"] != Trigger.CHANGE:
            next_at = timezone.now()
        elif deferred:
            next_at = timezone.now() + dt.timedelta(
                minutes=conf.get("FORCEBRIDGE_QUOTA_RETRY_MINUTES"))
        elif not fresh["enabled"]:
            next_at = None
        elif not scheduled and fresh["next_run_at"] is not None:
            next_at = fresh["next_run_at"]
        else:
            try:
                next_at = row.schedule_next()
            except schedule.Unschedulable as error:
                # A schedule stored before validation: stop it with its reason, never stick.
                next_at, stop = None, {"enabled": False, "last_status": Status.FAILED,
                                       "last_error": f"Disabled: its schedule cannot run "
                                                     f"({error}). Fix the schedule and enable "
                                                     "it again."}
        released = _retry_locked(lambda: self.held.update(
            claimed_at=None, claim_token="", next_run_at=next_at, **stop))
        if released and fresh["run_requested"]:
            # Asked again while we ran: wake a worker now rather than at the next dispatch.
            enqueue(type(row), row.pk, fresh["run_requested"])


def _close(claim: Claim, run: Any, status: str, error: str, api_calls: int) -> None:
    with transaction.atomic():
        run.refresh_from_db()
        run.status, run.error, run.finished_at = status, error, timezone.now()
        run.api_calls = api_calls
        run.save(update_fields=["status", "error", "finished_at", "api_calls"])
        claim.held.update(last_status=run.status, last_run_at=run.started_at,
                          last_error=run.error, last_run_id=run.pk)


def _retry_locked(step: Callable[[], Any]) -> Any:
    delay = 0.5
    for attempt in range(CLOSE_ATTEMPTS):
        try:
            return step()
        except OperationalError as error:
            if attempt == CLOSE_ATTEMPTS - 1:
                raise
            logger.warning("database busy while closing a run (%s); retrying in %.1f s",
                           error, delay)
            time.sleep(delay)
            delay *= 2
    return None


def claim(row: Runnable, wanted: Q | None = None) -> Claim | None:
    """Take `row` for one run, or None if a live worker holds it (or, for a wake-up, if it
    no longer matches `wanted`: nothing left to do).

    1. A conditional UPDATE takes the row if it is free or its claim expired.
    2. An expired claim's runs left open are closed as stopped.
    """
    now = timezone.now()
    token = str(uuid.uuid4())
    model = type(row)
    previous = model.objects.filter(pk=row.pk).values_list("claimed_at", flat=True).first()
    free = model.objects.filter(claimable(now), pk=row.pk)
    if wanted is not None:
        free = free.filter(wanted)
    taken = free.update(claimed_at=now, claim_token=token)
    if taken != 1:
        return None
    row.refresh_from_db()
    if row.claim_token != token:
        return None
    if previous is not None:
        close_abandoned(row, previous)
    return Claim(row, token)


def close_abandoned(row: Runnable, last_beat: dt.datetime) -> int:
    """Close the runs a stopped worker left open; how many."""
    message = (f"the worker stopped during this run (last heartbeat "
               f"{last_beat.astimezone(dt.UTC):%H:%M:%S} UTC)")
    now = timezone.now()
    open_runs = row.runs.filter(status=Status.RUNNING, started_at__lte=now)
    closed = list(open_runs.values_list("pk", flat=True))
    if not closed:
        return 0
    row.runs.filter(pk__in=closed).update(status=Status.FAILED, error=message, finished_at=now)
    type(row).objects.filter(pk=row.pk, last_run_id__in=closed).update(
        last_status=Status.FAILED, last_error=message)
    logger.warning("%s %s: closed %d run(s) left open by a stopped worker",
                   row._meta.verbose_name, row.pk, len(closed))
    return len(closed)


def reap(model: type[Runnable], now: dt.datetime | None = None) -> int:
    """Free every row whose claim expired and close its runs; how many were freed."""
    now = now or timezone.now()
    freed = 0
    expired = model.objects.filter(claimed_at__lt=now - claim_expiry())
    for row in expired.only("pk", "claimed_at", "claim_token"):
        if model.objects.filter(pk=row.pk, claim_token=row.claim_token).update(
                claimed_at=None, claim_token=""):
            close_abandoned(row, row.claimed_at)
            freed += 1
    return freed


def due(model: type[Runnable], now: dt.datetime | None = None) -> models.QuerySet:
    now = now or timezone.now()
    # A run requested of a disabled row runs once (the initial import's one-off runs).
    return model.objects.filter(claimable(now), Q(enabled=True) | ~Q(run_requested=""),
                                next_run_at__lte=now)


def dispatch(model: type[Runnable], now: dt.datetime | None = None) -> int:
    """Enqueue every due row once; how many were enqueued.

    1. Expired claims are freed and their runs closed (`reap`).
    2. Enabled rows never scheduled get their first due time (the start time, or now).
    3. Each due, unclaimed row is leased with a conditional UPDATE (so two dispatchers do not
       both enqueue it) and a run task is enqueued. The lease lasts half a claim expiry: a
       wake-up the broker lost (a flushed Redis keeps no receipts) is sent again that soon,
       and a duplicate finds the row claimed, or answered (`wanted`).
    """
    now = now or timezone.now()
    reap(model, now)
    unscheduled = model.objects.filter(enabled=True, next_run_at__isnull=True)
    unscheduled.filter(Q(start_at__isnull=True) | Q(start_at__lte=now)).update(next_run_at=now)
    unscheduled.update(next_run_at=F("start_at"))
    enqueued = 0
    for pk, due_at, requested in due(model, now).values_list("pk", "next_run_at",
                                                             "run_requested"):
        lease = now + claim_expiry() / 2
        if model.objects.filter(pk=pk, next_run_at=due_at).update(next_run_at=lease):
            # Pending hub changes do not make a due row's run a mere drain: a scheduled run
            # covers them.
            enqueue(model, pk, requested if requested not in ("", Trigger.CHANGE)
                    else Trigger.SCHEDULE, lease)
            enqueued += 1
    return enqueued
