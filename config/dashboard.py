"""The dashboard: what is healthy and what is failing, on one page, from the small tables only.

It reads connections, runnable rows (syncs; actions are one more `Kind`) and their runs of the
last 14 days, never the record logs, so it stays fast however many logs there are:
1. connections with their status and today's API usage against the budget;
2. each runnable with its last run, next run, status and what its runs moved in 24 h;
3. a chart of runs and records per day (config/charts.py draws it as SVG);
Failing items come first and link to their error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from config.charts import DayBar, bar_chart
from connections.models import Connection
from syncs import queue
from syncs.actions import Action
from syncs.models import Sync, SyncRun
from syncs.queue import Runnable, Status

CHART_DAYS = 14
MOVED = F("created") + F("updated") + F("deleted")
CONNECTION_FAILING = {Connection.Status.ERROR, Connection.Status.NEEDS_REAUTH}


@dataclass(frozen=True)
class Kind:
    """One kind of runnable row shown on the dashboard: its model, the `SyncRun` foreign key
    naming its runs, and its admin pages (`admin:<app>_<model>_...`)."""

    model: type[Runnable]
    run_owner: str
    label: str

    def page(self, pk: int) -> str:
        meta = self.model._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])


KINDS = [Kind(Sync, "sync", "Sync"), Kind(Action, "action", "Action")]


@dataclass
class Row:
    """One sync (or action) as the dashboard shows it."""

    kind: Kind
    item: Runnable
    state: str  # failed, stopped, deferred, running, queued, succeeded, never, disabled
    moved: int
    failed: int
    runs: int

    @property
    def failing(self) -> bool:
        return self.state in ("failed", "stopped", "deferred")

    @property
    def url(self) -> str:
        return self.kind.page(self.item.pk)

    @property
    def error_url(self) -> str:
        """The run that failed, or the sync page's error when no run is known."""
        if self.item.last_run_id:
            return reverse("admin:syncs_syncrun_change", args=[self.item.last_run_id])
        return self.url + f"#{self.kind.model._meta.model_name}-last-error"


def runnable_state(item: Runnable, now: dt.datetime) -> str:
    """How one runnable is doing, in one word the page colours."""
    if item.last_status == Status.RUNNING:
        return "running" if queue.claim_live(item, now) else "stopped"
    if item.run_requested:
        return "queued"
    if not item.enabled:
        return "disabled"
    return item.last_status or "never"


def runnable_rows(now: dt.datetime) -> list[Row]:
    """Every sync (and action) with its 24 h totals; failing first, then by name."""
    since = now - dt.timedelta(hours=24)
    rows = []
    for kind in KINDS:
        totals = {
            values[kind.run_owner]: values for values in SyncRun.objects.filter(
                started_at__gte=since, **{f"{kind.run_owner}__isnull": False})
            .values(kind.run_owner).annotate(moved=Sum(MOVED), failed_records=Sum("failed"),
                                             runs=Count("pk"))}
        for item in kind.model.objects.all():
            total = totals.get(item.pk, {})
            rows.append(Row(kind, item, runnable_state(item, now), total.get("moved") or 0,
                            total.get("failed_records") or 0, total.get("runs") or 0))
    rows.sort(key=lambda row: (not row.failing, row.item.name.lower()))
    return rows


def connection_rows() -> list[Connection]:
    """Connections, those in error or needing re-authorization first."""
    connections = list(Connection.objects.all())
    connections.sort(key=lambda c: (c.status not in CONNECTION_FAILING, c.name.lower()))
    return connections


def daily_bars(now: dt.datetime, days: int = CHART_DAYS) -> list[DayBar]:
    """Runs (succeeded / failed) and records moved per day, oldest first, empty days included."""
    today = timezone.localdate(now)
    first = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time()))
    per_day = {
        row["day"]: row for row in SyncRun.objects.filter(started_at__gte=start)
        .annotate(day=TruncDate("started_at")).values("day")
        .annotate(runs=Count("pk"),
                  failed_runs=Count("pk", filter=Q(status__in=[Status.FAILED, Status.DEFERRED])),
                  moved=Sum(MOVED))}
    bars = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        row = per_day.get(day, {})
        bars.append(DayBar(day, row.get("runs", 0), row.get("failed_runs", 0),
                           row.get("moved") or 0))
    return bars


def dashboard_context(now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    rows = runnable_rows(now)
    connections = connection_rows()
    bars = daily_bars(now)
    return {
        "connections": connections,
        "rows": rows,
        "failing": sum(row.failing for row in rows)
        + sum(c.status in CONNECTION_FAILING for c in connections),
        "chart": bar_chart(bars),
        "chart_days": CHART_DAYS,
        "runs_total": sum(bar.runs for bar in bars),
        "moved_total": sum(bar.moved for bar in bars),
        "now": now,
    }


def dashboard(request: HttpRequest) -> TemplateResponse:
    """The admin page (wrapped by `admin_site.admin_view` in config/urls.py)."""
    context = {**admin.site.each_context(request), "title": "Dashboard",
               **dashboard_context()}
    return TemplateResponse(request, "admin/forcebridge/dashboard.html", context)
