"""Server-side query cursors behind `nextRecordsUrl` locators.

A cursor keeps the ordered ids a query matched (and whether deleted rows were included); pages
are projected from the current records when they are fetched.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .ids import IdFactory

MAX_OPEN_CURSORS = 200
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
    include_deleted: bool
    version: str
    batch_size: int
    touched: float = field(default_factory=time.monotonic)
    prefetch: Prefetch | None = None


class CursorStore:
    """Open cursors by locator id; the least recently used go first, idle ones expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = IdFactory()
        self._open: OrderedDict[str, Cursor] = OrderedDict()

    def reset(self) -> None:
        with self._lock:
            self._open.clear()

    def open(self, cursor: Cursor) -> str:
        locator = self._ids.new("01g")
        with self._lock:
            self._open[locator] = cursor
            while len(self._open) > MAX_OPEN_CURSORS:
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
            cursor.touched = now
            self._open.move_to_end(locator)
            return cursor

    def __len__(self) -> int:
        return len(self._open)
