"""Bulk API 2.0 through the client against the emulator: query and ingest jobs, CSV, job failures."""

from __future__ import annotations

import re

import pytest
import requests

from connections.bulk_api import _csv_rows, _ingest_result
from connections.errors import SalesforceRejected, Transient

pytestmark = pytest.mark.django_db


def test_bulk_query_yields_rest_shaped_pages(emulator, sf_client):
    (account,) = emulator.control.insert("Account", {"Name": "Acme, Inc."})
    emulator.control.insert("Contact", {"LastName": "Lovelace", "AccountId": account},
                            {"LastName": "Orphan"})
    pages = list(sf_client.bulk_query(
        "SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName"))
    rows = [r for page in pages for r in page]
    assert [(r["LastName"], r["Account"]) for r in rows] == [
        ("Lovelace", {"Name": "Acme, Inc."}), ("Orphan", None)]


def test_bulk_ingest_returns_every_record(emulator, sf_client):
    results = sf_client.bulk_ingest("Contact", "insert", [
        {"LastName": "Ok", "Email": "ok@example.com"},
        {"LastName": None, "Email": "bad@example.com"},
        {"LastName": "Partial"},
    ])
    ok = [r for r in results if r["success"]]
    failed = [r for r in results if not r["success"]]
    assert sorted(r["record"]["LastName"] for r in ok) == ["Ok", "Partial"]
    assert all(r["created"] and r["id"].startswith("003") for r in ok)
    assert len(failed) == 1
    assert failed[0]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert failed[0]["errors"][0]["fields"] == ["LastName"]
    assert failed[0]["record"]["Email"] == "bad@example.com"
    # A key absent from a row leaves the field alone; None would have written #N/A (null).
    stored = {r["LastName"]: r for r in emulator.control.records("Contact")}
    assert stored["Partial"]["Email"] is None


def test_bulk_upsert_by_external_id(emulator, sf_client):
    first = sf_client.bulk_ingest("Account", "upsert", [{"Forcebridge_Id__c": "x1", "Name": "A"}],
                                  external_id_field="Forcebridge_Id__c")
    again = sf_client.bulk_ingest("Account", "upsert", [{"Forcebridge_Id__c": "x1", "Name": "B"}],
                                  external_id_field="Forcebridge_Id__c")
    assert first[0]["created"] and not again[0]["created"]
    assert [r["Name"] for r in emulator.control.records("Account")] == ["B"]


def test_stuck_bulk_job_times_out_and_is_aborted(emulator, sf_client):
    emulator.control.faults(bulk_mode="hang")
    with pytest.raises(Transient, match="aborted it") as caught:
        list(sf_client.bulk_query("SELECT Id FROM Account", poll_timeout=0.5))
    job_id = re.search(r"bulk query job (\S+) still", str(caught.value)).group(1)
    job = sf_client.bulk_api.job("query", job_id)
    assert job["state"] == "Aborted"


def test_bulk_keeps_non_ascii_text(emulator, sf_client):
    names = ["Zoë Ørsted", "Łukasz Żółć", "山田 太郎", "Ærø €"]
    results = sf_client.bulk_ingest("Contact", "insert", [{"LastName": n} for n in names])
    assert sorted(r["record"]["LastName"] for r in results) == sorted(names)
    stored = sorted(r["LastName"] for r in emulator.control.records("Contact"))
    assert stored == sorted(names)
    rows = [r for page in sf_client.bulk_query("SELECT LastName FROM Contact") for r in page]
    assert sorted(r["LastName"] for r in rows) == sorted(names)


def test_bulk_csv_is_utf8_even_without_a_charset():
    # A `text/csv` answer with no charset: requests would guess ISO-8859-1 for `.text`.
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "text/csv"
    response._content = '"LastName"\n"Zoë Ørsted"\n'.encode()
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)  # as requests does
    assert response.text != '"LastName"\n"Zoë Ørsted"\n'
    assert [row["LastName"] for row in _csv_rows(response)] == ["Zoë Ørsted"]


@pytest.mark.parametrize(("error", "expected"), [
    ("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
     ("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"])),
    ("FIELD_CUSTOM_VALIDATION_EXCEPTION:Amount: must be positive:--",
     ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Amount: must be positive", [])),
    ("INVALID_FIELD:bad value: see docs",  # no ` --` suffix: no field list at all
     ("INVALID_FIELD", "bad value: see docs", [])),
    ("", ("UNPROCESSED", "the job ended before this record was processed", [])),
])
def test_bulk_result_errors_are_parsed(error, expected):
    kind = "unprocessedrecords" if not error else "failedResults"
    row = {"sf__Id": "", "Name": "x"} | ({"sf__Error": error} if error else {})
    (parsed,) = _ingest_result(kind, row)["errors"]
    assert (parsed["statusCode"], parsed["message"], parsed["fields"]) == expected


def test_failed_bulk_job_is_rejected(emulator, sf_client):
    emulator.control.faults(bulk_mode="fail")
    with pytest.raises(SalesforceRejected) as caught:
        sf_client.bulk_ingest("Account", "insert", [{"Name": "A"}])
    assert caught.value.error_code == "BULK_JOB_FAILED"


def test_session_expiring_during_a_bulk_job_is_refreshed(emulator, connection, sf_client):
    emulator.control.insert("Account", {"Name": "Acme"})
    emulator.control.expire_sessions()
    (page,) = sf_client.bulk_query("SELECT Name FROM Account")
    assert page == [{"Name": "Acme"}]
