"""An action checked against describe before it is saved, each problem named by form field.

A record matcher must be a field Salesforce can filter on; every mapped target must exist and
be writable for the operation (createable to create, updateable to update); an upsert's
matcher must be an external id; an external-id lookup (`Account.Ext__c`) must name an external
id of the parent. The object itself must allow the operation.
"""

from __future__ import annotations

from collections.abc import Callable

from mappings.mapping import FieldRow
from mappings.matchers import Matchers
from mappings.outbound import target_field

Describe = Callable[[str], dict]
OBJECT_RIGHTS = {"create": "createable", "update": "updateable", "upsert": "updateable",
                 "delete": "deletable"}


def action_problems(describe: Describe, sobject: str, operation: str, matchers: Matchers,
                    rows: list[FieldRow], *, creates: bool) -> dict[str, list[str]]:
    """{form field: [messages]} for everything Salesforce would refuse (empty: none)."""
    problems: dict[str, list[str]] = {}
    try:
        described = describe(sobject)
    except Exception as error:  # noqa: BLE001 - SalesforceRejected and friends, shown as said
        return {"sobject": [f"Salesforce could not describe {sobject!r}: {error}"]}
    rights = [OBJECT_RIGHTS[operation], *(["createable"] if creates else [])]
    for right in dict.fromkeys(rights):
        if not described.get(right, True):
            problems.setdefault("sobject", []).append(
                f"{sobject} is not {right} for this user: a {operation} would fail.")
    for _, name in matchers.pairs:
        _check_matcher(describe, sobject, operation, name, problems)
    for row in rows:
        if row.target:
            _check_target(describe, sobject, operation, row.target, creates, problems)
    return problems


def _check_matcher(describe: Describe, sobject: str, operation: str, name: str,
                   problems: dict[str, list[str]]) -> None:
    try:
        field = target_field(describe, sobject, name)
    except KeyError as error:
        problems.setdefault("matchers", []).append(f"{error.args[0]}.")
        return
    if not field.get("filterable", True):
        problems.setdefault("matchers", []).append(
            f"{name} cannot be a record matcher: Salesforce cannot filter on it "
            "(not filterable).")
    if operation == "upsert" and not (field.get("externalId") or field.get("type") == "id"):
        problems.setdefault("matchers", []).append(
            f"{name} is not an external id field: an upsert matches on an external id (or "
            "use update with “allow creating records”).")


def _check_target(describe: Describe, sobject: str, operation: str, target: str,
                  creates: bool, problems: dict[str, list[str]]) -> None:
    messages = problems.setdefault("field_mappings", [])
    try:
        field = target_field(describe, sobject, target)
    except KeyError as error:
        messages.append(f"{error.args[0]}.")
        return
    if "lookup_of" in field:
        if not (field.get("externalId") or field.get("idLookup")):
            messages.append(f"{target}: {field['name']} is not an external id of the parent, "
                            "so Salesforce cannot look the parent up by it.")
        field = field["lookup_of"]
    if operation in ("update", "upsert") and not field.get("updateable", True):
        messages.append(f"{target} is not updateable in Salesforce: an {operation} cannot "
                        "write it.")
    if (creates or operation == "create") and not field.get("createable", True):
        messages.append(f"{target} is not createable in Salesforce: creating records cannot "
                        "write it.")
    if not messages:
        problems.pop("field_mappings")
