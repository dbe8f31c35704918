"""Writing the outbox: one `Change` row per hub change, in the transaction of the change.

Once that transaction commits, every function in `WAKE_UPS` is called with the changes'
origin: the push side registers its wake-up there (syncs/apps.py), so a hub change reaches
Salesforce within seconds without the hub importing the engines that drain it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone

from workspace.models import Change
from workspace.sql_rows import insert

COLUMNS = ["entity", "entity_id", "op", "fields", "origin", "created_at"]
# Called with the origin after a transaction that wrote outbox rows commits.
WAKE_UPS: list[Callable[[str], None]] = []


class Outbox:
    """The outbox of one source ("sync:12"): every row it writes names that source as origin."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def add(self, entity: str, changes: Iterable[tuple[int, str, list[str]]]) -> None:
        """Rows for (id, op, fields); only an update names its fields (a creation or a
        deletion is all of them)."""
        now = timezone.now()
        rows = [(entity, pk, op, fields if op == Change.Op.UPDATED else [], self.origin, now)
                for pk, op, fields in changes]
        if not rows:
            return
        insert(Change, COLUMNS, rows)
        for wake in WAKE_UPS:
            transaction.on_commit(lambda wake=wake: wake(self.origin))
