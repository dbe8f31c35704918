"""The one place that turns Salesforce records into hub items (`workspace.hub.Item`).

A `Transformer` is built once per run from the sync and Salesforce's describe; `page()` then
maps a page of records (REST or Bulk, nested parents either way) to items, with a failed
`Result` for each record holding a value that cannot be converted.

Attribute names: a per-field rename wins, then the reserved trait of the format
(`FirstName` → `firstName`), then the Salesforce name (`Account.Name` stays dotted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from mappings.reserved import epoch_traits_for, traits_for
from mappings.values import DATE_TYPES, InvalidValue, normalize, to_epoch
from workspace.hub import Item, Ref, Result
from workspace.models import Person

if TYPE_CHECKING:
    from syncs.models import Sync

Describe = Callable[[str], dict]
SYSTEM_FIELDS = ("Id", "SystemModstamp")
# Types whose values `normalize` converts; every other type is text and passes through.
PLAIN_EXCLUDED = frozenset({"boolean", "int", "long", "double", "currency", "percent", "date",
                            "datetime"})
PLAIN, CONVERT, EPOCH = 0, 1, 2


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


def _get(record: dict[str, Any], path: str) -> Any:
    head, _, rest = path.partition(".")
    value = record.get(head)
    if rest:
        return value.get(rest) if isinstance(value, dict) else None
    return value


class Transformer:
    """Maps records of one sync to hub items; build with `for_sync`."""

    def __init__(self, sync: Sync, types: dict[str, str], email_field: str | None) -> None:
        self.sync = sync
        self.types = types
        self.email_field = email_field
        traits = traits_for(sync.data_format)
        renames = sync.renames or {}
        self.targets = {path: renames.get(path) or traits.get(path, path)
                        for path in sync.fields}
        self.epochs = {path: name for path, name in epoch_traits_for(sync.data_format).items()
                       if path in self.targets}
        self.plain = {path for path, kind in types.items()
                      if "." not in path and kind not in PLAIN_EXCLUDED}
        # The per-run field plan, so `attributes` decides nothing per record: (target, path,
        # how) with how PLAIN (text as is), CONVERT (normalize) or EPOCH (normalize, to_epoch).
        epoch_dates = sync.convert_dates
        self.plan = [(target, path, PLAIN if path in self.plain
                      else EPOCH if epoch_dates and types.get(path) in DATE_TYPES else CONVERT)
                     for path, target in self.targets.items()]
        self.plan += [(target, path, EPOCH) for path, target in self.epochs.items()]
        self.build = {"person": self._person, "object": self._object,
                      "relationship": self._relationship, "event": self._event}[sync.data_format]

    @classmethod
    def for_sync(cls, sync: Sync, describe: Describe) -> Transformer:
        identifiers = sync.identifier_fields()
        own = {f["name"] for f in describe(sync.sobject)["fields"]}
        # People identified by id still carry their e-mail, so a lead can graduate to them.
        email_field = ("Email" if sync.data_format == "person" and sync.person_match == "customer_id"
                       and "Email" in own else None)
        paths = dict.fromkeys([*SYSTEM_FIELDS, *sync.fields, *identifiers,
                               *([email_field] if email_field else [])])
        return cls(sync, field_types(describe, sync.sobject, paths), email_field)

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
        if path in self.plain:
            # Text-like top-level fields need no conversion: the hot path of every page.
            value = record.get(path)
            return None if value == "" else value
        return normalize(path, self.types.get(path, "string"), _get(record, path))

    def modstamp(self, record: dict[str, Any]) -> str:
        return self.value(record, "SystemModstamp") or ""

    def attributes(self, record: dict[str, Any]) -> dict[str, Any]:
        attrs = {}
        get, types = record.get, self.types
        for target, path, how in self.plan:
            if how == PLAIN:
                value = get(path)
                attrs[target] = None if value == "" else value
                continue
            value = normalize(path, types.get(path, "string"),
                              _get(record, path) if "." in path else get(path))
            attrs[target] = to_epoch(value, path) if how == EPOCH and value is not None else value
        return attrs

    def _text(self, record: dict[str, Any], path: str) -> str | None:
        value = self.value(record, path) if path else None
        return None if value in (None, "") else str(value)

    def _ref(self, record: dict[str, Any]) -> Ref | None:
        value = self._text(record, self.sync.person_id_field)
        if value is None:
            return None
        if self.sync.person_match == "email":
            email = Person.normalize_email(value)
            return Ref("email", email) if email else None
        return Ref("id", value)

    def _person(self, key: str, record: dict[str, Any]) -> Item:
        ident = self._text(record, self.sync.person_id_field)
        if self.sync.person_match == "email":
            customer_id, email = None, Person.normalize_email(ident)
        else:
            customer_id = ident
            email = Person.normalize_email(self._text(record, self.email_field or ""))
        return Item(key, self.modstamp(record), self.attributes(record),
                    customer_id=customer_id, email=email)

    def _object(self, key: str, record: dict[str, Any]) -> Item:
        related = self._text(record, self.sync.related_id_field)
        return Item(key, self.modstamp(record), self.attributes(record),
                    object_id=self._text(record, self.sync.object_id_field),
                    person=Ref("id", related) if related else None)

    def _relationship(self, key: str, record: dict[str, Any]) -> Item:
        return Item(key, self.modstamp(record), self.attributes(record),
                    object_id=self._text(record, self.sync.object_id_field),
                    person=self._ref(record))

    def _event(self, key: str, record: dict[str, Any]) -> Item:
        name = self._text(record, self.sync.event_name_field) or self.sync.sobject
        stamp = self._text(record, self.sync.event_timestamp_field)
        # A date field (ActivityDate) stands for midnight UTC of that day.
        moment = (dt.datetime.fromtimestamp(to_epoch(stamp, self.sync.event_timestamp_field), dt.UTC)
                  if stamp else None)
        return Item(key, self.modstamp(record), self.attributes(record), person=self._ref(record),
                    name=name[:255], timestamp=moment)
