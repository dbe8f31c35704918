"""The action set-up form: the admin's add and change page of an action, guided by describe.

The object is offered as a searchable list (popular objects first, then every createable
object of the org), record matchers as rows of hub attribute → Salesforce field (the fields
of the chosen object offered with their label and whether Salesforce can filter on them),
AND/OR as a choice. Every rule is kept where it lives already: the model's `clean` and
`ActionForm`, which checks the action against describe (mappings/action_checks.py) and names
the field and the reason. New model fields join the set-up with a line in `FIELDS` and one in
`FIELDSETS`. Beyond the action's own fields, the page shows its connection's conflict policy
(syncs/action_policy.py) and asks a delete with no segment to confirm that it deletes every
record it covers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy

from connections.client import SalesforceClient
from connections.errors import SalesforceError
from connections.models import Connection
from syncs.action_policy import ConnectionPolicyForm
from syncs.actions import Action
from syncs.forms import ActionForm

# Offered first, in this order (the objects data out writes most).
POPULAR = ("Contact", "Lead", "Account", "Opportunity", "Case")
MAX_MATCHERS = 10
MATCHER_ROW = ('<tr class="fb-matcher-row"><td><input name="{}_source" value="{}" '
               'placeholder="hub attribute, e.g. email" aria-label="hub attribute"></td>'
               '<td>→</td><td><input name="{}_field" value="{}" list="matcher-fields" size="30" '
               'autocomplete="off" placeholder="Salesforce field, e.g. Email" '
               'aria-label="Salesforce field"></td></tr>')

FIELDS = ["name", "connection", "enabled", "sobject", "entity", "object_type", "event_names",
          "operation",
          "matchers", "matcher_operator", "allow_create", "field_mappings", "segments",
          "on_leave", "batch_mode",
          "bulk_threshold", "assignment_rules", "duplicate_allow_save", "schedule_kind",
          "every_minutes", "cron", "start_at"]
# The form's questions that are no field of the action: not asked on a read-only page (which
# shows the connection's policy as text).
ASKED = ("policy_shown_for", "confirm_delete_all")
FIELDSETS = [
    (None, {"fields": ["name", "connection", "conflict_policy", "policy_shown_for",
                       "enabled"]}),
    ("1. Salesforce object", {"fields": ["sobject"]}),
    ("2. Trigger: which hub records", {"fields": ["entity", "object_type", "event_names"]}),
    ("3. Operation and record matchers", {"fields": ["operation", "matchers",
                                                     "matcher_operator", "allow_create"]}),
    ("4. Fields written", {"fields": ["field_mappings"]}),
    ("5. Segments: which records (none: every one)", {"fields": ["segments",
                                                                 "confirm_delete_all",
                                                                 "on_leave"],
     "description": format_lazy('<a href="{}" id="new-segment" target="_blank">New segment'
                                "</a> (the segment builder, in a new tab)",
                                reverse_lazy("admin:mappings_segment_add"))}),
    ("6. How Salesforce is called", {"fields": ["batch_mode", "bulk_threshold",
                                                "assignment_rules", "duplicate_allow_save"]}),
    ("7. Reconcile schedule", {"fields": ["schedule_kind", "every_minutes", "cron",
                                          "start_at"]}),
]


def object_options(describe_global: dict) -> list[tuple[str, str]]:
    """(API name, label) of every createable object: popular first, then by label."""
    createable = {o["name"]: o for o in describe_global.get("sobjects", [])
                  if o.get("createable")}
    popular = [(n, createable[n].get("labelPlural") or n) for n in POPULAR if n in createable]
    others = sorted(((n, o.get("labelPlural") or o.get("label") or n)
                     for n, o in createable.items() if n not in POPULAR),
                    key=lambda pair: pair[1].lower())
    return popular + others


def field_options(described: dict) -> list[tuple[str, str]]:
    """(API name, label with type and "not filterable") of an object's fields."""
    return [(f["name"], f"{f.get('label') or f['name']} · {f.get('type', '')}"
             + ("" if f.get("filterable", True) else " · not filterable"))
            for f in described.get("fields", [])]


def datalist(list_id: str, options: list[tuple[str, str]]) -> str:
    return format_html('<datalist id="{}">{}</datalist>', list_id, format_html_join(
        "", '<option value="{}">{}</option>', options))


class SearchableInput(forms.TextInput):
    """A text input with the browser's own search over a list of options (a datalist)."""

    def __init__(self, list_id: str, attrs: dict | None = None) -> None:
        super().__init__({"list": list_id, "autocomplete": "off", "size": 40, **(attrs or {})})
        self.list_id = list_id
        self.options: list[tuple[str, str]] = []

    def render(self, name: str, value: Any, attrs: dict | None = None,
               renderer: Any = None) -> str:
        return super().render(name, value, attrs, renderer) + datalist(self.list_id,
                                                                       self.options)


