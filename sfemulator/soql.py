"""SOQL for the emulator: run a query against a catalog, project records like Salesforce REST.

The server calls ``run_query`` once per query and pages through ``QueryResult.ids`` itself,
turning each stored record into JSON with ``QueryResult.project``. The catalog provides
``describe(name)``, ``iter_records(sobject, include_deleted)``, ``get_record(id)`` and,
optionally, ``now()`` (a frozen emulator clock for TODAY and friends),
``count_records(sobject, include_deleted)`` (COUNT() without WHERE) and ``record_ids(sobject,
include_deleted)`` (a query without WHERE or ORDER BY). ``get_record`` returns deleted records
too; outside queryAll a lookup to one reads as null, in WHERE and in the projection alike.

Records stream through a WHERE predicate compiled once and are never held: ORDER BY keeps one
(id, keys) row per match, or only ``OFFSET + LIMIT`` records in a heap when that is small;
without ORDER BY the stream stops as soon as LIMIT is reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import partial
from typing import Any

from sfemulator.soql_filter import Context, compile_condition
from sfemulator.soql_lex import SoqlError
from sfemulator.soql_order import Ordering, page_ids
from sfemulator.soql_parse import FieldRef, parse
from sfemulator.soql_schema import Hop, Record, Schema

__all__ = ["QueryResult", "SoqlError", "run_query"]


def run_query(text: str, catalog: Any, *, include_deleted: bool) -> QueryResult:
    """Parse, check against the catalog's describe, and evaluate one SOQL query.

    1. Parse (MALFORMED_QUERY), resolve the object (INVALID_TYPE) and every field path
       (INVALID_FIELD), compile WHERE and ORDER BY.
    2. Stream the object's records through the predicate.
    3. Count them for COUNT(), else order, skip OFFSET and keep LIMIT ids.
    """
    query = parse(text)
    schema = Schema(catalog, text)
    root = schema.root(query.sobject, query.sobject_pos)
    get_record = catalog.get_record if include_deleted else partial(_live, catalog.get_record)
    context = Context(text, schema, root, get_record, partial(_today, catalog))
    projection = _Projection.build(query.fields, context)
    predicate = compile_condition(query.where, context) if query.where is not None else None
    ordering = Ordering.compile(query.order_by, context)
    records: Iterable[Record] = catalog.iter_records(root.name, include_deleted)
    matching = records if predicate is None else filter(predicate, records)
    if query.count_only:
        # Without WHERE nothing needs reading: a catalog that can count rows says how many.
        count_rows = getattr(catalog, "count_records", None)
        matched = (count_rows(root.name, include_deleted) if predicate is None and count_rows
                   else sum(1 for _ in matching))
        total = max(0, matched - query.offset)
        total = total if query.limit is None else min(total, query.limit)
        return QueryResult(root.name, True, total, [], projection)
    record_ids = getattr(catalog, "record_ids", None)
    if predicate is None and ordering is None and record_ids is not None:
        # Neither WHERE nor ORDER BY: a catalog that lists ids spares building every record.
        stop = None if query.limit is None else query.offset + query.limit
        ids = record_ids(root.name, include_deleted)[query.offset:stop]
    else:
        ids = page_ids(matching, ordering, query.offset, query.limit)
    return QueryResult(root.name, False, len(ids), ids, projection)


class QueryResult:
    """What a query matched: ordered ids, plus the projection that renders each record."""

    __slots__ = ("sobject", "count_only", "total_size", "ids", "_projection")

    def __init__(
        self,
        sobject: str,
        count_only: bool,
        total_size: int,
        ids: list[str],
        projection: _Projection,
    ) -> None:
        self.sobject = sobject
        self.count_only = count_only
        self.total_size = total_size
        self.ids = ids
        self._projection = projection

    def project(self, record: Record, version: str) -> dict[str, Any]:
        """The record as Salesforce REST returns it: attributes, selected fields, nested parents."""
        return self._projection.render(record, version)

    @property
    def selects_compound(self) -> bool:
        """Whether the queried object's own compound (address) fields are selected."""
        return self._projection.compound


def _live(get_record: Callable[[str], Record | None], record_id: str) -> Record | None:
    """A parent as `query` sees it: one in the recycle bin reads as an empty lookup."""
    found = get_record(record_id)
    return None if found is None or found.get("IsDeleted") else found


def _today(catalog: Any) -> date:
    now = getattr(catalog, "now", None)
    moment: datetime = now() if callable(now) else datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).date()


# --- projection ---------------------------------------------------------------------------

_TYPE_LEAF = object()  # the polymorphic pseudo-field Who.Type


@dataclass(slots=True)
class _Node:
    """Selected fields of one object in selection order: names, parent nodes, the Type leaf."""

    entries: list[Any] = field(default_factory=list)
    children: dict[str, _Parent] = field(default_factory=dict)


@dataclass(slots=True)
class _Parent:
    hop: Hop
    node: _Node


class _Projection:
    def __init__(self, sobject: str, root: _Node, context: Context) -> None:
        self._sobject = sobject
        self._root = root
        self._schema = context.schema
        self._get_record = context.get_record
        self._prefixes: dict[str, str] = {}
        self.compound = False

    @classmethod
    def build(cls, refs: tuple[FieldRef, ...], context: Context) -> _Projection:
        """The tree of selected paths; INVALID_FIELD if one is unknown or selected twice."""
        root = _Node()
        seen: set[str] = set()
        compound = False
        for ref in refs:
            path = context.path(ref)
            if path.display.lower() in seen:
                raise SoqlError("INVALID_FIELD", f"duplicate field selected: {ref.path}")
            seen.add(path.display.lower())
            node = root
            for hop in path.hops:
                parent = node.children.get(hop.name)
                if parent is None:
                    parent = node.children[hop.name] = _Parent(hop, _Node())
                    node.entries.append(parent)
                node = parent.node
            node.entries.append(_TYPE_LEAF if path.is_type else path.name)
            compound = compound or (not path.hops and path.field.get("type") == "address")
        projection = cls(context.root.name, root, context)
        projection.compound = compound
        return projection

    def render(self, record: Record, version: str) -> dict[str, Any]:
        prefix = self._prefixes.get(version)
        if prefix is None:
            prefix = self._prefixes[version] = f"/services/data/v{version.lstrip('vV')}/sobjects/"
        return self._object(self._root, record, self._sobject, prefix)

    def _object(self, node: _Node, record: Record, sobject: str, prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {"type": sobject, "url": f"{prefix}{sobject}/{record.get('Id')}"}
        }
        for entry in node.entries:
            if entry.__class__ is str:
                out[entry] = record.get(entry)
            elif entry is _TYPE_LEAF:
                out["Type"] = sobject
            else:
                out[entry.hop.name] = self._parent(entry, record, prefix)
        return out

    def _parent(self, parent: _Parent, record: Record, prefix: str) -> dict[str, Any] | None:
        parent_id = record.get(parent.hop.fk)
        found = self._get_record(parent_id) if parent_id else None
        if found is None:
            return None
        sobject = self._schema.type_of(found, parent.hop).name
        return self._object(parent.node, found, sobject, prefix)
