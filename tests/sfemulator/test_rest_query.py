"""query/queryAll through simple-salesforce: pagination, locators, deletes between pages."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfemulator import Emulator

from .conftest import Api, error_of


def _contacts(org: Emulator, count: int, **extra: object) -> list[str]:
    return org.control.insert("Contact", *[{"LastName": f"C{i:05d}", **extra}
                                           for i in range(count)], load=True)


def test_pages_follow_the_batch_size(org: Emulator, sf: Salesforce, api: Api) -> None:
    ids = _contacts(org, 450)
    first = api("GET", "query/", params={"q": "SELECT Id FROM Contact ORDER BY LastName"},
                headers={"Sforce-Query-Options": "batchSize=200"}).json()
    assert first["totalSize"] == 450 and first["done"] is False and len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 200 and second["nextRecordsUrl"].endswith("-400")
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert third["done"] is True and "nextRecordsUrl" not in third
    seen = [r["Id"] for page in (first, second, third) for r in page["records"]]
    assert seen == ids


def test_default_page_is_2000_and_query_all_iter_sees_everything(
        org: Emulator, sf: Salesforce) -> None:
    ids = _contacts(org, 4500)
    first = sf.query("SELECT Id FROM Contact")
    assert len(first["records"]) == 2000 and first["nextRecordsUrl"].endswith("-2000")
    assert [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Contact")] == ids


def test_batch_size_is_clamped(org: Emulator, api: Api) -> None:
    _contacts(org, 300)
    reply = api("GET", "query/", params={"q": "SELECT Id FROM Contact"},
                headers={"Sforce-Query-Options": "batchSize=10"}).json()
    assert len(reply["records"]) == 200


def test_deletes_between_pages_skip_and_duplicate_nothing(org: Emulator, sf: Salesforce,
                                                          api: Api) -> None:
    ids = _contacts(org, 600)
    first = api("GET", "query/", params={"q": "SELECT Id, IsDeleted FROM Contact"},
                headers={"Sforce-Query-Options": "batchSize=200"}).json()
    sf.Contact.delete(ids[0])          # already served
    sf.Contact.delete(ids[250])        # on the next page: soft-deleted, still listed
    org.control.delete("Contact", ids[450], hard=True)  # purged: gone from its page
    rest = list(sf.query_all_iter("SELECT Id FROM Contact"))
    assert len(rest) == 597
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    seen = [r["Id"] for page in (first, second, third) for r in page["records"]]
    assert seen == [i for i in ids if i != ids[450]]
    assert next(r for r in second["records"] if r["Id"] == ids[250])["IsDeleted"] is True


def test_query_all_locator_remembers_deleted_rows(org: Emulator, sf: Salesforce,
                                                  api: Api) -> None:
    ids = _contacts(org, 500)
    for record_id in ids[300:]:
        sf.Contact.delete(record_id)
    live = sf.query("SELECT COUNT() FROM Contact")
    assert live["totalSize"] == 300 and live["records"] == []
    first = api("GET", "queryAll/", params={"q": "SELECT Id, IsDeleted FROM Contact"},
                headers={"Sforce-Query-Options": "batchSize=200"}).json()
    assert first["totalSize"] == 500
    assert "/query/" in first["nextRecordsUrl"]  # still /query/, like Salesforce
    rows = list(sf.query_all_iter("SELECT Id, IsDeleted FROM Contact", include_deleted=True))
    assert len(rows) == 500 and sum(r["IsDeleted"] for r in rows) == 200
    more = api("GET", first["nextRecordsUrl"].split("/v59.0/")[1]).json()
    assert len(more["records"]) == 200
    assert sum(r["IsDeleted"] for r in more["records"]) == 100


def test_parent_fields_nest(org: Emulator, sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    sf.Contact.create({"LastName": "With", "AccountId": account_id})
    sf.Contact.create({"LastName": "Without"})
    rows = sf.query("SELECT LastName, Account.Name FROM Contact ORDER BY LastName")["records"]
    assert rows[0]["Account"]["Name"] == "Acme"
    assert rows[0]["Account"]["attributes"]["type"] == "Account"
    assert rows[1]["Account"] is None


def test_malformed_queries_and_bad_locators(org: Emulator, sf: Salesforce, api: Api) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELEKT Id FROM Contact")
    assert caught.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    assert set(caught.value.content[0]) == {"message", "errorCode", "fields"}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Shoe__c FROM Contact")
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert error_of(api("GET", "query/01g000000000000AAA-2000")) == (
        400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    assert error_of(api("GET", "query/"))[:2] == (400, "MALFORMED_QUERY")


def test_page_reflects_changes_made_after_the_previous_page(org: Emulator, sf: Salesforce,
                                                           api: Api) -> None:
    ids = _contacts(org, 400)
    first = api("GET", "query/", params={"q": "SELECT Id, Title FROM Contact"},
                headers={"Sforce-Query-Options": "batchSize=200"}).json()
    sf.Contact.update(ids[300], {"Title": "Changed"})  # the next page was prefetched before
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert next(r for r in second["records"] if r["Id"] == ids[300])["Title"] == "Changed"


def _open_cursor(api: Api) -> str:
    page = api("GET", "query/", params={"q": "SELECT Id FROM Contact"},
               headers={"Sforce-Query-Options": "batchSize=200"}).json()
    return page["nextRecordsUrl"].split("/v59.0/")[1]


def test_opening_an_eleventh_cursor_drops_the_oldest(org: Emulator, api: Api) -> None:
    _contacts(org, 250)
    locators = [_open_cursor(api) for _ in range(10)]
    assert api("GET", locators[0]).status_code == 200  # reading it does not make it young
    newest = _open_cursor(api)
    assert error_of(api("GET", locators[0])) == (400, "INVALID_QUERY_LOCATOR",
                                                 "invalid query locator")
    for locator in (*locators[1:], newest):
        assert len(api("GET", locator).json()["records"]) == 50


def test_max_cursors_is_a_setting(org: Emulator, api: Api) -> None:
    _contacts(org, 250)
    assert org.control.settings(max_cursors=2)["max_cursors"] == 2
    first, second, third = (_open_cursor(api) for _ in range(3))
    assert error_of(api("GET", first))[:2] == (400, "INVALID_QUERY_LOCATOR")
    assert api("GET", second).ok and api("GET", third).ok
    org.control.reset()
    assert org.control.settings()["max_cursors"] == 10
