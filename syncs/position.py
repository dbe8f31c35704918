"""Where a sync's runs have got to, saved only while the run holds the sync's claim.

Two positions: the incremental cursor (syncs/cursor.py says what it means) and the position of
a refresh under way. Each is written through the run's claim (`Claim.renew`), in the same
transaction as the page that reached it, so a run that lost its claim writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from mappings.values import parse_datetime
from syncs.cursor import Cursor

if TYPE_CHECKING:
    from syncs.models import Sync
    from syncs.queue import Claim


class Positions:
    """The cursor and the refresh position of one sync, for one run."""

    def __init__(self, sync: Sync, claim: Claim) -> None:
        self.sync = sync
        self.claim = claim
        self.cursor = Cursor(sync.cursor_modstamp, sync.cursor_id, sync.cursor_seen_at)
        self.refresh_from = Cursor(sync.refresh_modstamp, sync.refresh_id)

    def save(self, **values: Any) -> None:
        """Write sync columns with the claim renewed (LostClaim if it is no longer ours)."""
        for name, value in values.items():
            setattr(self.sync, name, value)
        self.claim.renew(**values)

    def save_cursor(self, cursor: Cursor) -> None:
        self.cursor = Cursor(cursor.modstamp, cursor.record_id, cursor.seen_at)
        self.save(cursor_modstamp=cursor.modstamp, cursor_id=cursor.record_id,
                  cursor_seen_at=cursor.seen_at)

    def save_refresh(self, position: Cursor) -> None:
        self.refresh_from = Cursor(position.modstamp, position.record_id)
        self.save(refresh_modstamp=position.modstamp, refresh_id=position.record_id)

    # Page checkpoints (inside the page's transaction): move a position, or renew the claim.

    def checkpoint(self, tail: Cursor) -> None:
        if tail.after(self.cursor):
            self.save_cursor(tail)
        else:
            self.claim.renew()

    def checkpoint_refresh(self, tail: Cursor) -> None:
        if tail.after(self.refresh_from):
            self.save_refresh(tail)
        else:
            self.claim.renew()

    def hold(self, tail: Cursor) -> None:
        """The checkpoint of an unordered (bulk) page: nothing to save but the claim."""
        self.claim.renew()

    def save_bulk(self, state: dict) -> None:
        """Where a Bulk API query job's reading stands (syncs/scans.py `Scanner.bulk`)."""
        self.save(bulk_state=state)

    def retried(self, record_ids: list[str]) -> None:
        """These records were read again: forget them (others asked for meanwhile stay)."""
        done = set(record_ids)
        stored = type(self.sync).objects.filter(pk=self.sync.pk).values_list(
            "retry_ids", flat=True).first() or []
        self.save(retry_ids=[rid for rid in stored if rid not in done])

    def start_over(self) -> None:
        """"Resync all data": forget every position; every record is rewritten until the scan
        ends."""
        self.cursor, self.refresh_from = Cursor(), Cursor()
        self.save(cursor_modstamp="", cursor_id="", cursor_seen_at="", deleted_since=None,
                  resync_pending=True, resync_started_at=timezone.now(), refresh_modstamp="",
                  refresh_id="", bulk_state={})

    def complete(self, seen_at: str, *, whole_since: dt.datetime | None,
                 local_since: dt.datetime | None) -> None:
        """The scan finished: everything visible at `seen_at` is in; deletions continue from it.

        `whole_since` is when a run that read every record started (it sets `refreshed_at`);
        without Salesforce's time, the next run lists deletions from `local_since`.
        """
        values: dict[str, Any] = {
            "cursor_seen_at": seen_at, "resync_pending": False, "bulk_state": {},
            "resync_started_at": None,
            "deleted_since": parse_datetime(seen_at) if seen_at else local_since}
        if whole_since is not None:
            values["refreshed_at"] = whole_since
        self.cursor.seen_at = seen_at
        self.save(**values)
