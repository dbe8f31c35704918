"""The SOQL parser and evaluator against a small in-test catalog (no server, no store)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
from simple_salesforce.format import format_soql

from sfemulator import soql_order
from sfemulator.ids import fixed_id
from sfemulator.soql import QueryResult, SoqlError, run_query
from sfemulator.soql_dates import date_literal_range

NOW = datetime(2021, 9, 3, 12, 0, tzinfo=timezone.utc)  # a Friday


def field(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    described = {
        "name": name, "type": type_, "filterable": True, "sortable": True, "calculated": False,
        "referenceTo": [], "relationshipName": None,
    }
    described.update(extra)
    return described


def lookup(name: str, *targets: str, relationship: str) -> dict[str, Any]:
    return field(name, "reference", referenceTo=list(targets), relationshipName=relationship)


COMMON = [field("Id", "id"), field("IsDeleted", "boolean"), field("CreatedDate", "datetime")]
DESCRIBES = {
    "user": {"name": "User", "keyPrefix": "005", "fields": [*COMMON, field("Name", "string")]},
    "account": {"name": "Account", "keyPrefix": "001", "fields": [
        *COMMON, field("Name", "string"), field("Industry", "picklist"),
        lookup("OwnerId", "User", relationship="Owner"),
    ]},
    "contact": {"name": "Contact", "keyPrefix": "003", "fields": [
        *COMMON, field("FirstName", "string"), field("LastName", "string"),
        field("Email", "email"), field("Title", "string"), field("Birthdate", "date"),
        field("HasOptedOutOfEmail", "boolean"), field("Score__c", "double"),
        field("Pets__c", "int"), lookup("AccountId", "Account", relationship="Account"),
        field("Description", "textarea", filterable=False, sortable=False),
    ]},
    "lead": {"name": "Lead", "keyPrefix": "00Q", "fields": [
        *COMMON, field("Name", "string"), field("Email", "email"),
    ]},
    "task": {"name": "Task", "keyPrefix": "00T", "fields": [
        *COMMON, field("Subject", "string"),
        lookup("WhoId", "Contact", "Lead", relationship="Who"),
        lookup("WhatId", "Account", relationship="What"),
    ]},
}

USER = fixed_id("005", 1)
ACME, GLOBEX = fixed_id("001", 1), fixed_id("001", 2)
ADA, GRACE, ALAN, EDSGER, BARBARA, GHOST = (fixed_id("003", n) for n in range(1, 7))
LEAD = fixed_id("00Q", 1)


def contact(record_id: str, last: str, **values: Any) -> dict[str, Any]:
    record = {
        "Id": record_id, "IsDeleted": False, "FirstName": None, "LastName": last, "Email": None,
        "Title": None, "Birthdate": None, "HasOptedOutOfEmail": False, "Score__c": None,
        "Pets__c": None, "AccountId": None, "Description": None,
        "CreatedDate": "2021-09-01T00:00:00.000+0000",
    }
    record.update(values)
    return record


RECORDS = {
    "User": [{"Id": USER, "IsDeleted": False, "Name": "Olivia Owner"}],
    "Account": [
        {"Id": ACME, "IsDeleted": False, "Name": "Acme", "Industry": "Tech", "OwnerId": USER},
        {"Id": GLOBEX, "IsDeleted": False, "Name": "globex", "Industry": None, "OwnerId": None},
    ],
    "Contact": [
        contact(ADA, "Lovelace", FirstName="Ada", Email="ada@example.com", AccountId=ACME,
                Birthdate="1990-05-01", CreatedDate="2021-09-01T09:00:00.000+0000",
                Score__c=10.5, Pets__c=2, Title="Countess"),
        contact(GRACE, "Hopper", FirstName="Grace", Email="GRACE@Example.com", AccountId=ACME,
                CreatedDate="2021-09-01T14:00:00.000+0000", Score__c=7.0, Pets__c=0,
                HasOptedOutOfEmail=True),
        contact(ALAN, "Turing", FirstName="Alan", Birthdate="1985-12-24",
                CreatedDate="2021-09-02T00:00:00.000+0000", Title="100% pure_math"),
        contact(EDSGER, "Dijkstra", FirstName="Edsger", Email="edsger@example.nl",
                AccountId=GLOBEX, Birthdate="1980-01-01", Score__c=-3.0, Pets__c=5,
                CreatedDate="2021-08-31T23:59:59.999+0000", Title="O'Brien \\ co"),
        contact(BARBARA, "liskov", FirstName="Barbara", Email="barbara@example.com",
                AccountId=GLOBEX, CreatedDate="2021-09-03T10:00:00.000+0000", Score__c=0.0,
                HasOptedOutOfEmail=True, Title="line1\nline2"),
        contact(GHOST, "Ghost", Email="ghost@example.com", IsDeleted=True),
    ],
    "Lead": [{"Id": LEAD, "IsDeleted": False, "Name": "Lena Lead", "Email": "lena@example.com"}],
    "Task": [
        {"Id": fixed_id("00T", 1), "IsDeleted": False, "Subject": "Call", "WhoId": ADA,
         "WhatId": ACME},
        {"Id": fixed_id("00T", 2), "IsDeleted": False, "Subject": "Email", "WhoId": LEAD,
         "WhatId": None},
        {"Id": fixed_id("00T", 3), "IsDeleted": False, "Subject": "Note", "WhoId": None,
         "WhatId": None},
    ],
}


class FakeCatalog:
    """The three (optionally four) methods the emulator's store offers the SOQL module."""

    def __init__(self, now: datetime | None = NOW) -> None:
        self.by_id = {r["Id"]: r for records in RECORDS.values() for r in records}
        if now is not None:
            self.now = lambda: now

    def describe(self, name: str) -> dict[str, Any] | None:
        return DESCRIBES.get(name.lower())

    def iter_records(self, sobject: str, include_deleted: bool):
        return (r for r in RECORDS[sobject] if include_deleted or not r["IsDeleted"])

    def get_record(self, record_id: str) -> dict[str, Any] | None:
        return self.by_id.get(record_id)


