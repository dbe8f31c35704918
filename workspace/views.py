"""The inbound API: POST /api/v1/identify, /group, /track and /batch (Segment-spec JSON).

The only views without a staff login: each authenticates its own API key (HTTP Basic with
the key as username, or `Authorization: Bearer <key>`), is CSRF-exempt (no cookies are
used) and answers JSON only. A request is checked in this order, each failure its own
status: key (401), method (405), content type and size (400/413), JSON (400), rate (429),
then each message (400 naming the field; in a batch the bad one by index, the rest written).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from workspace.inbound import Inbound, Receipt
from workspace.messages import Invalid, Problem, parse
from workspace.models import ApiKey

MAX_BODY_BYTES = 500 * 1024
MAX_BATCH = 1000
CHALLENGE = 'Basic realm="Forcebridge API", Bearer realm="Forcebridge API"'


class Refused(Exception):  # noqa: N818 - raised as "raise Refused(413, ...)"
    """A request refused as a whole: its status, the field at fault, why, extra headers."""

    def __init__(self, status: int, field: str, message: str, **headers: str) -> None:
        super().__init__(message)
        self.response = JsonResponse({"errors": [{"field": field, "message": message}]},
                                     status=status, headers=headers)


def presented_key(request: HttpRequest) -> str:
    """The API key of `Authorization`: a Bearer token, or a Basic username; "" if none."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    return ""


def authenticate(request: HttpRequest) -> ApiKey:
    key = presented_key(request)
    api_key = ApiKey.authenticate(key)
    if api_key is None:
        reason = ("an unknown or inactive API key" if key else
                  "an API key is required: HTTP Basic with the key as username (empty "
                  "password), or Authorization: Bearer <key>")
        raise Refused(401, "Authorization", reason, **{"WWW-Authenticate": CHALLENGE})
    return api_key


def read_json(request: HttpRequest) -> Any:
    """The request's JSON body, refusing a wrong type, a body over 500 KB and bad JSON."""
    if request.content_type != "application/json":
        raise Refused(400, "Content-Type",
                      f"must be application/json (got {request.content_type or 'none'!r})")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_big = f"the body must be at most {MAX_BODY_BYTES // 1024} KB"
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, "body", too_big)
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, "body", too_big)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Refused(400, "body", f"is not valid JSON: {error}") from None


def batch_of(data: Any) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get("batch"), list):
        raise Refused(400, "batch", 'the body must be {"batch": [messages]}')
    messages = data["batch"]
    if not messages:
        raise Refused(400, "batch", "must hold at least one message")
    if len(messages) > MAX_BATCH:
        raise Refused(413, "batch", f"must hold at most {MAX_BATCH:,} messages "
                                    f"(got {len(messages):,}); split it")
    return messages


def throttle(api_key: ApiKey, messages: int) -> None:
    per_second = settings.FORCEBRIDGE_API_RATE_LIMIT
    wait = api_key.take(messages, per_second)
    if wait:
        raise Refused(429, "Authorization",
                      f"this key may send {per_second:,} messages a second; retry in {wait} s",
                      **{"Retry-After": str(wait)})


def receive(request: HttpRequest, kind: str | None) -> HttpResponse:
    """One request: checks as in the module docstring, then `Inbound.receive`."""
    try:
        api_key = authenticate(request)
        if request.method != "POST":
            raise Refused(405, "method", "only POST is allowed", Allow="POST")
        data = read_json(request)
        raw = batch_of(data) if kind is None else [data]
        throttle(api_key, len(raw))
    except Refused as refused:
        return refused.response
    entries, errors = [], []
    for index, item in enumerate(raw):
        at = index if kind is None else None
        try:
            entries.append((at, parse(item, kind)))
        except Invalid as invalid:
            errors += [(at, problem) for problem in invalid.problems]
    receipt = Inbound(api_key).receive(entries) if entries else Receipt()
    receipt.errors += errors
    return JsonResponse(receipt.as_json(), status=status_of(receipt, kind, errors))


def status_of(receipt: Receipt, kind: str | None, invalid: list[tuple[int | None, Problem]]
              ) -> int:
    """200 when something was accepted (a batch may name bad messages besides); otherwise
    400 for invalid input, 409 for a valid message the hub refused (an e-mail clash)."""
    if receipt.accepted and (kind is None or not receipt.errors):
        return 200
    return 400 if invalid or receipt.invalid else 409


def endpoint(kind: str | None) -> Callable[[HttpRequest], HttpResponse]:
    @csrf_exempt
    @login_not_required
    def view(request: HttpRequest) -> HttpResponse:
        return receive(request, kind)

    view.__name__ = f"{kind or 'batch'}_view"
    return view


identify = endpoint("identify")
group = endpoint("group")
track = endpoint("track")
batch = endpoint(None)
