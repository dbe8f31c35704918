"""The mapping editor of a sync or an action: its FieldMapping rows, checked, previewed, saved.

One admin page per owner (SyncAdmin and ActionAdmin `get_urls`) over the same code; a `Side`
says what differs: the rows' direction, what else the owner checks, and where the three
preview records come from (a sync: records queried from Salesforce and mapped inbound; an
action: hub records mapped outbound). mapping.js adds and removes rows on the page; "Preview"
posts the rows as they stand to the same URL and gets the preview partial back, before
anything is saved. Saving replaces the rows whole (`RowOwner.replace_rows`) once no row is
refused (mappings/editor.py names each refused row and why).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from connections.client import SalesforceClient
from connections.errors import SalesforceError
from mappings.editor import IN, OUT, RowProblem, posted_rows, row_problems, usual_names
from mappings.mapping import FieldRow, Transform
from mappings.outbound import Outbound
from mappings.transform import Transformer
from syncs.actions import Action
from syncs.cursor import build_soql
from syncs.drain import connection_sources
from syncs.hub_records import HubRecords
from syncs.models import Sync

PREVIEW = 3
FETCHED = "fetch"  # X-Requested-With of mapping.js: answer with the partial only
HUB_SOURCES = ("customer_id", "email", "hub_id", "object_id")


@dataclass
class PreviewRecord:
    """One record as the rows on screen map it: who it is, the values, what would fail."""

    key: str
    identity: list[tuple[str, Any]] = field(default_factory=list)
    values: list[tuple[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Side:
    """What the editor of one kind of owner needs to know about it."""

    model: type[Sync] | type[Action]
    direction: str
    preview: Callable[[Any, SalesforceClient], list[PreviewRecord]]
    problems: Callable[[Any, list[FieldRow], SalesforceClient], list[str]]
    preview_from: str

    @property
    def noun(self) -> str:
        return self.model._meta.verbose_name

    def permission(self) -> str:
        return f"{self.model._meta.app_label}.change_{self.model._meta.model_name}"

    def url(self, owner: Any, page: str) -> str:
        return reverse(f"admin:syncs_{self.model._meta.model_name}_{page}", args=[owner.pk])


def sync_preview(sync: Sync, client: SalesforceClient) -> list[PreviewRecord]:
    """Three records of the sync's object (its filter applied), mapped by the rows shown."""
    transformer = Transformer.for_mapping(sync.mapping(), client.describe)
    soql = build_soql(transformer.select(), sync.sobject, [sync.filter]) + f" LIMIT {PREVIEW}"
    records = next(iter(client.query_pages(soql)), [])[:PREVIEW]
    items, failed = transformer.page(records)
    shown = [PreviewRecord(item.key, [(label, value) for label, value in (
        ("customer id", item.customer_id), ("email", item.email), ("object id", item.object_id),
        ("person", item.person.value if item.person else None),
        ("event", item.name or None)) if value], list(item.attributes.items()))
        for item in items]
    return shown + [PreviewRecord(result.key, problems=[result.message]) for result in failed]


def action_preview(action: Action, client: SalesforceClient) -> list[PreviewRecord]:
    """Three hub records the action covers, mapped outbound by the rows shown."""
    outbound = Outbound(action.field_rows(), client.describe, action.sobject)
    hub = HubRecords(action, connection_sources(action))
    shown = []
    for key, record in next(iter(hub.every(PREVIEW)), []):
        values, problems = outbound.values(record)
        identity = [(name, record.get(name)) for name in HUB_SOURCES if record.get(name)]
        shown.append(PreviewRecord(key, identity, list(values.items()),
                                   [str(problem) for problem in problems]))
    return shown


def action_problems(action: Action, rows: list[FieldRow], client: SalesforceClient) -> list[str]:
    """What the action's own checks refuse (writable targets for its operation, lookups)."""
    try:
        action.validate_against_salesforce(client, rows)
    except ValidationError as error:
        return [message for messages in error.message_dict.values() for message in messages]
    return []


SYNC = Side(Sync, IN, sync_preview, lambda sync, rows, client: [],
            "three records read from Salesforce now (the sync's filter applied)")
ACTION = Side(Action, OUT, action_preview, action_problems,
              "the first three hub records the action covers")


SIDES: dict[type, Side] = {Sync: SYNC, Action: ACTION}


