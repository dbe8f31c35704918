"""The REST API under `/services/data`: authentication, quota counting, faults, routing.

Every authenticated call is counted by kind and uses quota; every counted response, a 403
REQUEST_LIMIT_EXCEEDED and an injected failure included, carries `Sforce-Limit-Info`.
Order per call: bearer check (401) → route (404) → quota (403) → injected fault → handler.
An injected 5xx or UNABLE_TO_LOCK_ROW is a counted call, as a real one is on Salesforce; on
sObject Collections an injected lock failure is reported per record with HTTP 200.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from . import bulk, composite, composite_requests, composite_tree, query, sobjects
from .errors import ApiError, invalid_session, not_found
from .wire import Request, Response, error_response, json_response

if TYPE_CHECKING:
    from .store import Org

LoginBase = Callable[[str], str]

_VERSIONED = re.compile(r"^/services/data/v(\d{2,3}\.\d)(?:/(.*))?$")
VERSIONS = [f"{n}.0" for n in range(50, 63)]


@dataclass
class Call:
    """One authenticated API call: the org, the request, its API version and path segments."""

    org: Org
    request: Request
    version: str
    segments: list[str]
    raw_rest: str
    # The base URL of the login host that issued the call's token (for the identity URL).
    login_base: str = ""

    def url(self, sobject: str, record_id: str) -> str:
        return f"/services/data/v{self.version}/sobjects/{sobject}/{record_id}"

    def sub(self, request: Request) -> Response:
        """Serve a subrequest of this (composite) call; see `subrequest`."""
        return subrequest(self, request)


Handler = Callable[[Call], Response]


def handle(org: Org, request: Request, login_base: LoginBase | None = None) -> Response:
    path = request.path
    if path.rstrip("/") == "/services/data":
        org.usage.note("versions")
        return json_response(200, [{"label": _label(v), "url": f"/services/data/v{v}",
                                    "version": v} for v in VERSIONS])
    match = _VERSIONED.match(path)
    if match is None:
        raise not_found()
    version, raw_rest = match.group(1), match.group(2) or ""
    login_host = _authenticate(org, request)
    call = _call(org, request, version, raw_rest,
                 login_base(login_host) if login_base else "")
    kind, handler = _route(request.method, call.segments)
    try:
        org.count_api_call(kind)
        failure = org.faults.take_failure(kind)
        if failure is None:
            response = handler(call)
        elif kind == "composite" and failure.error_code == "UNABLE_TO_LOCK_ROW":
            response = composite.locked(call, failure)
        else:
            response = error_response(failure)
    except ApiError as error:
        response = error_response(error)
    response.headers["Sforce-Limit-Info"] = org.usage.header()
    return response


def _call(org: Org, request: Request, version: str, raw_rest: str, login_base: str) -> Call:
    # Split before decoding: an external-id value may contain an encoded slash.
    segments = [unquote(part) for part in raw_rest.split("/")]
    while segments and segments[-1] == "":
        segments.pop()
    return Call(org, request, version, segments, raw_rest, login_base)


def subrequest(parent: Call, request: Request) -> Response:
    """Serve one subrequest of a composite call: routed like a call, neither counted nor faulted.

    The composite call itself was counted once, as Salesforce counts it; its token and login
    host stand for every subrequest.
    """
    match = _VERSIONED.match(request.path)
    if match is None:
        return error_response(not_found())
    call = _call(parent.org, request, match.group(1), match.group(2) or "", parent.login_base)
    try:
        _kind, handler = _route(request.method, call.segments)
        return handler(call)
    except ApiError as error:
        return error_response(error)


def _label(version: str) -> str:
    # API 59.0 is Winter '24; each release adds one version, three releases a year.
    number = int(float(version)) - 59
    season = ["Winter", "Spring", "Summer"][number % 3]
    return f"{season} '{24 + number // 3:02d}"


def _authenticate(org: Org, request: Request) -> str:
    """Check the bearer token; return the login host ("production"/"sandbox") that issued it."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    access = org.sessions.check(token.strip()) if scheme.lower() in ("bearer", "oauth") else None
    if access is None:
        org.usage.note("unauthorized")
        raise invalid_session()
    return access.login_host


def _route(method: str, s: list[str]) -> tuple[str, Handler]:
    """Map method + path segments to (counter kind, handler)."""
    n = len(s)
    head = s[0] if s else ""
    if n == 0 and method == "GET":
        return "describe", _resources
    if head == "sobjects" and method in ("GET", "POST", "PATCH", "DELETE"):
        return sobjects.route(method, s)
    if head in ("query", "queryAll") and method == "GET" and n <= 2:
        return ("queryMore" if n == 2 else "query"), query.handle
    if head == "limits" and n == 1 and method == "GET":
        return "limits", _limits
    if head == "composite" and n >= 2 and s[1] == "sobjects":
        return "composite", composite.handle
    if head == "composite" and method == "POST":
        if n == 1:
            return "composite", composite_requests.composite
        if n == 2 and s[1] in ("batch", "graph"):
            return "composite", getattr(composite_requests, s[1])
        if n == 3 and s[1] == "tree":
            return "composite", composite_tree.handle
    if head == "jobs" and n >= 2:
        return "bulk", _bulk
    raise not_found()


def _resources(call: Call) -> Response:
    """The version's resource directory; `identity` is the caller's identity URL, as on an org."""
    base = f"/services/data/v{call.version}"
    names = ["sobjects", "query", "queryAll", "limits", "composite", "jobs"]
    resources = {name: f"{base}/{name}" for name in names}
    org = call.org
    resources["identity"] = f"{call.login_base}/id/{org.org_id}/{org.user_id}"
    return json_response(200, resources)


def _limits(call: Call) -> Response:
    # Salesforce counts most records as 2 KB of data storage.
    records = sum(len(table.rows) for table in call.org.tables.values())
    return json_response(200, call.org.usage.limits_json(records * 2 // 1024))


def _bulk(call: Call) -> Response:
    request = call.request
    rest_path = call.raw_rest[len("jobs/"):]
    status, headers, body = bulk.handle(call.org, request.method, rest_path, request.query,
                                        dict(request.headers), request.body, call.version)
    return Response(status, body, dict(headers))
