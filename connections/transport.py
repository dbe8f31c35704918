"""HTTP plumbing shared by the OAuth flow and the client: sessions, timeouts, retries, usage,
and the shape of the client's choke point (`Call`) that its parts are handed.

Every request to Salesforce leaves through a session made here, so each one gets explicit
(connect, read) timeouts and the configured CA bundle.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import requests
from django.conf import settings
from requests_oauthlib import OAuth2Session

from connections import conf
from connections.errors import SalesforceError

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")
T = TypeVar("T")


Timeouts = tuple[float, float]


class Call(Protocol):
    """`SalesforceClient._call`, the one choke point, as the Bulk API, sObject Collections and
    read-ahead parts are handed it.

    `idempotent=False`: never resend what may have been done. `budget=False`: not held back by
    the daily budget. `failed`: the first attempt was already made elsewhere (a read made ahead)
    and failed so; the call goes on from there as if it had made that attempt itself.
    """

    def __call__(self, operation: Callable[[Salesforce], T], *, idempotent: bool = True,
                 budget: bool = True, failed: Exception | None = None) -> T: ...


def timeouts() -> Timeouts:
    return (float(conf.get("SALESFORCE_CONNECT_TIMEOUT")), float(conf.get("SALESFORCE_READ_TIMEOUT")))


def short_timeouts() -> Timeouts:
    """For the token/revoke/identity endpoints and operators' buttons: fail fast, not in minutes.

    A token refresh runs while the connection row is locked, so every other worker of that
    connection waits for it.
    """
    return (float(conf.get("SALESFORCE_SHORT_CONNECT_TIMEOUT")),
            float(conf.get("SALESFORCE_SHORT_READ_TIMEOUT")))


class _Defaults:
    """Fill in the timeout when a caller (simple-salesforce, requests-oauthlib) passes none."""

    default_timeout: Timeouts | None = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout or timeouts()
        return super().request(method, url, *args, **kwargs)  # type: ignore[misc]


class HttpSession(_Defaults, requests.Session):
    """The session simple-salesforce and the revoke call use."""


class OAuthSession(_Defaults, OAuth2Session):
    """requests-oauthlib's session for the token endpoint, with the same defaults."""


def configure(session: requests.Session) -> requests.Session:
    """Apply SALESFORCE_CA_BUNDLE: trust only it, and ignore REQUESTS_CA_BUNDLE & co.

    requests lets the environment override `session.verify` unless `trust_env` is off, and the
    CA variables are set on these machines, so a custom bundle needs both.
    """
    bundle = settings.SALESFORCE_CA_BUNDLE
    if bundle:
        if not Path(bundle).is_file():
            raise SalesforceError(f"SALESFORCE_CA_BUNDLE: no such file {bundle!r}")
        session.trust_env = False
        session.verify = bundle
    return session


def parse_usage(header: str | None) -> tuple[int, int] | None:
    """`api-usage=18/15000` (possibly followed by per-app usage) → (18, 15000)."""
    match = _USAGE.search(header or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def backoff_delay(attempt: int) -> float:
    """Seconds before retry number `attempt` (1-based): capped exponential, "equal jitter".

    The delay is drawn from the upper half of the capped exponential step, so a retry never
    comes back immediately while many workers hit by the same outage still spread out.
    """
    base = float(conf.get("SALESFORCE_RETRY_BASE_DELAY"))
    cap = min(float(conf.get("SALESFORCE_RETRY_MAX_DELAY")), base * 2 ** (attempt - 1))
    return random.uniform(cap / 2, cap)  # noqa: S311 - not cryptographic


def max_retries() -> int:
    return int(conf.get("SALESFORCE_MAX_RETRIES"))


def plain(value: Any) -> Any:
    """Plain dicts without Salesforce's `attributes` (also in nested parents and sub-queries)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
