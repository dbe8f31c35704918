"""Reserved traits: the Salesforce fields the hub stores under its own trait names.

From the data-in docs: a person's `FirstName` becomes `firstName` and so on; objects reserve a
smaller set. `CreatedDate` additionally gives people `created_at` in epoch seconds, while the
`CreatedDate` attribute itself (when synced) is left as Salesforce sent it.
"""

from __future__ import annotations

PERSON_TRAITS: dict[str, str] = {
    "FirstName": "firstName",
    "LastName": "lastName",
    "Email": "email",
    "Phone": "phone",
    "Title": "title",
    "Website": "website",
    "Description": "description",
    "Name": "name",
}
OBJECT_TRAITS: dict[str, str] = {
    "Description": "description",
    "Email": "email",
    "Name": "name",
    "Phone": "phone",
}
# Salesforce field → hub trait holding its value as epoch seconds, added next to the field.
PERSON_EPOCH_TRAITS: dict[str, str] = {"CreatedDate": "created_at"}


def traits_for(data_format: str) -> dict[str, str]:
    """The reserved renames of a Data Pipelines format (relationships and events have none)."""
    return {"person": PERSON_TRAITS, "object": OBJECT_TRAITS}.get(data_format, {})


def epoch_traits_for(data_format: str) -> dict[str, str]:
    return PERSON_EPOCH_TRAITS if data_format == "person" else {}
