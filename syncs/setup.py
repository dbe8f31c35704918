"""The guided sync set-up: name → object → identifiers → fields → filter → format → schedule.

One admin page (SyncAdmin.get_urls) adds or edits a sync in the order of the data-in docs
(seed 003). The sections after the object appear once one is chosen: choosing it re-renders
the page by a GET that carries everything typed so far, with the object's fields from describe
and its typical mapping (mappings/presets.py). "Test filter" counts the records the filter lets
a run read (a COUNT() through the client) or shows Salesforce's refusal; setup.js fetches that
partial in place, and without script the button re-renders the page with it. Saving goes
through `SetupForm`, the admin's `SyncForm` shown as checkboxes: the model's checks, then
describe and the filter tried against the org (syncs/validation.py), each message on its field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from connections.client import SalesforceClient
from connections.errors import SalesforceError, SalesforceRejected
from mappings.mapping import IDENTIFIERS, Format
from mappings.presets import UNSYNCABLE_TYPES, default_fields, preset_for
from syncs.forms import SyncForm
from syncs.models import Sync
from syncs.validation import count_matching, filter_problem
from workspace.models import ObjectType

# Checkboxes: a GET that carries the page (`_carried`) and lacks one means it was unticked.
CHECKBOXES = ("enabled", "convert_dates")
NEEDS_TYPE = (Format.OBJECT, Format.RELATIONSHIP)
FETCHED = "fetch"  # X-Requested-With of setup.js: answer with the partial only


class SetupForm(SyncForm):
    """`SyncForm` for the guided page: fields as checkboxes, and "New object type"."""

    new_type_singular = forms.CharField(
        label="Singular", max_length=100, required=False, help_text="e.g. Account")
    new_type_plural = forms.CharField(
        label="Plural", max_length=100, required=False, help_text="e.g. Accounts")

    class Meta(SyncForm.Meta):
        fields = ["name", "connection", "sobject", "enabled", "data_format", "person_id_field",
                  "person_match", "object_id_field", "related_id_field", "object_type",
                  "event_name_field", "event_timestamp_field", "fields", "convert_dates",
                  "filter", "on_delete", "schedule_kind", "every_minutes", "cron", "start_at"]
        widgets = {
            "filter": forms.Textarea(attrs={"rows": 3, "cols": 70,
                                            "placeholder": "Email != null"}),
            "start_at": forms.DateTimeInput(attrs={"type": "datetime-local"},
                                            format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.columns: list[dict[str, Any]] = []
        self.paths: list[str] = []  # the object's field names, offered for identifiers
        super().__init__(*args, **kwargs)
        # Renames are the mapping editor's; the preset is applied when the object is chosen.
        for name in ("use_preset", "renames"):
            del self.fields[name]
        if not self.initial.get("connection") and self.fields["connection"].initial:
            self.initial["connection"] = self.fields["connection"].initial  # the only one
        if self.instance.pk:
            # A sync's cursor belongs to its object and org: a new object is a new sync.
            for name in ("connection", "sobject"):
                self.fields[name].disabled = True
        if "sobject" in self.fields and hasattr(self.fields["sobject"], "choices"):
            self.fields["sobject"].widget.attrs.update(size=10)

    @property
    def chosen_object(self) -> str:
        return str(self["sobject"].value() or "")

    def _offer_fields(self, client: SalesforceClient) -> None:
        """Every field of the object as a row (label, API name, type) of checkboxes."""
        describe = self._chosen_describe(client)
        if describe is None:
            return
        offered = default_fields(describe)
        chosen = [str(v) for v in (self.data.getlist("fields") if self.is_bound
                                   else self.initial.get("fields") or [])]
        described = {f["name"]: f for f in describe["fields"]}
        extra = [n for n in chosen if n not in described]  # parent paths such as Account.Name
        self.columns = [{"name": n, "label": described.get(n, {}).get("label") or n,
                         "type": described.get(n, {}).get("type", "parent field"),
                         "checked": n in chosen} for n in [*offered, *extra]]
        self.fields["fields"] = forms.MultipleChoiceField(
            label="Fields to sync", required=False, choices=[(n, n) for n in [*offered, *extra]],
            widget=forms.CheckboxSelectMultiple)
        self.paths = sorted(n for n, f in described.items()
                            if f.get("type") not in UNSYNCABLE_TYPES)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        singular = (data.get("new_type_singular") or "").strip()
        plural = (data.get("new_type_plural") or "").strip()
        if not (singular or plural) or data.get("data_format") not in NEEDS_TYPE:
            return data
        if data.get("object_type"):
            self.add_error("new_type_singular", "Choose a custom object name or create a new "
                           "object type, not both.")
        elif not singular or not plural:
            self.add_error("new_type_plural" if singular else "new_type_singular",
                           "A new object type needs both names, e.g. Account and Accounts.")
        elif ObjectType.objects.filter(singular__iexact=singular).exists():
            self.add_error("new_type_singular", f"An object type {singular!r} exists "
                           "already: choose it as the custom object name.")
        else:
            # Saved with the sync (`save`), never before it is valid.
            data["object_type"] = ObjectType(singular=singular, plural=plural)
        return data

    def save(self, commit: bool = True) -> Sync:
        with transaction.atomic():
            kind = self.instance.object_type if self.instance.object_type_id is None else None
            if kind is not None and kind.pk is None:
                kind.save()
                self.instance.object_type = kind
            return super().save(commit)


def carried(query: QueryDict) -> dict[str, Any]:
    """The values a GET of the page carries (what was typed before choosing the object)."""
    names = [*SetupForm._meta.fields, "new_type_singular", "new_type_plural"]
    values: dict[str, Any] = {name: (query.getlist(name) if name == "fields" else query[name])
                              for name in names if name in query}
    if "_carried" in query:
        values.update({name: name in query for name in CHECKBOXES})
    return values


def preset_values(client: SalesforceClient, sobject: str) -> dict[str, Any]:
    """The typical mapping of an object as initial values; a custom object type that does not
    exist yet is offered as a new one (created only when the sync is saved)."""
    preset = preset_for(sobject, client.describe(sobject))
    names = preset.pop("object_type_names", None)
    if names:
        existing = ObjectType.objects.filter(singular__iexact=names[0]).first()
        if existing is not None:
            preset.update(object_type=existing.pk, new_type_singular="", new_type_plural="")
        else:
            preset.update(object_type="", new_type_singular=names[0], new_type_plural=names[1])
    return preset


def filter_result(client: SalesforceClient | None, sobject: str, condition: str) -> dict:
    """"Test filter": how many records match, or why not (Salesforce's own words)."""
    if client is None or not sobject:
        return {"ok": False, "message": "Choose a connected org and a Salesforce object first."}
    if filter_problem(condition):
        return {"ok": False, "message": filter_problem(condition)}
    try:
        count = count_matching(client, sobject, condition)
    except SalesforceRejected as error:
        return {"ok": False, "message": f"Salesforce rejected the filter: {error.error_code}: "
                                        f"{error.message}"}
    except SalesforceError as error:
        return {"ok": False, "message": f"Could not ask Salesforce: {error}"}
    noun = "record matches" if count == 1 else "records match"
    scope = "this filter" if condition.strip() else f"no filter (every {sobject} is read)"
    return {"ok": True, "message": f"{count:,} {noun} {scope}."}


def setup(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The guided page: GET shows it (carrying what was typed, `_object` filling the chosen
    object's typical mapping, `_test_filter` trying the filter); POST saves."""
    sync = get_object_or_404(Sync, pk=pk) if pk is not None else Sync()
    if not request.user.has_perm("syncs.change_sync" if pk is not None else "syncs.add_sync"):
        raise PermissionDenied
    if request.method == "POST":
        form = SetupForm(request.POST, instance=sync)
        if form.is_valid():
            saved = form.save()
            verb = "saved: changes apply from its next run" if pk else "created"
            messages.success(request, f"Sync “{saved.name}” {verb}. Sync now starts a run.")
            return redirect(reverse("admin:syncs_sync_change", args=[saved.pk]))
        messages.error(request, "The sync was not saved: correct the fields marked below.")
        return render(request, form, sync)
    initial = carried(request.GET)
    form = SetupForm(initial=initial, instance=sync)
    if "_object" in request.GET and form.client is not None and initial.get("sobject") \
            and not sync.pk:
        try:
            initial.update(preset_values(form.client, initial["sobject"]))
            form = SetupForm(initial=initial, instance=sync)
        except SalesforceError as error:
            messages.error(request, f"Could not read {initial['sobject']} from Salesforce: "
                           f"{error}")
    result = None
    if "_test_filter" in request.GET:
        result = filter_result(form.client, form.chosen_object, str(initial.get("filter") or ""))
        if request.headers.get("X-Requested-With") == FETCHED:
            return TemplateResponse(request, "admin/syncs/sync/filter_result.html",
                                    {"result": result})
    return render(request, form, sync, result)


def render(request: HttpRequest, form: SetupForm, sync: Sync,
           result: dict | None = None) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": f"Edit sync “{sync.name}”" if sync.pk else "Set up a sync",
        "opts": Sync._meta,
        "sync": sync,
        "form": form,
        "filter_result": result,
        "identifiers": [(form[name], " ".join(formats)) for name, formats
                        in _formats_of().items()],
        "needs_type": " ".join(NEEDS_TYPE),
        "paths": form.paths,
    }
    return TemplateResponse(request, "admin/syncs/sync/setup.html", context)


def _formats_of() -> dict[str, list[str]]:
    """Which formats read each identifier (the page shows only the chosen format's)."""
    formats: dict[str, list[str]] = {}
    for shape, names in IDENTIFIERS.items():
        for name in names:
            formats.setdefault(name, []).append(str(shape))
            if name == "person_id_field":  # and how to read it: a customer id or an e-mail
                formats.setdefault("person_match", []).append(str(shape))
    return formats
