"""The hub in the admin, read-only: people, object types, objects, relationships, events;
and the inbound API's keys (created here, the key shown once).

Rows are written only by `workspace.hub` (the syncs); here operators look things up. Search is
exact on indexed columns (an e-mail address, a customer id, an object id) and lists never count
whole tables, so the pages stay fast with millions of people.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin
from workspace.models import ApiKey, Event, Object, ObjectType, Person, Relationship


def people_matching(term: str) -> Q:
    """People by e-mail (normalised as stored) or customer id; `prefix` reaches them via a FK."""
    return Q(email=Person.normalize_email(term)) | Q(customer_id=term)


class HubAdmin(ReadOnlyAdmin):
    """Browse the hub: exact search through each admin's `lookup(term) -> Q`."""

    search_help_text = ""

    def search(self, request: HttpRequest, queryset: QuerySet,
               search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        return (queryset.filter(self.lookup(term)) if term else queryset), False

    @admin.display(description="attributes")
    def attributes_json(self, obj: Any) -> str:
        data = getattr(obj, "attributes", None)
        if data is None:
            data = getattr(obj, "properties", {})
        return format_html("<pre>{}</pre>", json.dumps(data, indent=2, sort_keys=True,
                                                        ensure_ascii=False))


@admin.register(Person)
class PersonAdmin(HubAdmin):
    list_display = ["id", "customer_id", "email", "name", "updated_at", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["email"]
    search_help_text = "An e-mail address or a customer id (exact)."
    fields = ["customer_id", "email", "attributes_json", "created_at", "updated_at",
              "deleted_at"]
    readonly_fields = fields

    def lookup(self, term: str) -> Q:
        return people_matching(term)

    @admin.display(description="name")
    def name(self, obj: Person) -> str:
        attributes = obj.attributes or {}
        return " ".join(str(attributes[k]) for k in ("firstName", "lastName")
                        if attributes.get(k)) or "–"


@admin.register(ObjectType)
class ObjectTypeAdmin(HubAdmin):
    list_display = ["singular", "plural"]
    search_fields = ["singular"]
    search_help_text = "A type name (exact)."
    fields = ["singular", "plural"]
    readonly_fields = fields
    paginator = admin.ModelAdmin.paginator

    def lookup(self, term: str) -> Q:
        return Q(singular__iexact=term) | Q(plural__iexact=term)


@admin.register(Object)
class ObjectAdmin(HubAdmin):
    list_display = ["id", "type", "object_id", "name", "updated_at", "deleted_at"]
    list_filter = ["type", ("deleted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["type"]
    search_fields = ["object_id"]
    search_help_text = "An object id, e.g. a Salesforce Account Id (exact)."
    fields = ["type", "object_id", "attributes_json", "created_at", "updated_at", "deleted_at"]
    readonly_fields = fields

    def lookup(self, term: str) -> Q:
        return Q(object_id=term)

    @admin.display(description="name")
    def name(self, obj: Object) -> str:
        return str((obj.attributes or {}).get("name") or (obj.attributes or {}).get("Name")
                   or "–")


@admin.register(Relationship)
class RelationshipAdmin(HubAdmin):
    list_display = ["id", "person", "object", "updated_at", "deleted_at"]
    list_filter = ["object__type", ("deleted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["person", "object", "object__type"]
    search_fields = ["object__object_id"]
    search_help_text = "A person's e-mail address or customer id, or an object id (exact)."
    fields = ["person", "object", "attributes_json", "created_at", "updated_at", "deleted_at"]
    readonly_fields = fields

    def lookup(self, term: str) -> Q:
        people = Person.objects.filter(people_matching(term)).values("pk")
        return Q(person__in=people) | Q(object__object_id=term)


@admin.register(Event)
class EventAdmin(HubAdmin):
    list_display = ["id", "name", "person", "timestamp", "source_id", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["person"]
    search_fields = ["source_id"]
    search_help_text = "A person's e-mail address or customer id, or the source record id."
    fields = ["name", "person", "timestamp", "source_id", "attributes_json", "created_at",
              "updated_at", "deleted_at"]
    readonly_fields = fields

    def lookup(self, term: str) -> Q:
        people = Person.objects.filter(people_matching(term)).values("pk")
        return Q(person__in=people) | Q(source_id=term)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys of the inbound API: created with a name, the secret shown once in a message."""

    list_display = ["name", "prefix", "is_active", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    fields = ["name", "is_active", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return ["name"] if obj is None else self.fields

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if not change:
            obj.new_key = obj.generate()
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: ApiKey,
                     post_url_continue: str | None = None) -> HttpResponse:
        """The key, in the answer to the POST itself: shown this once, kept nowhere (a
        redirect would carry it in the message cookie or the session)."""
        return TemplateResponse(request, "admin/workspace/apikey/created.html", {
            **self.admin_site.each_context(request), "title": "API key created",
            "api_key": obj, "key": obj.new_key, "opts": self.opts})
