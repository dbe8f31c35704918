"""The org's metadata: sObject types and fields, and the describe JSON built from them.

Standard objects live in `standard.py`; custom objects and fields are added at start-up from
plain dictionaries (see `Schema.add_custom_object` / `Schema.add_custom_field`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Default lengths per field type, as Salesforce reports them in describe.
_LENGTHS = {
    "id": 18, "reference": 18, "string": 255, "picklist": 255, "multipicklist": 4099,
    "email": 80, "phone": 40, "url": 255, "textarea": 32000,
}
_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "date": "xsd:date",
    "datetime": "xsd:dateTime", "double": "xsd:double", "currency": "xsd:double",
    "percent": "xsd:double", "int": "xsd:int", "address": "urn:address",
}
FIELD_TYPES = frozenset(
    ["id", "reference", "string", "email", "phone", "url", "boolean", "date", "datetime",
     "double", "currency", "percent", "int", "picklist", "multipicklist", "textarea", "address"]
)
# Types a query may select but never filter, group or sort on (compound fields among them).
_UNFILTERABLE = frozenset(["textarea", "address"])
Formula = Callable[[Mapping[str, Any], "FormulaContext"], Any]


@dataclass
class FormulaContext:
    """What formulas may read besides the record: today's date as an ordinal, a per-call cache."""

    today_ordinal: int
    cache: dict[Any, Any] = field(default_factory=dict)


def default_label(name: str) -> str:
    """`Forcebridge_Id__c` → `Forcebridge Id`; `AccountId` → `Account ID` (Salesforce style)."""
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2 and not name.endswith("__c"):
        base = base[:-2] + " ID"
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base.replace("_", " "))
    return spaced.strip()


@dataclass
class Field:
    """One field. `derive` fields (Contact.Name) and `formula` fields are computed on read."""

    name: str
    type: str
    label: str = ""
    length: int | None = None
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    unique: bool = False
    external_id: bool = False
    id_lookup: bool = False
    case_sensitive: bool = False
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None
    picklist: list[str] = field(default_factory=list)
    restricted_picklist: bool = False
    # None: what the type allows (long text and compound fields cannot be filtered).
    filterable: bool | None = None
    default: Any = None
    # Filled in by the org on create (OwnerId, a custom object's Name), so never "missing".
    defaulted: bool = False
    formula: Formula | None = None
    derive: Callable[[Mapping[str, Any]], Any] | None = None
    scale: int = 2
    precision: int = 18

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r} for {self.name}")
        self.label = self.label or default_label(self.name)
        if self.length is None:
            self.length = _LENGTHS.get(self.type, 0)
        if self.formula is not None or self.derive is not None:
            self.createable = self.updateable = False
        if self.external_id:
            self.id_lookup = True
        if self.filterable is None:
            self.filterable = self.type not in _UNFILTERABLE

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def soap_type(self) -> str:
        return _SOAP_TYPES.get(self.type, "xsd:string")

    @property
    def stored(self) -> bool:
        return self.formula is None and self.derive is None

    @property
    def required(self) -> bool:
        """Required on create: not nillable, writable, no default (booleans default to false)."""
        return (
            not self.nillable and self.createable and self.default is None
            and not self.defaulted and self.type != "boolean"
        )

    def describe(self) -> dict[str, Any]:
        numeric = self.type in ("double", "currency", "percent")
        return {
            "aggregatable": self.type not in ("textarea", "multipicklist", "address"),
            "autoNumber": False,
            "byteLength": (self.length or 0) * 3,
            "calculated": self.formula is not None,
            "caseSensitive": self.case_sensitive,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": self.default if self.type != "datetime" else None,
            "defaultedOnCreate": (
                self.default is not None or self.defaulted or self.type == "boolean"
            ),
            "digits": 9 if self.type == "int" else 0,
            "externalId": self.external_id,
            "filterable": self.filterable,
            "groupable": self.type not in ("textarea", "double", "currency", "percent", "address"),
            "idLookup": self.id_lookup,
            "label": self.label,
            "length": self.length if self.type not in ("boolean", "int") and not numeric else 0,
            "name": self.name,
            "nameField": self.name == "Name",
            "nillable": self.nillable,
            "picklistValues": [
                {"active": True, "defaultValue": value == self.default, "label": value,
                 "validFor": None, "value": value}
                for value in self.picklist
            ],
            "polymorphicForeignKey": len(self.reference_to) > 1,
            "precision": self.precision if numeric else 0,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "restrictedPicklist": self.restricted_picklist,
            "scale": self.scale if numeric else 0,
            "soapType": self.soap_type,
            "sortable": self.type not in ("textarea", "multipicklist", "address"),
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
        }


