"""The `Mapping` value: how records of one Salesforce object become hub items, and back.

The engines hand `mappings` a `Mapping`, never a `Sync` or an `Action`: it names the object,
the hub shape (format), the identifiers and the fields with their trait names. The rules that
depend only on the mapping live here: which identifiers a format uses and which it requires.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


class Format(models.TextChoices):
    """The four hub shapes a record can take (Data Pipelines' identify, track, group)."""

    PERSON = "person", "People (identify)"
    EVENT = "event", "Events (track)"
    OBJECT = "object", "Custom objects (group)"
    RELATIONSHIP = "relationship", "Relationships (group with person and object ids)"


class PersonMatch(models.TextChoices):
    CUSTOMER_ID = "customer_id", "Customer id (e.g. a Contact Id)"
    EMAIL = "email", "E-mail address"


# What each format cannot do without (a custom object name is `object_type`).
REQUIRED: dict[str, tuple[str, ...]] = {
    Format.PERSON: ("person_id_field",),
    Format.EVENT: ("person_id_field",),
    Format.OBJECT: ("object_id_field", "object_type"),
    Format.RELATIONSHIP: ("person_id_field", "object_id_field", "object_type"),
}
# Which identifier paths each format reads.
IDENTIFIERS: dict[str, tuple[str, ...]] = {
    Format.PERSON: ("person_id_field",),
    Format.EVENT: ("person_id_field", "event_name_field", "event_timestamp_field"),
    Format.OBJECT: ("object_id_field", "related_id_field"),
    Format.RELATIONSHIP: ("person_id_field", "object_id_field"),
}


@dataclass(frozen=True)
class Mapping:
    """One object's mapping to the hub; build it from a sync (`Sync.mapping()`)."""

    sobject: str
    format: Format
    fields: tuple[str, ...] = ()
    renames: dict[str, str] = field(default_factory=dict)
    person_id_field: str = ""
    person_match: PersonMatch = PersonMatch.CUSTOMER_ID
    object_id_field: str = ""
    related_id_field: str = ""
    event_name_field: str = ""
    event_timestamp_field: str = ""
    convert_dates: bool = False
    # The hub's custom object type (objects and relationships), by its singular name.
    object_type: str = ""

    @property
    def by_email(self) -> bool:
        """People are identified by e-mail (leads) rather than by a customer id."""
        return self.person_match == PersonMatch.EMAIL

    def identifier_fields(self) -> list[str]:
        """The identifier paths the format reads, those that are set, in order."""
        return [path for path in (getattr(self, name) for name in IDENTIFIERS[self.format])
                if path]

    def missing(self) -> list[str]:
        """The names of the settings the format requires that are blank."""
        return [name for name in REQUIRED[self.format] if not getattr(self, name)]
