"""The logs browser: filtered pages of record logs, one record's history, errors grouped by code
and the CSV export of a filter. Admin pages (logs/admin.py hangs them off RecordLogAdmin).

Every query here is an index range bounded by a LIMIT: pages by position (logs/keyset.py), error
groups over at most `GROUPED` failed rows, a history of at most `HISTORY` rows; nothing counts
the whole table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from logs.forms import LogFilter
from logs.keyset import Position, page_of
from logs.models import RecordLog
from syncs.models import SyncRun

GROUPED = 100_000
ERROR_INDEX = "log_error_time_idx"  # logs/models.py
HISTORY = 500
EXPORT_CHUNK = 2000
EXPORT_COLUMNS = ["created_at", "direction", "sync", "run", "sobject", "record_id", "hub_ref",
                  "outcome", "error_code", "message", "changed_fields", "action"]
# A cell starting with one of these is a formula to a spreadsheet: written with a quote first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def allowed(request: HttpRequest) -> None:
    if not request.user.has_perm("logs.view_recordlog"):
        raise PermissionDenied


def error_groups(logs: QuerySet[RecordLog], *, by_error_index: bool = False,
                 ) -> tuple[list[tuple[str, int]], bool]:
    """Error codes of the filtered logs with their counts, most frequent first, over at most
    `GROUPED` failed rows; and whether that cap was reached (the counts are then lower bounds).

    The inner SELECT reads only `error_code` of at most GROUPED rows; the GROUP BY runs over
    that, never over the table. `by_error_index`: the filter is broad (an outcome, a direction,
    a time range), so read the failed rows from the error_code index. SQLite, having no
    statistics, would otherwise prefer an equality such as `outcome = 'updated'` and walk half
    a million rows to find no error (PostgreSQL's planner weighs this itself).
    """
    inner = logs.filter(error_code__gt="").order_by().values_list("error_code")[:GROUPED]
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # a search that matched nobody: no SQL to run, no errors
        return [], False
    if by_error_index and connection.vendor == "sqlite":
        table = connection.ops.quote_name(RecordLog._meta.db_table)
        sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {ERROR_INDEX}", 1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT error_code, COUNT(*) FROM ({sql}) AS failed "  # noqa: S608
                       "GROUP BY error_code ORDER BY 2 DESC, 1", params)
        groups = [(code, count) for code, count in cursor.fetchall()]
    return groups, sum(count for _, count in groups) >= GROUPED


def browse(request: HttpRequest) -> TemplateResponse:
    """The logs browser: filters, errors by code, a page of logs, older/newer links."""
    allowed(request)
    form = LogFilter(request.GET or None)
    logs = form.queryset() if form.is_bound else RecordLog.objects.order_by("-created_at", "-id")
    before = Position.parse(request.GET.get("before", ""))
    after = Position.parse(request.GET.get("after", ""))
    parts = form.parts() if form.is_bound else [logs]
    page = page_of([part.select_related("sync", "action") for part in parts], before=before, after=after)
    groups, groups_capped = (error_groups(logs, by_error_index=not form.selective())
                             if not form.errors else ([], False))
    query = {k: v for k, v in request.GET.items() if k not in ("before", "after") and v}
    run = SyncRun.objects.select_related("sync", "action").filter(
        pk=form.cleaned_data["run"]).first() if form.is_valid() and form.cleaned_data["run"] else None
    context = {
        **admin.site.each_context(request),
        "title": "Record logs",
        "form": form,
        "page": page,
        "run": run,
        "groups": [(code, count, "?" + urlencode({**query, "error_code": code}))
                   for code, count in groups],
        "groups_capped": groups_capped,
        "grouped_cap": GROUPED,
        "query": urlencode(query),
        "older_url": _page_url(query, "before", page.older),
        "newer_url": _page_url(query, "after", page.newer),
        "newest_url": "?" + urlencode(query) if before or after else "",
        # Retrying reads failed records again from Salesforce: a sync's runs only.
        "retry_offered": run is not None and run.failed > 0 and run.sync_id is not None,
    }
    return TemplateResponse(request, "admin/logs/browse.html", context)


def _page_url(query: dict[str, str], key: str, position: Position | None) -> str:
    return "?" + urlencode({**query, key: str(position)}) if position else ""


def history(request: HttpRequest) -> TemplateResponse:
    """One record across runs and directions: every log of its Salesforce id or hub reference."""
    allowed(request)
    record_id = request.GET.get("record", "").strip()[:18]
    hub_ref = request.GET.get("hub", "").strip()[:40]
    condition = Q(pk__in=[])
    if record_id:
        condition |= Q(record_id=record_id)
    if hub_ref:
        condition |= Q(hub_ref=hub_ref)
    logs = list(RecordLog.objects.filter(condition).select_related("sync", "action", "run")
                .order_by("-created_at", "-id")[:HISTORY])
    sobjects = sorted({log.sobject for log in logs})
    context = {
        **admin.site.each_context(request),
        "title": f"History of {record_id or hub_ref or 'a record'}",
        "record_id": record_id,
        "hub_ref": hub_ref,
        "hub_url": hub_url(hub_ref),
        "sobjects": sobjects,
        "logs": logs,
        "capped": len(logs) == HISTORY,
        "history_cap": HISTORY,
        "directions": sorted({log.get_direction_display() for log in logs}),
    }
    return TemplateResponse(request, "admin/logs/history.html", context)


def hub_url(ref: str) -> str:
    """The admin page of a hub reference such as `person:12` ("" for anything else)."""
    kind, _, pk = ref.partition(":")
    if kind not in ("person", "object", "relationship", "event") or not pk.isdigit():
        return ""
    return reverse(f"admin:workspace_{kind}_change", args=[int(pk)])


def export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filter as CSV, streamed a chunk of rows at a time (log columns only)."""
    allowed(request)
    form = LogFilter(request.GET or None)
    logs = form.queryset() if form.is_bound else RecordLog.objects.order_by("-created_at", "-id")
    writer = csv.writer(_Echo())
    rows = logs.values_list("created_at", "direction", "sync__name", "run_id", "sobject",
                            "record_id", "hub_ref", "outcome", "error_code", "message",
                            "changed_fields", "action__name")

    def lines() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        for row in rows.iterator(chunk_size=EXPORT_CHUNK):
            yield writer.writerow([_cell(value) for value in row])

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="record-logs-{stamp}.csv"'
    return response


class _Echo:
    """A file whose write returns the line: csv.writer then yields lines to stream."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> object:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
