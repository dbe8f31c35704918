"""The OAuth 2.0 web server flow with PKCE, token refresh and revocation (requests-oauthlib).

Nothing here logs or raises a token: failures become `OAuthFailure`/`AuthError` messages built
from the OAuth error code and description only.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.db import transaction
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error

from connections import conf
from connections.errors import AuthError, SalesforceError, Transient
from connections.models import Connection, PendingAuthorization
from connections.transport import HttpSession, OAuthSession, configure

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"
REVOKE_PATH = "/services/oauth2/revoke"


class OAuthFailure(SalesforceError):
    """The authorization server refused (invalid_grant, invalid_client...) or answered nonsense."""


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _session(connection: Connection, **kwargs: Any) -> OAuthSession:
    scope = conf.get("SALESFORCE_OAUTH_SCOPE").split()
    return configure(OAuthSession(connection.oauth_client_id, scope=scope, **kwargs))


def authorization_url(pending: PendingAuthorization) -> str:
    """Where to send the operator's browser: the login host's consent page, with state + S256.

    oauthlib only builds https URLs, so the URL is built on the login host and then re-based
    on `authorize_url` when the browser must use another address (the demo's HTTP page).
    """
    connection = pending.connection
    oauth = _session(connection, redirect_uri=pending.redirect_uri, state=pending.state)
    url, _ = oauth.authorization_url(
        connection.login_base_url + AUTHORIZE_PATH,
        code_challenge=pkce_challenge(pending.code_verifier),
        code_challenge_method="S256",
    )
    if connection.authorize_base_url != connection.login_base_url:
        base = urlsplit(connection.authorize_base_url)
        parts = urlsplit(url)
        url = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
    return url


def _token_call(connection: Connection, call: str, **kwargs: Any) -> dict[str, Any]:
    """POST to the token endpoint; return the token dict or raise OAuthFailure / Transient."""
    oauth = _session(connection, redirect_uri=kwargs.pop("redirect_uri", None))
    token_url = connection.login_base_url + TOKEN_PATH
    try:
        # Client credentials go in the form body, the way Salesforce documents the flow.
        if call == "fetch":
            token = oauth.fetch_token(token_url, client_secret=connection.oauth_client_secret,
                                      include_client_id=True, **kwargs)
        else:
            token = oauth.refresh_token(token_url, client_id=connection.oauth_client_id,
                                        client_secret=connection.oauth_client_secret, **kwargs)
    except Warning as changed:
        # oauthlib raises (not warns) when the granted scope differs from the requested one;
        # Salesforce grants what the app allows, so take the token it carries.
        token = getattr(changed, "token", None)
        if not token:
            raise OAuthFailure("Salesforce changed the granted scope and sent no token") from None
    except OAuth2Error as error:
        raise OAuthFailure(f"{error.error}: {error.description or 'refused'}") from None
    except requests.exceptions.SSLError:
        raise OAuthFailure(
            f"TLS verification of {urlsplit(token_url).netloc} failed (SALESFORCE_CA_BUNDLE?)"
        ) from None
    except (requests.ConnectionError, requests.Timeout) as error:
        raise Transient(f"token endpoint unreachable: {type(error).__name__}") from None
    except ValueError:
        # oauthlib could not parse the body (an HTML error page, a proxy's 502...).
        raise OAuthFailure("the token endpoint answered with something that is not a token") from None
    if not token.get("access_token") or not token.get("instance_url"):
        raise OAuthFailure("the token response lacks access_token or instance_url")
    if not str(token["instance_url"]).startswith("https://"):
        raise OAuthFailure("the token response names an instance that is not https")
    return dict(token)


def exchange_code(pending: PendingAuthorization, code: str) -> dict[str, Any]:
    """Trade the callback's code (with the stored PKCE verifier) for tokens."""
    return _token_call(pending.connection, "fetch", code=code,
                       code_verifier=pending.code_verifier, redirect_uri=pending.redirect_uri)


def fetch_identity(token: dict[str, Any], api_version: str) -> dict[str, Any]:
    """GET the token's `id` URL: org id, user id and username of the integration user."""
    session = configure(HttpSession())
    try:
        response = session.get(token["id"], params={"version": api_version},
                               headers={"Authorization": f"Bearer {token['access_token']}"})
    except requests.RequestException as error:
        raise Transient(f"identity URL unreachable: {type(error).__name__}") from None
    if response.status_code != 200:
        raise OAuthFailure(f"the identity URL answered HTTP {response.status_code}")
    identity = response.json()
    if not identity.get("organization_id") or not identity.get("user_id"):
        raise OAuthFailure("the identity response lacks the org or user id")
    return identity


def revoke(connection: Connection, token: str) -> None:
    """Revoke a token at Salesforce (a refresh token takes its access tokens with it)."""
    session = configure(HttpSession())
    url = connection.login_base_url + REVOKE_PATH
    try:
        response = session.post(url, data={"token": token})
    except requests.RequestException as error:
        raise Transient(f"revoke endpoint unreachable: {type(error).__name__}") from None
    if response.status_code == 400 and "invalid_token" in response.text:
        # Already dead (revoked elsewhere, or the grant was pushed out by a sixth one).
        logger.info("connection %s: token was already revoked", connection.pk)
        return
    if response.status_code != 200:
        raise OAuthFailure(f"revoking the token failed with HTTP {response.status_code}")


def refresh_access_token(connection: Connection, stale_token: str) -> None:
    """Replace an expired access token, once per expiry however many workers notice it.

    1. Lock the connection row (SELECT ... FOR UPDATE; on SQLite the IMMEDIATE transaction
       takes the database write lock), so refreshes of one connection run one at a time.
    2. If the stored token is no longer the one that failed, another worker refreshed while we
       waited: use its token.
    3. Otherwise refresh at Salesforce and store the new access token, and the new refresh
       token when Salesforce rotates it, in the same transaction.
    4. A refused refresh marks the connection as needing re-authorization (after the rollback,
       so the mark is kept) and raises AuthError.
    """
    failure: str | None = None
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        current = locked.access_token
        if current and current != stale_token:
            _adopt(connection, locked)
            return
        refresh = locked.refresh_token
        if not refresh:
            failure = "no refresh token is stored; connect the org again"
        else:
            try:
                token = _token_call(locked, "refresh", refresh_token=refresh)
            except OAuthFailure as error:
                failure = f"Salesforce refused the refresh token ({error})"
            else:
                locked.access_token = token["access_token"]
                if token.get("refresh_token") and token["refresh_token"] != refresh:
                    locked.refresh_token = token["refresh_token"]
                locked.instance_url = token["instance_url"].rstrip("/")
                locked.token_issued_at = timezone.now()
                locked.save(update_fields=["access_token_encrypted", "refresh_token_encrypted",
                                           "instance_url", "token_issued_at"])
    if failure is not None:
        connection.mark_needs_reauthorization(f"Re-authorization needed: {failure}.")
        raise AuthError(f"Connection {connection.name!r} needs re-authorization: {failure}")
    logger.info("connection %s: access token refreshed", connection.pk)
    _adopt(connection, locked)


def _adopt(connection: Connection, fresh: Connection) -> None:
    for column in ("access_token_encrypted", "refresh_token_encrypted", "instance_url",
                   "token_issued_at"):
        setattr(connection, column, getattr(fresh, column))

