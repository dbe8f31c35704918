"""Connecting an org through the real views: Connect → emulator authorize page → callback."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.messages import get_messages

from connections import oauth
from connections.client import SalesforceClient
from connections.errors import AuthError
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
    # The custom login URL is a host of its own (the emulator's sandbox port), distinct from
    # SALESFORCE_LOGIN_URL, so a flow that ignored it would be caught.
    login_url = emulator.sandbox_login_url if environment == "custom" else ""
    created = Connection.objects.create(name=f"Org {environment}", environment=environment,
                                        login_url=login_url)
    if environment == "custom":
        assert created.login_base_url == emulator.sandbox_login_url != emulator.login_url
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
    expected_host = "production" if environment == "production" else "sandbox"
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


def test_redirect_uri_comes_from_the_base_url_when_set(emulator, oauth_client, settings):
    settings.FORCEBRIDGE_BASE_URL = "https://forcebridge.example.com"
    created = Connection.objects.create(name="Behind a proxy")
    params = authorize(oauth_client, created, emulator)
    expected = "https://forcebridge.example.com/admin/connections/connection/oauth/callback/"
    assert PendingAuthorization.objects.get().redirect_uri == expected
    # The emulator checks the code exchange's redirect_uri against the authorize request's.
    callback(oauth_client, params)
    created.refresh_from_db()
    assert created.status == Connection.Status.CONNECTED


def test_a_token_endpoint_outage_during_connect_changes_nothing(emulator, oauth_client,
                                                                connection):
    before = Connection.objects.values().get(pk=connection.pk)
    params = authorize(oauth_client, connection, emulator)
    emulator.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["oauth-token"]})
    response = callback(oauth_client, params)
    assert _message(response).startswith(
        "Salesforce could not finish the authorization (the token endpoint answered HTTP 503")
    assert Connection.objects.values().get(pk=connection.pk) == before


def test_identity_needs_an_https_json_answer(emulator, connection):
    token = {"access_token": connection.access_token}
    with pytest.raises(oauth.OAuthFailure, match="no https identity URL"):
        oauth.fetch_identity({**token, "id": ""}, "61.0")
    with pytest.raises(oauth.OAuthFailure, match="no https identity URL"):
        oauth.fetch_identity({**token, "id": emulator.http_url + "/id/x/y"}, "61.0")
    # A JSON list (the versions resource) and an HTML page (the consent page) are not
    # identities.
    emulator.control.settings(auto_approve=False)
    consent = emulator.login_url + "/services/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": emulator.client_id, "state": "s",
        "redirect_uri": "http://testserver/cb", "code_challenge": "x" * 43,
        "code_challenge_method": "S256"})
    try:
        for url in (emulator.base_url + "/services/data/", consent):
            with pytest.raises(oauth.OAuthFailure, match="not an identity"):
                oauth.fetch_identity({**token, "id": url}, "61.0")
    finally:
        emulator.control.settings(auto_approve=True)


def _edit(oauth_client, connection: Connection, **changes):
    page = oauth_client.get(connection.get_absolute_url())
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields
            if name not in ("new_client_secret", "clear_client_secret")}
    data.update(enabled="on", **changes)
    response = oauth_client.post(connection.get_absolute_url(), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Connection.objects.get(pk=connection.pk)


@pytest.mark.parametrize("changes", [
    {"environment": "sandbox"},
    {"environment": "custom", "login_url": "https://acme.my.salesforce.com"},
    {"client_id": "another-client"},
])
def test_changing_where_the_grant_is_valid_drops_the_tokens(emulator, oauth_client,
                                                            connection, changes):
    stored = _edit(oauth_client, connection, **changes)
    assert stored.status == Connection.Status.NEEDS_REAUTH
    assert not stored.access_token_encrypted and not stored.refresh_token_encrypted
    assert "environment, login URL or OAuth client changed" in stored.last_error
    tokens_before = emulator.control.counters().get("oauth-token", 0)
    with pytest.raises(AuthError):
        SalesforceClient.for_connection(stored)
    # No refresh token was sent anywhere.
    assert emulator.control.counters().get("oauth-token", 0) == tokens_before
    page = oauth_client.get(stored.get_absolute_url()).content.decode()
    assert 'id="connect-salesforce"' in page


def test_an_edit_that_keeps_the_login_keeps_the_tokens(emulator, oauth_client, connection):
    # A login URL is only used by the custom environment: on production it changes nothing.
    stored = _edit(oauth_client, connection, login_url="https://unused.example.com")
    assert stored.status == Connection.Status.CONNECTED
    assert stored.refresh_token == connection.refresh_token
