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
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connections.client import SalesforceClient
from connections.errors import QuotaExhausted, SalesforceError
from logs.models import RecordLog
from mappings.transform import Transformer, UnknownField
from mappings.values import parse_datetime
from syncs import conf
from syncs.cursor import Cursor
from syncs.deletions import Deletions
from syncs.models import Sync, SyncRun
from syncs.scans import Scans
from workspace.bulk import insert
from workspace.hub import HubWriter, Item, Result

logger = logging.getLogger(__name__)

COUNTER_OF = {"created": "created", "updated": "updated", "unchanged": "skipped",
              "skipped": "skipped", "conflict": "conflicts", "failed": "failed",
              "deleted": "deleted"}
LOG_COLUMNS = ["created_at", "direction", "sync", "run", "sobject", "record_id", "hub_ref",
               "outcome", "error_code", "message", "changed_fields"]


@dataclass(slots=True)
class Page:
    """A page of records made ready off the database (`Pull.prepare`)."""

    fetched: int
    items: list[Item]
    failed: list[Result]
    gone: list[str]  # ids of the records Salesforce reports deleted (IsDeleted)
    tail: tuple[str, str]  # the greatest (SystemModstamp, Id)


class LostClaim(Exception):
    """Another worker took the sync over (our claim expired): stop without writing."""


def run_sync(sync_id: int, *, trigger: str = "schedule", full: bool = False) -> SyncRun | None:
    """Run one sync now, in this process; None when it is unknown or already running."""
    sync = Sync.objects.filter(pk=sync_id).select_related("connection", "object_type").first()
    if sync is None or not sync.claim():
        return None
    requested = sync.run_requested
    Sync.objects.filter(pk=sync.pk, claim_token=sync.claim_token).update(run_requested="")
    if requested == Sync.Trigger.RESYNC or full:
        trigger = Sync.Trigger.RESYNC
    elif requested and trigger == Sync.Trigger.SCHEDULE:
        trigger = requested
    pull = Pull(sync, trigger)
    try:
        run = pull.run()
    finally:
        again = Sync.objects.filter(pk=sync.pk).values_list("run_requested", flat=True).first()
        if again:
            next_at = timezone.now()
        elif pull.deferred:
            next_at = timezone.now() + dt.timedelta(
                minutes=conf.get("FORCEBRIDGE_QUOTA_RETRY_MINUTES"))
        else:
            next_at = sync.schedule_next() if sync.enabled else None
        sync.release(next_run_at=next_at)
    return run


