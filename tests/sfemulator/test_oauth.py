"""OAuth web-server flow with PKCE, refresh (with and without rotation), revoke, identity."""

from __future__ import annotations

import base64
import hashlib
import secrets
import warnings
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests_oauthlib import OAuth2Session
from simple_salesforce.exceptions import SalesforceExpiredSession

from sfemulator import Emulator

from .conftest import http_session, salesforce

REDIRECT = "https://forcebridge.example/oauth/callback"
SCOPE = ["api", "refresh_token"]


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _oauth(org: Emulator) -> OAuth2Session:
    session = OAuth2Session(org.client_id, redirect_uri=REDIRECT, scope=SCOPE)
    session.trust_env = False
    session.verify = str(org.ca_path)
    return session


def _authorize(org: Emulator, login: str, verifier: str) -> tuple[OAuth2Session, str]:
    """Run the browser leg with auto-approve; return the session and the callback URL."""
    oauth = _oauth(org)
    url, _state = oauth.authorization_url(f"{login}/services/oauth2/authorize",
                                          code_challenge=_challenge(verifier),
                                          code_challenge_method="S256")
    reply = http_session(org).get(url, allow_redirects=False)
    assert reply.status_code == 302, reply.text
    return oauth, reply.headers["Location"]


def _connect(org: Emulator, login: str | None = None) -> tuple[OAuth2Session, dict[str, Any]]:
    login = login or org.login_url
    org.control.settings(auto_approve=True)
    verifier = secrets.token_urlsafe(48)
    oauth, callback = _authorize(org, login, verifier)
    token = oauth.fetch_token(f"{login}/services/oauth2/token", authorization_response=callback,
                              client_secret=org.client_secret, code_verifier=verifier)
    return oauth, token


def _token_post(org: Emulator, login: str, **form: str) -> requests.Response:
    return http_session(org).post(f"{login}/services/oauth2/token", data=form)


def test_consent_page_allow_and_deny(org: Emulator, http: requests.Session) -> None:
    params = {"response_type": "code", "client_id": org.client_id, "redirect_uri": REDIRECT,
              "scope": "api refresh_token", "state": "st-1",
              "code_challenge": _challenge("v" * 50), "code_challenge_method": "S256"}
    page = requests.get(f"{org.http_url}/services/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert 'value=allow' in page.text and 'value=deny' in page.text
    assert 'name="state" value="st-1"' in page.text
    allowed = requests.post(f"{org.http_url}/services/oauth2/authorize",
                            data={**params, "decision": "allow"}, allow_redirects=False)
    query = parse_qs(urlsplit(allowed.headers["Location"]).query)
    assert allowed.status_code == 302 and query["state"] == ["st-1"] and query["code"]
    denied = http.post(f"{org.base_url}/services/oauth2/authorize",
                       data={**params, "decision": "deny"}, allow_redirects=False)
    query = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "error_description": [
        "end-user denied authorization"], "state": ["st-1"]}


def test_unknown_client_gets_an_error_page(org: Emulator) -> None:
    page = requests.get(f"{org.http_url}/services/oauth2/authorize",
                        params={"response_type": "code", "client_id": "nope",
                                "redirect_uri": REDIRECT})
    assert page.status_code == 400 and "OAUTH_EC_APP_NOT_FOUND" in page.text


def test_pkce_flow_returns_salesforce_token_shape(org: Emulator) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a changed scope would warn
        _oauth_session, token = _connect(org)
    assert token["access_token"].startswith(org.org.org_id[:15] + "!")
    assert token["refresh_token"].startswith("5Aep")
    assert token["instance_url"] == org.base_url
    assert token["id"] == f"{org.login_url}/id/{org.org.org_id}/{org.org.user_id}"
    assert token["token_type"] == "Bearer" and token["signature"]
    assert isinstance(token["issued_at"], str) and len(token["issued_at"]) == 13
    assert token["scope"] == SCOPE and "expires_in" not in token
    sf = salesforce(org, token)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_pkce_verifier_is_checked(org: Emulator) -> None:
    org.control.settings(auto_approve=True)
    _oauth_session, callback = _authorize(org, org.login_url, "right-" + "v" * 50)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": org.client_id, "client_secret": org.client_secret}
    wrong = _token_post(org, org.login_url, **base, code_verifier="wrong-" + "v" * 50)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}
    # The code was consumed by the failed attempt: codes are single use.
    again = _token_post(org, org.login_url, **base, code_verifier="right-" + "v" * 50)
    assert again.json()["error"] == "invalid_grant"


