"""Syncs and their runs in the admin: the list with status and schedule, "Sync now" and
"Resync all data" (POST actions that enqueue through the model), and read-only runs.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config.admin import BoundedSearchAdmin, ReadOnlyAdmin
from connections.authorization import renew_session
from connections.models import Connection
from syncs import action_form, action_views, mapping_editor, queue, schedule, setup, views
from syncs.action_form import ActionSetupForm
from syncs.actions import Action
from syncs.forms import SyncForm
from syncs.models import Sync, SyncRun
from syncs.queue import Runnable

STATUS_COLOURS = {
    SyncRun.Status.SUCCEEDED: "#2e7d32",
    SyncRun.Status.RUNNING: "#1565c0",
    SyncRun.Status.DEFERRED: "#e65100",
    SyncRun.Status.FAILED: "#c62828",
}
RECENT_RUNS = 10


def status_badge(status: str, label: str) -> str:
    if not status:
        return "never run"
    return format_html('<strong class="fb-run-status" style="color:{}">{}</strong>',
                       STATUS_COLOURS.get(status, "#616161"), label)


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
            connection_id = request.POST.get("connection", "")
            renew_session(Connection.objects.filter(pk=int(connection_id)).first()
                          if connection_id.isdigit() else None)
        return super().changeform_view(request, object_id, form_url, extra_context)


class RunnableAdmin(CheckedAgainstOrgAdmin):
    """The admin of a runnable row (a sync, an action): its status, the run panel of its
    page (syncs/views.py), the page's two buttons and the list's actions that do the same."""

    noun = "sync"  # in messages: "A worker starts 1 sync"
    run_action = "sync_now"  # the list action the page's run button does
    resync_action = "resync_all"  # the list action the page's rewrite-everything button does

    @admin.display(description="status", ordering="last_status")
    def status(self, obj: Runnable) -> str:
        if obj.last_status == SyncRun.Status.RUNNING and not queue.claim_live(obj):
            # Its worker stopped; the dispatcher closes the run within a minute.
            return status_badge(SyncRun.Status.FAILED, "failed (the worker stopped)")
        label = dict(SyncRun.Status.choices).get(obj.last_status, obj.last_status)
        return status_badge(obj.last_status, label)

    # -- the page's buttons and the list's actions (POST with CSRF) -----------------------------

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        row = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if row is not None:
            context.update(views.panel_context(row, self.status(row)))
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        name = f"syncs_{self.model._meta.model_name}"
        kind = {"model": self.model}
        return [
            path("<int:pk>/run-now/", wrap(self.run_now_view), name=f"{name}_run_now"),
            path("<int:pk>/resync/", wrap(self.resync_view), name=f"{name}_resync"),
            path("<int:pk>/progress/", wrap(views.progress), kind, name=f"{name}_progress"),
            path("<int:pk>/runs/", wrap(views.run_history), kind, name=f"{name}_runs"),
            path("<int:pk>/mapping/", wrap(mapping_editor.mapping), kind, name=f"{name}_mapping"),
            *super().get_urls(),
        ]

    def run_now_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._button(request, pk, self.run_action)

    def resync_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._button(request, pk, self.resync_action)

    def _button(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        """The page's buttons do what the list's actions do, for one row."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        row = get_object_or_404(self.model, pk=pk)
        if not self.has_change_permission(request, row):
            raise PermissionDenied
        getattr(self, action)(request, self.model.objects.filter(pk=pk))
        return redirect(reverse(f"admin:syncs_{self.model._meta.model_name}_change", args=[pk]))

    def start(self, row: Runnable, trigger: str) -> None:
        row.request_run(trigger)

    def _request(self, request: HttpRequest, queryset: QuerySet, trigger: str,
                 done: str) -> None:
        enabled = [row for row in queryset if row.enabled]
        skipped = [row.name for row in queryset if not row.enabled]
        waiting = {}
        for row in enabled:
            self.start(row, trigger)
            waiting[row.pk] = queue.waiting_for(row)
        starting = [s for s in enabled if not waiting[s.pk]]
        if starting:
            count = f"1 {self.noun}" if len(starting) == 1 else f"{len(starting)} {self.noun}s"
            self.message_user(request, done.format(count, ", ".join(s.name for s in starting)),
                              messages.SUCCESS)
        for row in enabled:
            if waiting[row.pk]:
                self.message_user(request, f"{row.name}: {waiting[row.pk]}.", messages.INFO)
        if skipped:
            self.message_user(request, f"Skipped (disabled): {', '.join(skipped)}. Enable a "
                              f"{self.noun} to run it.", messages.WARNING)


