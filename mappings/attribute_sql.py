"""One key of a hub record's JSON attributes in SQL, the same on SQLite and PostgreSQL.

Segments (mappings/segments.py) compare attributes inside the database, so these are
expressions, never Python. Each is written once per database, because the two keep JSON
differently (SQLite: text and `JSON_*` functions; PostgreSQL: `jsonb` and its operators):
- `JSONType`: the JSON type of the value (NULL when the key is absent); compare it with the
  sets `NUMBER`, `STRING`, `BOOLEAN`, `NULL` (each database names the types its own way).
- `JSONText`: the value as SQL text or number (a string unquoted, a number as it is);
  `JSONString` and `JSONNumber`: the value when it is a string, a number (see each).
- `NumberBetween`, `Within`: a JSON number, or a computed number, between two bounds, each
  read once (PostgreSQL's BETWEEN would compute its left side twice).
- `MayHold`: a text prefilter that spares parsing most rows' JSON on SQLite.
- `IsoEpoch`: Unix seconds of an ISO-8601 text (`2024-05-01`, `2024-05-01T09:30[:00[.000]]`,
  with `Z`, `±hh:mm` or `±hhmm`; no offset means UTC), NULL for any other text. It never
  raises, whatever the text: a bad value in one record must not fail the query for all.
Keys are always object keys (never array positions), quoted, so any name is safe. On SQLite
each use of a JSON value parses the record's JSON again, so each is used as few times as
possible.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import NotSupportedError
from django.db.models import BooleanField, CharField, Expression, FloatField, Func

NUMBER = ("integer", "real", "number")
STRING = ("text", "string")
BOOLEAN = ("true", "false", "boolean")
NULL = ("null",)
# What `IsoEpoch` reads as a date (the rest of the text is checked by the database's own
# date parser on SQLite; PostgreSQL checks all of it here, since its casts raise).
ISO_POSTGRES = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
                r"(Z|z|[+-][0-9]{2}:?[0-9]{2})?)?$")
ISO_SQLITE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*"
# A number this large is a Unix time in milliseconds: as seconds it would be past year 5000.
MILLISECONDS_FROM = 100_000_000_000


class KeyFunc(Func):
    """A function of one JSON column and one key, written per database (`sqlite`, `postgres`)."""

    sqlite = ""
    postgres = ""

    def __init__(self, column: Any, key: str, **extra: Any) -> None:
        super().__init__(column, **extra)
        self.key = key

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        raise NotSupportedError(f"{type(self).__name__} is written for SQLite and PostgreSQL")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        return self.sqlite % sql, [*params, "$." + json.dumps(self.key)]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        return self.postgres % sql, [*params, self.key]


class JSONType(KeyFunc):
    sqlite = "JSON_TYPE(%s, %%s)"
    postgres = "JSONB_TYPEOF(%s -> %%s)"
    output_field = CharField()


class JSONText(KeyFunc):
    sqlite = "JSON_EXTRACT(%s, %%s)"
    postgres = "(%s ->> %%s)"
    output_field = CharField()


class JSONString(KeyFunc):
    """The value when it is a JSON string, to compare with text (`=`, `IN`) only: on SQLite a
    number or a boolean is an SQL number, never equal to text, so no type test is needed."""

    sqlite = "JSON_EXTRACT(%s, %%s)"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (f"(CASE WHEN JSONB_TYPEOF({sql} -> %s) = 'string' THEN {sql} ->> %s END)",
                [*params, self.key, *params, self.key])


class JSONNumber(KeyFunc):
    """The value when it is a JSON number. On SQLite a string comes out as text and a boolean
    as 0 or 1, so compare it between two bounds (text is above every number) and then test
    the type (`JSONType` in `NUMBER`); PostgreSQL gives NULL for anything but a number (a
    cast of text would raise there, so the type is tested first, in a CASE)."""

    sqlite = "JSON_EXTRACT(%s, %%s)"
    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (f"(CASE WHEN JSONB_TYPEOF({sql} -> %s) = 'number' "
                f"THEN CAST({sql} ->> %s AS DOUBLE PRECISION) END)",
                [*params, self.key, *params, self.key])


class NumberBetween(Func):
    """Whether the value is a JSON number from `low` to `high` (both included), the value read
    once: SQLite compares its SQL number (text is above every number; booleans, 0 and 1,
    need the caller's `JSONType` test), PostgreSQL compares `jsonb` (numbers sort apart from
    strings and booleans there, and a comparison never raises)."""

    output_field = BooleanField()

    def __init__(self, column: Any, key: str, low: float, high: float) -> None:
        super().__init__(column)
        self.key, self.low, self.high = key, low, high

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        raise NotSupportedError("NumberBetween is written for SQLite and PostgreSQL")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (f"JSON_EXTRACT({sql}, %s) BETWEEN %s AND %s",
                [*params, "$." + json.dumps(self.key), self.low, self.high])

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        bound = "TO_JSONB(CAST(%s AS DOUBLE PRECISION))"
        return (f"({sql} -> %s) BETWEEN {bound} AND {bound}",
                [*params, self.key, self.low, self.high])


class Within(Func):
    """Whether a number expression is from `low` to `high` (both included), computed once:
    SQLite's BETWEEN does; PostgreSQL's would compute it twice, a range containment once."""

    output_field = BooleanField()

    def __init__(self, expression: Any, low: float, high: float) -> None:
        super().__init__(expression)
        self.low, self.high = low, high

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql}) BETWEEN %s AND %s", [*params, self.low, self.high]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (f"CAST(({sql}) AS NUMERIC) <@ NUMRANGE(CAST(%s AS NUMERIC), "
                "CAST(%s AS NUMERIC), '[]')", [*params, self.low, self.high])


class MayHold(Func):
    """A cheap test that must hold for a JSON column to hold one of these plain strings
    (SQLite: the quoted text occurs in the column; the exact test follows). It spares
    parsing the JSON of most rows. PostgreSQL keeps binary JSON: always true there."""

    output_field = BooleanField()

    def __init__(self, column: Any, texts: list[str]) -> None:
        super().__init__(column)
        self.texts = texts

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        return "1 = 1", []

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        tests = " OR ".join([f"INSTR({sql}, %s) > 0"] * len(self.texts))
        return f"({tests})", [value for text in self.texts for value in
                              (*params, json.dumps(text))]


def plain(text: str) -> bool:
    """Whether every JSON writer spells this string one way (printable ASCII, nothing escaped),
    so `MayHold` can look for it as text."""
    return text.isascii() and text.isprintable() and not set(text) & {'"', "\\", "/"}


def _repeat(template: str, compiler: Any, expression: Expression) -> tuple[str, list]:
    """`template` with every `{t}` the compiled `expression` (its parameters repeated)."""
    sql, params = compiler.compile(expression)
    return template.replace("{t}", f"({sql})"), list(params) * template.count("{t}")


class IsoEpoch(Func):
    """Unix seconds of an ISO-8601 text, NULL when it is not one (see the module docstring)."""

    output_field = FloatField()
    # SQLite: its own date parser reads ISO-8601 (NULL when it cannot) but wants the offset
    # as ±hh:mm: Salesforce's +0000 is read as Z, and any other ±hhmm offset is given its
    # colon for a second try. Each {t} parses the JSON again on SQLite: the usual forms
    # take two.
    _SQLITE = (f"CASE WHEN {{t}} GLOB '{ISO_SQLITE_GLOB}' THEN COALESCE("
               "UNIXEPOCH(REPLACE({t}, '+0000', 'Z')), "
               "UNIXEPOCH(SUBSTR({t}, 1, LENGTH({t}) - 2) || ':' || SUBSTR({t}, -2))) END")
    # PostgreSQL: only text the pattern accepts is read; the calendar arithmetic goes through
    # an interval, which never raises (a 31 February is 3 March, where a cast would fail);
    # the offset is the last 6 (±hh:mm) or 5 (±hhmm) characters.
    _POSTGRES_OFFSET = (
        "CASE WHEN {t} !~ '[+-][0-9]{2}:?[0-9]{2}$' THEN 0"
        " WHEN LEFT(RIGHT({t}, 6), 1) IN ('+', '-') THEN"
        " (CAST(SUBSTR(RIGHT({t}, 6), 2, 2) AS INTEGER) * 3600"
        " + CAST(RIGHT({t}, 2) AS INTEGER) * 60)"
        " * (CASE LEFT(RIGHT({t}, 6), 1) WHEN '-' THEN -1 ELSE 1 END)"
        " ELSE (CAST(SUBSTR(RIGHT({t}, 5), 2, 2) AS INTEGER) * 3600"
        " + CAST(RIGHT({t}, 2) AS INTEGER) * 60)"
        " * (CASE LEFT(RIGHT({t}, 5), 1) WHEN '-' THEN -1 ELSE 1 END) END")
    _POSTGRES = (
        "CASE WHEN {t} ~ '" + ISO_POSTGRES + "' THEN EXTRACT(EPOCH FROM ("
        "TIMESTAMP '1970-01-01' + MAKE_INTERVAL("
        "years => CAST(SUBSTR({t}, 1, 4) AS INTEGER) - 1970,"
        " months => CAST(SUBSTR({t}, 6, 2) AS INTEGER) - 1,"
        " days => CAST(SUBSTR({t}, 9, 2) AS INTEGER) - 1,"
        " hours => CASE WHEN LENGTH({t}) > 10 THEN CAST(SUBSTR({t}, 12, 2) AS INTEGER) ELSE 0 END,"
        " mins => CASE WHEN LENGTH({t}) > 10 THEN CAST(SUBSTR({t}, 15, 2) AS INTEGER) ELSE 0 END,"
        " secs => CASE WHEN SUBSTR({t}, 17, 1) = ':' THEN CAST(SUBSTR({t}, 18, 2) AS INTEGER)"
        " ELSE 0 END))) - (" + _POSTGRES_OFFSET + ") END")

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        raise NotSupportedError("IsoEpoch is written for SQLite and PostgreSQL")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        return _repeat(self._SQLITE, compiler, self.source_expressions[0])

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        # `%` is the parameter mark's escape in Django's SQL: the pattern has none.
        return _repeat(self._POSTGRES, compiler, self.source_expressions[0])

