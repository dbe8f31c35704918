"""The hub's write lock: one transaction at a time matches and inserts hub rows."""

from __future__ import annotations

from django.db import connection

# pg_advisory_xact_lock key of hub writes ("fbhub" in ASCII).
HUB_LOCK = 0x6662687562


def lock_hub() -> None:
    """Make this transaction the only one writing the hub until it ends.

    A page matches its records to existing people and objects, then inserts the ones it did
    not find. Two syncs doing that at once (Contacts and the contacts' relationships, say)
    would both miss and both insert: a duplicate person, or a unique-key error that fails a
    run. SQLite's write transactions (BEGIN IMMEDIATE) already run one at a time; PostgreSQL
    takes a transaction-scoped advisory lock. Call it inside the page's transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HUB_LOCK])
