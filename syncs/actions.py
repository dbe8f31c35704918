"""Actions: hub people, objects or events written to one Salesforce object (data out).

An action row is also its own entry in the run queue (`syncs.queue.Runnable`); its schedule is
that of whole reconciles, while hub changes wake it within seconds (syncs/push.py drains the
outbox from `outbox_position`, the last `Change.id` it passed).

An event is immutable, so an events action only creates (or upserts on an external id): each
event written is remembered in a `WrittenEvent` row, committed with its record log, and an
event with such a row is never read again by that action, so re-drains and reconciles never
duplicate it. (An external-id upsert also closes the one window left: a crash between
Salesforce's answer and that commit.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import ProtectedError
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from connections.external_id import account_key
from mappings.mapping import FieldRow, Format, Mapping
from mappings.matchers import Matchers, Operator
from mappings.models import RowOwner, Segment
from syncs import schedule
from syncs.queue import Runnable
from workspace.models import Change

if TYPE_CHECKING:
    from connections.client import SalesforceClient


class Action(Runnable, RowOwner):
    """One Salesforce object written from the hub: what, how, matched and mapped how."""

    TASK = "syncs.tasks.run_action_task"
    Operator = Operator

    class Entity(models.TextChoices):
        PEOPLE = "people", "People"
        OBJECTS = "objects", "Objects of one type"
        EVENTS = "events", "Events"

    class Operation(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        UPSERT = "upsert"
        DELETE = "delete"

    class OnLeave(models.TextChoices):
        NOTHING = "nothing", "Nothing (log it)"
        CLEAR = "clear", "Clear the mapped fields in Salesforce"
        DELETE = "delete", "Delete the Salesforce record"

    class BatchMode(models.TextChoices):
        AUTO = "auto", "Auto (sObject Collections; Bulk API 2.0 from the threshold)"
        COLLECTIONS = "collections", "sObject Collections only"
        BULK = "bulk", "Bulk API 2.0 only"

    connection = models.ForeignKey("connections.Connection", on_delete=models.PROTECT,
                                   related_name="actions")
    name = models.CharField(max_length=100, unique=True)
    sobject = models.CharField("Salesforce object", max_length=80)
    entity = models.CharField("trigger", max_length=8, choices=Entity.choices,
                              default=Entity.PEOPLE,
                              help_text="Which hub records this action writes.")
    object_type = models.ForeignKey("workspace.ObjectType", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="actions",
                                    help_text="Objects only: the hub object type written.")
    event_names = models.CharField(
        max_length=500, blank=True,
        help_text="Events only: the event names written, comma-separated (blank: every "
        "event).")
    operation = models.CharField(max_length=8, choices=Operation.choices,
                                 default=Operation.UPDATE)
    matchers = models.JSONField(
        "record matchers", default=list, blank=True,
        help_text='Hub attribute → Salesforce field pairs: [["email", "Email"]]. Use "Id", an '
        "external id or any filterable field.")
    matcher_operator = models.CharField(max_length=3, choices=Operator.choices,
                                        default=Operator.OR)
    segments = models.ManyToManyField(
        "mappings.Segment", blank=True, related_name="actions",
        help_text="Only members of these segments are written (several: a member of any of "
        "them). None: every record.")
    on_leave = models.CharField(
        "when a record leaves the segments", max_length=8, choices=OnLeave.choices,
        default=OnLeave.NOTHING,
        help_text="Leaving is always logged (LEFT_SEGMENT); clearing empties the mapped fields "
        "that can be emptied (not the matchers).")
    allow_create = models.BooleanField(
        "allow creating records", default=False,
        help_text="Off: records with no match in Salesforce are skipped (update only).")
    batch_mode = models.CharField(max_length=12, choices=BatchMode.choices,
                                  default=BatchMode.AUTO)
    bulk_threshold = models.PositiveIntegerField(
        default=2000, help_text="In auto mode, batches of at least this many records use "
        "Bulk API 2.0.")
    assignment_rules = models.BooleanField(
        "run assignment rules", default=False,
        help_text="Sends Sforce-Auto-Assign: TRUE (owners of leads, cases and accounts may be "
        "reassigned) instead of FALSE.")
    duplicate_allow_save = models.BooleanField(
        "save despite duplicate rules", default=False,
        help_text="Sends Sforce-Duplicate-Rule-Header: allowSave=true.")

    # Written only by syncs.push, through the action's claim.
    outbox_position = models.BigIntegerField(default=0, editable=False)

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            # syncs.tasks.dispatch: enabled actions by due time.
            models.Index(fields=["enabled", "next_run_at"], name="action_due_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        """How the hub names what this action wrote (Change.origin)."""
        return f"action:{self.pk}"

    @property
    def names(self) -> list[str]:
        """The event names an events action writes (empty: every event)."""
        return [name.strip() for name in self.event_names.split(",") if name.strip()]

    def mapping(self) -> Mapping:
        """The value `mappings` works from: the object and the rows (hub → Salesforce)."""
        shape = {self.Entity.PEOPLE: Format.PERSON, self.Entity.EVENTS: Format.EVENT}.get(
            self.entity, Format.OBJECT)
        return Mapping(sobject=self.sobject, format=shape, rows=tuple(self.field_rows()),
                       object_type=self.object_type.singular if self.object_type_id else "")

    def outbound_rows(self) -> list[FieldRow]:
        """The rows the writer maps: the stored ones and, for Accounts written from hub objects
        when the connection names an External ID for accounts, object_id → that field, so an
        account Forcebridge creates or matches carries the hub's id and the next initial
        import finds it (connections/external_id.py). A row of the operator's wins."""
        rows = self.field_rows()
        key = account_key(self.connection) if (
            self.sobject == "Account" and self.entity == self.Entity.OBJECTS
            and self.operation != self.Operation.DELETE) else ""
        if key and not any(row.target.lower() == key.lower() for row in rows):
            rows = [*rows, FieldRow("object_id", key)]
        return rows

    def matcher_set(self) -> Matchers:
        return Matchers.from_json(self.matchers, self.matcher_operator)

    @property
    def creates(self) -> bool:
        """Whether a record with no match is created (create, or upsert/update allowed to)."""
        return self.operation == self.Operation.CREATE or (
            self.allow_create and self.operation in (self.Operation.UPSERT,
                                                     self.Operation.UPDATE))

    @property
    def deletes_everything(self) -> bool:
        """A delete with no segment: every hub record it covers has its Salesforce record
        deleted (all of them at each reconcile). An unsaved action has no segment yet."""
        return self.operation == self.Operation.DELETE and not (
            self.pk and self.segments.exists())

    def headers(self) -> dict[str, str]:
        """The Salesforce headers every write of this action carries."""
        headers = {"Sforce-Auto-Assign": "TRUE" if self.assignment_rules else "FALSE"}
        if self.duplicate_allow_save:
            headers["Sforce-Duplicate-Rule-Header"] = "allowSave=true"
        return headers

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new action starts after the outbox's last change: older ones are a reconcile's.
        An action that now writes other records forgets its members (their ids were of the
        records it wrote before: people, or objects of another type)."""
        if self.pk is None and not self.outbox_position:
            self.outbox_position = Change.objects.order_by("-id").values_list(
                "id", flat=True).first() or 0
        elif self.pk is not None and Action.objects.filter(pk=self.pk).exclude(
                entity=self.entity, object_type_id=self.object_type_id).exists():
            ActionMember.objects.filter(action_id=self.pk).delete()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Checks that need no Salesforce call; field-keyed messages for the admin form."""
        errors: dict[str, str] = {}
        try:
            matchers = self.matcher_set()
        except ValueError as error:
            errors["matchers"] = str(error)
        else:
            if self.operation != self.Operation.CREATE and not matchers.pairs:
                errors["matchers"] = f"A {self.operation} needs at least one record matcher."
        if self.entity == self.Entity.OBJECTS and not self.object_type_id:
            errors["object_type"] = "Required when the trigger is objects."
        if self.entity == self.Entity.EVENTS and self.operation not in EVENT_OPERATIONS:
            errors["operation"] = ("An event is written once: create, or upsert on an "
                                   "external id (events are never updated or deleted).")
        elif self.entity == self.Entity.EVENTS and self.operation == self.Operation.UPSERT \
                and not self.allow_create:
            errors["allow_create"] = "An events action's upsert creates records: allow it."
        if self.event_names and self.entity != self.Entity.EVENTS:
            errors["event_names"] = "Only an events action filters by event name."
        if self.on_leave != self.OnLeave.NOTHING and self.operation == self.Operation.DELETE:
            errors["on_leave"] = "A delete action has nothing to clear or delete on leaving."
        if not 1 <= (self.bulk_threshold or 0) <= 100_000_000:
            errors["bulk_threshold"] = "At least 1 record."
        field, message = schedule.problem(self.schedule_kind, every_minutes=self.every_minutes,
                                          cron=self.cron)
        if message:
            errors[field] = message
        if errors:
            raise ValidationError(errors)

    def segments_problem(self, segments: list[Any]) -> str:
        """Why these segments cannot limit this action (not of its records); "" if they can."""
        if segments and self.entity == self.Entity.EVENTS:
            return "An events action writes every event (of its names): segments are over " \
                "people or objects and cannot limit it."
        for segment in segments:
            if segment.entity != self.entity or (
                    self.entity == self.Entity.OBJECTS
                    and segment.object_type_id != self.object_type_id):
                what = "people" if self.entity == self.Entity.PEOPLE else \
                    f"objects of type {self.object_type}"
                return f"The segment {segment.name!r} is not over {what}, which this action " \
                    "writes."
        return ""

    def validate_against_salesforce(self, client: SalesforceClient,
                                    rows: list[FieldRow] | None = None) -> None:
        """Describe-based checks of the object, matchers and mapped fields; ValidationError."""
        from mappings.action_checks import action_problems

        problems = action_problems(client.describe, self.sobject, self.operation,
                                   self.matcher_set(), self.field_rows() if rows is None
                                   else rows, creates=self.creates)
        if problems:
            raise ValidationError(problems)


