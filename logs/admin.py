"""Record logs in the admin: read-only, filtered and searched without scanning the table.

Search is exact, on indexed columns: a Salesforce id (15 or 18 characters), a hub reference
(`person:12`), or an e-mail address / customer id, which is turned into the hub reference of
that person first. Substring search over millions of rows is deliberately not offered.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin
from logs.models import RecordLog
from syncs.models import SyncRun
from workspace.models import Person

SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
HUB_REF = re.compile(r"^(person|object|relationship|event):\d+$")
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
    search_help_text = ("A Salesforce id, an e-mail address or customer id, or a hub reference "
                        "such as person:12 (exact match).")
    date_hierarchy = None  # its year/month links would scan the whole table
    fields = ["created_at", "direction", "sync", "action", "run_link", "sobject", "record_id",
              "hub_link", "outcome", "error_code", "message", "changed_fields"]
    readonly_fields = fields

    def get_search_results(self, request: HttpRequest, queryset: QuerySet,
                           search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if HUB_REF.match(term):
            return queryset.filter(hub_ref=term), False
        condition = Q(record_id=term) if SALESFORCE_ID.match(term) else Q(pk__in=[])
        people = Person.objects.filter(
            Q(email=Person.normalize_email(term)) | Q(customer_id=term)
        ).values_list("pk", flat=True)[:50]
        refs = [f"person:{pk}" for pk in people]
        if refs:
            condition |= Q(hub_ref__in=refs)
        return queryset.filter(condition), False

    @admin.display(description="run", ordering="run_id")
    def run_link(self, obj: RecordLog) -> str:
        if obj.run_id is None:
            return "–"
        url = reverse("admin:syncs_syncrun_change", args=[obj.run_id])
        return format_html('<a href="{}">#{}</a>', url, obj.run_id)

    @admin.display(description="hub reference")
    def hub_link(self, obj: RecordLog) -> str:
        kind, _, pk = obj.hub_ref.partition(":")
        if kind not in ("person", "object", "relationship", "event") or not pk.isdigit():
            return obj.hub_ref or "–"
        url = reverse(f"admin:workspace_{kind}_change", args=[int(pk)])
        return format_html('<a href="{}">{}</a>', url, obj.hub_ref)

    @admin.display(description="message")
    def short_message(self, obj: RecordLog) -> str:
        return obj.message[:100] + "…" if len(obj.message) > 100 else obj.message
