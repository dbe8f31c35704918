"""API request counters per endpoint kind and the org's daily limits."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from .errors import limit_exceeded

# Kinds that count against DailyBulkApiRequests as well as DailyApiRequests.
BULK_KINDS = frozenset(["bulk"])
QUERY_JOBS_MAX = 10000
QUERY_FILE_STORAGE_MB = 976562
DATA_STORAGE_MB = 10240  # Enterprise Edition: 10 GB per org before per-user additions
# The rest of what an Enterprise Edition org's `limits/` lists, with a fresh org's Max
# (REST API Developer Guide, "List Org Limits"); nothing in the emulator consumes them.
_UNUSED_LIMITS_TABLE = """
AnalyticsExternalDataSizeMB 40960
ConcurrentAsyncGetReportInstances 200
ConcurrentEinsteinDataInsightsStoryCreation 5
ConcurrentEinsteinDiscoveryStoryCreation 2
ConcurrentSyncReportRuns 20
DailyAnalyticsDataflowJobExecutions 60
DailyAnalyticsUploadedFilesSizeMB 51200
DailyAsyncApexExecutions 250000
DailyAsyncApexTests 500
DailyDeliveredPlatformEvents 50000
DailyDurableGenericStreamingApiEvents 1000000
DailyDurableStreamingApiEvents 1000000
DailyEinsteinDataInsightsStoryCreation 1000
DailyEinsteinDiscoveryPredictAPICalls 50000
DailyEinsteinDiscoveryPredictionsByCDC 5000000
DailyEinsteinDiscoveryStoryCreation 100
DailyFunctionsApiCallLimit 235000
DailyGenericStreamingApiEvents 10000
DailyStandardVolumePlatformEvents 10000
DailyStreamingApiEvents 1000000
DailyWorkflowEmails 390000
DurableStreamingApiConcurrentClients 1000
FileStorageMB 10240
HourlyAsyncReportRuns 1200
HourlyDashboardRefreshes 200
HourlyDashboardResults 5000
HourlyDashboardStatuses 999999999
HourlyLongTermIdMapping 100000
HourlyManagedContentPublicRequests 50000
HourlyODataCallout 20000
HourlyPublishedPlatformEvents 250000
HourlyPublishedStandardVolumePlatformEvents 1000
HourlyShortTermIdMapping 100000
HourlySyncReportRuns 500
HourlyTimeBasedWorkflow 1000
MassEmail 5000
MonthlyEinsteinDiscoveryStoryCreation 500
MonthlyPlatformEventsUsageEntitlement 0
Package2VersionCreates 0
Package2VersionCreatesWithoutValidation 0
PermissionSets 1500
PlatformEventTriggersWithParallelProcessing 5
PrivateConnectOutboundCalloutHourlyLimitMB 0
SingleEmail 5000
StreamingApiConcurrentClients 1000
"""
_UNUSED_LIMITS = {name: int(maximum) for name, maximum in
                  (line.split() for line in _UNUSED_LIMITS_TABLE.strip().splitlines())}


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
        # Bulk API 2.0: ingest jobs use batches (one per 10,000 records), query jobs their own.
        self.batches_used = 0
        self.query_jobs_used = 0

    def reset(self) -> None:
        with self._lock:
            self.counters.clear()
            self.daily_used = self.bulk_used = self.batches_used = self.query_jobs_used = 0
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

    def count_bulk_work(self, batches: int = 0, query_jobs: int = 0) -> None:
        """An ingest job's internal batches, or a query job, against the Bulk API allocations."""
        with self._lock:
            self.batches_used += batches
            self.query_jobs_used += query_jobs

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

    def limits_json(self, data_storage_mb_used: int = 0) -> dict[str, Any]:
        """The `limits/` resource: every key an Enterprise Edition org lists, Max >= Remaining.

        DailyBulkApiRequests (the name before DailyBulkApiBatches) still counts Bulk HTTP calls;
        a real org of the current release lists only DailyBulkApiBatches.
        """
        def pair(maximum: int, used: int) -> dict[str, int]:
            return {"Max": maximum, "Remaining": max(0, maximum - used)}

        with self._lock:
            measured = {
                "DailyApiRequests": pair(self.daily_max, self.daily_used),
                "DailyBulkApiBatches": pair(self.bulk_max, self.batches_used),
                "DailyBulkApiRequests": pair(self.bulk_max, self.bulk_used),
                "DailyBulkV2QueryFileStorageMB": pair(QUERY_FILE_STORAGE_MB, 0),
                "DailyBulkV2QueryJobs": pair(QUERY_JOBS_MAX, self.query_jobs_used),
                "DataStorageMB": pair(DATA_STORAGE_MB, data_storage_mb_used),
            }
        limits = {name: pair(maximum, 0) for name, maximum in _UNUSED_LIMITS.items()}
        limits.update(measured)
        return dict(sorted(limits.items()))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"counters": dict(self.counters), "daily_used": self.daily_used,
                    "daily_max": self.daily_max, "bulk_used": self.bulk_used,
                    "bulk_max": self.bulk_max, "batches_used": self.batches_used,
                    "query_jobs_used": self.query_jobs_used}