def test_missing_verifier_and_code_reuse(org: Emulator) -> None:
    org.control.settings(auto_approve=True)
    verifier = "k" * 60
    _oauth_session, callback = _authorize(org, org.login_url, verifier)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": org.client_id, "client_secret": org.client_secret}
    missing = _token_post(org, org.login_url, **base)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    _oauth_session, callback = _authorize(org, org.login_url, verifier)
    base["code"] = parse_qs(urlsplit(callback).query)["code"][0]
    assert _token_post(org, org.login_url, **base, code_verifier=verifier).status_code == 200
    reused = _token_post(org, org.login_url, **base, code_verifier=verifier)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant",
                             "error_description": "invalid authorization code"}


def test_client_credentials_basic_or_body_and_errors(org: Emulator) -> None:
    org.control.settings(auto_approve=True)
    verifier = "b" * 60
    _oauth_session, callback = _authorize(org, org.login_url, verifier)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    http = http_session(org)
    url = f"{org.login_url}/services/oauth2/token"
    bad = http.post(url, data=form, auth=(org.client_id, "wrong"))
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_client", "error_description":
                          "invalid client credentials"}
    unknown = http.post(url, data={**form, "client_id": "x", "client_secret": "y"})
    assert unknown.json()["error"] == "invalid_client_id"
    good = http.post(url, data=form, auth=(org.client_id, org.client_secret))
    assert good.status_code == 200 and good.json()["refresh_token"]
    refreshed = http.post(url, data={"grant_type": "refresh_token",
                                     "refresh_token": good.json()["refresh_token"],
                                     "client_id": org.client_id,
                                     "client_secret": org.client_secret})
    assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()
    unsupported = http.post(url, data={"grant_type": "password", "client_id": org.client_id})
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_redirect_uri_must_match(org: Emulator) -> None:
    org.control.settings(auto_approve=True)
    verifier = "r" * 60
    _oauth_session, callback = _authorize(org, org.login_url, verifier)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    reply = _token_post(org, org.login_url, grant_type="authorization_code", code=code,
                        redirect_uri="https://elsewhere.example/cb", code_verifier=verifier,
                        client_id=org.client_id, client_secret=org.client_secret)
    assert reply.status_code == 400 and reply.json()["error"] == "redirect_uri_mismatch"


def test_refresh_without_rotation_keeps_the_refresh_token(org: Emulator) -> None:
    oauth, token = _connect(org)
    first = token["refresh_token"]
    url = f"{org.login_url}/services/oauth2/token"
    for _ in range(2):
        new = oauth.refresh_token(url, refresh_token=first, client_id=org.client_id,
                                  client_secret=org.client_secret)
        assert new["refresh_token"] == first  # requests-oauthlib keeps the old one
        assert new["access_token"] != token["access_token"]
    assert salesforce(org, new).query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_rotation_makes_each_refresh_token_single_use(org: Emulator) -> None:
    org.control.settings(rotate_refresh_tokens=True)
    _oauth_session, token = _connect(org)
    form = {"grant_type": "refresh_token", "client_id": org.client_id,
            "client_secret": org.client_secret}
    first = _token_post(org, org.login_url, **form, refresh_token=token["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated.startswith("5Aep") and rotated != token["refresh_token"]
    replay = _token_post(org, org.login_url, **form, refresh_token=token["refresh_token"])
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant",
                             "error_description": "expired access/refresh token"}
    assert _token_post(org, org.login_url, **form, refresh_token=rotated).status_code == 200


def test_revoking_refresh_token_kills_its_access_tokens(org: Emulator) -> None:
    _oauth_session, token = _connect(org)
    sf = salesforce(org, token)
    sf.query("SELECT COUNT() FROM Contact")
    http = http_session(org)
    revoked = http.post(f"{org.login_url}/services/oauth2/revoke",
                        data={"token": token["refresh_token"]})
    assert revoked.status_code == 200
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT COUNT() FROM Contact")
    assert caught.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    again = _token_post(org, org.login_url, grant_type="refresh_token",
                        refresh_token=token["refresh_token"], client_id=org.client_id,
                        client_secret=org.client_secret)
    assert again.json()["error"] == "invalid_grant"
    unknown = http.post(f"{org.login_url}/services/oauth2/revoke", data={"token": "nope"})
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "invalid_grant",
                              "error_description": "expired access/refresh token"}


