"""The pull engine: one run of one sync, from Salesforce into the hub.

`run_sync(sync_id)` claims the sync (or returns None if another worker holds it), then
`Pull.run()`:
1. checks the sync against describe and builds the transformer;
2. asks getDeleted for the Salesforce time and the hard deletes since the last run;
3. scans (syncs/scans.py): a first run reads everything matching the filter (a Bulk API 2.0
   job at or above the bulk threshold, REST pages otherwise); later runs read from the cursor
   with queryAll, so soft-deleted rows arrive with IsDeleted = true, and every `refresh_days`
   then read everything again from the refresh's own position, updating only what differs;
4. applies each page in one transaction: hub writes, record logs, run counters and the
   position it reached, so a crash resumes after the last page applied;
5. applies the hard deletes, finishes the cursor, and releases the sync with its next due time.
QuotaExhausted stops the run as "deferred" with the cursor kept; QUERY_TIMEOUT halves the
SystemModstamp window and tries again.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Q

from connections.client import SalesforceClient
from logs.models import RecordLog
from mappings.mapping import Format, Mapping
from mappings.transform import Transformer, UnknownField
from syncs import conf
from syncs.applier import PageApplier
from syncs.cursor import Cursor
from syncs.deletions import Deletions
from syncs.loop_pull import PullLoop
from syncs.models import Sync, SyncRun
from syncs.position import Positions
from syncs.queue import Claim, Trigger, claim
from syncs.runs import run_held
from syncs.scans import Reading, Scanner
from workspace.hub import HubWriter
from workspace.models import SourceRecord


def run_sync(sync_id: int, *, trigger: str = Trigger.SCHEDULE, full: bool = False,
             wanted: Q | None = None) -> SyncRun | None:
    """Run one sync now, in this process; None when it is unknown or already running (or, for
    a worker's wake-up, no longer `wanted`: syncs/queue.py).

    1. Claim the sync (syncs/queue.py); take the operator's request it answers.
    2. Run it (`Pull.run`).
    3. Release the claim with the next due time, whatever happened.
    """
    sync = Sync.objects.filter(pk=sync_id).select_related("connection", "object_type").first()
    held = claim(sync, wanted) if sync is not None else None
    if held is None:
        return None
    pull = None
    try:
        requested = held.take_request()
        start_over = Trigger.RESYNC in (requested, trigger) or full
        if start_over or sync.resync_pending:
            # A resync resumed after a crash or a takeover is still the resync it was asked as.
            trigger = Trigger.RESYNC
        elif requested and trigger == Trigger.SCHEDULE:
            trigger = requested
        pull = Pull(sync, held, trigger, start_over=start_over)
        return pull.run()
    finally:
        held.release(deferred=pull is not None and pull.deferred)


class Pull:
    """One run of one sync: builds the parts, runs the steps in order, closes the run."""

    def __init__(self, sync: Sync, held: Claim, trigger: str, *, start_over: bool = False) -> None:
        self.sync = sync
        self.claim = held
        self.trigger = trigger
        self.start_over = start_over
        self.deferred = False

    def run(self) -> SyncRun:
        """Open the run, execute it with the claim's heartbeat, close it (syncs/runs.py)."""
        run = SyncRun.objects.create(sync=self.sync, trigger=self.trigger)
        self.deferred = run_held(self.claim, run, self.sync.connection,
                                 lambda client: self.execute(run, client),
                                 resumes="The run resumes from its cursor.",
                                 known=(UnknownField,))
        return run

    def execute(self, run: SyncRun, client: SalesforceClient) -> None:
        """The steps of a run, top to bottom."""
        sync = self.sync
        errors = sync.mapping_errors()
        if errors:
            raise ValidationError(errors)
        mapping = sync.mapping()
        positions = Positions(sync, self.claim)
        if self.start_over:
            positions.start_over()
        # A resync reads every record, even when resumed from its cursor after a crash.
        whole = not positions.cursor or sync.resync_pending
        first = not positions.cursor
        transformer = Transformer.for_mapping(mapping, client.describe)
        applier = self.applier(run, mapping, transformer)
        fields = transformer.select()
        if applier.loop is not None:
            fields = applier.loop.select(fields, client.describe(sync.sobject))
        scanner = self.scanner(client, fields, applier)
        deletions = Deletions(sync, client, applier, self.claim, reconcile=sync.resync_pending,
                              sweep_since=sync.resync_started_at if sync.resync_pending else None)
        seen_at = deletions.probe(incremental=not first)
        overlap = dt.timedelta(seconds=conf.get("FORCEBRIDGE_SYNC_OVERLAP_SECONDS"))
        if first:
            read_everything(run, scanner, positions, seen_at, overlap)
        else:
            set_mode(run, "incremental")
            scanner.rest(lambda: positions.cursor, overlap, include_deleted=True,
                         seen_at=seen_at, checkpoint=positions.checkpoint)
            if sync.refresh_due():
                refresh(run, scanner, positions, seen_at)
        again = list(sync.retry_ids)
        if mapping.format == Format.PERSON and not mapping.by_email:
            again += split_people(sync)
        if again:  # records refused before, read again ("Retry failed records", merges)
            scanner.ids(sorted(set(again)), seen_at=seen_at, checkpoint=positions.hold)
            positions.retried(sync.retry_ids)
        deletions.apply_hard_deletes()
        whole = whole or applier.rechecking
        positions.complete(seen_at, whole_since=run.started_at if whole else None,
                           local_since=deletions.local_since)

    # The parts of a run (tests build variants of them).

    def applier(self, run: SyncRun, mapping: Mapping, transformer: Transformer) -> PageApplier:
        sync = self.sync
        return PageApplier(run, mapping, transformer,
                           HubWriter(sync.source, force=sync.resync_pending),
                           sync.object_type, mark_deleted=sync.deleted_marked,
                           loop=PullLoop.for_sync(sync, transformer,
                                                  force=sync.resync_pending))

    def scanner(self, client: SalesforceClient, fields: list[str],
                applier: PageApplier) -> Scanner:
        sync = self.sync
        return Scanner(client, Reading(sync.sobject, sync.filter, sync.batch_size,
                                       sync.bulk_threshold, f"sync {sync.pk}"), fields, applier)


def read_everything(run: SyncRun, scanner: Scanner, positions: Positions, seen_at: str,
                    overlap: dt.timedelta) -> None:
    """A first run (or a resync): every record matching the filter."""
    bulk = scanner.use_bulk()
    if scanner.counted is not None:
        SyncRun.objects.filter(pk=run.pk).update(total=scanner.counted)  # for its progress bar
    if bulk:
        set_mode(run, "bulk")
        last = scanner.bulk(include_deleted=False, seen_at=seen_at, checkpoint=positions.hold,
                            resume=positions.sync.bulk_state, keep=positions.save_bulk)
        if last.after(positions.cursor):
            last.seen_at = seen_at
            positions.save_cursor(last)
    else:
        set_mode(run, "full")
        scanner.rest(lambda: positions.cursor, overlap, include_deleted=False,
                     seen_at=seen_at, checkpoint=positions.checkpoint)


def refresh(run: SyncRun, scanner: Scanner, positions: Positions, seen_at: str) -> None:
    """After the incremental pass, read every record again (formula fields change without
    a SystemModstamp) and update what differs.

    Records the hub has at the same SystemModstamp are compared instead of skipped, and
    only changes are logged. A REST refresh saves its own position with every page and
    resumes from it next run; the cursor is left alone. A bulk one starts over if stopped.
    """
    sync = positions.sync
    scanner.applier.recheck(HubWriter(sync.source, force=sync.resync_pending, recheck=True))
    if not positions.refresh_from and scanner.use_bulk():
        set_mode(run, "refresh-bulk")
        scanner.bulk(include_deleted=True, seen_at=seen_at, checkpoint=positions.hold,
                     resume=sync.bulk_state, keep=positions.save_bulk)
    else:
        set_mode(run, "refresh")
        scanner.rest(lambda: positions.refresh_from, dt.timedelta(0), include_deleted=True,
                     seen_at=seen_at, checkpoint=positions.checkpoint_refresh)
    positions.save_refresh(Cursor())  # finished: no refresh under way


def split_people(sync: Sync) -> list[str]:
    """Records of this sync refused because a lead's person held their e-mail, never applied
    since: people split in two before such a person and its lead were merged (workspace/merge.py).
    Reading them again merges them."""
    refused = set(RecordLog.objects.filter(
        sync=sync, error_code="DUPLICATE_EMAIL",
        message__contains="a person identified by e-mail only").values_list(
        "record_id", flat=True).distinct())
    applied = set(SourceRecord.objects.filter(source=sync.source, record_id__in=refused)
                  .values_list("record_id", flat=True))
    return sorted(refused - applied)


def set_mode(run: SyncRun, mode: str) -> None:
    run.mode = mode
    SyncRun.objects.filter(pk=run.pk).update(mode=mode)
