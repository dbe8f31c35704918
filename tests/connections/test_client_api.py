"""The client's reads against the emulator: queries, describe cache, getUpdated/getDeleted,
identity and limits, quoting. Writes: test_sobject_collections.py, test_bulk_api.py."""

from __future__ import annotations

import datetime as dt

import pytest

from connections.client import SalesforceClient, format_soql, soql_quote
from connections.errors import SalesforceRejected
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


def test_identity_and_limits(emulator, connection, sf_client):
    identity = sf_client.identity()
    assert identity["organization_id"] == connection.org_id
    assert identity["username"] == connection.username
    assert sf_client.limits()["DailyApiRequests"]["Max"] == 15000
