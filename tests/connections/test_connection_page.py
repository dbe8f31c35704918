"""The connection page and list: buttons (test, refresh schema, disconnect), status and usage."""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet
from django.contrib.messages import get_messages

from connections.client import SalesforceClient
from connections.errors import AuthError
from connections.models import Connection, ConnectionEvent
from tests.salesforce_fixtures import connect, emulator_http
from tests.waiting import settled

pytestmark = pytest.mark.django_db


def _last_message(response) -> str:
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def _url(connection: Connection, action: str) -> str:
    return f"/admin/connections/connection/{connection.pk}/{action}/"


def test_disconnect_revokes_at_salesforce_then_clears(emulator, connection, oauth_client):
    access, refresh = connection.access_token, connection.refresh_token
    response = oauth_client.post(_url(connection, "disconnect"))
    assert response["Location"] == connection.get_absolute_url()
    assert _last_message(response).startswith("Disconnected: Salesforce revoked")

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NOT_CONNECTED
    assert not connection.access_token_encrypted and not connection.refresh_token_encrypted
    # The emulator no longer accepts either token.
    http = emulator_http(emulator)
    api = http.get(f"{emulator.base_url}/services/data/v61.0/limits/",
                   headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert api.status_code == 401
    token = http.post(f"{emulator.login_url}/services/oauth2/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": refresh,
        "client_id": emulator.client_id, "client_secret": emulator.client_secret})
    assert token.json()["error"] == "invalid_grant"
    assert connection.events.filter(kind=ConnectionEvent.Kind.DISCONNECTED).exists()


def test_disconnect_when_salesforce_is_unreachable_changes_nothing(emulator, connection,
                                                                   oauth_client, settings):
    settings.SALESFORCE_LOGIN_URL = "https://127.0.0.1:9"  # nothing listens there
    before = Connection.objects.values().get(pk=connection.pk)
    response = oauth_client.post(_url(connection, "disconnect"))
    assert "could not revoke the token" in _last_message(response)
    assert Connection.objects.values().get(pk=connection.pk) == before

    # The page now offers to forget the tokens without revoking them.
    page = oauth_client.get(connection.get_absolute_url()).content.decode()
    assert 'id="forget-tokens"' in page
    response = oauth_client.post(_url(connection, "forget"))
    assert _last_message(response).startswith("Disconnected without revoking")
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.NOT_CONNECTED and not stored.has_tokens
    assert stored.events.filter(kind=ConnectionEvent.Kind.DISCONNECTED).exists()
    assert 'id="forget-tokens"' not in oauth_client.get(
        connection.get_absolute_url()).content.decode()


def test_forget_is_offered_only_after_a_failed_revoke(emulator, connection, oauth_client):
    page = oauth_client.get(connection.get_absolute_url()).content.decode()
    assert 'id="disconnect"' in page and 'id="forget-tokens"' not in page


def test_disconnect_of_an_already_revoked_grant_succeeds(emulator, connection, oauth_client):
    # Revoked elsewhere (Setup, or pushed out by a sixth grant): Salesforce answers 400.
    http = emulator_http(emulator)
    http.post(emulator.login_url + "/services/oauth2/revoke",
              data={"token": connection.refresh_token}, timeout=10)
    again = http.post(emulator.login_url + "/services/oauth2/revoke",
                      data={"token": connection.refresh_token}, timeout=10)
    assert again.status_code == 400 and "error" in again.json()

    response = oauth_client.post(_url(connection, "disconnect"))
    assert _last_message(response).startswith("Disconnected: Salesforce revoked")
    assert not Connection.objects.get(pk=connection.pk).has_tokens


