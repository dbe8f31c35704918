"""The connection's conflict policy, shown and changed on the action set-up page.

One policy decides the conflicts of a connection's syncs and actions alike (syncs/conflicts.py),
so it stays on the connection (`Connection.conflict_policy`). The set-up form shows it named as
the connection's, and saving the action saves a changed policy on the connection, in the
admin's transaction of the action (`_save_m2m`); the admin then says so in a message.

A new action's connection is chosen in the same form, so a hidden field says whose policy the
page showed. A policy left as shown for another connection than the one chosen is not applied
(the chosen one keeps its own); one changed while another connection's was shown is refused,
naming both. Either way the page shown again has the chosen connection's policy. Without the
right to change connections the field is shown disabled.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

from connections.models import Connection

POLICIES = Connection.ConflictPolicy
KEEP = ("", "The chosen connection's own policy (unchanged)")


def policy_label(connection: Connection | None) -> str:
    """The field's label, naming the connection (plain text: the admin's history quotes it;
    the page's script replaces the name)."""
    return "Conflict policy — applies to every sync and action of " + (
        f"connection “{connection}”" if connection else "the chosen connection")


class ConnectionPolicyForm(forms.Form):
    """The set-up form's conflict policy fields; the form calls `show_policy` with the
    connection it offers."""

    conflict_policy = forms.ChoiceField(
        required=False, choices=POLICIES.choices,
        help_text="When a field changed both in Salesforce and in the hub since they last "
        "exchanged it: which value wins (every conflict is logged). It is the connection's "
        "setting (also on its page): changing it here changes it for every sync and action "
        "of that connection when the action is saved.")
    policy_shown_for = forms.CharField(required=False, widget=forms.HiddenInput)
    may_change_policy = True  # the admin sets it per request (connections.change_connection)
    policy_change = ""  # what saving gives the connection (`clean`)

    def show_policy(self, connection: Connection | None) -> None:
        """Label, choices and initial value from the connection (None: not chosen yet), and
        each connection's policy and name for the page's script."""
        field = self.fields.get("conflict_policy")
        if field is None:  # read-only page
            return
        field.label = policy_label(connection)
        field.choices = POLICIES.choices if connection else [KEEP, *POLICIES.choices]
        field.initial = connection.conflict_policy if connection else ""
        self.fields["policy_shown_for"].initial = connection.pk if connection else ""
        known = list(Connection.objects.values_list("pk", "name", "conflict_policy"))
        field.widget.attrs.update({
            "data-policies": json.dumps({pk: policy for pk, _, policy in known}),
            "data-names": json.dumps({pk: f"connection “{name}”" for pk, name, _ in known})})
        if not self.may_change_policy:
            field.disabled = True
            field.help_text += " Only staff who may change connections can change it."

    def clean(self) -> dict[str, Any]:
        """Which policy saving the action gives its connection (`policy_change`, "" for
        none), or an error when it was changed while another connection's was shown."""
        data = super().clean()
        self.policy_change = ""
        connection = data.get("connection")
        field = self.fields.get("conflict_policy")
        if not isinstance(connection, Connection) or field is None or field.disabled:
            return data
        chosen = data.get("conflict_policy") or ""
        shown = str(data.get("policy_shown_for") or "")
        shown_for = Connection.objects.filter(pk=shown).first() if shown.isdigit() else None
        if shown_for is None or shown_for == connection:
            if chosen and chosen != connection.conflict_policy:
                self.policy_change = chosen
        elif chosen and chosen != shown_for.conflict_policy:
            self.add_error("conflict_policy", (
                f"It was changed while the page showed the policy of connection “{shown_for}”, "
                f"but the action is for “{connection}”, whose policy is "
                f"“{connection.get_conflict_policy_display()}” (shown now): choose its policy "
                "and save again."))
        self._show_again(connection, self.policy_change or connection.conflict_policy)
        return data

    def _show_again(self, connection: Connection, policy: str) -> None:
        """A page shown again has the chosen connection's policy (and says it is that one's)."""
        data = self.data.copy()
        data[self.add_prefix("conflict_policy")] = policy
        data[self.add_prefix("policy_shown_for")] = str(connection.pk)
        self.data = data
        self.show_policy(connection)

    def _save_m2m(self) -> None:
        """After the action's own rows, in the same transaction: the connection's policy."""
        super()._save_m2m()
        if self.policy_change:
            connection = self.instance.connection
            connection.conflict_policy = self.policy_change
            connection.save(update_fields=["conflict_policy"])
