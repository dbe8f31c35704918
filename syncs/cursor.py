"""The incremental cursor: which records the next query must read, as a SOQL condition.

State (on the Sync): the `(SystemModstamp, Id)` of the last record applied, and the
Salesforce time `seen_at` at which the scan that reached it began. Every record up to the
cursor that was visible at `seen_at` has been applied; a record committed late carries a
SystemModstamp at most `overlap` before it became visible, so anything still missing has
SystemModstamp > seen_at − overlap. The next query therefore reads from
min(cursor, seen_at − overlap) with `>=` (the hub skips what it already has at the same
SystemModstamp), or exactly after the `(SystemModstamp, Id)` tuple when the cursor is older
than that (then ties at the cursor's SystemModstamp are split by Id, never skipped).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from connections.client import soql_quote
from mappings.values import parse_datetime


def literal(moment: dt.datetime) -> str:
    """A SOQL datetime literal with milliseconds, in UTC."""
    moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@dataclass
class Cursor:
    modstamp: str = ""
    record_id: str = ""
    seen_at: str = ""

    def __bool__(self) -> bool:
        return bool(self.modstamp)

    def after(self, other: Cursor) -> bool:
        return (self.modstamp, self.record_id) > (other.modstamp, other.record_id)

    def condition(self, overlap: dt.timedelta) -> str | None:
        """The WHERE part selecting what is not yet applied (None: everything)."""
        if not self:
            return None
        stamp = parse_datetime(self.modstamp)
        seen = parse_datetime(self.seen_at) if self.seen_at else None
        floor = (seen - overlap) if seen else stamp - overlap
        if stamp <= floor:
            mark = literal(stamp)
            return (f"(SystemModstamp > {mark} OR (SystemModstamp = {mark} "
                    f"AND Id > {soql_quote(self.record_id)}))")
        return f"SystemModstamp >= {literal(min(stamp, floor))}"

    def lower_bound(self, overlap: dt.timedelta) -> dt.datetime | None:
        if not self:
            return None
        stamp = parse_datetime(self.modstamp)
        seen = parse_datetime(self.seen_at) if self.seen_at else None
        return min(stamp, (seen or stamp) - overlap)


# Ids per `Id IN (...)` condition, well inside a REST query URL.
IDS_PER_QUERY = 300


def id_in(record_ids: list[str]) -> str:
    """The condition `Id IN (...)` for these ids, each quoted as a SOQL literal."""
    return f"Id IN ({', '.join(soql_quote(record_id) for record_id in record_ids)})"


def build_soql(fields: list[str], sobject: str, conditions: list[str | None], *,
               ordered: bool = True) -> str:
    where = " AND ".join(f"({c})" for c in conditions if c)
    soql = f"SELECT {', '.join(fields)} FROM {sobject}"
    if where:
        soql += f" WHERE {where}"
    if ordered:
        soql += " ORDER BY SystemModstamp ASC, Id ASC"
    return soql


def window(lo: dt.datetime | None, hi: dt.datetime | None) -> str | None:
    parts = []
    if lo is not None:
        parts.append(f"SystemModstamp >= {literal(lo)}")
    if hi is not None:
        parts.append(f"SystemModstamp < {literal(hi)}")
    return " AND ".join(parts) or None
