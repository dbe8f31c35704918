"""The action pages' own views (hung off ActionAdmin in syncs/admin.py `get_urls`): the dry
run, and the fields of an object for the set-up page's matcher search. The run panel,
progress partial and run history are the sync page's (syncs/views.py).
"""

from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join

from connections.client import SalesforceClient
from connections.errors import SalesforceError
from connections.models import Connection
from syncs.action_form import field_options
from syncs.actions import Action
from syncs.dry_run import SAMPLE, dry_run

HUB_PAGES = {"person": "admin:workspace_person_change", "object": "admin:workspace_object_change"}


def dry_run_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what a dry run does; POST (the button): plan the first records, write nothing."""
    action = get_object_or_404(Action.objects.select_related("connection", "object_type"), pk=pk)
    if not request.user.has_perm("syncs.change_action"):
        raise PermissionDenied
    previews, problem = [], ""
    if request.method == "POST":
        try:
            previews = dry_run(action, SalesforceClient.for_connection(
                action.connection, interactive=True))
        except (SalesforceError, KeyError, ValueError) as error:
            # KeyError: a field the mapping names is gone from describe (outbound's words);
            # ValueError: matchers stored before the checks (the set-up form refuses them).
            problem = f"The dry run could not plan {action.name}: {error}"
            messages.error(request, problem)
        else:
            counts = Counter(preview.outcome for preview in previews)
            summary = ", ".join(f"{count} {outcome}" for outcome, count in counts.most_common())
            messages.success(request, f"Dry run of {action.name}: {len(previews)} hub record"
                             f"{'s' if len(previews) != 1 else ''} planned ({summary or 'none'})"
                             "; nothing was written to Salesforce.")
    context = {
        **admin.site.each_context(request),
        "title": f"Dry run of {action.name}",
        "action": action,
        "opts": Action._meta,
        "ran": request.method == "POST" and not problem,
        "problem": problem,
        "sample": SAMPLE,
        "rows": [(preview, _hub_url(preview.ref)) for preview in previews],
        "matched_by": _matched_by(action),
    }
    return TemplateResponse(request, "admin/syncs/action/dry_run.html", context)


def object_fields(request: HttpRequest) -> HttpResponse:
    """The matcher search's options for one object of one connection (`?connection=&sobject=`),
    fetched by action_setup.js when the object changes; 400 with the reason otherwise."""
    if not (request.user.has_perm("syncs.add_action")
            or request.user.has_perm("syncs.change_action")):
        raise PermissionDenied
    chosen = request.GET.get("connection", "")
    connection = Connection.objects.filter(pk=chosen).first() if chosen.isdigit() else None
    sobject = request.GET.get("sobject", "").strip()[:80]
    if connection is None or not sobject:
        return HttpResponse("Choose a connection and an object.", status=400,
                            content_type="text/plain; charset=utf-8")
    try:
        described = SalesforceClient.for_connection(connection, interactive=True).describe(
            sobject)
    except SalesforceError as error:
        return HttpResponse(f"Salesforce could not describe {sobject!r}: {error}", status=400,
                            content_type="text/plain; charset=utf-8")
    return HttpResponse(format_html_join("", '<option value="{}">{}</option>',
                                         field_options(described)))


def _matched_by(action: Action) -> str:
    try:
        matchers = action.matcher_set()
    except ValueError as error:
        return f"matchers that cannot be read ({error})"
    joint = f" {matchers.operator.upper()} "
    return joint.join(f"{source} → {target}" for source, target in matchers.pairs) or "nothing"


def _hub_url(ref: str) -> str:
    kind, _, pk = ref.partition(":")
    return reverse(HUB_PAGES[kind], args=[int(pk)]) if kind in HUB_PAGES and pk.isdigit() \
        else ""
