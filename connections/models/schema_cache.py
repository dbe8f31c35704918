"""Describe results stored per connection; read and written by connections/describe.py."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SchemaCache(models.Model):
    """A describe result kept for a short time; shared by the web server and every worker."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE,
                                   related_name="schema")
    # Empty for describe_global, else the sObject name.
    sobject = models.CharField(max_length=100, blank=True)
    data = models.JSONField()
    fetched = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "sobject"], name="schema_cache_unique")
        ]

    def __str__(self) -> str:
        return f"describe {self.sobject or '(global)'} of connection {self.connection_id}"
