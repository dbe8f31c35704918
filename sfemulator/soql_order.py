"""ORDER BY, OFFSET and LIMIT over a stream of matching records: the ordered ids of a page.

Nulls never meet a value in a comparison: they are replaced by sentinels that sort below or
above everything. Salesforce puts nulls first ascending and last descending unless the query
says NULLS FIRST/LAST; a descending sort runs reversed, so "first" may mean the highest key.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Any

from sfemulator.soql_filter import Context, normalized_getter
from sfemulator.soql_lex import SoqlError, located
from sfemulator.soql_parse import OrderItem
from sfemulator.soql_schema import Record

# Up to this many rows (OFFSET + LIMIT), a heap picks them in one pass without sorting the rest.
HEAP_SELECT_MAX = 10_000
SortKey = Callable[[Record], Any]


class _Extreme:
    """A key below (or above) every value: where nulls sort, without ever comparing None."""

    __slots__ = ("high",)

    def __init__(self, high: bool) -> None:
        self.high = high

    def __lt__(self, other: object) -> bool:
        return not self.high and other is not self

    def __gt__(self, other: object) -> bool:
        return self.high and other is not self


_LOWEST, _HIGHEST = _Extreme(high=False), _Extreme(high=True)


@dataclass(frozen=True, slots=True)
class Ordering:
    keys: tuple[SortKey, ...]
    descending: tuple[bool, ...]

    @classmethod
    def compile(cls, items: tuple[OrderItem, ...], context: Context) -> Ordering | None:
        """Key functions for ORDER BY; INVALID_FIELD for an unknown or unsortable field."""
        if not items:
            return None
        keys = tuple(_key(item, context) for item in items)
        return cls(keys, tuple(item.descending for item in items))

    def select(self, matching: Iterable[Record], offset: int, limit: int | None) -> list[str]:
        stop = None if limit is None else offset + limit
        if stop is not None and stop <= HEAP_SELECT_MAX and len(set(self.descending)) == 1:
            return self._heap(matching, offset, stop)
        return self._sort(matching, offset, stop)

    def _heap(self, matching: Iterable[Record], offset: int, stop: int) -> list[str]:
        key = self._composite_key()
        # nsmallest/nlargest are stable, exactly like sorted(...)[:stop], and hold only `stop`.
        pick = heapq.nlargest if self.descending[0] else heapq.nsmallest
        return [record["Id"] for record in islice(pick(stop, matching, key=key), offset, None)]

    def _composite_key(self) -> SortKey:
        keys = self.keys
        if len(keys) == 1:
            return keys[0]
        if len(keys) == 2:
            first, second = keys
            return lambda record: (first(record), second(record))
        return lambda record: tuple([k(record) for k in keys])

    def _sort(self, matching: Iterable[Record], offset: int, stop: int | None) -> list[str]:
        # Rows hold the id and keys, not the record: a million stored records are never all held.
        keys = self.keys
        if len(keys) == 1:
            (first,) = keys
            rows = [(record["Id"], first(record)) for record in matching]
        else:
            rows = [(record["Id"], *[k(record) for k in keys]) for record in matching]
        # Stable passes from the last key to the first make one lexicographic order, each pass
        # in its own direction; comparing single values is also far cheaper than tuples.
        for index in range(len(keys), 0, -1):
            rows.sort(key=itemgetter(index), reverse=self.descending[index - 1])
        return [row[0] for row in islice(rows, offset, stop)]


def _key(item: OrderItem, context: Context) -> SortKey:
    path = context.path(item.field)
    if not path.field.get("sortable", True):
        detail = f"field '{path.name}' can not be sorted in a query call"
        raise SoqlError("INVALID_FIELD", located(context.text, item.field.pos, detail))
    get = normalized_getter(path, context)
    null = _HIGHEST if item.nulls_first == item.descending else _LOWEST

    def key(record: Record) -> Any:
        value = get(record)
        return null if value is None else value

    return key


def page_ids(
    matching: Iterable[Record], ordering: Ordering | None, offset: int, limit: int | None
) -> list[str]:
    """The ids of the page: ordered, OFFSET skipped, LIMIT kept (stops the stream early if unordered)."""
    if ordering is not None:
        return ordering.select(matching, offset, limit)
    stop = None if limit is None else offset + limit
    return [record["Id"] for record in islice(matching, offset, stop)]
