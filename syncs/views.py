"""The pages of a runnable row (a sync or an action) beyond its change form: the run panel
(status, live progress, the two buttons), the progress partial, the run history, "Retry
failed records" of a run, and the connection page's "Initial import" button.

Admin pages hung off SyncAdmin and ActionAdmin (syncs/admin.py `get_urls`), one view per page
for both kinds: a `Panel` says what differs (labels, element ids, URL names). The progress
partial is polled by static/forcebridge/progress.js every second while a run is active; it
answers HTTP 286 once the run ended (django-htmx's "stop polling"), with the run's final state
as its body.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from connections.errors import SalesforceError
from connections.models import Connection
from logs.models import RecordLog
from logs.views import error_groups
from syncs import initial_import, queue
from syncs.actions import Action
from syncs.models import Sync, SyncRun
from syncs.progress import progress_of
from syncs.queue import Runnable

# The status that tells the polling script to stop (django-htmx's HTMX_STOP_POLLING).
STOP_POLLING = 286
RUNS_PER_PAGE = 25


@dataclass(frozen=True)
class Panel:
    """What the run panel of one kind of runnable row says and links to."""

    model: type[Runnable]
    run_label: str  # the button that runs it now
    run_id: str  # that button's element id
    resync_label: str  # the button that rewrites everything
    resync_id: str
    confirm: str  # the question before rewriting everything ({} is the row's name)

    @property
    def prefix(self) -> str:
        """Element ids (`sync-progress`) and URL names (`syncs_sync_progress`)."""
        return self.model._meta.model_name

    @property
    def logs_filter(self) -> str:
        """The logs browser's parameter for this kind's logs (`sync=` / `action=`)."""
        return self.prefix

    def url(self, name: str, pk: int) -> str:
        return reverse(f"admin:syncs_{self.prefix}_{name}", args=[pk])


PANELS = {
    Sync: Panel(Sync, "Sync now", "sync-now", "Resync all data", "resync-all",
                "Resync all data of “{}”? Every record is read again from Salesforce and "
                "rewritten in the hub; records no longer in Salesforce are removed."),
    Action: Panel(Action, "Run now", "run-now", "Reconcile all", "reconcile-all",
                  "Reconcile “{}”? Every hub record the action covers is compared with "
                  "Salesforce, and what differs is written there."),
}


def panel_context(row: Runnable, status: str) -> dict:
    """The change page's run panel: the row's status badge, what a request waits for, the
    progress of its run, and the kind's labels and links."""
    panel = PANELS[type(row)]
    return {
        "panel": panel,
        "row_status": status,
        "row_queued": queue.waiting_for(row) if row.run_requested else "",
        "progress": progress_of(row),
        "panel_urls": {name: panel.url(name, row.pk)
                       for name in ("run_now", "resync", "progress", "runs")},
        "panel_confirm": panel.confirm.format(row.name),
        "row_warning": warning(row),
    }


def warning(row: Runnable) -> str:
    """What the run panel warns of: an enabled action deleting every record it covers."""
    if not (isinstance(row, Action) and row.enabled and row.deletes_everything):
        return ""
    return (f"Enabled, with no segment: this action deletes in Salesforce the {row.sobject} "
            "record of every hub record it covers — all of them at each reconcile (its "
            "schedule, or “Reconcile all”), and each one a hub change reaches. Limit it with a "
            "segment, or disable it.")


def _viewable(request: HttpRequest, model: type[Runnable], pk: int) -> Runnable:
    meta = model._meta
    if not request.user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
        raise PermissionDenied
    return get_object_or_404(model, pk=pk)


def progress(request: HttpRequest, pk: int, model: type[Runnable] = Sync) -> TemplateResponse:
    """The progress partial of one sync or action; 286 once nothing runs or waits to run."""
    report = progress_of(_viewable(request, model, pk))
    return TemplateResponse(request, "admin/syncs/sync/progress.html", {"progress": report},
                            status=200 if report.active else STOP_POLLING)


def run_history(request: HttpRequest, pk: int,
                model: type[Runnable] = Sync) -> TemplateResponse:
    """Every run of one sync or action, newest first, a page at a time (runs per row stay
    few)."""
    row = _viewable(request, model, pk)
    paginator = Paginator(row.runs.all(), RUNS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        **admin.site.each_context(request),
        "title": f"Runs of {row.name}",
        "row": row,
        "panel": PANELS[model],
        "opts": model._meta,
        "page": page,
    }
    return TemplateResponse(request, "admin/syncs/sync/runs.html", context)


def run_context(run: SyncRun) -> dict:
    """What the run page adds to the read-only form: errors by code and the logs' link."""
    groups, capped = error_groups(RecordLog.objects.filter(run=run))
    return {"run_groups": groups, "run_groups_capped": capped,
            "run_logs_url": reverse("admin:logs_recordlog_browse") + f"?run={run.pk}"}


def retry(request: HttpRequest, pk: int) -> HttpResponse:
    """"Retry failed records" of one run (POST): its next run reads them again."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    run = get_object_or_404(SyncRun.objects.select_related("sync"), pk=pk)
    if not request.user.has_perm("syncs.change_sync"):
        raise PermissionDenied
    count = run.retry_failed()
    if count:
        messages.success(request, f"{run.sync.name}: {count} failed record"
                         f"{'s are' if count != 1 else ' is'} read again by a run starting now.")
    else:
        messages.info(request, f"Run #{run.pk} has no failed record with a Salesforce id to "
                      "read again.")
    return redirect(reverse("admin:syncs_sync_change", args=[run.sync_id]))


def start_initial_import(request: HttpRequest, connection_pk: int) -> HttpResponse:
    """"Initial import" (POST): make or reuse the import's syncs and run them; the message
    links to each sync's page, where its run shows its progress."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not (request.user.has_perm("syncs.add_sync") and request.user.has_perm("syncs.change_sync")):
        raise PermissionDenied
    connection = get_object_or_404(Connection, pk=connection_pk)
    back = redirect(connection.get_absolute_url())
    if not connection.is_usable:
        messages.error(request, "Initial import: connect Salesforce first (the connection is "
                       f"{connection.get_status_display().lower()}).")
        return back
    try:
        outcome = initial_import.start(connection)
    except SalesforceError as error:
        messages.error(request, f"Initial import not started: {error}")
        return back
    for problem in outcome.problems:
        messages.error(request, f"Initial import: {problem}")
    for warning in outcome.warnings:
        messages.warning(request, f"Initial import: {warning}")
    if outcome.syncs:
        links = format_html_join(", ", '<a href="{}">{}</a>', (
            (reverse("admin:syncs_sync_change", args=[sync.pk]), sync.name)
            for sync in outcome.syncs))
        after = ("they then keep running on their schedule" if connection.ongoing_import else
                 "they are then disabled (ongoing import is off)")
        messages.success(request, format_html(
            "Initial import started: {} sync(s) made, {} reused, each running now ({}): {}. "
            "Each sync's page shows its progress and record logs.",
            len(outcome.created), len(outcome.reused), after, links))
    return back