@dataclass
class SObjectType:
    """An sObject type with its fields in describe order."""

    name: str
    key_prefix: str
    fields: list[Field]
    label: str = ""
    label_plural: str = ""
    createable: bool = True
    updateable: bool = True
    deletable: bool = True

    def __post_init__(self) -> None:
        self.label = self.label or default_label(self.name)
        self.label_plural = self.label_plural or self.label + "s"
        self.by_lower: dict[str, Field] = {}
        self._refresh()

    def _refresh(self) -> None:
        self.by_lower = {f.name.lower(): f for f in self.fields}
        self.by_relationship = {f.relationship_name.lower(): f for f in self.fields
                                if f.type == "reference" and f.relationship_name}
        self._describe: dict[str, Any] | None = None

    def add_field(self, new: Field) -> None:
        if new.name.lower() in self.by_lower:
            raise ValueError(f"{self.name}.{new.name} already exists")
        self.fields.append(new)
        self._refresh()

    def field(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        """The lookup field behind a relationship name (`Account` → `Contact.AccountId`)."""
        return self.by_relationship.get(name.lower())

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def summary(self, version: str) -> dict[str, Any]:
        """The entry in the global describe (`GET sobjects`)."""
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "activateable": False, "createable": self.createable, "custom": self.custom,
            "customSetting": False, "deletable": self.deletable, "deprecatedAndHidden": False,
            "feedEnabled": False, "keyPrefix": self.key_prefix, "label": self.label,
            "labelPlural": self.label_plural, "layoutable": True, "mergeable": False,
            "mruEnabled": True, "name": self.name, "queryable": True, "replicateable": True,
            "retrieveable": True, "searchable": True, "triggerable": True, "undeletable": True,
            "updateable": self.updateable,
            "urls": {"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"},
        }

    def describe(self, version: str = "59.0") -> dict[str, Any]:
        """The full describe; field entries are cached because they never change after start-up."""
        if self._describe is None:
            self._describe = {"fields": [f.describe() for f in self.fields]}
        result = self.summary(version)
        result.update(
            childRelationships=[], recordTypeInfos=[], fields=self._describe["fields"],
            compactLayoutable=True, searchLayoutable=True, urls=result["urls"],
        )
        return result


class Schema:
    """All sObject types of the org, looked up case-insensitively by name or by key prefix."""

    def __init__(self, types: Iterable[SObjectType]) -> None:
        self.types: dict[str, SObjectType] = {}
        self.by_prefix: dict[str, SObjectType] = {}
        for sobject in types:
            self.add(sobject)

    def add(self, sobject: SObjectType) -> None:
        key = sobject.name.lower()
        if key in self.types or sobject.key_prefix in self.by_prefix:
            raise ValueError(f"duplicate sObject {sobject.name} or prefix {sobject.key_prefix}")
        self.types[key] = sobject
        self.by_prefix[sobject.key_prefix] = sobject

    def get(self, name: str) -> SObjectType | None:
        return self.types.get(name.lower())

    def describe(self, name: str, version: str = "59.0") -> dict[str, Any] | None:
        sobject = self.get(name)
        return sobject.describe(version) if sobject else None

    def for_id(self, record_id: str) -> SObjectType | None:
        return self.by_prefix.get(record_id[:3])

    def next_custom_prefix(self) -> str:
        """Custom objects get a0A, a0B, ... like a fresh org hands out a0X-style prefixes."""
        for number in range(10 * 26 * 2):
            candidate = "a" + "0123456789"[number // 52 % 10] + (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[number % 52]
            )
            if candidate not in self.by_prefix:
                return candidate
        raise ValueError("no custom key prefix left")


def field_from_spec(spec: Mapping[str, Any] | Field) -> Field:
    """Build a Field from `{"name", "type", "externalId", "unique", "referenceTo", ...}`."""
    if isinstance(spec, Field):
        return spec
    name = spec["name"]
    if not name.endswith("__c"):
        raise ValueError(f"custom field {name!r} must end with __c")
    reference_to = list(spec.get("referenceTo", []))
    relationship = spec.get("relationshipName")
    if reference_to and relationship is None:
        relationship = name[:-3] + "__r"
    return Field(
        name=name, type=spec.get("type", "string"), label=spec.get("label", ""),
        length=spec.get("length"), nillable=not spec.get("required", False),
        unique=bool(spec.get("unique", False)), external_id=bool(spec.get("externalId", False)),
        case_sensitive=bool(spec.get("caseSensitive", False)), reference_to=reference_to,
        relationship_name=relationship, picklist=list(spec.get("picklistValues", [])),
        restricted_picklist=bool(spec.get("restrictedPicklist", False)),
        default=spec.get("default"),
    )
