"""sObject Collections: create, update, delete, upsert, retrieve; allOrNone rollback."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfemulator import Emulator

from .conftest import Api, error_of

ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "message": "Record rolled back because not all records were valid and the "
                          "request was using AllOrNone header", "fields": []}


def _collections(sf: Salesforce, method: str, payload: dict[str, Any],
                 path: str = "composite/sobjects") -> list[dict[str, Any]]:
    return sf.restful(path, method=method, json=payload)


def _contact(**fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Contact"}, **fields}


def test_create_in_order_with_partial_failure(sf: Salesforce) -> None:
    results = _collections(sf, "POST", {"allOrNone": False, "records": [
        _contact(LastName="A"), _contact(FirstName="no last name"), _contact(LastName="C")]})
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1] == {"success": False, "errors": [{
        "statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: "
        "[LastName]", "fields": ["LastName"]}]}
    assert results[0]["id"].startswith("003") and results[0]["errors"] == []
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_all_or_none_rolls_everything_back(sf: Salesforce) -> None:
    existing = sf.Contact.create({"LastName": "Keep", "Forcebridge_Id__c": "dup"})["id"]
    results = _collections(sf, "POST", {"allOrNone": True, "records": [
        _contact(LastName="A"), _contact(LastName="B", Forcebridge_Id__c="dup")]})
    assert results[0] == {"success": False, "errors": [ROLLED_BACK]}
    assert results[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    rows = sf.query("SELECT Id FROM Contact")["records"]
    assert [r["Id"] for r in rows] == [existing]


def test_update_all_or_none_restores_values(sf: Salesforce) -> None:
    first = sf.Contact.create({"LastName": "One", "Title": "Old"})["id"]
    second = sf.Contact.create({"LastName": "Two"})["id"]
    results = _collections(sf, "PATCH", {"allOrNone": True, "records": [
        _contact(id=first, Title="New"), _contact(id=second, LastName=None)]})
    assert results[0] == {"id": first, "success": False, "errors": [ROLLED_BACK]}
    assert results[1]["id"] == second
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.Contact.get(first)["Title"] == "Old"
    ok = _collections(sf, "PATCH", {"records": [_contact(id=first, Title="New")]})
    assert ok == [{"id": first, "success": True, "errors": []}]
    assert sf.Contact.get(first)["Title"] == "New"


def test_delete_by_ids(org: Emulator, sf: Salesforce, api: Api) -> None:
    ids = [sf.Contact.create({"LastName": n})["id"] for n in ("A", "B", "C")]
    sf.Contact.delete(ids[1])
    org.control.delete("Contact", ids[2], hard=True)
    reply = api("DELETE", "composite/sobjects", params={"ids": ",".join(ids),
                                                        "allOrNone": "false"})
    assert reply.status_code == 200
    results = reply.json()
    assert results[0] == {"id": ids[0], "success": True, "errors": []}
    assert results[1]["success"] is False
    # In the recycle bin: ENTITY_IS_DELETED; purged (or never there): no such reference.
    assert results[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert results[2]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert error_of(api("DELETE", f"sobjects/Contact/{ids[2]}"))[:2] == (404, "NOT_FOUND")
    rolled = api("DELETE", "composite/sobjects",
                 params={"ids": f"{ids[0]},nonsense", "allOrNone": "true"}).json()
    assert rolled[1]["errors"][0]["statusCode"] == "MALFORMED_ID"


def test_upsert_collection(sf: Salesforce) -> None:
    sf.Contact.create({"LastName": "Known", "Forcebridge_Id__c": "k-1"})
    results = _collections(sf, "PATCH", {"allOrNone": False, "records": [
        _contact(Forcebridge_Id__c="k-1", Title="Updated"),
        _contact(Forcebridge_Id__c="k-2", LastName="New"),
        _contact(Forcebridge_Id__c="k-3", FirstName="missing last name"),
    ]}, path="composite/sobjects/Contact/Forcebridge_Id__c")
    assert [(r["success"], r.get("created")) for r in results] == [
        (True, False), (True, True), (False, None)]
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    titles = sf.query("SELECT Forcebridge_Id__c, Title FROM Contact ORDER BY Forcebridge_Id__c")
    assert [(r["Forcebridge_Id__c"], r["Title"]) for r in titles["records"]] == [
        ("k-1", "Updated"), ("k-2", None)]


def test_retrieve_collection(sf: Salesforce, api: Api) -> None:
    contact_id = sf.Contact.create({"LastName": "R", "Email": "r@example.com"})["id"]
    reply = api("GET", "composite/sobjects/Contact",
                params={"ids": f"{contact_id},003000000000000AAA", "fields": "LastName,Email"})
    assert reply.json() == [{"attributes": {"type": "Contact", "url":
                                            f"/services/data/v59.0/sobjects/Contact/{contact_id}"},
                             "LastName": "R", "Email": "r@example.com"}, None]


def test_more_than_200_records_is_refused(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        _collections(sf, "POST", {"records": [_contact(LastName=str(i)) for i in range(201)]})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_record_without_type(sf: Salesforce) -> None:
    results = _collections(sf, "POST", {"records": [{"LastName": "typeless"}]})
    assert results[0]["errors"][0]["statusCode"] == "INVALID_TYPE"


def test_retrieve_many_by_post(sf: Salesforce, api: Api) -> None:
    # REST API Developer Guide, "sObject Collections Retrieve": POST {ids, fields} for id lists
    # too long for a URL; same answer as GET, null for an id that names no record.
    contact_id = sf.Contact.create({"LastName": "P", "Title": "CTO"})["id"]
    reply = api("POST", "composite/sobjects/Contact",
                json={"ids": [contact_id, "003000000000000AAA"], "fields": ["Title"]})
    assert reply.status_code == 200
    assert reply.json() == [{"attributes": {"type": "Contact", "url":
                                            f"/services/data/v59.0/sobjects/Contact/{contact_id}"},
                             "Title": "CTO"}, None]


def test_upsert_same_external_id_twice_fails_both(sf: Salesforce) -> None:
    # "sObject Collections Upsert": a call naming one external id twice fails both records
    # with DUPLICATE_VALUE; the other records are written.
    results = _collections(sf, "PATCH", {"records": [
        _contact(Forcebridge_Id__c="twice", LastName="First"),
        _contact(Forcebridge_Id__c="once", LastName="Alone"),
        _contact(Forcebridge_Id__c="TWICE", LastName="Second")]},
        path="composite/sobjects/Contact/Forcebridge_Id__c")
    assert [r["success"] for r in results] == [False, True, False]
    assert results[0]["errors"] == [{"statusCode": "DUPLICATE_VALUE", "message":
                                     "Duplicate external id specified: twice", "fields": []}]
    assert results[2]["errors"][0]["message"] == "Duplicate external id specified: TWICE"
    rows = sf.query("SELECT LastName FROM Contact")["records"]
    assert [r["LastName"] for r in rows] == ["Alone"]


def test_update_of_missing_id_is_a_cross_reference_error(sf: Salesforce) -> None:
    # "sObject Collections Update": a well-formed id naming no record is
    # INVALID_CROSS_REFERENCE_KEY on the write path (a GET of it stays 404 NOT_FOUND).
    results = _collections(sf, "PATCH", {"records": [
        _contact(id="003000000000000AAA", Title="Nobody")]})
    assert results == [{"id": "003000000000000AAA", "success": False, "errors": [{
        "statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid cross reference id",
        "fields": []}]}]
