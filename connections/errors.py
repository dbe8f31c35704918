"""The typed errors every Salesforce call can raise; callers decide per type, never per text.

Messages are built here (`judge`) from Salesforce's error codes and Forcebridge's own words,
never from request headers or bodies, so no token can end up in a log line or on a page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import requests
import urllib3
from simple_salesforce import exceptions as sf_errors

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
# Error codes that say nothing was done, so the same request may be sent again, even a create.
RETRYABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})


class SalesforceError(Exception):
    """Base of every client error; `str()` is safe to log and to show an operator."""


class AuthError(SalesforceError):
    """The org no longer accepts Forcebridge's tokens: the connection needs re-authorization."""


class ConnectionDisabled(SalesforceError):
    """The operator switched the connection off: no call is made until it is enabled again."""


class QuotaExhausted(SalesforceError):
    """REQUEST_LIMIT_EXCEEDED, or the share of the daily API limit Forcebridge may use is spent."""


class SalesforceRejected(SalesforceError):
    """Salesforce refused a request or a record (4xx): retrying the same thing will not help."""

    def __init__(self, error_code: str, message: str, fields: Sequence[str] = (),
                 status: int | None = None) -> None:
        self.error_code = error_code
        self.message = message
        self.fields = list(fields)
        self.status = status
        where = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        super().__init__(f"{error_code}: {message}{where}")


class InsideTransaction(SalesforceError, RuntimeError):
    """A token refresh or re-authorization mark was attempted inside a database transaction.

    A programming error (hence RuntimeError), also a SalesforceError so a page that reports
    Salesforce failures shows it instead of failing with a server error.
    """


class Transient(SalesforceError):
    """A failure that may pass (5xx, timeout, UNABLE_TO_LOCK_ROW) and outlasted the retries."""


def check_api_name(name: str) -> str:
    """An sObject or field name, checked before it becomes part of a URL path."""
    if not _API_NAME.match(name or ""):
        raise SalesforceRejected("INVALID_TYPE", f"{name!r} is not a valid API name")
    return name


def check_write_target(operation: str, allowed: frozenset[str] | set[str], sobject: str,
                       external_id_field: str | None) -> str:
    """A write's operation, object and (for upsert) external-id field, checked before any call."""
    if operation not in allowed:
        raise ValueError(f"operation must be one of {sorted(allowed)}, not {operation!r}")
    name = check_api_name(sobject)
    if operation == "upsert":
        check_api_name(external_id_field or "")
    return name


def judge(error: Exception, *, idempotent: bool, host: str) -> Transient | None:
    """What a failed request means for the client's choke point.

    1. None: the session expired (refresh it and send again).
    2. A Transient: worth retrying (5xx, timeouts, UNABLE_TO_LOCK_ROW), unless the request was
       not idempotent and may have been done, which is raised instead.
    3. Anything final is raised typed: QuotaExhausted, SalesforceRejected, a TLS failure; an
       error of no known kind is raised as it is.
    Call it outside an `except` block: what it raises must carry no chained request failure.
    """
    if isinstance(error, sf_errors.SalesforceError):
        return None if session_expired(error) else _judge_answer(error, idempotent)
    if isinstance(error, requests.exceptions.SSLError):
        raise SalesforceError(f"TLS verification of {host} failed (check SALESFORCE_CA_BUNDLE)")
    if isinstance(error, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        failure = Transient(f"connection to Salesforce failed ({type(error).__name__})")
        if not idempotent and not never_sent(error):
            raise failure
        return failure
    if isinstance(error, requests.Timeout):
        # A read timeout: the request was sent and may have been done.
        failure = Transient(f"Salesforce did not answer in time ({type(error).__name__})")
        if not idempotent:
            raise failure
        return failure
    raise error


def _judge_answer(error: sf_errors.SalesforceError, idempotent: bool) -> Transient:
    """Return a retryable failure, or raise the typed error for anything final."""
    code, message, fields = _details(error)
    if code == "REQUEST_LIMIT_EXCEEDED":
        raise QuotaExhausted("Salesforce refused a call: the org's daily API limit is exhausted "
                             "(REQUEST_LIMIT_EXCEEDED).")
    if error.status >= 500 and not idempotent:
        # The request arrived; Salesforce may have done it before failing.
        raise Transient(f"{code}: {message} (not retried: it may have been done)")
    # UNABLE_TO_LOCK_ROW says nothing was done: safe to send again, even a create.
    if error.status >= 500 or code in RETRYABLE_CODES:
        return Transient(f"{code}: {message}")
    raise SalesforceRejected(code, message, fields, error.status)


def never_sent(error: requests.RequestException) -> bool:
    """True when the connection was never made (refused, DNS, connect timeout): nothing sent."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def session_expired(error: sf_errors.SalesforceError) -> bool:
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
