"""Compound address fields and a real org's standard fields in describe, REST and Bulk queries."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from .conftest import Api, error_of

COMPOUNDS = {"Contact": ["MailingAddress", "OtherAddress"],
             "Account": ["BillingAddress", "ShippingAddress"], "Lead": ["Address"]}
STANDARD = {"Contact": ["OtherStreet", "Fax", "HomePhone", "MasterRecordId", "MailingLatitude"],
            "Lead": ["Fax", "MasterRecordId", "Latitude"],
            "Account": ["Fax", "MasterRecordId", "ShippingLatitude", "AccountSource"],
            "Opportunity": ["IsPrivate", "ForecastCategoryName", "LastActivityDate"],
            "Case": ["MasterRecordId", "IsEscalated", "ContactEmail"]}


@pytest.mark.parametrize("sobject", sorted(COMPOUNDS))
def test_compound_fields_describe_as_read_only_addresses(sf: Salesforce, sobject: str) -> None:
    # Object Reference, "Compound Fields" / "Address Compound Fields": type address, readable,
    # neither createable, updateable nor filterable; its components are writable.
    fields = {f["name"]: f for f in getattr(sf, sobject).describe()["fields"]}
    for name in COMPOUNDS[sobject]:
        field = fields[name]
        assert (field["type"], field["soapType"]) == ("address", "urn:address")
        assert not (field["createable"] or field["updateable"] or field["filterable"])
        street = fields[name.replace("Address", "Street") if name != "Address" else "Street"]
        assert street["createable"] and street["updateable"] and street["filterable"]
    for name in STANDARD.get(sobject, []):
        assert name in fields, name
    geocode = fields[COMPOUNDS[sobject][0].replace("Address", "GeocodeAccuracy")]
    assert geocode["restrictedPicklist"] is True and geocode["picklistValues"]


def test_standard_fields_of_a_real_org(sf: Salesforce) -> None:
    for sobject, names in STANDARD.items():
        fields = {f["name"]: f for f in getattr(sf, sobject).describe()["fields"]}
        assert set(names) <= set(fields), sobject
    contact = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert contact["MasterRecordId"]["createable"] is False
    assert contact["Email"]["filterable"] is True and contact["Description"]["filterable"] is False


def test_rest_query_reads_the_compound_value(sf: Salesforce) -> None:
    contact_id = sf.Contact.create({"LastName": "Addr", "MailingCity": "Lyon",
                                    "MailingCountry": "France"})["id"]
    record = sf.query(f"SELECT MailingAddress, OtherAddress FROM Contact "
                      f"WHERE Id = '{contact_id}'")["records"][0]
    assert record["MailingAddress"] == {"city": "Lyon", "country": "France",
                                        "geocodeAccuracy": None, "latitude": None,
                                        "longitude": None, "postalCode": None, "state": None,
                                        "street": None}
    assert record["OtherAddress"] is None
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(contact_id, {"MailingAddress": {"city": "Paris"}})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_compound_fields_cannot_be_filtered_or_bulk_queried(sf: Salesforce, api: Api) -> None:
    # SOQL: "field 'MailingAddress' can not be filtered in a query call" (INVALID_FIELD).
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Contact WHERE MailingAddress = null")
    error = caught.value.content[0]
    assert error["errorCode"] == "INVALID_FIELD"
    assert "field 'MailingAddress' can not be filtered in a query call" in error["message"]
    # Bulk API 2.0 refuses the job: "Selecting compound data not supported in Bulk Query".
    reply = api("POST", "jobs/query", json={"operation": "query",
                                             "query": "SELECT Id, MailingAddress FROM Contact"})
    assert error_of(reply) == (400, "API_ERROR",
                               "Selecting compound data not supported in Bulk Query")
