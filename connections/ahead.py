"""Reading the next page while the caller applies the last one.

A sync spends most of a page's time writing it to the database, and Salesforce most of a
call's time preparing the next page. `ReadAhead` sends one idempotent read on a helper thread
so that the two overlap.

The helper thread never touches the database: Django connections are per thread, and the
caller's transaction is invisible to another one. The client therefore hands the usage it
reads from that response back to the caller's thread (`SalesforceClient._on_response`), and
any failure of the early call — an expired session, a 5xx, the daily limit, a timeout — is
answered by making the call again through the client's choke point, which refreshes, backs
off and raises typed errors exactly as for any other call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from requests import RequestException
from simple_salesforce.exceptions import SalesforceError

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from connections.client import SalesforceClient

logger = logging.getLogger(__name__)
T = TypeVar("T")
_helper = threading.local()
Operation = Callable[["Salesforce"], T]


def as_is(records: list[dict]) -> Any:
    """The default `prepare` of the page readers: the records themselves."""
    return records


def read_ahead(client: SalesforceClient, first: T,
               following: Callable[[T], Operation[T] | None]) -> Iterator[T]:
    """Yield `first`, then each answer `following(answer)` asks for, until it returns None.

    Every next answer is requested before the current one is yielded, so it arrives while the
    caller works on the current one.
    """
    answer, ahead = first, None
    try:
        while True:
            operation = following(answer)
            ahead = ReadAhead(client, operation) if operation is not None else None
            yield answer
            if ahead is None:
                return
            answer, ahead = ahead.result(), None
    finally:
        if ahead is not None:  # the caller stopped early: let the read finish, and count it
            ahead.settle()


class ReadAhead(Generic[T]):
    """One read started now on a helper thread; `result()` waits for it in the caller's thread."""

    def __init__(self, client: SalesforceClient, operation: Operation[T]) -> None:
        self.client = client
        self.operation = operation
        self._value: T | None = None
        self._failure: Exception | None = None
        # Only while the budget allows a call: otherwise `result()` makes it through `_call`,
        # which refuses it with QuotaExhausted at the moment the caller asks for the page.
        self._thread: threading.Thread | None = None
        if not (client.respect_budget and client.connection.budget_spent()):
            sf = client._salesforce()
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
        """Wait for the helper thread and take over the usage its response reported."""
        if self._thread is not None:
            self._thread.join()
        self.client._take_deferred_usage()

    def result(self) -> T:
        """The early answer, or the same call made again through the client if the request
        failed (any other error, say in `prepare`, is raised here as it was)."""
        started = self._thread is not None
        self.settle()
        failure = self._failure
        if started and failure is None:
            return self._value  # type: ignore[return-value]
        if failure is not None:
            if not isinstance(failure, (RequestException, SalesforceError)):
                raise failure
            # Not lost: `_call` repeats the read and deals with the failure (or raises it typed).
            logger.info("connection %s: a read made ahead failed (%s); making it again",
                        self.client.connection.pk, type(failure).__name__)
        return self.client._call(self.operation)


def reading_ahead() -> bool:
    """Whether this thread is a helper reading ahead (its responses' usage is deferred)."""
    return getattr(_helper, "reading", False)