def test_revoking_an_expired_access_token_is_refused(org: Emulator) -> None:
    org.control.settings(token_ttl=60)
    token = org.control.session()
    org.control.clock(advance=61)
    revoked = http_session(org).post(f"{org.login_url}/services/oauth2/revoke",
                                     data={"token": token["access_token"]})
    assert (revoked.status_code, revoked.json()) == (400, {
        "error": "invalid_grant", "error_description": "expired access/refresh token"})


def test_access_tokens_expire_after_the_ttl(org: Emulator) -> None:
    org.control.settings(token_ttl=60)
    oauth, token = _connect(org)
    sf = salesforce(org, token)
    sf.query("SELECT COUNT() FROM Contact")
    org.control.clock(advance=61)
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT COUNT() FROM Contact")
    assert caught.value.content == [{"message": "Session expired or invalid",
                                     "errorCode": "INVALID_SESSION_ID", "fields": []}]
    fresh = oauth.refresh_token(f"{org.login_url}/services/oauth2/token",
                                refresh_token=token["refresh_token"], client_id=org.client_id,
                                client_secret=org.client_secret)
    assert salesforce(org, fresh).query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_sandbox_host_is_distinct_from_production(org: Emulator) -> None:
    org.control.settings(auto_approve=True)
    verifier = "s" * 60
    oauth, callback = _authorize(org, org.sandbox_login_url, verifier)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier, "client_id": org.client_id,
            "client_secret": org.client_secret}
    # A sandbox code is worthless at the production login host ...
    assert _token_post(org, org.login_url, **form).json()["error"] == "invalid_grant"
    oauth, callback = _authorize(org, org.sandbox_login_url, verifier)
    token = oauth.fetch_token(f"{org.sandbox_login_url}/services/oauth2/token",
                              authorization_response=callback,
                              client_secret=org.client_secret, code_verifier=verifier)
    assert token["id"].startswith(org.sandbox_login_url + "/id/")
    assert token["instance_url"] == org.base_url
    grants = org.control.sessions()["grants"]
    assert [g["login_host"] for g in grants] == ["sandbox"]
    # ... and its refresh token only works at the sandbox host.
    refresh = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"],
               "client_id": org.client_id, "client_secret": org.client_secret}
    assert _token_post(org, org.login_url, **refresh).status_code == 400
    assert _token_post(org, org.sandbox_login_url, **refresh).status_code == 200
    identity = http_session(org).get(token["id"], headers={
        "Authorization": f"Bearer {token['access_token']}"}).json()
    assert identity["login_host"] == "sandbox"


def test_identity_url_and_userinfo(org: Emulator) -> None:
    _oauth_session, token = _connect(org)
    http = http_session(org)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    identity = http.get(token["id"], headers=bearer)
    assert identity.status_code == 200
    data = identity.json()
    assert data["user_id"] == org.org.user_id and data["organization_id"] == org.org.org_id
    assert data["username"] == org.org.username and data["email"] == org.org.username
    assert data["display_name"] == "Admin Forcebridge" and data["login_host"] == "production"
    assert data["urls"]["rest"] == f"{org.base_url}/services/data/v59.0/"
    info = http.get(f"{org.login_url}/services/oauth2/userinfo", headers=bearer).json()
    assert info["user_id"] == org.org.user_id and info["preferred_username"] == org.org.username
    assert http.get(token["id"], headers={"Authorization": "Bearer nope"}).status_code == 403


def test_sixth_grant_revokes_the_oldest(org: Emulator) -> None:
    tokens = [_connect(org)[1] for _ in range(6)]
    refresh = {"grant_type": "refresh_token", "client_id": org.client_id,
               "client_secret": org.client_secret}
    oldest = _token_post(org, org.login_url, **refresh, refresh_token=tokens[0]["refresh_token"])
    assert oldest.status_code == 400
    for token in tokens[1:]:
        ok = _token_post(org, org.login_url, **refresh, refresh_token=token["refresh_token"])
        assert ok.status_code == 200


def test_token_endpoint_requires_https(org: Emulator) -> None:
    reply = requests.post(f"{org.http_url}/services/oauth2/token",
                          data={"grant_type": "refresh_token"})
    assert reply.status_code == 403
    assert reply.json()["error_description"] == "HTTPS required"
    api = requests.get(f"{org.http_url}/services/data/")
    assert api.status_code == 403
