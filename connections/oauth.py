"""The OAuth 2.0 web server flow with PKCE, token refresh and revocation (requests-oauthlib).

Nothing here logs or raises a token: failures become `OAuthFailure`/`AuthError` messages built
from the OAuth error code and description only, and functions holding tokens in their locals
are `@sensitive_variables()` so Django's error reports show stars instead.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2 import OAuth2Error

from connections import conf, transport
from connections.crypto import SecretUnreadable
from connections.durable import durable_transaction
from connections.errors import AuthError, SalesforceError, Transient
from connections.models import Connection, PendingAuthorization
from connections.transport import HttpSession, OAuthSession, configure

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"
REVOKE_PATH = "/services/oauth2/revoke"


# Only these say the stored grant (or the OAuth client) is refused: reconnecting is the fix.
GRANT_ERRORS = frozenset({"invalid_grant", "invalid_client", "invalid_client_id",
                          "unauthorized_client"})
# oauthlib's names for "no token in the answer" and for a body it could not classify, and
# RFC 6749's outage codes: the endpoint failed, not the grant.
TRANSIENT_ERRORS = frozenset({"missing_token", "unknown_error", "server_error",
                              "temporarily_unavailable"})
UNREADABLE = ("the stored tokens cannot be decrypted with FORCEBRIDGE_ENCRYPTION_KEYS (was the "
              "key that encrypted them removed?); connect the org again")


class OAuthFailure(SalesforceError):
    """The authorization server refused a request or answered nonsense; nothing was stored."""


class GrantRefused(OAuthFailure):
    """invalid_grant, invalid_client...: the grant or client no longer works; reconnect."""


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


@sensitive_variables()
def _token_call(connection: Connection, call: str, **kwargs: Any) -> dict[str, Any]:
    """POST to the token endpoint; return the token dict.

    Raises GrantRefused when the grant or the client is refused (reconnecting is the fix),
    Transient when the endpoint is down, slow or answers nonsense (the grant may be fine), and
    OAuthFailure for anything else. Its locals hold the grant: kept out of tracebacks.
    """
    oauth = _session(connection, redirect_uri=kwargs.pop("redirect_uri", None))
    token_url = connection.login_base_url + TOKEN_PATH
    statuses = _record_statuses(oauth)
    try:
        token = _post_token(oauth, connection, call, token_url, **kwargs)
    except Warning as changed:
        # oauthlib raises (not warns) when the granted scope differs from the requested one;
        # Salesforce grants what the app allows, so take the token it carries.
        token = getattr(changed, "token", None)
        if not token:
            raise OAuthFailure("Salesforce changed the granted scope and sent no token") from None
    except OAuth2Error as error:
        raise _refusal(error, statuses) from None
    except requests.exceptions.SSLError:
        raise OAuthFailure(
            f"TLS verification of {urlsplit(token_url).netloc} failed (SALESFORCE_CA_BUNDLE?)"
        ) from None
    except (requests.ConnectionError, requests.Timeout) as error:
        raise Transient(f"token endpoint unreachable: {type(error).__name__}") from None
    except ValueError:
        # oauthlib could not parse the body (an HTML error page, a proxy's 502...).
        raise Transient(f"the token endpoint answered HTTP {_last(statuses)} with something "
                        "that is not a token") from None
    if _last(statuses) >= 500:
        raise Transient(f"the token endpoint answered HTTP {_last(statuses)}")
    if not token.get("access_token") or not token.get("instance_url"):
        raise OAuthFailure("the token response lacks access_token or instance_url")
    if not str(token["instance_url"]).startswith("https://"):
        raise OAuthFailure("the token response names an instance that is not https")
    return dict(token)


@sensitive_variables()
def _post_token(oauth: OAuthSession, connection: Connection, call: str, token_url: str,
                **kwargs: Any) -> Any:
    try:
        secret = connection.oauth_client_secret
    except SecretUnreadable:
        raise OAuthFailure("the stored OAuth client secret cannot be decrypted with "
                           "FORCEBRIDGE_ENCRYPTION_KEYS: enter it again") from None
    # Client credentials go in the form body, the way Salesforce documents the flow. Short
    # timeouts: a refresh runs under the connection's row lock.
    if call == "fetch":
        return oauth.fetch_token(token_url, client_secret=secret, include_client_id=True,
                                 timeout=transport.short_timeouts(), **kwargs)
    return oauth.refresh_token(token_url, client_id=connection.oauth_client_id,
                               client_secret=secret, timeout=transport.short_timeouts(),
                               **kwargs)


def _record_statuses(oauth: OAuthSession) -> list[int]:
    """The HTTP statuses of the token responses: oauthlib parses bodies and ignores them."""
    statuses: list[int] = []

    def hook(response: requests.Response) -> requests.Response:
        statuses.append(response.status_code)
        return response

    oauth.register_compliance_hook("access_token_response", hook)
    oauth.register_compliance_hook("refresh_token_response", hook)
    return statuses


def _last(statuses: list[int]) -> int:
    return statuses[-1] if statuses else 0


def _refusal(error: OAuth2Error, statuses: list[int]) -> SalesforceError:
    """Sort an OAuth error: only a refused grant or client means "reconnect"."""
    text = f"{error.error}: {error.description or 'refused'}"
    if _last(statuses) >= 500 or error.error in TRANSIENT_ERRORS:
        # An outage (a 503 body, a missing token from a proxy page): the grant may be fine.
        return Transient(f"the token endpoint answered HTTP {_last(statuses) or '?'} ({text})")
    if error.error in GRANT_ERRORS:
        return GrantRefused(text)
    return OAuthFailure(text)


@sensitive_variables()
def exchange_code(pending: PendingAuthorization, code: str) -> dict[str, Any]:
    """Trade the callback's code (with the stored PKCE verifier) for tokens."""
    return _token_call(pending.connection, "fetch", code=code,
                       code_verifier=pending.code_verifier, redirect_uri=pending.redirect_uri)


