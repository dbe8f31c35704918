"""Defaults of the log settings; config/settings.py reads and validates them at start-up."""

from __future__ import annotations

DEFAULTS: dict[str, int] = {
    # Days record logs are kept; a daily task deletes older ones in batches (RecordLog.prune).
    "FORCEBRIDGE_LOG_RETENTION_DAYS": 30,
}
