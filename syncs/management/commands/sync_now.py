"""`manage.py sync_now NAME|ID [--full] [--wait]`: run one sync now, in this process, and report
the run. A sync another worker holds is queued (never dropped); `--wait` waits for its run."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils import timezone

from syncs import queue
from syncs.models import Sync, SyncRun
from syncs.pull import run_sync

# Seconds between looks at a queued sync while `--wait` waits.
WAIT_POLL = 2.0


def find_sync(name_or_id: str) -> Sync:
    """The sync with this id or name: exact, then the one sync whose name starts with (or else
    contains) the words given, ignoring case."""
    if name_or_id.isdigit():
        sync = Sync.objects.filter(pk=int(name_or_id)).first()
        if sync is not None:
            return sync
    exact = Sync.objects.filter(name=name_or_id).first()
    if exact is not None:
        return exact
    for lookup in ("iexact", "istartswith", "icontains"):
        matches = list(Sync.objects.filter(**{f"name__{lookup}": name_or_id})[:10])
        if matches:
            break
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(repr(s) for s in Sync.objects.values_list("name", flat=True)[:20])
        raise CommandError(f"No sync named or numbered {name_or_id!r}. Syncs: {known or 'none'}.")
    names = ", ".join(f"{s.name!r} (id {s.pk})" for s in matches[:10])
    raise CommandError(f"{name_or_id!r} matches several syncs: {names}. Give the id or the "
                       "full name.")


def run_and_report(sync: Sync, out: OutputWrapper, *, trigger: str, full: bool = False,
                   wait: float | None = None) -> SyncRun:
    """Run the sync synchronously, print the run's summary; CommandError unless it succeeded.

    1. Try to run it here. If another worker holds it, the request is queued, never dropped.
    2. Without `wait`, say what the request waits for and stop (CommandError).
    3. With `wait` seconds, look every few seconds: report the first run that started after the
       request, or run it here once the claim is free.
    """
    if not sync.enabled:
        raise CommandError(f"Sync {sync.name!r} is disabled; enable it first.")
    asked_at = timezone.now()
    run = run_sync(sync.pk, trigger=trigger, full=full)
    if run is None:
        if full or trigger == Sync.Trigger.RESYNC:
            sync.resync()
        else:
            sync.request_run(trigger)
        sync.refresh_from_db()
        why = queue.waiting_for(sync) or "queued: starts within seconds"
        out.write(f"Sync {sync.name!r} is held by another worker; {why}.")
        if wait is None:
            raise CommandError(f"Sync {sync.name!r} did not run here ({why}); pass --wait to "
                               "wait for its run.")
        run = _wait_for_run(sync, asked_at, wait, trigger=trigger, full=full)
    out.write(summary(run))
    if run.status != SyncRun.Status.SUCCEEDED:
        raise CommandError(f"Run {run.pk} of {sync.name!r} {run.get_status_display().lower()}: "
                           f"{run.error or 'no reason recorded'}")
    return run


def _wait_for_run(sync: Sync, asked_at: Any, wait: float, *, trigger: str,
                  full: bool) -> SyncRun:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        done = sync.runs.filter(started_at__gte=asked_at).exclude(
            status=SyncRun.Status.RUNNING).order_by("started_at").first()
        if done is not None:
            return done
        # Only while the request is still there: a worker's run may have taken it since.
        run = run_sync(sync.pk, trigger=trigger, full=full, wanted=queue.wanted(None))
        if run is not None:
            return run
        time.sleep(WAIT_POLL)
    raise CommandError(f"Sync {sync.name!r}: no run finished within {wait:.0f} s.")


def summary(run: SyncRun) -> str:
    counts = ", ".join(f"{name} {getattr(run, name)}" for name in SyncRun.COUNTERS)
    seconds = f"{run.duration.total_seconds():.1f} s" if run.duration else "?"
    return (f"Run {run.pk} of {run.owner.name!r} ({run.trigger}, {run.mode or '?'}): "
            f"{run.status} in {seconds}; {counts}; API calls {run.api_calls}.")


class Command(BaseCommand):
    help = "Run a sync now (in this process) and print what the run did."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("sync", help="the sync's name or id")
        parser.add_argument("--full", action="store_true",
                            help="read every record again instead of only what changed")
        parser.add_argument("--wait", nargs="?", type=float, const=3600.0, default=None,
                            metavar="SECONDS",
                            help="if another worker holds the sync, wait for the queued run "
                            "(up to SECONDS, default 3600) and report it")

    def handle(self, *args: Any, **options: Any) -> None:
        sync = find_sync(options["sync"])
        run_and_report(sync, self.stdout, trigger=Sync.Trigger.MANUAL, full=options["full"],
                       wait=options["wait"])
