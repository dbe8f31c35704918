"""Token refresh: on expiry mid-call, exactly once across workers, and when it stops working."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection
from django.db import transaction

from connections import oauth
from connections.client import SalesforceClient
from connections.crypto import encrypt
from connections.errors import AuthError, InsideTransaction, QuotaExhausted, Transient
from connections.models import Connection
from tests.salesforce_fixtures import connect, emulator_http


def _grant(emulator) -> dict:
    (grant,) = [g for g in emulator.control.sessions()["grants"] if not g["revoked"]]
    return grant


@pytest.mark.django_db
def test_session_expiring_between_pages_is_refreshed(emulator, connection, sf_client):
    emulator.control.insert("Account", *({"Name": f"Acme {n:03}"} for n in range(450)),
                            load=True)
    old_token = connection.access_token
    pages = sf_client.query_pages("SELECT Id, Name FROM Account ORDER BY Name", batch_size=200)
    first = next(pages)
    assert emulator.control.expire_sessions() >= 1

    rest = list(pages)
    names = [r["Name"] for page in [first, *rest] for r in page]
    assert names == [f"Acme {n:03}" for n in range(450)]
    assert [len(p) for p in [first, *rest]] == [200, 200, 50]
    assert _grant(emulator)["refreshes"] == 1
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.access_token != old_token and stored.access_token == connection.access_token
    assert stored.status == Connection.Status.CONNECTED


@pytest.mark.django_db
def test_a_waiting_worker_reuses_the_token_another_one_got(emulator, connection):
    stale = connection.access_token_encrypted
    # Another worker refreshed already: the stored token is no longer the stale one.
    Connection.objects.filter(pk=connection.pk).update(access_token_encrypted=encrypt("fresher"))
    assert oauth.refresh_access_token(connection, stale) is False
    assert connection.access_token == "fresher"
    assert _grant(emulator)["refreshes"] == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_hitting_an_expired_session_refresh_once(emulator, connection):
    """Rotation on: a second refresh with the same refresh token would fail with invalid_grant."""
    emulator.control.settings(rotate_refresh_tokens=True)
    old_refresh = connection.refresh_token
    emulator.control.expire_sessions()
    # Latency widens the window in which both workers hold the dead token.
    emulator.control.faults(latency_ms=150)
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def worker(number: int) -> None:
        try:
            client = SalesforceClient.for_connection(Connection.objects.get(pk=connection.pk))
            barrier.wait(timeout=10)
            results[number] = client.limits()["DailyApiRequests"]["Max"]
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[number] = error
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert results == {1: 15000, 2: 15000}
    counters = emulator.control.counters()
    assert counters["unauthorized"] == 2, counters
    assert counters["oauth-token"] == 2, counters  # the code exchange and ONE refresh
    assert _grant(emulator)["refreshes"] == 1
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.refresh_token != old_refresh
    assert stored.status == Connection.Status.CONNECTED
    # The rotated refresh token was persisted: the next expiry refreshes with it.
    emulator.control.faults(latency_ms=0)
    emulator.control.expire_sessions()
    assert SalesforceClient.for_connection(stored).limits()
    assert _grant(emulator)["refreshes"] == 2


@pytest.mark.django_db
def test_revoked_refresh_token_needs_reauthorization(emulator, connection, sf_client,
                                                      staff_client):
    emulator_http(emulator).post(emulator.login_url + "/services/oauth2/revoke",
                                 data={"token": connection.refresh_token}, timeout=10)
    with pytest.raises(AuthError, match="needs re-authorization"):
        sf_client.limits()

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.NEEDS_REAUTH
    assert "invalid_grant" in stored.last_error
    with pytest.raises(AuthError):
        SalesforceClient.for_connection(stored)
    page = staff_client.get(stored.get_absolute_url()).content.decode()
    assert "Needs re-authorization" in page and 'id="reconnect"' in page


@pytest.mark.django_db
def test_a_stale_copy_never_writes_back_an_old_refresh_token(emulator, connection):
    stale = Connection.objects.get(pk=connection.pk)
    emulator.control.settings(rotate_refresh_tokens=True)
    emulator.control.expire_sessions()
    SalesforceClient.for_connection(connection).limits()  # refreshes and rotates
    rotated = Connection.objects.get(pk=connection.pk).refresh_token
    assert rotated != stale.refresh_token

    stale.name = "Renamed while a worker refreshed"
    stale.save()
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.name == "Renamed while a worker refreshed"
    assert stored.refresh_token == rotated
    assert stored.access_token == connection.access_token


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 503])
def test_a_token_endpoint_outage_is_transient_and_keeps_the_grant(emulator, connection,
                                                                  sf_client, status):
    emulator.control.expire_sessions()
    emulator.control.faults(fail_next={"count": 1, "status": status, "kinds": ["oauth-token"]})
    with pytest.raises(Transient, match=f"token endpoint answered HTTP {status}"):
        sf_client.limits()
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.CONNECTED and not stored.last_error
    # Once the endpoint is back, the same grant refreshes.
    assert sf_client.limits()["DailyApiRequests"]["Max"] == 15000
    assert _grant(emulator)["refreshes"] == 1


@pytest.mark.django_db
def test_a_slow_token_endpoint_fails_fast_under_the_row_lock(emulator, connection, sf_client,
                                                             settings):
    settings.SALESFORCE_SHORT_READ_TIMEOUT = 0.3
    emulator.control.expire_sessions()
    emulator.control.faults(latency_ms=700)  # the REST read timeout is 30 s: only the token
    with pytest.raises(Transient, match="token endpoint unreachable: ReadTimeout"):
        sf_client.limits()
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.CONNECTED


@pytest.mark.django_db
def test_refresh_refuses_to_run_inside_a_transaction(emulator, connection, sf_client):
    """A rotated refresh token committed with the caller's work would die with its rollback."""
    emulator.control.settings(rotate_refresh_tokens=True)
    emulator.control.expire_sessions()
    with pytest.raises(InsideTransaction, match="outside|inside a database transaction"), transaction.atomic():
        sf_client.limits()
    assert _grant(emulator)["refreshes"] == 0  # the grant was not spent
    with pytest.raises(InsideTransaction, match="outside|inside a database transaction"), transaction.atomic():
        connection.mark_needs_reauthorization("Re-authorization needed: test.")
    # Outside a transaction the refresh happens and its rotated token is kept.
    assert sf_client.limits()
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.refresh_token == _grant(emulator)["refresh_token"]
    assert stored.status == Connection.Status.CONNECTED