def query(text: str, *, include_deleted: bool = False, catalog: Any = None) -> QueryResult:
    return run_query(text, catalog or FakeCatalog(), include_deleted=include_deleted)


def names(text: str, **options: Any) -> list[str]:
    """The LastName (or Name/Subject) of each matched record, in result order."""
    catalog = FakeCatalog()
    result = query(text, catalog=catalog, **options)
    label = {"Contact": "LastName", "Task": "Subject"}.get(result.sobject, "Name")
    return [catalog.by_id[record_id][label] for record_id in result.ids]


def where(condition: str) -> list[str]:
    return names(f"SELECT Id FROM Contact WHERE {condition}")


def error(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        query(text)
    return caught.value


LIVE = ["Lovelace", "Hopper", "Turing", "Dijkstra", "liskov"]


# --- SELECT, FROM, projection ---------------------------------------------------------------


def test_select_returns_live_records_in_store_order():
    result = query("SELECT Id FROM Contact")
    assert result.sobject == "Contact"
    assert not result.count_only
    assert result.total_size == 5
    assert result.ids == [ADA, GRACE, ALAN, EDSGER, BARBARA]


def test_keywords_object_and_fields_are_case_insensitive_and_projected_canonically():
    result = query("select id, EMAIL, lastname from CONTACT where LASTNAME = 'lovelace'")
    assert result.sobject == "Contact"
    assert result.project(FakeCatalog().by_id[ADA], "59.0") == {
        "attributes": {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{ADA}"},
        "Id": ADA,
        "Email": "ada@example.com",
        "LastName": "Lovelace",
    }


def test_projection_keeps_selection_order_and_accepts_a_v_prefixed_version():
    result = query("SELECT Email, Id FROM Contact")
    projected = result.project(FakeCatalog().by_id[ADA], "v58.0")
    assert list(projected) == ["attributes", "Email", "Id"]
    assert projected["attributes"]["url"] == f"/services/data/v58.0/sobjects/Contact/{ADA}"


def test_parent_fields_nest_under_the_relationship_and_share_one_object():
    result = query(f"SELECT Account.Name, Id, Account.Industry FROM Contact WHERE Id = '{ADA}'")
    projected = result.project(FakeCatalog().by_id[ADA], "59.0")
    assert list(projected) == ["attributes", "Account", "Id"]
    assert projected["Account"] == {
        "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{ACME}"},
        "Name": "Acme",
        "Industry": "Tech",
    }


def test_empty_lookup_projects_none_and_grandparents_nest_several_levels():
    catalog = FakeCatalog()
    result = query("SELECT account.owner.name, Account.Name FROM Contact", catalog=catalog)
    projected = [result.project(catalog.by_id[record_id], "59.0") for record_id in result.ids]
    assert projected[0]["Account"]["Owner"] == {
        "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{USER}"},
        "Name": "Olivia Owner",
    }
    assert projected[2]["Account"] is None  # Turing has no account
    assert projected[3]["Account"]["Owner"] is None  # globex has no owner
    assert projected[3]["Account"]["Name"] == "globex"


