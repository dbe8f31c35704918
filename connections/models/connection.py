"""A Salesforce org Forcebridge is connected to: where it logs in, its tokens and its health."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from connections import conf
from connections.crypto import Secret
from connections.durable import durable_transaction
from connections.models.event import ConnectionEvent


def _default_api_version() -> str:
    return conf.get("SALESFORCE_API_VERSION")


class Connection(models.Model):
    """One org: where it logs in, which OAuth client, its tokens (encrypted) and its health."""

    class Environment(models.TextChoices):
        PRODUCTION = "production", "Production (login.salesforce.com)"
        SANDBOX = "sandbox", "Sandbox (test.salesforce.com)"
        CUSTOM = "custom", "Custom login URL (My Domain)"

    class Status(models.TextChoices):
        NOT_CONNECTED = "not_connected", "Not connected"
        CONNECTED = "connected", "Connected"
        NEEDS_REAUTH = "needs_reauth", "Needs re-authorization"
        DISABLED = "disabled", "Disabled"
        ERROR = "error", "Error"

    class ConflictPolicy(models.TextChoices):
        # Salesforce is the single source of truth (journy.io's rule): the default.
        SALESFORCE = "salesforce", "Salesforce wins"
        HUB = "hub", "Hub wins"
        NEWEST = "newest", "Newest change wins"

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(
        default=True, help_text="When off, Forcebridge makes no Salesforce call for this org."
    )
    environment = models.CharField(
        max_length=20, choices=Environment.choices, default=Environment.PRODUCTION
    )
    login_url = models.URLField(
        "login URL", blank=True, help_text="Custom login URL only, e.g. https://acme.my.salesforce.com"
    )
    authorize_url = models.URLField(
        "browser authorize URL", blank=True,
        help_text="Only if the browser must open the consent page at another address than the "
        "login URL (the emulator's plain-HTTP page in the demo). Leave blank otherwise.",
    )
    client_id = models.CharField(
        "OAuth client id", max_length=255, blank=True,
        help_text="Consumer key of the External Client App; blank uses SALESFORCE_CLIENT_ID.",
    )
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    api_version = models.CharField("API version", max_length=10, default=_default_api_version)
    daily_budget_percent = models.PositiveSmallIntegerField(
        "daily API budget (%)", default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Forcebridge stops calling once the org's daily API usage reaches this share "
        "of its limit, leaving the rest to the org's other integrations.",
    )
    conflict_policy = models.CharField(
        "conflict policy", max_length=12, choices=ConflictPolicy.choices,
        default=ConflictPolicy.SALESFORCE,
        help_text="When a field changed both in Salesforce and in the hub since they last "
        "exchanged it: which value wins (and ends on both sides). Every conflict is logged.",
    )
    account_external_id_field = models.CharField(
        "external ID for accounts", max_length=80, blank=True,
        help_text="Account field holding the hub's account id: imports key accounts by it, "
        "actions writing Accounts fill it. Blank: accounts are keyed by their Salesforce Id.",
    )
    ongoing_import = models.BooleanField(
        "ongoing import of new Salesforce users and accounts", default=False,
        help_text="On: the syncs of the initial import keep running on their schedule. Off: "
        "they run once and stay disabled. Applied when Initial import is pressed.")

    # Filled by the OAuth flow.
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NOT_CONNECTED, editable=False
    )
    instance_url = models.URLField("instance URL", blank=True, editable=False)
    identity_url = models.URLField("identity URL", max_length=300, blank=True, editable=False)
    org_id = models.CharField("org id", max_length=18, blank=True, editable=False)
    user_id = models.CharField("integration user id", max_length=18, blank=True, editable=False)
    username = models.CharField(
        "integration user", max_length=255, blank=True, editable=False
    )
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    token_issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    connected_at = models.DateTimeField(null=True, blank=True, editable=False)

    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Org-wide daily usage from the last response's `Sforce-Limit-Info` (all apps, not just us).
    api_usage_used = models.PositiveIntegerField(null=True, blank=True, editable=False)
    api_usage_max = models.PositiveIntegerField(null=True, blank=True, editable=False)
    api_usage_at = models.DateTimeField("API usage read at", null=True, blank=True,
                                        editable=False)

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    client_secret = Secret("client_secret_encrypted")
    access_token = Secret("access_token_encrypted")
    refresh_token = Secret("refresh_token_encrypted")

    SECRET_COLUMNS = ("client_secret_encrypted", "access_token_encrypted",
                      "refresh_token_encrypted")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, keeping `status` in step with `enabled` and never writing back stale secrets.

        1. An operator toggles only `enabled`; `status` follows it.
        2. A full save of an existing row leaves out the secret columns this instance did not
           set: a copy loaded before another worker rotated the refresh token must not put the
           old (now dead) token back.
        """
        if not self.enabled:
            self.status = self.Status.DISABLED
        elif self.status == self.Status.DISABLED:
            self.status = self.Status.CONNECTED if self.has_tokens else self.Status.NOT_CONNECTED
        if not self._state.adding and not args and kwargs.get("update_fields") is None:
            untouched = set(self.SECRET_COLUMNS) - Secret.changed(self)
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in untouched]
        super().save(*args, **kwargs)
        Secret.changed(self).clear()

    def get_absolute_url(self) -> str:
        return reverse("admin:connections_connection_change", args=[self.pk])

    # -- where and as whom it logs in ---------------------------------------------------------

    @property
    def login_base_url(self) -> str:
        if self.environment == self.Environment.SANDBOX:
            return settings.SALESFORCE_SANDBOX_LOGIN_URL
        if self.environment == self.Environment.CUSTOM and self.login_url:
            return self.login_url.rstrip("/")
        return settings.SALESFORCE_LOGIN_URL

    @property
    def authorize_base_url(self) -> str:
        """Where the browser opens the consent page; usually the login host itself."""
        if self.authorize_url:
            return self.authorize_url.rstrip("/")
        if self.environment == self.Environment.PRODUCTION and settings.SALESFORCE_AUTHORIZE_URL:
            return settings.SALESFORCE_AUTHORIZE_URL
        return self.login_base_url

    @property
    def oauth_client_id(self) -> str:
        return self.client_id or settings.SALESFORCE_CLIENT_ID

    @property
    def oauth_client_secret(self) -> str:
        # A connection with its own client id never borrows the global secret.
        return self.client_secret if self.client_id else settings.SALESFORCE_CLIENT_SECRET

    @property
    def has_tokens(self) -> bool:
        return bool(self.refresh_token_encrypted)

    @property
    def is_usable(self) -> bool:
        return self.enabled and self.has_tokens and self.status != self.Status.NEEDS_REAUTH

    # -- state changes ------------------------------------------------------------------------

    def store_authorization(self, token: dict[str, Any], identity: dict[str, Any]) -> None:
        """Save a fresh grant: tokens, instance, org and integration user; mark connected."""
        now = timezone.now()
        self.access_token = token["access_token"]
        self.refresh_token = token.get("refresh_token", "")
        self.instance_url = token["instance_url"].rstrip("/")
        self.identity_url = token.get("id", "")
        self.org_id = identity.get("organization_id", "")
        self.user_id = identity.get("user_id", "")
        self.username = identity.get("username", "")
        self.token_issued_at = now
        self.connected_at = now
        self.status = self.Status.CONNECTED if self.enabled else self.Status.DISABLED
        self.last_error = ""
        self.last_error_at = None
        self.save()
        ConnectionEvent.log(self, ConnectionEvent.Kind.CONNECTED,
                            f"Connected as {self.username} to org {self.org_id}.")

    def clear_tokens(self, message: str) -> None:
        self.access_token = ""
        self.refresh_token = ""
        self.token_issued_at = None
        self.status = self.Status.NOT_CONNECTED if self.enabled else self.Status.DISABLED
        self.save()
        ConnectionEvent.log(self, ConnectionEvent.Kind.DISCONNECTED, message)

    def login_changed_since(self, stored: Connection) -> bool:
        """True when the token endpoint or OAuth client differs from the stored row's."""
        return (self.login_base_url, self.oauth_client_id) != (stored.login_base_url,
                                                               stored.oauth_client_id)

    def forget_grant_for_login_change(self) -> list[str]:
        """Drop the tokens (unsaved) because the login host or OAuth client was edited.

        The refresh token belongs to the old host and client: sent to the new ones it would be
        refused at best and leaked at worst. Returns the columns the caller must save.
        """
        self.access_token = ""
        self.refresh_token = ""
        self.token_issued_at = None
        self.status = self.Status.NEEDS_REAUTH
        self.last_error = ("Re-authorization needed: the environment, login URL or OAuth client "
                           "changed, so the old tokens were deleted (not revoked). Reconnect.")
        self.last_error_at = timezone.now()
        return ["access_token_encrypted", "refresh_token_encrypted", "token_issued_at",
                "status", "last_error", "last_error_at"]

    def mark_needs_reauthorization(self, message: str, *, grant: str | None = None) -> bool:
        """The grant stopped working: every call fails until an operator reconnects.

        `grant` is the refresh-token ciphertext that failed: when the row holds another one
        (an operator reconnected meanwhile) nothing is written and False is returned. Durable:
        the mark must survive whatever transaction the caller would otherwise roll back.
        """
        now = timezone.now()
        rows = Connection.objects.filter(pk=self.pk)
        if grant is not None:
            rows = rows.filter(refresh_token_encrypted=grant)
        with durable_transaction("Marking a connection for re-authorization"):
            marked = rows.update(
                status=models.Case(models.When(enabled=False, then=models.Value(
                    self.Status.DISABLED)), default=models.Value(self.Status.NEEDS_REAUTH)),
                last_error=message, last_error_at=now)
            if marked:
                ConnectionEvent.log(self, ConnectionEvent.Kind.ERROR, message)
        if marked:
            self.status = self.Status.NEEDS_REAUTH if self.enabled else self.Status.DISABLED
            self.last_error, self.last_error_at = message, now
        return bool(marked)

    def clear_error(self, prefix: str) -> None:
        """Forget the last error if it is the one `prefix` begins (its cause has passed)."""
        if self.last_error.startswith(prefix):
            Connection.objects.filter(pk=self.pk, last_error__startswith=prefix).update(
                last_error="", last_error_at=None)
            self.last_error, self.last_error_at = "", None

    def record_error(self, message: str, *, set_status: bool = True) -> None:
        """Remember a failure; `set_status` flips a connected org to "error" until a call works."""
        self.last_error, self.last_error_at = message, timezone.now()
        fields: dict[str, Any] = {"last_error": message, "last_error_at": self.last_error_at}
        if set_status:
            # Decided on the stored status, not this copy's: "needs re-authorization" written
            # by another worker since this copy was loaded must stay.
            fields["status"] = _swap_status(self.Status.CONNECTED, self.Status.ERROR)
        Connection.objects.filter(pk=self.pk).update(**fields)
        if set_status and self.status == self.Status.CONNECTED:
            self.status = self.Status.ERROR
        ConnectionEvent.log(self, ConnectionEvent.Kind.ERROR, message)

    def record_api_usage(self, used: int, maximum: int) -> None:
        """Copy `Sforce-Limit-Info` onto the row; a working call also clears an "error" status."""
        self.api_usage_used, self.api_usage_max = used, maximum
        self.api_usage_at = timezone.now()
        # Only "error" becomes "connected" (in one UPDATE): a working call says nothing about
        # a grant another worker found refused.
        Connection.objects.filter(pk=self.pk).update(
            api_usage_used=used, api_usage_max=maximum, api_usage_at=self.api_usage_at,
            status=_swap_status(self.Status.ERROR, self.Status.CONNECTED))
        if self.status == self.Status.ERROR:
            self.status = self.Status.CONNECTED

    # -- API budget -----------------------------------------------------------------------------

    @property
    def budget_calls(self) -> int | None:
        """How far the org's daily usage may go before Forcebridge stops (None: limit unknown)."""
        if not self.api_usage_max:
            return None
        return self.api_usage_max * self.daily_budget_percent // 100

    def budget_spent(self) -> bool:
        """True when the last known org usage (within the rolling day) reached the budget."""
        budget = self.budget_calls
        if budget is None or self.api_usage_used is None or self.api_usage_at is None:
            return False
        if timezone.now() - self.api_usage_at > dt.timedelta(hours=24):
            return False
        return self.api_usage_used >= budget

    @property
    def usage_percent(self) -> int | None:
        if not self.api_usage_max or self.api_usage_used is None:
            return None
        return min(100, round(100 * self.api_usage_used / self.api_usage_max))


def _swap_status(old: str, new: str) -> models.Case:
    """`status` becomes `new` only where the stored value is `old`."""
    return models.Case(models.When(status=old, then=models.Value(new)),
                       default=models.F("status"))
