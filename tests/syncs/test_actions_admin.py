"""Actions in the admin (describe checks on save), `push_now`, and the demo actions."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from mappings.mapping import FieldRow
from syncs.actions import Action
from syncs.models import SyncRun
from tests.syncs.push_cast import hub_people, make_action
from workspace.models import ObjectType

pytestmark = pytest.mark.django_db
ADD = reverse("admin:syncs_action_add")


def form_data(connection, **values) -> dict:
    data = {"name": "People → Contacts", "connection": connection.pk, "sobject": "Contact",
            "enabled": "on", "entity": "people", "operation": "update",
            "matchers_source": "email", "matchers_field": "Email", "matcher_operator": "or",
            "field_mappings": '[["firstName", "FirstName"], {"source": "signup", "target": '
            '"Birthdate", "transform": "unix_to_iso"}]',
            "batch_mode": "auto", "bulk_threshold": "2000", "schedule_kind": "daily",
            "every_minutes": "15", "cron": ""}
    data.update(values)
    return data


def test_a_valid_action_is_saved_with_its_rows(staff_client, connection):
    response = staff_client.post(ADD, form_data(connection))
    assert response.status_code == 302, response.content.decode()[:3000]
    action = Action.objects.get()
    assert action.field_rows() == [FieldRow("firstName", "FirstName"),
                                   FieldRow("signup", "Birthdate", "unix_to_iso")]
    page = staff_client.get(reverse("admin:syncs_action_change", args=[action.pk]))
    assert page.status_code == 200 and "unix_to_iso" in page.content.decode()


@pytest.mark.parametrize(("values", "message"), [
    ({"matchers_source": "bio", "matchers_field": "Description"},
     "Description cannot be a record matcher: Salesforce cannot filter on it"),
    ({"field_mappings": '[["created", "CreatedDate"]]'},
     "CreatedDate is not updateable in Salesforce"),
    ({"field_mappings": '[["x", "Nope__c"]]'}, "Contact has no field &#x27;Nope__c&#x27;"),
    ({"operation": "upsert", "allow_create": "on"},
     "Email is not an external id field: an upsert matches on an external id"),
    ({"allow_create": "on", "field_mappings": '[["x", "IsDeleted"]]'},
     "IsDeleted is not createable in Salesforce"),
    ({"field_mappings": '[["x", "Account.Name"]]'}, "Name is not an external id of the parent"),
])
def test_what_salesforce_would_refuse_is_refused_on_save(staff_client, connection, values,
                                                         message):
    response = staff_client.post(ADD, form_data(connection, **values))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Action.objects.exists()


def test_push_now_prints_the_run_and_fails_with_the_reason(emulator, connection):
    emulator.control.insert("Contact", {"LastName": "Old", "Email": "a@x.io"})
    hub_people({"email": "a@x.io", "lastName": "New"})
    action = make_action(connection, name="People → Contacts", rows=[("lastName", "LastName")])
    out = io.StringIO()
    call_command("push_now", "people", stdout=out)
    assert "succeeded" in out.getvalue() and "updated 1" in out.getvalue()
    call_command("push_now", str(action.pk), "--full", stdout=out)
    assert "reconcile" in out.getvalue() and "skipped 1" in out.getvalue()
    Action.objects.filter(pk=action.pk).update(matchers=json.loads('[["email", "Nope__c"]]'))
    with pytest.raises(CommandError, match="failed: .*Nope__c"):
        call_command("push_now", "people", "--full", stdout=out)
    assert SyncRun.objects.filter(action=action, status="failed").count() == 1


def test_a_blank_trigger_takes_the_objects_usual_one(staff_client, connection):
    ObjectType.objects.create(singular="Account", plural="Accounts")
    for sobject, source, field in (("Lead", "email", "Email"), ("Account", "sfid", "Id")):
        response = staff_client.post(ADD, form_data(
            connection, name=sobject, sobject=sobject, entity="", matchers_source=source,
            matchers_field=field, field_mappings="[]"))
        assert response.status_code == 302, response.content.decode()[:3000]
    assert dict(Action.objects.values_list("sobject", "entity")) == {"Lead": "people",
                                                                     "Account": "objects"}
    assert Action.objects.get(sobject="Account").object_type.singular == "Account"
    refused = staff_client.post(ADD, form_data(connection, name="tasks", sobject="Task",
                                               entity="", operation="create", matchers_source="",
                                               matchers_field="", field_mappings="[]"))
    assert "Task has no usual trigger" in refused.content.decode()
    events = staff_client.post(ADD, form_data(
        connection, name="tasks", sobject="Task", entity="events", operation="create",
        matchers_source="", matchers_field="", event_names="Signed up",
        field_mappings='[["name", "Subject"], ["person.salesforce_id", "WhoId"]]'))
    assert events.status_code == 302, events.content.decode()[:3000]
    assert Action.objects.get(name="tasks").names == ["Signed up"]
    wrong = staff_client.post(ADD, form_data(connection, name="bad", sobject="Task",
                                             entity="events", matchers_source="name",
                                             matchers_field="Subject"))
    assert "An event is written once" in wrong.content.decode()


def test_delete_on_leave_is_refused_where_a_sync_pulls_the_same_object(staff_client,
                                                                        connection, make_sync):
    make_sync("Contact", name="Contacts")
    refused = staff_client.post(ADD, form_data(connection, on_leave="delete"))
    assert refused.status_code == 200
    assert "The sync “Contacts” pulls Contact from this connection" in refused.content.decode()
    assert not Action.objects.exists()
    cleared = staff_client.post(ADD, form_data(connection, on_leave="clear"))
    assert cleared.status_code == 302, cleared.content.decode()[:3000]
