"""Field mappings as rows: one `FieldMapping` per mapped field, owned by a sync or an action.

A sync's rows map a Salesforce field (source) to a hub trait (target; blank: the reserved
trait or the field's own name); an action's rows map a hub attribute (source) to a Salesforce
field (target). The owners are named by string ("syncs.Sync", "syncs.Action") so `mappings`
never imports `syncs`; engines read the rows through the `Mapping` value (`FieldRow` tuples).
A sync or an action is a `RowOwner`: its rows read once per instance, and replaced whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.db.models import Q

from mappings.mapping import FieldRow, Transform


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