def test_a_lost_encryption_key_means_reconnect_not_a_server_error(emulator, connection,
                                                                  oauth_client, settings):
    settings.FORCEBRIDGE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    page = oauth_client.get(connection.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert ">Needs re-authorization</strong>" in text
    assert "cannot be decrypted with FORCEBRIDGE_ENCRYPTION_KEYS" in text
    with pytest.raises(AuthError, match="needs re-authorization"):
        SalesforceClient.for_connection(Connection.objects.get(pk=connection.pk))

    # Reconnect works (the old grant cannot be read, so it is not revoked)...
    connect(oauth_client, connection, emulator)
    assert connection.access_token and connection.status == Connection.Status.CONNECTED
    # ... and so does Disconnect of a connection whose tokens are unreadable.
    settings.FORCEBRIDGE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = oauth_client.post(_url(connection, "disconnect"))
    assert "could not be decrypted" in _last_message(response)
    assert not Connection.objects.get(pk=connection.pk).has_tokens


def test_a_lost_key_found_by_a_worker_marks_the_connection(emulator, connection, settings):
    client = SalesforceClient.for_connection(connection)
    settings.FORCEBRIDGE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(AuthError, match="cannot be decrypted"):
        client.limits()
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.NEEDS_REAUTH


def test_a_slow_org_cannot_hold_the_page(emulator, connection, oauth_client, settings):
    settings.SALESFORCE_SHORT_READ_TIMEOUT = 0.3
    emulator.control.faults(latency_ms=700)
    started = time.monotonic()
    page = oauth_client.get(connection.get_absolute_url()).content.decode()
    assert time.monotonic() - started < 3
    assert "Schema: Salesforce did not answer in time" in page
    emulator.control.faults(latency_ms=0)
    # The emulator counts the abandoned call once its 700 ms are over: one try, no retries.
    assert settled(lambda: emulator.control.counters().get("describe", 0), 1, 0.7) == 1


def test_test_button_calls_limits_and_identity(emulator, connection, oauth_client):
    response = oauth_client.post(_url(connection, "test"))
    message = _last_message(response)
    assert message.startswith(f"Salesforce answered: org {connection.org_id}, user "
                              f"{connection.username}, daily API requests 1/15000")
    counters = emulator.control.counters()
    assert counters["limits"] == 1 and counters["identity"] >= 2  # connect + test
    connection.refresh_from_db()
    assert (connection.api_usage_used, connection.api_usage_max) == (1, 15000)


def test_test_button_reports_failure(emulator, connection, oauth_client, settings):
    settings.SALESFORCE_MAX_RETRIES = 0
    emulator.control.faults(fail_next={"count": 5, "status": 503})
    response = oauth_client.post(_url(connection, "test"))
    assert _last_message(response).startswith("Test failed: SERVER_UNAVAILABLE")


def test_buttons_need_post_and_csrf(emulator, connection, client, staff_user):
    client.force_login(staff_user)
    assert client.get(_url(connection, "test")).status_code == 405
    client.handler.enforce_csrf_checks = True
    assert client.post(_url(connection, "disconnect")).status_code == 403
    assert Connection.objects.get(pk=connection.pk).has_tokens


def test_page_shows_status_usage_objects_and_refreshes_schema(emulator, connection,
                                                              oauth_client):
    oauth_client.post(_url(connection, "test"))
    page = oauth_client.get(connection.get_absolute_url()).content.decode()
    assert ">Connected</strong>" in page
    # The page's own describe calls (limits + global + Account = 3) are already counted.
    assert "3 / 15000" in page
    assert 'id="connection-objects"' in page and "<li title=\"Account\">Account" in page
    for button in ("test-connection", "refresh-schema", "reconnect", "disconnect"):
        assert f'id="{button}"' in page
    # The Account external-id choice is offered from the describe.
    assert '<option value="Forcebridge_Id__c"' in page

    describes = emulator.control.counters()["describe"]
    oauth_client.get(connection.get_absolute_url())
    assert emulator.control.counters()["describe"] == describes  # cached
    response = oauth_client.post(_url(connection, "refresh-schema"))
    assert _last_message(response).startswith("Schema refreshed: ")
    # The object list and Account (for the external-id choices) are read again.
    assert emulator.control.counters()["describe"] == describes + 2


def test_list_shows_status_and_usage_bar(emulator, connection, oauth_client):
    Connection.objects.create(name="Never connected")
    oauth_client.post(_url(connection, "test"))
    listing = oauth_client.get("/admin/connections/connection/").content.decode()
    assert ">Connected</strong>" in listing and ">Not connected</strong>" in listing
    assert 'class="fb-usage"' in listing and "1 / 15000" in listing


def test_add_and_edit_a_connection(emulator, oauth_client):
    response = oauth_client.post("/admin/connections/connection/add/", {
        "name": "Acme prod", "enabled": "on", "environment": "custom",
        "login_url": "http://acme.my.salesforce.com", "api_version": "61.0",
        "daily_budget_percent": "50", "account_external_id_field": "Id"})
    assert "The login URL must use https" in response.content.decode()

    response = oauth_client.post("/admin/connections/connection/add/", {
        "name": "Acme prod", "enabled": "on", "environment": "custom",
        "login_url": "https://acme.my.salesforce.com", "client_id": "own-client",
        "new_client_secret": "s3cr3t-value", "api_version": "61.0",
        "daily_budget_percent": "40", "account_external_id_field": "Id",
        "conflict_policy": "hub"})
    assert response.status_code == 302
    created = Connection.objects.get(name="Acme prod")
    assert created.conflict_policy == Connection.ConflictPolicy.HUB
    assert created.client_secret == "s3cr3t-value"
    assert "s3cr3t-value" not in created.client_secret_encrypted
    assert created.login_base_url == "https://acme.my.salesforce.com"

    page = oauth_client.get(created.get_absolute_url()).content.decode()
    assert "s3cr3t-value" not in page and "stored (encrypted)" in page
    assert 'id="connect-salesforce"' in page
    assert 'name="conflict_policy"' in page and "Newest change wins" in page
    assert "Every conflict is logged" in page


def test_editing_a_connected_connection_keeps_tokens_and_status(emulator, connection,
                                                                oauth_client):
    page = oauth_client.get(connection.get_absolute_url())
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields
            if name not in ("new_client_secret", "clear_client_secret")}
    data.update(name="Renamed", enabled="on")
    connection.mark_needs_reauthorization("Re-authorization needed: test.")
    response = oauth_client.post(connection.get_absolute_url(), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.name == "Renamed"
    assert stored.status == Connection.Status.NEEDS_REAUTH
    assert stored.last_error == "Re-authorization needed: test."
    assert stored.refresh_token == connection.refresh_token

    data["enabled"] = ""
    oauth_client.post(connection.get_absolute_url(), data)
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.DISABLED
