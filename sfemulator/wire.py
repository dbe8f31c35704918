"""Transport-neutral request and response objects passed between the server and the handlers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .errors import ApiError

SANDBOX_HOST = "localhost"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    host: str
    secure: bool

    @classmethod
    def build(cls, method: str, target: str, headers: Mapping[str, str], body: bytes,
              secure: bool) -> Request:
        """`headers` keys must already be lower-case. The path stays percent-encoded."""
        path, _, raw_query = target.partition("?")
        raw_host = headers.get("host", "")
        # Strip the port of `name:port`; bracketed IPv6 hosts have more colons and stay whole.
        host = raw_host.rsplit(":", 1)[0] if raw_host.count(":") == 1 else raw_host
        return cls(method.upper(), path, dict(parse_qsl(raw_query, keep_blank_values=True)),
                   headers, body, host.lower(), secure)

    @property
    def login_host(self) -> str:
        """Which login server this request reached: `localhost` is the sandbox host."""
        return "sandbox" if self.host == SANDBOX_HOST else "production"

    def json(self) -> Any:
        """The body parsed as JSON, or Salesforce's JSON_PARSER_ERROR."""
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ApiError(400, "JSON_PARSER_ERROR",
                           f"Unexpected character in request body: {error}") from None

    def form(self) -> dict[str, str]:
        """A form-encoded body (OAuth), merged over nothing: query strings do not count."""
        try:
            return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return {}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json;charset=UTF-8",
                                   **(headers or {})})


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(error.status, error.as_json(), headers)


def html_response(status: int, html: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, html.encode("utf-8"),
                    {"Content-Type": "text/html;charset=UTF-8", **(headers or {})})


def redirect(location: str) -> Response:
    return Response(302, b"", {"Location": location, "Cache-Control": "no-store"})
