"""What the connection page's buttons do: connect, finish the callback, disconnect, test.

Each function returns what the page should tell the operator; the views only authorise and
render. A failed step never changes what is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.views.decorators.debug import sensitive_variables

from connections import describe as schema
from connections import oauth
from connections.client import SalesforceClient
from connections.crypto import SecretUnreadable, decrypt
from connections.errors import AuthError, QuotaExhausted, SalesforceError, Transient
from connections.models import Connection, ConnectionEvent, PendingAuthorization

logger = logging.getLogger(__name__)

UNCHANGED = "Nothing stored was changed."


@dataclass
class Outcome:
    """The result of a button: the connection to land on (if known), success, the message.

    `offer_forget`: revoking failed, so the page offers to forget the tokens without it.
    """

    connection: Connection | None
    ok: bool
    message: str
    offer_forget: bool = False


def renew_session(connection: Connection | None) -> None:
    """Refresh an expired Salesforce session before a form's transaction opens.

    Forms checked against the org (a sync, an action, the connection's External ID) read
    describes inside the admin's transaction, where a refreshed (possibly rotated) token could
    not be committed on its own.
    """
    if connection is None or not connection.is_usable:
        return
    try:
        SalesforceClient.for_connection(connection, interactive=True).identity()
    except SalesforceError as error:
        # The form checks the row against the org next and shows the reason on the page.
        logger.info("admin form: connection %s could not renew its session: %s",
                    connection.pk, error)


def begin(connection: Connection, user: Any, redirect_uri: str, allow_org_change: bool) -> str:
    """Store a state + PKCE verifier and return the Salesforce consent page URL."""
    if not connection.oauth_client_id:
        raise SalesforceError("No OAuth client: set SALESFORCE_CLIENT_ID (and "
                              "SALESFORCE_CLIENT_SECRET) or give this connection its own client id.")
    pending = PendingAuthorization.begin(connection, user, redirect_uri, allow_org_change)
    logger.info("connection %s: authorization started at %s", connection.pk,
                connection.authorize_base_url)
    return oauth.authorization_url(pending)


@sensitive_variables()
def finish(params: dict[str, str], user: Any) -> Outcome:
    """Handle the OAuth callback.

    1. Take the state's row (single use): unknown, replayed, expired or another user's state
       is refused before anything else.
    2. A denial or error from Salesforce is reported.
    3. Exchange the code with the stored PKCE verifier, then read the identity.
    4. Refuse a different org unless the operator asked for it (revoking the new grant).
    5. Store the tokens, revoke the grant they replace, report success.
    """
    pending = PendingAuthorization.take(params.get("state", ""), user) if params.get(
        "state") else None
    if pending is None:
        return Outcome(None, False, "This authorization response is unknown, expired or was "
                       f"already used, so it was ignored. {UNCHANGED} Press Connect again.")
    connection = pending.connection
    if params.get("error"):
        reason = params.get("error_description") or params["error"]
        return Outcome(connection, False, f"Salesforce did not authorize Forcebridge "
                       f"({params['error']}: {reason}). {UNCHANGED}")
    if not params.get("code"):
        return Outcome(connection, False, f"Salesforce sent no authorization code. {UNCHANGED}")
    try:
        token = oauth.exchange_code(pending, params["code"])
    except Transient as error:
        return Outcome(connection, False, f"Salesforce could not finish the authorization "
                       f"({error}). {UNCHANGED} Press Connect again.")
    except SalesforceError as error:
        return Outcome(connection, False, f"Salesforce refused the authorization ({error}). "
                       f"{UNCHANGED}")
    if not token.get("refresh_token"):
        _revoke_quietly(connection, token["access_token"])
        return Outcome(connection, False, "Salesforce issued no refresh token: give the app the "
                       f"refresh_token (offline access) scope. {UNCHANGED}")
    try:
        identity = oauth.fetch_identity(token, connection.api_version)
    except SalesforceError as error:
        _revoke_quietly(connection, token["access_token"])
        return Outcome(connection, False, f"Could not read the signed-in user ({error}). "
                       f"{UNCHANGED}")
    new_org = identity["organization_id"]
    if connection.org_id and connection.org_id != new_org and not pending.allow_org_change:
        _revoke_quietly(connection, token.get("refresh_token") or token["access_token"])
        return Outcome(connection, False, f"You signed in to org {new_org}, but this connection "
                       f"belongs to org {connection.org_id}. {UNCHANGED} To switch orgs, tick "
                       "\"Connect a different org\" and reconnect.")
    # The ciphertext, not the token: decrypted only for the revoke call below.
    old_grant = connection.refresh_token_encrypted
    if connection.org_id and connection.org_id != new_org:
        schema.forget(connection)
    connection.store_authorization(token, identity)
    logger.info("connection %s: connected to org %s as %s", connection.pk, connection.org_id,
                connection.username)
    if old_grant:
        # Free the old grant: Salesforce keeps only five per user and app.
        _revoke_old_grant(connection, old_grant)
    return Outcome(connection, True, f"Connected to Salesforce org {connection.org_id} as "
                   f"{connection.username}.")


@sensitive_variables()
def disconnect(connection: Connection) -> Outcome:
    """Revoke the refresh token at Salesforce (killing its access tokens), then forget them.

    A token Salesforce no longer accepts counts as revoked. When Salesforce cannot be reached
    nothing changes, and the page offers `forget` instead.
    """
    try:
        token = connection.refresh_token or connection.access_token
    except SecretUnreadable:
        return forget(connection, "Disconnected; the tokens could not be decrypted (encryption "
                      "key removed?), so they were deleted without revoking them at Salesforce.")
    if token:
        try:
            oauth.revoke(connection, token)
        except SalesforceError as error:
            return Outcome(connection, False, f"Salesforce could not revoke the token ({error}). "
                           f"{UNCHANGED} Try again, or forget the tokens without revoking them.",
                           offer_forget=True)
    connection.clear_tokens("Disconnected; the refresh token was revoked at Salesforce.")
    schema.forget(connection)
    return Outcome(connection, True, "Disconnected: Salesforce revoked Forcebridge's access "
                   "and the tokens were deleted.")


def forget(connection: Connection, message: str = "") -> Outcome:
    """Delete the tokens without revoking them (Salesforce unreachable, or the key lost)."""
    message = message or ("Disconnected without revoking: the tokens were deleted here; revoke "
                          "the grant in Salesforce Setup (Connected Apps OAuth Usage) if it "
                          "still exists.")
    connection.clear_tokens(message)
    schema.forget(connection)
    return Outcome(connection, True, message)


def test(connection: Connection) -> Outcome:
    """Call limits and identity, with no retries and past the budget; report org, user, usage."""
    try:
        client = SalesforceClient.for_connection(connection, interactive=True,
                                                 respect_budget=False)
        limits = client.limits()
        identity = client.identity()
    except SalesforceError as error:
        # Auth and quota failures were already recorded where they happened.
        if not isinstance(error, AuthError | QuotaExhausted):
            connection.record_error(f"Test failed: {error}", set_status=False)
        return Outcome(connection, False, f"Test failed: {error}")
    daily = limits.get("DailyApiRequests") or {}
    used = (daily["Max"] - daily["Remaining"]) if {"Max", "Remaining"} <= daily.keys() else "?"
    message = (f"Salesforce answered: org {identity.get('organization_id')}, user "
               f"{identity.get('username')}, daily API requests {used}/{daily.get('Max', '?')} "
               f"({client.api_calls} calls made by this test).")
    ConnectionEvent.log(connection, ConnectionEvent.Kind.TESTED, message)
    return Outcome(connection, True, message)


def refresh_schema(connection: Connection) -> Outcome:
    """Drop the cached describes and fetch the object list and Account again."""
    schema.forget(connection)
    try:
        client = SalesforceClient.for_connection(connection, interactive=True,
                                                 respect_budget=False)
        objects = client.describe_global(refresh=True)
        client.describe("Account", refresh=True)
    except SalesforceError as error:
        return Outcome(connection, False, f"Could not read the schema: {error}")
    return Outcome(connection, True, f"Schema refreshed: {len(objects.get('sobjects', []))} "
                   "objects.")


def check_secrets(connection: Connection) -> None:
    """Mark a connection whose tokens cannot be decrypted (the key was removed) as needing
    re-authorization, so its page says so instead of failing."""
    if connection.status == Connection.Status.NEEDS_REAUTH or not connection.has_tokens:
        return
    try:
        _ = connection.refresh_token, connection.access_token
    except SecretUnreadable:
        connection.mark_needs_reauthorization(f"Re-authorization needed: {oauth.UNREADABLE}.",
                                              grant=connection.refresh_token_encrypted)


@sensitive_variables()
def _revoke_old_grant(connection: Connection, ciphertext: str) -> None:
    try:
        token = decrypt(ciphertext)
    except SecretUnreadable:
        logger.warning("connection %s: the replaced grant could not be decrypted, so it was not "
                       "revoked", connection.pk)
        return
    if token != connection.refresh_token:
        _revoke_quietly(connection, token)


@sensitive_variables()
def _revoke_quietly(connection: Connection, token: str) -> None:
    try:
        oauth.revoke(connection, token)
    except SalesforceError as error:
        # Best effort: an unrevoked grant only occupies one of the app's five slots.
        logger.warning("connection %s: could not revoke a token: %s", connection.pk, error)
