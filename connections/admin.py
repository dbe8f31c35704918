"""Connections in the admin: the list with status and API usage, and the connection page.

The connection page is the change form with a panel above it (status, usage, buttons, the
object list, recent events). The buttons' URLs hang off this ModelAdmin so they are staff-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.html import format_html

from config.admin import BoundedSearchAdmin
from connections import authorization, views
from connections.crypto import Secret
from connections.forms import ConnectionForm
from connections.models import Connection, ConnectionEvent

STATUS_COLOURS = {
    Connection.Status.CONNECTED: "#2e7d32",
    Connection.Status.NEEDS_REAUTH: "#e65100",
    Connection.Status.ERROR: "#c62828",
    Connection.Status.DISABLED: "#616161",
    Connection.Status.NOT_CONNECTED: "#616161",
}


def usage_bar(connection: Connection) -> str:
    """A small bar of the org's daily API usage with Forcebridge's budget marked on it."""
    percent = connection.usage_percent
    if percent is None:
        return "–"
    colour = "#c62828" if connection.budget_spent() else "#1565c0"
    # Inline styles: the bar also appears on the list page, which loads no app CSS.
    return format_html(
        '<span class="fb-usage" title="Forcebridge stops at {}% of the daily limit">'
        '<span style="display:inline-block;position:relative;width:8em;height:.7em;'
        'background:#e0e0e0;vertical-align:middle">'
        '<span style="position:absolute;left:0;top:0;bottom:0;width:{}%;background:{}"></span>'
        '<span style="position:absolute;top:-2px;bottom:-2px;left:{}%;width:2px;'
        'background:#000"></span></span> {} / {}</span>',
        connection.daily_budget_percent, percent, colour, connection.daily_budget_percent,
        connection.api_usage_used, connection.api_usage_max,
    )


@admin.register(Connection)
class ConnectionAdmin(BoundedSearchAdmin):
    form = ConnectionForm
    # The connection page is the change page itself.
    view_on_site = False
    list_display = ["name", "environment", "status_badge", "api_usage", "username", "org_id",
                    "last_error_short"]
    list_filter = ["status", "environment", "enabled"]
    search_fields = ["name", "username", "org_id"]
    readonly_fields = ["status", "org_id", "user_id", "username", "instance_url",
                       "connected_at", "api_usage", "api_usage_at", "last_error",
                       "last_error_at", "secret_state"]
    fieldsets = [
        (None, {"fields": ["name", "enabled", "environment", "login_url", "authorize_url"]}),
        ("OAuth client", {"fields": ["client_id", "new_client_secret", "clear_client_secret",
                                     "secret_state"]}),
        ("Sync settings", {"fields": ["api_version", "daily_budget_percent",
                                      "conflict_policy", "account_external_id_field",
                                      "ongoing_import"]}),
        ("Salesforce org", {"fields": ["status", "org_id", "user_id", "username",
                                       "instance_url", "connected_at", "api_usage",
                                       "api_usage_at", "last_error", "last_error_at"]}),
    ]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Connection) -> str:
        return format_html('<strong class="fb-status" style="color:{}">{}</strong>',
                           STATUS_COLOURS.get(obj.status, "#616161"), obj.get_status_display())

    @admin.display(description="API usage today")
    def api_usage(self, obj: Connection) -> str:
        return usage_bar(obj)

    @admin.display(description="last error")
    def last_error_short(self, obj: Connection) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.display(description="client secret")
    def secret_state(self, obj: Connection) -> str:
        # Say whether one is stored; never show it.
        return "stored (encrypted)" if obj.client_secret_encrypted else "none"

    def save_model(self, request: HttpRequest, obj: Connection, form: ConnectionForm,
                   change: bool) -> None:
        """Write only what the operator edited: workers update status, usage and tokens of
        the same row while the form is open, and a full save would put old values back."""
        if not change:
            obj.save()
            return
        fields = [name for name in form.changed_data if name in form._meta.fields]
        if "enabled" in fields:
            fields.append("status")
        relogin = obj.has_tokens and obj.login_changed_since(Connection.objects.get(pk=obj.pk))
        if relogin:
            fields.extend(obj.forget_grant_for_login_change())
        if Secret.changed(obj):
            fields.extend(Secret.changed(obj))
        obj.save(update_fields=[*dict.fromkeys([*fields, "updated"])])
        if relogin:
            ConnectionEvent.log(obj, ConnectionEvent.Kind.DISCONNECTED, obj.last_error)

    def get_fieldsets(self, request: HttpRequest, obj: Connection | None = None) -> list:
        if obj is None:
            # A new connection has no org yet and no stored secret to describe.
            oauth = ("OAuth client", {"fields": ["client_id", "new_client_secret"]})
            return [self.fieldsets[0], oauth, self.fieldsets[2]]
        return self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Connection | None = None) -> list:
        return self.readonly_fields if obj is not None else []

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        # A changed External ID is checked against the org inside the admin's transaction.
        if request.method == "POST" and str(object_id).isdigit() and \
                self.has_change_permission(request):
            stored = Connection.objects.filter(pk=object_id).first()
            if stored is not None and request.POST.get(
                    "account_external_id_field", "").strip() != stored.account_external_id_field:
                authorization.renew_session(stored)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        connection = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if connection is not None:
            context.update(views.page_context(request, connection),
                           usage_bar=usage_bar(connection),
                           status_colour=STATUS_COLOURS.get(connection.status))
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        name = "connections_connection_"
        return [
            path("oauth/callback/", wrap(views.callback), name=name + "oauth_callback"),
            path("<int:pk>/connect/", wrap(views.connect), name=name + "connect"),
            path("<int:pk>/disconnect/", wrap(views.disconnect), name=name + "disconnect"),
            path("<int:pk>/forget/", wrap(views.forget), name=name + "forget"),
            path("<int:pk>/test/", wrap(views.test), name=name + "test"),
            path("<int:pk>/refresh-schema/", wrap(views.refresh_schema),
                 name=name + "refresh_schema"),
            *super().get_urls(),
        ]
