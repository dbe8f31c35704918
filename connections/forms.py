"""The connection form: validation with coded errors; the client secret is write-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from connections import describe as schema
from connections import external_id
from connections.client import SalesforceClient
from connections.errors import SalesforceError
from connections.models import Connection


class ConnectionForm(forms.ModelForm):
    """Edit a connection; the secret is never sent back to the browser."""

    new_client_secret = forms.CharField(
        label="OAuth client secret", required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Consumer secret for this connection's own client id. Leave blank to keep "
        "the stored one.",
    )
    clear_client_secret = forms.BooleanField(label="Remove the stored secret", required=False)
    login_url = forms.URLField(
        label="Login URL", required=False, assume_scheme="https",
        help_text=Connection._meta.get_field("login_url").help_text,
    )
    authorize_url = forms.URLField(
        label="Browser authorize URL", required=False, assume_scheme="https",
        help_text=Connection._meta.get_field("authorize_url").help_text,
    )

    class Meta:
        model = Connection
        fields = ["name", "enabled", "environment", "login_url", "authorize_url", "client_id",
                  "api_version", "daily_budget_percent", "conflict_policy",
                  "account_external_id_field", "ongoing_import"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A form posted without it (a script written before the policy existed) keeps the
        # default: Salesforce wins.
        if "conflict_policy" in self.fields:  # absent from a view-only page
            self.fields["conflict_policy"].required = False
        choices = self._account_field_choices()
        if choices:
            # A select of the suitable fields; still checked in clean (the cache may be old).
            self.fields["account_external_id_field"].widget = forms.Select(choices=choices)

    def clean_conflict_policy(self) -> str:
        return self.cleaned_data.get("conflict_policy") or Connection.ConflictPolicy.SALESFORCE

    def _account_field_choices(self) -> list[tuple[str, str]]:
        """Account fields that can carry the hub's account id, from the cached describe (no
        API call), after "none" and with the current value even if no longer suitable."""
        if not self.instance.pk:
            return []
        cached = schema.peek(self.instance, "Account")
        if cached is None:
            return []
        choices = [("", "None: accounts keyed by their Salesforce Id")]
        choices += [(f["name"], f"{f.get('label') or f['name']} ({f['name']})")
                    for f in cached[0].get("fields", []) if external_id.suitable(f)]
        current = self.instance.account_external_id_field
        if current and current not in {name for name, _ in choices}:
            choices.append((current, f"{current} (not suitable in the current schema)"))
        return choices

    def clean_account_external_id_field(self) -> str:
        """A changed field is checked against the org's Account describe when connected."""
        name = self.cleaned_data["account_external_id_field"].strip()
        if name in external_id.NONE:
            return ""
        if name == self.instance.account_external_id_field or not self.instance.is_usable:
            return name
        try:
            described = SalesforceClient.for_connection(
                self.instance, interactive=True).describe("Account")
        except SalesforceError as error:
            raise ValidationError(f"Could not check {name} against Salesforce: {error}",
                                  code="unchecked") from None
        name, reason = external_id.problem(described, name)
        if reason:
            raise ValidationError(reason, code="external_id")
        return name

    def clean_api_version(self) -> str:
        value = self.cleaned_data["api_version"].strip().lstrip("v")
        try:
            number = float(value)
        except ValueError:
            number = 0
        if number < 30 or "." not in value:
            raise ValidationError("Use a REST API version such as 61.0.", code="api_version")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        environment = data.get("environment")
        login_url = data.get("login_url") or ""
        if environment == Connection.Environment.CUSTOM and not login_url:
            self.add_error("login_url", ValidationError(
                "A custom environment needs its login URL (your My Domain).", code="required"))
        if login_url and not login_url.startswith("https://"):
            self.add_error("login_url", ValidationError(
                "The login URL must use https: tokens travel over it.", code="insecure"))
        if data.get("new_client_secret") and not data.get("client_id"):
            self.add_error("new_client_secret", ValidationError(
                "A secret belongs to a client id: fill in the OAuth client id too.",
                code="orphan_secret"))
        return data

    def save(self, commit: bool = True) -> Connection:
        connection = super().save(commit=False)
        if self.cleaned_data.get("clear_client_secret"):
            connection.client_secret = ""
        elif self.cleaned_data.get("new_client_secret"):
            connection.client_secret = self.cleaned_data["new_client_secret"]
        if commit:
            connection.save()
        return connection
