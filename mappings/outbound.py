"""Hub values on their way to Salesforce: mapped by the rows, checked against describe.

`Outbound` is built once per run from the rows (hub attribute → Salesforce field) and the
object's describe. `values(record)` gives the fields to send and a `Problem` for each value
Salesforce would refuse (a picklist value it does not allow, a number that is not one, text
too long, a malformed id...), so a bad value fails its record only, with the field, the value
and the reason. An attribute absent from the hub record is not sent (the field is left as it
is); one present but empty is sent as null (the field is cleared).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from mappings.mapping import FieldRow, Transform
from mappings.values import (
    UTC,
    InvalidValue,
    canonical_datetime,
    dotted_value,
    parse_date,
    parse_datetime,
    transformed,
)

Describe = Callable[[str], dict]
TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "picklist", "combobox",
                        "encryptedstring", "id", "reference", "multipicklist"})
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class Problem(NamedTuple):
    """A value Salesforce would refuse: the field, the value and the reason."""

    field: str
    value: Any
    reason: str

    def __str__(self) -> str:
        shown = repr(self.value)
        return f"{self.field}: {shown[:80] + '…' if len(shown) > 80 else shown} {self.reason}"


class Refused(ValueError):
    """One value's reason for refusal (turned into a `Problem` by `Outbound.values`)."""


def target_field(describe: Describe, sobject: str, target: str) -> dict:
    """The describe of a target: a field of `sobject`, or for `Account.Ext__c` (an external-id
    lookup) the external-id field of the parent; KeyError says which name is unknown."""
    own = {f["name"].lower(): f for f in describe(sobject)["fields"]}
    head, _, rest = target.partition(".")
    if not rest:
        if head.lower() not in own:
            raise KeyError(f"{sobject} has no field {target!r}")
        return own[head.lower()]
    parents = {(f.get("relationshipName") or "").lower(): f for f in own.values()
               if f.get("type") == "reference"}
    parent = parents.get(head.lower())
    if parent is None or not parent.get("referenceTo") or "." in rest:
        raise KeyError(f"{sobject} has no relationship {head!r}")
    fields = {f["name"].lower(): f for f in describe(parent["referenceTo"][0])["fields"]}
    if rest.lower() not in fields:
        raise KeyError(f"{parent['referenceTo'][0]} has no field {rest!r}")
    return {**fields[rest.lower()], "lookup_of": parent}


class Outbound:
    """Maps hub records to Salesforce values for one object (`values`), checked by type."""

    def __init__(self, rows: list[FieldRow], describe: Describe, sobject: str) -> None:
        self.rows = [row for row in rows if row.target]
        self.fields = {row.target: target_field(describe, sobject, row.target)
                       for row in self.rows}
        self.types = {target: field.get("type", "string") for target, field in self.fields.items()}

    def values(self, record: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        """The fields to send for one hub record, and the values refused."""
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for row in self.rows:
            if row.transform != Transform.CONSTANT and row.source not in record \
                    and not row.default:
                continue  # absent from the hub record: leave the Salesforce field alone
            raw = record.get(row.source) if row.source else None
            try:
                values[row.target] = self.convert(row.target, transformed(row, raw))
            except InvalidValue as error:
                problems.append(Problem(row.target, raw, f"cannot be converted ({error})"))
            except Refused as error:
                problems.append(Problem(row.target, raw, str(error)))
        return values, problems

    def missing_on_create(self, values: dict[str, Any], describe: dict) -> list[Problem]:
        """Required fields a create would lack (not nillable, no default on create)."""
        return [Problem(f["name"], None, "is required to create a record")
                for f in describe["fields"]
                if f.get("createable") and not f.get("nillable", True)
                and not f.get("defaultedOnCreate") and f.get("type") != "boolean"
                and values.get(f["name"]) in (None, "")]

    def convert(self, target: str, value: Any) -> Any:
        """The value as Salesforce takes it for this field's type; Refused says why not."""
        field = self.fields[target]
        if value is None or value == "":
            if not field.get("nillable", True) and field.get("type") != "boolean":
                raise Refused("is required and cannot be cleared")
            return None
        return CONVERT.get(field.get("type", "string"), _text)(field, value)


def _boolean(field: dict, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise Refused("is not a boolean (true or false)")


def _integer(field: dict, value: Any) -> int:
    number = _number(field, value)
    if number != int(number):
        raise Refused("is not a whole number")
    return int(number)


def _number(field: dict, value: Any) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float))
                                       or _NUMBER.fullmatch(str(value).strip())):
        raise Refused("is not a number")
    return float(value)


def _moment(value: Any) -> dt.datetime | None:
    """An instant from Unix seconds (the hub's dates) or ISO-8601 (a date is midnight UTC)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or _NUMBER.fullmatch(str(value).strip()):
        try:
            return dt.datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value)
    moment = parse_datetime(text)
    if moment is None and (day := parse_date(text)) is not None:
        moment = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return moment


def _date(field: dict, value: Any) -> str:
    moment = _moment(value)
    if moment is None:
        raise Refused("is not a date (YYYY-MM-DD, ISO-8601 or Unix seconds)")
    return moment.date().isoformat()


def _datetime(field: dict, value: Any) -> str:
    moment = _moment(value)
    if moment is None:
        raise Refused("is not a datetime (ISO-8601 or Unix seconds)")
    return canonical_datetime(moment)


def _text(field: dict, value: Any) -> str:
    if isinstance(value, (dict, list)) and field.get("type") != "multipicklist":
        raise Refused("is not text")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = ";".join(map(str, value)) if isinstance(value, list) else str(value)
    kind = field.get("type")
    if kind in ("picklist", "multipicklist") and field.get("restrictedPicklist"):
        text = _picklist(field, text)
    elif kind == "email" and not _EMAIL.fullmatch(text):
        raise Refused("is not an e-mail address")
    elif kind in ("id", "reference") and not _ID.fullmatch(text):
        raise Refused("is not a Salesforce id (15 or 18 letters and digits)")
    length = field.get("length") or 0
    if length and len(text) > length:
        raise Refused(f"is {len(text)} characters long; the field holds at most {length}")
    return text


def _picklist(field: dict, text: str) -> str:
    """The allowed values of a restricted picklist, spelled as Salesforce spells them."""
    allowed = {v["value"].lower(): v["value"] for v in field.get("picklistValues") or []
               if v.get("active", True)}
    chosen = []
    for part in text.split(";") if field.get("type") == "multipicklist" else [text]:
        if part.lower() not in allowed:
            shown = ", ".join(list(allowed.values())[:10])
            raise Refused(f"is not a value of this restricted picklist ({shown})")
        chosen.append(allowed[part.lower()])
    return ";".join(chosen)


CONVERT: dict[str, Callable[[dict, Any], Any]] = {
    "boolean": _boolean, "int": _integer, "long": _integer, "double": _number,
    "currency": _number, "percent": _number, "date": _date, "datetime": _datetime,
}


def differing(outbound: Outbound, values: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """The targets whose value to send differs from the Salesforce row's (read the way a
    value to send is converted, so `1.0` and `1`, or two spellings of an instant, are equal)."""
    changed = []
    for target, sent in values.items():
        current = dotted_value(row, target)
        if sent is None or current in (None, ""):
            same = sent is None and current in (None, "")
        elif outbound.types[target] in ("id", "reference"):
            same = str(sent)[:15] == str(current)[:15]
        else:
            try:
                same = outbound.convert(target, current) == sent
            except Refused:
                same = False
        if not same:
            changed.append(target)
    return changed
