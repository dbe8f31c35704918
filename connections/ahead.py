"""Reading the next page while the caller applies the last one.

A sync spends most of a page's time writing it to the database, and Salesforce most of a
call's time preparing the next page. `ReadAhead` sends one idempotent read on a helper thread
so that the two overlap.

The helper thread never touches the database: Django connections are per thread, and the
caller's transaction is invisible to another one. It is handed a `Reader`, the few callables
of the client it needs, and nothing else: the client hands the usage it reads from the helper's
response back to the caller's thread, and a failure of the early call — an expired session, a
5xx, the daily limit, a timeout — is handed to the client's choke point as that call's first
attempt, which refreshes, backs off, retries and raises typed errors exactly as for any other
call (so a read made ahead costs no more attempts than any call, and a 4xx is never resent).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from requests import RequestException
from simple_salesforce.exceptions import SalesforceError

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from connections.transport import Call

logger = logging.getLogger(__name__)
T = TypeVar("T")
_helper = threading.local()
Operation = Callable[["Salesforce"], T]


def as_is(records: list[dict]) -> Any:
    """The default `prepare` of the page readers: the records themselves."""
    return records


@dataclass(frozen=True)
class Reader:
    """What reading ahead needs from the client, all called from the caller's thread.

    `call`: the client's choke point. `handle`: the Salesforce handle a helper may use now, or
    None when no call may be made early (the budget is spent). `take_usage`: count and record
    the usage of the responses a helper received. `heartbeat`: the caller's "still alive",
    called every `heartbeat_every()` seconds while the caller waits for a helper's read.
    """

    call: Call
    handle: Callable[[], Salesforce | None]
    take_usage: Callable[[], None]
    heartbeat: Callable[[], None]
    heartbeat_every: Callable[[], float]


def read_ahead(reader: Reader, first: Operation[T],
               following: Callable[[T], Operation[T] | None]) -> Iterator[T]:
    """Yield the answer of `first`, then of each call `following(answer)` asks for, until None.

    Every next answer is requested before the current one is yielded, so it arrives while the
    caller works on the current one.
    """
    answer, ahead = reader.call(first), None
    try:
        while True:
            operation = following(answer)
            ahead = ReadAhead(reader, operation) if operation is not None else None
            yield answer
            if ahead is None:
                return
            reading, ahead = ahead, None  # settled by result(), whatever it raises
            answer = reading.result()
    finally:
        if ahead is not None:  # the caller stopped early: let the read finish, and count it
            ahead.settle()


class ReadAhead(Generic[T]):
    """One read started now on a helper thread; `result()` waits for it in the caller's thread."""

    def __init__(self, reader: Reader, operation: Operation[T]) -> None:
        self.reader = reader
        self.operation = operation
        self._value: T | None = None
        self._failure: Exception | None = None
        # Only while the budget allows a call: otherwise `result()` makes it through the choke
        # point, which refuses it with QuotaExhausted at the moment the caller asks for the page.
        self._thread: threading.Thread | None = None
        sf = reader.handle()
        if sf is not None:
            self._thread = threading.Thread(target=self._fetch, args=(sf,), daemon=True,
                                            name="forcebridge-read-ahead")
            self._thread.start()

    def _fetch(self, sf: Salesforce) -> None:
        _helper.reading = True  # the client defers this thread's usage to the caller's
        try:
            self._value = self.operation(sf)
        except Exception as error:  # noqa: BLE001 - handed to the caller's thread by result()
            self._failure = error

    def settle(self) -> None:
        """Wait for the helper thread (with heartbeats) and take over its responses' usage."""
        if self._thread is not None:
            self._thread.join(self.reader.heartbeat_every())
            while self._thread.is_alive():
                self.reader.heartbeat()
                self._thread.join(self.reader.heartbeat_every())
        self.reader.take_usage()

    def result(self) -> T:
        """The early answer; a failed request goes on through the choke point as its first
        attempt (any other error, say in `prepare`, is raised here as it was)."""
        started = self._thread is not None
        self.settle()
        failure, self._failure = self._failure, None
        if not started:
            return self.reader.call(self.operation)
        if failure is None:
            return self._value  # type: ignore[return-value]
        if not isinstance(failure, (RequestException, SalesforceError)):
            raise failure
        logger.info("a read made ahead failed (%s); the client takes it from there",
                    type(failure).__name__)
        return self.reader.call(self.operation, failed=failure)


def reading_ahead() -> bool:
    """Whether this thread is a helper reading ahead (its responses' usage is deferred)."""
    return getattr(_helper, "reading", False)
