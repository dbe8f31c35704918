"""Tunables of the Salesforce client and the OAuth flow, with their defaults, in one place.

The SALESFORCE_* ones are Django settings with the default below (the tests shrink the delays);
FORCEBRIDGE_BUDGET_RECHECK_MINUTES is read from the environment and validated by
config/settings.py, which takes its default from here. The login hosts, the OAuth client and
the CA bundle come from the environment too (config/settings.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # REST API version new connections use; the emulator accepts any vNN.N.
    "SALESFORCE_API_VERSION": "61.0",
    # Seconds to open a TCP+TLS connection, and to wait for a response byte.
    "SALESFORCE_CONNECT_TIMEOUT": 10.0,
    "SALESFORCE_READ_TIMEOUT": 120.0,
    # Token, revoke and identity calls, and the connection page's buttons: a refresh holds the
    # connection's row lock, so it must fail in seconds, not minutes.
    "SALESFORCE_SHORT_CONNECT_TIMEOUT": 5.0,
    "SALESFORCE_SHORT_READ_TIMEOUT": 20.0,
    # Retries of a failed call (5xx, timeouts, UNABLE_TO_LOCK_ROW) after the first attempt;
    # the delay doubles from the base up to the cap, drawn from its upper half (equal jitter).
    "SALESFORCE_MAX_RETRIES": 4,
    "SALESFORCE_RETRY_BASE_DELAY": 0.5,
    "SALESFORCE_RETRY_MAX_DELAY": 20.0,
    # Seconds a describe result is reused before Salesforce is asked again.
    "SALESFORCE_DESCRIBE_TTL": 300,
    # Records per Bulk API 2.0 query results page (Salesforce's maxRecords).
    "SALESFORCE_BULK_QUERY_PAGE_RECORDS": 10_000,
    # Bulk job polling: first delay and the cap it grows to.
    "SALESFORCE_BULK_POLL_INTERVAL": 0.5,
    "SALESFORCE_BULK_POLL_MAX_INTERVAL": 5.0,
    # Seconds an operator has to finish the Salesforce consent page.
    "SALESFORCE_OAUTH_STATE_TTL": 600,
    "SALESFORCE_OAUTH_SCOPE": "api refresh_token",
    # Minutes after which a spent daily budget is checked again with one limits call (the
    # org's usage falls as the rolling 24 hours move on).
    "FORCEBRIDGE_BUDGET_RECHECK_MINUTES": 15,
}


def get(name: str) -> Any:
    """The setting if the project defines it, else the default above."""
    return getattr(settings, name, DEFAULTS[name])
