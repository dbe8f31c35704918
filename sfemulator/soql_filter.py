"""WHERE clauses compiled once into Python closures: literals typed and normalised up front.

Salesforce's null logic is two-valued: ``Email != 'x'`` and ``Email NOT IN ('x')`` include
records whose Email is null, ``<``/``>``/LIKE never match a null, and ``NOT`` simply negates.
Strings compare case-insensitively (both sides lower-cased once: literals at compile time, record
values on read); Salesforce stores no empty strings, so an empty value counts as null.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sfemulator.ids import to18
from sfemulator.soql_dates import (
    CANONICAL_LENGTH,
    date_literal_range,
    day_start,
    parse_datetime,
    record_datetime,
)
from sfemulator.soql_lex import SoqlError, decode_string, located, unexpected
from sfemulator.soql_parse import Comparison, Condition, FieldRef, Junction, Literal
from sfemulator.soql_schema import FieldPath, Getter, Record, Schema, SObjectInfo, value_getter

Predicate = Callable[[Record], bool]
Test = Callable[[Any], bool]

TEXT, ID, NUMBER, BOOLEAN, DATE, DATETIME = "text", "id", "number", "boolean", "date", "datetime"
_KINDS = {
    "id": ID,
    "reference": ID,
    "double": NUMBER,
    "currency": NUMBER,
    "percent": NUMBER,
    "int": NUMBER,
    "long": NUMBER,
    "boolean": BOOLEAN,
    "date": DATE,
    "datetime": DATETIME,
}
# The type names Salesforce's messages use.
_TYPE_NAMES = {
    "string": "string",
    "id": "id",
    "reference": "id",
    "double": "double",
    "percent": "double",
    "currency": "currency",
    "int": "integer",
    "long": "long",
    "boolean": "boolean",
    "date": "date",
    "datetime": "dateTime",
}


@dataclass(frozen=True, slots=True)
class Context:
    """Everything compiling one query needs; ``today`` is only called if a date literal appears."""

    text: str
    schema: Schema
    root: SObjectInfo
    get_record: Callable[[str], Record | None]
    today: Callable[[], date]

    def path(self, ref: FieldRef) -> FieldPath:
        return self.schema.resolve(self.root, ref)


def kind_of(field: dict) -> str:
    return _KINDS.get(field.get("type", "string"), TEXT)


def normalized_getter(path: FieldPath, context: Context) -> Getter:
    """Read ``path`` in its comparable form: lower-case text, canonical datetimes, null for ''."""
    kind = kind_of(path.field)
    if not path.hops:
        return _own_getter(path.name, kind)
    get = value_getter(path, context.schema, context.get_record)
    if kind == TEXT:
        return lambda record: value.lower() if (value := get(record)) else None
    if kind == DATETIME:
        return lambda record: record_datetime(get(record))
    if kind == BOOLEAN:
        # A checkbox is never null in Salesforce: an unset one reads as false.
        return lambda record: bool(get(record))
    return lambda record: value if (value := get(record)) != "" else None


def _own_getter(name: str, kind: str) -> Getter:
    """``normalized_getter`` for the record's own field in one call: the hot path of every query."""
    if kind == TEXT:
        return lambda record: value.lower() if (value := record.get(name)) else None
    if kind == DATETIME:

        def stamp(record: Record) -> str | None:
            value = record.get(name)
            if value.__class__ is str and len(value) == CANONICAL_LENGTH and value[-5:] == "+0000":
                return value
            return record_datetime(value)

        return stamp
    if kind == BOOLEAN:
        return lambda record: bool(record.get(name))
    return lambda record: value if (value := record.get(name)) != "" else None


def compile_condition(node: Condition, context: Context) -> Predicate:
    if isinstance(node, Junction):
        parts = [compile_condition(operand, context) for operand in node.operands]
        return _all(parts) if node.op == "AND" else _any(parts)
    if isinstance(node, Comparison):
        return _comparison(node, context)
    inner = compile_condition(node.operand, context)
    return lambda record: not inner(record)