@admin.register(Sync)
class SyncAdmin(RunnableAdmin):
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

    def start(self, row: Sync, trigger: str) -> None:
        if trigger == Sync.Trigger.RESYNC:
            row.resync()
        else:
            row.request_run(trigger)

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("setup/", wrap(setup.setup), name="syncs_sync_setup"),
            path("<int:pk>/setup/", wrap(setup.setup), name="syncs_sync_setup_edit"),
            path("initial-import/<int:connection_pk>/", wrap(views.start_initial_import),
                 name="syncs_sync_initial_import"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "",
                 extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """"Add sync" opens the guided set-up; the stock form still takes a POST (scripts)."""
        if request.method == "GET":
            query = request.GET.urlencode()
            return redirect(reverse("admin:syncs_sync_setup") + (f"?{query}" if query else ""))
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {**(extra_context or {}), "panel_links": "admin/syncs/sync/edit_links.html"}
        return super().change_view(request, object_id, form_url, context)

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Sync]) -> None:
        self._request(request, queryset, Sync.Trigger.MANUAL,
                      "A worker starts {} within seconds: {}.")

    @admin.action(description="Resync all data", permissions=["change"])
    def resync_all(self, request: HttpRequest, queryset: QuerySet[Sync]) -> None:
        self._request(request, queryset, Sync.Trigger.RESYNC,
                      "Resync requested for {}: every record is read and rewritten: {}.")


@admin.register(Action)
class ActionAdmin(RunnableAdmin):
    """Actions (data out): the set-up form is checked against describe on save; the page has
    the run panel ("Run now" drains the hub's changes, "Reconcile all" compares every record
    the action covers) and a dry run (syncs/action_views.py)."""

    form = ActionSetupForm
    noun = "action"
    run_action = "push_now"
    resync_action = "reconcile"
    list_display = ["name", "sobject", "entity", "operation", "connection", "enabled",
                    "allow_create", "status", "last_run_at", "next_run_at"]
    list_filter = ["enabled", "last_status", "operation", "sobject", "connection"]
    search_fields = ["name", "sobject"]
    list_select_related = ["connection"]
    actions = ["push_now", "reconcile"]
    fieldsets = action_form.FIELDSETS

    def get_fieldsets(self, request: HttpRequest, obj: Action | None = None) -> list:
        if obj is None or self.has_change_permission(request, obj):
            return self.fieldsets
        # Read-only: the rows and the connection's policy are shown by display methods
        # ("field_mappings" is the rows' related manager on the model, which the admin would
        # call); the form's own questions are not asked.
        shown = {"field_mappings": "mapped_fields", "conflict_policy": "connection_policy"}
        return [(title, {**options, "fields": [shown.get(name, name) for name in options["fields"]
                                               if name not in action_form.ASKED]})
                for title, options in self.fieldsets]

    def get_readonly_fields(self, request: HttpRequest, obj: Action | None = None) -> list:
        return [*super().get_readonly_fields(request, obj), "mapped_fields", "connection_policy"]

    def get_form(self, request: HttpRequest, obj: Action | None = None, change: bool = False,
                 **kwargs: Any) -> type[ActionSetupForm]:
        form = super().get_form(request, obj, change, **kwargs)
        form.may_change_policy = request.user.has_perm("connections.change_connection")
        return form

    def save_related(self, request: HttpRequest, form: ActionSetupForm, formsets: Any,
                     change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if form.policy_change:
            connection = form.instance.connection
            self.message_user(request, f"The conflict policy of connection “{connection}” is "
                              f"now “{connection.get_conflict_policy_display()}”: it decides "
                              "the conflicts of every sync and action of that connection.",
                              messages.WARNING)

    @admin.display(description="conflict policy (the connection's)")
    def connection_policy(self, obj: Action) -> str:
        return f"{obj.connection.get_conflict_policy_display()}, for every sync and action " \
            f"of connection “{obj.connection}”"

    @admin.display(description="field mappings")
    def mapped_fields(self, obj: Action) -> str:
        return ", ".join(f"{row.source or repr(row.default)} → {row.target}"
                         + (f" ({row.transform})" if row.transform else "")
                         for row in obj.field_rows()) or "–"

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {**(extra_context or {}), "panel_extra": "admin/syncs/action/dry_run_button.html",
                   "panel_links": "admin/syncs/action/edit_links.html"}
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [path("<int:pk>/dry-run/", wrap(action_views.dry_run_view),
                     name="syncs_action_dry_run"),
                path("fields/", wrap(action_views.object_fields), name="syncs_action_fields"),
                *super().get_urls()]

    @admin.action(description="Run now (the hub's changes)", permissions=["change"])
    def push_now(self, request: HttpRequest, queryset: QuerySet[Action]) -> None:
        self._request(request, queryset, Action.Trigger.MANUAL,
                      "A worker writes the hub's changes of {} within seconds: {}.")

    @admin.action(description="Reconcile all (every record)", permissions=["change"])
    def reconcile(self, request: HttpRequest, queryset: QuerySet[Action]) -> None:
        self._request(request, queryset, Action.Trigger.RESYNC,
                      "Reconcile requested for {}: every hub record is compared with "
                      "Salesforce and what differs is written: {}.")


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
        if obj.status == SyncRun.Status.RUNNING and not queue.claim_live(obj.owner):
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
