"""Describe results cached per connection in the database for a short time.

The database (not a per-process cache) holds them so "Refresh schema" on the web page is seen
by every worker at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connections import conf
from connections.models import Connection, SchemaCache

GLOBAL = ""


def cached(connection: Connection, sobject: str, fetch: Callable[[], dict[str, Any]],
           refresh: bool = False) -> dict[str, Any]:
    """The cached describe of `sobject` ("" = the global list), fetched when stale or asked."""
    ttl = dt.timedelta(seconds=conf.get("SALESFORCE_DESCRIBE_TTL"))
    if not refresh:
        row = SchemaCache.objects.filter(
            connection=connection, sobject=sobject, fetched__gt=timezone.now() - ttl
        ).values_list("data", flat=True).first()
        if row is not None:
            return row
    data = fetch()
    store(connection, sobject, data)
    return data


def store(connection: Connection, sobject: str, data: dict[str, Any]) -> None:
    """Upsert one cache row; two workers storing the same describe at once both succeed."""
    values = {"data": data, "fetched": timezone.now()}
    updated = SchemaCache.objects.filter(connection=connection, sobject=sobject).update(**values)
    if updated:
        return
    try:
        with transaction.atomic():
            SchemaCache.objects.create(connection=connection, sobject=sobject, **values)
    except IntegrityError:
        # Another worker inserted it between our UPDATE and INSERT: overwrite theirs.
        SchemaCache.objects.filter(connection=connection, sobject=sobject).update(**values)


def peek(connection: Connection, sobject: str = GLOBAL) -> tuple[dict[str, Any], dt.datetime] | None:
    """Whatever is cached, however old, without calling Salesforce (for pages)."""
    row = SchemaCache.objects.filter(connection=connection, sobject=sobject).values_list(
        "data", "fetched").first()
    return (row[0], row[1]) if row else None


def forget(connection: Connection) -> None:
    SchemaCache.objects.filter(connection=connection).delete()
