"""Date and datetime values of SOQL: literal parsing, UTC canonical form, relative date ranges.

Datetimes are compared as canonical strings ``YYYY-MM-DDTHH:MM:SS.mmm+0000`` (UTC, fixed
width), the form the emulator stores: comparing such strings compares instants, so no record
value needs parsing on the hot path. Dates are compared as ``YYYY-MM-DD`` strings.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:(Z)|([+-])(\d{2}):?(\d{2}))?"
)
_RELATIVE = re.compile(r"(LAST|THIS|NEXT)_(WEEK|MONTH|QUARTER|YEAR)")
_LAST_NEXT_N = re.compile(r"(LAST|NEXT)_N_(DAYS|WEEKS|MONTHS|QUARTERS|YEARS)")
_N_AGO = re.compile(r"N_(DAYS|WEEKS|MONTHS|QUARTERS|YEARS)_AGO")
CANONICAL_LENGTH = len("2021-09-01T09:00:00.000+0000")


def parse_datetime(text: str) -> datetime:
    """An aware UTC datetime from ISO text with ``Z``, ``±hh:mm`` or ``±hhmm`` (none means UTC)."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not a datetime: {text!r}")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    micros = int((match.group(7) or "0").ljust(6, "0")[:6])
    moment = datetime(year, month, day, hour, minute, second, micros, tzinfo=timezone.utc)
    if match.group(9):
        shift = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        # 09:00-05:00 is 14:00 UTC: undo the offset.
        moment = moment - shift if match.group(9) == "+" else moment + shift
    return moment


def canonical(moment: datetime) -> str:
    """The fixed-width UTC form Salesforce (and the emulator's store) writes datetimes in."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def record_datetime(value: object) -> str | None:
    """A stored datetime in canonical form; the store's own format passes through untouched."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if len(value) == CANONICAL_LENGTH and value.endswith("+0000"):
            return value
        return canonical(parse_datetime(value))
    if isinstance(value, datetime):
        return canonical(value)
    raise ValueError(f"not a datetime: {value!r}")


def day_start(day: date) -> str:
    """The canonical instant at which ``day`` begins in UTC."""
    return f"{day.isoformat()}T00:00:00.000+0000"


def date_literal_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """The ``[start, end)`` days of a relative date literal such as ``THIS_MONTH`` or ``LAST_N_DAYS:7``.

    Weeks start on Sunday (Salesforce's default locale); quarters are calendar quarters.
    """
    fixed = {"YESTERDAY": -1, "TODAY": 0, "TOMORROW": 1}
    if name in fixed:
        return _start("DAYS", today, fixed[name]), _start("DAYS", today, fixed[name] + 1)
    if name in ("LAST_90_DAYS", "NEXT_90_DAYS"):
        name, n = name.replace("90", "N"), 90
    relative = _RELATIVE.fullmatch(name)
    if relative:
        unit = relative.group(2) + "S"
        shift = {"LAST": -1, "THIS": 0, "NEXT": 1}[relative.group(1)]
        return _start(unit, today, shift), _start(unit, today, shift + 1)
    count = n or 0
    last_next = _LAST_NEXT_N.fullmatch(name)
    if last_next and last_next.group(1) == "NEXT":
        unit = last_next.group(2)
        return _start(unit, today, 1), _start(unit, today, 1 + count)
    if last_next and last_next.group(2) == "DAYS":
        # LAST_N_DAYS includes today: LAST_N_DAYS:1 is yesterday and today.
        return _start("DAYS", today, -count), _start("DAYS", today, 1)
    if last_next:
        unit = last_next.group(2)
        return _start(unit, today, -count), _start(unit, today, 0)
    ago = _N_AGO.fullmatch(name)
    if ago:
        unit = ago.group(1)
        return _start(unit, today, -count), _start(unit, today, 1 - count)
    raise ValueError(f"unknown date literal {name}")


def _start(unit: str, today: date, shift: int) -> date:
    """The first day of the ``unit`` period ``shift`` periods away from the one holding today."""
    if unit == "DAYS":
        return today + timedelta(days=shift)
    if unit == "WEEKS":
        sunday = today - timedelta(days=(today.weekday() + 1) % 7)
        return sunday + timedelta(weeks=shift)
    if unit == "MONTHS":
        index = today.year * 12 + today.month - 1 + shift
        return date(index // 12, index % 12 + 1, 1)
    if unit == "QUARTERS":
        index = today.year * 4 + (today.month - 1) // 3 + shift
        return date(index // 4, index % 4 * 3 + 1, 1)
    return date(today.year + shift, 1, 1)
