"""A connection's recent history: connected, disconnected, tested, failed; the last few kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from connections.models.connection import Connection

# Events kept per connection; older ones are pruned when a new one is written.
EVENTS_KEPT = 50


class ConnectionEvent(models.Model):
    """What happened to a connection: connected, disconnected, refreshed, tested, failed."""

    class Kind(models.TextChoices):
        CONNECTED = "connected", "Connected"
        DISCONNECTED = "disconnected", "Disconnected"
        TESTED = "tested", "Tested"
        ERROR = "error", "Error"

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE,
                                   related_name="events")
    created = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"

    @classmethod
    def log(cls, connection: Connection, kind: str, message: str) -> None:
        """Write an event and prune old ones, so the page always shows the recent history."""
        cls.objects.create(connection=connection, kind=kind, message=message[:2000])
        stale = connection.events.order_by("-created", "-id").values_list(
            "id", flat=True)[EVENTS_KEPT:]
        cls.objects.filter(id__in=list(stale)).delete()
