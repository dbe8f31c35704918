"""One started "Connect Salesforce": the OAuth state and PKCE verifier until the callback."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from connections import conf
from connections.crypto import Secret

if TYPE_CHECKING:
    from connections.models.connection import Connection


# The shape of the states `start` makes (`secrets.token_urlsafe`), within the column's 64.
STATE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class PendingAuthorization(models.Model):
    """One started "Connect Salesforce": the OAuth `state` and its PKCE verifier, single use.

    requests-oauthlib keeps the verifier on its session object, which the callback (a new
    request, maybe another process) does not have, so it lives here until the callback takes it.
    """

    state = models.CharField(max_length=64, unique=True)
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE,
                                   related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    code_verifier_encrypted = models.TextField()
    redirect_uri = models.URLField(max_length=500)
    allow_org_change = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()

    code_verifier = Secret("code_verifier_encrypted")

    SECRET_COLUMNS = ("code_verifier_encrypted",)

    def __str__(self) -> str:
        return f"authorization of {self.connection_id} started {self.created:%Y-%m-%d %H:%M}"

    @classmethod
    def begin(cls, connection: Connection, user: Any, redirect_uri: str,
              allow_org_change: bool) -> PendingAuthorization:
        """Start an authorization: prune expired ones, then store a new state and verifier."""
        now = timezone.now()
        cls.objects.filter(expires__lte=now).delete()
        pending = cls(
            state=secrets.token_urlsafe(32), connection=connection, user=user,
            redirect_uri=redirect_uri, allow_org_change=allow_org_change, created=now,
            expires=now + dt.timedelta(seconds=conf.get("SALESFORCE_OAUTH_STATE_TTL")),
        )
        # 64 url-safe characters: within RFC 7636's 43-128, about 384 bits of entropy.
        pending.code_verifier = secrets.token_urlsafe(48)
        pending.save()
        return pending

    @classmethod
    def take(cls, state: str, user: Any) -> PendingAuthorization | None:
        """Consume the row for `state` (once); None when unknown, replayed, expired or foreign."""
        if not STATE_SHAPE.fullmatch(state):  # ours are url-safe tokens; junk never reaches SQL
            return None
        with transaction.atomic():
            pending = cls.objects.select_related("connection").filter(state=state).first()
            if pending is None:
                return None
            # The delete decides the race between two callbacks with the same state.
            deleted, _ = cls.objects.filter(pk=pending.pk).delete()
        if not deleted or pending.expires <= timezone.now():
            return None
        if pending.user_id is not None and pending.user_id != getattr(user, "pk", None):
            return None
        return pending
