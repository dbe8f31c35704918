"""The logs browser's filter: every field narrows the logs on an indexed column.

Each filter has its index (logs/migrations/0004_browse_indexes.py): equality on the column,
then `created_at, id` in the order pages are read, so a page is an index range, never a scan
and sort of the whole table. A bad value is refused with the field and the reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from connections.models import Connection
from logs import search
from logs.models import RecordLog
from syncs.actions import Action
from syncs.models import Sync

# An owner of logs the filter keeps: ("sync", pk) or ("action", pk).
Owner = tuple[str, int]

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LogFilter(forms.Form):
    """GET parameters of the logs browser, its CSV export and its error groups."""

    q = forms.CharField(label="Search", required=False, max_length=254,
                        help_text=search.HELP, strip=True)
    connection = forms.ModelChoiceField(Connection.objects.all(), required=False,
                                        empty_label="All connections")
    sync = forms.ModelChoiceField(Sync.objects.only("pk", "name"), required=False,
                                  empty_label="All syncs")
    action = forms.ModelChoiceField(Action.objects.only("pk", "name"), required=False,
                                    empty_label="All actions")
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
        if data.get("sync") and data.get("action"):
            self.add_error("action", "Choose a sync or an action, not both: a log belongs to "
                           "one of them.")
        return data

    def narrowed(self) -> bool:
        """Whether any filter or search is set (an unfiltered browser lists everything)."""
        return self.is_valid() and any(v not in (None, "") for v in self.cleaned_data.values())

    def selective(self) -> bool:
        """Whether a filter narrows the logs to one record, run or sync."""
        return self.is_valid() and any(self.cleaned_data[name]
                                       for name in ("q", "sync", "action", "run"))

    def queryset(self) -> QuerySet[RecordLog]:
        """The logs the filter keeps (none if it is invalid), newest first."""
        return self._filtered(self._owners())

    def parts(self) -> list[QuerySet[RecordLog]]:
        """The same logs as disjoint querysets, one per sync or action of a chosen connection,
        so each page is read from the (sync, created_at) or (action, created_at) index
        (logs/keyset.py merges them)."""
        owners = self._owners()
        if owners is None or len(owners) < 2:
            return [self._filtered(owners)]
        return [self._filtered([owner]) for owner in owners]

    def _owners(self) -> list[Owner] | None:
        """The syncs and actions the filter keeps (None: any)."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        if data["sync"]:
            return [("sync", data["sync"].pk)]
        if data["action"]:
            return [("action", data["action"].pk)]
        if data["connection"]:
            return [*(("sync", pk) for pk in Sync.objects.filter(
                connection=data["connection"]).values_list("pk", flat=True)),
                    *(("action", pk) for pk in Action.objects.filter(
                        connection=data["connection"]).values_list("pk", flat=True))]
        return None

    def _filtered(self, owners: list[Owner] | None) -> QuerySet[RecordLog]:
        logs = RecordLog.objects.order_by("-created_at", "-id")
        if not self.is_valid():
            return logs.none()
        data = self.cleaned_data
        if data["q"]:
            logs = logs.filter(search.matching(data["q"]))
        if owners is not None:
            logs = logs.filter(_of(owners))
        for name in ("direction", "outcome", "error_code", "run"):
            if data[name]:
                logs = logs.filter(**{name: data[name]})
        if data["since"]:
            logs = logs.filter(created_at__gte=data["since"])
        if data["until"]:
            logs = logs.filter(created_at__lt=data["until"])
        return logs


def _of(owners: list[Owner]) -> Q:
    """The logs of these syncs and actions (none when the list is empty)."""
    condition = Q(pk__in=[])
    for kind in ("sync", "action"):
        ids = [pk for owner, pk in owners if owner == kind]
        if len(ids) == 1:
            condition |= Q(**{f"{kind}_id": ids[0]})
        elif ids:
            condition |= Q(**{f"{kind}_id__in": ids})
    return condition
