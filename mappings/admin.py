"""Segments in the admin: conditions as JSON, checked on save (mappings/segments.py, through
the model's clean), and on the change page the live member count and the first members."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from config.admin import BoundedSearchAdmin
from config.forms import BoundedJSONField
from mappings.models import Segment

PREVIEW = 10


class ConditionsField(BoundedJSONField):
    """Conditions shown one key a line, as an operator reads and edits them."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "entity", "object_type", "match", "conditions"]
        field_classes = {"conditions": ConditionsField}
        widgets = {"conditions": forms.Textarea(attrs={"rows": 12, "cols": 100})}

    def clean_conditions(self) -> object:
        """Left empty: no conditions (every record); anything else is checked by the model."""
        value = self.cleaned_data.get("conditions")
        return [] if value is None else value


@admin.register(Segment)
class SegmentAdmin(BoundedSearchAdmin):
    """Add or edit a segment; its page counts the members and shows the first of them."""

    form = SegmentForm
    list_display = ["name", "entity", "object_type", "match", "updated"]
    list_filter = ["entity"]
    search_fields = ["name"]
    list_select_related = ["object_type"]

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
        fieldsets: list = [(None, {"fields": ["name", "entity", "object_type", "match",
                                              "conditions"]})]
        if obj is not None:
            fieldsets.append(("Members now", {"fields": ["member_count", "member_preview"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Segment | None = None) -> list:
        return ["member_count", "member_preview"] if obj is not None else []

    @admin.display(description="members")
    def member_count(self, obj: Segment) -> str:
        return format_html('<strong class="fb-segment-count">{}</strong>', f"{obj.count():,}")

    @admin.display(description=f"first {PREVIEW} (by id)")
    def member_preview(self, obj: Segment) -> str:
        rows = obj.preview(limit=PREVIEW)
        if not rows:
            return "No members."
        page = "admin:workspace_person_change" if obj.people else \
            "admin:workspace_object_change"
        return format_html(
            '<table class="fb-segment-preview"><tr><th>id</th><th>{}</th><th>attributes</th>'
            "</tr>{}</table>", "e-mail / customer id" if obj.people else "object id",
            format_html_join("", '<tr><td><a href="{}">{}</a></td><td>{}</td><td><code>{}'
                             "</code></td></tr>",
                             ((reverse(page, args=[row.pk]), row.pk, _name(row),
                               _attributes(row.attributes)) for row in rows)))


def _name(row: Any) -> str:
    if hasattr(row, "object_id"):
        return row.object_id
    return " / ".join(part for part in (row.email, row.customer_id) if part)


def _attributes(attributes: dict) -> str:
    text = json.dumps(attributes, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:200] + "…"
