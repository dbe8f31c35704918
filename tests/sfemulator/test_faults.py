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

from .conftest import http_session


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


def test_limit_after_n_calls(org: Emulator, sf: Salesforce) -> None:
    org.control.faults(limit_after=2)
    sf.query("SELECT Id FROM Contact")
    sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Contact")
    assert caught.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    with pytest.raises(SalesforceRefusedRequest):
        sf.limits()
    org.control.faults(limit_after=None)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


@pytest.mark.parametrize(("status", "code"), [(500, "UNKNOWN_EXCEPTION"),
                                              (503, "SERVER_UNAVAILABLE")])
def test_fail_next_calls_with_server_errors(org: Emulator, sf: Salesforce, status: int,
                                            code: str) -> None:
    org.control.faults(fail_next={"count": 2, "status": status})
    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as caught:
            sf.query("SELECT Id FROM Contact")
        assert caught.value.status == status
        assert caught.value.content[0]["errorCode"] == code
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert org.control.usage()["daily_used"] == 1  # failed calls used no quota


def test_fail_next_only_for_some_kinds(org: Emulator, sf: Salesforce) -> None:
    org.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["sobject-create"]})
    sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceGeneralError):
        sf.Contact.create({"LastName": "X"})
    assert sf.Contact.create({"LastName": "X"})["success"]


def test_unable_to_lock_row(org: Emulator, sf: Salesforce) -> None:
    contact_id = sf.Contact.create({"LastName": "L"})["id"]
    org.control.faults(fail_next={"count": 2, "status": 400, "error_code": "UNABLE_TO_LOCK_ROW"})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(contact_id, {"Title": "T"})
    assert caught.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "id": contact_id, "Title": "T"}]})
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Contact.get(contact_id)["Title"] is None
    sf.Contact.update(contact_id, {"Title": "T"})
    assert sf.Contact.get(contact_id)["Title"] == "T"


def test_fail_next_token_endpoint(org: Emulator, token: dict) -> None:
    org.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["oauth-token"]})
    form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
            "client_id": org.client_id, "client_secret": org.client_secret}
    url = f"{org.login_url}/services/oauth2/token"
    assert http_session(org).post(url, data=form).status_code == 503
    assert http_session(org).post(url, data=form).status_code == 200


def test_latency(org: Emulator, sf: Salesforce) -> None:
    org.control.faults(latency_ms=150)
    started = time.monotonic()
    sf.query("SELECT COUNT() FROM Contact")
    assert time.monotonic() - started >= 0.15
    org.control.faults(latency_ms=0)


def test_bulk_mode_switch_reaches_the_org(org: Emulator) -> None:
    assert org.control.faults(bulk_mode="hang")["bulk_mode"] == "hang"
    assert org.org.faults.bulk_mode == "hang"
    org.control.faults(bulk_mode="fail")
    assert org.org.faults.bulk_mode == "fail"
    org.control.clear_faults()
    assert org.org.faults.bulk_mode is None


def test_unknown_fault_switch_is_an_error(org: Emulator) -> None:
    reply = http_session(org).post(f"{org.base_url}/__emulator__/faults",
                                   json={"latency": 5})
    assert reply.status_code == 400 and "latency" in reply.json()["error"]