# What an events action may do, and the trigger each object defaults to (the issue's).
EVENT_OPERATIONS = (Action.Operation.CREATE, Action.Operation.UPSERT)
DEFAULT_ENTITY = {"Lead": Action.Entity.PEOPLE, "Contact": Action.Entity.PEOPLE,
                  "Account": Action.Entity.OBJECTS}


class WrittenEvent(models.Model):
    """An event an events action wrote, and the Salesforce record it became (never again)."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="written_events")
    event = models.ForeignKey("workspace.Event", on_delete=models.CASCADE,
                              related_name="written_by")
    record_id = models.CharField("Salesforce id", max_length=18)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["action", "event"],
                                               name="written_event_once")]

    def __str__(self) -> str:
        return f"{self.action_id}: event {self.event_id} → {self.record_id}"


@receiver(pre_delete, sender=Segment)
def keep_segments_in_use(sender: type, instance: Segment, **kwargs: Any) -> None:
    """A segment that limits actions is not deleted: they would widen to every record."""
    used = list(instance.actions.values_list("name", flat=True)[:5])
    if used:
        raise ProtectedError(f"The segment {instance.name!r} limits the actions "
                             f"{', '.join(used)}: remove it from them first.", {instance})


@receiver(post_save, sender=Segment)
def rerun_actions_of(sender: type, instance: Segment, created: bool, **kwargs: Any) -> None:
    """A segment edited: the actions it limits run soon, so whoever entered or left it is
    written or logged within seconds, as a hub change would be."""
    if not created:
        for action in instance.actions.filter(enabled=True):
            action.request_run(Action.Trigger.CHANGE)


class ActionMember(models.Model):
    """A hub record in an action's segments when the action last ran (syncs/membership.py).

    Each run compares the segments' members with these rows in SQL: members without a row
    entered (written), rows without a member left (logged, and cleared or deleted in
    Salesforce if the action says so). Only actions limited by segments have rows.
    """

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="members")
    # A Person or an Object id, by the action's entity (no foreign key: it is either).
    entity_id = models.BigIntegerField()

    class Meta:
        constraints = [
            # Also the index of both comparisons (by action, then hub id).
            models.UniqueConstraint(fields=["action", "entity_id"], name="action_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.action_id}: {self.entity_id}"
