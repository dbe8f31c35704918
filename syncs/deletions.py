"""Deletions Salesforce does not show in a query: getDeleted, and an id reconcile pass.

Soft deletes arrive in the incremental queryAll scan (IsDeleted = true). Records purged from
the recycle bin (or hard-deleted by Bulk) only show in getDeleted, which covers 15 days and
lists at most 600,000; a sync idle for longer, one with more deletions than that, or a resync
compares the hub's ids with every live id instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from connections.errors import SalesforceRejected
from mappings.values import canonical_datetime, parse_datetime
from syncs.cursor import IDS_PER_QUERY, build_soql, id_in
from workspace.items import Outcome, Result
from workspace.models import SourceRecord
from workspace.sql_rows import select_in

if TYPE_CHECKING:
    from connections.client import SalesforceClient
    from syncs.applier import PageApplier
    from syncs.models import Sync
    from syncs.queue import Claim

logger = logging.getLogger(__name__)
CHUNK = 2000
RESTORED = "restored in Salesforce after its deletion; kept"
# getDeleted's refusals that an id reconcile answers instead: a window older than the 15 days
# Salesforce keeps, or more deletions than it lists at once (600,000).
UNLISTABLE = frozenset({"INVALID_REPLICATION_DATE", "EXCEEDED_ID_LIMIT"})


class Deletions:
    """Hard deletes of one run: read at the start (with Salesforce's time), applied at the end."""

    def __init__(self, sync: Sync, client: SalesforceClient, applier: PageApplier,
                 claim: Claim, *, reconcile: bool, sweep_since: dt.datetime | None = None) -> None:
        self.sync = sync
        self.client = client
        self.applier = applier
        self.claim = claim
        # getDeleted's answer: record id → when it was deleted (canonical SystemModstamp form).
        self.deleted: dict[str, str] = {}
        # A resync (also one resumed after a crash or a quota stop) owes the reconcile pass
        # that finds what was purged while it was interrupted.
        self.reconcile = reconcile
        # A resync that read every record since this time removes what it did not see.
        self.sweep_since = sweep_since
        self.local_since: dt.datetime | None = None

    def probe(self, *, incremental: bool) -> str:
        """Ask getDeleted for the window since the last run; return Salesforce's time ("" if unknown).

        `latestDateCovered` is Salesforce's clock (to the minute), which is what the cursor's
        overlap must be measured on; the local clock may differ from the org's.
        """
        sync = self.sync
        local = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        # Where the next run's window starts if Salesforce's time stays unknown (a minute early).
        self.local_since = local - dt.timedelta(minutes=2)
        # An interrupted first run (or resync) has a cursor but no completed window yet: its
        # deletions count from the Salesforce time at which its scan started.
        start = sync.deleted_since or parse_datetime(sync.cursor_seen_at or "")
        try:
            answer = self._deleted(start or local - dt.timedelta(minutes=2), local)
        except SalesforceRejected as error:
            if error.error_code not in UNLISTABLE:
                raise
            if start is None:
                # The org's clock is far from ours: go on without its time (the cursor then
                # measures its overlap from the last SystemModstamp) and try again next run.
                logger.warning("sync %s: getDeleted refused a window around local time (%s)",
                               sync.pk, error.message)
                return ""
            # Deletions since `start` are no longer listed (older than 15 days) or too many to
            # list: compare ids instead, and ask a two-minute window for Salesforce's time.
            logger.info("sync %s: deletions since %s cannot be listed (%s); reconciling ids",
                        sync.pk, start, error.error_code)
            self.reconcile, start = True, None
            try:
                answer = self._deleted(local - dt.timedelta(minutes=2), local)
            except SalesforceRejected as again:
                if again.error_code not in UNLISTABLE:
                    raise
                return ""  # even the last two minutes cannot be listed: time unknown
        if start is not None and incremental:
            self.deleted = {str(r["id"]): _stamp(r.get("deletedDate"))
                            for r in answer.get("deletedRecords") or []}
        covered = parse_datetime(str(answer.get("latestDateCovered") or ""))
        return canonical_datetime(covered or local - dt.timedelta(minutes=1))

    def _deleted(self, start: dt.datetime, end: dt.datetime) -> dict:
        if end <= start:
            end = start + dt.timedelta(minutes=1)
        return self.client.get_deleted(self.sync.sobject, start, end)

    def apply_hard_deletes(self) -> None:
        """Remove what getDeleted listed, then what a resync did not see (`sweep`) or, when
        deletions could not be listed, what the id reconcile finds."""
        ids = list(self.deleted)
        for begin in range(0, len(ids), CHUNK):
            chunk = ids[begin:begin + CHUNK]
            kept = self._restored(chunk)
            self._remove([rid for rid in chunk if rid not in kept], kept=kept)
        if self.sweep_since is not None:
            self.sweep()
        elif self.reconcile:
            self.reconcile_ids()

    def sweep(self) -> None:
        """After a resync read every record: remove what the hub holds from this sync that the
        scan did not see (`SourceRecord.seen_at` older than the resync's start).

        A resync resumed after a crash keeps its start, so what its first part saw counts.
        Without a filter every live record was read, so the unseen are gone from Salesforce;
        with one, an unseen record may only have left the filter, so those still live are kept
        (one `Id IN` query per few hundred unseen).
        """
        sync = self.sync
        unseen = list(SourceRecord.objects.filter(source=sync.source).filter(
            Q(seen_at__isnull=True) | Q(seen_at__lt=self.sweep_since))
            .values_list("record_id", flat=True).iterator(chunk_size=CHUNK))
        for begin in range(0, len(unseen), CHUNK):
            chunk = unseen[begin:begin + CHUNK]
            live: set[str] = set()
            if sync.filter.strip():
                for start in range(0, len(chunk), IDS_PER_QUERY):
                    live |= self._live(chunk[start:start + IDS_PER_QUERY])
            self._remove([rid for rid in chunk if rid not in live])

    def _restored(self, ids: list[str]) -> set[str]:
        """Listed ids restored from the recycle bin since: keep them.

        The list was read before the scan, which may have applied a record restored since,
        at a SystemModstamp later than its deletion. Times are to the second, so a record
        applied at the very second of its deletion is kept only if Salesforce still has it.
        """
        applied = dict(select_in(SourceRecord.objects.filter(source=self.sync.source),
                                 ["record_id", "modstamp"], record_id=ids))
        kept, tied = set(), []
        for record_id in ids:
            # A modstamp of "deleted" marks a record already recorded as deleted.
            stamp, deleted = applied.get(record_id, ""), self.deleted[record_id]
            if deleted and stamp[:1].isdigit():
                if stamp > deleted:
                    kept.add(record_id)
                elif stamp == deleted:
                    tied.append(record_id)
        for begin in range(0, len(tied), IDS_PER_QUERY):
            kept |= self._live(tied[begin:begin + IDS_PER_QUERY])
        return kept

    def _live(self, ids: list[str]) -> set[str]:
        soql = build_soql(["Id"], self.sync.sobject, [id_in(ids)], ordered=False)
        return {str(record["Id"]) for page in self.client.query_pages(soql) for record in page}

    def reconcile_ids(self) -> None:
        """Remove what the hub holds from this sync for ids Salesforce no longer has (live)."""
        sync = self.sync
        live: set[str] = set()
        for page in self.client.query_pages(build_soql(["Id"], sync.sobject, [], ordered=False),
                                            batch_size=2000):
            live.update(str(r["Id"]) for r in page)
            self.claim.beat()
        stale = [rid for rid in SourceRecord.objects.filter(source=sync.source)
                 .values_list("record_id", flat=True).iterator(chunk_size=CHUNK)
                 if rid not in live]
        for begin in range(0, len(stale), CHUNK):
            self._remove(stale[begin:begin + CHUNK])

    def _remove(self, ids: list[str], kept: set[str] = frozenset()) -> None:
        self.applier.remove(ids, renew=self.claim.renew, kept=[
            Result(record_id, Outcome.UNCHANGED, message=RESTORED) for record_id in kept])


def _stamp(value: object) -> str:
    """getDeleted's deletedDate in the canonical form SystemModstamps are kept in ("" if none)."""
    moment = parse_datetime(str(value or ""))
    return canonical_datetime(moment) if moment is not None else ""
