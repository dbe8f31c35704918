"""SOQL end to end: simple-salesforce → HTTPS → the emulator's query/ and queryAll/ → sfemulator.soql."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from sfemulator import Emulator

URL = "/services/data/v59.0/sobjects"
NO_COLUMN_TAIL = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom "
    "field name. Please reference your WSDL or the describe call for the appropriate names."
)


@pytest.fixture
def people(org: Emulator) -> dict[str, str]:
    """Two accounts, five live contacts and a deleted one, a lead and three tasks, frozen clock."""
    org.control.clock(freeze="2021-09-03T12:00:00Z")
    store = org.org
    acme = store.insert("Account", {"Name": "Acme", "Industry": "Technology"})
    globex = store.insert("Account", {"Name": "globex"})
    store.patch_raw(globex, {"OwnerId": None})
    rows = [
        {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com",
         "AccountId": acme, "Birthdate": "1990-05-01", "Title": "Countess",
         "CreatedDate": "2021-09-01T09:00:00.000+0000"},
        {"FirstName": "Grace", "LastName": "Hopper", "Email": "GRACE@Example.com",
         "AccountId": acme, "HasOptedOutOfEmail": True,
         "CreatedDate": "2021-09-01T14:00:00.000+0000"},
        {"FirstName": "Alan", "LastName": "Turing", "Birthdate": "1985-12-24",
         "Title": "100% pure_math", "CreatedDate": "2021-09-02T00:00:00.000+0000"},
        {"FirstName": "Edsger", "LastName": "Dijkstra", "Email": "edsger@example.nl",
         "AccountId": globex, "Birthdate": "1980-01-01", "Title": "O'Brien \\ co",
         "CreatedDate": "2021-08-31T23:59:59.999+0000"},
        {"FirstName": "Barbara", "LastName": "liskov", "Email": "barbara@example.com",
         "AccountId": globex, "HasOptedOutOfEmail": True, "Title": "line1\nline2",
         "CreatedDate": "2021-09-03T10:00:00.000+0000"},
        {"LastName": "Ghost", "Email": "ghost@example.com"},
    ]
    ids = store.load("Contact", rows)
    store.delete("Contact", ids[-1])
    lead = store.insert("Lead", {"LastName": "Lead", "FirstName": "Lena", "Company": "Initech"})
    for subject, who in (("Call", ids[0]), ("Email", lead), ("Note", None)):
        store.insert("Task", {"Subject": subject, "WhoId": who})
    names = ["ada", "grace", "alan", "edsger", "barbara", "ghost"]
    return {"acme": acme, "globex": globex, "lead": lead, **dict(zip(names, ids, strict=True))}


def last_names(sf: Salesforce, text: str, *, include_deleted: bool = False) -> list[str]:
    soql = f"SELECT LastName FROM Contact {text}".strip()
    return [row["LastName"] for row in sf.query_all(soql, include_deleted=include_deleted)["records"]]


def where(sf: Salesforce, condition: str) -> list[str]:
    return last_names(sf, f"WHERE {condition}")


def refusal(sf: Salesforce, soql: str) -> tuple[str, str]:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    error = caught.value.content[0]
    return error["errorCode"], error["message"]


def test_records_are_projected_like_salesforce(sf: Salesforce, people: dict[str, str]) -> None:
    reply = sf.query("select id, EMAIL, account.name, Account.Owner.Name FROM contact "
                     "WHERE lastname IN ('lovelace', 'Turing', 'DIJKSTRA') ORDER BY LastName")
    assert (reply["totalSize"], reply["done"]) == (3, True)
    edsger, ada, alan = reply["records"]
    assert ada == {
        "attributes": {"type": "Contact", "url": f"{URL}/Contact/{people['ada']}"},
        "Id": people["ada"],
        "Email": "ada@example.com",
        "Account": {
            "attributes": {"type": "Account", "url": f"{URL}/Account/{people['acme']}"},
            "Name": "Acme",
            "Owner": {
                "attributes": {"type": "User", "url": ada["Account"]["Owner"]["attributes"]["url"]},
                "Name": "Admin Forcebridge",
            },
        },
    }
    assert edsger["Account"]["Name"] == "globex" and edsger["Account"]["Owner"] is None
    assert alan["Email"] is None and alan["Account"] is None


def test_polymorphic_who_takes_the_type_of_the_referenced_record(
    sf: Salesforce, people: dict[str, str]
) -> None:
    records = sf.query("SELECT Subject, Who.Name, Who.Type FROM Task ORDER BY Subject")["records"]
    assert [r["Who"] and (r["Who"]["attributes"]["type"], r["Who"]["Name"]) for r in records] == [
        ("Contact", "Ada Lovelace"), ("Lead", "Lena Lead"), None,
    ]
    assert records[1]["Who"]["Type"] == "Lead"
    assert [r["Subject"] for r in sf.query("SELECT Subject FROM Task WHERE Who.Type = 'contact'")
            ["records"]] == ["Call"]


def test_count_and_query_all(sf: Salesforce, people: dict[str, str]) -> None:
    count = sf.query("SELECT COUNT() FROM Contact WHERE Email != null")
    assert (count["totalSize"], count["records"]) == (4, [])
    assert sf.query("SELECT COUNT() FROM Contact", include_deleted=True)["totalSize"] == 6
    assert last_names(sf, "WHERE IsDeleted = true", include_deleted=True) == ["Ghost"]
    assert last_names(sf, "WHERE IsDeleted = true") == []


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Email = 'grace@example.com'", ["Hopper"]),
        ("Email != 'ADA@example.com'", ["Hopper", "Turing", "Dijkstra", "liskov"]),
        ("Email = null", ["Turing"]),
        ("Email NOT IN ('ada@example.com', null)", ["Hopper", "Dijkstra", "liskov"]),
        ("LastName < 'm'", ["Lovelace", "Hopper", "Dijkstra", "liskov"]),
        ("NOT (Email = null OR HasOptedOutOfEmail = true)", ["Lovelace", "Dijkstra"]),
        ("(Email LIKE '%.nl' OR Title LIKE '100\\%%') AND (NOT LastName = 'x')", ["Turing", "Dijkstra"]),
        ("Title LIKE '%pure\\_math'", ["Turing"]),
        ("Account.Name = 'ACME'", ["Lovelace", "Hopper"]),
        ("Account.Owner.Name = null", ["Turing", "Dijkstra", "liskov"]),
        ("Birthdate > 1984-01-01", ["Lovelace", "Turing"]),
        ("CreatedDate = 2021-09-01T11:00:00+02:00", ["Lovelace"]),
        ("CreatedDate < 2021-09-01T20:00:00.000+0800", ["Lovelace", "Dijkstra"]),
        ("CreatedDate > 2021-08-31T23:59:59Z", ["Lovelace", "Hopper", "Turing", "Dijkstra", "liskov"]),
        ("CreatedDate = TODAY", ["liskov"]),
        ("CreatedDate = YESTERDAY", ["Turing"]),
        ("CreatedDate = LAST_N_DAYS:2", ["Lovelace", "Hopper", "Turing", "liskov"]),
        ("Days_Since_Created__c >= 2", ["Lovelace", "Hopper", "Dijkstra"]),
    ],
)
def test_where(sf: Salesforce, people: dict[str, str], condition: str, expected: list[str]) -> None:
    assert where(sf, condition) == expected


@pytest.mark.parametrize("value", ["d'Arc \\ Jeanne", "two\nlines", "it's 50% \\_ done\t\"x\""])
def test_values_quoted_by_simple_salesforce_round_trip(
    sf: Salesforce, people: dict[str, str], value: str
) -> None:
    sf.Contact.update(people["alan"], {"Title": value})
    exact = format_soql("SELECT LastName FROM Contact WHERE Title = {}", value)
    like = format_soql("SELECT LastName FROM Contact WHERE Title LIKE '{:like}'", value)
    ids = format_soql("SELECT LastName FROM Contact WHERE Id IN {}", [people["alan"][:15]])
    for soql in (exact, like, ids):
        assert [r["LastName"] for r in sf.query(soql)["records"]] == ["Turing"], soql


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("LastName", ["Dijkstra", "Hopper", "liskov", "Lovelace", "Turing"]),
        ("Email", ["Turing", "Lovelace", "liskov", "Dijkstra", "Hopper"]),
        ("Birthdate DESC", ["Lovelace", "Turing", "Dijkstra", "Hopper", "liskov"]),
        ("Birthdate DESC NULLS FIRST, LastName", ["Hopper", "liskov", "Lovelace", "Turing", "Dijkstra"]),
        ("Account.Name NULLS LAST, Email DESC", ["Hopper", "Lovelace", "Dijkstra", "liskov", "Turing"]),
    ],
)
def test_order_by_limit_offset(
    sf: Salesforce, people: dict[str, str], order: str, expected: list[str]
) -> None:
    assert last_names(sf, f"ORDER BY {order}") == expected
    assert last_names(sf, f"ORDER BY {order} LIMIT 2") == expected[:2]
    assert last_names(sf, f"ORDER BY {order} LIMIT 2 OFFSET 3") == expected[3:5]


def test_many_pages_keep_the_order(sf: Salesforce, org: Emulator) -> None:
    rows = [{"LastName": f"P{n:05d}", "CreatedDate": f"2021-09-0{1 + n % 9}T00:00:00.000+0000"}
            for n in range(4500)]
    org.org.load("Contact", rows)
    soql = "SELECT Id, LastName, CreatedDate FROM Contact ORDER BY CreatedDate DESC, LastName"
    first = sf.query(soql)
    assert (first["totalSize"], len(first["records"]), first["done"]) == (4500, 2000, False)
    records = sf.query_all(soql)["records"]
    expected = sorted(rows, key=lambda r: r["LastName"])
    expected.sort(key=lambda r: r["CreatedDate"], reverse=True)
    assert [r["LastName"] for r in records] == [r["LastName"] for r in expected]


@pytest.mark.parametrize(
    ("soql", "code", "message"),
    [
        ("SELECT Id, Foo FROM Contact", "INVALID_FIELD",
         "\nSELECT Id, Foo FROM Contact\n           ^\nERROR at Row:1:Column:12\n"
         f"No such column 'Foo' on entity 'Contact'. {NO_COLUMN_TAIL}"),
        ("SELECT Id FROM Foo", "INVALID_TYPE",
         "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\n"
         "sObject type 'Foo' is not supported. If you are attempting to use a custom object, be "
         "sure to append the '__c' after the entity name. Please reference your WSDL or the "
         "describe call for the appropriate names."),
        ("SELECT Foo.Name FROM Contact", "INVALID_FIELD",
         "\nSELECT Foo.Name FROM Contact\n       ^\nERROR at Row:1:Column:8\n"
         "Didn't understand relationship 'Foo' in field path. If you are attempting to use a "
         "custom relationship, be sure to append the '__r' after the custom relationship name. "
         "Please reference your WSDL or the describe call for the appropriate names."),
        ("SELECT Id FROM Contact WHERE CreatedDate > '2021-09-01'", "INVALID_FIELD",
         "\nSELECT Id FROM Contact WHERE CreatedDate > '2021-09-01'\n"
         "                             ^\nERROR at Row:1:Column:30\n"
         "value of filter criterion for field 'CreatedDate' must be of type dateTime and should "
         "not be enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE CreatedDate > 2021-09-01", "INVALID_FIELD",
         "\nSELECT Id FROM Contact WHERE CreatedDate > 2021-09-01\n"
         "                             ^\nERROR at Row:1:Column:30\n"
         "value of filter criterion for field 'CreatedDate' must be of type dateTime and should "
         "not be enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE LastName = 1", "INVALID_FIELD",
         "\nSELECT Id FROM Contact WHERE LastName = 1\n"
         "                             ^\nERROR at Row:1:Column:30\n"
         "value of filter criterion for field 'LastName' must be of type string and should be "
         "enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE Description = 'x'", "INVALID_FIELD",
         "\nSELECT Id FROM Contact WHERE Description = 'x'\n"
         "                             ^\nERROR at Row:1:Column:30\n"
         "field 'Description' can not be filtered in a query call"),
        ("SELECT Id FROM Contact WHERE Email = 'a' AND Email = 'b' OR Email = 'c'",
         "MALFORMED_QUERY",
         "\nSELECT Id FROM Contact WHERE Email = 'a' AND Email = 'b' OR Email = 'c'\n"
         "                                                         ^\n"
         "ERROR at Row:1:Column:58\nunexpected token: 'OR'"),
        ("SELECT Id FROM Contact WHERE Title = 'a\\qb'", "MALFORMED_QUERY",
         "\nSELECT Id FROM Contact WHERE Title = 'a\\qb'\n"
         "                                     ^\nERROR at Row:1:Column:38\n"
         "Invalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal."),
        ("SELECT Id FROM Contact WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR",
         "\nSELECT Id FROM Contact WHERE Id = 'abc'\n"
         "                             ^\nERROR at Row:1:Column:30\ninvalid ID field: abc"),
        ("SELECT Id FROM Contact WHERE Id LIKE '003%'", "INVALID_QUERY_FILTER_OPERATOR",
         "\nSELECT Id FROM Contact WHERE Id LIKE '003%'\n"
         "                                ^\nERROR at Row:1:Column:33\n"
         "invalid operator on id field"),
        ("SELECT Id FROM Contact OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE",
         "Maximum SOQL offset allowed is 2000"),
        ("SELECT Id, id FROM Contact", "INVALID_FIELD", "duplicate field selected: id"),
        ("SELECT Id FROM", "MALFORMED_QUERY",
         "\nSELECT Id FROM\n              ^\nERROR at Row:1:Column:15\nunexpected token: '<EOF>'"),
    ],
)
def test_refusals_carry_salesforce_codes_and_messages(
    sf: Salesforce, soql: str, code: str, message: str
) -> None:
    assert refusal(sf, soql) == (code, message)


def test_refusal_shape_on_the_wire(org: Emulator, api: Any) -> None:
    reply = api("GET", "query/", params={"q": "SELECT Nope FROM Contact"})
    assert reply.status_code == 400
    assert reply.json() == [{
        "message": "\nSELECT Nope FROM Contact\n       ^\nERROR at Row:1:Column:8\n"
                   f"No such column 'Nope' on entity 'Contact'. {NO_COLUMN_TAIL}",
        "errorCode": "INVALID_FIELD",
        "fields": [],
    }]
