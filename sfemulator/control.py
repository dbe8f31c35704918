"""The control API under `/__emulator__/` (no auth) and `ControlClient`, its Python client.

Tests use it to reset the org, seed it (`{"spec", "rng_seed", "seed_now"}`), read and write records without API counting, read the
request counters, set quotas, move the clock, mint or expire sessions, inject faults, and
switch on write rules (duplicate rules, assignment rules, locked records; see write_rules.py)
and read the `Sforce-*` headers each API write arrived with.
Payloads and answers are JSON; errors are `{"error": message}` with 400/404.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode

from .clock import format_datetime, parse_datetime
from .errors import ApiError
from .faults import Faults
from .oauth import token_payload
from .wire import Request, Response, error_response, json_response

if TYPE_CHECKING:
    from .server import Emulator


def handle(emulator: Emulator, request: Request) -> Response:
    parts = [unquote(p) for p in request.path.split("/")[2:] if p]
    try:
        return _route(emulator, request, parts)
    except ApiError as error:
        return error_response(error)
    except (ValueError, KeyError, TypeError) as error:
        return json_response(400, {"error": f"{type(error).__name__}: {error}"})


def _route(emulator: Emulator, request: Request, parts: list[str]) -> Response:
    org, method = emulator.org, request.method
    head = parts[0] if parts else ""
    body = request.json() if request.body else {}
    if head == "health":
        return json_response(200, {"ok": True, "org_id": org.org_id, "user_id": org.user_id,
                                   "base_url": emulator.base_url})
    if head == "reset" and method == "POST":
        emulator.reset()
        return json_response(200, {"ok": True})
    if head == "seed" and method == "POST":
        return json_response(200, emulator.seed(body.get("spec", "demo"), body.get("rng_seed"),
                                                body.get("seed_now")))
    if head == "records":
        return _records(emulator, request, parts[1:], body)
    if head == "undelete" and len(parts) == 2 and method == "POST":
        return json_response(200, {"id": org.undelete(parts[1])})
    if head == "convert-lead" and len(parts) == 2 and method == "POST":
        return json_response(200, org.convert_lead(parts[1], **body))
    if head == "counters":
        if method in ("DELETE", "POST"):
            org.usage.clear_counters()
        return json_response(200, org.usage.snapshot())
    if head == "limits":
        if method == "POST":
            org.usage.set_limits(body)
        return json_response(200, org.usage.snapshot())
    if head == "faults":
        return _faults(emulator, method, body)
    if head == "clock":
        return _clock(emulator, method, body)
    if head == "sessions":
        return _sessions(emulator, method, parts[1:], body)
    if head == "settings":
        return _settings(emulator, method, body)
    if head == "write-rules":
        if method == "POST":
            org.rules.configure(body)
        elif method == "DELETE":
            org.rules.reset()
        return json_response(200, org.rules.snapshot())
    raise ApiError(404, "NOT_FOUND", f"no control resource {request.path}")


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def _records(emulator: Emulator, request: Request, parts: list[str], body: Any) -> Response:
    org, method = emulator.org, request.method
    if len(parts) == 1:
        sobject = org.table(parts[0]).sobject.name
        if method == "GET":
            include = _truthy(request.query.get("include_deleted"))
            return json_response(200, {"records": list(org.iter_records(sobject, include))})
        if method == "POST":
            rows = body if isinstance(body, list) else [body]
            if _truthy(request.query.get("load")):
                return json_response(201, {"ids": org.load(sobject, rows)})
            with org.transaction():
                return json_response(201, {"ids": [org.insert(sobject, row) for row in rows]})
    if len(parts) == 2:
        sobject, record_id = org.table(parts[0]).sobject.name, parts[1]
        if method == "GET":
            record = org.get_record(record_id)
            if record is None:
                raise ApiError(404, "NOT_FOUND", f"no record {record_id}")
            return json_response(200, record)
        if method == "PATCH":
            if _truthy(request.query.get("raw")):
                org.patch_raw(record_id, body)
                return json_response(200, {"id": record_id})
            return json_response(200, {"id": org.update(sobject, record_id, body)})
        if method == "DELETE":
            if _truthy(request.query.get("hard")):
                return json_response(200, {"id": org.hard_delete(record_id)})
            return json_response(200, {"id": org.delete(sobject, record_id)})
    raise ApiError(404, "NOT_FOUND", f"no control resource {request.path}")


def _faults(emulator: Emulator, method: str, body: dict[str, Any]) -> Response:
    """Switch faults on (POST) or all off (DELETE); unknown switches are an error.

    `limit_after` lives in the usage counters (it lowers the daily max), `expire_sessions` is
    a one-off action; the rest are `Faults` switches.
    """
    org = emulator.org
    if method == "DELETE":
        org.faults.reset()
        org.usage.limit_after(None)
    elif method == "POST":
        unknown = set(body) - Faults.SWITCHES - {"limit_after", "expire_sessions"}
        if unknown:
            raise ValueError(f"unknown fault switches: {', '.join(sorted(unknown))}")
        org.faults.configure({k: v for k, v in body.items() if k in Faults.SWITCHES})
        if "limit_after" in body:
            org.usage.limit_after(body["limit_after"])
        if body.get("expire_sessions"):
            org.sessions.expire_all()
    return json_response(200, {**org.faults.snapshot(), "limit_after": org.usage.calls_left()})


def _clock(emulator: Emulator, method: str, body: dict[str, Any]) -> Response:
    """`{"freeze": "<iso>"|"now"}`, `{"advance": seconds}`, `{"unfreeze": true}`."""
    clock = emulator.org.clock
    if method == "POST":
        if body.get("unfreeze"):
            clock.unfreeze()
        if "freeze" in body:
            moment = clock.now() if body["freeze"] == "now" else parse_datetime(body["freeze"])
            if moment is None:
                raise ValueError("freeze needs an ISO-8601 datetime with an offset, or 'now'")
            clock.freeze(moment)
        if "advance" in body:
            clock.advance(float(body["advance"]))
    return json_response(200, {"now": format_datetime(clock.now()), "frozen": clock.frozen})


def _sessions(emulator: Emulator, method: str, parts: list[str],
              body: dict[str, Any]) -> Response:
    """GET lists grants/tokens; POST mints a session; POST .../expire kills all access tokens."""
    sessions = emulator.org.sessions
    if parts == ["expire"] and method == "POST":
        return json_response(200, {"expired": sessions.expire_all()})
    if not parts and method == "POST":
        login_host = body.get("login_host", "production")
        if login_host not in ("production", "sandbox"):
            raise ValueError("login_host must be production or sandbox")
        grant = sessions.new_grant(emulator.client_id, body.get("scope", "api refresh_token"),
                                   login_host, counted=False)
        return json_response(200, token_payload(emulator, grant, include_refresh=True))
    if not parts and method == "GET":
        return json_response(200, sessions.snapshot())
    raise ApiError(404, "NOT_FOUND", "no such sessions resource")


def _settings(emulator: Emulator, method: str, body: dict[str, Any]) -> Response:
    """Read (GET) or change (POST) the settings `reset` restores to the constructor's values.

    `max_replication_ids` caps the ids getUpdated/getDeleted may return (600,000 like
    Salesforce); tests lower it to reach EXCEEDED_ID_LIMIT with a few records.
    """
    org, app = emulator.org, emulator.app
    sessions, cursors = org.sessions, org.cursors
    if method == "POST":
        unknown = set(body) - {"auto_approve", "token_ttl", "rotate_refresh_tokens",
                               "max_cursors", "max_replication_ids"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        app.auto_approve = bool(body.get("auto_approve", app.auto_approve))
        sessions.token_ttl = int(body.get("token_ttl", sessions.token_ttl))
        sessions.rotate_refresh_tokens = bool(body.get("rotate_refresh_tokens",
                                                       sessions.rotate_refresh_tokens))
        cursors.limit = max(1, int(body.get("max_cursors", cursors.limit)))
        org.max_replication_ids = max(1, int(body.get("max_replication_ids",
                                                      org.max_replication_ids)))
    return json_response(200, {"auto_approve": app.auto_approve,
                               "token_ttl": sessions.token_ttl,
                               "rotate_refresh_tokens": sessions.rotate_refresh_tokens,
                               "max_cursors": cursors.limit,
                               "max_replication_ids": org.max_replication_ids})


class ControlError(Exception):
    """A control call failed; `status` and the decoded `body` say why."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class ControlClient:
    """Calls `/__emulator__/` over HTTPS with the standard library (usable out of process)."""

    def __init__(self, base_url: str, ca_path: str | Path) -> None:
        self.base_url = base_url.rstrip("/")
        self._context = ssl.create_default_context(cafile=str(ca_path))

    def call(self, method: str, path: str, payload: Any = None, **params: Any) -> Any:
        url = f"{self.base_url}/__emulator__/{path}"
        query = {k: str(v).lower() if isinstance(v, bool) else v
                 for k, v in params.items() if v is not None}
        if query:
            url += "?" + urlencode(query)
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, context=self._context, timeout=120) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            raise ControlError(error.code, json.loads(raw) if raw else None) from None

    def reset(self) -> None:
        self.call("POST", "reset")

    def seed(self, spec: str | int = "demo", rng_seed: int | None = None,
             seed_now: str | None = None) -> dict[str, int]:
        return self.call("POST", "seed", {"spec": spec, "rng_seed": rng_seed,
                                          "seed_now": seed_now})

    def records(self, sobject: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        return self.call("GET", f"records/{sobject}", include_deleted=include_deleted)["records"]

    def record(self, sobject: str, record_id: str) -> dict[str, Any]:
        return self.call("GET", f"records/{sobject}/{record_id}")

    def insert(self, sobject: str, *rows: dict[str, Any], load: bool = False) -> list[str]:
        return self.call("POST", f"records/{sobject}", list(rows), load=load or None)["ids"]

    def update(self, sobject: str, record_id: str, fields: dict[str, Any],
               raw: bool = False) -> None:
        self.call("PATCH", f"records/{sobject}/{record_id}", fields, raw=raw or None)

    def delete(self, sobject: str, record_id: str, hard: bool = False) -> None:
        self.call("DELETE", f"records/{sobject}/{record_id}", hard=hard or None)

    def undelete(self, record_id: str) -> None:
        self.call("POST", f"undelete/{record_id}")

    def convert_lead(self, lead_id: str, **options: Any) -> dict[str, str | None]:
        return self.call("POST", f"convert-lead/{quote(lead_id)}", options)

    def counters(self) -> dict[str, int]:
        return self.call("GET", "counters")["counters"]

    def clear_counters(self) -> None:
        self.call("DELETE", "counters")

    def usage(self) -> dict[str, Any]:
        return self.call("GET", "limits")

    def set_limits(self, **values: int) -> dict[str, Any]:
        return self.call("POST", "limits", values)

    def faults(self, **switches: Any) -> dict[str, Any]:
        return self.call("POST", "faults", switches)

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def clock(self, *, freeze: str | None = None, advance: float | None = None,
              unfreeze: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {"unfreeze": unfreeze}
        if freeze is not None:
            payload["freeze"] = freeze
        if advance is not None:
            payload["advance"] = advance
        return self.call("POST", "clock", payload)

    def session(self, login_host: str = "production") -> dict[str, Any]:
        return self.call("POST", "sessions", {"login_host": login_host})

    def sessions(self) -> dict[str, Any]:
        return self.call("GET", "sessions")

    def expire_sessions(self) -> int:
        return self.call("POST", "sessions/expire")["expired"]

    def settings(self, **values: Any) -> dict[str, Any]:
        return self.call("POST", "settings", values)

    def write_rules(self, **rules: Any) -> dict[str, Any]:
        """`duplicate_rules=[{"sobject", "fields", "action"}]`, `assignment={sobject: owner}`,
        `locked_records={id: times or None}`; each given switch is replaced."""
        return self.call("POST", "write-rules", rules)

    def received_headers(self) -> list[dict[str, Any]]:
        """The `Sforce-*` headers of recent API writes, one entry per record written."""
        return self.call("GET", "write-rules")["received"]