def test_polymorphic_parent_takes_its_type_from_the_referenced_record():
    catalog = FakeCatalog()
    result = query("SELECT Subject, Who.Name, Who.Type FROM Task", catalog=catalog)
    whos = [result.project(catalog.by_id[record_id], "59.0")["Who"] for record_id in result.ids]
    assert whos[0]["attributes"]["type"] == "Contact"
    assert whos[0]["Name"] is None  # Contact has no Name field in this catalog
    assert whos[0]["Type"] == "Contact"
    assert whos[1] == {
        "attributes": {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{LEAD}"},
        "Name": "Lena Lead",
        "Type": "Lead",
    }
    assert whos[2] is None


def test_polymorphic_type_filters():
    assert names("SELECT Id FROM Task WHERE Who.Type = 'lead'") == ["Email"]
    assert names("SELECT Id FROM Task WHERE Who.Type != 'Lead'") == ["Call", "Note"]


def test_path_may_start_with_the_queried_object():
    result = query("SELECT Contact.Email FROM Contact WHERE Contact.LastName = 'Hopper'")
    assert result.project(FakeCatalog().by_id[GRACE], "59.0")["Email"] == "GRACE@Example.com"


def test_every_keyword_is_case_insensitive():
    text = (
        "select lastname from contact where email != null and not lastname like 'h%' "
        "order by email desc nulls last limit 2 offset 1"
    )
    assert names(text) == ["liskov", "Lovelace"]
    assert where("LastName not in ('Hopper') And Email like '%.COM'") == ["Lovelace", "liskov"]


def test_datetimes_stored_in_other_iso_forms_still_compare_as_instants():
    catalog = FakeCatalog()
    catalog.by_id[ALAN]["CreatedDate"] = "2021-09-02T02:00:00+02:00"  # 00:00 UTC
    try:
        equal = query("SELECT Id FROM Contact WHERE CreatedDate = 2021-09-02T00:00:00Z", catalog=catalog)
        ordered = query("SELECT Id FROM Contact ORDER BY CreatedDate DESC LIMIT 2", catalog=catalog)
    finally:
        catalog.by_id[ALAN]["CreatedDate"] = "2021-09-02T00:00:00.000+0000"
    assert equal.ids == [ALAN]
    assert ordered.ids == [BARBARA, ALAN]


def test_count_only():
    result = query("SELECT COUNT() FROM Contact WHERE Email != null")
    assert (result.count_only, result.total_size, result.ids) == (True, 4, [])
    assert query("select count() from Contact LIMIT 2").total_size == 2
    assert query("SELECT COUNT() FROM Contact OFFSET 4").total_size == 1
    assert query("SELECT COUNT() FROM Contact", include_deleted=True).total_size == 6


def test_query_all_includes_deleted_rows():
    assert names("SELECT Id FROM Contact WHERE IsDeleted = true", include_deleted=True) == ["Ghost"]
    assert names("SELECT Id FROM Contact WHERE IsDeleted = true") == []


# --- WHERE: strings, nulls, booleans, numbers -----------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Email = 'grace@example.com'", ["Hopper"]),
        ("email = 'ADA@EXAMPLE.COM'", ["Lovelace"]),
        ("Email != 'ada@example.com'", ["Hopper", "Turing", "Dijkstra", "liskov"]),
        ("Email <> 'ADA@example.com'", ["Hopper", "Turing", "Dijkstra", "liskov"]),
        ("Email = null", ["Turing"]),
        ("Email != null", ["Lovelace", "Hopper", "Dijkstra", "liskov"]),
        ("Email = ''", ["Turing"]),
        ("LastName < 'm'", ["Lovelace", "Hopper", "Dijkstra", "liskov"]),
        ("LastName >= 'LISKOV'", ["Lovelace", "Turing", "liskov"]),
        ("Title > 'a'", ["Lovelace", "Dijkstra", "liskov"]),
        ("Email > null", []),
    ],
)
def test_string_comparisons_are_case_insensitive_and_two_valued(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("HasOptedOutOfEmail = true", ["Hopper", "liskov"]),
        ("HasOptedOutOfEmail = FALSE", ["Lovelace", "Turing", "Dijkstra"]),
        ("HasOptedOutOfEmail != true", ["Lovelace", "Turing", "Dijkstra"]),
        ("Score__c > 7", ["Lovelace"]),
        ("Score__c >= 7", ["Lovelace", "Hopper"]),
        ("Score__c < 0", ["Dijkstra"]),
        ("Score__c = -3", ["Dijkstra"]),
        ("Score__c <= 0.0", ["Dijkstra", "liskov"]),
        ("Score__c = null", ["Turing"]),
        ("Score__c != 7", ["Lovelace", "Turing", "Dijkstra", "liskov"]),
        ("Score__c > .5", ["Lovelace", "Hopper"]),
        ("Pets__c = 2", ["Lovelace"]),
        ("Pets__c > 1.5", ["Lovelace", "Dijkstra"]),
    ],
)
def test_booleans_and_numbers(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("LastName IN ('hopper', 'TURING')", ["Hopper", "Turing"]),
        ("LastName NOT IN ('hopper', 'TURING')", ["Lovelace", "Dijkstra", "liskov"]),
        ("Email IN ('ada@example.com', null)", ["Lovelace", "Turing"]),
        ("Email NOT IN ('ada@example.com')", ["Hopper", "Turing", "Dijkstra", "liskov"]),
        ("Email NOT IN ('ada@example.com', null)", ["Hopper", "Dijkstra", "liskov"]),
        ("Score__c IN (7, -3, 99)", ["Hopper", "Dijkstra"]),
        ("Birthdate IN (1990-05-01, 1980-01-01)", ["Lovelace", "Dijkstra"]),
        ("CreatedDate IN (2021-09-01T11:00:00+02:00)", ["Lovelace"]),
        (f"Id IN ('{ADA[:15]}', '{GRACE}')", ["Lovelace", "Hopper"]),
    ],
)
def test_in_and_not_in(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("NOT LastName = 'Hopper'", ["Lovelace", "Turing", "Dijkstra", "liskov"]),
        ("NOT (Email = null OR Score__c > 5)", ["Dijkstra", "liskov"]),
        ("(Email = null OR Score__c > 5) AND HasOptedOutOfEmail = false", ["Lovelace", "Turing"]),
        ("((LastName = 'Turing') OR ((LastName = 'Hopper')))", ["Hopper", "Turing"]),
        ("Score__c > 5 OR (Email LIKE '%.nl' AND NOT (Pets__c < 3))", ["Lovelace", "Hopper", "Dijkstra"]),
        ("Email != null AND Score__c != null AND Pets__c != null", ["Lovelace", "Hopper", "Dijkstra"]),
        ("NOT NOT LastName = 'Turing'", ["Turing"]),
        ("Email LIKE '%example.com' OR LastName = 'Turing' OR Pets__c = 5", LIVE),
    ],
)
def test_and_or_not_and_nested_parentheses(condition, expected):
    assert where(condition) == expected


