"""The page applier: one page of Salesforce records into the hub, in one transaction.

`prepare` makes a page ready off the database (on the read-ahead thread, or for a Bulk API job
in a forked helper process, which hands the page back pickled); `apply` then
writes it in the run's thread: hub writes, record logs, run counters and the position the page
reached (`checkpoint`), all in one transaction, so a crash resumes after the last page applied.
`remove` does the same for records Salesforce deleted. Scanners and the deletions pass are
handed an applier; it never calls back into them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F

from logs.models import RecordLog
from mappings.mapping import Format, Mapping
from syncs.cursor import Cursor
from workspace.hub import HubWriter, Item, Result
from workspace.items import COUNTER_OF, Outcome

if TYPE_CHECKING:
    from mappings.transform import Transformer
    from syncs.loop_pull import Exchanged, PullLoop
    from syncs.models import SyncRun
    from workspace.models import ObjectType

Checkpoint = Callable[[Cursor], None]


@dataclass(slots=True)
class Page:
    """A page of records made ready off the database (`PageApplier.prepare`)."""

    fetched: int
    items: list[Item]
    failed: list[Result]
    gone: list[str]  # ids of the records Salesforce reports deleted (IsDeleted)
    tail: tuple[str, str]  # the greatest (SystemModstamp, Id)
    exchanged: Exchanged | None = None  # the values the two-way loop compares

    def __reduce__(self) -> tuple:
        """Pickled with its items as plain tuples: a page prepared in a helper process is
        unpickled in the run's thread, and a slotted dataclass's own pickling costs several
        times more there (a Python `__setstate__` per item)."""
        return (_page, (self.fetched, list(map(_item_values, self.items)), self.failed,
                        self.gone, self.tail))


_item_values = attrgetter(*(field.name for field in fields(Item)))


def _page(fetched: int, items: list[tuple], failed: list[Result], gone: list[str],
          tail: tuple[str, str]) -> Page:
    return Page(fetched, [Item(*values) for values in items], failed, gone, tail)


class PageApplier:
    """Applies pages of one run: transform, hub write, logs, counters and checkpoint.

    `mark_deleted` keeps deleted records in the hub marked deleted; `rechecking` (a refresh
    pass) logs only what differs from the hub.
    """

    def __init__(self, run: SyncRun, mapping: Mapping, transformer: Transformer,
                 writer: HubWriter, object_type: ObjectType | None, *,
                 mark_deleted: bool, loop: PullLoop | None = None) -> None:
        self.run = run
        self.mapping = mapping
        self.transformer = transformer
        self.writer = writer
        self.object_type = object_type
        self.mark_deleted = mark_deleted
        self.loop = loop
        self.rechecking = False

    def recheck(self, writer: HubWriter) -> None:
        """From now on compare records with the hub (a refresh pass), writing with `writer`."""
        self.writer, self.rechecking = writer, True

    def prepare(self, records: list[dict]) -> Page:
        """A page made ready for `apply`. It runs on the thread that reads pages ahead, or in a
        copy of this process (bulk), so it must not touch the database."""
        live, gone = [], []
        for record in records:
            (gone if record.get("IsDeleted") in (True, "true") else live).append(record)
        items, failed = self.transformer.page(live)
        if len(items) == len(records):
            keys = ((item.modstamp, item.key) for item in items)
        else:
            keys = ((self.transformer.modstamp(r), str(r.get("Id") or "")) for r in records)
        return Page(len(records), items, failed, [str(r["Id"]) for r in gone],
                    max(keys, default=("", "")),
                    self.loop.raw(live) if self.loop is not None and items else None)

    def apply(self, page: Page, *, seen_at: str, checkpoint: Checkpoint) -> Cursor:
        """Apply one page in one transaction and `checkpoint(tail)` in it; the page's tail."""
        tail = Cursor(*page.tail, seen_at)
        with transaction.atomic():
            self.writer.seen([result.key for result in page.failed])
            loop, exchanged = self.loop, page.exchanged
            conflicts = loop.before(page.items, exchanged) if loop and exchanged else []
            written = self.write(page.items)
            if loop and exchanged:
                loop.after(written, page.items, exchanged)
            results = page.failed + written + conflicts
            if page.gone:
                results += self.delete(page.gone)
            self.record(results, fetched=page.fetched)
            checkpoint(tail)
        return tail

    def remove(self, ids: list[str], *, renew: Callable[[], None],
               kept: list[Result] = ()) -> None:
        """Apply deletions of `ids` (and log `kept` results) in one transaction with `renew()`."""
        with transaction.atomic():
            renew()
            self.record(self.delete(ids) + list(kept), fetched=0)

    def delete(self, ids: list[str]) -> list[Result]:
        """Records deleted in Salesforce: out of the hub (or marked), their links forgotten."""
        if self.loop is not None:
            self.loop.forget(ids)
        return self.writer.delete(ids, mark=self.mark_deleted)

    def write(self, items: list[Item]) -> list[Result]:
        if not items:
            return []
        writer, shape = self.writer, self.mapping.format
        if shape == Format.PERSON:
            return writer.people(items)
        if shape == Format.EVENT:
            return writer.events(items)
        if shape == Format.OBJECT:
            return writer.objects(self.object_type, items)
        return writer.relationships(self.object_type, items)

    def record(self, results: list[Result], *, fetched: int) -> None:
        """Record logs and run counters, inside the page's transaction."""
        counts = Counter(COUNTER_OF[r.outcome] for r in results)
        counts["fetched"] = fetched
        type(self.run).objects.filter(pk=self.run.pk).update(**{
            name: F(name) + value for name, value in counts.items()})
        RecordLog.write([r for r in results if self.logged(r)], direction=RecordLog.Direction.IN,
                        sobject=self.mapping.sobject, run_id=self.run.pk,
                        sync_id=self.run.sync_id)

    def logged(self, result: Result) -> bool:
        """Whether a result goes in the record logs: not the records an overlap window re-read
        and the hub already had, nor those a refresh found as they were."""
        if result.error_code:
            return True
        if result.outcome == Outcome.SKIPPED:
            return False
        return not (self.rechecking and result.outcome == Outcome.UNCHANGED
                    and not result.message)
