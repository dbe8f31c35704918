"""The hub: people, typed objects, relationships, events, where each came from, and the outbox.

Rows are written only by `workspace.hub` (bulk upserts, one outbox row per change in the same
transaction). Attributes are JSON with the hub's own trait names (see `mappings.reserved`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
import time

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from workspace.sql_rows import PRUNE_BATCH, delete_in_batches


class HubRow(models.Model):
    """What every hub row keeps: when it was made and last changed, and its deletion mark."""

    # Set instead of deleting when a sync keeps its deleted records, marked.
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class AttributedRow(HubRow):
    """A hub row with JSON attributes under the hub's own trait names (people, objects...)."""

    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class Person(AttributedRow):
    """Someone you can message: identified by `customer_id` (identify's userId) and/or email."""

    customer_id = models.CharField(
        "customer id", max_length=255, null=True, blank=True, unique=True,
        help_text="The identify userId (e.g. a Contact Id). Unique when set; NULLs never clash.")
    # Normalised (stripped, lower case) so lead→contact graduation matches case-insensitively;
    # the address exactly as Salesforce had it stays in attributes["email"].
    email = models.CharField(max_length=254, blank=True, default="", db_index=True)
    # Names of the attributes that records with a customer id gave this person, once records
    # identified by e-mail alone (leads) wrote to it too; null: all of its attributes.
    owned = models.JSONField(null=True, blank=True, editable=False)
    # The base's column with the help text the people admin has always shown (no migration).
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Set instead of deleting when a sync records deletions.")

    class Meta:
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.customer_id or self.email or f"person #{self.pk}"

    @staticmethod
    def normalize_email(value: object) -> str | None:
        text = str(value).strip().lower() if value not in (None, "") else ""
        return text or None


class ObjectType(models.Model):
    """A kind of custom object (Account/Accounts); syncs of objects and relationships use one."""

    singular = models.CharField(max_length=100, unique=True)
    plural = models.CharField(max_length=100)

    class Meta:
        ordering = ["singular"]

    def __str__(self) -> str:
        return self.plural


class Object(AttributedRow):
    """A non-person thing people relate to (an account, an opportunity), unique per type."""

    type = models.ForeignKey(ObjectType, on_delete=models.PROTECT, related_name="members")
    object_id = models.CharField("object id", max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["type", "object_id"], name="object_unique_per_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type.singular} {self.object_id}"


class Relationship(AttributedRow):
    """A person related to an object, with attributes of the relationship (role, primary...)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships")
    object = models.ForeignKey(Object, on_delete=models.CASCADE, related_name="relationships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "object"], name="relationship_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} ↔ {self.object_id}"


class Event(HubRow):
    """Something a person did (track); `source_id` makes a re-sync update, never duplicate."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=255)
    timestamp = models.DateTimeField(null=True, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    source_id = models.CharField("source id", max_length=255, unique=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.source_id})"


class SourceRecord(models.Model):
    """Which hub row a source record (one sync's Salesforce record) produced, at which version.

    Deletions arrive as bare Salesforce ids (getDeleted), so this is how they find their hub
    row; `modstamp` is the SystemModstamp last applied, so the overlap window of an
    incremental run can skip records it has already written.
    """

    class Kind(models.TextChoices):
        PERSON = "person"
        OBJECT = "object"
        RELATIONSHIP = "relationship"
        EVENT = "event"

    source = models.CharField(max_length=50, help_text='e.g. "sync:12" or "api:3"')
    # 18 characters for a Salesforce id; the inbound API keys its records by userId, groupId
    # and messageId (up to 200 characters, `workspace.messages`), hence the room.
    record_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    modstamp = models.CharField(max_length=28, blank=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="sources")
    object = models.ForeignKey(Object, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="sources")
    relationship = models.ForeignKey(Relationship, null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="sources")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="sources")
    # When a run last read this record (applied or not): a resync removes what it did not see.
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "record_id"], name="source_record_unique"),
        ]
        # hub.resolve_people looks a WhoId/ContactId up across every source (a Task's WhoId
        # may be a lead that the Leads sync identified by email).
        indexes = [models.Index(fields=["record_id"], name="source_record_id_idx")]

    def __str__(self) -> str:
        return f"{self.source}/{self.record_id}"

    @property
    def target_id(self) -> int | None:
        return getattr(self, f"{self.kind}_id")