def test_deep_nesting_within_the_limit_is_fine():
    condition = "(" * 100 + "LastName = 'Turing'" + ")" * 100
    assert where(condition) == ["Turing"]
    assert where("NOT " * 99 + "LastName != 'Turing'") == ["Turing"]


def test_mixing_and_with_or_needs_parentheses():
    caught = error("SELECT Id FROM Contact WHERE Email = null AND Pets__c = 1 OR Pets__c = 2")
    assert caught.error_code == "MALFORMED_QUERY"
    assert caught.message.endswith("ERROR at Row:1:Column:59\nunexpected token: 'OR'")


# --- LIKE and string escapes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Email LIKE 'ada%'", ["Lovelace"]),
        ("Email LIKE '%EXAMPLE.COM'", ["Lovelace", "Hopper", "liskov"]),
        ("Email LIKE '%sger%'", ["Dijkstra"]),
        ("Email LIKE 'grace@example.com'", ["Hopper"]),
        ("LastName LIKE '_opper'", ["Hopper"]),
        ("LastName LIKE 'l%e'", ["Lovelace"]),
        ("LastName LIKE 'l%'", ["Lovelace", "liskov"]),
        ("Email LIKE '%'", ["Lovelace", "Hopper", "Dijkstra", "liskov"]),
        ("Email LIKE 'a%@%.com'", ["Lovelace"]),
        ("Email LIKE '%a%e%'", ["Lovelace", "Hopper", "Dijkstra", "liskov"]),
        ("Title LIKE '100\\%%'", ["Turing"]),
        ("Title LIKE '100%'", ["Turing"]),
        ("Title LIKE '%pure\\_math'", ["Turing"]),
        ("Title LIKE '%pure\\_m_th'", ["Turing"]),
        ("Title LIKE '%pure\\_m\\_th'", []),
        ("Title LIKE '1\\%%'", []),
        ("NOT Email LIKE '%example.com'", ["Turing", "Dijkstra"]),
        ("Title LIKE 'line1\\nline2'", ["liskov"]),
        ("Title LIKE 'line1_line2'", ["liskov"]),
        ("Title LIKE 'line1%line2'", ["liskov"]),
        ("Title LIKE 'o\\'brien \\\\ %'", ["Dijkstra"]),
    ],
)
def test_like(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'O\\'Brien \\\\ co'", ["Dijkstra"]),
        ("'o\\'brien \\\\ CO'", ["Dijkstra"]),
        ("'line1\\nline2'", ["liskov"]),
        ("'LINE1\\Nline2'", ["liskov"]),
        ("'line1\\u000aline2'", ["liskov"]),
        ("'\\u0043ountess'", ["Lovelace"]),
        ("'100% pure_math'", ["Turing"]),
        ("'Countess\\t'", []),
        ("'\\\"Countess\\\"'", []),
    ],
)
def test_string_escapes(literal, expected):
    assert where(f"Title = {literal}") == expected


@pytest.mark.parametrize(
    "value", ["it's 50% \\_ done", "two\nlines", "tab\there", 'say "hi"\r\b\f']
)
def test_simple_salesforce_quoting_round_trips(value):
    catalog = FakeCatalog()
    catalog.by_id[ALAN]["Title"] = value
    try:
        result = query(format_soql("SELECT Id FROM Contact WHERE Title = {}", value), catalog=catalog)
        like = query(format_soql("SELECT Id FROM Contact WHERE Title LIKE '{:like}'", value),
                     catalog=catalog)
    finally:
        catalog.by_id[ALAN]["Title"] = "100% pure_math"
    assert result.ids == [ALAN]
    assert like.ids == [ALAN]


