"""sObject Tree (`POST /composite/tree/{sobject}`): parent and child records created together.

Salesforce's rules (REST API Developer Guide, "sObject Tree", "sObject Tree Request Body",
"sObject Tree Response Body"): up to 200 records across all trees, five levels deep, every
record with `attributes.type` and a unique `attributes.referenceId`; children sit under their
parent in a child relationship (`"Contacts": {"records": [...]}`) and get its lookup set.
Records are created level by level (every root, then every second-level record, ...). Any
error fails the whole request: HTTP 400 with only the failed record's reference id and
errors; success is HTTP 201 with every reference id and its new id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .schema import Schema
from .wire import Response, json_response
from .write_rules import WriteHeaders

if TYPE_CHECKING:
    from .rest import Call

MAX_RECORDS = 200
MAX_DEPTH = 5
# Child relationship names that do not follow "the child's plural label" (standard objects).
_NAMED = {("Account", "ParentId"): "ChildAccounts", ("Campaign", "ParentId"): "ChildCampaigns",
          ("Task", "WhoId"): "Tasks", ("Task", "WhatId"): "Tasks"}


@dataclass
class _Node:
    sobject: str
    reference_id: str
    fields: dict[str, Any]
    depth: int
    parent: _Node | None = None
    lookup: str | None = None  # the child's field that points at `parent`
    record_id: str | None = None
    children: list[_Node] = field(default_factory=list)


class _TreeFailure(Exception):
    def __init__(self, node: _Node, error: ApiError) -> None:
        super().__init__(error.message)
        self.node = node
        self.error = error


def child_relationships(schema: Schema, parent: str) -> dict[str, tuple[str, str]]:
    """Lower-cased child relationship name → (child sObject, its lookup field) for `parent`."""
    found: dict[str, tuple[str, str]] = {}
    for child in schema.types.values():
        for lookup in child.fields:
            if lookup.type != "reference" or parent not in lookup.reference_to:
                continue
            if not (lookup.createable and lookup.stored) or lookup.name.startswith("Converted"):
                continue
            name = _NAMED.get((child.name, lookup.name))
            if name is None:
                plural = child.label_plural.replace(" ", "")
                name = plural + "__r" if child.custom else plural
            found.setdefault(name.lower(), (child.name, lookup.name))
    return found


def handle(call: Call) -> Response:
    sobject = call.org.schema.get(call.segments[2])
    if sobject is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    data = call.request.json()
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "'records' is a required field.")
    roots = [_parse(call, item, sobject.name, 1, None, None) for item in records]
    nodes = _levels(roots)
    if len(nodes) > MAX_RECORDS:
        # The guide states the limit; the message is ours.
        raise ApiError(400, "LIMIT_EXCEEDED",
                       f"The request can't contain more than {MAX_RECORDS} records.")
    seen: set[str] = set()
    for node in nodes:
        if node.reference_id in seen:
            raise ApiError(400, "INVALID_INPUT",
                           f"Duplicate ReferenceId provided in the request: {node.reference_id}")
        seen.add(node.reference_id)
    try:
        with call.org.transaction():
            for node in nodes:
                _create(call, node)
    except _TreeFailure as failure:
        return json_response(400, {"hasErrors": True, "results": [{
            "referenceId": failure.node.reference_id,
            "errors": [failure.error.as_collection_error()]}]})
    return json_response(201, {"hasErrors": False, "results": [
        {"referenceId": node.reference_id, "id": node.record_id} for node in nodes]})


def _parse(call: Call, item: Any, expected: str, depth: int, parent: _Node | None,
           lookup: str | None) -> _Node:
    """One record and its children; shape errors fail the whole request with 400."""
    if not isinstance(item, dict) or not isinstance(item.get("attributes"), dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Each record needs an attributes object")
    attributes = item["attributes"]
    given = str(attributes.get("type") or "")
    if given.lower() != expected.lower():
        raise ApiError(400, "INVALID_TYPE",
                       f"Record type {given or '(none)'} does not match {expected}")
    reference_id = attributes.get("referenceId")
    if not reference_id:
        raise ApiError(400, "JSON_PARSER_ERROR", "'referenceId' is a required field.")
    if depth > MAX_DEPTH:
        raise ApiError(400, "INVALID_INPUT",
                       f"The tree is deeper than {MAX_DEPTH} levels at {reference_id}")
    relations = child_relationships(call.org.schema, expected)
    node = _Node(expected, str(reference_id), {}, depth, parent, lookup)
    for key, value in item.items():
        if key == "attributes":
            continue
        relation = relations.get(key.lower())
        if relation is not None and isinstance(value, dict):
            children = value.get("records")
            if not isinstance(children, list):
                raise ApiError(400, "JSON_PARSER_ERROR", f"{key} needs a records array")
            child, child_lookup = relation
            node.children += [_parse(call, c, child, depth + 1, node, child_lookup)
                              for c in children]
        else:
            node.fields[key] = value
    return node


def _levels(roots: list[_Node]) -> list[_Node]:
    """Every node, roots first, then each deeper level in request order."""
    ordered, level = [], roots
    while level:
        ordered += level
        level = [child for node in level for child in node.children]
    return ordered


def _create(call: Call, node: _Node) -> None:
    values = dict(node.fields)
    if node.parent is not None and node.lookup is not None:
        values[node.lookup] = node.parent.record_id
    try:
        node.record_id = call.org.insert(node.sobject, values,
                                         WriteHeaders.of(call.request.headers))
    except ApiError as error:
        raise _TreeFailure(node, error) from None
