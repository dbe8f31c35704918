"""Tunables of the pull engine, in one place: a Django setting if defined, else the environment.

Every value is validated when read, and a bad one names its variable.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, int] = {
    # Seconds a change may take to become visible after its SystemModstamp (long Salesforce
    # transactions): incremental runs re-read that much before the last complete scan.
    "FORCEBRIDGE_SYNC_OVERLAP_SECONDS": 120,
    # A first run of at least this many records (by COUNT()) uses a Bulk API 2.0 query job.
    "FORCEBRIDGE_BULK_THRESHOLD": 50_000,
    # Seconds after which a claimed sync whose worker vanished may be claimed again; longer
    # than the task timeout so a live run is never taken over.
    "FORCEBRIDGE_SYNC_CLAIM_TIMEOUT": 0,
    # Minutes to wait before retrying a run deferred by the API quota.
    "FORCEBRIDGE_QUOTA_RETRY_MINUTES": 60,
    # Seconds between dispatcher passes that re-find due syncs (a lost wake-up loses nothing).
    "FORCEBRIDGE_DISPATCH_SECONDS": 60,
}


def get(name: str) -> int:
    """The setting as a non-negative int (the claim timeout defaults to task timeout + 600 s)."""
    raw: Any = getattr(settings, name, None)
    if raw is None:
        raw = os.environ.get(name) or DEFAULTS[name]
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        raise ImproperlyConfigured(f"{name}: expected a whole number ≥ 0, got {raw!r}")
    if name == "FORCEBRIDGE_SYNC_CLAIM_TIMEOUT" and value == 0:
        value = int(getattr(settings, "TASK_TIMEOUT", 3600)) + 600
    return value
