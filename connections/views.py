"""The connection page's buttons (POST, CSRF, staff only via the admin) and the OAuth callback.

Each view authorises, calls one function of authorization.py, sets a message and redirects.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from connections import authorization
from connections import describe as schema
from connections.client import SalesforceClient
from connections.errors import SalesforceError
from connections.models import Connection

CHANGE_PERMISSION = "connections.change_connection"
# Session key: ids of connections whose last Disconnect could not revoke at Salesforce.
REVOKE_FAILED = "connections_revoke_failed"


def _connection(request: HttpRequest, pk: int) -> Connection:
    if not request.user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied
    return get_object_or_404(Connection, pk=pk)


def _land(request: HttpRequest, outcome: authorization.Outcome) -> HttpResponse:
    (messages.success if outcome.ok else messages.error)(request, outcome.message)
    if outcome.connection is not None:
        return redirect(outcome.connection.get_absolute_url())
    return redirect("admin:connections_connection_changelist")


def callback_url(request: HttpRequest) -> str:
    """The redirect URI registered on the Salesforce app: FORCEBRIDGE_BASE_URL when set (behind
    a proxy the request's own host and scheme may not be what the browser sees)."""
    path = reverse("admin:connections_connection_oauth_callback")
    if settings.FORCEBRIDGE_BASE_URL:
        return settings.FORCEBRIDGE_BASE_URL + path
    return request.build_absolute_uri(path)


@require_POST
def connect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    allow_org_change = request.POST.get("allow_org_change") == "on"
    try:
        url = authorization.begin(connection, request.user, callback_url(request),
                                  allow_org_change)
    except SalesforceError as error:
        messages.error(request, str(error))
        return redirect(connection.get_absolute_url())
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied
    return _land(request, authorization.finish(request.GET.dict(), request.user))


@require_POST
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    outcome = authorization.disconnect(_connection(request, pk))
    _remember_revoke_failure(request, pk, outcome.offer_forget)
    return _land(request, outcome)


@require_POST
def forget(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    _remember_revoke_failure(request, pk, False)
    return _land(request, authorization.forget(connection))


def _remember_revoke_failure(request: HttpRequest, pk: int, failed: bool) -> None:
    failed_ids = set(request.session.get(REVOKE_FAILED, [])) - {pk}
    request.session[REVOKE_FAILED] = sorted(failed_ids | ({pk} if failed else set()))


@require_POST
def test(request: HttpRequest, pk: int) -> HttpResponse:
    return _land(request, authorization.test(_connection(request, pk)))


@require_POST
def refresh_schema(request: HttpRequest, pk: int) -> HttpResponse:
    return _land(request, authorization.refresh_schema(_connection(request, pk)))


def page_context(request: HttpRequest, connection: Connection) -> dict[str, Any]:
    """What the connection page shows above the form: objects from describe and recent events.

    The object list comes from the describe cache, however old (the page says its age; the
    Refresh schema button renews it). Only when nothing is cached yet is it fetched, once, with
    a no-retry short-timeout client, so a slow org cannot hold the page for minutes.
    """
    authorization.check_secrets(connection)
    schema_error = ""
    cached = schema.peek(connection)
    if cached is None and connection.is_usable:
        try:
            client = SalesforceClient.for_connection(connection, interactive=True)
            client.describe_global()
            client.describe("Account")
        except SalesforceError as error:
            schema_error = str(error)
        cached = schema.peek(connection)
    objects = cached[0].get("sobjects", []) if cached else []
    return {
        "connection": connection,
        "objects": [o for o in objects if o.get("queryable")],
        "schema_error": schema_error,
        "schema_fetched": cached[1] if cached else None,
        "events": connection.events.all()[:10],
        "offer_forget": connection.has_tokens and connection.pk in request.session.get(
            REVOKE_FAILED, []),
    }
