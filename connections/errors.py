"""The typed errors every Salesforce call can raise; callers decide per type, never per text.

Messages are built here from Salesforce's error codes and Forcebridge's own words, never from
request headers or bodies, so no token can end up in a log line or on a page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


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