@pytest.mark.django_db
def test_an_adopted_token_that_expired_too_is_refreshed(emulator, connection, sf_client):
    emulator.control.expire_sessions()
    # Another worker refreshed first; then its token expired as well.
    SalesforceClient.for_connection(Connection.objects.get(pk=connection.pk)).limits()
    emulator.control.expire_sessions()

    assert sf_client.limits()["DailyApiRequests"]["Max"] == 15000
    assert _grant(emulator)["refreshes"] == 2
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.CONNECTED


@pytest.mark.django_db
def test_a_worker_with_the_old_grant_never_condemns_a_reconnect(emulator, connection,
                                                                oauth_client):
    old = Connection.objects.get(pk=connection.pk)
    connect(oauth_client, connection, emulator)  # revokes the old grant
    assert old.mark_needs_reauthorization("Re-authorization needed: old grant.",
                                          grant=old.refresh_token_encrypted) is False
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.CONNECTED and not stored.last_error
    # The worker holding the old (now revoked) tokens picks up the new grant instead.
    assert SalesforceClient.for_connection(old).limits()
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.CONNECTED


@pytest.mark.django_db
def test_a_working_call_does_not_undo_another_workers_reauth_mark(emulator, connection,
                                                                  sf_client):
    emulator.control.faults(limit_after=0)
    with pytest.raises(QuotaExhausted):
        sf_client.limits()
    assert sf_client.connection.status == Connection.Status.ERROR
    emulator.control.clear_faults()
    # Meanwhile another worker found the grant refused.
    Connection.objects.get(pk=connection.pk).mark_needs_reauthorization(
        "Re-authorization needed: refused elsewhere.")

    sf_client.limits()  # this worker's token still works for a moment
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.NEEDS_REAUTH
    assert stored.last_error == "Re-authorization needed: refused elsewhere."
