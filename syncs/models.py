"""Syncs (one Salesforce object pulled into the hub on a schedule) and the runs of syncs and
actions (syncs/actions.py: hub records pushed to one Salesforce object).

A sync row is also its own entry in the run queue (`syncs.queue.Runnable`: due time, an
operator's request, the claim); the queue's rules live in syncs/queue.py.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from logs.models import RecordLog
from mappings.mapping import FieldRow, Format, Mapping, PersonMatch
from mappings.models import RowOwner, exactly_one
from syncs import conf, schedule
from syncs.actions import Action
from syncs.exchanges import FieldExchange  # noqa: F401 - the model, registered with its app
from syncs.queue import Runnable, Status, Trigger
from syncs.validation import filter_problem
from workspace.items import COUNTERS
from workspace.sql_rows import PRUNE_BATCH, delete_in_batches

if TYPE_CHECKING:
    from connections.client import SalesforceClient


class Sync(Runnable, RowOwner):
    """One Salesforce object, its mapping to the hub, its schedule and its incremental state."""

    TASK = "syncs.tasks.run_sync_task"
    Format = Format
    PersonMatch = PersonMatch

    class OnDelete(models.TextChoices):
        DELETE = "delete", "Remove from the hub"
        MARK = "mark", "Keep in the hub, marked deleted"

    connection = models.ForeignKey("connections.Connection", on_delete=models.PROTECT,
                                   related_name="syncs")
    name = models.CharField(max_length=100, unique=True)
    sobject = models.CharField("Salesforce object", max_length=80)
    data_format = models.CharField("Data Pipelines format", max_length=12,
                                   choices=Format.choices, default=Format.PERSON)
    person_id_field = models.CharField(
        "field containing person id", max_length=120, blank=True,
        help_text="People: Id (contacts) or Email (leads). Events/relationships: the person "
        "reference, e.g. WhoId, ContactId or Contact.Email.")
    person_match = models.CharField("person id is a", max_length=12, choices=PersonMatch.choices,
                                    default=PersonMatch.CUSTOMER_ID)
    object_id_field = models.CharField("field containing object id", max_length=120, blank=True)
    related_id_field = models.CharField(
        "related record id", max_length=120, blank=True,
        help_text="Custom objects only, optional: relate each object to the person with this "
        "customer id (e.g. OwnerId). Usually left blank; use a relationship sync instead.")
    object_type = models.ForeignKey("workspace.ObjectType", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="syncs",
                                    verbose_name="custom object name")
    event_name_field = models.CharField(max_length=120, blank=True, default="Subject")
    event_timestamp_field = models.CharField(max_length=120, blank=True, default="CreatedDate")
    convert_dates = models.BooleanField("convert dates to Unix timestamps", default=False)
    filter = models.TextField(
        blank=True, help_text="Optional SOQL WHERE condition, e.g. Email != null.")
    on_delete = models.CharField("deleted records", max_length=8, choices=OnDelete.choices,
                                 default=OnDelete.DELETE)
    bulk_threshold = models.PositiveIntegerField(
        null=True, blank=True, help_text="First runs of at least this many records use Bulk API "
        "2.0; blank uses FORCEBRIDGE_BULK_THRESHOLD (50,000).")
    batch_size = models.PositiveIntegerField(
        "REST page size", default=2000, help_text="200–2000 records per query page.")
    refresh_days = models.PositiveSmallIntegerField(
        "re-read everything every", null=True, blank=True,
        help_text="Days. Formula and roll-up fields change without changing a record's "
        "SystemModstamp, so runs that read only what changed miss them; a run this often "
        "re-reads every record instead and updates what differs. Blank: never.")

    # Incremental state, written only by syncs.pull (with the page it covers).
    cursor_modstamp = models.CharField(max_length=28, blank=True, editable=False)
    cursor_id = models.CharField(max_length=18, blank=True, editable=False)
    cursor_seen_at = models.CharField(
        max_length=28, blank=True, editable=False,
        help_text="Salesforce time the scan that reached the cursor began.")
    deleted_since = models.DateTimeField(null=True, blank=True, editable=False)
    resync_pending = models.BooleanField(default=False, editable=False)
    # When the resync under way started reading: at its end, what it did not see is removed.
    resync_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    refreshed_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When a run last finished reading every record (first run, resync, refresh).")
    # How far a refresh under way has read (its own (SystemModstamp, Id)); blank when none is.
    refresh_modstamp = models.CharField(max_length=28, blank=True, editable=False)
    refresh_id = models.CharField(max_length=18, blank=True, editable=False)
    # Where a Bulk API query job under way has been read to (job, locator, greatest position),
    # so a run that stopped goes on with the same job; empty when none is.
    bulk_state = models.JSONField(default=dict, blank=True, editable=False)
    # Records an operator asked to read again ("Retry failed records"); the next run does.
    retry_ids = models.JSONField(default=list, blank=True, editable=False)

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            # syncs.tasks.dispatch: enabled syncs by due time.
            models.Index(fields=["enabled", "next_run_at"], name="sync_due_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    # -- fields and renames: the sync's FieldMapping rows, read and written as before ----------

    @property
    def fields(self) -> list[str]:
        """The Salesforce fields synced (the sources of the rows), or what was set, unsaved."""
        wanted = self.__dict__.get("_fields_wanted")
        return wanted if wanted is not None else [r.source for r in self.field_rows()
                                                  if r.source]

    @fields.setter
    def fields(self, value: list[str]) -> None:
        self.__dict__["_fields_wanted"] = value

    @property
    def renames(self) -> dict[str, str]:
        """Per-field trait names (the rows' targets), or what was set, unsaved."""
        wanted = self.__dict__.get("_renames_wanted")
        return wanted if wanted is not None else {r.source: r.target for r in self.field_rows()
                                                  if r.source and r.target}

    @renames.setter
    def renames(self, value: dict[str, str]) -> None:
        self.__dict__["_renames_wanted"] = value

    def planned_rows(self) -> list[FieldRow]:
        """The rows with the fields and renames set since they were read applied: a field
        keeps its transform and default, takes its rename, and rows without a source stay."""
        stored = self.field_rows()
        fields, renames = self.fields, self.renames
        if not isinstance(fields, list):
            fields = []
        if not isinstance(renames, dict):
            renames = {}
        kept = {row.source: row for row in stored}
        planned = [kept.get(f, FieldRow(f))._replace(target=str(renames.get(f) or ""))
                   for f in dict.fromkeys(str(f) for f in fields)]
        return planned + [row for row in stored if not row.source]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save the sync, then its field rows if fields or renames were set."""
        super().save(*args, **kwargs)
        if "_fields_wanted" in self.__dict__ or "_renames_wanted" in self.__dict__:
            self.replace_rows(self.planned_rows())
            for name in ("_fields_wanted", "_renames_wanted"):
                self.__dict__.pop(name, None)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        for name in ("_fields_wanted", "_renames_wanted"):
            self.__dict__.pop(name, None)

    @property
    def source(self) -> str:
        """How the hub names what this sync produced (SourceRecord.source, Change.origin)."""
        return f"sync:{self.pk}"

    @property
    def deleted_marked(self) -> bool:
        """Deleted records stay in the hub, marked deleted (rather than removed)."""
        return self.on_delete == self.OnDelete.MARK

    def mapping(self) -> Mapping:
        """The value `mappings` works from: this sync's object, format, identifiers, fields."""
        return Mapping(
            sobject=self.sobject, format=Format(self.data_format),
            rows=tuple(self.planned_rows()),
            person_id_field=self.person_id_field, person_match=PersonMatch(self.person_match),
            object_id_field=self.object_id_field, related_id_field=self.related_id_field,
            event_name_field=self.event_name_field,
            event_timestamp_field=self.event_timestamp_field,
            convert_dates=bool(self.convert_dates),
            object_type=self.object_type.singular if self.object_type_id else "")

    def clean(self) -> None:
        """Checks that need no Salesforce call; field-keyed messages for the admin form."""
        errors = self.mapping_errors()
        if not isinstance(self.fields, list) or not all(isinstance(f, str) for f in self.fields):
            errors["fields"] = "A list of Salesforce field names."
        if not isinstance(self.renames, dict) or not all(
                isinstance(v, str) and v for v in (self.renames or {}).values()):
            errors["renames"] = 'A mapping of field name to trait name, e.g. {"Industry": "industry"}.'
        field, message = schedule.problem(self.schedule_kind, every_minutes=self.every_minutes,
                                          cron=self.cron)
        if message:
            errors[field] = message
        if not 200 <= (self.batch_size or 0) <= 2000:
            errors["batch_size"] = "Between 200 and 2000."
        if self.refresh_days is not None and not 1 <= self.refresh_days <= 365:
            errors["refresh_days"] = "Between 1 and 365 days, or blank for never."
        if filter_problem(self.filter):
            errors["filter"] = filter_problem(self.filter)
        if errors:
            raise ValidationError(errors)

    def apply_preset(self, describe: dict) -> None:
        """Fill format, identifiers, custom object name and fields with the typical mapping."""
        from mappings.presets import preset_for
        from workspace.models import ObjectType

        preset = preset_for(self.sobject, describe)
        names = preset.pop("object_type_names", None)
        for name, value in preset.items():
            setattr(self, name, value)
        if names:
            self.object_type, _ = ObjectType.objects.get_or_create(
                singular=names[0], defaults={"plural": names[1]})

    def validate_against_salesforce(self, client: SalesforceClient) -> None:
        """Describe-based checks and a LIMIT 1 query of the filter; ValidationError by field."""
        from syncs.validation import validate_sync

        validate_sync(self, client)

    def mapping_errors(self) -> dict[str, str]:
        """A message for each setting the format requires that is blank, by field name (the
        object type is read by id, or is a new one the guided set-up saves with the sync, so a
        sync being built in a form needs no query)."""
        if self.data_format not in Format.values:
            return {}
        mapping = Mapping(sobject=self.sobject, format=Format(self.data_format),
                          person_id_field=self.person_id_field,
                          object_id_field=self.object_id_field,
                          object_type="set" if self.object_type_id
                          or self._state.fields_cache.get("object_type") else "")
        shape = self.get_data_format_display().lower()
        return {name: f"Required for {shape}: {self._meta.get_field(name).verbose_name}."
                for name in mapping.missing()}

    def resync(self) -> None:
        """"Resync all data": start over from nothing and rewrite every record."""
        self.request_run(Trigger.RESYNC, resync_pending=True)

    def refresh_due(self, now: dt.datetime | None = None) -> bool:
        """Whether this run should also re-read every record (see `refresh_days`).

        Only once a first run has read everything (an unfinished one simply resumes), and
        always while a refresh is under way, so it resumes where it stopped.
        """
        if not self.refresh_days:
            return False
        if self.refresh_modstamp:
            return True
        if self.refreshed_at is None and self.deleted_since is None:
            return False
        since = (now or timezone.now()) - dt.timedelta(days=self.refresh_days)
        return self.refreshed_at is None or self.refreshed_at <= since

    def clear_cursor(self) -> None:
        self.cursor_modstamp = self.cursor_id = self.cursor_seen_at = ""
        self.refresh_modstamp = self.refresh_id = ""
        self.deleted_since = None


class SyncRun(models.Model):
    """One run of a sync (Salesforce → hub) or of an action (hub → Salesforce): what started
    it, how it ended, and what it did to how many records. Exactly one owner is set."""

    Status = Status
    COUNTERS = COUNTERS
    Direction = RecordLog.Direction

    sync = models.ForeignKey(Sync, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="runs")
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="runs")
    direction = models.CharField(max_length=3, choices=RecordLog.Direction.choices,
                                 default=RecordLog.Direction.IN)
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    mode = models.CharField(max_length=12, blank=True,
                            help_text="full, bulk, incremental, refresh or refresh-bulk")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    # Records a run that reads everything expects (Salesforce's COUNT() when it chose REST or
    # Bulk); null when not known (incremental runs), so progress shows done and rate only.
    total = models.PositiveIntegerField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField("API calls", default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["sync", "-started_at"], name="syncrun_latest_idx"),
                   models.Index(fields=["action", "-started_at"], name="actionrun_latest_idx"),
                   # The dashboard's windows (config/dashboard.py: the last 24 h, the 14-day
                   # chart): a range of start times, never a scan of every run kept
                   # (FORCEBRIDGE_RUN_RETENTION_DAYS, 90 by default).
                   models.Index(fields=["started_at"], name="syncrun_started_idx")]
        constraints = [exactly_one("sync", "action", "syncrun_one_owner")]

    def __str__(self) -> str:
        return f"{self.owner} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def owner(self) -> Sync | Action:
        """The sync or the action this run belongs to."""
        return self.sync if self.sync_id else self.action

    def failed_record_ids(self) -> list[str]:
        """The records this run failed or refused as a conflict (from its record logs)."""
        return sorted(set(self.record_logs.filter(outcome__in=["failed", "conflict"])
                          .exclude(record_id="").values_list("record_id", flat=True)))

    def retry_failed(self) -> int:
        """"Retry failed records": the next run of the sync reads this run's failed records
        again (with whatever changed since, in Salesforce or in the mapping); asked now.
        How many records will be read again."""
        ids = self.failed_record_ids()
        if ids:
            with transaction.atomic():
                sync = Sync.objects.select_for_update().get(pk=self.sync_id)
                sync.retry_ids = sorted({*sync.retry_ids, *ids})
                sync.save(update_fields=["retry_ids"])
                sync.request_run(Trigger.RETRY)
        return len(ids)

    @classmethod
    def prune(cls, *, days: int | None = None, now: dt.datetime | None = None,
              batch: int = PRUNE_BATCH) -> int:
        """Delete finished runs started more than `days` ago, a batch at a time; how many
        went.

        1. Find the cut-off (now − FORCEBRIDGE_RUN_RETENTION_DAYS, never shorter than the
           record logs' retention).
        2. Delete `batch` of the runs `prunable` names a statement, lowest ids first
           (`delete_in_batches`), so no statement locks millions of rows at once.
        """
        cutoff = (now or timezone.now()) - dt.timedelta(
            days=days or conf.get("FORCEBRIDGE_RUN_RETENTION_DAYS"))
        return delete_in_batches(cls.prunable(cutoff), batch)

    @classmethod
    def prunable(cls, cutoff: dt.datetime) -> models.QuerySet[SyncRun]:
        """Runs started before `cutoff` except the ones that must stay however old they are:
        - a running run (the queue closes a run by its status, syncs/queue.py; a run a
          stopped worker left open is closed by whoever claims its owner next);
        - the latest run of its sync or action (`latest_runs`);
        - a run whose record logs are still there: `RecordLog.run` is SET_NULL, so deleting
          the run would cut its younger logs off their run.
        """
        return (cls.objects.filter(started_at__lt=cutoff).exclude(status=Status.RUNNING)
                .exclude(pk__in=cls.latest_runs())
                .exclude(Exists(RecordLog.objects.filter(run=OuterRef("pk")))))

    @classmethod
    def latest_runs(cls) -> list[int]:
        """Each sync's and action's newest run by start, and the run it names as its last
        (the pages show and link "last run"; a lost claim can leave those two different).

        Read once per prune: a run started meanwhile is younger than the cut-off and can
        only make an older one not the latest. One probe of the (owner, -started_at) index
        per owner (no tie-break on id: that would sort; an owner starts one run at a time).
        """
        kept: set[int | None] = set()
        for model, owner in ((Sync, "sync"), (Action, "action")):
            newest = (cls.objects.filter(**{owner: OuterRef("pk")})
                      .order_by("-started_at").values("pk")[:1])
            for pair in model.objects.annotate(newest_run=Subquery(newest)).values_list(
                    "newest_run", "last_run_id"):
                kept.update(pair)
        return sorted(pk for pk in kept if pk is not None)

    @property
    def duration(self) -> dt.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    def add(self, outcomes: dict[str, int]) -> None:
        for name, value in outcomes.items():
            setattr(self, name, getattr(self, name) + value)
