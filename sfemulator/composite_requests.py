"""Composite resources that run REST subrequests: `/composite`, `/composite/batch`, `/graph`.

Salesforce's rules (REST API Developer Guide: "Composite", "Composite Subrequest Result",
"allOrNone Parameters in Composite and Collections Requests", "Composite Batch", "Composite
Graph", "Composite Graph Limits"):
- the whole call counts as one API call; its subrequests are not counted again;
- `/composite` takes up to 25 subrequests; a later one reads an earlier one's answer through
  `@{referenceId.field}` (`.` walks an object, `[n]` a list) in its url or body;
- with `allOrNone` the first failure rolls every subrequest back: the failed one keeps its
  error, every other answers 400 PROCESSING_HALTED;
- without it, a subrequest that refers to a failed one answers 400 PROCESSING_HALTED
  "Invalid reference specified ...";
- `/composite/batch` takes up to 25 independent subrequests; `haltOnError` answers 412
  BATCH_PROCESSING_HALTED for every subrequest after the first failure;
- `/composite/graph` takes up to 75 graphs and 500 nodes; each graph is all-or-nothing.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .wire import Request, Response, json_response

if TYPE_CHECKING:
    from .rest import Call

MAX_SUBREQUESTS = 25
MAX_GRAPHS = 75
MAX_GRAPH_NODES = 500
ROLLED_BACK = ("The transaction was rolled back since another operation in the same "
               "transaction failed.")
# Salesforce answered this (HTTP 200, one compositeResponse entry) to a 26-subrequest call.
TOO_MANY = "The request can’t contain more than 25 operations."
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
# Headers a subrequest inherits from the composite call (authorization and Salesforce's own).
_INHERITED = ("authorization", "sforce-auto-assign", "sforce-duplicate-rule-header",
              "sforce-query-options")


class _Rollback(Exception):
    """Raised inside the transaction to undo an all-or-none run."""


class _Unresolved(Exception):
    """A `@{...}` reference names no value (an unknown or failed subrequest, a missing key)."""


def composite(call: Call) -> Response:
    """`POST /composite`: run the subrequests in order, references resolved between them."""
    data = _payload(call)
    nodes = _nodes(data, "compositeRequest", needs_reference=True)
    if len(nodes) > MAX_SUBREQUESTS:
        return json_response(200, {"compositeResponse": [_entry(
            None, 400, [{"errorCode": "LIMIT_EXCEEDED", "message": TOO_MANY}])]})
    results, _ok = _run(call, nodes, all_or_none=bool(data.get("allOrNone", False)))
    return json_response(200, {"compositeResponse": results})


def graph(call: Call) -> Response:
    """`POST /composite/graph`: every graph runs as one all-or-nothing composite request."""
    data = _payload(call)
    graphs = data.get("graphs")
    if not isinstance(graphs, list) or not all(isinstance(g, dict) for g in graphs):
        raise ApiError(400, "JSON_PARSER_ERROR", "'graphs' is a required field.")
    plans = [(str(g.get("graphId") or ""), _nodes(g, "compositeRequest", needs_reference=True))
             for g in graphs]
    if any(not graph_id for graph_id, _ in plans):
        raise ApiError(400, "JSON_PARSER_ERROR", "'graphId' is a required field.")
    if len(plans) > MAX_GRAPHS:
        raise ApiError(400, "LIMIT_EXCEEDED",
                       f"The number of graphs in one request can't exceed {MAX_GRAPHS}.")
    if sum(len(nodes) for _, nodes in plans) > MAX_GRAPH_NODES:
        raise ApiError(400, "LIMIT_EXCEEDED",
                       f"The number of nodes in one request can't exceed {MAX_GRAPH_NODES}.")
    answers = []
    for graph_id, nodes in plans:
        results, ok = _run(call, nodes, all_or_none=True)
        answers.append({"graphId": graph_id, "graphResponse": {"compositeResponse": results},
                        "isSuccessful": ok})
    return json_response(200, {"graphs": answers})


def batch(call: Call) -> Response:
    """`POST /composite/batch`: independent subrequests; `haltOnError` stops at a failure."""
    data = _payload(call)
    nodes = _nodes(data, "batchRequests", needs_reference=False)
    if len(nodes) > MAX_SUBREQUESTS:
        # The guide states the limit, not the message: this one follows /composite's.
        raise ApiError(400, "LIMIT_EXCEEDED", TOO_MANY)
    halt_on_error = bool(data.get("haltOnError", False))
    results: list[dict[str, Any]] = []
    halted = has_errors = False
    for node in nodes:
        if halted:
            results.append({"statusCode": 412, "result": [{
                "errorCode": "BATCH_PROCESSING_HALTED",
                "message": "Batch processing halted per request"}]})
            continue
        response = call.sub(_request(call, node["method"], str(node["url"]),
                                     node.get("richInput"), node.get("httpHeaders")))
        results.append({"statusCode": response.status, "result": _parsed(response)})
        if response.status >= 400:
            has_errors = True
            halted = halt_on_error
    return json_response(200, {"hasErrors": has_errors, "results": results})


def _payload(call: Call) -> dict[str, Any]:
    data = call.request.json()
    if not isinstance(data, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return data


def _nodes(data: dict[str, Any], key: str, needs_reference: bool) -> list[dict[str, Any]]:
    """The subrequests under `key`, checked before any runs (a bad one fails the whole call)."""
    nodes = data.get(key)
    if not isinstance(nodes, list):
        raise ApiError(400, "JSON_PARSER_ERROR", f"'{key}' is a required field.")
    required = ("method", "url", "referenceId") if needs_reference else ("method", "url")
    for node in nodes:
        if not isinstance(node, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", f"Each item of '{key}' must be an object")
        for name in required:
            if not node.get(name):
                raise ApiError(400, "JSON_PARSER_ERROR", f"'{name}' is a required field.")
        if node["method"] not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            raise ApiError(400, "JSON_PARSER_ERROR",
                           f"Invalid HTTP method {node['method']!r} in a subrequest")
    return nodes


def _run(call: Call, nodes: list[dict[str, Any]],
         all_or_none: bool) -> tuple[list[dict[str, Any]], bool]:
    """Run `nodes` in order; with `all_or_none` stop at the first failure and undo them all.

    Returns the compositeResponse entries and whether every subrequest succeeded.
    """
    outputs: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    failed = False
    try:
        with call.org.transaction():
            for node in nodes:
                result = _execute(call, node, outputs)
                results.append(result)
                if result["httpStatusCode"] >= 400:
                    failed = True
                    if all_or_none:
                        raise _Rollback
    except _Rollback:
        halted = [_entry(node["referenceId"], 400,
                         [{"errorCode": "PROCESSING_HALTED", "message": ROLLED_BACK}])
                  for node in nodes]
        culprit = len(results) - 1
        results = halted[:culprit] + [results[culprit]] + halted[culprit + 1:]
    return results, not failed


def _execute(call: Call, node: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    reference_id = node["referenceId"]
    try:
        url = _resolve(node["url"], outputs)
        body = _resolve(node.get("body"), outputs)
    except _Unresolved as missing:
        return _entry(reference_id, 400, [{"errorCode": "PROCESSING_HALTED",
                                           "message": str(missing)}])
    response = call.sub(_request(call, node["method"], str(url), body, node.get("httpHeaders")))
    parsed = _parsed(response)
    if response.status < 400:
        outputs[reference_id] = parsed
    # Composite answers carry no Content-Length or Content-Type, only headers like Location.
    headers = {k: v for k, v in response.headers.items() if k in ("Location",)}
    return _entry(reference_id, response.status, parsed, headers)


def _entry(reference_id: str | None, status: int, body: Any,
           headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"body": body, "httpHeaders": headers or {}, "httpStatusCode": status,
            "referenceId": reference_id}


def _parsed(response: Response) -> Any:
    return json.loads(response.body) if response.body else None


def _request(call: Call, method: str, url: str, body: Any,
             headers: Any) -> Request:
    """A subrequest as the REST layer sees it; batch urls start at the version (`v59.0/...`)."""
    target = url if url.startswith("/services/data/") else "/services/data/" + url.lstrip("/")
    inherited = {k: v for k, v in call.request.headers.items() if k in _INHERITED}
    if isinstance(headers, dict):
        inherited.update({str(k).lower(): str(v) for k, v in headers.items()})
    payload = json.dumps(body).encode("utf-8") if body is not None else b""
    return Request.build(method, target, inherited, payload, secure=True)


def _resolve(value: Any, outputs: dict[str, Any]) -> Any:
    """Replace every `@{ref.path}`; a string that is one reference takes the value's own type."""
    if isinstance(value, dict):
        return {k: _resolve(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, outputs) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value
    whole = _REFERENCE.fullmatch(value)
    if whole:
        return _lookup(whole, outputs)
    return _REFERENCE.sub(lambda m: str(_lookup(m, outputs)), value)


def _lookup(match: re.Match[str], outputs: dict[str, Any]) -> Any:
    reference_id, path = match.group(1), match.group(2)
    missing = _Unresolved(f"Invalid reference specified. No value for {reference_id}{path} "
                          f"found in {reference_id}")
    if reference_id not in outputs:
        raise missing
    current = outputs[reference_id]
    for step in _STEP.finditer(path):
        key, index = step.group(1), step.group(2)
        if key is not None and isinstance(current, dict):
            found = next((v for k, v in current.items() if k.lower() == key.lower()), None)
            current = current.get(key, found)
        elif index is not None and isinstance(current, list) and int(index) < len(current):
            current = current[int(index)]
        else:
            raise missing
        if current is None:
            raise missing
    return current
