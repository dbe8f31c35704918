"""Record logs in the admin: read-only, filtered and searched without scanning the table.

Search is exact, on indexed columns: a Salesforce id (15 or 18 characters), a hub reference
(`person:12`), or an e-mail address / customer id, which is turned into the hub reference of
that person first. Substring search over millions of rows is deliberately not offered.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin
from logs import search, views
from logs.models import RecordLog
from syncs.models import SyncRun

RUNS_OFFERED = 15


class RunFilter(admin.SimpleListFilter):
    """The latest runs (and the one asked for), from the small runs table, not the logs."""

    title = "run"
    parameter_name = "run"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        runs = list(SyncRun.objects.select_related("sync")[:RUNS_OFFERED])
        chosen = self.value()
        if chosen and chosen.isdigit() and all(str(r.pk) != chosen for r in runs):
            runs += list(SyncRun.objects.select_related("sync").filter(pk=int(chosen)))
        return [(str(r.pk), f"#{r.pk} {r.sync.name} {r.started_at:%m-%d %H:%M}") for r in runs]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(run_id=int(value)) if value.isdigit() else queryset.none()


@admin.register(RecordLog)
class RecordLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "direction", "sync", "action", "run_link", "sobject",
                    "record_id", "hub_link", "outcome", "error_code", "short_message"]
    list_filter = ["direction", "outcome", "sync", "action", RunFilter]
    list_select_related = ["sync", "action"]
    search_fields = ["record_id"]  # the real lookup is get_search_results below
    search_help_text = search.HELP
    date_hierarchy = None  # its year/month links would scan the whole table
    fields = ["created_at", "direction", "sync", "action", "run_link", "sobject", "record_id",
              "hub_link", "outcome", "error_code", "message", "changed_fields"]
    readonly_fields = fields

    def search(self, request: HttpRequest, queryset: QuerySet,
               search_term: str) -> tuple[QuerySet, bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(search.matching(search_term)), False

    @admin.display(description="run", ordering="run_id")
    def run_link(self, obj: RecordLog) -> str:
        if obj.run_id is None:
            return "–"
        url = reverse("admin:syncs_syncrun_change", args=[obj.run_id])
        return format_html('<a href="{}">#{}</a>', url, obj.run_id)

    @admin.display(description="hub reference")
    def hub_link(self, obj: RecordLog) -> str:
        url = views.hub_url(obj.hub_ref)
        return format_html('<a href="{}">{}</a>', url, obj.hub_ref) if url else obj.hub_ref or "–"

    @admin.display(description="message")
    def short_message(self, obj: RecordLog) -> str:
        return obj.message[:100] + "…" if len(obj.message) > 100 else obj.message

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("browse/", wrap(views.browse), name="logs_recordlog_browse"),
            path("history/", wrap(views.history), name="logs_recordlog_history"),
            path("export.csv", wrap(views.export), name="logs_recordlog_export"),
            *super().get_urls(),
        ]
