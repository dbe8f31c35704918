"""Write validation: field names, writability, values, references, required and unique fields."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .schema import Field
from .table import Row, Table
from .values import RecordError, coerce, cross_reference_error, intern

if TYPE_CHECKING:
    from .store import Org

_READ_ONLY_MESSAGE = (
    "Unable to create/update fields: {}. Please check the security settings of this field and "
    "verify that it is read/write for your profile or permission set."
)


def no_such_column(table: Table, name: str) -> RecordError:
    return RecordError(400, "INVALID_FIELD",
                       f"No such column '{name}' on sobject of type {table.sobject.name}",
                       [name])


def validated(org: Org, table: Table, fields: Mapping[str, Any],
              creating: bool) -> dict[str, Any]:
    """Check an API write body and return the stored value per canonical field name."""
    values: dict[str, Any] = {}
    read_only: list[str] = []
    for key, value in fields.items():
        if key == "attributes":
            continue
        field = table.sobject.field(key)
        if field is None and isinstance(value, dict):
            lookup, parent_id = by_external_id(org, table, key, value)
            values[lookup.name] = parent_id
            continue
        if field is None:
            raise no_such_column(table, key)
        if not (field.createable if creating else field.updateable):
            read_only.append(field.name)
            continue
        stored = coerce(field, value)
        if field.type == "reference" and stored is not None:
            check_reference(org, field, stored)
        values[field.name] = stored
    if read_only:
        raise RecordError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                          _READ_ONLY_MESSAGE.format(", ".join(read_only)), read_only)
    return values


def by_external_id(org: Org, table: Table, key: str, value: dict[str, Any]) -> tuple[Field, str]:
    """`"Account": {"Ext__c": "x"}`: the lookup field and the id of the one parent matching.

    As on Salesforce (REST API Developer Guide, "Insert an sObject Record with a Lookup by
    External ID"): the parent is found by an external-id (or idLookup) field; none found is
    INVALID_FIELD "Foreign key external ID: x not found ...", several DUPLICATE_EXTERNAL_ID.
    """
    lookup = table.sobject.relationship(key)
    if lookup is None:
        raise no_such_column(table, key)
    names = [k for k in value if k != "attributes"]
    declared = (value.get("attributes") or {}).get("type") if isinstance(
        value.get("attributes"), dict) else None
    target_name = declared or lookup.reference_to[0]
    target = org.table(target_name)
    ext = target.sobject.field(names[0]) if len(names) == 1 else None
    if ext is None or not ext.id_lookup or target.sobject.name not in lookup.reference_to:
        raise RecordError(400, "INVALID_FIELD",
                          f"The relationship {key} needs exactly one external id field of "
                          f"{target.sobject.name}", [lookup.name])
    raw = value[names[0]]
    if ext.name == "Id":
        found = org.get_record(str(raw))
        matches = [found["Id"]] if found and not found["IsDeleted"] else []
    else:
        stored = coerce(ext, raw)
        matches = target.index(ext).find(stored) if stored is not None else []
    if not matches:
        raise RecordError(400, "INVALID_FIELD", f"Foreign key external ID: {raw} not found for "
                          f"field {ext.name} in entity {target.sobject.name}", [])
    if len(matches) > 1:
        raise RecordError(400, "DUPLICATE_EXTERNAL_ID",
                          f"Foreign key external ID: {raw} matched more than one record for "
                          f"field {ext.name} in entity {target.sobject.name}", [])
    return lookup, matches[0]


def check_reference(org: Org, field: Field, target: str) -> None:
    table = org.table_for_id(target)
    if table is None or table.sobject.name not in field.reference_to:
        raise RecordError(400, "FIELD_INTEGRITY_EXCEPTION",
                          f"{field.label}: id value of incorrect type: {target}",
                          [field.name])
    row = table.get(target)
    if row is None:
        raise cross_reference_error([field.name])
    if row[table.deleted_col]:
        raise RecordError(400, "ENTITY_IS_DELETED", "entity is deleted", [field.name])


def check_required(table: Table, row: Row, changed: Mapping[str, Any] | None) -> None:
    """On create every required field; on update only those the body touched."""
    missing = [
        f.name for i, f in enumerate(table.fields)
        if f.required and row[i] is None and (changed is None or f.name in changed)
    ]
    if missing:
        raise RecordError(400, "REQUIRED_FIELD_MISSING",
                          f"Required fields are missing: [{', '.join(missing)}]", missing)


def check_unique(table: Table, record_id: str, row: Row) -> None:
    for index in table.indexes.values():
        if not index.field.unique:
            continue
        others = [i for i in index.find(row[index.column]) if i != record_id]
        if others:
            name = index.field.name
            raise RecordError(400, "DUPLICATE_VALUE",
                              f"duplicate value found: {name} duplicates value on record "
                              f"with id: {others[0]}", [name])


def check_relation(table: Table, record_id: str, row: Row) -> None:
    """One AccountContactRelation per account and contact (the contact's index finds it)."""
    if table.sobject.name != "AccountContactRelation":
        return
    account_col, contact_col = table.col["AccountId"], table.col["ContactId"]
    for other in table.children_of("ContactId", row[contact_col]):
        found = table.get(other)
        if other != record_id and found is not None and found[account_col] == row[account_col]:
            raise RecordError(400, "DUPLICATE_VALUE",
                              "duplicate value found: <unknown> duplicates value on record "
                              f"with id: {other}", [])


def fast_value(field: Field, value: Any) -> Any:
    """`load`'s cheap normalisation: trust well-formed values, fully coerce the rest."""
    if value is None:
        return False if field.type == "boolean" else None
    if field.type == "datetime" and type(value) is str and len(value) == 28 \
            and value.endswith("+0000"):
        return sys.intern(value)
    if field.type in ("string", "picklist") and type(value) is str and value:
        return intern(field, value)
    if field.type in ("email", "phone", "textarea", "url") and type(value) is str and value:
        return value
    return coerce(field, value)
