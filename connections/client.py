"""The one way Forcebridge talks to Salesforce: `SalesforceClient.for_connection(connection)`.

simple-salesforce in direct mode does the REST calls; every call goes through `_call`, which:
1. refuses the call when Forcebridge's daily API budget is spent (QuotaExhausted), after
   re-reading the org's real usage with one limits call when the last reading is old;
2. on 401 INVALID_SESSION_ID refreshes the token (serialised per connection) and retries;
3. retries 5xx, timeouts and UNABLE_TO_LOCK_ROW with capped, jittered exponential backoff, but
   a non-idempotent call (a create) only when the request certainly never left;
4. turns everything else into a typed error (`errors.judge`).
Its parts are handed the calls they need, never the client: `BulkApi` (bulk_api.py) and
`SObjectCollections` (sobject_collections.py) get `_call` and `_pause`; the read-ahead
(ahead.py) gets a `Reader`. Every wait (backoff, bulk polling, a page read ahead) calls the
caller's `heartbeat` at least every `heartbeat_every` seconds, from the caller's thread.
A response hook on the HTTP session copies `Sforce-Limit-Info` from every response (REST,
composite and bulk alike) onto the connection and counts `api_calls`.

Call Salesforce outside database transactions. A refresh commits the new (possibly rotated)
refresh token in its own durable transaction so a caller's rollback cannot lose it; inside an
`atomic()` block it raises InsideTransaction (a RuntimeError) instead. The sync engine relies on
this: it reads a page first, then writes it in a transaction. Pages too: the admin's change
views run in a transaction, so read describes before, or from the describe cache.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from django.utils import timezone
from simple_salesforce import Salesforce
from simple_salesforce import exceptions as sf_errors
from simple_salesforce.format import format_soql as _format_soql
from simple_salesforce.format import quote_soql_value
from simple_salesforce.util import call_salesforce

from connections import conf, oauth, transport
from connections import describe as schema
from connections.ahead import Reader, as_is, read_ahead, reading_ahead
from connections.bulk_api import BulkApi
from connections.crypto import SecretUnreadable
from connections.errors import (
    AuthError,
    ConnectionDisabled,
    QuotaExhausted,
    SalesforceError,
    Transient,
    check_api_name,
    judge,
)
from connections.models import Connection
from connections.sobject_collections import SObjectCollections

logger = logging.getLogger(__name__)
# How the error a spent budget leaves on its connection begins (cleared once calls resume).
BUDGET_SPENT = "Forcebridge's daily API budget is spent"

T = TypeVar("T")
P = TypeVar("P")
# A page as `prepare` made it, and how to reach the next page (None / "null": there is none).
Prepared = tuple[P, str | None]
# Refreshes that only picked up another worker's token, before a call gives up (each one means
# that token expired too; more would only chase other workers).
MAX_ADOPTIONS = 3


def soql_quote(value: Any) -> str:
    """A SOQL literal for `value` (strings escaped and quoted, dates unquoted, None → null)."""
    return quote_soql_value(value)


def format_soql(template: str, *args: Any, **kwargs: Any) -> str:
    """`format_soql("... WHERE Email = {}", email)`: every value goes through soql_quote."""
    return _format_soql(template, *args, **kwargs)


def _no_heartbeat() -> None:
    """The default heartbeat: a caller that holds no claim has nothing to renew."""


class SalesforceClient:
    """A client bound to one connection; cheap to create, one per task or request.

    `interactive` (an operator's button or page): no retries and short timeouts, so a slow org
    answers the operator in seconds. `respect_budget=False`: an operator's explicit action may
    spend a call or two beyond the daily budget. `heartbeat` (also settable later): called from
    the caller's thread at least every `heartbeat_every` seconds while the client waits; an
    exception it raises ends the wait and propagates (a run that lost its claim stops so).
    """

    heartbeat_every = 10.0

    def __init__(self, connection: Connection, *, interactive: bool = False,
                 respect_budget: bool = True,
                 heartbeat: Callable[[], None] = _no_heartbeat) -> None:
        self.connection = connection
        self.api_calls = 0
        self.interactive = interactive
        self.respect_budget = respect_budget
        self.heartbeat = heartbeat
        self._session = transport.configure(transport.HttpSession())
        if interactive:
            self._session.default_timeout = transport.short_timeouts()
        self._session.hooks["response"].append(self._on_response)
        self._sf: Salesforce | None = None
        self._sf_ciphertext = ""
        # Responses read ahead on a helper thread (connections.ahead) leave their usage here
        # for the caller's thread to record: the helper never touches the database.
        self._deferred: list[tuple[int, int] | None] = []
        self.reader = Reader(call=self._call, handle=self._early_handle,
                             take_usage=self._take_deferred_usage,
                             heartbeat=lambda: self.heartbeat(),
                             heartbeat_every=lambda: self.heartbeat_every)
        self.bulk_api = BulkApi(self._call, self.reader, self._pause)
        self.sobject_collections = SObjectCollections(self._call, lambda: self.max_retries,
                                                      self._pause)

    @classmethod
    def for_connection(cls, connection: Connection, **options: Any) -> SalesforceClient:
        if not connection.enabled:
            raise ConnectionDisabled(f"Connection {connection.name!r} is disabled.")
        if not connection.has_tokens:
            raise AuthError(f"Connection {connection.name!r} is not connected to Salesforce.")
        if connection.status == Connection.Status.NEEDS_REAUTH:
            raise AuthError(f"Connection {connection.name!r} needs re-authorization.")
        return cls(connection, **options)

    def __repr__(self) -> str:
        return f"<SalesforceClient {self.connection.name!r} api_calls={self.api_calls}>"

    @property
    def max_retries(self) -> int:
        return 0 if self.interactive else transport.max_retries()

    def close(self) -> None:
        """Close the pooled HTTPS connections (a worker's long-lived client should)."""
        self._session.close()
        self._sf = None

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reads ------------------------------------------------------------------------------

    def describe(self, sobject: str, *, refresh: bool = False) -> dict:
        name = check_api_name(sobject)
        return schema.cached(self.connection, name, refresh=refresh,
                             fetch=lambda: self._call(lambda sf: transport.plain(getattr(sf, name).describe())))

    def describe_global(self, *, refresh: bool = False) -> dict:
        return schema.cached(self.connection, schema.GLOBAL, refresh=refresh,
                             fetch=lambda: self._call(lambda sf: transport.plain(sf.describe())))

    def query_pages(self, soql: str, *, include_deleted: bool = False, batch_size: int = 2000,
                    prepare: Callable[[list[dict]], P] = as_is) -> Iterator[P]:
        """One list per REST page (nested parents kept, `attributes` removed), lazily.

        Each next page is read ahead while the caller works on the current one, and
        `prepare(records)` (which must not use the database) runs with that read, so the
        caller receives what `prepare` made of each page.
        """
        headers = {"Sforce-Query-Options": f"batchSize={max(200, min(2000, batch_size))}"}

        def page(query: Callable[[Salesforce], dict]) -> Callable[[Salesforce], Prepared[P]]:
            def read(sf: Salesforce) -> Prepared[P]:
                answer = query(sf)
                url = None if answer.get("done", True) else answer.get("nextRecordsUrl")
                return prepare([transport.plain(r) for r in answer.get("records", [])]), url
            return read

        def following(answer: Prepared[P]) -> Callable[[Salesforce], Prepared[P]] | None:
            url = answer[1]
            return page(lambda sf: sf.query_more(url, identifier_is_url=True,
                                                 headers=headers)) if url else None

        first = page(lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers))
        for prepared, _ in read_ahead(self.reader, first, following):
            yield prepared

    def bulk_query(self, soql: str, *, include_deleted: bool = False, poll_timeout: float = 600,
                   prepare: Callable[[list[dict]], P] = as_is,
                   page_records: int | None = None) -> Iterator[P]:
        """A Bulk API 2.0 query job's results, a page at a time (`BulkApi.query`)."""
        return self.bulk_api.query(soql, include_deleted=include_deleted,
                                   poll_timeout=poll_timeout, prepare=prepare,
                                   page_records=page_records)

    def count(self, soql_count: str) -> int:
        """`SELECT COUNT() FROM ...` → the number."""
        return int(self._call(lambda sf: sf.query(soql_count))["totalSize"])

    def get_deleted(self, sobject: str, start: dt.datetime, end: dt.datetime) -> dict:
        name, start, end = check_api_name(sobject), _utc(start), _utc(end)
        return transport.plain(self._call(lambda sf: getattr(sf, name).deleted(start, end)))

    def get_updated(self, sobject: str, start: dt.datetime, end: dt.datetime) -> dict:
        name, start, end = check_api_name(sobject), _utc(start), _utc(end)
        return transport.plain(self._call(lambda sf: getattr(sf, name).updated(start, end)))

    def limits(self) -> dict:
        """The org's limits; never held back by the budget, since it re-reads the real usage."""
        limits = transport.plain(self._call(lambda sf: sf.limits(), budget=False))
        daily = limits.get("DailyApiRequests") or {}
        if isinstance(daily.get("Max"), int) and isinstance(daily.get("Remaining"), int):
            self.connection.record_api_usage(daily["Max"] - daily["Remaining"], daily["Max"])
        return limits

    def identity(self) -> dict:
        """The integration user and org, from the token's identity URL."""
        url = self.connection.identity_url
        if not url:
            raise SalesforceError("this connection has no identity URL; connect it again")
        params = {"version": self.connection.api_version}
        return self._call(lambda sf: call_salesforce(
            url=url, method="GET", session=sf.session, headers=dict(sf.headers), params=params,
        ).json())

    # -- writes -----------------------------------------------------------------------------

    def collection(self, method: str, sobject: str, records: list[dict], *,
                   all_or_none: bool = False, external_id_field: str | None = None,
                   headers: dict[str, str] | None = None) -> list[dict]:
        """sObject Collections writes, 200 a call, a result per record (`SObjectCollections`);
        `headers` such as Sforce-Auto-Assign go with every call."""
        return self.sobject_collections.write(method, sobject, records, all_or_none=all_or_none,
                                              external_id_field=external_id_field,
                                              headers=headers)

    def bulk_ingest(self, sobject: str, operation: str, records: list[dict], *,
                    external_id_field: str | None = None,
                    poll_timeout: float = 600) -> list[dict]:
        """Bulk API 2.0 ingest jobs, every record's result (`BulkApi.ingest`)."""
        return self.bulk_api.ingest(sobject, operation, records,
                                    external_id_field=external_id_field,
                                    poll_timeout=poll_timeout)

    # -- the choke point --------------------------------------------------------------------

    def _salesforce(self) -> Salesforce:
        ciphertext = self.connection.access_token_encrypted
        if self._sf is None or self._sf_ciphertext != ciphertext:
            try:
                token = self.connection.access_token
            except SecretUnreadable:
                raise self._auth_failed(oauth.UNREADABLE) from None
            # Direct mode makes no call here and cannot refresh by itself; `_call` does.
            self._sf = Salesforce(instance_url=self.connection.instance_url, session_id=token,
                                  version=self.connection.api_version, session=self._session)
            self._sf_ciphertext = ciphertext
        return self._sf

    def _call(self, operation: Callable[[Salesforce], T], *, idempotent: bool = True,
              budget: bool = True, failed: Exception | None = None) -> T:
        """Make `operation` (see the module docstring); `failed`: its first attempt, made ahead
        on a helper thread, failed so, and counts as this call's first attempt."""
        refreshed, adopted, attempt = False, 0, 0
        while True:
            if failed is None:
                if budget and self.respect_budget:
                    self._check_budget()
                try:
                    return operation(self._salesforce())
                except (sf_errors.SalesforceError, requests.RequestException) as error:
                    failed = error
            # Judged outside the except block, so the errors raised from here carry no chained
            # failure (a 401's frames hold the request headers).
            error, failed = failed, None
            failure = self._failure(error, idempotent)
            if failure is None:
                if refreshed:
                    raise self._auth_failed("Salesforce refused a just-refreshed session")
                # Only a real refresh counts: a token taken from another worker may have
                # expired as well, and then deserves a refresh of its own.
                refreshed = oauth.refresh_access_token(self.connection, self._sf_ciphertext)
                adopted += not refreshed
                if adopted > MAX_ADOPTIONS:
                    raise Transient("the session kept expiring while other workers refreshed it")
                continue
            attempt += 1
            if attempt > self.max_retries:
                raise failure
            delay = transport.backoff_delay(attempt)
            logger.info("connection %s: %s; retry %d in %.2fs", self.connection.pk, failure,
                        attempt, delay)
            self._pause(delay)

    def _failure(self, error: Exception, idempotent: bool) -> Transient | None:
        """`errors.judge`, and a spent org limit also shown on the connection."""
        try:
            return judge(error, idempotent=idempotent, host=self.connection.instance_url)
        except QuotaExhausted as exhausted:
            self.connection.record_error(str(exhausted))
            raise

    def _pause(self, seconds: float) -> None:
        """Sleep, calling the heartbeat before every slice of at most `heartbeat_every` s."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.heartbeat()
            time.sleep(min(left, self.heartbeat_every))

    def _early_handle(self) -> Salesforce | None:
        """The handle a read made ahead may use now; None while the budget is spent."""
        if self.respect_budget and self.connection.budget_spent():
            return None
        return self._salesforce()

    def _auth_failed(self, reason: str) -> SalesforceError:
        """Mark the connection (unless an operator reconnected meanwhile) and say why."""
        grant = self.connection.refresh_token_encrypted
        if not self.connection.mark_needs_reauthorization(f"Re-authorization needed: {reason}.",
                                                          grant=grant):
            return Transient(f"Connection {self.connection.name!r} was reconnected while this "
                             "call ran; try again")
        return AuthError(f"Connection {self.connection.name!r} needs re-authorization: {reason}")

    def _check_budget(self) -> None:
        """Refuse when the budget is spent; an old reading is first refreshed with limits()."""
        connection = self.connection
        if not connection.budget_spent():
            connection.clear_error(BUDGET_SPENT)
            return
        recheck = dt.timedelta(minutes=float(conf.get("FORCEBRIDGE_BUDGET_RECHECK_MINUTES")))
        if connection.api_usage_at and timezone.now() - connection.api_usage_at > recheck:
            # Usage falls as the rolling day moves on and other apps stop: look again.
            self.limits()
            if not connection.budget_spent():
                connection.clear_error(BUDGET_SPENT)
                return
        text = (f"{BUDGET_SPENT}: the org has used "
                f"{connection.api_usage_used} of {connection.api_usage_max} calls and "
                f"Forcebridge stops at {connection.daily_budget_percent}% "
                f"({connection.budget_calls}).")
        if connection.last_error != text:
            connection.record_error(text, set_status=False)
        raise QuotaExhausted(text)

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # Path only: the query string may hold SOQL with customer data; headers hold the token.
        logger.debug("connection %s: %s %s -> %s in %.0f ms", self.connection.pk,
                     response.request.method, urlsplit(response.url).path, response.status_code,
                     response.elapsed.total_seconds() * 1000)
        usage = transport.parse_usage(response.headers.get("Sforce-Limit-Info"))
        if reading_ahead():
            self._deferred.append(usage)
            return
        self.api_calls += 1
        if usage is not None:
            self.connection.record_api_usage(*usage)

    def _take_deferred_usage(self) -> None:
        """Count and record the responses a helper thread received (connections.ahead)."""
        taken, self._deferred = self._deferred, []
        self.api_calls += len(taken)
        readings = [usage for usage in taken if usage is not None]
        if readings:
            self.connection.record_api_usage(*readings[-1])


def _utc(moment: dt.datetime) -> dt.datetime:
    # getUpdated/getDeleted misread naive datetimes; insist on an offset.
    if moment.tzinfo is None:
        raise ValueError("get_updated/get_deleted need timezone-aware datetimes")
    return moment.astimezone(dt.UTC)
