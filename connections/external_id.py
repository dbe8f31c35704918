"""The External ID for accounts: the Account field that carries the hub's account id.

The initial import keys hub accounts by it, and actions creating or matching Accounts write
the hub's account id into it, so the next import finds the same account instead of making a
second one. Blank (or `Id`, Salesforce's own record id): accounts are keyed by their record
Id and nothing is written back.
"""

from __future__ import annotations

from typing import Any

# What the connection form accepts as "no external id".
NONE = ("", "Id")


def account_key(connection: Any) -> str:
    """The connection's External ID field for accounts, "" when accounts are keyed by Id."""
    name = (connection.account_external_id_field or "").strip()
    return "" if name in NONE else name


def suitable(field: dict[str, Any]) -> bool:
    """Whether an Account field can carry the hub's account id (see `problem`)."""
    return not _reason(field)


def problem(account_describe: dict[str, Any], name: str) -> tuple[str, str]:
    """(the field's exact API name, "") when it can carry the hub's account id, else
    (name, why not)."""
    fields = {f["name"].lower(): f for f in account_describe.get("fields", [])}
    field = fields.get(name.lower())
    if field is None:
        return name, f"Account has no field {name!r} (use the API name, e.g. Account_Id__c)."
    return field["name"], _reason(field)


def _reason(field: dict[str, Any]) -> str:
    name = f"Account.{field['name']}"
    # Not idLookup alone: Account.Name is one in real orgs, and names repeat.
    if not (field.get("externalId") or field.get("unique")):
        return (f"{name} is not an external id (nor unique): two accounts could carry the same "
                "account id. Mark it External ID and Unique in Salesforce, or choose another "
                "field.")
    if not field.get("updateable") or not field.get("createable"):
        return (f"{name} is read-only in Salesforce, so Forcebridge could not write the hub's "
                "account id into it.")
    return ""
