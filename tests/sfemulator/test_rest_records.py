"""Single-record create/get/update/delete, validation errors, audit fields, upsert by external id."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from sfemulator import Emulator
from sfemulator.ids import to18

from .conftest import Api, error_of


def test_create_get_update_delete(sf: Salesforce, api: Api) -> None:
    created = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace",
                                 "Email": "ada@example.com"})
    assert created["success"] is True and created["errors"] == []
    contact_id = created["id"]
    assert len(contact_id) == 18 and contact_id.startswith("003")
    assert to18(contact_id[:15]) == contact_id
    record = sf.Contact.get(contact_id)
    assert record["attributes"] == {"type": "Contact",
                                    "url": f"/services/data/v59.0/sobjects/Contact/{contact_id}"}
    assert record["Name"] == "Ada Lovelace" and record["IsDeleted"] is False
    assert record["CreatedDate"] == record["SystemModstamp"]
    assert sf.Contact.update(contact_id, {"Title": "Analyst"}) == 204
    assert sf.Contact.get(contact_id[:15])["Title"] == "Analyst"  # 15-char ids work
    assert sf.Contact.delete(contact_id) == 204
    reply = api("GET", f"sobjects/Contact/{contact_id}")
    assert error_of(reply) == (404, "ENTITY_IS_DELETED", "entity is deleted")
    assert error_of(api("DELETE", f"sobjects/Contact/{contact_id}"))[:2] == (
        404, "ENTITY_IS_DELETED")


def test_get_with_fields_param(sf: Salesforce, api: Api) -> None:
    account_id = sf.Account.create({"Name": "Acme", "Industry": "Retail"})["id"]
    reply = api("GET", f"sobjects/Account/{account_id}", params={"fields": "Name,industry"})
    assert reply.json() == {"attributes": {"type": "Account", "url":
                                           f"/services/data/v59.0/sobjects/Account/{account_id}"},
                            "Name": "Acme", "Industry": "Retail"}
    bad = api("GET", f"sobjects/Account/{account_id}", params={"fields": "Nope"})
    assert error_of(bad) == (400, "INVALID_FIELD",
                             "No such column 'Nope' on sobject of type Account")


def test_missing_record_and_wrong_type(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.get(account_id)
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get("003000000000000AAA")


@pytest.mark.parametrize(("sobject", "fields", "missing"), [
    ("Contact", {"FirstName": "A"}, ["LastName"]),
    ("Account", {"Website": "https://a.example"}, ["Name"]),
    ("Lead", {"FirstName": "A"}, ["LastName", "Company"]),
    ("Opportunity", {"Amount": 5}, ["Name", "StageName", "CloseDate"]),
])
def test_required_fields(sf: Salesforce, sobject: str, fields: dict, missing: list[str]) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        getattr(sf, sobject).create(fields)
    assert caught.value.content == [{
        "message": f"Required fields are missing: [{', '.join(missing)}]",
        "errorCode": "REQUIRED_FIELD_MISSING", "fields": missing}]


def test_required_field_cannot_be_cleared(sf: Salesforce) -> None:
    contact_id = sf.Contact.create({"LastName": "Keep"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(contact_id, {"LastName": None})
    assert caught.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_unknown_and_read_only_fields(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "X", "Shoe_Size__c": 9})
    assert caught.value.content == [{
        "message": "No such column 'Shoe_Size__c' on sobject of type Contact",
        "errorCode": "INVALID_FIELD", "fields": ["Shoe_Size__c"]}]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "X", "SystemModstamp": "2020-01-01T00:00:00Z"})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert caught.value.content[0]["fields"] == ["SystemModstamp"]


def test_value_validation(sf: Salesforce) -> None:
    cases = [({"Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS"),
             ({"Birthdate": "31/12/2000"}, "JSON_PARSER_ERROR"),
             ({"FirstName": "x" * 41}, "STRING_TOO_LONG"),
             ({"AccountId": "zzz"}, "MALFORMED_ID"),
             ({"AccountId": "003000000000001AAA"}, "FIELD_INTEGRITY_EXCEPTION"),
             ({"AccountId": "001000000000001AAA"}, "INVALID_CROSS_REFERENCE_KEY")]
    for fields, code in cases:
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.Contact.create({"LastName": "V", **fields})
        assert caught.value.content[0]["errorCode"] == code, fields


def test_unique_external_id_and_non_unique_email(sf: Salesforce) -> None:
    first = sf.Contact.create({"LastName": "A", "Email": "same@example.com",
                               "Forcebridge_Id__c": "fb-1"})["id"]
    sf.Contact.create({"LastName": "B", "Email": "same@example.com"})  # emails may repeat
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "C", "Forcebridge_Id__c": "FB-1"})
    assert caught.value.content == [{
        "message": f"duplicate value found: Forcebridge_Id__c duplicates value on record with "
                   f"id: {first}", "errorCode": "DUPLICATE_VALUE",
        "fields": ["Forcebridge_Id__c"]}]


def test_audit_fields_and_frozen_clock(org: Emulator, sf: Salesforce) -> None:
    org.control.clock(freeze="2021-09-01T09:00:00Z")
    ids = [sf.Contact.create({"LastName": f"T{i}"})["id"] for i in range(3)]
    stamps = {sf.Contact.get(i)["SystemModstamp"] for i in ids}
    assert stamps == {"2021-09-01T09:00:00.000+0000"}  # many records share one modstamp
    org.control.clock(advance=1.5)
    sf.Contact.update(ids[0], {"Title": "CEO"})
    record = sf.Contact.get(ids[0])
    assert record["CreatedDate"] == "2021-09-01T09:00:00.000+0000"
    assert record["LastModifiedDate"] == record["SystemModstamp"] == \
        "2021-09-01T09:00:01.500+0000"
    assert record["CreatedById"] == record["OwnerId"] == org.org.user_id


def test_formula_changes_without_touching_system_modstamp(org: Emulator, sf: Salesforce) -> None:
    org.control.clock(freeze="2021-09-01T09:00:00Z")
    contact_id = sf.Contact.create({"LastName": "F"})["id"]
    before = sf.Contact.get(contact_id)
    assert before["Days_Since_Created__c"] == 0
    org.control.clock(advance=3 * 86400)
    after = sf.Contact.get(contact_id)
    assert after["Days_Since_Created__c"] == 3
    assert after["SystemModstamp"] == before["SystemModstamp"]
    rows = sf.query("SELECT Days_Since_Created__c FROM Contact WHERE Days_Since_Created__c = 3")
    assert rows["totalSize"] == 1


def test_converted_lead_cannot_be_updated(org: Emulator, sf: Salesforce) -> None:
    lead_id = sf.Lead.create({"LastName": "Lee", "Company": "Lee Ltd",
                              "Email": "lee@example.com"})["id"]
    converted = org.control.convert_lead(lead_id)
    lead = sf.Lead.get(lead_id)
    assert lead["IsConverted"] is True and lead["Status"] == "Closed - Converted"
    assert lead["ConvertedContactId"] == converted["contactId"]
    assert lead["ConvertedAccountId"] == converted["accountId"]
    assert lead["ConvertedOpportunityId"] == converted["opportunityId"]
    contact = sf.Contact.get(converted["contactId"])
    assert contact["Email"] == "lee@example.com"
    assert contact["AccountId"] == converted["accountId"]
    assert sf.Account.get(converted["accountId"])["Name"] == "Lee Ltd"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.update(lead_id, {"Title": "CTO"})
    assert caught.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_contact_account_creates_direct_relation(sf: Salesforce) -> None:
    first = sf.Account.create({"Name": "First"})["id"]
    second = sf.Account.create({"Name": "Second"})["id"]
    contact_id = sf.Contact.create({"LastName": "R", "AccountId": first})["id"]
    sf.Contact.update(contact_id, {"AccountId": second})
    query = "SELECT AccountId, IsDirect FROM AccountContactRelation ORDER BY IsDirect, AccountId"
    assert [(r["AccountId"], r["IsDirect"]) for r in sf.query(query)["records"]] == [
        (first, False), (second, True)]
    # Back to the first account: its relation becomes direct again, no second one appears.
    sf.Contact.update(contact_id, {"AccountId": first})
    assert [(r["AccountId"], r["IsDirect"]) for r in sf.query(query)["records"]] == [
        (second, False), (first, True)]


def test_one_relation_per_account_and_contact(sf: Salesforce) -> None:
    account = sf.Account.create({"Name": "Acme"})["id"]
    other = sf.Account.create({"Name": "Other"})["id"]
    contact = sf.Contact.create({"LastName": "R", "AccountId": account})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.AccountContactRelation.create({"AccountId": account, "ContactId": contact})
    error = caught.value.content[0]
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert error["message"].startswith("duplicate value found: <unknown> duplicates value on "
                                       "record with id: 07k")
    indirect = sf.AccountContactRelation.create({"AccountId": other, "ContactId": contact})["id"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.AccountContactRelation.create({"AccountId": other, "ContactId": contact})
    sf.AccountContactRelation.delete(indirect)  # a relation in the recycle bin is no duplicate
    assert sf.AccountContactRelation.create({"AccountId": other, "ContactId": contact})["success"]


def test_upsert_by_external_id(sf: Salesforce, api: Api) -> None:
    assert sf.Contact.upsert("Forcebridge_Id__c/fb-9", {"LastName": "Up"}) == 201
    reply = api("PATCH", "sobjects/Contact/Forcebridge_Id__c/fb-9", json={"Title": "Boss"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["created"] is False and body["success"] is True and body["errors"] == []
    assert sf.Contact.get(body["id"])["Title"] == "Boss"
    assert sf.Contact.get_by_custom_id("Forcebridge_Id__c", "fb-9")["Id"] == body["id"]
    created = api("PATCH", "sobjects/Contact/Forcebridge_Id__c/fb-10", json={"LastName": "N"})
    assert created.status_code == 201 and created.json()["created"] is True


def test_upsert_value_with_encoded_slash(sf: Salesforce, api: Api) -> None:
    reply = api("PATCH", "sobjects/Account/Forcebridge_Id__c/a%2Fb%20c", json={"Name": "Slash"})
    assert reply.status_code == 201
    record = sf.Account.get(reply.json()["id"])
    assert record["Forcebridge_Id__c"] == "a/b c"


def test_upsert_errors(sf: Salesforce, api: Api) -> None:
    sf.Contact.create({"LastName": "A", "Email": "dup@example.com"})
    sf.Contact.create({"LastName": "B", "Email": "dup@example.com"})
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Contact.upsert("Email/dup@example.com", {"Title": "X"})
    urls = caught.value.content
    assert len(urls) == 2 and all(u.startswith("/services/data/v59.0/sobjects/Contact/003")
                                  for u in urls)
    missing = api("PATCH", "sobjects/Contact/Nope__c/1", json={"LastName": "A"})
    assert error_of(missing) == (404, "NOT_FOUND", "Provided external ID field does not exist "
                                                   "or is not accessible: Nope__c")
    in_body = api("PATCH", "sobjects/Contact/Forcebridge_Id__c/x",
                  json={"LastName": "A", "Forcebridge_Id__c": "x"})
    assert error_of(in_body)[:2] == (400, "INVALID_FIELD")
    with_id = api("PATCH", "sobjects/Contact/Forcebridge_Id__c/x",
                  json={"LastName": "A", "Id": "003000000000001AAA"})
    assert error_of(with_id)[:2] == (400, "INVALID_FIELD")
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_delete_is_soft_and_visible_to_query_all(org: Emulator, sf: Salesforce) -> None:
    org.control.clock(freeze="2024-03-10T12:00:00Z")
    contact_id = sf.Contact.create({"LastName": "Gone"})["id"]
    org.control.clock(advance=90.25)
    sf.Contact.delete(contact_id)
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    rows = sf.query_all("SELECT Id, IsDeleted, SystemModstamp, LastModifiedDate FROM Contact",
                        include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"], r["SystemModstamp"], r["LastModifiedDate"])
            for r in rows] == [(contact_id, True, "2024-03-10T12:01:30.250+0000",
                                "2024-03-10T12:01:30.250+0000")]
