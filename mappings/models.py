"""Field mappings as rows (one `FieldMapping` per mapped field, owned by a sync or an action),
and segments.

A sync's rows map a Salesforce field (source) to a hub trait (target; blank: the reserved
trait or the field's own name); an action's rows map a hub attribute (source) to a Salesforce
field (target). The owners are named by string ("syncs.Sync", "syncs.Action") so `mappings`
never imports `syncs`; engines read the rows through the `Mapping` value (`FieldRow` tuples).
A sync or an action is a `RowOwner`: its rows read once per instance, and replaced whole.
A `Segment` is saved conditions over hub people or objects (actions are limited by them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet

from mappings import segments
from mappings.conditions import OPERATORS, problems
from mappings.mapping import FieldRow, Transform
from workspace.models import Object, Person


def exactly_one(first: str, second: str, name: str) -> models.CheckConstraint:
    """A row belongs to exactly one of two owners (a sync or an action)."""
    return models.CheckConstraint(
        condition=Q(**{f"{first}__isnull": False, f"{second}__isnull": True})
        | Q(**{f"{first}__isnull": True, f"{second}__isnull": False}), name=name)


class RowOwner(models.Model):
    """A model whose `field_mappings` are its FieldMapping rows (`field_rows()`, cached)."""

    class Meta:
        abstract = True

    def field_rows(self) -> list[FieldRow]:
        """The rows as stored, read once per instance (none before the first save)."""
        rows = self.__dict__.get("_stored_rows")
        if rows is None:
            rows = [m.row for m in self.field_mappings.all()] if self.pk else []
            self.__dict__["_stored_rows"] = rows
        return rows

    def show_rows(self, rows: Iterable[FieldRow]) -> None:
        """Let `field_rows()` give `rows`, unsaved (an editor's preview of the rows on screen);
        `refresh_from_db` forgets them."""
        self.__dict__["_stored_rows"] = list(rows)

    def replace_rows(self, rows: Iterable[FieldRow]) -> None:
        """Make the stored rows exactly `rows`, positions 0, 1, 2..."""
        rows = list(rows)
        owner = {self._meta.model_name: self}
        with transaction.atomic():
            self.field_mappings.all().delete()
            FieldMapping.objects.bulk_create([
                FieldMapping(source=row.source, target=row.target, transform=row.transform,
                             default=row.default, position=position, **owner)
                for position, row in enumerate(rows)])
        self.__dict__["_stored_rows"] = rows

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self.__dict__.pop("_stored_rows", None)


class FieldMapping(models.Model):
    """source → target, an optional transform, a default when the source is empty."""

    Transform = Transform

    sync = models.ForeignKey("syncs.Sync", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="field_mappings")
    action = models.ForeignKey("syncs.Action", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="field_mappings")
    source = models.CharField(max_length=255, blank=True,
                              help_text="Sync: a Salesforce field path. Action: a hub attribute "
                              "(customer_id, email, object_id, related:Account...).")
    target = models.CharField(max_length=255, blank=True,
                              help_text="Sync: the hub trait (blank: the usual name). Action: "
                              "the Salesforce field (Account.Ext__c for an external-id lookup).")
    transform = models.CharField(max_length=16, choices=Transform.choices, default=Transform.NONE)
    default = models.CharField("default when empty", max_length=255, blank=True,
                               help_text="Used when the source is empty; for a constant, the "
                               "value itself.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [exactly_one("sync", "action", "field_mapping_one_owner")]

    def __str__(self) -> str:
        return f"{self.source or self.default!r} → {self.target or '(usual name)'}"

    @property
    def row(self) -> FieldRow:
        return FieldRow(self.source, self.target, Transform(self.transform), self.default)


class Segment(models.Model):
    """Saved conditions over hub people or objects of one type (see mappings/segments.py).

    Conditions are checked on every save (`clean`, and `save` itself): a segment that is
    stored can always be run. `queryset()` is its members as one query; `count()` and
    `preview()` are what pages show.
    """

    class Entity(models.TextChoices):
        PEOPLE = "people", "People"
        OBJECTS = "objects", "Objects of one type"

    class Join(models.TextChoices):
        ALL = "all", "All conditions (AND)"
        ANY = "any", "Any condition (OR)"

    name = models.CharField(max_length=100, unique=True)
    entity = models.CharField(max_length=8, choices=Entity.choices, default=Entity.PEOPLE)
    object_type = models.ForeignKey("workspace.ObjectType", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="segments",
                                    help_text="Objects only: the type of the members.")
    match = models.CharField(max_length=3, choices=Join.choices, default=Join.ALL)
    conditions = models.JSONField(
        default=list, blank=True,
        help_text='[{"attribute": "plan", "operator": "equals", "value": "pro"}, ...]. '
        "Operators: " + ", ".join(OPERATORS) + '. Related: {"operator": '
        '"related_to", "object_type": "Account", "match": "all", "conditions": [...]}. '
        "None: every record.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse conditions that would not run, whoever saves (the admin, code, a fixture)."""
        self.clean()
        super().save(*args, **kwargs)

    @property
    def people(self) -> bool:
        return self.entity == self.Entity.PEOPLE

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if not self.people and not self.object_type_id:
            errors["object_type"] = ["Required when the segment is over objects."]
        if self.people and self.object_type_id:
            errors["object_type"] = ["Only for a segment over objects."]
        found = problems(self.conditions, people=self.people)
        if found:
            errors["conditions"] = found
        if errors:
            raise ValidationError(errors)

    def q(self, *, now: float | None = None) -> Q:
        """The members' condition on the members' model (Person or Object)."""
        return segments.matching(self.conditions, self.match, people=self.people, now=now)

    def queryset(self, *, now: float | None = None) -> QuerySet:
        """The live members, as one query."""
        if self.people:
            base = Person.objects.filter(deleted_at__isnull=True)
        else:
            base = Object.objects.filter(deleted_at__isnull=True, type_id=self.object_type_id)
        return base.filter(self.q(now=now))

    def count(self) -> int:
        return self.queryset().count()

    def preview(self, limit: int = 10) -> list[Person | Object]:
        """The first `limit` members by id."""
        return list(self.queryset().order_by("pk")[:limit])