def _all(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda record: first(record) and second(record)

    def every(record: Record) -> bool:
        return all(part(record) for part in parts)

    return every


def _any(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda record: first(record) or second(record)

    def some(record: Record) -> bool:
        return any(part(record) for part in parts)

    return some


def _comparison(node: Comparison, context: Context) -> Predicate:
    path = context.path(node.field)
    if not path.field.get("filterable", True):
        detail = f"field '{path.name}' can not be filtered in a query call"
        raise SoqlError("INVALID_FIELD", located(context.text, node.field.pos, detail))
    if node.op == "LIKE":
        test = _like(node, path, context)
    elif node.op in ("IN", "NOT IN"):
        test = _membership(node, path, context)
    else:
        test = _compare(node, path, context)
    get = normalized_getter(path, context)
    return lambda record: test(get(record))


def _compare(node: Comparison, path: FieldPath, context: Context) -> Test:
    kind = kind_of(path.field)
    if kind == BOOLEAN and node.op not in ("=", "!="):
        raise _bad_operator(node, path, context)
    value = _coerce(node.values[0], node.field, path, context)
    if isinstance(value, tuple):
        return _range_test(node.op, *value)
    return _point_test(node.op, value)


def _point_test(op: str, literal: Any) -> Test:
    if literal is None:
        if op == "=":
            return lambda value: value is None
        if op == "!=":
            return lambda value: value is not None
        return lambda value: False
    tests: dict[str, Test] = {
        "=": lambda value: value == literal,
        "!=": lambda value: value != literal,
        "<": lambda value: value is not None and value < literal,
        "<=": lambda value: value is not None and value <= literal,
        ">": lambda value: value is not None and value > literal,
        ">=": lambda value: value is not None and value >= literal,
    }
    return tests[op]


def _range_test(op: str, start: str, end: str) -> Test:
    """A relative date literal is a range: ``=`` means inside, ``<`` before it, ``>`` after it."""
    tests: dict[str, Test] = {
        "=": lambda value: value is not None and start <= value < end,
        "!=": lambda value: value is None or not start <= value < end,
        "<": lambda value: value is not None and value < start,
        "<=": lambda value: value is not None and value < end,
        ">": lambda value: value is not None and value >= end,
        ">=": lambda value: value is not None and value >= start,
    }
    return tests[op]


def _membership(node: Comparison, path: FieldPath, context: Context) -> Test:
    values = [_coerce(literal, node.field, path, context) for literal in node.values]
    points = frozenset(
        value for value in values if value is not None and not isinstance(value, tuple)
    )
    ranges = [value for value in values if isinstance(value, tuple)]
    has_null = None in values

    def member(value: Any) -> bool:
        if value is None:
            return has_null
        return value in points or any(start <= value < end for start, end in ranges)

    if node.op == "IN":
        return member
    return lambda value: not member(value)


def _like(node: Comparison, path: FieldPath, context: Context) -> Test:
    if kind_of(path.field) != TEXT:
        raise _bad_operator(node, path, context)
    literal = node.values[0]
    if literal.kind == "null":
        return lambda value: value is None
    if literal.kind != "string":
        raise _type_error(node.field, path, context)
    chars = decode_string(context.text, literal.token, like=True)
    return like_test(chars)


def like_test(chars: list[tuple[str, bool]]) -> Test:
    """Match lower-cased values against a decoded LIKE pattern (``%`` any run, ``_`` one char)."""
    if not any(char == "_" and not escaped for char, escaped in chars):
        # Only % wildcards: exact, prefix, suffix and contains patterns need no regex.
        segments = [""]
        for char, escaped in chars:
            if char == "%" and not escaped:
                segments.append("")
            else:
                segments[-1] += char.lower()
        fast = _fast_like(segments)
        if fast is not None:
            return fast
    pieces = [
        re.escape(char.lower()) if escaped or char not in "%_" else (".*" if char == "%" else ".")
        for char, escaped in chars
    ]
    matcher = re.compile("".join(pieces), re.DOTALL).fullmatch
    return lambda value: value is not None and matcher(value) is not None


def _fast_like(segments: list[str]) -> Test | None:
    if len(segments) == 1:
        exact = segments[0]
        return lambda value: value == exact
    if len(segments) == 2:
        head, tail = segments
        least = len(head) + len(tail)
        return lambda value: (
            value is not None
            and len(value) >= least
            and value.startswith(head)
            and value.endswith(tail)
        )
    if len(segments) == 3 and not segments[0] and not segments[2]:
        inner = segments[1]
        return lambda value: value is not None and inner in value
    return None


def _coerce(literal: Literal, ref: FieldRef, path: FieldPath, context: Context) -> Any:
    """The literal in the field's comparable form, or ``(start, end)`` for a date range.

    Refuses a literal of the wrong type with Salesforce's INVALID_FIELD message.
    """
    if literal.kind == "null":
        return None
    kind = kind_of(path.field)
    if kind in (TEXT, ID):
        if literal.kind != "string":
            raise _type_error(ref, path, context)
        decoded = "".join(
            char for char, _ in decode_string(context.text, literal.token, like=False)
        )
        if kind == TEXT or not decoded:
            return decoded.lower() or None
        return _normalise_id(decoded, ref, context)
    expected = {NUMBER: "number", BOOLEAN: "boolean", DATE: "date", DATETIME: "datetime"}[kind]
    if literal.kind == "dateliteral" and kind in (DATE, DATETIME):
        return _date_range(literal, kind, context)
    if literal.kind != expected:
        raise _type_error(ref, path, context)
    if kind == DATE:
        return _checked(literal, context, lambda text: date.fromisoformat(text).isoformat())
    if kind == DATETIME:
        return _checked(literal, context, lambda text: record_datetime(parse_datetime(text)))
    return literal.value


def _checked(literal: Literal, context: Context, convert: Callable[[str], Any]) -> Any:
    try:
        return convert(str(literal.value))
    except ValueError as error:
        # 2021-02-30 has the shape of a date but names no day.
        raise unexpected(context.text, literal.token) from error


def _date_range(literal: Literal, kind: str, context: Context) -> tuple[str, str]:
    name, n = literal.value  # type: ignore[misc]
    try:
        start, end = date_literal_range(name, n, context.today())
    except (ValueError, OverflowError) as error:
        raise unexpected(context.text, literal.token) from error
    if kind == DATE:
        return start.isoformat(), end.isoformat()
    return day_start(start), day_start(end)


def _normalise_id(value: str, ref: FieldRef, context: Context) -> str:
    """The canonical 18-character id: filters accept 15- or 18-character ids."""
    normal = to18(value)
    if normal is None:
        detail = f"invalid ID field: {value}"
        raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", located(context.text, ref.pos, detail))
    return normal


def _type_error(ref: FieldRef, path: FieldPath, context: Context) -> SoqlError:
    field_type = path.field.get("type", "string")
    type_name = _TYPE_NAMES.get(field_type, "string")
    quoted = kind_of(path.field) in (TEXT, ID)
    detail = (
        f"value of filter criterion for field '{ref.path}' must be of type {type_name} and "
        f"should {'' if quoted else 'not '}be enclosed in quotes"
    )
    return SoqlError("INVALID_FIELD", located(context.text, ref.pos, detail))


def _bad_operator(node: Comparison, path: FieldPath, context: Context) -> SoqlError:
    type_name = _TYPE_NAMES.get(path.field.get("type", "string"), "string")
    detail = f"invalid operator on {type_name} field"
    return SoqlError("INVALID_QUERY_FILTER_OPERATOR", located(context.text, node.op_pos, detail))