@pytest.mark.parametrize(
    ("condition", "sequence"),
    [
        ("Title = 'a\\qb'", "\\q"),
        ("Title = '100\\%'", "\\%"),
        ("Title = 'pure\\_math'", "\\_"),
        ("Title LIKE 'x\\u12'", "\\u"),
        ("Title LIKE 'x\\ay'", "\\a"),
    ],
)
def test_illegal_escapes_are_malformed(condition, sequence):
    caught = error(f"SELECT Id FROM Contact WHERE {condition}")
    assert caught.error_code == "MALFORMED_QUERY"
    assert caught.message.endswith(f"Illegal character sequence '{sequence}' in string literal.")


# --- dates and datetimes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Birthdate = 1990-05-01", ["Lovelace"]),
        ("Birthdate > 1984-01-01", ["Lovelace", "Turing"]),
        ("Birthdate <= 1985-12-24", ["Turing", "Dijkstra"]),
        ("Birthdate = null", ["Hopper", "liskov"]),
        ("Birthdate != 1990-05-01", ["Hopper", "Turing", "Dijkstra", "liskov"]),
        ("CreatedDate = 2021-09-01T09:00:00Z", ["Lovelace"]),
        ("CreatedDate = 2021-09-01T09:00:00.000+0000", ["Lovelace"]),
        ("CreatedDate = 2021-09-01T11:00:00+02:00", ["Lovelace"]),
        ("CreatedDate = 2021-09-01T04:00:00-05:00", ["Lovelace"]),
        ("CreatedDate = 2021-09-01T04:00:00.000-0500", ["Lovelace"]),
        ("CreatedDate > 2021-09-01T09:00:00Z", ["Hopper", "Turing", "liskov"]),
        ("CreatedDate >= 2021-09-01T09:00:00Z", ["Lovelace", "Hopper", "Turing", "liskov"]),
        ("CreatedDate < 2021-09-01T00:00:00+00:00", ["Dijkstra"]),
        ("CreatedDate > 2021-08-31T23:59:59Z", ["Lovelace", "Hopper", "Turing", "Dijkstra", "liskov"]),
        ("CreatedDate > 2021-08-31T23:59:59.999Z", ["Lovelace", "Hopper", "Turing", "liskov"]),
        ("CreatedDate < 2021-09-01T20:00:00+08:00", ["Lovelace", "Dijkstra"]),
    ],
)
def test_date_and_datetime_literals_compare_instants(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CreatedDate = TODAY", ["liskov"]),
        ("CreatedDate = YESTERDAY", ["Turing"]),
        ("CreatedDate < YESTERDAY", ["Lovelace", "Hopper", "Dijkstra"]),
        ("CreatedDate > YESTERDAY", ["liskov"]),
        ("CreatedDate <= YESTERDAY", ["Lovelace", "Hopper", "Turing", "Dijkstra"]),
        ("CreatedDate >= YESTERDAY", ["Turing", "liskov"]),
        ("CreatedDate != YESTERDAY", ["Lovelace", "Hopper", "Dijkstra", "liskov"]),
        ("CreatedDate = LAST_N_DAYS:2", ["Lovelace", "Hopper", "Turing", "liskov"]),
        ("CreatedDate = LAST_N_DAYS : 0", ["liskov"]),
        ("CreatedDate < LAST_N_DAYS:2", ["Dijkstra"]),
        ("CreatedDate = THIS_WEEK", LIVE),
        ("CreatedDate = LAST_MONTH", ["Dijkstra"]),
        ("CreatedDate = N_DAYS_AGO:3", ["Dijkstra"]),
        ("CreatedDate IN (TODAY, YESTERDAY)", ["Turing", "liskov"]),
        ("Birthdate = THIS_YEAR", []),
        ("Birthdate < LAST_N_YEARS:30", ["Lovelace", "Turing", "Dijkstra"]),
        ("Birthdate < LAST_N_YEARS:35", ["Turing", "Dijkstra"]),
    ],
)
def test_relative_date_literals_use_the_catalog_clock(condition, expected):
    assert where(condition) == expected


def test_relative_date_literals_fall_back_to_the_real_clock():
    catalog = FakeCatalog(now=None)
    today = datetime.now(timezone.utc).date().isoformat()
    catalog.by_id[ALAN]["CreatedDate"] = f"{today}T00:00:00.000+0000"
    try:
        result = query("SELECT Id FROM Contact WHERE CreatedDate = TODAY", catalog=catalog)
    finally:
        catalog.by_id[ALAN]["CreatedDate"] = "2021-09-02T00:00:00.000+0000"
    assert result.ids == [ALAN]


