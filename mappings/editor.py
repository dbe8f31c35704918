"""Field mapping rows as an operator edits them: read from a form, checked against describe.

The mapping editor (syncs/mapping_editor.py) posts the rows as they stand on screen, as
parallel lists (`source`, `target`, `transform`, `default`). `posted_rows` reads them, and
`row_problems` names each row Salesforce or the engines would refuse, and why:

1. A transform must be one of `Transform`; a constant needs its value (the default) and a
   target; any other row needs a source.
2. Data in (a sync): the source is a Salesforce field path of the object (one parent level);
   the transform must suit its describe type. Data out (an action): the target is a field of
   the object (or an external-id lookup, `Account.Ext__c`); the transform must suit the type
   of that field, and a default or constant must be a value it takes (mappings/outbound.py).
3. No field is read twice and no target is written twice: the engines would keep one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from django.http import QueryDict

from mappings.mapping import FieldRow, Transform
from mappings.outbound import Outbound, Refused, target_field
from mappings.reserved import traits_for
from mappings.transform import UnknownField, field_types
from mappings.values import DATE_TYPES, InvalidValue, transformed

Describe = Callable[[str], dict]
IN, OUT = "in", "out"
TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "picklist", "combobox",
                        "encryptedstring", "id", "reference", "multipicklist"})
NUMBER_TYPES = frozenset({"int", "long", "double", "currency", "percent"})
# Data in: the describe types of the Salesforce field each transform can read.
READS: dict[str, frozenset[str]] = {
    Transform.LOWER: TEXT_TYPES,
    Transform.UNIX_TO_ISO: NUMBER_TYPES | {"string"},
    Transform.ISO_TO_UNIX: DATE_TYPES | {"string"},
}
# Data out: the describe types of the Salesforce field each transform's result can go to.
WRITES: dict[str, frozenset[str]] = {
    Transform.LOWER: TEXT_TYPES,
    Transform.UNIX_TO_ISO: DATE_TYPES | {"string", "textarea"},
    Transform.ISO_TO_UNIX: NUMBER_TYPES | {"string", "textarea"},
}
KEYS = FieldRow._fields


class RowProblem(NamedTuple):
    """One refused row: its number on screen (from 1), its row, and the reason."""

    number: int
    row: FieldRow
    reason: str

    def __str__(self) -> str:
        shown = f"{self.row.source or repr(self.row.default)} → {self.row.target or '(usual name)'}"
        return f"Row {self.number} ({shown}): {self.reason}"


def posted_rows(data: QueryDict) -> tuple[list[tuple[int, FieldRow]], list[RowProblem]]:
    """The rows as posted, numbered as on screen (blank rows skipped), and a problem for each
    malformed one (kept among the rows, so the page shows it again as it was typed)."""
    columns = [data.getlist(key) for key in KEYS]
    count = max(len(column) for column in columns)
    rows, problems = [], []
    for index in range(count):
        values = [str(column[index]).strip() if index < len(column) else ""
                  for column in columns]
        if not any(values):
            continue
        row = FieldRow(*values)
        if row.transform in Transform.values:
            row = row._replace(transform=Transform(row.transform))
        else:
            problems.append(RowProblem(index + 1, row, f"unknown transform {row.transform!r}."))
        rows.append((index + 1, row))
    return rows, problems


def row_problems(rows: list[tuple[int, FieldRow]], direction: str, describe: Describe,
                 sobject: str) -> list[RowProblem]:
    """Every row Salesforce or the engines would refuse, with the reason (steps: module doc);
    rows of an unknown transform are left to `posted_rows`' problem."""
    problems = []
    rows = [(number, row) for number, row in rows if row.transform in Transform.values]
    check = _inbound if direction == IN else _outbound
    for number, row in rows:
        reason = _shape(row, direction) or check(row, describe, sobject) or _default(row)
        if reason:
            problems.append(RowProblem(number, row, reason))
    return problems + _twice(rows, direction)


def usual_names(data_format: str) -> dict[str, str]:
    """Data in: the reserved trait each Salesforce field takes when its target is blank."""
    return traits_for(data_format)


def _shape(row: FieldRow, direction: str) -> str:
    if row.transform == Transform.CONSTANT:
        if not row.default:
            return "a constant needs its value in “default”."
        if not row.target:
            return "a constant needs a target to write."
        return ""
    if not row.source:
        return "needs a source (or the constant transform)."
    if direction == OUT and not row.target:
        return "needs the Salesforce field it writes."
    return ""


def _inbound(row: FieldRow, describe: Describe, sobject: str) -> str:
    if row.transform == Transform.CONSTANT:
        return ""
    try:
        kind = field_types(describe, sobject, [row.source])[row.source]
    except UnknownField as error:
        return f"{error}."
    allowed = READS.get(row.transform)
    if allowed is not None and kind not in allowed:
        return (f"{row.source} is a {kind} field; “{row.transform.label}” reads "
                f"{_kinds(allowed)} fields.")
    return ""


def _outbound(row: FieldRow, describe: Describe, sobject: str) -> str:
    try:
        field = target_field(describe, sobject, row.target)
    except KeyError as error:
        return f"{error.args[0]}."
    kind = field.get("type", "string")
    allowed = WRITES.get(row.transform)
    if allowed is not None and kind not in allowed:
        return (f"{row.target} is a {kind} field; “{row.transform.label}” gives a value for "
                f"{_kinds(allowed)} fields.")
    if row.default:
        try:
            Outbound([row], describe, sobject).convert(row.target, _given(row))
        except InvalidValue:
            return ""  # reported by `_default`
        except Refused as error:
            return f"the default {row.default!r} {error} ({row.target} is a {kind} field)."
    return ""


def _default(row: FieldRow) -> str:
    """A default the row's own transform cannot convert (every empty value would fail)."""
    try:
        _given(row)
    except InvalidValue as error:
        return f"the default {row.default!r} is not a valid {error.expected}."
    return ""


def _given(row: FieldRow) -> Any:
    """What the row makes of an empty value: its default, through its transform."""
    return transformed(row, None)


def _twice(rows: list[tuple[int, FieldRow]], direction: str) -> list[RowProblem]:
    """Rows that read a field already read, or write a target already written."""
    problems, seen = [], {}
    for number, row in rows:
        keys = [("target", row.target.lower())] if row.target else []
        if direction == IN and row.source and row.transform != Transform.CONSTANT:
            keys.append(("source", row.source.lower()))
        for kind, key in keys:
            if (kind, key) in seen:
                name = row.target if kind == "target" else row.source
                verb = "is written" if kind == "target" else "is read"
                problems.append(RowProblem(number, row, f"{name} {verb} by row {seen[kind, key]} "
                                           "already; one row per field."))
            seen.setdefault((kind, key), number)
    return problems


def _kinds(types: frozenset[str]) -> str:
    return ", ".join(sorted(types))
