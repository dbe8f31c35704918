"""Deletions Salesforce does not show in a query: getDeleted, and an id reconcile pass.

Soft deletes arrive in the incremental queryAll scan (IsDeleted = true). Records purged from
the recycle bin (or hard-deleted by Bulk) only show in getDeleted, which covers 15 days; a sync
idle for longer — or a resync — compares the hub's ids with every live id instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from connections.errors import SalesforceRejected
from mappings.values import canonical_datetime, parse_datetime
from syncs.cursor import build_soql
from syncs.models import Sync
from workspace.models import SourceRecord

if TYPE_CHECKING:
    from connections.client import SalesforceClient
    from syncs.pull import Pull

logger = logging.getLogger(__name__)
CHUNK = 2000


class Deletions:
    """Hard deletes of one run: read at the start (with Salesforce's time), applied at the end."""

    def __init__(self, pull: Pull, client: SalesforceClient) -> None:
        self.pull = pull
        self.client = client
        self.ids: list[str] = []
        # A resync resumed by the scheduler (after a crash or a quota stop) still owes the
        # reconcile pass that finds what was purged while it was interrupted.
        self.reconcile = pull.trigger == Sync.Trigger.RESYNC or pull.sync.resync_pending

    def probe(self) -> str:
        """Ask getDeleted for the window since the last run; return Salesforce's time ("" if unknown).

        `latestDateCovered` is Salesforce's clock (to the minute), which is what the cursor's
        overlap must be measured on; the local clock may differ from the org's.
        """
        sync = self.pull.sync
        local = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        # An interrupted first run (or resync) has a cursor but no completed window yet: its
        # deletions count from the Salesforce time at which its scan started.
        start = sync.deleted_since or parse_datetime(sync.cursor_seen_at or "")
        try:
            answer = self._deleted(start or local - dt.timedelta(minutes=2), local)
        except SalesforceRejected as error:
            if error.error_code != "INVALID_REPLICATION_DATE":
                raise
            if start is None:
                # The org's clock is far from ours: go on without its time (the cursor then
                # measures its overlap from the last SystemModstamp) and try again next run.
                logger.warning("sync %s: getDeleted refused a window around local time (%s)",
                               sync.pk, error.message)
                return ""
            logger.info("sync %s: deletions since %s are no longer available; reconciling ids",
                        sync.pk, start)
            self.reconcile, start = True, None
            answer = self._deleted(local - dt.timedelta(minutes=2), local)
        if start is not None and self.pull.cursor:
            self.ids = [str(r["id"]) for r in answer.get("deletedRecords") or []]
        covered = parse_datetime(str(answer.get("latestDateCovered") or ""))
        return canonical_datetime(covered or local - dt.timedelta(minutes=1))

    def _deleted(self, start: dt.datetime, end: dt.datetime) -> dict:
        if end <= start:
            end = start + dt.timedelta(minutes=1)
        return self.client.get_deleted(self.pull.sync.sobject, start, end)

    def apply_hard_deletes(self) -> None:
        for begin in range(0, len(self.ids), CHUNK):
            self._remove(self.ids[begin:begin + CHUNK])
        if self.reconcile:
            self.reconcile_ids()

    def reconcile_ids(self) -> None:
        """Remove what the hub holds from this sync for ids Salesforce no longer has (live)."""
        sync = self.pull.sync
        live: set[str] = set()
        for page in self.client.query_pages(build_soql(["Id"], sync.sobject, [], ordered=False),
                                            batch_size=2000):
            live.update(str(r["Id"]) for r in page)
        stale = [rid for rid in SourceRecord.objects.filter(source=sync.source)
                 .values_list("record_id", flat=True).iterator(chunk_size=CHUNK)
                 if rid not in live]
        for begin in range(0, len(stale), CHUNK):
            self._remove(stale[begin:begin + CHUNK])

    def _remove(self, ids: list[str]) -> None:
        pull = self.pull
        with transaction.atomic():
            pull.hold_claim()
            results = pull.writer.delete(ids, mark=pull.sync.on_delete == Sync.OnDelete.MARK)
            pull.record(results, fetched=0)
