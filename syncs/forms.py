"""The sync form: objects and fields offered from describe, checked against the org on save.

Choices come from the connection's (short-lived, shared) describe cache. Saving runs
`Sync.validate_against_salesforce` with the real client, so an unknown field or a filter
Salesforce rejects is a message on that field instead of a failed run later.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError

from config.forms import BoundedJSONField
from connections.client import SalesforceClient
from connections.errors import SalesforceError
from connections.external_id import account_key
from connections.models import Connection
from mappings.mapping import FieldRow, Transform
from mappings.presets import action_defaults, default_fields, object_choices
from syncs.actions import DEFAULT_ENTITY, Action
from syncs.models import Sync
from workspace.models import ObjectType

PRESET_FIELDS = ("data_format", "person_id_field", "person_match", "object_id_field",
                 "object_type", "event_name_field", "event_timestamp_field", "fields")


class SyncForm(forms.ModelForm):
    """Add or edit a sync; "typical mapping" fills format, identifiers and fields for you."""

    use_preset = forms.BooleanField(
        label="Use the typical mapping", required=False,
        help_text="Fill the format, identifiers, custom object name and fields with the usual "
        "mapping of this object (Contacts and Leads → people, Tasks → events, Accounts → "
        "objects...), replacing what is entered below.")
    # The sync's FieldMapping rows, offered as before: the fields, and their trait names.
    fields = forms.MultipleChoiceField(label="Fields to sync", required=False)
    renames = BoundedJSONField(required=False, initial=dict,
                               help_text='Per-field trait names: {"Industry": "industry"}.')

    class Meta:
        model = Sync
        fields = ["name", "connection", "sobject", "enabled", "data_format", "person_id_field",
                  "person_match", "object_id_field", "related_id_field", "object_type",
                  "event_name_field", "event_timestamp_field", "fields", "renames",
                  "convert_dates", "filter", "on_delete", "refresh_days", "schedule_kind",
                  "every_minutes", "cron", "start_at", "bulk_threshold", "batch_size"]
        widgets = {"filter": forms.Textarea(attrs={"rows": 2, "cols": 80})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("fields", list(self.instance.fields))
        self.initial.setdefault("renames", dict(self.instance.renames))
        self.fields["use_preset"].initial = self.instance.pk is None
        self.client: SalesforceClient | None = None
        self.schema_error = ""
        connection = self._connection()
        if connection is not None:
            try:
                self.client = SalesforceClient.for_connection(connection)
                self._offer_objects(self.client)
                self._offer_fields(self.client)
            except SalesforceError as error:
                self.schema_error = f"Could not read the schema of {connection}: {error}"
        if self.schema_error and "sobject" in self.fields:  # absent when shown read-only
            self.fields["sobject"].help_text = self.schema_error

    # -- choices from describe ------------------------------------------------------------------

    def _connection(self) -> Connection | None:
        """The connection whose schema to offer: the posted one, the sync's, or the only one."""
        chosen = self.data.get(self.add_prefix("connection")) or self.initial.get("connection") \
            or self.instance.connection_id
        if chosen:
            return Connection.objects.filter(pk=str(chosen)).first() if str(chosen).isdigit() \
                else None
        only = list(Connection.objects.all()[:2])
        if len(only) == 1:
            self.fields["connection"].initial = only[0].pk
            return only[0]
        return None

    def _offer_objects(self, client: SalesforceClient) -> None:
        groups = object_choices(client.describe_global())
        current = self.data.get(self.add_prefix("sobject")) or self.instance.sobject
        known = {name for _, options in groups for name, _ in options}
        choices: list[Any] = [("", "---------")]
        if current and current not in known:
            choices.append((current, f"{current} (not in the org's object list)"))
        choices += [(group, [(name, f"{label} ({name})") for name, label in options])
                    for group, options in groups if options]
        self.fields["sobject"] = forms.ChoiceField(
            label="Salesforce object", choices=choices,
            help_text="Popular objects first, then every other object the integration user "
            "can query, custom (__c) objects included.")

    def _chosen_describe(self, client: SalesforceClient) -> dict | None:
        """The describe of the chosen object, or None with the reason as the fields' help."""
        sobject = self.data.get(self.add_prefix("sobject")) or self.initial.get("sobject") \
            or self.instance.sobject
        if not sobject:
            self.fields["fields"].help_text = "Choose the object and save: its fields are " \
                "then offered here (the typical mapping selects them all)."
            return None
        try:
            return client.describe(sobject)
        except SalesforceError as error:
            # Validation reports an unknown object on the object field; say Salesforce's words.
            self.fields["fields"].help_text = f"Could not read the fields of {sobject}: {error}"
            return None

    def _offer_fields(self, client: SalesforceClient) -> None:
        describe = self._chosen_describe(client)
        if describe is None:
            return
        names = default_fields(describe)
        labels = {f["name"]: f.get("label") or f["name"] for f in describe["fields"]}
        selected = [str(v) for v in (self.initial.get("fields") or [])]
        extra = [n for n in selected if n not in names]  # parent paths such as Account.Name
        self.fields["fields"] = forms.MultipleChoiceField(
            label="Fields to sync", required=False,
            choices=[(n, f"{labels.get(n, n)} ({n})") for n in [*names, *extra]],
            widget=FilteredSelectMultiple("fields", is_stacked=False),
            help_text="Id and SystemModstamp are always read.")

    # -- validation -----------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("use_preset") and data.get("sobject") and self.client is not None:
            probe = Sync(sobject=data["sobject"])
            try:
                probe.apply_preset(self.client.describe(data["sobject"]))
            except SalesforceError as error:
                self.add_error("sobject", f"Salesforce could not describe it: {error}")
                return data
            for name in PRESET_FIELDS:
                data[name] = getattr(probe, name)
                self.errors.pop(name, None)
        return data

    def _post_clean(self) -> None:
        """After the model's own checks pass, ask Salesforce (describe and a LIMIT 1 query)."""
        for name in ("fields", "renames"):
            if name in self.cleaned_data:
                value = self.cleaned_data[name]
                setattr(self.instance, name, value if value is not None else
                        ([] if name == "fields" else {}))
        super()._post_clean()
        if self.errors:
            return
        if self.client is None:
            self.add_error(None, self.schema_error or "Choose a connected Salesforce connection: "
                           "the sync is checked against its org before it is saved.")
            return
        try:
            self.instance.validate_against_salesforce(self.client)
        except ValidationError as error:
            self._update_errors(error)
        except SalesforceError as error:
            self.add_error(None, f"Could not check the sync against Salesforce: {error}")


