"""Connecting an org through the real views: Connect → emulator authorize page → callback."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.messages import get_messages

from connections.models import Connection, PendingAuthorization
from tests.salesforce_fixtures import authorize, callback, connect, emulator_http

pytestmark = pytest.mark.django_db


def _message(response) -> str:
    """The newest flash message (earlier ones, e.g. from the fixture's connect, come first)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def _grants(emulator) -> list[dict]:
    return emulator.control.sessions()["grants"]


@pytest.mark.parametrize("environment", ["production", "sandbox", "custom"])
def test_connect_each_environment(emulator, oauth_client, environment):
    login_url = emulator.login_url if environment == "custom" else ""
    created = Connection.objects.create(name=f"Org {environment}", environment=environment,
                                        login_url=login_url)
    params = authorize(oauth_client, created, emulator)
    response = callback(oauth_client, params)

    assert response.status_code == 302
    assert response["Location"] == created.get_absolute_url()
    created.refresh_from_db()
    assert created.status == Connection.Status.CONNECTED
    assert created.org_id and created.user_id and created.username
    assert created.instance_url == emulator.base_url
    assert created.access_token and created.refresh_token
    assert _message(response) == (
        f"Connected to Salesforce org {created.org_id} as {created.username}.")
    # The grant was issued by the login host the environment names.
    expected_host = "sandbox" if environment == "sandbox" else "production"
    assert [g["login_host"] for g in _grants(emulator)] == [expected_host]
    # The state was single use.
    assert not PendingAuthorization.objects.exists()


def test_connect_redirect_carries_state_and_s256_challenge(emulator, oauth_client):
    created = Connection.objects.create(name="Org")
    response = oauth_client.post(f"/admin/connections/connection/{created.pk}/connect/")
    location = response["Location"]
    assert location.startswith(emulator.login_url + "/services/oauth2/authorize?")
    pending = PendingAuthorization.objects.get()
    assert f"state={pending.state}" in location
    assert "code_challenge_method=S256" in location
    assert "code_challenge=" in location and pending.code_verifier not in location
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Fadmin%2Fconnections%2Fconnection%2Foauth%2Fcallback%2F" in location


def test_connect_needs_post(emulator, oauth_client):
    created = Connection.objects.create(name="Org")
    assert oauth_client.get(f"/admin/connections/connection/{created.pk}/connect/").status_code == 405


def test_denial_changes_nothing(emulator, oauth_client, connection):
    before = Connection.objects.values().get(pk=connection.pk)
    params = authorize(oauth_client, connection, emulator, decision="deny")
    assert params["error"] == "access_denied"
    response = callback(oauth_client, params)
    assert response["Location"] == connection.get_absolute_url()
    assert _message(response) == (
        "Salesforce did not authorize Forcebridge (access_denied: end-user denied "
        "authorization). Nothing stored was changed.")
    assert Connection.objects.values().get(pk=connection.pk) == before
    # The denied state cannot be replayed either.
    assert not PendingAuthorization.objects.exists()


def test_unknown_state_is_refused(emulator, oauth_client):
    created = Connection.objects.create(name="Org")
    params = authorize(oauth_client, created, emulator)
    response = callback(oauth_client, {**params, "state": "forged-" + params["state"]})
    assert response["Location"] == "/admin/connections/connection/"
    assert "unknown, expired or was already used" in _message(response)
    created.refresh_from_db()
    assert created.status == Connection.Status.NOT_CONNECTED and not created.has_tokens
    # The grant was never redeemed: nothing was stored anywhere.
    assert _grants(emulator) == []


def test_missing_state_is_refused(emulator, oauth_client):
    response = callback(oauth_client, {"code": "whatever"})
    assert "unknown, expired or was already used" in _message(response)


def test_replayed_state_is_refused(emulator, oauth_client):
    created = Connection.objects.create(name="Org")
    params = authorize(oauth_client, created, emulator)
    callback(oauth_client, params)
    created.refresh_from_db()
    stored = (created.access_token_encrypted, created.refresh_token_encrypted)

    response = callback(oauth_client, params)
    assert "unknown, expired or was already used" in _message(response)
    created.refresh_from_db()
    assert (created.access_token_encrypted, created.refresh_token_encrypted) == stored
    assert len(_grants(emulator)) == 1


def test_expired_state_is_refused(emulator, oauth_client):
    created = Connection.objects.create(name="Org")
    params = authorize(oauth_client, created, emulator)
    pending = PendingAuthorization.objects.get()
    PendingAuthorization.objects.filter(pk=pending.pk).update(expires=pending.created)
    response = callback(oauth_client, params)
    assert "unknown, expired or was already used" in _message(response)
    assert not Connection.objects.get(pk=created.pk).has_tokens


def test_state_of_another_user_is_refused(emulator, oauth_client, client, staff_user):
    created = Connection.objects.create(name="Org")
    params = authorize(oauth_client, created, emulator)
    client.force_login(staff_user)
    response = callback(client, params)
    assert "unknown, expired or was already used" in _message(response)
    assert not Connection.objects.get(pk=created.pk).has_tokens


def test_pkce_mismatch_is_refused_by_salesforce(emulator, oauth_client):
    created = Connection.objects.create(name="Org")
    params = authorize(oauth_client, created, emulator)
    pending = PendingAuthorization.objects.get()
    pending.code_verifier = "a-different-verifier-of-sufficient-length-0123456789abcdef"
    pending.save()

    response = callback(oauth_client, params)
    assert _message(response) == (
        "Salesforce refused the authorization (invalid_grant: invalid code verifier). "
        "Nothing stored was changed.")
    created.refresh_from_db()
    assert created.status == Connection.Status.NOT_CONNECTED and not created.has_tokens


def test_token_error_changes_nothing(emulator, oauth_client, connection, settings):
    before = Connection.objects.values().get(pk=connection.pk)
    settings.SALESFORCE_CLIENT_SECRET = "not-the-secret"
    response = callback(oauth_client, authorize(oauth_client, connection, emulator))
    assert _message(response) == (
        "Salesforce refused the authorization (invalid_client: invalid client credentials). "
        "Nothing stored was changed.")
    assert Connection.objects.values().get(pk=connection.pk) == before


def test_reconnect_same_org_replaces_and_revokes_the_old_grant(emulator, oauth_client,
                                                               connection):
    old_refresh = connection.refresh_token
    connect(oauth_client, connection, emulator)
    assert connection.refresh_token != old_refresh
    grants = _grants(emulator)
    assert [g["revoked"] for g in grants] == [True, False]


def test_reconnect_as_a_different_org_needs_confirmation(emulator, oauth_client, connection):
    # The connection was made for another org than the one the operator now signs in to.
    Connection.objects.filter(pk=connection.pk).update(org_id="00D000000000OTHER")
    connection.refresh_from_db()
    before = Connection.objects.values().get(pk=connection.pk)

    response = callback(oauth_client, authorize(oauth_client, connection, emulator))
    message = _message(response)
    assert message.startswith(f"You signed in to org {emulator.org.org_id}, but this connection "
                              "belongs to org 00D000000000OTHER. Nothing stored was changed.")
    assert Connection.objects.values().get(pk=connection.pk) == before
    # The unwanted new grant was revoked at Salesforce.
    assert [g["revoked"] for g in _grants(emulator)] == [False, True]

    connect(oauth_client, connection, emulator, allow_org_change=True)
    assert connection.org_id == emulator.org.org_id


def test_connect_without_oauth_client_explains(emulator, oauth_client, settings):
    settings.SALESFORCE_CLIENT_ID = ""
    created = Connection.objects.create(name="Org")
    response = oauth_client.post(f"/admin/connections/connection/{created.pk}/connect/",
                                 follow=True)
    assert "No OAuth client: set SALESFORCE_CLIENT_ID" in response.content.decode()


def test_connection_with_its_own_client(emulator, oauth_client, settings):
    settings.SALESFORCE_CLIENT_ID = "someone-else"
    settings.SALESFORCE_CLIENT_SECRET = "someone-elses-secret"
    created = Connection(name="Own client", client_id=emulator.client_id)
    created.client_secret = emulator.client_secret
    created.save()
    connect(oauth_client, created, emulator)


def test_authorize_page_can_live_at_another_address(emulator, oauth_client):
    """The demo's browser opens the plain-HTTP consent page; the token exchange stays HTTPS."""
    created = Connection.objects.create(name="Demo", authorize_url=emulator.http_url)
    response = oauth_client.post(f"/admin/connections/connection/{created.pk}/connect/")
    assert response["Location"].startswith(emulator.http_url + "/services/oauth2/authorize?")
    answer = emulator_http(emulator).get(response["Location"], allow_redirects=False, timeout=10)
    callback(oauth_client, dict(parse_qsl(urlsplit(answer.headers["Location"]).query)))
    created.refresh_from_db()
    assert created.status == Connection.Status.CONNECTED


def test_non_staff_cannot_reach_the_callback(emulator, client, django_user_model):
    user = django_user_model.objects.create_user("visitor", password="visitor-pass-1")
    client.force_login(user)
    response = client.get("/admin/connections/connection/oauth/callback/", {"state": "x"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
