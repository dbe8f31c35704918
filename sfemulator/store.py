"""The org: records of every sObject, with Salesforce's write semantics, plus the org's state.

`Org` is also the `catalog` the SOQL module reads (`describe`, `iter_records`, `get_record`).
Records read back as plain dicts keyed by API field name with JSON-ready values; they are
stored as tuples (see `table.py`). Every write takes `org.lock`; a `transaction()` records an
undo log so sObject Collections can roll back with allOrNone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from . import bulk_jobs, leads, loading, recycle_bin, validation
from .clock import Clock, format_datetime
from .cursors import MAX_OPEN_CURSORS, CursorStore
from .errors import not_found
from .faults import Faults
from .ids import IdFactory, fixed_id, to18
from .schema import FormulaContext, Schema
from .sessions import SessionStore
from .standard import build_schema
from .table import Row, Table
from .usage import Usage
from .values import MissingRecord, RecordError, coerce, intern
from .write_rules import WriteHeaders, WriteRules

__all__ = ["MAX_REPLICATION_IDS", "MultipleMatches", "Org", "RecordError"]

# getUpdated/getDeleted refuse a window holding more ids than this (EXCEEDED_ID_LIMIT).
MAX_REPLICATION_IDS = 600_000

_AUDIT = ("CreatedDate", "LastModifiedDate", "SystemModstamp", "CreatedById", "LastModifiedById")


class MultipleMatches(RecordError):
    """An upsert value matched several records: REST answers 300 with their URLs."""

    def __init__(self, sobject: str, field: str, ids: list[str]) -> None:
        super().__init__(300, "DUPLICATE_EXTERNAL_ID",
                         f"{field}: more than one record found for external id field: "
                         f"[{', '.join(ids)}]", [field])
        self.sobject = sobject
        self.ids = ids


class Org:
    """One Salesforce org: schema, records, clock, quotas, faults, sessions and query cursors."""

    def __init__(self, schema: Schema | None = None, *, daily_api_limit: int = 15000,
                 daily_bulk_limit: int = 15000, username: str = "admin@forcebridge-demo.example",
                 max_cursors: int = MAX_OPEN_CURSORS,
                 max_replication_ids: int = MAX_REPLICATION_IDS) -> None:
        self.schema = schema or build_schema()
        self.lock = threading.RLock()
        self.clock = Clock()
        self.faults = Faults()
        self.rules = WriteRules()
        self.usage = Usage(daily_api_limit, daily_bulk_limit)
        self.sessions = SessionStore(self.clock)
        self.cursors = CursorStore(max_cursors)
        # A setting like `cursors.limit`: Org.reset keeps it, Emulator.reset restores it.
        self.max_replication_ids = max_replication_ids
        self.org_id = fixed_id("00D", 1)
        self.user_id = fixed_id("005", 1)
        self.username = username
        self.tables: dict[str, Table] = {}
        self.delete_log: dict[str, tuple[str, str]] = {}
        # Parent id -> ids its deletion took along (see recycle_bin.py).
        self.cascades: dict[str, list[str]] = {}
        self._undo: list[tuple[Any, ...]] | None = None
        self._formula_cache: tuple[int, float, FormulaContext] | None = None
        self._writes = 0
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Empty every table and forget counters, faults, clock, sessions, cursors, bulk jobs."""
        with self.lock:
            # First, so a bulk worker still running stops before the tables are replaced.
            bulk_jobs.reset(self)
            self.tables = {s.name: Table(s) for s in self.schema.types.values()}
            for table in self.tables.values():
                table.set_defaults(CreatedById=self.user_id, LastModifiedById=self.user_id,
                                   OwnerId=self.user_id)
            self._by_prefix = {t.sobject.key_prefix: t for t in self.tables.values()}
            self.delete_log = {}
            self.cascades = {}
            self.ids = IdFactory(start=100)
            self._autonumber = 1000
            self.faults.reset()
            self.rules.reset()
            self.usage.reset()
            self.clock.unfreeze()
            self.sessions.reset()
            self.cursors.reset()
            self.put_row(self.tables["User"], self.user_id, self.new_row(
                self.tables["User"], self.user_id, self.stamp(),
                {"Username": self.username, "FirstName": "Admin", "LastName": "Forcebridge",
                 "Email": self.username, "Alias": "admin", "IsActive": True,
                 "TimeZoneSidKey": "GMT"}))

    def now(self) -> dt.datetime:
        return self.clock.now()

    def stamp(self) -> str:
        return sys.intern(format_datetime(self.clock.now()))

    # -- quotas ------------------------------------------------------------------------------

    def count_api_call(self, kind: str) -> None:
        self.usage.count(kind)

    def api_usage(self) -> tuple[int, int]:
        return self.usage.daily_used, self.usage.daily_max

    # -- catalog (read side, used by SOQL) ---------------------------------------------------

    def describe(self, name: str, version: str = "59.0") -> dict[str, Any] | None:
        return self.schema.describe(name, version)

    def table(self, sobject: str) -> Table:
        found = self.schema.get(sobject)
        if found is None:
            raise RecordError(400, "INVALID_TYPE",
                              f"sObject type '{sobject}' is not supported.")
        return self.tables[found.name]

    def formula_context(self) -> FormulaContext:
        """Today's date for formulas, cached for a second (or until the clock is moved)."""
        cached = self._formula_cache
        tick = time.monotonic()
        if cached is not None and cached[0] == self.clock.version and tick - cached[1] < 1.0:
            return cached[2]
        context = FormulaContext(today_ordinal=self.clock.now().date().toordinal())
        self._formula_cache = (self.clock.version, tick, context)
        return context

    def iter_records(self, sobject: str, include_deleted: bool = False,
                     ) -> Iterator[dict[str, Any]]:
        """Records in creation order; a snapshot, so concurrent writes never break iteration.

        Compound (address) fields are left out: scans serve WHERE and ORDER BY, which cannot
        use them; `get_record` includes them.
        """
        table = self.table(sobject)
        with self.lock:
            rows = list(table.rows.values())
        return table.iter_dicts(rows, include_deleted, self.formula_context())

    def record_ids(self, sobject: str, include_deleted: bool = False) -> list[str]:
        """The ids `iter_records` would yield, without building records (SOQL's fast path)."""
        table = self.table(sobject)
        with self.lock:
            items = list(table.rows.items())
        return table.ids(items, include_deleted)

    def count_records(self, sobject: str, include_deleted: bool = False) -> int:
        """How many records `iter_records` would yield, without building them."""
        table = self.table(sobject)
        with self.lock:
            rows = list(table.rows.values())
        return len(rows) if include_deleted else table.count_live(rows)

    def get_record(self, record_id: str, compound: bool = True) -> dict[str, Any] | None:
        """Any record by 15- or 18-character id, deleted ones included (IsDeleted true)."""
        found = self.locate(record_id)
        if found is None:
            return None
        table, row = found
        return table.to_dict(row, self.formula_context(), compound)

    def table_for_id(self, record_id: str) -> Table | None:
        return self._by_prefix.get(record_id[:3])

    def locate(self, record_id: str) -> tuple[Table, Row] | None:
        if not isinstance(record_id, str):
            return None
        table = self._by_prefix.get(record_id[:3])
        if table is None:
            return None
        # Fast path: the canonical 18-character id, as queries and clients usually send it.
        row = table.get(record_id)
        if row is None:
            normal = to18(record_id)
            row = table.get(normal) if normal else None
        return (table, row) if row is not None else None

    def live(self, sobject: str | None, record_id: str) -> tuple[Table, str, Row]:
        """The table, canonical id and row of a record that exists and is not deleted."""
        normal = to18(record_id) if isinstance(record_id, str) else None
        if normal is None:
            raise RecordError(400, "MALFORMED_ID", f"malformed id {record_id}")
        table = self._by_prefix.get(normal[:3])
        if sobject is not None and (table is None or table is not self.table(sobject)):
            raise not_found()
        row = table.get(normal) if table else None
        if table is None or row is None:
            raise MissingRecord()
        if row[table.deleted_col]:
            raise RecordError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return table, normal, row

    # -- writes ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and undo every write made inside if the block raises."""
        with self.lock:
            outer = self._undo
            self._undo = []
            try:
                yield
            except BaseException:
                for entry in reversed(self._undo):
                    self._revert(entry)
                raise
            finally:
                done, self._undo = self._undo, outer
                if outer is not None:
                    outer.extend(done)

    def _revert(self, entry: tuple[Any, ...]) -> None:
        kind, target, key, old = entry
        if kind == "row":
            target.put(key, old)
        elif old is None:
            target.pop(key, None)
        else:
            target[key] = old

    def data_version(self) -> tuple[int, int]:
        """Changes whenever any record or the clock changes: validates rendered pages."""
        return self._writes, self.clock.version

    def put_row(self, table: Table, record_id: str, row: Row | None) -> None:
        self._writes += 1
        old = table.put(record_id, row)
        if self._undo is not None:
            self._undo.append(("row", table, record_id, old))

    def remember(self, mapping: dict[str, Any], key: str, value: Any) -> None:
        """Set (or with None drop) `mapping[key]` for the delete log or cascades, undoably."""
        old = mapping.get(key)
        if value is None:
            mapping.pop(key, None)
        else:
            mapping[key] = value
        if self._undo is not None:
            self._undo.append(("map", mapping, key, old))

    def insert(self, sobject: str, fields: Mapping[str, Any],
               headers: WriteHeaders | None = None) -> str:
        """Create one record with full validation; return its 18-character id.

        `headers` marks an API write: the org's write rules (locks, assignment, duplicate
        rules) apply to it; writes by the org itself (seeding, conversion) pass None.
        """
        with self.transaction():
            table = self.table(sobject)
            if not table.sobject.createable:
                raise RecordError(400, "INSUFFICIENT_ACCESS_OR_READONLY",
                                  "insufficient access rights on object id")
            values = validation.validated(self, table, fields, creating=True)
            record_id = self.ids.new(table.sobject.key_prefix)
            if headers is not None:
                self.rules.before_write(table, record_id, values, headers, creating=True)
            row = self.new_row(table, record_id, self.stamp(), values)
            validation.check_required(table, row, None)
            validation.check_unique(table, record_id, row)
            validation.check_relation(table, record_id, row)
            if headers is not None:
                self.rules.after_write(table, record_id, row, headers, "insert")
            self.put_row(table, record_id, row)
            leads.after_write(self, table.sobject.name, record_id, None, row)
            return record_id

    def new_row(self, table: Table, record_id: str, stamp: str,
                 values: Mapping[str, Any]) -> Row:
        row: list[Any] = [None] * table.width
        for i, f in enumerate(table.fields):
            if f.type == "boolean":
                row[i] = False
            if f.default is not None:
                row[i] = f.default
        for name, value in values.items():
            row[table.col[name]] = value
        col = table.col
        row[col["Id"]] = record_id
        row[col["IsDeleted"]] = False
        for name in _AUDIT:
            if row[col[name]] is None:
                row[col[name]] = self.user_id if name.endswith("ById") else stamp
        if "OwnerId" in col and row[col["OwnerId"]] is None:
            row[col["OwnerId"]] = self.user_id
        if table.sobject.custom and row[col["Name"]] is None:
            row[col["Name"]] = record_id
        if "CaseNumber" in col and row[col["CaseNumber"]] is None:
            self._autonumber += 1
            row[col["CaseNumber"]] = f"{self._autonumber:08d}"
        return tuple(row)

    def update(self, sobject: str | None, record_id: str, fields: Mapping[str, Any],
               headers: WriteHeaders | None = None) -> str:
        """Update one record (204 semantics); return its canonical id."""
        with self.transaction():
            table, normal, old = self.live(sobject, record_id)
            if table.sobject.name == "Lead" and old[table.col["IsConverted"]]:
                raise RecordError(400, "CANNOT_UPDATE_CONVERTED_LEAD",
                                  "cannot reference converted lead")
            body = {k: v for k, v in fields.items() if k.lower() != "id" or v != record_id}
            values = validation.validated(self, table, body, creating=False)
            if headers is not None:
                self.rules.before_write(table, normal, values, headers, creating=False)
            row = list(old)
            for name, value in values.items():
                row[table.col[name]] = value
            self.touch(table, row)
            new = tuple(row)
            validation.check_required(table, new, values)
            validation.check_unique(table, normal, new)
            if headers is not None:
                self.rules.after_write(table, normal, new, headers, "update")
            self.put_row(table, normal, new)
            leads.after_write(self, table.sobject.name, normal, old, new)
            return normal

    def touch(self, table: Table, row: list[Any], stamp: str | None = None) -> None:
        stamp = stamp or self.stamp()
        row[table.col["LastModifiedDate"]] = stamp
        row[table.col["SystemModstamp"]] = stamp
        row[table.col["LastModifiedById"]] = self.user_id

    def upsert(self, sobject: str, ext_field: str, value: Any, fields: Mapping[str, Any],
               headers: WriteHeaders | None = None) -> tuple[str, bool]:
        """Insert or update by an external-id (or idLookup) field: return (id, created)."""
        with self.transaction():
            table = self.table(sobject)
            field = table.sobject.field(ext_field)
            if field is None or not field.id_lookup:
                raise not_found(
                    f"Provided external ID field does not exist or is not accessible: {ext_field}")
            for key in fields:
                if key.lower() in ("id", field.name.lower()):
                    raise RecordError(
                        400, "INVALID_FIELD",
                        f"{key} is specified in the URL of this upsert; it must not be in the "
                        "request body", [key])
            if field.name == "Id":
                return self.update(table.sobject.name, str(value), fields, headers), False
            stored = coerce(field, value)
            matches = table.index(field).find(stored) if stored is not None else []
            if len(matches) > 1:
                raise MultipleMatches(table.sobject.name, field.name, matches)
            if matches:
                return self.update(table.sobject.name, matches[0], fields, headers), False
            return self.insert(table.sobject.name, {**fields, field.name: value}, headers), True

    def delete(self, sobject: str | None, record_id: str,
               headers: WriteHeaders | None = None) -> str:
        if headers is not None and isinstance(record_id, str):
            self.rules.check_locks([to18(record_id)])
        return recycle_bin.delete(self, sobject, record_id)

    def undelete(self, record_id: str) -> str:
        return recycle_bin.undelete(self, record_id)

    def hard_delete(self, record_id: str) -> str:
        return recycle_bin.hard_delete(self, record_id)

    def patch_raw(self, record_id: str, fields: Mapping[str, Any]) -> None:
        """Overwrite stored values (audit fields too) with no validation and no timestamps.

        For tests that need ties on SystemModstamp or other states the API cannot produce.
        """
        with self.lock:
            found = self.locate(record_id)
            if found is None:
                raise not_found()
            table, old = found
            row = list(old)
            for name, value in fields.items():
                field = table.sobject.field(name)
                if field is None or not field.stored:
                    raise validation.no_such_column(table, name)
                row[table.col[field.name]] = intern(field, value)
            self.put_row(table, row[table.col["Id"]], tuple(row))

    def load(self, sobject: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        return loading.load(self, sobject, rows)

    def convert_lead(self, lead_id: str, **options: Any) -> dict[str, str | None]:
        return leads.convert(self, lead_id, **options)