class ActionForm(forms.ModelForm):
    """Add or edit an action; saving checks the object, matchers and mapped fields against
    describe (a matcher Salesforce cannot filter on, a target it cannot write for the
    operation, an unknown field, an upsert on a field that is not an external id)."""

    field_mappings = BoundedJSONField(
        required=False, initial=list,
        help_text='Hub attribute → Salesforce field, in order: [["firstName", "FirstName"], '
        '{"source": "signed_up", "target": "Signup__c", "transform": "unix_to_iso", '
        '"default": ""}]. Transforms: ' + ", ".join(repr(v) for v in Transform.values if v) + ".")

    class Meta:
        model = Action
        fields = ["name", "connection", "sobject", "enabled", "entity", "object_type",
                  "event_names", "operation", "matchers", "matcher_operator", "allow_create",
                  "field_mappings", "segments", "on_leave", "batch_mode", "bulk_threshold",
                  "assignment_rules", "duplicate_allow_save", "schedule_kind", "every_minutes",
                  "cron", "start_at"]
        field_classes = {"matchers": BoundedJSONField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and not self.is_bound:
            self._prefill()
        self.initial.setdefault("field_mappings", [
            [row.source, row.target] if row.plain else row._asdict()
            for row in self.instance.field_rows()])
        self.rows: list[FieldRow] = []
        if "entity" in self.fields:
            # Blank: the object's usual trigger (Lead, Contact → people; Account → objects).
            self.fields["entity"].required = False
            self.fields["entity"].choices = [("", "The object's usual one (Lead, Contact → "
                                              "people; Account → objects)"),
                                             *Action.Entity.choices]
            if self.instance.pk is None:
                self.initial["entity"] = ""
        if "on_leave" in self.fields:
            # Absent from a form posted without it (as before segments): nothing on leaving.
            self.fields["on_leave"].required = False

    def clean_on_leave(self) -> str:
        return self.cleaned_data.get("on_leave") or Action.OnLeave.NOTHING

    def clean(self) -> dict[str, Any]:
        """A blank trigger becomes the object's usual one; an objects trigger with no type
        takes the hub type named like the object (Account → Accounts) when there is one."""
        data = super().clean()
        sobject = data.get("sobject") or ""
        if "entity" in self.fields and not data.get("entity"):
            data["entity"] = DEFAULT_ENTITY.get(sobject, "")
            if not data["entity"]:
                self.add_error("entity", f"{sobject or 'This object'} has no usual trigger: "
                               "choose people, objects of one type or events.")
        if data.get("entity") == Action.Entity.OBJECTS and not data.get("object_type"):
            data["object_type"] = ObjectType.objects.filter(singular=sobject).first()
        shape = Action(entity=data.get("entity"), object_type=data.get("object_type"))
        problem = shape.segments_problem(list(data.get("segments") or []))
        if problem:
            self.add_error("segments", problem)
        self._check_delete_on_leave(data)
        return data

    def _check_delete_on_leave(self, data: dict[str, Any]) -> None:
        """Deleting on leave an object a sync of the same connection pulls would make that
        sync remove the hub record (and its events) at its next run: refused, with why."""
        if data.get("on_leave") != Action.OnLeave.DELETE or not data.get("connection"):
            return
        pulling = Sync.objects.filter(connection=data["connection"],
                                      sobject__iexact=data.get("sobject") or "")
        name = pulling.values_list("name", flat=True).first()
        if name:
            self.add_error("on_leave", f"The sync “{name}” pulls {data.get('sobject')} from this "
                           "connection: a record deleted here on leaving would be removed from "
                           "the hub (with its events) by its next run. Choose “clear” or "
                           "“nothing”.")

    def _prefill(self) -> None:
        """A new action starts from the usual mapping of its object (mappings/presets.py);
        the add page's ?sobject=, ?entity= and ?connection= choose which."""
        sobject = str(self.initial.get("sobject") or "")
        entity = self.initial.get("entity") or Action.Entity.PEOPLE
        connection_id = str(self.initial.get("connection") or "")
        connection = (Connection.objects.filter(pk=int(connection_id)).first()
                      if connection_id.isdigit() else None)
        defaults = action_defaults(sobject, entity == Action.Entity.PEOPLE,
                                   account_key(connection) if connection else "")
        for name, value in defaults.items():
            if not self.initial.get(name):
                self.initial[name] = value

    def clean_field_mappings(self) -> list[FieldRow]:
        value = self.cleaned_data.get("field_mappings") or []
        if not isinstance(value, list):
            raise ValidationError("A list of [hub attribute, Salesforce field] pairs.")
        rows = []
        for entry in value:
            try:
                rows.append(_row(entry))
            except (TypeError, ValueError) as error:
                raise ValidationError(f"{json.dumps(entry)[:80]}: {error}") from None
        self.rows = rows
        return rows

    def _post_clean(self) -> None:
        """After the model's own checks pass, check the action against describe."""
        super()._post_clean()
        if self.errors:
            return
        try:
            client = SalesforceClient.for_connection(self.instance.connection)
            self.instance.validate_against_salesforce(client, self.rows)
        except ValidationError as error:
            self._update_errors(error)
        except SalesforceError as error:
            self.add_error(None, f"Could not check the action against Salesforce: {error}")

    def _save_m2m(self) -> None:
        super()._save_m2m()
        self.instance.replace_rows(self.rows)


def _row(entry: Any) -> FieldRow:
    """A field mapping from `[source, target]` or `{"source", "target", "transform", ...}`."""
    if isinstance(entry, list) and len(entry) == 2:
        entry = {"source": entry[0], "target": entry[1]}
    if not isinstance(entry, dict):
        raise ValueError("a [hub attribute, Salesforce field] pair or an object")
    unknown = set(entry) - set(FieldRow._fields)
    if unknown:
        raise ValueError(f"unknown keys {', '.join(sorted(unknown))}")
    row = FieldRow(**{key: str(value or "") for key, value in entry.items()})
    if row.transform not in Transform.values:
        raise ValueError(f"unknown transform {row.transform!r}")
    if not row.target or not (row.source or row.transform == Transform.CONSTANT):
        raise ValueError("needs a source (or a constant) and a Salesforce field")
    return row._replace(transform=Transform(row.transform))