def mapping(request: HttpRequest, pk: int, model: type[Sync] | type[Action]) -> HttpResponse:
    """The editor page of one sync or action (`model` given by the URL pattern's kwargs)."""
    return edit(request, get_object_or_404(model, pk=pk), SIDES[model])


def edit(request: HttpRequest, owner: Sync | Action, side: Side) -> HttpResponse:
    """GET shows the rows; POST previews them (`_preview`) or saves them."""
    if not request.user.has_perm(side.permission()):
        raise PermissionDenied
    if request.method != "POST":
        return render(request, owner, side, list(enumerate(owner.field_rows(), start=1)), [])
    rows, problems = posted_rows(request.POST)
    try:
        client = SalesforceClient.for_connection(owner.connection, interactive=True)
        problems += row_problems(rows, side.direction, client.describe, owner.sobject)
        others = [] if problems else side.problems(owner, [row for _, row in rows], client)
    except SalesforceError as error:
        messages.error(request, f"Could not check the rows against Salesforce: {error}")
        return render(request, owner, side, rows, problems)
    if "_preview" in request.POST:
        preview = _preview(owner, side, rows, problems + others, client)
        if request.headers.get("X-Requested-With") == FETCHED:
            return TemplateResponse(request, "admin/syncs/mapping_preview.html", preview)
        return render(request, owner, side, rows, problems, others, preview)
    if problems or others:
        count = len(problems) + len(others)
        messages.error(request, f"The mapping was not saved: {count} "
                       f"problem{'s' if count != 1 else ''}, named below.")
        return render(request, owner, side, rows, problems, others)
    owner.replace_rows([row for _, row in rows])
    messages.success(request, f"Mapping of “{owner}” saved ({len(rows)} rows); changes apply "
                     "from its next run.")
    return redirect(side.url(owner, "mapping"))


def _preview(owner: Sync | Action, side: Side, rows: list[tuple[int, FieldRow]],
             problems: list[Any], client: SalesforceClient) -> dict[str, Any]:
    context: dict[str, Any] = {"problems": [str(p) for p in problems], "records": None,
                               "preview_from": side.preview_from, "error": ""}
    if problems:
        return context
    owner.show_rows([row for _, row in rows])
    try:
        context["records"] = side.preview(owner, client)
    except SalesforceError as error:
        context["error"] = f"Salesforce could not give the preview records: {error}"
    finally:
        owner.refresh_from_db()
    return context


def render(request: HttpRequest, owner: Sync | Action, side: Side,
           rows: list[tuple[int, FieldRow]], problems: list[RowProblem],
           others: list[str] | None = None, preview: dict | None = None) -> TemplateResponse:
    by_row: dict[int, list[str]] = {}
    for problem in problems:
        by_row.setdefault(problem.number, []).append(problem.reason)
    usual = usual_names(owner.mapping().format) if side.direction == IN else {}
    context = {
        **admin.site.each_context(request),
        "title": f"Mapping of {side.noun} “{owner}”",
        "opts": side.model._meta,
        "owner": owner,
        "side": side,
        "inbound": side.direction == IN,
        "rows": [{"number": number, "row": row, "problems": by_row.get(number, []),
                  "usual": usual.get(row.source, row.source)} for number, row in rows],
        "problems": [str(p) for p in problems],
        "others": others or [],
        "preview": preview,
        "transforms": Transform.choices,
        "usual": usual,
        "usual_json": json.dumps(usual) if side.direction == IN else "",
        "change_url": side.url(owner, "change"),
        **_suggestions(owner, side),
    }
    return TemplateResponse(request, "admin/syncs/mapping.html", context,
                            status=200)


def _suggestions(owner: Sync | Action, side: Side) -> dict[str, Any]:
    """Names offered while typing: the object's fields, and for an action the hub's ids; if
    Salesforce cannot say, the rows stay editable and the page says why none are offered."""
    fields, error = [], ""
    try:
        client = SalesforceClient.for_connection(owner.connection, interactive=True)
        fields = sorted(f["name"] for f in client.describe(owner.sobject)["fields"])
    except SalesforceError as failure:
        error = f"Could not read the fields of {owner.sobject} from Salesforce: {failure}"
    sources, targets = (fields, []) if side.direction == IN else (list(HUB_SOURCES), fields)
    return {"sources": sources, "targets": targets, "describe_error": error}

