"""The control API: counters, limits, records, clock, reset, lead conversion, purge, seed."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceRefusedRequest

from sfemulator import ControlError, Emulator

from .conftest import Api, error_of


def test_counters_by_kind(org: Emulator, sf: Salesforce, api: Api) -> None:
    contact_id = sf.Contact.create({"LastName": "K"})["id"]
    sf.Contact.get(contact_id)
    sf.Contact.update(contact_id, {"Title": "T"})
    sf.Contact.upsert("Forcebridge_Id__c/x", {"LastName": "U"})
    sf.query("SELECT Id FROM Contact")
    sf.Contact.describe()
    sf.limits()
    sf.restful("composite/sobjects", method="POST", json={"records": []})
    sf.Contact.delete(contact_id)
    api("GET", "nope")  # unknown resource: not counted
    assert org.control.counters() == {
        "sobject-create": 1, "sobject-get": 1, "sobject-update": 1, "sobject-upsert": 1,
        "query": 1, "describe": 1, "limits": 1, "composite": 1, "sobject-delete": 1}
    org.control.clear_counters()
    assert org.control.counters() == {}


def test_limits_and_usage_header(org: Emulator, sf: Salesforce) -> None:
    org.control.set_limits(max=100, used=40)
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 100, "Remaining": 59}
    assert set(limits["DailyBulkApiRequests"]) == {"Max", "Remaining"}
    usage = sf.api_usage["api-usage"]
    assert (usage.used, usage.total) == (41, 100)


def test_daily_limit_refuses_calls(org: Emulator, sf: Salesforce, api: Api) -> None:
    org.control.set_limits(max=5, used=5)
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Contact")
    assert caught.value.content == [{"message": "TotalRequests Limit exceeded.",
                                     "errorCode": "REQUEST_LIMIT_EXCEEDED", "fields": []}]
    reply = api("GET", "limits/")
    assert error_of(reply)[:2] == (403, "REQUEST_LIMIT_EXCEEDED")
    assert org.control.usage()["daily_used"] == 5


def test_records_bypass_api_counting(org: Emulator, sf: Salesforce) -> None:
    ids = org.control.insert("Account", {"Name": "A"}, {"Name": "B"})
    assert [r["Name"] for r in org.control.records("Account")] == ["A", "B"]
    org.control.update("Account", ids[0], {"Name": "A2"})
    org.control.update("Account", ids[1], {"SystemModstamp": "2020-01-01T00:00:00.000+0000"},
                       raw=True)
    assert org.control.record("Account", ids[1])["SystemModstamp"] == \
        "2020-01-01T00:00:00.000+0000"
    org.control.delete("Account", ids[0])
    assert [r["Id"] for r in org.control.records("Account", include_deleted=True)] == ids
    assert org.control.counters() == {}
    with pytest.raises(ControlError) as caught:
        org.control.insert("Account", {"Website": "x"})
    assert caught.value.status == 400
    assert caught.value.body[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_undelete_and_hard_delete(org: Emulator, sf: Salesforce) -> None:
    contact_id = sf.Contact.create({"LastName": "U"})["id"]
    sf.Contact.delete(contact_id)
    org.control.undelete(contact_id)
    assert sf.Contact.get(contact_id)["IsDeleted"] is False
    org.control.delete("Contact", contact_id, hard=True)
    assert sf.query_all("SELECT Id FROM Contact", include_deleted=True)["totalSize"] == 0


def test_clock_freeze_advance_unfreeze(org: Emulator) -> None:
    frozen = org.control.clock(freeze="2021-09-01T09:00:00+02:00")
    assert frozen == {"now": "2021-09-01T07:00:00.000+0000", "frozen": True}
    assert org.control.clock(advance=0.25)["now"] == "2021-09-01T07:00:00.250+0000"
    assert org.control.clock(unfreeze=True)["frozen"] is False
    with pytest.raises(ControlError):
        org.control.clock(freeze="2021-09-01T09:00:00")  # naive


def test_reset_empties_everything(org: Emulator, sf: Salesforce, token: dict) -> None:
    sf.Contact.create({"LastName": "R"})
    org.control.faults(latency_ms=1)
    org.control.settings(rotate_refresh_tokens=True)
    org.control.reset()
    assert org.org.get_record(org.org.user_id) is not None
    assert org.control.records("Contact") == []
    assert org.control.counters() == {}
    assert org.control.settings()["rotate_refresh_tokens"] is False
    assert org.org.faults.latency_ms == 0
    assert org.org.sessions.check(token["access_token"]) is None  # sessions are gone too


def test_convert_lead_through_control(org: Emulator, sf: Salesforce) -> None:
    lead_id = sf.Lead.create({"LastName": "L", "Company": "LCo"})["id"]
    result = org.control.convert_lead(lead_id, create_opportunity=False)
    assert result["opportunityId"] is None and result["contactId"].startswith("003")
    with pytest.raises(ControlError) as caught:
        org.control.convert_lead(lead_id)
    assert caught.value.body[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_seed_through_control(org: Emulator, sf: Salesforce) -> None:
    counts = org.control.seed(30)
    assert counts["Contact"] == 30
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 30


def test_minted_sandbox_session(org: Emulator) -> None:
    token = org.control.session(login_host="sandbox")
    assert token["id"].startswith(org.sandbox_login_url)
    grants = org.control.sessions()["grants"]
    assert grants[0]["login_host"] == "sandbox"
