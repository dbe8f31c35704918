"""Write paths as strict as Salesforce's: values, lookups, converted leads, duplicate and
assignment rules, row locks. Codes are those of the SOAP API Developer Guide's `StatusCode`
list, which REST and sObject Collections report (REST API Developer Guide, "Status Codes and
Error Responses"); each test names the section its behaviour comes from.
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfemulator import Emulator

from .conftest import Api
from .test_bulk import rows_of


def _refused(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        call(*args, **kwargs)
    return caught.value.content[0]


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"Name": "O", "CloseDate": "2030-01-01", "StageName": "Dreaming"},
     "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "StageName"),
    ({"Name": "x" * 121, "CloseDate": "2030-01-01", "StageName": "Prospecting"},
     "STRING_TOO_LONG", "Name"),
    ({"Name": "O", "CloseDate": "2030-01-01", "StageName": "Prospecting", "Probability": "hi"},
     "JSON_PARSER_ERROR", "Probability"),
    ({"Name": "O", "CloseDate": "2030-01-01", "StageName": "Prospecting",
      "AccountId": "not-an-id"}, "MALFORMED_ID", "AccountId"),
    ({"Name": "O", "CloseDate": "2030-01-01", "StageName": "Prospecting",
      "AccountId": "001000000000001AAA"}, "INVALID_CROSS_REFERENCE_KEY", "AccountId"),
])
def test_bad_values_are_refused(sf: Salesforce, fields: dict[str, Any], code: str,
                                field: str) -> None:
    error = _refused(sf.Opportunity.create, fields)
    assert (error["errorCode"], error["fields"]) == (code, [field])


def test_restricted_picklist_message_and_type_errors(sf: Salesforce) -> None:
    # Restricted picklists: "<label>: bad value for restricted picklist field: <value>".
    error = _refused(sf.Case.create, {"Status": "Sleeping"})
    assert error["message"] == "Status: bad value for restricted picklist field: Sleeping"
    # A fraction for an integer field: INVALID_TYPE_ON_FIELD_IN_RECORD.
    error = _refused(sf.Account.create, {"Name": "A", "NumberOfEmployees": 1.5})
    assert (error["errorCode"], error["message"]) == (
        "INVALID_TYPE_ON_FIELD_IN_RECORD", "Number Of Employees: value not of required type: 1.5")
    # A lookup given an id of the wrong object: FIELD_INTEGRITY_EXCEPTION.
    case_id = sf.Case.create({"Subject": "S"})["id"]
    error = _refused(sf.Contact.create, {"LastName": "C", "AccountId": case_id})
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_converted_lead_refuses_updates_and_names_its_contact(org: Emulator,
                                                              sf: Salesforce) -> None:
    # Lead conversion: a converted lead cannot be updated (CANNOT_UPDATE_CONVERTED_LEAD) and
    # ConvertedContactId, read-only, says where the person went.
    lead_id = sf.Lead.create({"LastName": "L", "Company": "Co"})["id"]
    converted = org.control.convert_lead(lead_id)
    error = _refused(sf.Lead.update, lead_id, {"Title": "CEO"})
    assert error["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    row = sf.query(f"SELECT ConvertedContactId, IsConverted FROM Lead WHERE Id = '{lead_id}'")
    assert row["records"][0]["ConvertedContactId"] == converted["contactId"]
    describe = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    assert describe["ConvertedContactId"]["updateable"] is False


def test_duplicate_rule_and_allow_save_header(org: Emulator, sf: Salesforce, api: Api) -> None:
    # Duplicate Management: an active rule fails the write with DUPLICATES_DETECTED; the
    # Duplicate Rule Header's allowSave=true saves it past an "allow" (alert) rule.
    org.control.write_rules(duplicate_rules=[{"sobject": "Contact", "fields": ["Email"]}])
    sf.Contact.create({"LastName": "One", "Email": "dup@example.com"})
    error = _refused(sf.Contact.create, {"LastName": "Two", "Email": "DUP@example.com"})
    assert (error["errorCode"], error["message"]) == ("DUPLICATES_DETECTED",
                                                     "Use one of these records?")
    allowed = api("POST", "sobjects/Contact", json={"LastName": "Two", "Email": "dup@example.com"},
                  headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"})
    assert allowed.status_code == 201
    org.control.write_rules(duplicate_rules=[{"sobject": "Contact", "fields": ["Email"],
                                              "action": "block"}])
    blocked = api("POST", "sobjects/Contact", json={"LastName": "3", "Email": "dup@example.com"},
                  headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"})
    assert blocked.json()[0]["errorCode"] == "DUPLICATES_DETECTED"


def test_auto_assign_header_is_honoured_and_recorded(org: Emulator, api: Api) -> None:
    # Assignment Rule Header: Sforce-Auto-Assign defaults to TRUE; FALSE keeps the owner.
    [queue_user] = org.control.insert("User", {"Username": "queue@example.com",
                                               "LastName": "Queue", "Email": "q@example.com"})
    org.control.write_rules(assignment={"Lead": queue_user})
    assigned = api("POST", "sobjects/Lead", json={"LastName": "A", "Company": "C"}).json()["id"]
    kept = api("POST", "sobjects/Lead", json={"LastName": "B", "Company": "C"},
               headers={"Sforce-Auto-Assign": "FALSE"}).json()["id"]
    owners = {r["Id"]: r["OwnerId"] for r in org.control.records("Lead")}
    assert owners[assigned] == queue_user and owners[kept] != queue_user
    received = {r["id"]: r["Sforce-Auto-Assign"] for r in org.control.received_headers()}
    assert received == {assigned: None, kept: "FALSE"}


def test_locked_records_fail_per_record_in_a_batch(org: Emulator, sf: Salesforce) -> None:
    # UNABLE_TO_LOCK_ROW for the chosen records (and children naming them) only; the rest of
    # the sObject Collections call is written, and a retry succeeds once the lock is gone.
    account = sf.Account.create({"Name": "Parent"})["id"]
    free, locked = (sf.Contact.create({"LastName": n})["id"] for n in ("Free", "Locked"))
    org.control.write_rules(locked_records={locked: 1, account: 1})
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "id": free, "Title": "ok"},
        {"attributes": {"type": "Contact"}, "id": locked, "Title": "no"}]})
    assert [r["success"] for r in results] == [True, False]
    assert results[1]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    child = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Contact"}, "LastName": "Kid", "AccountId": account}]})
    assert child[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    sf.Contact.update(locked, {"Title": "retried"})
    assert sf.Contact.get(locked)["Title"] == "retried"


def test_lookup_by_external_id_in_json_and_csv(sf: Salesforce, api: Api) -> None:
    # REST API Developer Guide, "Insert an sObject Record with a Lookup by External ID" and
    # Bulk API 2.0 Developer Guide, "Relationship Fields in a Header Row" (Account.Ext__c).
    account = sf.Account.create({"Name": "Ext", "Forcebridge_Id__c": "acc-1"})["id"]
    created = sf.Contact.create({"LastName": "J", "Account": {"Forcebridge_Id__c": "acc-1"}})
    assert sf.Contact.get(created["id"])["AccountId"] == account
    error = _refused(sf.Contact.create, {"LastName": "J",
                                         "Account": {"Forcebridge_Id__c": "nope"}})
    assert (error["errorCode"], error["message"]) == (
        "INVALID_FIELD", "Foreign key external ID: nope not found for field Forcebridge_Id__c "
        "in entity Account")
    [job] = sf.bulk2.Contact.insert(records=[
        {"LastName": "Csv", "Account.Forcebridge_Id__c": "acc-1"},
        {"LastName": "Lost", "Account.Forcebridge_Id__c": "missing"}], wait=0)
    assert job["numberRecordsFailed"] == 1
    [failed] = rows_of(sf.bulk2.Contact.get_failed_records(job["job_id"]))
    assert failed["sf__Error"].startswith("INVALID_FIELD:Foreign key external ID: missing")
    rows = sf.query("SELECT AccountId FROM Contact WHERE LastName = 'Csv'")["records"]
    assert rows[0]["AccountId"] == account
