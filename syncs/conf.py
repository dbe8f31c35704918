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
    # Seconds after its last renewal that a claim expires: its worker stopped, and whoever
    # takes the row closes the run it left open. A live run renews every page and every 10 s
    # while it waits (syncs/queue.py), so this only has to outlast one Salesforce call.
    "FORCEBRIDGE_SYNC_CLAIM_TIMEOUT": 120,
    # Minutes to wait before retrying a run deferred by the API quota.
    "FORCEBRIDGE_QUOTA_RETRY_MINUTES": 60,
    # Seconds between dispatcher passes that re-find due syncs (a lost wake-up loses nothing).
    "FORCEBRIDGE_DISPATCH_SECONDS": 60,
    # Days finished runs are kept (SyncRun.prune, daily). A run is one small row, so runs
    # outlive their record logs; never fewer days than FORCEBRIDGE_LOG_RETENTION_DAYS (a run
    # whose logs are left is kept anyway), so with a longer log retention it is that.
    "FORCEBRIDGE_RUN_RETENTION_DAYS": 90,
}


def get(name: str) -> int:
    """The setting as config/settings.py validated it (or as a test overrides it)."""
    return getattr(settings, name)
