"""The cast of the push tests: hub records written as the inbound API would, and actions."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction

from mappings.mapping import FieldRow
from syncs.actions import Action
from syncs.push import run_action
from workspace.hub import HubWriter, Item


def hub_people(*people: dict[str, Any], origin: str = "api:test") -> None:
    """People in the hub from elsewhere than Salesforce: `{"email": ..., **attributes}`."""
    # A source record id fits the 18 characters of a Salesforce id (`SourceRecord.record_id`).
    items = [Item("p" + hashlib.sha1(f"{i}-{p.get('email')}".encode()).hexdigest()[:17], "",
                  dict(p),
                  customer_id=p.pop("customer_id", None) if "customer_id" in p else None,
                  email=(p.get("email") or "").lower() or None) for i, p in enumerate(people)]
    with transaction.atomic():
        HubWriter(origin).people(items)


def make_action(connection: Any, sobject: str = "Contact", *, rows: list[tuple] = (),
                **values: Any) -> Action:
    """An action with its field rows (source, target[, transform, default]), saved, checked."""
    defaults = {"name": f"{sobject} action", "matchers": [["email", "Email"]]}
    action = Action(connection=connection, sobject=sobject, **{**defaults, **values})
    action.outbox_position = -1  # tests drain every change, even those made before it
    action.full_clean()
    action.save()
    action.replace_rows([FieldRow(*row) for row in rows])
    return action


def push(action: Action, *, full: bool = False):
    run = run_action(action.pk, full=full)
    assert run is not None, "the action was held"
    return run


def ok(action: Action, *, full: bool = False):
    run = push(action, full=full)
    assert run.status == "succeeded", run.error
    return run
