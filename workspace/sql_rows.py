"""Statements over many rows at once: a multi-row INSERT (optionally ON CONFLICT DO UPDATE,
optionally RETURNING id) from tuples, the matching SELECT ... WHERE column IN (...) for a
page's worth of keys, and DELETE a batch of ids at a time for retention.

The hub and the record logs write thousands of rows per page. Django's bulk_create spends
most of its time compiling each value through the ORM; here each column's adapter is chosen
once and rows go in as plain tuples, in statements of at most `ROWS_PER_STATEMENT` rows.
The SQL (`INSERT ... VALUES (...), (...) ON CONFLICT (...) DO UPDATE SET c = excluded.c
RETURNING id`) is the same on SQLite ≥ 3.35 and PostgreSQL. JSON columns are encoded with
orjson (`json_text`), several times faster than `json.dumps` for the hub's attributes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import chain
from typing import Any

import orjson
from django.db import connection, models

# 1,000 rows × a dozen columns stays far below SQLite's 32,766 bound parameters.
ROWS_PER_STATEMENT = 1000
# Values of the IN lists of one SELECT: a page's three key lists (2,000 each) fit in one
# statement, below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
VALUES_PER_SELECT = 10_000
# What orjson would write in its own way is handed to `json.dumps` instead (see `json_text`).
_ORJSON_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                   | orjson.OPT_PASSTHROUGH_SUBCLASS)


def json_text(value: Any) -> str:
    """The JSON text of a value, which decodes to what `json.dumps(value)` decodes to.

    1. orjson writes it, compactly and in UTF-8 (`json.dumps` adds spaces and escapes non-ASCII
       text: the same value once decoded).
    2. What orjson refuses (keys that are not text, integers beyond 64 bits, lone surrogates,
       datetimes, subclasses of str or dict...) goes to `json.dumps`, which stores or refuses it
       as Django always has; so do NaN and infinities, which orjson would write as null.
    """
    try:
        text = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value)
    if b"null" in text:
        # Each None and each NaN writes one null: as many nulls as top-level Nones (counted
        # in C) means no NaN anywhere; otherwise look (strings may hold "null" too).
        values = (value.values() if type(value) is dict else
                  value if type(value) in (list, tuple) else (value,))
        if text.count(b"null") != list(values).count(None) and _non_finite(value):
            return json.dumps(value)
    return text.decode()


def _non_finite(value: Any) -> bool:
    """Whether a float NaN or infinity is anywhere in this value."""
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (list, tuple)):
        return value.__class__ is float and not math.isfinite(value)
    return any(map(_non_finite, value))


def _json_adapter(field: models.JSONField) -> Callable[[Any], Any]:
    """How one value of a JSON column goes to the driver: as Django's `get_db_prep_value`
    would send it, but encoded by `json_text` unless the field names its own encoder."""
    if field.encoder is not None:
        return partial(connection.ops.adapt_json_value, encoder=field.encoder)
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb  # psycopg is imported by the PostgreSQL backend only

        return lambda value: Jsonb(value, dumps=json_text)
    return json_text


def _adapter(field: models.Field) -> Callable[[tuple], list] | None:
    """How to adapt a column's values, a column at a time; None when they go as they are."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        adapt_json = _json_adapter(field)

        def adapt_jsons(values: tuple) -> list:
            # Lists of names (changed fields) repeat from row to row: encode each one once.
            shared: dict[tuple, Any] = {}
            adapted = []
            for value in values:
                if value is None and field.null:
                    adapted.append(None)  # SQL NULL, as Django stores None in a null JSONField
                    continue
                if type(value) is not list:
                    adapted.append(adapt_json(value))
                    continue
                try:
                    key = tuple(value)
                    if key not in shared:
                        shared[key] = adapt_json(value)
                    adapted.append(shared[key])
                except TypeError:  # unhashable items (dicts): nothing to share
                    adapted.append(adapt_json(value))
            return adapted
        return adapt_jsons
    if isinstance(field, models.DateTimeField):
        def adapt_datetimes(values: tuple) -> list:
            # A page's rows mostly share one timestamp: adapt each distinct value once.
            adapted = {value: ops.adapt_datetimefield_value(value) for value in set(values)}
            return list(map(adapted.__getitem__, values))
        return adapt_datetimes
    return None


