"""How far a sync's run has gone, as its page shows it while it runs and once it ended.

A run's counters are written with each page it applies (syncs/applier.py), so reading the run
row is all it takes: done = records read so far, total = what a run reading everything
counted first (`SyncRun.total`; unknown for incremental runs), rate = done / time since start,
ETA = what is left at that rate. `active` says whether the page should keep polling: a run
holds the sync, or an operator's request waits for one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from syncs import queue
from syncs.models import Sync, SyncRun
from syncs.queue import Status


@dataclass(frozen=True)
class Progress:
    """What the progress partial shows for one sync."""

    state: str  # idle, starting, running, stopped, or the last run's status once it ended
    run: SyncRun | None
    waiting: str  # what a queued request waits for ("" when none)
    done: int
    total: int | None
    rate: float  # records per second
    eta: dt.timedelta | None

    @property
    def active(self) -> bool:
        """Whether the page keeps polling (the partial answers 286 once this is False)."""
        return self.state in ("starting", "running")

    @property
    def eta_text(self) -> str:
        """The ETA as people say it: "45 s", "3 min 20 s", "2 h 5 min" ("" when unknown)."""
        if self.eta is None:
            return ""
        seconds = int(self.eta.total_seconds())
        if seconds < 60:
            return f"{seconds} s"
        if seconds < 3600:
            return f"{seconds // 60} min {seconds % 60} s"
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"

    @property
    def percent(self) -> int | None:
        if self.state == Status.SUCCEEDED:
            return 100
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)


def progress_of(sync: Sync, now: dt.datetime | None = None) -> Progress:
    """The sync's current (or last) run as a progress report.

    1. A live claim whose run is the sync's last one: running.
    2. A request not yet answered, or a claim whose run has not started yet: starting.
    3. A run still open without a live claim: its worker stopped.
    4. Otherwise the last run as it ended (or idle when there is none).
    """
    now = now or timezone.now()
    run = SyncRun.objects.filter(pk=sync.last_run_id).first() if sync.last_run_id else None
    held = queue.claim_live(sync, now)
    waiting = queue.waiting_for(sync, now) if sync.run_requested else ""
    if held and run is not None and run.status == Status.RUNNING:
        state = "running"
    elif sync.run_requested or held:
        state = "starting"
    elif run is not None and run.status == Status.RUNNING:
        state = "stopped"  # its worker stopped; whoever takes the expired claim closes it
    else:
        state = run.status if run is not None else "idle"
    if state == "starting" or run is None:
        return Progress(state, None if state == "starting" else run, waiting, 0, None, 0.0, None)
    end = run.finished_at or now
    seconds = max((end - run.started_at).total_seconds(), 0.001)
    rate = run.fetched / seconds
    eta = None
    if state == "running" and run.total and rate > 0:
        eta = dt.timedelta(seconds=round(max(run.total - run.fetched, 0) / rate))
    return Progress(state, run, waiting, run.fetched, run.total, rate, eta)