class Pull(Scans):
    """One run; each step is a method so tests and benchmarks can follow it."""

    def __init__(self, sync: Sync, trigger: str) -> None:
        self.sync = sync
        self.trigger = trigger
        self.deferred = False
        self.overlap = dt.timedelta(seconds=conf.get("FORCEBRIDGE_SYNC_OVERLAP_SECONDS"))
        self.cursor = Cursor(sync.cursor_modstamp, sync.cursor_id, sync.cursor_seen_at)
        self.client: SalesforceClient | None = None
        self.refresh_from = Cursor(sync.refresh_modstamp, sync.refresh_id)
        self.rechecking = False  # in a refresh pass (see `refresh`)

    def run(self) -> SyncRun:
        run = self.run_row = SyncRun.objects.create(sync=self.sync, trigger=self.trigger)
        Sync.objects.filter(pk=self.sync.pk).update(
            last_status=SyncRun.Status.RUNNING, last_run_at=run.started_at, last_run_id=run.pk)
        status, error, lost = SyncRun.Status.SUCCEEDED, "", False
        try:
            self.client = SalesforceClient.for_connection(self.sync.connection)
            self.execute()
        except QuotaExhausted as exc:
            self.deferred = True
            status, error = SyncRun.Status.DEFERRED, f"{exc} The run resumes from its cursor."
        except LostClaim as exc:
            status, error, lost = SyncRun.Status.FAILED, str(exc), True
        except (SalesforceError, ValidationError, UnknownField) as exc:
            status, error = SyncRun.Status.FAILED, _message(exc)
        except Exception as exc:  # noqa: BLE001 - recorded on the run and logged with traceback
            logger.exception("sync %s: run %s crashed", self.sync.pk, run.pk)
            status, error = SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
        finally:
            if self.client is not None:
                self.client.close()
        run.refresh_from_db()
        run.api_calls = self.client.api_calls if self.client else 0
        # A run that lost its claim leaves the sync's status to the worker that holds it now.
        run.finish(status, error, on_sync=not lost)
        return run

    # -- steps ---------------------------------------------------------------------------------

    def execute(self) -> None:
        sync, client = self.sync, self.client
        if sync.data_format in (Sync.Format.OBJECT, Sync.Format.RELATIONSHIP) \
                and sync.object_type is None:
            raise ValidationError({"object_type": "Choose the custom object name."})
        if self.trigger == Sync.Trigger.RESYNC:
            self.start_over()
        first = not self.cursor
        self.transformer = Transformer.for_sync(sync, client.describe)
        self.writer = HubWriter(sync.source, force=sync.resync_pending)
        self.deletions = Deletions(self, client)
        seen_at = self.deletions.probe()
        if first:
            self.read_everything(seen_at)
        else:
            self.set_mode("incremental")
            self.scan_rest(lambda: self.cursor, self.overlap, include_deleted=True,
                           seen_at=seen_at, checkpoint=self.checkpoint)
            if sync.refresh_due():
                self.refresh(seen_at)
        self.deletions.apply_hard_deletes()
        self.complete(seen_at, whole=first or self.rechecking)

    def start_over(self) -> None:
        """"Resync all data": forget the cursor; every record is rewritten until the scan ends."""
        self.sync.clear_cursor()
        self.sync.resync_pending = True
        self.cursor = Cursor()
        self._save_sync(["cursor_modstamp", "cursor_id", "cursor_seen_at", "deleted_since",
                         "resync_pending", "refresh_modstamp", "refresh_id"])

    def read_everything(self, seen_at: str) -> None:
        """A first run (or a resync): every record matching the filter."""
        if self.use_bulk():
            self.set_mode("bulk")
            last = self.scan_bulk(include_deleted=False, seen_at=seen_at, checkpoint=self.hold)
            if last.after(self.cursor):
                last.seen_at = seen_at
                self.save_cursor(last)
        else:
            self.set_mode("full")
            self.scan_rest(lambda: self.cursor, self.overlap, include_deleted=False,
                           seen_at=seen_at, checkpoint=self.checkpoint)

    def refresh(self, seen_at: str) -> None:
        """After the incremental pass, read every record again (formula fields change without
        a SystemModstamp) and update what differs.

        Records the hub has at the same SystemModstamp are compared instead of skipped, and
        only changes are logged. A REST refresh saves its own position with every page and
        resumes from it next run; the cursor is left alone. A bulk one starts over if stopped.
        """
        self.rechecking = True
        self.writer = HubWriter(self.sync.source, force=self.sync.resync_pending, recheck=True)
        if not self.sync.refresh_modstamp and self.use_bulk():
            self.set_mode("refresh-bulk")
            self.scan_bulk(include_deleted=True, seen_at=seen_at, checkpoint=self.hold)
        else:
            self.set_mode("refresh")
            self.scan_rest(lambda: self.refresh_from, dt.timedelta(0), include_deleted=True,
                           seen_at=seen_at, checkpoint=self.checkpoint_refresh)
        self.save_refresh(Cursor())  # finished: no refresh under way

    def set_mode(self, mode: str) -> None:
        self.run_row.mode = mode
        SyncRun.objects.filter(pk=self.run_row.pk).update(mode=mode)

    # -- one page ------------------------------------------------------------------------------

    def prepare(self, records: list[dict]) -> Page:
        """A page made ready for `apply`. It runs on the thread that reads pages ahead, so it
        must not touch the database: the hub writes happen in `apply`, in the run's thread."""
        live, gone = [], []
        for record in records:
            (gone if record.get("IsDeleted") in (True, "true") else live).append(record)
        items, failed = self.transformer.page(live)
        if len(items) == len(records):
            keys = ((item.modstamp, item.key) for item in items)
        else:
            keys = ((self.transformer.modstamp(r), str(r.get("Id") or "")) for r in records)
        return Page(len(records), items, failed, [str(r["Id"]) for r in gone],
                    max(keys, default=("", "")))

    def apply(self, page: Page, *, seen_at: str, checkpoint: Callable[[Cursor], None]) -> Cursor:
        """Apply one page in one transaction: hub, logs, counters and `checkpoint(tail)` (the
        position the page reached, or only the claim renewed)."""
        tail = Cursor(*page.tail, seen_at)
        with transaction.atomic():
            results = page.failed + self.write(page.items)
            if page.gone:
                results += self.writer.delete(page.gone,
                                              mark=self.sync.on_delete == Sync.OnDelete.MARK)
            self.record(results, fetched=page.fetched)
            checkpoint(tail)
        return tail

    def write(self, items: list) -> list[Result]:
        if not items:
            return []
        writer, fmt = self.writer, self.sync.data_format
        if fmt == Sync.Format.PERSON:
            return writer.people(items)
        if fmt == Sync.Format.EVENT:
            return writer.events(items)
        if fmt == Sync.Format.OBJECT:
            return writer.objects(self.sync.object_type, items)
        return writer.relationships(self.sync.object_type, items)

    def record(self, results: list[Result], *, fetched: int) -> None:
        """Record logs (bulk) and run counters, inside the page's transaction."""
        counts = Counter(COUNTER_OF[r.outcome] for r in results)
        counts["fetched"] = fetched
        run = self.run_row
        SyncRun.objects.filter(pk=run.pk).update(**{
            name: F(name) + value for name, value in counts.items()})
        now = timezone.now()
        insert(RecordLog, LOG_COLUMNS, [
            (now, "in", self.sync.pk, run.pk, self.sync.sobject, r.key[:18], r.ref, r.outcome,
             r.error_code, r.message, r.changed)
            for r in results if self.touched(r)])

    def touched(self, result: Result) -> bool:
        """Whether a result goes in the record logs: not the records an overlap window re-read
        and the hub already had, nor those a refresh found as they were."""
        if result.error_code:
            return True
        if result.outcome == "skipped":
            return False
        return not (self.rechecking and result.outcome == "unchanged" and not result.message)

    # -- state ---------------------------------------------------------------------------------

    def save_cursor(self, cursor: Cursor) -> None:
        self.cursor = Cursor(cursor.modstamp, cursor.record_id, cursor.seen_at)
        self.sync.cursor_modstamp = cursor.modstamp
        self.sync.cursor_id = cursor.record_id
        self.sync.cursor_seen_at = cursor.seen_at
        self._save_sync(["cursor_modstamp", "cursor_id", "cursor_seen_at"])

    def save_refresh(self, position: Cursor) -> None:
        self.refresh_from = Cursor(position.modstamp, position.record_id)
        self.sync.refresh_modstamp = position.modstamp
        self.sync.refresh_id = position.record_id
        self._save_sync(["refresh_modstamp", "refresh_id"])

    # Page checkpoints (inside the page's transaction): move a position, or renew the claim.

    def checkpoint(self, tail: Cursor) -> None:
        if tail.after(self.cursor):
            self.save_cursor(tail)
        else:
            self.hold_claim()

    def checkpoint_refresh(self, tail: Cursor) -> None:
        if tail.after(self.refresh_from):
            self.save_refresh(tail)
        else:
            self.hold_claim()

    def hold(self, tail: Cursor) -> None:
        """The checkpoint of an unordered (bulk) page: nothing to save but the claim."""
        self.hold_claim()

    def complete(self, seen_at: str, *, whole: bool) -> None:
        """The scan finished: everything visible at `seen_at` is in; deletions continue from it."""
        if whole:
            self.sync.refreshed_at = self.run_row.started_at
        self.sync.cursor_seen_at = seen_at
        # Without Salesforce's time, the next run still lists deletions from this one's start.
        self.sync.deleted_since = (parse_datetime(seen_at) if seen_at
                                   else self.deletions.local_since)
        self.sync.resync_pending = False
        self.cursor.seen_at = seen_at
        self._save_sync(["cursor_seen_at", "deleted_since", "resync_pending", "refreshed_at"])

    def hold_claim(self) -> None:
        """Inside a page's transaction: renew the claim, or roll the page back if it was lost."""
        self._save_sync([])

    def _save_sync(self, fields: list[str]) -> None:
        """Write state only while we still hold the claim, else roll the page back.

        Every write also renews `claimed_at`, so a long run (a manual one has no task timeout)
        is never taken over as if its worker had died.
        """
        values = {name: getattr(self.sync, name) for name in fields}
        if not Sync.objects.filter(pk=self.sync.pk, claim_token=self.sync.claim_token
                                   ).update(claimed_at=timezone.now(), **values):
            raise LostClaim(f"sync {self.sync.pk} was claimed by another worker")


def _message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return "; ".join(exc.messages)
    return str(exc)

