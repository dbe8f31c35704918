"""Events actions: each hub event written once as a Salesforce record (a Task here), mapped
from its name, timestamp, properties and person (WhoId from the person's own Contact)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from logs.models import RecordLog
from syncs.actions import WrittenEvent
from syncs.pull import run_sync
from tests.syncs.push_cast import hub_people, make_action, ok
from workspace.hub import HubWriter, Item, Ref

pytestmark = pytest.mark.django_db

ROWS = [("name", "Subject"), ("timestamp", "ActivityDate"), ("properties.plan", "Description"),
        ("person.salesforce_id", "WhoId"), ("", "Status", "constant", "Completed")]
MOMENT = dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC)


def track(*events: tuple[str, str, str, dict]) -> None:
    """Events (key, person's e-mail, name, properties) from the inbound API."""
    with transaction.atomic():
        HubWriter("api:test").events([Item(key, "", props, person=Ref("email", email),
                                           name=name, timestamp=MOMENT)
                                      for key, email, name, props in events])


def tasks(emulator) -> dict[str, dict]:
    return {row["Description"]: row for row in emulator.control.records("Task")}


def test_events_become_tasks_once_each(emulator, connection, make_sync):
    (contact,) = emulator.control.insert("Contact", {"LastName": "A", "Email": "a@x.io"})
    assert run_sync(make_sync("Contact", fields=["Email", "LastName"]).pk).status == "succeeded"
    hub_people({"email": "b@x.io", "lastName": "B"})
    action = make_action(connection, "Task", rows=ROWS, entity="events", operation="create",
                         matchers=[], event_names="Signed up, Upgraded")
    track(("e1", "a@x.io", "Signed up", {"plan": "pro"}),
          ("e2", "b@x.io", "Upgraded", {"plan": "team"}),
          ("e3", "a@x.io", "Page viewed", {"plan": "ignored"}))
    run = ok(action)
    assert (run.fetched, run.created, run.failed) == (2, 2, 0), list(
        RecordLog.objects.filter(run=run).values_list("message", flat=True))
    written = tasks(emulator)
    assert set(written) == {"pro", "team"}
    assert written["pro"]["Subject"] == "Signed up" and written["pro"]["WhoId"] == contact
    assert written["team"]["WhoId"] is None  # b never came from this org
    assert written["pro"]["ActivityDate"] == "2026-03-04" and written["pro"]["Status"] == \
        "Completed"
    assert dict(WrittenEvent.objects.values_list("event__source_id", "record_id")) == {
        "e1": written["pro"]["Id"], "e2": written["team"]["Id"]}
    # A changed event, a drain and a reconcile later: still one Task per event.
    track(("e1", "a@x.io", "Signed up", {"plan": "enterprise"}))
    assert ok(action).created == 0
    assert ok(action, full=True).created == 0
    assert len(emulator.control.records("Task")) == 2
    track(("e4", "b@x.io", "Signed up", {"plan": "free"}))
    assert ok(action).created == 1 and len(emulator.control.records("Task")) == 3


def test_an_events_action_upserts_on_an_external_id(emulator, connection):
    hub_people({"email": "a@x.io", "lastName": "A"})
    track(("e1", "a@x.io", "Signed up", {"plan": "pro"}))
    action = make_action(connection, "Task", rows=[("name", "Subject"),
                                                   ("properties.plan", "Description")],
                         entity="events", operation="upsert", allow_create=True,
                         matchers=[["source_id", "Forcebridge_Id__c"]])
    emulator.control.clear_counters()
    assert ok(action).created == 1
    assert emulator.control.counters().get("query") is None
    (task,) = emulator.control.records("Task")
    assert (task["Forcebridge_Id__c"], task["Subject"]) == ("e1", "Signed up")


@pytest.mark.parametrize(("values", "field"), [
    ({"operation": "update"}, "operation"),
    ({"operation": "upsert", "matchers": [["source_id", "Forcebridge_Id__c"]]}, "allow_create"),
])
def test_an_events_action_only_creates(connection, values, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        make_action(connection, "Task", entity="events", **{"matchers": [["source_id", "Id"]],
                                                            **values})
    assert field in caught.value.message_dict
