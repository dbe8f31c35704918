"""The logs browser's filter: every field narrows the logs on an indexed column.

Each filter has its index (logs/migrations/0004_browse_indexes.py): equality on the column,
then `created_at, id` in the order pages are read, so a page is an index range, never a scan
and sort of the whole table. A bad value is refused with the field and the reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from connections.models import Connection
from logs import search
from logs.models import RecordLog
from syncs.models import Sync

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LogFilter(forms.Form):
    """GET parameters of the logs browser, its CSV export and its error groups."""

    q = forms.CharField(label="Search", required=False, max_length=254,
                        help_text=search.HELP, strip=True)
    connection = forms.ModelChoiceField(Connection.objects.all(), required=False,
                                        empty_label="All connections")
    sync = forms.ModelChoiceField(Sync.objects.only("pk", "name"), required=False,
                                  empty_label="All syncs")
    direction = forms.ChoiceField(required=False,
                                  choices=[("", "Both directions"), *RecordLog.Direction.choices])
    outcome = forms.ChoiceField(required=False,
                                choices=[("", "All outcomes"), *RecordLog.Outcome.choices])
    error_code = forms.CharField(label="Error code", required=False, max_length=60, strip=True)
    since = forms.DateTimeField(label="From", required=False, widget=DATETIME)
    until = forms.DateTimeField(label="Until", required=False, widget=DATETIME)
    run = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", "Must be after “From”.")
        return data

    def narrowed(self) -> bool:
        """Whether any filter or search is set (an unfiltered browser lists everything)."""
        return self.is_valid() and any(v not in (None, "") for v in self.cleaned_data.values())

    def selective(self) -> bool:
        """Whether a filter narrows the logs to one record, run or sync."""
        return self.is_valid() and any(self.cleaned_data[name] for name in ("q", "sync", "run"))

    def queryset(self) -> QuerySet[RecordLog]:
        """The logs the filter keeps (none if it is invalid), newest first."""
        return self._filtered(self._syncs())

    def parts(self) -> list[QuerySet[RecordLog]]:
        """The same logs as disjoint querysets, one per sync of a chosen connection, so each
        page is read from the (sync, created_at) index (logs/keyset.py merges them)."""
        syncs = self._syncs()
        if syncs is None or len(syncs) < 2:
            return [self._filtered(syncs)]
        return [self._filtered([pk]) for pk in syncs]

    def _syncs(self) -> list[int] | None:
        """The syncs the filter keeps (None: any)."""
        if not self.is_valid():
            return None
        if self.cleaned_data["sync"]:
            return [self.cleaned_data["sync"].pk]
        if self.cleaned_data["connection"]:
            return list(Sync.objects.filter(connection=self.cleaned_data["connection"])
                        .values_list("pk", flat=True))
        return None

    def _filtered(self, syncs: list[int] | None) -> QuerySet[RecordLog]:
        logs = RecordLog.objects.order_by("-created_at", "-id")
        if not self.is_valid():
            return logs.none()
        data = self.cleaned_data
        if data["q"]:
            logs = logs.filter(search.matching(data["q"]))
        if syncs is not None:
            logs = logs.filter(sync_id=syncs[0]) if len(syncs) == 1 else logs.filter(
                sync_id__in=syncs)
        for name in ("direction", "outcome", "error_code", "run"):
            if data[name]:
                logs = logs.filter(**{name: data[name]})
        if data["since"]:
            logs = logs.filter(created_at__gte=data["since"])
        if data["until"]:
            logs = logs.filter(created_at__lt=data["until"])
        return logs
