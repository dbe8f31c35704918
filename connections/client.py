"""The one way Forcebridge talks to Salesforce: `SalesforceClient.for_connection(connection)`.

simple-salesforce in direct mode does the REST calls; every call goes through `_call`, which:
1. refuses the call when Forcebridge's daily API budget is spent (QuotaExhausted);
2. on 401 INVALID_SESSION_ID refreshes the token once (serialised per connection) and retries;
3. retries 5xx, timeouts and UNABLE_TO_LOCK_ROW with capped, jittered exponential backoff;
4. turns everything else into a typed error (errors.py).
A response hook on the HTTP session copies `Sforce-Limit-Info` from every response (REST,
composite and bulk alike) onto the connection and counts `api_calls`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce import exceptions as sf_errors
from simple_salesforce.format import format_soql as _format_soql
from simple_salesforce.format import quote_soql_value
from simple_salesforce.util import call_salesforce

from connections import describe as schema
from connections import oauth, transport
from connections.bulk import BulkMixin
from connections.errors import (
    AuthError,
    QuotaExhausted,
    SalesforceError,
    SalesforceRejected,
    Transient,
    check_api_name,
)
from connections.models import Connection

logger = logging.getLogger(__name__)

T = TypeVar("T")
COLLECTION_SIZE = 200
COLLECTION_METHODS = {"create": "POST", "update": "PATCH", "upsert": "PATCH", "delete": "DELETE"}
RETRYABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})


def soql_quote(value: Any) -> str:
    """A SOQL literal for `value` (strings escaped and quoted, dates unquoted, None → null)."""
    return quote_soql_value(value)


def format_soql(template: str, *args: Any, **kwargs: Any) -> str:
    """`format_soql("... WHERE Email = {}", email)`: every value goes through soql_quote."""
    return _format_soql(template, *args, **kwargs)


class SalesforceClient(BulkMixin):
    """A client bound to one connection; cheap to create, one per task or request."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.api_calls = 0
        self._session = transport.configure(transport.HttpSession())
        self._session.hooks["response"].append(self._on_response)
        self._sf: Salesforce | None = None

    @classmethod
    def for_connection(cls, connection: Connection) -> SalesforceClient:
        if not connection.enabled:
            raise SalesforceError(f"Connection {connection.name!r} is disabled.")
        if not connection.has_tokens:
            raise AuthError(f"Connection {connection.name!r} is not connected to Salesforce.")
        if connection.status == Connection.Status.NEEDS_REAUTH:
            raise AuthError(f"Connection {connection.name!r} needs re-authorization.")
        return cls(connection)

    def __repr__(self) -> str:
        return f"<SalesforceClient {self.connection.name!r} api_calls={self.api_calls}>"

    # -- reads ------------------------------------------------------------------------------

    def describe(self, sobject: str, *, refresh: bool = False) -> dict:
        name = check_api_name(sobject)
        return schema.cached(self.connection, name, refresh=refresh,
                             fetch=lambda: self._call(lambda sf: _plain(getattr(sf, name).describe())))

    def describe_global(self, *, refresh: bool = False) -> dict:
        return schema.cached(self.connection, schema.GLOBAL, refresh=refresh,
                             fetch=lambda: self._call(lambda sf: _plain(sf.describe())))

    def query_pages(self, soql: str, *, include_deleted: bool = False,
                    batch_size: int = 2000) -> Iterator[list[dict]]:
        """One list per REST page (nested parents kept, `attributes` removed), lazily."""
        headers = {"Sforce-Query-Options": f"batchSize={max(200, min(2000, batch_size))}"}
        page = self._call(lambda sf: sf.query(soql, include_deleted=include_deleted,
                                              headers=headers))
        while True:
            yield [_plain(record) for record in page.get("records", [])]
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self._call(lambda sf, url=next_url: sf.query_more(
                url, identifier_is_url=True, headers=headers))

    def count(self, soql_count: str) -> int:
        """`SELECT COUNT() FROM ...` → the number."""
        return int(self._call(lambda sf: sf.query(soql_count))["totalSize"])

    def get_deleted(self, sobject: str, start: dt.datetime, end: dt.datetime) -> dict:
        name, start, end = check_api_name(sobject), _utc(start), _utc(end)
        return _plain(self._call(lambda sf: getattr(sf, name).deleted(start, end)))

    def get_updated(self, sobject: str, start: dt.datetime, end: dt.datetime) -> dict:
        name, start, end = check_api_name(sobject), _utc(start), _utc(end)
        return _plain(self._call(lambda sf: getattr(sf, name).updated(start, end)))

    def limits(self) -> dict:
        return _plain(self._call(lambda sf: sf.limits()))

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
                   all_or_none: bool = False, external_id_field: str | None = None) -> list[dict]:
        """sObject Collections create/update/upsert/delete: per-record results, in order.

        Lists over 200 records are sent 200 at a time; records that failed with
        UNABLE_TO_LOCK_ROW are sent again (with backoff) and the others keep their result.
        """
        if method not in COLLECTION_METHODS:
            raise ValueError(f"collection method must be one of {sorted(COLLECTION_METHODS)}")
        name = check_api_name(sobject)
        if method == "upsert":
            check_api_name(external_id_field or "")
        results: list[dict] = []
        for start in range(0, len(records), COLLECTION_SIZE):
            chunk = records[start:start + COLLECTION_SIZE]
            results.extend(self._collection_chunk(method, name, chunk, all_or_none,
                                                  external_id_field))
        return results

    def _collection_chunk(self, method: str, name: str, chunk: list[dict], all_or_none: bool,
                          external_id_field: str | None) -> list[dict]:
        results: list[dict] = [{} for _ in chunk]
        pending = list(range(len(chunk)))
        attempt = 0
        while True:
            batch = [chunk[i] for i in pending]
            answer = self._collection_call(method, name, batch, all_or_none, external_id_field)
            if not isinstance(answer, list) or len(answer) != len(batch):
                raise SalesforceError(f"sObject Collections returned {len(answer or [])} results "
                                      f"for {len(batch)} records")
            locked = []
            for index, result in zip(pending, answer, strict=True):
                results[index] = _plain(result)
                if _lock_error(result):
                    locked.append(index)
            attempt += 1
            if not locked or attempt > transport.max_retries():
                return results
            # With allOrNone the whole batch was rolled back, so all of it goes again.
            pending = pending if all_or_none else locked
            time.sleep(transport.backoff_delay(attempt))

    def _collection_call(self, method: str, name: str, batch: list[dict], all_or_none: bool,
                         external_id_field: str | None) -> Any:
        http = COLLECTION_METHODS[method]
        if method == "delete":
            ids = ",".join(_record_id(record) for record in batch)
            params = {"ids": ids, "allOrNone": str(all_or_none).lower()}
            return self._call(lambda sf: sf.restful("composite/sobjects", method=http,
                                                    params=params))
        body = {"allOrNone": all_or_none, "records": [
            {**{k: v for k, v in record.items() if k != "attributes"}, "attributes": {"type": name}}
            for record in batch]}
        path = "composite/sobjects"
        if method == "upsert":
            path = f"composite/sobjects/{name}/{external_id_field}"
        # A create that timed out may have happened: never resend it blindly.
        return self._call(lambda sf: sf.restful(path, method=http, json=body),
                          idempotent=method != "create")

    # -- the choke point --------------------------------------------------------------------

    def _salesforce(self) -> Salesforce:
        token = self.connection.access_token
        if self._sf is None or self._sf.session_id != token:
            # Direct mode makes no call here and cannot refresh by itself; `_call` does.
            self._sf = Salesforce(instance_url=self.connection.instance_url, session_id=token,
                                  version=self.connection.api_version, session=self._session)
        return self._sf

    def _call(self, operation: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        refreshed = False
        attempt = 0
        while True:
            self._check_budget()
            sf = self._salesforce()
            try:
                return operation(sf)
            except sf_errors.SalesforceError as error:
                if _session_expired(error):
                    if refreshed:
                        raise self._auth_failed("Salesforce refused a just-refreshed session") from None
                    oauth.refresh_access_token(self.connection, sf.session_id)
                    refreshed = True
                    continue
                failure = self._classify(error)
            except requests.exceptions.SSLError:
                raise SalesforceError(f"TLS verification of {self.connection.instance_url} "
                                      "failed (check SALESFORCE_CA_BUNDLE)") from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
                failure = Transient(f"connection to Salesforce failed ({type(error).__name__})")
            except requests.Timeout as error:
                failure = Transient(f"Salesforce did not answer in time ({type(error).__name__})")
                if not idempotent and isinstance(error, requests.ReadTimeout):
                    raise failure from None
            attempt += 1
            if attempt > transport.max_retries():
                raise failure
            delay = transport.backoff_delay(attempt)
            logger.info("connection %s: %s; retry %d in %.2fs", self.connection.pk, failure,
                        attempt, delay)
            time.sleep(delay)

    def _classify(self, error: sf_errors.SalesforceError) -> Transient:
        """Return a retryable failure, or raise the typed error for anything final."""
        code, message, fields = _details(error)
        if code == "REQUEST_LIMIT_EXCEEDED":
            text = ("Salesforce refused a call: the org's daily API limit is exhausted "
                    "(REQUEST_LIMIT_EXCEEDED).")
            self.connection.record_error(text)
            raise QuotaExhausted(text) from None
        if error.status >= 500 or code in RETRYABLE_CODES:
            return Transient(f"{code}: {message}")
        raise SalesforceRejected(code, message, fields, error.status) from None

    def _auth_failed(self, reason: str) -> AuthError:
        self.connection.mark_needs_reauthorization(f"Re-authorization needed: {reason}.")
        return AuthError(f"Connection {self.connection.name!r} needs re-authorization: {reason}")

    def _check_budget(self) -> None:
        connection = self.connection
        if not connection.budget_spent():
            return
        text = (f"Forcebridge's daily API budget is spent: the org has used "
                f"{connection.api_usage_used} of {connection.api_usage_max} calls and "
                f"Forcebridge stops at {connection.daily_budget_percent}% "
                f"({connection.budget_calls}).")
        if connection.last_error != text:
            connection.record_error(text, set_status=False)
        raise QuotaExhausted(text)

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.api_calls += 1
        # Path only: the query string may hold SOQL with customer data; headers hold the token.
        logger.debug("connection %s: %s %s -> %s in %.0f ms", self.connection.pk,
                     response.request.method, urlsplit(response.url).path, response.status_code,
                     response.elapsed.total_seconds() * 1000)
        usage = transport.parse_usage(response.headers.get("Sforce-Limit-Info"))
        if usage is not None:
            self.connection.record_api_usage(*usage)


def _session_expired(error: sf_errors.SalesforceError) -> bool:
    # The identity URL answers an expired token with 403 Bad_OAuth_Token instead of 401.
    return error.status == 401 or (error.status == 403 and _details(error)[0] == "Bad_OAuth_Token")


def _details(error: sf_errors.SalesforceError) -> tuple[str, str, list[str]]:
    """(errorCode, message, fields) from Salesforce's error array or an OAuth-style object."""
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return (str(first.get("errorCode") or first.get("statusCode") or f"HTTP_{error.status}"),
                str(first.get("message", "")), list(first.get("fields") or []))
    if isinstance(content, dict) and "error" in content:
        return str(content["error"]), str(content.get("error_description", "")), []
    return f"HTTP_{error.status}", f"{error.resource_name or 'request'} failed", []


def _lock_error(result: dict) -> bool:
    return not result.get("success") and any(
        e.get("statusCode") in RETRYABLE_CODES for e in result.get("errors") or [])


def _record_id(record: Any) -> str:
    value = record if isinstance(record, str) else (record.get("Id") or record.get("id"))
    if not value:
        raise ValueError("a record to delete needs an Id")
    return str(value)


def _plain(value: Any) -> Any:
    """Plain dicts without Salesforce's `attributes` (also in nested parents and sub-queries)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _utc(moment: dt.datetime) -> dt.datetime:
    # getUpdated/getDeleted misread naive datetimes; insist on an offset.
    if moment.tzinfo is None:
        raise ValueError("get_updated/get_deleted need timezone-aware datetimes")
    return moment.astimezone(dt.UTC)
