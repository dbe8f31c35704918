"""Per-record logs of both directions, kept for a configurable number of days.

`RecordLog.write` is how every engine writes its logs (one multi-row INSERT per page, inside the
page's transaction); the outcome vocabulary is the hub's (`workspace.items.Outcome`), defined once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils import timezone

from workspace.items import Outcome, Result
from workspace.sql_rows import delete_in_batches, insert


def retention_days() -> int:
    """FORCEBRIDGE_LOG_RETENTION_DAYS as config/settings.py validated it (default 30, ≥ 1)."""
    return settings.FORCEBRIDGE_LOG_RETENTION_DAYS


class RecordLog(models.Model):
    """What one run did to one record: the outcome, the hub row, the reason for any failure."""

    class Direction(models.TextChoices):
        IN = "in", "Salesforce → hub"
        OUT = "out", "hub → Salesforce"

    Outcome = Outcome
    # The columns `write` fills, in its INSERT's order.
    COLUMNS = ("created_at", "direction", "sync", "action", "run", "sobject", "record_id",
               "hub_ref", "outcome", "error_code", "message", "changed_fields")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.IN)
    sync = models.ForeignKey("syncs.Sync", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="record_logs")
    action = models.ForeignKey("syncs.Action", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="record_logs")
    run = models.ForeignKey("syncs.SyncRun", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="record_logs")
    sobject = models.CharField("object", max_length=80)
    record_id = models.CharField("Salesforce id", max_length=18, blank=True, db_index=True)
    hub_ref = models.CharField("hub reference", max_length=40, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_code = models.CharField(max_length=60, blank=True)
    message = models.TextField(blank=True)
    changed_fields = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]
        # The logs browser (logs/forms.py, logs/keyset.py): one index per filter, each in the
        # order pages are read, so a filtered page is an index range, never a table scan + sort.
        # Unfiltered and time-range pages use created_at's own index; search uses record_id's
        # and hub_ref's.
        indexes = [
            models.Index(fields=["sync", "created_at", "id"], name="log_sync_time_idx"),
            models.Index(fields=["action", "created_at", "id"], name="log_action_time_idx"),
            models.Index(fields=["run", "created_at", "id"], name="log_run_time_idx"),
            models.Index(fields=["direction", "created_at", "id"], name="log_direction_time_idx"),
            models.Index(fields=["outcome", "created_at", "id"], name="log_outcome_time_idx"),
            models.Index(fields=["error_code", "created_at", "id"], name="log_error_time_idx"),
            models.Index(fields=["hub_ref"], name="log_hub_ref_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sobject} {self.record_id} {self.outcome}"

    @classmethod
    def write(cls, results: Iterable[Result], *, direction: str, sobject: str, run_id: int,
              sync_id: int | None = None, action_id: int | None = None) -> None:
        """Log each result of one page in one INSERT (the caller holds the page's transaction).

        The owner is the sync (data in) or the action (data out) whose run this is.
        """
        now = timezone.now()
        insert(cls, list(cls.COLUMNS), [
            (now, direction, sync_id, action_id, run_id, sobject, r.key[:18], r.ref, r.outcome,
             r.error_code, r.message, r.changed) for r in results])

    @classmethod
    def prune(cls, *, now: dt.datetime | None = None, days: int | None = None) -> int:
        """Delete logs older than the retention period, a batch at a time; how many went.

        1. Find the cut-off (now − retention days).
        2. Delete by primary-key ranges so no statement locks millions of rows at once.
        """
        cutoff = (now or timezone.now()) - dt.timedelta(days=days or retention_days())
        return delete_in_batches(cls.objects.filter(created_at__lt=cutoff))
