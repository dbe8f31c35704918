"""Segments in the admin: the add and change page is the segment builder.

Condition rows (segment_builder.js) write the conditions JSON into the form's `conditions`
field, which stays a plain textarea without JavaScript, so the page saves either way; saving
checks them with the model's `clean` (`mappings.conditions.problems`). As rows change, the
page posts the unsaved segment to `members/` (mappings/segment_builder.py) for the live count
and the first members. View-only staff see the conditions as sentences and the members now.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import path
from django.utils.html import format_html_join

from config.admin import BoundedSearchAdmin
from config.forms import BoundedJSONField
from mappings import segment_builder
from mappings.conditions import NO_VALUE, OPERATORS
from mappings.models import Segment


class ConditionsField(BoundedJSONField):
    """Conditions shown one key a line, as an operator reads and edits them."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class ConditionsBuilder(forms.Textarea):
    """The conditions textarea (the JSON saved), and the builder's rows that write it."""

    class Media:
        js = ["forcebridge/segment_builder.js"]
        css = {"all": ["forcebridge/segment_builder.css"]}

    def render(self, name: str, value: Any, attrs: dict | None = None,
               renderer: Any = None) -> str:
        return render_to_string("admin/mappings/segment/builder.html", {
            "textarea": super().render(name, value, attrs, renderer),
            "config": segment_builder.builder_config()})


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "entity", "object_type", "match", "conditions"]
        field_classes = {"conditions": ConditionsField}
        widgets = {"conditions": ConditionsBuilder(attrs={"rows": 12, "cols": 100})}
        labels = {"conditions": "Conditions"}
        help_texts = {"conditions": ""}  # the builder says it, and so does its JSON fallback

    def clean_conditions(self) -> object:
        """Left empty: no conditions (every record); anything else is checked by the model."""
        value = self.cleaned_data.get("conditions")
        return [] if value is None else value


class SegmentDraftForm(SegmentForm):
    """The segment as it stands on the builder, before it has a name: checked alike."""

    class Meta(SegmentForm.Meta):
        fields = ["entity", "object_type", "match", "conditions"]


@admin.register(Segment)
class SegmentAdmin(BoundedSearchAdmin):
    """The segment builder (add and change), and its live members endpoint."""

    form = SegmentForm
    change_form_template = "admin/mappings/segment/change_form.html"
    list_display = ["name", "entity", "object_type", "match", "updated"]
    list_filter = ["entity"]
    search_fields = ["name"]
    list_select_related = ["object_type"]

    def get_urls(self) -> list:
        members = self.admin_site.admin_view(self.members_view)
        return [path("members/", members, name="mappings_segment_members"), *super().get_urls()]

    def members_view(self, request: HttpRequest) -> HttpResponse:
        return segment_builder.members(request, SegmentDraftForm)

    def has_delete_permission(self, request: HttpRequest, obj: Segment | None = None) -> bool:
        """Not while it limits an action (which would widen to every record)."""
        return super().has_delete_permission(request, obj) and (
            obj is None or not obj.actions.exists())

    def get_actions(self, request: HttpRequest) -> dict:
        # Deleting a list at once would skip the check above: one segment at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_fieldsets(self, request: HttpRequest, obj: Segment | None = None) -> list:
        fields = ["name", "entity", "object_type", "match", "conditions"]
        if obj is not None and not self.has_change_permission(request, obj):
            fields[-1] = "conditions_described"  # read-only: sentences, not JSON
        return [(None, {"fields": fields})]

    def render_change_form(self, request: HttpRequest, context: dict, add: bool = False,
                           change: bool = False, form_url: str = "",
                           obj: Segment | None = None) -> HttpResponse:
        """The page, with the members of the segment as saved (the script then counts the
        conditions on screen as they change)."""
        saved = obj is not None and obj.pk is not None and not context["adminform"].form.errors
        context["members"] = segment_builder.members_context(obj) if saved else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="conditions")
    def conditions_described(self, obj: Segment) -> str:
        if not obj.conditions:
            return "None: every record."
        return format_html_join("", "<div>{}</div>", ((line,) for line in describe(
            obj.conditions, obj.get_match_display())))


def describe(conditions: list[dict], join: str, indent: str = "") -> list[str]:
    """Conditions as sentences, one a line (a nested "related to" indented)."""
    lines = [f"{indent}{join}:"]
    for condition in conditions:
        if condition.get("operator") == "related_to":
            kind = condition.get("object_type") or "a person"
            lines.append(f"{indent}· related to {kind}, matching")
            lines += describe(condition.get("conditions", []),
                              dict(Segment.Join.choices)[condition.get("match", "all")],
                              indent + "\u00a0" * 4)
            continue
        value = "" if condition.get("operator") in NO_VALUE else \
            " " + json.dumps(condition.get("value"), ensure_ascii=False)
        lines.append(f"{indent}· {condition.get('attribute')} "
                     f"{OPERATORS.get(condition.get('operator'), condition.get('operator'))}"
                     f"{value}")
    return lines
