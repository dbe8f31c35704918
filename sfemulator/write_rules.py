"""What an org does around an API write besides validation: duplicate rules, assignment rules,
row locks, and the `Sforce-*` headers that steer them.

All three are off until a test switches them on through the control API (`write-rules`):
- duplicate rules (`{"sobject", "fields", "action": "allow"|"block"}`): a record whose rule
  fields all equal another live record's fails DUPLICATES_DETECTED; an "allow" (alert) rule
  lets it save when the call sends `Sforce-Duplicate-Rule-Header: allowSave=true` (REST API
  Developer Guide, "Duplicate Rule Header"); a "block" rule never does;
- assignment rules (`{sobject: owner id}`): a Lead, Case or Account created through REST gets
  that owner unless the call sends `Sforce-Auto-Assign: FALSE` ("Assignment Rule Header");
  Bulk API jobs run no assignment rule;
- locked records (`{id: times or null}`): a write to the record, or a child write naming it
  in a lookup, fails UNABLE_TO_LOCK_ROW that many times (null: until cleared).
Every API write also records the two headers it arrived with (`received`), so a test can
assert what a client sent for a given record.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .values import RecordError

if TYPE_CHECKING:
    from .table import Row, Table

ASSIGNABLE = frozenset(["Lead", "Case", "Account"])
_LOCK_MESSAGE = "unable to obtain exclusive access to this record or 1 records: {}"
_RECEIVED = 2000


@dataclass(frozen=True)
class WriteHeaders:
    """The headers of one API write; `bulk` writes never run assignment rules."""

    auto_assign: str | None = None
    duplicate_rule: str | None = None
    bulk: bool = False

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> WriteHeaders:
        """From a request's (lower-cased) headers."""
        return cls(headers.get("sforce-auto-assign"), headers.get("sforce-duplicate-rule-header"))

    @property
    def assigns(self) -> bool:
        return not self.bulk and (self.auto_assign or "TRUE").strip().upper() != "FALSE"

    @property
    def allow_save(self) -> bool:
        options = {}
        for part in (self.duplicate_rule or "").split(","):
            key, _, value = part.partition("=")
            options[key.strip().lower()] = value.strip().lower()
        return options.get("allowsave") == "true"


@dataclass
class DuplicateRule:
    sobject: str
    fields: list[str]
    block: bool = False


@dataclass
class WriteRules:
    """The org's switches; thread-safe, as handler and bulk threads consult them."""

    duplicate_rules: list[DuplicateRule] = field(default_factory=list)
    assignment: dict[str, str] = field(default_factory=dict)
    locked: dict[str, int | None] = field(default_factory=dict)
    received: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=_RECEIVED))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        with self._lock:
            self.duplicate_rules, self.assignment, self.locked = [], {}, {}
            self.received.clear()

    def configure(self, payload: Mapping[str, Any]) -> None:
        """Apply a control payload; each key given replaces that switch (empty clears it)."""
        unknown = set(payload) - {"duplicate_rules", "assignment", "locked_records"}
        if unknown:
            raise ValueError(f"unknown write rules: {', '.join(sorted(unknown))}")
        with self._lock:
            if "duplicate_rules" in payload:
                self.duplicate_rules = [
                    DuplicateRule(str(r["sobject"]), [str(f) for f in r["fields"]],
                                  r.get("action", "allow") == "block")
                    for r in payload["duplicate_rules"] or []]
            if "assignment" in payload:
                self.assignment = {str(k): str(v) for k, v in (payload["assignment"] or {}).items()}
            if "locked_records" in payload:
                locked = payload["locked_records"] or {}
                if isinstance(locked, list):
                    locked = dict.fromkeys(locked)
                self.locked = {str(k): None if v is None else int(v) for k, v in locked.items()}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "duplicate_rules": [{"sobject": r.sobject, "fields": r.fields,
                                     "action": "block" if r.block else "allow"}
                                    for r in self.duplicate_rules],
                "assignment": dict(self.assignment), "locked_records": dict(self.locked),
                "received": list(self.received)}

    def note(self, operation: str, sobject: str, record_id: str | None,
             headers: WriteHeaders) -> None:
        with self._lock:
            self.received.append({
                "operation": operation, "sobject": sobject, "id": record_id,
                "Sforce-Auto-Assign": headers.auto_assign,
                "Sforce-Duplicate-Rule-Header": headers.duplicate_rule})

    def check_locks(self, record_ids: Iterable[str | None]) -> None:
        """UNABLE_TO_LOCK_ROW if any of `record_ids` is locked (using up one of its failures)."""
        if not self.locked:
            return
        with self._lock:
            for record_id in record_ids:
                if record_id is None or record_id not in self.locked:
                    continue
                remaining = self.locked[record_id]
                if remaining is not None:
                    if remaining <= 1:
                        del self.locked[record_id]
                    else:
                        self.locked[record_id] = remaining - 1
                raise RecordError(400, "UNABLE_TO_LOCK_ROW", _LOCK_MESSAGE.format(record_id))

    def before_write(self, table: Table, record_id: str, values: dict[str, Any],
                     headers: WriteHeaders, creating: bool) -> None:
        """Row locks on the record and the parents it names; a new record's assigned owner."""
        lookups = [v for k, v in values.items()
                   if v is not None and table.sobject.by_lower[k.lower()].type == "reference"]
        self.check_locks([record_id, *lookups])
        owner = self.owner_for(table.sobject.name, headers) if creating else None
        if owner is not None:
            values["OwnerId"] = owner

    def after_write(self, table: Table, record_id: str, row: Row, headers: WriteHeaders,
                    operation: str) -> None:
        """Duplicate rules on the finished row, then remember the headers it came with."""
        self.check_duplicates(table, record_id, row, headers)
        self.note(operation, table.sobject.name, record_id, headers)

    def owner_for(self, sobject: str, headers: WriteHeaders) -> str | None:
        """The owner an assignment rule gives a new record, if one runs."""
        if sobject not in ASSIGNABLE or not headers.assigns:
            return None
        with self._lock:
            return self.assignment.get(sobject)

    def check_duplicates(self, table: Table, record_id: str, row: Row,
                         headers: WriteHeaders) -> None:
        """DUPLICATES_DETECTED when an active rule matches another live record."""
        rules = [r for r in self.duplicate_rules if r.sobject == table.sobject.name]
        for rule in rules:
            if not rule.block and headers.allow_save:
                continue
            fields = [table.sobject.field(name) for name in rule.fields]
            if any(f is None for f in fields):
                continue
            values = [row[table.col[f.name]] for f in fields if f is not None]
            if any(v is None or v == "" for v in values):
                continue
            first = fields[0]
            assert first is not None
            candidates = [i for i in table.index(first).find(values[0]) if i != record_id]
            for other in candidates:
                found = table.get(other)
                if found is not None and all(
                        str(found[table.col[f.name]]).lower() == str(v).lower()
                        for f, v in zip(fields, values, strict=True) if f is not None):
                    raise RecordError(400, "DUPLICATES_DETECTED", "Use one of these records?")
