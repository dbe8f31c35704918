"""API request counters per endpoint kind and the org's daily limits."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from .errors import limit_exceeded

# Kinds that count against DailyBulkApiRequests as well as DailyApiRequests.
BULK_KINDS = frozenset(["bulk"])


class Usage:
    """Counts calls by kind; counted kinds also consume the daily API quota."""

    def __init__(self, daily_max: int = 15000, bulk_max: int = 15000) -> None:
        self._lock = threading.Lock()
        self.initial_max = (daily_max, bulk_max)
        # The daily max in force before a `limit_after` fault lowered it, to restore after.
        self._max_before_fault: int | None = None
        self.counters: Counter[str] = Counter()
        self.daily_used = 0
        self.daily_max = daily_max
        self.bulk_used = 0
        self.bulk_max = bulk_max

    def reset(self) -> None:
        with self._lock:
            self.counters.clear()
            self.daily_used = self.bulk_used = 0
            self.daily_max, self.bulk_max = self.initial_max
            self._max_before_fault = None

    def clear_counters(self) -> None:
        with self._lock:
            self.counters.clear()

    def count(self, kind: str) -> None:
        """Count a quota-consuming call; raise REQUEST_LIMIT_EXCEEDED when the quota is spent.

        A refused call is still counted by kind (so tests see it) but does not use quota.
        """
        with self._lock:
            self.counters[kind] += 1
            if self.daily_used >= self.daily_max:
                self.counters["refused"] += 1
                raise limit_exceeded()
            self.daily_used += 1
            if kind in BULK_KINDS:
                self.bulk_used += 1

    def note(self, kind: str) -> None:
        """Count a call that does not consume API quota (OAuth, versions, control)."""
        with self._lock:
            self.counters[kind] += 1

    def set_limits(self, payload: dict[str, Any]) -> None:
        """`{"max", "used", "bulk_max", "bulk_used"}`, each optional.

        A max given here replaces one a `limit_after` fault set, and ends that fault.
        """
        with self._lock:
            if "max" in payload:
                self._max_before_fault = None
            self.daily_max = int(payload.get("max", self.daily_max))
            self.daily_used = int(payload.get("used", self.daily_used))
            self.bulk_max = int(payload.get("bulk_max", self.bulk_max))
            self.bulk_used = int(payload.get("bulk_used", self.bulk_used))

    def limit_after(self, calls: int | None) -> None:
        """The `limit_after` fault: exactly `calls` more calls succeed, then the quota is spent.

        It sets the daily max to used + calls, so `limits/` and `Sforce-Limit-Info` agree with
        the refusals; None puts the max back as it was.
        """
        with self._lock:
            if calls is None:
                if self._max_before_fault is not None:
                    self.daily_max = self._max_before_fault
                self._max_before_fault = None
                return
            if self._max_before_fault is None:
                self._max_before_fault = self.daily_max
            self.daily_max = self.daily_used + max(0, int(calls))

    def calls_left(self) -> int | None:
        """Calls left before a `limit_after` fault refuses them; None when none is set."""
        with self._lock:
            if self._max_before_fault is None:
                return None
            return max(0, self.daily_max - self.daily_used)

    def header(self) -> str:
        """The `Sforce-Limit-Info` value."""
        with self._lock:
            return f"api-usage={self.daily_used}/{self.daily_max}"

    def limits_json(self) -> dict[str, Any]:
        """The `limits/` resource: the quotas Forcebridge reads, plus a few real neighbours."""
        with self._lock:
            return {
                "DailyApiRequests": {"Max": self.daily_max,
                                     "Remaining": max(0, self.daily_max - self.daily_used)},
                "DailyBulkApiRequests": {"Max": self.bulk_max,
                                         "Remaining": max(0, self.bulk_max - self.bulk_used)},
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                "DailyBulkV2QueryFileStorageMB": {"Max": 1048576, "Remaining": 1048576},
                "DataStorageMB": {"Max": 5, "Remaining": 5},
                "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            }

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"counters": dict(self.counters), "daily_used": self.daily_used,
                    "daily_max": self.daily_max, "bulk_used": self.bulk_used,
                    "bulk_max": self.bulk_max}
