"""Defaults of the pull engine's tunables, in one commented place.

config/settings.py reads each from the environment at start-up, range-checks it and makes it a
Django setting; `get` reads that setting, so tests can override it with pytest's `settings`.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, int] = {
    # Seconds a change may take to become visible after its SystemModstamp (long Salesforce
    # transactions): incremental runs re-read that much before the last complete scan.
    "FORCEBRIDGE_SYNC_OVERLAP_SECONDS": 120,
    # A first run of at least this many records (by COUNT()) uses a Bulk API 2.0 query job.
    "FORCEBRIDGE_BULK_THRESHOLD": 50_000,
    # Seconds after which a claimed sync whose worker vanished may be claimed again; 0 means
    # the task timeout + 600 s, longer than any live run, so a live run is never taken over.
    "FORCEBRIDGE_SYNC_CLAIM_TIMEOUT": 0,
    # Minutes to wait before retrying a run deferred by the API quota.
    "FORCEBRIDGE_QUOTA_RETRY_MINUTES": 60,
    # Seconds between dispatcher passes that re-find due syncs (a lost wake-up loses nothing).
    "FORCEBRIDGE_DISPATCH_SECONDS": 60,
}


def get(name: str) -> int:
    """The setting as config/settings.py validated it (or as a test overrides it)."""
    return getattr(settings, name)
