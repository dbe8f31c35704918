"""Multi-row INSERT (optionally ON CONFLICT DO UPDATE, optionally RETURNING id) from tuples.

The hub and the record logs write thousands of rows per page. Django's bulk_create spends
most of its time compiling each value through the ORM; here each column's adapter is chosen
once and rows go in as plain tuples, in statements of at most `ROWS_PER_STATEMENT` rows.
The SQL (`INSERT ... VALUES (...), (...) ON CONFLICT (...) DO UPDATE SET c = excluded.c
RETURNING id`) is the same on SQLite ≥ 3.35 and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

# 1,000 rows × a dozen columns stays far below SQLite's 32,766 bound parameters.
ROWS_PER_STATEMENT = 1000


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How to adapt a column's values; None when they go to the driver as they are."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        # Lists of names (changed fields) repeat from row to row: encode each distinct one once.
        encoded: dict[tuple, Any] = {}

        def adapt_json(value: Any) -> Any:
            if type(value) is not list:
                return ops.adapt_json_value(value, field.encoder)
            try:
                key = tuple(value)
                if key not in encoded:
                    encoded[key] = ops.adapt_json_value(value, field.encoder)
                return encoded[key]
            except TypeError:  # unhashable items (dicts): nothing to share
                return ops.adapt_json_value(value, field.encoder)
        return adapt_json
    if isinstance(field, models.DateTimeField):
        # A page's rows mostly share one timestamp: adapt each distinct value once.
        seen: dict[Any, Any] = {}

        def adapt(value: Any) -> Any:
            if value not in seen:
                seen[value] = ops.adapt_datetimefield_value(value)
            return seen[value]
        return adapt
    return None


def insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
           conflict: Sequence[str] = (), update: Sequence[str] = (),
           returning: bool = False) -> list[int]:
    """Insert `rows` (tuples in `columns` order); the new ids in row order when `returning`."""
    if not rows:
        return []
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    # Only the columns that need it are adapted; the others are copied row by row in C.
    adapters = [(i, adapt) for i, adapt in enumerate(map(_adapter, fields)) if adapt is not None]
    quote = connection.ops.quote_name
    head = (f"INSERT INTO {quote(meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) VALUES ")
    tail = ""
    if conflict:
        targets = ", ".join(quote(meta.get_field(name).column) for name in conflict)
        sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}"
                         for c in (meta.get_field(name).column for name in update))
        tail += f" ON CONFLICT ({targets}) DO UPDATE SET {sets}"
    if returning:
        tail += f" RETURNING {quote(meta.pk.column)}"
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start:start + ROWS_PER_STATEMENT]
            params: list[Any] = []
            for row in chunk:
                if len(row) != len(fields):
                    raise ValueError(f"a row of {len(row)} values for {len(fields)} columns")
                if adapters:
                    row = list(row)  # noqa: PLW2901 - a copy with the adapted values
                    for i, adapt in adapters:
                        row[i] = adapt(row[i])
                params.extend(row)
            cursor.execute(head + ", ".join([placeholder] * len(chunk)) + tail, params)
            if returning:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids
