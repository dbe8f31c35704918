"""Every fault switch, observed through simple-salesforce."""

from __future__ import annotations

import time

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from sfemulator import Emulator

from .conftest import Api, error_of, http_session


def test_expire_sessions_now(org: Emulator, sf: Salesforce, token: dict) -> None:
    sf.query("SELECT Id FROM Contact")
    org.control.faults(expire_sessions=True)
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact")
    refreshed = http_session(org).post(f"{org.login_url}/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "client_id": org.client_id, "client_secret": org.client_secret})
    assert refreshed.status_code == 200  # refresh tokens survive
    assert org.control.expire_sessions() == 1


def test_limit_after_n_calls(org: Emulator, sf: Salesforce, api: Api) -> None:
    """Exactly N more calls succeed; limits/ and the header agree with the refusal."""
    org.control.set_limits(used=40)
    assert org.control.faults(limit_after=2)["limit_after"] == 2
    sf.query("SELECT Id FROM Contact")
    assert sf.limits()["DailyApiRequests"] == {"Max": 42, "Remaining": 0}
    assert sf.api_usage["api-usage"].used == 42 and sf.api_usage["api-usage"].total == 42
    refused = api("GET", "query/", params={"q": "SELECT Id FROM Contact"})
    assert error_of(refused)[:2] == (403, "REQUEST_LIMIT_EXCEEDED")
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=42/42"
    with pytest.raises(SalesforceRefusedRequest):
        sf.limits()
    org.control.faults(limit_after=None)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert sf.api_usage["api-usage"].total == 15000
    org.control.faults(limit_after=0)
    org.control.clear_faults()  # clearing every fault restores the max too
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000


def test_daily_limit_refusal_carries_the_usage_header(org: Emulator, api: Api) -> None:
    org.control.set_limits(max=10, used=10)
    refused = api("GET", "limits/")
    assert error_of(refused) == (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=10/10"


@pytest.mark.parametrize(("status", "code"), [(500, "UNKNOWN_EXCEPTION"),
                                              (503, "SERVER_UNAVAILABLE")])
def test_fail_next_calls_with_server_errors(org: Emulator, sf: Salesforce, api: Api,
                                            status: int, code: str) -> None:
    """An injected failure is a counted call: it uses quota and carries the usage header."""
    org.control.faults(fail_next={"count": 2, "status": status})
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Contact")
    assert caught.value.status == status
    assert caught.value.content[0]["errorCode"] == code
    failed = api("GET", "query/", params={"q": "SELECT Id FROM Contact"})
    assert error_of(failed)[:2] == (status, code)
    assert failed.headers["Sforce-Limit-Info"] == "api-usage=2/15000"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert org.control.usage()["daily_used"] == 3
    assert org.control.counters()["query"] == 3


def test_fail_next_only_for_some_kinds(org: Emulator, sf: Salesforce) -> None:
    org.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["sobject-create"]})
    sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceGeneralError):
        sf.Contact.create({"LastName": "X"})
    assert sf.Contact.create({"LastName": "X"})["success"]


def test_unable_to_lock_row(org: Emulator, sf: Salesforce, api: Api) -> None:
    contact_id = sf.Contact.create({"LastName": "L"})["id"]
    org.control.faults(fail_next={"count": 2, "status": 400, "error_code": "UNABLE_TO_LOCK_ROW"})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(contact_id, {"Title": "T"})
    assert caught.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    reply = api("PATCH", "composite/sobjects", json={"records": [
        {"attributes": {"type": "Contact"}, "id": contact_id, "Title": "T"}]})
    results = reply.json()
    assert reply.status_code == 200 and results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    # Both failures were counted calls, the single-record one and the collection alike.
    assert reply.headers["Sforce-Limit-Info"] == "api-usage=3/15000"
    assert sf.Contact.get(contact_id)["Title"] is None
    sf.Contact.update(contact_id, {"Title": "T"})
    assert sf.Contact.get(contact_id)["Title"] == "T"


@pytest.mark.parametrize(("status", "error"), [(503, "temporarily_unavailable"),
                                               (500, "server_error")])
def test_fail_next_token_endpoint(org: Emulator, token: dict, status: int, error: str) -> None:
    org.control.faults(fail_next={"count": 1, "status": status, "kinds": ["oauth-token"]})
    form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
            "client_id": org.client_id, "client_secret": org.client_secret}
    url = f"{org.login_url}/services/oauth2/token"
    failed = http_session(org).post(url, data=form)
    assert failed.status_code == status
    assert failed.json()["error"] == error and failed.json()["error_description"]
    assert set(failed.json()) == {"error", "error_description"}
    assert http_session(org).post(url, data=form).status_code == 200
    assert org.control.usage()["daily_used"] == 0  # token calls use no API quota


def test_latency(org: Emulator, sf: Salesforce) -> None:
    org.control.faults(latency_ms=150)
    started = time.monotonic()
    sf.query("SELECT COUNT() FROM Contact")
    assert time.monotonic() - started >= 0.15
    org.control.faults(latency_ms=0)


def test_unknown_fault_switch_is_an_error(org: Emulator) -> None:
    reply = http_session(org).post(f"{org.base_url}/__emulator__/faults",
                                   json={"latency": 5})
    assert reply.status_code == 400 and "latency" in reply.json()["error"]