class Change(models.Model):
    """The outbox: one row per hub change, written in the change's transaction (push drains it)."""

    class Op(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        DELETED = "deleted"

    entity = models.CharField(max_length=12, choices=SourceRecord.Kind.choices)
    entity_id = models.BigIntegerField()
    op = models.CharField(max_length=8, choices=Op.choices)
    # The attributes an update changed; empty for a creation or a deletion (all of them).
    fields = models.JSONField(default=list, blank=True)
    # Where the change came from ("sync:12"): push skips changes that came from the Salesforce
    # object it would write to, so nothing echoes back.
    origin = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When push drained the row; null until then. Only processed rows are ever pruned.
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The push engine (syncs.push, to come) drains unprocessed rows in id order; only
            # they are in this partial index, so it stays small however long the outbox gets.
            models.Index(fields=["id"], name="change_pending_idx",
                         condition=models.Q(processed_at__isnull=True)),
            # One row's changes: when the hub changed a field (syncs/conflicts.py `HubTimes`,
            # "newest wins") and whether a removed row's deletion is still to be passed
            # (syncs/exchanges.py `FieldExchange.prune`).
            models.Index(fields=["entity", "entity_id"], name="change_entity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.entity_id} {self.op}"

    @classmethod
    def prune(cls, *, days: int, now: dt.datetime | None = None,
              batch: int = PRUNE_BATCH) -> int:
        """Delete rows processed more than `days` ago, a batch at a time; how many went.

        Only processed rows go: a row push has not drained is kept however old it is. Until
        the push engine exists nothing marks rows processed, so this deletes nothing yet.
        The caller passes the record logs' retention (`logs.models.retention_days()`), so a
        change leaves with the log of its push.

        1. Find the cut-off (now − days).
        2. Delete `batch` rows a statement, lowest ids first (`delete_in_batches`). Old
           processed rows sit at the low end of the id order, so each batch is found by
           walking the primary key from its start.
        """
        cutoff = (now or timezone.now()) - dt.timedelta(days=days)
        return delete_in_batches(cls.objects.filter(processed_at__lt=cutoff), batch)


class ApiKey(models.Model):
    """A key of the inbound API; only its SHA-256 is stored (the key is shown once, at creation).

    Keys are 32 random bytes, so a plain hash is safe to store and lets a request find its
    key with one indexed lookup. `rate_until` carries the rate limit (`take`).
    """

    name = models.CharField(max_length=100, help_text="Who or what uses this key.")
    prefix = models.CharField(max_length=16, editable=False,
                              help_text="The key's first characters, to tell keys apart.")
    hashed = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField("active", default=True,
                                    help_text="Inactive keys are refused (401).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The rate limiter's "theoretical arrival time" (epoch seconds): when the messages already
    # admitted would have been spent at the allowed rate.
    rate_until = models.FloatField(default=0.0, editable=False)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def source(self) -> str:
        """The hub source (and outbox origin) of what this key writes."""
        return f"api:{self.pk}"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def generate(self) -> str:
        """Give this (unsaved) key a new secret; the secret, to show once."""
        key = "fb_" + secrets.token_urlsafe(32)
        self.prefix, self.hashed = key[:11], self.digest(key)
        return key

    @classmethod
    def issue(cls, name: str) -> tuple[ApiKey, str]:
        """A new active key named `name`, saved; with its secret (shown once, never stored)."""
        api_key = cls(name=name)
        key = api_key.generate()
        api_key.full_clean()
        api_key.save()
        return api_key, key

    @classmethod
    def authenticate(cls, key: str) -> ApiKey | None:
        """The active key with this secret, or None."""
        if not key:
            return None
        return cls.objects.filter(hashed=cls.digest(key), is_active=True).first()

    def take(self, messages: int, per_second: int) -> int:
        """Admit `messages` at `per_second` (0: admitted); else the seconds to wait (≥ 1).

        A GCRA limiter in one conditional UPDATE, so every web process shares it through the
        database:
        1. Each message costs 1/per_second s; `rate_until` is when the admitted ones are paid.
        2. A request is admitted while `rate_until` is at most one second ahead of now (a
           second's burst), even a batch costing more: the next requests then wait it out, so
           the average rate holds and a large batch is never refused forever.
        3. The UPDATE moves `rate_until` on only if the condition holds (exactly one row);
           otherwise the wait is what is left beyond the burst.
        """
        now = time.time()
        burst = 1.0
        if ApiKey.objects.filter(pk=self.pk, rate_until__lte=now + burst).update(
                rate_until=Greatest(F("rate_until"), Value(now)) + messages / per_second,
                last_used_at=timezone.now()):
            return 0
        until = ApiKey.objects.filter(pk=self.pk).values_list("rate_until", flat=True).first()
        return max(1, math.ceil((until or now) - now - burst))


class InboundMessage(models.Model):
    """A messageId an API key sent, so a replay of it changes nothing (kept for log retention)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="messages")
    message_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "message_id"],
                                    name="inbound_message_unique_per_key"),
        ]

    def __str__(self) -> str:
        return self.message_id

    @classmethod
    def prune(cls, *, days: int, now: dt.datetime | None = None) -> int:
        """Delete messageIds received more than `days` ago, a batch at a time; how many went.

        The daily log-pruning task passes the record logs' retention: a replay older than
        that is applied again (its event is still not duplicated: its source id is the same).
        """
        cutoff = (now or timezone.now()) - dt.timedelta(days=days)
        return delete_in_batches(cls.objects.filter(received_at__lt=cutoff))
