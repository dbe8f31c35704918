"""Writing the outbox: one `Change` row per hub change, in the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from workspace.models import Change
from workspace.sql_rows import insert

COLUMNS = ["entity", "entity_id", "op", "fields", "origin", "created_at"]


class Outbox:
    """The outbox of one source ("sync:12"): every row it writes names that source as origin."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def add(self, entity: str, changes: Iterable[tuple[int, str, list[str]]]) -> None:
        """Rows for (id, op, fields); only an update names its fields (a creation or a
        deletion is all of them)."""
        now = timezone.now()
        insert(Change, COLUMNS, [(entity, pk, op, fields if op == Change.Op.UPDATED else [],
                                  self.origin, now) for pk, op, fields in changes])