class _Statement:
    """Runs one SQL text (written with %s placeholders) many times with new parameters.

    On SQLite the statement goes straight to the driver in its own `?` style: Django's cursor
    wrapper rewrites every statement's placeholders with a regular expression, which for a
    thousand-row INSERT costs more than SQLite's work on it. It runs on Django's connection,
    so inside the caller's transaction all the same.
    """

    def __init__(self, sql: str) -> None:
        self.sqlite = connection.vendor == "sqlite"
        self.sql = sql.replace("%s", "?") if self.sqlite else sql

    def run(self, cursor: Any, params: list[Any]) -> Any:
        if self.sqlite:
            with connection.wrap_database_errors:  # Django's IntegrityError & co., as usual
                return connection.connection.execute(self.sql, params)
        cursor.execute(self.sql, params)
        return cursor


def insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
           conflict: Sequence[str] = (), update: Sequence[str] = (),
           returning: bool = False) -> list[int]:
    """Insert `rows` (tuples in `columns` order); the new ids in row order when `returning`."""
    if not rows:
        return []
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    # Only the columns that need it are adapted; the others are copied in C.
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
    statements: dict[int, _Statement] = {}  # by rows per statement: full chunks share one
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start:start + ROWS_PER_STATEMENT]
            widths = set(map(len, chunk))
            if widths != {len(fields)}:
                raise ValueError(f"rows of {', '.join(map(str, sorted(widths)))} values for "
                                 f"{len(fields)} columns")
            if adapters:
                values = list(zip(*chunk, strict=True))  # column by column
                for i, adapt in adapters:
                    values[i] = adapt(values[i])
                params = list(chain.from_iterable(zip(*values, strict=True)))
            else:
                params = list(chain.from_iterable(chunk))
            statement = statements.get(len(chunk))
            if statement is None:
                statement = statements[len(chunk)] = _Statement(
                    head + ", ".join([placeholder] * len(chunk)) + tail)
            result = statement.run(cursor, params)
            if returning:
                ids.extend(row[0] for row in result.fetchall())
    return ids


def select_in(rows: models.QuerySet | type[models.Model], columns: Sequence[str],
              **wanted: Iterable[Any]) -> list[tuple]:
    """Rows (tuples of `columns`, converted as the ORM converts them) of a model or queryset
    where any named column is in its list:
    `select_in(Person, ["id", "email"], email=emails, customer_id=ids)`.

    The ORM prepares every value of an `__in` lookup one by one; a page looks up thousands of
    keys, so the IN lists are written here and only the rows go through the ORM's converters.
    Lists longer than VALUES_PER_SELECT take several statements, and a row matching in two
    of them comes back twice.
    """
    queryset = rows if isinstance(rows, models.QuerySet) else rows._default_manager.all()
    meta = queryset.model._meta
    quote = connection.ops.quote_name
    lists = {meta.get_field(name).column: list(dict.fromkeys(values))
             for name, values in wanted.items()}
    found: list[tuple] = []
    while any(lists.values()):
        where, params = [], []
        room = VALUES_PER_SELECT
        for column, values in lists.items():
            taken, lists[column] = values[:room], values[room:]
            room -= len(taken)
            if taken:
                where.append(f"{quote(meta.db_table)}.{quote(column)} IN "
                             f"({', '.join(['%s'] * len(taken))})")
                params.extend(taken)
        found.extend(queryset.extra(where=[" OR ".join(where)], params=params)
                     .values_list(*columns))
    return found


# Rows one statement of `delete_in_batches` deletes, for every pruning by age (record logs,
# outbox rows, messageIds, exchanged fields, runs).
PRUNE_BATCH = 5000


def delete_in_batches(rows: models.QuerySet, batch: int = PRUNE_BATCH) -> int:
    """Delete these rows `batch` at a time, lowest ids first; how many went.

    A table pruned by age holds millions of rows to delete at once; one statement per batch
    of ids keeps each transaction, and the locks it holds, short. Each batch is looked for
    after the last one's ids, so a table whose rows to delete are scattered among rows kept
    is walked once, not once per batch.
    """
    total, after = 0, None
    while ids := list((rows if after is None else rows.filter(pk__gt=after))
                      .order_by("pk").values_list("pk", flat=True)[:batch]):
        total += rows.model._default_manager.filter(pk__in=ids).delete()[0]
        after = ids[-1]
    return total
