"""Bulk API 2.0 through simple-salesforce's `sf.bulk2`, and raw where it has no method."""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceOperationError

from sfemulator import Emulator

from .conftest import Api, error_of

CSV_HEADERS = {"Content-Type": "text/csv"}


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def open_job(api: Api, body: bytes, **spec: Any) -> str:
    """Create an ingest job, upload `body` and close it; return the job id."""
    spec = {"object": "Contact", "operation": "insert", "contentType": "CSV", **spec}
    created = api("POST", "jobs/ingest", json=spec)
    assert created.status_code == 200, created.text
    assert created.json()["state"] == "Open"
    job_id = created.json()["id"]
    uploaded = api("PUT", f"jobs/ingest/{job_id}/batches", data=body, headers=CSV_HEADERS)
    assert uploaded.status_code == 201, uploaded.text
    closed = api("PATCH", f"jobs/ingest/{job_id}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    return job_id


def wait_job(api: Api, job_id: str, kind: str = "ingest") -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = api("GET", f"jobs/{kind}/{job_id}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} still {info['state']}")


def test_insert_reports_each_record(sf: Salesforce) -> None:
    [totals] = sf.bulk2.Contact.insert(
        records=[
            {"FirstName": "Zoë", "LastName": "O'Brien", "Email": "zoe@example.com"},
            {"FirstName": "Łukasz", "LastName": "", "Email": "lukasz@example.com"},
            {"FirstName": "太郎", "LastName": "田中", "Email": "not-an-email"},
            {"FirstName": "Jürgen", "LastName": 'Müller, "JM"', "Email": "jm@example.com"},
        ],
        wait=0,
    )
    assert totals["numberRecordsProcessed"] == 4
    assert totals["numberRecordsFailed"] == 2
    job_id = totals["job_id"]
    successes = rows_of(sf.bulk2.Contact.get_successful_records(job_id))
    assert [row["LastName"] for row in successes] == ["O'Brien", 'Müller, "JM"']
    assert all(row["sf__Created"] == "true" and len(row["sf__Id"]) == 18 for row in successes)
    failures = {
        row["FirstName"]: row for row in rows_of(sf.bulk2.Contact.get_failed_records(job_id))
    }
    assert failures["Łukasz"]["sf__Error"] == (
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    )
    assert failures["太郎"]["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:")
    assert failures["太郎"]["sf__Id"] == ""
    stored = sf.query("SELECT FirstName, LastName FROM Contact ORDER BY FirstName")["records"]
    assert [(r["FirstName"], r["LastName"]) for r in stored] == [
        ("Jürgen", 'Müller, "JM"'),
        ("Zoë", "O'Brien"),
    ]
    assert rows_of(sf.bulk2.Contact.get_unprocessed_records(job_id)) == []


def test_empty_cell_keeps_a_value_and_na_clears_it(sf: Salesforce) -> None:
    contact_id = sf.Contact.create({"LastName": "Keep", "Title": "CEO", "Phone": "555-0100"})["id"]
    [totals] = sf.bulk2.Contact.update(
        records=[{"Id": contact_id, "Title": "", "Phone": "#N/A", "Department": "Sales"}], wait=0
    )
    assert totals["numberRecordsFailed"] == 0
    record = sf.Contact.get(contact_id)
    assert (record["Title"], record["Phone"], record["Department"]) == ("CEO", None, "Sales")
    [success] = rows_of(sf.bulk2.Contact.get_successful_records(totals["job_id"]))
    assert (success["sf__Id"], success["sf__Created"]) == (contact_id, "false")


def test_update_without_id_and_of_a_missing_record_fail_per_record(sf: Salesforce) -> None:
    existing = sf.Contact.create({"LastName": "Here"})["id"]
    sf.Contact.delete(existing)
    [totals] = sf.bulk2.Contact.update(
        records=[
            {"Id": "", "Title": "x"},
            {"Id": existing, "Title": "y"},
        ],
        wait=0,
    )
    assert totals["numberRecordsFailed"] == 2
    errors = [
        row["sf__Error"] for row in rows_of(sf.bulk2.Contact.get_failed_records(totals["job_id"]))
    ]
    assert errors[0].startswith("MISSING_ARGUMENT:Id not specified")
    assert errors[1] == "ENTITY_IS_DELETED:entity is deleted:--"


def test_locked_records_fail_per_row_in_an_ingest_job(org: Emulator, sf: Salesforce) -> None:
    # The write rules' row locks hold for Bulk API 2.0 as for REST: the locked record, and a
    # new record naming a locked parent, fail UNABLE_TO_LOCK_ROW; the rest of the job is written.
    account = sf.Account.create({"Name": "Parent"})["id"]
    free, locked = (sf.Contact.create({"LastName": n})["id"] for n in ("Free", "Locked"))
    org.control.write_rules(locked_records={locked: 1, account: 1})
    [update] = sf.bulk2.Contact.update(records=[{"Id": free, "Title": "a"},
                                                {"Id": locked, "Title": "b"}], wait=0)
    [insert] = sf.bulk2.Contact.insert(records=[{"LastName": "Child", "AccountId": account}],
                                       wait=0)
    for totals in (update, insert):
        assert totals["numberRecordsFailed"] == 1
        [failed] = rows_of(sf.bulk2.Contact.get_failed_records(totals["job_id"]))
        assert failed["sf__Error"].startswith("UNABLE_TO_LOCK_ROW:unable to obtain exclusive")
    assert sf.Contact.get(free)["Title"] == "a" and sf.Contact.get(locked)["Title"] is None
    [again] = sf.bulk2.Contact.update(records=[{"Id": locked, "Title": "b"}], wait=0)
    assert again["numberRecordsFailed"] == 0 and sf.Contact.get(locked)["Title"] == "b"


def test_upsert_by_external_id(sf: Salesforce) -> None:
    sf.Contact.create({"LastName": "Old", "Forcebridge_Id__c": "p-1"})
    [totals] = sf.bulk2.Contact.upsert(
        records=[
            {"Forcebridge_Id__c": "p-1", "LastName": "Renamed"},
            {"Forcebridge_Id__c": "p-2", "LastName": "New"},
            {"Forcebridge_Id__c": "", "LastName": "Nobody"},
        ],
        external_id_field="Forcebridge_Id__c",
        wait=0,
    )
    assert (totals["numberRecordsProcessed"], totals["numberRecordsFailed"]) == (3, 1)
    created = {
        row["Forcebridge_Id__c"]: row["sf__Created"]
        for row in rows_of(sf.bulk2.Contact.get_successful_records(totals["job_id"]))
    }
    assert created == {"p-1": "false", "p-2": "true"}
    names = sf.query("SELECT LastName FROM Contact ORDER BY LastName")["records"]
    assert [r["LastName"] for r in names] == ["New", "Renamed"]


def test_delete_then_hard_delete(sf: Salesforce) -> None:
    ids = [sf.Contact.create({"LastName": f"D{i}"})["id"] for i in range(3)]
    [deleted] = sf.bulk2.Contact.delete(records=[{"Id": ids[0]}, {"Id": ids[1]}], wait=0)
    assert deleted["numberRecordsFailed"] == 0
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1
    gone = sf.query_all("SELECT Id FROM Contact WHERE IsDeleted = true", include_deleted=True)[
        "records"
    ]
    assert {r["Id"] for r in gone} == set(ids[:2])
    account = sf.Account.create({"Name": "Not a contact"})["id"]
    [hard] = sf.bulk2.Contact.hard_delete(
        records=[{"Id": ids[1]}, {"Id": ids[2]}, {"Id": account}], wait=0
    )
    assert hard["numberRecordsFailed"] == 1
    [failed] = rows_of(sf.bulk2.Contact.get_failed_records(hard["job_id"]))
    assert (failed["sf__Id"], failed["sf__Error"]) == (
        account,
        "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--",
    )
    remaining = sf.query_all("SELECT Id FROM Contact", include_deleted=True)["records"]
    assert [r["Id"] for r in remaining] == [ids[0]]
    # Deleting again: the recycle bin's record is deleted, the purged ones are no reference.
    [again] = sf.bulk2.Contact.delete(records=[{"Id": i} for i in ids], wait=0)
    errors = {row["sf__Id"]: row["sf__Error"]
              for row in rows_of(sf.bulk2.Contact.get_failed_records(again["job_id"]))}
    assert errors == {ids[0]: "ENTITY_IS_DELETED:entity is deleted:--",
                      **dict.fromkeys(ids[1:], "INVALID_CROSS_REFERENCE_KEY:invalid cross "
                                                "reference id:--")}


def test_query_pages_with_locator(org: Emulator, sf: Salesforce, api: Api) -> None:
    account = org.control.insert("Account", {"Name": "Acme, Inc."})[0]
    org.control.insert(
        "Contact",
        *[{"LastName": f"C{i:02d}", "AccountId": account if i % 2 else None} for i in range(25)],
        load=True,
    )
    pages = list(
        sf.bulk2.Contact.query(
            "SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName",
            max_records=10,
            wait=0,
        )
    )
    assert len(pages) == 3
    rows = [row for page in pages for row in rows_of(page)]
    assert [row["LastName"] for row in rows] == [f"C{i:02d}" for i in range(25)]
    assert rows[0]["Account.Name"] == "" and rows[1]["Account.Name"] == "Acme, Inc."
    assert pages[0].startswith('"Id","LastName","Account.Name"\n')
    # The raw headers simple-salesforce relies on.
    job_id = api(
        "POST", "jobs/query", json={"operation": "query", "query": "SELECT Id FROM Contact"}
    ).json()["id"]
    wait_job(api, job_id, "query")
    first = api("GET", f"jobs/query/{job_id}/results", params={"maxRecords": 20})
    assert first.headers["Sforce-NumberOfRecords"] == "20"
    last = api(
        "GET",
        f"jobs/query/{job_id}/results",
        params={"maxRecords": 20, "locator": first.headers["Sforce-Locator"]},
    )
    assert (last.headers["Sforce-NumberOfRecords"], last.headers["Sforce-Locator"]) == ("5", "null")


def test_query_results_are_a_snapshot_taken_at_completion(
    org: Emulator, sf: Salesforce, api: Api
) -> None:
    ids = [sf.Contact.create({"LastName": name, "Title": "Old"})["id"] for name in "ABC"]
    query = "SELECT Id, LastName, Title FROM Contact ORDER BY LastName"
    job_id = api("POST", "jobs/query", json={"operation": "query", "query": query}).json()["id"]
    assert wait_job(api, job_id, "query")["numberRecordsProcessed"] == 3
    sf.Contact.update(ids[0], {"Title": "New"})
    sf.Contact.delete(ids[1])
    org.control.delete("Contact", ids[2], hard=True)
    sf.Contact.create({"LastName": "D"})
    results = api("GET", f"jobs/query/{job_id}/results")
    assert results.headers["Sforce-NumberOfRecords"] == "3"
    assert [(row["LastName"], row["Title"]) for row in rows_of(results.text)] == [
        ("A", "Old"), ("B", "Old"), ("C", "Old")]


def test_query_all_includes_deleted_rows(sf: Salesforce) -> None:
    kept, deleted = (sf.Contact.create({"LastName": name})["id"] for name in ("Kept", "Gone"))
    sf.Contact.delete(deleted)
    query = "SELECT Id, IsDeleted, SystemModstamp FROM Contact ORDER BY LastName"
    live = [row for page in sf.bulk2.Contact.query(query, wait=0) for row in rows_of(page)]
    everything = [
        row for page in sf.bulk2.Contact.query_all(query, wait=0) for row in rows_of(page)
    ]
    assert [row["Id"] for row in live] == [kept]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["SystemModstamp"])
        for row in everything
    )
    assert [(row["Id"], row["IsDeleted"]) for row in everything] == [
        (deleted, "true"),
        (kept, "false"),
    ]


