"""What the hub writer takes and returns: an `Item` per source record, a `Result` per item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workspace.people import Ref

__all__ = ["Item", "Ref", "Result"]


@dataclass(slots=True)
class Item:
    """One source record in hub terms (built by mappings.transform)."""

    key: str
    modstamp: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    customer_id: str | None = None
    email: str | None = None
    object_id: str | None = None
    person: Ref | None = None
    name: str = ""
    timestamp: datetime | None = None


@dataclass(slots=True)
class Result:
    """What happened to one item: created, updated, unchanged, skipped, conflict, failed, deleted.

    `changed` names the fields an update changed; a creation leaves it empty (all are new).
    """

    key: str
    outcome: str
    ref: str = ""
    changed: list[str] = field(default_factory=list)
    error_code: str = ""
    message: str = ""
