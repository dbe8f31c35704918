"""Turning JSON values from a request into the stored form of a field, with Salesforce's errors."""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from typing import Any

from .clock import format_datetime, parse_datetime
from .errors import ApiError
from .ids import to18
from .schema import Field

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TEXT_TYPES = frozenset(["string", "email", "phone", "url", "textarea", "picklist", "multipicklist"])
# Values repeated across many records (names, picklists, timestamps, lookups) are interned so a
# million records share one copy each; unique-per-record types are not worth the table entry.
_INTERNED_TYPES = frozenset(["string", "picklist", "multipicklist", "reference", "date",
                             "datetime"])


class RecordError(ApiError):
    """A record was rejected: raised by the store, rendered by REST and sObject Collections."""


class MissingRecord(RecordError):
    """A well-formed id names no record: 404 NOT_FOUND on REST's record URLs.

    The write paths (sObject Collections, Bulk API) report it as `cross_reference_error()`.
    """

    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "The requested resource does not exist")


def cross_reference_error(fields: list[str] | None = None) -> RecordError:
    """INVALID_CROSS_REFERENCE_KEY: what Salesforce's write paths say of an id naming nothing."""
    return RecordError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                       fields or [])


class ValueTypeError(RecordError):
    """A value of the wrong type for its field: REST says JSON_PARSER_ERROR (the JSON body did
    not deserialize); a Bulk CSV job reports it its own way (see bulk_ingest.py)."""

    def __init__(self, field: Field, value: Any) -> None:
        kind = {"datetime": "datetime", "date": "date", "boolean": "boolean", "int": "int"}.get(
            field.type, "double" if field.type in ("double", "currency", "percent") else "string"
        )
        super().__init__(
            400, "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} "
            "or request may be missing a required field",
            [field.name],
        )
        self.field = field
        self.value = value


def parse_error(field: Field, value: Any) -> RecordError:
    return ValueTypeError(field, value)


def intern(field: Field, value: Any) -> Any:
    if type(value) is str and field.type in _INTERNED_TYPES and len(value) <= 64:
        return sys.intern(value)
    return value


def coerce(field: Field, value: Any) -> Any:
    """Validate one incoming value and return what the org stores for it."""
    if value is None:
        return False if field.type == "boolean" else None
    kind = field.type
    if kind in _TEXT_TYPES:
        text = _text(field, value)
        if field.restricted_picklist and text is not None and text not in field.picklist:
            raise RecordError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{field.label}: bad value for restricted picklist field: {text}",
                              [field.name])
        return intern(field, text)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise parse_error(field, value)
    if kind == "int":
        return _integer(field, value)
    if kind in ("double", "currency", "percent"):
        return _number(field, value)
    if kind == "date":
        return intern(field, _date(field, value))
    if kind == "datetime":
        return intern(field, _datetime(field, value))
    if kind in ("reference", "id"):
        if not isinstance(value, str):
            raise parse_error(field, value)
        if value == "":
            return None
        normal = to18(value)
        if normal is None:
            raise RecordError(400, "MALFORMED_ID",
                              f"{field.label}: id value of incorrect type: {value}", [field.name])
        return intern(field, normal)
    raise RecordError(400, "INVALID_TYPE", f"unsupported field type {kind}", [field.name])


def _text(field: Field, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise parse_error(field, value)
    text = value if isinstance(value, str) else str(value)
    # Salesforce stores an empty text value as null.
    if text == "":
        return None
    if field.length and len(text) > field.length:
        raise RecordError(
            400, "STRING_TOO_LONG",
            f"{field.label}: data value too large: {text} (max length={field.length})",
            [field.name],
        )
    if field.type == "email" and not _EMAIL.match(text):
        raise RecordError(400, "INVALID_EMAIL_ADDRESS",
                          f"{field.label}: invalid email address: {text}", [field.name])
    return text


def _integer(field: Field, value: Any) -> int:
    if isinstance(value, bool):
        raise parse_error(field, value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise RecordError(400, "INVALID_TYPE_ON_FIELD_IN_RECORD",
                          f"{field.label}: value not of required type: {value}", [field.name])
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    raise parse_error(field, value)


def _number(field: Field, value: Any) -> int | float:
    if isinstance(value, bool):
        raise parse_error(field, value)
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise parse_error(field, value) from None
    else:
        raise parse_error(field, value)
    if isinstance(number, float) and not math.isfinite(number):
        raise parse_error(field, value)
    return number


def _date(field: Field, value: Any) -> str:
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise parse_error(field, value)


def _datetime(field: Field, value: Any) -> str:
    if isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return format_datetime(moment)
    raise parse_error(field, value)
