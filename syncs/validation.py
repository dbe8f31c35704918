"""A sync checked against the org: the object, every field and identifier, and the filter.

Each problem becomes a message on the form field it belongs to. The filter is tried with a
`LIMIT 1` query, so anything Salesforce would reject at run time is refused when saving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from connections.errors import SalesforceRejected
from mappings.transform import UnknownField, field_types
from syncs.cursor import build_soql

if TYPE_CHECKING:
    from connections.client import SalesforceClient
    from syncs.models import Sync

# A condition of the shape incremental runs add to the filter.
CURSOR_PROBE = "SystemModstamp >= 2000-01-01T00:00:00Z"
IDENTIFIERS = ("person_id_field", "object_id_field", "related_id_field", "event_name_field",
               "event_timestamp_field")


def filter_problem(condition: str) -> str:
    """Why a filter cannot be a WHERE condition before asking Salesforce ("" when it can)."""
    return "Only a WHERE condition; no semicolons." if ";" in condition else ""


def filter_soql(sobject: str, condition: str, select: str = "Id") -> str:
    """The filter the way a run combines it with its cursor, so a filter that escapes its
    parentheses (`A) OR (B`) is refused instead of silently widening every run."""
    return build_soql([select], sobject, [condition, CURSOR_PROBE], ordered=False)


def count_matching(client: SalesforceClient, sobject: str, condition: str) -> int:
    """How many records the filter lets a run read ("Test filter"); SalesforceRejected with
    Salesforce's own words when it refuses the filter."""
    return client.count(filter_soql(sobject, condition, "COUNT()"))


def validate_sync(sync: Sync, client: SalesforceClient) -> None:
    """Raise ValidationError({field: [messages]}) for everything Salesforce would refuse.

    1. The object must exist and be queryable.
    2. Every synced field and identifier must exist (parents one level deep).
    3. The filter must be accepted by a `SELECT Id ... WHERE (filter) AND (cursor) LIMIT 1`
       query.
    """
    try:
        described = client.describe(sync.sobject)
    except SalesforceRejected as error:
        raise ValidationError({"sobject": f"Salesforce has no object {sync.sobject!r} "
                                          f"({error.error_code})."}) from None
    if not described.get("queryable", True):
        raise ValidationError({"sobject": f"{sync.sobject} cannot be queried."})
    errors: dict[str, list[str]] = {}
    used = set(sync.mapping().identifier_fields())
    for name in IDENTIFIERS:
        path = getattr(sync, name)
        if path and path in used:
            _check(client, sync.sobject, [path], errors, name)
    _check(client, sync.sobject, list(sync.fields), errors, "fields")
    unknown_renames = sorted(set(sync.renames or {}) - set(sync.fields))
    if unknown_renames:
        errors.setdefault("renames", []).append(
            f"Renamed fields that are not synced: {', '.join(unknown_renames)}.")
    if sync.filter.strip():
        soql = filter_soql(sync.sobject, sync.filter) + " LIMIT 1"
        try:
            next(iter(client.query_pages(soql)), None)
        except SalesforceRejected as error:
            errors.setdefault("filter", []).append(
                f"Salesforce rejected the filter: {error.error_code}: {error.message}")
    if errors:
        raise ValidationError(errors)


def _check(client: SalesforceClient, sobject: str, paths: list[str],
           errors: dict[str, list[str]], key: str) -> None:
    for path in paths:
        try:
            field_types(client.describe, sobject, [path])
        except UnknownField as error:
            errors.setdefault(key, []).append(f"{error}.")
        except SalesforceRejected as error:
            errors.setdefault(key, []).append(f"{path}: {error.error_code}: {error.message}")
