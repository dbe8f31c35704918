"""OAuth 2.0 endpoints: authorize (consent page), token, revoke, userinfo and the identity URL.

Which login host a request reached (production `127.0.0.1`, sandbox `localhost`) is part of
every code and grant: a code or refresh token only works at the host that issued it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urlencode

from .clock import format_datetime
from .errors import ApiError
from .sessions import AccessToken, Grant, OAuthError
from .wire import Request, Response, html_response, json_response, redirect

if TYPE_CHECKING:
    from .server import Emulator


@dataclass
class OAuthApp:
    """The connected app: credentials, allowed callbacks (None = any), consent behaviour."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] | None = None
    auto_approve: bool = False
    name: str = "Forcebridge"


def _oauth_error(error: OAuthError) -> Response:
    return json_response(error.status, {"error": error.error,
                                        "error_description": error.description})


# RFC 6749's codes for an authorization server that is down or failing.
_OAUTH_FAILURES = {500: "server_error", 502: "temporarily_unavailable",
                   503: "temporarily_unavailable"}


def _oauth_failure(failure: ApiError) -> OAuthError:
    """An injected fault as the token endpoint answers it: OAuth's shape, not REST's array."""
    error = _OAUTH_FAILURES.get(failure.status, failure.error_code.lower())
    return OAuthError(error, failure.message, status=failure.status)


# -- authorize ---------------------------------------------------------------------------------

def authorize(emulator: Emulator, request: Request) -> Response:
    """GET shows the consent page (or redirects at once with auto-approve); POST decides."""
    emulator.org.usage.note("oauth-authorize")
    params = request.form() if request.method == "POST" else request.query
    app = emulator.app
    redirect_uri = params.get("redirect_uri", "")
    if params.get("client_id") != app.client_id:
        return html_response(400, _page("Error", "<p>OAUTH_EC_APP_NOT_FOUND: the client_id is "
                                                 "not a known connected app.</p>"))
    if not redirect_uri or (app.redirect_uris is not None
                            and redirect_uri not in app.redirect_uris):
        return html_response(400, _page("Error", "<p>redirect_uri_mismatch: the callback is "
                                                 "not registered for this app.</p>"))
    state = params.get("state")
    if params.get("response_type") != "code":
        return _back(redirect_uri, state, error="unsupported_response_type",
                     error_description="response type not supported")
    method = params.get("code_challenge_method", "S256" if params.get("code_challenge") else "")
    if params.get("code_challenge") and method != "S256":
        return _back(redirect_uri, state, error="invalid_request",
                     error_description="invalid code_challenge_method")
    if request.method == "POST" or app.auto_approve:
        if request.method == "POST" and params.get("decision") != "allow":
            return _back(redirect_uri, state, error="access_denied",
                         error_description="end-user denied authorization")
        code = emulator.org.sessions.issue_code(
            app.client_id, redirect_uri, params.get("scope", ""),
            params.get("code_challenge") or None, request.login_host)
        return _back(redirect_uri, state, code=code)
    return html_response(200, _consent_page(app, params, request.login_host,
                                            emulator.org.username))


