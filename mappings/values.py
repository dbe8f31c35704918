"""Salesforce field values in one canonical form, whichever API delivered them.

REST returns JSON types; Bulk API 2.0 returns every cell as a string. `normalize` turns both
into the same Python value by the field's describe type, so a bulk first run and a REST first
run give identical hubs. `to_epoch` is the "Convert dates to Unix timestamps" switch;
`transformed` applies a field mapping's transform and default, in either direction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from mappings.mapping import FieldRow, Transform

UTC = dt.UTC
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)$")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})$")
DATE_TYPES = frozenset({"date", "datetime"})
CANONICAL_LENGTH = len("2021-09-01T09:00:00.000+0000")
BULK_LENGTH = len("2021-09-01T09:00:00.000Z")


class InvalidValue(ValueError):
    """A value that does not fit its field's type; reported, never guessed at."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: {value!r} is not a valid {expected}")


def dotted_value(row: dict[str, Any], path: str) -> Any:
    """A row's value at `path`; `Account.Ext__c` reads the nested parent's field (a
    Salesforce relationship in a query row, or a lookup written by external id)."""
    head, _, rest = path.partition(".")
    value = row.get(head)
    if rest:
        return value.get(rest) if isinstance(value, dict) else None
    return value


def parse_datetime(text: str) -> dt.datetime | None:
    """An aware UTC datetime from ISO-8601 with any offset (Z, ±hh:mm, ±hhmm, ±hh); else None."""
    match = _DATETIME.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute = (int(g) for g in match.group(1, 2, 3, 4, 5))
    second = int(match.group(6) or 0)
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    offset = match.group(8)
    if offset in ("Z", "z"):
        shift = dt.timedelta(0)
    else:
        digits = offset[1:].replace(":", "")
        shift = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if offset[0] == "-":
            shift = -shift
    try:
        moment = dt.datetime(year, month, day, hour, minute, second, micros,
                             tzinfo=dt.timezone(shift))
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _valid_iso(text: str) -> bool:
    """Whether `text` is a well-formed ISO-8601 datetime (the C parser: a fast check)."""
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_date(text: str) -> dt.date | None:
    match = _DATE.match(text.strip())
    if match is None:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def canonical_datetime(moment: dt.datetime) -> str:
    """Salesforce's REST form: UTC, milliseconds, +0000 — sortable as text."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def to_epoch(value: Any, field: str = "value") -> int:
    """Epoch seconds of an ISO-8601 datetime (any offset) or a date (midnight UTC)."""
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, str) and len(value) == CANONICAL_LENGTH and value.endswith("+0000"):
        # The form Salesforce (and `normalize`) always produce: the C parser is 20× faster.
        try:
            return int(dt.datetime.fromisoformat(value).timestamp())
        except ValueError:
            pass
    if isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return int(moment.timestamp())
        day = parse_date(value)
        if day is not None:
            return int(dt.datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    raise InvalidValue(field, value, "ISO-8601 date or datetime")


def _boolean(field: str, field_type: str, value: Any) -> bool:
    if value is True or value is False:
        return value
    text = str(value).lower()
    if text == "true" or text == "false":
        return text == "true"
    raise InvalidValue(field, value, "boolean")


def _integer(field: str, field_type: str, value: Any) -> int:
    try:
        return int(float(value)) if isinstance(value, str) and "." in value else int(value)
    except (TypeError, ValueError):
        raise InvalidValue(field, value, field_type) from None


def _number(field: str, field_type: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidValue(field, value, field_type) from None


def _datetime(field: str, field_type: str, value: Any) -> str:
    text = _canonical_text(value) if value.__class__ is str else None
    if text is None:
        moment = parse_datetime(str(value))
        if moment is None:
            raise InvalidValue(field, value, "ISO-8601 datetime")
        text = canonical_datetime(moment)
    return text


@lru_cache(maxsize=4096)
def _canonical_text(value: str) -> str | None:
    """The canonical form of a datetime text, or None when that needs the full parser.

    Cached: a record's CreatedDate, LastModifiedDate and SystemModstamp are often one instant,
    and the modstamp is read again for the cursor.
    """
    if value[10:11] == "T":
        if len(value) == CANONICAL_LENGTH and value.endswith("+0000"):
            return value
        if (len(value) == BULK_LENGTH and value[-1] == "Z" and value[19] == "."
                and _valid_iso(value)):
            # Bulk API 2.0's form of the same instant (`...00.000Z`): no regex needed.
            return value[:-1] + "+0000"
    moment = parse_datetime(value)
    return canonical_datetime(moment) if moment is not None else None


def _date(field: str, field_type: str, value: Any) -> str:
    day = parse_date(str(value))
    if day is None:
        raise InvalidValue(field, value, "ISO-8601 date")
    return day.isoformat()


# The describe types whose values are converted; every other type is text and passes as it is.
_CONVERT: dict[str, Callable[[str, str, Any], Any]] = {
    "boolean": _boolean, "int": _integer, "long": _integer, "double": _number,
    "currency": _number, "percent": _number, "datetime": _datetime, "date": _date,
}


def converter(field: str, field_type: str) -> Callable[[Any], Any] | None:
    """`normalize` for one field, chosen once: a function of a non-empty value, or None when
    values of this type pass as they are."""
    convert = _CONVERT.get(field_type)
    return partial(convert, field, field_type) if convert else None


def normalize(field: str, field_type: str, value: Any) -> Any:
    """One canonical Python value for a REST or Bulk value of a field of `field_type`."""
    if value is None or value == "":
        return None
    convert = _CONVERT.get(field_type)
    return convert(field, field_type, value) if convert else value


def transformed(row: FieldRow, value: Any) -> Any:
    """A value after its field mapping's transform and default (either direction).

    1. A constant is the row's default, whatever the source holds.
    2. An empty value takes the default (none: stays None).
    3. The transform: lower case, Unix seconds → ISO-8601 datetime, ISO-8601 → Unix seconds;
       a value that does not convert raises InvalidValue naming the source.
    """
    if row.transform == Transform.CONSTANT:
        return row.default
    if value is None or value == "":
        if not row.default:
            return None
        value = row.default
    if row.transform == Transform.LOWER:
        return str(value).lower()
    if row.transform == Transform.UNIX_TO_ISO:
        return _from_epoch(row.source, value)
    if row.transform == Transform.ISO_TO_UNIX:
        return to_epoch(value, row.source)
    return value


def _from_epoch(field: str, value: Any) -> str:
    if isinstance(value, bool):
        raise InvalidValue(field, value, "Unix timestamp")
    try:
        seconds = float(value)
        return canonical_datetime(dt.datetime.fromtimestamp(seconds, UTC))
    except (TypeError, ValueError, OverflowError, OSError):
        raise InvalidValue(field, value, "Unix timestamp") from None
