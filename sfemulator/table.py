"""Compact record storage for one sObject: id → sparse tuple of stored values, plus indexes.

A record is stored as `(shape, value, value, ...)` holding only the columns that differ from
the column's default (None, False, a picklist default, the org's user on audit fields); the
shared `Shape` knows which columns those are. A million contacts then cost a fraction of
full-width tuples. Code outside this module only sees full-width rows (`Row`).
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from .schema import Field, FormulaContext, SObjectType

Row = tuple[Any, ...]
Stored = tuple[Any, ...]


class Shape:
    """Which columns a stored tuple holds, and how to expand it back to full width."""

    __slots__ = ("columns", "expand")

    def __init__(self, columns: tuple[int, ...], width: int) -> None:
        self.columns = columns
        stored_width = len(columns) + 1
        position = {column: i + 1 for i, column in enumerate(columns)}
        # Decoding is `expand(stored + defaults)`: two C-level operations per record.
        picks = [position.get(c, stored_width + c) for c in range(width)]
        self.expand = itemgetter(*picks) if width > 1 else (lambda values: (values[picks[0]],))


class Index:
    """Live (not deleted) records by one field's value; case-insensitive unless the field says.

    A key maps to one id, or to a list when the field is not unique (Email), which keeps the
    common single-match case free of a container per record. `exact` indexes (lookups, whose
    values are always canonical 18-character ids) skip the lowering.
    """

    def __init__(self, field: Field, column: int, exact: bool = False) -> None:
        self.field = field
        self.column = column
        self.exact = exact or field.case_sensitive
        self.entries: dict[str, str | list[str]] = {}

    def key(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        text = str(value)
        if self.exact:
            return text
        lowered = text.lower()
        # Reuse the original object when lowering changes nothing, to avoid a second copy.
        return text if lowered == text else lowered

    def find(self, value: Any) -> list[str]:
        key = self.key(value)
        found = self.entries.get(key) if key is not None else None
        if found is None:
            return []
        return [found] if isinstance(found, str) else list(found)

    def add(self, key: str, record_id: str) -> None:
        found = self.entries.get(key)
        if found is None:
            self.entries[key] = record_id
        elif isinstance(found, str):
            self.entries[key] = [found, record_id]
        else:
            found.append(record_id)

    def remove(self, key: str, record_id: str) -> None:
        found = self.entries.get(key)
        if found == record_id:
            del self.entries[key]
        elif isinstance(found, list):
            found.remove(record_id)
            if len(found) == 1:
                self.entries[key] = found[0]


class Table:
    """The records of one sObject type."""

    def __init__(self, sobject: SObjectType) -> None:
        self.sobject = sobject
        self.fields = [f for f in sobject.fields if f.stored]
        self.columns = [f.name for f in self.fields]
        self.col = {name: i for i, name in enumerate(self.columns)}
        self.width = len(self.columns)
        self.deleted_col = self.col["IsDeleted"]
        self.rows: dict[str, Stored] = {}
        self.defaults: Row = tuple(
            False if f.type == "boolean" and f.default is None else f.default
            for f in self.fields)
        self._shapes: dict[tuple[int, ...], Shape] = {}
        self.derived = [(f.name, f.derive) for f in sobject.fields if f.derive is not None]
        # Scans feed WHERE and ORDER BY, which cannot name a compound field: leaving compound
        # values to single-record reads (`to_dict`) keeps full scans as fast as before them.
        self.scanned = [(name, derive) for name, derive in self.derived
                        if sobject.by_lower[name.lower()].type != "address"]
        self.formulas = [(f.name, f.formula) for f in sobject.fields if f.formula is not None]
        # Unique fields are indexed from the start (every write checks them); other idLookup
        # fields such as Email only once an upsert needs them, to keep seeding lean.
        self.indexes: dict[str, Index] = {}
        for f in self.fields:
            if f.unique:
                self.indexes[f.name] = Index(f, self.col[f.name])

    def set_defaults(self, **values: Any) -> None:
        """Column defaults that depend on the org (its user id); only valid while empty."""
        defaults = list(self.defaults)
        for name, value in values.items():
            if name in self.col:
                defaults[self.col[name]] = value
        self.defaults = tuple(defaults)

    def encode(self, row: Row) -> Stored:
        defaults = self.defaults
        columns = tuple(
            i for i, (value, default) in enumerate(zip(row, defaults, strict=True))
            if not (value is default or (type(value) is type(default) and value == default))
        )
        shape = self._shapes.get(columns)
        if shape is None:
            shape = self._shapes[columns] = Shape(columns, self.width)
        return (shape, *[row[i] for i in columns])

    def decode(self, stored: Stored) -> Row:
        return stored[0].expand(stored + self.defaults)

    def ids(self, stored_items: list[tuple[str, Stored]], include_deleted: bool) -> list[str]:
        """The ids of a snapshot of `rows.items()`, deleted ones only if asked for."""
        if include_deleted:
            return [record_id for record_id, _ in stored_items]
        deleted_col, defaults = self.deleted_col, self.defaults
        return [record_id for record_id, stored in stored_items
                if not stored[0].expand(stored + defaults)[deleted_col]]

    def count_live(self, stored_rows: list[Stored]) -> int:
        deleted_col, defaults = self.deleted_col, self.defaults
        return sum(1 for stored in stored_rows
                   if not stored[0].expand(stored + defaults)[deleted_col])

    def get(self, record_id: str) -> Row | None:
        stored = self.rows.get(record_id)
        return None if stored is None else stored[0].expand(stored + self.defaults)

    def scan(self) -> Iterator[tuple[str, Row]]:
        """Every (id, row) of a snapshot taken now: safe while other threads write."""
        defaults = self.defaults
        for record_id, stored in list(self.rows.items()):
            yield record_id, stored[0].expand(stored + defaults)

    def index(self, field: Field) -> Index:
        """The index for an idLookup field, built on first use."""
        return self.indexes.get(field.name) or self._build(Index(field, self.col[field.name]))

    def children_of(self, field_name: str, parent_id: str) -> list[str]:
        """Live records whose lookup `field_name` holds `parent_id` (a canonical id).

        The lookup's index is built on first use, as cascades and relation checks need it, so
        orgs that never delete pay nothing for it.
        """
        found = self.indexes.get(field_name)
        if found is None:
            field = self.sobject.field(field_name)
            assert field is not None and field.type == "reference", field_name
            found = self._build(Index(field, self.col[field.name], exact=True))
        return found.find(parent_id)

    def _build(self, found: Index) -> Index:
        for record_id, row in self.scan():
            if not row[self.deleted_col]:
                key = found.key(row[found.column])
                if key is not None:
                    found.add(key, record_id)
        self.indexes[found.field.name] = found
        return found

    def put(self, record_id: str, row: Row | None) -> Row | None:
        """Store (or with None remove) a row, keep indexes in step, and return the old row."""
        old = self.get(record_id)
        if row is None:
            self.rows.pop(record_id, None)
        else:
            self.rows[record_id] = self.encode(row)
        for index in self.indexes.values():
            old_key = self._live_key(index, old)
            new_key = self._live_key(index, row)
            if old_key != new_key:
                if old_key is not None:
                    index.remove(old_key, record_id)
                if new_key is not None:
                    index.add(new_key, record_id)
        return old

    def _live_key(self, index: Index, row: Row | None) -> str | None:
        if row is None or row[self.deleted_col]:
            return None
        return index.key(row[index.column])

    def to_dict(self, row: Row, context: FormulaContext, compound: bool = True) -> dict[str, Any]:
        """The record as a dict; `compound=False` leaves out address values nobody will read."""
        record = dict(zip(self.columns, row, strict=True))
        for name, derive in self.derived if compound else self.scanned:
            record[name] = derive(record)
        for name, formula in self.formulas:
            record[name] = formula(record, context)
        return record

    def iter_dicts(
        self, stored_rows: list[Stored], include_deleted: bool, context: FormulaContext
    ) -> Iterator[dict[str, Any]]:
        deleted_col, defaults, columns = self.deleted_col, self.defaults, self.columns
        derived, formulas = self.scanned, self.formulas
        for stored in stored_rows:
            row = stored[0].expand(stored + defaults)
            if include_deleted or not row[deleted_col]:
                record = dict(zip(columns, row, strict=True))
                for name, derive in derived:
                    record[name] = derive(record)
                for name, formula in formulas:
                    record[name] = formula(record, context)
                yield record
