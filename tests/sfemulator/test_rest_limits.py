"""`GET /limits` and the version resource directory, as a real Enterprise Edition org answers."""

from __future__ import annotations

from simple_salesforce import Salesforce

from sfemulator import Emulator

from .conftest import Api
from .test_bulk import open_job, wait_job

# REST API Developer Guide, "List Org Limits": the keys every current org lists.
REQUIRED = {"DailyApiRequests", "DailyBulkApiBatches", "DailyBulkV2QueryJobs",
            "DailyBulkV2QueryFileStorageMB", "DataStorageMB", "FileStorageMB",
            "DailyAsyncApexExecutions", "ConcurrentAsyncGetReportInstances",
            "HourlyPublishedPlatformEvents", "SingleEmail", "MassEmail", "PermissionSets"}


def test_limits_lists_every_key_with_consistent_values(sf: Salesforce) -> None:
    limits = sf.limits()
    assert REQUIRED <= set(limits)
    for name, value in limits.items():
        assert set(value) == {"Max", "Remaining"}, name
        assert 0 <= value["Remaining"] <= value["Max"], name


def test_bulk_jobs_use_their_allocations(org: Emulator, sf: Salesforce, api: Api) -> None:
    # Bulk API 2.0 Developer Guide, "Limits": only ingest jobs consume batches (one per 10,000
    # records); each query job counts against DailyBulkV2QueryJobs.
    before = sf.limits()
    wait_job(api, open_job(api, b"LastName\nA\nB\n"))
    created = api("POST", "jobs/query", json={"operation": "query",
                                               "query": "SELECT Id FROM Contact"})
    assert created.status_code == 200
    after = sf.limits()
    for name, spent in (("DailyBulkApiBatches", 1), ("DailyBulkV2QueryJobs", 1)):
        assert before[name]["Remaining"] - after[name]["Remaining"] == spent, name
    assert after["DailyApiRequests"]["Remaining"] < before["DailyApiRequests"]["Remaining"]


def test_version_resources_name_the_identity_url(org: Emulator, api: Api) -> None:
    # REST API Developer Guide, "Resources by Version": the directory includes `identity`.
    resources = api("GET", "").json()
    health = org.control.call("GET", "health")
    assert resources["identity"] == (
        f"{org.login_url}/id/{health['org_id']}/{health['user_id']}")
    assert resources["composite"] == "/services/data/v59.0/composite"