def _back(redirect_uri: str, state: str | None, **values: str) -> Response:
    if state is not None:
        values["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(redirect_uri + separator + urlencode(values))


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)} | Salesforce emulator</title>"
        "<style>body{font-family:sans-serif;max-width:32rem;margin:4rem auto;color:#181818}"
        "button{font-size:1rem;padding:.5rem 1.5rem;margin-right:1rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _consent_page(app: OAuthApp, params: dict[str, str], login_host: str, username: str) -> str:
    kept = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
            "code_challenge_method")
    hidden = "".join(
        f'<input type=hidden name="{name}" value="{html.escape(params[name])}">'
        for name in kept if name in params
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
    where = "Sandbox (test.salesforce.com)" if login_host == "sandbox" else "Production"
    return _page("Allow Access?", (
        f"<p><strong>{html.escape(app.name)}</strong> is asking to access your "
        f"{where} org as <strong>{html.escape(username)}</strong>.</p>"
        f"<ul>{scopes or '<li>full access</li>'}</ul>"
        f'<form method=post action="/services/oauth2/authorize">{hidden}'
        '<button id=approve type=submit name=decision value=allow>Allow</button>'
        '<button id=deny type=submit name=decision value=deny>Deny</button></form>'
    ))


# -- token, revoke, identity ---------------------------------------------------------------------

def handle(emulator: Emulator, request: Request) -> Response:
    path = request.path.rstrip("/")
    try:
        if path == "/services/oauth2/token" and request.method == "POST":
            emulator.org.usage.note("oauth-token")
            failure = emulator.org.faults.take_failure("oauth-token")
            if failure is not None:
                raise _oauth_failure(failure)
            return token(emulator, request)
        if path == "/services/oauth2/revoke" and request.method in ("POST", "GET"):
            emulator.org.usage.note("oauth-revoke")
            return revoke(emulator, request)
        if path == "/services/oauth2/userinfo":
            emulator.org.usage.note("identity")
            return json_response(200, _userinfo(emulator, _bearer(emulator, request)))
        if path.startswith("/id/"):
            emulator.org.usage.note("identity")
            return identity(emulator, request, path)
    except OAuthError as error:
        return _oauth_error(error)
    raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def _client(emulator: Emulator, request: Request, form: dict[str, str]) -> None:
    """Check client credentials from HTTP Basic or the body (requests-oauthlib uses Basic)."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
        raw_id, _, raw_secret = decoded.partition(":")
        # RFC 6749 says form-encode before Basic; many clients do not. Accept both.
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if secret != emulator.app.client_secret and raw_secret == emulator.app.client_secret:
            secret = raw_secret
    if client_id != emulator.app.client_id:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if secret != emulator.app.client_secret:
        raise OAuthError("invalid_client", "invalid client credentials")


def token(emulator: Emulator, request: Request) -> Response:
    form = request.form()
    grant_type = form.get("grant_type")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    _client(emulator, request, form)
    sessions = emulator.org.sessions
    if grant_type == "authorization_code":
        grant = sessions.redeem_code(form.get("code", ""), emulator.app.client_id,
                                     form.get("redirect_uri"), form.get("code_verifier"),
                                     request.login_host)
        return _token_response(emulator, grant, include_refresh=True)
    grant, rotated = sessions.refresh(form.get("refresh_token", ""), emulator.app.client_id,
                                      request.login_host)
    return _token_response(emulator, grant, include_refresh=rotated,
                           scope=form.get("scope") or grant.scope)


def token_payload(emulator: Emulator, grant: Grant, include_refresh: bool,
                  scope: str | None = None) -> dict[str, Any]:
    """The token JSON Salesforce returns; no `expires_in`, `issued_at` in ms as a string."""
    org = emulator.org
    access = org.sessions.new_access_token(grant, org.org_id, grant.login_host)
    identity_url = f"{emulator.login_base(grant.login_host)}/id/{org.org_id}/{org.user_id}"
    issued_at = str(int(access.issued_at.timestamp() * 1000))
    signature = base64.b64encode(hmac.new(emulator.app.client_secret.encode(),
                                          (identity_url + issued_at).encode(),
                                          hashlib.sha256).digest()).decode()
    payload: dict[str, Any] = {"access_token": access.token}
    if include_refresh:
        payload["refresh_token"] = grant.refresh_token
    payload.update(signature=signature, scope=scope if scope is not None else grant.scope,
                   instance_url=emulator.base_url, id=identity_url, token_type="Bearer",
                   issued_at=issued_at)
    return payload


def _token_response(emulator: Emulator, grant: Grant, include_refresh: bool,
                    scope: str | None = None) -> Response:
    return json_response(200, token_payload(emulator, grant, include_refresh, scope),
                         {"Cache-Control": "no-cache,must-revalidate,max-age=0,no-store,private",
                          "Pragma": "no-cache"})


def revoke(emulator: Emulator, request: Request) -> Response:
    value = request.form().get("token") or request.query.get("token", "")
    if not emulator.org.sessions.revoke(value):
        raise OAuthError("invalid_grant", "expired access/refresh token")
    return Response(200)


def _bearer(emulator: Emulator, request: Request) -> AccessToken:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    raw = value.strip() if scheme.lower() in ("bearer", "oauth") else request.query.get(
        "oauth_token", "")
    found = emulator.org.sessions.check(raw) if raw else None
    if found is None:
        raise OAuthError("Bad_OAuth_Token", "Bad_OAuth_Token", status=403)
    return found


def identity(emulator: Emulator, request: Request, path: str) -> Response:
    """`GET /id/<orgId>/<userId>`: who the token belongs to and where its APIs live."""
    access = _bearer(emulator, request)
    org = emulator.org
    parts = path.split("/")
    if len(parts) != 4 or parts[2][:15] != org.org_id[:15] or parts[3][:15] != org.user_id[:15]:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    user = org.get_record(org.user_id) or {}
    base = emulator.base_url
    version = request.query.get("version", "59.0")
    data = {
        "id": f"{emulator.login_base(access.login_host)}/id/{org.org_id}/{org.user_id}",
        "asserted_user": True, "user_id": org.user_id, "organization_id": org.org_id,
        "username": user.get("Username"), "nick_name": user.get("Alias"),
        "display_name": user.get("Name"), "email": user.get("Email"), "email_verified": True,
        "first_name": user.get("FirstName"), "last_name": user.get("LastName"),
        "timezone": user.get("TimeZoneSidKey"), "active": True, "user_type": "STANDARD",
        "language": "en_US", "locale": "en_US", "utcOffset": 0, "is_app_installed": True,
        "is_lightning_login_user": False,
        "last_modified_date": user.get("LastModifiedDate"),
        "login_host": access.login_host,
        "urls": {
            "enterprise": f"{base}/services/Soap/c/{{version}}/{org.org_id[:15]}",
            "partner": f"{base}/services/Soap/u/{{version}}/{org.org_id[:15]}",
            "rest": f"{base}/services/data/v{{version}}/",
            "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
            "query": f"{base}/services/data/v{{version}}/query/",
            "limits": f"{base}/services/data/v{{version}}/limits/",
            "profile": f"{base}/{org.user_id}", "custom_domain": base,
        },
    }
    body = json.dumps(data).replace("{version}", version)
    return Response(200, body.encode(), {"Content-Type": "application/json;charset=UTF-8"})


def _userinfo(emulator: Emulator, access: AccessToken) -> dict[str, Any]:
    org = emulator.org
    user = org.get_record(org.user_id) or {}
    return {
        "sub": f"{emulator.login_base(access.login_host)}/id/{org.org_id}/{org.user_id}",
        "user_id": org.user_id, "organization_id": org.org_id,
        "preferred_username": user.get("Username"), "nickname": user.get("Alias"),
        "name": user.get("Name"), "email": user.get("Email"), "email_verified": True,
        "given_name": user.get("FirstName"), "family_name": user.get("LastName"),
        "zoneinfo": user.get("TimeZoneSidKey"), "active": True, "user_type": "STANDARD",
        "updated_at": format_datetime(org.now()),
    }
