"""What the hub writer takes and returns: an `Item` per source record, a `Result` per item,
and the one vocabulary of record outcomes (`Outcome`) that record logs and run counters use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models

from workspace.people import Ref

__all__ = ["COUNTERS", "Item", "Outcome", "Ref", "Result"]


class Outcome(models.TextChoices):
    """What happened to one record, in either direction."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    SKIPPED = "skipped"
    CONFLICT = "conflict"
    FAILED = "failed"

    @property
    def counter(self) -> str:
        """The run counter this outcome adds to."""
        return COUNTER_OF[self]


COUNTER_OF = {Outcome.CREATED: "created", Outcome.UPDATED: "updated",
              Outcome.UNCHANGED: "skipped", Outcome.SKIPPED: "skipped",
              Outcome.CONFLICT: "conflicts", Outcome.FAILED: "failed",
              Outcome.DELETED: "deleted"}
# A run's counters, in the order pages and summaries show them.
COUNTERS = ("fetched", "created", "updated", "deleted", "skipped", "failed", "conflicts")


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
    """What happened to one item (`outcome`: an `Outcome` value).

    `changed` names the fields an update changed; a creation leaves it empty (all are new).
    `attributes`: the hub row's attributes once written (what the record left there; the
    two-way loop remembers them), None when no row was written.
    """

    key: str
    outcome: str
    ref: str = ""
    changed: list[str] = field(default_factory=list)
    error_code: str = ""
    message: str = ""
    attributes: dict[str, Any] | None = None
