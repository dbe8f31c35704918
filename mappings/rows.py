"""Owners of field mappings (a sync, an action): their rows read once, and replaced whole."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.db.models import Q

from mappings.mapping import FieldRow


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

    def replace_rows(self, rows: Iterable[FieldRow]) -> None:
        """Make the stored rows exactly `rows`, positions 0, 1, 2..."""
        from mappings.models import FieldMapping

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
