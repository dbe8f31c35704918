"""Record matchers: hub attribute → Salesforce field pairs, resolved one batch per query.

`Matchers.soql` builds one `SELECT ... WHERE (F1 IN (...)) OR/AND (F2 IN (...))` for a batch,
every literal escaped by `soql_quote` (backslashes and quotes alike); `Matchers.candidates`
then finds each hub record's matches among the rows that query returned, comparing values as
Salesforce does (text ignoring case, ids by their case-sensitive 15-character form).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

from connections.client import soql_quote

# Salesforce refuses SOQL statements over 100,000 characters; an IN list this long stays far
# below with any realistic value, and keeps the query URL short.
MAX_IN_VALUES = 200
ID_TYPES = frozenset({"id", "reference"})


class Operator(models.TextChoices):
    AND = "and", "All matchers (AND)"
    OR = "or", "Any matcher (OR)"


def comparable(field_type: str, value: Any) -> Any:
    """How Salesforce compares a value of this type in a WHERE clause."""
    if value is None or value == "":
        return None
    if field_type in ID_TYPES:
        return str(value)[:15]
    if isinstance(value, bool) or field_type == "boolean":
        return str(value).lower() == "true"
    if field_type in ("int", "double", "currency", "percent", "long"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return str(value)
    return str(value).casefold()


@dataclass(frozen=True)
class Matchers:
    """The pairs (hub attribute, Salesforce field) and how they combine."""

    pairs: tuple[tuple[str, str], ...] = ()
    operator: str = Operator.OR

    @classmethod
    def from_json(cls, value: Any, operator: str = Operator.OR) -> Matchers:
        """From the action's JSON (`[["email", "Email"]]` or `[{"attribute", "field"}]`);
        ValueError says what is wrong."""
        if not isinstance(value, list):
            raise ValueError('A list of [hub attribute, Salesforce field] pairs, e.g. '
                             '[["email", "Email"]].')
        pairs = []
        for item in value:
            if isinstance(item, dict):
                item = [item.get("attribute"), item.get("field")]
            if (not isinstance(item, (list, tuple)) or len(item) != 2
                    or not all(isinstance(part, str) and part.strip() for part in item)):
                raise ValueError(f"{item!r} is not a [hub attribute, Salesforce field] pair.")
            pairs.append((item[0].strip(), item[1].strip()))
        if operator not in Operator.values:
            raise ValueError(f"{operator!r} is not AND or OR.")
        return cls(tuple(pairs), operator)

    @property
    def fields(self) -> list[str]:
        return list(dict.fromkeys(field for _, field in self.pairs))

    @property
    def by_id_only(self) -> bool:
        """The one matcher is the record Id: an update needs no query to find it."""
        return self.fields == ["Id"]

    def values(self, record: dict[str, Any]) -> dict[str, Any]:
        """The matcher values of one outbound record (Salesforce field → value, set ones)."""
        return {field: record[field] for field in self.fields
                if record.get(field) not in (None, "")}

    def usable(self, values: dict[str, Any]) -> bool:
        """Whether a record's matcher values can find anything: all of them for AND, one for OR."""
        if self.operator == Operator.AND:
            return len(values) == len(self.fields)
        return bool(values)

    def soql(self, sobject: str, select: Iterable[str],
             batch: list[dict[str, Any]]) -> list[str]:
        """The queries that find every candidate of `batch` (the matcher values of usable
        records): one per MAX_IN_VALUES records."""
        columns = ", ".join(dict.fromkeys(["Id", *self.fields, *select]))
        joiner = " AND " if self.operator == Operator.AND else " OR "
        queries = []
        for start in range(0, len(batch), MAX_IN_VALUES):
            wanted: dict[str, dict[Any, None]] = {field: {} for field in self.fields}
            for values in batch[start:start + MAX_IN_VALUES]:
                for field, value in values.items():
                    wanted[field][value] = None
            parts = [f"({field} IN ({', '.join(soql_quote(v) for v in values)}))"
                     for field, values in wanted.items() if values]
            if parts:
                queries.append(f"SELECT {columns} FROM {sobject} WHERE {joiner.join(parts)}")
        return queries

    def match(self, batch: list[dict[str, Any]], rows: list[dict[str, Any]],
              types: dict[str, str]) -> list[list[dict[str, Any]]]:
        """For each record's matcher values, the rows they match (AND: all; OR: any), in the
        order the query returned them."""
        index: dict[str, dict[Any, list[int]]] = {field: {} for field in self.fields}
        for position, row in enumerate(rows):
            for field in self.fields:
                key = comparable(types.get(field, "string"), row.get(field))
                if key is not None:
                    index[field].setdefault(key, []).append(position)
        found = []
        for values in batch:
            hits = [set(index[field].get(comparable(types.get(field, "string"), value), ()))
                    for field, value in values.items()]
            if not hits:
                found.append([])
                continue
            chosen = set.intersection(*hits) if self.operator == Operator.AND else set.union(*hits)
            found.append([rows[i] for i in sorted(chosen)])
        return found