@pytest.mark.parametrize(
    ("literal", "n", "start", "end"),
    [
        ("TODAY", None, date(2021, 9, 3), date(2021, 9, 4)),
        ("TOMORROW", None, date(2021, 9, 4), date(2021, 9, 5)),
        ("THIS_WEEK", None, date(2021, 8, 29), date(2021, 9, 5)),
        ("LAST_WEEK", None, date(2021, 8, 22), date(2021, 8, 29)),
        ("THIS_MONTH", None, date(2021, 9, 1), date(2021, 10, 1)),
        ("NEXT_MONTH", None, date(2021, 10, 1), date(2021, 11, 1)),
        ("THIS_QUARTER", None, date(2021, 7, 1), date(2021, 10, 1)),
        ("LAST_QUARTER", None, date(2021, 4, 1), date(2021, 7, 1)),
        ("LAST_YEAR", None, date(2020, 1, 1), date(2021, 1, 1)),
        ("LAST_90_DAYS", None, date(2021, 6, 5), date(2021, 9, 4)),
        ("NEXT_90_DAYS", None, date(2021, 9, 4), date(2021, 12, 3)),
        ("LAST_N_DAYS", 1, date(2021, 9, 2), date(2021, 9, 4)),
        ("NEXT_N_DAYS", 2, date(2021, 9, 4), date(2021, 9, 6)),
        ("LAST_N_MONTHS", 9, date(2020, 12, 1), date(2021, 9, 1)),
        ("NEXT_N_WEEKS", 1, date(2021, 9, 5), date(2021, 9, 12)),
        ("N_MONTHS_AGO", 9, date(2020, 12, 1), date(2021, 1, 1)),
    ],
)
def test_date_literal_ranges(literal, n, start, end):
    assert date_literal_range(literal, n, date(2021, 9, 3)) == (start, end)


# --- ids and lookups ------------------------------------------------------------------------


def test_ids_accept_15_or_18_characters_and_keyset_comparisons():
    assert where(f"Id = '{GRACE[:15]}'") == ["Hopper"]
    assert where(f"Id = '{GRACE}'") == ["Hopper"]
    assert where(f"Id > '{ALAN}'") == ["Dijkstra", "liskov"]
    assert where(f"AccountId = '{GLOBEX}'") == ["Dijkstra", "liskov"]
    assert where("AccountId = null") == ["Turing"]
    cursor = "CreatedDate > 2021-09-01T09:00:00Z OR (CreatedDate = 2021-09-01T09:00:00Z AND Id > '{}')"
    assert where(cursor.format(ADA)) == ["Hopper", "Turing", "liskov"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Account.Name = 'ACME'", ["Lovelace", "Hopper"]),
        ("Account.Name != 'acme'", ["Turing", "Dijkstra", "liskov"]),
        ("Account.Name = null", ["Turing"]),
        ("Account.Owner.Name LIKE 'olivia%'", ["Lovelace", "Hopper"]),
        ("Account.Owner.Name = null", ["Turing", "Dijkstra", "liskov"]),
    ],
)
def test_parent_fields_in_where(condition, expected):
    assert where(condition) == expected


# --- ORDER BY, LIMIT, OFFSET ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("LastName", ["Dijkstra", "Hopper", "liskov", "Lovelace", "Turing"]),
        ("LastName DESC", ["Turing", "Lovelace", "liskov", "Hopper", "Dijkstra"]),
        ("Score__c", ["Turing", "Dijkstra", "liskov", "Hopper", "Lovelace"]),
        ("Score__c ASC NULLS LAST", ["Dijkstra", "liskov", "Hopper", "Lovelace", "Turing"]),
        ("Score__c DESC", ["Lovelace", "Hopper", "liskov", "Dijkstra", "Turing"]),
        ("Score__c DESC NULLS FIRST", ["Turing", "Lovelace", "Hopper", "liskov", "Dijkstra"]),
        ("HasOptedOutOfEmail, LastName DESC", ["Turing", "Lovelace", "Dijkstra", "liskov", "Hopper"]),
        ("HasOptedOutOfEmail DESC, Birthdate DESC NULLS LAST, Id",
         ["Hopper", "liskov", "Lovelace", "Turing", "Dijkstra"]),
        ("Account.Name, Email DESC", ["Turing", "Hopper", "Lovelace", "Dijkstra", "liskov"]),
        ("Account.Name DESC NULLS LAST, CreatedDate",
         ["Dijkstra", "liskov", "Lovelace", "Hopper", "Turing"]),
        ("CreatedDate DESC, Id DESC", ["liskov", "Turing", "Hopper", "Lovelace", "Dijkstra"]),
    ],
)
def test_order_by(order, expected, monkeypatch):
    text = f"SELECT Id FROM Contact ORDER BY {order}"
    assert names(text) == expected
    assert names(f"{text} LIMIT 3") == expected[:3]  # heap selection
    assert names(f"{text} LIMIT 2 OFFSET 2") == expected[2:4]
    monkeypatch.setattr(soql_order, "HEAP_SELECT_MAX", 0)  # full sort
    assert names(f"{text} LIMIT 3") == expected[:3]


