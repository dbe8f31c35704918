"""The `Mapping` value: how records of one Salesforce object become hub items, and back.

The engines hand `mappings` a `Mapping`, never a `Sync` or an `Action`: it names the object,
the hub shape (format), the identifiers and the fields with their trait names. The rules that
depend only on the mapping live here: which identifiers a format uses and which it requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.db import models


class Format(models.TextChoices):
    """The four hub shapes a record can take (Data Pipelines' identify, track, group)."""

    PERSON = "person", "People (identify)"
    EVENT = "event", "Events (track)"
    OBJECT = "object", "Custom objects (group)"
    RELATIONSHIP = "relationship", "Relationships (group with person and object ids)"


class Transform(models.TextChoices):
    """What a field mapping does to a value on its way (`mappings.values.transformed`)."""

    NONE = "", "None"
    UNIX_TO_ISO = "unix_to_iso", "Unix timestamp → ISO-8601"
    ISO_TO_UNIX = "iso_to_unix", "ISO-8601 → Unix timestamp"
    LOWER = "lower", "Lower case"
    CONSTANT = "constant", "Constant (the default value)"


class FieldRow(NamedTuple):
    """One field mapping as the engines see it (a `mappings.models.FieldMapping` row)."""

    source: str
    target: str = ""
    transform: Transform = Transform.NONE
    default: str = ""

    @property
    def plain(self) -> bool:
        """No transform and no default: the value passes as it is."""
        return self.transform == Transform.NONE and not self.default


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
    """One object's mapping to the hub; build it from a sync or an action (`.mapping()`).

    `rows` are its field mappings in order: for a sync, Salesforce path → hub trait (blank
    target: the usual name); for an action, hub attribute → Salesforce field.
    """

    sobject: str
    format: Format
    rows: tuple[FieldRow, ...] = ()
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
    def fields(self) -> tuple[str, ...]:
        """The sources of the rows, in order (a sync: the Salesforce fields it reads)."""
        return tuple(row.source for row in self.rows if row.source)

    @property
    def renames(self) -> dict[str, str]:
        """Source → target of the rows that name their target."""
        return {row.source: row.target for row in self.rows if row.target}

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