@sensitive_variables()
def fetch_identity(token: dict[str, Any], api_version: str) -> dict[str, Any]:
    """GET the token's `id` URL: org id, user id and username of the integration user."""
    url = str(token.get("id") or "")
    if not url.startswith("https://"):
        # The access token travels to this URL: never over plain HTTP, never to nowhere.
        raise OAuthFailure("the token response has no https identity URL (`id`)")
    session = configure(HttpSession())
    try:
        response = session.get(url, params={"version": api_version},
                               headers={"Authorization": f"Bearer {token['access_token']}"},
                               timeout=transport.short_timeouts())
    except requests.RequestException as error:
        raise Transient(f"identity URL unreachable: {type(error).__name__}") from None
    if response.status_code != 200:
        raise OAuthFailure(f"the identity URL answered HTTP {response.status_code}")
    try:
        identity = response.json()
    except ValueError:
        identity = None
    if not isinstance(identity, dict):
        raise OAuthFailure("the identity URL answered with something that is not an identity")
    if not identity.get("organization_id") or not identity.get("user_id"):
        raise OAuthFailure("the identity response lacks the org or user id")
    return identity


@sensitive_variables()
def revoke(connection: Connection, token: str) -> None:
    """Revoke a token at Salesforce (a refresh token takes its access tokens with it).

    Any OAuth error answer (400 invalid_grant "expired access/refresh token", invalid_token)
    means the token no longer works: that is what revoking wanted, so it counts as done.
    """
    session = configure(HttpSession())
    url = connection.login_base_url + REVOKE_PATH
    try:
        response = session.post(url, data={"token": token}, timeout=transport.short_timeouts())
    except requests.RequestException as error:
        raise Transient(f"revoke endpoint unreachable: {type(error).__name__}") from None
    if response.status_code == 200:
        return
    if response.status_code == 400 and _oauth_error_code(response):
        logger.info("connection %s: token was already revoked (%s)", connection.pk,
                    _oauth_error_code(response))
        return
    if response.status_code >= 500:
        raise Transient(f"revoking the token failed with HTTP {response.status_code}")
    raise OAuthFailure(f"revoking the token failed with HTTP {response.status_code}")


def _oauth_error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


@sensitive_variables()
def refresh_access_token(connection: Connection, stale_ciphertext: str) -> bool:
    """Replace an expired access token, once per expiry however many workers notice it.

    Returns True when it refreshed at Salesforce, False when it took a token another worker
    (or a reconnect) stored meanwhile. Refuses to run inside a transaction (InsideTransaction):
    a rotated refresh token committed only with the caller's work would die with its rollback.

    1. Lock the connection row (SELECT ... FOR UPDATE; on SQLite the IMMEDIATE transaction
       takes the database write lock), so refreshes of one connection run one at a time.
    2. If the stored access token is no longer the one that failed (compared as ciphertext),
       another worker refreshed while we waited: use its token.
    3. Otherwise refresh at Salesforce and store the new access token, and the new refresh
       token when Salesforce rotates it, in the same transaction.
    4. A refused grant marks the connection as needing re-authorization (after the commit, and
       only if the row still holds that grant) and raises AuthError. An outage raises
       Transient and marks nothing.
    """
    failure: str | None = None
    with durable_transaction("Refreshing the access token"):
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        grant = locked.refresh_token_encrypted
        if locked.access_token_encrypted and locked.access_token_encrypted != stale_ciphertext:
            _adopt(connection, locked)
            return False
        if not grant:
            failure = "no refresh token is stored; connect the org again"
        else:
            try:
                _store_refreshed(locked, _token_call(locked, "refresh",
                                                     refresh_token=locked.refresh_token))
            except SecretUnreadable:
                failure = UNREADABLE
            except GrantRefused as error:
                failure = f"Salesforce refused the refresh token ({error})"
    if failure is not None:
        if not connection.mark_needs_reauthorization(f"Re-authorization needed: {failure}.",
                                                     grant=grant):
            # An operator reconnected meanwhile: the new grant is not ours to condemn.
            _adopt(connection, Connection.objects.get(pk=connection.pk))
            return False
        raise AuthError(f"Connection {connection.name!r} needs re-authorization: {failure}")
    logger.info("connection %s: access token refreshed", connection.pk)
    _adopt(connection, locked)
    return True


@sensitive_variables()
def _store_refreshed(locked: Connection, token: dict[str, Any]) -> None:
    locked.access_token = token["access_token"]
    if token.get("refresh_token"):
        # Rotation: the old refresh token is dead once this one is issued.
        locked.refresh_token = token["refresh_token"]
    locked.instance_url = token["instance_url"].rstrip("/")
    locked.token_issued_at = timezone.now()
    locked.save(update_fields=["access_token_encrypted", "refresh_token_encrypted",
                               "instance_url", "token_issued_at"])


def _adopt(connection: Connection, fresh: Connection) -> None:
    for column in ("access_token_encrypted", "refresh_token_encrypted", "instance_url",
                   "token_issued_at"):
        setattr(connection, column, getattr(fresh, column))

