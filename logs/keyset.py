"""Pages of record logs by position, not by offset: the cost of a page never grows with the log.

Logs are read newest first, ordered by (created_at, id). A page ends at a position (the last
row's timestamp and id); the next page starts just past it, which is an index seek whatever
filter applies. No page counts the rows that match: "Older" appears when one more row exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from logs.models import RecordLog

PER_PAGE = 100


@dataclass(frozen=True)
class Position:
    created_at: dt.datetime
    id: int

    @classmethod
    def parse(cls, token: str) -> Position | None:
        """`2026-01-02T03:04:05.123456+00:00_123` (what `str` gives), or None if malformed."""
        stamp, _, pk = token.rpartition("_")
        when = parse_datetime(stamp) if stamp else None
        return cls(when, int(pk)) if when and pk.isdigit() else None

    @classmethod
    def of(cls, log: RecordLog) -> Position:
        return cls(log.created_at, log.pk)

    def __str__(self) -> str:
        return f"{self.created_at.isoformat()}_{self.id}"

    def older(self) -> Q:
        # `created_at <= t` bounds the index range; the rest only skips the ties already shown.
        return Q(created_at__lte=self.created_at) & ~Q(created_at=self.created_at,
                                                        id__gte=self.id)

    def newer(self) -> Q:
        return Q(created_at__gte=self.created_at) & ~Q(created_at=self.created_at,
                                                        id__lte=self.id)


@dataclass
class Page:
    rows: list[RecordLog]
    older: Position | None  # where the next older page starts, if there is one
    newer: Position | None  # where the previous (newer) page ends, if there is one


def page_of(logs: QuerySet[RecordLog] | list[QuerySet[RecordLog]], *,
            before: Position | None = None, after: Position | None = None,
            per_page: int = PER_PAGE) -> Page:
    """One page of `logs` (ordered newest first): the newest, the one before `before`
    (older rows), or the one after `after` (newer rows).

    `logs` may be a list of disjoint querysets whose union is meant (a connection's logs, one
    per sync): each is read by its own index range and the pages are merged here, because an
    IN over several syncs cannot be read in time order from one index and would be sorted.
    """
    parts = logs if isinstance(logs, list) else [logs]
    if after is not None:
        rows = _merged([part.filter(after.newer()).order_by("created_at", "id")
                        for part in parts], per_page + 1, newest_first=False)
        more_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return Page(rows, Position.of(rows[-1]) if rows else after,
                    Position.of(rows[0]) if more_newer and rows else None)
    if before is not None:
        parts = [part.filter(before.older()) for part in parts]
    rows = _merged(parts, per_page + 1, newest_first=True)
    more_older = len(rows) > per_page
    rows = rows[:per_page]
    return Page(rows, Position.of(rows[-1]) if more_older else None,
                Position.of(rows[0]) if before is not None and rows else None)


def _merged(parts: list[QuerySet[RecordLog]], limit: int, *,
            newest_first: bool) -> list[RecordLog]:
    """The first `limit` rows of the union of `parts` (each already ordered the same way)."""
    rows = [row for part in parts for row in part[:limit]]
    if len(parts) > 1:
        rows.sort(key=lambda row: (row.created_at, row.pk), reverse=newest_first)
    return rows[:limit]
