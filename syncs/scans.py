"""How a run reads Salesforce: REST pages from a position, or one Bulk API 2.0 query job.

A `Scanner` is handed the client, what to read and the page applier it feeds. A REST scan reads in (SystemModstamp, Id) order from a position — the sync's cursor,
or a refresh's own — and saves the position with every page; on QUERY_TIMEOUT it halves the
SystemModstamp window and tries again. A bulk scan reads everything in one job, unordered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from connections.bulk_api import BulkPosition
from connections.errors import SalesforceRejected
from mappings.values import parse_datetime
from syncs import conf
from syncs.cursor import IDS_PER_QUERY, Cursor, build_soql, id_in, window

if TYPE_CHECKING:
    from connections.client import SalesforceClient
    from syncs.applier import PageApplier

logger = logging.getLogger(__name__)
# SystemModstamp cannot be older than Salesforce itself: the lower edge of a split window.
EARLIEST = dt.datetime(1999, 1, 1, tzinfo=dt.UTC)
Window = tuple[dt.datetime | None, dt.datetime | None]


@dataclass(frozen=True)
class Reading:
    """What a sync reads: the object, its filter, the page size and the bulk threshold."""

    sobject: str
    filter: str
    batch_size: int
    bulk_threshold: int | None
    label: str  # names the sync in log lines


class Scanner:
    """Reads one sync's records and hands each page to the applier."""

    def __init__(self, client: SalesforceClient, reading: Reading, fields: list[str],
                 applier: PageApplier) -> None:
        self.client = client
        self.reading = reading
        self.fields = fields
        self.applier = applier
        self.counted: int | None = None  # the COUNT() use_bulk read, if it read one

    def use_bulk(self) -> bool:
        """Whether reading everything takes a Bulk API 2.0 job (COUNT() at the threshold)."""
        threshold = self.reading.bulk_threshold
        if threshold is None:
            threshold = conf.get("FORCEBRIDGE_BULK_THRESHOLD")
        if threshold <= 0:
            return True
        try:
            count = self.client.count(build_soql(["COUNT()"], self.reading.sobject,
                                                 [self.reading.filter], ordered=False))
        except SalesforceRejected as error:
            if error.error_code != "QUERY_TIMEOUT":
                raise
            # Too many rows even to count in time: exactly the case Bulk API 2.0 is for.
            return True
        self.counted = count
        return count >= threshold

    def soql(self, since: str | None, window_: Window = (None, None), *,
             include_deleted: bool, ordered: bool = True) -> str:
        fields = [*self.fields, "IsDeleted"] if include_deleted else self.fields
        return build_soql(fields, self.reading.sobject,
                          [self.reading.filter, since, window(*window_)], ordered=ordered)

    def rest(self, position: Callable[[], Cursor], overlap: dt.timedelta, *,
                  include_deleted: bool, seen_at: str,
                  checkpoint: Callable[[Cursor], None]) -> None:
        """Read pages from `position()` (less `overlap`); `checkpoint(tail)` saves each page's
        position in its transaction."""
        windows: list[Window] = [(None, None)]
        while windows:
            span = windows.pop(0)
            start = position()
            soql = self.soql(start.condition(overlap), span, include_deleted=include_deleted)
            try:
                for page in self.client.query_pages(soql, include_deleted=include_deleted,
                                                    batch_size=self.reading.batch_size,
                                                    prepare=self.applier.prepare):
                    self.applier.apply(page, seen_at=seen_at, checkpoint=checkpoint)
            except SalesforceRejected as error:
                if error.error_code != "QUERY_TIMEOUT":
                    raise
                windows[:0] = self.split(span, start.lower_bound(overlap), seen_at, error)

    def split(self, span: Window, floor: dt.datetime | None, seen_at: str,
              error: SalesforceRejected) -> list[Window]:
        lo, hi = span
        low = lo or floor or EARLIEST
        high = hi or (parse_datetime(seen_at) if seen_at else timezone.now()) + dt.timedelta(days=1)
        if high - low < dt.timedelta(seconds=1):
            raise error
        middle = low + (high - low) / 2
        logger.info("%s: QUERY_TIMEOUT; splitting %s..%s at %s", self.reading.label, low, high,
                    middle)
        # The upper half keeps an open end when the window had none, so nothing newer is lost.
        return [(low, middle), (middle, hi)]

    def ids(self, record_ids: list[str], *, seen_at: str,
            checkpoint: Callable[[Cursor], None]) -> None:
        """Read these records again (`Id IN (...)`, a few hundred a query) and apply them."""
        for begin in range(0, len(record_ids), IDS_PER_QUERY):
            soql = build_soql(self.fields, self.reading.sobject,
                              [id_in(record_ids[begin:begin + IDS_PER_QUERY])], ordered=False)
            for page in self.client.query_pages(soql, prepare=self.applier.prepare):
                self.applier.apply(page, seen_at=seen_at, checkpoint=checkpoint)

    def bulk(self, *, include_deleted: bool, seen_at: str, checkpoint: Callable[[Cursor], None],
             resume: dict | None = None, keep: Callable[[dict], None] | None = None) -> Cursor:
        """Every record in one Bulk API 2.0 job; its rows come unordered, so no cursor can be
        saved per page: the greatest (SystemModstamp, Id) applied is returned instead.

        With `keep`, the last page cut from each results page saves, in its transaction, where
        the job stands (`keep(state)`: job, next locator, greatest position so far); a later
        scan of the same query given that `resume` state goes on from there instead of running
        the job again.

        Results pages are parsed and prepared in a forked helper process (`apart`), so that
        work runs on another core than this thread's writes instead of taking turns with them
        for the GIL.
        """
        size, prepare_page = self.reading.batch_size, self.applier.prepare

        def prepare(rows: list[dict]) -> list[Any]:
            return [prepare_page(rows[start:start + size]) for start in range(0, len(rows), size)]

        soql = self.soql(None, include_deleted=include_deleted, ordered=False)
        query = hashlib.sha256(f"{include_deleted}:{soql}".encode()).hexdigest()[:16]
        position, last = None, Cursor()
        if keep and resume and resume.get("query") == query:
            position = BulkPosition(resume["job"], resume["locator"])
            last = Cursor(*resume.get("tail", ("", "")))
        for page in self.client.bulk_api.resumable_query(
                soql, include_deleted=include_deleted, prepare=prepare, resume=position,
                apart=True):
            if position is not None and page.position.job_id != position.job_id:
                logger.warning("%s: bulk job %s could not be resumed; read from a new job",
                               self.reading.label, position.job_id)
            position = page.position
            pages = page.prepared
            for number, part in enumerate(pages, start=1):
                step = checkpoint
                if keep is not None and number == len(pages):
                    def step(tail: Cursor, at: BulkPosition = page.position,
                             before: Cursor = last) -> None:
                        best = tail if tail.after(before) else before
                        keep({"query": query, "job": at.job_id, "locator": at.locator,
                              "tail": [best.modstamp, best.record_id]})
                tail = self.applier.apply(part, seen_at=seen_at, checkpoint=step)
                if tail.after(last):
                    last = tail
        return last
