"""The one place that turns Salesforce records into hub items (`workspace.hub.Item`).

A `Transformer` is built once per run from a `Mapping` and Salesforce's describe; `page()` then
maps a page of records (REST or Bulk, nested parents either way) to items, with a failed
`Result` for each record holding a value that cannot be converted.

Attribute names: a per-field rename wins, then the reserved trait of the format
(`FirstName` → `firstName`), then the Salesforce name (`Account.Name` stays dotted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from mappings.mapping import Format, Mapping
from mappings.reserved import epoch_traits_for, traits_for
from mappings.values import DATE_TYPES, InvalidValue, converter, dotted_value, to_epoch, transformed
from workspace.hub import Item, Ref, Result
from workspace.models import Person

Describe = Callable[[str], dict]
SYSTEM_FIELDS = ("Id", "SystemModstamp")


class UnknownField(ValueError):
    """A field path that the object (or its parent) does not have."""


def field_types(describe: Describe, sobject: str, paths: Iterable[str]) -> dict[str, str]:
    """Describe type of every path (`Email`, `Account.Name`); UnknownField names the bad one."""
    own = {f["name"].lower(): f for f in describe(sobject)["fields"]}
    parents = {(f.get("relationshipName") or "").lower(): f for f in own.values()
               if f.get("type") == "reference" and f.get("relationshipName")}
    types = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if not rest:
            found = own.get(head.lower())
            if found is None:
                raise UnknownField(f"{sobject} has no field {path!r}")
            types[path] = found["type"]
            continue
        parent = parents.get(head.lower())
        if parent is None or "." in rest:
            raise UnknownField(f"{sobject} has no relationship {head!r} (use one parent level, "
                               f"like Account.Name)")
        targets = parent.get("referenceTo") or []
        fields = {f["name"].lower(): f for f in describe(targets[0])["fields"]} if targets else {}
        if rest.lower() not in fields:
            raise UnknownField(f"{targets[0] if targets else head} has no field {rest!r}")
        types[path] = fields[rest.lower()]["type"]
    return types


def _values_of(paths: list[str]) -> Callable[[dict[str, Any]], tuple]:
    """`itemgetter(*paths)`, always returning a tuple (itemgetter of one key returns the value)."""
    if len(paths) > 1:
        return itemgetter(*paths)
    return lambda record: tuple(record[path] for path in paths)


class Transformer:
    """Maps records of one mapping to hub items; build with `for_mapping`."""

    def __init__(self, mapping: Mapping, types: dict[str, str], email_field: str | None) -> None:
        self.mapping = mapping
        self.types = types
        self.email_field = email_field
        traits = traits_for(mapping.format)
        renames = mapping.renames or {}
        self.targets = {path: renames.get(path) or traits.get(path, path)
                        for path in mapping.fields}
        self.epochs = {path: name for path, name in epoch_traits_for(mapping.format).items()
                       if path in self.targets}
        # How each path's value is converted (None: text, taken as it is), chosen once.
        self.converters = {path: converter(path, kind) for path, kind in types.items()}
        # The per-run plan, so `attributes` decides nothing per record. Every attribute is
        # first copied raw, in the order of the sync's fields and then the epoch traits (a
        # target named twice keeps its last source, as a later value would overwrite it);
        # `convert` lists (target, path, is a parent path, function) of those needing more.
        plan = {target: (path, mapping.convert_dates and types.get(path) in DATE_TYPES)
                for path, target in self.targets.items()}
        for path, target in self.epochs.items():
            plan.pop(target, None)
            plan[target] = (path, True)
        # Top-level fields are copied with one C call (`itemgetter`) into a copy of `blank`,
        # which holds every target in order; parent paths are read in the `convert` loop.
        self.blank = dict.fromkeys(plan)
        top = [(target, path) for target, (path, _) in plan.items() if "." not in path]
        self.top_targets = [target for target, _ in top]
        self.top_paths = [path for _, path in top]
        self.copy_top = _values_of(self.top_paths)
        self.convert = [(target, path, "." in path,
                         self._epoch(path) if epoch else self.converters[path])
                        for target, (path, epoch) in plan.items()
                        if epoch or "." in path or self.converters[path] is not None]
        # Rows with a transform or a default, applied last: (target, row).
        self.rules = [(row.target or self.targets.get(row.source, row.source), row)
                      for row in mapping.rows if not row.plain]
        for target, _ in self.rules:
            self.blank.setdefault(target, None)
        self.build = {Format.PERSON: self._person, Format.OBJECT: self._object,
                      Format.RELATIONSHIP: self._relationship,
                      Format.EVENT: self._event}[mapping.format]

    @classmethod
    def for_mapping(cls, mapping: Mapping, describe: Describe) -> Transformer:
        own = {f["name"] for f in describe(mapping.sobject)["fields"]}
        # People identified by id still carry their e-mail, so a lead can graduate to them.
        email_field = ("Email" if mapping.format == Format.PERSON and not mapping.by_email
                       and "Email" in own else None)
        paths = dict.fromkeys([*SYSTEM_FIELDS, *mapping.fields, *mapping.identifier_fields(),
                               *([email_field] if email_field else [])])
        return cls(mapping, field_types(describe, mapping.sobject, paths), email_field)

    def select(self) -> list[str]:
        """The SELECT list: system fields, synced fields and identifiers, each once."""
        return list(self.types)

    def page(self, records: list[dict[str, Any]]) -> tuple[list[Item], list[Result]]:
        items, failed = [], []
        for record in records:
            key = str(record.get("Id"))
            try:
                items.append(self.build(key, record))
            except InvalidValue as error:
                failed.append(Result(key, "failed", error_code="INVALID_VALUE",
                                     message=str(error)))
        return items, failed

    def value(self, record: dict[str, Any], path: str) -> Any:
        """`normalize` of the path's value, with the converter chosen for it once."""
        raw = dotted_value(record, path) if "." in path else record.get(path)
        if raw is None or raw == "":
            return None
        convert = self.converters.get(path)  # None: text (or a path of no known type)
        return raw if convert is None else convert(raw)

    def modstamp(self, record: dict[str, Any]) -> str:
        return self.value(record, "SystemModstamp") or ""

    def attributes(self, record: dict[str, Any]) -> dict[str, Any]:
        attrs = self.blank.copy()
        try:
            attrs.update(zip(self.top_targets, self.copy_top(record), strict=True))
        except KeyError:  # a record without some field (not one SOQL returned): one by one
            attrs.update(zip(self.top_targets, map(record.get, self.top_paths), strict=True))
        if "" in attrs.values():  # an empty string (or Bulk cell) is no value
            attrs = {target: None if value == "" else value for target, value in attrs.items()}
        for target, path, parent, convert in self.convert:
            value = dotted_value(record, path) if parent else attrs[target]
            if value is None or value == "":
                attrs[target] = None
            else:
                attrs[target] = value if convert is None else convert(value)
        for target, row in self.rules:
            attrs[target] = transformed(row, attrs.get(target))
        return attrs

    def _epoch(self, path: str) -> Callable[[Any], int]:
        """The field's value as epoch seconds (the "convert dates" switch, `created_at`)."""
        convert = self.converters[path]
        return lambda value: to_epoch(value if convert is None else convert(value), path)

    def _text(self, record: dict[str, Any], path: str) -> str | None:
        value = self.value(record, path) if path else None
        return None if value in (None, "") else str(value)

    def _ref(self, record: dict[str, Any]) -> Ref | None:
        value = self._text(record, self.mapping.person_id_field)
        if value is None:
            return None
        if self.mapping.by_email:
            email = Person.normalize_email(value)
            return Ref("email", email) if email else None
        return Ref("id", value)

    def _person(self, key: str, record: dict[str, Any]) -> Item:
        ident = self._text(record, self.mapping.person_id_field)
        if self.mapping.by_email:
            customer_id, email = None, Person.normalize_email(ident)
        else:
            customer_id = ident
            email = Person.normalize_email(self._text(record, self.email_field or ""))
        return Item(key, self.modstamp(record), self.attributes(record),
                    customer_id=customer_id, email=email)

    def _object(self, key: str, record: dict[str, Any]) -> Item:
        related = self._text(record, self.mapping.related_id_field)
        return Item(key, self.modstamp(record), self.attributes(record),
                    object_id=self._text(record, self.mapping.object_id_field),
                    person=Ref("id", related) if related else None)

    def _relationship(self, key: str, record: dict[str, Any]) -> Item:
        return Item(key, self.modstamp(record), self.attributes(record),
                    object_id=self._text(record, self.mapping.object_id_field),
                    person=self._ref(record))

    def _event(self, key: str, record: dict[str, Any]) -> Item:
        name = self._text(record, self.mapping.event_name_field) or self.mapping.sobject
        stamp = self._text(record, self.mapping.event_timestamp_field)
        # A date field (ActivityDate) stands for midnight UTC of that day.
        moment = (dt.datetime.fromtimestamp(to_epoch(stamp, self.mapping.event_timestamp_field), dt.UTC)
                  if stamp else None)
        return Item(key, self.modstamp(record), self.attributes(record), person=self._ref(record),
                    name=name[:255], timestamp=moment)
