"""Syncs and their runs in the admin: the list with status and schedule, "Sync now" and
"Resync all data" (POST actions that enqueue through the model), and read-only runs.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config.admin import BoundedSearchAdmin, ReadOnlyAdmin
from connections.client import SalesforceClient
from connections.errors import SalesforceError
from connections.models import Connection
from syncs import queue, schedule, views
from syncs.actions import Action
from syncs.forms import ActionForm, SyncForm
from syncs.models import Sync, SyncRun
from syncs.progress import progress_of

STATUS_COLOURS = {
    SyncRun.Status.SUCCEEDED: "#2e7d32",
    SyncRun.Status.RUNNING: "#1565c0",
    SyncRun.Status.DEFERRED: "#e65100",
    SyncRun.Status.FAILED: "#c62828",
}
RECENT_RUNS = 10
logger = logging.getLogger(__name__)


def status_badge(status: str, label: str) -> str:
    if not status:
        return "never run"
    return format_html('<strong class="fb-run-status" style="color:{}">{}</strong>',
                       STATUS_COLOURS.get(status, "#616161"), label)


def renew_session(connection_id: str) -> None:
    """Refresh an expired Salesforce session before the admin opens its transaction.

    The sync and action forms read describes (and try a sync's filter) inside that
    transaction, where a refreshed (possibly rotated) token could not be committed on its own.
    """
    connection = (Connection.objects.filter(pk=int(connection_id)).first()
                  if connection_id.isdigit() else None)
    if connection is None:
        return
    try:
        SalesforceClient.for_connection(connection, interactive=True).identity()
    except SalesforceError as error:
        # The form checks the row against the org next and shows the reason on the page.
        logger.info("admin form: connection %s could not renew its session: %s",
                    connection.pk, error)


def run_logs_url(run_id: int) -> str:
    return reverse("admin:logs_recordlog_changelist") + f"?run={run_id}"


class CheckedAgainstOrgAdmin(BoundedSearchAdmin):
    """The admin of a row whose form is checked against its connection's org on save."""

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        # Permission before any Salesforce call: the session renewal below is one.
        allowed = (self.has_add_permission(request) if object_id is None
                   else self.has_change_permission(request))
        if request.method == "POST" and allowed:
            renew_session(request.POST.get("connection", ""))
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Sync)
class SyncAdmin(CheckedAgainstOrgAdmin):
    form = SyncForm
    list_display = ["name", "sobject", "data_format", "connection", "enabled", "status",
                    "last_run", "schedule_text", "next_run_at"]
    list_filter = ["enabled", "last_status", "data_format", "sobject", "connection"]
    search_fields = ["name", "sobject"]
    list_select_related = ["connection"]
    actions = ["sync_now", "resync_all"]
    readonly_fields = ["last_run", "recent_runs"]
    fieldsets = [
        (None, {"fields": ["name", "connection", "sobject", "enabled", "use_preset"]}),
        ("Mapping", {"fields": ["data_format", "person_id_field", "person_match",
                                "object_id_field", "related_id_field", "object_type",
                                "event_name_field", "event_timestamp_field", "fields",
                                "renames", "convert_dates"]}),
        ("What to read", {"fields": ["filter", "on_delete", "refresh_days"]}),
        ("Schedule", {"fields": ["schedule_kind", "every_minutes", "cron", "start_at"]}),
        ("Advanced", {"classes": ["collapse"], "fields": ["bulk_threshold", "batch_size"]}),
        ("Runs", {"fields": ["last_run", "recent_runs"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Sync | None = None) -> list:
        # A new sync has no runs to show.
        fieldsets = self.fieldsets if obj is not None else self.fieldsets[:-1]
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only: the rows are shown by display methods ("fields" is also a ModelAdmin
            # attribute, which the admin would take for the display).
            shown = {"fields": "synced_fields", "renames": "field_renames"}
            fieldsets = [(title, {**options, "fields": [shown.get(f, f) for f in options["fields"]]})
                         for title, options in fieldsets]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Sync | None = None) -> list:
        return [*super().get_readonly_fields(request, obj), "synced_fields", "field_renames"]

    @admin.display(description="fields to sync")
    def synced_fields(self, obj: Sync) -> str:
        return ", ".join(obj.fields) or "–"

    @admin.display(description="renames")
    def field_renames(self, obj: Sync) -> str:
        return ", ".join(f"{source} → {target}" for source, target in obj.renames.items()) or "–"

    @admin.display(description="status", ordering="last_status")
    def status(self, obj: Sync) -> str:
        if obj.last_status == SyncRun.Status.RUNNING and not queue.claim_live(obj):
            # Its worker stopped; the dispatcher closes the run within a minute.
            return status_badge(SyncRun.Status.FAILED, "failed (the worker stopped)")
        label = dict(SyncRun.Status.choices).get(obj.last_status, obj.last_status)
        return status_badge(obj.last_status, label)

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, obj: Sync) -> str:
        if not obj.last_run_id or not obj.last_run_at:
            return "–"
        url = reverse("admin:syncs_syncrun_change", args=[obj.last_run_id])
        return format_html('<a href="{}">{}</a>', url, obj.last_run_at.strftime("%Y-%m-%d %H:%M:%S"))

    @admin.display(description="schedule")
    def schedule_text(self, obj: Sync) -> str:
        if obj.schedule_kind == schedule.MINUTES:
            return f"every {obj.every_minutes} min"
        if obj.schedule_kind == schedule.CRON:
            return f"cron {obj.cron}"
        return obj.get_schedule_kind_display().lower()

    @admin.display(description="recent runs")
    def recent_runs(self, obj: Sync) -> str:
        runs = obj.runs.all()[:RECENT_RUNS]
        if not runs:
            return "No runs yet."
        rows = format_html_join(
            "", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            '<td>{}</td><td>{}</td><td><a href="{}">logs</a></td></tr>',
            ((reverse("admin:syncs_syncrun_change", args=[r.pk]),
              r.started_at.strftime("%Y-%m-%d %H:%M:%S"), r.trigger,
              status_badge(r.status, r.get_status_display()), r.fetched,
              f"{r.created}/{r.updated}/{r.deleted}", r.failed, r.api_calls,
              run_logs_url(r.pk)) for r in runs))
        return format_html(
            '<table id="recent-runs"><thead><tr><th>started</th><th>trigger</th><th>status</th>'
            "<th>fetched</th><th>created/updated/deleted</th><th>failed</th><th>API calls</th>"
            "<th></th></tr></thead><tbody>{}</tbody></table>", rows)

    # -- the sync page's buttons and the list's actions (POST with CSRF) --------------------------

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        sync = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if sync is not None:
            context["sync_status"] = self.status(sync)
            context["sync_queued"] = queue.waiting_for(sync) if sync.run_requested else ""
            context["progress"] = progress_of(sync)
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/run-now/", wrap(self.run_now_view), name="syncs_sync_run_now"),
            path("<int:pk>/resync/", wrap(self.resync_view), name="syncs_sync_resync"),
            path("<int:pk>/progress/", wrap(views.progress), name="syncs_sync_progress"),
            path("<int:pk>/runs/", wrap(views.run_history), name="syncs_sync_runs"),
            *super().get_urls(),
        ]

    def run_now_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._button(request, pk, "sync_now")

    def resync_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._button(request, pk, "resync_all")

    def _button(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        """The page's buttons do what the list's actions do, for one sync."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        sync = get_object_or_404(Sync, pk=pk)
        if not self.has_change_permission(request, sync):
            raise PermissionDenied
        getattr(self, action)(request, Sync.objects.filter(pk=pk))
        return redirect(reverse("admin:syncs_sync_change", args=[pk]))

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Sync]) -> None:
        self._request(request, queryset, Sync.Trigger.MANUAL,
                      "A worker starts {} within seconds: {}.")

    @admin.action(description="Resync all data", permissions=["change"])
    def resync_all(self, request: HttpRequest, queryset: QuerySet[Sync]) -> None:
        self._request(request, queryset, Sync.Trigger.RESYNC,
                      "Resync requested for {}: every record is read and rewritten: {}.")

    def _request(self, request: HttpRequest, queryset: QuerySet[Sync], trigger: str,
                 done: str) -> None:
        enabled = [sync for sync in queryset if sync.enabled]
        skipped = [sync.name for sync in queryset if not sync.enabled]
        waiting = {}
        for sync in enabled:
            if trigger == Sync.Trigger.RESYNC:
                sync.resync()
            else:
                sync.request_run(trigger)
            waiting[sync.pk] = queue.waiting_for(sync)
        starting = [s for s in enabled if not waiting[s.pk]]
        if starting:
            count = "1 sync" if len(starting) == 1 else f"{len(starting)} syncs"
            self.message_user(request, done.format(count, ", ".join(s.name for s in starting)),
                              messages.SUCCESS)
        for sync in enabled:
            if waiting[sync.pk]:
                self.message_user(request, f"{sync.name}: {waiting[sync.pk]}.", messages.INFO)
        if skipped:
            self.message_user(request, f"Skipped (disabled): {', '.join(skipped)}. Enable a "
                              "sync to run it.", messages.WARNING)


@admin.register(Action)
class ActionAdmin(CheckedAgainstOrgAdmin):
    """Actions (data out): the form checks them against describe on save; "Push now" drains
    their changes and "Reconcile" writes every record they cover."""

    form = ActionForm
    list_display = ["name", "sobject", "entity", "operation", "connection", "enabled",
                    "allow_create", "last_status", "last_run_at", "next_run_at"]
    list_filter = ["enabled", "last_status", "operation", "sobject", "connection"]
    search_fields = ["name", "sobject"]
    list_select_related = ["connection"]
    actions = ["push_now", "reconcile"]
    fieldsets = [
        (None, {"fields": ["name", "connection", "sobject", "enabled"]}),
        ("What and how", {"fields": ["entity", "object_type", "operation", "matchers",
                                     "matcher_operator", "allow_create", "field_mappings"]}),
        ("Segments", {"fields": ["segments", "on_leave"]}),
        ("Salesforce", {"fields": ["batch_mode", "bulk_threshold", "assignment_rules",
                                   "duplicate_allow_save"]}),
        ("Reconcile schedule", {"fields": ["schedule_kind", "every_minutes", "cron",
                                           "start_at"]}),
    ]

    @admin.action(description="Push now (changes)", permissions=["change"])
    def push_now(self, request: HttpRequest, queryset: QuerySet[Action]) -> None:
        for action in queryset.filter(enabled=True):
            action.request_run(Action.Trigger.MANUAL)
        self.message_user(request, "A worker writes their changes within seconds.",
                          messages.SUCCESS)

    @admin.action(description="Reconcile (every record)", permissions=["change"])
    def reconcile(self, request: HttpRequest, queryset: QuerySet[Action]) -> None:
        for action in queryset.filter(enabled=True):
            action.request_run(Action.Trigger.RESYNC)
        self.message_user(request, "A worker writes every record they cover within seconds.",
                          messages.SUCCESS)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "sync", "action", "direction", "trigger", "mode", "run_status",
                    "duration_text", "fetched", "created", "updated", "deleted", "skipped",
                    "failed", "conflicts", "api_calls", "logs"]
    list_filter = ["status", "direction", "trigger", "mode", "sync", "action"]
    list_select_related = ["sync", "action"]
    search_fields = ["sync__name", "action__name", "error"]
    fields = ["sync", "action", "direction", "trigger", "mode", "run_status", "started_at",
              "finished_at",
              "duration_text", "fetched", "created", "updated", "deleted", "skipped", "failed",
              "conflicts", "api_calls", "error", "logs"]
    readonly_fields = fields

    @admin.display(description="status", ordering="status")
    def run_status(self, obj: SyncRun) -> str:
        if obj.status == SyncRun.Status.RUNNING and not queue.claim_live(obj.sync):
            # Its worker stopped; the dispatcher closes the run within a minute.
            return status_badge(SyncRun.Status.FAILED, "failed (the worker stopped)")
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="duration")
    def duration_text(self, obj: SyncRun) -> str:
        return f"{obj.duration.total_seconds():.1f} s" if obj.duration else "–"

    @admin.display(description="record logs")
    def logs(self, obj: SyncRun) -> str:
        return format_html('<a class="fb-run-logs" href="{}">logs</a>', run_logs_url(obj.pk))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        run = self.get_object(request, object_id)
        context = {**(extra_context or {}), **(views.run_context(run) if run else {})}
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [path("<int:pk>/retry/", wrap(views.retry), name="syncs_syncrun_retry"),
                *super().get_urls()]
