"""API limits, the daily budget, retries and typed errors, against the emulator's faults."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.utils import timezone

from connections.client import SalesforceClient
from connections.errors import (
    ConnectionDisabled,
    QuotaExhausted,
    SalesforceRejected,
    Transient,
    never_sent,
)
from connections.models import Connection
from tests.salesforce_fixtures import emulator_http
from tests.waiting import settled, wait_until

pytestmark = pytest.mark.django_db


def test_usage_is_recorded_from_every_response(emulator, connection, sf_client):
    emulator.control.set_limits(max=20000, used=1234)
    sf_client.limits()
    connection.refresh_from_db()
    assert (connection.api_usage_used, connection.api_usage_max) == (1235, 20000)
    assert connection.api_usage_at is not None
    # Composite and bulk responses carry the header too, and update the row.
    sf_client.collection("create", "Account", [{"Name": "Acme"}])
    list(sf_client.bulk_query("SELECT Id FROM Account"))
    connection.refresh_from_db()
    assert connection.api_usage_used == emulator.control.usage()["daily_used"]
    assert sf_client.api_calls == connection.api_usage_used - 1234


def test_request_limit_exceeded_raises_quota_exhausted_and_shows(emulator, connection,
                                                                 sf_client, staff_client):
    emulator.control.faults(limit_after=2)
    sf_client.limits()
    sf_client.limits()
    with pytest.raises(QuotaExhausted, match="REQUEST_LIMIT_EXCEEDED"):
        sf_client.limits()
    assert sf_client.api_calls == 3  # not retried

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.ERROR
    assert "daily API limit is exhausted (REQUEST_LIMIT_EXCEEDED)" in stored.last_error
    page = staff_client.get(stored.get_absolute_url()).content.decode()
    assert 'id="connection-status"' in page and ">Error</strong>" in page
    assert "REQUEST_LIMIT_EXCEEDED" in page
    listing = staff_client.get("/admin/connections/connection/").content.decode()
    assert ">Error</strong>" in listing

    # Once Salesforce answers again, the connection is healthy again.
    emulator.control.clear_faults()
    sf_client.limits()
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.CONNECTED


def test_budget_stops_calls_before_the_org_limit(emulator, connection, sf_client):
    emulator.control.set_limits(max=100, used=45)
    connection.daily_budget_percent = 50
    connection.save()
    calls = 0
    with pytest.raises(QuotaExhausted, match="budget is spent"):
        for _ in range(20):
            sf_client.count("SELECT COUNT() FROM Account")
            calls += 1
    assert calls == 5
    usage = emulator.control.usage()
    assert usage["daily_used"] == 50 < usage["daily_max"]
    assert emulator.control.counters().get("refused", 0) == 0
    # The refusal is remembered without calling Salesforce again.
    before = emulator.control.counters()["query"]
    with pytest.raises(QuotaExhausted):
        SalesforceClient.for_connection(Connection.objects.get(pk=connection.pk)).count(
            "SELECT COUNT() FROM Account")
    assert emulator.control.counters()["query"] == before
    stored = Connection.objects.get(pk=connection.pk)
    assert "stops at 50% (50)" in stored.last_error
    assert stored.status == Connection.Status.CONNECTED


def test_503_bursts_are_retried_then_succeed(emulator, sf_client):
    emulator.control.faults(fail_next={"count": 3, "status": 503})
    assert sf_client.limits()["DailyApiRequests"]["Max"] == 15000
    assert sf_client.api_calls == 4


def test_unable_to_lock_row_is_retried(emulator, sf_client):
    emulator.control.faults(fail_next={"count": 2, "status": 400, "kinds": ["query"]})
    assert list(sf_client.query_pages("SELECT Id FROM Account")) == [[]]
    assert sf_client.api_calls == 3


def test_locked_records_in_a_collection_are_sent_again(emulator, sf_client):
    emulator.control.faults(fail_next={"count": 1, "status": 400, "kinds": ["composite"]})
    results = sf_client.collection("create", "Account", [{"Name": "A"}, {"Name": "B"}])
    assert [r["success"] for r in results] == [True, True]
    assert len(emulator.control.records("Account")) == 2


def test_persistent_failure_becomes_transient_after_the_retries(emulator, sf_client, settings):
    settings.SALESFORCE_MAX_RETRIES = 2
    emulator.control.faults(fail_next={"count": 10, "status": 500})
    with pytest.raises(Transient, match="UNKNOWN_EXCEPTION"):
        sf_client.limits()
    assert sf_client.api_calls == 3


def test_read_timeouts_are_retried(emulator, sf_client, settings):
    settings.SALESFORCE_READ_TIMEOUT = 0.3
    settings.SALESFORCE_MAX_RETRIES = 1
    emulator.control.faults(latency_ms=600)
    with pytest.raises(Transient, match="did not answer in time"):
        sf_client.limits()
    # The emulator counts a call after its latency, when the client has gone.
    assert settled(lambda: emulator.control.counters().get("limits", 0), 2, 0.6) == 2


def test_a_create_that_timed_out_is_not_sent_twice(emulator, sf_client, settings):
    settings.SALESFORCE_READ_TIMEOUT = 0.3
    emulator.control.faults(latency_ms=600)
    with pytest.raises(Transient):
        sf_client.collection("create", "Account", [{"Name": "Once"}])
    assert settled(lambda: emulator.control.counters().get("composite", 0), 1, 0.6) == 1
    assert wait_until(lambda: [r["Name"] for r in emulator.control.records("Account")]
                      == ["Once"], 10)


def test_rejections_are_typed_and_not_retried(emulator, sf_client):
    with pytest.raises(SalesforceRejected) as caught:
        list(sf_client.query_pages("SELECT Nope FROM Account"))
    assert caught.value.error_code == "INVALID_FIELD"
    assert caught.value.status == 400
    assert "Nope" in caught.value.message
    assert sf_client.api_calls == 1


def test_disabled_connection_makes_no_call(emulator, connection):
    connection.enabled = False
    connection.save()
    assert connection.status == Connection.Status.DISABLED
    with pytest.raises(ConnectionDisabled, match="'Emulator org' is disabled"):
        SalesforceClient.for_connection(connection)
    connection.enabled = True
    connection.save()
    assert connection.status == Connection.Status.CONNECTED


def _spend_budget(emulator, connection: Connection, client: SalesforceClient) -> None:
    emulator.control.set_limits(max=100, used=60)
    connection.daily_budget_percent = 50
    connection.save()
    client.count("SELECT COUNT() FROM Account")  # learns the usage: 61 of 100
    with pytest.raises(QuotaExhausted, match="budget is spent"):
        client.count("SELECT COUNT() FROM Account")
    assert "budget is spent" in Connection.objects.get(pk=connection.pk).last_error


def test_a_spent_budget_is_read_again_after_a_while(emulator, connection, sf_client, settings):
    settings.FORCEBRIDGE_BUDGET_RECHECK_MINUTES = 15
    _spend_budget(emulator, connection, sf_client)
    emulator.control.set_limits(used=10)  # the rolling day moved on; other apps stopped
    with pytest.raises(QuotaExhausted):  # a fresh reading is trusted: no limits call
        sf_client.count("SELECT COUNT() FROM Account")
    assert emulator.control.counters().get("limits", 0) == 0

    sf_client.connection.api_usage_at = timezone.now() - dt.timedelta(minutes=16)
    assert sf_client.count("SELECT COUNT() FROM Account") == 0
    assert emulator.control.counters()["limits"] == 1
    assert Connection.objects.get(pk=connection.pk).api_usage_used == 12
    # Calls resumed: the connection no longer says its budget is spent.
    assert Connection.objects.get(pk=connection.pk).last_error == ""


def test_limits_and_the_test_button_work_while_the_budget_is_spent(emulator, connection,
                                                                   sf_client, oauth_client):
    _spend_budget(emulator, connection, sf_client)
    assert sf_client.limits()["DailyApiRequests"]["Remaining"] == 100 - 62
    response = oauth_client.post(f"/admin/connections/connection/{connection.pk}/test/",
                                 follow=True)
    assert "Salesforce answered: org" in response.content.decode()


def test_a_create_that_failed_with_5xx_is_not_sent_again(emulator, sf_client):
    emulator.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["composite"]})
    with pytest.raises(Transient, match="not retried"):
        sf_client.collection("create", "Account", [{"Name": "Maybe"}])
    assert sf_client.api_calls == 1
    # An update is idempotent: the same failure is retried.
    (created,) = sf_client.collection("create", "Account", [{"Name": "Once"}])
    emulator.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["composite"]})
    (updated,) = sf_client.collection("update", "Account", [{"Id": created["id"], "Name": "Twice"}])
    assert updated["success"]


def test_only_requests_that_never_left_count_as_unsent(emulator, settings):
    http = emulator_http(emulator)
    with pytest.raises(requests.ConnectionError) as refused:
        http.get("https://127.0.0.1:9/", timeout=5)  # nothing listens on the discard port
    assert never_sent(refused.value)
    emulator.control.faults(latency_ms=600)
    with pytest.raises(requests.ReadTimeout) as slow:
        http.get(emulator.base_url + "/services/data/", timeout=(5, 0.2))
    assert not never_sent(slow.value)


def test_client_closes_its_connections(emulator, connection):
    with SalesforceClient.for_connection(connection) as client:
        assert client.limits()
    assert client._sf is None
    assert client.limits()  # a closed client still works; it reconnects
