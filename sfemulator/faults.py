"""Fault injection: failures, latency and Bulk misbehaviour that tests switch on.

The REST layer asks `take_failure(kind)` after counting a call (an injected failure is a
counted call, as a real 5xx is), the OAuth token endpoint does too (uncounted, as token calls
are), and bulk.py reads `bulk_mode`. The `limit_after` switch is not here: it lowers the daily
quota (`Usage.limit_after`). Everything is cleared by `Org.reset()`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

BULK_MODES = (None, "fail", "hang")
_FAILURES = {
    500: ("UNKNOWN_EXCEPTION",
          "An unexpected error occurred. Please include this ErrorId if you contact support: "
          "1203417760-4242 (-1108279874)"),
    502: ("SERVER_UNAVAILABLE", "Bad gateway"),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."),
}
_LOCK_MESSAGE = "unable to obtain exclusive access to this record or 1 records: {}"


@dataclass
class FailRule:
    """Fail the next `remaining` calls (of `kinds`, or of any API kind) with one error."""

    remaining: int
    status: int
    error_code: str
    message: str
    kinds: frozenset[str] | None

    def as_json(self) -> dict[str, Any]:
        return {"remaining": self.remaining, "status": self.status, "errorCode": self.error_code,
                "message": self.message, "kinds": sorted(self.kinds) if self.kinds else None}


class Faults:
    """The switches; every method is thread-safe because handler threads consult them."""

    SWITCHES = frozenset(["latency_ms", "bulk_mode", "fail_next"])

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.bulk_mode: str | None = None
        self.latency_ms = 0
        self.fail: FailRule | None = None

    def reset(self) -> None:
        with self._lock:
            self.bulk_mode = None
            self.latency_ms = 0
            self.fail = None

    def take_failure(self, kind: str) -> ApiError | None:
        """Consume one scheduled failure if it applies to this kind of call."""
        with self._lock:
            rule = self.fail
            if rule is None or (rule.kinds is not None and kind not in rule.kinds):
                return None
            rule.remaining -= 1
            if rule.remaining <= 0:
                self.fail = None
        return ApiError(rule.status, rule.error_code, rule.message)

    def configure(self, payload: Mapping[str, Any]) -> None:
        """Apply a control-API payload; unknown keys are an error so typos do not pass silently.

        Keys: `latency_ms`, `bulk_mode`, and `fail_next` =
        `{"count", "status" (500/502/503/400), "error_code", "message", "kinds"}`; a status of
        400 with no error_code means UNABLE_TO_LOCK_ROW. `null` switches a fault off.
        """
        unknown = set(payload) - self.SWITCHES
        if unknown:
            raise ValueError(f"unknown fault switches: {', '.join(sorted(unknown))}")
        with self._lock:
            if "latency_ms" in payload:
                self.latency_ms = max(0, int(payload["latency_ms"] or 0))
            if "bulk_mode" in payload:
                if payload["bulk_mode"] not in BULK_MODES:
                    raise ValueError(f"bulk_mode must be one of {BULK_MODES}")
                self.bulk_mode = payload["bulk_mode"]
            if "fail_next" in payload:
                self.fail = _fail_rule(payload["fail_next"])

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"latency_ms": self.latency_ms, "bulk_mode": self.bulk_mode,
                    "fail_next": self.fail.as_json() if self.fail else None}


def _fail_rule(spec: Mapping[str, Any] | None) -> FailRule | None:
    if spec is None:
        return None
    count = int(spec.get("count", 1))
    status = int(spec.get("status", 503))
    error_code = spec.get("error_code")
    if error_code is None and status == 400:
        error_code = "UNABLE_TO_LOCK_ROW"
    if error_code == "UNABLE_TO_LOCK_ROW":
        default_message = _LOCK_MESSAGE.format("001000000000000AAA")
    elif status in _FAILURES:
        error_code = error_code or _FAILURES[status][0]
        default_message = _FAILURES[status][1]
    elif error_code is None:
        raise ValueError(f"fail_next needs an error_code for status {status}")
    else:
        default_message = error_code.replace("_", " ").lower()
    kinds = spec.get("kinds")
    return FailRule(count, status, str(error_code), str(spec.get("message") or default_message),
                    frozenset(kinds) if kinds else None) if count > 0 else None