def test_limit_and_offset_without_order_follow_store_order():
    assert names("SELECT Id FROM Contact LIMIT 2") == ["Lovelace", "Hopper"]
    assert names("SELECT Id FROM Contact LIMIT 0") == []
    assert names("SELECT Id FROM Contact OFFSET 3") == ["Dijkstra", "liskov"]
    assert names("SELECT Id FROM Contact LIMIT 10 OFFSET 4") == ["liskov"]
    assert names("SELECT Id FROM Contact OFFSET 2000") == []
    assert query("SELECT Id FROM Contact LIMIT 2 OFFSET 1").total_size == 2


def test_limit_stops_reading_the_stream():
    class Endless(FakeCatalog):
        def iter_records(self, sobject, include_deleted):
            while True:
                yield from RECORDS["Contact"][:5]

    assert len(query("SELECT Id FROM Contact WHERE Email != null LIMIT 7", catalog=Endless()).ids) == 7


# --- errors -------------------------------------------------------------------------------------

NO_COLUMN_TAIL = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom "
    "field name. Please reference your WSDL or the describe call for the appropriate names."
)


def test_unknown_column_is_reported_where_salesforce_points():
    caught = error("SELECT Id, Foo FROM Contact")
    assert caught.error_code == "INVALID_FIELD"
    assert caught.message == (
        "\nSELECT Id, Foo FROM Contact\n           ^\nERROR at Row:1:Column:12\n"
        f"No such column 'Foo' on entity 'Contact'. {NO_COLUMN_TAIL}"
    )


@pytest.mark.parametrize(
    ("text", "code", "tail"),
    [
        ("SELECT Id FROM Contact WHERE Bogus__c = 1", "INVALID_FIELD",
         f"No such column 'Bogus__c' on entity 'Contact'. {NO_COLUMN_TAIL}"),
        ("SELECT Id FROM Contact ORDER BY Nope", "INVALID_FIELD",
         f"No such column 'Nope' on entity 'Contact'. {NO_COLUMN_TAIL}"),
        ("SELECT Account.Nope FROM Contact", "INVALID_FIELD",
         f"No such column 'Nope' on entity 'Account'. {NO_COLUMN_TAIL}"),
        ("SELECT Who.Nope FROM Task", "INVALID_FIELD",
         f"No such column 'Nope' on entity 'Name'. {NO_COLUMN_TAIL}"),
        ("SELECT Foo.Name FROM Contact", "INVALID_FIELD",
         "Didn't understand relationship 'Foo' in field path. If you are attempting to use a "
         "custom relationship, be sure to append the '__r' after the custom relationship name. "
         "Please reference your WSDL or the describe call for the appropriate names."),
        ("SELECT Account.Foo.Name FROM Contact", "INVALID_FIELD",
         "Didn't understand relationship 'Foo' in field path."),
        ("SELECT AccountId.Name FROM Contact", "INVALID_FIELD",
         "Didn't understand relationship 'AccountId' in field path."),
        ("SELECT Id FROM Foo", "INVALID_TYPE",
         "sObject type 'Foo' is not supported. If you are attempting to use a custom object, be "
         "sure to append the '__c' after the entity name. Please reference your WSDL or the "
         "describe call for the appropriate names."),
        ("SELECT Id FROM Contact WHERE Description = 'x'", "INVALID_FIELD",
         "field 'Description' can not be filtered in a query call"),
        ("SELECT Id FROM Contact ORDER BY Description", "INVALID_FIELD",
         "field 'Description' can not be sorted in a query call"),
    ],
)
def test_unknown_names(text, code, tail):
    caught = error(text)
    assert caught.error_code == code
    assert tail in caught.message
    assert caught.message.startswith(f"\n{text}\n")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("CreatedDate > '2021-09-01T09:00:00Z'",
         "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"),
        ("CreatedDate > 2021-09-01",
         "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"),
        ("Birthdate = '1990-05-01'",
         "value of filter criterion for field 'Birthdate' must be of type date and should not be enclosed in quotes"),
        ("Birthdate = 1990-05-01T00:00:00Z",
         "value of filter criterion for field 'Birthdate' must be of type date and should not be enclosed in quotes"),
        ("Score__c > '5'",
         "value of filter criterion for field 'Score__c' must be of type double and should not be enclosed in quotes"),
        ("Pets__c = true",
         "value of filter criterion for field 'Pets__c' must be of type integer and should not be enclosed in quotes"),
        ("HasOptedOutOfEmail = 'true'",
         "value of filter criterion for field 'HasOptedOutOfEmail' must be of type boolean and should not be enclosed in quotes"),
        ("LastName = 5",
         "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"),
        ("Email = 2021-09-01",
         "value of filter criterion for field 'Email' must be of type string and should be enclosed in quotes"),
        ("LastName IN ('a', TODAY)",
         "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"),
        ("LastName LIKE 5",
         "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"),
    ],
)
def test_literal_of_the_wrong_type(condition, message):
    caught = error(f"SELECT Id FROM Contact WHERE {condition}")
    assert caught.error_code == "INVALID_FIELD"
    assert caught.message.endswith(f"\n{message}")
    assert "^\nERROR at Row:1:Column:30\n" in caught.message


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("Id LIKE '003%'", "invalid operator on id field"),
        ("HasOptedOutOfEmail > false", "invalid operator on boolean field"),
        ("Score__c LIKE '1%'", "invalid operator on double field"),
        ("Id = 'abc'", "invalid ID field: abc"),
        ("AccountId IN ('001000000000000AAAX')", "invalid ID field: 001000000000000AAAX"),
    ],
)
def test_invalid_filter_operators(condition, message):
    caught = error(f"SELECT Id FROM Contact WHERE {condition}")
    assert caught.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert caught.message.endswith(f"\n{message}")


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("SELECT Id Contact", "Contact"),
        ("SELECT Id FROM", "<EOF>"),
        ("SELECT FROM Contact", "FROM"),
        ("SELECT Id, FROM Contact", "FROM"),
        ("SELECT Id FROM Contact WHERE", "<EOF>"),
        ("SELECT Id FROM Contact WHERE Email", "<EOF>"),
        ("SELECT Id FROM Contact WHERE Email = ", "<EOF>"),
        ("SELECT Id FROM Contact WHERE Email == 'x'", "="),
        ("SELECT Id FROM Contact WHERE (Email = 'x'", "<EOF>"),
        ("SELECT Id FROM Contact WHERE Email = 'x')", ")"),
        ("SELECT Id FROM Contact WHERE Email IN ()", ")"),
        ("SELECT Id FROM Contact WHERE Email NOT LIKE 'x'", "LIKE"),
        ("SELECT Id FROM Contact WHERE Email = \"x\"", '"'),
        ("SELECT Id FROM Contact WHERE CreatedDate > 2021-09-01T09:00:00", "2021-09-01T09:00:00"),
        ("SELECT Id FROM Contact WHERE CreatedDate > 2021-02-30T09:00:00Z", "2021-02-30T09:00:00Z"),
        ("SELECT Id FROM Contact WHERE Birthdate = 2021-13-01", "2021-13-01"),
        ("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS", "<EOF>"),
        ("SELECT Id FROM Contact WHERE CreatedDate = THIS_FISCAL_YEAR", "THIS_FISCAL_YEAR"),
        ("SELECT Id FROM Contact WHERE Score__c = 1e5", "1e5"),
        ("SELECT Id FROM Contact ORDER BY LastName NULLS", "<EOF>"),
        ("SELECT Id FROM Contact ORDER BY LastName DESC ASC", "ASC"),
        ("SELECT Id FROM Contact LIMIT -1", "-1"),
        ("SELECT Id FROM Contact LIMIT 1.5", "1.5"),
        ("SELECT Id FROM Contact OFFSET 1 LIMIT 1", "LIMIT"),
        ("SELECT Id FROM Contact GROUP BY LastName", "GROUP"),
        ("SELECT COUNT(Id) FROM Contact", "Id"),
        ("SELECT Id FROM Contact;", ";"),
        ("SELECT Id FROM Contact WHERE Account. = 'x'", "."),
    ],
)
def test_syntax_errors_name_the_unexpected_token(text, token):
    caught = error(text)
    assert caught.error_code == "MALFORMED_QUERY"
    assert caught.message.endswith(f"\nunexpected token: '{token}'")


