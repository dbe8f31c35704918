"""Versions, resources, global and per-object describe, custom objects and fields."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound

from sfemulator import Emulator

from .conftest import Api, error_of, http_session, salesforce


def _fields(describe: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in describe["fields"]}


def test_versions_need_no_auth(org: Emulator, http: requests.Session) -> None:
    reply = http.get(f"{org.base_url}/services/data/")
    assert reply.status_code == 200
    versions = reply.json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert "Sforce-Limit-Info" not in reply.headers


def test_every_api_call_needs_a_valid_bearer(org: Emulator, http: requests.Session) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        reply = http.get(f"{org.base_url}/services/data/v59.0/sobjects", headers=headers)
        assert error_of(reply) == (401, "INVALID_SESSION_ID", "Session expired or invalid")


def test_resources_and_any_version(api: Api, org: Emulator, token: dict[str, Any]) -> None:
    reply = api("GET", "")
    assert reply.json()["query"] == "/services/data/v59.0/query"
    old = http_session(org).get(f"{org.base_url}/services/data/v52.0/sobjects/Contact/describe",
                                headers=api.headers)
    assert old.status_code == 200 and old.json()["name"] == "Contact"


def test_global_describe(sf: Salesforce) -> None:
    described = sf.describe()
    assert described["encoding"] == "UTF-8" and described["maxBatchSize"] == 200
    by_name = {s["name"]: s for s in described["sobjects"]}
    expected = {"Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006",
                "Task": "00T", "Case": "500", "User": "005", "Campaign": "701",
                "CampaignMember": "00v", "AccountContactRelation": "07k",
                "OpportunityContactRole": "00K"}
    for name, prefix in expected.items():
        assert by_name[name]["keyPrefix"] == prefix and by_name[name]["custom"] is False
    subscription = by_name["Subscription__c"]
    assert subscription["custom"] is True and subscription["keyPrefix"].startswith("a0")
    assert subscription["queryable"] and subscription["createable"]


def test_contact_describe(sf: Salesforce) -> None:
    described = sf.Contact.describe()
    assert described["name"] == "Contact" and described["keyPrefix"] == "003"
    fields = _fields(described)
    assert fields["Id"]["type"] == "id" and fields["Id"]["idLookup"] is True
    assert not fields["Id"]["createable"] and not fields["Id"]["updateable"]
    account = fields["AccountId"]
    assert account["type"] == "reference" and account["referenceTo"] == ["Account"]
    assert account["relationshipName"] == "Account"
    assert fields["LastName"]["nillable"] is False
    assert fields["Email"]["type"] == "email" and fields["Email"]["unique"] is False
    ext = fields["Forcebridge_Id__c"]
    assert ext["externalId"] and ext["unique"] and ext["custom"] and ext["idLookup"]
    formula = fields["Days_Since_Created__c"]
    assert formula["calculated"] is True and formula["type"] == "double"
    assert not formula["createable"] and not formula["updateable"]
    assert fields["SystemModstamp"]["type"] == "datetime"
    assert fields["Birthdate"]["type"] == "date"
    assert fields["HasOptedOutOfEmail"]["type"] == "boolean"
    assert fields["LeadSource"]["type"] == "picklist"
    assert {"value": "Web", "label": "Web", "active": True}.items() <= \
        fields["LeadSource"]["picklistValues"][0].items()


def test_polymorphic_and_relationship_fields(sf: Salesforce) -> None:
    task = _fields(sf.Task.describe())
    assert task["WhoId"]["referenceTo"] == ["Contact", "Lead"]
    assert task["WhoId"]["relationshipName"] == "Who" and task["WhoId"]["polymorphicForeignKey"]
    assert "Account" in task["WhatId"]["referenceTo"]
    acr = _fields(sf.AccountContactRelation.describe())
    assert acr["IsDirect"]["type"] == "boolean"
    assert acr["ContactId"]["referenceTo"] == ["Contact"]
    ocr = _fields(sf.OpportunityContactRole.describe())
    assert {"ContactId", "OpportunityId", "Role", "IsPrimary"} <= set(ocr)
    lead = _fields(sf.Lead.describe())
    assert lead["ConvertedContactId"]["referenceTo"] == ["Contact"]
    assert lead["IsConverted"]["updateable"] is False
    assert lead["Company"]["nillable"] is False
    opportunity = _fields(sf.Opportunity.describe())
    assert {n for n in ("Name", "StageName", "CloseDate") if not opportunity[n]["nillable"]} \
        == {"Name", "StageName", "CloseDate"}


def test_basic_info(sf: Salesforce) -> None:
    info = sf.Lead.metadata()
    assert info["objectDescribe"]["name"] == "Lead" and info["recentItems"] == []


def test_unknown_sobject_is_not_found(sf: Salesforce, api: Api) -> None:
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Nope__c.describe()
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"
    assert error_of(api("GET", "nothing/here"))[:2] == (404, "NOT_FOUND")
    reply = api("GET", "query/", params={"q": "SELECT Id FROM Nope__c"})
    assert reply.status_code == 400 and reply.json()[0]["errorCode"] == "INVALID_TYPE"


def test_custom_objects_and_fields_from_the_constructor(tmp_path_factory: Any) -> None:
    invoice = {"name": "Invoice__c", "label": "Invoice", "fields": [
        {"name": "Number__c", "type": "string", "externalId": True, "unique": True},
        {"name": "Total__c", "type": "currency"},
        {"name": "Contact__c", "type": "reference", "referenceTo": ["Contact"]},
    ]}
    extra = {"Contact": [{"name": "Score__c", "type": "double"},
                         {"name": "Segment_Key__c", "type": "string", "externalId": True}]}
    with Emulator.running(custom_objects=[invoice], custom_fields=extra, http_port=None,
                          data_dir=tmp_path_factory.mktemp("custom")) as custom:
        token = custom.control.session()
        sf = salesforce(custom, token)
        fields = _fields(sf.Invoice__c.describe())
        assert fields["Number__c"]["externalId"] and fields["Number__c"]["unique"]
        assert fields["Contact__c"]["relationshipName"] == "Contact__r"
        assert {"Id", "Name", "OwnerId", "SystemModstamp", "IsDeleted"} <= set(fields)
        contact = sf.Contact.create({"LastName": "Ng", "Score__c": 4.5})
        invoice_id = sf.Invoice__c.create({"Number__c": "INV-1", "Total__c": 10,
                                           "Contact__c": contact["id"]})["id"]
        assert invoice_id[:3] == sf.Invoice__c.describe()["keyPrefix"]
        rows = sf.query("SELECT Name, Contact__r.Score__c FROM Invoice__c")["records"]
        assert rows[0]["Name"] == invoice_id  # Name defaults to the id
        assert rows[0]["Contact__r"]["Score__c"] == 4.5
        assert sf.Contact.upsert("Segment_Key__c/k1", {"LastName": "Li"}) == 201
