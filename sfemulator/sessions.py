"""OAuth state of the org: authorization codes, grants (refresh tokens) and access tokens.

A grant is what a user approves for a connected app; it owns one live refresh token and any
number of access tokens. Revoking the refresh token revokes the grant and its access tokens.
Expiry uses the org clock, so tests expire sessions by advancing it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, format_datetime

_ALPHABET = string.ascii_letters + string.digits
MAX_GRANTS_PER_APP = 5
CODE_TTL = dt.timedelta(minutes=15)


class OAuthError(Exception):
    """An OAuth failure rendered as `{"error", "error_description"}` with HTTP 400."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


def opaque(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    login_host: str
    expires_at: dt.datetime


@dataclass
class Grant:
    number: int
    client_id: str
    login_host: str
    scope: str
    refresh_token: str
    created_at: dt.datetime
    counted: bool = True
    revoked: bool = False
    refreshes: int = 0
    access_tokens: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "client_id": self.client_id,
                "login_host": self.login_host, "scope": self.scope,
                "refresh_token": self.refresh_token, "created_at": format_datetime(self.created_at),
                "revoked": self.revoked, "refreshes": self.refreshes,
                "access_tokens": len(self.access_tokens)}


@dataclass
class AccessToken:
    token: str
    grant: Grant | None
    login_host: str
    issued_at: dt.datetime
    revoked: bool = False


class SessionStore:
    """All OAuth state; one lock serialises token operations like Salesforce's own rows do."""

    def __init__(self, clock: Clock, token_ttl: int = 7200,
                 rotate_refresh_tokens: bool = False) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.token_ttl = token_ttl
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.codes: dict[str, AuthCode] = {}
            self.grants: list[Grant] = []
            self.refresh_tokens: dict[str, Grant] = {}
            self.access: dict[str, AccessToken] = {}

    def issue_code(self, client_id: str, redirect_uri: str, scope: str,
                   challenge: str | None, login_host: str) -> str:
        code = "aPrx" + opaque(60)
        with self._lock:
            self.codes[code] = AuthCode(client_id, redirect_uri, scope, challenge, login_host,
                                        self._clock.now() + CODE_TTL)
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str | None,
                    verifier: str | None, login_host: str) -> Grant:
        """Exchange an authorization code (single use) for a new grant."""
        with self._lock:
            pending = self.codes.pop(code, None)
        if pending is None or pending.expires_at <= self._clock.now() \
                or pending.client_id != client_id or pending.login_host != login_host:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if redirect_uri != pending.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if pending.challenge is not None:
            if not verifier:
                raise OAuthError("invalid_request", "code_verifier required")
            if pkce_challenge(verifier) != pending.challenge:
                raise OAuthError("invalid_grant", "invalid code verifier")
        return self.new_grant(client_id, pending.scope, login_host)

    def new_grant(self, client_id: str, scope: str, login_host: str,
                  counted: bool = True) -> Grant:
        """Create a grant; the sixth counted grant of an app silently revokes the oldest."""
        with self._lock:
            grant = Grant(len(self.grants) + 1, client_id, login_host, scope,
                          "5Aep" + opaque(83), self._clock.now(), counted)
            self.grants.append(grant)
            self.refresh_tokens[grant.refresh_token] = grant
            live = [g for g in self.grants
                    if g.counted and not g.revoked and g.client_id == client_id]
            for oldest in live[: max(0, len(live) - MAX_GRANTS_PER_APP)]:
                self._revoke_grant(oldest)
        return grant

    def new_access_token(self, grant: Grant | None, org_id: str, login_host: str) -> AccessToken:
        token = AccessToken(f"{org_id[:15]}!AQ" + opaque(110), grant, login_host,
                            self._clock.now())
        with self._lock:
            self.access[token.token] = token
            if grant is not None:
                grant.access_tokens.append(token.token)
        return token

    def refresh(self, refresh_token: str, client_id: str, login_host: str) -> tuple[Grant, bool]:
        """Validate a refresh token; with rotation it is replaced and works only once.

        Returns the grant and whether a new refresh token was issued.
        """
        with self._lock:
            grant = self.refresh_tokens.get(refresh_token)
            if grant is None or grant.revoked or grant.client_id != client_id \
                    or grant.login_host != login_host:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            grant.refreshes += 1
            if not self.rotate_refresh_tokens:
                return grant, False
            del self.refresh_tokens[refresh_token]
            grant.refresh_token = "5Aep" + opaque(83)
            self.refresh_tokens[grant.refresh_token] = grant
            return grant, True

    def revoke(self, token: str) -> bool:
        """Revoke a refresh token (and its grant's access tokens) or a single access token.

        False when the token is unknown, already revoked or an expired access token.
        """
        with self._lock:
            grant = self.refresh_tokens.get(token)
            if grant is not None:
                self._revoke_grant(grant)
                return True
            access = self.check(token)
            if access is None:
                return False
            access.revoked = True
            return True

    def _revoke_grant(self, grant: Grant) -> None:
        grant.revoked = True
        self.refresh_tokens.pop(grant.refresh_token, None)
        for token in grant.access_tokens:
            self.access[token].revoked = True

    def check(self, token: str) -> AccessToken | None:
        """The live access token, or None when unknown, revoked or older than the TTL."""
        found = self.access.get(token)
        if found is None or found.revoked:
            return None
        if found.issued_at + dt.timedelta(seconds=self.token_ttl) <= self._clock.now():
            return None
        return found

    def expire_all(self) -> int:
        """Kill every access token now; refresh tokens keep working. Returns how many died."""
        with self._lock:
            live = [t for t in self.access.values() if not t.revoked]
            for token in live:
                token.revoked = True
            return len(live)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"token_ttl": self.token_ttl,
                    "rotate_refresh_tokens": self.rotate_refresh_tokens,
                    "grants": [g.as_json() for g in self.grants],
                    "access_tokens": [
                        {"token": t.token, "login_host": t.login_host,
                         "issued_at": format_datetime(t.issued_at), "revoked": t.revoked,
                         "grant": t.grant.number if t.grant else None}
                        for t in self.access.values()]}