def test_syntax_error_position_on_a_later_line():
    caught = error("SELECT Id\nFROM Contact\nWHERE Email = = 'x'")
    assert caught.message == (
        "\nWHERE Email = = 'x'\n              ^\nERROR at Row:3:Column:15\nunexpected token: '='"
    )


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("", "MALFORMED_QUERY", "SOQL statements cannot be empty or null"),
        ("SELECT Id FROM Contact WHERE Email = 'x", "MALFORMED_QUERY",
         "mismatched character '<EOF>' expecting '''"),
        ("SELECT Id FROM Contact OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE",
         "Maximum SOQL offset allowed is 2000"),
        ("SELECT Id, LastName, id FROM Contact", "INVALID_FIELD", "duplicate field selected: id"),
        ("SELECT Account.Name, account.NAME FROM Contact", "INVALID_FIELD",
         "duplicate field selected: account.NAME"),
        ("SELECT Id FROM Contact WHERE " + "(" * 101 + "Email = null" + ")" * 101,
         "QUERY_TOO_COMPLICATED",
         "Query is either selecting too many fields or the filter conditions are too complicated."),
        ("SELECT Id FROM Contact WHERE " + "NOT " * 500 + "Email = null", "QUERY_TOO_COMPLICATED",
         "Query is either selecting too many fields or the filter conditions are too complicated."),
        ("SELECT Id FROM Contact LIMIT 2147483648", "MALFORMED_QUERY",
         'For input string: "2147483648"'),
    ],
)
def test_other_refusals(text, code, message):
    caught = error(text)
    assert caught.error_code == code
    assert caught.message.endswith(message)