def test_abort_an_open_job(api: Api) -> None:
    job_id = api("POST", "jobs/ingest", json={"object": "Contact", "operation": "insert"}).json()[
        "id"
    ]
    api("PUT", f"jobs/ingest/{job_id}/batches", data=b"LastName\nA\n", headers=CSV_HEADERS)
    aborted = api("PATCH", f"jobs/ingest/{job_id}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    late = api("PATCH", f"jobs/ingest/{job_id}", json={"state": "UploadComplete"})
    assert error_of(late)[:2] == (400, "INVALIDJOBSTATE")
    upload = api("PUT", f"jobs/ingest/{job_id}/batches", data=b"LastName\nB\n", headers=CSV_HEADERS)
    assert upload.status_code == 400
    unprocessed = api("GET", f"jobs/ingest/{job_id}/unprocessedrecords/")
    assert rows_of(unprocessed.text) == [{"LastName": "A"}]


def test_fail_fault_fails_jobs(org: Emulator, sf: Salesforce, api: Api) -> None:
    org.control.faults(bulk_mode="fail")
    with pytest.raises(SalesforceOperationError, match="emulated fault"):
        sf.bulk2.Contact.insert(records=[{"LastName": "A"}, {"LastName": "B"}], wait=0)
    [job] = api("GET", "jobs/ingest").json()["records"]
    info = api("GET", f"jobs/ingest/{job['id']}").json()
    assert (info["state"], info["numberRecordsProcessed"]) == ("Failed", 0)
    assert "InternalServerError" in info["errorMessage"]
    unprocessed = rows_of(sf.bulk2.Contact.get_unprocessed_records(job["id"]))
    assert [row["LastName"] for row in unprocessed] == ["A", "B"]
    with pytest.raises(SalesforceOperationError):
        list(sf.bulk2.Contact.query("SELECT Id FROM Contact", wait=0))
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_hang_fault_leaves_jobs_in_progress_until_aborted(org: Emulator, api: Api) -> None:
    org.control.faults(bulk_mode="hang")
    job_id = open_job(api, b"LastName\nStuck\n")
    query_id = api(
        "POST", "jobs/query", json={"operation": "query", "query": "SELECT Id FROM Contact"}
    ).json()["id"]
    for _ in range(5):
        time.sleep(0.02)
        assert api("GET", f"jobs/ingest/{job_id}").json()["state"] == "InProgress"
        assert api("GET", f"jobs/query/{query_id}").json()["state"] == "InProgress"
    assert error_of(api("GET", f"jobs/query/{query_id}/results"))[:2] == (400, "INVALIDJOBSTATE")
    org.control.clear_faults()
    assert api("GET", f"jobs/ingest/{job_id}").json()["state"] == "InProgress"  # stuck for good
    aborted = api("PATCH", f"jobs/ingest/{job_id}", json={"state": "Aborted"}).json()
    assert aborted["state"] == "Aborted"
    assert rows_of(api("GET", f"jobs/ingest/{job_id}/unprocessedRecords").text) == [
        {"LastName": "Stuck"}
    ]
    org.control.reset()  # a reset forgets every job
    assert api("GET", f"jobs/ingest/{job_id}").status_code in (401, 404)


def test_unknown_field_fails_the_whole_job(sf: Salesforce) -> None:
    with pytest.raises(SalesforceOperationError, match="Field name not found : Nope__c"):
        sf.bulk2.Contact.insert(records=[{"LastName": "A", "Nope__c": "x"}], wait=0)


@pytest.mark.parametrize(
    ("body", "spec", "message"),
    [
        (b'LastName\n"unterminated\n', {}, "InvalidBatch : Failed to parse CSV"),
        (b"LastName,Email\nA\n", {}, "InvalidBatch : Wrong number of columns"),
        (
            b"LastName\r\nA\r\n",
            {},
            "LineEnding is invalid on user data. Current LineEnding setting is LF",
        ),
        (b"LastName\nA\n", {"lineEnding": "CRLF"}, "Current LineEnding setting is CRLF"),
        (
            b"Id,LastName\n003000000000001AAA,A\n",
            {"operation": "delete"},
            "Field name not found : LastName",
        ),
    ],
)
def test_unusable_upload_fails_the_job(api: Api, body: bytes, spec: dict, message: str) -> None:
    info = wait_job(api, open_job(api, body, **spec))
    assert info["state"] == "Failed"
    assert message in info["errorMessage"]


def test_other_delimiters_and_line_endings(api: Api, sf: Salesforce) -> None:
    job_id = open_job(
        api,
        b"LastName|Title\r\nPipe|VP, Sales\r\nSecond|\r\n",
        columnDelimiter="PIPE",
        lineEnding="CRLF",
    )
    assert wait_job(api, job_id)["numberRecordsProcessed"] == 2
    results = api("GET", f"jobs/ingest/{job_id}/successfulResults").text
    assert results.startswith('"sf__Id"|"sf__Created"|"LastName"|"Title"\r\n')
    titles = sf.query("SELECT Title FROM Contact ORDER BY LastName")["records"]
    assert [r["Title"] for r in titles] == ["VP, Sales", None]


@pytest.mark.parametrize(
    ("path", "spec", "status", "code"),
    [
        ("jobs/ingest", {"object": "Nope", "operation": "insert"}, 400, "INVALIDJOB"),
        ("jobs/ingest", {"object": "Contact", "operation": "merge"}, 400, "INVALIDJOB"),
        ("jobs/ingest", {"object": "Contact", "operation": "upsert"}, 400, "INVALIDJOB"),
        (
            "jobs/ingest",
            {"object": "Contact", "operation": "upsert", "externalIdFieldName": "Title"},
            400,
            "INVALIDJOB",
        ),
        (
            "jobs/ingest",
            {"object": "Contact", "operation": "insert", "columnDelimiter": "X"},
            400,
            "INVALIDJOB",
        ),
        (
            "jobs/query",
            {"operation": "query", "query": "SELECT FROM Contact"},
            400,
            "MALFORMED_QUERY",
        ),
        (
            "jobs/query",
            {"operation": "query", "query": "SELECT Nope FROM Contact"},
            400,
            "INVALID_FIELD",
        ),
        (
            "jobs/query",
            {"operation": "query", "query": "SELECT COUNT() FROM Contact"},
            400,
            "INVALIDJOB",
        ),
    ],
)
def test_bad_job_requests(api: Api, path: str, spec: dict, status: int, code: str) -> None:
    assert error_of(api("POST", path, json=spec))[:2] == (status, code)


def test_list_get_and_delete_jobs(api: Api) -> None:
    job_id = wait_job(api, open_job(api, b"LastName\nA\n"))["id"]
    listed = api("GET", "jobs/ingest").json()
    assert listed["done"] is True and [job["id"] for job in listed["records"]] == [job_id]
    assert api("GET", "jobs/query").json()["records"] == []
    assert api("GET", f"jobs/query/{job_id}").status_code == 404  # an ingest id is not a query
    assert api("DELETE", f"jobs/ingest/{job_id}").status_code == 204
    assert error_of(api("GET", f"jobs/ingest/{job_id}"))[:2] == (404, "NOT_FOUND")


def test_bulk_calls_use_the_bulk_quota(org: Emulator, api: Api, sf: Salesforce) -> None:
    before = sf.limits()["DailyBulkApiRequests"]["Remaining"]
    wait_job(api, open_job(api, b"LastName\nA\n"))
    after = sf.limits()["DailyBulkApiRequests"]["Remaining"]
    assert before - after >= 4  # create, upload, close, poll
    assert org.control.usage()["bulk_used"] == 15000 - after
