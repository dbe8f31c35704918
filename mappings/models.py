"""Field mappings as rows: one `FieldMapping` per mapped field, owned by a sync or an action.

A sync's rows map a Salesforce field (source) to a hub trait (target; blank: the reserved
trait or the field's own name); an action's rows map a hub attribute (source) to a Salesforce
field (target). The owners are named by string ("syncs.Sync", "syncs.Action") so `mappings`
never imports `syncs`; engines read the rows through the `Mapping` value (`FieldRow` tuples).
"""

from __future__ import annotations

from django.db import models

from mappings.mapping import FieldRow, Transform
from mappings.rows import exactly_one


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
