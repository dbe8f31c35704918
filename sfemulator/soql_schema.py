"""Field paths of a query resolved against the catalog's describe: canonical names, types, hops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfemulator.soql_lex import SoqlError, located
from sfemulator.soql_parse import FieldRef

NO_SUCH_COLUMN = (
    "No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, "
    "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
    "describe call for the appropriate names."
)
NO_SUCH_RELATIONSHIP = (
    "Didn't understand relationship '{name}' in field path. If you are attempting to use a custom "
    "relationship, be sure to append the '__r' after the custom relationship name. Please "
    "reference your WSDL or the describe call for the appropriate names."
)
NO_SUCH_TYPE = (
    "sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure "
    "to append the '__c' after the entity name. Please reference your WSDL or the describe call "
    "for the appropriate names."
)
# A polymorphic lookup (Task.Who) exposes its target's type as ``Who.Type``.
TYPE_FIELD: dict[str, Any] = {"name": "Type", "type": "string", "filterable": True}

Record = dict[str, Any]
Getter = Callable[[Record], Any]


@dataclass(frozen=True, slots=True)
class SObjectInfo:
    name: str
    key_prefix: str
    fields: dict[str, dict]  # lower-case field name → describe field
    relationships: dict[str, dict]  # lower-case relationshipName → its reference field


@dataclass(frozen=True, slots=True)
class Hop:
    """One step up a lookup: the child's reference field and the relationship it names."""

    fk: str
    name: str
    targets: tuple[SObjectInfo, ...]


@dataclass(frozen=True, slots=True)
class FieldPath:
    hops: tuple[Hop, ...]
    name: str  # canonical leaf field name
    field: dict  # the leaf's describe

    @property
    def display(self) -> str:
        return ".".join([hop.name for hop in self.hops] + [self.name])

    @property
    def is_type(self) -> bool:
        return self.field is TYPE_FIELD


class Schema:
    """The describes one query needs, fetched once each from the catalog."""

    def __init__(self, catalog: Any, text: str) -> None:
        self._catalog = catalog
        self._text = text
        self._objects: dict[str, SObjectInfo | None] = {}

    def sobject(self, name: str) -> SObjectInfo | None:
        key = name.lower()
        if key not in self._objects:
            self._objects[key] = _info(self._catalog.describe(name))
        return self._objects[key]

    def root(self, name: str, pos: int) -> SObjectInfo:
        info = self.sobject(name)
        if info is None:
            detail = NO_SUCH_TYPE.format(name=name)
            raise SoqlError("INVALID_TYPE", located(self._text, pos, detail))
        return info

    def resolve(self, root: SObjectInfo, ref: FieldRef) -> FieldPath:
        """Walk ``ref`` from ``root``; INVALID_FIELD for an unknown column or relationship."""
        parts = ref.path.split(".")
        # SOQL lets a path start with the queried object's own name: Contact.Email FROM Contact.
        if len(parts) > 1 and parts[0].lower() == root.name.lower():
            if parts[0].lower() not in root.relationships:
                parts = parts[1:]
        hops: list[Hop] = []
        current: tuple[SObjectInfo, ...] = (root,)
        for part in parts[:-1]:
            hop = self._hop(current, part, ref)
            hops.append(hop)
            current = hop.targets
        name, field = self._leaf(current, parts[-1], ref)
        return FieldPath(tuple(hops), name, field)

    def _hop(self, current: tuple[SObjectInfo, ...], part: str, ref: FieldRef) -> Hop:
        # Past a polymorphic lookup only the target's own fields are reachable, as in Salesforce.
        field = current[0].relationships.get(part.lower()) if len(current) == 1 else None
        targets = tuple(
            info
            for info in (self.sobject(t) for t in (field or {}).get("referenceTo") or ())
            if info
        )
        if field is None or not targets:
            detail = NO_SUCH_RELATIONSHIP.format(name=part)
            raise SoqlError("INVALID_FIELD", located(self._text, ref.pos, detail))
        return Hop(field["name"], field["relationshipName"], targets)

    def _leaf(self, current: tuple[SObjectInfo, ...], part: str, ref: FieldRef) -> tuple[str, dict]:
        polymorphic = len(current) > 1
        if polymorphic and part.lower() == "type":
            return "Type", TYPE_FIELD
        for info in current:
            field = info.fields.get(part.lower())
            if field is not None:
                return field["name"], field
        # Salesforce describes a polymorphic target as its common "Name" entity.
        entity = "Name" if polymorphic else current[0].name
        detail = NO_SUCH_COLUMN.format(name=part, entity=entity)
        raise SoqlError("INVALID_FIELD", located(self._text, ref.pos, detail))

    def type_of(self, record: Record, hop: Hop) -> SObjectInfo:
        """The sObject a parent record belongs to: by key prefix when the lookup is polymorphic."""
        if len(hop.targets) == 1:
            return hop.targets[0]
        prefix = str(record.get("Id") or "")[:3]
        for info in hop.targets:
            if info.key_prefix == prefix:
                return info
        declared = (record.get("attributes") or {}).get("type")
        for info in hop.targets:
            if info.name == declared:
                return info
        return hop.targets[0]


def _info(describe: dict | None) -> SObjectInfo | None:
    if describe is None:
        return None
    fields = {field["name"].lower(): field for field in describe.get("fields", ())}
    relationships = {
        field["relationshipName"].lower(): field
        for field in describe.get("fields", ())
        if field.get("type") == "reference" and field.get("relationshipName")
    }
    return SObjectInfo(describe["name"], describe.get("keyPrefix") or "", fields, relationships)


def value_getter(
    path: FieldPath, schema: Schema, get_record: Callable[[str], Record | None]
) -> Getter:
    """A function reading ``path`` from a record, following lookups through ``get_record``.

    Parent values are remembered per lookup id for the getter's life (one query): many children
    share a parent, and the store builds a fresh dict on every ``get_record``.
    """
    name = path.name
    if not path.hops:

        def own(record: Record) -> Any:
            return record.get(name)

        return own
    fk = path.hops[0].fk
    through = _through_parents(path, schema, get_record)
    seen: dict[str, Any] = {}

    def parent(record: Record) -> Any:
        parent_id = record.get(fk)
        if not parent_id:
            return None
        if parent_id not in seen:
            seen[parent_id] = through(parent_id)
        return seen[parent_id]

    return parent


def _through_parents(
    path: FieldPath, schema: Schema, get_record: Callable[[str], Record | None]
) -> Callable[[str], Any]:
    """The value of ``path`` read from the first parent onwards, given that parent's id."""
    hops, name, is_type = path.hops, path.name, path.is_type

    def through(parent_id: str) -> Any:
        current = get_record(parent_id)
        for hop in hops[1:]:
            if current is None:
                return None
            next_id = current.get(hop.fk)
            current = get_record(next_id) if next_id else None
        if current is None:
            return None
        return schema.type_of(current, hops[-1]).name if is_type else current.get(name)

    return through
