"""Token refresh: on expiry mid-call, exactly once across workers, and when it stops working."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection

from connections import oauth
from connections.client import SalesforceClient
from connections.crypto import encrypt
from connections.errors import AuthError
from connections.models import Connection
from tests.salesforce_fixtures import emulator_http


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
    stale = connection.access_token
    # Another worker refreshed already: the stored token is no longer the stale one.
    Connection.objects.filter(pk=connection.pk).update(access_token_encrypted=encrypt("fresher"))
    oauth.refresh_access_token(connection, stale)
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
