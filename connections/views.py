"""The connection page's buttons (POST, CSRF, staff only via the admin) and the OAuth callback.

Each view authorises, calls one function of authorization.py, sets a message and redirects.
"""

from __future__ import annotations

import logging
from typing import Any

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

logger = logging.getLogger(__name__)

CHANGE_PERMISSION = "connections.change_connection"


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
    return request.build_absolute_uri(reverse("admin:connections_connection_oauth_callback"))


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
    return _land(request, authorization.disconnect(_connection(request, pk)))


@require_POST
def test(request: HttpRequest, pk: int) -> HttpResponse:
    return _land(request, authorization.test(_connection(request, pk)))


@require_POST
def refresh_schema(request: HttpRequest, pk: int) -> HttpResponse:
    return _land(request, authorization.refresh_schema(_connection(request, pk)))


def page_context(connection: Connection) -> dict[str, Any]:
    """What the connection page shows above the form: objects from describe and recent events.

    The object list and the Account fields come from the short-lived describe cache; on a miss
    they are fetched once (a connected org answers in well under a second).
    """
    objects: list[dict[str, Any]] = []
    schema_error = ""
    fetched = None
    if connection.is_usable:
        try:
            client = SalesforceClient.for_connection(connection)
            objects = client.describe_global().get("sobjects", [])
            client.describe("Account")
            cached = schema.peek(connection)
            fetched = cached[1] if cached else None
        except SalesforceError as error:
            schema_error = str(error)
    return {
        "connection": connection,
        "objects": [o for o in objects if o.get("queryable")],
        "schema_error": schema_error,
        "schema_fetched": fetched,
        "events": connection.events.all()[:10],
    }