class MatcherRows(forms.Widget):
    """Rows of (hub attribute, Salesforce field) inputs, one empty row to add another."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[list[str]]:
        sources = data.getlist(f"{name}_source") if hasattr(data, "getlist") else []
        targets = data.getlist(f"{name}_field") if hasattr(data, "getlist") else []
        return [[source.strip(), target.strip()] for source, target in zip(sources, targets,
                                                                           strict=False)
                if source.strip() or target.strip()]

    def render(self, name: str, value: Any, attrs: dict | None = None,
               renderer: Any = None) -> str:
        entries = [[str(pair[0]), str(pair[1]) if len(pair) > 1 else ""]
                   for pair in (value or []) if isinstance(pair, list | tuple) and pair]
        rows = format_html_join("", MATCHER_ROW, ((name, source, name, target)
                                                  for source, target in [*entries, ["", ""]]))
        return format_html('<table class="fb-matchers" id="matcher-rows" data-fields="{}">'
                           '<tbody>{}</tbody></table><button type="button" id="add-matcher" '
                           'hidden>Add a matcher</button>{}', reverse("admin:syncs_action_fields"),
                           rows, datalist("matcher-fields", self.fields))


class MatcherField(forms.Field):
    """The record matchers as `[[hub attribute, Salesforce field], ...]`."""

    widget = MatcherRows

    def clean(self, value: Any) -> list[list[str]]:
        pairs = super().clean(value) or []
        for source, target in pairs:
            if not source or not target:
                raise ValidationError(f"“{source or target}”: a matcher needs both a hub "
                                      "attribute and a Salesforce field.")
        if len(pairs) > MAX_MATCHERS:
            raise ValidationError(f"At most {MAX_MATCHERS} record matchers.")
        return pairs


def delete_all_label(sobject: str) -> str:
    """The confirmation's label, naming the object (plain text: the admin's history quotes
    it; the page's script replaces the name)."""
    return f"Delete in Salesforce every {sobject or 'Salesforce'} record this action covers"


class ActionSetupForm(ConnectionPolicyForm, ActionForm):
    """Add or edit an action, guided by the org's describe; checked against it on save."""

    matchers = MatcherField(
        label="Record matchers", required=False,
        help_text="How a hub record finds its Salesforce record: hub attribute → Salesforce "
        "field (Id, an external id, or any field Salesforce can filter on).")
    confirm_delete_all = forms.BooleanField(
        required=False, help_text="A delete with no segment: each reconcile deletes the "
        "Salesforce record of every hub record it covers, and each hub change of one deletes "
        "its record. Asked at every save of such an action.")

    class Meta(ActionForm.Meta):
        fields = FIELDS
        widgets = {"sobject": SearchableInput("sobject-choices"),
                   "matcher_operator": forms.RadioSelect, "entity": forms.RadioSelect,
                   "operation": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            pairs = [list(pair) for pair in self.instance.matcher_set().pairs]
        except ValueError:  # stored before the checks; shown as stored, refused on save
            pairs = [pair for pair in self.instance.matchers if isinstance(pair, list)]
        if pairs or "matchers" not in self.initial:  # a new action keeps its pre-filled ones
            self.initial["matchers"] = pairs
        connection = self._connection()
        if "sobject" not in self.fields:  # read-only page
            return
        self.show_policy(connection)
        self.fields["confirm_delete_all"].label = delete_all_label(
            self.data.get(self.add_prefix("sobject")) or self.instance.sobject
            or self.initial.get("sobject") or "")
        if connection is None:
            return
        try:
            client = SalesforceClient.for_connection(connection)
            self.fields["sobject"].widget.options = object_options(client.describe_global())
            sobject = self.data.get(self.add_prefix("sobject")) or self.instance.sobject
            if sobject:
                self.fields["matchers"].widget.fields = field_options(client.describe(sobject))
        except SalesforceError as error:
            # Saving checks the action against describe and names the problem on its field.
            self.fields["sobject"].help_text = f"Could not read the schema of {connection}: " \
                f"{error}"
        else:
            self.fields["sobject"].help_text = "Type to search: popular objects first, then " \
                "every object this user can create, custom (__c) objects included."

    def clean(self) -> dict[str, Any]:
        """A delete with no segment is saved only when the operator confirms it."""
        data = super().clean()
        deletes = data.get("operation") == Action.Operation.DELETE
        if deletes and not data.get("segments") and not data.get("confirm_delete_all"):
            sobject = data.get("sobject") or "Salesforce"
            self.add_error("confirm_delete_all", (
                f"A delete with no segment deletes in Salesforce the {sobject} record of every "
                "hub record this action covers (all of them at each reconcile): tick "
                f"“{delete_all_label(sobject)}” to confirm, or choose segments to limit it."))
        return data

    def _connection(self) -> Connection | None:
        """The connection whose schema to offer: the posted one, the action's, or the only
        one."""
        chosen = str(self.data.get(self.add_prefix("connection")) or
                     self.instance.connection_id or "")
        if chosen:
            return Connection.objects.filter(pk=chosen).first() if chosen.isdigit() else None
        only = list(Connection.objects.all()[:2])
        if len(only) == 1 and "connection" in self.fields:
            self.fields["connection"].initial = only[0].pk
            return only[0]
        return None
