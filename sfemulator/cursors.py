"""Server-side query cursors behind `nextRecordsUrl` locators.

A cursor keeps the ordered ids a query matched; pages are projected from the current records
when they are fetched. Like Salesforce, the org keeps only a few cursors open per user (10 by
default): opening one more releases the oldest, whose locator then answers
INVALID_QUERY_LOCATOR. Cursors idle for 15 minutes expire too.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .ids import IdFactory

MAX_OPEN_CURSORS = 10
IDLE_SECONDS = 15 * 60


@dataclass
class Prefetch:
    """The next page, rendered in the background while the client digests the current one.

    `data_version` is the org's data version when rendering started; the page is served only
    if nothing changed since, so prefetching never shows a client stale records.
    """

    offset: int
    api_version: str
    data_version: tuple[int, int]
    ready: threading.Event = field(default_factory=threading.Event)
    body: bytes | None = None


@dataclass
class Cursor:
    result: Any
    version: str
    batch_size: int
    touched: float = field(default_factory=time.monotonic)
    prefetch: Prefetch | None = None


class CursorStore:
    """Open cursors by locator id, oldest first; `limit` is how many stay open at once."""

    def __init__(self, limit: int = MAX_OPEN_CURSORS) -> None:
        self._lock = threading.Lock()
        self._ids = IdFactory()
        self._open: OrderedDict[str, Cursor] = OrderedDict()
        self.limit = limit

    def reset(self) -> None:
        with self._lock:
            self._open.clear()

    def open(self, cursor: Cursor) -> str:
        locator = self._ids.new("01g")
        with self._lock:
            self._open[locator] = cursor
            while len(self._open) > max(1, self.limit):
                self._open.popitem(last=False)
        return locator

    def get(self, locator: str) -> Cursor | None:
        now = time.monotonic()
        with self._lock:
            cursor = self._open.get(locator)
            if cursor is None:
                return None
            if now - cursor.touched > IDLE_SECONDS:
                del self._open[locator]
                return None
            # Reading a cursor keeps it alive but not young: Salesforce releases the oldest
            # opened, however recently it was read.
            cursor.touched = now
            return cursor

    def __len__(self) -> int:
        return len(self._open)
