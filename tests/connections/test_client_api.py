"""The client's API against the emulator: queries, describe cache, collections, bulk, quoting."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests

from connections.bulk_api import _csv_rows, _ingest_result
from connections.client import SalesforceClient, format_soql, soql_quote
from connections.errors import SalesforceRejected, Transient
from connections.models import SchemaCache

pytestmark = pytest.mark.django_db


def test_soql_quoting_goes_through_simple_salesforce():
    assert soql_quote("O'Brien \\ \"x\"\n") == "'O\\'Brien \\\\ \\\"x\\\"\\n'"
    assert soql_quote(None) == "null"
    assert soql_quote(True) == "true"
    assert soql_quote(dt.date(2021, 9, 1)) == "2021-09-01"
    assert format_soql("SELECT Id FROM Lead WHERE Email = {} AND Name IN {}",
                       "a'b@x.io", ["x", "y"]) == (
        "SELECT Id FROM Lead WHERE Email = 'a\\'b@x.io' AND Name IN ('x','y')")


def test_query_pages_nests_parents_and_strips_attributes(emulator, sf_client):
    (account,) = emulator.control.insert("Account", {"Name": "Acme"})
    emulator.control.insert("Contact", {"LastName": "Lovelace", "AccountId": account},
                            {"LastName": "Orphan"})
    injected = "Lovelace' OR LastName != '"
    assert list(sf_client.query_pages(format_soql(
        "SELECT Id FROM Contact WHERE LastName = {}", injected))) == [[]]

    (page,) = sf_client.query_pages(
        "SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName")
    assert [(r["LastName"], r["Account"]) for r in page] == [
        ("Lovelace", {"Name": "Acme"}), ("Orphan", None)]
    assert all("attributes" not in r for r in page)
    assert sf_client.count("SELECT COUNT() FROM Contact") == 2


def test_query_all_includes_deleted_rows(emulator, sf_client):
    (gone,) = emulator.control.insert("Account", {"Name": "Gone"})
    emulator.control.delete("Account", gone)
    assert list(sf_client.query_pages("SELECT Id FROM Account")) == [[]]
    (page,) = sf_client.query_pages("SELECT Id, IsDeleted FROM Account", include_deleted=True)
    assert page == [{"Id": gone, "IsDeleted": True}]


def test_describe_is_cached_per_connection(emulator, connection, sf_client):
    first = sf_client.describe("Account")
    assert {"Id", "Name", "Forcebridge_Id__c"} <= {f["name"] for f in first["fields"]}
    again = SalesforceClient.for_connection(connection).describe("Account")
    assert again == first
    assert emulator.control.counters()["describe"] == 1
    sf_client.describe("Account", refresh=True)
    assert emulator.control.counters()["describe"] == 2

    objects = sf_client.describe_global()["sobjects"]
    assert {"Account", "Contact", "Lead"} <= {o["name"] for o in objects}
    assert SchemaCache.objects.filter(connection=connection).count() == 2


def test_describe_expires_after_the_ttl(emulator, sf_client, settings):
    settings.SALESFORCE_DESCRIBE_TTL = 0
    sf_client.describe("Lead")
    sf_client.describe("Lead")
    assert emulator.control.counters()["describe"] == 2


def test_bad_object_names_never_reach_a_url(emulator, sf_client):
    with pytest.raises(SalesforceRejected, match="not a valid API name"):
        sf_client.describe("../limits")
    assert sf_client.api_calls == 0


def test_collection_create_update_upsert_delete(emulator, sf_client):
    created = sf_client.collection("create", "Account", [{"Name": "A"}, {"Name": None}])
    assert created[0]["success"] and created[0]["id"].startswith("001")
    assert not created[1]["success"]
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"

    account = created[0]["id"]
    updated = sf_client.collection("update", "Account", [{"Id": account, "Name": "A2"}])
    assert updated == [{"id": account, "success": True, "errors": []}]

    upserted = sf_client.collection("upsert", "Account",
                                    [{"Forcebridge_Id__c": "hub-1", "Name": "Hub"}],
                                    external_id_field="Forcebridge_Id__c")
    assert upserted[0]["success"] and upserted[0]["created"] is True

    deleted = sf_client.collection("delete", "Account", [{"Id": account}])
    assert deleted[0]["success"]
    assert sorted(r["Name"] for r in emulator.control.records("Account")) == ["Hub"]


def test_collection_chunks_by_200_and_keeps_order(emulator, sf_client):
    records = [{"Name": f"N{n}"} for n in range(450)]
    records[321]["Name"] = None
    results = sf_client.collection("create", "Account", records)
    assert len(results) == 450
    assert [n for n, r in enumerate(results) if not r["success"]] == [321]
    assert emulator.control.counters()["composite"] == 3


def test_collection_all_or_none_rolls_back(emulator, sf_client):
    results = sf_client.collection("create", "Account", [{"Name": "A"}, {"Name": None}],
                                   all_or_none=True)
    assert [r["success"] for r in results] == [False, False]
    assert emulator.control.records("Account") == []


def test_get_updated_and_deleted(emulator, sf_client):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    (kept, gone) = emulator.control.insert("Account", {"Name": "Kept"}, {"Name": "Gone"})
    emulator.control.delete("Account", gone)
    # Salesforce lists changes only up to latestDateCovered, a whole minute in the past.
    emulator.control.clock(advance=61)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert kept in sf_client.get_updated("Account", start, end)["ids"]
    deleted = sf_client.get_deleted("Account", start, end)["deletedRecords"]
    assert [d["id"] for d in deleted] == [gone]
    with pytest.raises(ValueError, match="timezone-aware"):
        sf_client.get_updated("Account", start.replace(tzinfo=None), end)


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


def test_identity_and_limits(emulator, connection, sf_client):
    identity = sf_client.identity()
    assert identity["organization_id"] == connection.org_id
    assert identity["username"] == connection.username
    assert sf_client.limits()["DailyApiRequests"]["Max"] == 15000
